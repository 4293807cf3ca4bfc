//! What the token may see and do: a project the token cannot see, and a sync
//! window; and whose certificate the executor trusts.

use std::time::Duration;

use executor::exit::ExitCode;

use crate::fixture::{self, assert_code, assert_status, config_map, App, Executor, ENVIRONMENT};

const LIMIT: Duration = Duration::from_secs(120);

/// Argo CD answers 403 both for an absent app and for one in a project the
/// token may not see, and its listing omits the latter. Teardown must not call
/// such an app absent (exit 0): it says it cannot tell, exit 1, and deletes nothing.
#[test]
fn teardown_of_an_app_the_token_cannot_see_is_not_absent() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let mut app = App::new(stack, "hidden");
    app.project = "hidden".to_owned();
    app.push(&[("cm.yaml", config_map("settings"))]).create();
    let run = Executor::new(stack, "")
        .token(stack, "ARGOCD_LIMITED_TOKEN_FILE")
        .args(&[
            "--scope",
            &format!("app:{}", app.name),
            "--confirm",
            ENVIRONMENT,
        ])
        .run(stack, "teardown", LIMIT);
    assert_code(&run, ExitCode::FAILURE);
    let component = run.component(&app.name);
    assert_ne!(component["status"], "absent", "{}", run.show());
    let message = component["message"].as_str().unwrap_or("");
    assert!(message.contains("not visible"), "{}", run.show());
    assert!(
        app.application().is_some(),
        "the Application is still there"
    );
}

/// With cluster access the Kubernetes API tells the two apart: the hidden
/// app exists (exit 1, said so, nothing deleted), an absent name is absent
/// (exit 0) even for the token that cannot see every app.
#[test]
fn with_cluster_access_teardown_tells_absent_from_not_visible() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let mut app = App::new(stack, "hidden");
    app.project = "hidden".to_owned();
    app.push(&[("cm.yaml", config_map("settings"))]).create();
    let teardown = |name: &str| {
        Executor::new(stack, "")
            .token(stack, "ARGOCD_LIMITED_TOKEN_FILE")
            .admin_kubeconfig(stack)
            .args(&["--scope", &format!("app:{name}"), "--confirm", ENVIRONMENT])
            .run(stack, "teardown", LIMIT)
    };
    let run = teardown(&app.name);
    assert_code(&run, ExitCode::FAILURE);
    let message = run.component(&app.name)["message"].as_str().unwrap_or("");
    assert!(message.contains("shows that Application"), "{}", run.show());
    assert!(
        app.application().is_some(),
        "the Application is still there"
    );
    let absent = stack.unique("gone");
    let run = teardown(&absent);
    assert_code(&run, ExitCode::SUCCESS);
    assert_status(&run, &absent, "absent");
    let message = run.component(&absent)["message"].as_str().unwrap_or("");
    assert!(
        message.contains("the Kubernetes API has no Application"),
        "{}",
        run.show()
    );
}

/// An app that really is absent is still `absent`, exit 0, for a token that may see it.
#[test]
fn teardown_of_an_absent_app_is_success() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let name = stack.unique("absent");
    let run = Executor::new(stack, "")
        .args(&["--scope", &format!("app:{name}"), "--confirm", ENVIRONMENT])
        .run(stack, "teardown", LIMIT);
    assert_code(&run, ExitCode::SUCCESS);
    assert_status(&run, &name, "absent");
}

/// A deny window refuses the sync with "permission denied": reported as a
/// sync window, with the window, not as a token problem.
#[test]
fn a_sync_window_is_named_not_blamed_on_the_token() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let mut app = App::new(stack, "window");
    app.project = "windowed".to_owned();
    app.push(&[("cm.yaml", config_map("settings"))]).create();
    let run = Executor::new(stack, "")
        .args(&["--scope", &format!("app:{}", app.name)])
        .run(stack, "deploy", LIMIT);
    assert_code(&run, ExitCode::FAILURE);
    assert_eq!(
        run.report["failures"][0]["reason"],
        "SyncWindow",
        "{}",
        run.show()
    );
    let message = run.component(&app.name)["message"].as_str().unwrap_or("");
    assert!(
        message.contains("sync window") && message.contains("deny"),
        "{}",
        run.show()
    );
    assert!(!message.contains("RBAC"), "{}", run.show());
}

/// With `--wait-sync-window`, the deploy waits for the window within the sync
/// timeout, then times out saying the window stayed closed.
#[test]
fn wait_sync_window_is_bounded_by_the_sync_timeout() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let mut app = App::new(stack, "windowwait");
    app.project = "windowed".to_owned();
    app.push(&[("cm.yaml", config_map("settings"))]).create();
    let run = Executor::new(stack, "")
        .args(&[
            "--scope",
            &format!("app:{}", app.name),
            "--wait-sync-window",
            "--sync-timeout",
            "8s",
            "--health-timeout",
            "5s",
        ])
        .run(stack, "deploy", LIMIT);
    assert_code(&run, ExitCode::TIMEOUT);
    let message = run.component(&app.name)["message"].as_str().unwrap_or("");
    assert!(
        message.contains("sync window stayed closed"),
        "{}",
        run.show()
    );
    assert!(run.took < Duration::from_secs(8 + 5 + 5), "{}", run.show());
}

/// argocd-server sends nothing on a quiet watch and never re-checks the token of
/// an open stream. When the token expires mid-wait, the executor's reopening of
/// the silent stream meets a 401 (an `{"error":{"grpc_code":16,…}}` body): an
/// authentication failure, exit 1, long before the health deadline, not a
/// transient error retried until then.
#[test]
fn a_token_that_expires_mid_wait_is_an_authentication_failure() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::new(stack, "expiry");
    app.push(&[("widget.yaml", crate::fixture::widget("w"))])
        .create();
    let dir = tempfile::tempdir().unwrap();
    let token = stack.short_lived_token(dir.path(), 8);
    let executor = Executor::new(stack, "timeouts:\n  sync: 120s\n  health: 120s\n")
        .token_file(&token)
        .args(&["--scope", &format!("app:{}", app.name)]);
    let mut run = executor.spawn(stack, "deploy");
    run.meanwhile("the Widget to be applied", LIMIT, || {
        app.widget_applied("w")
    });
    let run = run.finish(LIMIT);
    assert_code(&run, ExitCode::FAILURE);
    assert_eq!(
        run.report["failures"][0]["reason"],
        "Unauthenticated",
        "{}",
        run.show()
    );
    assert!(run.took < Duration::from_secs(60), "{}", run.show());
}

/// An Application outside Argo CD's namespace (`application.namespaces`), with
/// a namesake in Argo CD's own namespace that never becomes Healthy: deploy and
/// teardown with `--app-namespace` act on the right one only, through every
/// request (argocd-server ignores `appNamespace` in a sync's query; it must be
/// in the body) and through the one shared watch.
#[test]
fn an_app_in_another_namespace_is_deployed_and_torn_down_not_its_namesake() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let mut app = App::new(stack, "appns");
    app.app_namespace = stack.var("APPS_NAMESPACE").to_owned();
    app.push(&[("cm.yaml", config_map("settings"))]).create();
    let mut twin = App::new(stack, "appns-twin");
    twin.name = app.name.clone();
    twin.push(&[("widget.yaml", crate::fixture::widget("w"))])
        .create();

    let scope = format!("app:{}", app.name);
    let ns = stack.var("APPS_NAMESPACE");
    let run = Executor::new(stack, "")
        .args(&["--scope", &scope, "--app-namespace", ns])
        .run(stack, "deploy", LIMIT);
    assert_code(&run, ExitCode::SUCCESS);
    crate::expect::synced_and_healthy(&app).unwrap_or_else(|seen| panic!("{seen}\n{}", run.show()));
    assert!(
        twin.application()
            .unwrap()
            .pointer("/status/operationState")
            .is_none(),
        "the namesake in Argo CD's namespace was not synced"
    );

    let run = Executor::new(stack, "")
        .args(&[
            "--scope",
            &scope,
            "--app-namespace",
            ns,
            "--confirm",
            ENVIRONMENT,
        ])
        .run(stack, "teardown", LIMIT);
    assert_code(&run, ExitCode::SUCCESS);
    assert_status(&run, &app.name, "removed");
    crate::expect::eventually("the app to be gone", Duration::from_secs(30), || {
        crate::expect::application_gone(&app)
    });
    assert!(twin.application().is_some(), "the namesake is still there");
}

/// TLS is always verified: the real argocd-server's certificate, from the CA
/// e2e/up makes at the stack's first start, is refused without
/// `--argocd-ca-file` (exit 1 before any request is answered, the message
/// naming the flag), and the same run succeeds with it.
#[test]
fn an_untrusted_certificate_is_refused_unless_its_ca_is_given() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::deployed(stack, "tls");
    let scope = format!("app:{}", app.name);
    let refused = Executor::new(stack, "")
        .without_ca()
        .args(&["--scope", &scope])
        .run(stack, "validate", LIMIT);
    assert_code(&refused, ExitCode::FAILURE);
    let said = refused.report["failures"].to_string();
    assert!(said.contains("--argocd-ca-file"), "{}", refused.show());
    assert!(
        said.to_lowercase().contains("certificate"),
        "{}",
        refused.show()
    );
    let trusted = Executor::new(stack, "")
        .args(&["--scope", &scope])
        .run(stack, "validate", LIMIT);
    assert_code(&trusted, ExitCode::SUCCESS);
}
