//! Platform and stack scope: the DAG run by the scheduler against the simulator.

use std::time::Duration;

use executor::exit::ExitCode;
use executor::sim::{AppScenario, InitialState, Scenario, SimOutcome};

use crate::common::{assert_code, TestContext, ENVIRONMENT, TOKEN};

/// base: metallb → ceph-operator → ceph-cluster → vault; monitoring (with its
/// own app-of-apps): prometheus → grafana; apps (after all of base): keycloak.
const DAG: &str = "\
stacks:
  - name: base
    apps:
      - name: metallb
      - name: ceph-operator
        dependsOn: [metallb]
      - name: ceph-cluster
        dependsOn: [ceph-operator]
      - name: vault
        dependsOn: [ceph-cluster]
  - name: monitoring
    app: monitoring-stack
    apps:
      - name: prometheus
      - name: grafana
        dependsOn: [prometheus]
  - name: apps
    dependsOn: [base]
    apps:
      - name: keycloak
";

const APPS: [&str; 8] = [
    "metallb",
    "ceph-operator",
    "ceph-cluster",
    "vault",
    "monitoring-stack",
    "prometheus",
    "grafana",
    "keycloak",
];

/// [`DAG`] with `ceph-cluster`'s sync failing: its dependents are skipped,
/// the independent branch succeeds, the run is Partial.
pub(crate) async fn partial_platform() -> TestContext {
    platform(|app| {
        if app.name == "ceph-cluster" {
            app.outcome = SimOutcome::OperationFailed;
        }
    })
    .await
}

/// The simulator with every app of [`DAG`], adjusted by `change`.
pub(crate) async fn platform(change: impl Fn(&mut AppScenario)) -> TestContext {
    let mut scenario = Scenario::with_apps(TOKEN, &APPS);
    for app in &mut scenario.apps {
        app.sync_duration = Duration::from_millis(150);
        app.health_delay = Duration::from_millis(100);
        change(app);
    }
    let ctx = TestContext::new(scenario).await;
    ctx.write_dag(DAG);
    ctx
}

fn statuses(result: &crate::common::RunResult) -> Vec<(String, String)> {
    result.report["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn status_of(result: &crate::common::RunResult, name: &str) -> String {
    statuses(result)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("{name} reported"))
}

/// The whole platform deploys in dependency order through one shared stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_deploy_succeeds_in_dependency_order() {
    let ctx = platform(|_| {}).await;
    let result = ctx.run("deploy", &["--scope", "platform"]).await;
    assert_code(&result, ExitCode::SUCCESS);
    // 3 stacks (monitoring's app-of-apps is the stack node) and 7 apps.
    assert_eq!(
        result.report["summary"]["total"],
        10,
        "{:?}",
        statuses(&result)
    );
    for app in APPS {
        assert_eq!(ctx.syncs(app), 1, "{app} synced once");
    }
    let sync_at = |app: &str| {
        ctx.requests()
            .iter()
            .find(|r| r.path.ends_with(&format!("/{app}/sync")))
            .unwrap()
            .at
    };
    for (dependency, dependent) in [
        ("metallb", "ceph-operator"),
        ("ceph-cluster", "vault"),
        ("vault", "keycloak"),
        ("prometheus", "grafana"),
        ("monitoring-stack", "prometheus"),
    ] {
        let ready = ctx.sim.healthy_at(dependency).unwrap();
        assert!(
            sync_at(dependent) >= ready,
            "{dependent} synced only after {dependency} was Healthy"
        );
    }
    assert_eq!(
        ctx.count("GET", "/stream/applications"),
        1,
        "one stream for the whole run"
    );
}

/// A failure mid-DAG skips exactly its transitive dependents, names the failed
/// node, and lets the independent branch finish: Partial.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_skips_exactly_its_dependents_and_the_rest_goes_on() {
    let ctx = partial_platform().await;
    let result = ctx.run("deploy", &["--scope", "platform"]).await;
    assert_code(&result, ExitCode::PARTIAL);
    assert_eq!(result.status, "partial\n");
    assert_eq!(status_of(&result, "ceph-cluster"), "failed");
    let skipped: Vec<String> = statuses(&result)
        .into_iter()
        .filter(|(_, s)| s == "skipped")
        .map(|(n, _)| n)
        .collect();
    let mut sorted = skipped.clone();
    sorted.sort();
    assert_eq!(sorted, ["apps", "keycloak", "vault"]);
    for c in result.report["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "skipped")
    {
        assert!(
            c["message"].as_str().unwrap().contains("'ceph-cluster'"),
            "{c}"
        );
    }
    for ok in [
        "metallb",
        "ceph-operator",
        "monitoring",
        "prometheus",
        "grafana",
    ] {
        assert_eq!(status_of(&result, ok), "succeeded", "{ok}");
    }
    assert_eq!(
        ctx.syncs("vault") + ctx.syncs("keycloak"),
        0,
        "skipped nodes are not attempted"
    );
    assert_eq!(result.report["summary"]["skipped"], 3);
    let metrics = std::fs::read_to_string(ctx.output_dir.join("metrics.prom")).unwrap();
    assert!(
        metrics.contains(r#"executor_errors_total{action="deploy",environment="test",scope="platform",type="DependencyFailed"} 3"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"executor_errors_total{action="deploy",environment="test",scope="platform",type="OperationFailed"} 1"#),
        "{metrics}"
    );
}

/// A rerun after a partial failure re-syncs only what was not ready; a third
/// run syncs nothing at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_resumes_where_the_last_one_failed() {
    let ctx = partial_platform().await;
    assert_code(
        &ctx.run("deploy", &["--scope", "platform"]).await,
        ExitCode::PARTIAL,
    );
    ctx.sim.set_outcome("ceph-cluster", SimOutcome::Healthy);
    let second = ctx.run("deploy", &["--scope", "platform"]).await;
    assert_code(&second, ExitCode::SUCCESS);
    let expected = [
        ("metallb", 1),
        ("ceph-operator", 1),
        ("ceph-cluster", 2),
        ("vault", 1),
        ("monitoring-stack", 1),
        ("prometheus", 1),
        ("grafana", 1),
        ("keycloak", 1),
    ];
    for (app, syncs) in expected {
        assert_eq!(ctx.syncs(app), syncs, "{app}: syncs across both runs");
    }
    assert_eq!(status_of(&second, "metallb"), "unchanged");
    assert_eq!(status_of(&second, "vault"), "succeeded");
    let third = ctx.run("deploy", &["--scope", "platform"]).await;
    assert_code(&third, ExitCode::SUCCESS);
    assert_eq!(ctx.count("POST", "/sync"), 9, "the third run sends no sync");
    // 8 Applications, and the grouping stacks base and apps, derived from them.
    assert_eq!(third.report["summary"]["unchanged"], 10);
}

/// A grouping stack (no app-of-apps) has no status of its own: when its only
/// app fails, the stack is failed too, and the run is a Failure, not Partial.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grouping_stack_whose_only_app_fails_is_a_failure() {
    let mut scenario = Scenario::with_apps(TOKEN, &["cert-manager"]);
    scenario.apps[0].outcome = SimOutcome::OperationFailed;
    let ctx = TestContext::new(scenario).await;
    ctx.write_dag("stacks:\n  - name: infrastructure\n    apps:\n      - name: cert-manager\n");
    let result = ctx.run("deploy", &["--scope", "platform"]).await;
    assert_code(&result, ExitCode::FAILURE);
    assert_eq!(status_of(&result, "cert-manager"), "failed");
    assert_eq!(status_of(&result, "infrastructure"), "failed");
    assert_eq!(result.status, "failed\n");
}

/// A stack scope deploys that stack's app-of-apps and members only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stack_scope_deploys_only_that_stack() {
    let ctx = platform(|_| {}).await;
    let result = ctx.run("deploy", &["--scope", "stack:monitoring"]).await;
    assert_code(&result, ExitCode::SUCCESS);
    let mut names: Vec<String> = statuses(&result).into_iter().map(|(n, _)| n).collect();
    names.sort();
    assert_eq!(names, ["grafana", "monitoring", "prometheus"]);
    assert_eq!(ctx.count("POST", "/sync"), 3);
    assert!(ctx.syncs("monitoring-stack") == 1 && ctx.syncs("metallb") == 0);
}

/// Teardown runs in reverse: every dependent is gone before its dependency's
/// delete; but a stack's app-of-apps goes first, without cascade, so that
/// its automated sync cannot re-create the members deleted after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_runs_in_reverse_dependency_order() {
    let ctx = platform(|app| {
        app.initial = InitialState::Healthy;
        app.deletion_delay = Duration::from_millis(100);
    })
    .await;
    let result = ctx
        .run(
            "teardown",
            &["--scope", "platform", "--confirm", ENVIRONMENT],
        )
        .await;
    assert_code(&result, ExitCode::SUCCESS);
    assert_eq!(
        ctx.sim.deletion_order().len(),
        APPS.len(),
        "every app removed"
    );
    let delete_at = |app: &str| {
        ctx.requests()
            .iter()
            .find(|r| r.method == "DELETE" && r.path.ends_with(&format!("/applications/{app}")))
            .unwrap_or_else(|| panic!("{app} deleted"))
            .at
    };
    let edges = [
        ("metallb", "ceph-operator"),
        ("ceph-operator", "ceph-cluster"),
        ("ceph-cluster", "vault"),
        ("vault", "keycloak"),
        ("metallb", "keycloak"),
        ("prometheus", "grafana"),
    ];
    for (dependency, dependent) in edges {
        let gone = ctx.sim.deleted_at(dependent).unwrap();
        assert!(
            gone <= delete_at(dependency),
            "{dependent} was gone before {dependency} was deleted"
        );
    }
    for member in ["prometheus", "grafana"] {
        let parent_gone = ctx.sim.deleted_at("monitoring-stack").unwrap();
        assert!(
            parent_gone <= delete_at(member),
            "the app-of-apps was gone before its member {member} was deleted"
        );
    }
    let parent_delete = ctx
        .requests()
        .into_iter()
        .find(|r| r.method == "DELETE" && r.path.ends_with("/applications/monitoring-stack"))
        .unwrap();
    assert_eq!(parent_delete.query, "cascade=false", "{parent_delete:?}");
    assert!(
        statuses(&result).iter().all(|(_, s)| s == "removed"),
        "{:?}",
        statuses(&result)
    );
}

/// `--schedule waves` holds a node until its whole wave has finished; the
/// default starts it as soon as its own dependencies are ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waves_mode_waits_for_the_whole_wave() {
    for (mode, waits) in [("eager", false), ("waves", true)] {
        let ctx = platform(|app| {
            if app.name == "monitoring-stack" {
                app.health_delay = Duration::from_millis(1500);
            }
        })
        .await;
        let result = ctx
            .run("deploy", &["--scope", "platform", "--schedule", mode])
            .await;
        assert_code(&result, ExitCode::SUCCESS);
        // ceph-operator (wave 2, after metallb) against monitoring-stack (wave 0, slow).
        let synced = ctx
            .requests()
            .iter()
            .find(|r| r.path.ends_with("/ceph-operator/sync"))
            .unwrap()
            .at;
        let slow_ready = ctx.sim.healthy_at("monitoring-stack").unwrap();
        assert_eq!(
            synced >= slow_ready,
            waits,
            "{mode}: ceph-operator waited for the slow wave-0 node: {waits}"
        );
    }
}

/// A cycle in dag.yaml stops a deploy before any request, naming the nodes in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycle_is_invalid_before_any_request() {
    let ctx = platform(|_| {}).await;
    ctx.write_dag(&DAG.replace(
        "      - name: metallb\n",
        "      - name: metallb\n        dependsOn: [vault]\n",
    ));
    let result = ctx.run("deploy", &["--scope", "platform"]).await;
    assert_code(&result, ExitCode::INVALID);
    assert!(ctx.requests().is_empty());
    let message = result.report["failures"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("ceph-cluster → vault → metallb"),
        "{message}"
    );
}

/// A dry run of the platform sends no mutating request and plans everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_dry_run_changes_nothing() {
    let ctx = platform(|_| {}).await;
    let result = ctx
        .run("deploy", &["--scope", "platform", "--dry-run", "true"])
        .await;
    assert_code(&result, ExitCode::SUCCESS);
    assert!(ctx.requests().iter().all(|r| r.method == "GET"));
    assert_eq!(
        status_of(&result, "keycloak"),
        "pending",
        "would sync, not skipped"
    );
}

/// Validate aggregates stack health from its members and reports every component.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_validate_aggregates_stacks() {
    let ctx = platform(|app| {
        app.initial = if app.name == "grafana" {
            InitialState::OutOfSync
        } else {
            InitialState::Healthy
        };
    })
    .await;
    let result = ctx.run("validate", &["--scope", "platform"]).await;
    assert_code(&result, ExitCode::PARTIAL);
    assert_eq!(status_of(&result, "grafana"), "degraded");
    assert_eq!(
        status_of(&result, "monitoring"),
        "degraded",
        "a stack is degraded when a member is"
    );
    assert_eq!(status_of(&result, "base"), "healthy");
    assert!(ctx.requests().iter().all(|r| r.method == "GET"));
}

/// The shared stream drops twice mid-run: the hub reconnects, re-lists, and
/// the platform still deploys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_stream_survives_drops() {
    let mut scenario = Scenario::with_apps(TOKEN, &APPS);
    for app in &mut scenario.apps {
        app.sync_duration = Duration::from_millis(150);
        app.health_delay = Duration::from_millis(100);
    }
    scenario.faults.drop_stream_after = Some(5);
    scenario.faults.drop_stream_times = 2;
    let ctx = TestContext::new(scenario).await;
    ctx.write_dag(DAG);
    let result = ctx.run("deploy", &["--scope", "platform"]).await;
    assert_code(&result, ExitCode::SUCCESS);
    assert_eq!(
        ctx.count("GET", "/stream/applications"),
        3,
        "two reconnects"
    );
    assert!(
        result.report["metrics"]["watchReconnects"]
            .as_u64()
            .unwrap()
            >= 2
    );
    assert!(
        ctx.count("GET", "/api/v1/applications") >= 3,
        "a listing after each (re)connect"
    );
}

/// A stack's app-of-apps creates its member Applications when it syncs: the
/// members do not exist when the run starts, and the run waits for them
/// instead of reporting them missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_created_by_their_app_of_apps_are_deployed() {
    let ctx = platform(|app| {
        if app.name == "monitoring-stack" {
            app.children = vec!["prometheus".into(), "grafana".into()];
        }
        if app.name == "prometheus" || app.name == "grafana" {
            app.initial = InitialState::Absent;
        }
    })
    .await;
    assert!(ctx.sim.app("prometheus").is_none(), "not created yet");
    let result = ctx.run("deploy", &["--scope", "stack:monitoring"]).await;
    assert_code(&result, ExitCode::SUCCESS);
    assert_eq!(status_of(&result, "prometheus"), "succeeded");
    assert_eq!(status_of(&result, "grafana"), "succeeded");
}

/// dag.yaml's `namespace:` on an app and on a stack (its app-of-apps only)
/// goes with those apps' requests; the others, and the one shared stream of
/// every app, send none, and the shared stream still delivers every app.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dag_namespaces_go_with_their_apps_requests_only() {
    let ctx = platform(|_| {}).await;
    ctx.write_dag(
        &DAG.replace(
            "      - name: metallb\n",
            "      - name: metallb\n        namespace: argocd\n",
        )
        .replace(
            "    app: monitoring-stack\n",
            "    app: monitoring-stack\n    namespace: argocd\n",
        ),
    );
    let result = ctx.run("deploy", &["--scope", "platform"]).await;
    assert_code(&result, ExitCode::SUCCESS);
    for r in ctx.requests() {
        let app = r.path.split('/').nth(4).unwrap_or_default();
        let namespaced = ["metallb", "monitoring-stack"].contains(&app);
        let in_query = r.query.contains("appNamespace=argocd");
        let in_body = r
            .body
            .as_ref()
            .is_some_and(|b| b["appNamespace"] == "argocd");
        assert_eq!(in_query || in_body, namespaced, "{r:?}");
    }
    assert_eq!(ctx.count("GET", "/stream/applications"), 1);
}
