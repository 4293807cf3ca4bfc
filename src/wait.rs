//! The event loop over the watch stream. It never sleeps to poll while the
//! stream works, and it never owns a deadline: callers wrap it in
//! `tokio::time::timeout`.

use std::ops::ControlFlow;
use std::time::Duration;

use backoff::backoff::Backoff;
use backoff::ExponentialBackoff;
use tokio::time::Instant;

use crate::argocd::stream::EventStream;
use crate::argocd::types::Application;
use crate::argocd::{ArgoError, Client};

/// Consecutive stream failures after which the watcher falls back to polling.
const MAX_STREAM_FAILURES: u32 = 3;
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

/// Follows one application through the watch stream, reconnecting with
/// backoff when it drops and polling `GET` after repeated failures.
pub struct Watcher {
    client: Client,
    name: String,
    stream: Option<EventStream>,
    connects: u32,
    failures: u32,
    polling: Option<Instant>,
    backoff: ExponentialBackoff,
    resync: bool,
    resync_on_first_connect: bool,
}

impl Watcher {
    /// A watcher for `name`; nothing is requested until the first [`Watcher::next`].
    pub fn new(client: &Client, name: &str) -> Self {
        Self {
            backoff: client.backoff(),
            client: client.clone(),
            name: name.to_owned(),
            stream: None,
            connects: 0,
            failures: 0,
            polling: None,
            resync: false,
            resync_on_first_connect: false,
        }
    }

    /// Also `GET` the app right after the first connection. Needed when the app
    /// may vanish before the stream opens: for an unknown name Argo CD's stream
    /// sends nothing at all, so only a `GET` can tell that it is gone.
    pub fn confirm_on_connect(mut self) -> Self {
        self.resync_on_first_connect = true;
        self
    }

    /// The next observation. Errors are only the ones retrying cannot fix
    /// (authentication, permission, a GET that kept failing while polling).
    pub async fn next(&mut self) -> Result<Observation, ArgoError> {
        loop {
            if let Some(due) = self.polling {
                tokio::time::sleep_until(due).await;
                self.polling = Some(Instant::now() + POLL_INTERVAL);
                return self.get().await;
            }
            if self.resync {
                self.resync = false;
                return self.get().await;
            }
            let Some(stream) = self.stream.as_mut() else {
                match self.client.watch(&self.name).await {
                    Ok(stream) => {
                        self.stream = Some(stream);
                        // After a gap, a GET catches a deletion the stream cannot report.
                        self.resync = self.connects > 0 || self.resync_on_first_connect;
                        self.connects += 1;
                    }
                    Err(e) => self.fail(e).await?,
                }
                continue;
            };
            match stream.next_event().await {
                Ok(Some(event)) => {
                    self.failures = 0;
                    self.backoff.reset();
                    return Ok(match event.kind.as_str() {
                        "DELETED" => Observation::Gone,
                        _ => Observation::Present(Box::new(event.application)),
                    });
                }
                Ok(None) => {
                    self.stream = None;
                    self.fail(ArgoError::Unavailable {
                        what: "watch stream".to_owned(),
                        attempts: 1,
                        last: "closed by the server".to_owned(),
                    })
                    .await?;
                }
                Err(e) => {
                    self.stream = None;
                    self.fail(e).await?;
                }
            }
        }
    }

    async fn get(&self) -> Result<Observation, ArgoError> {
        Ok(match self.client.find_app(&self.name, false).await? {
            Some(app) => Observation::Present(Box::new(app)),
            None => Observation::Gone,
        })
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
        if self.failures >= MAX_STREAM_FAILURES {
            tracing::warn!(phase = "watch", component = %self.name, "watch stream failed {} times ({error}); falling back to polling every {POLL_INTERVAL:?}", self.failures);
            self.polling = Some(Instant::now());
            return Ok(());
        }
        let pause = self.backoff.next_backoff().unwrap_or(POLL_INTERVAL);
        tracing::info!(phase = "watch", component = %self.name, "watch stream interrupted ({error}); reconnecting in {pause:?}");
        tokio::time::sleep(pause).await;
        Ok(())
    }
}

/// Feeds observations to `decide` until it breaks. `Continue(Some(at))` asks
/// to decide again at `at` even if nothing new arrives (a grace period ending).
pub async fn until<T>(
    watcher: &mut Watcher,
    mut decide: impl FnMut(&Observation) -> ControlFlow<T, Option<Instant>>,
) -> Result<T, ArgoError> {
    let mut last: Option<Observation> = None;
    let mut recheck: Option<Instant> = None;
    loop {
        let observation = match (recheck, last.take()) {
            (Some(at), Some(previous)) => tokio::select! {
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
