//! Which critical checks apply to one app, and what each probes: the
//! health.yaml checks that name it, then a built-in for each of its managed
//! resources that has one (unless turned off, or overridden by a
//! health.yaml check on the same object). Pure: the caller sends the requests.

use std::time::Duration;

use super::builtin::Builtin;
use super::field::FieldRule;
use super::file::HealthChecks;
use crate::argocd::types::ResourceStatus;
use crate::cluster::resource::ObjectRef;

/// What makes an object pass.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// Existing is enough.
    Exists,
    /// `status.conditions[]` has this type with status True.
    Condition(String),
    /// A field comparison.
    Field(FieldRule),
    /// The built-in rule of its kind.
    Builtin(Builtin),
}

/// An HTTP endpoint to ask.
#[derive(Debug, Clone, PartialEq)]
pub struct Http {
    /// The URL, as given (Vault's: with `/v1/sys/health` appended).
    pub url: reqwest::Url,
    /// The status it must answer (Vault's is not checked: its body decides).
    pub status: u16,
    /// Fields the JSON body must have, each equal to its value.
    pub json: Vec<FieldRule>,
    /// How long one request may take.
    pub timeout: Duration,
    /// A CA bundle to trust besides the webpki roots, as PEM.
    pub ca_pem: Option<Vec<u8>>,
}

/// What one check asks, and of whom.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// One object through the Kubernetes API.
    Object {
        /// Which object.
        target: ObjectRef,
        /// What it must be.
        rule: Rule,
    },
    /// Every object of a kind matching a label selector (at least one).
    Selected {
        /// `apps/v1`, …
        api_version: String,
        /// `Deployment`, …
        kind: String,
        /// The namespace; none for a cluster-scoped kind, or every namespace.
        namespace: Option<String>,
        /// A label selector, as kubectl's `-l` takes it.
        selector: String,
        /// What each must be.
        rule: Rule,
    },
    /// An HTTP endpoint: the status and JSON fields.
    Http(Http),
    /// Vault's health endpoint: initialized, unsealed, active.
    Vault(Http),
    /// A nested Application, through Argo CD.
    Child(String),
}

impl Probe {
    /// Whether it needs the Kubernetes API (and is skipped without access).
    pub fn needs_cluster(&self) -> bool {
        matches!(self, Probe::Object { .. } | Probe::Selected { .. })
    }

    /// What it looks at, for the report.
    pub fn target(&self) -> String {
        match self {
            Probe::Object { target, .. } => target.to_string(),
            Probe::Selected {
                kind,
                namespace,
                selector,
                ..
            } => match namespace {
                Some(ns) => format!("{kind} in {ns} with {selector}"),
                None => format!("{kind} with {selector}"),
            },
            Probe::Http(http) | Probe::Vault(http) => http.url.to_string(),
            Probe::Child(name) => format!("Application {name}"),
        }
    }
}

/// One check as health.yaml defines it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckSpec {
    /// Its name, unique in the file.
    pub name: String,
    /// The Application it gates.
    pub app: String,
    /// What it asks.
    pub probe: Probe,
}

/// One check that applies to an app.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The health.yaml check's name, or the built-in's.
    pub name: String,
    /// What it asks.
    pub probe: Probe,
}

/// The checks that apply to `app`, whose managed resources (Argo CD's
/// `status.resources`) are `managed`. A child Application that is a node of
/// dag.yaml is a component of its own, deployed after its parent, so the
/// parent does not wait for it.
pub fn plan(app: &str, managed: &[ResourceStatus], checks: &HealthChecks) -> Vec<Planned> {
    let mine: Vec<&CheckSpec> = checks.checks.iter().filter(|c| c.app == app).collect();
    let overridden = |object: &ObjectRef| {
        mine.iter().any(|c| match &c.probe {
            Probe::Object { target, .. } => {
                target.kind == object.kind
                    && target.name == object.name
                    && target.namespace == object.namespace
            }
            _ => false,
        })
    };
    let mut planned: Vec<Planned> = mine
        .iter()
        .map(|c| Planned {
            name: c.name.clone(),
            probe: c.probe.clone(),
        })
        .collect();
    for resource in managed {
        let Some(builtin) = Builtin::of(&resource.group, &resource.kind) else {
            continue;
        };
        if !checks.builtins.enabled(builtin) {
            continue;
        }
        if builtin == Builtin::Applications {
            if !checks.dag_apps.contains(&resource.name) {
                planned.push(Planned {
                    name: builtin.name().to_owned(),
                    probe: Probe::Child(resource.name.clone()),
                });
            }
            continue;
        }
        let target = object_of(resource);
        if overridden(&target) {
            continue;
        }
        planned.push(Planned {
            name: builtin.name().to_owned(),
            probe: Probe::Object {
                target,
                rule: Rule::Builtin(builtin),
            },
        });
    }
    planned
}

/// The object a managed resource names.
pub fn object_of(resource: &ResourceStatus) -> ObjectRef {
    ObjectRef {
        api_version: if resource.group.is_empty() {
            resource.version.clone()
        } else {
            format!("{}/{}", resource.group, resource.version)
        },
        kind: resource.kind.clone(),
        namespace: (!resource.namespace.is_empty()).then(|| resource.namespace.clone()),
        name: resource.name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::file::Builtins;

    fn managed(group: &str, version: &str, kind: &str, ns: &str, name: &str) -> ResourceStatus {
        ResourceStatus {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            namespace: ns.into(),
            name: name.into(),
            ..ResourceStatus::default()
        }
    }

    fn names(planned: &[Planned]) -> Vec<(String, String)> {
        planned
            .iter()
            .map(|p| (p.name.clone(), p.probe.target()))
            .collect()
    }

    #[test]
    fn built_ins_apply_to_the_kinds_that_have_them() {
        let resources = [
            managed(
                "ceph.rook.io",
                "v1",
                "CephCluster",
                "rook-ceph",
                "rook-ceph",
            ),
            managed("", "v1", "ConfigMap", "rook-ceph", "settings"),
            managed("apps", "v1", "Deployment", "rook-ceph", "mgr"),
            managed("", "v1", "PersistentVolumeClaim", "rook-ceph", "data"),
            managed("argoproj.io", "v1alpha1", "Application", "argocd", "child"),
            managed("argoproj.io", "v1alpha1", "Application", "argocd", "member"),
            managed(
                "apiextensions.k8s.io",
                "v1",
                "CustomResourceDefinition",
                "",
                "x.y",
            ),
        ];
        let checks = HealthChecks {
            dag_apps: ["member".to_owned()].into(),
            ..HealthChecks::default()
        };
        let planned = plan("storage", &resources, &checks);
        assert_eq!(
            names(&planned),
            [
                ("cephCluster", "CephCluster rook-ceph/rook-ceph"),
                ("workloads", "Deployment rook-ceph/mgr"),
                ("workloads", "PersistentVolumeClaim rook-ceph/data"),
                ("applications", "Application child"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        let Probe::Object { target, .. } = &planned[1].probe else {
            panic!("{planned:?}")
        };
        assert_eq!(target.api_version, "apps/v1");
        let Probe::Object { target, .. } = &planned[2].probe else {
            panic!("{planned:?}")
        };
        assert_eq!(target.api_version, "v1");
    }

    #[test]
    fn the_file_turns_built_ins_off_and_overrides_them_per_object() {
        let resources = [
            managed(
                "ceph.rook.io",
                "v1",
                "CephCluster",
                "rook-ceph",
                "rook-ceph",
            ),
            managed("ceph.rook.io", "v1", "CephCluster", "rook-ceph", "other"),
            managed("apps", "v1", "Deployment", "rook-ceph", "mgr"),
        ];
        let ours = CheckSpec {
            name: "ceph-warn-is-fine".into(),
            app: "storage".into(),
            probe: Probe::Object {
                target: ObjectRef {
                    api_version: "ceph.rook.io/v1".into(),
                    kind: "CephCluster".into(),
                    namespace: Some("rook-ceph".into()),
                    name: "rook-ceph".into(),
                },
                rule: Rule::Exists,
            },
        };
        let someone_elses = CheckSpec {
            name: "elsewhere".into(),
            app: "monitoring".into(),
            ..ours.clone()
        };
        let checks = HealthChecks {
            builtins: Builtins {
                workloads: false,
                ..Builtins::default()
            },
            checks: vec![ours, someone_elses],
            dag_apps: Default::default(),
        };
        let planned = plan("storage", &resources, &checks);
        assert_eq!(
            names(&planned),
            [
                ("ceph-warn-is-fine", "CephCluster rook-ceph/rook-ceph"),
                ("cephCluster", "CephCluster rook-ceph/other"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
    }
}
