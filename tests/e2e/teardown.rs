//! teardown against the real Argo CD and API server.

use std::time::Duration;

use executor::exit::ExitCode;

use crate::expect::{self, eventually};
use crate::fixture::{self, assert_code, assert_status, config_map, App, Executor, ENVIRONMENT};

const LIMIT: Duration = Duration::from_secs(120);

/// A deployed app is deleted with its resources (foreground cascade, through
/// the real garbage collector): the Application and its ConfigMap are gone.
#[test]
fn teardown_removes_the_app_and_its_resources() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::deployed(stack, "down");
    let scope = app.scope();
    assert!(stack
        .get("configmap", app.namespace(), "settings")
        .is_some());
    let run = Executor::new(stack, "")
        .args(&["--scope", &scope, "--confirm", ENVIRONMENT])
        .run(stack, "teardown", LIMIT);
    assert_code(&run, ExitCode::SUCCESS);
    assert_status(&run, &app.name, "removed");
    expect::application_gone(&app).unwrap_or_else(|e| panic!("{e}\n{}", run.show()));
    eventually(
        "the ConfigMap to be deleted",
        Duration::from_secs(30),
        || match stack.get("configmap", app.namespace(), "settings") {
            None => Ok(()),
            Some(_) => Err("still there".to_owned()),
        },
    );
}

/// A platform teardown of a stack whose app-of-apps has automated sync
/// (self-heal on): the parent is deleted first, without cascade, so it
/// cannot re-create the child deleted after it; then the child, with
/// cascade. Both removed (exit 0), the child stays gone, and the audit log
/// shows the parent's delete before the child's.
#[test]
fn an_auto_synced_app_of_apps_goes_first_without_cascade() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let mut parent = App::new(stack, "family");
    parent
        .sync_policy
        .push_str("    automated:\n      prune: true\n      selfHeal: true\n");
    let child = App::new(stack, "member");
    child.push(&[("cm.yaml", config_map("settings"))]);
    parent.push(&[("child.yaml", child.manifest())]).create();
    let dag = format!(
        "stacks:\n  - name: family\n    app: {}\n    apps:\n      - name: {}\n",
        parent.name, child.name
    );
    let run = |action: &str, extra: &[&str]| {
        let executor = Executor::new(stack, "")
            .args(&["--scope", "platform"])
            .args(extra);
        executor.write_dag(&dag);
        executor.run(stack, action, LIMIT)
    };
    assert_code(&run("deploy", &[]), ExitCode::SUCCESS);

    let teardown = run("teardown", &["--confirm", ENVIRONMENT]);
    assert_code(&teardown, ExitCode::SUCCESS);
    assert_status(&teardown, "family", "removed");
    assert_status(&teardown, &child.name, "removed");
    let said = teardown.component("family")["message"].as_str().unwrap();
    assert!(said.contains("deleted without cascade"), "{said}");
    let parent_deleted = stack.audited("delete", "applications", &parent.name);
    let child_deleted = stack.audited("delete", "applications", &child.name);
    assert!(
        !parent_deleted.is_empty() && !child_deleted.is_empty(),
        "{}",
        teardown.show()
    );
    assert!(
        parent_deleted[0] < child_deleted[0],
        "the parent went first ({} < {})",
        parent_deleted[0],
        child_deleted[0]
    );
    // Nothing re-creates the child: its parent is gone.
    std::thread::sleep(Duration::from_secs(3));
    assert!(child.application().is_none(), "the child stays gone");
    assert!(parent.application().is_none());
    assert!(stack
        .get("configmap", child.namespace(), "settings")
        .is_none());
}

/// A namespace the app manages that cannot finish terminating (a ConfigMap
/// in it keeps a finalizer nobody removes): Argo CD keeps the app until
/// every resource it deleted is gone, so the teardown times out (exit 4),
/// and the message names the namespace stuck in Terminating and why, as
/// the namespace controller's conditions say.
#[test]
fn a_namespace_stuck_in_terminating_is_named() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::new(stack, "stuck");
    let held = stack.unique("held");
    let namespace = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {held}\n");
    let pinned = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pinned\n  namespace: {held}\n  finalizers: [e2e.executor.dev/hold]\ndata:\n  key: value\n"
    );
    app.push(&[("ns.yaml", namespace), ("pinned.yaml", pinned)])
        .create();
    let deploy = Executor::new(stack, "")
        .args(&["--scope", &app.scope()])
        .run(stack, "deploy", LIMIT);
    assert_code(&deploy, ExitCode::SUCCESS);

    let run = Executor::new(stack, "")
        .admin_kubeconfig(stack)
        .args(&[
            "--scope",
            &app.scope(),
            "--confirm",
            ENVIRONMENT,
            "--sync-timeout",
            "5s",
            "--health-timeout",
            "5s",
        ])
        .run(stack, "teardown", LIMIT);
    let release = || {
        let _ = stack.kubectl(&[
            "patch",
            "configmap",
            "pinned",
            "-n",
            &held,
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":null}}"#,
        ]);
    };
    release();
    assert_code(&run, ExitCode::TIMEOUT);
    let said = run.component(&app.name)["message"].as_str().unwrap();
    assert!(
        said.contains(&format!("Namespace {held} (stuck in Terminating: "))
            && said.contains("NamespaceFinalizersRemaining: Some content in the namespace has finalizers remaining: e2e.executor.dev/hold"),
        "{said}"
    );
    assert!(
        said.contains(&format!("ConfigMap {held}/pinned (still being deleted)")),
        "{said}"
    );
}
