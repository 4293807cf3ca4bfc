//! Platform and stack scope: every node of the (selected) DAG, run by the
//! scheduler in dependency order for deploy and validate, in reverse for
//! teardown. Every node gets a result; the exit code is derived from all of them.

use std::sync::Mutex;

use super::context::{Deadlines, RunContext, Tracker};
use super::scope::Stop;
use super::{aggregate, deploy, teardown, validate};
use crate::dag::schedule::{self, Graph, Options, Slot};
use crate::dag::{Dag, NodeId, NodeKind};
use crate::outcome::{ComponentResult, ComponentStatus as S, FailureReason as R};
use crate::progress::ProgressView;
use crate::vocabulary::Action;

/// The scheduler's graph of a DAG: scheduler index `i` is `NodeId(i)`.
/// teardown walks the edges in reverse, but for a stack's app-of-apps with
/// members in the run: it goes first (deleted without cascade, see
/// [`teardown::Children::Keep`]), and whatever its stack depends on waits
/// for its members as well.
pub fn graph(dag: &Dag, action: Action) -> Graph {
    let deps = dag.dependency_indices();
    if action != Action::Teardown {
        return Graph::new(deps);
    }
    let mut down: Vec<Vec<usize>> = vec![Vec::new(); deps.len()];
    for (i, on) in deps.iter().enumerate() {
        for &d in on {
            if dag.node(NodeId(i)).stack == Some(NodeId(d)) && dag.deletes_parent_first(NodeId(d)) {
                // A member after its app-of-apps.
                down[i].push(d);
                continue;
            }
            down[d].push(i);
            if dag.deletes_parent_first(NodeId(i)) {
                down[d].extend(dag.members(NodeId(i)).iter().map(|m| m.0));
            }
        }
    }
    for teardown_after in &mut down {
        teardown_after.sort_unstable();
        teardown_after.dedup();
    }
    Graph::new(down)
}

/// Whether a node's result lets its dependents (or, in teardown, its dependencies) go on.
fn lets_others_go_on(action: Action, dry_run: bool, result: &ComponentResult) -> bool {
    match action {
        // validate reports every component; an unhealthy one blocks nothing.
        Action::Validate => true,
        // A dry run's "would change" (pending) lets the plan go on. An
        // orphaned app was deleted (what it left is reported): what it
        // depended on may go, and an app-of-apps deleted without cascade
        // leaves its members to be deleted next.
        _ => {
            result.status.is_ok()
                || (dry_run && result.status == S::Pending)
                || result.is_unchecked()
                || (action == Action::Teardown && result.status == S::Orphaned)
        }
    }
}

/// Runs the action on one Argo CD Application. `from_parent`: the app is a
/// member of a stack whose app-of-apps this run synced first, so it may not
/// exist until that sync has been applied.
pub async fn run_app(
    ctx: &RunContext,
    app: &str,
    deadlines: Deadlines,
    from_parent: bool,
) -> ComponentResult {
    match ctx.config.action {
        Action::Deploy => deploy::deploy_app(ctx, app, deadlines, from_parent).await,
        Action::Validate => validate::validate_app(ctx, app).await,
        Action::Teardown => {
            teardown::teardown_app(ctx, app, deadlines, teardown::Children::Cascade).await
        }
    }
}

/// Runs one node: its Application (an app, or a stack's app-of-apps), or what
/// stands in for a grouping stack or a resource.
/// One node, in a span of its own (a child of the action's), with its
/// outcome as attributes.
async fn run_node(ctx: &RunContext, dag: &Dag, id: NodeId) -> ComponentResult {
    let node = dag.node(id);
    let span = tracing::info_span!(
        "node",
        otel.name = %format!("node {}", node.name),
        otel.status_code = tracing::field::Empty,
        component = %node.name,
        kind = node.kind_name(),
        status = tracing::field::Empty,
        reason = tracing::field::Empty,
    );
    let result = tracing::Instrument::instrument(node_result(ctx, dag, id), span.clone()).await;
    span.record("status", crate::outcome::word(result.status).as_str());
    if let Some(reason) = result.failure {
        span.record("reason", crate::outcome::word(reason).as_str());
    }
    if !result.status.is_ok() {
        span.record("otel.status_code", "ERROR");
    }
    result
}

async fn node_result(ctx: &RunContext, dag: &Dag, id: NodeId) -> ComponentResult {
    let node = dag.node(id);
    let deadlines = ctx.deadlines(Some(node));
    let action = ctx.config.action;
    let track = Tracker::app(&node.name);
    let mut result = match (node.application(), &node.kind) {
        (Some(app), NodeKind::App) => {
            let from_parent = node
                .stack
                .is_some_and(|s| matches!(dag.node(s).kind, NodeKind::Stack { app: Some(_) }));
            run_app(ctx, app, deadlines, from_parent).await
        }
        (Some(app), NodeKind::Stack { .. }) if dag.deletes_parent_first(id) && action == Action::Teardown => {
            teardown::teardown_app(ctx, app, deadlines, teardown::Children::Keep).await
        }
        (Some(app), _) => run_app(ctx, app, deadlines, false).await,
        (None, NodeKind::Resource(_)) if action == Action::Teardown => track.finish(
            S::Absent,
            None,
            "resource nodes only order the teardown; Argo CD removes the resource with its Application",
        ),
        (None, NodeKind::Resource(spec)) => super::resource::run(ctx, &node.name, spec, deadlines).await,
        // Ready at once, so that its members may start; the report derives
        // its status from theirs (aggregate::stacks).
        (None, _) => track.finish(
            ok_status(action),
            None,
            "grouping stack without an Application of its own",
        ),
    };
    result.name = node.name.clone();
    result.kind = node.kind_name();
    result
}

fn ok_status(action: Action) -> S {
    match action {
        Action::Deploy => S::Succeeded,
        Action::Validate => S::Healthy,
        Action::Teardown => S::Removed,
    }
}

/// Runs every node of `dag`, recording results in `slots` as they happen.
pub async fn run(
    ctx: &RunContext,
    dag: &Dag,
    slots: &Mutex<Vec<Slot<ComponentResult>>>,
    progress: Option<&ProgressView>,
) {
    let action = ctx.config.action;
    let dry_run = ctx.config.dry_run;
    let weight = dag
        .nodes()
        .iter()
        .map(|n| n.deadline().as_secs_f64())
        .collect();
    let options = Options {
        parallelism: ctx.config.parallelism,
        mode: ctx.config.schedule,
        weight,
    };
    schedule::run(
        &graph(dag, action),
        &options,
        slots,
        |i| run_node(ctx, dag, NodeId(i)),
        |result| lets_others_go_on(action, dry_run, result),
        |event| {
            if let Some(view) = progress {
                view.event(event);
            }
        },
    )
    .await;
}

/// Every node's component result, from the slots: finished nodes as they
/// ended, skipped ones naming the dependency, the rest pending or cancelled.
/// Stacks carry the aggregate of their members (see [`aggregate::stacks`]).
pub fn components(
    dag: &Dag,
    slots: Vec<Slot<ComponentResult>>,
    action: Action,
    stop: Option<&Stop>,
) -> Vec<ComponentResult> {
    let name = |i: usize| dag.node(NodeId(i)).name.clone();
    let mut results: Vec<ComponentResult> = slots
        .into_iter()
        .enumerate()
        .map(|(i, slot)| {
            let track = Tracker::app(&name(i));
            let mut result = match slot {
                Slot::Done(result) => result,
                Slot::Skipped { failed_dependency } => {
                    let verb = if action == Action::Teardown {
                        "removed"
                    } else {
                        "ready"
                    };
                    let message = format!(
                        "not attempted: '{}' did not become {verb}",
                        name(failed_dependency)
                    );
                    track.fail(S::Skipped, R::DependencyFailed, None, message)
                }
                Slot::Running => match stop {
                    Some(Stop::Deadline(d)) => track.timeout(
                        &[d],
                        R::Timeout,
                        None,
                        format!("{} while it was in progress", d.passed()),
                    ),
                    _ => track.fail(
                        S::Cancelled,
                        R::Cancelled,
                        None,
                        "cancelled while in progress",
                    ),
                },
                Slot::NotStarted => match stop {
                    Some(Stop::Signal(_)) => track.fail(
                        S::Pending,
                        R::Cancelled,
                        None,
                        "not started: the run was cancelled",
                    ),
                    Some(Stop::Deadline(d)) => {
                        // Pending, not timed out itself: what it names is the run's deadline.
                        let mut result = track.timeout(
                            &[d],
                            R::Timeout,
                            None,
                            format!("not started: {}", d.passed()),
                        );
                        result.status = S::Pending;
                        result
                    }
                    None => track.fail(S::Pending, R::ApiError, None, "not started"),
                },
            };
            let node = dag.node(NodeId(i));
            result.kind = node.kind_name();
            result.application = node.application().map(str::to_owned);
            result
        })
        .collect();
    aggregate::stacks(dag, action, &mut results);
    if action == Action::Teardown {
        // Resource nodes only ordered the teardown; they are not components of it.
        results.retain(|r| r.kind != "resource");
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teardown_deletes_an_app_of_apps_before_its_members_and_after_its_dependents() {
        let dag = crate::dag::tests::support::dag(crate::dag::tests::support::TWO_STACKS);
        let order = graph(&dag, Action::Teardown).topological_order();
        let at = |name: &str| {
            let id = dag.find(name).unwrap().0;
            order.iter().position(|&i| i == id).unwrap()
        };
        // (first, then): `then` is deleted only after `first` is gone.
        let before = [
            ("infra", "metallb"),
            ("infra", "ingress"),
            ("ingress", "metallb"),
            ("web", "ceph"),
            ("web", "metallb"),
            ("ceph", "storage"),
            ("storage", "infra"),
            ("storage", "metallb"),
            ("web", "infra"),
        ];
        for (first, then) in before {
            assert!(at(first) < at(then), "{first} before {then}: {order:?}");
        }
        // A stack of resource nodes only has no child Applications to delete
        // after it: its app-of-apps keeps the reverse order, after them.
        let only_resources = "
stacks:
  - name: crds
    app: platform-crds
    resources:
      - {name: crd, apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, resourceName: x.y.z}
";
        let crds = crate::dag::tests::support::dag(only_resources);
        assert!(!crds.deletes_parent_first(crds.find("crds").unwrap()));
        assert!(dag.deletes_parent_first(dag.find("infra").unwrap()));
        // deploy keeps the DAG's own order: the app-of-apps before its members.
        let deploy = graph(&dag, Action::Deploy).topological_order();
        let id = |name: &str| dag.find(name).unwrap().0;
        let pos = |name: &str| deploy.iter().position(|&i| i == id(name)).unwrap();
        assert!(pos("infra") < pos("metallb") && pos("metallb") < pos("ingress"));
    }
}
