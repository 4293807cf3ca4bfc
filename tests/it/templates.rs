//! The shipped Argo Workflows templates, read from workflow-templates/: the
//! retry expression retries timeouts only, and the pod's grace period leaves
//! the executor time to write its cancelled report.

use std::path::Path;
use std::time::Duration;

use executor::exit::ExitCode;
use executor::sim::{AppScenario, Scenario};
use serde_json::Value;

use crate::common::{assert_code, TestContext, TOKEN};

/// The templates of `workflow-templates/executor.yaml`.
fn executor_templates() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("workflow-templates/executor.yaml");
    let doc: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(doc["kind"], "ClusterWorkflowTemplate");
    doc["spec"]["templates"].as_array().unwrap().clone()
}

/// Evaluates the subset of Argo's expr language the retry expressions use:
/// `asInt(lastRetry.exitCode) <op> <int>` terms joined by `||` or `&&`.
fn evaluate(expression: &str, exit_code: i64) -> bool {
    expression.split("||").any(|any| {
        any.split("&&").all(|term| {
            let term = term.trim().trim_start_matches('(').trim_end_matches(')');
            let rest = term
                .strip_prefix("asInt(lastRetry.exitCode)")
                .unwrap_or_else(|| panic!("unsupported term {term:?}"))
                .trim();
            let (op, number) = ["==", "!=", "<=", ">=", "<", ">"]
                .iter()
                .find_map(|op| rest.strip_prefix(op).map(|n| (*op, n.trim())))
                .unwrap_or_else(|| panic!("unsupported comparison {rest:?}"));
            let n: i64 = number.parse().unwrap();
            match op {
                "==" => exit_code == n,
                "!=" => exit_code != n,
                "<=" => exit_code <= n,
                ">=" => exit_code >= n,
                "<" => exit_code < n,
                _ => exit_code > n,
            }
        })
    })
}

/// Every template retries Timeout (4) and never Invalid (3) or Failure (1).
#[test]
fn retry_expression_retries_only_timeouts() {
    for template in executor_templates() {
        let name = template["name"].as_str().unwrap();
        let retry = &template["retryStrategy"];
        let expression = retry["expression"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has a retry expression"));
        assert!(
            evaluate(expression, i64::from(ExitCode::TIMEOUT.code())),
            "{name}: retries Timeout"
        );
        for never in [
            ExitCode::FAILURE,
            ExitCode::INVALID,
            ExitCode::PARTIAL,
            ExitCode::SUCCESS,
        ] {
            assert!(
                !evaluate(expression, i64::from(never.code())),
                "{name}: does not retry {never}"
            );
        }
        assert!(
            retry["backoff"]["duration"].is_string(),
            "{name}: retries back off"
        );
    }
}

/// Under the template's grace period, SIGTERM leaves a written `status`
/// (cancelled) and `exit-code`, which the step's output parameters read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_writes_status_within_the_templates_grace_period() {
    let patch = executor_templates()[0]["podSpecPatch"]
        .as_str()
        .unwrap()
        .to_owned();
    let patch: Value = serde_json::from_str(&patch).unwrap();
    let grace = Duration::from_secs(patch["terminationGracePeriodSeconds"].as_u64().unwrap());
    let ctx = TestContext::new(Scenario {
        apps: vec![AppScenario {
            sync_duration: Duration::from_secs(60),
            ..AppScenario::named("temporal")
        }],
        ..Scenario::with_apps(TOKEN, &[])
    })
    .await;
    let (result, took) = ctx
        .signal_after("deploy", &["--scope", "app:temporal"], "/sync", "TERM")
        .await;
    assert!(
        took < grace,
        "exited {took:?} after SIGTERM; the grace period is {grace:?}"
    );
    assert_code(&result, ExitCode::FAILURE);
    assert_eq!(result.status, "cancelled\n");
    let code = std::fs::read_to_string(ctx.output_dir.join("exit-code")).unwrap();
    assert_eq!(code, "1\n");
}

/// Every template passes the workflow's and the pod's name, which prefix the
/// run id (so the `executor-run` marker says which step synced an app).
#[test]
fn templates_pass_the_workflow_and_pod_name() {
    for template in executor_templates() {
        let name = template["name"].as_str().unwrap();
        let env = template["container"]["env"].as_array().unwrap();
        let var = |wanted: &str| {
            env.iter()
                .find(|e| e["name"] == wanted)
                .unwrap_or_else(|| panic!("{name} sets {wanted}"))
                .clone()
        };
        assert_eq!(var("WORKFLOW_NAME")["value"], "{{workflow.name}}", "{name}");
        assert_eq!(
            var("POD_NAME")["valueFrom"]["fieldRef"]["fieldPath"],
            "metadata.name",
            "{name}"
        );
    }
}
