//! `GET /api/v1/stream/applications`: the watch stream, newline-delimited JSON
//! of `{"result":{"type":…,"application":{…}}}`.
//!
//! On connect it sends every matching app as ADDED, then every change. For a
//! name that does not exist it sends nothing and stays open, as Argo CD does.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use tokio::sync::{broadcast, watch};

use crate::argocd::types::{StreamLine, WatchEvent};

use super::params::Params;
use super::server::Shared;
use super::store::AppFilter;

/// The route of the watch stream.
pub(crate) const STREAM_PATH: &str = "/api/v1/stream/applications";

/// How long a dropped stream waits before failing, so sent events reach the client.
const ABORT_FLUSH_DELAY: Duration = Duration::from_millis(10);

/// One open watch connection.
struct Watcher {
    /// The initial ADDED events not yet sent.
    pending: VecDeque<WatchEvent>,
    events: broadcast::Receiver<WatchEvent>,
    filter: AppFilter,
    /// Events left before an injected drop, if this connection is to be dropped.
    left_before_drop: Option<u32>,
    /// Fail the body instead of ending it when dropping.
    abort: bool,
    shutdown: watch::Receiver<bool>,
    done: bool,
}

impl Watcher {
    /// The next event to send, or `None` when the stream ends.
    async fn next_event(&mut self) -> Option<WatchEvent> {
        if let Some(event) = self.pending.pop_front() {
            return Some(event);
        }
        loop {
            if *self.shutdown.borrow() {
                return None;
            }
            tokio::select! {
                received = self.events.recv() => match received {
                    Ok(event) if self.filter.matches(&event.application) => return Some(event),
                    Ok(_) => continue,
                    // Too far behind (or closed): end the stream so the client
                    // reconnects and gets a fresh snapshot, rather than miss events.
                    Err(_) => return None,
                },
                changed = self.shutdown.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
            }
        }
    }

    /// The next chunk of the body.
    async fn next_chunk(mut self) -> Option<(io::Result<Bytes>, Watcher)> {
        if self.done {
            return None;
        }
        if self.left_before_drop == Some(0) {
            if self.abort {
                // Let hyper flush what was sent; failing at once would discard
                // the buffered events (and even the headers) with the connection.
                tokio::time::sleep(ABORT_FLUSH_DELAY).await;
                self.done = true;
                let error = io::Error::new(io::ErrorKind::ConnectionReset, "injected stream drop");
                return Some((Err(error), self));
            }
            return None;
        }
        let event = self.next_event().await?;
        if let Some(left) = self.left_before_drop.as_mut() {
            *left -= 1;
        }
        let line = StreamLine {
            result: Some(event),
            error: None,
        };
        let mut bytes = match serde_json::to_vec(&line) {
            Ok(bytes) => bytes,
            Err(error) => return Some((Err(io::Error::other(error)), self)),
        };
        bytes.push(b'\n');
        Some((Ok(Bytes::from(bytes)), self))
    }
}

/// The handler: subscribes, snapshots, and streams.
pub(crate) async fn watch(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.as_deref());
    let name = params.non_empty("name").map(str::to_string);
    let resource_version = params.non_empty("resourceVersion");
    let filter = AppFilter {
        // Like Argo CD, the snapshot is sent for a single-app watch even when a
        // resourceVersion is given, since missing an event there is costly.
        name: name.clone(),
        projects: params.projects(),
        min_version: resource_version.and_then(|v| v.parse().ok()).unwrap_or(0),
    };
    let send_snapshot = resource_version.is_none() || name.is_some();
    let faults = &shared.faults;
    let (events, snapshot, left_before_drop) = {
        let mut store = shared.store();
        store.streams_opened += 1;
        let dropped = store.streams_opened <= faults.drop_stream_times;
        let (events, snapshot) = store.watch(&filter);
        (
            events,
            snapshot,
            faults.drop_stream_after.filter(|_| dropped),
        )
    };
    let pending = if send_snapshot {
        snapshot
            .into_iter()
            .map(|application| WatchEvent {
                kind: "ADDED".into(),
                application,
            })
            .collect()
    } else {
        VecDeque::new()
    };
    let watcher = Watcher {
        pending,
        events,
        filter,
        left_before_drop,
        abort: faults.drop_stream_abort,
        shutdown: shared.shutdown.clone(),
        done: false,
    };
    let body = Body::from_stream(stream::unfold(watcher, Watcher::next_chunk));
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
