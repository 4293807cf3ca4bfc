//! What `Suspended` health counts as (environment.yaml's `health.suspendedIs`).

use serde::Deserialize;

/// What `Suspended` health means for readiness.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SuspendedIs {
    /// Suspended counts as Healthy (e.g. a paused CronJob is fine).
    Healthy,
    /// Suspended keeps the executor waiting (e.g. a paused rollout will resume).
    #[default]
    Progressing,
    /// Suspended fails the component.
    Failed,
}
