//! validate for one application: read-only, always.

use std::time::Duration;

use executor::exit::ExitCode;
use executor::sim::{AppScenario, InitialState, Scenario, SimOutcome};

use crate::common::{assert_code, assert_timeout_names, TestContext, TOKEN};

const SCOPE: [&str; 2] = ["--scope", "app:temporal"];

fn with(app: AppScenario) -> Scenario {
    Scenario {
        apps: vec![app],
        ..Scenario::with_apps(TOKEN, &[])
    }
}

fn app(initial: InitialState) -> AppScenario {
    AppScenario {
        initial,
        ..Scenario::with_apps(TOKEN, &["temporal"]).apps.remove(0)
    }
}

fn assert_read_only(ctx: &TestContext) {
    let requests = ctx.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert!(
            !matches!(r.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE"),
            "validate sent a mutating request: {r:?}"
        );
        assert!(
            !r.query.contains("refresh"),
            "a refresh makes argocd-server patch the app: {r:?}"
        );
    }
}

/// A Healthy, Synced app validates: Success, and only GETs were sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_app_validates_with_reads_only() {
    let ctx = TestContext::new(with(app(InitialState::Healthy))).await;
    let result = ctx.run("validate", &SCOPE).await;
    assert_code(&result, ExitCode::SUCCESS);
    assert_eq!(result.component()["status"], "healthy");
    assert_read_only(&ctx);
}

/// An app that exists but is OutOfSync/Missing is degraded: Partial.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_sync_app_is_partial() {
    let ctx = TestContext::new(with(app(InitialState::OutOfSync))).await;
    let result = ctx.run("validate", &SCOPE).await;
    assert_code(&result, ExitCode::PARTIAL);
    assert_eq!(result.status, "partial\n");
    assert_eq!(result.component()["status"], "degraded");
    assert_read_only(&ctx);
}

/// An absent app is unhealthy: Failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absent_app_is_failure() {
    let ctx = TestContext::new(with(app(InitialState::Absent))).await;
    let result = ctx.run("validate", &SCOPE).await;
    assert_code(&result, ExitCode::FAILURE);
    assert_eq!(result.component()["status"], "unhealthy");
    assert_eq!(result.report["failures"][0]["reason"], "NotFound");
    assert_read_only(&ctx);
}

/// --wait on an app that never becomes healthy ends with Timeout, still
/// read-only, and names --wait (not environment.yaml) as what to raise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_deadline_is_timeout() {
    let ctx = TestContext::new(with(app(InitialState::OutOfSync))).await;
    let result = ctx
        .run("validate", &["--scope", "app:temporal", "--wait", "1s"])
        .await;
    assert_timeout_names(&result, &["the wait of 1s (--wait / VALIDATE_WAIT)"]);
    assert_eq!(result.component()["status"], "timeout");
    assert_read_only(&ctx);
}

/// --wait follows the stream until an operation started elsewhere makes the app healthy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_succeeds_when_the_app_becomes_healthy() {
    let ctx = TestContext::new(with(AppScenario {
        foreign_operation: Some(Duration::from_millis(500)),
        outcome: SimOutcome::Healthy,
        ..app(InitialState::OutOfSync)
    }))
    .await;
    let result = ctx
        .run("validate", &["--scope", "app:temporal", "--wait", "20s"])
        .await;
    assert_code(&result, ExitCode::SUCCESS);
    assert_read_only(&ctx);
}

/// validate reports compliance from the app's live manifests (the
/// simulator's Deployment follows every rule): each rule passed, and with
/// `--enforce-compliance` still Success. One GET of managed-resources.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_reports_compliance_from_the_live_manifests() {
    let ctx = TestContext::new(with(app(InitialState::Healthy))).await;
    let result = ctx
        .run(
            "validate",
            &[&SCOPE[..], &["--enforce-compliance"]].concat(),
        )
        .await;
    assert_code(&result, ExitCode::SUCCESS);
    let compliance = &result.report["compliance"];
    assert_eq!(compliance["enforced"], true);
    assert_eq!(
        (compliance["passed"].as_u64(), compliance["failed"].as_u64()),
        (Some(12), Some(0)),
        "{compliance}"
    );
    let rules: Vec<&str> = compliance["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules[0], "image-tag");
    assert_eq!(rules[11], "required-labels");
    assert_eq!(
        ctx.count("GET", "/applications/temporal/managed-resources"),
        1
    );
    assert_read_only(&ctx);
}
