//! The simulator and the client against Argo CD's own API description.

use executor::exit::ExitCode;
use executor::sim::{AppScenario, InitialState, Scenario};

use crate::common::swagger::{swagger, unknown_fields};
use crate::common::{assert_code, TestContext, ENVIRONMENT, TOKEN};

/// Every response body field the simulator sends for an Application is a
/// `v1alpha1Application` field, so the client is tested against the real shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_applications_match_the_swagger() {
    let Some(doc) = swagger() else { return };
    let ctx = TestContext::new(Scenario::with_apps(TOKEN, &["temporal"])).await;
    // Drive the app through a sync so operation and operationState are populated.
    assert_code(
        &ctx.run("deploy", &["--scope", "app:temporal"]).await,
        ExitCode::SUCCESS,
    );
    let app = serde_json::to_value(ctx.sim.app("temporal").unwrap()).unwrap();
    let mut unknown = Vec::new();
    unknown_fields(
        &doc["definitions"]["v1alpha1Application"],
        &app,
        "application",
        &mut unknown,
    );
    assert!(
        unknown.is_empty(),
        "fields not in v1alpha1Application: {unknown:?}"
    );
}

/// All three actions' requests, including delete and terminate, conform
/// (checked inside `TestContext::run` for every test; here all paths at once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_the_client_uses_is_in_the_swagger() {
    let ctx = TestContext::new(Scenario {
        apps: vec![AppScenario {
            initial: InitialState::OutOfSync,
            ..Scenario::with_apps(TOKEN, &["temporal"]).apps.remove(0)
        }],
        ..Scenario::with_apps(TOKEN, &[])
    })
    .await;
    ctx.run("validate", &["--scope", "app:temporal"]).await;
    ctx.run("deploy", &["--scope", "app:temporal"]).await;
    ctx.run(
        "teardown",
        &["--scope", "app:temporal", "--confirm", ENVIRONMENT],
    )
    .await;
    let mut seen: Vec<String> = ctx
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    seen.sort();
    seen.dedup();
    for expected in [
        "GET /api/v1/applications/temporal",
        "POST /api/v1/applications/temporal/sync",
        "DELETE /api/v1/applications/temporal",
        "GET /api/v1/stream/applications",
    ] {
        assert!(
            seen.iter().any(|s| s == expected),
            "{expected} exercised: {seen:?}"
        );
    }
}
