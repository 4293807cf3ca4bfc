//! Raw command-line values, exactly as clap parsed them. Nothing here is
//! validated beyond syntax: `config.rs` turns these into a checked `Config`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Deploy, validate and tear down a platform through Argo CD.
#[derive(Debug, Parser)]
#[command(name = "executor", version, about, long_about = None, args_override_self = true)]
#[command(after_help = "Exit codes: 0 Success, 1 Failure, 2 Partial, 3 Invalid, 4 Timeout.")]
pub struct Cli {
    /// The action to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The actions of the contract.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sync every component in scope and wait until it is Synced and Healthy.
    Deploy(RunArgs),
    /// Check every component in scope without changing anything.
    Validate(RunArgs),
    /// Delete every component in scope (requires --confirm <environment>).
    Teardown(RunArgs),
    /// Work on the DAG file without a cluster: validate it or print its plan.
    Dag(DagArgs),
}

/// Inputs shared by every action. Each flag falls back to its environment variable.
///
/// Flags are kept as strings so that `config.rs` can name the bad input and say
/// how to fix it, with exit code Invalid, instead of clap's generic usage error.
#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    /// Target environment; must equal `name` in environment.yaml.
    #[arg(long, env = "ENVIRONMENT")]
    pub environment: Option<String>,
    /// `platform`, `stack:<name>` or `app:<name>`.
    #[arg(long, env = "TARGET_SCOPE")]
    pub scope: Option<String>,
    /// With `--scope app:<name>`: the namespace of the Application, when Argo CD
    /// manages it outside its own (wins over dag.yaml and environment.yaml).
    #[arg(long, env = "APP_NAMESPACE")]
    pub app_namespace: Option<String>,
    /// `true` or `false`: send no mutating request and report what would be done.
    #[arg(long, env = "DRY_RUN", num_args = 0..=1, default_missing_value = "true")]
    pub dry_run: Option<String>,
    /// `debug`, `info`, `warn` or `error`.
    #[arg(long, env = "LOG_LEVEL")]
    pub log_level: Option<String>,
    /// `text` or `json` (default: text on a terminal, else json).
    #[arg(long, env = "LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Directory holding environment.yaml, dag.yaml and (for --simulate) simulation.yaml.
    #[arg(long, env = "EXECUTOR_CONFIG_DIR")]
    pub config_dir: Option<PathBuf>,
    /// Directory holding the `argocd-token` file.
    #[arg(long, env = "EXECUTOR_SECRETS_DIR")]
    pub secrets_dir: Option<PathBuf>,
    /// Directory where report.json, status and metrics.prom are written.
    #[arg(long, env = "EXECUTOR_OUTPUT_DIR")]
    pub output_dir: Option<PathBuf>,
    /// Base URL of the Argo CD API (an http:// URL must be given explicitly).
    #[arg(long, env = "ARGOCD_SERVER")]
    pub argocd_server: Option<String>,
    /// Extra CA bundle (PEM) trusted for the Argo CD API.
    #[arg(long, env = "ARGOCD_CA_FILE")]
    pub argocd_ca_file: Option<PathBuf>,
    /// Path to a kubeconfig (used by the Kubernetes-side checks).
    #[arg(long, env = "KUBECONFIG_PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Teardown only: must equal the environment name.
    #[arg(long, env = "TEARDOWN_CONFIRM")]
    pub confirm: Option<String>,
    /// Teardown only: `retain`, `delete` or `snapshot`.
    #[arg(long, env = "PV_POLICY")]
    pub pv_policy: Option<String>,
    /// Validate only: wait up to this long (e.g. `5m`) for every component to become Healthy and Synced.
    #[arg(long, env = "VALIDATE_WAIT")]
    pub wait: Option<String>,
    /// Deadline from sync request to operation completed, for every component of this run
    /// (overrides environment.yaml and dag.yaml; empty means no override).
    #[arg(long, env = "SYNC_TIMEOUT")]
    pub sync_timeout: Option<String>,
    /// Deadline from operation completed to ready, for every component of this run
    /// (overrides environment.yaml and dag.yaml; empty means no override).
    #[arg(long, env = "HEALTH_TIMEOUT")]
    pub health_timeout: Option<String>,
    /// DAG runs: most nodes in flight at once (default 8).
    #[arg(long, env = "PARALLELISM")]
    pub parallelism: Option<String>,
    /// DAG runs: `eager` (a node starts when its dependencies are ready) or `waves` (strict wave barrier).
    #[arg(long, env = "SCHEDULE")]
    pub schedule: Option<String>,
    /// Deploy: when a sync window blocks the sync, wait for it to open (within the sync timeout) instead of failing.
    #[arg(long, env = "WAIT_SYNC_WINDOW", num_args = 0..=1, default_missing_value = "true")]
    pub wait_sync_window: Option<String>,
    /// On a deadline, leave the operation this run started running instead of terminating it.
    #[arg(long)]
    pub no_terminate_on_timeout: bool,
    /// Run against the embedded Argo CD simulator on loopback instead of a cluster.
    #[arg(long, env = "EXECUTOR_SIMULATE", num_args = 0..=1, default_missing_value = "true")]
    pub simulate: Option<String>,
    /// Stack subset and overrides of dag.yaml.
    #[command(flatten)]
    pub dag: DagOptions,
}

/// Which stacks of dag.yaml to run, and overrides of its nodes, without editing
/// it. Shared by the actions and `executor dag`; checked by `crate::dag`.
#[derive(Debug, Args, Clone, Default)]
pub struct DagOptions {
    /// A file whose `nodes:` entries replace nodes' dependsOn or timeouts (and whose `stacks:` picks a subset).
    #[arg(long, env = "DAG_OVERRIDES", value_name = "FILE")]
    pub dag_overrides: Option<PathBuf>,
    /// Replace a node's timeouts: `<node>=sync:5m,health:10m` (either or both; repeatable).
    #[arg(long, value_name = "NODE=sync:DURATION,health:DURATION")]
    pub set_timeout: Vec<String>,
    /// Replace a node's dependencies: `<node>=a,b` (`<node>=` for none; repeatable).
    #[arg(long, value_name = "NODE=DEPENDENCY,...")]
    pub set_depends: Vec<String>,
    /// Run only these stacks, comma-separated (default: all).
    #[arg(long, env = "DAG_STACKS", value_name = "STACK,...")]
    pub stacks: Option<String>,
}

/// `executor dag <validate|plan>`.
#[derive(Debug, Args, Clone)]
pub struct DagArgs {
    /// What to do with the DAG.
    #[command(subcommand)]
    pub command: DagCommand,
}

/// The `dag` subcommands; neither needs a cluster.
#[derive(Debug, Subcommand, Clone)]
pub enum DagCommand {
    /// Check dag.yaml, its overrides and the scope; print nothing else.
    Validate(DagInputs),
    /// Print the waves, the critical path and the longest chain.
    Plan(DagPlanArgs),
    /// Print the DAG as an Argo Workflows Workflow or WorkflowTemplate.
    Render(DagRenderArgs),
}

/// `executor dag render`.
#[derive(Debug, Args, Clone)]
pub struct DagRenderArgs {
    /// The DAG and its selection.
    #[command(flatten)]
    pub inputs: DagInputs,
    /// `deploy` (dependency order) or `teardown` (reverse order).
    #[arg(long, default_value = "deploy")]
    pub action: String,
    /// `workflow` or `workflow-template`.
    #[arg(long, default_value = "workflow")]
    pub kind: String,
    /// The workflow's name (a Workflow's `generateName` prefix); default `platform-<action>`.
    #[arg(long)]
    pub name: Option<String>,
}

/// Inputs of `executor dag`.
#[derive(Debug, Args, Clone, Default)]
pub struct DagInputs {
    /// Directory holding dag.yaml (and environment.yaml for clusterName and timeouts).
    #[arg(long, env = "EXECUTOR_CONFIG_DIR")]
    pub config_dir: Option<PathBuf>,
    /// Optional here; when given, must equal `name` in environment.yaml.
    #[arg(long, env = "ENVIRONMENT")]
    pub environment: Option<String>,
    /// `platform`, `stack:<name>` or `app:<name>`.
    #[arg(long, env = "TARGET_SCOPE")]
    pub scope: Option<String>,
    /// Stack subset and overrides of dag.yaml.
    #[command(flatten)]
    pub dag: DagOptions,
}

/// Inputs of `executor dag plan`.
#[derive(Debug, Args, Clone, Default)]
pub struct DagPlanArgs {
    /// The DAG and its selection.
    #[command(flatten)]
    pub inputs: DagInputs,
    /// `text` or `json`.
    #[arg(short = 'o', long = "output", value_name = "FORMAT")]
    pub output: Option<String>,
}
