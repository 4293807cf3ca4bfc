//! `executor dag render`: the DAG as an Argo Workflows Workflow (or
//! WorkflowTemplate). Each stack with an app-of-apps and each app becomes a
//! DAG task that calls the `platform-executor` ClusterWorkflowTemplate by
//! `templateRef`; its `depends` lists the tasks it waits for. Teardown renders
//! the reverse graph. The output is deterministic: keys are sorted and tasks
//! come in the DAG's own order.

use serde_json::{json, Value};

use super::graph::{Dag, NodeId, NodeKind};
use crate::vocabulary::duration::format as duration;
use crate::vocabulary::Action;

/// The ClusterWorkflowTemplate every task calls.
pub const EXECUTOR_TEMPLATE: &str = "platform-executor";

/// What `render` produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderKind {
    /// A Workflow to submit (`metadata.generateName`).
    Workflow,
    /// A WorkflowTemplate to store and submit from (`metadata.name`).
    WorkflowTemplate,
}

/// The nodes that run as tasks: apps, and stacks that sync an app-of-apps.
/// Grouping stacks and resource nodes only pass ordering through.
fn is_task(dag: &Dag, id: NodeId) -> bool {
    dag.node(id).application().is_some()
}

/// The tasks `id` must wait for: its direct neighbours in the walking
/// direction, looking through nodes that are not tasks.
fn task_dependencies(dag: &Dag, id: NodeId, action: Action) -> Vec<String> {
    let step = |n: NodeId| -> &[NodeId] {
        if action == Action::Teardown {
            dag.dependents(n)
        } else {
            dag.dependencies(n)
        }
    };
    let mut found = std::collections::BTreeSet::new();
    let mut stack: Vec<NodeId> = step(id).to_vec();
    let mut seen = std::collections::HashSet::new();
    while let Some(n) = stack.pop() {
        if !seen.insert(n) {
            continue;
        }
        if is_task(dag, n) {
            found.insert(dag.node(n).name.clone());
        } else {
            stack.extend_from_slice(step(n));
        }
    }
    found.into_iter().collect()
}

fn parameter(name: &str, value: impl Into<Value>) -> Value {
    json!({ "name": name, "value": value.into() })
}

/// One task per node that runs.
fn task(dag: &Dag, id: NodeId, action: Action) -> Value {
    let node = dag.node(id);
    let app = node
        .application()
        .expect("only nodes with an Application are tasks");
    let template = match action {
        Action::Teardown => "teardown",
        _ => "sync-and-wait",
    };
    let mut parameters = vec![
        parameter("environment", "{{workflow.parameters.environment}}"),
        parameter("scope", format!("app:{app}")),
        parameter("dry-run", "{{workflow.parameters.dry-run}}"),
        parameter("log-level", "{{workflow.parameters.log-level}}"),
        parameter("sync-timeout", duration(node.sync_timeout)),
        parameter("health-timeout", duration(node.health_timeout)),
    ];
    if action == Action::Teardown {
        parameters.push(parameter("confirm", "{{workflow.parameters.confirm}}"));
        parameters.push(parameter("pv-policy", "{{workflow.parameters.pv-policy}}"));
    }
    // The node's timeouts as rendered, overrides included, so the task runs
    // with them whatever the mounted dag.yaml says.
    let mut task = json!({
        "name": node.name,
        "templateRef": { "name": EXECUTOR_TEMPLATE, "template": template, "clusterScope": true },
        "arguments": { "parameters": parameters },
    });
    let waits = task_dependencies(dag, id, action);
    if !waits.is_empty() {
        let depends: Vec<String> = waits.iter().map(|t| format!("{t}.Succeeded")).collect();
        task["depends"] = Value::String(depends.join(" && "));
    }
    task
}

/// Renders the DAG for `action` (deploy or teardown) as YAML.
pub fn render(dag: &Dag, action: Action, kind: RenderKind, name: &str) -> String {
    let mut order: Vec<NodeId> = dag.ids().filter(|&id| is_task(dag, id)).collect();
    if action == Action::Teardown {
        order.reverse();
    }
    let tasks: Vec<Value> = order.iter().map(|&id| task(dag, id, action)).collect();
    let mut parameters = vec![
        json!({ "name": "environment" }),
        parameter("dry-run", "false"),
        parameter("log-level", "info"),
    ];
    if action == Action::Teardown {
        parameters.push(json!({ "name": "confirm" }));
        parameters.push(parameter("pv-policy", "retain"));
    }
    // The exit handler records the platform's final health; it never changes
    // the workflow's own result.
    let exit_handler = json!({
        "name": "record-final-health",
        "steps": [[{
            "name": "validate-platform",
            "templateRef": { "name": EXECUTOR_TEMPLATE, "template": "validate", "clusterScope": true },
            "arguments": { "parameters": [
                parameter("environment", "{{workflow.parameters.environment}}"),
                parameter("scope", "platform"),
                parameter("log-level", "{{workflow.parameters.log-level}}"),
            ]},
            "continueOn": { "failed": true },
        }]],
    });
    let metadata = match kind {
        RenderKind::Workflow => json!({ "generateName": format!("{name}-") }),
        RenderKind::WorkflowTemplate => json!({ "name": name }),
    };
    let document = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": match kind { RenderKind::Workflow => "Workflow", RenderKind::WorkflowTemplate => "WorkflowTemplate" },
        "metadata": {
            "labels": { "app.kubernetes.io/managed-by": "executor" },
            "annotations": { "executor/source": dag.source().display().to_string() },
        },
        "spec": {
            "entrypoint": "platform",
            "onExit": "record-final-health",
            "arguments": { "parameters": parameters },
            "templates": [
                { "name": "platform", "dag": { "tasks": tasks } },
                exit_handler,
            ],
        },
    });
    let mut document = document;
    if let (Some(meta), Value::Object(extra)) = (document["metadata"].as_object_mut(), metadata) {
        meta.extend(extra);
    }
    let grouping = dag
        .ids()
        .filter(|&id| {
            matches!(
                dag.node(id).kind,
                NodeKind::Stack { app: None } | NodeKind::Resource(_)
            )
        })
        .count();
    format!(
        "# Rendered by `executor dag render --action {}` from {}: do not edit.\n\
         # {} tasks; {} grouping stacks and resource nodes only pass their ordering through.\n{}",
        action,
        dag.source().display(),
        tasks.len(),
        grouping,
        serde_yaml::to_string(&document).expect("a rendered workflow always serializes")
    )
}
