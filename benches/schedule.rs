//! Benchmark: the scheduler's makespan on random 100- and 1,000-node DAGs with
//! simulated durations (each node takes its `simulation.readyAfter`), run on
//! virtual time, against the critical path and against the wave barrier.
//!
//! `cargo bench --bench schedule`. The critical path is a lower bound of any
//! schedule; so is the total work divided by the parallelism. A DAG wider than
//! the parallelism is bound by the second, which no scheduler can beat.

use std::sync::Mutex;
use std::time::Duration;

use executor::dag::schedule::{self, Graph, Mode, Options};
use executor::dag::{random_dag, random_dag_with, BuildContext, Dag, Overrides, RandomShape};

const NODES: usize = 1000;
const SEED: u64 = 42;

/// Makespan, in simulated seconds, of one scheduler run.
fn makespan(graph: &Graph, durations: &[f64], parallelism: usize, mode: Mode) -> f64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let start = tokio::time::Instant::now();
        let slots = Mutex::new(Vec::new());
        let options = Options {
            parallelism,
            mode,
            weight: durations.to_vec(),
        };
        schedule::run(
            graph,
            &options,
            &slots,
            |node| tokio::time::sleep(Duration::from_secs_f64(durations[node])),
            |_| true,
            |_| {},
        )
        .await;
        start.elapsed().as_secs_f64()
    })
}

fn report(label: &str, dag: &Dag) {
    let durations: Vec<f64> = dag
        .nodes()
        .iter()
        .map(|n| {
            n.simulation
                .as_ref()
                .and_then(|s| s.ready_after)
                .unwrap_or_default()
                .as_secs_f64()
        })
        .collect();
    let graph = Graph::new(dag.dependency_indices());
    let critical = graph
        .remaining_path(&durations)
        .into_iter()
        .fold(0.0, f64::max);
    let work: f64 = durations.iter().sum();
    println!(
        "\n{label}: {} nodes, critical path {critical:.1} s, total work {work:.1} s",
        dag.len()
    );
    println!(
        "{:>12} {:>8} {:>12} {:>14} {:>12}",
        "parallelism", "mode", "makespan s", "lower bound s", "vs bound"
    );
    for parallelism in [8, 32, dag.len()] {
        let bound = critical.max(work / parallelism as f64);
        for mode in [Mode::Eager, Mode::Waves] {
            let m = makespan(&graph, &durations, parallelism, mode);
            let name = if mode == Mode::Eager {
                "eager"
            } else {
                "waves"
            };
            println!(
                "{parallelism:>12} {name:>8} {m:>12.1} {bound:>14.1} {:>+11.1}%",
                (m / bound - 1.0) * 100.0
            );
        }
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for the list of benchmarks.
    }
    let ctx = BuildContext {
        cluster_name: None,
        default_sync: Duration::from_secs(300),
        default_health: Duration::from_secs(600),
        default_app_namespace: None,
    };
    let build =
        |spec| Dag::build(&spec, &Overrides::default(), &ctx).expect("random DAGs are valid");
    report("default random shape", &build(random_dag(100, SEED)));
    report("default random shape", &build(random_dag(NODES, SEED)));
    let deep = RandomShape {
        nearby: 0.9,
        window: 2,
        ..RandomShape::default()
    };
    report(
        "deep shape (nearby 0.9, window 2)",
        &build(random_dag_with(NODES, SEED, &deep)),
    );
}
