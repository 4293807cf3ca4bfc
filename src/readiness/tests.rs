//! Table-driven tests of `assess`: Argo CD 3.6 snapshots (JSON fixtures, as
//! `GET /api/v1/applications/{name}` returns them) against the rules of contract §3.
//!
//! Each table row names a scenario, a fixture, a small mutation of it, the
//! expectation, and the verdict kind we want. Messages are free text, so rows
//! compare the variant (and the failure reason) only.

use chrono::{DateTime, Utc};

use super::{assess, carries_marker, Expectation, Tracked, Verdict, RUN_MARKER};
use crate::argocd::types::{Application, Info, Operation, OperationInitiator};
use crate::outcome::FailureReason;
use crate::vocabulary::SuspendedIs;

/// A previous sync by a user (finished 07:40:14), re-reconciled since: Synced and Healthy.
const SETTLED: &str = include_str!("../../tests/fixtures/readiness/settled.json");
/// `SETTLED` right after our sync was accepted: top-level `operation` with our marker,
/// `operationState` still the previous operation.
const SYNC_PENDING: &str = include_str!("../../tests/fixtures/readiness/sync-pending.json");
/// Our operation (marker, started 08:00:06) Running; OutOfSync and Progressing.
const OURS_RUNNING: &str = include_str!("../../tests/fixtures/readiness/ours-running.json");
/// Our operation Succeeded (finished 08:00:21, reconciled 08:00:24); Synced and Healthy.
const OURS_SUCCEEDED: &str = include_str!("../../tests/fixtures/readiness/ours-succeeded.json");
/// Our operation Failed: a Deployment was rejected.
const OURS_FAILED: &str = include_str!("../../tests/fixtures/readiness/ours-failed.json");
/// A self-heal automated sync, started 08:00:02 (before ours was accepted), still Running.
const FOREIGN_RUNNING: &str = include_str!("../../tests/fixtures/readiness/foreign-running.json");
/// A two-source app after our operation Succeeded: one revision per source.
const MULTI_SOURCE: &str = include_str!("../../tests/fixtures/readiness/multi-source.json");

/// The run id in the fixtures' `executor-run` marker.
const RUN_ID: &str = "20261122T080005Z-4242";
/// When Argo CD accepted our sync: sub-second, in the same second as 08:00:05Z.
const ACCEPTED_AT: &str = "2026-11-22T08:00:05.412Z";
/// `status.sync.revision` before our sync, and what the previous operation synced.
const OLD_SHA: &str = "3f9c1e7a2b8d4c6e0f1a5b9d7c3e2f4a6b8d0c1e";

/// The verdict without its message.
#[derive(Debug, PartialEq)]
enum Is {
    Ready,
    Operating,
    Foreign,
    Waiting,
    Unhealthy(FailureReason),
    Unconfirmed(FailureReason),
    Failed(FailureReason),
}

fn kind(verdict: &Verdict) -> Is {
    match verdict {
        Verdict::Ready => Is::Ready,
        Verdict::Operating(_) => Is::Operating,
        Verdict::ForeignOperation(_) => Is::Foreign,
        Verdict::Waiting(_) | Verdict::Stale => Is::Waiting,
        Verdict::Unhealthy(reason, _) => Is::Unhealthy(*reason),
        Verdict::Unconfirmed(reason, _) => Is::Unconfirmed(*reason),
        Verdict::Failed(reason, _) => Is::Failed(*reason),
    }
}

/// One row: scenario name, fixture, mutation, expectation, wanted verdict.
struct Case {
    name: &'static str,
    fixture: &'static str,
    change: fn(&mut Application),
    expect: Expectation,
    want: Is,
}

fn run(cases: Vec<Case>) {
    for case in cases {
        let mut app: Application = serde_json::from_str(case.fixture)
            .unwrap_or_else(|e| panic!("{}: fixture does not parse: {e}", case.name));
        (case.change)(&mut app);
        let verdict = assess(&app, &case.expect);
        assert_eq!(
            kind(&verdict),
            case.want,
            "case `{}`: got {verdict:?}",
            case.name
        );
    }
}

fn unchanged(_: &mut Application) {}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339 timestamp")
}

fn settled() -> Expectation {
    Expectation {
        tracked: Tracked::Settled,
        revision: None,
        suspended_is: SuspendedIs::Progressing,
    }
}

fn ours() -> Expectation {
    Expectation {
        tracked: Tracked::Ours {
            marker: Info {
                name: RUN_MARKER.to_owned(),
                value: RUN_ID.to_owned(),
            },
            accepted_at: at(ACCEPTED_AT),
            since_version: None,
        },
        ..settled()
    }
}

/// Ours, knowing the resourceVersion the sync response carried.
fn ours_since(version: u64) -> Expectation {
    let mut expect = ours();
    if let Tracked::Ours { since_version, .. } = &mut expect.tracked {
        *since_version = Some(version);
    }
    expect
}

fn ours_suspended_is(suspended_is: SuspendedIs) -> Expectation {
    Expectation {
        suspended_is,
        ..ours()
    }
}

/// Ours, with a branch requested: Argo CD resolves it to a SHA in both revisions.
fn ours_at_main() -> Expectation {
    Expectation {
        revision: Some("main".to_owned()),
        ..ours()
    }
}

// Mutation helpers, for rows that reach into `operationState`.

fn op_state(app: &mut Application) -> &mut crate::argocd::types::OperationState {
    app.status
        .operation_state
        .as_mut()
        .expect("fixture has an operationState")
}

fn set_phase(app: &mut Application, phase: &str, message: &str) {
    let state = op_state(app);
    state.phase = phase.to_owned();
    state.message = Some(message.to_owned());
}

/// Leaves only `operationState.startedAt` to tell whose operation it is.
fn drop_marker(app: &mut Application) {
    app.operation = None;
    op_state(app).operation.info.clear();
}

fn set_health(app: &mut Application, status: &str, message: Option<&str>) {
    app.status.health.status = status.to_owned();
    app.status.health.message = message.map(str::to_owned);
}

#[test]
fn settled_expectation() {
    run(vec![
        Case {
            name: "Synced, Healthy, last op Succeeded, reconciled after it finished",
            fixture: SETTLED,
            change: unchanged,
            expect: settled(),
            want: Is::Ready,
        },
        Case {
            name: "reconciledAt equal to finishedAt is not stale",
            fixture: SETTLED,
            change: |a| a.status.reconciled_at = Some(at("2026-11-22T07:40:14Z")),
            expect: settled(),
            want: Is::Ready,
        },
        Case {
            name: "reconciledAt one second before finishedAt is stale",
            fixture: SETTLED,
            change: |a| a.status.reconciled_at = Some(at("2026-11-22T07:40:13Z")),
            expect: settled(),
            want: Is::Waiting,
        },
        Case {
            name: "no reconciledAt after an operation finished is stale",
            fixture: SETTLED,
            change: |a| a.status.reconciled_at = None,
            expect: settled(),
            want: Is::Waiting,
        },
        Case {
            name: "no operationState at all (never synced by an operation), Synced and Healthy",
            fixture: SETTLED,
            change: |a| a.status.operation_state = None,
            expect: settled(),
            want: Is::Ready,
        },
        Case {
            name: "a top-level operation is pending (another run's sync, not started yet)",
            fixture: SYNC_PENDING,
            change: unchanged,
            expect: settled(),
            want: Is::Foreign,
        },
        Case {
            name: "an automated sync is running (top-level operation still set)",
            fixture: FOREIGN_RUNNING,
            change: unchanged,
            expect: settled(),
            want: Is::Foreign,
        },
        Case {
            name: "operationState Running by another user, top-level operation not shown",
            fixture: FOREIGN_RUNNING,
            change: |a| {
                a.operation = None;
                op_state(a).operation.initiated_by = Some(OperationInitiator {
                    username: Some("bob@example.com".to_owned()),
                    automated: None,
                });
            },
            expect: settled(),
            want: Is::Foreign,
        },
        Case {
            name: "operationState Terminating",
            fixture: FOREIGN_RUNNING,
            change: |a| {
                a.operation = None;
                set_phase(a, "Terminating", "terminating");
            },
            expect: settled(),
            want: Is::Foreign,
        },
        Case {
            name: "last operation Failed",
            fixture: OURS_FAILED,
            change: unchanged,
            expect: settled(),
            want: Is::Failed(FailureReason::OperationFailed),
        },
        Case {
            name: "last operation Error, even though Synced and Healthy",
            fixture: SETTLED,
            change: |a| {
                set_phase(
                    a,
                    "Error",
                    "ComparisonError: rpc error: code = Unknown desc = authentication required",
                )
            },
            expect: settled(),
            want: Is::Failed(FailureReason::OperationFailed),
        },
    ]);
}

#[test]
fn ours_expectation() {
    run(vec![
        Case {
            name: "sync accepted: top-level operation carries our marker",
            fixture: SYNC_PENDING,
            change: unchanged,
            expect: ours(),
            want: Is::Operating,
        },
        Case {
            // Sync is asynchronous: a snapshot from before the controller picked up our
            // operation shows the previous one, complete and Healthy. It is not our result.
            name: "operationState still shows the previous operation, all Synced and Healthy",
            fixture: SETTLED,
            change: unchanged,
            expect: ours(),
            want: Is::Operating,
        },
        Case {
            name: "the previous operation Failed: not ours, so it does not fail this run",
            fixture: SETTLED,
            change: |a| set_phase(a, "Failed", "one or more objects failed to apply"),
            expect: ours(),
            want: Is::Operating,
        },
        Case {
            // Found by a rerun within one second: the last run's failed operation
            // started in the same second as this run's sync was accepted.
            name: "another executor run's Failed operation, same second: not ours",
            fixture: SETTLED,
            change: |a| {
                set_phase(a, "Failed", "one or more objects failed to apply");
                let state = a.status.operation_state.as_mut().unwrap();
                state.started_at = Some(at(ACCEPTED_AT));
                state.operation.info = vec![Info {
                    name: RUN_MARKER.to_owned(),
                    value: "20261122T075959Z-1".to_owned(),
                }];
            },
            expect: ours(),
            want: Is::Operating,
        },
        Case {
            name: "a snapshot older than the sync response predates our operation",
            fixture: OURS_SUCCEEDED,
            change: |a| a.metadata.resource_version = Some("41".to_owned()),
            expect: ours_since(42),
            want: Is::Operating,
        },
        Case {
            name: "a snapshot at or after the sync response is judged on its content",
            fixture: OURS_SUCCEEDED,
            change: |a| a.metadata.resource_version = Some("42".to_owned()),
            expect: ours_since(42),
            want: Is::Ready,
        },
        Case {
            name: "no operationState yet (app never synced before)",
            fixture: SETTLED,
            change: |a| a.status.operation_state = None,
            expect: ours(),
            want: Is::Operating,
        },
        Case {
            name: "our operation Running",
            fixture: OURS_RUNNING,
            change: unchanged,
            expect: ours(),
            want: Is::Operating,
        },
        Case {
            name: "our operation Running, marker only in operationState",
            fixture: OURS_RUNNING,
            change: |a| a.operation = None,
            expect: ours(),
            want: Is::Operating,
        },
        Case {
            name: "no marker, Running, started after accepted_at: ours by startedAt",
            fixture: OURS_RUNNING,
            change: drop_marker,
            expect: ours(),
            want: Is::Operating,
        },
        Case {
            name: "no marker, Running, started in the same second as accepted_at: ours",
            fixture: OURS_RUNNING,
            change: |a| {
                drop_marker(a);
                op_state(a).started_at = Some(at("2026-11-22T08:00:05Z"));
            },
            expect: ours(),
            want: Is::Operating,
        },
        Case {
            name: "no marker, Running, started the second before accepted_at: foreign",
            fixture: OURS_RUNNING,
            change: |a| {
                drop_marker(a);
                op_state(a).started_at = Some(at("2026-11-22T08:00:04Z"));
            },
            expect: ours(),
            want: Is::Foreign,
        },
        Case {
            name: "no marker, Succeeded, started in the same second as accepted_at: ours, ready",
            fixture: OURS_SUCCEEDED,
            change: |a| {
                drop_marker(a);
                op_state(a).started_at = Some(at("2026-11-22T08:00:05Z"));
            },
            expect: ours(),
            want: Is::Ready,
        },
        Case {
            name: "our operation Succeeded, Synced, Healthy, reconciled after it finished",
            fixture: OURS_SUCCEEDED,
            change: unchanged,
            expect: ours(),
            want: Is::Ready,
        },
        Case {
            name: "our operation Succeeded, health still Progressing",
            fixture: OURS_SUCCEEDED,
            change: |a| set_health(a, "Progressing", Some("Waiting for rollout to finish")),
            expect: ours(),
            want: Is::Waiting,
        },
        Case {
            name: "our operation Succeeded, Healthy read before the re-reconcile",
            fixture: OURS_SUCCEEDED,
            change: |a| a.status.reconciled_at = Some(at("2026-11-22T08:00:07Z")),
            expect: ours(),
            want: Is::Waiting,
        },
        Case {
            name: "our operation Failed",
            fixture: OURS_FAILED,
            change: unchanged,
            expect: ours(),
            want: Is::Failed(FailureReason::OperationFailed),
        },
        Case {
            name: "our operation Error",
            fixture: OURS_FAILED,
            change: |a| set_phase(a, "Error", "failed to sync: context deadline exceeded"),
            expect: ours(),
            want: Is::Failed(FailureReason::OperationFailed),
        },
        Case {
            name: "an automated sync is running instead of ours",
            fixture: FOREIGN_RUNNING,
            change: unchanged,
            expect: ours(),
            want: Is::Foreign,
        },
        Case {
            name: "an automated sync is running instead of ours, top-level operation not shown",
            fixture: FOREIGN_RUNNING,
            change: |a| a.operation = None,
            expect: ours(),
            want: Is::Foreign,
        },
        Case {
            name: "a pending operation carries another run's marker",
            fixture: SYNC_PENDING,
            change: |a| {
                let pending = a.operation.as_mut().expect("fixture has an operation");
                pending.info[0].value = "20261122T075930Z-977".to_owned();
            },
            expect: ours(),
            want: Is::Foreign,
        },
        Case {
            name: "a pending operation by a user, without any marker",
            fixture: SETTLED,
            change: |a| {
                a.operation = Some(Operation {
                    initiated_by: Some(OperationInitiator {
                        username: Some("alice@example.com".to_owned()),
                        automated: None,
                    }),
                    ..Operation::default()
                })
            },
            expect: ours(),
            want: Is::Foreign,
        },
    ]);
}

/// After our operation Succeeded and health was re-assessed: the RFC table per health status.
#[test]
fn health_gating() {
    run(vec![
        Case {
            name: "Healthy",
            fixture: OURS_SUCCEEDED,
            change: unchanged,
            expect: ours(),
            want: Is::Ready,
        },
        Case {
            name: "Progressing",
            fixture: OURS_SUCCEEDED,
            change: |a| set_health(a, "Progressing", Some("Waiting for rollout to finish")),
            expect: ours(),
            want: Is::Waiting,
        },
        Case {
            name: "Degraded",
            fixture: OURS_SUCCEEDED,
            change: |a| {
                set_health(
                    a,
                    "Degraded",
                    Some("Deployment \"payments-api\" exceeded its progress deadline"),
                )
            },
            expect: ours(),
            want: Is::Unhealthy(FailureReason::Degraded),
        },
        Case {
            name: "Degraded but read before the re-reconcile: not judged yet",
            fixture: OURS_SUCCEEDED,
            change: |a| {
                set_health(a, "Degraded", None);
                a.status.reconciled_at = Some(at("2026-11-22T08:00:20Z"));
            },
            expect: ours(),
            want: Is::Waiting,
        },
        Case {
            name: "Missing after the operation completed",
            fixture: OURS_SUCCEEDED,
            change: |a| set_health(a, "Missing", None),
            expect: ours(),
            want: Is::Unhealthy(FailureReason::Missing),
        },
        Case {
            name: "Unknown",
            fixture: OURS_SUCCEEDED,
            change: |a| set_health(a, "Unknown", None),
            expect: ours(),
            want: Is::Unhealthy(FailureReason::Unknown),
        },
        Case {
            name: "empty health status counts as Unknown",
            fixture: OURS_SUCCEEDED,
            change: |a| set_health(a, "", None),
            expect: ours(),
            want: Is::Unhealthy(FailureReason::Unknown),
        },
        Case {
            name: "Suspended, suspendedIs: healthy",
            fixture: OURS_SUCCEEDED,
            change: |a| set_health(a, "Suspended", Some("CronJob is suspended")),
            expect: ours_suspended_is(SuspendedIs::Healthy),
            want: Is::Ready,
        },
        Case {
            name: "Suspended, suspendedIs: progressing",
            fixture: OURS_SUCCEEDED,
            change: |a| set_health(a, "Suspended", Some("Rollout is paused")),
            expect: ours_suspended_is(SuspendedIs::Progressing),
            want: Is::Waiting,
        },
        Case {
            name: "Suspended, suspendedIs: failed",
            fixture: OURS_SUCCEEDED,
            change: |a| set_health(a, "Suspended", Some("Rollout is paused")),
            expect: ours_suspended_is(SuspendedIs::Failed),
            want: Is::Unhealthy(FailureReason::Suspended),
        },
        Case {
            name: "Degraded and OutOfSync after our sync: Degraded fails, not a timeout",
            fixture: OURS_SUCCEEDED,
            change: |a| {
                a.status.sync.status = "OutOfSync".to_owned();
                set_health(a, "Degraded", Some("webhook rewrote the Deployment"));
            },
            expect: ours(),
            want: Is::Unhealthy(FailureReason::Degraded),
        },
        Case {
            name: "Healthy but OutOfSync: Healthy alone is not ready",
            fixture: OURS_SUCCEEDED,
            change: |a| a.status.sync.status = "OutOfSync".to_owned(),
            expect: ours(),
            want: Is::Waiting,
        },
        Case {
            name: "Healthy but sync status Unknown",
            fixture: OURS_SUCCEEDED,
            change: |a| a.status.sync.status = "Unknown".to_owned(),
            expect: ours(),
            want: Is::Waiting,
        },
        Case {
            name: "Synced but Progressing: Synced alone is not ready",
            fixture: SETTLED,
            change: |a| set_health(a, "Progressing", None),
            expect: settled(),
            want: Is::Waiting,
        },
    ]);
}

/// `reconciledAt` equal to `finishedAt` (one-second precision), or a second
/// later: on Argo CD 3.2.11 the update right after a new app's operation can
/// carry either and still the pre-sync comparison. A close reconcile never
/// fails an app; it can make it ready.
#[test]
fn close_reconcile() {
    fn tie(a: &mut Application) {
        a.status.reconciled_at = Some(at("2026-11-22T08:00:21Z"));
    }
    run(vec![
        Case {
            name: "tie, OutOfSync and Missing: the stale update 3.2.11 sends",
            fixture: OURS_SUCCEEDED,
            change: |a| {
                tie(a);
                a.status.sync.status = "OutOfSync".to_owned();
                set_health(a, "Missing", None);
            },
            expect: ours(),
            want: Is::Unconfirmed(FailureReason::Missing),
        },
        Case {
            name: "tie, Degraded: not confirmed either",
            fixture: OURS_SUCCEEDED,
            change: |a| {
                tie(a);
                set_health(a, "Degraded", None);
            },
            expect: ours(),
            want: Is::Unconfirmed(FailureReason::Degraded),
        },
        Case {
            name: "tie, Synced and Healthy: ready",
            fixture: OURS_SUCCEEDED,
            change: tie,
            expect: ours(),
            want: Is::Ready,
        },
        Case {
            name: "tie, Progressing: waiting",
            fixture: OURS_SUCCEEDED,
            change: |a| {
                tie(a);
                set_health(a, "Progressing", None);
            },
            expect: ours(),
            want: Is::Waiting,
        },
        Case {
            name: "a second after, OutOfSync and Missing: the controller's cache may lag the apply",
            fixture: OURS_SUCCEEDED,
            change: |a| {
                a.status.reconciled_at = Some(at("2026-11-22T08:00:22Z"));
                a.status.sync.status = "OutOfSync".to_owned();
                set_health(a, "Missing", None);
            },
            expect: ours(),
            want: Is::Unconfirmed(FailureReason::Missing),
        },
        Case {
            name: "two seconds after, still Missing: fails",
            fixture: OURS_SUCCEEDED,
            change: |a| {
                a.status.reconciled_at = Some(at("2026-11-22T08:00:23Z"));
                set_health(a, "Missing", None);
            },
            expect: ours(),
            want: Is::Unhealthy(FailureReason::Missing),
        },
        Case {
            name: "tie with a ComparisonError condition: not judged on it yet",
            fixture: OURS_SUCCEEDED,
            change: |a| {
                tie(a);
                a.status.conditions = vec![comparison_error()];
            },
            expect: ours(),
            want: Is::Ready,
        },
    ]);
}

fn comparison_error() -> crate::argocd::types::ApplicationCondition {
    crate::argocd::types::ApplicationCondition {
        kind: "ComparisonError".to_owned(),
        message: "apps/missing: app path does not exist".to_owned(),
    }
}

fn prune_skipped_result() -> crate::argocd::types::ResourceResult {
    crate::argocd::types::ResourceResult {
        kind: "ConfigMap".to_owned(),
        namespace: "payments".to_owned(),
        name: "old-settings".to_owned(),
        status: "PruneSkipped".to_owned(),
        message: "ignored (requires pruning)".to_owned(),
        ..Default::default()
    }
}

/// Argo CD already says the sync cannot reach ready: fail without waiting for a deadline.
#[test]
fn fail_fast() {
    run(vec![
        Case {
            name: "our operation Succeeded but left resources that require pruning",
            fixture: OURS_SUCCEEDED,
            change: |a| {
                a.status.sync.status = "OutOfSync".to_owned();
                let result = op_state(a).sync_result.get_or_insert_with(Default::default);
                result.resources = vec![prune_skipped_result()];
            },
            expect: ours(),
            want: Is::Failed(FailureReason::PruneSkipped),
        },
        Case {
            name: "pruning skipped, but the comparison ignores them (IgnoreExtraneous): ready",
            fixture: OURS_SUCCEEDED,
            change: |a| {
                op_state(a)
                    .sync_result
                    .get_or_insert_with(Default::default)
                    .resources = vec![prune_skipped_result()]
            },
            expect: ours(),
            want: Is::Ready,
        },
        Case {
            name: "pruning skipped, OutOfSync on a tied reconcile: not confirmed yet",
            fixture: OURS_SUCCEEDED,
            change: |a| {
                a.status.sync.status = "OutOfSync".to_owned();
                a.status.reconciled_at = Some(at("2026-11-22T08:00:21Z"));
                op_state(a)
                    .sync_result
                    .get_or_insert_with(Default::default)
                    .resources = vec![prune_skipped_result()];
            },
            expect: ours(),
            want: Is::Unconfirmed(FailureReason::PruneSkipped),
        },
        Case {
            name: "a ComparisonError condition after the sync",
            fixture: OURS_SUCCEEDED,
            change: |a| a.status.conditions = vec![comparison_error()],
            expect: ours(),
            want: Is::Failed(FailureReason::ComparisonError),
        },
        Case {
            name: "an InvalidSpecError condition on a settled app",
            fixture: SETTLED,
            change: |a| {
                a.status.conditions = vec![crate::argocd::types::ApplicationCondition {
                    kind: "InvalidSpecError".to_owned(),
                    message: "application destination can't have both name and server defined"
                        .to_owned(),
                }]
            },
            expect: settled(),
            want: Is::Failed(FailureReason::ComparisonError),
        },
        Case {
            name: "a SyncError condition is not a blocking one",
            fixture: OURS_SUCCEEDED,
            change: |a| {
                a.status.conditions = vec![crate::argocd::types::ApplicationCondition {
                    kind: "SyncError".to_owned(),
                    message: "old".to_owned(),
                }]
            },
            expect: ours(),
            want: Is::Ready,
        },
    ]);
}

/// With a revision requested, the compared revision must be the one the
/// operation synced (contract §3.2); OutOfSync at another commit than the
/// synced one, compared after the sync, is the refusal it is: Argo CD
/// compares the targetRevision, so waiting cannot help.
#[test]
fn revision() {
    run(vec![
        Case {
            name: "sync.revision equals syncResult.revision",
            fixture: OURS_SUCCEEDED,
            change: unchanged,
            expect: ours_at_main(),
            want: Is::Ready,
        },
        Case {
            name: "Synced, but compared at another commit: waits",
            fixture: OURS_SUCCEEDED,
            change: |a| a.status.sync.revision = Some(OLD_SHA.to_owned()),
            expect: ours_at_main(),
            want: Is::Waiting,
        },
        Case {
            name: "OutOfSync at another commit, compared after the sync",
            fixture: OURS_SUCCEEDED,
            change: |a| {
                a.status.sync.revision = Some(OLD_SHA.to_owned());
                a.status.sync.status = "OutOfSync".to_owned();
            },
            expect: ours_at_main(),
            want: Is::Failed(FailureReason::RevisionRefused),
        },
        Case {
            name: "OutOfSync at another commit, no revision requested: waits",
            fixture: OURS_SUCCEEDED,
            change: |a| {
                a.status.sync.revision = Some(OLD_SHA.to_owned());
                a.status.sync.status = "OutOfSync".to_owned();
            },
            expect: ours(),
            want: Is::Waiting,
        },
        Case {
            name: "multi-source: sync.revisions equal syncResult.revisions",
            fixture: MULTI_SOURCE,
            change: unchanged,
            expect: ours_at_main(),
            want: Is::Ready,
        },
        Case {
            name: "multi-source: one source still compared at an old commit",
            fixture: MULTI_SOURCE,
            change: |a| a.status.sync.revisions[1] = OLD_SHA.to_owned(),
            expect: ours_at_main(),
            want: Is::Waiting,
        },
    ]);
}

/// `--revision` is already reached when it names the app's target, or is a
/// commit (7 to 40 hex digits) the last comparison was made at; any other
/// name needs a sync to resolve.
#[test]
fn at_revision_is_the_target_or_the_compared_commit() {
    let app = |target: Option<&str>, compared: Option<&str>| {
        let mut app = Application::default();
        app.spec.source = Some(crate::argocd::types::ApplicationSource {
            target_revision: target.map(str::to_owned),
            ..Default::default()
        });
        app.status.sync.revision = compared.map(str::to_owned);
        app
    };
    let sha = "9f1c2ab3d4e5f60718293a4b5c6d7e8f90a1b2c3";
    let rows = [
        ("the target", app(Some("main"), Some(sha)), "main", true),
        ("HEAD when no target", app(None, Some(sha)), "HEAD", true),
        (
            "the compared commit",
            app(Some("main"), Some(sha)),
            sha,
            true,
        ),
        (
            "its short form",
            app(Some("main"), Some(sha)),
            "9f1c2ab",
            true,
        ),
        ("in capitals", app(Some("main"), Some(sha)), "9F1C2AB", true),
        (
            "too short to be a commit",
            app(Some("main"), Some(sha)),
            "9f1c",
            false,
        ),
        (
            "another commit",
            app(Some("main"), Some(sha)),
            "0123456",
            false,
        ),
        (
            "another name",
            app(Some("main"), Some(sha)),
            "v1.2.0",
            false,
        ),
        (
            "nothing compared yet",
            app(Some("main"), None),
            "9f1c2ab",
            false,
        ),
    ];
    for (what, app, requested, expected) in rows {
        assert_eq!(super::at_revision(&app, requested), expected, "{what}");
    }
}

/// A sync answered "another operation is already in progress" follows the
/// operation as ours only when it carries our marker, requested or recorded.
#[test]
fn carries_marker_finds_our_marker_in_either_place() {
    let marker = Info {
        name: RUN_MARKER.to_owned(),
        value: RUN_ID.to_owned(),
    };
    let other_run = Info {
        value: "20261122T080004Z-1".to_owned(),
        ..marker.clone()
    };
    type Row = (&'static str, &'static str, fn(&mut Application), bool);
    let rows: Vec<Row> = vec![
        (
            "requested, not yet picked up",
            SYNC_PENDING,
            unchanged,
            true,
        ),
        (
            "recorded while Running",
            OURS_RUNNING,
            |a| a.operation = None,
            true,
        ),
        (
            "someone else's operation",
            FOREIGN_RUNNING,
            unchanged,
            false,
        ),
        ("no marker at all", OURS_RUNNING, drop_marker, false),
    ];
    for (name, fixture, change, want) in rows {
        let mut app: Application = serde_json::from_str(fixture).unwrap();
        change(&mut app);
        assert_eq!(carries_marker(&app, &marker), want, "{name}");
        assert!(
            !carries_marker(&app, &other_run),
            "{name}: another run's marker"
        );
    }
}
