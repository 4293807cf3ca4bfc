//! Raw command-line values, exactly as clap parsed them. Nothing here is
//! validated beyond syntax: `load.rs` turns these into a checked `Config`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use crate::dag::DagOptions;

/// Deploy, validate and tear down a platform through Argo CD.
#[derive(Debug, Parser)]
#[command(name = "executor", version, about, long_about = None, args_override_self = true)]
#[command(after_help = "Exit codes: 0 Success, 1 Failure, 2 Partial, 3 Invalid, 4 Timeout.")]
pub struct Cli {
    /// The action to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The actions of the contract, and the commands that need no cluster.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sync every component in scope and wait until it is Synced and Healthy.
    Deploy(DeployArgs),
    /// Check every component in scope without changing anything.
    Validate(ValidateArgs),
    /// Delete every component in scope (requires --confirm <environment>).
    Teardown(TeardownArgs),
    /// Work on the DAG file without a cluster: validate it, print its plan, or render it as an Argo Workflow.
    Dag(DagArgs),
    /// Print a report.json for a person: text (colour on a terminal), Markdown, or the JSON itself.
    Report(ReportArgs),
    /// Print a shell completion script, e.g. `executor completion bash > /etc/bash_completion.d/executor`.
    Completion(CompletionArgs),
}

/// `executor report`.
#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// The report.json a run wrote.
    pub path: PathBuf,
    /// `text`, `markdown` or `json`.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FORMAT",
        default_value = "text"
    )]
    pub output: String,
}

impl DeployArgs {
    /// The run's inputs: deploy's, with the other actions' left unset.
    pub fn run_args(&self) -> RunArgs {
        RunArgs {
            dry_run: self.dry_run.dry_run.clone(),
            sync_timeout: self.timeouts.sync_timeout.clone(),
            health_timeout: self.timeouts.health_timeout.clone(),
            wait_sync_window: self.wait_sync_window.clone(),
            no_terminate_on_timeout: self.no_terminate_on_timeout,
            prune: self.prune.clone(),
            revision: self.revision.clone(),
            ..RunArgs::from(self.common.clone())
        }
    }
}

impl ValidateArgs {
    /// The run's inputs: validate's, with the other actions' left unset.
    pub fn run_args(&self) -> RunArgs {
        RunArgs {
            wait: self.wait.clone(),
            enforce_compliance: self.enforce_compliance.clone(),
            ..RunArgs::from(self.common.clone())
        }
    }
}

impl TeardownArgs {
    /// The run's inputs: teardown's, with the other actions' left unset.
    pub fn run_args(&self) -> RunArgs {
        RunArgs {
            dry_run: self.dry_run.dry_run.clone(),
            sync_timeout: self.timeouts.sync_timeout.clone(),
            health_timeout: self.timeouts.health_timeout.clone(),
            confirm: self.confirm.clone(),
            pv_policy: self.pv_policy.clone(),
            ..RunArgs::from(self.common.clone())
        }
    }
}

/// Every input of a run, as the actions' flags gave them; `load.rs` checks
/// them. An input the action does not take is `None` (its environment
/// variable is not read).
#[derive(Debug, Clone, Default)]
pub struct RunArgs {
    /// `--environment`.
    pub environment: Option<String>,
    /// `--scope`.
    pub scope: Option<String>,
    /// `--app-namespace`.
    pub app_namespace: Option<String>,
    /// `--dry-run` (deploy, teardown).
    pub dry_run: Option<String>,
    /// `--log-level`.
    pub log_level: Option<String>,
    /// `--log-format`.
    pub log_format: Option<String>,
    /// `--config-dir`.
    pub config_dir: Option<PathBuf>,
    /// `--secrets-dir`.
    pub secrets_dir: Option<PathBuf>,
    /// `--output-dir`.
    pub output_dir: Option<PathBuf>,
    /// `--argocd-server`.
    pub argocd_server: Option<String>,
    /// `--argocd-ca-file`.
    pub argocd_ca_file: Option<PathBuf>,
    /// `--kubeconfig`.
    pub kubeconfig: Option<PathBuf>,
    /// `--require-cluster`.
    pub require_cluster: Option<String>,
    /// `--skip-preflight`.
    pub skip_preflight: Option<String>,
    /// `--pushgateway-url`.
    pub pushgateway_url: Option<String>,
    /// `--otlp-endpoint`.
    pub otlp_endpoint: Option<String>,
    /// `--confirm` (teardown).
    pub confirm: Option<String>,
    /// `--pv-policy` (teardown).
    pub pv_policy: Option<String>,
    /// `--wait` (validate).
    pub wait: Option<String>,
    /// `--enforce-compliance` (validate).
    pub enforce_compliance: Option<String>,
    /// `--sync-timeout` (deploy, teardown).
    pub sync_timeout: Option<String>,
    /// `--health-timeout` (deploy, teardown).
    pub health_timeout: Option<String>,
    /// `--prune` (deploy).
    pub prune: Option<String>,
    /// `--revision` (deploy).
    pub revision: Option<String>,
    /// `--timeout`.
    pub timeout: Option<String>,
    /// `--parallelism`.
    pub parallelism: Option<String>,
    /// `--schedule`.
    pub schedule: Option<String>,
    /// `--wait-sync-window` (deploy).
    pub wait_sync_window: Option<String>,
    /// `--no-terminate-on-timeout` (deploy).
    pub no_terminate_on_timeout: bool,
    /// `--simulate`.
    pub simulate: Option<String>,
    /// The DAG's selection and overrides.
    pub dag: DagOptions,
}

impl From<CommonArgs> for RunArgs {
    fn from(c: CommonArgs) -> RunArgs {
        RunArgs {
            environment: c.environment,
            scope: c.scope,
            app_namespace: c.app_namespace,
            log_level: c.log_level,
            log_format: c.log_format,
            config_dir: c.config_dir,
            secrets_dir: c.secrets_dir,
            output_dir: c.output_dir,
            argocd_server: c.argocd_server,
            argocd_ca_file: c.argocd_ca_file,
            kubeconfig: c.kubeconfig,
            require_cluster: c.require_cluster,
            skip_preflight: c.skip_preflight,
            pushgateway_url: c.pushgateway_url,
            otlp_endpoint: c.otlp_endpoint,
            timeout: c.timeout,
            parallelism: c.parallelism,
            schedule: c.schedule,
            simulate: c.simulate,
            dag: c.dag,
            ..RunArgs::default()
        }
    }
}

/// Inputs every action takes. Each flag falls back to its environment variable.
///
/// Flags are kept as strings so that `load.rs` can name the bad input and say
/// how to fix it, with exit code Invalid, instead of clap's generic usage error.
#[derive(Debug, Args, Clone, Default)]
pub struct CommonArgs {
    /// Target environment; must equal `name` in environment.yaml. Required.
    #[arg(long, env = "ENVIRONMENT")]
    pub environment: Option<String>,
    /// `platform`, `stack:<name>` or `app:<name>` [default: platform].
    #[arg(long, env = "TARGET_SCOPE")]
    pub scope: Option<String>,
    /// With `--scope app:<name>`: the namespace of the Application, when Argo CD
    /// manages it outside its own (wins over dag.yaml and environment.yaml).
    #[arg(long, env = "APP_NAMESPACE")]
    pub app_namespace: Option<String>,
    /// `debug`, `info`, `warn` or `error` [default: info].
    #[arg(long, env = "LOG_LEVEL")]
    pub log_level: Option<String>,
    /// `text` or `json` [default: text on a terminal, else json].
    #[arg(long, env = "LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Directory holding environment.yaml, dag.yaml and (for --simulate) simulation.yaml [default: /config].
    #[arg(long, env = "EXECUTOR_CONFIG_DIR")]
    pub config_dir: Option<PathBuf>,
    /// Directory holding the `argocd-token` file [default: /secrets].
    #[arg(long, env = "EXECUTOR_SECRETS_DIR")]
    pub secrets_dir: Option<PathBuf>,
    /// Directory where report.json, status and metrics.prom are written [default: /tmp/executor].
    #[arg(long, env = "EXECUTOR_OUTPUT_DIR")]
    pub output_dir: Option<PathBuf>,
    /// Base URL of the Argo CD API; an http:// URL must be given explicitly
    /// [default: argocd.server in environment.yaml, else https://argocd-server.<argocdNamespace>.svc].
    #[arg(long, env = "ARGOCD_SERVER")]
    pub argocd_server: Option<String>,
    /// Extra CA bundle (PEM) trusted for the Argo CD API.
    #[arg(long, env = "ARGOCD_CA_FILE")]
    pub argocd_ca_file: Option<PathBuf>,
    /// Path to a kubeconfig for the Kubernetes-side checks (its current-context); else
    /// KUBECONFIG_DATA (base64), else the pod's service account [default: none of them,
    /// and the cluster-side checks are skipped].
    #[arg(long, env = "KUBECONFIG_PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// `true` or `false`: without cluster access, the run is invalid instead of skipping
    /// the cluster-side checks [default: false].
    #[arg(long, env = "REQUIRE_CLUSTER", num_args = 0..=1, default_missing_value = "true")]
    pub require_cluster: Option<String>,
    /// `true` or `false`: skip the preflight checks (the Argo CD token, the cluster's API,
    /// namespace, CRD and permissions) and start at once [default: false].
    #[arg(long, env = "SKIP_PREFLIGHT", num_args = 0..=1, default_missing_value = "true")]
    pub skip_preflight: Option<String>,
    /// A Prometheus Pushgateway to push metrics.prom to at the end, grouped by job
    /// `executor`, environment, action and scope; a failed push is a warning [default: none].
    #[arg(long, env = "PUSHGATEWAY_URL")]
    pub pushgateway_url: Option<String>,
    /// An OpenTelemetry collector's OTLP/HTTP endpoint: the run's spans (the action, each
    /// DAG node, each API request) go to `<endpoint>/v1/traces` [default: none].
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// A deadline for the whole run, every request and wait included: `5m`, or
    /// bare seconds as in `argocd --timeout 300`; exit 4 (Timeout) when it passes
    /// [default: none].
    #[arg(long, env = "EXECUTOR_TIMEOUT")]
    pub timeout: Option<String>,
    /// DAG runs: most nodes in flight at once [default: 8].
    #[arg(long, env = "PARALLELISM")]
    pub parallelism: Option<String>,
    /// DAG runs: `eager` (a node starts when its dependencies are ready) or `waves` (strict wave barrier) [default: eager].
    #[arg(long, env = "SCHEDULE")]
    pub schedule: Option<String>,
    /// `true` or `false`: run against the embedded Argo CD simulator on loopback instead of a cluster [default: false].
    #[arg(long, env = "EXECUTOR_SIMULATE", num_args = 0..=1, default_missing_value = "true")]
    pub simulate: Option<String>,
    /// Stack subset and overrides of dag.yaml.
    #[command(flatten)]
    pub dag: DagOptions,
}

/// `--dry-run`, for the actions that change something.
#[derive(Debug, Args, Clone, Default)]
pub struct DryRunArg {
    /// `true` or `false`: send no mutating request and report what would be done [default: false].
    #[arg(long, env = "DRY_RUN", num_args = 0..=1, default_missing_value = "true")]
    pub dry_run: Option<String>,
}

/// The per-run deadline overrides of deploy and teardown.
#[derive(Debug, Args, Clone, Default)]
pub struct TimeoutArgs {
    /// Deadline from sync request to operation completed (teardown: part of the deletion
    /// deadline), for every component of this run; overrides environment.yaml and dag.yaml
    /// (empty means no override) [default: the node's or environment.yaml's timeouts.sync].
    #[arg(long, env = "SYNC_TIMEOUT")]
    pub sync_timeout: Option<String>,
    /// Deadline from operation completed to ready (teardown: part of the deletion deadline),
    /// for every component of this run; overrides environment.yaml and dag.yaml (empty means
    /// no override) [default: the node's or environment.yaml's timeouts.health].
    #[arg(long, env = "HEALTH_TIMEOUT")]
    pub health_timeout: Option<String>,
}

/// `executor deploy`.
#[derive(Debug, Args, Clone, Default)]
pub struct DeployArgs {
    /// The inputs of every action.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Dry run.
    #[command(flatten)]
    pub dry_run: DryRunArg,
    /// Deadline overrides.
    #[command(flatten)]
    pub timeouts: TimeoutArgs,
    /// `true` or `false`: when a sync window blocks the sync, wait for it to open (within the
    /// sync timeout) instead of failing [default: false].
    #[arg(long, env = "WAIT_SYNC_WINDOW", num_args = 0..=1, default_missing_value = "true")]
    pub wait_sync_window: Option<String>,
    /// On a deadline or a signal, leave the operation this run started running instead of terminating it.
    #[arg(long)]
    pub no_terminate_on_timeout: bool,
    /// The revision to sync (a branch, tag or commit SHA) instead of each Application's
    /// targetRevision; readiness then requires that Argo CD compares exactly what was
    /// synced [default: each Application's targetRevision].
    #[arg(long, env = "TARGET_REVISION")]
    pub revision: Option<String>,
    /// `true` or `false`: prune resources no longer in Git [default: environment.yaml's sync.prune, else the app's automated.prune].
    #[arg(long, env = "PRUNE", num_args = 0..=1, default_missing_value = "true")]
    pub prune: Option<String>,
}

/// `executor validate`.
#[derive(Debug, Args, Clone, Default)]
pub struct ValidateArgs {
    /// The inputs of every action.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Wait up to this long (e.g. `5m`) for every component to become Healthy and Synced
    /// [default: check once].
    #[arg(long, env = "VALIDATE_WAIT")]
    pub wait: Option<String>,
    /// `true` or `false`: a failed compliance rule makes its app unhealthy (exit 1)
    /// [default: false: the compliance report changes no exit code].
    #[arg(long, env = "ENFORCE_COMPLIANCE", num_args = 0..=1, default_missing_value = "true")]
    pub enforce_compliance: Option<String>,
}

/// `executor teardown`.
#[derive(Debug, Args, Clone, Default)]
pub struct TeardownArgs {
    /// The inputs of every action.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Dry run.
    #[command(flatten)]
    pub dry_run: DryRunArg,
    /// Deadline overrides.
    #[command(flatten)]
    pub timeouts: TimeoutArgs,
    /// Must equal the environment name. Required.
    #[arg(long, env = "TEARDOWN_CONFIRM")]
    pub confirm: Option<String>,
    /// `retain`, `delete` or `snapshot` [default: retain].
    #[arg(long, env = "PV_POLICY")]
    pub pv_policy: Option<String>,
}

/// `executor completion`.
#[derive(Debug, Args, Clone)]
pub struct CompletionArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `executor dag <validate|plan|render>`.
#[derive(Debug, Args, Clone)]
pub struct DagArgs {
    /// What to do with the DAG.
    #[command(subcommand)]
    pub command: DagCommand,
}

/// The `dag` subcommands; none needs a cluster.
#[derive(Debug, Subcommand, Clone)]
pub enum DagCommand {
    /// Check dag.yaml, its overrides and the scope; print nothing else.
    Validate(DagInputs),
    /// Print the waves, the critical path and the longest chain.
    Plan(DagPlanArgs),
    /// Print the DAG as an Argo Workflows Workflow or WorkflowTemplate.
    Render(DagRenderArgs),
    /// In a rendered workflow's exit handler: the platform's result from the failed steps.
    Result(DagResultArgs),
}

/// `executor dag result`: what the exit handler of a rendered workflow passes.
#[derive(Debug, Args, Clone)]
pub struct DagResultArgs {
    /// `deploy` or `teardown`: the rendered workflow's action.
    #[arg(long)]
    pub action: String,
    /// The rendered tasks, as JSON: `[{"name", "scope", "depends": [...]}]`.
    #[arg(long)]
    pub tasks: String,
    /// `{{workflow.failures}}`: the workflow's Failed and Error nodes, as JSON.
    #[arg(long)]
    pub failures: String,
    /// deploy: the exit handler's `validate --scope platform` status word.
    #[arg(long)]
    pub validation: Option<String>,
    /// The environment, for the report.
    #[arg(long, env = "ENVIRONMENT")]
    pub environment: Option<String>,
    /// Whether the workflow was a dry run, for the report.
    #[arg(long, default_value = "false")]
    pub dry_run: String,
    /// When the workflow started (`{{workflow.creationTimestamp}}`, RFC 3339).
    #[arg(long)]
    pub started_at: Option<String>,
    /// Where report.json, metrics.prom, exit-code and status go.
    #[arg(long, env = "EXECUTOR_OUTPUT_DIR", default_value = "/tmp/executor")]
    pub output_dir: PathBuf,
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

/// The environment variables other actions read and `action` does not: one
/// ConfigMap serves every step of a workflow, so they are set and ignored.
pub fn foreign_env(action: &str) -> Vec<String> {
    use clap::CommandFactory;
    let cli = Cli::command();
    let env_of = |name: &str| -> Vec<String> {
        cli.find_subcommand(name)
            .map(|c| {
                c.get_arguments()
                    .filter_map(|a| a.get_env())
                    .map(|e| e.to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let own = env_of(action);
    let mut foreign: Vec<String> = ["deploy", "validate", "teardown"]
        .into_iter()
        .filter(|other| *other != action)
        .flat_map(env_of)
        .filter(|e| !own.contains(e))
        .collect();
    foreign.sort();
    foreign.dedup();
    foreign
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each action reads only its own inputs' variables.
    #[test]
    fn foreign_env_is_what_the_other_actions_read() {
        let cases: [(&str, &[&str], &[&str]); 3] = [
            (
                "validate",
                &["DRY_RUN", "TEARDOWN_CONFIRM", "SYNC_TIMEOUT", "PRUNE"],
                &["VALIDATE_WAIT", "ENFORCE_COMPLIANCE", "ENVIRONMENT"],
            ),
            (
                "deploy",
                &[
                    "VALIDATE_WAIT",
                    "ENFORCE_COMPLIANCE",
                    "TEARDOWN_CONFIRM",
                    "PV_POLICY",
                ],
                &["DRY_RUN", "SYNC_TIMEOUT", "PRUNE"],
            ),
            (
                "teardown",
                &["VALIDATE_WAIT", "PRUNE", "WAIT_SYNC_WINDOW"],
                &["TEARDOWN_CONFIRM", "DRY_RUN", "HEALTH_TIMEOUT"],
            ),
        ];
        for (action, foreign, own) in cases {
            let got = foreign_env(action);
            for e in foreign {
                assert!(got.iter().any(|g| g == e), "{action}: {e} is not its own");
            }
            for e in own {
                assert!(!got.iter().any(|g| g == e), "{action}: {e} is its own");
            }
        }
    }
}
