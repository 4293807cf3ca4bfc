//! `workflow-templates/` on the real workflow-controller (Argo Workflows
//! 3.7.9, namespaced to `argo`, which enforces the restricted Pod Security
//! standard) and the real kube-apiserver's admission. No kubelet runs: the
//! pods are created and admitted, never started, so the scenarios check what
//! the controller asked for (the pod specs, the mutexes) and, where it would
//! need a registry, that it never asked.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fixture::{self, Stack};

/// Long enough for the 30 s backoff before a retry.
const LIMIT: Duration = Duration::from_secs(60);

/// rbac.yaml and executor.yaml as they ship, applied (kubectl apply: a rerun
/// on the same stack finds them in place).
pub(crate) fn templates_applied(stack: &Stack) {
    crate::rbac::applied(stack);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/workflow-templates/executor.yaml"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    stack.apply(&text).unwrap_or_else(|e| panic!("{e}"));
}

/// `executor dag render --kind workflow` of `dag` with its `environment`
/// set, as `argo submit -p environment=...` would.
fn rendered(dag: &str, name: &str, environment: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dag.yaml"), dag).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_executor"))
        .args([
            "dag", "render", "--action", "deploy", "--kind", "workflow", "--name", name,
        ])
        .arg("--config-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut doc: Value = serde_yaml::from_slice(&out.stdout).unwrap();
    doc["spec"]["arguments"]["parameters"][0]["value"] = Value::from(environment);
    serde_json::to_string(&doc).unwrap()
}

/// The templates applied and `dag` rendered and submitted as `name` for a
/// new environment: (the environment, the workflow's name).
fn platform(stack: &Stack, dag: &str, name: &str) -> (String, String) {
    templates_applied(stack);
    let environment = stack.unique("wf");
    let workflow = submit(stack, &rendered(dag, name, &environment));
    (environment, workflow)
}

/// Deletes the workflows a test made (their pods go with them).
fn delete(stack: &Stack, workflows: &[&String]) {
    let ns = stack.var("WORKFLOWS_NAMESPACE");
    for workflow in workflows {
        let _ = stack.kubectl(&["delete", "workflow", "-n", ns, workflow, "--wait=false"]);
    }
}

/// `kubectl create` in the workflows' namespace; the created object's name.
fn submit(stack: &Stack, json: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("workflow.json");
    std::fs::write(&file, json).unwrap();
    let ns = stack.var("WORKFLOWS_NAMESPACE");
    let out = stack
        .kubectl(&[
            "create",
            "-n",
            ns,
            "-f",
            file.to_str().unwrap(),
            "-o",
            "name",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
    out.trim().rsplit('/').next().unwrap().to_owned()
}

fn pods_of(stack: &Stack, workflow: &str) -> Vec<Value> {
    let ns = stack.var("WORKFLOWS_NAMESPACE");
    let selector = format!("workflows.argoproj.io/workflow={workflow}");
    let out = stack
        .kubectl(&["get", "pods", "-n", ns, "-l", &selector, "-o", "json"])
        .unwrap_or_else(|e| panic!("{e}"));
    let list: Value = serde_json::from_str(&out).unwrap();
    list["items"].as_array().cloned().unwrap_or_default()
}

/// Polls `probe` until it gives something, or fails with `what` after LIMIT.
pub(crate) fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(start.elapsed() < LIMIT, "after {LIMIT:?}: {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// What the restricted standard asks of every container.
fn assert_restricted(pod: &str, container: &Value) {
    let name = &container["name"];
    let context = &container["securityContext"];
    assert_eq!(
        context["allowPrivilegeEscalation"], false,
        "{pod} {name}: {context}"
    );
    assert_eq!(
        context["capabilities"]["drop"],
        serde_json::json!(["ALL"]),
        "{pod} {name}"
    );
    assert_eq!(context["runAsNonRoot"], true, "{pod} {name}");
}

/// The controller's log so far, in bytes: where [`registry_lookups`] starts.
fn log_length(stack: &Stack) -> usize {
    std::fs::read(stack.var("WORKFLOW_CONTROLLER_LOG"))
        .unwrap()
        .len()
}

/// The controller's log lines since `from` that show it reaching for an
/// image's registry.
fn registry_lookups(stack: &Stack, from: usize) -> Vec<String> {
    let log = std::fs::read(stack.var("WORKFLOW_CONTROLLER_LOG")).unwrap();
    String::from_utf8_lossy(&log[from..])
        .lines()
        .filter(|l| {
            let l = l.to_lowercase();
            l.contains("look-up entrypoint")
                || l.contains("image index")
                || l.contains("ghcr.io/v2")
        })
        .map(str::to_owned)
        .collect()
}

/// The rendered platform's first wave: one pod per task without
/// dependencies, admitted under restricted, with the command, arguments,
/// environment, mounts, service account and security contexts the templates
/// give; the tasks that wait are not started; no registry is asked.
#[test]
fn the_rendered_platform_is_admitted_under_the_restricted_standard() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let dag = "stacks:\n  - name: base\n    apps:\n      - name: first\n      - name: second\n        dependsOn: [first]\n      - name: third\n        timeouts: {sync: 1m, health: 20m}\n";
    let log_from = log_length(stack);
    let (environment, workflow) = platform(stack, dag, "platform");

    let pods = eventually("the first wave's two pods exist", || {
        let pods = pods_of(stack, &workflow);
        (pods.len() >= 2).then_some(pods)
    });
    assert_eq!(
        pods.len(),
        2,
        "only first and third start: second waits for first"
    );
    for pod in &pods {
        let name = pod["metadata"]["name"].as_str().unwrap();
        let spec = &pod["spec"];
        assert_eq!(spec["serviceAccountName"], "executor-deploy", "{name}");
        assert_eq!(spec["terminationGracePeriodSeconds"], 30, "{name}");
        assert_eq!(
            spec["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        assert_eq!(spec["securityContext"]["runAsUser"], 65532);
        let containers = spec["containers"].as_array().unwrap();
        let inits = spec["initContainers"].as_array().unwrap();
        let names: Vec<&str> = inits
            .iter()
            .chain(containers)
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["init", "wait", "main"], "{name}");
        for container in inits.iter().chain(containers) {
            assert_restricted(name, container);
        }
        let main = containers.iter().find(|c| c["name"] == "main").unwrap();
        assert_eq!(main["image"], "ghcr.io/platform/executor:0.1.0");
        // The emissary runs the template's command under its own argoexec.
        let (command, args) = (words(main, "command"), words(main, "args"));
        assert_eq!(
            command.last().map(String::as_str),
            Some("/executor"),
            "{name}: {command:?}"
        );
        assert_eq!(args, ["deploy"], "{name}");
        let env = |key: &str| {
            main["env"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["name"] == key)
                .map(|e| e["value"].as_str().unwrap_or("").to_owned())
        };
        assert_eq!(env("ENVIRONMENT").as_deref(), Some(environment.as_str()));
        assert_eq!(env("WORKFLOW_NAME").as_deref(), Some(workflow.as_str()));
        // The workflow's UID without its dashes: one trace for all its steps.
        let uid = stack
            .get("workflow", stack.var("WORKFLOWS_NAMESPACE"), &workflow)
            .unwrap()["metadata"]["uid"]
            .as_str()
            .unwrap()
            .replace('-', "");
        assert_eq!(env("TRACE_ID"), Some(uid), "{name}");
        assert_eq!(env("EXECUTOR_OUTPUT_DIR").as_deref(), Some("/tmp/executor"));
        let scope = env("TARGET_SCOPE").unwrap();
        let (sync, health) = (env("SYNC_TIMEOUT").unwrap(), env("HEALTH_TIMEOUT").unwrap());
        // The pod's deadline is the task's timeouts plus a minute.
        let deadline = &spec["activeDeadlineSeconds"];
        match scope.as_str() {
            "app:first" => assert_eq!(
                (sync.as_str(), health.as_str(), deadline),
                ("5m", "5m", &Value::from(660))
            ),
            "app:third" => assert_eq!(
                (sync.as_str(), health.as_str(), deadline),
                ("1m", "20m", &Value::from(1320))
            ),
            other => panic!("{name}: a pod for {other} in the first wave"),
        }
        let volumes = spec["volumes"].as_array().unwrap();
        let volume = |v: &str| {
            volumes
                .iter()
                .find(|x| x["name"] == v)
                .cloned()
                .unwrap_or_default()
        };
        assert_eq!(
            volume("config")["configMap"]["name"],
            "executor-environment"
        );
        assert_eq!(
            volume("secrets")["secret"]["secretName"],
            "executor-argocd-deploy"
        );
    }
    let lookups = registry_lookups(stack, log_from);
    assert!(
        lookups.is_empty(),
        "the controller reached for a registry:\n{}",
        lookups.join("\n")
    );
    delete(stack, &[&workflow]);
}

/// One attempt's pod, as the controller made it.
struct Attempt {
    pod: String,
    /// The node's id: the name of its WorkflowTaskResult.
    node: String,
    workflow: String,
}

/// Plays the kubelet and the wait container for `attempt`: its `main`
/// container exited with `code` having written `status`, the `wait`
/// container reported the outputs (a WorkflowTaskResult, as argoexec's
/// createTaskResult makes it) and exited 0. The controller marks a node that
/// declares outputs done only once its task result is complete.
fn terminate(stack: &Stack, attempt: &Attempt, code: i32, status: &str) {
    let ns = stack.var("WORKFLOWS_NAMESPACE");
    let uid = stack
        .get("workflow", ns, &attempt.workflow)
        .expect("the workflow")["metadata"]["uid"]
        .clone();
    // The wait container reports its template's outputs with their values
    // (argoexec ReportOutputs: `we.Template.Outputs.DeepCopy()`, globalName
    // included): the template the pod's `init` container is given in ARGO_TEMPLATE.
    let pod = stack.get("pod", ns, &attempt.pod).expect("the pod");
    let inits = pod["spec"]["initContainers"].as_array().unwrap();
    let init = inits.iter().find(|c| c["name"] == "init").unwrap();
    let template = init["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "ARGO_TEMPLATE")
        .and_then(|e| e["value"].as_str())
        .expect("the init container's ARGO_TEMPLATE");
    let template: Value = serde_json::from_str(template).unwrap();
    let mut outputs = template["outputs"].clone();
    for param in outputs["parameters"].as_array_mut().unwrap() {
        let value = match param["name"].as_str().unwrap() {
            "status" => status.to_owned(),
            "exit-code" => code.to_string(),
            other => panic!("an output {other} this helper does not know"),
        };
        param["value"] = Value::from(value);
    }
    let result = serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTaskResult",
        "metadata": {
            "name": attempt.node,
            "namespace": ns,
            "labels": {
                "workflows.argoproj.io/workflow": attempt.workflow,
                "workflows.argoproj.io/report-outputs-completed": "true",
            },
            "ownerReferences": [{
                "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                "name": attempt.workflow, "uid": uid,
            }],
        },
        "outputs": outputs,
    });
    stack
        .apply(&result.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let container = |name: &str, code: i32, reason: &str| {
        serde_json::json!({
            "name": name, "image": "", "imageID": "", "ready": false, "restartCount": 0,
            "state": { "terminated": {
                "exitCode": code, "reason": reason, "startedAt": now, "finishedAt": now,
            }},
        })
    };
    let phase = if code == 0 { "Succeeded" } else { "Failed" };
    let reason = if code == 0 { "Completed" } else { "Error" };
    let status = serde_json::json!({ "status": {
        "phase": phase,
        "containerStatuses": [container("main", code, reason), container("wait", 0, "Completed")],
    }});
    stack
        .kubectl(&[
            "patch",
            "pod",
            "-n",
            ns,
            &attempt.pod,
            "--subresource=status",
            "--type=merge",
            "-p",
            &status.to_string(),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The workflow's nodes by display name: (phase, message).
fn nodes(stack: &Stack, workflow: &str) -> std::collections::BTreeMap<String, (String, String)> {
    let wf = stack
        .get("workflow", stack.var("WORKFLOWS_NAMESPACE"), workflow)
        .expect("the workflow exists");
    wf["status"]["nodes"]
        .as_object()
        .map(|nodes| {
            nodes
                .values()
                .map(|n| {
                    let text = |k: &str| n[k].as_str().unwrap_or("").to_owned();
                    (text("displayName"), (text("phase"), text("message")))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A task's attempt (`<task>(<n>)`), once its pod exists.
fn attempt(stack: &Stack, workflow: &str, name: &str) -> Attempt {
    eventually(&format!("a pod for {name}"), || {
        let wf = stack.get("workflow", stack.var("WORKFLOWS_NAMESPACE"), workflow)?;
        let node = wf["status"]["nodes"]
            .as_object()?
            .values()
            .find(|n| n["displayName"] == name)?
            .clone();
        // The pod's annotation names its node.
        pods_of(stack, workflow)
            .iter()
            .find(|p| {
                p["metadata"]["annotations"]["workflows.argoproj.io/node-name"] == node["name"]
            })
            .map(|p| Attempt {
                pod: p["metadata"]["name"].as_str().unwrap().to_owned(),
                node: node["id"].as_str().unwrap().to_owned(),
                workflow: workflow.to_owned(),
            })
    })
}

/// How the real controller moves the rendered DAG on the executor's exit
/// codes: Timeout (4) is retried, with backoff; Partial (2) and Failure (1)
/// are not, and the tasks that depend on them are not started (Omitted once
/// the DAG ends). Pods end by their status, as the kubelet would report them.
#[test]
fn the_controller_retries_timeouts_only() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let dag = "stacks:\n  - name: base\n    apps:\n      - name: slow\n        timeouts: {sync: 10s, health: 10s}\n      - name: partial\n      - name: failed\n      - name: after\n        dependsOn: [partial, failed]\n";
    let (_, workflow) = platform(stack, dag, "codes");

    let slow = attempt(stack, &workflow, "slow(0)");
    let partial = attempt(stack, &workflow, "partial(0)");
    let failed = attempt(stack, &workflow, "failed(0)");
    terminate(stack, &slow, 4, "timeout");
    terminate(stack, &partial, 2, "partial");
    terminate(stack, &failed, 1, "failed");

    let settled = eventually("the three tasks have reacted", || {
        let nodes = nodes(stack, &workflow);
        let phase = |n: &str| nodes.get(n).map(|(p, _)| p.as_str()).unwrap_or("");
        (phase("partial") == "Failed"
            && phase("failed") == "Failed"
            && phase("slow(0)") == "Failed")
            .then_some(nodes)
    });
    for task in ["partial", "failed"] {
        assert_eq!(
            settled[task].1, "retryStrategy.expression evaluated to false",
            "{task} is not retried: {settled:?}"
        );
        assert!(!settled.contains_key(&format!("{task}(1)")), "{settled:?}");
    }
    // slow's second attempt, after the 30 s backoff.
    let retried = eventually("slow is retried", || {
        let nodes = nodes(stack, &workflow);
        nodes.contains_key("slow(1)").then_some(nodes)
    });
    assert_eq!(retried["slow"].0, "Running", "{retried:?}");
    assert_eq!(
        retried.get("after").map(|(p, _)| p.as_str()),
        Some("Omitted"),
        "after depends on tasks that failed: {retried:?}"
    );
    delete(stack, &[&workflow]);
}

/// The words of a container's `key` (`command`, `args`).
fn words(container: &Value, key: &str) -> Vec<String> {
    container[key]
        .as_array()
        .map(|a| a.iter().map(|w| w.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// Plays the kubelet for a pod whose main container needs nothing but its
/// arguments and environment (`platform-result`): runs the template's
/// command here, with the output directory moved to a temporary one; its
/// exit code and `status`.
fn run_main(pod: &Value) -> (i32, String) {
    let containers = pod["spec"]["containers"].as_array().unwrap();
    let main = containers.iter().find(|c| c["name"] == "main").unwrap();
    let command = words(main, "command");
    // The emissary runs the template's command after its own `--`.
    let split = command
        .iter()
        .position(|w| w == "--")
        .expect("the emissary's --");
    assert_eq!(command[split + 1..], ["/executor"], "{command:?}");
    let out = tempfile::tempdir().unwrap();
    let mut run = std::process::Command::new(env!("CARGO_BIN_EXE_executor"));
    run.args(words(main, "args")).env_clear();
    for var in main["env"].as_array().unwrap() {
        if let Some(value) = var["value"].as_str() {
            run.env(var["name"].as_str().unwrap(), value);
        }
    }
    let output = run.env("EXECUTOR_OUTPUT_DIR", out.path()).output().unwrap();
    let code = output.status.code().expect("exited");
    let status = std::fs::read_to_string(out.path().join("status")).unwrap_or_else(|e| {
        panic!(
            "status written ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (code, status.trim().to_owned())
}

/// Plays the exit handler of a rendered deploy: the final validate ends
/// with `code` and `status`, then `platform-result` runs here on what the
/// controller gave it; its (exit code, status) and its pod.
fn exit_handler(stack: &Stack, workflow: &str, code: i32, status: &str) -> (i32, String, Value) {
    let validate = attempt(stack, workflow, "validate-platform(0)");
    terminate(stack, &validate, code, status);
    let result = attempt(stack, workflow, "result");
    let ns = stack.var("WORKFLOWS_NAMESPACE");
    let pod = stack.get("pod", ns, &result.pod).expect("the result pod");
    let (code, status) = run_main(&pod);
    terminate(stack, &result, code, &status);
    (code, status, pod)
}

/// The exit handler on the real controller: after one task failed, another
/// succeeded and the one that waits for the failed one was omitted, and
/// the final validate said degraded (Partial, which `continueOn` lets
/// through), `platform-result` gets `{{workflow.failures}}` as the
/// controller substitutes it; run here, it decides Partial; the workflow
/// then records `platform-status: partial` and `platform-exit-code: 2` and
/// ends Failed. The result pod mounts no Argo CD token and no config.
#[test]
fn the_exit_handler_reports_the_platform_partial() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let dag = "stacks:\n  - name: base\n    apps:\n      - name: broken\n      - name: fine\n      - name: after\n        dependsOn: [broken]\n";
    let (_, workflow) = platform(stack, dag, "result");
    let broken = attempt(stack, &workflow, "broken(0)");
    let fine = attempt(stack, &workflow, "fine(0)");
    terminate(stack, &broken, 1, "failed");
    terminate(stack, &fine, 0, "succeeded");
    let (code, status, pod) = exit_handler(stack, &workflow, 2, "partial");
    assert_eq!(code, i32::from(executor::exit::ExitCode::PARTIAL.code()));
    assert_eq!(status, "partial");
    let ns = stack.var("WORKFLOWS_NAMESPACE");
    let volumes: Vec<&str> = pod["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| {
            v["secret"]["secretName"]
                .as_str()
                .or(v["configMap"]["name"].as_str())
        })
        .collect();
    assert!(volumes.is_empty(), "mounts {volumes:?}");
    assert_eq!(pod["spec"]["serviceAccountName"], "executor-validate");
    let containers = pod["spec"]["containers"].as_array().unwrap();
    let main = containers.iter().find(|c| c["name"] == "main").unwrap();
    let args = words(main, "args");
    let arg = |flag: &str| {
        let at = args
            .iter()
            .position(|a| a == flag)
            .unwrap_or_else(|| panic!("{flag} in {args:?}"));
        args[at + 1].clone()
    };
    assert_eq!(arg("--validation"), "partial");
    assert!(arg("--failures").contains("broken(0)"), "{args:?}");
    assert!(!arg("--started-at").contains("{{"), "{args:?}");

    let wf = eventually("the workflow ends", || {
        let wf = stack.get("workflow", ns, &workflow)?;
        wf["status"]["finishedAt"].is_string().then_some(wf)
    });
    assert_eq!(wf["status"]["phase"], "Failed", "{}", wf["status"]);
    let outputs: std::collections::BTreeMap<String, String> = wf["status"]["outputs"]["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("workflow outputs: {}", wf["status"]))
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["value"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        outputs.get("platform-status").map(String::as_str),
        Some("partial"),
        "{outputs:?}"
    );
    assert_eq!(
        outputs.get("platform-exit-code").map(String::as_str),
        Some("2"),
        "{outputs:?}"
    );
    let nodes = nodes(stack, &workflow);
    assert_eq!(nodes["after"].0, "Omitted", "{nodes:?}");
    delete(stack, &[&workflow]);
}

/// Runs the real `argo` CLI against the stack's API server.
fn argo(stack: &Stack, args: &[&str]) {
    let out = std::process::Command::new(stack.var("ARGO_CLI"))
        .env("KUBECONFIG", stack.var("KUBECONFIG"))
        .args(["-n", stack.var("WORKFLOWS_NAMESPACE")])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "argo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `argo stop` and `argo terminate` (the real CLI) of a rendered platform
/// whose first task's pod exists: under stop the controller still runs the
/// exit handler, whose result is `cancelled`, exit 1 (the stopped task and
/// the one waiting for it achieved nothing), recorded as the workflow's
/// `platform-status`; under terminate no exit handler runs, so the workflow
/// records no platform result.
#[test]
fn argo_stop_runs_the_exit_handler_and_terminate_does_not() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let dag = "stacks:\n  - name: base\n    apps:\n      - name: first\n      - name: second\n        dependsOn: [first]\n";
    let (_, stopped) = platform(stack, dag, "stopped");
    let (_, terminated) = platform(stack, dag, "terminated");
    attempt(stack, &stopped, "first(0)");
    attempt(stack, &terminated, "first(0)");
    argo(stack, &["stop", &stopped]);
    argo(stack, &["terminate", &terminated]);

    let (code, status, pod) = exit_handler(stack, &stopped, 0, "succeeded");
    let containers = pod["spec"]["containers"].as_array().unwrap();
    let main = containers.iter().find(|c| c["name"] == "main").unwrap();
    assert_eq!(
        (code, status.as_str()),
        (1, "cancelled"),
        "{:?}",
        words(main, "args")
    );
    let ns = stack.var("WORKFLOWS_NAMESPACE");
    let ended = |workflow: &str| {
        eventually(&format!("{workflow} ends"), || {
            let wf = stack.get("workflow", ns, workflow)?;
            wf["status"]["finishedAt"].is_string().then_some(wf)
        })
    };
    let output = |wf: &Value, name: &str| {
        wf["status"]["outputs"]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name))
            .map(|p| p["value"].clone())
    };
    let wf = ended(&stopped);
    assert_eq!(wf["status"]["phase"], "Failed");
    assert_eq!(
        output(&wf, "platform-status"),
        Some(Value::from("cancelled"))
    );

    let wf = ended(&terminated);
    assert_eq!(wf["status"]["phase"], "Failed");
    let nodes = nodes(stack, &terminated);
    assert!(
        !nodes.contains_key("validate-platform(0)") && !nodes.contains_key("result"),
        "no exit handler under terminate: {nodes:?}"
    );
    assert_eq!(output(&wf, "platform-status"), None);
    delete(stack, &[&stopped, &terminated]);
}

/// A Workflow that runs one template of the `platform-executor`
/// ClusterWorkflowTemplate on its own, as a pipeline step would.
fn standalone(template: &str, environment: &str, scope: &str) -> String {
    serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": { "generateName": format!("{template}-") },
        "spec": {
            "workflowTemplateRef": { "name": "platform-executor", "clusterScope": true },
            "entrypoint": template,
            "arguments": { "parameters": [
                { "name": "environment", "value": environment },
                { "name": "scope", "value": scope },
            ]},
        },
    })
    .to_string()
}

/// Whether the controller holds `workflow` back for a lock: no pod, and its
/// status says it waits for `executor-<environment>`.
fn waits_for_lock(stack: &Stack, workflow: &str, environment: &str) -> bool {
    let Some(wf) = stack.get("workflow", stack.var("WORKFLOWS_NAMESPACE"), workflow) else {
        return false;
    };
    let waiting = wf["status"]["synchronization"]["mutex"]["waiting"].to_string();
    pods_of(stack, workflow).is_empty() && waiting.contains(&format!("executor-{environment}"))
}

/// One run at a time changes an environment, whatever its scope and
/// whichever namespace the lock is asked from: a second platform workflow and
/// a standalone sync-and-wait of the same environment wait for the first
/// platform workflow's lock, which its tasks do not wait for; another
/// environment is not held back; and the lock passes on when the first ends.
#[test]
fn one_run_at_a_time_changes_an_environment() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let dag = "stacks:\n  - name: base\n    apps:\n      - name: only\n";
    let (environment, first) = platform(stack, dag, "first");
    let first_task = attempt(stack, &first, "only(0)");
    let second = submit(stack, &rendered(dag, "second", &environment));
    let single = submit(
        stack,
        &standalone("sync-and-wait", &environment, "app:only"),
    );
    let (_, elsewhere) = platform(stack, dag, "elsewhere");
    attempt(stack, &elsewhere, "only(0)");
    eventually("the second platform and the single app wait", || {
        (waits_for_lock(stack, &second, &environment)
            && waits_for_lock(stack, &single, &environment))
        .then_some(())
    });
    // The first ends: its task and exit handler pods end as the kubelet says.
    terminate(stack, &first_task, 0, "succeeded");
    let (code, status, _) = exit_handler(stack, &first, 0, "succeeded");
    assert_eq!((code, status.as_str()), (0, "succeeded"));
    eventually("the lock passes on to one waiting run", || {
        let started = [&second, &single]
            .iter()
            .filter(|w| !pods_of(stack, w).is_empty())
            .count();
        (started == 1).then_some(())
    });
    delete(stack, &[&first, &second, &single, &elsewhere]);
}
