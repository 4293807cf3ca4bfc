//! When an Application counts as deployed, and what validate reports of it:
//! pure functions of one snapshot.
//!
//! No I/O and no clock: the wait loop feeds snapshots in and applies grace
//! periods and deadlines around the verdicts. Rules: contract §3.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::argocd::types::{Application, Info, OperationState};
use crate::outcome::FailureReason;
use crate::vocabulary::SuspendedIs;

pub mod operation;
mod validation;
pub use validation::classify;

/// The `infos` entry name that marks operations started by the executor.
pub const RUN_MARKER: &str = "executor-run";

/// Which operation the readiness verdict is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tracked {
    /// None: the app must simply be settled (no operation pending or running).
    Settled,
    /// The operation this run started: its `info` carries the marker, or, for
    /// an operation with no executor marker at all, it started no earlier than
    /// the moment the sync was accepted.
    Ours {
        /// Our `infos` marker.
        marker: Info,
        /// When Argo CD accepted our sync request.
        accepted_at: DateTime<Utc>,
        /// `metadata.resourceVersion` of the app in the sync response: a
        /// snapshot older than that predates our sync, whatever it shows.
        since_version: Option<u64>,
    },
}

/// What readiness expects, besides the snapshot.
#[derive(Debug, Clone)]
pub struct Expectation {
    /// The operation to follow.
    pub tracked: Tracked,
    /// A revision explicitly requested; `status.sync.revision` must then match what was synced.
    pub revision: Option<String>,
    /// What Suspended health counts as.
    pub suspended_is: SuspendedIs,
}

/// The verdict on one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Ready: operation completed, Synced, Healthy and not stale.
    Ready,
    /// The tracked operation is pending or running.
    Operating(String),
    /// An operation this run did not start is pending or running; names who started it.
    ForeignOperation(String),
    /// The operation completed; health or sync is still settling.
    Waiting(String),
    /// The operation completed, but the controller has not compared the app
    /// again since: health and sync still show the state before it.
    Stale,
    /// Unhealthy in a way that fails after the grace period (Degraded, Unknown,
    /// Missing after the sync, or Suspended when it counts as failed).
    Unhealthy(FailureReason, String),
    /// Would be [`Verdict::Unhealthy`], but read from a reconcile stamped within
    /// a second of the operation's end, which may predate the sync (§3 "Not
    /// stale", and [`freshness`]): only a later reconcile can confirm it.
    Unconfirmed(FailureReason, String),
    /// Failed now: the operation ended Failed or Error, or Argo CD says the
    /// sync cannot reach ready (resources left to prune, a comparison error).
    Failed(FailureReason, String),
}

/// How `reconciledAt` relates to the last operation's `finishedAt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Reconciled at least two seconds after the operation finished, or no
    /// operation finished.
    Fresh,
    /// Reconciled in the operation's last second or the one after: the
    /// comparison may or may not include the sync.
    Close,
    /// Reconciled before the operation finished, or never.
    Stale,
}

/// Both timestamps have one-second precision, and on Argo CD 3.2.11 a
/// comparison stamped at or just after the operation's end can still carry
/// the pre-sync state (OutOfSync, Missing): `reconciledAt` is taken before
/// the comparison starts (`controller/appcontroller.go`,
/// `processAppRefreshQueueItem`: `now := metav1.Now()` precedes
/// `CompareAppState`), which reads the live objects from the controller's
/// cluster cache (`controller/state.go`, `GetManagedLiveObjs`), fed by
/// watches that can lag the sync's apply. Seen on the real stack: stamped in
/// the same second as `finishedAt` (usually), and once, under load, the
/// second after. So only a comparison stamped two seconds later, which began
/// at least a full second after the operation ended, may fail an app; a close
/// one counts only in the app's favour.
pub fn freshness(status: &crate::argocd::types::ApplicationStatus) -> Freshness {
    let finished = status.operation_state.as_ref().and_then(|s| s.finished_at);
    match (finished, status.reconciled_at) {
        (None, _) => Freshness::Fresh,
        (Some(f), Some(r)) if r < f => Freshness::Stale,
        (Some(f), Some(r)) if r - f <= chrono::TimeDelta::seconds(1) => Freshness::Close,
        (Some(_), Some(_)) => Freshness::Fresh,
        (Some(_), None) => Freshness::Stale,
    }
}

/// After our sync of a requested revision succeeded: the app is not Synced,
/// and the comparison is at another revision than the one synced. Argo CD compares an app against
/// `spec.source.targetRevision`, not what was synced (argo-cd 3.2.11
/// `controller/appcontroller.go`, `processAppRefreshQueueItem`), so a sync to
/// another commit than the target's stays compared at the target's head:
/// waiting cannot help. Multi-source apps (`sync.revisions`) are left to the
/// Synced check.
fn revision_not_compared(app: &Application, expect: &Expectation) -> Option<String> {
    let requested = expect.revision.as_deref()?;
    if !matches!(expect.tracked, Tracked::Ours { .. }) {
        return None;
    }
    let state = app.status.operation_state.as_ref()?;
    let synced = state.sync_result.as_ref().map(|r| r.revision.as_str())?;
    let compared = app.status.sync.revision.as_deref()?;
    let refused = state.phase == "Succeeded"
        && app.status.sync.status != "Synced"
        && !synced.is_empty()
        && !compared.is_empty()
        && compared != synced;
    if !refused {
        return None;
    }
    let target = target_revision(app);
    Some(format!(
        "Argo CD compares the app at {compared}, its targetRevision {target}, not at {synced}, the --revision {requested} this run synced, so it stays {}; point the Application's targetRevision at {requested} in Git, or deploy without --revision",
        or_unknown(&app.status.sync.status)
    ))
}

/// `spec.source.targetRevision`, `HEAD` when unset, as Argo CD reads it.
fn target_revision(app: &Application) -> &str {
    app.spec
        .source
        .as_ref()
        .and_then(|s| s.target_revision.as_deref())
        .filter(|t| !t.is_empty())
        .unwrap_or("HEAD")
}

/// Whether the app is already at `requested`, a `--revision`: it is the app's
/// own targetRevision (whose head Synced means), or a commit SHA (7 to 40 hex
/// digits) that the last comparison was made at. Any other name Argo CD has to
/// resolve, so only a sync can tell.
pub fn at_revision(app: &Application, requested: &str) -> bool {
    let target = target_revision(app);
    let sha =
        (7..=40).contains(&requested.len()) && requested.bytes().all(|b| b.is_ascii_hexdigit());
    requested == target
        || (sha
            && app
                .status
                .sync
                .revision
                .as_deref()
                .is_some_and(|compared| compared.starts_with(&requested.to_ascii_lowercase())))
}

/// The app's conditions that mean no sync can reach ready until someone fixes
/// the spec or the source: Argo CD reports them instead of a comparison.
fn blocking_condition(app: &Application) -> Option<&crate::argocd::types::ApplicationCondition> {
    app.status
        .conditions
        .iter()
        .find(|c| matches!(c.kind.as_str(), "ComparisonError" | "InvalidSpecError"))
}

/// Resources the operation left in place because pruning was off: results
/// `PruneSkipped` ("ignored (requires pruning)", or "ignored (no prune)" for a
/// `Prune=false` resource; gitops-engine `pkg/sync/sync_context.go`). The app
/// then stays OutOfSync, unless its comparison ignores them.
pub fn prune_skipped(state: &OperationState) -> Vec<String> {
    state
        .sync_result
        .iter()
        .flat_map(|r| &r.resources)
        .filter(|r| r.status == "PruneSkipped")
        .map(|r| {
            let ns = if r.namespace.is_empty() {
                String::new()
            } else {
                format!("{}/", r.namespace)
            };
            format!("{}/{ns}{}", r.kind, r.name)
        })
        .collect()
}

fn is_ours(state: &OperationState, marker: &Info, accepted_at: DateTime<Utc>) -> bool {
    let mut runs = state
        .operation
        .info
        .iter()
        .filter(|i| i.name == marker.name);
    if let Some(run) = runs.next() {
        // Another executor run's operation is never ours, even in the same second.
        return run == marker || runs.any(|r| r == marker);
    }
    // Kubernetes times have whole seconds, so compare at that precision.
    let accepted = accepted_at
        .duration_trunc(TimeDelta::seconds(1))
        .unwrap_or(accepted_at);
    state.started_at.is_some_and(|t| t >= accepted)
}

/// The operation the app shows, requested or recorded, carries this marker:
/// this run started it, even if the answer to its request never arrived.
pub fn carries_marker(app: &Application, marker: &Info) -> bool {
    let requested = operation::requested(app).is_some_and(|op| op.info.contains(marker));
    let recorded = app
        .status
        .operation_state
        .as_ref()
        .is_some_and(|state| state.operation.info.contains(marker));
    requested || recorded
}

/// A snapshot older than the sync response cannot show our operation.
fn predates(app: &Application, since_version: Option<u64>) -> bool {
    let version = app
        .metadata
        .resource_version
        .as_deref()
        .and_then(|v| v.parse::<u64>().ok());
    matches!((version, since_version), (Some(v), Some(since)) if v < since)
}

/// Who started an operation, for messages.
fn initiator(op: &crate::argocd::types::Operation) -> String {
    match &op.initiated_by {
        Some(by) if by.automated == Some(true) => "automated sync".to_owned(),
        Some(by) => match &by.username {
            Some(user) => format!("operation by {user}"),
            None => "operation".to_owned(),
        },
        None => "operation".to_owned(),
    }
}

/// Judges one snapshot against the expectation.
pub fn assess(app: &Application, expect: &Expectation) -> Verdict {
    let status = &app.status;
    let health = status.health.status.as_str();
    let sync = status.sync.status.as_str();

    // 1. The operation: pending (top-level `operation`) or running (operationState).
    if let Tracked::Ours { since_version, .. } = &expect.tracked {
        if predates(app, *since_version) {
            return Verdict::Operating("sync requested, this snapshot predates it".to_owned());
        }
    }
    if let Some(pending) = operation::requested(app) {
        let ours = matches!(&expect.tracked, Tracked::Ours { marker, .. } if pending.info.contains(marker));
        return if ours {
            Verdict::Operating("sync requested, waiting for the controller to start it".to_owned())
        } else {
            Verdict::ForeignOperation(initiator(pending))
        };
    }
    let op_state = status.operation_state.as_ref();
    match (&expect.tracked, op_state) {
        (Tracked::Ours { .. }, None) => {
            return Verdict::Operating("sync requested, no operation recorded yet".to_owned());
        }
        (
            Tracked::Ours {
                marker,
                accepted_at,
                ..
            },
            Some(state),
        ) if !is_ours(state, marker, *accepted_at) => {
            // Sync is asynchronous: operationState still shows the previous operation.
            return if operation::running(state) {
                Verdict::ForeignOperation(initiator(&state.operation))
            } else {
                Verdict::Operating(
                    "sync requested, operation state still shows the previous operation".to_owned(),
                )
            };
        }
        (Tracked::Ours { .. }, Some(state)) if operation::running(state) => {
            return Verdict::Operating(format!("operation {}", phase_or_pending(state)));
        }
        (Tracked::Settled, Some(state)) if operation::running(state) => {
            return Verdict::ForeignOperation(format!(
                "{} is {}",
                initiator(&state.operation),
                phase_or_pending(state)
            ));
        }
        _ => {}
    }
    if let Some(state) = op_state {
        if matches!(state.phase.as_str(), "Failed" | "Error") {
            let message = state.message.clone().unwrap_or_default();
            return Verdict::Failed(
                FailureReason::OperationFailed,
                format!("operation {}: {message}", state.phase),
            );
        }
    }

    let fresh = freshness(status);
    if fresh == Freshness::Stale {
        return Verdict::Stale;
    }
    // Resources the sync left in place keep the app OutOfSync, unless the
    // comparison ignores them (`IgnoreExtraneous`, argo-cd `controller/state.go`),
    // so only a comparison after the sync can tell.
    let skipped = op_state
        .filter(|s| s.phase == "Succeeded" && matches!(expect.tracked, Tracked::Ours { .. }))
        .map(prune_skipped)
        .unwrap_or_default();
    if !skipped.is_empty() && sync == "OutOfSync" {
        let message = format!(
            "the sync left resources that require pruning, so the app stays OutOfSync: {}; enable sync.prune in environment.yaml (or the app's automated prune), or delete them",
            skipped.join(", ")
        );
        return if fresh == Freshness::Fresh {
            Verdict::Failed(FailureReason::PruneSkipped, message)
        } else {
            Verdict::Unconfirmed(FailureReason::PruneSkipped, message)
        };
    }
    if let Some(condition) = blocking_condition(app).filter(|_| fresh == Freshness::Fresh) {
        return Verdict::Failed(
            FailureReason::ComparisonError,
            format!("{}: {}", condition.kind, condition.message),
        );
    }
    if let Some(message) = revision_not_compared(app, expect) {
        // A comparison in the operation's last second may predate the apply.
        return if fresh == Freshness::Fresh {
            Verdict::Failed(FailureReason::RevisionRefused, message)
        } else {
            Verdict::Unconfirmed(FailureReason::RevisionRefused, message)
        };
    }

    // 3. Healthy, gated per the RFC table. Unhealthy wins over OutOfSync, so a
    // Degraded app fails after its grace period instead of waiting for a deadline.
    let message = status
        .health
        .message
        .clone()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    let verdict = match health {
        "Healthy" => Verdict::Ready,
        "Progressing" => Verdict::Waiting(format!("health is Progressing{message}")),
        "Suspended" => match expect.suspended_is {
            SuspendedIs::Healthy => Verdict::Ready,
            SuspendedIs::Progressing => Verdict::Waiting(format!("health is Suspended{message}")),
            SuspendedIs::Failed => Verdict::Unhealthy(
                FailureReason::Suspended,
                format!("health is Suspended{message}"),
            ),
        },
        "Degraded" => Verdict::Unhealthy(
            FailureReason::Degraded,
            format!("health is Degraded{message}"),
        ),
        "Missing" => Verdict::Unhealthy(
            FailureReason::Missing,
            format!("resources are Missing{message}"),
        ),
        other => Verdict::Unhealthy(
            FailureReason::Unknown,
            format!("health is {}{message}", or_unknown(other)),
        ),
    };
    if let Verdict::Unhealthy(reason, message) = verdict {
        return if fresh == Freshness::Close {
            Verdict::Unconfirmed(reason, message)
        } else {
            Verdict::Unhealthy(reason, message)
        };
    }

    // 2. Synced, to the revision that was synced when one was requested.
    if sync != "Synced" {
        return Verdict::Waiting(format!("sync status is {}", or_unknown(sync)));
    }
    // When a revision was requested, the comparison must be at the revision
    // the operation synced (contract §3.2): a Synced made at another commit
    // says nothing about the requested one yet.
    if let (Some(_), Some(state)) = (&expect.revision, op_state) {
        let synced = state
            .sync_result
            .as_ref()
            .map(|r| r.revision.as_str())
            .unwrap_or("");
        let compared = status.sync.revision.as_deref().unwrap_or("");
        let multi = status.sync.revisions.iter().any(|r| r == synced);
        if !synced.is_empty() && compared != synced && !multi {
            return Verdict::Waiting(format!(
                "sync status compares revision {compared}, the operation synced {synced}"
            ));
        }
        // Multi-source apps: Argo CD leaves `revision` empty and records one SHA per
        // source in `syncResult.revisions` and `sync.revisions`, in source order.
        let synced_all = state
            .sync_result
            .as_ref()
            .map(|r| r.revisions.as_slice())
            .unwrap_or_default();
        if !synced_all.is_empty() && status.sync.revisions != synced_all {
            return Verdict::Waiting(format!(
                "sync status compares revisions {}, the operation synced {}",
                status.sync.revisions.join(","),
                synced_all.join(",")
            ));
        }
    }

    verdict
}

fn phase_or_pending(state: &OperationState) -> &str {
    if state.phase.is_empty() {
        "pending"
    } else {
        &state.phase
    }
}

fn or_unknown(s: &str) -> &str {
    if s.is_empty() {
        "Unknown"
    } else {
        s
    }
}

#[cfg(test)]
mod tests;
