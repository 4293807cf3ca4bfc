//! The objects the simulated Kubernetes API holds at a given moment: Argo CD's
//! namespace and Application CRD, every simulated app's namespace and managed
//! resources (as the Argo CD side reports them: a Deployment is there once
//! its health is not Missing, with the status that health implies), and the
//! seeds the run asked for (resource nodes, health.yaml's objects), each
//! ready from its moment on.

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::super::model::{live_manifest, ARGOCD_NAMESPACE};
use super::super::store::Store;
use crate::argocd::types::ResourceStatus;

/// An object the run needs in the simulated cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Seed {
    /// `apiextensions.k8s.io/v1`, `v1`, …
    pub api_version: String,
    /// `CustomResourceDefinition`, `Pod`, …
    pub kind: String,
    /// For a namespaced object.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// Its body before it is ready (`metadata` is the simulator's): the
    /// fields it has from the start.
    pub before: Value,
    /// Merged over `before` from `ready_after` on.
    pub ready: Value,
    /// How long after the simulated cluster started it becomes ready; never, for `None`.
    pub ready_after: Option<Duration>,
}

/// A kind the simulated API serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Served {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

/// The kinds every simulated cluster serves: the built-in ones the executor
/// reads, and the custom resources of the built-in checks.
const KINDS: &[(&str, &str, &str, &str, bool)] = &[
    ("", "v1", "Namespace", "namespaces", false),
    ("", "v1", "Pod", "pods", true),
    ("", "v1", "Service", "services", true),
    ("", "v1", "ConfigMap", "configmaps", true),
    ("", "v1", "Secret", "secrets", true),
    (
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
    ),
    ("", "v1", "PersistentVolume", "persistentvolumes", false),
    ("apps", "v1", "Deployment", "deployments", true),
    ("apps", "v1", "StatefulSet", "statefulsets", true),
    ("apps", "v1", "DaemonSet", "daemonsets", true),
    ("batch", "v1", "Job", "jobs", true),
    (
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
    ),
    (
        "argoproj.io",
        "v1alpha1",
        "Application",
        "applications",
        true,
    ),
    ("ceph.rook.io", "v1", "CephCluster", "cephclusters", true),
    ("acid.zalan.do", "v1", "postgresql", "postgresqls", true),
    (
        "snapshot.storage.k8s.io",
        "v1",
        "VolumeSnapshot",
        "volumesnapshots",
        true,
    ),
];

/// The Application CRD Argo CD installs.
const APPLICATION_CRD: &str = "applications.argoproj.io";

/// The simulated cluster's contents over time.
#[derive(Debug, Clone)]
pub(crate) struct World {
    started: Instant,
    seeds: Vec<Seed>,
    kinds: Vec<Served>,
}

fn split(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

impl World {
    pub(crate) fn new(seeds: Vec<Seed>) -> World {
        let mut kinds: Vec<Served> = KINDS
            .iter()
            .map(|&(group, version, kind, plural, namespaced)| Served {
                group: group.to_owned(),
                version: version.to_owned(),
                kind: kind.to_owned(),
                plural: plural.to_owned(),
                namespaced,
            })
            .collect();
        for seed in &seeds {
            let (group, version) = split(&seed.api_version);
            let known = kinds
                .iter()
                .any(|k| k.group == group && k.version == version && k.kind == seed.kind);
            if !known {
                kinds.push(Served {
                    group: group.to_owned(),
                    version: version.to_owned(),
                    kind: seed.kind.clone(),
                    plural: format!("{}s", seed.kind.to_lowercase()),
                    namespaced: seed.namespace.is_some(),
                });
            }
        }
        World {
            started: Instant::now(),
            seeds,
            kinds,
        }
    }

    /// The kinds of one group version, for discovery.
    pub(crate) fn kinds_of(&self, group: &str, version: &str) -> Vec<&Served> {
        self.kinds
            .iter()
            .filter(|k| k.group == group && k.version == version)
            .collect()
    }

    /// The kind served as `plural` in `group`/`version`.
    pub(crate) fn kind(&self, group: &str, version: &str, plural: &str) -> Option<&Served> {
        self.kinds
            .iter()
            .find(|k| k.group == group && k.version == version && k.plural == plural)
    }

    /// Every object of `kind` at `now`, given the Argo CD side's state.
    pub(crate) fn objects(&self, store: &Store, kind: &Served, now: Instant) -> Vec<Value> {
        let api_version = if kind.group.is_empty() {
            kind.version.clone()
        } else {
            format!("{}/{}", kind.group, kind.version)
        };
        let mut found: Vec<Value> = Vec::new();
        let mut add = |object: Value| {
            let same = |o: &Value| {
                o.pointer("/metadata/name") == object.pointer("/metadata/name")
                    && o.pointer("/metadata/namespace") == object.pointer("/metadata/namespace")
            };
            // Seeds come first and win: they are what the run asked for.
            if !found.iter().any(same) {
                found.push(object);
            }
        };
        for seed in self
            .seeds
            .iter()
            .filter(|s| s.api_version == api_version && s.kind == kind.kind)
        {
            add(seeded(seed, self.started, now));
        }
        match kind.kind.as_str() {
            "Namespace" => {
                let mut names: Vec<String> =
                    vec![ARGOCD_NAMESPACE.to_owned(), "default".to_owned()];
                names.extend(
                    store
                        .all()
                        .filter_map(|sim| sim.app.spec.destination.as_ref()?.namespace.clone()),
                );
                names.extend(self.seeds.iter().filter_map(|s| s.namespace.clone()));
                for name in names {
                    add(object(
                        &api_version,
                        "Namespace",
                        None,
                        &name,
                        &BTreeMap::new(),
                        json!({"status": {"phase": "Active"}}),
                    ));
                }
            }
            "CustomResourceDefinition" => add(object(
                &api_version,
                &kind.kind,
                None,
                APPLICATION_CRD,
                &BTreeMap::new(),
                json!({"status": {"conditions": [
                    {"type": "Established", "status": "True", "reason": "InitialNamesAccepted"}
                ]}}),
            )),
            _ => {}
        }
        for sim in store.all() {
            for resource in &sim.app.status.resources {
                let resource_api = if resource.group.is_empty() {
                    resource.version.clone()
                } else {
                    format!("{}/{}", resource.group, resource.version)
                };
                if resource_api != api_version || resource.kind != kind.kind {
                    continue;
                }
                if let Some(live) = live(resource) {
                    add(live);
                }
            }
        }
        found
    }
}

/// `metadata` plus `body`, with a resourceVersion that changes with the content.
fn object(
    api_version: &str,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
    labels: &BTreeMap<String, String>,
    body: Value,
) -> Value {
    let mut object = json!({
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "generation": 1, "labels": labels},
    });
    if let Some(namespace) = namespace {
        object["metadata"]["namespace"] = json!(namespace);
    }
    merge(&mut object, body);
    let mut hasher = DefaultHasher::new();
    object.to_string().hash(&mut hasher);
    object["metadata"]["resourceVersion"] = json!((hasher.finish() % 1_000_000_000).to_string());
    object["metadata"]["uid"] = json!(format!("sim-{name}"));
    object
}

/// Merges `patch` into `target`, as a JSON merge patch without deletions.
pub(crate) fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                merge(target.entry(key).or_insert(Value::Null), value);
            }
        }
        (target, patch) => *target = patch,
    }
}

fn seeded(seed: &Seed, started: Instant, now: Instant) -> Value {
    let mut body = seed.before.clone();
    if seed.ready_after.is_some_and(|after| now >= started + after) {
        merge(&mut body, seed.ready.clone());
    }
    object(
        &seed.api_version,
        &seed.kind,
        seed.namespace.as_deref(),
        &seed.name,
        &seed.labels,
        body,
    )
}

/// The live object of one managed resource, as Argo CD's health of it
/// implies (gitops-engine's rules for a Deployment, read backwards);
/// nothing while it is Missing.
fn live(resource: &ResourceStatus) -> Option<Value> {
    let manifest = live_manifest(resource);
    if manifest.is_null() {
        return None;
    }
    let health = resource
        .health
        .as_ref()
        .map_or("Healthy", |h| h.status.as_str());
    let body = match resource.kind.as_str() {
        "Deployment" => deployment_status(health),
        _ => json!({}),
    };
    let labels: BTreeMap<String, String> = manifest
        .pointer("/metadata/labels")
        .and_then(|l| serde_json::from_value(l.clone()).ok())
        .unwrap_or_default();
    let mut body = body;
    if let Some(spec) = manifest.get("spec") {
        merge(&mut body, json!({"spec": spec}));
    }
    Some(object(
        manifest["apiVersion"].as_str().unwrap_or_default(),
        &resource.kind,
        Some(&resource.namespace)
            .filter(|n| !n.is_empty())
            .map(String::as_str),
        &resource.name,
        &labels,
        body,
    ))
}

/// A one-replica Deployment's spec and status for an Argo CD health.
fn deployment_status(health: &str) -> Value {
    let rolled_out = |available: u32| {
        json!({"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
               "readyReplicas": available, "availableReplicas": available})
    };
    match health {
        "Healthy" => json!({"spec": {"replicas": 1}, "status": rolled_out(1)}),
        "Suspended" => json!({"spec": {"replicas": 1, "paused": true}, "status": rolled_out(1)}),
        "Degraded" => {
            let mut status = rolled_out(0);
            status["conditions"] = json!([{"type": "Progressing", "status": "False",
                "reason": "ProgressDeadlineExceeded",
                "message": "simulated: the rollout exceeded its progress deadline"}]);
            json!({"spec": {"replicas": 1}, "status": status})
        }
        _ => json!({"spec": {"replicas": 1}, "status": rolled_out(0)}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argocd::types::HealthStatus;
    use crate::checks::workload::Workload;
    use crate::checks::Health;

    /// The simulated Deployment is what the executor's port of Argo CD's
    /// rule judges as the health Argo CD's side reports for it.
    #[test]
    fn a_deployment_is_judged_as_argo_cd_reports_it() {
        for (reported, judged) in [
            ("Healthy", Health::Healthy),
            ("Progressing", Health::Progressing),
            ("Degraded", Health::Degraded),
            ("Suspended", Health::Suspended),
        ] {
            let resource = ResourceStatus {
                group: "apps".into(),
                version: "v1".into(),
                kind: "Deployment".into(),
                namespace: "web".into(),
                name: "web".into(),
                health: Some(HealthStatus {
                    status: reported.into(),
                    ..HealthStatus::default()
                }),
                ..ResourceStatus::default()
            };
            let object = live(&resource).expect("exists");
            assert_eq!(
                Workload::Deployment.judge(&object).health,
                judged,
                "{reported}: {object}"
            );
        }
        let missing = ResourceStatus {
            health: Some(HealthStatus {
                status: "Missing".into(),
                ..HealthStatus::default()
            }),
            kind: "Deployment".into(),
            ..ResourceStatus::default()
        };
        assert!(live(&missing).is_none());
    }

    #[test]
    fn a_seed_becomes_ready_at_its_moment_and_changes_version() {
        let seed = Seed {
            api_version: "apiextensions.k8s.io/v1".into(),
            kind: "CustomResourceDefinition".into(),
            namespace: None,
            name: "certificates.cert-manager.io".into(),
            labels: BTreeMap::new(),
            before: json!({"status": {"conditions": []}}),
            ready: json!({"status": {"conditions": [{"type": "Established", "status": "True"}]}}),
            ready_after: Some(Duration::from_secs(2)),
        };
        let started = Instant::now();
        let early = seeded(&seed, started, started + Duration::from_secs(1));
        let late = seeded(&seed, started, started + Duration::from_secs(2));
        assert_eq!(early["status"]["conditions"], json!([]));
        assert_eq!(late["status"]["conditions"][0]["status"], "True");
        assert_ne!(
            early["metadata"]["resourceVersion"],
            late["metadata"]["resourceVersion"]
        );
        let never = Seed {
            ready_after: None,
            ..seed
        };
        let much_later = seeded(&never, started, started + Duration::from_secs(3600));
        assert_eq!(much_later["status"]["conditions"], json!([]));
    }
}
