//! The checked configuration of one run, as `cli::load` builds it from the
//! raw inputs: what every layer below the command line reads.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

pub mod environment;
pub mod error;
pub mod values;

pub use error::ConfigError;
pub use values::{LogFormat, LogLevel, LogSettings, PvPolicy, TraceContext};

use crate::dag::Dag;
use crate::vocabulary::{Action, Scope};
use environment::{EnvironmentFile, HealthPolicy, SyncSettings};

/// The bearer token `--simulate` uses between the executor and its embedded simulator.
pub const SIMULATED_TOKEN: &str = "simulated-token";

/// What a run applies to, with what it needs to run it.
#[derive(Debug, Clone)]
pub enum Target {
    /// `app:<name>`, with dag.yaml's selection of it when there is a dag.yaml
    /// (the app's node, whose timeouts then apply).
    App {
        /// The Application.
        name: String,
        /// The app's node, when dag.yaml lists it.
        dag: Option<Dag>,
    },
    /// `platform` or `stack:<name>`: the DAG selected for it.
    Dag(Dag),
}

impl Target {
    /// The DAG the target carries, if any.
    pub fn dag(&self) -> Option<&Dag> {
        match self {
            Target::App { dag, .. } => dag.as_ref(),
            Target::Dag(dag) => Some(dag),
        }
    }
}

/// Where the Argo CD API is.
#[derive(Debug, Clone)]
pub enum Endpoint {
    /// The embedded simulator, which the run starts on loopback (`--simulate`).
    Simulated,
    /// A real Argo CD at this base URL.
    Remote(Url),
}

/// How to reach Argo CD.
#[derive(Debug, Clone)]
pub struct ArgoCdTarget {
    /// Where the API is.
    pub endpoint: Endpoint,
    /// Extra trusted CA certificates, PEM.
    pub ca_pem: Option<Vec<u8>>,
    /// Bearer token, read from `<secrets-dir>/argocd-token`. Never logged.
    pub token: String,
    /// Sent as `project` so an unknown app is a 404 rather than a 403.
    pub project: Option<String>,
    /// The namespace Argo CD runs in (environment.yaml's `argocdNamespace`;
    /// the simulator's under `--simulate`): where Applications live unless
    /// [`Config::app_namespaces`] says otherwise.
    pub namespace: String,
}

/// Everything one run needs, checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// The action.
    pub action: Action,
    /// The parsed environment.yaml.
    pub environment: EnvironmentFile,
    /// What the action applies to.
    pub scope: Scope,
    /// Send no mutating request.
    pub dry_run: bool,
    /// Logging.
    pub log: LogSettings,
    /// Where report.json and status go.
    pub output_dir: PathBuf,
    /// The config directory the files came from.
    pub config_dir: PathBuf,
    /// Argo CD endpoint and credentials.
    pub argocd: ArgoCdTarget,
    /// Deadline from sync request to operation completed.
    pub sync_timeout: Duration,
    /// Deadline from operation completed to ready.
    pub health_timeout: Duration,
    /// Total attempts of one request.
    pub max_attempts: u32,
    /// Initial backoff interval.
    pub backoff: Duration,
    /// Health gating policy.
    pub health: HealthPolicy,
    /// Options for sync requests.
    pub sync: SyncSettings,
    /// Teardown's PV policy.
    pub pv_policy: PvPolicy,
    /// Terminate our own operation on a deadline.
    pub terminate_on_timeout: bool,
    /// deploy: wait for a blocking sync window to open, within the sync deadline.
    pub wait_sync_window: bool,
    /// Caller's trace context.
    pub trace: Option<TraceContext>,
    /// validate: how long to wait for health; `None` checks once.
    pub validate_wait: Option<Duration>,
    /// `--sync-timeout`: replaces every component's sync deadline.
    pub sync_override: Option<Duration>,
    /// `--health-timeout`: replaces every component's health deadline.
    pub health_override: Option<Duration>,
    /// deploy's `--revision`: sync this revision instead of each app's targetRevision.
    pub revision: Option<String>,
    /// `--timeout`: the whole run's deadline, from its start.
    pub run_timeout: Option<Duration>,
    /// DAG runs: most nodes in flight.
    pub parallelism: usize,
    /// DAG runs: eager or waves.
    pub schedule: crate::dag::schedule::Mode,
    /// What the run applies to, with the DAG it needs.
    pub target: Target,
    /// How to reach the cluster for the Kubernetes-side checks; `None`: they are skipped.
    pub cluster: Option<crate::cluster::Access>,
    /// Skip the preflight checks (`--skip-preflight`).
    pub skip_preflight: bool,
    /// validate: a failed compliance rule makes its app unhealthy.
    pub enforce_compliance: bool,
    /// `--pushgateway-url`: where to push the metrics at the end.
    pub pushgateway: Option<reqwest::Url>,
    /// `--otlp-endpoint`: where to export the spans.
    pub otlp: Option<reqwest::Url>,
    /// The critical health checks: health.yaml's, and which built-ins are on.
    pub checks: crate::checks::HealthChecks,
    /// Application name → its namespace, for the apps in scope that have one
    /// set (Argo CD's apps in any namespace); the others live in Argo CD's.
    pub app_namespaces: BTreeMap<String, String>,
}

impl Config {
    /// The selected DAG: always for platform and stack scope; for an app
    /// scope when dag.yaml lists the app.
    pub fn dag(&self) -> Option<&Dag> {
        self.target.dag()
    }

    /// Whether the run is against the embedded simulator (`--simulate`).
    pub fn simulated(&self) -> bool {
        matches!(self.argocd.endpoint, Endpoint::Simulated)
    }
}
