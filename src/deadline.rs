//! A deadline and the setting it came from, so that a Timeout names what to
//! raise: a flag, dag.yaml (a node, its stack, the defaults), an override of
//! dag.yaml, environment.yaml, or validate's `--wait`. And the instant it
//! passes, computed without overflow: `Instant + Duration` panics when the sum
//! is not representable, and a deadline that far away is as good as none.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use crate::vocabulary::duration;

/// About 30 years: what tokio's own `timeout` waits for when its deadline
/// overflows.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// The instant `d` from now, or the far future when that is not representable.
pub fn after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .or_else(|| now.checked_add(FAR_FUTURE))
        // Only a clock that cannot count 30 years ahead gets here.
        .unwrap_or(now)
}

/// Which deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineKind {
    /// From sync request to operation completed.
    Sync,
    /// From operation completed to ready.
    Health,
    /// validate's `--wait`, its only setting.
    Wait,
    /// The whole run's `--timeout`, its only setting.
    Run,
}

impl DeadlineKind {
    /// The field of a `timeouts:` block that sets it.
    fn field(self) -> &'static str {
        match self {
            DeadlineKind::Sync => "sync",
            DeadlineKind::Health => "health",
            DeadlineKind::Wait => "wait",
            DeadlineKind::Run => "timeout",
        }
    }
}

/// Where a deadline's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadlineSource {
    /// environment.yaml's `timeouts` (or its default of 5m).
    Environment,
    /// dag.yaml: the node's own `timeouts`.
    DagNode(String),
    /// dag.yaml: the `timeouts` of the node's stack, which its members inherit.
    DagStack(String),
    /// dag.yaml: `defaults.timeouts`.
    DagDefaults,
    /// An override of a node's timeouts: `--set-timeout`, or the
    /// `--dag-overrides` file (its path).
    Override {
        /// `--set-timeout`, or the overrides file's path.
        origin: String,
        /// The node the override names.
        node: String,
    },
    /// `--sync-timeout` / `--health-timeout` (or their variables), or `--wait`.
    Flag,
}

/// One deadline of one component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    /// Which one.
    pub kind: DeadlineKind,
    /// How long it allows.
    pub after: Duration,
    /// The setting it came from.
    pub source: DeadlineSource,
}

impl Deadline {
    /// A deadline of `kind` from `source`.
    pub fn new(kind: DeadlineKind, after: Duration, source: DeadlineSource) -> Deadline {
        Deadline {
            kind,
            after,
            source,
        }
    }

    /// The instant it passes when it starts now (see [`after`]).
    pub fn ends(&self) -> Instant {
        after(self.after)
    }

    /// validate's `--wait`.
    pub fn wait(after: Duration) -> Deadline {
        Deadline::new(DeadlineKind::Wait, after, DeadlineSource::Flag)
    }

    /// The whole run's `--timeout`.
    pub fn run(after: Duration) -> Deadline {
        Deadline::new(DeadlineKind::Run, after, DeadlineSource::Flag)
    }

    /// `the overall --timeout of 5m passed`, for the run's deadline; else
    /// `the health timeout of 5m (…) passed`.
    pub fn passed(&self) -> String {
        format!("{self} passed")
    }

    /// A component's deadline of `kind`: the flag's, when given, else its DAG
    /// node's, else environment.yaml's.
    pub fn resolve(
        kind: DeadlineKind,
        flag: Option<Duration>,
        node: Option<Deadline>,
        environment: Duration,
    ) -> Deadline {
        match (flag, node) {
            (Some(after), _) => Deadline::new(kind, after, DeadlineSource::Flag),
            (None, Some(node)) => node,
            (None, None) => Deadline::new(kind, environment, DeadlineSource::Environment),
        }
    }

    /// The setting to change, e.g. `dag.yaml node `temporal` timeouts.health`.
    pub fn setting(&self) -> String {
        let field = self.kind.field();
        match (&self.source, self.kind) {
            (DeadlineSource::Flag, DeadlineKind::Sync) => {
                "--sync-timeout / SYNC_TIMEOUT".to_owned()
            }
            (DeadlineSource::Flag, DeadlineKind::Health) => {
                "--health-timeout / HEALTH_TIMEOUT".to_owned()
            }
            (_, DeadlineKind::Wait) => "--wait / VALIDATE_WAIT".to_owned(),
            (_, DeadlineKind::Run) => "--timeout / EXECUTOR_TIMEOUT".to_owned(),
            (DeadlineSource::Environment, _) => format!("environment.yaml timeouts.{field}"),
            (DeadlineSource::DagNode(node), _) => {
                format!("dag.yaml node `{node}` timeouts.{field}")
            }
            (DeadlineSource::DagStack(stack), _) => {
                format!("dag.yaml stack `{stack}` timeouts.{field}")
            }
            (DeadlineSource::DagDefaults, _) => format!("dag.yaml defaults.timeouts.{field}"),
            (DeadlineSource::Override { origin, node }, _) if origin.starts_with("--") => {
                format!("{origin} {node}={field}:{}", duration::format(self.after))
            }
            (DeadlineSource::Override { origin, node }, _) => {
                format!("{origin} nodes.{node}.timeouts.{field}")
            }
        }
    }
}

/// "the health timeout of 2s (dag.yaml node `temporal` timeouts.health)".
impl fmt::Display for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            DeadlineKind::Sync => "sync timeout",
            DeadlineKind::Health => "health timeout",
            DeadlineKind::Wait => "wait",
            DeadlineKind::Run => "overall timeout",
        };
        write!(
            f,
            "the {what} of {} ({})",
            duration::human(self.after),
            self.setting()
        )
    }
}

/// What to raise when `passed` made a component time out, for the
/// recommendation: "the sync timeout of 5m (…) or the health timeout of …".
pub fn to_raise(passed: &[Deadline]) -> String {
    if passed.is_empty() {
        return "its deadline".to_owned();
    }
    passed
        .iter()
        .map(Deadline::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: DeadlineKind = DeadlineKind::Sync;
    const H: DeadlineKind = DeadlineKind::Health;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// The flag wins over the node, the node over environment.yaml.
    #[test]
    fn the_flag_wins_then_the_node_then_the_environment() {
        let node = Deadline::new(H, secs(60), DeadlineSource::DagNode("temporal".into()));
        let cases = [
            (
                Some(secs(5)),
                Some(node.clone()),
                secs(5),
                DeadlineSource::Flag,
            ),
            (None, Some(node.clone()), secs(60), node.source.clone()),
            (None, None, secs(300), DeadlineSource::Environment),
        ];
        for (flag, node, after, source) in cases {
            let got = Deadline::resolve(H, flag, node, secs(300));
            assert_eq!(got, Deadline::new(H, after, source));
        }
    }

    #[test]
    fn a_deadline_names_its_setting() {
        let over = |origin: &str| DeadlineSource::Override {
            origin: origin.into(),
            node: "kafka".into(),
        };
        let cases = [
            (
                S,
                DeadlineSource::Environment,
                "the sync timeout of 2s (environment.yaml timeouts.sync)",
            ),
            (
                H,
                DeadlineSource::Flag,
                "the health timeout of 2s (--health-timeout / HEALTH_TIMEOUT)",
            ),
            (
                S,
                DeadlineSource::Flag,
                "the sync timeout of 2s (--sync-timeout / SYNC_TIMEOUT)",
            ),
            (
                H,
                DeadlineSource::DagNode("temporal".into()),
                "the health timeout of 2s (dag.yaml node `temporal` timeouts.health)",
            ),
            (
                S,
                DeadlineSource::DagStack("data".into()),
                "the sync timeout of 2s (dag.yaml stack `data` timeouts.sync)",
            ),
            (
                H,
                DeadlineSource::DagDefaults,
                "the health timeout of 2s (dag.yaml defaults.timeouts.health)",
            ),
            (
                H,
                over("--set-timeout"),
                "the health timeout of 2s (--set-timeout kafka=health:2s)",
            ),
            (
                S,
                over("/config/overrides.yaml"),
                "the sync timeout of 2s (/config/overrides.yaml nodes.kafka.timeouts.sync)",
            ),
            (
                DeadlineKind::Wait,
                DeadlineSource::Flag,
                "the wait of 2s (--wait / VALIDATE_WAIT)",
            ),
        ];
        for (kind, source, want) in cases {
            assert_eq!(Deadline::new(kind, secs(2), source).to_string(), want);
        }
    }

    #[test]
    fn a_deadline_past_the_clock_is_the_far_future() {
        let now = Instant::now();
        for (d, at_least) in [
            (secs(90), secs(90)),
            (Duration::MAX, FAR_FUTURE),
            (secs(u64::MAX / 2), FAR_FUTURE),
        ] {
            assert!(after(d) >= now + at_least, "{d:?}");
            let deadline = Deadline::new(S, d, DeadlineSource::Environment);
            assert!(deadline.ends() >= now + at_least, "{d:?}");
        }
    }

    #[test]
    fn the_advice_names_every_deadline_that_passed() {
        let env = |kind| Deadline::new(kind, secs(60), DeadlineSource::Environment);
        assert_eq!(
            to_raise(&[env(S), env(H)]),
            "the sync timeout of 1m (environment.yaml timeouts.sync) or the health timeout of 1m (environment.yaml timeouts.health)"
        );
        assert_eq!(to_raise(&[]), "its deadline");
    }
}
