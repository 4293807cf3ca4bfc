//! The running simulator: binds loopback, serves the API in a background task,
//! runs the controller, and lets tests inspect what happened.

use std::collections::HashSet;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::argocd::types::Application;

use super::chaos::{ChaosFault, ChaosState};
use super::controller;
use super::gate::{fault_for, Injected, RecordedRequest};
use super::handlers;
use super::model::{initial_app, uid};
use super::scenario::{Faults, Scenario};
use super::store::{SimApp, Store};

/// State shared by the HTTP handlers and the controller task.
pub(crate) struct Shared {
    store: Mutex<Store>,
    /// Wakes the controller when a step was scheduled.
    pub wake: Notify,
    /// The accepted bearer token.
    pub token: String,
    /// The injected faults.
    pub faults: Faults,
    /// Becomes `true` when the simulator shuts down; open streams end.
    pub shutdown: watch::Receiver<bool>,
}

impl Shared {
    /// Whether this refresh of `name` is the one its controller loses
    /// (`AppScenario::loses_refresh`, once).
    pub(crate) fn lose_refresh(&self, name: &str) -> bool {
        self.store().lose_refresh(name)
    }

    /// Locks the store. A poisoned lock means a handler panicked: a bug, so panic too.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().expect("simulator store lock poisoned")
    }

    /// Runs a change on the store and wakes the controller, which may have new steps.
    pub(crate) fn mutate<T>(&self, change: impl FnOnce(&mut Store) -> T) -> T {
        let result = change(&mut self.store());
        self.wake.notify_one();
        result
    }

    /// Records an arriving request; returns its index and the fault it gets, if any.
    pub(crate) fn record(&self, request: RecordedRequest) -> (usize, Option<Injected>) {
        let mut store = self.store();
        let index = store.requests.len();
        let key = format!("{} {}?{}", request.method, request.path, request.query);
        let path = request.path.clone();
        store.requests.push(request);
        let store = &mut *store;
        let fault = fault_for(&self.faults, index)
            .or_else(|| {
                first_to(&self.faults.lose_answer_to, &path, &mut store.answer_lost)
                    .then_some(Injected::LostResponse)
            })
            .or_else(|| {
                first_to(
                    &self.faults.stall_answer_to,
                    &path,
                    &mut store.answer_stalled,
                )
                .then_some(Injected::Stalled)
            })
            .or_else(|| Some(store.chaos.as_mut()?.decide(&key)?.into()));
        (index, fault)
    }

    /// Fills in the status answered to a recorded request.
    pub(crate) fn set_status(&self, index: usize, status: u16) {
        if let Some(request) = self.store().requests.get_mut(index) {
            request.status = status;
        }
    }
}

/// The request to `path` is the first whose path ends with `suffix`: it gets
/// that fault, once (`done` remembers).
fn first_to(suffix: &Option<String>, path: &str, done: &mut bool) -> bool {
    suffix
        .as_deref()
        .is_some_and(|suffix| path.ends_with(suffix))
        && !std::mem::replace(done, true)
}

/// A stateful, in-process Argo CD API on 127.0.0.1.
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Simulator {
    /// Binds 127.0.0.1:0 and serves the scenario in a background tokio task.
    pub async fn start(scenario: Scenario) -> io::Result<Simulator> {
        let mut names = HashSet::new();
        if let Some(dup) = scenario
            .apps
            .iter()
            .find(|a| !names.insert(a.name.as_str()))
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("app {:?} appears twice in the scenario", dup.name),
            ));
        }
        let mut store = Store::new();
        store.chaos = scenario.faults.chaos.clone().map(ChaosState::new);
        for (serial, app_scenario) in (1..).zip(&scenario.apps) {
            let Some(app) = initial_app(app_scenario, uid(&app_scenario.name, serial)) else {
                store
                    .unborn
                    .insert(app_scenario.name.clone(), app_scenario.clone());
                continue;
            };
            store.insert(SimApp::new(app, app_scenario.clone()));
            if let Some(duration) = app_scenario.foreign_operation {
                store.start_foreign_operation(&app_scenario.name, duration);
            }
        }
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            wake: Notify::new(),
            token: scenario.token,
            faults: scenario.faults,
            shutdown: shutdown_rx,
        });
        let router = handlers::router(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::warn!(%error, "argo cd simulator stopped serving");
            }
        });
        let mut tasks = vec![server];
        if !shared.faults.controller_stopped {
            tasks.push(tokio::spawn(controller::run(Arc::clone(&shared))));
        }
        Ok(Simulator {
            shared,
            addr,
            shutdown,
            tasks,
        })
    }

    /// The state its handlers share, for the simulated Kubernetes API.
    pub(crate) fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    /// `"http://127.0.0.1:PORT"`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// [`Simulator::url`] as the client takes it.
    pub fn base_url(&self) -> reqwest::Url {
        reqwest::Url::parse(&self.url()).expect("http:// and a socket address form a valid URL")
    }

    /// Every request received, in arrival order (including ones answered with injected faults).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.store().requests.clone()
    }

    /// The faults chaos injected so far, in order.
    pub fn chaos_faults(&self) -> Vec<ChaosFault> {
        self.shared
            .store()
            .chaos
            .as_ref()
            .map(|chaos| chaos.injected.clone())
            .unwrap_or_default()
    }

    /// Current state of an app, `None` once deleted.
    pub fn app(&self, name: &str) -> Option<Application> {
        self.shared.store().get(name).map(|sim| sim.app.clone())
    }

    /// The instant at which the simulator made the app Healthy (after its last sync),
    /// for latency benchmarks.
    pub fn healthy_at(&self, name: &str) -> Option<std::time::Instant> {
        self.shared.store().healthy_at.get(name).copied()
    }

    /// Names of apps in the order they were finally removed (deletion finished).
    pub fn deletion_order(&self) -> Vec<String> {
        let store = self.shared.store();
        store
            .deletion_order
            .iter()
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// When the app's deletion finished (it disappeared), if it did.
    pub fn deleted_at(&self, name: &str) -> Option<std::time::Instant> {
        let store = self.shared.store();
        store
            .deletion_order
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, at)| at)
    }

    /// Changes how the app's next operations end, as a fix pushed to Git would.
    pub fn set_outcome(&self, name: &str, outcome: super::scenario::SimOutcome) {
        self.shared.mutate(|store| {
            if let Some(sim) = store.get_mut(name) {
                sim.scenario.outcome = outcome;
            }
        });
    }

    /// Someone else deletes the app: it disappears at once (a DELETED event).
    pub fn delete_now(&self, name: &str) {
        self.shared.mutate(|store| store.remove(name));
    }

    /// Someone else terminates the app's operation, as `argocd app terminate-op` does.
    pub fn terminate_operation(&self, name: &str) -> bool {
        self.shared
            .mutate(|store| store.terminate(name, None, None))
            .is_ok()
    }

    /// Stops serving (aborts the tasks and ends open streams); also done on drop.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        // Nobody may be listening any more; that is fine.
        let _ = self.shutdown.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("addr", &self.addr)
            .finish()
    }
}
