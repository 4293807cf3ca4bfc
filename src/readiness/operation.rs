//! Where an Application's operation stands: requested, running, completed.
//! Every decision about "an operation is in progress" goes through these.
//!
//! Argo CD keeps the top-level `operation` from the request until the
//! operation completes, and clears it in the update that records the final
//! phase (argo-cd `controller/appcontroller.go`, `setOperationState`). The
//! phase in `status.operationState` is final only when Succeeded, Failed or
//! Error (gitops-engine `pkg/sync/common/types.go`, `OperationPhase.Completed`).

use crate::argocd::types::{Application, Operation, OperationState};

/// The operation requested and not yet completed (the top-level `operation`),
/// whether or not the controller has started it.
pub fn requested(app: &Application) -> Option<&Operation> {
    app.operation.as_ref()
}

/// The recorded operation has not reached a final phase: Running,
/// Terminating, or no phase yet.
pub fn running(state: &OperationState) -> bool {
    matches!(state.phase.as_str(), "Running" | "Terminating" | "")
}

/// The recorded operation reached a final phase: Succeeded, Failed or Error.
pub fn completed(state: &OperationState) -> bool {
    matches!(state.phase.as_str(), "Succeeded" | "Failed" | "Error")
}

/// Some operation is in progress on the app: requested, or recorded and running.
pub fn in_progress(app: &Application) -> bool {
    requested(app).is_some() || app.status.operation_state.as_ref().is_some_and(running)
}

/// The app's last operation is over: nothing requested, and the recorded
/// operation completed.
pub fn ended(app: &Application) -> bool {
    requested(app).is_none() && app.status.operation_state.as_ref().is_some_and(completed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each phase: running, completed. No phase yet counts as running.
    #[test]
    fn only_succeeded_failed_and_error_are_final() {
        let rows = [
            ("", true, false),
            ("Running", true, false),
            ("Terminating", true, false),
            ("Succeeded", false, true),
            ("Failed", false, true),
            ("Error", false, true),
        ];
        for (phase, is_running, is_completed) in rows {
            let state = OperationState {
                phase: phase.to_owned(),
                ..OperationState::default()
            };
            assert_eq!(running(&state), is_running, "{phase:?}: running");
            assert_eq!(completed(&state), is_completed, "{phase:?}: completed");
        }
    }

    /// Each row: the top-level `operation` set, the recorded phase, then
    /// whether an operation is in progress and whether the last one ended.
    #[test]
    fn in_progress_until_the_request_is_cleared_and_the_phase_is_final() {
        let rows = [
            ("never operated", false, None, false, false),
            ("requested, not started", true, None, true, false),
            (
                "requested, previous one Succeeded",
                true,
                Some("Succeeded"),
                true,
                false,
            ),
            ("recorded without a phase yet", false, Some(""), true, false),
            ("Running", true, Some("Running"), true, false),
            ("Terminating", true, Some("Terminating"), true, false),
            ("Succeeded", false, Some("Succeeded"), false, true),
            ("Failed", false, Some("Failed"), false, true),
            ("Error", false, Some("Error"), false, true),
        ];
        for (name, is_requested, phase, is_in_progress, is_ended) in rows {
            let mut app = Application {
                operation: is_requested.then(Operation::default),
                ..Application::default()
            };
            app.status.operation_state = phase.map(|phase| OperationState {
                phase: phase.to_owned(),
                ..OperationState::default()
            });
            assert_eq!(requested(&app).is_some(), is_requested, "{name}: requested");
            assert_eq!(in_progress(&app), is_in_progress, "{name}: in progress");
            assert_eq!(ended(&app), is_ended, "{name}: ended");
        }
    }
}
