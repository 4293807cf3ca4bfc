//! `deploy` for one application: idempotent sync, then wait for readiness.

use std::ops::ControlFlow;
use std::time::Duration;

use tokio::time::Instant;

use super::context::{Deadlines, RunContext, Tracker};
use crate::argocd::types::{Application, SyncOptions, SyncRequest};
use crate::argocd::ArgoError;
use crate::outcome::{ComponentResult, ComponentStatus as S, FailureReason as R};
use crate::readiness::{assess, Expectation, Tracked, Verdict};
use crate::wait::{self, Observation, Watcher};

/// How often a deploy waits behind someone else's operation before giving up on syncing.
const MAX_FOREIGN_WAITS: u32 = 3;

/// How a wait phase ended.
enum Phase {
    Done(Box<Application>, Verdict),
    Gone,
}

/// Deploys one application per contract §4.
pub async fn deploy_app(ctx: &RunContext, name: &str, deadlines: Deadlines) -> ComponentResult {
    let track = Tracker::app(name);
    let config = &ctx.config;
    let settled = Expectation {
        tracked: Tracked::Settled,
        revision: None,
        suspended_is: config.health.suspended_is,
    };

    let app = match ctx.client.find_app(name, true).await {
        Ok(Some(app)) => app,
        Ok(None) => return not_found(&track, name),
        Err(e) => return track.api_error(&e, None),
    };
    let mut verdict = assess(&app, &settled);
    if verdict == Verdict::Ready {
        return track.finish(
            S::Unchanged,
            Some(&app),
            "already Synced and Healthy; no sync sent",
        );
    }
    if config.dry_run {
        return track.finish(
            S::Pending,
            Some(&app),
            format!("dry run: would sync ({})", describe(&verdict)),
        );
    }

    let mut watcher = ctx.watcher(name);
    let mut last = Some(app);
    let mut foreign_waits = 0;
    loop {
        // Wait behind an operation this run did not start, then re-evaluate.
        if let Verdict::ForeignOperation(what) = verdict.clone() {
            foreign_waits += 1;
            if foreign_waits > MAX_FOREIGN_WAITS {
                let msg = format!(
                    "gave up after {MAX_FOREIGN_WAITS} operations started by others; last: {what}"
                );
                return track.fail(S::Failed, R::OperationFailed, last.as_ref(), msg);
            }
            tracing::info!(
                phase = "wait",
                component = name,
                "waiting for the {what} in progress to complete"
            );
            let phase = tokio::time::timeout(
                deadlines.sync,
                wait_while(&mut watcher, &settled, &mut last, |v| {
                    matches!(v, Verdict::ForeignOperation(_))
                }),
            )
            .await;
            match phase {
                Err(_) => {
                    let msg = format!(
                        "{what} did not complete within the sync timeout of {}",
                        human(deadlines.sync)
                    );
                    return track.fail(S::Timeout, R::Timeout, last.as_ref(), msg);
                }
                Ok(Err(e)) => return track.api_error(&e, last.as_ref()),
                Ok(Ok(Phase::Gone)) => return not_found(&track, name),
                Ok(Ok(Phase::Done(app, v))) => {
                    verdict = v;
                    let op_succeeded = app
                        .status
                        .operation_state
                        .as_ref()
                        .is_some_and(|s| s.phase == "Succeeded");
                    if verdict == Verdict::Ready {
                        return track.finish(
                            S::Succeeded,
                            Some(&app),
                            format!("ready after {what} completed; no sync sent"),
                        );
                    }
                    if op_succeeded && app.status.sync.status == "Synced" {
                        // That operation did the sync; only health is left to wait for.
                        return wait_healthy(
                            ctx,
                            deadlines.health,
                            &track,
                            &mut watcher,
                            settled,
                            Some(*app),
                            &what,
                        )
                        .await;
                    }
                    last = Some(*app);
                }
            }
        }

        // Sync, and wait for our operation to complete within the sync deadline.
        let request = SyncRequest {
            name: name.to_owned(),
            prune: Some(config.sync.prune),
            sync_options: (!config.sync.options.is_empty()).then(|| SyncOptions {
                items: config.sync.options.clone(),
            }),
            infos: vec![ctx.marker()],
            project: config.argocd.project.clone(),
            ..SyncRequest::default()
        };
        let mut ours = Expectation {
            tracked: Tracked::Ours {
                marker: ctx.marker(),
                accepted_at: chrono::Utc::now(),
                since_version: None,
            },
            ..settled.clone()
        };
        tracing::info!(phase = "sync", component = name, "requesting sync");
        let synced = tokio::time::timeout(deadlines.sync, async {
            let accepted = ctx.client.sync(&request).await?;
            if let Tracked::Ours { since_version, .. } = &mut ours.tracked {
                *since_version = accepted
                    .metadata
                    .resource_version
                    .as_deref()
                    .and_then(|v| v.parse().ok());
            }
            wait_while(&mut watcher, &ours, &mut last, |v| {
                matches!(v, Verdict::Operating(_))
            })
            .await
        })
        .await;
        match synced {
            Err(_) => return sync_timeout(ctx, &track, last.as_ref(), name, deadlines).await,
            Ok(Err(ArgoError::OperationInProgress { .. })) => {
                verdict = Verdict::ForeignOperation("operation that started first".to_owned());
                continue;
            }
            Ok(Err(e)) => return track.api_error(&e, last.as_ref()),
            Ok(Ok(Phase::Gone)) => return not_found(&track, name),
            Ok(Ok(Phase::Done(app, Verdict::ForeignOperation(what)))) => {
                // Someone else's operation took over before ours ran; Argo CD may have replaced ours.
                last = Some(*app);
                verdict = Verdict::ForeignOperation(what);
                continue;
            }
            Ok(Ok(Phase::Done(app, Verdict::Failed(reason, msg)))) => {
                return track.fail(S::Failed, reason, Some(&app), msg);
            }
            Ok(Ok(Phase::Done(app, Verdict::Ready))) => {
                return track.finish(S::Succeeded, Some(&app), "synced; Synced and Healthy");
            }
            Ok(Ok(Phase::Done(app, _))) => {
                tracing::info!(
                    phase = "health",
                    component = name,
                    "operation completed; waiting for health"
                );
                return wait_healthy(
                    ctx,
                    deadlines.health,
                    &track,
                    &mut watcher,
                    ours,
                    Some(*app),
                    "sync",
                )
                .await;
            }
        }
    }
}

/// Waits while `keep_waiting` holds for the verdict; returns the first other verdict.
async fn wait_while(
    watcher: &mut Watcher,
    expect: &Expectation,
    last: &mut Option<Application>,
    keep_waiting: impl Fn(&Verdict) -> bool,
) -> Result<Phase, ArgoError> {
    wait::until(watcher, |observation| match observation {
        Observation::Gone => ControlFlow::Break(Phase::Gone),
        Observation::Present(app) => {
            *last = Some((**app).clone());
            let verdict = assess(app, expect);
            if keep_waiting(&verdict) {
                ControlFlow::Continue(None)
            } else {
                ControlFlow::Break(Phase::Done(app.clone(), verdict))
            }
        }
    })
    .await
}

/// The health phase: from operation completed to ready, within the health
/// deadline, failing Degraded/Unknown/Missing only after the grace period.
async fn wait_healthy(
    ctx: &RunContext,
    deadline: Duration,
    track: &Tracker,
    watcher: &mut Watcher,
    expect: Expectation,
    mut last: Option<Application>,
    what: &str,
) -> ComponentResult {
    let grace = ctx.config.health.degraded_grace_period;
    let mut unhealthy_since: Option<Instant> = None;
    let waited = tokio::time::timeout(
        deadline,
        wait::until(watcher, |observation| {
            let Observation::Present(app) = observation else {
                return ControlFlow::Break(None);
            };
            last = Some((**app).clone());
            match assess(app, &expect) {
                Verdict::Ready => ControlFlow::Break(Some(Ok(()))),
                Verdict::Failed(reason, msg) => ControlFlow::Break(Some(Err((reason, msg)))),
                Verdict::Unhealthy(reason, msg) => {
                    let since = *unhealthy_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= grace {
                        let msg = if grace.is_zero() {
                            msg
                        } else {
                            format!("{msg} for longer than the grace period of {}", human(grace))
                        };
                        ControlFlow::Break(Some(Err((reason, msg))))
                    } else {
                        ControlFlow::Continue(Some(since + grace))
                    }
                }
                _ => {
                    unhealthy_since = None;
                    ControlFlow::Continue(None)
                }
            }
        }),
    )
    .await;
    match waited {
        Ok(Ok(Some(Ok(())))) => track.finish(
            S::Succeeded,
            last.as_ref(),
            format!("{what} completed; Synced and Healthy"),
        ),
        Ok(Ok(Some(Err((reason, msg))))) => track.fail(S::Failed, reason, last.as_ref(), msg),
        Ok(Ok(None)) => not_found(track, track.name()),
        Ok(Err(e)) => track.api_error(&e, last.as_ref()),
        Err(_) => {
            let state = last
                .as_ref()
                .map(|a| describe(&assess(a, &expect)))
                .unwrap_or_default();
            let msg = format!(
                "not healthy within the health timeout of {}: {state}",
                human(deadline)
            );
            track.fail(S::Timeout, R::Timeout, last.as_ref(), msg)
        }
    }
}

/// The sync deadline passed: terminate our operation unless told not to.
async fn sync_timeout(
    ctx: &RunContext,
    track: &Tracker,
    last: Option<&Application>,
    name: &str,
    deadlines: Deadlines,
) -> ComponentResult {
    let mut msg = format!(
        "operation did not complete within the sync timeout of {}",
        human(deadlines.sync)
    );
    let ours_running = last.is_some_and(|app| {
        let marker = ctx.marker();
        app.operation
            .as_ref()
            .is_some_and(|op| op.info.contains(&marker))
            || app.status.operation_state.as_ref().is_some_and(|s| {
                s.operation.info.contains(&marker)
                    && matches!(s.phase.as_str(), "Running" | "Terminating" | "")
            })
    });
    if ours_running && ctx.config.terminate_on_timeout {
        match ctx.client.terminate_operation(name).await {
            Ok(()) => msg.push_str("; terminated the operation this run started"),
            Err(e) => msg.push_str(&format!("; {e}")),
        }
    } else if ours_running {
        msg.push_str("; left the operation running (--no-terminate-on-timeout)");
    }
    track.fail(S::Timeout, R::Timeout, last, msg)
}

fn not_found(track: &Tracker, name: &str) -> ComponentResult {
    track.fail(
        S::Failed,
        R::NotFound,
        None,
        format!("application '{name}' does not exist in Argo CD; create it (for example through its app-of-apps) before deploying"),
    )
}

/// A short phrase for a verdict, for messages.
pub(crate) fn describe(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Ready => "ready".to_owned(),
        Verdict::Operating(m) | Verdict::ForeignOperation(m) | Verdict::Waiting(m) => m.clone(),
        Verdict::Unhealthy(_, m) | Verdict::Failed(_, m) => m.clone(),
    }
}

/// A duration as the config spells it (`5m`, `90s`).
pub(crate) fn human(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}
