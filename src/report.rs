//! `report.json` and `status`: the report schema (`executor.report/v1`) and the
//! atomic writer that puts both files in place on every exit path.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::outcome::{ComponentResult, ComponentStatus, FailureReason, Outcome};

/// The report's schema version. Adding fields keeps it; changing meaning bumps it.
pub const API_VERSION: &str = "executor.report/v1";

/// `report.json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Always [`API_VERSION`].
    pub api_version: &'static str,
    /// `deploy`, `validate` or `teardown`.
    pub action: String,
    /// The scope as given, e.g. `app:temporal`.
    pub scope: String,
    /// The environment name.
    pub environment: String,
    /// Whether mutating requests were suppressed.
    pub dry_run: bool,
    /// The status word, as in the `status` file.
    pub status: String,
    /// The process exit code.
    pub exit_code: u8,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub finished_at: String,
    /// Wall time of the run.
    pub duration_seconds: f64,
    /// Counts per component status.
    pub summary: Summary,
    /// Every component in scope.
    pub components: Vec<ComponentResult>,
    /// One entry per component that did not reach the goal.
    pub failures: Vec<FailureEntry>,
    /// Request counters.
    pub metrics: Metrics,
    /// What to do next.
    pub recommendations: Vec<String>,
}

/// `summary` in the report.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Components in scope.
    pub total: usize,
    /// Reached the goal by this run's action (succeeded, healthy, removed).
    pub succeeded: usize,
    /// Already at the goal (unchanged, absent).
    pub unchanged: usize,
    /// Did not reach the goal (failed, unhealthy, degraded, orphaned, cancelled).
    pub failed: usize,
    /// Not attempted, or a dry run's "would change".
    pub skipped: usize,
    /// A deadline passed.
    pub timed_out: usize,
}

/// `failures[]` in the report.
#[derive(Debug, Serialize)]
pub struct FailureEntry {
    /// The component's name.
    pub component: String,
    /// Machine-readable reason.
    pub reason: FailureReason,
    /// What happened.
    pub message: String,
}

/// `metrics` in the report.
#[derive(Debug, Default, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    /// HTTP requests sent to Argo CD, retries included.
    pub requests: u64,
    /// Of those, retries after a transient error.
    pub retries: u64,
    /// Times a watch stream had to be reopened.
    pub watch_reconnects: u64,
}

/// The run facts that are not part of the outcome.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// Action name.
    pub action: String,
    /// Scope as given.
    pub scope: String,
    /// Environment name.
    pub environment: String,
    /// Dry run.
    pub dry_run: bool,
    /// When the run started.
    pub started_at: DateTime<Utc>,
}

/// Formats a timestamp as the report does: RFC 3339, UTC, whole seconds.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Report {
    /// Builds the report of an outcome.
    pub fn new(
        run: &RunInfo,
        outcome: &Outcome,
        metrics: Metrics,
        finished_at: DateTime<Utc>,
    ) -> Report {
        use ComponentStatus as S;
        let mut summary = Summary {
            total: outcome.components.len(),
            ..Summary::default()
        };
        for c in &outcome.components {
            match c.status {
                S::Succeeded | S::Healthy | S::Removed => summary.succeeded += 1,
                S::Unchanged | S::Absent => summary.unchanged += 1,
                S::Skipped | S::Pending => summary.skipped += 1,
                S::Timeout => summary.timed_out += 1,
                S::Failed | S::Cancelled | S::Degraded | S::Unhealthy | S::Orphaned => {
                    summary.failed += 1
                }
            }
        }
        let mut failures: Vec<FailureEntry> = outcome
            .components
            .iter()
            .filter_map(|c| {
                c.failure.map(|reason| FailureEntry {
                    component: c.name.clone(),
                    reason,
                    message: c.message.clone(),
                })
            })
            .collect();
        if let Some(abort) = &outcome.aborted {
            failures.push(FailureEntry {
                component: run.scope.clone(),
                reason: if abort.invalid {
                    FailureReason::Invalid
                } else {
                    FailureReason::ApiError
                },
                message: abort.message.clone(),
            });
        }
        let code = outcome.exit_code();
        Report {
            api_version: API_VERSION,
            action: run.action.clone(),
            scope: run.scope.clone(),
            environment: run.environment.clone(),
            dry_run: run.dry_run,
            status: outcome.status_word().to_owned(),
            exit_code: code.code(),
            started_at: rfc3339(run.started_at),
            finished_at: rfc3339(finished_at),
            duration_seconds: seconds(finished_at - run.started_at),
            summary,
            components: outcome.components.clone(),
            failures,
            metrics,
            recommendations: outcome.recommendations.clone(),
        }
    }
}

/// A chrono duration in seconds, rounded to milliseconds.
pub fn seconds(d: chrono::TimeDelta) -> f64 {
    (d.num_milliseconds().max(0) as f64) / 1000.0
}

/// Failure to write the outputs.
#[derive(Debug, thiserror::Error)]
#[error("failed to write {path}: {source}")]
pub struct ReportError {
    /// The file.
    pub path: PathBuf,
    /// The I/O error.
    #[source]
    pub source: std::io::Error,
}

/// Writes `contents` to `path` atomically: a temporary file in the same
/// directory, flushed to disk, then renamed over the target.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), ReportError> {
    let err = |source| ReportError {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(err)?;
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// Writes `report.json`, `metrics.prom`, `exit-code` and `status` into `dir`.
pub fn write_outputs(dir: &Path, report: &Report) -> Result<(), ReportError> {
    let mut json = serde_json::to_vec_pretty(report).map_err(|e| ReportError {
        path: dir.join("report.json"),
        source: e.into(),
    })?;
    json.push(b'\n');
    let report_written = write_atomic(&dir.join("report.json"), &json);
    let metrics_written = crate::metrics::render(report)
        .map_err(|e| ReportError {
            path: dir.join("metrics.prom"),
            source: std::io::Error::other(e),
        })
        .and_then(|text| write_atomic(&dir.join("metrics.prom"), text.as_bytes()));
    let code_written = write_atomic(
        &dir.join("exit-code"),
        format!("{}\n", report.exit_code).as_bytes(),
    );
    // The status word goes last and regardless: callers read it as the step's result.
    let status_written = write_atomic(
        &dir.join("status"),
        format!("{}\n", report.status).as_bytes(),
    );
    report_written
        .and(metrics_written)
        .and(code_written)
        .and(status_written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/status");
        write_atomic(&path, b"failed\n").unwrap();
        write_atomic(&path, b"succeeded\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "succeeded\n");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["status"]);
    }
}
