//! What every action needs: the client, the configuration, this run's identity,
//! and a builder for component results that records the deciding snapshot.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::argocd::types::{Application, Info};
use crate::argocd::{ArgoError, Client};
use crate::cli::config::Config;
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
    /// Unique id of this run, put into the `infos` of every sync it starts.
    pub run_id: String,
    /// The run's shared watch stream, when it follows more than one app.
    pub hub: Option<Arc<Hub>>,
    /// Operations this run started and has not seen end, for a cancel to terminate.
    pub in_flight: super::cancel::InFlight,
}

/// The deadlines of one component: environment.yaml's, or its DAG node's.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// From sync request to operation completed.
    pub sync: Duration,
    /// From operation completed to ready.
    pub health: Duration,
}

impl From<&crate::dag::Node> for Deadlines {
    fn from(node: &crate::dag::Node) -> Self {
        Deadlines {
            sync: node.sync_timeout,
            health: node.health_timeout,
        }
    }
}

impl RunContext {
    /// The deadlines of a component: its DAG node's, else environment.yaml's,
    /// replaced by `--sync-timeout` / `--health-timeout` when given.
    pub fn deadlines(&self, node: Option<&crate::dag::Node>) -> Deadlines {
        let base = node.map(Deadlines::from).unwrap_or(Deadlines {
            sync: self.config.sync_timeout,
            health: self.config.health_timeout,
        });
        Deadlines {
            sync: self.config.sync_override.unwrap_or(base.sync),
            health: self.config.health_override.unwrap_or(base.health),
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

    /// A failed result from an API error.
    pub fn api_error(&self, error: &ArgoError, app: Option<&Application>) -> ComponentResult {
        self.fail(
            ComponentStatus::Failed,
            error.reason(),
            app,
            error.to_string(),
        )
    }
}
