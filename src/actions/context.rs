//! What every action needs: the client, the configuration, this run's identity,
//! and a builder for component results that records the deciding snapshot.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::failure::reason_of;
use crate::argocd::types::{Application, Info};
use crate::argocd::{ArgoError, Client};
use crate::config::Config;
use crate::deadline::{Deadline, DeadlineKind};
use crate::outcome::{ComponentResult, ComponentStatus, FailureReason};
use crate::readiness::RUN_MARKER;
use crate::wait::hub::Hub;
use crate::wait::Watcher;

/// Shared state of one run.
#[derive(Clone)]
pub struct RunContext {
    /// The Argo CD client.
    pub client: Client,
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The Kubernetes API, when the run has cluster access.
    pub cluster: Option<crate::cluster::Cluster>,
    /// Unique id of this run, put into the `infos` of every sync it starts.
    pub run_id: String,
    /// The run's shared watch stream, when it follows more than one app.
    pub hub: Option<Arc<Hub>>,
    /// Operations this run started and has not seen end, for a cancel to terminate.
    pub in_flight: super::cancel::InFlight,
}

/// The deadlines of one component, each with the setting it came from.
#[derive(Debug, Clone)]
pub struct Deadlines {
    /// From sync request to operation completed.
    pub sync: Deadline,
    /// From operation completed to ready.
    pub health: Deadline,
}

impl Deadlines {
    /// Both deadlines end to end, as teardown waits; saturating, so that no
    /// input can make the sum overflow.
    pub fn total(&self) -> Duration {
        self.sync.after.saturating_add(self.health.after)
    }
}

impl From<&crate::dag::Node> for Deadlines {
    fn from(node: &crate::dag::Node) -> Self {
        Deadlines {
            sync: Deadline::new(
                DeadlineKind::Sync,
                node.sync_timeout,
                node.sync_source.clone(),
            ),
            health: Deadline::new(
                DeadlineKind::Health,
                node.health_timeout,
                node.health_source.clone(),
            ),
        }
    }
}

impl RunContext {
    /// The deadlines of a component: its DAG node's, else environment.yaml's,
    /// replaced by `--sync-timeout` / `--health-timeout` when given.
    pub fn deadlines(&self, node: Option<&crate::dag::Node>) -> Deadlines {
        let node = node.map(Deadlines::from);
        let config = &self.config;
        Deadlines {
            sync: Deadline::resolve(
                DeadlineKind::Sync,
                config.sync_override,
                node.as_ref().map(|n| n.sync.clone()),
                config.sync_timeout,
            ),
            health: Deadline::resolve(
                DeadlineKind::Health,
                config.health_override,
                node.map(|n| n.health),
                config.health_timeout,
            ),
        }
    }

    /// A watcher for `name`: through the shared hub when there is one.
    pub fn watcher(&self, name: &str) -> Watcher {
        match &self.hub {
            Some(hub) => hub.watcher(name),
            None => Watcher::new(&self.client, name),
        }
    }

    /// The `infos` marker that identifies this run's operations.
    pub fn marker(&self) -> Info {
        Info {
            name: RUN_MARKER.to_owned(),
            value: self.run_id.clone(),
        }
    }
}

/// Starts timing one component and builds its result when the decision is made.
pub struct Tracker {
    name: String,
    kind: &'static str,
    started_at: DateTime<Utc>,
    started: Instant,
}

impl Tracker {
    /// Starts the clock for an application.
    pub fn app(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind: "app",
            started_at: Utc::now(),
            started: Instant::now(),
        }
    }

    /// The component's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The result, with the snapshot the decision was made on.
    pub fn finish(
        &self,
        status: ComponentStatus,
        app: Option<&Application>,
        message: impl Into<String>,
    ) -> ComponentResult {
        let message = message.into();
        tracing::info!(phase = "result", component = %self.name, "{}: {message}", crate::outcome::word(status));
        ComponentResult {
            name: self.name.clone(),
            kind: self.kind,
            application: Some(self.name.clone()),
            status,
            health: app
                .map(|a| a.status.health.status.clone())
                .filter(|s| !s.is_empty()),
            sync: app
                .map(|a| a.status.sync.status.clone())
                .filter(|s| !s.is_empty()),
            operation: app
                .and_then(|a| a.status.operation_state.as_ref())
                .map(|s| s.phase.clone())
                .filter(|s| !s.is_empty()),
            revision: app.and_then(|a| a.status.sync.revision.clone()),
            started_at: crate::report::rfc3339(self.started_at),
            duration_seconds: self.started.elapsed().as_millis() as f64 / 1000.0,
            message,
            termination: None,
            failure: None,
            deadlines: Vec::new(),
            checks: Vec::new(),
            managed: app.map(|a| a.status.resources.clone()).unwrap_or_default(),
            compliance: Vec::new(),
            // The snapshot the decision was made on, for the failure's entry.
            evidence: app
                .filter(|_| !status.is_ok())
                .map(|a| crate::evidence::Evidence::of(a, None)),
        }
    }

    /// A failed result with its reason.
    pub fn fail(
        &self,
        status: ComponentStatus,
        reason: FailureReason,
        app: Option<&Application>,
        message: impl Into<String>,
    ) -> ComponentResult {
        let mut result = self.finish(status, app, message);
        result.failure = Some(reason);
        result
    }

    /// A timed-out result: `passed` are the deadlines that ran out, which the
    /// recommendation names.
    pub fn timeout(
        &self,
        passed: &[&Deadline],
        reason: FailureReason,
        app: Option<&Application>,
        message: impl Into<String>,
    ) -> ComponentResult {
        let mut result = self.fail(ComponentStatus::Timeout, reason, app, message);
        result.deadlines = passed.iter().map(|&d| d.clone()).collect();
        result
    }

    /// A failed result from an API error.
    pub fn api_error(&self, error: &ArgoError, app: Option<&Application>) -> ComponentResult {
        self.fail(
            ComponentStatus::Failed,
            reason_of(error),
            app,
            error.to_string(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_deadline_saturates() {
        let cases = [
            (
                Duration::from_secs(60),
                Duration::from_secs(30),
                Duration::from_secs(90),
            ),
            (Duration::MAX, Duration::from_secs(1), Duration::MAX),
            (Duration::MAX, Duration::MAX, Duration::MAX),
        ];
        let env = crate::deadline::DeadlineSource::Environment;
        for (sync, health, total) in cases {
            let deadlines = Deadlines {
                sync: Deadline::new(DeadlineKind::Sync, sync, env.clone()),
                health: Deadline::new(DeadlineKind::Health, health, env.clone()),
            };
            assert_eq!(deadlines.total(), total, "{sync:?} + {health:?}");
        }
    }
}
