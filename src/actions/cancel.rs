//! What a SIGTERM or SIGINT does to the operations this run started: request
//! their termination, write the cancelled report at once saying so, then,
//! while the 2 s budget lasts, confirm that they ended and rewrite it.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;
use tokio::time::Instant;

use super::RunContext;
use crate::argocd::types::Application;
use crate::outcome::{ComponentResult, Termination};

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

/// An operation that has ended: no `operation` pending and a final phase.
fn has_ended(app: &Application) -> bool {
    app.operation.is_none()
        && app
            .status
            .operation_state
            .as_ref()
            .is_some_and(|s| matches!(s.phase.as_str(), "Succeeded" | "Failed" | "Error"))
}

/// Terminates the in-flight operations after a signal received at `signalled`.
/// `component` finds the result that stands for an Application; `checkpoint`
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
    let mark = |components: &mut [ComponentResult], app: &str, how: Termination, note: &str| {
        let name = component(app).unwrap_or_else(|| app.to_owned());
        if let Some(c) = components.iter_mut().find(|c| c.name == name) {
            c.termination = Some(how);
            c.message.push_str(note);
        }
    };
    if !ctx.config.terminate_on_timeout {
        for app in &apps {
            mark(
                components,
                app,
                Termination::LeftRunning,
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
    for (app, sent) in join_all(requests).await {
        let note = match sent {
            Ok(Ok(())) => "; termination of its operation requested".to_owned(),
            Ok(Err(e)) => {
                format!("; termination of its operation requested, Argo CD answered: {e}")
            }
            Err(_) => "; termination of its operation requested, no answer yet".to_owned(),
        };
        mark(components, app, Termination::TerminationRequested, &note);
    }
    // The report first: the pod may be killed any moment now.
    checkpoint(components);

    let mut pending: Vec<String> = apps;
    let deadline = signalled + CONFIRM_BUDGET;
    while !pending.is_empty() && Instant::now() + CONFIRM_POLL < deadline {
        let reads = pending.iter().map(|app| async move {
            let read = tokio::time::timeout_at(deadline, ctx.client.get_app(app, false)).await;
            (app.clone(), matches!(read, Ok(Ok(a)) if has_ended(&a)))
        });
        let mut still = Vec::new();
        for (app, ended) in join_all(reads).await {
            if ended {
                mark(
                    components,
                    &app,
                    Termination::Terminated,
                    "; confirmed ended",
                );
            } else {
                still.push(app);
            }
        }
        let confirmed_some = still.len() < pending.len();
        pending = still;
        if confirmed_some {
            checkpoint(components);
        }
        if !pending.is_empty() {
            tokio::time::sleep(CONFIRM_POLL).await;
        }
    }
}
