//! From a parsed dag.yaml and its overrides to a validated [`Dag`]. Every
//! check runs, and every problem is collected, before anything is returned:
//! names, duplicates, clusters, dependencies, empty stacks, then cycles (with
//! petgraph).

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::time::Duration;

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};

use super::error::{did_you_mean, DagError, DagErrors};
use super::graph::{default_condition, Dag, Node, NodeId, NodeKind, Proto, ResourceSpec};
use super::overrides::{Overrides, TimeoutOrigins};
use super::spec::{DagSpec, SimulationSpec, TimeoutsSpec};
use crate::deadline::DeadlineSource;
use crate::vocabulary::name;

/// What the DAG needs from the environment.
#[derive(Debug, Clone, Copy)]
pub struct BuildContext<'a> {
    /// environment.yaml's `clusterName`; nodes may only name this cluster.
    pub cluster_name: Option<&'a str>,
    /// Sync deadline of nodes that set none, nor their stack, nor `defaults`.
    pub default_sync: Duration,
    /// Health deadline likewise.
    pub default_health: Duration,
    /// environment.yaml's `argocd.appNamespace`: the namespace of every
    /// Application whose node sets none (checked by the caller).
    pub default_app_namespace: Option<&'a str>,
}

/// What a flattened node came from.
#[derive(Clone, Copy)]
enum RawKind<'a> {
    Stack(Option<&'a str>),
    App,
    Resource(&'a super::spec::ResourceNodeSpec),
}

/// One node of the file, flattened, with overrides applied.
struct Raw<'a> {
    name: &'a str,
    kind: RawKind<'a>,
    stack: Option<usize>,
    stack_name: Option<&'a str>,
    depends_on: &'a [String],
    depends_origin: &'a str,
    timeouts: TimeoutsSpec,
    timeout_origins: TimeoutOrigins<'a>,
    cluster: Option<&'a str>,
    namespace: Option<&'a str>,
    simulation: Option<SimulationSpec>,
}

impl Raw<'_> {
    fn describe(&self) -> String {
        let kind = match self.kind {
            RawKind::Stack(_) => "stack",
            RawKind::App => "app",
            RawKind::Resource(_) => "resource",
        };
        match self.stack_name {
            Some(stack) => format!("{kind} '{}' in stack '{stack}'", self.name),
            None => format!("{kind} '{}'", self.name),
        }
    }
}

impl Dag {
    /// Validates `spec` with `overrides` applied and builds the graph.
    /// Returns every problem found, not only the first.
    pub fn build(
        spec: &DagSpec,
        overrides: &Overrides,
        ctx: &BuildContext,
    ) -> Result<Dag, DagErrors> {
        let file = spec.file();
        let mut errors = Vec::new();
        if spec.stacks.is_empty() {
            errors.push(DagError::NoStacks { file: file.clone() });
        }

        // Flatten: each stack, then its apps and resources.
        let mut raws: Vec<Raw> = Vec::new();
        let mut members: Vec<Vec<usize>> = Vec::new();
        for stack in &spec.stacks {
            let s = raws.len();
            raws.push(Raw {
                name: &stack.name,
                kind: RawKind::Stack(stack.app.as_deref()),
                stack: None,
                stack_name: None,
                depends_on: &stack.depends_on,
                depends_origin: &file,
                timeouts: stack.timeouts,
                timeout_origins: TimeoutOrigins::default(),
                cluster: stack.cluster.as_deref(),
                namespace: stack.namespace.as_deref(),
                simulation: stack.simulation,
            });
            members.push(Vec::new());
            for app in &stack.apps {
                raws.push(Raw {
                    name: &app.name,
                    kind: RawKind::App,
                    stack: Some(s),
                    stack_name: Some(&stack.name),
                    depends_on: &app.depends_on,
                    depends_origin: &file,
                    timeouts: app.timeouts,
                    timeout_origins: TimeoutOrigins::default(),
                    cluster: app.cluster.as_deref(),
                    namespace: app.namespace.as_deref(),
                    simulation: app.simulation,
                });
                members.push(Vec::new());
            }
            for r in &stack.resources {
                raws.push(Raw {
                    name: &r.name,
                    kind: RawKind::Resource(r),
                    stack: Some(s),
                    stack_name: Some(&stack.name),
                    depends_on: &r.depends_on,
                    depends_origin: &file,
                    timeouts: r.timeouts,
                    timeout_origins: TimeoutOrigins::default(),
                    cluster: r.cluster.as_deref(),
                    namespace: None,
                    simulation: r.simulation,
                });
                members.push(Vec::new());
            }
            members[s] = (s + 1..raws.len()).collect();
            if stack.apps.is_empty() && stack.resources.is_empty() {
                errors.push(DagError::EmptyStack {
                    file: file.clone(),
                    stack: stack.name.clone(),
                });
            }
        }

        // Names: valid and unique across stacks, apps and resources.
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(raws.len());
        for (i, r) in raws.iter().enumerate() {
            if !name::valid(r.name) {
                errors.push(DagError::InvalidName {
                    file: file.clone(),
                    node: r.describe(),
                });
            }
            match index.entry(r.name) {
                Entry::Occupied(first) => errors.push(DagError::Duplicate {
                    file: file.clone(),
                    name: r.name.to_owned(),
                    first: raws[*first.get()].describe(),
                    second: r.describe(),
                    what: "node names (stacks, apps and resources together)",
                }),
                Entry::Vacant(slot) => {
                    slot.insert(i);
                }
            }
        }
        let app_of_apps = check_applications(&raws, &index, &file, &mut errors);
        check_namespaces(&raws, &file, &mut errors);

        // Overrides replace what the file says, before anything is resolved.
        let mut unknown_reported = std::collections::HashSet::new();
        for (name, origin) in overrides.named() {
            if !index.contains_key(name) && unknown_reported.insert((name, origin)) {
                errors.push(DagError::UnknownOverride {
                    file: origin.to_owned(),
                    node: name.to_owned(),
                    dag: file.clone(),
                    hint: did_you_mean(name, raws.iter().map(|r| r.name)),
                });
            }
        }
        for (name, m) in overrides.merged() {
            if let Some(&i) = index.get(name) {
                if let Some((deps, origin)) = m.depends_on {
                    raws[i].depends_on = deps;
                    raws[i].depends_origin = origin;
                }
                raws[i].timeouts = m.timeouts.or(raws[i].timeouts);
                raws[i].timeout_origins = m.timeout_origins;
            }
        }

        // Clusters: only this environment's, until multi-cluster execution exists.
        let expected = match ctx.cluster_name {
            Some(c) => format!("this environment's clusterName is '{c}'"),
            None => "this environment has no clusterName".to_owned(),
        };
        for r in &raws {
            if let Some(c) = r.cluster.filter(|c| Some(*c) != ctx.cluster_name) {
                errors.push(DagError::WrongCluster {
                    file: file.clone(),
                    node: r.describe(),
                    cluster: c.to_owned(),
                    expected: expected.clone(),
                });
            }
        }

        // Dependencies: a member after its stack; a dependency on a stack means
        // on the whole stack (its app-of-apps and every member).
        let mut deps: Vec<Vec<usize>> =
            raws.iter().map(|r| r.stack.into_iter().collect()).collect();
        for (i, r) in raws.iter().enumerate() {
            for written in r.depends_on {
                let at = written.split('@').collect::<Vec<_>>();
                let (name, cluster) = match at[..] {
                    [name] if !name.is_empty() => (name, None),
                    [name, cluster] if !name.is_empty() && !cluster.is_empty() => {
                        (name, Some(cluster))
                    }
                    _ => {
                        errors.push(DagError::BadDependency {
                            file: r.depends_origin.to_owned(),
                            node: r.describe(),
                            dependency: written.clone(),
                            reason: "write a node name, or name@cluster".to_owned(),
                        });
                        continue;
                    }
                };
                if let Some(c) = cluster.filter(|c| Some(*c) != ctx.cluster_name) {
                    errors.push(DagError::DependencyCluster {
                        file: r.depends_origin.to_owned(),
                        node: r.describe(),
                        dependency: written.clone(),
                        cluster: c.to_owned(),
                        expected: expected.clone(),
                    });
                }
                let Some(&j) = index.get(name) else {
                    let hint = match app_of_apps.get(name) {
                        Some(&s) => format!(
                            "; it is the app-of-apps of stack '{}': depend on '{}'",
                            raws[s].name, raws[s].name
                        ),
                        None => did_you_mean(name, raws.iter().map(|r| r.name)),
                    };
                    errors.push(DagError::UnknownDependency {
                        file: r.depends_origin.to_owned(),
                        node: r.describe(),
                        dependency: name.to_owned(),
                        hint,
                    });
                    continue;
                };
                if j == i {
                    errors.push(DagError::SelfDependency {
                        file: r.depends_origin.to_owned(),
                        node: r.describe(),
                        name: name.to_owned(),
                    });
                } else if r.stack == Some(j) {
                    errors.push(DagError::ImpliedDependency {
                        file: r.depends_origin.to_owned(),
                        node: r.describe(),
                        stack: name.to_owned(),
                    });
                } else if raws[j].stack == Some(i) {
                    errors.push(DagError::MemberDependency {
                        file: r.depends_origin.to_owned(),
                        stack: r.name.to_owned(),
                        member: name.to_owned(),
                    });
                } else {
                    deps[i].push(j);
                    deps[i].extend_from_slice(&members[j]);
                }
            }
        }

        find_cycles(&raws, &deps, &file, &mut errors);
        if !errors.is_empty() {
            return Err(DagErrors(errors));
        }

        let protos = raws
            .iter()
            .zip(deps)
            .map(|(r, dependencies)| Proto {
                node: resolve(r, &raws, spec, ctx),
                stack: r.stack,
                dependencies,
                assumed_ready: Vec::new(),
            })
            .collect();
        Ok(Dag::assemble(protos, spec.path.clone()))
    }
}

/// App-of-apps names: valid, and no Application deployed twice (by two
/// stacks, or by a stack and an app node). Returns them, mapped to their stack.
fn check_applications<'a>(
    raws: &[Raw<'a>],
    index: &HashMap<&str, usize>,
    file: &str,
    errors: &mut Vec<DagError>,
) -> HashMap<&'a str, usize> {
    let mut apps: HashMap<&'a str, usize> = HashMap::new();
    for (s, r) in raws.iter().enumerate() {
        let RawKind::Stack(Some(app)) = r.kind else {
            continue;
        };
        let describe = |stack: &Raw| format!("the app-of-apps of stack '{}'", stack.name);
        if !name::valid(app) {
            errors.push(DagError::InvalidName {
                file: file.to_owned(),
                node: format!("app '{app}' ({})", describe(r)),
            });
        }
        let clash = match index.get(app) {
            Some(&i) if matches!(raws[i].kind, RawKind::App) => Some(raws[i].describe()),
            _ => apps.get(app).map(|&other| describe(&raws[other])),
        };
        match clash {
            Some(first) => errors.push(DagError::Duplicate {
                file: file.to_owned(),
                name: app.to_owned(),
                first,
                second: describe(r),
                what: "Argo CD Application names",
            }),
            None => {
                apps.insert(app, s);
            }
        }
    }
    apps
}

/// Namespaces of Applications: Kubernetes namespace names, and only where
/// there is an Application (a pure grouping stack has none to place).
fn check_namespaces(raws: &[Raw], file: &str, errors: &mut Vec<DagError>) {
    for r in raws {
        let Some(namespace) = r.namespace else {
            continue;
        };
        if let RawKind::Stack(None) = r.kind {
            errors.push(DagError::NamespaceWithoutApp {
                file: file.to_owned(),
                stack: r.name.to_owned(),
            });
        } else if !name::valid_namespace(namespace) {
            errors.push(DagError::InvalidNamespace {
                file: file.to_owned(),
                node: r.describe(),
                namespace: namespace.to_owned(),
            });
        }
    }
}

/// Reports one cycle per strongly connected component, the shortest through
/// its first node by name, in execution order (`a → b`: b depends on a).
fn find_cycles(raws: &[Raw], deps: &[Vec<usize>], file: &str, errors: &mut Vec<DagError>) {
    let edges: usize = deps.iter().map(Vec::len).sum();
    let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(raws.len(), edges);
    for _ in raws {
        graph.add_node(());
    }
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            graph.add_edge(NodeIndex::new(d), NodeIndex::new(i), ());
        }
    }
    if toposort(&graph, None).is_ok() {
        return;
    }
    let mut in_scc = vec![false; raws.len()];
    let mut cycles = Vec::new();
    for scc in tarjan_scc(&graph).into_iter().filter(|c| c.len() > 1) {
        for n in &scc {
            in_scc[n.index()] = true;
        }
        let start = *scc
            .iter()
            .min_by_key(|n| raws[n.index()].name)
            .expect("a component is not empty");
        let mut parent: HashMap<NodeIndex, NodeIndex> = HashMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut last = None;
        'search: while let Some(u) = queue.pop_front() {
            let mut next: Vec<NodeIndex> =
                graph.neighbors(u).filter(|v| in_scc[v.index()]).collect();
            next.sort_by_key(|v| raws[v.index()].name);
            for v in next {
                if v == start {
                    last = Some(u);
                    break 'search;
                }
                if let Entry::Vacant(slot) = parent.entry(v) {
                    slot.insert(u);
                    queue.push_back(v);
                }
            }
        }
        let mut back = Vec::new();
        let mut at = last.expect("a strongly connected component has a cycle through each node");
        while at != start {
            back.push(at);
            at = parent[&at];
        }
        let path: Vec<NodeIndex> = std::iter::once(start)
            .chain(back.into_iter().rev())
            .chain(std::iter::once(start))
            .collect();
        for n in &scc {
            in_scc[n.index()] = false;
        }
        cycles.push(
            path.iter()
                .map(|n| raws[n.index()].name.to_owned())
                .collect::<Vec<_>>(),
        );
    }
    cycles.sort();
    errors.extend(cycles.into_iter().map(|cycle| DagError::Cycle {
        file: file.to_owned(),
        cycle,
    }));
}

/// One field of a node's timeouts, and where it came from: the node's own
/// (in dag.yaml or an override), else its stack's, else `defaults`, else
/// environment.yaml's.
fn timeout<'a>(
    r: &Raw<'a>,
    stack: Option<&Raw<'a>>,
    spec: &DagSpec,
    environment: Duration,
    field: impl Fn(&TimeoutsSpec) -> Option<Duration>,
    origin: impl Fn(TimeoutOrigins<'a>) -> Option<&'a str>,
) -> (Duration, DeadlineSource) {
    let set_on = |raw: &Raw<'a>, in_file: fn(String) -> DeadlineSource| {
        let after = field(&raw.timeouts)?;
        let node = raw.name.to_owned();
        let source = match origin(raw.timeout_origins) {
            Some(origin) => DeadlineSource::Override {
                origin: origin.to_owned(),
                node,
            },
            None => in_file(node),
        };
        Some((after, source))
    };
    set_on(r, DeadlineSource::DagNode)
        .or_else(|| stack.and_then(|s| set_on(s, DeadlineSource::DagStack)))
        .or_else(|| {
            field(&spec.defaults.timeouts).map(|after| (after, DeadlineSource::DagDefaults))
        })
        .unwrap_or((environment, DeadlineSource::Environment))
}

/// The node as it will run: timeouts from the node, else its stack, else
/// `defaults`, else the environment; cluster from the node or its stack;
/// the Application's namespace from the node, else the environment (a
/// stack's `namespace` is its app-of-apps', so members do not inherit it);
/// simulation merged with `defaults.simulation`.
fn resolve(r: &Raw, raws: &[Raw], spec: &DagSpec, ctx: &BuildContext) -> Node {
    let stack = r.stack.map(|s| &raws[s]);
    let (sync_timeout, sync_source) =
        timeout(r, stack, spec, ctx.default_sync, |t| t.sync, |o| o.sync);
    let (health_timeout, health_source) = timeout(
        r,
        stack,
        spec,
        ctx.default_health,
        |t| t.health,
        |o| o.health,
    );
    let kind = match r.kind {
        RawKind::Stack(app) => NodeKind::Stack {
            app: app.map(str::to_owned),
        },
        RawKind::App => NodeKind::App,
        RawKind::Resource(res) => NodeKind::Resource(ResourceSpec {
            api_version: res.api_version.clone(),
            kind: res.kind.clone(),
            name: res
                .resource_name
                .clone()
                .unwrap_or_else(|| res.name.clone()),
            namespace: res.namespace.clone(),
            condition: match res.condition.as_deref() {
                Some("Exists") => None,
                Some(c) => Some(c.to_owned()),
                None => default_condition(&res.kind).map(str::to_owned),
            },
        }),
    };
    // A pure grouping stack has nothing to simulate, nor a namespace.
    let simulated = !matches!(kind, NodeKind::Stack { app: None });
    let app_namespace = match kind {
        NodeKind::Resource(_) | NodeKind::Stack { app: None } => None,
        NodeKind::App | NodeKind::Stack { app: Some(_) } => {
            r.namespace.or(ctx.default_app_namespace).map(str::to_owned)
        }
    };
    let simulation = match (r.simulation, spec.defaults.simulation) {
        _ if !simulated => None,
        (Some(own), Some(defaults)) => Some(own.or(defaults)),
        (own, defaults) => own.or(defaults),
    };
    Node {
        id: NodeId(0),
        name: r.name.to_owned(),
        kind,
        stack: None,
        stack_name: stack.map(|s| s.name.to_owned()),
        sync_timeout,
        sync_source,
        health_timeout,
        health_source,
        cluster: r
            .cluster
            .or(stack.and_then(|s| s.cluster))
            .map(str::to_owned),
        app_namespace,
        simulation,
    }
}
