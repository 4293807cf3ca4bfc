//! The serde model of `dag.yaml`, parsed strictly: an unknown field is an
//! error with its line and column, so a misspelt `dependsOn` is never
//! silently ignored.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::{DagError, DagErrors};
use crate::vocabulary::duration;

/// The parsed `<config-dir>/dag.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DagSpec {
    /// The file it was read from, for error messages (`dag.yaml` when built in memory).
    #[serde(skip)]
    pub path: PathBuf,
    /// Settings every node inherits unless it sets its own.
    #[serde(default, skip_serializing_if = "Defaults::is_empty")]
    pub defaults: Defaults,
    /// The stacks, each with its applications and resources.
    #[serde(default)]
    pub stacks: Vec<StackSpec>,
}

/// `defaults:` in dag.yaml.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Defaults {
    /// Sync and health deadlines; unset fields fall back to environment.yaml's `timeouts`.
    #[serde(default, skip_serializing_if = "TimeoutsSpec::is_empty")]
    pub timeouts: TimeoutsSpec,
    /// Simulated timeline of every Application, field by field under each node's own block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulation: Option<SimulationSpec>,
}

impl Defaults {
    fn is_empty(&self) -> bool {
        self.timeouts.is_empty() && self.simulation.is_none()
    }
}

/// `timeouts:` on the defaults, a stack, a node or an override. Unset fields are inherited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimeoutsSpec {
    /// From sync request to operation completed (for a resource: until it exists).
    #[serde(
        default,
        with = "duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub sync: Option<Duration>,
    /// From operation completed to ready (for a resource: until its condition holds).
    #[serde(
        default,
        with = "duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub health: Option<Duration>,
}

impl TimeoutsSpec {
    /// True when neither field is set.
    pub fn is_empty(&self) -> bool {
        self.sync.is_none() && self.health.is_none()
    }

    /// Each field of `self`, else of `fallback`.
    pub fn or(self, fallback: TimeoutsSpec) -> TimeoutsSpec {
        TimeoutsSpec {
            sync: self.sync.or(fallback.sync),
            health: self.health.or(fallback.health),
        }
    }
}

/// One stack: a group of applications and resources, optionally deployed
/// through its own app-of-apps Application first.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StackSpec {
    /// Node name, unique across the file.
    pub name: String,
    /// The stack's app-of-apps Application, synced before its members; none for a pure grouping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// Namespace of the stack's app-of-apps Application, when Argo CD manages it
    /// outside its own namespace; only the app-of-apps', members set their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Nodes that must be ready first; naming a stack means the whole stack.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Deadlines of the stack's app-of-apps and, unless they set their own, of its members.
    #[serde(default, skip_serializing_if = "TimeoutsSpec::is_empty")]
    pub timeouts: TimeoutsSpec,
    /// The cluster the stack runs on; its members inherit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Simulated timeline of the stack's app-of-apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulation: Option<SimulationSpec>,
    /// Argo CD Applications of the stack.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<AppSpec>,
    /// Kubernetes resources that must exist and be ready.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceNodeSpec>,
}

/// One Argo CD Application.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppSpec {
    /// The Application's name, and the node's.
    pub name: String,
    /// The Application's namespace, when Argo CD manages it outside its own
    /// namespace (default: environment.yaml's `argocd.appNamespace`, not the stack's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Nodes that must be ready first (`name` or `name@cluster`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Per-node deadlines; win over the stack's and the defaults.
    #[serde(default, skip_serializing_if = "TimeoutsSpec::is_empty")]
    pub timeouts: TimeoutsSpec,
    /// The cluster the app runs on (default: its stack's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Simulated timeline for `--simulate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulation: Option<SimulationSpec>,
}

/// One Kubernetes resource that must exist and be ready, such as a CRD that is Established.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceNodeSpec {
    /// Node name, unique across the file.
    pub name: String,
    /// The resource's `apiVersion`, e.g. `apiextensions.k8s.io/v1`.
    pub api_version: String,
    /// The resource's `kind`, e.g. `CustomResourceDefinition`.
    pub kind: String,
    /// `metadata.name` of the resource (default: the node name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// Namespace, for namespaced kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Condition type that must be True; `Exists` means existing is enough (default by kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Nodes that must be ready first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Per-node deadlines: sync is the wait until it exists, health until its condition holds.
    #[serde(default, skip_serializing_if = "TimeoutsSpec::is_empty")]
    pub timeouts: TimeoutsSpec,
    /// The cluster the resource lives on (default: its stack's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Simulated timeline for `--simulate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulation: Option<SimulationSpec>,
}

/// `simulation:` on a node: how the embedded simulator plays it. Unset fields
/// come from `defaults.simulation`, then from the simulator's own defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimulationSpec {
    /// Time from sync request to Healthy.
    #[serde(
        default,
        with = "duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub ready_after: Option<Duration>,
    /// How the node ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<SimOutcomeSpec>,
    /// Up to this much is added to or taken from `readyAfter`, at random.
    #[serde(
        default,
        with = "duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub jitter: Option<Duration>,
}

impl SimulationSpec {
    /// Each field of `self`, else of `fallback`.
    pub fn or(self, fallback: SimulationSpec) -> SimulationSpec {
        SimulationSpec {
            ready_after: self.ready_after.or(fallback.ready_after),
            outcome: self.outcome.or(fallback.outcome),
            jitter: self.jitter.or(fallback.jitter),
        }
    }
}

/// The end of a simulated node's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum SimOutcomeSpec {
    /// Synced and Healthy.
    Healthy,
    /// The sync succeeds but health becomes Degraded.
    Degraded,
    /// The sync operation fails.
    OperationFailed,
}

impl DagSpec {
    /// Parses dag.yaml text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<DagSpec, DagErrors> {
        let mut spec: DagSpec = serde_yaml::from_str(text).map_err(|e| {
            DagErrors::from(DagError::Parse {
                path: path.to_owned(),
                message: e.to_string(),
            })
        })?;
        spec.path = path.to_owned();
        Ok(spec)
    }

    /// The file as YAML, as [`DagSpec::parse`] reads it back (for generated DAGs).
    pub fn to_yaml(&self) -> String {
        serde_yaml::to_string(self).expect("a DagSpec always serializes")
    }

    /// The name of the file it came from, for messages.
    pub(crate) fn file(&self) -> String {
        if self.path.as_os_str().is_empty() {
            "dag.yaml".to_owned()
        } else {
            self.path.display().to_string()
        }
    }
}

/// The names a scope can use, straight from the file (for when it does not validate).
pub(crate) struct SpecNames<'a> {
    /// Stack names.
    pub stacks: Vec<&'a str>,
    /// App and resource names, and stacks' app-of-apps.
    pub apps: Vec<&'a str>,
}

impl<'a> SpecNames<'a> {
    /// Collects them.
    pub fn of(spec: &'a DagSpec) -> Self {
        let stacks = spec.stacks.iter().map(|s| s.name.as_str()).collect();
        let apps = spec
            .stacks
            .iter()
            .flat_map(|s| {
                s.app
                    .as_deref()
                    .into_iter()
                    .chain(s.apps.iter().map(|a| a.name.as_str()))
                    .chain(s.resources.iter().map(|r| r.name.as_str()))
            })
            .collect();
        SpecNames { stacks, apps }
    }
}

impl DagSpec {
    /// Every Application the file names: the apps, and stacks' app-of-apps.
    pub fn applications(&self) -> std::collections::BTreeSet<String> {
        self.stacks
            .iter()
            .flat_map(|s| s.app.iter().chain(s.apps.iter().map(|a| &a.name)))
            .cloned()
            .collect()
    }
}

/// Reads and parses a dag.yaml; errors carry the line and column.
pub fn load_spec(path: &Path) -> Result<DagSpec, DagErrors> {
    let text = std::fs::read_to_string(path).map_err(|source| DagError::Read {
        path: path.to_owned(),
        hint: "write the DAG file there (see the README, \"The DAG file\") or pass --config-dir"
            .to_owned(),
        source,
    })?;
    DagSpec::parse(&text, path)
}
