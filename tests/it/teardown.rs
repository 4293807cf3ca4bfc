//! teardown for one application.

use std::time::Duration;

use executor::exit::ExitCode;
use executor::sim::{AppScenario, Faults, InitialState, Scenario};

use crate::common::{assert_code, assert_timeout_names, TestContext, ENVIRONMENT, TOKEN};

const ARGS: [&str; 4] = ["--scope", "app:temporal", "--confirm", ENVIRONMENT];

fn with(app: AppScenario) -> Scenario {
    Scenario {
        apps: vec![app],
        ..Scenario::with_apps(TOKEN, &[])
    }
}

fn app() -> AppScenario {
    AppScenario {
        initial: InitialState::Healthy,
        ..Scenario::with_apps(TOKEN, &["temporal"]).apps.remove(0)
    }
}

/// Teardown deletes with cascade and foreground propagation and waits until the app is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_removes_the_app() {
    let ctx = TestContext::new(with(app())).await;
    let result = ctx.run("teardown", &ARGS).await;
    assert_code(&result, ExitCode::SUCCESS);
    assert_eq!(result.component()["status"], "removed");
    assert!(ctx.sim.app("temporal").is_none());
    assert_eq!(ctx.sim.deletion_order(), ["temporal"]);
    let delete = ctx
        .requests()
        .into_iter()
        .find(|r| r.method == "DELETE")
        .unwrap();
    assert!(delete.query.contains("cascade=true"), "{delete:?}");
    assert!(
        delete.query.contains("propagationPolicy=foreground"),
        "{delete:?}"
    );
}

/// Teardown of an app that is already gone is Success, status absent, and sends no delete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_of_an_absent_app_succeeds() {
    let ctx = TestContext::new(with(AppScenario {
        initial: InitialState::Absent,
        ..app()
    }))
    .await;
    let result = ctx.run("teardown", &ARGS).await;
    assert_code(&result, ExitCode::SUCCESS);
    assert_eq!(result.component()["status"], "absent");
    assert_eq!(ctx.count("DELETE", "/temporal"), 0);
}

/// Finalizers that outlast the deadline: Timeout, deletion not confirmed;
/// the deadline is the sync plus the health timeout, and both are named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_times_out_when_finalizers_hold() {
    let ctx = TestContext::new(with(AppScenario {
        deletion_delay: Duration::from_secs(30),
        ..app()
    }))
    .await;
    ctx.write_environment("timeouts:\n  sync: 500ms\n  health: 500ms\n");
    let result = ctx.run("teardown", &ARGS).await;
    assert_timeout_names(
        &result,
        &[
            "the sync timeout of 500ms (environment.yaml timeouts.sync)",
            "the health timeout of 500ms (environment.yaml timeouts.health)",
        ],
    );
    assert!(result.component()["message"]
        .as_str()
        .unwrap()
        .contains("finalizers"));
}

/// A token that may not delete: Failure with the permission hint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_with_a_rejected_token_fails() {
    let ctx = TestContext::new(with(app())).await;
    std::fs::write(ctx.secrets_dir.join("argocd-token"), "expired").unwrap();
    let result = ctx.run("teardown", &ARGS).await;
    assert_code(&result, ExitCode::FAILURE);
    assert!(ctx.sim.app("temporal").is_some());
}

/// A dry run deletes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_dry_run_deletes_nothing() {
    let ctx = TestContext::new(with(app())).await;
    let mut args = ARGS.to_vec();
    args.extend(["--dry-run", "true"]);
    let result = ctx.run("teardown", &args).await;
    assert_code(&result, ExitCode::SUCCESS);
    assert!(ctx.requests().iter().all(|r| r.method == "GET"));
    assert!(ctx.sim.app("temporal").is_some());
}

/// An app-of-apps whose child Application survives the cascade (Delete=false)
/// leaves an orphan: Partial, status orphaned, naming the child.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_reports_orphaned_child_applications() {
    let mut scenario = Scenario::with_apps(TOKEN, &["temporal", "temporal-db", "temporal-ui"]);
    for app in &mut scenario.apps {
        app.initial = InitialState::Healthy;
        app.deletion_delay = Duration::from_millis(100);
    }
    scenario.apps[0].children = vec!["temporal-db".into(), "temporal-ui".into()];
    scenario.apps[1].delete_protected = true;
    let ctx = TestContext::new(scenario).await;
    let result = ctx.run("teardown", &ARGS).await;
    assert_code(&result, ExitCode::PARTIAL);
    assert_eq!(result.status, "partial\n");
    assert_eq!(result.component()["status"], "orphaned");
    assert_eq!(result.report["failures"][0]["reason"], "Orphaned");
    let message = result.component()["message"].as_str().unwrap();
    assert!(
        message.contains("temporal-db") && !message.contains("temporal-ui"),
        "{message}"
    );
    assert!(
        ctx.sim.app("temporal-ui").is_none(),
        "the unprotected child went with its parent"
    );
    assert!(ctx.sim.app("temporal-db").is_some());
}

/// `--app-namespace` goes with the delete and the resource-tree read too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_sends_the_app_namespace() {
    let ctx = TestContext::new(with(app())).await;
    let mut args = ARGS.to_vec();
    args.extend(["--app-namespace", "argocd"]);
    assert_code(&ctx.run("teardown", &args).await, ExitCode::SUCCESS);
    let requests = ctx.app_requests();
    assert!(requests.iter().any(|r| r.method == "DELETE"));
    assert!(requests.iter().any(|r| r.path.ends_with("/resource-tree")));
    for r in &requests {
        assert!(
            r.query.split('&').any(|p| p == "appNamespace=argocd"),
            "{r:?}"
        );
    }
}

/// An app created again right after its deletion (same name, a new uid, as
/// an app-of-apps with self-heal does) was still removed: the object the
/// delete named is gone. Polling, with the stream failing, never sees the
/// moment between the two, only the new object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_counts_an_app_created_again_as_removed() {
    let mut scenario = with(AppScenario {
        recreated: true,
        ..app()
    });
    scenario.faults = Faults {
        drop_stream_after: Some(0),
        drop_stream_times: 100,
        ..Faults::default()
    };
    let ctx = TestContext::new(scenario).await;
    ctx.write_environment("timeouts:\n  sync: 3s\n  health: 3s\n");
    let deleted = ctx.sim.app("temporal").unwrap().metadata.uid;
    let result = ctx.run("teardown", &ARGS).await;
    assert_code(&result, ExitCode::SUCCESS);
    assert_eq!(result.component()["status"], "removed");
    assert_eq!(ctx.sim.deletion_order(), ["temporal"]);
    let again = ctx.sim.app("temporal").expect("created again").metadata.uid;
    assert_ne!(again, deleted);
    let message = result.component()["message"].as_str().unwrap();
    assert!(message.contains("created again"), "{message}");
}
