//! The validated DAG: nodes with resolved timeouts, and their dependencies
//! and dependents by id. Built by `build.rs`, narrowed by `select.rs`; the
//! scheduler walks it forwards for deploy and backwards for teardown.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use super::schedule::Graph;
use super::spec::SimulationSpec;
use crate::deadline::DeadlineSource;

/// A node's index in its [`Dag`]. Ids run from 0 in topological order (by
/// wave, then name), so every dependency has a smaller id than its dependents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub usize);

impl NodeId {
    /// The id as an index into per-node vectors (such as the scheduler's `Graph`).
    pub fn index(self) -> usize {
        self.0
    }
}

/// What a node stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// A stack; with `app`, the stack's app-of-apps Application is synced
    /// before its members; without, it is a pure grouping, ready at once.
    Stack {
        /// The app-of-apps Application.
        app: Option<String>,
    },
    /// An Argo CD Application named like the node.
    App,
    /// A Kubernetes resource that must exist and be ready.
    Resource(ResourceSpec),
}

/// The Kubernetes object a resource node waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSpec {
    /// `apiVersion`, e.g. `apiextensions.k8s.io/v1`.
    pub api_version: String,
    /// `kind`, e.g. `CustomResourceDefinition`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, for namespaced kinds.
    pub namespace: Option<String>,
    /// Condition type that must be `True`; `None` when existing is enough.
    pub condition: Option<String>,
}

/// Condition a resource of `kind` waits for when dag.yaml names none: the
/// kinds' own readiness conditions, `None` (exists) for kinds without one,
/// and `Ready`, the common convention of operators' custom resources.
pub fn default_condition(kind: &str) -> Option<&'static str> {
    match kind {
        "CustomResourceDefinition" => Some("Established"),
        "Deployment" | "APIService" => Some("Available"),
        "Job" => Some("Complete"),
        "Pod" | "Node" => Some("Ready"),
        "Namespace"
        | "ConfigMap"
        | "Secret"
        | "Service"
        | "ServiceAccount"
        | "StorageClass"
        | "StatefulSet"
        | "DaemonSet"
        | "PersistentVolumeClaim"
        | "ClusterRole"
        | "ClusterRoleBinding"
        | "Role"
        | "RoleBinding"
        | "IngressClass"
        | "ValidatingWebhookConfiguration"
        | "MutatingWebhookConfiguration" => None,
        _ => Some("Ready"),
    }
}

/// One node of the DAG.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Its id in this DAG.
    pub id: NodeId,
    /// Its name, unique across stacks, apps and resources.
    pub name: String,
    /// Stack, app or resource.
    pub kind: NodeKind,
    /// The stack it belongs to, when that stack is in this DAG; `None` for stacks.
    pub stack: Option<NodeId>,
    /// The name of the stack it belongs to, also when the stack was not selected.
    pub stack_name: Option<String>,
    /// Deadline from sync request to operation completed.
    pub sync_timeout: Duration,
    /// Where `sync_timeout` came from, for a Timeout's message.
    pub sync_source: DeadlineSource,
    /// Deadline from operation completed to ready.
    pub health_timeout: Duration,
    /// Where `health_timeout` came from.
    pub health_source: DeadlineSource,
    /// The cluster it was declared for (checked to be this environment's).
    pub cluster: Option<String>,
    /// The namespace of its Application when it has one set (dag.yaml's
    /// `namespace:`, else environment.yaml's `argocd.appNamespace`); `None`
    /// means Argo CD's own namespace, and always for a resource or a pure grouping.
    pub app_namespace: Option<String>,
    /// Simulated timeline, `defaults.simulation` merged in.
    pub simulation: Option<SimulationSpec>,
}

impl Node {
    /// The Argo CD Application this node syncs, if any: the app itself, or a
    /// stack's app-of-apps.
    pub fn application(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::App => Some(&self.name),
            NodeKind::Stack { app } => app.as_deref(),
            NodeKind::Resource(_) => None,
        }
    }

    /// `stack`, `app` or `resource`, as reports and plans spell it.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Stack { .. } => "stack",
            NodeKind::App => "app",
            NodeKind::Resource(_) => "resource",
        }
    }

    /// The longest it may take: sync plus health deadline; zero for a pure
    /// grouping stack, which has nothing to wait for.
    pub fn deadline(&self) -> Duration {
        match &self.kind {
            NodeKind::Stack { app: None } => Duration::ZERO,
            _ => self.sync_timeout.saturating_add(self.health_timeout),
        }
    }
}

/// A validated, acyclic graph of stacks, applications and resources.
#[derive(Debug, Clone)]
pub struct Dag {
    pub(super) nodes: Vec<Node>,
    pub(super) dependencies: Vec<Vec<NodeId>>,
    pub(super) dependents: Vec<Vec<NodeId>>,
    pub(super) members: Vec<Vec<NodeId>>,
    pub(super) assumed_ready: Vec<Vec<String>>,
    pub(super) by_name: HashMap<String, NodeId>,
    pub(super) source: PathBuf,
}

/// A node before ids are assigned: `stack` and `dependencies` index into the
/// same vector of proto nodes.
pub(super) struct Proto {
    pub node: Node,
    pub stack: Option<usize>,
    pub dependencies: Vec<usize>,
    pub assumed_ready: Vec<String>,
}

impl Dag {
    /// Numbers acyclic proto nodes by (wave, name) and links them both ways.
    pub(super) fn assemble(protos: Vec<Proto>, source: PathBuf) -> Dag {
        let n = protos.len();
        let wave = Graph::new(protos.iter().map(|p| p.dependencies.clone()).collect()).waves();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| {
            (wave[a], &protos[a].node.name).cmp(&(wave[b], &protos[b].node.name))
        });
        let mut new_id = vec![NodeId(0); n];
        for (i, &old) in order.iter().enumerate() {
            new_id[old] = NodeId(i);
        }
        let mut slots: Vec<Option<Proto>> = protos.into_iter().map(Some).collect();
        let mut nodes = Vec::with_capacity(n);
        let mut dependencies = Vec::with_capacity(n);
        let mut assumed_ready = Vec::with_capacity(n);
        for (i, &old) in order.iter().enumerate() {
            let proto = slots[old].take().expect("each proto is taken once");
            let mut node = proto.node;
            node.id = NodeId(i);
            node.stack = proto.stack.map(|s| new_id[s]);
            let mut deps: Vec<NodeId> = proto.dependencies.iter().map(|&d| new_id[d]).collect();
            deps.sort_unstable();
            deps.dedup();
            nodes.push(node);
            dependencies.push(deps);
            assumed_ready.push(proto.assumed_ready);
        }
        let mut dependents = vec![Vec::new(); n];
        let mut members = vec![Vec::new(); n];
        for (i, deps) in dependencies.iter().enumerate() {
            for d in deps {
                // Pushed in increasing i: already sorted.
                dependents[d.0].push(NodeId(i));
            }
            if let Some(stack) = nodes[i].stack {
                members[stack.0].push(NodeId(i));
            }
        }
        let by_name = nodes.iter().map(|n| (n.name.clone(), n.id)).collect();
        Dag {
            nodes,
            dependencies,
            dependents,
            members,
            assumed_ready,
            by_name,
            source,
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Every id, in topological order (by wave, then name).
    pub fn ids(&self) -> impl Iterator<Item = NodeId> {
        (0..self.nodes.len()).map(NodeId)
    }

    /// Every node, in id order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The node with this id. Panics on an id from another DAG that is out of range.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0]
    }

    /// The node with this name.
    pub fn find(&self, name: &str) -> Option<NodeId> {
        self.by_name.get(name).copied()
    }

    /// Nodes that must be ready before `id` starts, sorted.
    pub fn dependencies(&self, id: NodeId) -> &[NodeId] {
        &self.dependencies[id.0]
    }

    /// Nodes that wait for `id`, sorted (teardown removes them before `id`).
    pub fn dependents(&self, id: NodeId) -> &[NodeId] {
        &self.dependents[id.0]
    }

    /// The apps and resources of a stack in this DAG, sorted; empty for other nodes.
    pub fn members(&self, stack: NodeId) -> &[NodeId] {
        &self.members[stack.0]
    }

    /// A stack whose app-of-apps teardown deletes first, without cascade: it
    /// has one, and app members in this DAG. An app-of-apps with automated
    /// sync re-creates a child deleted before it, and the contract forbids
    /// turning auto-sync off, so reverse order alone cannot work; deleted
    /// first without cascade, it leaves its child Applications to be
    /// deleted next, in reverse order.
    pub fn deletes_parent_first(&self, id: NodeId) -> bool {
        matches!(self.node(id).kind, NodeKind::Stack { app: Some(_) })
            && self
                .members(id)
                .iter()
                .any(|m| matches!(self.node(*m).kind, NodeKind::App))
    }

    /// Direct dependencies of `id` that were left out by a selection: the run
    /// assumes they are ready and does not check them.
    pub fn assumed_ready(&self, id: NodeId) -> &[String] {
        &self.assumed_ready[id.0]
    }

    /// Ids in an order where every dependency comes first (the id order).
    pub fn topo_order(&self) -> Vec<NodeId> {
        self.ids().collect()
    }

    /// The wave of each node, by id: 0 without dependencies, else one more
    /// than its latest dependency's. The scheduler's own, so `dag plan` shows
    /// the waves that `--schedule waves` runs.
    pub fn waves(&self) -> Vec<usize> {
        Graph::new(self.dependency_indices()).waves()
    }

    /// Each node's dependencies as plain indices, the shape of the scheduler's `Graph::new`.
    pub fn dependency_indices(&self) -> Vec<Vec<usize>> {
        self.dependencies
            .iter()
            .map(|d| d.iter().map(|id| id.0).collect())
            .collect()
    }

    /// The DAG file this graph was built from.
    pub fn source(&self) -> &std::path::Path {
        &self.source
    }
}
