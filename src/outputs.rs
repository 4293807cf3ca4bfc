//! The outputs of a run in `<output-dir>`: `report.json`, `metrics.prom`,
//! `exit-code` and `status`, each put in place atomically on every exit path.
//!
//! Imports point down: this writer uses `report` (the schema) and `metrics`
//! (its Prometheus rendering), and neither of them imports it.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::report::Report;

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

/// Proves that the outputs can be written into `dir` before the run needs
/// them: creates it when missing, then puts a probe file in place the way
/// [`write_atomic`] puts the outputs, and removes it.
pub fn check_output_dir(dir: &Path) -> Result<(), ReportError> {
    let probe = dir.join(format!(".probe.{}", std::process::id()));
    write_atomic(&probe, b"")?;
    std::fs::remove_file(&probe).map_err(|source| ReportError {
        path: probe,
        source,
    })
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
        format!("{}\n", report.exit_code.code()).as_bytes(),
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

/// Turns the report into a Failure's after writing it failed: the files
/// that can still be written then say what the exit code says, and why.
pub fn mark_unwritten(report: &mut Report, error: &ReportError) {
    let failed = crate::exit::ExitCode::FAILURE;
    report.status = failed.status_word().to_owned();
    report.exit_code = failed;
    report.recommendations.push(format!(
        "{error}: the run counts as failed; make the output directory writable and rerun"
    ));
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

    #[test]
    fn the_output_dir_check_creates_the_dir_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("new/out");
        check_output_dir(&out).unwrap();
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let err = check_output_dir(&file.join("out")).unwrap_err();
        assert!(err.path.starts_with(file.join("out")), "{err}");
    }
}
