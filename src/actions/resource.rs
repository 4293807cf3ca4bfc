//! A DAG resource node, checked through the Kubernetes API: deploy waits on
//! a watch until its object exists (within the sync deadline) and its
//! condition holds (within the health deadline, from when it exists);
//! validate reads it once. Without cluster access it is not checked.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio::time::Instant;

use super::context::{Deadlines, RunContext, Tracker};
use crate::cluster::resource::{judge, Condition, ObjectRef, State};
use crate::cluster::{Cluster, ClusterError};
use crate::dag::ResourceSpec;
use crate::outcome::{ComponentResult, ComponentStatus as S, FailureReason as R};
use crate::vocabulary::Action;

/// Longest single watch: the API server ends it then, and the loop reads again.
const WATCH_SECS: u64 = 60;
/// How often a kind the API server does not serve yet is looked up again,
/// and the least time between two reads of one object.
const UNSERVED_RETRY: Duration = Duration::from_secs(1);

/// Runs one resource node for deploy or validate (teardown only orders by it).
pub async fn run(
    ctx: &RunContext,
    node: &str,
    spec: &ResourceSpec,
    deadlines: Deadlines,
) -> ComponentResult {
    let track = Tracker::app(node);
    let target = ObjectRef {
        api_version: spec.api_version.clone(),
        kind: spec.kind.clone(),
        namespace: spec.namespace.clone(),
        name: spec.name.clone(),
    };
    let condition = Condition::of(spec.condition.as_deref());
    let Some(cluster) = &ctx.cluster else {
        return track.fail(
            S::Skipped,
            R::NoClusterAccess,
            None,
            format!("{target} not checked: {}", super::preflight::NO_CLUSTER),
        );
    };
    match ctx.config.action {
        Action::Validate => validate(cluster, &track, &target, &condition).await,
        _ => deploy(cluster, &track, &target, &condition, &deadlines).await,
    }
}

async fn validate(
    cluster: &Cluster,
    track: &Tracker,
    target: &ObjectRef,
    condition: &Condition,
) -> ComponentResult {
    let object = match cluster.get(target).await {
        Ok(object) => object,
        Err(ClusterError::UnknownKind { .. }) => None,
        Err(e) => return failed(track, target, &e, S::Unhealthy),
    };
    match judge(condition, object.as_ref()) {
        State::Ready(why) => track.finish(S::Healthy, None, format!("{target}: {why}")),
        State::Missing => track.fail(
            S::Unhealthy,
            R::Missing,
            None,
            format!("{target} does not exist"),
        ),
        State::NotReady(why) => track.fail(
            S::Unhealthy,
            R::NotReady,
            None,
            format!("{target} is not ready: {why}"),
        ),
    }
}

fn failed(track: &Tracker, target: &ObjectRef, e: &ClusterError, status: S) -> ComponentResult {
    let reason = match e {
        ClusterError::Forbidden { .. } | ClusterError::Unauthorized { .. } => R::PermissionDenied,
        ClusterError::Unreachable { .. } => R::Unavailable,
        _ => R::ApiError,
    };
    track.fail(status, reason, None, format!("cannot read {target}: {e}"))
}

async fn deploy(
    cluster: &Cluster,
    track: &Tracker,
    target: &ObjectRef,
    condition: &Condition,
    deadlines: &Deadlines,
) -> ComponentResult {
    // Until it exists: the sync deadline; from then on, the health deadline.
    let mut deadline = &deadlines.sync;
    let mut ends = crate::deadline::after(deadlines.sync.after);
    let mut last = State::Missing;
    loop {
        let read = tokio::time::timeout_at(ends, cluster.get(target)).await;
        let (object, served) = match read {
            Err(_) => break,
            Ok(Ok(object)) => (object, true),
            Ok(Err(ClusterError::UnknownKind { .. })) => (None, false),
            // A blip of the API server: read again shortly, within the deadline.
            Ok(Err(
                ClusterError::Unreachable { .. }
                | ClusterError::Api {
                    code: 0 | 429 | 500..,
                    ..
                },
            )) => {
                tokio::time::sleep_until(ends.min(Instant::now() + UNSERVED_RETRY)).await;
                continue;
            }
            Ok(Err(e)) => return failed(track, target, &e, S::Failed),
        };
        last = judge(condition, object.as_ref());
        match &last {
            State::Ready(why) => {
                return track.finish(S::Succeeded, None, format!("{target}: {why}"))
            }
            State::NotReady(_) if std::ptr::eq(deadline, &deadlines.sync) => {
                deadline = &deadlines.health;
                ends = crate::deadline::after(deadlines.health.after);
            }
            _ => {}
        }
        // At most one read a second, whatever ends a watch early (a dropped
        // connection, 410 Gone): a persistent problem must not become a busy loop.
        let next_read = Instant::now() + UNSERVED_RETRY;
        if !served {
            // Its CRD may come from an earlier node's sync: look again shortly.
            tokio::time::sleep_until(ends.min(next_read)).await;
        } else if let Err(e) =
            follow(cluster, target, condition, object.as_ref(), ends, &mut last).await
        {
            return failed(track, target, &e, S::Failed);
        }
        if let State::Ready(why) = &last {
            return track.finish(S::Succeeded, None, format!("{target}: {why}"));
        }
        if Instant::now() >= ends {
            break;
        }
        tokio::time::sleep_until(ends.min(next_read)).await;
    }
    let lacking = match &last {
        State::Missing => "it does not exist".to_owned(),
        State::NotReady(why) => why.clone(),
        State::Ready(why) => why.clone(),
    };
    track.timeout(
        &[deadline],
        R::Timeout,
        None,
        format!("{target} not ready within {deadline}: {lacking}"),
    )
}

/// Follows the object on a watch until its state changes, the watch ends,
/// or `ends`; `last` is updated with what was seen. Missing objects are
/// watched from resourceVersion 0, so that one created after the read is
/// still seen (the API server replays it as ADDED).
async fn follow(
    cluster: &Cluster,
    target: &ObjectRef,
    condition: &Condition,
    object: Option<&Value>,
    ends: Instant,
    last: &mut State,
) -> Result<(), ClusterError> {
    let version = object
        .and_then(|o| o.pointer("/metadata/resourceVersion"))
        .and_then(Value::as_str)
        .unwrap_or("0")
        .to_owned();
    let secs = ends
        .saturating_duration_since(Instant::now())
        .as_secs()
        .clamp(1, WATCH_SECS) as u32;
    let watch = tokio::time::timeout_at(ends, cluster.watch(target, &version, secs)).await;
    let mut stream = match watch {
        Err(_) => return Ok(()),
        Ok(stream) => Box::pin(stream?),
    };
    let before = last.clone();
    loop {
        match tokio::time::timeout_at(ends, stream.next()).await {
            Err(_) | Ok(None) => return Ok(()),
            // 410 Gone, a dropped connection and the like: read again.
            Ok(Some(Err(ClusterError::Api { .. } | ClusterError::Unreachable { .. }))) => {
                return Ok(())
            }
            Ok(Some(Err(e))) => return Err(e),
            Ok(Some(Ok(seen))) => {
                *last = judge(condition, seen.as_ref());
                if *last != before {
                    return Ok(());
                }
            }
        }
    }
}
