//! What one probe found, in the words of Argo CD's health (Healthy proceeds,
//! Progressing waits, Degraded halts, Unknown fails), and how one check is
//! recorded in `report.json`.

use serde::Serialize;

use crate::vocabulary::SuspendedIs;

/// The health a probe found, as Argo CD's health codes name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Health {
    /// It holds.
    Healthy,
    /// Suspended (a paused Deployment, a suspended Job): `health.suspendedIs` decides.
    Suspended,
    /// Not yet: may still come to hold.
    Progressing,
    /// The object (or field) to judge does not exist (yet).
    Missing,
    /// It does not hold, and will not by waiting.
    Degraded,
    /// The probe got no usable answer.
    Unknown,
}

/// One probe's finding: the health and what was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The verdict.
    pub health: Health,
    /// What was seen, for the report.
    pub message: String,
}

impl Finding {
    /// A finding of `health`.
    pub fn new(health: Health, message: impl Into<String>) -> Finding {
        Finding {
            health,
            message: message.into(),
        }
    }

    /// It holds.
    pub fn healthy(message: impl Into<String>) -> Finding {
        Finding::new(Health::Healthy, message)
    }

    /// Not yet.
    pub fn progressing(message: impl Into<String>) -> Finding {
        Finding::new(Health::Progressing, message)
    }

    /// It does not hold.
    pub fn degraded(message: impl Into<String>) -> Finding {
        Finding::new(Health::Degraded, message)
    }

    /// The worst of several findings by what they mean with `suspended`
    /// (fails, then not yet, then holds; then by health), the first of
    /// equals; `None` when there are none.
    pub fn worst(
        findings: impl IntoIterator<Item = Finding>,
        suspended: SuspendedIs,
    ) -> Option<Finding> {
        let rank = |f: &Finding| {
            let verdict = match f.state(suspended) {
                Verdict::Holds => 0,
                Verdict::NotYet => 1,
                Verdict::Fails => 2,
            };
            (verdict, f.health)
        };
        findings
            .into_iter()
            .reduce(|worst, f| if rank(&f) > rank(&worst) { f } else { worst })
    }

    /// What the finding means for the run, with `suspended` as environment.yaml's
    /// `health.suspendedIs` says.
    pub fn state(&self, suspended: SuspendedIs) -> Verdict {
        match self.health {
            Health::Healthy => Verdict::Holds,
            Health::Suspended => match suspended {
                SuspendedIs::Healthy => Verdict::Holds,
                SuspendedIs::Progressing => Verdict::NotYet,
                SuspendedIs::Failed => Verdict::Fails,
            },
            Health::Progressing | Health::Missing => Verdict::NotYet,
            Health::Degraded | Health::Unknown => Verdict::Fails,
        }
    }
}

/// What a finding means for the run: deploy waits on `NotYet` within the
/// health deadline and halts on `Fails` (after the degraded grace period);
/// validate counts both as unhealthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The check holds.
    Holds,
    /// It may still come to hold.
    NotYet,
    /// It does not hold.
    Fails,
}

/// How one check ended, in `report.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckState {
    /// It holds.
    Passed,
    /// It does not (or not within the deadline).
    Failed,
    /// Not made: no cluster access.
    Skipped,
}

/// One critical check of one component, as `components[].checks[]` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckRecord {
    /// The check's name in health.yaml, or the built-in's (`cephCluster`, …).
    pub name: String,
    /// What it looked at: an object (`CephCluster rook-ceph/rook-ceph`), a URL, an Application.
    pub target: String,
    /// How it ended.
    pub status: CheckState,
    /// What was found.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_means_what_the_contract_says_for_its_health() {
        use Health as H;
        use SuspendedIs as S;
        use Verdict as V;
        let cases = [
            (H::Healthy, S::Progressing, V::Holds),
            (H::Progressing, S::Progressing, V::NotYet),
            (H::Missing, S::Progressing, V::NotYet),
            (H::Degraded, S::Healthy, V::Fails),
            (H::Unknown, S::Healthy, V::Fails),
            (H::Suspended, S::Healthy, V::Holds),
            (H::Suspended, S::Progressing, V::NotYet),
            (H::Suspended, S::Failed, V::Fails),
        ];
        for (health, suspended, verdict) in cases {
            assert_eq!(
                Finding::new(health, "").state(suspended),
                verdict,
                "{health:?} with suspendedIs {suspended:?}"
            );
        }
    }

    #[test]
    fn the_worst_finding_wins_and_the_first_of_equals() {
        let found = Finding::worst(
            [
                Finding::healthy("a"),
                Finding::progressing("b"),
                Finding::degraded("c"),
                Finding::degraded("d"),
            ],
            SuspendedIs::Progressing,
        );
        assert_eq!(found, Some(Finding::degraded("c")));
        assert_eq!(Finding::worst([], SuspendedIs::Progressing), None);
        // A Suspended object fails with suspendedIs: failed, and wins over a Progressing one.
        let mixed = || {
            [
                Finding::progressing("p"),
                Finding::new(Health::Suspended, "s"),
            ]
        };
        assert_eq!(
            Finding::worst(mixed(), SuspendedIs::Failed).map(|f| f.message),
            Some("s".to_owned())
        );
        assert_eq!(
            Finding::worst(mixed(), SuspendedIs::Healthy).map(|f| f.message),
            Some("p".to_owned())
        );
    }
}
