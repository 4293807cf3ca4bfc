//! After a run that ran to its end: each failure whose Application's health
//! is at fault gets the unhealthy resources of its resource tree (pods and
//! their messages included) as evidence. One GET per such failure, in
//! parallel, within [`BUDGET`]; a tree that cannot be read leaves the
//! snapshot's evidence as it is.

use std::time::Duration;

use futures_util::future::join_all;

use super::RunContext;
use crate::outcome::{ComponentResult, FailureReason};

/// How long reading the trees may add to a run.
const BUDGET: Duration = Duration::from_secs(2);
/// At most this many trees are read.
const MAX_TREES: usize = 10;

/// Whether the resources say why a component failed for `reason`.
fn health_at_fault(reason: FailureReason) -> bool {
    use FailureReason as R;
    matches!(
        reason,
        R::Degraded | R::Missing | R::Unknown | R::Suspended | R::Timeout | R::CheckFailed
    )
}

/// Adds the trees' unhealthy resources to the evidence of `components`,
/// within [`BUDGET`] and before `deadline` (the run's overall one).
pub async fn add_trees(
    ctx: &RunContext,
    components: &mut [ComponentResult],
    deadline: Option<tokio::time::Instant>,
) {
    let wanted: Vec<(usize, String)> = components
        .iter()
        .enumerate()
        .filter(|(_, c)| c.evidence.is_some() && c.failure.is_some_and(health_at_fault))
        .filter_map(|(i, c)| Some((i, c.application.clone()?)))
        .take(MAX_TREES)
        .collect();
    if wanted.is_empty() {
        return;
    }
    let reads = wanted
        .iter()
        .map(|(i, app)| async move { (*i, ctx.client.resource_tree(app).await) });
    let ends = tokio::time::Instant::now() + BUDGET;
    let ends = deadline.map_or(ends, |d| d.min(ends));
    let Ok(trees) = tokio::time::timeout_at(ends, join_all(reads)).await else {
        tracing::debug!(phase = "report", "the resource trees did not come in time");
        return;
    };
    for (i, tree) in trees {
        match (tree, components[i].evidence.as_mut()) {
            (Ok(tree), Some(evidence)) => evidence.add_tree(&tree),
            (Err(e), _) => {
                tracing::debug!(phase = "report", component = %components[i].name, "{e}")
            }
            _ => {}
        }
    }
}
