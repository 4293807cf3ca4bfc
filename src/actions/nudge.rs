//! Background requests that get Argo CD's controller moving when the wait
//! would otherwise depend on its next periodic resync.

use std::time::Duration;

use tokio::time::Instant;

use super::context::RunContext;
use crate::readiness::operation;

/// How long a requested sync may stay pending before the executor nudges the controller.
const PICKUP_PATIENCE: Duration = Duration::from_secs(5);

/// In the background, while our sync is requested but not started, asks for
/// a refresh every [`PICKUP_PATIENCE`], until the returned guard is dropped.
/// On Argo CD 3.2.11 a sync requested in the same second as a new app's first
/// reconcile was once left pending until the app's next periodic resync
/// (180 s): the controller reaches the operation queue only through its
/// refresh queue (`controller/appcontroller.go`), and a refresh puts the app
/// back there.
pub(super) fn nudge_while_pending(ctx: &RunContext, name: &str, ends: Instant) -> AbortOnDrop {
    let client = ctx.client.clone();
    let name = name.to_owned();
    let marker = ctx.marker();
    AbortOnDrop(tokio::spawn(tracing::Instrument::in_current_span(
        async move {
            loop {
                tokio::time::sleep(PICKUP_PATIENCE).await;
                // Requested (top-level `operation`), and no operationState of ours yet.
                let pending =
                    match tokio::time::timeout_at(ends, client.get_app(&name, false)).await {
                        Ok(Ok(app)) => {
                            operation::requested(&app).is_some()
                                && !app
                                    .status
                                    .operation_state
                                    .as_ref()
                                    .is_some_and(|s| s.operation.info.contains(&marker))
                        }
                        _ => return,
                    };
                if pending {
                    tracing::info!(phase = "sync", component = %name, "the controller has not started the sync after {PICKUP_PATIENCE:?}; asking it to refresh the app");
                    let _ = tokio::time::timeout_at(ends, client.get_app(&name, true)).await;
                }
            }
        },
    )))
}

/// A background task that stops when its owner goes, deadline and cancel included.
pub(super) struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How long an unconfirmed failing verdict may stand before the executor asks
/// for a refresh. Two seconds, so that the comparison the refresh brings
/// begins two stamped seconds after the operation's end at the latest, which
/// makes it fresh ([`crate::readiness::freshness`]).
pub(super) const UNCONFIRMED_PATIENCE: Duration = Duration::from_secs(2);

/// Asks Argo CD to re-reconcile `name` in the background; what the controller
/// finds arrives on the watch stream. Bounded by the phase's deadline.
pub(super) fn request_refresh(ctx: &RunContext, name: &str, ends: Instant) {
    let client = ctx.client.clone();
    let name = name.to_owned();
    // In the caller's span, so that its request is the node's too.
    tokio::spawn(tracing::Instrument::in_current_span(async move {
        let bounded = tokio::time::timeout_at(ends, client.get_app(&name, true));
        if let Ok(Err(e)) = bounded.await {
            tracing::debug!(phase = "health", component = %name, "refresh failed: {e}");
        }
    }));
}
