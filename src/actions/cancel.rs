//! What a SIGTERM or SIGINT does to the operations this run started: write
//! the cancelled report at once, request their termination and rewrite it
//! saying so, then, while the 2 s budget lasts, confirm that they ended and
//! rewrite it again.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;
use tokio::time::Instant;

use super::RunContext;
use crate::argocd::types::{Application, Info};
use crate::argocd::ArgoError;
use crate::outcome::{ComponentResult, Termination};
use crate::readiness::operation;

/// Time from the signal to the termination requests' answers.
const REQUEST_BUDGET: Duration = Duration::from_millis(600);
/// Time from the signal after which confirmation stops, leaving room to exit within 2 s.
const CONFIRM_BUDGET: Duration = Duration::from_millis(1500);
/// Pause between confirmation reads.
const CONFIRM_POLL: Duration = Duration::from_millis(150);

/// The Applications whose operation this run started and has not yet seen end.
#[derive(Debug, Clone, Default)]
pub struct InFlight(Arc<Mutex<BTreeSet<String>>>);

impl InFlight {
    /// Argo CD accepted our sync of `app`.
    pub fn started(&self, app: &str) {
        self.lock().insert(app.to_owned());
    }

    /// The deploy of `app` returned: its operation ended, or was dealt with.
    pub fn done(&self, app: &str) {
        self.lock().remove(app);
    }

    fn names(&self) -> Vec<String> {
        self.lock().iter().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Our operation has ended: no `operation` pending, and `operationState` is
/// ours (our `infos` marker) with a final phase. An older state, or someone
/// else's, says nothing about ours.
fn has_ended(app: &Application, marker: &Info) -> bool {
    operation::ended(app)
        && app
            .status
            .operation_state
            .as_ref()
            .is_some_and(|s| s.operation.info.contains(marker))
}

/// Our operation shows Running (not Terminating): a termination it was sent did not hold.
fn revived(app: &Application, marker: &Info) -> bool {
    super::termination::ours_in_flight(app, marker)
        && app
            .status
            .operation_state
            .as_ref()
            .is_some_and(|s| s.phase == "Running")
}

/// Counts one more termination request for `app`; false once it had its share.
fn resent(resends: &mut HashMap<String, u32>, app: &str) -> bool {
    let sent = resends.entry(app.to_owned()).or_insert(0);
    *sent += 1;
    *sent < super::termination::MAX_TERMINATIONS
}

/// Terminates the in-flight operations after a signal received at `signalled`.
/// `component` finds the DAG node that stands for an Application; `checkpoint`
/// writes the report as it stands.
pub async fn terminate_in_flight(
    ctx: &RunContext,
    signalled: Instant,
    components: &mut [ComponentResult],
    component: impl Fn(&str) -> Option<String>,
    checkpoint: impl Fn(&[ComponentResult]),
) {
    let apps = ctx.in_flight.names();
    if apps.is_empty() {
        return;
    }
    let mark =
        |components: &mut [ComponentResult], app: &str, how: Option<Termination>, note: &str| {
            let node = component(app);
            let stands_for = |c: &&mut ComponentResult| {
                c.name == app || node.as_deref() == Some(c.name.as_str())
            };
            if let Some(c) = components.iter_mut().find(stands_for) {
                c.termination = how;
                c.message.push_str(note);
            }
        };
    // The report first, before any request: under Argo Workflows the `wait`
    // container gets the same SIGTERM and saves the outputs at once
    // (argo-workflows v3.7.9, cmd/argoexec/main.go: `signal.NotifyContext`
    // on SIGTERM; commands/wait.go: `Wait(ctx)` returns, then
    // `SaveParameters` reads the files), so `status` must already say
    // `cancelled`.
    checkpoint(components);
    if !ctx.config.terminate_on_timeout {
        for app in &apps {
            mark(
                components,
                app,
                Some(Termination::LeftRunning),
                "; its operation was left running (--no-terminate-on-timeout)",
            );
        }
        return;
    }
    let requests = apps.iter().map(|app| async move {
        let sent = tokio::time::timeout_at(
            signalled + REQUEST_BUDGET,
            ctx.client.terminate_operation(app),
        )
        .await;
        (app, sent)
    });
    // Requested: wait for the end. Unstarted: Argo CD refuses to terminate an
    // operation its controller has not picked up yet (argo-cd
    // `server/application/application.go`, `TerminateOperation`: "No operation
    // is in progress" while `operationState` is unset), so ask again.
    let mut pending = Vec::new();
    let mut unstarted = Vec::new();
    for (app, sent) in join_all(requests).await {
        let note = match sent {
            Ok(Err(ArgoError::Api { status: 400, .. })) => {
                mark(components, app, Some(Termination::LeftRunning), "");
                unstarted.push(app.clone());
                continue;
            }
            Ok(Ok(())) => "; termination of its operation requested".to_owned(),
            Ok(Err(e)) => {
                format!("; termination of its operation requested, Argo CD answered: {e}")
            }
            Err(_) => "; termination of its operation requested, no answer yet".to_owned(),
        };
        mark(
            components,
            app,
            Some(Termination::TerminationRequested),
            &note,
        );
        pending.push(app.clone());
    }
    // The report first: the pod may be killed any moment now.
    checkpoint(components);

    let marker = ctx.marker();
    let deadline = signalled + CONFIRM_BUDGET;
    let mut resends: HashMap<String, u32> = HashMap::new();
    while !(pending.is_empty() && unstarted.is_empty()) && Instant::now() + CONFIRM_POLL < deadline
    {
        let retries = unstarted.iter().map(|app| async {
            let sent = tokio::time::timeout_at(deadline, ctx.client.terminate_operation(app)).await;
            (app.clone(), matches!(sent, Ok(Ok(()))))
        });
        let mut changed = false;
        let mut still_unstarted = Vec::new();
        for (app, sent) in join_all(retries).await {
            if sent {
                let note = "; termination requested once the controller had started it";
                mark(
                    components,
                    &app,
                    Some(Termination::TerminationRequested),
                    note,
                );
                pending.push(app);
                changed = true;
            } else {
                still_unstarted.push(app);
            }
        }
        unstarted = still_unstarted;
        let reads = pending.iter().map(|app| async {
            let read = tokio::time::timeout_at(deadline, ctx.client.get_app(app, false)).await;
            (app.clone(), read.ok().and_then(Result::ok))
        });
        let mut still = Vec::new();
        for (app, live) in join_all(reads).await {
            match live {
                Some(live) if has_ended(&live, &marker) => mark(
                    components,
                    &app,
                    Some(Termination::Terminated),
                    "; confirmed ended",
                ),
                // Running again after Argo CD accepted the termination: the
                // app's retry loop revived it (watched on Argo CD 3.2.11: "executor
                // terminated running operation", then retry attempts go on; compare
                // argo-cd PR 24020), so ask again, a bounded number of times.
                Some(live) if revived(&live, &marker) && resent(&mut resends, &app) => {
                    let _ = tokio::time::timeout_at(deadline, ctx.client.terminate_operation(&app))
                        .await;
                    still.push(app);
                }
                _ => still.push(app),
            }
        }
        changed |= still.len() < pending.len();
        pending = still;
        if changed {
            checkpoint(components);
        }
        if !(pending.is_empty() && unstarted.is_empty()) {
            tokio::time::sleep(CONFIRM_POLL).await;
        }
    }
    if !unstarted.is_empty() {
        for app in &unstarted {
            let note = "; Argo CD's controller had not started its operation, and a pending operation cannot be terminated: it may still run";
            mark(components, app, Some(Termination::LeftRunning), note);
        }
        checkpoint(components);
    }
}
