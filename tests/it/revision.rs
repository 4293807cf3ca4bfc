//! deploy `--revision`: the sync asks for it, readiness requires that Argo CD
//! compares what was synced, an app already there is left alone, and Argo
//! CD's refusals (automated sync pins the target; the comparison stays at the
//! target's head) are reported as such, at once.

use std::time::{Duration, Instant};

use executor::exit::ExitCode;
use executor::sim::{AppScenario, InitialState, Scenario};

use crate::common::{assert_code, TestContext, TOKEN};

fn app(change: impl FnOnce(&mut AppScenario)) -> Scenario {
    let mut scenario = Scenario::with_apps(TOKEN, &["temporal"]);
    change(&mut scenario.apps[0]);
    scenario
}

fn deploy_at(revision: &str) -> [&str; 4] {
    ["--scope", "app:temporal", "--revision", revision]
}

/// The sync request carries the revision; at the app's own target it succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_asks_for_the_revision() {
    let ctx = TestContext::new(app(|a| a.target_revision = "main".into())).await;
    let result = ctx.run("deploy", &deploy_at("main")).await;
    assert_code(&result, ExitCode::SUCCESS);
    assert_eq!(ctx.first_sync_body()["revision"], "main");
}

/// A commit other than the target's head: Argo CD syncs it, then compares
/// the app against its targetRevision, so it stays OutOfSync; that fails at
/// once, naming both revisions, instead of waiting out the health deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revision_argo_cd_does_not_compare_fails_at_once() {
    let ctx = TestContext::new(app(|a| a.target_revision = "main".into())).await;
    ctx.write_environment("timeouts:\n  health: 30s\n");
    let other = "0123456789abcdef0123456789abcdef01234567";
    let started = Instant::now();
    let result = ctx.run("deploy", &deploy_at(other)).await;
    assert_code(&result, ExitCode::FAILURE);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(result.report["failures"][0]["reason"], "RevisionRefused");
    let message = result.component()["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("its targetRevision main, not at 0123456789abcdef")
            && message.contains("--revision 0123456789abcdef0123456789abcdef01234567"),
        "{message}"
    );
}

/// An auto-synced app: Argo CD refuses any revision but its target; that is
/// reported as the refusal it is, not as an API error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auto_synced_app_refuses_another_revision() {
    let ctx = TestContext::new(app(|a| {
        a.target_revision = "main".into();
        a.auto_sync = true;
    }))
    .await;
    let result = ctx.run("deploy", &deploy_at("v1.0.0")).await;
    assert_code(&result, ExitCode::FAILURE);
    assert_eq!(result.report["failures"][0]["reason"], "RevisionRefused");
    let message = result.component()["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("Cannot sync to v1.0.0: auto-sync currently set to main")
            && message.contains("drop --revision"),
        "{message}"
    );
    assert_eq!(ctx.syncs("temporal"), 1, "refused, not retried");
}

/// An app already compared at the requested commit is left alone: a rerun
/// changes nothing. A ready app at another commit is synced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ready_app_at_the_revision_is_unchanged() {
    let ctx = TestContext::new(app(|a| a.initial = InitialState::Healthy)).await;
    let at = ctx
        .sim
        .app("temporal")
        .and_then(|a| a.status.sync.revision)
        .expect("a compared revision");
    let result = ctx.run("deploy", &deploy_at(&at[..12])).await;
    assert_code(&result, ExitCode::SUCCESS);
    assert_eq!(result.component()["status"], "unchanged");
    assert_eq!(ctx.syncs("temporal"), 0);

    let result = ctx
        .run(
            "deploy",
            &deploy_at("0123456789abcdef0123456789abcdef01234567"),
        )
        .await;
    assert_eq!(ctx.syncs("temporal"), 1, "{}", result.stdout);
}
