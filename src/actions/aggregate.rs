//! A stack's status from its members' (contract §5, "Stack health"): the
//! worst status among them wins. validate aggregates every stack, its own
//! app-of-apps included; every action derives a grouping stack (one without an
//! app-of-apps), which has no status of its own.

use crate::dag::{Dag, NodeId, NodeKind};
use crate::outcome::{ComponentResult, ComponentStatus as S, FailureReason as R};
use crate::report::Summary;
use crate::vocabulary::Action;

/// Worst first. A failure outranks a timeout, as in the exit code; a skipped
/// member leaves the stack incomplete until a rerun, a pending one only until
/// it is attempted; among the ok statuses, a change by this run (succeeded,
/// removed) outranks "already there" (unchanged, absent).
const WORST_FIRST: [S; 13] = [
    S::Failed,
    S::Unhealthy,
    S::Orphaned,
    S::Cancelled,
    S::Timeout,
    S::Degraded,
    S::Skipped,
    S::Pending,
    S::Succeeded,
    S::Removed,
    S::Healthy,
    S::Unchanged,
    S::Absent,
];

/// The worst of `statuses`: all ok → ok; any failed → failed; any degraded
/// (and nothing worse) → degraded; and so on down [`WORST_FIRST`]. `None` when empty.
pub fn worst(statuses: impl IntoIterator<Item = S>) -> Option<S> {
    statuses
        .into_iter()
        .min_by_key(|s| WORST_FIRST.iter().position(|w| w == s))
}

/// Replaces each stack's status by the aggregate of its members' (and, in
/// validate, of its own app-of-apps'): every stack in validate, grouping
/// stacks in every action. `results` is indexed by node id.
pub fn stacks(dag: &Dag, action: Action, results: &mut [ComponentResult]) {
    for i in 0..results.len() {
        let id = NodeId(i);
        let grouping = match &dag.node(id).kind {
            NodeKind::Stack { app } => app.is_none(),
            _ => continue,
        };
        if !grouping && action != Action::Validate {
            // A deploy or teardown stack is its app-of-apps: it gates its members.
            continue;
        }
        let members: Vec<&ComponentResult> = dag
            .members(id)
            .iter()
            .map(|m| &results[m.index()])
            .collect();
        // A grouping stack's own result only let its members start.
        let own = (!grouping).then_some(results[i].status);
        let Some(aggregate) = worst(members.iter().map(|m| m.status).chain(own)) else {
            continue;
        };
        let from_member = members
            .iter()
            .find(|m| m.status == aggregate)
            .is_some_and(|m| m.failure.is_some());
        let counts = Summary::of(action, members.iter().map(|m| m.status));
        let stack = &mut results[i];
        if aggregate != stack.status {
            stack.status = aggregate;
            // The members' failures are theirs, and named there; the stack's
            // Application (if any) is not what failed.
            stack.failure = from_member.then_some(R::MemberFailed);
        }
        if aggregate.is_ok() {
            stack.failure = None;
        }
        stack.message = format!("{}; members: {counts}", stack.message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The contract's aggregation, mapped onto the component statuses.
    #[test]
    fn the_worst_member_status_wins() {
        let cases: &[(&[S], Option<S>)] = &[
            (&[], None),
            (&[S::Succeeded, S::Unchanged], Some(S::Succeeded)),
            (&[S::Unchanged, S::Unchanged], Some(S::Unchanged)),
            (&[S::Succeeded, S::Failed], Some(S::Failed)),
            (&[S::Skipped, S::Failed], Some(S::Failed)),
            (&[S::Skipped, S::Skipped], Some(S::Skipped)),
            (&[S::Succeeded, S::Timeout, S::Skipped], Some(S::Timeout)),
            (&[S::Timeout, S::Failed], Some(S::Failed)),
            (
                &[S::Succeeded, S::Cancelled, S::Pending],
                Some(S::Cancelled),
            ),
            (&[S::Pending, S::Unchanged], Some(S::Pending)),
            (&[S::Healthy, S::Healthy], Some(S::Healthy)),
            (&[S::Healthy, S::Degraded], Some(S::Degraded)),
            (&[S::Degraded, S::Unhealthy], Some(S::Unhealthy)),
            (&[S::Degraded, S::Timeout], Some(S::Timeout)),
            (&[S::Removed, S::Absent], Some(S::Removed)),
            (&[S::Absent, S::Absent], Some(S::Absent)),
            (&[S::Removed, S::Orphaned], Some(S::Orphaned)),
            (&[S::Orphaned, S::Failed], Some(S::Failed)),
        ];
        for (statuses, expected) in cases {
            assert_eq!(worst(statuses.iter().copied()), *expected, "{statuses:?}");
        }
    }
}
