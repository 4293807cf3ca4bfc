//! deploy against the real Argo CD: fresh apps, the app's own sync options,
//! prune, and failures Argo CD reports before any deadline.

use std::time::Duration;

use executor::exit::ExitCode;

use crate::expect::{self, field};
use crate::fixture::{self, assert_code, assert_status, config_map, widget, App, Executor};

const LIMIT: Duration = Duration::from_secs(120);

/// A fresh app, created right before the deploy, goes through Argo CD 3.2.11's
/// stale last update (same-second `reconciledAt`, still OutOfSync/Missing). Over
/// 20 fresh apps: no false failure, and no success before the app is Healthy
/// (its Widget stays Progressing until the test says otherwise).
#[test]
fn fresh_apps_deploy_without_false_failures() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let workers: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let app = App::new(stack, "fresh");
                    app.push(&[
                        ("cm.yaml", config_map("settings")),
                        ("widget.yaml", widget("w")),
                    ]);
                    app.create();
                    let executor =
                        Executor::new(stack, "").args(&["--scope", &format!("app:{}", app.name)]);
                    let mut running = executor.spawn(stack, "deploy");
                    running.meanwhile("the Widget to be applied", LIMIT, || {
                        app.widget_applied("w")
                    });
                    // Let the stream carry the Progressing state before the Widget turns Healthy.
                    running.meanwhile("Argo CD to see the app Progressing", LIMIT, || {
                        let live = app.application().ok_or("no app")?;
                        match field(&live, "/status/health/status") {
                            "Progressing" => Ok(()),
                            other => Err(other.to_owned()),
                        }
                    });
                    app.set_widget("w", "Healthy");
                    let run = running.finish(LIMIT);
                    assert_code(&run, ExitCode::SUCCESS);
                    assert_status(&run, &app.name, "succeeded");
                    expect::synced_and_healthy(&app).unwrap_or_else(|seen| {
                        panic!("reported success, but Argo CD says {seen}\n{}", run.show())
                    });
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("a worker panicked");
    }
}

/// environment.yaml's `sync.options` are merged with the app's own: an app with
/// `CreateNamespace=true` gets its namespace even though environment.yaml names
/// other options (Argo CD would otherwise use the request's list instead).
#[test]
fn environment_sync_options_keep_the_apps_own() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::new(stack, "options");
    app.push(&[("cm.yaml", config_map("settings"))]).create();
    let run = Executor::new(stack, "sync:\n  options:\n    - ApplyOutOfSyncOnly=true\n")
        .args(&["--scope", &format!("app:{}", app.name)])
        .run(stack, "deploy", LIMIT);
    assert_code(&run, ExitCode::SUCCESS);
    assert!(
        stack.get("namespace", "", app.namespace()).is_some(),
        "namespace created"
    );
    let live = app.application().unwrap();
    let sent = live
        .pointer("/status/operationState/operation/sync/syncOptions")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        sent,
        serde_json::json!(["CreateNamespace=true", "ApplyOutOfSyncOnly=true"]),
        "the operation Argo CD ran carries both"
    );
}

/// With prune off, a resource removed from git is left in place: the operation
/// Succeeds with a PruneSkipped result and the app stays OutOfSync. The deploy
/// fails at once, naming the resource, instead of waiting out its health timeout.
#[test]
fn prune_skipped_fails_at_once_naming_the_resource() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::new(stack, "prune");
    app.push(&[
        ("a.yaml", config_map("keep")),
        ("b.yaml", config_map("old")),
    ])
    .create();
    let executor = Executor::new(stack, "timeouts:\n  sync: 60s\n  health: 60s\n")
        .args(&["--scope", &format!("app:{}", app.name)]);
    assert_code(&executor.run(stack, "deploy", LIMIT), ExitCode::SUCCESS);

    app.remove("b.yaml");
    let run = executor.run(stack, "deploy", LIMIT);
    assert_code(&run, ExitCode::FAILURE);
    assert!(
        run.took < Duration::from_secs(30),
        "failed fast, not at the deadline: {}",
        run.show()
    );
    let message = run.component(&app.name)["message"].as_str().unwrap_or("");
    assert!(
        message.contains("ConfigMap/") && message.contains("/old"),
        "{}",
        run.show()
    );
    assert!(message.contains("prun"), "{}", run.show());
    assert_eq!(
        run.report["failures"][0]["reason"],
        "PruneSkipped",
        "{}",
        run.show()
    );
    // The cluster agrees: the ConfigMap is still there.
    assert!(stack.get("configmap", app.namespace(), "old").is_some());
}

/// An app whose path does not exist in git: ComparisonError, failed with Argo CD's message.
#[test]
fn comparison_error_fails_with_argo_cds_message() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let mut app = App::new(stack, "nopath");
    app.path = format!("{}/does-not-exist", app.name);
    app.create();
    let run = Executor::new(stack, "timeouts:\n  sync: 60s\n  health: 60s\n")
        .args(&["--scope", &format!("app:{}", app.name)])
        .run(stack, "deploy", LIMIT);
    assert_code(&run, ExitCode::FAILURE);
    let message = run.component(&app.name)["message"].as_str().unwrap_or("");
    assert!(
        message.contains("does-not-exist") || message.contains("path"),
        "{}",
        run.show()
    );
    assert!(run.took < Duration::from_secs(45), "{}", run.show());
}

/// A second deploy of a ready app sends no sync: unchanged, and Argo CD's
/// operation is still the first run's.
#[test]
fn rerun_on_a_ready_app_is_unchanged() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::new(stack, "rerun");
    app.push(&[("cm.yaml", config_map("settings"))]).create();
    let executor = Executor::new(stack, "").args(&["--scope", &format!("app:{}", app.name)]);
    assert_code(&executor.run(stack, "deploy", LIMIT), ExitCode::SUCCESS);
    let first = app.application().unwrap();
    let run = executor.run(stack, "deploy", LIMIT);
    assert_code(&run, ExitCode::SUCCESS);
    assert_status(&run, &app.name, "unchanged");
    let second = app.application().unwrap();
    assert_eq!(
        field(&first, "/status/operationState/startedAt"),
        field(&second, "/status/operationState/startedAt"),
        "no new operation"
    );
}

/// A Degraded Widget fails the deploy (exit 1) with Argo CD's health message.
#[test]
fn degraded_app_fails() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::new(stack, "degraded");
    app.push(&[("widget.yaml", widget("w"))]).create();
    let executor = Executor::new(stack, "timeouts:\n  sync: 60s\n  health: 60s\n")
        .args(&["--scope", &format!("app:{}", app.name)]);
    let mut running = executor.spawn(stack, "deploy");
    running.meanwhile("the Widget to be applied", LIMIT, || {
        app.widget_applied("w")
    });
    app.set_widget("w", "Degraded");
    let run = running.finish(LIMIT);
    assert_code(&run, ExitCode::FAILURE);
    assert_eq!(
        run.report["failures"][0]["reason"],
        "Degraded",
        "{}",
        run.show()
    );
}

/// `--revision` on the real Argo CD. A commit behind main with other
/// manifests: Argo CD syncs it, then compares the app against its
/// targetRevision (main), so it stays OutOfSync; the deploy fails at once as
/// RevisionRefused, naming both commits. main's own commit succeeds, compared
/// at that commit. Alone on the stack: another scenario's push would move
/// main's head, and the comparison with it.
#[test]
fn a_revision_behind_the_target_is_refused_at_once() {
    let stack = require_stack!();
    let _alone = fixture::exclusive();
    let app = App::new(stack, "revision");
    let old = app.commit(&[("cm.yaml", config_map("settings"))]);
    let new = app.commit(&[("cm.yaml", config_map("settings").replace("value", "newer"))]);
    app.create();
    let at = |revision: &str| {
        Executor::new(stack, "timeouts:\n  sync: 60s\n  health: 60s\n")
            .args(&[
                "--scope",
                &format!("app:{}", app.name),
                "--revision",
                revision,
            ])
            .run(stack, "deploy", LIMIT)
    };
    let run = at(&old);
    assert_code(&run, ExitCode::FAILURE);
    assert!(
        run.took < Duration::from_secs(30),
        "failed fast: {}",
        run.show()
    );
    assert_eq!(
        run.report["failures"][0]["reason"],
        "RevisionRefused",
        "{}",
        run.show()
    );
    let message = run.component(&app.name)["message"].as_str().unwrap_or("");
    assert!(
        message.contains(&format!("not at {old}")) && message.contains("targetRevision main"),
        "{}",
        run.show()
    );
    let live = app.application().unwrap();
    assert_eq!(
        expect::field(&live, "/status/operationState/syncResult/revision"),
        old,
        "Argo CD synced the commit asked for"
    );

    let run = at(&new);
    assert_code(&run, ExitCode::SUCCESS);
    let sent = app.application().unwrap();
    assert_eq!(
        expect::field(&sent, "/status/operationState/syncResult/revision"),
        new
    );
}

/// An auto-synced app: Argo CD refuses a revision other than its target;
/// the report says so (RevisionRefused, Argo CD's own words), not an API
/// error. (At the commit asked for, the app would be left alone: ready.)
#[test]
fn an_auto_synced_app_refuses_another_revision() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let mut app = App::new(stack, "pinned");
    app.sync_policy
        .push_str("    automated:\n      prune: false\n      selfHeal: false\n");
    let old = app.commit(&[("cm.yaml", config_map("settings"))]);
    // main moves on, so the app's own automated sync is not at `old`.
    app.commit(&[("cm.yaml", config_map("settings").replace("value", "newer"))]);
    app.create();
    let run = Executor::new(stack, "")
        .args(&["--scope", &format!("app:{}", app.name), "--revision", &old])
        .run(stack, "deploy", LIMIT);
    assert_code(&run, ExitCode::FAILURE);
    assert_eq!(
        run.report["failures"][0]["reason"],
        "RevisionRefused",
        "{}",
        run.show()
    );
    let message = run.component(&app.name)["message"].as_str().unwrap_or("");
    assert!(
        message.contains(&format!(
            "Cannot sync to {old}: auto-sync currently set to main"
        )),
        "{}",
        run.show()
    );
}
