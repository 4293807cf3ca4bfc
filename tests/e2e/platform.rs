//! Platform scope on the real stack: an app-of-apps whose children Argo CD
//! creates during the run, dependency order, skips, resume and reverse teardown.

use std::time::Duration;

use executor::exit::ExitCode;
use serde_json::Value;

use crate::expect::{self, field};
use crate::fixture::{self, assert_code, assert_status, config_map, App, Executor, ENVIRONMENT};

const LIMIT: Duration = Duration::from_secs(180);

fn time(app: &Value, pointer: &str) -> chrono::DateTime<chrono::Utc> {
    field(app, pointer)
        .parse()
        .unwrap_or_else(|e| panic!("{pointer} of {}: {e}", field(app, "/metadata/name")))
}

/// A stack's app-of-apps creates its members when it syncs; they do not exist
/// when the run starts. The deploy waits for them and deploys them; the
/// teardown removes members before their app-of-apps, in reverse dependency
/// order (the audit log says when each was deleted), and everything is gone.
#[test]
fn app_of_apps_members_are_created_deployed_and_torn_down() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let parent = App::new(stack, "aoa");
    let children: Vec<App> = (0..2)
        .map(|_| {
            let child = App::new(stack, "member");
            child.push(&[("cm.yaml", config_map("settings"))]);
            child
        })
        .collect();
    let manifests: Vec<(String, String)> = children
        .iter()
        .map(|c| (format!("{}.yaml", c.name), c.manifest()))
        .collect();
    let refs: Vec<(&str, String)> = manifests
        .iter()
        .map(|(f, m)| (f.as_str(), m.clone()))
        .collect();
    parent.push(&refs).create();
    let executor = Executor::new(stack, "timeouts:\n  sync: 60s\n  health: 60s\n");
    executor.write_dag(&format!(
        "stacks:\n  - name: members\n    app: {}\n    apps:\n      - name: {}\n      - name: {}\n        dependsOn: [{}]\n",
        parent.name, children[0].name, children[1].name, children[0].name
    ));
    assert!(
        children[0].application().is_none(),
        "not created before the run"
    );

    let run = executor.run(stack, "deploy", LIMIT);
    assert_code(&run, ExitCode::SUCCESS);
    for child in &children {
        assert_status(&run, &child.name, "succeeded");
        expect::synced_and_healthy(child).unwrap_or_else(|seen| panic!("{}: {seen}", child.name));
    }
    // Dependency order, as Argo CD recorded it: the second member's operation
    // started no earlier than the first's finished.
    let first = children[0].application().unwrap();
    let second = children[1].application().unwrap();
    assert!(
        time(&second, "/status/operationState/startedAt")
            >= time(&first, "/status/operationState/finishedAt")
    );

    let executor = executor.args(&["--confirm", ENVIRONMENT]);
    let run = executor.run(stack, "teardown", LIMIT);
    assert_code(&run, ExitCode::SUCCESS);
    for app in children.iter().chain([&parent]) {
        expect::application_gone(app)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", app.name, run.show()));
    }
    // As the API server's audit log recorded the deletions: the app-of-apps
    // first (without cascade, so that it cannot re-create its members), then
    // the members in reverse order, the dependent one first.
    let deleted = |app: &App| {
        stack
            .audited("delete", "applications", &app.name)
            .into_iter()
            .min()
            .unwrap_or_else(|| panic!("no delete of {} in the audit log", app.name))
    };
    let order = [
        deleted(&parent),
        deleted(&children[1]),
        deleted(&children[0]),
    ];
    assert!(
        order[0] <= order[1] && order[1] <= order[2],
        "deleted at {order:?} (app-of-apps, dependent member, member)"
    );
}

/// A failed node skips exactly its dependents; an independent branch still
/// deploys (Partial). After the fix, a rerun syncs only what is not ready:
/// the apps that were ready keep the operation of the first run.
#[test]
fn a_failure_skips_dependents_and_a_rerun_resumes() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let base = App::new(stack, "base");
    let broken = App::new(stack, "broken");
    let after = App::new(stack, "after");
    let aside = App::new(stack, "aside");
    for app in [&base, &after, &aside] {
        app.push(&[("cm.yaml", config_map("settings"))]).create();
    }
    // Its path does not exist yet: ComparisonError until the fix is pushed.
    broken.create();
    let executor = Executor::new(stack, "timeouts:\n  sync: 60s\n  health: 60s\n");
    executor.write_dag(&format!(
        "stacks:\n  - name: chain\n    apps:\n      - name: {b}\n      - name: {x}\n        dependsOn: [{b}]\n      - name: {a}\n        dependsOn: [{x}]\n  - name: side\n    apps:\n      - name: {s}\n",
        b = base.name, x = broken.name, a = after.name, s = aside.name
    ));

    let run = executor.run(stack, "deploy", LIMIT);
    assert_code(&run, ExitCode::PARTIAL);
    assert_status(&run, &base.name, "succeeded");
    assert_status(&run, &broken.name, "failed");
    assert_status(&run, &after.name, "skipped");
    assert_status(&run, &aside.name, "succeeded");
    assert!(
        after
            .application()
            .unwrap()
            .pointer("/status/operationState")
            .is_none(),
        "a skipped app is never synced"
    );
    let base_op = field(
        &base.application().unwrap(),
        "/status/operationState/startedAt",
    )
    .to_owned();

    broken.push(&[("cm.yaml", config_map("settings"))]);
    let run = executor.run(stack, "deploy", LIMIT);
    assert_code(&run, ExitCode::SUCCESS);
    assert_status(&run, &base.name, "unchanged");
    assert_status(&run, &aside.name, "unchanged");
    assert_status(&run, &broken.name, "succeeded");
    assert_status(&run, &after.name, "succeeded");
    assert_eq!(
        field(
            &base.application().unwrap(),
            "/status/operationState/startedAt"
        ),
        base_op,
        "no new operation on a ready app"
    );
}

/// A member that appears only after its app-of-apps has synced (created by
/// something else a moment later, as an ApplicationSet would, or as
/// argocd-server's informer shows it late): the deploy waits for it within its
/// sync deadline instead of reporting it absent.
#[test]
fn a_member_created_after_its_app_of_apps_synced_is_waited_for() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let parent = App::new(stack, "late-parent");
    parent.push(&[("cm.yaml", config_map("settings"))]).create();
    let member = App::new(stack, "late-member");
    member.push(&[("cm.yaml", config_map("settings"))]);
    let executor = Executor::new(stack, "timeouts:\n  sync: 60s\n  health: 60s\n");
    executor.write_dag(&format!(
        "stacks:\n  - name: late\n    app: {}\n    apps:\n      - name: {}\n",
        parent.name, member.name
    ));
    let mut running = executor.spawn(stack, "deploy");
    running.meanwhile("the app-of-apps to be ready", LIMIT, || {
        expect::synced_and_healthy(&parent).map(|_| ())
    });
    // The other creator's delay, part of the scenario (not a wait for a server).
    std::thread::sleep(Duration::from_secs(2));
    member.create();
    let run = running.finish(LIMIT);
    assert_code(&run, ExitCode::SUCCESS);
    assert_status(&run, &member.name, "succeeded");
    expect::synced_and_healthy(&member).unwrap_or_else(|seen| panic!("{seen}\n{}", run.show()));
}
