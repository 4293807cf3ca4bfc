//! `validate` for one application: read-only, always. Only GET requests.

use std::ops::ControlFlow;

use super::context::{RunContext, Tracker};
use super::failure::reason_of;
use crate::deadline::Deadline;
use crate::outcome::{ComponentResult, ComponentStatus as S, FailureReason as R};
use crate::readiness::classify;
use crate::wait::{self, Observation, Waited};

/// How long validate's critical checks of one app may take together (each
/// request has its own, shorter limit).
const CHECKS_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Validates one application, then makes its critical checks once (for an
/// app that exists). Reads only.
pub async fn validate_app(ctx: &RunContext, name: &str) -> ComponentResult {
    let result = validate(ctx, name).await;
    if result.failure == Some(R::NotFound) {
        return result;
    }
    let result = super::checks::review(ctx, result, crate::deadline::after(CHECKS_LIMIT)).await;
    super::compliance::assess(ctx, result).await
}

/// Validates one application's state in Argo CD. Reads without `refresh`: a
/// refresh makes argocd-server patch the Application, and validate must
/// change nothing.
async fn validate(ctx: &RunContext, name: &str) -> ComponentResult {
    let track = Tracker::app(name);
    let app = match ctx.client.find_app(name, false).await {
        Ok(Some(app)) => app,
        Ok(None) => {
            return track.fail(
                S::Unhealthy,
                R::NotFound,
                None,
                format!("application '{name}' does not exist in Argo CD"),
            )
        }
        Err(e) => return track.fail(S::Unhealthy, reason_of(&e), None, e.to_string()),
    };
    let suspended_is = ctx.config.health.suspended_is;
    let (mut status, mut reason, mut message) = classify(&app, suspended_is);
    let mut app = app;
    let mut timed_out = None;
    if let (Some(wait), false) = (ctx.config.validate_wait, status == S::Healthy) {
        // Read-only wait: follow the watch stream until Healthy, within --wait.
        let mut watcher = ctx.watcher(name);
        let mut last = app.clone();
        let ends = crate::deadline::after(wait);
        let waited = wait::within(ends, &mut watcher, |observation| match observation {
            Observation::Gone => ControlFlow::Break(None),
            Observation::Present(a) => {
                last = (**a).clone();
                match classify(a, suspended_is) {
                    (S::Healthy, ..) => ControlFlow::Break(Some(())),
                    _ => ControlFlow::Continue(None),
                }
            }
        })
        .await;
        app = last;
        (status, reason, message) = classify(&app, suspended_is);
        match waited {
            Waited::Decided(()) => {}
            Waited::Gone => {
                return track.fail(
                    S::Unhealthy,
                    R::NotFound,
                    None,
                    format!("application '{name}' was deleted while waiting"),
                )
            }
            Waited::Failed(e) => {
                return track.fail(S::Unhealthy, reason_of(&e), Some(&app), e.to_string())
            }
            Waited::TimedOut => {
                let deadline = Deadline::wait(wait);
                status = S::Timeout;
                reason = Some(R::Timeout);
                message = format!("not Healthy and Synced within {deadline}: {message}");
                timed_out = Some(deadline);
            }
        }
    }
    if status != S::Healthy {
        // Name the resources that hold it back, so the report says where to look.
        match ctx.client.resource_tree(name).await {
            Ok(tree) => {
                let bad: Vec<String> = tree
                    .nodes
                    .iter()
                    .filter_map(|n| {
                        let h = n.health.as_ref()?;
                        (h.status != "Healthy")
                            .then(|| format!("{}/{} {}", n.kind, n.name, h.status))
                    })
                    .take(10)
                    .collect();
                if !bad.is_empty() {
                    message.push_str(&format!("; not healthy: {}", bad.join(", ")));
                }
            }
            Err(e) => tracing::warn!(phase = "validate", component = name, "{e}"),
        }
    }
    match (reason, &timed_out) {
        (Some(reason), Some(deadline)) => track.timeout(&[deadline], reason, Some(&app), message),
        (Some(reason), None) => track.fail(status, reason, Some(&app), message),
        (None, _) => track.finish(status, Some(&app), message),
    }
}
