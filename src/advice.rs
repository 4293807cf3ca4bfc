//! The advice catalogue: what to do next about each [`FailureReason`], for the
//! report's `recommendations` and the summary's hints. Advice that names an
//! Argo CD Application names the component's `application`, never a stack's
//! node name, and a component without one (a grouping stack, a resource) gets
//! no such advice: its members carry their own.

use crate::outcome::{ComponentResult, FailureReason};

/// One piece of advice per distinct problem, in the order of the components.
pub fn recommendations(components: &[ComponentResult]) -> Vec<String> {
    let mut out = Vec::new();
    for c in components {
        let Some(advice) = c.failure.and_then(|reason| advice(reason, c)) else {
            continue;
        };
        if !out.contains(&advice) {
            out.push(advice);
        }
    }
    out
}

/// The advice for `component`, which failed for `reason`.
fn advice(reason: FailureReason, component: &ComponentResult) -> Option<String> {
    use FailureReason as R;
    let app = component.application.as_deref();
    match reason {
        R::Degraded | R::Missing | R::Unknown => app.map(|app| {
            format!("inspect '{app}' in the Argo CD UI or with `argocd app get {app}`; its resources are not healthy")
        }),
        R::OperationFailed => app.map(|app| {
            format!("read the sync result of '{app}' (`argocd app get {app} --show-operation`) and fix the manifests, then rerun deploy")
        }),
        R::Timeout => Some(format!(
            "'{}' did not finish in time: raise {} if it is just slow, or inspect it{}",
            component.name,
            crate::deadline::to_raise(&component.deadlines),
            app.map(|app| format!(" with `argocd app get {app}`"))
                .unwrap_or_default()
        )),
        R::Unauthenticated => Some("renew the Argo CD token in the argocd-token Secret".to_owned()),
        R::PermissionDenied if component.kind == "resource" => Some(
            "grant the executor's Kubernetes identity get and watch on that kind (see workflow-templates/rbac.yaml)".to_owned(),
        ),
        R::NotReady => Some(format!(
            "inspect '{}' with `kubectl describe`: its condition does not hold",
            component.name
        )),
        R::CheckFailed => Some(format!(
            "'{}' fails a critical check (its checks[] in the report say which and why): fix what it names, or change the check in health.yaml if it asks too much",
            component.name
        )),
        R::VolumePolicy => Some(format!(
            "'{}' was not deleted, to keep its volumes as --pv-policy asks: give the executor cluster access and the PV permissions of workflow-templates/rbac.yaml (patch persistentvolumes; create volumesnapshots for snapshot), or choose another --pv-policy",
            component.name
        )),
        R::NonCompliant => Some(format!(
            "'{}' breaks compliance rules (the report's compliance.results say which): fix the manifests, or add an exemption with a reason and an expiry date to environment.yaml's compliance.exemptions",
            component.name
        )),
        R::NoClusterAccess => Some(
            "give the executor cluster access (--kubeconfig, KUBECONFIG_DATA, or the pod's service account) so that resource nodes are checked".to_owned(),
        ),
        R::PermissionDenied => Some(
            "check the token's Argo CD RBAC and argocd.project in environment.yaml".to_owned(),
        ),
        R::NotFound => app.map(|app| {
            format!("create the Application '{app}' (through its app-of-apps) or fix the scope")
        }),
        R::Unavailable => Some(
            "Argo CD was unreachable: check the server URL, network policy and argocd-server health"
                .to_owned(),
        ),
        R::Cancelled => Some("rerun the same command: deploy resumes where it stopped".to_owned()),
        R::StepFailed => Some(
            "the failed step's log ends with its own report: `argo logs <workflow> <pod>`; rerun the workflow once it is fixed: deploy resumes where it stopped"
                .to_owned(),
        ),
        // Their messages say it all, or another component's advice does.
        R::Suspended
        | R::ApiError
        | R::OutOfSync
        | R::Invalid
        | R::DependencyFailed
        | R::Orphaned
        | R::PruneSkipped
        | R::ComparisonError
        | R::SyncWindow
        | R::Stale
        | R::MemberFailed
        | R::RevisionRefused
        | R::PreflightFailed => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::ComponentStatus;
    use FailureReason as R;

    fn failed(name: &str, kind: &'static str, app: Option<&str>, reason: R) -> ComponentResult {
        let app = app.map(str::to_owned);
        let mut result =
            ComponentResult::recorded(name, kind, app, ComponentStatus::Failed, String::new());
        result.failure = Some(reason);
        result
    }

    /// Advice names the Application a component stands for, not its node.
    #[test]
    fn advice_names_the_application() {
        let cases: &[(ComponentResult, Option<&str>)] = &[
            (
                failed("infrastructure", "stack", Some("platform-infrastructure"), R::OperationFailed),
                Some("read the sync result of 'platform-infrastructure' (`argocd app get platform-infrastructure --show-operation`) and fix the manifests, then rerun deploy"),
            ),
            (
                failed("monitoring", "stack", Some("monitoring-stack"), R::Degraded),
                Some("inspect 'monitoring-stack' in the Argo CD UI or with `argocd app get monitoring-stack`; its resources are not healthy"),
            ),
            (
                failed("temporal", "app", Some("temporal"), R::NotFound),
                Some("create the Application 'temporal' (through its app-of-apps) or fix the scope"),
            ),
            (
                failed("infrastructure", "stack", Some("platform-infrastructure"), R::Timeout),
                Some("'infrastructure' did not finish in time: raise its deadline if it is just slow, or inspect it with `argocd app get platform-infrastructure`"),
            ),
            // No Application: a grouping stack's members, a resource's message say it.
            (failed("tools", "stack", None, R::MemberFailed), None),
            (failed("tools", "stack", None, R::Degraded), None),
            (failed("crds", "resource", None, R::Timeout), Some("'crds' did not finish in time: raise its deadline if it is just slow, or inspect it")),
            (failed("crds", "resource", None, R::ApiError), None),
        ];
        for (component, expected) in cases {
            let got = recommendations(std::slice::from_ref(component));
            let expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
            assert_eq!(got, expected, "{} {:?}", component.name, component.failure);
        }
    }

    #[test]
    fn the_same_advice_is_given_once() {
        let components = [
            failed("a", "app", Some("a"), R::Unauthenticated),
            failed("b", "app", Some("b"), R::Unauthenticated),
        ];
        assert_eq!(recommendations(&components).len(), 1);
    }
}
