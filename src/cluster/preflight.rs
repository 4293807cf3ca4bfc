//! Preflight (RFC Phase 0): read-only checks, first in every action, that
//! the run can proceed before it changes anything. This file holds the
//! checks' records and the pure decisions (what an action needs, whether
//! the run may go on); `actions::preflight` sends the requests.

use serde::Serialize;

use super::client::{Kind, Permission};
use crate::outcome::FailureReason;
use crate::vocabulary::Action;

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// It holds.
    Passed,
    /// It does not, and the run cannot proceed.
    Failed,
    /// Worth knowing; the run proceeds.
    Warning,
    /// Not checked (no cluster access, or `--skip-preflight`); the run proceeds.
    Skipped,
}

/// One preflight check, as `report.json`'s `preflight[]` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `argocd-api`, `cluster-api`, `argocd-namespace`, `application-crd`, `permissions`.
    pub check: &'static str,
    /// How it ended.
    pub status: CheckStatus,
    /// What was found.
    pub message: String,
    /// What to do about a failure or warning.
    #[serde(skip)]
    pub recommendation: Option<String>,
    /// Why it failed, for the report's `failures[]`.
    #[serde(skip)]
    pub reason: Option<FailureReason>,
}

impl Check {
    /// A check that holds.
    pub fn passed(check: &'static str, message: impl Into<String>) -> Check {
        Check {
            check,
            status: CheckStatus::Passed,
            message: message.into(),
            recommendation: None,
            reason: None,
        }
    }

    /// A check that failed, why, and what to do.
    pub fn failed(
        check: &'static str,
        reason: FailureReason,
        message: impl Into<String>,
        recommendation: impl Into<String>,
    ) -> Check {
        Check {
            check,
            status: CheckStatus::Failed,
            message: message.into(),
            recommendation: Some(recommendation.into()),
            reason: Some(reason),
        }
    }

    /// A check that was not made, and why.
    pub fn skipped(check: &'static str, message: impl Into<String>) -> Check {
        Check {
            check,
            status: CheckStatus::Skipped,
            message: message.into(),
            recommendation: None,
            reason: None,
        }
    }
}

/// The cluster-side checks, by name, in the order they run.
pub const CLUSTER_CHECKS: [&str; 4] = [
    "cluster-api",
    "argocd-namespace",
    "application-crd",
    "permissions",
];

/// Why the run may not proceed: the first failed check's reason, and every
/// failed check in one sentence; `None` when none failed.
pub fn refusal(checks: &[Check]) -> Option<(FailureReason, String)> {
    let failed: Vec<&Check> = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Failed)
        .collect();
    let reason = failed
        .first()?
        .reason
        .unwrap_or(FailureReason::PreflightFailed);
    let what: Vec<String> = failed
        .iter()
        .map(|c| format!("{}: {}", c.check, c.message))
        .collect();
    Some((
        reason,
        format!("preflight failed, nothing was changed: {}", what.join("; ")),
    ))
}

/// The permissions `action` needs on the kind of one resource node, in its
/// namespace: deploy reads it and watches it become ready; validate reads
/// it once; teardown only orders by it.
pub fn node_permissions(action: Action, kind: &Kind, namespace: Option<&str>) -> Vec<Permission> {
    let verbs: &[&'static str] = match action {
        Action::Deploy => &["get", "watch"],
        Action::Validate => &["get"],
        Action::Teardown => &[],
    };
    verbs
        .iter()
        .map(|&verb| Permission {
            verb,
            group: kind.resource.group.clone(),
            resource: kind.resource.plural.clone(),
            namespace: namespace.filter(|_| kind.namespaced).map(str::to_owned),
        })
        .collect()
}

/// What a health.yaml resource check needs on its kind, in its namespace:
/// `get` of the object it names, or `list` of the objects its selector picks
/// (every namespace, when it names none).
pub fn check_permissions(kind: &Kind, namespace: Option<&str>, selected: bool) -> Vec<Permission> {
    vec![Permission {
        verb: if selected { "list" } else { "get" },
        group: kind.resource.group.clone(),
        resource: kind.resource.plural.clone(),
        namespace: namespace.filter(|_| kind.namespaced).map(str::to_owned),
    }]
}

/// What teardown's PV policy needs, cluster-wide: reading the claims and
/// volumes; `keep` (retain, snapshot) patching volumes; `snapshot` creating
/// and reading VolumeSnapshots.
pub fn volume_permissions(keep: bool, snapshot: bool) -> Vec<Permission> {
    let permission = |verb, group: &str, resource: &str| Permission {
        verb,
        group: group.to_owned(),
        resource: resource.to_owned(),
        namespace: None,
    };
    let mut needed = vec![
        permission("get", "", "persistentvolumeclaims"),
        permission("list", "", "persistentvolumeclaims"),
        permission("get", "", "persistentvolumes"),
    ];
    if keep {
        needed.push(permission("patch", "", "persistentvolumes"));
    }
    if snapshot {
        needed.push(permission(
            "create",
            "snapshot.storage.k8s.io",
            "volumesnapshots",
        ));
        needed.push(permission(
            "get",
            "snapshot.storage.k8s.io",
            "volumesnapshots",
        ));
    }
    needed
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::api::ApiResource;

    fn kind(group: &str, plural: &str, namespaced: bool) -> Kind {
        Kind {
            resource: ApiResource {
                group: group.into(),
                version: "v1".into(),
                api_version: format!("{group}/v1"),
                kind: "K".into(),
                plural: plural.into(),
            },
            namespaced,
        }
    }

    #[test]
    fn each_action_needs_its_own_verbs_on_a_nodes_kind() {
        let crd = kind("apiextensions.k8s.io", "customresourcedefinitions", false);
        let cm = kind("", "configmaps", true);
        let words = |ps: Vec<Permission>| ps.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(
            words(node_permissions(Action::Deploy, &crd, Some("ignored"))),
            [
                "get customresourcedefinitions.apiextensions.k8s.io",
                "watch customresourcedefinitions.apiextensions.k8s.io"
            ]
        );
        assert_eq!(
            words(node_permissions(Action::Validate, &cm, Some("apps"))),
            ["get configmaps in namespace apps"]
        );
        assert!(node_permissions(Action::Teardown, &cm, Some("apps")).is_empty());
    }

    #[test]
    fn a_check_needs_get_of_its_object_or_list_for_its_selector() {
        let words = |ps: Vec<Permission>| ps.iter().map(ToString::to_string).collect::<Vec<_>>();
        let pods = kind("", "pods", true);
        let issuers = kind("cert-manager.io", "clusterissuers", false);
        assert_eq!(
            words(check_permissions(&pods, Some("kafka"), true)),
            ["list pods in namespace kafka"]
        );
        assert_eq!(words(check_permissions(&pods, None, true)), ["list pods"]);
        assert_eq!(
            words(check_permissions(&issuers, Some("ignored"), false)),
            ["get clusterissuers.cert-manager.io"]
        );
    }

    #[test]
    fn the_pv_policy_needs_patch_to_keep_and_create_to_snapshot() {
        let words = |ps: Vec<Permission>| ps.iter().map(ToString::to_string).collect::<Vec<_>>();
        let reads = [
            "get persistentvolumeclaims",
            "list persistentvolumeclaims",
            "get persistentvolumes",
        ];
        assert_eq!(words(volume_permissions(false, false)), reads);
        assert_eq!(
            words(volume_permissions(true, false))[3..],
            ["patch persistentvolumes"]
        );
        assert_eq!(
            words(volume_permissions(true, true))[3..],
            [
                "patch persistentvolumes",
                "create volumesnapshots.snapshot.storage.k8s.io",
                "get volumesnapshots.snapshot.storage.k8s.io"
            ]
        );
    }

    #[test]
    fn only_a_failed_check_refuses_the_run() {
        let cases = [
            (vec![], None),
            (
                vec![
                    Check::passed("argocd-api", "logged in"),
                    Check::skipped("cluster-api", "no cluster access"),
                ],
                None,
            ),
            (
                vec![
                    Check::passed("argocd-api", "logged in"),
                    Check::failed(
                        "permissions",
                        FailureReason::PermissionDenied,
                        "may not watch crds",
                        "grant it",
                    ),
                    Check::failed("cluster-api", FailureReason::Unavailable, "down", "start it"),
                ],
                Some((
                    FailureReason::PermissionDenied,
                    "preflight failed, nothing was changed: permissions: may not watch crds; cluster-api: down",
                )),
            ),
        ];
        for (checks, expected) in cases {
            let got = refusal(&checks);
            let got = got.as_ref().map(|(r, m)| (*r, m.as_str()));
            assert_eq!(got, expected, "{checks:?}");
        }
    }
}
