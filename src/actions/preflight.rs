//! Preflight, first in every action: the Argo CD token, then (with cluster
//! access) the API server, Argo CD's namespace, the Application CRD and the
//! permissions the action needs, asked with SelfSubjectAccessReviews. Only
//! reads (and the reviews, which change nothing). The decisions are
//! `cluster::preflight`'s.

use super::RunContext;
use crate::checks::Probe;
use crate::cluster::client::Permission;
use crate::cluster::preflight::{
    check_permissions, node_permissions, volume_permissions, Check, CLUSTER_CHECKS,
};
use crate::cluster::{Cluster, ClusterError};
use crate::dag::NodeKind;
use crate::outcome::FailureReason as R;

/// The CRD of Argo CD's Applications.
const APPLICATION_CRD: &str = "applications.argoproj.io";

/// Runs every check; `--skip-preflight` reports them skipped.
pub async fn run(ctx: &RunContext) -> Vec<Check> {
    if ctx.config.skip_preflight {
        return ["argocd-api"]
            .into_iter()
            .chain(CLUSTER_CHECKS)
            .map(|c| Check::skipped(c, "--skip-preflight"))
            .collect();
    }
    let mut checks = vec![argocd(ctx).await];
    match &ctx.cluster {
        Some(cluster) => checks.extend(on_cluster(ctx, cluster).await),
        None => checks.extend(
            CLUSTER_CHECKS
                .into_iter()
                .map(|c| Check::skipped(c, NO_CLUSTER)),
        ),
    }
    for check in &checks {
        tracing::info!(
            phase = "preflight",
            "{}: {}: {}",
            check.check,
            crate::outcome::word(check.status),
            check.message
        );
    }
    checks
}

/// Why the cluster-side checks were skipped.
pub const NO_CLUSTER: &str = "no cluster access (give --kubeconfig, KUBECONFIG_DATA, or run in a pod with its service account)";

/// The Argo CD API answers and accepts the token.
async fn argocd(ctx: &RunContext) -> Check {
    const CHECK: &str = "argocd-api";
    // The client's own retries and backoff apply, as to every Argo CD request;
    // the run's stop (a signal, --timeout) races it.
    match ctx.client.user_info().await {
        Ok(info) if info.logged_in => Check::passed(
            CHECK,
            format!("Argo CD accepts the token (account '{}')", info.username),
        ),
        Ok(_) => Check::failed(
            CHECK,
            R::Unauthenticated,
            "Argo CD does not accept the token from the argocd-token file (userinfo: not logged in)",
            "put a valid API token into <secrets-dir>/argocd-token (argocd account generate-token --account <account>)",
        ),
        Err(e) => Check::failed(
            CHECK,
            super::failure::reason_of(&e),
            e.to_string(),
            "check --argocd-server and that argocd-server is up",
        ),
    }
}

/// The cluster-side checks, in [`CLUSTER_CHECKS`]' order; the later ones
/// are skipped when the API server cannot be reached at all.
async fn on_cluster(ctx: &RunContext, cluster: &Cluster) -> Vec<Check> {
    let source = ctx
        .config
        .cluster
        .as_ref()
        .map(|a| a.source.to_string())
        .unwrap_or_default();
    let api = match cluster.version().await {
        Ok(version) => Check::passed(
            "cluster-api",
            format!(
                "the Kubernetes API at {} answers (version {version})",
                cluster.server()
            ),
        ),
        Err(e) => {
            let (reason, fix) = match e {
                ClusterError::Unauthorized { .. } => (
                    R::Unauthenticated,
                    format!("renew the credentials of {source}"),
                ),
                _ => (
                    R::Unavailable,
                    format!("check the server of {source} and that the API server is up"),
                ),
            };
            let mut checks = vec![Check::failed("cluster-api", reason, e.to_string(), fix)];
            checks.extend(
                CLUSTER_CHECKS[1..]
                    .iter()
                    .map(|&c| Check::skipped(c, "the Kubernetes API did not answer")),
            );
            return checks;
        }
    };
    let namespace = &ctx.config.argocd.namespace;
    let namespace_check = match cluster.namespace_exists(namespace).await {
        Ok(true) => Check::passed("argocd-namespace", format!("namespace {namespace} exists")),
        Ok(false) => Check::failed(
            "argocd-namespace",
            R::NotFound,
            format!("namespace {namespace} does not exist"),
            "set argocdNamespace in environment.yaml to the namespace Argo CD runs in, or point the kubeconfig at the cluster that runs Argo CD",
        ),
        Err(e) => failed_read("argocd-namespace", e, "get namespaces"),
    };
    let crd_check = match cluster.crd(APPLICATION_CRD).await {
        Ok(Some(crd)) => {
            let established = crd
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            if established {
                Check::passed(
                    "application-crd",
                    format!("CRD {APPLICATION_CRD} is Established"),
                )
            } else {
                Check::failed(
                    "application-crd",
                    R::NotReady,
                    format!("CRD {APPLICATION_CRD} is not Established"),
                    "check the API server's log for the CRD's problem",
                )
            }
        }
        Ok(None) => Check::failed(
            "application-crd",
            R::NotFound,
            format!(
                "CRD {APPLICATION_CRD} does not exist: Argo CD is not installed on this cluster"
            ),
            "point the kubeconfig at the cluster that runs Argo CD, or install Argo CD first",
        ),
        Err(e) => failed_read(
            "application-crd",
            e,
            "get customresourcedefinitions.apiextensions.k8s.io",
        ),
    };
    vec![
        api,
        namespace_check,
        crd_check,
        permissions(ctx, cluster).await,
    ]
}

/// A read that failed: a 403 names the permission to grant.
fn failed_read(check: &'static str, e: ClusterError, permission: &str) -> Check {
    let (reason, fix) = match e {
        ClusterError::Forbidden { .. } => (
            R::PermissionDenied,
            format!(
                "grant the executor's identity {permission} (see workflow-templates/rbac.yaml)"
            ),
        ),
        ClusterError::Unreachable { .. } => {
            (R::Unavailable, "check that the API server is up".to_owned())
        }
        _ => (R::ApiError, "check that the API server is up".to_owned()),
    };
    Check::failed(check, reason, e.to_string(), fix)
}

/// The kinds health.yaml's resource checks read for the apps in scope: the
/// apiVersion, kind, namespace, and whether by selector.
fn checked_kinds(config: &crate::config::Config) -> Vec<(&str, &str, Option<&str>, bool)> {
    let in_scope = |app: &str| match &config.target {
        crate::config::Target::App { name, .. } => name == app,
        crate::config::Target::Dag(dag) => dag.nodes().iter().any(|n| n.application() == Some(app)),
    };
    config
        .checks
        .checks
        .iter()
        .filter(|c| in_scope(&c.app))
        .filter_map(|c| match &c.probe {
            Probe::Object { target, .. } => Some((
                target.api_version.as_str(),
                target.kind.as_str(),
                target.namespace.as_deref(),
                false,
            )),
            Probe::Selected {
                api_version,
                kind,
                namespace,
                ..
            } => Some((
                api_version.as_str(),
                kind.as_str(),
                namespace.as_deref(),
                true,
            )),
            Probe::Http(_) | Probe::Vault(_) | Probe::Child(_) => None,
        })
        .collect()
}

/// What the action needs on the kinds of the DAG's resource nodes, and
/// teardown's PV policy on claims, volumes and snapshots, asked with one
/// SelfSubjectAccessReview each. A kind the API server does not
/// serve yet (its CRD comes from an earlier node) cannot be asked about.
async fn permissions(ctx: &RunContext, cluster: &Cluster) -> Check {
    const CHECK: &str = "permissions";
    let mut needed: Vec<Permission> = Vec::new();
    let mut not_served = Vec::new();
    let nodes = ctx.config.dag().into_iter().flat_map(|d| d.nodes());
    for node in nodes {
        let NodeKind::Resource(spec) = &node.kind else {
            continue;
        };
        match cluster.kind(&spec.api_version, &spec.kind).await {
            Ok(kind) => needed.extend(node_permissions(
                ctx.config.action,
                &kind,
                spec.namespace.as_deref(),
            )),
            Err(ClusterError::UnknownKind { .. }) => {
                not_served.push(format!("{} {}", spec.api_version, spec.kind))
            }
            Err(e) => return failed_read(CHECK, e, "get on the API's discovery documents"),
        }
    }
    // deploy and validate make the health.yaml resource checks of the apps in scope.
    if ctx.config.action != crate::vocabulary::Action::Teardown {
        for (api_version, kind, namespace, selected) in checked_kinds(&ctx.config) {
            match cluster.kind(api_version, kind).await {
                Ok(found) => needed.extend(check_permissions(&found, namespace, selected)),
                Err(ClusterError::UnknownKind { .. }) => {
                    not_served.push(format!("{api_version} {kind}"))
                }
                Err(e) => return failed_read(CHECK, e, "get on the API's discovery documents"),
            }
        }
    }
    if ctx.config.action == crate::vocabulary::Action::Teardown && !ctx.config.dry_run {
        let policy = ctx.config.pv_policy;
        needed.extend(volume_permissions(
            policy != crate::config::PvPolicy::Delete,
            policy == crate::config::PvPolicy::Snapshot,
        ));
    }
    needed.sort();
    needed.dedup();
    let mut denied = Vec::new();
    for permission in &needed {
        match cluster.can_i(permission).await {
            Ok(d) if d.allowed => {}
            Ok(_) => denied.push(permission.to_string()),
            Err(e) => {
                return failed_read(
                    CHECK,
                    e,
                    "create selfsubjectaccessreviews.authorization.k8s.io",
                )
            }
        }
    }
    let later = if not_served.is_empty() {
        String::new()
    } else {
        format!(
            "; not served yet, so not asked about: {}",
            not_served.join(", ")
        )
    };
    if needed.is_empty() && not_served.is_empty() {
        Check::passed(
            CHECK,
            "no resource node, resource check or PV policy in scope: nothing to ask about",
        )
    } else if denied.is_empty() {
        Check::passed(
            CHECK,
            format!(
                "the identity may do all {} things this run needs{later}",
                needed.len()
            ),
        )
    } else {
        Check::failed(
            CHECK,
            R::PermissionDenied,
            format!("the identity may not {}{later}", denied.join(", ")),
            format!(
                "grant the executor's identity: {} (see workflow-templates/rbac.yaml)",
                denied.join(", ")
            ),
        )
    }
}
