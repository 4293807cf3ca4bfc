//! No exit path escapes the contract: an output directory that cannot be
//! written, a report that cannot be written at the end, argument-parser errors
//! and durations too long to compute a deadline from all end with a contract
//! code, and with a report wherever one can be written.

use std::path::Path;

use executor::exit::ExitCode;
use executor::sim::Scenario;

use crate::common::cli::executor;
use crate::common::{assert_code, TestContext, TOKEN};

const SCOPE: [&str; 2] = ["--scope", "app:temporal"];

async fn ctx() -> TestContext {
    TestContext::new(Scenario::with_apps(TOKEN, &["temporal"])).await
}

/// Runs a prepared command to completion without reading any output file:
/// the exit code and stderr.
async fn exit_of(mut cmd: tokio::process::Command) -> (ExitCode, String) {
    let output = cmd.output().await.expect("executor runs");
    let raw = output
        .status
        .code()
        .expect("exited, not killed by a signal");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let code = ExitCode::from_code(raw)
        .unwrap_or_else(|| panic!("exit code {raw} is not in the contract\n{stderr}"));
    (code, stderr)
}

/// The report.json of `dir`, parsed.
fn report_in(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json written");
    serde_json::from_str(&text).expect("report.json is JSON")
}

/// `timeouts: {sync: 500000000000y, ...}` would overflow every deadline
/// computed from it: Invalid, naming the field and the bound, before any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duration_too_long_for_a_deadline_is_invalid() {
    let ctx = ctx().await;
    ctx.write_environment("timeouts: {sync: 500000000000y, health: 500000000000y}\n");
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::INVALID);
    assert_eq!(result.status, "invalid\n");
    let message = result.report["failures"][0]["message"].as_str().unwrap();
    assert!(message.contains("`timeouts.sync`"), "{message}");
    assert!(message.contains("the most is 7d"), "{message}");
    assert!(ctx.requests().is_empty(), "{:?}", ctx.requests());
}

/// The same bound holds for the flags that replace a deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_flag_too_long_is_invalid() {
    let ctx = ctx().await;
    let result = ctx
        .run(
            "deploy",
            &["--scope", "app:temporal", "--sync-timeout", "30d"],
        )
        .await;
    assert_code(&result, ExitCode::INVALID);
    assert!(
        result.stderr.contains("--sync-timeout (SYNC_TIMEOUT)")
            && result.stderr.contains("the most is 7d"),
        "{}",
        result.stderr
    );
    assert!(ctx.requests().is_empty(), "{:?}", ctx.requests());
}

/// An output directory below a regular file can never hold the report: the run
/// is Invalid before any request, and says so on stderr, naming the directory
/// and the fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_output_dir_is_invalid_before_any_request() {
    let ctx = ctx().await;
    let file = ctx.config_dir.join("a-file");
    std::fs::write(&file, "not a directory\n").unwrap();
    let out = file.join("out");
    let out_text = out.display().to_string();
    let cmd = ctx.command(
        "deploy",
        &["--scope", "app:temporal", "--output-dir", &out_text],
    );
    let (code, stderr) = exit_of(cmd).await;
    assert_eq!(code, ExitCode::INVALID, "{stderr}");
    assert!(stderr.contains(&out_text), "names the directory: {stderr}");
    assert!(
        stderr.contains("--output-dir (EXECUTOR_OUTPUT_DIR)"),
        "names the fix: {stderr}"
    );
    assert!(ctx.requests().is_empty(), "{:?}", ctx.requests());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a directory\n");
}

/// The directory passed the check, but report.json cannot be put in place at
/// the end (it is a directory): the run is a Failure whatever it achieved,
/// and `status` says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_that_cannot_be_written_is_a_failure() {
    let ctx = ctx().await;
    std::fs::create_dir_all(ctx.output_dir.join("report.json")).unwrap();
    let (code, stderr) = exit_of(ctx.command("deploy", &SCOPE)).await;
    assert_eq!(code, ExitCode::FAILURE, "{stderr}");
    assert!(stderr.contains("report.json"), "{stderr}");
    assert_eq!(ctx.syncs("temporal"), 1, "the deploy itself ran");
    let status = std::fs::read_to_string(ctx.output_dir.join("status")).unwrap();
    assert_eq!(status, "failed\n");
    let exit_code = std::fs::read_to_string(ctx.output_dir.join("exit-code")).unwrap();
    assert_eq!(exit_code, format!("{}\n", ExitCode::FAILURE.code()));
}

/// An invalid run whose report cannot be written stays Invalid: nothing ran,
/// and the inputs are what to fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_run_stays_invalid_when_its_report_cannot_be_written() {
    let ctx = ctx().await;
    std::fs::create_dir_all(ctx.output_dir.join("report.json")).unwrap();
    let (code, stderr) = exit_of(ctx.command("deploy", &["--scope", "application:x"])).await;
    assert_eq!(code, ExitCode::INVALID, "{stderr}");
    assert!(stderr.contains("--scope (TARGET_SCOPE)"), "{stderr}");
    let status = std::fs::read_to_string(ctx.output_dir.join("status")).unwrap();
    assert_eq!(status, "invalid\n");
    assert!(ctx.requests().is_empty(), "{:?}", ctx.requests());
}

/// Asserts the Invalid report of a usage error in `dir`, naming `needle`.
#[track_caller]
fn assert_usage_report(dir: &Path, action: &str, needle: &str) {
    let report = report_in(dir);
    assert_eq!(report["status"], "invalid", "{report:#}");
    assert_eq!(report["exitCode"], ExitCode::INVALID.code(), "{report:#}");
    assert_eq!(report["action"], action, "{report:#}");
    assert_eq!(report["failures"][0]["reason"], "Invalid", "{report:#}");
    let message = report["failures"][0]["message"].as_str().unwrap();
    assert!(message.contains(needle), "{message}");
    let status = std::fs::read_to_string(dir.join("status")).unwrap();
    assert_eq!(status, "invalid\n");
}

/// An unknown flag is rejected by the argument parser; with `--output-dir`
/// on the command line, the Invalid report still goes there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_flag_writes_the_invalid_report() {
    let ctx = ctx().await;
    let (code, stderr) = exit_of(ctx.command("deploy", &["--frobnicate"])).await;
    assert_eq!(code, ExitCode::INVALID, "{stderr}");
    assert!(stderr.contains("--frobnicate"), "{stderr}");
    assert_usage_report(
        &ctx.output_dir,
        "deploy",
        "unexpected argument '--frobnicate'",
    );
    assert!(ctx.requests().is_empty(), "{:?}", ctx.requests());
}

/// A flag without its value, with `--output-dir=<dir>` spelled in one argument.
#[test]
fn a_missing_value_writes_the_invalid_report_to_output_dir_equals() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let flag = format!("--output-dir={}", out.display());
    let output = executor(&["validate", &flag, "--scope"], &[]);
    assert_eq!(output.code, ExitCode::INVALID, "{}", output.stderr);
    assert_usage_report(&out, "validate", "--scope");
}

/// Without `--output-dir`, `EXECUTOR_OUTPUT_DIR` names the directory; a flag
/// of another action is a usage error too.
#[test]
fn a_usage_error_reports_to_executor_output_dir() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let env = [("EXECUTOR_OUTPUT_DIR", out.to_str().unwrap())];
    let output = executor(&["validate", "--confirm", "dev"], &env);
    assert_eq!(output.code, ExitCode::INVALID, "{}", output.stderr);
    assert_usage_report(&out, "validate", "--confirm");
}

/// `--help` and `--version` are Success and write no report; nor do
/// `executor dag` and `executor completion`, which never write one, nor an
/// unknown action, which a report could not name, when they are rejected.
#[test]
fn help_version_dag_completion_and_unknown_actions_write_no_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let env = [("EXECUTOR_OUTPUT_DIR", out.to_str().unwrap())];
    for (args, expected) in [
        (&["--help"][..], ExitCode::SUCCESS),
        (&["--version"], ExitCode::SUCCESS),
        (&["deploy", "--help"], ExitCode::SUCCESS),
        (&["dag", "plan", "--frobnicate"], ExitCode::INVALID),
        (&["completion", "tcsh"], ExitCode::INVALID),
        (&["deploi", "--scope", "app:x"], ExitCode::INVALID),
        (&["--frobnicate"], ExitCode::INVALID),
    ] {
        let output = executor(args, &env);
        assert_eq!(output.code, expected, "{args:?}: {}", output.stderr);
        assert!(!out.join("report.json").exists(), "{args:?} wrote a report");
    }
}
