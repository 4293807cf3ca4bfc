//! The validate verdict on one snapshot (contract §2, validate column):
//! read-only, so there is no operation of ours to follow, only the state the
//! app is in.

use super::{freshness, operation, or_unknown, Freshness};
use crate::argocd::types::Application;
use crate::outcome::{ComponentStatus as S, FailureReason as R};
use crate::vocabulary::SuspendedIs;

/// The validate verdict on one snapshot, per contract §2 (validate column).
pub fn classify(app: &Application, suspended_is: SuspendedIs) -> (S, Option<R>, String) {
    let health = app.status.health.status.as_str();
    let sync = app.status.sync.status.as_str();
    let running = operation::in_progress(app);
    let detail = app
        .status
        .health
        .message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    let health_ok =
        health == "Healthy" || (health == "Suspended" && suspended_is == SuspendedIs::Healthy);
    // Read-only, validate cannot ask for a refresh: a snapshot from before the
    // controller re-compared after the last operation proves nothing either way
    // (contract §3, "Not stale"; a close one counts only in the app's favour).
    let fresh = freshness(&app.status);
    let ready = health_ok && sync == "Synced" && !running;
    if fresh == Freshness::Stale || (fresh == Freshness::Close && !ready) {
        return (
            S::Degraded,
            Some(R::Stale),
            format!(
                "not yet re-assessed since the last operation (health {}, sync {} as of the comparison before it)",
                or_unknown(health),
                or_unknown(sync)
            ),
        );
    }
    match health {
        _ if health_ok && sync == "Synced" && !running => {
            (S::Healthy, None, "Healthy and Synced".to_owned())
        }
        "Suspended" if suspended_is == SuspendedIs::Failed => (
            S::Unhealthy,
            Some(R::Suspended),
            format!("health is Suspended{detail}"),
        ),
        "Healthy" | "Progressing" | "Suspended" | "Degraded" | "Missing" => {
            let reason = match health {
                "Degraded" => R::Degraded,
                "Missing" => R::Missing,
                _ if sync != "Synced" => R::OutOfSync,
                _ => R::Degraded,
            };
            let op = if running {
                ", an operation is running"
            } else {
                ""
            };
            (
                S::Degraded,
                Some(reason),
                format!(
                    "health is {health}{detail}, sync is {}{op}",
                    or_unknown(sync)
                ),
            )
        }
        _ => (
            S::Unhealthy,
            Some(R::Unknown),
            format!("health is {}{detail}", or_unknown(health)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(health: &str, sync: &str) -> Application {
        let mut app = Application::default();
        app.status.health.status = health.to_owned();
        app.status.sync.status = sync.to_owned();
        app
    }

    #[test]
    fn validate_maps_health_and_sync_to_the_contract_words() {
        let cases = [
            ("Healthy", "Synced", S::Healthy),
            ("Healthy", "OutOfSync", S::Degraded),
            ("Progressing", "Synced", S::Degraded),
            ("Degraded", "Synced", S::Degraded),
            ("Missing", "OutOfSync", S::Degraded),
            ("Suspended", "Synced", S::Degraded),
            ("Unknown", "Synced", S::Unhealthy),
            ("", "", S::Unhealthy),
        ];
        for (health, sync, expected) in cases {
            let (got, _, msg) = classify(&app(health, sync), SuspendedIs::Progressing);
            assert_eq!(got, expected, "{health}/{sync}: {msg}");
        }
        assert_eq!(
            classify(&app("Suspended", "Synced"), SuspendedIs::Healthy).0,
            S::Healthy
        );
        assert_eq!(
            classify(&app("Suspended", "Synced"), SuspendedIs::Failed).0,
            S::Unhealthy
        );
    }

    /// A snapshot from before the re-comparison after the last operation is
    /// degraded, never healthy or unhealthy; a tie only counts when ready.
    #[test]
    fn a_stale_snapshot_is_degraded_with_the_reason() {
        use chrono::{DateTime, Utc};
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let cases = [
            (
                "stale Healthy",
                "Healthy",
                "Synced",
                "2026-11-22T08:00:20Z",
                S::Degraded,
            ),
            (
                "stale Unknown",
                "Unknown",
                "OutOfSync",
                "2026-11-22T08:00:20Z",
                S::Degraded,
            ),
            (
                "Missing in the same second",
                "Missing",
                "OutOfSync",
                "2026-11-22T08:00:21Z",
                S::Degraded,
            ),
            (
                "Healthy in the same second",
                "Healthy",
                "Synced",
                "2026-11-22T08:00:21Z",
                S::Healthy,
            ),
            (
                "Missing a second after",
                "Missing",
                "OutOfSync",
                "2026-11-22T08:00:22Z",
                S::Degraded,
            ),
            (
                "fresh Unknown",
                "Unknown",
                "Synced",
                "2026-11-22T08:00:23Z",
                S::Unhealthy,
            ),
        ];
        for (name, health, sync, reconciled, want) in cases {
            let mut a = app(health, sync);
            a.status.operation_state = Some(crate::argocd::types::OperationState {
                phase: "Succeeded".to_owned(),
                finished_at: Some(at("2026-11-22T08:00:21Z")),
                ..Default::default()
            });
            a.status.reconciled_at = Some(at(reconciled));
            let (got, reason, msg) = classify(&a, SuspendedIs::Progressing);
            assert_eq!(got, want, "{name}: {msg}");
            if want == S::Degraded {
                assert_eq!(reason, Some(R::Stale), "{name}");
                assert!(
                    msg.contains("not yet re-assessed since the last operation"),
                    "{name}: {msg}"
                );
            }
        }
    }
}
