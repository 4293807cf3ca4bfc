//! How a simulated Application looks: its initial shape, its resources and the
//! small helpers (timestamps, commit SHAs, uids) that make it look real.

use std::hash::{DefaultHasher, Hash, Hasher};

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};

use crate::argocd::types::{
    Application, ApplicationDestination, ApplicationSource, ApplicationSpec, ApplicationStatus,
    HealthStatus, ObjectMeta, Operation, OperationInitiator, OperationState, ResourceNode,
    ResourceStatus, SyncOperation, SyncOperationResult, SyncPolicy, SyncPolicyAutomated,
    SyncStatus,
};

use super::scenario::{AppScenario, InitialState, SimOutcome};

/// The namespace argocd-server runs in, and where Applications live.
pub const ARGOCD_NAMESPACE: &str = "argocd";
/// The repository every simulated app is sourced from.
const REPO_URL: &str = "https://git.example.com/platform/gitops.git";
/// `operationState.message` of a successful sync.
pub(crate) const SYNC_SUCCEEDED_MESSAGE: &str = "successfully synced (all tasks run)";

/// Now, at the second precision of Kubernetes `metav1.Time`.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

fn hash_hex(parts: &[&str], index: u64) -> String {
    let mut hasher = DefaultHasher::new();
    parts.hash(&mut hasher);
    index.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// `git.IsCommitSHA`: exactly 40 hex digits.
fn is_commit_sha(revision: &str) -> bool {
    revision.len() == 40 && revision.chars().all(|c| c.is_ascii_hexdigit())
}

/// Resolves a revision the way the repo server does: a commit SHA stays as it
/// is, a branch or tag becomes a stable 40-hex SHA, and `HEAD` is the head of
/// the simulated repository's default branch, `main`.
pub(crate) fn resolve_revision(revision: &str) -> String {
    if is_commit_sha(revision) {
        return revision.to_string();
    }
    let revision = if revision == "HEAD" { "main" } else { revision };
    let hex: String = (0..3).map(|i| hash_hex(&[REPO_URL, revision], i)).collect();
    hex[..40].to_string()
}

/// A uid in the 8-4-4-4-12 layout Kubernetes uses.
pub(crate) fn uid(name: &str, serial: u64) -> String {
    let hex = format!(
        "{}{}",
        hash_hex(&["uid", name], serial),
        hash_hex(&["uid2", name], serial)
    );
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A health status with its transition time.
pub(crate) fn health(status: &str, message: Option<String>) -> HealthStatus {
    HealthStatus {
        status: status.to_string(),
        message,
        last_transition_time: Some(now()),
    }
}

/// The health the controller assesses after a completed operation with this outcome.
pub(crate) fn outcome_health(outcome: SimOutcome, name: &str) -> HealthStatus {
    match outcome {
        SimOutcome::Healthy => health("Healthy", None),
        SimOutcome::Degraded | SimOutcome::OperationFailed => health(
            "Degraded",
            Some(format!(
                "Deployment \"{name}\" exceeded its progress deadline"
            )),
        ),
        SimOutcome::Suspended => health("Suspended", None),
        SimOutcome::Unknown => health("Unknown", None),
    }
}

/// `operationState.message` of a Failed sync.
pub(crate) fn sync_failed_message(name: &str) -> String {
    format!(
        "one or more objects failed to apply, reason: Deployment.apps \"{name}\" is invalid: \
         spec.template.spec.containers[0].image: Required value"
    )
}

/// The managed resources of an app, as `status.resources` lists them.
pub(crate) fn resources(name: &str, sync: &str, app_health: &HealthStatus) -> Vec<ResourceStatus> {
    let exists = app_health.status != "Missing";
    let service_health = if exists { "Healthy" } else { "Missing" };
    vec![
        ResourceStatus {
            version: "v1".into(),
            kind: "Service".into(),
            namespace: name.into(),
            name: name.into(),
            status: sync.into(),
            health: Some(HealthStatus {
                status: service_health.into(),
                ..HealthStatus::default()
            }),
            ..ResourceStatus::default()
        },
        ResourceStatus {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
            namespace: name.into(),
            name: name.into(),
            status: sync.into(),
            health: Some(HealthStatus {
                status: app_health.status.clone(),
                message: app_health.message.clone(),
                last_transition_time: None,
            }),
        },
    ]
}

/// The live manifest of a managed resource, `null` while it does not exist:
/// a Deployment that follows every compliance rule (`crate::compliance`),
/// so that a simulated validate reports passes.
pub(crate) fn live_manifest(resource: &ResourceStatus) -> serde_json::Value {
    use serde_json::json;
    let missing = resource
        .health
        .as_ref()
        .is_some_and(|h| h.status == "Missing");
    if missing {
        return serde_json::Value::Null;
    }
    let name = &resource.name;
    let labels = json!({"app": name, "team": "platform", "owner": "platform-team"});
    let api_version = if resource.group.is_empty() {
        resource.version.clone()
    } else {
        format!("{}/{}", resource.group, resource.version)
    };
    let mut live = json!({
        "apiVersion": api_version,
        "kind": resource.kind,
        "metadata": {"name": name, "namespace": resource.namespace, "labels": labels},
    });
    if resource.kind == "Deployment" {
        let digest = hash_hex(&["image", name], 0);
        live["spec"] = json!({"template": {"spec": {
            "securityContext": {"runAsNonRoot": true},
            "containers": [{
                "name": name,
                "image": format!("registry.example.com/{name}:1.0.0@sha256:{digest}"),
                "securityContext": {"readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}},
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
            }],
        }}});
    }
    live
}

/// The live resource tree: empty until something was applied.
pub(crate) fn tree_nodes(app: &Application) -> Vec<ResourceNode> {
    let name = &app.metadata.name;
    let app_health = &app.status.health;
    if app_health.status == "Missing" || app_health.status.is_empty() {
        return Vec::new();
    }
    let node = |group: &str, kind: &str, node_name: String, status: &str| ResourceNode {
        group: group.into(),
        version: "v1".into(),
        kind: kind.into(),
        namespace: name.clone(),
        name: node_name,
        health: Some(HealthStatus {
            status: status.into(),
            ..HealthStatus::default()
        }),
    };
    let replica_set = format!("{name}-{}", &hash_hex(&["rs", name], 0)[..10]);
    let pod = format!("{replica_set}-{}", &hash_hex(&["pod", name], 0)[..5]);
    vec![
        node("", "Service", name.clone(), "Healthy"),
        node("apps", "Deployment", name.clone(), &app_health.status),
        node("apps", "ReplicaSet", replica_set, &app_health.status),
        node("", "Pod", pod, &app_health.status),
    ]
}

/// The Application nodes an app-of-apps shows in its resource tree.
pub(crate) fn child_app_nodes(children: &[String]) -> Vec<ResourceNode> {
    children
        .iter()
        .map(|child| ResourceNode {
            group: "argoproj.io".into(),
            version: "v1alpha1".into(),
            kind: "Application".into(),
            namespace: ARGOCD_NAMESPACE.into(),
            name: child.clone(),
            health: None,
        })
        .collect()
}

/// A sync operation as Argo CD records it.
pub(crate) fn sync_operation(revision: String, username: Option<&str>) -> Operation {
    Operation {
        sync: Some(SyncOperation {
            revision: Some(revision),
            ..SyncOperation::default()
        }),
        initiated_by: Some(OperationInitiator {
            username: username.map(str::to_string),
            automated: username.is_none().then_some(true),
        }),
        info: Vec::new(),
    }
}

/// The Application as it exists when the simulator starts, or `None` for `Absent`.
pub(crate) fn initial_app(scenario: &AppScenario, uid: String) -> Option<Application> {
    let name = scenario.name.as_str();
    let now = now();
    let target_sha = resolve_revision(&scenario.target_revision);
    let status = match scenario.initial {
        InitialState::Absent => return None,
        InitialState::OutOfSync => {
            let app_health = health("Missing", None);
            ApplicationStatus {
                sync: SyncStatus {
                    status: "OutOfSync".into(),
                    revision: Some(target_sha),
                    revisions: Vec::new(),
                },
                resources: resources(name, "OutOfSync", &app_health),
                health: app_health,
                operation_state: None,
                reconciled_at: Some(now),
                conditions: Vec::new(),
            }
        }
        InitialState::Healthy => {
            let started = now - TimeDelta::minutes(10);
            let app_health = HealthStatus {
                last_transition_time: Some(started + TimeDelta::seconds(40)),
                ..health("Healthy", None)
            };
            ApplicationStatus {
                sync: SyncStatus {
                    status: "Synced".into(),
                    revision: Some(target_sha.clone()),
                    revisions: Vec::new(),
                },
                resources: resources(name, "Synced", &app_health),
                health: app_health,
                operation_state: Some(OperationState {
                    operation: sync_operation(target_sha.clone(), Some("admin")),
                    phase: "Succeeded".into(),
                    message: Some(SYNC_SUCCEEDED_MESSAGE.into()),
                    sync_result: Some(SyncOperationResult {
                        revision: target_sha,
                        revisions: Vec::new(),
                        resources: Vec::new(),
                    }),
                    started_at: Some(started),
                    finished_at: Some(started + TimeDelta::seconds(12)),
                }),
                reconciled_at: Some(now - TimeDelta::seconds(30)),
                conditions: Vec::new(),
            }
        }
    };
    Some(Application {
        // The swagger's v1alpha1Application has no apiVersion or kind, and the
        // client must not depend on them: leave them out, as the swagger does.
        api_version: None,
        kind: None,
        metadata: ObjectMeta {
            name: name.into(),
            namespace: Some(ARGOCD_NAMESPACE.into()),
            uid: Some(uid),
            resource_version: None,
            generation: Some(1),
            creation_timestamp: Some(now - TimeDelta::hours(1)),
            ..ObjectMeta::default()
        },
        spec: ApplicationSpec {
            project: scenario.project.clone(),
            source: Some(ApplicationSource {
                repo_url: REPO_URL.into(),
                path: Some(format!("apps/{name}")),
                target_revision: Some(scenario.target_revision.clone()),
            }),
            destination: Some(ApplicationDestination {
                server: Some("https://kubernetes.default.svc".into()),
                namespace: Some(name.into()),
            }),
            sync_policy: scenario.auto_sync.then_some(SyncPolicy {
                automated: Some(SyncPolicyAutomated {
                    prune: Some(true),
                    self_heal: Some(true),
                }),
                ..SyncPolicy::default()
            }),
        },
        operation: None,
        status,
    })
}
