//! `--simulate` has a Kubernetes side too: preflight asks the simulated API
//! server, resource nodes follow their objects there until ready (after
//! their `simulation:` timeline), and the critical checks read the
//! simulated apps' workloads and health.yaml's objects with the same code
//! as against a real cluster.

use executor::exit::ExitCode;
use executor::sim::Scenario;
use serde_json::Value;

use crate::common::{assert_code, RunResult, TestContext, TOKEN};

/// An app after a CRD resource node, ready 1.5 s into the run, or never
/// when the node's outcome is Degraded.
fn dag(outcome: &str) -> String {
    format!(
        "stacks:
  - name: base
    apps:
      - name: web
        dependsOn: [crd]
    resources:
      - name: crd
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        resourceName: gizmos.example.com
        timeouts: {{sync: 10s, health: 3s}}
        simulation: {{readyAfter: 1500ms, outcome: {outcome}}}
"
    )
}

/// A resource check on a custom resource, and a selector check on pods.
const HEALTH: &str = "checks:
  - name: gizmo-ready
    app: web
    resource:
      apiVersion: example.com/v1
      kind: Gizmo
      namespace: web
      name: main
      field: { path: status.phase, in: [Ready, Serving] }
  - name: web-pods
    app: web
    resource:
      apiVersion: v1
      kind: Pod
      namespace: web
      selector: app.kubernetes.io/name=web
      condition: Ready
";

async fn simulated(outcome: &str) -> TestContext {
    let ctx = TestContext::new(Scenario::with_apps(TOKEN, &[])).await;
    ctx.write_dag(&dag(outcome));
    std::fs::write(ctx.config_dir.join("health.yaml"), HEALTH).unwrap();
    ctx
}

fn component<'a>(run: &'a RunResult, name: &str) -> &'a Value {
    run.report["components"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no component {name}: {}", run.report))
}

/// (name, target, status) of each check of a component.
fn checks(run: &RunResult, name: &str) -> Vec<(String, String, String)> {
    component(run, name)["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let field = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            (field("name"), field("target"), field("status"))
        })
        .collect()
}

/// deploy: every preflight check passes against the simulated cluster (none
/// skipped), the CRD node waits for its simulated Established, and the app
/// passes its built-in and health.yaml checks, read from simulated objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_deploy_runs_preflight_resource_nodes_and_checks() {
    let ctx = simulated("Healthy").await;
    let run = ctx
        .run("deploy", &["--simulate", "--scope", "platform"])
        .await;
    assert_code(&run, ExitCode::SUCCESS);
    let preflight = run.report["preflight"].as_array().unwrap();
    for check in [
        "cluster-api",
        "argocd-namespace",
        "application-crd",
        "permissions",
    ] {
        let found = preflight
            .iter()
            .find(|p| p["check"] == check)
            .unwrap_or_else(|| panic!("no {check}: {preflight:?}"));
        assert_eq!(found["status"], "passed", "{found}");
    }
    let crd = component(&run, "crd");
    assert_eq!(crd["status"], "succeeded", "{crd}");
    assert!(
        crd["message"]
            .as_str()
            .is_some_and(|m| m.contains("Established=True")),
        "{crd}"
    );
    assert!(crd["durationSeconds"].as_f64().unwrap() >= 1.4, "{crd}");
    assert_eq!(component(&run, "web")["status"], "succeeded");
    assert_eq!(
        checks(&run, "web"),
        [
            ("gizmo-ready", "Gizmo web/main", "passed"),
            (
                "web-pods",
                "Pod in web with app.kubernetes.io/name=web",
                "passed"
            ),
            ("workloads", "Deployment web/web", "passed"),
        ]
        .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    );
}

/// A resource node whose simulated outcome is Degraded never becomes ready:
/// it times out on its health deadline, naming what it lacks, and its app
/// is skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_resource_node_that_never_gets_ready_times_out() {
    let ctx = simulated("Degraded").await;
    let run = ctx
        .run("deploy", &["--simulate", "--scope", "platform"])
        .await;
    assert_code(&run, ExitCode::TIMEOUT);
    let crd = component(&run, "crd");
    assert_eq!(crd["status"], "timeout", "{crd}");
    let said = crd["message"].as_str().unwrap();
    assert!(
        said.contains("not ready within") && said.contains("simulated: not ready yet"),
        "{said}"
    );
    assert_eq!(component(&run, "web")["status"], "skipped");
}

/// validate looks at a deployed platform: the node is ready at once and the
/// checks pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_validate_checks_a_deployed_platform() {
    let ctx = simulated("Healthy").await;
    let run = ctx
        .run("validate", &["--simulate", "--scope", "platform"])
        .await;
    assert_code(&run, ExitCode::SUCCESS);
    assert_eq!(component(&run, "crd")["status"], "healthy");
    assert!(checks(&run, "web").iter().all(|(_, _, s)| s == "passed"));
}
