//! `--timeout`: one deadline for the whole run, as `argocd --timeout` gives.
//! When it passes, what was in flight is a Timeout naming it, what had not
//! started is pending, the operation this run started is terminated, and the
//! run exits 4 within the contract's margin.

use std::time::{Duration, Instant};

use executor::exit::ExitCode;
use executor::sim::{AppScenario, Scenario};

use crate::common::{assert_code, TestContext, TOKEN};

/// Apps whose sync takes far longer than any `--timeout` below.
fn slow(names: &[&str]) -> Scenario {
    let mut scenario = Scenario::with_apps(TOKEN, names);
    for app in &mut scenario.apps {
        *app = AppScenario {
            sync_duration: Duration::from_secs(30),
            ..app.clone()
        };
    }
    scenario
}

/// The app in flight times out at the overall deadline, in bare seconds as
/// the argocd CLI takes them, and its operation is terminated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overall_deadline_times_out_what_is_in_flight() {
    let ctx = TestContext::new(slow(&["temporal"])).await;
    let started = Instant::now();
    let result = ctx
        .run("deploy", &["--scope", "app:temporal", "--timeout", "1"])
        .await;
    let took = started.elapsed();
    assert_code(&result, ExitCode::TIMEOUT);
    assert!(took < Duration::from_secs(6), "exited after {took:?}");
    assert_eq!(result.status, "timeout\n");
    let c = result.component();
    assert_eq!(c["status"], "timeout");
    let message = c["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("the overall timeout of 1s (--timeout / EXECUTOR_TIMEOUT) passed"),
        "{message}"
    );
    assert_eq!(c["termination"], "terminated", "{c}");
    assert_eq!(ctx.count("DELETE", "/applications/temporal/operation"), 1);
    assert_eq!(result.report["failures"][0]["reason"], "Timeout");
    assert!(
        result.report["recommendations"][0]
            .as_str()
            .unwrap_or_default()
            .contains("raise the overall timeout of 1s (--timeout / EXECUTOR_TIMEOUT)"),
        "{}",
        result.report["recommendations"]
    );
}

/// In a DAG, the nodes not yet started when it passes are pending, and say why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_not_started_at_the_overall_deadline_are_pending() {
    let ctx = TestContext::new(slow(&["first", "second"])).await;
    ctx.write_dag(
        "stacks:\n- name: s\n  apps:\n  - name: first\n  - name: second\n    dependsOn: [first]\n",
    );
    let result = ctx.run("deploy", &["--timeout", "1s"]).await;
    assert_code(&result, ExitCode::TIMEOUT);
    let status = |name: &str| {
        result.report["components"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["name"] == name))
            .map(|c| (c["status"].clone(), c["message"].clone()))
            .unwrap_or_default()
    };
    assert_eq!(status("first").0, "timeout");
    let (second, message) = status("second");
    assert_eq!(second, "pending");
    assert!(
        message
            .as_str()
            .unwrap_or_default()
            .starts_with("not started: the overall timeout of 1s"),
        "{message}"
    );
    assert_eq!(ctx.syncs("second"), 0);
}

/// A `--timeout` that is not a positive duration is Invalid before any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_overall_timeout_is_invalid() {
    let ctx = TestContext::new(slow(&["temporal"])).await;
    for (value, needle) in [
        ("0", "must be more than 0"),
        ("soon", "not a duration"),
        ("8d", "too long; the most is 7d"),
        ("1000000", "too long; the most is 7d"),
    ] {
        let result = ctx
            .run("deploy", &["--scope", "app:temporal", "--timeout", value])
            .await;
        assert_code(&result, ExitCode::INVALID);
        let message = result.report["failures"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(
            message.starts_with(&format!("invalid --timeout (EXECUTOR_TIMEOUT) '{value}'"))
                && message.contains(needle),
            "{value}: {message}"
        );
    }
    assert!(ctx.requests().is_empty());
}

/// Left empty (one ConfigMap serving every step), `EXECUTOR_TIMEOUT` and
/// `TARGET_REVISION` are unset, as the other timeouts are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_timeout_and_revision_variables_are_unset() {
    let ctx = TestContext::new(Scenario::with_apps(TOKEN, &["temporal"])).await;
    let mut cmd = ctx.command("deploy", &["--scope", "app:temporal"]);
    cmd.env("EXECUTOR_TIMEOUT", "").env("TARGET_REVISION", "");
    let result = ctx.run_command(cmd).await;
    assert_code(&result, ExitCode::SUCCESS);
    assert!(ctx.first_sync_body().get("revision").is_none());
}
