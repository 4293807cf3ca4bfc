//! Sync operations, as argocd-server accepts them and the application
//! controller runs them.
//!
//! The API side only sets the top-level `operation`. The controller side picks
//! it up a moment later (`operationState` Running), completes it in one update
//! (final phase, `finishedAt`, `operation` cleared, health still stale), and
//! re-reconciles after the app's health delay (`reconciledAt`, final health).

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::argocd::types::{
    Application, ApplicationStatus, HealthStatus, Operation, OperationState, SyncOperationResult,
    SyncRequest,
};

use super::error::ApiError;
use super::model::{
    health, initial_app, now, outcome_health, resolve_revision, resources, sync_failed_message,
    sync_operation, uid, SYNC_SUCCEEDED_MESSAGE,
};
use super::scenario::{AppScenario, InitialState, SimOutcome};
use super::store::{SimApp, Step, Store};

/// How long the controller takes to notice a requested operation.
pub(crate) const PICKUP_DELAY: Duration = Duration::from_millis(20);
/// How long after an operation's end the stale reconcile lands.
pub(crate) const STALE_RECONCILE_DELAY: Duration = Duration::from_millis(5);
/// How long after an app-of-apps turns ready its new children become visible.
pub(crate) const CHILDREN_LAG: Duration = Duration::from_millis(100);
/// How long the controller takes to stop a Terminating operation.
pub(crate) const TERMINATE_DELAY: Duration = Duration::from_millis(50);
/// The user the scenario's token belongs to.
const SESSION_USER: &str = "admin";
/// The user who starts foreign operations.
const FOREIGN_USER: &str = "alice";

/// The comparison after a sync of `synced`. The controller compares against
/// `spec.source.targetRevision`, not what was synced (argo-cd 3.2.11
/// `controller/appcontroller.go`, `processAppRefreshQueueItem` passes
/// `app.Spec.GetSource().TargetRevision` to `CompareAppState`): a sync to
/// another commit leaves the app OutOfSync, compared at the target's head.
fn compare_synced(sim: &mut SimApp, synced: String) {
    let target = resolve_revision(revision_or_head(target_revision(&sim.app)));
    let status = &mut sim.app.status.sync;
    status.status = if synced == target {
        "Synced"
    } else {
        "OutOfSync"
    }
    .into();
    status.revision = Some(target);
}

/// A comparison after a completed sync sees what it applied: `Synced`, and
/// `Progressing` until the health step assesses the final health.
fn show_applied(sim: &mut SimApp) {
    if let Some(revision) = sim.next_sync.take() {
        compare_synced(sim, revision);
        let progressing = if sim.next_health.is_some() {
            health("Progressing", None)
        } else {
            sim.app.status.health.clone()
        };
        set_health(sim, progressing);
    }
}

/// Sets health, keeping `lastTransitionTime` when the status does not change.
fn set_health(sim: &mut SimApp, new: HealthStatus) {
    let status = &mut sim.app.status;
    let new = if status.health.status == new.status {
        HealthStatus {
            last_transition_time: status.health.last_transition_time,
            ..new
        }
    } else {
        new
    };
    status.resources = resources(&sim.app.metadata.name, &status.sync.status, &new);
    status.health = new;
}

/// `spec.source.targetRevision` as written (possibly empty).
fn target_revision(app: &Application) -> &str {
    app.spec
        .source
        .as_ref()
        .and_then(|s| s.target_revision.as_deref())
        .unwrap_or("")
}

fn revision_or_head(revision: &str) -> &str {
    if revision.is_empty() {
        "HEAD"
    } else {
        revision
    }
}

fn is_automated(app: &Application) -> bool {
    app.spec
        .sync_policy
        .as_ref()
        .is_some_and(|p| p.automated.is_some())
}

impl Store {
    /// `POST /api/v1/applications/{name}/sync`: validates like argocd-server
    /// and sets the top-level `operation`; the controller does the rest.
    pub(crate) fn request_sync(
        &mut self,
        name: &str,
        request: &SyncRequest,
    ) -> Result<Application, ApiError> {
        let app = &self
            .lookup(
                name,
                request.project.as_deref(),
                request.app_namespace.as_deref(),
            )?
            .app;
        let dry_run = request.dry_run == Some(true);
        if app.metadata.deletion_timestamp.is_some() {
            return Err(ApiError::failed_precondition("application is deleting"));
        }
        let requested = request.revision.as_deref().unwrap_or("");
        let target = target_revision(app);
        // Argo CD refuses to pin an auto-synced app to anything but its target.
        if is_automated(app)
            && !dry_run
            && !requested.is_empty()
            && requested != revision_or_head(target)
        {
            return Err(ApiError::failed_precondition(format!(
                "Cannot sync to {requested}: auto-sync currently set to {target}"
            )));
        }
        let wanted = if requested.is_empty() {
            target
        } else {
            requested
        };
        let revision = resolve_revision(revision_or_head(wanted));
        // argo.SetAppOperation refuses while any operation is set; the server wraps its error.
        if app.operation.is_some() {
            return Err(ApiError::failed_precondition(
                "error setting app operation: another operation is already in progress",
            ));
        }
        let mut operation = sync_operation(revision, Some(SESSION_USER));
        if let Some(sync) = operation.sync.as_mut() {
            // Go's omitempty drops `prune: false`.
            sync.prune = request.prune.filter(|prune| *prune);
            sync.sync_options = request
                .sync_options
                .as_ref()
                .map(|o| o.items.clone())
                .unwrap_or_default();
        }
        operation.info = request.infos.clone();
        let app = self.set_operation(name, operation, None, dry_run);
        app.ok_or_else(|| ApiError::app_not_found(name))
    }

    /// Sets a requested operation and schedules its pick-up.
    fn set_operation(
        &mut self,
        name: &str,
        operation: Operation,
        outcome: Option<SimOutcome>,
        dry_run: bool,
    ) -> Option<Application> {
        let app = self.update(name, |sim| {
            sim.token += 1;
            sim.app.operation = Some(operation);
            sim.op_outcome = outcome.unwrap_or(sim.scenario.outcome);
            sim.op_dry_run = dry_run;
            sim.next_health = None;
            sim.next_sync = None;
        });
        self.schedule(name, Step::PickUp, PICKUP_DELAY);
        app
    }

    /// `GET ...?refresh=`: the controller compares again (`reconciledAt`), and
    /// an auto-synced app that is OutOfSync gets an automated operation.
    pub(crate) fn refresh(&mut self, name: &str) -> Option<Application> {
        let app = self.update(name, |sim| {
            mark_reconciled(&mut sim.app.status);
            show_applied(sim);
        })?;
        let target = resolve_revision(revision_or_head(target_revision(&app)));
        // Argo CD does not retry an automated sync that failed for the same revision.
        let failed_before = app.status.operation_state.as_ref().is_some_and(|s| {
            s.phase != "Succeeded"
                && s.operation
                    .initiated_by
                    .as_ref()
                    .is_some_and(|i| i.automated == Some(true))
                && s.sync_result.as_ref().is_some_and(|r| r.revision == target)
        });
        if !is_automated(&app)
            || app.status.sync.status != "OutOfSync"
            || app.operation.is_some()
            || app.metadata.deletion_timestamp.is_some()
            || failed_before
        {
            return Some(app);
        }
        let mut operation = sync_operation(target, None);
        if let Some(sync) = operation.sync.as_mut() {
            sync.prune = app
                .spec
                .sync_policy
                .as_ref()
                .and_then(|p| p.automated.as_ref())
                .and_then(|a| a.prune)
                .filter(|prune| *prune);
        }
        self.set_operation(name, operation, None, false)
    }

    /// At start: an operation someone else started is already Running.
    pub(crate) fn start_foreign_operation(&mut self, name: &str, duration: Duration) {
        let Some(sim) = self.get(name) else {
            return;
        };
        let revision = resolve_revision(revision_or_head(target_revision(&sim.app)));
        let operation = sync_operation(revision.clone(), Some(FOREIGN_USER));
        self.update(name, |sim| {
            sim.token += 1;
            sim.op_outcome = SimOutcome::Healthy;
            sim.op_dry_run = false;
            sim.app.operation = Some(operation.clone());
            // Health stays as the last comparison found it, as in `pick_up`
            // (calibrated: tests/e2e/calibration.rs, someone else's operation).
            sim.app.status.operation_state = Some(running_state(operation, revision));
        });
        self.schedule(name, Step::Complete, duration);
    }

    /// Controller: copies the requested operation into `operationState` as Running.
    pub(crate) fn pick_up(&mut self, name: &str) {
        let Some((operation, duration)) = self
            .get(name)
            .and_then(|sim| Some((sim.app.operation.clone()?, sim.scenario.sync_duration)))
        else {
            return;
        };
        let revision = operation
            .sync
            .as_ref()
            .and_then(|s| s.revision.clone())
            .unwrap_or_default();
        // Health stays as the last comparison found it (Missing for a new app):
        // the controller reassesses it only when it reconciles again.
        self.update(name, |sim| {
            sim.app.status.operation_state = Some(running_state(operation, revision));
        });
        self.schedule(name, Step::Complete, duration);
    }

    /// Controller: finishes the operation in one update. Health is left as it
    /// was and `reconciledAt` stays before `finishedAt`: the stale window.
    pub(crate) fn complete(&mut self, name: &str) {
        let mut created = Vec::new();
        self.update(name, |sim| {
            if sim.op_outcome != SimOutcome::OperationFailed && !sim.op_dry_run {
                // An app-of-apps' sync applies its child Application manifests.
                created = sim.scenario.children.clone();
            }
            let finished = now();
            let failed = sim.op_outcome == SimOutcome::OperationFailed && !sim.op_dry_run;
            let app_name = sim.app.metadata.name.clone();
            let status = &mut sim.app.status;
            let Some(state) = status.operation_state.as_mut() else {
                return;
            };
            let revision = state
                .sync_result
                .as_ref()
                .map(|r| r.revision.clone())
                .unwrap_or_default();
            state.finished_at = Some(finished);
            if failed {
                state.phase = "Failed".into();
                state.message = Some(sync_failed_message(&app_name));
            } else {
                state.phase = "Succeeded".into();
                state.message = Some(SYNC_SUCCEEDED_MESSAGE.into());
            }
            // Argo CD 3.2.11 ends the operation with the pre-sync comparison still
            // in place; only the re-comparison after it shows Synced.
            sim.next_sync = (!failed && !sim.op_dry_run).then_some(revision);
            keep_stale(status, finished);
            sim.app.operation = None;
            let current = sim.app.status.health.clone();
            set_health(sim, current);
            sim.next_health = (!sim.op_dry_run).then(|| outcome_health(sim.op_outcome, &app_name));
        });
        let lag = self
            .get(name)
            .map(|sim| sim.scenario.health_delay.saturating_add(CHILDREN_LAG));
        if let (false, Some(lag)) = (created.is_empty(), lag) {
            self.update(name, |sim| sim.pending_children = created);
            self.schedule(name, Step::CreateChildren, lag);
        }
        self.schedule_reconcile(name);
    }

    /// The child Applications an app-of-apps' sync applied become visible
    /// through argocd-server, whose reads come from its informer cache: a
    /// moment after the parent itself looks ready.
    pub(crate) fn create_children(&mut self, name: &str) {
        let Some(children) = self.get(name).map(|sim| sim.pending_children.clone()) else {
            return;
        };
        self.update(name, |sim| sim.pending_children.clear());
        for child in children {
            if let Some(scenario) = self.unborn.remove(&child) {
                let scenario = AppScenario {
                    initial: InitialState::OutOfSync,
                    ..scenario
                };
                if let Some(app) = initial_app(&scenario, uid(&child, 0)) {
                    self.insert(SimApp::new(app, scenario));
                }
            }
        }
    }

    /// Controller: the reconcile that started before the operation's apply
    /// lands after it, stamped in the operation's final second (or, with
    /// `lagging_cache`, the next one), with the old comparison (watched on
    /// Argo CD 3.2.11 after a new app's first sync).
    pub(crate) fn stale_reconcile(&mut self, name: &str) {
        self.update(name, |sim| {
            let lag = TimeDelta::seconds(i64::from(sim.scenario.lagging_cache));
            let status = &mut sim.app.status;
            if let Some(finished) = status.operation_state.as_ref().and_then(|s| s.finished_at) {
                status.reconciled_at = Some(finished + lag);
            }
        });
    }

    /// Controller: the re-comparison after an operation shows what it applied,
    /// `Synced` and, while the resources are still being assessed, `Progressing`
    /// (watched on Argo CD 3.2.11 a few milliseconds after the stale reconcile).
    pub(crate) fn recompare(&mut self, name: &str) {
        self.update(name, |sim| {
            if sim.next_sync.is_some() {
                mark_reconciled(&mut sim.app.status);
                show_applied(sim);
            }
        });
    }

    /// Controller: re-reconciles after an operation: compares again and assesses health.
    pub(crate) fn reconcile(&mut self, name: &str) {
        let mut assessed = None;
        self.update(name, |sim| {
            mark_reconciled(&mut sim.app.status);
            if let Some(revision) = sim.next_sync.take() {
                compare_synced(sim, revision);
                let current = sim.app.status.health.clone();
                set_health(sim, current);
            }
            if let Some(new) = sim.next_health.take() {
                assessed = Some(new.status.clone());
                set_health(sim, new);
            }
        });
        if assessed.as_deref() == Some("Healthy") {
            self.healthy_at
                .insert(name.to_string(), std::time::Instant::now());
        }
    }

    /// `DELETE /api/v1/applications/{name}/operation`: marks the operation
    /// Terminating; the controller stops it shortly after.
    pub(crate) fn terminate(
        &mut self,
        name: &str,
        project: Option<&str>,
        app_namespace: Option<&str>,
    ) -> Result<(), ApiError> {
        let app = &self.lookup(name, project, app_namespace)?.app;
        // Argo CD checks both fields: a sync not yet picked up by the controller
        // of an app that never ran one cannot be terminated.
        if app.operation.is_none() || app.status.operation_state.is_none() {
            return Err(ApiError::invalid_argument(
                "Unable to terminate operation. No operation is in progress",
            ));
        }
        self.update(name, |sim| {
            sim.token += 1;
            if let Some(state) = sim.app.status.operation_state.as_mut() {
                state.phase = "Terminating".into();
            }
        });
        self.schedule(name, Step::FinishTerminate, TERMINATE_DELAY);
        Ok(())
    }

    /// Controller: a Terminating operation ends as Failed.
    pub(crate) fn finish_terminate(&mut self, name: &str) {
        self.update(name, |sim| {
            let finished = now();
            if let Some(state) = sim.app.status.operation_state.as_mut() {
                state.phase = "Failed".into();
                state.message = Some("Operation terminated".into());
                state.finished_at = Some(finished);
            }
            keep_stale(&mut sim.app.status, finished);
            sim.app.operation = None;
            sim.next_health = None;
            sim.next_sync = None;
        });
        self.schedule_reconcile(name);
    }

    fn schedule_reconcile(&mut self, name: &str) {
        let delays = self
            .get(name)
            .map(|sim| (sim.scenario.health_delay, sim.scenario.recompare_delay));
        if let Some((delay, recompare)) = delays {
            // Scheduled in this order, so they land in it even when due at once.
            self.schedule(name, Step::StaleReconcile, delay.min(STALE_RECONCILE_DELAY));
            // A health step due by then compares in the same update.
            if recompare < delay {
                self.schedule(name, Step::Recompare, recompare);
            }
            self.schedule(name, Step::Reconcile, delay);
        }
    }
}

/// The state the controller writes when it starts an operation.
fn running_state(operation: Operation, revision: String) -> OperationState {
    OperationState {
        operation,
        phase: "Running".into(),
        message: None,
        sync_result: Some(SyncOperationResult {
            revision,
            revisions: Vec::new(),
            resources: Vec::new(),
        }),
        started_at: Some(now()),
        finished_at: None,
    }
}

/// The controller compared the app just now. Never before the last
/// `finishedAt`, which second precision could otherwise make it look, nor
/// before the last comparison.
fn mark_reconciled(status: &mut ApplicationStatus) {
    let finished = status.operation_state.as_ref().and_then(|s| s.finished_at);
    let reconciled = [Some(now()), finished, status.reconciled_at]
        .into_iter()
        .flatten()
        .max();
    status.reconciled_at = reconciled;
}

/// Keeps `reconciledAt` strictly before `finishedAt`. With second precision
/// the two could tie, which would hide the stale window this simulator exists
/// to show.
fn keep_stale(status: &mut ApplicationStatus, finished: DateTime<Utc>) {
    let before = finished - TimeDelta::seconds(1);
    status.reconciled_at = Some(status.reconciled_at.map_or(before, |r| r.min(before)));
}
