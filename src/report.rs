//! `report.json`: the report schema (`executor.report/v2`), built from an
//! outcome. `metrics` renders a report and `outputs` writes it; this module
//! imports neither.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::argocd::RequestCounts;
use crate::exit::ExitCode;
use crate::outcome::{word, ComponentResult, ComponentStatus, FailureReason, Outcome};
use crate::vocabulary::Action;

/// The report's schema version. Adding fields keeps it; changing meaning bumps it.
/// v2: `summary` counts each component status under its own name (v1's
/// `failed` also counted degraded and cancelled components, `skipped` also
/// pending ones, and `timedOut` is now `timeout`).
pub const API_VERSION: &str = "executor.report/v2";

/// `report.json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Always [`API_VERSION`].
    pub api_version: &'static str,
    /// This run's id: the `executor-run` info of every operation it started.
    pub run_id: String,
    /// The executor's version.
    pub version: &'static str,
    /// `deploy`, `validate` or `teardown`.
    pub action: String,
    /// The scope as given, e.g. `app:temporal`.
    pub scope: String,
    /// The environment name.
    pub environment: String,
    /// Whether mutating requests were suppressed.
    pub dry_run: bool,
    /// Whether the run was against the embedded simulator (`--simulate`).
    pub simulated: bool,
    /// The status word, as in the `status` file.
    pub status: String,
    /// The process exit code.
    pub exit_code: ExitCode,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub finished_at: String,
    /// Wall time of the run.
    pub duration_seconds: f64,
    /// Counts per component status.
    pub summary: Summary,
    /// The preflight checks, in the order they ran.
    pub preflight: Vec<crate::cluster::preflight::Check>,
    /// Every component in scope.
    pub components: Vec<ComponentResult>,
    /// One entry per component that did not reach the goal.
    pub failures: Vec<FailureEntry>,
    /// Request counters.
    pub metrics: Metrics,
    /// What to do next.
    pub recommendations: Vec<String>,
    /// validate: the compliance report of the apps' live manifests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compliance: Option<Compliance>,
}

/// `compliance` in a validate report.
#[derive(Debug, Serialize)]
pub struct Compliance {
    /// Whether a failed rule made its app unhealthy (`--enforce-compliance`).
    pub enforced: bool,
    /// Entries that passed.
    pub passed: usize,
    /// Entries that failed (an expired exemption included).
    pub failed: usize,
    /// Entries an exemption covers.
    pub exempt: usize,
    /// Per app, resource and rule.
    pub results: Vec<crate::compliance::Entry>,
}

impl Compliance {
    /// The report of the components' entries.
    pub fn of(components: &[ComponentResult], enforced: bool) -> Compliance {
        use crate::compliance::Status;
        let results: Vec<crate::compliance::Entry> = components
            .iter()
            .flat_map(|c| c.compliance.iter().cloned())
            .collect();
        let count = |s: Status| results.iter().filter(|e| e.status == s).count();
        Compliance {
            enforced,
            passed: count(Status::Passed),
            failed: count(Status::Failed),
            exempt: count(Status::Exempt),
            results,
        }
    }
}

/// `summary` in the report: `total`, then one counter per component status
/// the action uses, named like the status, zeros included; they add up to
/// `total` (contract §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Components in scope.
    pub total: usize,
    /// Components per status, in the order of [`ComponentStatus::used_by`].
    pub counts: Vec<(ComponentStatus, usize)>,
}

impl Summary {
    /// Counts the component statuses of a run of `action`.
    pub fn of(action: Action, statuses: impl IntoIterator<Item = ComponentStatus>) -> Summary {
        let mut counts: Vec<(ComponentStatus, usize)> = ComponentStatus::used_by(action)
            .iter()
            .map(|&status| (status, 0))
            .collect();
        let mut total = 0;
        for status in statuses {
            total += 1;
            match counts.iter_mut().find(|(s, _)| *s == status) {
                Some((_, n)) => *n += 1,
                // Not a status of this action: still counted, so the sum holds.
                None => counts.push((status, 1)),
            }
        }
        Summary { total, counts }
    }
}

/// `2 succeeded, 1 failed`: the counters with a component in them.
impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for &(status, n) in self.counts.iter().filter(|(_, n)| *n > 0) {
            let sep = if first { "" } else { ", " };
            write!(f, "{sep}{n} {}", word(status))?;
            first = false;
        }
        Ok(())
    }
}

impl Serialize for Summary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1 + self.counts.len()))?;
        map.serialize_entry("total", &self.total)?;
        for &(status, n) in &self.counts {
            map.serialize_entry(&word(status), &n)?;
        }
        map.end()
    }
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
    /// What the Application showed: messages, conditions, unhealthy resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<crate::evidence::Evidence>,
}

/// `metrics` in the report.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    /// HTTP requests sent to Argo CD, retries included.
    pub requests: u64,
    /// Of those, retries after a transient error.
    pub retries: u64,
    /// Times a watch stream had to be reopened.
    pub watch_reconnects: u64,
    /// Every request to Argo CD and Kubernetes, per endpoint: only in
    /// metrics.prom, not in report.json.
    #[serde(skip)]
    pub endpoints: Vec<crate::request_stats::EndpointRecord>,
}

/// The report counts what the Argo CD client counted.
impl From<RequestCounts> for Metrics {
    fn from(counts: RequestCounts) -> Metrics {
        Metrics {
            requests: counts.requests,
            retries: counts.retries,
            watch_reconnects: counts.watch_reconnects,
            endpoints: Vec::new(),
        }
    }
}

/// The run facts that are not part of the outcome.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// This run's id (see `crate::run_id`).
    pub run_id: String,
    /// Action name.
    pub action: String,
    /// Scope as given.
    pub scope: String,
    /// Environment name.
    pub environment: String,
    /// Dry run.
    pub dry_run: bool,
    /// `--simulate`.
    pub simulated: bool,
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
        let mut failures: Vec<FailureEntry> = outcome
            .components
            .iter()
            .filter_map(|c| {
                c.failure.map(|reason| FailureEntry {
                    component: c.name.clone(),
                    reason,
                    message: c.message.clone(),
                    evidence: c.evidence.clone(),
                })
            })
            .collect();
        if let Some(abort) = &outcome.aborted {
            failures.push(FailureEntry {
                component: run.scope.clone(),
                reason: abort.reason(),
                message: abort.message().to_owned(),
                evidence: None,
            });
        }
        let code = outcome.exit_code();
        Report {
            api_version: API_VERSION,
            run_id: run.run_id.clone(),
            version: env!("CARGO_PKG_VERSION"),
            action: run.action.clone(),
            scope: run.scope.clone(),
            environment: run.environment.clone(),
            dry_run: run.dry_run,
            simulated: run.simulated,
            status: outcome.status_word().to_owned(),
            exit_code: code,
            started_at: rfc3339(run.started_at),
            finished_at: rfc3339(finished_at),
            duration_seconds: seconds(finished_at - run.started_at),
            summary: Summary::of(outcome.action, outcome.components.iter().map(|c| c.status)),
            preflight: outcome.preflight.clone(),
            components: outcome.components.clone(),
            failures,
            metrics,
            recommendations: outcome.recommendations.clone(),
            compliance: (outcome.action == Action::Validate && outcome.aborted.is_none())
                .then(|| Compliance::of(&outcome.components, outcome.enforce_compliance)),
        }
    }
}

/// A chrono duration in seconds, rounded to milliseconds.
pub fn seconds(d: chrono::TimeDelta) -> f64 {
    (d.num_milliseconds().max(0) as f64) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use ComponentStatus as S;

    /// Each status is counted under its own name, every counter of the
    /// action is there (zeros included), and they add up to `total`.
    #[test]
    fn summary_counts_each_status_under_its_own_name() {
        let cases: &[(Action, &[S], serde_json::Value)] = &[
            (
                Action::Deploy,
                &[S::Pending, S::Pending, S::Unchanged],
                serde_json::json!({"total": 3, "succeeded": 0, "unchanged": 1, "failed": 0,
                    "skipped": 0, "timeout": 0, "pending": 2, "cancelled": 0}),
            ),
            (
                Action::Deploy,
                &[
                    S::Succeeded,
                    S::Cancelled,
                    S::Failed,
                    S::Skipped,
                    S::Timeout,
                ],
                serde_json::json!({"total": 5, "succeeded": 1, "unchanged": 0, "failed": 1,
                    "skipped": 1, "timeout": 1, "pending": 0, "cancelled": 1}),
            ),
            (
                Action::Validate,
                &[S::Healthy, S::Degraded, S::Degraded, S::Unhealthy],
                serde_json::json!({"total": 4, "healthy": 1, "degraded": 2, "unhealthy": 1,
                    "failed": 0, "timeout": 0, "pending": 0, "cancelled": 0}),
            ),
            (
                Action::Teardown,
                &[S::Removed, S::Absent, S::Orphaned, S::Failed],
                serde_json::json!({"total": 4, "removed": 1, "absent": 1, "orphaned": 1,
                    "failed": 1, "skipped": 0, "timeout": 0, "pending": 0, "cancelled": 0}),
            ),
            (
                Action::Teardown,
                &[],
                serde_json::json!({"total": 0, "removed": 0, "absent": 0, "orphaned": 0,
                    "failed": 0, "skipped": 0, "timeout": 0, "pending": 0, "cancelled": 0}),
            ),
            // A status the action does not give still counts, so the sum holds.
            (
                Action::Validate,
                &[S::Healthy, S::Succeeded],
                serde_json::json!({"total": 2, "healthy": 1, "degraded": 0, "unhealthy": 0,
                    "failed": 0, "timeout": 0, "pending": 0, "cancelled": 0, "succeeded": 1}),
            ),
        ];
        for (action, statuses, expected) in cases {
            let summary = Summary::of(*action, statuses.iter().copied());
            assert_eq!(
                serde_json::to_value(&summary).unwrap(),
                *expected,
                "{action} {statuses:?}"
            );
            let sum: usize = summary.counts.iter().map(|(_, n)| n).sum();
            assert_eq!(sum, summary.total);
        }
        let summary = Summary::of(Action::Deploy, [S::Skipped, S::Succeeded, S::Succeeded]);
        assert_eq!(summary.to_string(), "2 succeeded, 1 skipped");
    }
}
