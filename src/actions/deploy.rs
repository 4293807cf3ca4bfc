//! `deploy` for one application: idempotent sync, then wait for readiness.

use std::ops::ControlFlow;

use tokio::time::Instant;

use super::context::{Deadlines, RunContext, Tracker};
use super::nudge::{nudge_while_pending, request_refresh, UNCONFIRMED_PATIENCE};
use super::sync_plan;
use super::sync_window::sync_through_windows;
use super::termination::{sync_timeout, telling_message};
use crate::argocd::types::{Application, SyncRequest};
use crate::argocd::ArgoError;
use crate::deadline::Deadline;
use crate::outcome::{ComponentResult, ComponentStatus as S, FailureReason as R};
use crate::readiness::{assess, at_revision, freshness, Expectation, Freshness, Tracked, Verdict};
use crate::vocabulary::duration::human;
use crate::wait::{self, Observation, Waited, Watcher};

/// How often a deploy waits behind someone else's operation before giving up on syncing.
const MAX_FOREIGN_WAITS: u32 = 3;

/// How long the first, refreshing GET may go unanswered before the deploy
/// reads without a refresh and syncs, not trusting that read to skip the sync.
const REFRESH_PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

/// Deploys one application per contract §4. With `from_parent`, an app that
/// does not exist yet is waited for, within its sync deadline: its app-of-apps
/// was just synced, and Argo CD creates the child Applications as it applies them.
pub async fn deploy_app(
    ctx: &RunContext,
    name: &str,
    deadlines: Deadlines,
    from_parent: bool,
) -> ComponentResult {
    let mut notes = Vec::new();
    let mut result = deploy(ctx, name, deadlines.clone(), from_parent, &mut notes).await;
    ctx.in_flight.done(name);
    if result.status.is_ok() {
        // Ready in Argo CD's eyes: now the critical checks, within a health timeout of their own.
        result = super::checks::gate(ctx, result, &deadlines.health).await;
    }
    for note in notes {
        result.message.push_str("; ");
        result.message.push_str(&note);
    }
    result
}

/// [`deploy_app`], collecting the sync plan's notes for the report.
async fn deploy(
    ctx: &RunContext,
    name: &str,
    deadlines: Deadlines,
    from_parent: bool,
    notes: &mut Vec<String>,
) -> ComponentResult {
    let track = Tracker::app(name);
    let config = &ctx.config;
    let settled = Expectation {
        tracked: Tracked::Settled,
        revision: None,
        suspended_is: config.health.suspended_is,
    };

    // argocd-server answers a refresh GET only once the controller has
    // re-reconciled the app, with no limit of its own (argo-cd
    // `server/application/application.go`, `Get` waits for the refresh
    // annotation to clear): with a stalled controller only the client's own
    // per-attempt timeout ends it, attempt after attempt.
    //
    // The real controller can also lose a refresh: one requested while it
    // finishes reconciling a new app was never picked up (seen on the real
    // stack: "Requested app refresh", then no reconcile for 90 s). So after
    // REFRESH_PATIENCE the deploy reads without a refresh and syncs, since
    // that read may be stale; a sync changes nothing on an app already synced.
    let patience = REFRESH_PATIENCE.min(deadlines.sync.after);
    let mut stale_read = false;
    let first = match tokio::time::timeout(patience, ctx.client.find_app(name, true)).await {
        Err(_) if patience < deadlines.sync.after => {
            let note = format!(
                "the refreshing read got no answer within {} (Argo CD's controller did not pick the refresh up): synced without a fresh comparison",
                human(patience)
            );
            tracing::warn!(phase = "sync", component = name, "{note}");
            notes.push(note);
            stale_read = true;
            let rest = deadlines.sync.after.saturating_sub(patience);
            tokio::time::timeout(rest, ctx.client.find_app(name, false)).await
        }
        first => first,
    };
    let app = match first {
        Ok(Ok(Some(app))) => app,
        // A child not created yet is invisible, too, to a token scoped to projects.
        Ok(Ok(None) | Err(ArgoError::NotVisible { .. })) if from_parent => {
            match appeared(ctx, name, deadlines.sync.ends()).await {
                Waited::Decided(app) => app,
                // It waits through absence: only the deadline ends it without the app.
                Waited::TimedOut | Waited::Gone => {
                    let msg = format!(
                    "application '{name}' did not appear within {} after its app-of-apps synced; check that the app-of-apps' source defines it",
                    deadlines.sync
                );
                    return track.timeout(&[&deadlines.sync], R::NotFound, None, msg);
                }
                Waited::Failed(e) => return track.api_error(&e, None),
            }
        }
        Ok(Ok(None)) => return not_found(&track, name),
        Ok(Err(e)) => return track.api_error(&e, None),
        Err(_) => {
            let msg = format!(
                "Argo CD's application controller did not reconcile '{name}' within {}: the refresh GET was still unanswered; check that argocd-application-controller is running",
                deadlines.sync
            );
            return track.timeout(&[&deadlines.sync], R::Timeout, None, msg);
        }
    };
    // With --revision, a ready app counts only when it is at that revision.
    let requested = config.revision.as_deref();
    let at_requested = |app: &Application| requested.is_none_or(|r| at_revision(app, r));
    let mut verdict = assess(&app, &settled);
    if verdict == Verdict::Ready && at_requested(&app) && !stale_read {
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
    // The operation's last telling message: a retry loop alternates it with a bare notice.
    let mut op_error: Option<String> = None;
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
            let phase = wait_while(
                deadlines.sync.ends(),
                &mut watcher,
                &settled,
                &mut last,
                &mut op_error,
                |v| matches!(v, Verdict::ForeignOperation(_)),
            )
            .await;
            match phase {
                Waited::TimedOut => {
                    let msg = format!("{what} did not complete within {}", deadlines.sync);
                    return track.timeout(&[&deadlines.sync], R::Timeout, last.as_ref(), msg);
                }
                Waited::Failed(e) => return track.api_error(&e, last.as_ref()),
                Waited::Gone => return not_found(&track, name),
                Waited::Decided((mut app, v)) => {
                    verdict = v;
                    if verdict != Verdict::Ready {
                        // The update that ends an operation still carries the
                        // pre-sync comparison: decide on one made after it.
                        let compared = recompared(
                            ctx,
                            &mut watcher,
                            &settled,
                            &mut last,
                            deadlines.health.ends(),
                        )
                        .await;
                        match compared {
                            Waited::TimedOut => {
                                let msg = format!(
                                    "Argo CD did not compare the app again within {} after the {what} completed",
                                    deadlines.health
                                );
                                return track.timeout(
                                    &[&deadlines.health],
                                    R::Timeout,
                                    last.as_ref(),
                                    msg,
                                );
                            }
                            Waited::Failed(e) => return track.api_error(&e, last.as_ref()),
                            Waited::Gone => return not_found(&track, name),
                            Waited::Decided((next, v)) => {
                                *app = next;
                                verdict = v;
                            }
                        }
                    }
                    if verdict == Verdict::Ready && at_requested(&app) {
                        return track.finish(
                            S::Succeeded,
                            Some(&app),
                            format!("ready after {what} completed; no sync sent"),
                        );
                    }
                    let op_succeeded = app
                        .status
                        .operation_state
                        .as_ref()
                        .is_some_and(|s| s.phase == "Succeeded");
                    if op_succeeded && app.status.sync.status == "Synced" && at_requested(&app) {
                        // That operation did the sync; only health is left to wait for.
                        return wait_healthy(
                            ctx,
                            &deadlines.health,
                            &track,
                            &mut watcher,
                            settled,
                            Some(*app),
                            &what,
                        )
                        .await;
                    }
                    // It left the app OutOfSync (a partial sync, an older
                    // revision), or failed: sync it ourselves.
                    last = Some(*app);
                }
            }
        }

        // Sync, and wait for our operation to complete within the sync deadline.
        let plan = sync_plan::plan(
            last.as_ref().unwrap_or(&Application::default()),
            config.sync.prune,
            &config.sync.options,
        );
        for note in &plan.notes {
            tracing::warn!(phase = "sync", component = name, "{note}");
            if !notes.contains(note) {
                notes.push(note.clone());
            }
        }
        let request = SyncRequest {
            name: name.to_owned(),
            revision: config.revision.clone(),
            prune: Some(plan.prune),
            sync_options: plan.options,
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
            revision: config.revision.clone(),
            ..settled.clone()
        };
        tracing::info!(phase = "sync", component = name, "requesting sync");
        let mut window: Option<String> = None;
        let ends = deadlines.sync.ends();
        // Recorded before the request: a signal may land before its answer does.
        ctx.in_flight.started(name);
        let requested =
            tokio::time::timeout_at(ends, sync_through_windows(ctx, &request, &mut window)).await;
        let synced = match requested {
            Err(_) => Waited::TimedOut,
            // A retry of our sync whose first answer was lost meets the
            // operation that first request started: follow it as ours.
            Ok(Err(ArgoError::OperationInProgress { .. }))
                if started_by_us(ctx, name, ends).await =>
            {
                tracing::info!(
                    phase = "sync",
                    component = name,
                    "the operation in progress is the one this run requested; following it"
                );
                let _nudger = nudge_while_pending(ctx, name, ends);
                wait_while(ends, &mut watcher, &ours, &mut last, &mut op_error, |v| {
                    matches!(v, Verdict::Operating(_))
                })
                .await
            }
            Ok(Err(e)) => Waited::Failed(e),
            Ok(Ok(accepted)) => {
                if let Tracked::Ours { since_version, .. } = &mut ours.tracked {
                    *since_version = accepted
                        .metadata
                        .resource_version
                        .as_deref()
                        .and_then(|v| v.parse().ok());
                }
                let _nudger = nudge_while_pending(ctx, name, ends);
                wait_while(ends, &mut watcher, &ours, &mut last, &mut op_error, |v| {
                    matches!(v, Verdict::Operating(_))
                })
                .await
            }
        };
        if !matches!(synced, Waited::TimedOut) {
            // Our operation ended, or never started: nothing for a signal to terminate.
            ctx.in_flight.done(name);
        }
        match synced {
            Waited::TimedOut if window.is_some() => {
                let msg = format!(
                    "the sync window stayed closed through {}: {}",
                    deadlines.sync,
                    window.unwrap_or_default()
                );
                return track.timeout(&[&deadlines.sync], R::SyncWindow, last.as_ref(), msg);
            }
            Waited::TimedOut => {
                return sync_timeout(
                    ctx,
                    &track,
                    &mut watcher,
                    last,
                    op_error,
                    name,
                    &deadlines.sync,
                )
                .await
            }
            Waited::Failed(ArgoError::OperationInProgress { .. }) => {
                verdict = Verdict::ForeignOperation("operation that started first".to_owned());
                continue;
            }
            Waited::Failed(e) => return track.api_error(&e, last.as_ref()),
            Waited::Gone => return not_found(&track, name),
            Waited::Decided((app, Verdict::ForeignOperation(what))) => {
                // Someone else's operation took over before ours ran; Argo CD may have replaced ours.
                last = Some(*app);
                verdict = Verdict::ForeignOperation(what);
                continue;
            }
            Waited::Decided((app, Verdict::Failed(reason, msg))) => {
                return track.fail(S::Failed, reason, Some(&app), msg);
            }
            Waited::Decided((app, Verdict::Ready)) => {
                return track.finish(S::Succeeded, Some(&app), "synced; Synced and Healthy");
            }
            Waited::Decided((app, _)) => {
                tracing::info!(
                    phase = "health",
                    component = name,
                    "operation completed; waiting for health"
                );
                return wait_healthy(
                    ctx,
                    &deadlines.health,
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

/// The app's operation carries this run's marker: a sync answered "another
/// operation is already in progress" was a retry of our own, whose first
/// request started it. No answer by `ends` counts as no.
async fn started_by_us(ctx: &RunContext, name: &str, ends: Instant) -> bool {
    match tokio::time::timeout_at(ends, ctx.client.get_app(name, false)).await {
        Ok(Ok(app)) => crate::readiness::carries_marker(&app, &ctx.marker()),
        _ => false,
    }
}

/// Waits on the stream, until `ends`, for an Application that does not exist yet.
async fn appeared(ctx: &RunContext, name: &str, ends: Instant) -> Waited<Application> {
    tracing::info!(
        phase = "wait",
        component = name,
        "not created yet; waiting for its app-of-apps to create it"
    );
    let mut watcher = ctx.watcher(name);
    wait::within(ends, &mut watcher, |observation| match observation {
        Observation::Present(app) => ControlFlow::Break(Some((**app).clone())),
        Observation::Gone => ControlFlow::Continue(None),
    })
    .await
}

/// Waits for a comparison made after the last operation ended: ready, or
/// fresh, or Synced when close (the health phase then judges it; see
/// [`freshness`]). A close one still OutOfSync may predate the sync, so after
/// [`UNCONFIRMED_PATIENCE`] a refresh asks for a later comparison. Both the
/// wait and the refresh end at `ends`.
async fn recompared(
    ctx: &RunContext,
    watcher: &mut Watcher,
    expect: &Expectation,
    last: &mut Option<Application>,
    ends: Instant,
) -> Waited<(Application, Verdict)> {
    let mut since: Option<Instant> = None;
    let mut refreshed = false;
    wait::within(ends, watcher, |observation| {
        let Observation::Present(app) = observation else {
            return ControlFlow::Break(None);
        };
        *last = Some((**app).clone());
        let verdict = assess(app, expect);
        let decided = match freshness(&app.status) {
            Freshness::Fresh => true,
            Freshness::Close => app.status.sync.status == "Synced",
            Freshness::Stale => false,
        };
        if verdict == Verdict::Ready || decided {
            return ControlFlow::Break(Some(((**app).clone(), verdict)));
        }
        let first = *since.get_or_insert_with(Instant::now);
        if first.elapsed() < UNCONFIRMED_PATIENCE {
            return ControlFlow::Continue(Some(first + UNCONFIRMED_PATIENCE));
        }
        if !refreshed {
            refreshed = true;
            request_refresh(ctx, &app.metadata.name, ends);
        }
        ControlFlow::Continue(None)
    })
    .await
}

/// Waits, until `ends`, while `keep_waiting` holds for the verdict; decides
/// the first other verdict, with the snapshot it was made on.
async fn wait_while(
    ends: Instant,
    watcher: &mut Watcher,
    expect: &Expectation,
    last: &mut Option<Application>,
    op_error: &mut Option<String>,
    keep_waiting: impl Fn(&Verdict) -> bool,
) -> Waited<(Box<Application>, Verdict)> {
    wait::within(ends, watcher, |observation| match observation {
        Observation::Gone => ControlFlow::Break(None),
        Observation::Present(app) => {
            *last = Some((**app).clone());
            if let Some(message) = telling_message(app) {
                *op_error = Some(message);
            }
            let verdict = assess(app, expect);
            if keep_waiting(&verdict) {
                ControlFlow::Continue(None)
            } else {
                ControlFlow::Break(Some((app.clone(), verdict)))
            }
        }
    })
    .await
}

/// The health phase: from operation completed to ready, within the health
/// deadline, failing Degraded/Unknown/Missing only after the grace period.
async fn wait_healthy(
    ctx: &RunContext,
    deadline: &Deadline,
    track: &Tracker,
    watcher: &mut Watcher,
    expect: Expectation,
    mut last: Option<Application>,
    what: &str,
) -> ComponentResult {
    let grace = ctx.config.health.degraded_grace_period;
    let mut unhealthy_since: Option<Instant> = None;
    let mut unconfirmed_since: Option<Instant> = None;
    let mut refreshed = false;
    let ends = deadline.ends();
    // The snapshot that ended the previous phase is judged first: the watch
    // does not repeat it, and it may already be the last one for a while (the
    // operation's end and the final health can arrive as one update).
    let first = last.clone().map(|app| Observation::Present(Box::new(app)));
    let waited = wait::within_from(ends, watcher, first, |observation| {
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
            Verdict::Unconfirmed(..) => {
                // Normally the confirming reconcile follows within milliseconds.
                // If none comes, ask for one: a refresh makes the controller
                // compare again, stamped with a later second.
                let since = *unconfirmed_since.get_or_insert_with(Instant::now);
                if since.elapsed() < UNCONFIRMED_PATIENCE {
                    return ControlFlow::Continue(Some(since + UNCONFIRMED_PATIENCE));
                }
                if !refreshed {
                    refreshed = true;
                    request_refresh(ctx, track.name(), ends);
                }
                ControlFlow::Continue(None)
            }
            _ => {
                unhealthy_since = None;
                ControlFlow::Continue(None)
            }
        }
    })
    .await;
    match waited {
        Waited::Decided(Ok(())) => track.finish(
            S::Succeeded,
            last.as_ref(),
            format!("{what} completed; Synced and Healthy"),
        ),
        Waited::Decided(Err((reason, msg))) => track.fail(S::Failed, reason, last.as_ref(), msg),
        Waited::Gone => not_found(track, track.name()),
        Waited::Failed(e) => track.api_error(&e, last.as_ref()),
        Waited::TimedOut => {
            let state = last
                .as_ref()
                .map(|a| describe(&assess(a, &expect)))
                .unwrap_or_default();
            let msg = format!("not healthy within {deadline}: {state}");
            track.timeout(&[deadline], R::Timeout, last.as_ref(), msg)
        }
    }
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
        Verdict::Stale => "health not yet re-assessed since the sync finished".to_owned(),
        Verdict::Unhealthy(_, m) | Verdict::Failed(_, m) => m.clone(),
        Verdict::Unconfirmed(_, m) => {
            format!("{m} (not yet confirmed by a reconcile after the sync)")
        }
    }
}
