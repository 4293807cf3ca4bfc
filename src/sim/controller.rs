//! The simulated application controller: a background task that fires each
//! app's scheduled steps on time, plus deletion with finalizers.

use std::sync::Arc;

use tokio::time::Instant;

use super::error::ApiError;
use super::model::now;
use super::server::Shared;
use super::store::{Step, Store, Timer};

/// The finalizer for the default propagation policy.
const RESOURCES_FINALIZER: &str = "resources-finalizer.argocd.argoproj.io";
/// The finalizer for foreground propagation.
const FOREGROUND_FINALIZER: &str = "resources-finalizer.argocd.argoproj.io/foreground";
/// The finalizer for background propagation.
const BACKGROUND_FINALIZER: &str = "resources-finalizer.argocd.argoproj.io/background";

/// Runs the controller until the task is aborted.
pub(crate) async fn run(shared: Arc<Shared>) {
    loop {
        let next = {
            let mut store = shared.store();
            let now = Instant::now();
            while let Some(timer) = store.pop_due(now) {
                fire(&mut store, timer);
            }
            store.next_deadline()
        };
        // A wake-up permit stored by notify_one is not lost between unlock and await.
        match next {
            Some(at) => {
                tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = shared.wake.notified() => {}
                }
            }
            None => shared.wake.notified().await,
        }
    }
}

/// Runs one due step, unless its timeline was superseded.
fn fire(store: &mut Store, timer: Timer) {
    let Some(sim) = store.get(&timer.name) else {
        return;
    };
    if timer.step == Step::Remove {
        if sim.app.metadata.deletion_timestamp.is_some() {
            // Foreground cascade: the managed Applications go first, except
            // those whose Delete=false sync option keeps them.
            let children: Vec<String> = sim.scenario.children.clone();
            for child in children {
                let protected = store
                    .get(&child)
                    .is_none_or(|c| c.scenario.delete_protected);
                if !protected {
                    store.remove(&child);
                }
            }
            store.remove(&timer.name);
        }
        return;
    }
    if sim.token != timer.token {
        return;
    }
    match timer.step {
        Step::PickUp => store.pick_up(&timer.name),
        Step::Complete => store.complete(&timer.name),
        Step::StaleReconcile => store.stale_reconcile(&timer.name),
        Step::Recompare => store.recompare(&timer.name),
        Step::Reconcile => store.reconcile(&timer.name),
        Step::CreateChildren => store.create_children(&timer.name),
        Step::FinishTerminate => store.finish_terminate(&timer.name),
        Step::Remove => {}
    }
}

/// The finalizer argocd-server sets for a propagation policy, or `None` if the policy is invalid.
fn policy_finalizer(policy: &str) -> Option<&'static str> {
    match policy.to_ascii_lowercase().as_str() {
        "" => Some(RESOURCES_FINALIZER),
        "foreground" => Some(FOREGROUND_FINALIZER),
        "background" => Some(BACKGROUND_FINALIZER),
        _ => None,
    }
}

impl Store {
    /// `DELETE /api/v1/applications/{name}`: patches the propagation-policy
    /// finalizer, then deletes. With a finalizer the app stays (with
    /// `deletionTimestamp`) until the controller has removed its resources;
    /// without one it disappears at once.
    pub(crate) fn delete(
        &mut self,
        name: &str,
        cascade: Option<bool>,
        policy: &str,
        project: Option<&str>,
        app_namespace: Option<&str>,
    ) -> Result<(), ApiError> {
        let app = &self.lookup(name, project, app_namespace)?.app;
        if cascade == Some(false) && !policy.is_empty() {
            return Err(ApiError::invalid_argument(
                "cannot set propagation policy when cascading is disabled",
            ));
        }
        let mut finalizers = app.metadata.finalizers.clone();
        if cascade.unwrap_or(true) {
            let finalizer = policy_finalizer(policy).ok_or_else(|| {
                ApiError::invalid_argument(format!("invalid propagation policy: {policy}"))
            })?;
            if !finalizers.iter().any(|f| f == finalizer) {
                finalizers.push(finalizer.to_string());
            }
        } else {
            finalizers.retain(|f| {
                ![
                    RESOURCES_FINALIZER,
                    FOREGROUND_FINALIZER,
                    BACKGROUND_FINALIZER,
                ]
                .contains(&f.as_str())
            });
        }
        let already_deleting = app.metadata.deletion_timestamp.is_some();
        if finalizers != app.metadata.finalizers {
            self.update(name, |sim| sim.app.metadata.finalizers = finalizers.clone());
        }
        if finalizers.is_empty() {
            self.remove(name);
        } else if !already_deleting {
            self.update(name, |sim| {
                sim.app.metadata.deletion_timestamp = Some(now())
            });
            if let Some(delay) = self.get(name).map(|sim| sim.scenario.deletion_delay) {
                self.schedule(name, Step::Remove, delay);
            }
        }
        Ok(())
    }
}
