//! What a deadline does to the operation this run started: report its own
//! last message, terminate it, and confirm that it really ended.

use std::ops::ControlFlow;
use std::time::Duration;

use super::context::{RunContext, Tracker};
use crate::argocd::types::{Application, Info};
use crate::argocd::ArgoError;
use crate::deadline::Deadline;
use crate::outcome::{ComponentResult, FailureReason as R, Termination};
use crate::readiness::operation;
use crate::vocabulary::duration::human;
use crate::wait::{self, Observation, Watcher};

/// How long, after a deadline, the executor watches a terminated operation to
/// confirm it ended: within the contract's bound of 5 s past a deadline.
const TERMINATE_CONFIRM: Duration = Duration::from_secs(4);
/// Termination requests at most, the first included: the app's retry policy can revive it.
pub(super) const MAX_TERMINATIONS: u32 = 3;

/// The operation in this snapshot is ours and still pending or running.
pub(super) fn ours_in_flight(app: &Application, marker: &Info) -> bool {
    operation::requested(app).is_some_and(|op| op.info.contains(marker))
        || app
            .status
            .operation_state
            .as_ref()
            .is_some_and(|s| s.operation.info.contains(marker) && operation::running(s))
}

/// The operation's own message when it says something: an apply error
/// ("… Service \"x\" is invalid: spec.type: Unsupported value …. Retrying
/// attempt #8 at 8:01AM."), not the bare "Retrying operation. Attempt #8" that
/// the controller writes when a retry starts and clears the sync result
/// (argo-cd `controller/appcontroller.go`, `processRequestedAppOperation`).
pub(super) fn telling_message(app: &Application) -> Option<String> {
    app.status
        .operation_state
        .as_ref()
        .and_then(|s| s.message.clone())
        .filter(|m| !m.trim().is_empty() && !m.starts_with("Retrying operation"))
}

/// The sync deadline passed: terminate our operation unless told not to, and
/// confirm that it really ended.
pub(super) async fn sync_timeout(
    ctx: &RunContext,
    track: &Tracker,
    watcher: &mut Watcher,
    last: Option<Application>,
    op_error: Option<String>,
    name: &str,
    deadline: &Deadline,
) -> ComponentResult {
    let mut msg = format!("operation did not complete within {deadline}");
    if let Some(op) = last.as_ref().and_then(telling_message).or(op_error) {
        msg.push_str(&format!("; the operation's last message: {op}"));
    }
    let marker = ctx.marker();
    let ours_running = last
        .as_ref()
        .is_some_and(|app| ours_in_flight(app, &marker));
    let mut termination = None;
    let mut last = last;
    if ours_running && ctx.config.terminate_on_timeout {
        let (outcome, note) = terminate_and_confirm(ctx, watcher, name, &mut last).await;
        termination = Some(outcome);
        msg.push_str(&note);
    } else if ours_running {
        termination = Some(Termination::LeftRunning);
        msg.push_str("; left the operation running (--no-terminate-on-timeout)");
    }
    let mut result = track.timeout(&[deadline], R::Timeout, last.as_ref(), msg);
    result.termination = termination;
    result
}

/// Sends TerminateOperation, then watches, for [`TERMINATE_CONFIRM`] at most,
/// until the operation has ended (final phase, `operation` cleared). An app
/// whose own `retry` policy puts the operation back to Running is terminated
/// again: the controller's retry loop can revive it (compare argo-cd PR 24020).
async fn terminate_and_confirm(
    ctx: &RunContext,
    watcher: &mut Watcher,
    name: &str,
    last: &mut Option<Application>,
) -> (Termination, String) {
    let marker = ctx.marker();
    let mut sent = 0;
    let confirmed = tokio::time::timeout(TERMINATE_CONFIRM, async {
        loop {
            sent += 1;
            match ctx.client.terminate_operation(name).await {
                Ok(()) => {}
                // "Unable to terminate operation. No operation is in progress": it
                // ended by itself; the watch below sees how.
                Err(ArgoError::Api { status: 400, .. }) => {}
                Err(e) => return Err(e.to_string()),
            }
            // Events from before the request can still show Running: only a
            // Running after Terminating is a revival.
            let mut terminating_seen = false;
            let seen = wait::until(watcher, |observation| match observation {
                Observation::Gone => ControlFlow::Break(None),
                Observation::Present(app) => {
                    *last = Some((**app).clone());
                    let state = app.status.operation_state.as_ref();
                    let phase = state.map(|s| s.phase.as_str()).unwrap_or("");
                    if operation::ended(app) {
                        ControlFlow::Break(Some(true))
                    } else if phase == "Terminating" {
                        terminating_seen = true;
                        ControlFlow::Continue(None)
                    } else if terminating_seen && phase == "Running" && ours_in_flight(app, &marker) {
                        // Revived by the retry loop (or not yet stopped): terminate again.
                        ControlFlow::Break(Some(false))
                    } else {
                        ControlFlow::Continue(None)
                    }
                }
            })
            .await
            .map_err(|e| e.to_string())?;
            match seen {
                None => return Ok("the application disappeared".to_owned()),
                Some(true) => {
                    let phase = last
                        .as_ref()
                        .and_then(|a| a.status.operation_state.as_ref())
                        .map(|s| s.phase.clone())
                        .unwrap_or_default();
                    return Ok(format!("it ended {phase}"));
                }
                Some(false) if sent >= MAX_TERMINATIONS => {
                    return Err(format!(
                        "it was still Running after {sent} termination requests (the app's retry policy revives it)"
                    ))
                }
                Some(false) => {}
            }
        }
    })
    .await;
    match confirmed {
        Ok(Ok(how)) => (
            Termination::Terminated,
            format!("; terminated the operation this run started ({how})"),
        ),
        Ok(Err(why)) => (
            Termination::TerminationRequested,
            format!("; requested termination of the operation this run started, not confirmed: {why}"),
        ),
        Err(_) => (
            Termination::TerminationRequested,
            format!(
                "; requested termination of the operation this run started, not confirmed: still not ended {} later",
                human(TERMINATE_CONFIRM)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_message(message: &str) -> Application {
        let mut app = Application::default();
        app.status.operation_state = Some(crate::argocd::types::OperationState {
            phase: "Running".to_owned(),
            message: Some(message.to_owned()),
            ..Default::default()
        });
        app
    }

    /// A retry loop alternates the apply error with a bare notice; only the error tells.
    #[test]
    fn the_telling_message_is_the_error_not_the_retry_notice() {
        let error = "one or more objects failed to apply, reason: Service \"bad\" is invalid: spec.type: Unsupported value: \"Bogus\". Retrying attempt #4 at 8:01PM.";
        assert_eq!(
            telling_message(&with_message(error)).as_deref(),
            Some(error)
        );
        assert_eq!(
            telling_message(&with_message("Retrying operation. Attempt #5")),
            None
        );
        assert_eq!(telling_message(&with_message("")), None);
    }
}
