//! Kargo's verification on the real Argo Rollouts controller (1.10.1): an
//! AnalysisRun made from the shipped ClusterAnalysisTemplate, as Kargo makes
//! one for a Stage's verification (the template's metrics, the Stage's args),
//! becomes a Job running `executor validate`; the run's phase follows the
//! Job's. No job controller or kubelet runs: the test marks the Job Complete
//! or Failed through its status, as the job controller would once the
//! executor's pod exited 0 or not.

use serde_json::{json, Value};

use crate::fixture::{self, Stack};
use crate::workflows::eventually;

const TEMPLATE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/workflow-templates/components/kargo/analysis-template.yaml"
);

/// An AnalysisRun of the ClusterAnalysisTemplate with the Stage's args.
fn analysis_run(name: &str, namespace: &str, app: &str, environment: &str) -> String {
    let text = std::fs::read_to_string(TEMPLATE).unwrap();
    let template: Value = serde_yaml::from_str(&text).unwrap();
    let args: Vec<Value> = template["spec"]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|arg| match arg["name"].as_str().unwrap() {
            "app" => json!({ "name": "app", "value": app }),
            "environment" => json!({ "name": "environment", "value": environment }),
            _ => arg.clone(),
        })
        .collect();
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "metadata": { "name": name, "namespace": namespace },
        "spec": { "args": args, "metrics": template["spec"]["metrics"] },
    })
    .to_string()
}

/// The Job the controller made for `run`.
fn job_of(stack: &Stack, namespace: &str, run: &str) -> Value {
    eventually(&format!("a Job for {run}"), || {
        let uid = stack.get("analysisrun", namespace, run)?["metadata"]["uid"].clone();
        let selector = format!("analysisrun.argoproj.io/uid={}", uid.as_str()?);
        let out = stack
            .kubectl(&[
                "get", "jobs", "-n", namespace, "-l", &selector, "-o", "json",
            ])
            .ok()?;
        let list: Value = serde_json::from_str(&out).ok()?;
        list["items"].as_array()?.first().cloned()
    })
}

/// Marks `job` ended as the job controller would: Complete (the executor
/// exited 0) or Failed (any other exit code; the template's backoffLimit is 0).
fn end_job(stack: &Stack, namespace: &str, job: &str, succeeded: bool) {
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let condition = |kind: &str| json!({ "type": kind, "status": "True", "lastProbeTime": now, "lastTransitionTime": now });
    let status = if succeeded {
        json!({ "startTime": now, "completionTime": now, "succeeded": 1, "terminating": 0,
                "conditions": [condition("SuccessCriteriaMet"), condition("Complete")] })
    } else {
        json!({ "startTime": now, "failed": 1, "terminating": 0,
                "conditions": [condition("FailureTarget"), condition("Failed")] })
    };
    let patch = json!({ "status": status }).to_string();
    stack
        .kubectl(&[
            "patch",
            "job",
            "-n",
            namespace,
            job,
            "--subresource=status",
            "--type=merge",
            "-p",
            &patch,
        ])
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The verification Job runs `executor validate` for the Stage's app with its
/// own read-only accounts (Kubernetes and Argo CD), under the pod security the
/// workflow steps have; Successful exactly when the Job completes.
#[test]
fn an_analysis_run_follows_the_executor_job() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    crate::rbac::applied(stack);
    stack
        .apply(&std::fs::read_to_string(TEMPLATE).unwrap())
        .unwrap_or_else(|e| panic!("{e}"));
    let ns = stack.var("WORKFLOWS_NAMESPACE");
    for (succeeded, phase) in [(true, "Successful"), (false, "Failed")] {
        let run = stack.unique("verify");
        stack
            .apply(&analysis_run(&run, ns, "temporal", "dev"))
            .unwrap_or_else(|e| panic!("{e}"));
        let job = job_of(stack, ns, &run);
        let name = job["metadata"]["name"].as_str().unwrap().to_owned();
        let pod = &job["spec"]["template"]["spec"];
        assert_eq!(pod["serviceAccountName"], "executor-validate", "{name}");
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        let main = &pod["containers"][0];
        assert_eq!(main["image"], "ghcr.io/platform/executor:0.1.0");
        assert_eq!(
            main["args"],
            json!(["validate", "--scope", "app:temporal", "--wait", "5m"])
        );
        assert_eq!(main["securityContext"]["allowPrivilegeEscalation"], false);
        assert_eq!(
            main["securityContext"]["capabilities"]["drop"],
            json!(["ALL"])
        );
        let env = main["env"].as_array().unwrap();
        assert!(env
            .iter()
            .any(|e| e["name"] == "ENVIRONMENT" && e["value"] == "dev"));
        let volumes = pod["volumes"].as_array().unwrap();
        let secret = volumes.iter().find(|v| v["name"] == "secrets").unwrap();
        assert_eq!(secret["secret"]["secretName"], "executor-argocd-validate");

        end_job(stack, ns, &name, succeeded);
        eventually(&format!("{run} is {phase}"), || {
            let status = stack.get("analysisrun", ns, &run)?["status"]["phase"].clone();
            (status == phase).then_some(())
        });
        let _ = stack.kubectl(&["delete", "analysisrun", "-n", ns, &run, "--wait=false"]);
    }
}
