//! The shipped Argo Workflows templates, read from workflow-templates/: the
//! retry expression retries timeouts only, and the pod's grace period leaves
//! the executor time to write its cancelled report.

use std::path::Path;
use std::time::Duration;

use executor::exit::ExitCode;
use executor::sim::{AppScenario, Scenario};
use serde_json::Value;

use crate::common::{assert_code, task_argument, TestContext, TOKEN};

/// The templates of `workflow-templates/executor.yaml`.
fn executor_templates() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("workflow-templates/executor.yaml");
    let doc: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(doc["kind"], "ClusterWorkflowTemplate");
    doc["spec"]["templates"].as_array().unwrap().clone()
}

/// The templates that run an action (all but `platform-result`, the exit
/// handler's decision, which makes no request and is never retried).
fn action_templates() -> Vec<Value> {
    executor_templates()
        .into_iter()
        .filter(|t| t["name"] != "platform-result")
        .collect()
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
    let templates = action_templates();
    assert_eq!(
        templates.len(),
        4,
        "deploy, sync-and-wait, validate, teardown"
    );
    for template in templates {
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
/// run id (so the `executor-run` marker says which step synced an app), and
/// the workflow's UID as the trace id.
#[test]
fn templates_pass_the_workflow_and_pod_name() {
    for template in action_templates() {
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
            var("TRACE_ID")["value"],
            "{{=sprig.replace('-', '', workflow.uid)}}",
            "{name}"
        );
        // Unset by default: the executor reads an empty value as none.
        for (env, input) in [
            ("PUSHGATEWAY_URL", "pushgateway-url"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "otlp-endpoint"),
        ] {
            assert_eq!(
                var(env)["value"],
                format!("{{{{inputs.parameters.{input}}}}}"),
                "{name}"
            );
            let inputs = template["inputs"]["parameters"].as_array().unwrap();
            let default = inputs.iter().find(|p| p["name"] == input).unwrap();
            assert_eq!(default["value"], "", "{name} {input}");
        }
        assert_eq!(
            var("POD_NAME")["valueFrom"]["fieldRef"]["fieldPath"],
            "metadata.name",
            "{name}"
        );
    }
}

/// `command` is set (with the emissary executor, a template without one makes
/// the controller look the image's entrypoint up in its registry), and it is
/// the image's entrypoint.
#[test]
fn templates_name_the_command() {
    let dockerfile =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("ENTRYPOINT [\"/executor\"]"));
    for template in executor_templates() {
        let name = template["name"].as_str().unwrap();
        assert_eq!(
            template["container"]["command"],
            serde_json::json!(["/executor"]),
            "{name}"
        );
    }
}

/// The restricted Pod Security standard's container rules, which the pod
/// patch must give the controller's `init` and `wait` containers too.
fn meets_restricted(context: &Value) -> bool {
    context["allowPrivilegeEscalation"] == false
        && context["capabilities"]["drop"] == serde_json::json!(["ALL"])
        && context["runAsNonRoot"] == true
        && context["seccompProfile"]["type"] == "RuntimeDefault"
}

#[test]
fn every_container_of_the_pod_meets_the_restricted_standard() {
    for template in executor_templates() {
        let name = template["name"].as_str().unwrap();
        let patch: Value =
            serde_json::from_str(template["podSpecPatch"].as_str().unwrap()).unwrap();
        let injected = |list: &str, container: &str| {
            patch[list]
                .as_array()
                .and_then(|l| l.iter().find(|c| c["name"] == container))
                .map(|c| c["securityContext"].clone())
                .unwrap_or_else(|| panic!("{name}: the patch sets {container}'s securityContext"))
        };
        assert!(
            meets_restricted(&injected("initContainers", "init")),
            "{name}"
        );
        assert!(meets_restricted(&injected("containers", "wait")), "{name}");
        // main: its own context, with the pod's seccomp profile.
        let main = &template["container"]["securityContext"];
        assert_eq!(main["allowPrivilegeEscalation"], false, "{name}");
        assert_eq!(
            main["capabilities"]["drop"],
            serde_json::json!(["ALL"]),
            "{name}"
        );
        assert_eq!(
            template["securityContext"]["seccompProfile"]["type"], "RuntimeDefault",
            "{name}"
        );
    }
}

/// No output artifact by default: on a cluster without an artifact
/// repository its save fails the step. The outputs are parameters.
#[test]
fn outputs_are_parameters_unless_the_report_artifact_is_opted_in() {
    for template in executor_templates() {
        let name = template["name"].as_str().unwrap();
        assert!(template["outputs"]["artifacts"].is_null(), "{name}");
        let outputs: Vec<&str> = template["outputs"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(outputs, ["status", "exit-code"], "{name}");
    }
}

fn argo_duration(text: &str) -> Duration {
    executor::vocabulary::duration::parse(text)
        .unwrap_or_else(|e| panic!("{text:?} is not a duration: {e}"))
}

/// Argo counts `backoff.maxDuration` from the first attempt and retries no
/// more once it has passed: for every rendered task it must cover all
/// attempts at the task's deadlines and the backoffs between them, so that a
/// timed-out task is retried as often as `limit` says.
#[test]
fn every_rendered_task_can_use_all_its_retries() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for template in action_templates() {
        let name = template["name"].as_str().unwrap();
        let retry = &template["retryStrategy"];
        assert_eq!(
            retry["backoff"]["maxDuration"], "{{inputs.parameters.retry-max-duration}}",
            "{name}"
        );
        assert_eq!(
            retry["limit"],
            executor::dag::render::RETRY_LIMIT.to_string()
        );
        assert_eq!(
            argo_duration(retry["backoff"]["duration"].as_str().unwrap()),
            executor::dag::render::RETRY_BACKOFF
        );
        assert_eq!(retry["backoff"]["factor"], "2");
        assert_eq!(
            template["activeDeadlineSeconds"], "{{inputs.parameters.attempt-deadline}}",
            "{name}: each attempt's pod deadline is the task's"
        );
    }
    let limit = executor::dag::render::RETRY_LIMIT;
    let backoffs: Duration = (0..limit)
        .map(|i| executor::dag::render::RETRY_BACKOFF * 2u32.pow(i))
        .sum();
    let mut checked = 0;
    for file in ["platform-deploy.yaml", "platform-teardown.yaml"] {
        let text = std::fs::read_to_string(root.join("workflow-templates").join(file)).unwrap();
        let doc: Value = serde_yaml::from_str(&text).unwrap();
        for task in doc["spec"]["templates"][0]["dag"]["tasks"]
            .as_array()
            .unwrap()
        {
            let param = |n: &str| task_argument(task, n);
            let max = argo_duration(param("retry-max-duration").expect("every task sets it"));
            let pod_deadline: u64 = param("attempt-deadline")
                .expect("every task sets it")
                .parse()
                .unwrap();
            let pod_deadline = Duration::from_secs(pod_deadline);
            if let (Some(sync), Some(health)) = (param("sync-timeout"), param("health-timeout")) {
                let attempt = argo_duration(sync) + argo_duration(health);
                // The pod outlives the executor's own deadlines, and every attempt fits.
                assert!(
                    pod_deadline > attempt && max >= pod_deadline * (limit + 1) + backoffs,
                    "{file} {}: maxDuration {max:?}, pod deadline {pod_deadline:?} for attempts of {attempt:?}",
                    task["name"]
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 40, "checked {checked} tasks");
}
