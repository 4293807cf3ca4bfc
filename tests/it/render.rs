//! `executor dag render`: the example DAG as an Argo Workflow, deterministic,
//! with `depends` that follow the DAG (reversed for teardown).

use std::collections::{BTreeMap, BTreeSet};

use executor::exit::ExitCode;
use serde_json::Value;

use crate::common::cli::{example_dir, executor};
use crate::common::task_argument;

/// Runs `executor dag render <args>` on the shipped example; returns (code, stdout, stderr).
fn render(args: &[&str]) -> (ExitCode, String, String) {
    let config = example_dir();
    let mut all = vec!["dag", "render", "--config-dir", config.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = executor(&all, &[]);
    (out.code, out.stdout, out.stderr)
}

/// Each task's name and the tasks it depends on.
fn tasks(yaml: &str) -> BTreeMap<String, BTreeSet<String>> {
    let doc: Value = serde_yaml::from_str(yaml).expect("valid YAML");
    let dag = &doc["spec"]["templates"][0]["dag"]["tasks"];
    dag.as_array()
        .expect("tasks")
        .iter()
        .map(|t| {
            let depends = t["depends"].as_str().unwrap_or("");
            let deps = depends
                .split(" && ")
                .filter(|d| !d.is_empty())
                .map(|d| {
                    d.strip_suffix(".Succeeded")
                        .expect("depends on success")
                        .to_owned()
                })
                .collect();
            (t["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

/// The same input renders byte-identical output, and every `depends` names a task.
#[test]
fn render_is_deterministic_and_closed() {
    let (code, first, stderr) = render(&[]);
    assert_eq!(code, ExitCode::SUCCESS, "{stderr}");
    let (_, second, _) = render(&[]);
    assert_eq!(first, second);
    let tasks = tasks(&first);
    assert_eq!(tasks.len(), 47, "40 apps and 7 stacks with an app-of-apps");
    for (task, deps) in &tasks {
        for d in deps {
            assert!(tasks.contains_key(d), "{task} depends on unknown task {d}");
        }
    }
}

/// Deploy tasks wait for their dependencies; resources pass their ordering through.
#[test]
fn deploy_follows_the_dag() {
    let (_, yaml, _) = render(&["--action", "deploy"]);
    let tasks = tasks(&yaml);
    for (dependent, dependency) in [
        ("rook-ceph-operator", "metallb"),
        ("ceph-storage-classes", "rook-ceph-cluster"),
        ("grafana", "prometheus"),
        ("metallb", "infrastructure"),
        // cluster-issuers → cert-manager-crds (a resource) → cert-manager.
        ("cluster-issuers", "cert-manager"),
    ] {
        assert!(
            tasks[dependent].contains(dependency),
            "{dependent} waits for {dependency}: {:?}",
            tasks[dependent]
        );
    }
    assert!(tasks["infrastructure"].is_empty());
    assert!(yaml.contains("template: sync-and-wait"));
    // rook-ceph-cluster sets its own timeouts in dag.yaml (10m / 30m); the task carries them.
    let doc: Value = serde_yaml::from_str(&yaml).unwrap();
    let task = doc["spec"]["templates"][0]["dag"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "rook-ceph-cluster")
        .unwrap()
        .clone();
    let param = |name: &str| {
        task["arguments"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()["value"]
            .clone()
    };
    assert_eq!(param("sync-timeout"), "10m");
    assert_eq!(param("health-timeout"), "30m");
}

/// Teardown renders the reverse graph: a dependency waits for its dependents.
/// Every stack of the example has an app-of-apps and app members, so each is
/// one task, `scope=stack:<name>`, in which the executor deletes the
/// app-of-apps first, without cascade, then its members: separate tasks
/// would delete the members first, and an auto-synced app-of-apps would
/// re-create them. Such a task leaves each node its own timeouts.
#[test]
fn teardown_is_the_reverse_graph_one_task_per_stack() {
    let (code, yaml, _) = render(&["--action", "teardown", "--kind", "workflow-template"]);
    assert_eq!(code, ExitCode::SUCCESS);
    let tasks = tasks(&yaml);
    assert_eq!(tasks.len(), 7, "{tasks:?}");
    assert!(tasks["storage"].contains("data"), "{tasks:?}");
    assert!(tasks["infrastructure"].contains("storage"), "{tasks:?}");
    assert!(tasks["developer-platform"].is_empty(), "{tasks:?}");
    let doc: Value = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(doc["kind"], "WorkflowTemplate");
    assert_eq!(doc["metadata"]["name"], "platform-teardown");
    assert!(yaml.contains("template: teardown"));
    for task in doc["spec"]["templates"][0]["dag"]["tasks"]
        .as_array()
        .unwrap()
    {
        let value = |name: &str| task_argument(task, name);
        assert_eq!(
            value("scope"),
            Some(format!("stack:{}", task["name"].as_str().unwrap()).as_str()),
            "{task}"
        );
        assert!(
            value("sync-timeout").is_none() && value("health-timeout").is_none(),
            "{task}"
        );
    }
}

/// A bad flag is Invalid, reported with the DAG's own problems, and prints no workflow.
#[test]
fn bad_render_flags_are_invalid() {
    let (code, stdout, stderr) = render(&["--action", "upgrade", "--kind", "cronworkflow"]);
    assert_eq!(code, ExitCode::INVALID);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("--action") && stderr.contains("--kind"),
        "{stderr}"
    );
}

/// The rendered exit handler's last step, `platform-result`.
fn result_step(yaml: &str) -> Value {
    let doc: Value = serde_yaml::from_str(yaml).expect("valid YAML");
    let handler = doc["spec"]["templates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == doc["spec"]["onExit"])
        .expect("the onExit template exists")
        .clone();
    let steps = handler["steps"].as_array().unwrap();
    let last = steps.last().unwrap()[0].clone();
    assert_eq!(last["templateRef"]["template"], "platform-result");
    last
}

/// Runs `executor dag result` with the rendered task list; returns the outcome and report.json.
fn decide(tasks: &str, failures: &str, validation: &str) -> (ExitCode, Value, String) {
    let out_dir = tempfile::tempdir().unwrap();
    let out = executor(
        &[
            "dag",
            "result",
            "--action",
            "deploy",
            "--tasks",
            tasks,
            "--failures",
            failures,
            "--validation",
            validation,
            "--started-at",
            "2026-12-02T10:00:00Z",
            "--output-dir",
            out_dir.path().to_str().unwrap(),
        ],
        &[
            ("ENVIRONMENT", "dev"),
            ("WORKFLOW_NAME", "platform-deploy-x"),
        ],
    );
    let text = std::fs::read_to_string(out_dir.path().join("report.json")).unwrap();
    crate::common::keep_report_sample(&text);
    let status = std::fs::read_to_string(out_dir.path().join("status")).unwrap();
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["exitCode"], out.code.code(), "{}", out.stderr);
    assert_eq!(format!("{}\n", report["status"].as_str().unwrap()), status);
    (out.code, report, out.stdout)
}

/// The exit handler lists every task with the DAG's `depends`, and `executor
/// dag result` decides from it and `{{workflow.failures}}` (as Argo quotes
/// it): one failed task makes the platform Partial and its dependents
/// skipped; all succeeded is Success only when the final validation says so.
#[test]
fn the_exit_handler_decides_the_platform_result() {
    let (code, yaml, stderr) = render(&[]);
    assert_eq!(code, ExitCode::SUCCESS, "{stderr}");
    let step = result_step(&yaml);
    assert_eq!(
        task_argument(&step, "failures"),
        Some("{{workflow.failures}}")
    );
    assert_eq!(
        task_argument(&step, "validation"),
        Some("{{steps.validate-platform.outputs.parameters.status}}")
    );
    let listed = task_argument(&step, "tasks").unwrap().to_owned();
    let parsed: Vec<Value> = serde_json::from_str(&listed).unwrap();
    let from_list: BTreeMap<String, BTreeSet<String>> = parsed
        .iter()
        .map(|t| {
            let deps = t["depends"].as_array().unwrap();
            let deps = deps.iter().map(|d| d.as_str().unwrap().to_owned());
            (t["name"].as_str().unwrap().to_owned(), deps.collect())
        })
        .collect();
    assert_eq!(from_list, tasks(&yaml));

    let failed = r#"[{"displayName":"cert-manager(0)","message":"main: Error (exit code 1)","templateName":"sync-and-wait","phase":"Failed","podName":"platform-deploy-x-cert-manager-1"},{"displayName":"cert-manager","message":"retryStrategy.expression evaluated to false","phase":"Failed"}]"#;
    let quoted = serde_json::to_string(failed).unwrap();
    let (code, report, stdout) = decide(&listed, &quoted, "partial\n");
    assert_eq!(code, ExitCode::PARTIAL, "{stdout}");
    let status = |name: &str| {
        let c = report["components"].as_array().unwrap().iter();
        let mut c = c.filter(|c| c["name"] == name);
        c.next().unwrap()["status"].as_str().unwrap().to_owned()
    };
    assert_eq!(status("cert-manager"), "failed");
    assert_eq!(status("cluster-issuers"), "skipped");
    assert_eq!(status("infrastructure"), "succeeded");
    assert_eq!(report["scope"], "platform");
    assert_eq!(report["environment"], "dev");
    assert_eq!(report["failures"][0]["reason"], "StepFailed");
    assert!(report["runId"]
        .as_str()
        .unwrap()
        .starts_with("platform-deploy-x-"));

    let (code, report, _) = decide(&listed, "\"null\"", "succeeded\n");
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(report["summary"]["succeeded"], 47);
    let (code, report, _) = decide(&listed, "\"null\"", "unknown");
    assert_eq!(code, ExitCode::PARTIAL);
    let advice = report["recommendations"].to_string();
    assert!(advice.contains("reported unknown"), "{advice}");
    let (code, report, _) = decide(&listed, "{{workflow.failures}}", "succeeded");
    assert_eq!(code, ExitCode::INVALID);
    assert_eq!(report["failures"][0]["reason"], "Invalid");
}
