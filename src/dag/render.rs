//! `executor dag render`: the DAG as an Argo Workflows Workflow (or
//! WorkflowTemplate). Each stack with an app-of-apps and each app becomes a
//! DAG task that calls the `platform-executor` ClusterWorkflowTemplate by
//! `templateRef`; its `depends` lists the tasks it waits for. Teardown renders
//! the reverse graph, with one task per stack whose app-of-apps goes first
//! ([`task_of`]). The output is deterministic: keys are sorted and tasks come
//! in the DAG's own order.

use std::time::Duration;

use serde_json::{json, Value};

use super::graph::{Dag, NodeId, NodeKind};
use crate::vocabulary::duration::format as duration;
use crate::vocabulary::Action;

/// The ClusterWorkflowTemplate every task calls.
pub const EXECUTOR_TEMPLATE: &str = "platform-executor";

/// The rendered workflow's exit handler: the platform's result.
pub const EXIT_HANDLER: &str = "platform-result";

/// What `render` produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderKind {
    /// A Workflow to submit (`metadata.generateName`).
    Workflow,
    /// A WorkflowTemplate to store and submit from (`metadata.name`).
    WorkflowTemplate,
}

/// The task a node runs in, if any: its own, for an app or a stack with an
/// app-of-apps. In teardown, the members of a stack that deletes its
/// app-of-apps first ([`Dag::deletes_parent_first`]) run in that stack's
/// task, `scope=stack:<name>`, where the executor deletes the app-of-apps
/// without cascade and then the members in reverse order: separate tasks
/// would delete the members first, and an auto-synced app-of-apps would
/// re-create them. Grouping stacks and resource nodes only pass ordering through.
fn task_of(dag: &Dag, id: NodeId, action: Action) -> Option<NodeId> {
    let node = dag.node(id);
    if action == Action::Teardown {
        if let Some(stack) = node.stack.filter(|&s| dag.deletes_parent_first(s)) {
            return Some(stack);
        }
    }
    node.application().is_some().then_some(id)
}

fn is_task(dag: &Dag, id: NodeId, action: Action) -> bool {
    task_of(dag, id, action) == Some(id)
}

/// The tasks `task` must wait for: the tasks of its nodes' direct neighbours
/// in the walking direction, looking through nodes that are not in one.
fn task_dependencies(dag: &Dag, task: NodeId, action: Action) -> Vec<String> {
    let step = |n: NodeId| -> &[NodeId] {
        if action == Action::Teardown {
            dag.dependents(n)
        } else {
            dag.dependencies(n)
        }
    };
    let mut found = std::collections::BTreeSet::new();
    let mut stack: Vec<NodeId> = dag
        .ids()
        .filter(|&n| task_of(dag, n, action) == Some(task))
        .flat_map(|n| step(n).to_vec())
        .collect();
    let mut seen = std::collections::HashSet::new();
    while let Some(n) = stack.pop() {
        if !seen.insert(n) {
            continue;
        }
        match task_of(dag, n, action) {
            Some(t) if t == task => {}
            Some(t) => {
                found.insert(dag.node(t).name.clone());
            }
            None => stack.extend_from_slice(step(n)),
        }
    }
    found.into_iter().collect()
}

/// The retries of `workflow-templates/executor.yaml` (`retryStrategy`):
/// `limit` retries after the first attempt, waiting `duration`, then twice
/// as long, between them (tests/it/templates.rs checks the file says so).
pub const RETRY_LIMIT: u32 = 2;
/// The first backoff, doubled for each further retry (`factor: 2`).
pub const RETRY_BACKOFF: Duration = Duration::from_secs(30);
/// What an attempt takes beyond its nodes' deadlines: the pod's start,
/// preflight, the report.
pub const ATTEMPT_OVERHEAD: Duration = Duration::from_secs(60);

/// A task's `attempt-deadline`, its pods' `activeDeadlineSeconds`: what
/// its nodes' sync and health timeouts allow, plus [`ATTEMPT_OVERHEAD`]. The
/// executor ends on its own deadlines first; this ends a pod that does not.
pub fn attempt_deadline(attempt: Duration) -> Duration {
    attempt + ATTEMPT_OVERHEAD
}

/// The template's `retry-max-duration` for a task whose attempt may take
/// `attempt` (the sum of its nodes' sync and health timeouts). Argo counts
/// `backoff.maxDuration` from the first attempt's start, retries no more once
/// it has passed, and gives a retry's pod the rest as its deadline
/// (argo-workflows v3.7.9, workflow/controller/operator.go,
/// `processNodeRetries`: `firstChildNode.StartedAt.Add(maxDuration)`, then
/// `opts.executionDeadline`), so it must cover every attempt and every
/// backoff: otherwise a task whose health timeout is longer than a fixed
/// bound is never retried, or killed mid-retry.
pub fn retry_max_duration(attempt: Duration) -> Duration {
    let attempts = RETRY_LIMIT + 1;
    let backoffs: Duration = (0..RETRY_LIMIT).map(|i| RETRY_BACKOFF * 2u32.pow(i)).sum();
    attempt_deadline(attempt) * attempts + backoffs
}

fn parameter(name: &str, value: impl Into<Value>) -> Value {
    json!({ "name": name, "value": value.into() })
}

/// The scope a task runs: its stack's, when teardown deletes the stack's
/// app-of-apps first, else its Application's.
fn scope_of(dag: &Dag, id: NodeId, action: Action) -> String {
    let node = dag.node(id);
    if action == Action::Teardown && dag.deletes_parent_first(id) {
        return format!("stack:{}", node.name);
    }
    let app = node
        .application()
        .expect("only nodes with an Application are tasks");
    format!("app:{app}")
}

/// One task per node that runs.
fn task(dag: &Dag, id: NodeId, action: Action) -> Value {
    let node = dag.node(id);
    let template = match action {
        Action::Teardown => "teardown",
        _ => "sync-and-wait",
    };
    let whole_stack = action == Action::Teardown && dag.deletes_parent_first(id);
    let scope = scope_of(dag, id, action);
    let mut parameters = vec![
        parameter("environment", "{{workflow.parameters.environment}}"),
        parameter("scope", scope),
        parameter("dry-run", "{{workflow.parameters.dry-run}}"),
        parameter("log-level", "{{workflow.parameters.log-level}}"),
    ];
    if !whole_stack {
        // A stack's task leaves each node its own timeouts from dag.yaml.
        parameters.push(parameter("sync-timeout", duration(node.sync_timeout)));
        parameters.push(parameter("health-timeout", duration(node.health_timeout)));
    }
    let attempt: Duration = dag
        .ids()
        .filter(|&n| task_of(dag, n, action) == Some(id))
        .map(|n| dag.node(n).sync_timeout + dag.node(n).health_timeout)
        .sum();
    parameters.push(parameter(
        "retry-max-duration",
        duration(retry_max_duration(attempt)),
    ));
    parameters.push(parameter(
        "attempt-deadline",
        attempt_deadline(attempt).as_secs().to_string(),
    ));
    // The workflow holds the environment's mutex for its whole run: each task
    // takes one of its own, so that the DAG's tasks run in parallel.
    parameters.push(parameter(
        "lock",
        format!("-{{{{workflow.name}}}}-{}", node.name),
    ));
    parameters.push(parameter(
        "lock-namespace",
        "{{workflow.parameters.lock-namespace}}",
    ));
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
    let mut order: Vec<NodeId> = dag.ids().filter(|&id| is_task(dag, id, action)).collect();
    if action == Action::Teardown {
        order.reverse();
    }
    let tasks: Vec<Value> = order.iter().map(|&id| task(dag, id, action)).collect();
    let mut parameters = vec![
        json!({ "name": "environment" }),
        parameter("dry-run", "false"),
        parameter("log-level", "info"),
        parameter("lock-namespace", "argo"),
    ];
    if action == Action::Teardown {
        parameters.push(json!({ "name": "confirm" }));
        parameters.push(parameter("pv-policy", "retain"));
    }
    // The exit handler decides the platform's result (`executor dag result`):
    // from the failed steps and, for deploy, the final `validate --scope
    // platform`, whose own failure only feeds that decision. It fails the
    // workflow unless the platform succeeded, and records the result as the
    // workflow's outputs `platform-status` and `platform-exit-code`.
    let listed: Vec<Value> = order
        .iter()
        .map(|&id| {
            json!({
                "name": dag.node(id).name,
                "scope": scope_of(dag, id, action),
                "depends": task_dependencies(dag, id, action),
            })
        })
        .collect();
    let mut result_parameters = vec![
        parameter("action", action.to_string()),
        parameter("environment", "{{workflow.parameters.environment}}"),
        parameter("tasks", Value::Array(listed).to_string()),
        parameter("failures", "{{workflow.failures}}"),
        parameter("dry-run", "{{workflow.parameters.dry-run}}"),
    ];
    let mut steps = Vec::new();
    if action == Action::Deploy {
        steps.push(json!([{
            "name": "validate-platform",
            "templateRef": { "name": EXECUTOR_TEMPLATE, "template": "validate", "clusterScope": true },
            "arguments": { "parameters": [
                parameter("environment", "{{workflow.parameters.environment}}"),
                parameter("scope", "platform"),
                parameter("log-level", "{{workflow.parameters.log-level}}"),
            ]},
            "continueOn": { "failed": true, "error": true },
        }]));
        result_parameters.push(parameter(
            "validation",
            "{{steps.validate-platform.outputs.parameters.status}}",
        ));
    }
    steps.push(json!([{
        "name": "result",
        "templateRef": { "name": EXECUTOR_TEMPLATE, "template": "platform-result", "clusterScope": true },
        "arguments": { "parameters": result_parameters },
    }]));
    let exit_handler = json!({ "name": EXIT_HANDLER, "steps": steps });
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
            "onExit": EXIT_HANDLER,
            // One run at a time changes an environment (see executor.yaml).
            "synchronization": { "mutexes": [{
                "name": "executor-{{workflow.parameters.environment}}",
                "namespace": "{{workflow.parameters.lock-namespace}}",
            }] },
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
    let whole_stacks = dag
        .ids()
        .filter(|&id| action == Action::Teardown && dag.deletes_parent_first(id))
        .count();
    let stacks_note = if whole_stacks == 0 {
        String::new()
    } else {
        format!(
            "\n# {whole_stacks} stacks are one task each: the executor deletes the app-of-apps first, without cascade, then its members."
        )
    };
    format!(
        "# Rendered by `executor dag render --action {}` from {}: do not edit.\n\
         # {} tasks; {} grouping stacks and resource nodes only pass their ordering through.{}\n{}",
        action,
        dag.source().display(),
        tasks.len(),
        grouping,
        stacks_note,
        serde_yaml::to_string(&document).expect("a rendered workflow always serializes")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_max_duration_covers_every_attempt_and_backoff() {
        let min = |m: u64| Duration::from_secs(60 * m);
        // (what an attempt may take, maxDuration): three attempts of it plus
        // a minute each, and backoffs of 30 s and 60 s.
        let cases = [
            (min(0), Duration::from_secs(3 * 60 + 90)),
            (min(15), Duration::from_secs(3 * 16 * 60 + 90)),
            (min(40), Duration::from_secs(3 * 41 * 60 + 90)),
        ];
        for (attempt, expected) in cases {
            assert_eq!(retry_max_duration(attempt), expected, "{attempt:?}");
        }
    }
}
