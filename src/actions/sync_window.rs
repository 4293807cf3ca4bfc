//! A sync that a sync window of the app's project refuses: name the window,
//! and with `--wait-sync-window` ask again until it opens.

use std::time::Duration;

use super::context::RunContext;
use crate::argocd::types::{Application, SyncRequest};
use crate::argocd::ArgoError;

/// How often a deploy that waits for a sync window asks whether it has opened.
const SYNC_WINDOW_POLL: Duration = Duration::from_secs(5);

/// Sends the sync. When a sync window refuses it, names the active windows,
/// and with `--wait-sync-window` asks again until the window opens; the
/// caller's sync deadline bounds the wait. `window` keeps what blocked it.
pub(super) async fn sync_through_windows(
    ctx: &RunContext,
    request: &SyncRequest,
    window: &mut Option<String>,
) -> Result<Application, ArgoError> {
    let name = &request.name;
    loop {
        match ctx.client.sync(request).await {
            Err(ArgoError::SyncWindow { app, message }) => {
                let active = match ctx.client.sync_windows(name).await {
                    Ok(w) if !w.active_windows.is_empty() => w
                        .active_windows
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    Ok(_) => "no window is active right now".to_owned(),
                    Err(e) => format!("the windows could not be read: {e}"),
                };
                let message = format!("{message}; active: {active}");
                if !ctx.config.wait_sync_window {
                    return Err(ArgoError::SyncWindow { app, message });
                }
                if window.is_none() {
                    tracing::info!(phase = "sync", component = %name, "{message}; waiting for the window to open (--wait-sync-window)");
                }
                *window = Some(message);
                tokio::time::sleep(SYNC_WINDOW_POLL).await;
            }
            other => {
                *window = None;
                return other;
            }
        }
    }
}
