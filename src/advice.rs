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
    let evidence = component.evidence.as_ref();
    let resource = |needles: &[&str]| {
        evidence.and_then(|e| needles.iter().find_map(|n| e.resource_mentioning(n)))
    };
    match reason {
        R::Degraded | R::Missing | R::Unknown if resource(&["ImagePullBackOff", "ErrImagePull"]).is_some() => {
            let at = resource(&["ImagePullBackOff", "ErrImagePull"]).map(|r| r.resource.as_str())?;
            Some(format!(
                "{at} cannot pull its image: check the image reference in '{}' and the `registry-credentials` pull secret in its namespace, then rerun deploy",
                app.unwrap_or(&component.name)
            ))
        }
        R::Degraded | R::Missing | R::Unknown if resource(&["CrashLoopBackOff"]).is_some() => {
            let at = resource(&["CrashLoopBackOff"]).map(|r| r.resource.as_str())?;
            Some(format!(
                "{at} keeps crashing: read its last logs (`kubectl logs --previous`) and fix what it says, then rerun deploy"
            ))
        }
        R::Degraded | R::Missing | R::Unknown if resource(&["OOMKilled"]).is_some() => {
            let at = resource(&["OOMKilled"]).map(|r| r.resource.as_str())?;
            Some(format!(
                "{at} runs out of memory (OOMKilled): raise its memory limit in the manifests, then rerun deploy"
            ))
        }
        R::Degraded | R::Missing | R::Unknown => app.map(|app| {
            format!("inspect '{app}' in the Argo CD UI or with `argocd app get {app}`; its resources are not healthy")
        }),
        R::Timeout if is_ceph(component) => Some(format!(
            "'{}' is a Ceph cluster, slow to become healthy: the RFC's default health timeout for Ceph is 30m; raise {} to at least that (`timeouts: {{health: 30m}}` on its node in dag.yaml)",
            component.name,
            crate::deadline::to_raise(&component.deadlines)
        )),
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
        R::PermissionDenied => Some(format!(
            "the token's Argo CD account may not act on '{}': its role lacks `applications, get` or `applications, sync` on the app's project (a line such as `p, role:executor-deploy, applications, sync, <project>/*, allow` in argocd-rbac-cm's policy.csv), or argocd.project in environment.yaml names another project",
            app.unwrap_or(&component.name)
        )),
        R::SyncWindow => Some(format!(
            "a sync window of the project of '{}' denies syncs now: see its schedule with `argocd proj windows list <project>`, rerun when it is open, or pass --wait-sync-window to wait for it within the sync timeout",
            app.unwrap_or(&component.name)
        )),
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
        R::Suspended => app.map(|app| {
            format!("'{app}' is Suspended: resume what suspends it (a paused Rollout, a suspended CronJob), or set health.suspendedIs in environment.yaml if suspended is fine")
        }),
        R::OutOfSync => app.map(|app| {
            format!("'{app}' differs from Git: see how with `argocd app diff {app}`, then rerun deploy")
        }),
        R::PruneSkipped => app.map(|app| {
            format!("'{app}' has resources to prune and pruning is off: prune them (`argocd app sync {app} --prune`), or deploy with --prune true (sync.prune in environment.yaml)")
        }),
        R::ComparisonError => app.map(|app| {
            format!("Argo CD cannot compare '{app}' with its source: fix what its condition names (repository, path, chart, values; `argocd app get {app}`), then rerun deploy")
        }),
        R::Stale => app.map(|app| {
            format!("'{app}' was not yet re-compared after its last operation: validate again once the controller has (`argocd app get {app} --refresh`)")
        }),
        R::RevisionRefused => app.map(|app| {
            format!("'{app}' does not take --revision (automated sync pins its target): deploy without --revision, or change its targetRevision in Git")
        }),
        R::Orphaned => app.map(|app| {
            format!("resources '{app}' managed remain after its deletion: delete them, or see which finalizer holds them (`kubectl get <kind> -o yaml`)")
        }),
        R::ApiError if component.kind == "resource" => Some(
            "the Kubernetes API answered something the executor cannot use: rerun with LOG_LEVEL=debug to see it".to_owned(),
        ),
        R::ApiError => Some(
            "Argo CD answered something the executor cannot use: see argocd-server's log and rerun with LOG_LEVEL=debug".to_owned(),
        ),
        R::Invalid => Some("fix the input the message names and rerun: nothing was changed".to_owned()),
        // The dependency's, the member's or the preflight check's advice is the step.
        R::DependencyFailed | R::MemberFailed | R::PreflightFailed => None,
    }
}

/// A Ceph cluster: its node's or Application's name says so, or its tree
/// has a CephCluster.
fn is_ceph(component: &ComponentResult) -> bool {
    let named = |n: &str| n.to_ascii_lowercase().contains("ceph");
    named(&component.name)
        || component.application.as_deref().is_some_and(named)
        || component.evidence.as_ref().is_some_and(|e| {
            e.resources
                .iter()
                .any(|r| r.resource.starts_with("CephCluster "))
        })
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
            (
                failed("crds", "resource", None, R::ApiError),
                Some("the Kubernetes API answered something the executor cannot use: rerun with LOG_LEVEL=debug to see it"),
            ),
        ];
        for (component, expected) in cases {
            let got = recommendations(std::slice::from_ref(component));
            let expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
            assert_eq!(got, expected, "{} {:?}", component.name, component.failure);
        }
    }

    /// `failed` with what its Application showed: unhealthy resources
    /// `(resource, message)`.
    fn with_evidence(mut c: ComponentResult, resources: &[(&str, &str)]) -> ComponentResult {
        c.evidence = Some(crate::evidence::Evidence {
            resources: resources
                .iter()
                .map(|(r, m)| crate::evidence::UnhealthyResource {
                    resource: (*r).to_owned(),
                    health: "Degraded".to_owned(),
                    message: Some((*m).to_owned()),
                })
                .collect(),
            ..Default::default()
        });
        c
    }

    /// Each reason, with what the evidence says, maps to one concrete next step.
    #[test]
    fn advice_follows_the_reason_and_the_evidence() {
        let pull = "Back-off pulling image \"registry.example/web:1.2\": ImagePullBackOff";
        let cases: Vec<(ComponentResult, &str)> = vec![
            (
                with_evidence(failed("web", "app", Some("web"), R::Degraded), &[("Deployment web/web", "exceeded its progress deadline"), ("Pod web/web-1", pull)]),
                "Pod web/web-1 cannot pull its image: check the image reference in 'web' and the `registry-credentials` pull secret in its namespace, then rerun deploy",
            ),
            (
                with_evidence(failed("api", "app", Some("api"), R::Degraded), &[("Pod api/api-1", "back-off 5m0s restarting failed container: CrashLoopBackOff")]),
                "Pod api/api-1 keeps crashing: read its last logs (`kubectl logs --previous`) and fix what it says, then rerun deploy",
            ),
            (
                with_evidence(failed("db", "app", Some("db"), R::Missing), &[("Pod db/db-0", "OOMKilled")]),
                "Pod db/db-0 runs out of memory (OOMKilled): raise its memory limit in the manifests, then rerun deploy",
            ),
            (
                with_evidence(failed("web", "app", Some("web"), R::Degraded), &[("Pod web/web-1", "Readiness probe failed")]),
                "inspect 'web' in the Argo CD UI or with `argocd app get web`; its resources are not healthy",
            ),
            (
                failed("rook-ceph-cluster", "app", Some("rook-ceph-cluster"), R::Timeout),
                "'rook-ceph-cluster' is a Ceph cluster, slow to become healthy: the RFC's default health timeout for Ceph is 30m; raise its deadline to at least that (`timeouts: {health: 30m}` on its node in dag.yaml)",
            ),
            (
                with_evidence(failed("storage", "app", Some("storage"), R::Timeout), &[("CephCluster rook/main", "HEALTH_WARN")]),
                "'storage' is a Ceph cluster, slow to become healthy: the RFC's default health timeout for Ceph is 30m; raise its deadline to at least that (`timeouts: {health: 30m}` on its node in dag.yaml)",
            ),
            (
                failed("vault", "app", Some("vault"), R::PermissionDenied),
                "the token's Argo CD account may not act on 'vault': its role lacks `applications, get` or `applications, sync` on the app's project (a line such as `p, role:executor-deploy, applications, sync, <project>/*, allow` in argocd-rbac-cm's policy.csv), or argocd.project in environment.yaml names another project",
            ),
            (
                failed("web", "app", Some("web"), R::OutOfSync),
                "'web' differs from Git: see how with `argocd app diff web`, then rerun deploy",
            ),
            (
                failed("web", "app", Some("web"), R::PruneSkipped),
                "'web' has resources to prune and pruning is off: prune them (`argocd app sync web --prune`), or deploy with --prune true (sync.prune in environment.yaml)",
            ),
            (
                failed("web", "app", Some("web"), R::ComparisonError),
                "Argo CD cannot compare 'web' with its source: fix what its condition names (repository, path, chart, values; `argocd app get web`), then rerun deploy",
            ),
            (
                failed("web", "app", Some("web"), R::RevisionRefused),
                "'web' does not take --revision (automated sync pins its target): deploy without --revision, or change its targetRevision in Git",
            ),
            (
                failed("web", "app", Some("web"), R::Suspended),
                "'web' is Suspended: resume what suspends it (a paused Rollout, a suspended CronJob), or set health.suspendedIs in environment.yaml if suspended is fine",
            ),
            (
                failed("web", "app", Some("web"), R::Stale),
                "'web' was not yet re-compared after its last operation: validate again once the controller has (`argocd app get web --refresh`)",
            ),
            (
                failed("web", "app", Some("web"), R::Orphaned),
                "resources 'web' managed remain after its deletion: delete them, or see which finalizer holds them (`kubectl get <kind> -o yaml`)",
            ),
            (
                failed("vault", "app", Some("vault"), R::SyncWindow),
                "a sync window of the project of 'vault' denies syncs now: see its schedule with `argocd proj windows list <project>`, rerun when it is open, or pass --wait-sync-window to wait for it within the sync timeout",
            ),
        ];
        for (component, expected) in cases {
            let got = recommendations(std::slice::from_ref(&component));
            assert_eq!(
                got,
                [expected.to_owned()],
                "{} {:?}",
                component.name,
                component.failure
            );
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
