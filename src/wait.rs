//! The event loop over the watch stream. It never sleeps to poll while the
//! stream works, and it never owns a deadline: callers give one to
//! [`within`], which answers with one flat [`Waited`].
//!
//! One [`Follower`] reads the stream for one app or for all apps, reconnects
//! with backoff, and falls back to polling after repeated failures. A
//! [`Watcher`] follows one app, either with its own stream or through a
//! [`hub::Hub`] that shares one stream among every app of a run.

pub mod hub;

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::time::Duration;

use backoff::backoff::Backoff;
use backoff::ExponentialBackoff;
use tokio::time::Instant;

use crate::argocd::stream::EventStream;
use crate::argocd::types::Application;
use crate::argocd::{ArgoError, Client};

/// Consecutive stream failures after which the follower falls back to polling.
const MAX_STREAM_FAILURES: u32 = 3;
/// Silence on the watch stream after which it is reopened and the state re-read.
const WATCH_IDLE: Duration = Duration::from_secs(20);
/// The polling interval once the stream has been given up.
const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// What the watcher saw.
#[derive(Debug, Clone)]
pub enum Observation {
    /// The application as it is now.
    Present(Box<Application>),
    /// The application no longer exists.
    Gone,
}

/// Is the object with `uid` gone? Absent, or present as a different object:
/// deleted and created again under the same name, which a poll or a listing
/// after a reconnect cannot tell from "still there" but by its uid
/// (kube-runtime `wait::conditions::is_deleted`). With no uid to compare,
/// only absence counts.
pub fn is_deleted(observation: &Observation, uid: Option<&str>) -> bool {
    match observation {
        Observation::Gone => true,
        Observation::Present(app) => {
            matches!((uid, app.metadata.uid.as_deref()), (Some(ours), Some(now)) if ours != now)
        }
    }
}

/// One thing the follower learned.
#[derive(Debug)]
enum Update {
    /// A change of one application, with the namespace Argo CD says it is in.
    One {
        name: String,
        namespace: Option<String>,
        observation: Observation,
    },
    /// A complete listing: every application that exists right now.
    All(Vec<Application>),
}

/// Reads `GET /api/v1/stream/applications` for one app (`name`) or all apps.
struct Follower {
    client: Client,
    name: Option<String>,
    stream: Option<EventStream>,
    connects: u32,
    failures: u32,
    polling: Option<Instant>,
    backoff: ExponentialBackoff,
    pending: VecDeque<Update>,
    resync_on_first_connect: bool,
}

impl Follower {
    fn new(client: &Client, name: Option<&str>) -> Self {
        Self {
            backoff: client.backoff(),
            client: client.clone(),
            name: name.map(str::to_owned),
            stream: None,
            connects: 0,
            failures: 0,
            polling: None,
            pending: VecDeque::new(),
            resync_on_first_connect: false,
        }
    }

    /// The next update. Errors are only the ones retrying cannot fix
    /// (authentication, permission, a read that kept failing while polling).
    async fn next(&mut self) -> Result<Update, ArgoError> {
        loop {
            if let Some(update) = self.pending.pop_front() {
                return Ok(update);
            }
            if let Some(due) = self.polling {
                tokio::time::sleep_until(due).await;
                self.polling = Some(Instant::now() + POLL_INTERVAL);
                self.resync().await?;
                continue;
            }
            let Some(stream) = self.stream.as_mut() else {
                // grpc-gateway writes the response headers with the first event
                // (grpc-gateway v1 `runtime/handler.go`, `ForwardResponseStream`),
                // and for an unknown name there is none: an open can wait forever.
                let opened =
                    tokio::time::timeout(WATCH_IDLE, self.client.watch(self.name.as_deref()));
                match opened.await {
                    Ok(Ok(stream)) => {
                        self.stream = Some(stream);
                        // For an unknown name the stream says nothing at all, so
                        // after a gap only a read can tell that an app is gone.
                        if self.connects > 0 || self.resync_on_first_connect {
                            self.resync_or_fail().await?;
                        }
                        self.connects += 1;
                    }
                    Ok(Err(e)) => self.fail(e).await?,
                    Err(_) => {
                        tracing::debug!(phase = "watch", component = %self.name.as_deref().unwrap_or("applications"), "watch stream sent nothing for {WATCH_IDLE:?}; reading the state instead");
                        self.resync_or_fail().await?;
                    }
                }
                continue;
            };
            let Ok(read) = tokio::time::timeout(WATCH_IDLE, stream.next_event()).await else {
                // argocd-server sends no keep-alive and drops events for a slow
                // subscriber (argo-cd `server/application/broadcaster.go`: a full
                // channel skips the event), so silence can hide a lost event or a
                // half-open connection: reopen, and re-read the current state.
                tracing::debug!(phase = "watch", component = %self.name.as_deref().unwrap_or("applications"), "watch stream silent for {WATCH_IDLE:?}; reopening it");
                self.stream = None;
                self.client.count_reconnect();
                continue;
            };
            match read {
                Ok(Some(event)) => {
                    self.failures = 0;
                    self.backoff.reset();
                    let name = event.application.metadata.name.clone();
                    let namespace = event.application.metadata.namespace.clone();
                    let observation = match event.kind.as_str() {
                        "DELETED" => Observation::Gone,
                        _ => Observation::Present(Box::new(event.application)),
                    };
                    return Ok(Update::One {
                        name,
                        namespace,
                        observation,
                    });
                }
                Ok(None) => {
                    self.stream = None;
                    let closed = ArgoError::Unavailable {
                        what: "watch stream".to_owned(),
                        attempts: 1,
                        last: "closed by the server".to_owned(),
                    };
                    self.fail(closed).await?;
                }
                Err(e) => {
                    self.stream = None;
                    self.fail(e).await?;
                }
            }
        }
    }

    /// [`Follower::resync`], counting a failure like a stream failure: one
    /// failed read after a reconnect is no reason to end the wait.
    async fn resync_or_fail(&mut self) -> Result<(), ArgoError> {
        match self.resync().await {
            Ok(()) => Ok(()),
            Err(e) => self.fail(e).await,
        }
    }

    /// Reads the current state with plain GETs and queues it.
    async fn resync(&mut self) -> Result<(), ArgoError> {
        let update = match &self.name {
            // A GET of one app asks its own namespace.
            Some(name) => Update::One {
                name: name.clone(),
                namespace: Some(self.client.namespace_of(name).to_owned()),
                observation: match self.client.find_app(name, false).await? {
                    Some(app) => Observation::Present(Box::new(app)),
                    None => Observation::Gone,
                },
            },
            None => Update::All(self.client.list_apps(None).await?),
        };
        self.pending.push_back(update);
        Ok(())
    }

    /// Records a stream failure: fatal errors end the wait, others back off and reconnect.
    async fn fail(&mut self, error: ArgoError) -> Result<(), ArgoError> {
        if matches!(
            error,
            ArgoError::Unauthenticated { .. } | ArgoError::PermissionDenied { .. }
        ) {
            return Err(error);
        }
        self.failures += 1;
        self.client.count_reconnect();
        let target = self.name.as_deref().unwrap_or("applications");
        if self.failures >= MAX_STREAM_FAILURES {
            tracing::warn!(phase = "watch", component = %target, "watch stream failed {} times ({error}); falling back to polling every {POLL_INTERVAL:?}", self.failures);
            self.polling = Some(Instant::now());
            return Ok(());
        }
        let pause = self.backoff.next_backoff().unwrap_or(POLL_INTERVAL);
        tracing::info!(phase = "watch", component = %target, "watch stream interrupted ({error}); reconnecting in {pause:?}");
        tokio::time::sleep(pause).await;
        Ok(())
    }
}

/// Follows one application.
pub struct Watcher(Source);

enum Source {
    Own(Box<Follower>),
    Shared(hub::Subscription),
}

impl Watcher {
    /// A watcher with its own stream for `name`; nothing is requested until
    /// the first [`Watcher::next`].
    pub fn new(client: &Client, name: &str) -> Self {
        Watcher(Source::Own(Box::new(Follower::new(client, Some(name)))))
    }

    /// Also `GET` the app right after the first connection. Needed when the app
    /// may vanish before the stream opens: for an unknown name Argo CD's stream
    /// sends nothing at all, so only a `GET` can tell that it is gone.
    pub fn confirm_on_connect(mut self) -> Self {
        if let Source::Own(follower) = &mut self.0 {
            follower.resync_on_first_connect = true;
        }
        self
    }

    /// The next observation of this app.
    pub async fn next(&mut self) -> Result<Observation, ArgoError> {
        match &mut self.0 {
            Source::Own(follower) => loop {
                match follower.next().await? {
                    Update::One { observation, .. } => return Ok(observation),
                    Update::All(_) => continue,
                }
            },
            Source::Shared(subscription) => subscription.next().await,
        }
    }
}

/// How a wait within a deadline ended.
#[derive(Debug)]
pub enum Waited<T> {
    /// `decide` decided, before the deadline.
    Decided(T),
    /// `decide` said the application is gone.
    Gone,
    /// The deadline passed first.
    TimedOut,
    /// The watch failed in a way that retrying cannot fix.
    Failed(ArgoError),
}

/// Feeds observations to `decide` until it breaks or the deadline at `ends`
/// passes. `Break(Some(decision))` decides, `Break(None)` says the app is
/// gone, and `Continue(Some(at))` asks to decide again at `at` even if
/// nothing new arrives (a grace period ending).
pub async fn within<T>(
    ends: Instant,
    watcher: &mut Watcher,
    decide: impl FnMut(&Observation) -> ControlFlow<Option<T>, Option<Instant>>,
) -> Waited<T> {
    within_from(ends, watcher, None, decide).await
}

/// [`within`], deciding on `first` before anything the watch brings.
pub async fn within_from<T>(
    ends: Instant,
    watcher: &mut Watcher,
    first: Option<Observation>,
    decide: impl FnMut(&Observation) -> ControlFlow<Option<T>, Option<Instant>>,
) -> Waited<T> {
    match tokio::time::timeout_at(ends, until_from(watcher, first, decide)).await {
        Ok(Ok(Some(decision))) => Waited::Decided(decision),
        Ok(Ok(None)) => Waited::Gone,
        Ok(Err(e)) => Waited::Failed(e),
        Err(_) => Waited::TimedOut,
    }
}

/// Feeds observations to `decide` until it breaks, with no deadline of its
/// own: the caller bounds it, or uses [`within`]. `Continue(Some(at))` asks
/// to decide again at `at` even if nothing new arrives (a grace period ending).
pub async fn until<T>(
    watcher: &mut Watcher,
    decide: impl FnMut(&Observation) -> ControlFlow<T, Option<Instant>>,
) -> Result<T, ArgoError> {
    until_from(watcher, None, decide).await
}

/// [`until`], deciding on `first` before anything the watch brings.
async fn until_from<T>(
    watcher: &mut Watcher,
    mut first: Option<Observation>,
    mut decide: impl FnMut(&Observation) -> ControlFlow<T, Option<Instant>>,
) -> Result<T, ArgoError> {
    let mut last: Option<Observation> = None;
    let mut recheck: Option<Instant> = None;
    loop {
        let observation = match (first.take(), recheck, last.take()) {
            (Some(first), _, _) => first,
            (None, Some(at), Some(previous)) => tokio::select! {
                next = watcher.next() => next?,
                _ = tokio::time::sleep_until(at) => previous,
            },
            _ => watcher.next().await?,
        };
        match decide(&observation) {
            ControlFlow::Break(result) => return Ok(result),
            ControlFlow::Continue(at) => {
                recheck = at;
                last = Some(observation);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn present(uid: Option<&str>) -> Observation {
        let mut app = Application::default();
        app.metadata.uid = uid.map(str::to_owned);
        Observation::Present(Box::new(app))
    }

    /// Each row: what the watch saw, the uid we deleted, whether it is gone.
    #[test]
    fn gone_is_absent_or_another_object_under_the_same_name() {
        let rows = [
            ("absent", Observation::Gone, Some("a"), true),
            ("absent, no uid known", Observation::Gone, None, true),
            ("the same object", present(Some("a")), Some("a"), false),
            ("created again", present(Some("b")), Some("a"), true),
            ("no uid known", present(Some("b")), None, false),
            ("no uid shown", present(None), Some("a"), false),
        ];
        for (name, observation, uid, gone) in rows {
            assert_eq!(is_deleted(&observation, uid), gone, "{name}");
        }
    }
}
