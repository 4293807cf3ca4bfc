//! The plan of a validated DAG, without a cluster: its waves, the critical
//! path (the chain with the largest summed sync and health deadlines), and
//! the longest chain (the most nodes), as text or JSON.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use super::graph::{Dag, NodeId, NodeKind};
use crate::vocabulary::duration::human;

/// What `executor dag plan` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The DAG file.
    pub source: String,
    /// Counts.
    pub summary: PlanSummary,
    /// Node names by wave: a node's wave is one more than its latest dependency's.
    /// Under `--schedule waves`, a wave starts when the previous one has finished.
    pub waves: Vec<Vec<String>>,
    /// The chain with the largest summed deadlines (sync + health per node), in order.
    pub critical_path: Vec<String>,
    /// Its summed deadlines: the longest a run can take when every node uses its whole budget.
    pub critical_path_seconds: f64,
    /// The chain with the most nodes, in order.
    pub longest_chain: Vec<String>,
    /// Its summed deadlines.
    pub longest_chain_seconds: f64,
    /// Dependencies outside the selection, which the run assumes are ready.
    pub assumed_ready: Vec<String>,
    /// Every node, in topological order.
    pub nodes: Vec<PlannedNode>,
}

/// Counts of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanSummary {
    /// All nodes.
    pub nodes: usize,
    /// Stack nodes.
    pub stacks: usize,
    /// Application nodes.
    pub apps: usize,
    /// Resource nodes.
    pub resources: usize,
    /// Direct dependencies (edges), the implied ones included.
    pub dependencies: usize,
    /// Number of waves.
    pub waves: usize,
}

/// One node of a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedNode {
    /// Node name.
    pub name: String,
    /// `stack`, `app` or `resource`.
    pub kind: &'static str,
    /// Its stack, for apps and resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    /// The Argo CD Application it syncs, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// Its wave, counted from 1 as the text output does.
    pub wave: usize,
    /// Direct dependencies (implied ones included), in order.
    pub depends_on: Vec<String>,
    /// Sync deadline in seconds.
    pub sync_timeout_seconds: f64,
    /// Health deadline in seconds.
    pub health_timeout_seconds: f64,
}

/// Plans a validated DAG.
pub fn plan(dag: &Dag) -> Plan {
    let wave = dag.waves();
    let wave_count = wave.iter().max().map_or(0, |w| w + 1);
    let mut waves = vec![Vec::new(); wave_count];
    // Ids are ordered by (wave, name): each wave comes out sorted.
    for id in dag.ids() {
        waves[wave[id.0]].push(dag.node(id).name.clone());
    }
    let deadline: Vec<f64> = dag
        .nodes()
        .iter()
        .map(|n| n.deadline().as_secs_f64())
        .collect();
    let critical_path = heaviest_chain(dag, |id| deadline[id.0]);
    let longest_chain = heaviest_chain(dag, |_| 1.0);
    let seconds = |chain: &[NodeId]| chain.iter().map(|id| deadline[id.0]).sum::<f64>();
    let names = |chain: &[NodeId]| {
        chain
            .iter()
            .map(|id| dag.node(*id).name.clone())
            .collect::<Vec<_>>()
    };
    let count = |pred: fn(&NodeKind) -> bool| dag.nodes().iter().filter(|n| pred(&n.kind)).count();
    let mut assumed_ready: Vec<String> = dag
        .ids()
        .flat_map(|id| dag.assumed_ready(id).iter().cloned())
        .collect();
    assumed_ready.sort();
    assumed_ready.dedup();
    Plan {
        source: dag.source().display().to_string(),
        summary: PlanSummary {
            nodes: dag.len(),
            stacks: count(|k| matches!(k, NodeKind::Stack { .. })),
            apps: count(|k| matches!(k, NodeKind::App)),
            resources: count(|k| matches!(k, NodeKind::Resource(_))),
            dependencies: dag.ids().map(|id| dag.dependencies(id).len()).sum(),
            waves: wave_count,
        },
        waves,
        critical_path_seconds: seconds(&critical_path),
        critical_path: names(&critical_path),
        longest_chain_seconds: seconds(&longest_chain),
        longest_chain: names(&longest_chain),
        assumed_ready,
        nodes: dag
            .nodes()
            .iter()
            .map(|n| PlannedNode {
                name: n.name.clone(),
                kind: n.kind_name(),
                stack: n.stack_name.clone(),
                application: n.application().map(str::to_owned),
                wave: wave[n.id.0] + 1,
                depends_on: dag
                    .dependencies(n.id)
                    .iter()
                    .map(|d| dag.node(*d).name.clone())
                    .collect(),
                sync_timeout_seconds: n.sync_timeout.as_secs_f64(),
                health_timeout_seconds: n.health_timeout.as_secs_f64(),
            })
            .collect(),
    }
}

/// The chain with the largest summed weight; among equals, the one whose
/// nodes have the smallest ids, so plans are deterministic.
fn heaviest_chain(dag: &Dag, weight: impl Fn(NodeId) -> f64) -> Vec<NodeId> {
    let mut best = vec![0.0f64; dag.len()];
    let mut previous: Vec<Option<NodeId>> = vec![None; dag.len()];
    for id in dag.ids() {
        let mut before = 0.0;
        for &d in dag.dependencies(id) {
            if previous[id.0].is_none() || best[d.0] > before {
                before = best[d.0];
                previous[id.0] = Some(d);
            }
        }
        best[id.0] = before + weight(id);
    }
    let Some(mut at) = dag.ids().fold(None, |top: Option<NodeId>, id| match top {
        Some(t) if best[t.0] >= best[id.0] => Some(t),
        _ => Some(id),
    }) else {
        return Vec::new();
    };
    let mut chain = vec![at];
    while let Some(p) = previous[at.0] {
        chain.push(p);
        at = p;
    }
    chain.reverse();
    chain
}

/// `1 stack`, `2 stacks`.
fn count(n: usize, what: &str) -> String {
    match (n, what) {
        (1, _) => format!("{n} {what}"),
        (_, "dependency") => format!("{n} dependencies"),
        _ => format!("{n} {what}s"),
    }
}

impl PlanSummary {
    /// `49 nodes (7 stacks, 40 apps, 2 resources)`.
    pub fn describe(&self) -> String {
        format!(
            "{} ({}, {}, {})",
            count(self.nodes, "node"),
            count(self.stacks, "stack"),
            count(self.apps, "app"),
            count(self.resources, "resource")
        )
    }
}

/// The plan for people: counts, one line per wave, then the two chains.
pub fn render_text(plan: &Plan) -> String {
    let s = &plan.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {}, {}, {}",
        plan.source,
        s.describe(),
        count(s.dependencies, "dependency"),
        count(s.waves, "wave")
    );
    for (i, wave) in plan.waves.iter().enumerate() {
        let _ = writeln!(out, "  wave {:<3} {}", i + 1, wave.join(", "));
    }
    // A sum past what a Duration holds prints as the longest one, not a panic.
    let secs = |s: f64| human(Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX));
    let _ = writeln!(
        out,
        "critical path ({} nodes, summed timeouts {}): {}",
        plan.critical_path.len(),
        secs(plan.critical_path_seconds),
        plan.critical_path.join(" → ")
    );
    let _ = writeln!(
        out,
        "longest chain ({} nodes, summed timeouts {}): {}",
        plan.longest_chain.len(),
        secs(plan.longest_chain_seconds),
        plan.longest_chain.join(" → ")
    );
    if !plan.assumed_ready.is_empty() {
        let _ = writeln!(
            out,
            "assumed ready (dependencies outside the selection, not checked): {}",
            plan.assumed_ready.join(", ")
        );
    }
    out
}
