//! The result of a run: one result per component, and the one function that
//! maps it to an exit code.

use serde::Serialize;

use crate::exit::ExitCode;
use crate::vocabulary::Action;

/// The word a unit enum serialises to (`succeeded`, `Degraded`, …), for logs,
/// summaries and metric labels that must match the report.
pub fn word(value: impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(word)) => word,
        _ => String::new(),
    }
}

/// What happened to one component. Serialised as the contract's lowercase words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ComponentStatus {
    /// deploy: synced by this run and ready.
    Succeeded,
    /// deploy: already ready; nothing was sent.
    Unchanged,
    /// Any action: it failed.
    Failed,
    /// deploy: not attempted because a dependency failed.
    Skipped,
    /// Any action: a deadline passed.
    Timeout,
    /// Not finished; also a dry run's "would change".
    Pending,
    /// The run was cancelled while this component was in flight.
    Cancelled,
    /// validate: Healthy and Synced.
    Healthy,
    /// validate: exists, but Progressing, Suspended, Degraded, Missing or OutOfSync.
    Degraded,
    /// validate: absent, Unknown, or failing a critical check.
    Unhealthy,
    /// teardown: deleted by this run.
    Removed,
    /// teardown: already gone.
    Absent,
    /// teardown: deleted, but resources remain.
    Orphaned,
}

impl ComponentStatus {
    /// The component reached the action's goal.
    pub fn is_ok(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Unchanged | Self::Healthy | Self::Removed | Self::Absent
        )
    }

    /// Every status `action` can give a component, in the report's order: the
    /// report's `summary` has a counter for each, zeros included.
    pub fn used_by(action: Action) -> &'static [ComponentStatus] {
        use ComponentStatus as S;
        match action {
            Action::Deploy => &[
                S::Succeeded,
                S::Unchanged,
                S::Failed,
                S::Skipped,
                S::Timeout,
                S::Pending,
                S::Cancelled,
            ],
            // validate blocks nothing, so nothing is skipped; a resource node
            // it cannot check fails; a signal leaves nodes pending or cancelled.
            Action::Validate => &[
                S::Healthy,
                S::Degraded,
                S::Unhealthy,
                S::Failed,
                S::Timeout,
                S::Pending,
                S::Cancelled,
            ],
            // A dry run's "would delete" is pending.
            Action::Teardown => &[
                S::Removed,
                S::Absent,
                S::Orphaned,
                S::Failed,
                S::Skipped,
                S::Timeout,
                S::Pending,
                S::Cancelled,
            ],
        }
    }
}

/// Why a component failed, for `failures[].reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FailureReason {
    /// Health stayed Degraded past the grace period.
    Degraded,
    /// Health stayed Unknown past the grace period.
    Unknown,
    /// Resources stayed Missing after the sync.
    Missing,
    /// Suspended, with `health.suspendedIs: failed`.
    Suspended,
    /// The sync operation ended Failed or Error.
    OperationFailed,
    /// A deadline passed.
    Timeout,
    /// The application does not exist in Argo CD.
    NotFound,
    /// The token was rejected.
    Unauthenticated,
    /// The token may not do this, or the project is wrong.
    PermissionDenied,
    /// Argo CD kept failing after every retry.
    Unavailable,
    /// Argo CD answered something the executor cannot use.
    ApiError,
    /// Not in sync with Git.
    OutOfSync,
    /// The run was cancelled.
    Cancelled,
    /// The inputs were invalid; nothing was attempted.
    Invalid,
    /// Not attempted because a dependency did not become ready.
    DependencyFailed,
    /// Deleted, but Applications it managed remain.
    Orphaned,
    /// The sync left resources that require pruning, with prune off.
    PruneSkipped,
    /// Argo CD cannot compare the app: a `ComparisonError` or `InvalidSpecError` condition.
    ComparisonError,
    /// A sync window of the app's project blocks the sync.
    SyncWindow,
    /// validate: the snapshot predates the controller's re-comparison after the last operation.
    Stale,
    /// A stack: a member did not reach the goal (the member's entry says why).
    MemberFailed,
    /// A resource node's object exists, but its condition does not hold.
    NotReady,
    /// A critical health check (health.yaml's or a built-in) does not hold.
    CheckFailed,
    /// validate `--enforce-compliance`: a compliance rule failed.
    NonCompliant,
    /// teardown: the PV policy could not be applied, so nothing was deleted.
    VolumePolicy,
    /// A preflight check failed; nothing was attempted.
    PreflightFailed,
    /// A cluster-side check was not made: the run has no cluster access.
    /// Such a component changes neither the exit code nor its dependents.
    NoClusterAccess,
    /// deploy `--revision`: Argo CD refused it (automated sync pins the
    /// target), or compares the app against another revision than it synced.
    RevisionRefused,
    /// A platform workflow's step failed or errored (`executor dag result`):
    /// the step's own report says why.
    StepFailed,
}

/// Why a run stopped before producing any component result; each holds what
/// went wrong and how to fix it.
#[derive(Debug, Clone)]
pub enum Abort {
    /// Bad inputs: Invalid, nothing was attempted.
    Invalid(String),
    /// The run could not proceed (no client, no runtime, a panic): Failure.
    Failed(String),
    /// A preflight check failed, for this reason: Failure, and nothing was changed.
    Preflight(FailureReason, String),
}

impl Abort {
    /// The exit code of a run that stopped so.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Abort::Invalid(_) => ExitCode::INVALID,
            Abort::Failed(_) | Abort::Preflight(..) => ExitCode::FAILURE,
        }
    }

    /// The report's reason for it.
    pub fn reason(&self) -> FailureReason {
        match self {
            Abort::Invalid(_) => FailureReason::Invalid,
            Abort::Failed(_) => FailureReason::ApiError,
            Abort::Preflight(reason, _) => *reason,
        }
    }

    /// What went wrong, and how to fix it.
    pub fn message(&self) -> &str {
        match self {
            Abort::Invalid(message) | Abort::Failed(message) | Abort::Preflight(_, message) => {
                message
            }
        }
    }
}

/// The recorded result of one component.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentResult {
    /// Application (or stack, or resource) name.
    pub name: String,
    /// `app`, `stack` or `resource`.
    pub kind: &'static str,
    /// The Argo CD Application it stands for: the app, or a stack's
    /// app-of-apps; `None` for a grouping stack and a resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// The outcome for this component.
    pub status: ComponentStatus,
    /// `status.health.status` at the moment of the decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    /// `status.sync.status` at the moment of the decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync: Option<String>,
    /// `status.operationState.phase` at the moment of the decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The synced revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// When work on this component started (RFC 3339).
    pub started_at: String,
    /// How long it took.
    pub duration_seconds: f64,
    /// A human sentence about what happened.
    pub message: String,
    /// What became of the operation this run started, when a deadline or a
    /// signal cut it short.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub termination: Option<Termination>,
    /// Why it failed, when it did.
    #[serde(skip)]
    pub failure: Option<FailureReason>,
    /// The deadlines whose passing made it time out, for the recommendation.
    #[serde(skip)]
    pub deadlines: Vec<crate::deadline::Deadline>,
    /// The critical health checks made for it (health.yaml's and the built-ins).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<crate::checks::CheckRecord>,
    /// The Application's managed resources (`status.resources`) at the
    /// decision, for the checks that follow it.
    #[serde(skip)]
    pub managed: Vec<crate::argocd::types::ResourceStatus>,
    /// validate: the compliance entries of its live manifests (the report
    /// lists them under `compliance`).
    #[serde(skip)]
    pub compliance: Vec<crate::compliance::Entry>,
    /// What its Application showed when it failed (`failures[].evidence`).
    #[serde(skip)]
    pub evidence: Option<crate::evidence::Evidence>,
}

impl ComponentResult {
    /// A result with only its name, kind, Application, status and message
    /// known (no snapshot was read for it).
    pub fn recorded(
        name: &str,
        kind: &'static str,
        application: Option<String>,
        status: ComponentStatus,
        message: String,
    ) -> ComponentResult {
        ComponentResult {
            name: name.to_owned(),
            kind,
            application,
            status,
            health: None,
            sync: None,
            operation: None,
            revision: None,
            started_at: String::new(),
            duration_seconds: 0.0,
            message,
            termination: None,
            failure: None,
            deadlines: Vec::new(),
            checks: Vec::new(),
            managed: Vec::new(),
            compliance: Vec::new(),
            evidence: None,
        }
    }

    /// A stack without an app-of-apps: its status only mirrors its members'.
    pub fn is_grouping(&self) -> bool {
        self.kind == "stack" && self.application.is_none()
    }

    /// A cluster-side check not made for want of cluster access: reported,
    /// and left out of the exit code (contract: cluster access is optional).
    pub fn is_unchecked(&self) -> bool {
        self.status == ComponentStatus::Skipped
            && self.failure == Some(FailureReason::NoClusterAccess)
    }
}

/// What became of an operation this run started and did not see through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Termination {
    /// Terminated, and Argo CD confirmed that it ended.
    Terminated,
    /// Termination was requested; the operation was not yet seen to end.
    TerminationRequested,
    /// Left running (`--no-terminate-on-timeout`).
    LeftRunning,
}

/// The result of a whole run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The action that ran.
    pub action: Action,
    /// Whether it was a dry run (a dry run's `pending` means "would change" and is fine).
    pub dry_run: bool,
    /// Whether SIGTERM or SIGINT ended it.
    pub cancelled: bool,
    /// Every component in scope.
    pub components: Vec<ComponentResult>,
    /// Advice for the reader of the report.
    pub recommendations: Vec<String>,
    /// Set when the run could not start: invalid inputs, no usable client,
    /// or a failed preflight check.
    pub aborted: Option<Abort>,
    /// The preflight checks, in the order they ran (none when the run
    /// stopped before them).
    pub preflight: Vec<crate::cluster::preflight::Check>,
    /// validate `--enforce-compliance`: failed compliance rules made apps unhealthy.
    pub enforce_compliance: bool,
}

impl Outcome {
    /// The contract's exit code for this outcome. The one place that decides it.
    ///
    /// Precedence, when several apply:
    /// 0. a run that could not start → Invalid for bad inputs, else Failure;
    /// 1. all components ok → Success (an empty scope is Success too);
    /// 2. validate: any unhealthy → Failure, else degraded → Partial;
    /// 3. teardown: any failed → Failure, else orphaned → Partial;
    /// 4. a timeout with nothing failed → Timeout;
    /// 5. some ok and some not → Partial; nothing ok → Failure.
    ///
    /// A cancelled run gets the code of what it achieved, by the same rules,
    /// counting its cancelled components as failed.
    ///
    /// Grouping stacks are left out: their status is derived from their
    /// members, which are counted themselves, so a grouping stack never
    /// counts as a success of its own (contract §5).
    pub fn exit_code(&self) -> ExitCode {
        use ComponentStatus as S;
        if let Some(abort) = &self.aborted {
            return abort.exit_code();
        }
        let counted: Vec<S> = self
            .components
            .iter()
            .filter(|c| !c.is_grouping() && !c.is_unchecked())
            .map(|c| c.status)
            .collect();
        let count = |pred: &dyn Fn(S) -> bool| counted.iter().filter(|&&s| pred(s)).count();
        let pending_is_ok = self.dry_run && !self.cancelled;
        let ok = count(&|s| s.is_ok() || (pending_is_ok && s == S::Pending));
        if ok == counted.len() {
            return ExitCode::SUCCESS;
        }
        match self.action {
            Action::Validate if count(&|s| s == S::Unhealthy) > 0 => return ExitCode::FAILURE,
            Action::Validate
                if count(&|s| s == S::Degraded) > 0 && count(&|s| s == S::Timeout) == 0 =>
            {
                return ExitCode::PARTIAL
            }
            Action::Teardown if count(&|s| s == S::Failed) > 0 => return ExitCode::FAILURE,
            Action::Teardown if count(&|s| s == S::Orphaned) > 0 => return ExitCode::PARTIAL,
            _ => {}
        }
        let hard_failures =
            count(&|s| matches!(s, S::Failed | S::Cancelled | S::Unhealthy | S::Orphaned));
        if count(&|s| s == S::Timeout) > 0 && hard_failures == 0 {
            return ExitCode::TIMEOUT;
        }
        if ok > 0 {
            ExitCode::PARTIAL
        } else {
            ExitCode::FAILURE
        }
    }

    /// The word for `<output-dir>/status` and the report's `status`.
    pub fn status_word(&self) -> &'static str {
        if self.cancelled {
            "cancelled"
        } else {
            self.exit_code().status_word()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ComponentStatus as S;

    fn outcome(action: Action, statuses: &[S]) -> Outcome {
        Outcome {
            action,
            dry_run: false,
            cancelled: false,
            recommendations: vec![],
            aborted: None,
            preflight: vec![],
            enforce_compliance: false,
            components: statuses
                .iter()
                .enumerate()
                .map(|(i, &status)| {
                    let name = format!("c{i}");
                    ComponentResult::recorded(
                        &name,
                        "app",
                        Some(name.clone()),
                        status,
                        String::new(),
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn exit_codes_follow_the_contract_table() {
        let cases: &[(Action, &[S], ExitCode)] = &[
            (
                Action::Deploy,
                &[S::Succeeded, S::Unchanged],
                ExitCode::SUCCESS,
            ),
            (Action::Deploy, &[], ExitCode::SUCCESS),
            (Action::Deploy, &[S::Failed], ExitCode::FAILURE),
            (
                Action::Deploy,
                &[S::Succeeded, S::Failed, S::Skipped],
                ExitCode::PARTIAL,
            ),
            (Action::Deploy, &[S::Failed, S::Skipped], ExitCode::FAILURE),
            (Action::Deploy, &[S::Timeout], ExitCode::TIMEOUT),
            (
                Action::Deploy,
                &[S::Succeeded, S::Timeout, S::Skipped],
                ExitCode::TIMEOUT,
            ),
            (
                Action::Deploy,
                &[S::Succeeded, S::Timeout, S::Failed],
                ExitCode::PARTIAL,
            ),
            (Action::Deploy, &[S::Cancelled], ExitCode::FAILURE),
            (
                Action::Deploy,
                &[S::Succeeded, S::Cancelled],
                ExitCode::PARTIAL,
            ),
            (Action::Validate, &[S::Healthy], ExitCode::SUCCESS),
            (
                Action::Validate,
                &[S::Healthy, S::Degraded],
                ExitCode::PARTIAL,
            ),
            (
                Action::Validate,
                &[S::Degraded, S::Unhealthy],
                ExitCode::FAILURE,
            ),
            (Action::Validate, &[S::Timeout], ExitCode::TIMEOUT),
            (
                Action::Teardown,
                &[S::Removed, S::Absent],
                ExitCode::SUCCESS,
            ),
            (
                Action::Teardown,
                &[S::Removed, S::Orphaned],
                ExitCode::PARTIAL,
            ),
            (
                Action::Teardown,
                &[S::Orphaned, S::Failed],
                ExitCode::FAILURE,
            ),
            (Action::Teardown, &[S::Timeout], ExitCode::TIMEOUT),
        ];
        for (action, statuses, expected) in cases {
            let got = outcome(*action, statuses).exit_code();
            assert_eq!(got, *expected, "{action} {statuses:?}");
        }
    }

    /// A grouping stack mirrors its members and is not counted itself: with
    /// its only member failed the run is a Failure, not Partial, whatever
    /// status the stack carries.
    #[test]
    fn a_grouping_stack_never_counts_as_a_success_of_its_own() {
        let cases: &[(Action, S, &[S], ExitCode)] = &[
            (
                Action::Deploy,
                S::Succeeded,
                &[S::Failed],
                ExitCode::FAILURE,
            ),
            (Action::Deploy, S::Failed, &[S::Failed], ExitCode::FAILURE),
            (
                Action::Deploy,
                S::Succeeded,
                &[S::Timeout],
                ExitCode::TIMEOUT,
            ),
            (
                Action::Deploy,
                S::Succeeded,
                &[S::Succeeded],
                ExitCode::SUCCESS,
            ),
            (
                Action::Teardown,
                S::Removed,
                &[S::Failed],
                ExitCode::FAILURE,
            ),
            (
                Action::Validate,
                S::Healthy,
                &[S::Unhealthy],
                ExitCode::FAILURE,
            ),
        ];
        for (action, stack, members, expected) in cases {
            let mut o = outcome(*action, members);
            let mut grouping = o.components[0].clone();
            grouping.kind = "stack";
            grouping.application = None;
            grouping.status = *stack;
            o.components.insert(0, grouping);
            assert_eq!(o.exit_code(), *expected, "{action} {stack:?} {members:?}");
        }
    }

    #[test]
    fn a_dry_run_that_would_change_things_succeeds() {
        let mut o = outcome(Action::Deploy, &[S::Pending, S::Unchanged]);
        o.dry_run = true;
        assert_eq!(o.exit_code(), ExitCode::SUCCESS);
        o.dry_run = false;
        assert_eq!(o.exit_code(), ExitCode::PARTIAL);
    }

    #[test]
    fn an_aborted_run_is_invalid_or_failed_whatever_its_components() {
        let mut o = outcome(Action::Deploy, &[]);
        o.aborted = Some(Abort::Invalid("bad scope".into()));
        assert_eq!(o.exit_code(), ExitCode::INVALID);
        assert_eq!(o.status_word(), "invalid");
        o.aborted = Some(Abort::Failed("no client".into()));
        assert_eq!(o.exit_code(), ExitCode::FAILURE);
    }

    #[test]
    fn a_cancelled_run_says_so_whatever_its_code() {
        let mut o = outcome(Action::Deploy, &[S::Cancelled]);
        o.cancelled = true;
        assert_eq!(o.status_word(), "cancelled");
        assert_eq!(o.exit_code(), ExitCode::FAILURE);
    }
}
