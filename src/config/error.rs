//! `ConfigError`: every way the inputs can be invalid. Always `ExitCode::INVALID`.

use std::path::PathBuf;

/// A problem with the inputs. Always `ExitCode::INVALID`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value that does not parse or is out of range.
    #[error("invalid {input} '{value}': {problem}")]
    BadValue {
        /// The flag and variable.
        input: &'static str,
        /// What was given.
        value: String,
        /// What is wrong with it and how to write it, as a clause: `expected true or false`.
        problem: String,
    },
    /// A required input is absent.
    #[error("missing {input}: {hint}")]
    Missing {
        /// The flag and variable.
        input: &'static str,
        /// How to provide it.
        hint: String,
    },
    /// An input that only applies to `--scope app:<name>`.
    #[error("{input} applies only to --scope app:<name>, not to '{scope}'; drop it, or {hint}")]
    AppScopeOnly {
        /// The flag and variable.
        input: &'static str,
        /// The scope given.
        scope: String,
        /// How to get the same effect for this scope.
        hint: &'static str,
    },
    /// A file could not be read.
    #[error("failed to read {what} at {path}: {source}; {hint}")]
    Unreadable {
        /// What the file is.
        what: &'static str,
        /// Where it was looked for.
        path: PathBuf,
        /// How to fix it.
        hint: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// environment.yaml does not parse or has unknown fields.
    #[error("invalid {path}: {message}")]
    EnvironmentFile {
        /// The file.
        path: PathBuf,
        /// serde_yaml's message, with line and column.
        message: String,
    },
    /// health.yaml does not parse, or a check in it is wrong.
    #[error("invalid {path}: {message}")]
    HealthFile {
        /// The file.
        path: PathBuf,
        /// What is wrong, each problem with its check.
        message: String,
    },
    /// `ENVIRONMENT` differs from the file's `name`.
    #[error("--environment (ENVIRONMENT) is '{given}' but {path} is for '{in_file}': point --config-dir at the '{given}' configuration or fix the name")]
    EnvironmentMismatch {
        /// The requested environment.
        given: String,
        /// The name in the file.
        in_file: String,
        /// The file.
        path: PathBuf,
    },
    /// Teardown without the right confirmation.
    #[error("teardown needs --confirm (TEARDOWN_CONFIRM) equal to the environment name '{expected}'{given}; nothing was deleted")]
    Confirmation {
        /// The environment name.
        expected: String,
        /// What was given, pre-formatted.
        given: String,
    },
    /// dag.yaml, its overrides, or the scope's selection from it.
    #[error("{}", .0.sentence())]
    Dag(#[from] crate::dag::DagErrors),
    /// A platform or stack scope without a DAG file.
    #[error("scope '{scope}' needs {path}: describe the platform's stacks and applications there (see examples/config/dag.yaml)")]
    NoDag {
        /// The scope.
        scope: String,
        /// Where dag.yaml was looked for.
        path: PathBuf,
    },
    /// A flag that changes dag.yaml's nodes, with no dag.yaml to change.
    #[error("{flag} changes nodes of {path}, which does not exist: drop {flag}, or set the app's timeouts with --sync-timeout and --health-timeout")]
    OverrideWithoutDag {
        /// The flag.
        flag: &'static str,
        /// Where dag.yaml was looked for.
        path: PathBuf,
    },
    /// The output directory cannot hold the report; nothing can be written there.
    #[error("failed to write into the output directory {path}: {source}; point --output-dir (EXECUTOR_OUTPUT_DIR) at a writable directory (in a pod, an emptyDir volume); no report or status was written")]
    OutputDir {
        /// The directory.
        path: PathBuf,
        /// Why it cannot be written.
        #[source]
        source: std::io::Error,
    },
    /// A kubeconfig that cannot be used.
    #[error(transparent)]
    Cluster(#[from] crate::cluster::AccessError),
    /// `--require-cluster` without any cluster access.
    #[error("--require-cluster (REQUIRE_CLUSTER) is true but there is no cluster access: give --kubeconfig (KUBECONFIG_PATH) or KUBECONFIG_DATA, or run in a pod with its service account token mounted")]
    NoCluster,
    /// Several problems at once, in the order found.
    #[error("{} problems: {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Several(Vec<ConfigError>),
}

impl ConfigError {
    /// A value that does not parse: names the input and what would be accepted.
    pub(crate) fn bad(input: &'static str, value: &str, expected: &str) -> Self {
        ConfigError::BadValue {
            input,
            value: value.to_owned(),
            problem: format!("expected {expected}"),
        }
    }
}
