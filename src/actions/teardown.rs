//! `teardown` for one application: delete with cascade and foreground
//! propagation, then wait on the stream until it is gone: absent, or
//! replaced by a new object of the same name.

use std::convert::Infallible;
use std::ops::ControlFlow;

use super::context::{Deadlines, RunContext, Tracker};
use crate::argocd::types::Application;
use crate::argocd::ArgoError;
use crate::outcome::{ComponentResult, ComponentStatus as S, FailureReason as R};
use crate::vocabulary::duration::human;
use crate::wait::{self, Observation, Waited, Watcher};

/// Tears down one application. The confirmation was checked with the inputs.
pub async fn teardown_app(ctx: &RunContext, name: &str, deadlines: Deadlines) -> ComponentResult {
    let track = Tracker::app(name);
    let app = match ctx.client.find_app(name, false).await {
        Ok(Some(app)) => app,
        Ok(None) => return track.finish(S::Absent, None, "already absent; nothing to delete"),
        Err(e) => return track.api_error(&e, None),
    };
    if ctx.config.dry_run {
        return track.finish(
            S::Pending,
            Some(&app),
            "dry run: would delete with cascade and foreground propagation",
        );
    }
    // An app-of-apps' child Applications should go with it; any left behind
    // (Delete=false, or a failed cascade) are orphans.
    let children = child_applications(ctx, name).await;
    let mut last: Option<Application> = Some(app);
    // Open the stream before deleting: once the app is gone, the stream has nothing to say.
    let mut watcher = match &ctx.hub {
        Some(hub) => hub.watcher_for_existing(name),
        None => Watcher::new(&ctx.client, name).confirm_on_connect(),
    };
    tracing::info!(
        phase = "delete",
        component = name,
        "deleting (cascade, foreground)"
    );
    let ends = crate::deadline::after(deadlines.total());
    // The first observation says whether there is still something to delete,
    // and which object: its uid, as last seen before the delete request.
    let present = wait::within(ends, &mut watcher, |o| {
        ControlFlow::Break(match o {
            Observation::Gone => None,
            Observation::Present(app) => Some(app.metadata.uid.clone()),
        })
    })
    .await;
    let uid = match present {
        Waited::Decided(uid) => uid,
        Waited::Gone => return absent_before_delete(&track),
        Waited::TimedOut => return not_confirmed(&track, &deadlines, last.as_ref()),
        Waited::Failed(e) => return track.api_error(&e, last.as_ref()),
    };
    match tokio::time::timeout_at(ends, ctx.client.delete_app(name)).await {
        Ok(Ok(())) => {}
        Ok(Err(ArgoError::NotFound { .. })) => return absent_before_delete(&track),
        Ok(Err(e)) => return track.api_error(&e, last.as_ref()),
        Err(_) => return not_confirmed(&track, &deadlines, last.as_ref()),
    }
    // Nothing to decide: gone is the only way out, and an app of the same
    // name with another uid is a new object, so ours is gone.
    let mut again = false;
    let gone = wait::within(ends, &mut watcher, |observation| {
        if wait::is_deleted(observation, uid.as_deref()) {
            again = matches!(observation, Observation::Present(_));
            return ControlFlow::Break(None::<Infallible>);
        }
        if let Observation::Present(app) = observation {
            last = Some((**app).clone());
        }
        ControlFlow::Continue(None)
    })
    .await;
    let again = if again {
        "; an Application of the same name was created again since (a new uid)"
    } else {
        ""
    };
    match gone {
        Waited::Gone => match orphans(ctx, &children).await {
            orphans if orphans.is_empty() => track.finish(
                S::Removed,
                None,
                format!("deleted; Argo CD removed the application and its resources{again}"),
            ),
            orphans => track.fail(
                S::Orphaned,
                R::Orphaned,
                None,
                format!(
                    "deleted, but Applications it managed remain: {} (Delete=false sync option, or not cascaded); delete them or remove them from Git{again}",
                    orphans.join(", ")
                ),
            ),
        },
        Waited::Failed(e) => track.api_error(&e, last.as_ref()),
        Waited::TimedOut => not_confirmed(&track, &deadlines, last.as_ref()),
    }
}

/// The app was gone by the time the delete request went out.
fn absent_before_delete(track: &Tracker) -> ComponentResult {
    track.finish(
        S::Absent,
        None,
        "disappeared before the delete request; nothing to delete",
    )
}

/// The deadline passed before the app was seen gone.
fn not_confirmed(
    track: &Tracker,
    deadlines: &Deadlines,
    last: Option<&Application>,
) -> ComponentResult {
    let finalizers = last
        .map(|a| a.metadata.finalizers.join(", "))
        .unwrap_or_default();
    let msg = format!(
        "deletion not confirmed within {}, {} plus {}; finalizers still present: {}",
        human(deadlines.total()),
        deadlines.sync,
        deadlines.health,
        if finalizers.is_empty() {
            "none"
        } else {
            &finalizers
        }
    );
    let passed = [&deadlines.sync, &deadlines.health];
    track.timeout(&passed, R::Timeout, last, msg)
}

/// The Applications an app-of-apps manages, from its resource tree. A tree
/// that cannot be read only means the orphan check is skipped.
async fn child_applications(ctx: &RunContext, name: &str) -> Vec<String> {
    match ctx.client.resource_tree(name).await {
        Ok(tree) => tree
            .nodes
            .into_iter()
            .filter(|n| n.group == "argoproj.io" && n.kind == "Application")
            .map(|n| n.name)
            .collect(),
        Err(e) => {
            tracing::warn!(phase = "delete", component = name, "no orphan check: {e}");
            Vec::new()
        }
    }
}

/// Child Applications that still exist.
async fn orphans(ctx: &RunContext, children: &[String]) -> Vec<String> {
    let mut left = Vec::new();
    for child in children {
        if !matches!(ctx.client.find_app(child, false).await, Ok(None)) {
            left.push(child.clone());
        }
    }
    left
}
