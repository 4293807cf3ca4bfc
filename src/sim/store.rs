//! The simulator's state: the Applications (like the Kubernetes API server holds
//! them), the controller's pending timers, and what tests inspect afterwards.
//!
//! Every change goes through [`Store::update`] or [`Store::remove`], which bump
//! `resourceVersion` and broadcast the watch event while the lock is held, so
//! watchers see changes in exactly the order they happened.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::time::Instant;

use crate::argocd::types::{Application, HealthStatus, WatchEvent};

use super::chaos::ChaosState;
use super::error::ApiError;
use super::gate::RecordedRequest;
use super::model::{initial_app, uid, ARGOCD_NAMESPACE};
use super::scenario::{AppScenario, InitialState, SimOutcome};

/// Capacity of the watch broadcast; a watcher further behind than this is disconnected.
const EVENT_CAPACITY: usize = 4096;

/// One app and the controller's bookkeeping about it.
#[derive(Debug)]
pub(crate) struct SimApp {
    /// What the API serves.
    pub app: Application,
    /// The app's timeline.
    pub scenario: AppScenario,
    /// Bumped whenever a timeline is superseded (new operation, termination);
    /// timers scheduled under an older token are ignored.
    pub token: u64,
    /// How the operation in flight ends.
    pub op_outcome: SimOutcome,
    /// The operation in flight is a dry run: it changes nothing.
    pub op_dry_run: bool,
    /// The health the next re-reconcile assesses; `None` keeps the current one.
    pub next_health: Option<HealthStatus>,
    /// The revision the next re-reconcile finds Synced; `None` keeps the sync status.
    pub next_sync: Option<String>,
    /// Child Applications the last sync applied, not yet visible.
    pub pending_children: Vec<String>,
}

impl SimApp {
    /// A freshly created app with nothing in flight.
    pub(crate) fn new(app: Application, scenario: AppScenario) -> SimApp {
        SimApp {
            op_outcome: scenario.outcome,
            app,
            scenario,
            token: 0,
            op_dry_run: false,
            next_health: None,
            next_sync: None,
            pending_children: Vec::new(),
        }
    }
}

/// What the controller does when a timer fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Copy the requested operation into `operationState` as Running.
    PickUp,
    /// Finish the running operation in one update.
    Complete,
    /// A reconcile that began before the operation's apply and lands after it:
    /// `reconciledAt` equal to `finishedAt`, the pre-sync comparison unchanged.
    StaleReconcile,
    /// The re-comparison right after an operation: `Synced`, and `Progressing`
    /// while the app's resources are not yet assessed.
    Recompare,
    /// Re-reconcile after an operation: refresh `reconciledAt`, compare, assess health.
    Reconcile,
    /// Make the child Applications an app-of-apps' sync applied visible.
    CreateChildren,
    /// Turn a Terminating operation into Failed.
    FinishTerminate,
    /// The finalizers are done: remove the app.
    Remove,
}

/// A step scheduled for one app.
#[derive(Debug)]
pub(crate) struct Timer {
    /// When it is due.
    pub at: Instant,
    /// Insertion order, to break ties.
    seq: u64,
    /// The app it is for.
    pub name: String,
    /// The app's token when it was scheduled.
    pub token: u64,
    /// What to do.
    pub step: Step,
}

impl PartialEq for Timer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Timer {}

impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timer {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Which apps a list or watch wants.
#[derive(Debug, Default, Clone)]
pub(crate) struct AppFilter {
    /// Only this name.
    pub name: Option<String>,
    /// Only these projects (any of them); empty means all.
    pub projects: Vec<String>,
    /// Only apps whose `resourceVersion` is at least this.
    pub min_version: u64,
}

impl AppFilter {
    /// Whether the app passes the filter.
    pub(crate) fn matches(&self, app: &Application) -> bool {
        let project = effective_project(app);
        self.name.as_ref().is_none_or(|n| *n == app.metadata.name)
            && (self.projects.is_empty() || self.projects.iter().any(|p| p == project))
            && resource_version(app) >= self.min_version
    }
}

/// `spec.project`, with Argo CD's default.
pub(crate) fn effective_project(app: &Application) -> &str {
    if app.spec.project.is_empty() {
        "default"
    } else {
        &app.spec.project
    }
}

fn resource_version(app: &Application) -> u64 {
    app.metadata
        .resource_version
        .as_deref()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// All mutable simulator state, behind one mutex.
#[derive(Debug)]
pub(crate) struct Store {
    apps: BTreeMap<String, SimApp>,
    resource_version: u64,
    timers: BinaryHeap<Reverse<Timer>>,
    timer_seq: u64,
    events: broadcast::Sender<WatchEvent>,
    /// When each app was last made Healthy by the controller.
    pub healthy_at: HashMap<String, std::time::Instant>,
    /// Apps in the order their deletion finished, with when it did.
    pub deletion_order: Vec<(String, std::time::Instant)>,
    /// Every request, in arrival order.
    pub requests: Vec<RecordedRequest>,
    /// Stream connections opened so far, for the drop fault.
    pub streams_opened: u32,
    /// Apps that do not exist yet: an app-of-apps creates them when its sync succeeds.
    pub unborn: HashMap<String, AppScenario>,
    /// The chaos generator, when the scenario asks for one.
    pub chaos: Option<ChaosState>,
    /// The answer `Faults::lose_answer_to` names was lost already.
    pub answer_lost: bool,
    /// The request `Faults::stall_answer_to` names was stalled already.
    pub answer_stalled: bool,
}

impl Store {
    /// An empty store.
    pub(crate) fn new() -> Store {
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        Store {
            apps: BTreeMap::new(),
            resource_version: 0,
            timers: BinaryHeap::new(),
            timer_seq: 0,
            events,
            healthy_at: HashMap::new(),
            deletion_order: Vec::new(),
            requests: Vec::new(),
            streams_opened: 0,
            unborn: HashMap::new(),
            chaos: None,
            answer_lost: false,
            answer_stalled: false,
        }
    }

    fn next_version(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    fn broadcast(&self, kind: &str, app: &Application) {
        // No receiver is not an error: nobody is watching.
        let _ = self.events.send(WatchEvent {
            kind: kind.to_string(),
            application: app.clone(),
        });
    }

    /// Adds an app at start-up, or when a test creates one.
    pub(crate) fn insert(&mut self, mut sim: SimApp) {
        sim.app.metadata.resource_version = Some(self.next_version());
        self.broadcast("ADDED", &sim.app);
        self.apps.insert(sim.app.metadata.name.clone(), sim);
    }

    /// Every app there is.
    pub(crate) fn all(&self) -> impl Iterator<Item = &SimApp> {
        self.apps.values()
    }

    /// The app with this name, if it exists.
    pub(crate) fn get(&self, name: &str) -> Option<&SimApp> {
        self.apps.get(name)
    }

    /// The app with this name, to change its scenario.
    pub(crate) fn get_mut(&mut self, name: &str) -> Option<&mut SimApp> {
        self.apps.get_mut(name)
    }

    /// The first refresh of an app whose scenario loses one: `true`, once.
    pub(crate) fn lose_refresh(&mut self, name: &str) -> bool {
        match self.apps.get_mut(name) {
            Some(sim) if sim.scenario.loses_refresh => {
                sim.scenario.loses_refresh = false;
                true
            }
            _ => false,
        }
    }

    /// Finds an app for an API call, with argocd-server's rules for hiding
    /// unknown apps: 403 without a project, 404 with one (also when the app
    /// lives in another project).
    pub(crate) fn lookup(
        &self,
        name: &str,
        project: Option<&str>,
        app_namespace: Option<&str>,
    ) -> Result<&SimApp, ApiError> {
        let project = project.filter(|p| !p.is_empty());
        // Any namespace other than argocd is not enabled; that error is not a
        // NotFound, so it becomes "permission denied" whatever the project.
        if app_namespace.is_some_and(|ns| !ns.is_empty() && ns != ARGOCD_NAMESPACE) {
            return Err(ApiError::permission_denied());
        }
        match (self.apps.get(name), project) {
            (None, None) => Err(ApiError::permission_denied()),
            (None, Some(_)) => Err(ApiError::app_not_found(name)),
            (Some(sim), Some(p)) if effective_project(&sim.app) != p => {
                Err(ApiError::app_not_found(name))
            }
            (Some(sim), _) => Ok(sim),
        }
    }

    /// Applies a change to an app: bumps `resourceVersion` (and `generation`
    /// when more than metadata changed, as for a CRD without a status
    /// subresource) and broadcasts MODIFIED. Returns the new state.
    pub(crate) fn update(
        &mut self,
        name: &str,
        change: impl FnOnce(&mut SimApp),
    ) -> Option<Application> {
        let version = self.resource_version + 1;
        let sim = self.apps.get_mut(name)?;
        let before = (
            sim.app.spec.clone(),
            sim.app.operation.clone(),
            sim.app.status.clone(),
        );
        change(sim);
        let app = &mut sim.app;
        if before != (app.spec.clone(), app.operation.clone(), app.status.clone()) {
            app.metadata.generation = Some(app.metadata.generation.unwrap_or(0) + 1);
        }
        app.metadata.resource_version = Some(version.to_string());
        let app = app.clone();
        self.resource_version = version;
        self.broadcast("MODIFIED", &app);
        Some(app)
    }

    /// Removes an app for good: broadcasts DELETED and records the order. A
    /// `recreated` app comes back at once, a new object under the same name.
    pub(crate) fn remove(&mut self, name: &str) {
        let version = self.next_version();
        if let Some(mut sim) = self.apps.remove(name) {
            sim.app.metadata.resource_version = Some(version);
            self.broadcast("DELETED", &sim.app);
            self.deletion_order
                .push((name.to_string(), std::time::Instant::now()));
            if sim.scenario.recreated {
                let scenario = AppScenario {
                    initial: InitialState::OutOfSync,
                    recreated: false,
                    ..sim.scenario
                };
                if let Some(app) = initial_app(&scenario, uid(name, self.resource_version)) {
                    self.insert(SimApp::new(app, scenario));
                }
            }
        }
    }

    /// The apps passing the filter, sorted by name as Argo CD sorts them.
    pub(crate) fn list(&self, filter: &AppFilter) -> Vec<Application> {
        self.apps
            .values()
            .map(|sim| &sim.app)
            .filter(|app| filter.matches(app))
            .cloned()
            .collect()
    }

    /// Subscribes to changes and takes the snapshot under the same lock, so
    /// that no change falls between the two and none is seen twice.
    pub(crate) fn watch(
        &self,
        filter: &AppFilter,
    ) -> (broadcast::Receiver<WatchEvent>, Vec<Application>) {
        (self.events.subscribe(), self.list(filter))
    }

    /// The current `resourceVersion` of the whole collection.
    pub(crate) fn collection_version(&self) -> String {
        self.resource_version.to_string()
    }

    /// Schedules a controller step for an app, under its current token.
    pub(crate) fn schedule(&mut self, name: &str, step: Step, after: Duration) {
        let Some(token) = self.apps.get(name).map(|sim| sim.token) else {
            return;
        };
        self.timer_seq += 1;
        self.timers.push(Reverse(Timer {
            at: crate::deadline::after(after),
            seq: self.timer_seq,
            name: name.to_string(),
            token,
            step,
        }));
    }

    /// Takes the earliest timer if it is due.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        if self.timers.peek().is_some_and(|Reverse(t)| t.at <= now) {
            self.timers.pop().map(|Reverse(t)| t)
        } else {
            None
        }
    }

    /// When the earliest timer is due.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse(t)| t.at)
    }
}
