//! The scheduler: runs every node of a dependency graph as soon as all of its
//! dependencies are ready, with at most `parallelism` nodes in flight. A node
//! that fails marks its transitive dependents skipped; independent branches go
//! on. `Mode::Waves` adds the RFC's strict barrier between waves.
//!
//! It knows nothing about Argo CD: the caller runs a node and says whether it
//! is ready. Correctness never depends on parallelism.

use std::collections::BinaryHeap;
use std::future::Future;
use std::sync::Mutex;

use futures_util::stream::{FuturesUnordered, StreamExt};

/// How nodes are released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// A node starts as soon as its own dependencies are ready.
    #[default]
    Eager,
    /// A wave starts only when the whole previous wave has finished.
    Waves,
}

/// A dependency graph by index: `dependencies[i]` must be ready before `i` starts.
#[derive(Debug, Clone)]
pub struct Graph {
    dependencies: Vec<Vec<usize>>,
    dependents: Vec<Vec<usize>>,
}

impl Graph {
    /// Builds the graph from each node's dependencies. The graph must be acyclic
    /// (the DAG is validated before anything runs).
    pub fn new(dependencies: Vec<Vec<usize>>) -> Self {
        let mut dependents = vec![Vec::new(); dependencies.len()];
        for (node, deps) in dependencies.iter().enumerate() {
            for &d in deps {
                dependents[d].push(node);
            }
        }
        Self {
            dependencies,
            dependents,
        }
    }

    /// The same nodes with every edge reversed (teardown order).
    pub fn reversed(&self) -> Self {
        Self {
            dependencies: self.dependents.clone(),
            dependents: self.dependencies.clone(),
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.dependencies.len()
    }

    /// True when there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.dependencies.is_empty()
    }

    /// The wave of each node: 0 for nodes without dependencies, else one more
    /// than the latest wave among its dependencies.
    pub fn waves(&self) -> Vec<usize> {
        let mut wave = vec![0; self.len()];
        for node in self.topological_order() {
            wave[node] = self.dependencies[node]
                .iter()
                .map(|&d| wave[d] + 1)
                .max()
                .unwrap_or(0);
        }
        wave
    }

    /// Nodes in an order where every dependency comes before its dependents.
    pub fn topological_order(&self) -> Vec<usize> {
        let mut remaining: Vec<usize> = self.dependencies.iter().map(Vec::len).collect();
        let mut order: Vec<usize> = (0..self.len()).filter(|&n| remaining[n] == 0).collect();
        let mut next = 0;
        while next < order.len() {
            let node = order[next];
            next += 1;
            for &dependent in &self.dependents[node] {
                remaining[dependent] -= 1;
                if remaining[dependent] == 0 {
                    order.push(dependent);
                }
            }
        }
        order
    }

    /// For each node, the largest summed `weight` of any chain starting at it
    /// (itself included): the list-scheduling priority that keeps the critical
    /// path moving first.
    pub fn remaining_path(&self, weight: &[f64]) -> Vec<f64> {
        let mut rest = vec![0.0; self.len()];
        for node in self.topological_order().into_iter().rev() {
            let after = self.dependents[node]
                .iter()
                .map(|&d| rest[d])
                .fold(0.0, f64::max);
            rest[node] = weight[node] + after;
        }
        rest
    }
}

/// What became of one node.
#[derive(Debug, Clone, PartialEq)]
pub enum Slot<R> {
    /// Not started (yet, or ever, when the run was cancelled).
    NotStarted,
    /// Started and not finished.
    Running,
    /// Finished with this result.
    Done(R),
    /// Not attempted: this node, a direct or indirect dependency, did not become ready.
    Skipped {
        /// The dependency that did not become ready first.
        failed_dependency: usize,
    },
}

/// Progress of a run, for logs and the terminal view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The node was started.
    Started(usize),
    /// The node finished; `ready` says whether its dependents may go on.
    Finished {
        /// The node.
        node: usize,
        /// It became ready.
        ready: bool,
    },
    /// The node will not run because `failed_dependency` did not become ready.
    Skipped {
        /// The node.
        node: usize,
        /// The reason.
        failed_dependency: usize,
    },
}

/// Scheduler settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Most nodes in flight at once (at least 1).
    pub parallelism: usize,
    /// Eager or waves.
    pub mode: Mode,
    /// Expected duration of each node, in any unit; sets priorities only.
    pub weight: Vec<f64>,
}

/// A node waiting for a free slot; the heap pops the longest remaining path
/// first, and the lowest index among equals so runs are deterministic.
struct Ready {
    priority: f64,
    node: std::cmp::Reverse<usize>,
}

impl PartialEq for Ready {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Ready {}

impl PartialOrd for Ready {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ready {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.priority
            .total_cmp(&other.priority)
            .then(self.node.cmp(&other.node))
    }
}

/// Runs every node. `run(node)` does the work and returns its result;
/// `is_ready(&result)` says whether dependents may start. Results land in
/// `slots` as they happen, so a caller that is cancelled can still report
/// every node; `on_event` sees starts, finishes and skips in order.
pub async fn run<R, F, Fut>(
    graph: &Graph,
    options: &Options,
    slots: &Mutex<Vec<Slot<R>>>,
    run: F,
    is_ready: impl Fn(&R) -> bool,
    mut on_event: impl FnMut(Event),
) where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = R>,
{
    let n = graph.len();
    *slots.lock().unwrap() = (0..n).map(|_| Slot::NotStarted).collect();
    let weight = if options.weight.len() == n {
        options.weight.clone()
    } else {
        vec![1.0; n]
    };
    let priority = graph.remaining_path(&weight);
    let wave = graph.waves();
    let mut waiting_on: Vec<usize> = graph.dependencies.iter().map(Vec::len).collect();
    let mut current_wave = 0;
    let mut unfinished_in_wave = vec![0usize; wave.iter().max().map_or(0, |w| w + 1)];
    for &w in &wave {
        unfinished_in_wave[w] += 1;
    }
    let mut held: Vec<usize> = Vec::new();
    let mut ready: BinaryHeap<Ready> = BinaryHeap::new();
    let push = |ready: &mut BinaryHeap<Ready>, node: usize| {
        ready.push(Ready {
            priority: priority[node],
            node: std::cmp::Reverse(node),
        })
    };
    for node in (0..n).filter(|&node| waiting_on[node] == 0) {
        if options.mode == Mode::Waves && wave[node] != 0 {
            held.push(node);
        } else {
            push(&mut ready, node);
        }
    }
    let mut running = FuturesUnordered::new();
    let parallelism = options.parallelism.max(1);
    loop {
        while running.len() < parallelism {
            let Some(Ready {
                node: std::cmp::Reverse(node),
                ..
            }) = ready.pop()
            else {
                break;
            };
            slots.lock().unwrap()[node] = Slot::Running;
            on_event(Event::Started(node));
            let fut = run(node);
            running.push(async move { (node, fut.await) });
        }
        let Some((node, result)) = running.next().await else {
            break;
        };
        let ok = is_ready(&result);
        slots.lock().unwrap()[node] = Slot::Done(result);
        on_event(Event::Finished { node, ready: ok });
        let mut finished = vec![node];
        if ok {
            for &dependent in &graph.dependents[node] {
                waiting_on[dependent] -= 1;
                if waiting_on[dependent] == 0 {
                    held.push(dependent);
                }
            }
        } else {
            finished.extend(skip_dependents(graph, node, slots, &mut on_event));
        }
        for f in finished {
            unfinished_in_wave[wave[f]] -= 1;
        }
        // Release what may start: everything in eager mode; in waves mode only
        // the current wave, and the next one once the current one is finished.
        if options.mode == Mode::Waves {
            while current_wave < unfinished_in_wave.len() && unfinished_in_wave[current_wave] == 0 {
                current_wave += 1;
            }
        }
        let mut still_held = Vec::new();
        for node in held.drain(..) {
            if options.mode == Mode::Eager || wave[node] <= current_wave {
                push(&mut ready, node);
            } else {
                still_held.push(node);
            }
        }
        held = still_held;
    }
}

/// Marks every not-yet-started transitive dependent of `failed` as skipped and
/// returns them.
fn skip_dependents<R>(
    graph: &Graph,
    failed: usize,
    slots: &Mutex<Vec<Slot<R>>>,
    on_event: &mut impl FnMut(Event),
) -> Vec<usize> {
    let mut skipped = Vec::new();
    let mut stack = vec![failed];
    let mut slots = slots.lock().unwrap();
    while let Some(node) = stack.pop() {
        for &dependent in &graph.dependents[node] {
            if matches!(slots[dependent], Slot::NotStarted) {
                slots[dependent] = Slot::Skipped {
                    failed_dependency: failed,
                };
                on_event(Event::Skipped {
                    node: dependent,
                    failed_dependency: failed,
                });
                skipped.push(dependent);
                stack.push(dependent);
            }
        }
    }
    skipped
}

#[cfg(test)]
mod tests;
