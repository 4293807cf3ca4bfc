//! One watch stream for every application of a run: a background task reads
//! `GET /api/v1/stream/applications` (all apps, filtered client-side) and
//! hands each app's latest state to its subscriber.
//!
//! That stream, and the listing after a reconnect, carry the apps of every
//! namespace Argo CD manages (argo-cd `server/application/application.go`,
//! `Server.isApplicationPermitted`), so an app of the same name in another
//! namespace is someone else's: only the one in the app's own namespace
//! ([`Client::namespace_of`]) reaches its subscriber.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{Follower, Observation, Update, Watcher};
use crate::argocd::{ArgoError, Client};

type Channel = watch::Receiver<Option<Observation>>;

/// The shared stream. Dropping it stops the background task.
pub struct Hub {
    /// One receiver per app, cloned for each subscriber. The task owns the
    /// senders, so when it stops every subscriber wakes with an error.
    channels: HashMap<String, Channel>,
    fatal: Arc<Mutex<Option<String>>>,
    /// Apps known to exist, so that a listing without them means they are gone.
    known: Arc<Mutex<HashSet<String>>>,
    task: JoinHandle<()>,
}

/// One app's view of the hub.
pub struct Subscription {
    name: String,
    receiver: Channel,
    fatal: Arc<Mutex<Option<String>>>,
}

impl Hub {
    /// Starts following every app in `names`.
    pub fn start(client: &Client, names: impl IntoIterator<Item = String>) -> Hub {
        let mut senders = HashMap::new();
        let mut channels = HashMap::new();
        for name in names {
            let (sender, receiver) = watch::channel(None);
            senders.insert(name.clone(), sender);
            channels.insert(name, receiver);
        }
        let namespaces = senders
            .keys()
            .map(|name| (name.clone(), client.namespace_of(name).to_owned()))
            .collect();
        let fatal = Arc::new(Mutex::new(None));
        let known = Arc::new(Mutex::new(HashSet::new()));
        let mut follower = Follower::new(client, None);
        // A listing on the first connection reports apps that vanished before it.
        follower.resync_on_first_connect = true;
        // In the span it was opened in (the action's), like its requests.
        let task = tokio::spawn(tracing::Instrument::in_current_span(follow(
            follower,
            senders,
            namespaces,
            fatal.clone(),
            known.clone(),
        )));
        Hub {
            channels,
            fatal,
            known,
            task,
        }
    }

    /// A watcher for an app the caller has just seen exist (teardown): if a
    /// listing after a reconnect lacks it, it is reported gone even when the
    /// hub itself never saw it.
    pub fn watcher_for_existing(&self, name: &str) -> Watcher {
        self.known.lock().unwrap().insert(name.to_owned());
        self.watcher(name)
    }

    /// A watcher for one app of the hub. Its first observation is the latest
    /// state the hub has seen, if any. An app missing from a listing is only
    /// reported gone once it was known to exist: a deploy may wait for an
    /// Application that its app-of-apps has yet to create.
    pub fn watcher(&self, name: &str) -> Watcher {
        let mut receiver = self
            .channels
            .get(name)
            .expect("the hub follows every app of the run")
            .clone();
        if receiver.borrow().is_some() {
            receiver.mark_changed();
        }
        Watcher(super::Source::Shared(Subscription {
            name: name.to_owned(),
            receiver,
            fatal: self.fatal.clone(),
        }))
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Subscription {
    /// The next state of the app; waits until it changes.
    pub async fn next(&mut self) -> Result<Observation, ArgoError> {
        if self.receiver.changed().await.is_err() {
            let last = self.fatal.lock().unwrap().clone().unwrap_or_default();
            return Err(ArgoError::Unavailable {
                what: format!("watch of {}", self.name),
                attempts: 1,
                last,
            });
        }
        Ok(self
            .receiver
            .borrow_and_update()
            .clone()
            .expect("a change always carries an observation"))
    }
}

/// Resource versions only grow; an older one is a stale replay after a reconnect.
fn version(observation: &Observation) -> Option<u64> {
    match observation {
        Observation::Present(app) => app.metadata.resource_version.as_deref()?.parse().ok(),
        Observation::Gone => None,
    }
}

/// Is this the app the hub follows as `name`, in the namespace it expects,
/// rather than a namesake in another namespace? Argo CD always sets
/// `metadata.namespace`; without one, nothing says it is ours.
fn is_followed(namespaces: &HashMap<String, String>, name: &str, namespace: Option<&str>) -> bool {
    namespaces
        .get(name)
        .is_some_and(|expected| namespace == Some(expected.as_str()))
}

async fn follow(
    mut follower: Follower,
    senders: HashMap<String, watch::Sender<Option<Observation>>>,
    namespaces: HashMap<String, String>,
    fatal: Arc<Mutex<Option<String>>>,
    known: Arc<Mutex<HashSet<String>>>,
) {
    let mut versions: HashMap<String, u64> = HashMap::new();
    let mut publish = |name: &str, observation: Observation| {
        let Some(sender) = senders.get(name) else {
            return;
        };
        if let Some(v) = version(&observation) {
            if versions.get(name).is_some_and(|&seen| v < seen) {
                return;
            }
            versions.insert(name.to_owned(), v);
        }
        sender.send_replace(Some(observation));
    };
    loop {
        match follower.next().await {
            Ok(Update::One {
                name,
                namespace,
                observation,
            }) => {
                if is_followed(&namespaces, &name, namespace.as_deref()) {
                    publish(&name, observation);
                }
            }
            Ok(Update::All(apps)) => {
                let known_names = known.lock().unwrap().clone();
                let mut present: HashMap<String, _> = apps
                    .into_iter()
                    .filter(|a| {
                        is_followed(
                            &namespaces,
                            &a.metadata.name,
                            a.metadata.namespace.as_deref(),
                        )
                    })
                    .map(|a| (a.metadata.name.clone(), a))
                    .collect();
                for name in senders.keys() {
                    match present.remove(name) {
                        Some(app) => publish(name, Observation::Present(Box::new(app))),
                        None if known_names.contains(name) => publish(name, Observation::Gone),
                        None => {}
                    }
                }
            }
            Err(e) => {
                tracing::error!(phase = "watch", "{e}");
                *fatal.lock().unwrap() = Some(e.to_string());
                // Returning drops the senders, which wakes every subscriber with the error.
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests;
