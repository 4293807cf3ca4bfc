//! `teardown` for one application: delete with cascade and foreground
//! propagation, then wait on the stream until it is gone.

use std::ops::ControlFlow;

use super::context::{Deadlines, RunContext, Tracker};
use super::deploy::human;
use crate::argocd::types::Application;
use crate::argocd::ArgoError;
use crate::outcome::{ComponentResult, ComponentStatus as S, FailureReason as R};
use crate::wait::{self, Observation, Watcher};

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
    let deadline = deadlines.sync + deadlines.health;
    let mut last: Option<Application> = Some(app);
    // Open the stream before deleting: once the app is gone, the stream has nothing to say.
    let mut watcher = match &ctx.hub {
        Some(hub) => hub.watcher(name),
        None => Watcher::new(&ctx.client, name).confirm_on_connect(),
    };
    tracing::info!(
        phase = "delete",
        component = name,
        "deleting (cascade, foreground)"
    );
    let waited = tokio::time::timeout(deadline, async {
        let first = wait::until(&mut watcher, |o| {
            ControlFlow::Break(matches!(o, Observation::Gone))
        })
        .await?;
        if first {
            return Ok(false);
        }
        match ctx.client.delete_app(name).await {
            Ok(()) => {}
            Err(ArgoError::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(e),
        }
        wait::until(&mut watcher, |observation| match observation {
            Observation::Gone => ControlFlow::Break(()),
            Observation::Present(app) => {
                last = Some((**app).clone());
                ControlFlow::Continue(None)
            }
        })
        .await
        .map(|()| true)
    })
    .await;
    match waited {
        Ok(Ok(true)) => track.finish(
            S::Removed,
            None,
            "deleted; Argo CD removed the application and its resources",
        ),
        Ok(Ok(false)) => track.finish(
            S::Absent,
            None,
            "disappeared before the delete request; nothing to delete",
        ),
        Ok(Err(e)) => track.api_error(&e, last.as_ref()),
        Err(_) => {
            let finalizers = last
                .as_ref()
                .map(|a| a.metadata.finalizers.join(", "))
                .unwrap_or_default();
            let msg = format!(
                "deletion not confirmed within {}; finalizers still present: {}",
                human(deadline),
                if finalizers.is_empty() {
                    "none"
                } else {
                    &finalizers
                }
            );
            track.fail(S::Timeout, R::Timeout, last.as_ref(), msg)
        }
    }
}
