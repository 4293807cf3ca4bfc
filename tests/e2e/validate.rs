//! validate's exit codes on the real stack, and teardown's Partial: an
//! app-of-apps whose child is protected by `Delete=false`.

use std::time::Duration;

use executor::exit::ExitCode;

use crate::fixture::{self, assert_code, assert_status, config_map, App, Executor, ENVIRONMENT};

const LIMIT: Duration = Duration::from_secs(120);

/// A deployed app validates `healthy`, exit 0; an app that does not exist is
/// `unhealthy`, exit 1. Neither run sends anything but reads: the
/// Application's status is untouched.
#[test]
fn validate_says_healthy_or_unhealthy() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::deployed(stack, "valid");
    let scope = app.scope();
    let before = app.application().unwrap();
    let run = Executor::new(stack, "")
        .args(&["--scope", &scope])
        .run(stack, "validate", LIMIT);
    assert_code(&run, ExitCode::SUCCESS);
    assert_status(&run, &app.name, "healthy");
    let after = app.application().unwrap();
    assert_eq!(
        before.pointer("/status/operationState"),
        after.pointer("/status/operationState"),
        "validate started no operation"
    );

    let absent = stack.unique("nowhere");
    let run = Executor::new(stack, "")
        .args(&["--scope", &format!("app:{absent}")])
        .run(stack, "validate", LIMIT);
    assert_code(&run, ExitCode::FAILURE);
    assert_status(&run, &absent, "unhealthy");
}

/// Teardown of an app-of-apps whose child carries `Delete=false`: Argo CD
/// removes the parent and leaves the child, which the report names as an
/// orphan, exit 2 (Partial). The child is still in the cluster.
#[test]
fn teardown_reports_a_child_application_left_behind() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let parent = App::new(stack, "parent");
    let child = App::new(stack, "kept");
    child.push(&[("cm.yaml", config_map("settings"))]);
    let protected = child.manifest().replacen(
        "metadata:\n",
        "metadata:\n  annotations:\n    argocd.argoproj.io/sync-options: Delete=false\n",
        1,
    );
    parent.push(&[("child.yaml", protected)]).create();
    let scope = format!("app:{}", parent.name);
    assert_code(
        &Executor::new(stack, "")
            .args(&["--scope", &scope])
            .run(stack, "deploy", LIMIT),
        ExitCode::SUCCESS,
    );
    crate::expect::eventually("the child Application", LIMIT, || {
        child.application().map(|_| ()).ok_or("not yet".to_owned())
    });
    let run = Executor::new(stack, "")
        .args(&["--scope", &scope, "--confirm", ENVIRONMENT])
        .run(stack, "teardown", LIMIT);
    assert_code(&run, ExitCode::PARTIAL);
    assert_status(&run, &parent.name, "orphaned");
    let message = run.component(&parent.name)["message"]
        .as_str()
        .unwrap_or("");
    assert!(message.contains(&child.name), "{}", run.show());
    assert!(child.application().is_some(), "the child is still there");
    crate::expect::application_gone(&parent).unwrap_or_else(|e| panic!("{e}"));
}

/// validate sends Argo CD reads only, as argocd-server's own request log
/// shows: for its app, nothing but Get (never with `refresh`, which would
/// make argocd-server patch the app), ResourceTree and ManagedResources (the
/// compliance report's live manifests). The API server side is in
/// cluster.rs (`validate_only_reads_from_the_api_server`).
#[test]
fn validate_sends_argo_cd_reads_only() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::deployed(stack, "argoreads");
    let log = std::path::Path::new(stack.var("AUDIT_LOG")).with_file_name("argocd-server.log");
    let before = std::fs::read_to_string(&log).unwrap_or_default().len();
    let run = Executor::new(stack, "")
        .admin_kubeconfig(stack)
        .args(&["--scope", &app.scope()])
        .run(stack, "validate", LIMIT);
    assert_code(&run, ExitCode::SUCCESS);
    let text = std::fs::read_to_string(&log).expect("argocd-server's log");
    // `name:"<app>"`, or `applicationName:"<app>"` for ManagedResources.
    let mine = format!("ame:\\\"{}\\\"", app.name);
    let calls: Vec<&str> = text[before..]
        .lines()
        .filter(|l| l.contains("received unary call") && l.contains(&mine))
        .collect();
    let methods: std::collections::BTreeSet<&str> = calls
        .iter()
        .filter_map(|l| l.split("ApplicationService/").nth(1)?.split('"').next())
        .collect();
    assert!(
        methods
            .iter()
            .all(|m| ["Get", "ResourceTree", "ManagedResources"].contains(m)),
        "{methods:?}\n{}",
        calls.join("\n")
    );
    assert!(
        methods.contains("Get") && methods.contains("ManagedResources"),
        "{methods:?}"
    );
    assert!(
        !calls.iter().any(|l| l.contains("refresh:")),
        "{}",
        calls.join("\n")
    );
}
