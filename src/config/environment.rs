//! `environment.yaml`: the per-environment settings file, parsed strictly.
//!
//! Unknown fields are rejected so that a misspelt setting is an error with its
//! line and column, not a silently ignored default.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::vocabulary::{duration, name, SuspendedIs};

/// The parsed `<config-dir>/environment.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvironmentFile {
    /// Environment name; `ENVIRONMENT` must equal it.
    pub name: String,
    /// Base DNS domain of the environment.
    pub domain: String,
    /// The platform's GitOps repository.
    pub git_repository: String,
    /// The revision the environment tracks.
    pub git_revision: String,
    /// Name of the cluster the executor runs against.
    #[serde(default)]
    pub cluster_name: Option<String>,
    /// Namespace Argo CD runs in.
    #[serde(default = "default_argocd_namespace")]
    pub argocd_namespace: String,
    /// Namespace Argo Workflows runs in.
    #[serde(default)]
    pub workflows_namespace: Option<String>,
    /// Argo CD connection settings.
    #[serde(default)]
    pub argocd: ArgoCdSection,
    /// Sync and health deadlines.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Retries of transient API errors.
    #[serde(default)]
    pub retries: Retries,
    /// How health states gate readiness.
    #[serde(default)]
    pub health: HealthPolicy,
    /// Options of the sync requests the executor sends.
    #[serde(default)]
    pub sync: SyncSettings,
    /// validate's compliance report: required labels and exemptions.
    #[serde(default)]
    pub compliance: crate::compliance::Policy,
}

fn default_argocd_namespace() -> String {
    "argocd".to_owned()
}

/// `argocd:` in environment.yaml.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArgoCdSection {
    /// Base URL of the Argo CD API.
    #[serde(default)]
    pub server: Option<String>,
    /// The Argo CD project of the applications. With it, an unknown app is a 404 instead of a 403.
    #[serde(default)]
    pub project: Option<String>,
    /// The namespace of the Applications when Argo CD manages them outside its
    /// own (apps in any namespace); dag.yaml's `namespace:` wins per node.
    #[serde(default, deserialize_with = "namespace")]
    pub app_namespace: Option<String>,
}

/// `timeouts:` in environment.yaml.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Timeouts {
    /// From sync request to operation completed.
    #[serde(default = "five_minutes", deserialize_with = "sync_timeout")]
    pub sync: Duration,
    /// From operation completed to ready.
    #[serde(default = "five_minutes", deserialize_with = "health_timeout")]
    pub health: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            sync: five_minutes(),
            health: five_minutes(),
        }
    }
}

fn five_minutes() -> Duration {
    Duration::from_secs(300)
}

/// `retries:` in environment.yaml.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Retries {
    /// Total attempts of one request, the first included.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Initial backoff interval; it grows exponentially.
    #[serde(default = "default_backoff", deserialize_with = "retry_backoff")]
    pub backoff: Duration,
}

impl Default for Retries {
    fn default() -> Self {
        Self {
            max_attempts: default_max_attempts(),
            backoff: default_backoff(),
        }
    }
}

fn default_max_attempts() -> u32 {
    3
}

fn default_backoff() -> Duration {
    Duration::from_secs(5)
}

/// `health:` in environment.yaml.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HealthPolicy {
    /// How long Degraded, Unknown or post-sync Missing may persist before it fails the component.
    #[serde(default, deserialize_with = "degraded_grace_period")]
    pub degraded_grace_period: Duration,
    /// What a Suspended application counts as.
    #[serde(default)]
    pub suspended_is: SuspendedIs,
}

/// `sync:` in environment.yaml.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncSettings {
    /// Delete resources that are no longer in Git. Unset: the app's own
    /// `syncPolicy.automated.prune` (Argo CD takes `prune` only from the request).
    #[serde(default)]
    pub prune: Option<bool>,
    /// Argo CD sync options, such as `ServerSideApply=true`.
    #[serde(default)]
    pub options: Vec<String>,
}

/// A duration field of environment.yaml. serde_yaml's message names the
/// enclosing map (`timeouts:`) but not the key, so the error names the field.
fn duration<'de, D: Deserializer<'de>>(de: D, field: &str) -> Result<Duration, D::Error> {
    let text = String::deserialize(de)?;
    duration::parse(&text)
        .map_err(|why| serde::de::Error::custom(format!("`{field}`: '{text}' is {why}")))
}

fn sync_timeout<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
    duration(de, "timeouts.sync")
}

fn health_timeout<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
    duration(de, "timeouts.health")
}

fn retry_backoff<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
    duration(de, "retries.backoff")
}

fn degraded_grace_period<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
    duration(de, "health.degradedGracePeriod")
}

/// A namespace name, checked here so that a bad one is reported with its line and column.
fn namespace<'de, D: Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(de)?;
    if name::valid_namespace(&text) {
        Ok(Some(text))
    } else {
        Err(serde::de::Error::custom(format!(
            "'{text}' is not a valid namespace: {}",
            name::NAMESPACE_RULE
        )))
    }
}

impl EnvironmentFile {
    /// Parses the file's text; the error carries the line and column.
    pub fn parse(text: &str) -> Result<Self, serde_yaml::Error> {
        serde_yaml::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "name: dev\ndomain: dev.example.com\ngitRepository: https://git.example.com/platform.git\ngitRevision: main\n";

    #[test]
    fn minimal_file_gets_the_contract_defaults() {
        let env = EnvironmentFile::parse(MINIMAL).unwrap();
        assert_eq!(env.argocd_namespace, "argocd");
        assert_eq!(env.timeouts.sync, Duration::from_secs(300));
        assert_eq!(env.timeouts.health, Duration::from_secs(300));
        assert_eq!(env.retries.max_attempts, 3);
        assert_eq!(env.retries.backoff, Duration::from_secs(5));
        assert_eq!(env.health.degraded_grace_period, Duration::ZERO);
        assert_eq!(env.health.suspended_is, SuspendedIs::Progressing);
        assert_eq!(env.sync.prune, None);
    }

    #[test]
    fn unknown_field_is_reported_with_line_and_column() {
        let text = format!("{MINIMAL}timeouts:\n  synk: 5m\n");
        let err = EnvironmentFile::parse(&text).unwrap_err().to_string();
        assert!(err.contains("synk"), "{err}");
        assert!(err.contains("line 6 column 3"), "{err}");
    }

    #[test]
    fn bad_duration_names_the_value_and_the_fix() {
        let text = format!("{MINIMAL}timeouts:\n  sync: soon\n");
        let err = EnvironmentFile::parse(&text).unwrap_err().to_string();
        assert!(err.contains("'soon' is not a duration"), "{err}");
        assert!(err.contains("line 6"), "{err}");
    }

    #[test]
    fn app_namespace_is_a_checked_namespace_name() {
        assert_eq!(
            EnvironmentFile::parse(MINIMAL)
                .unwrap()
                .argocd
                .app_namespace,
            None
        );
        let text = format!("{MINIMAL}argocd:\n  appNamespace: team-a\n");
        let env = EnvironmentFile::parse(&text).unwrap();
        assert_eq!(env.argocd.app_namespace.as_deref(), Some("team-a"));
        let text = format!("{MINIMAL}argocd:\n  appNamespace: Team_A\n");
        let err = EnvironmentFile::parse(&text).unwrap_err().to_string();
        assert!(err.contains("'Team_A' is not a valid namespace"), "{err}");
        assert!(err.contains("line 6"), "{err}");
        let text = format!("{MINIMAL}argocd:\n  appNamespaces: team-a\n");
        let err = EnvironmentFile::parse(&text).unwrap_err().to_string();
        assert!(err.contains("unknown field `appNamespaces`"), "{err}");
    }

    #[test]
    fn a_duration_too_long_names_its_field() {
        for (yaml, field) in [
            ("timeouts: {sync: 500000000000y}", "`timeouts.sync`"),
            ("timeouts: {health: 8d}", "`timeouts.health`"),
            ("retries: {backoff: 8d}", "`retries.backoff`"),
            (
                "health: {degradedGracePeriod: 8d}",
                "`health.degradedGracePeriod`",
            ),
        ] {
            let text = format!("{MINIMAL}{yaml}\n");
            let err = EnvironmentFile::parse(&text).unwrap_err().to_string();
            assert!(err.contains(field), "{err}");
            assert!(err.contains("the most is 7d"), "{err}");
            assert!(err.contains("line 5"), "{err}");
        }
    }
}
