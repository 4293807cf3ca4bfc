//! Benchmark: validating and planning a large DAG. The bar is 10,000
//! nodes in under 200 ms. Times `Dag::build` (every check, cycles with
//! petgraph) plus `plan` on a random DAG from `random_dag` (fixed seed),
//! starting from the parsed file; also reports YAML parsing separately.
//!
//! `cargo bench --bench dag_plan` prints the medians. With `--emit <nodes>`
//! it prints the random DAG of that size as dag.yaml instead, for other
//! benchmarks and for trying `executor dag plan` on it.

use std::path::Path;
use std::time::{Duration, Instant};

use executor::dag::{plan, random_dag, BuildContext, Dag, DagSpec, NodeId, Overrides};

const SEED: u64 = 42;
const RUNS: usize = 11;
const BAR: Duration = Duration::from_millis(200);

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Medians of (parse, build + plan) for a random DAG of `nodes` nodes.
fn measure(nodes: usize) -> (Duration, Duration, usize, usize, usize) {
    let spec = random_dag(nodes, SEED);
    let yaml = spec.to_yaml();
    let ctx = BuildContext {
        cluster_name: None,
        default_sync: Duration::from_secs(300),
        default_health: Duration::from_secs(600),
        default_app_namespace: None,
    };
    let overrides = Overrides::default();
    let mut parse = Vec::new();
    let mut build_plan = Vec::new();
    let mut shape = (0, 0, 0);
    for _ in 0..RUNS {
        let start = Instant::now();
        let parsed = DagSpec::parse(&yaml, Path::new("random.yaml")).expect("parses");
        parse.push(start.elapsed());
        std::hint::black_box(&parsed);

        let start = Instant::now();
        let dag = Dag::build(&spec, &overrides, &ctx).expect("random DAGs are valid");
        let p = plan(&dag);
        build_plan.push(start.elapsed());
        shape = (
            p.summary.dependencies,
            p.summary.waves,
            p.critical_path.len(),
        );
        std::hint::black_box(p);
    }
    (median(parse), median(build_plan), shape.0, shape.1, shape.2)
}

/// For the scheduler: the 1,000-node DAG's critical path by simulated
/// `readyAfter` (nodes without one count 0) against its total work.
fn simulated_shape(nodes: usize) -> (f64, f64) {
    let ctx = BuildContext {
        cluster_name: None,
        default_sync: Duration::from_secs(300),
        default_health: Duration::from_secs(600),
        default_app_namespace: None,
    };
    let dag = Dag::build(&random_dag(nodes, SEED), &Overrides::default(), &ctx).unwrap();
    let secs = |id: NodeId| {
        dag.node(id)
            .simulation
            .and_then(|s| s.ready_after)
            .map_or(0.0, |d| d.as_secs_f64())
    };
    let mut finish = vec![0.0f64; dag.len()];
    for id in dag.ids() {
        let start = dag
            .dependencies(id)
            .iter()
            .map(|d| finish[d.index()])
            .fold(0.0, f64::max);
        finish[id.index()] = start + secs(id);
    }
    let critical = finish.iter().copied().fold(0.0, f64::max);
    (critical, dag.ids().map(secs).sum())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--emit") {
        let nodes = args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(1000);
        print!("{}", random_dag(nodes, SEED).to_yaml());
        return;
    }
    println!("dag_plan: validate + plan from the parsed spec, median of {RUNS} runs (seed {SEED})");
    for nodes in [1_000, 10_000] {
        let (parse, build_plan, edges, waves, critical) = measure(nodes);
        println!(
            "  {nodes:>6} nodes, {edges:>6} dependencies, {waves:>3} waves, critical path {critical:>3} nodes: \
             validate+plan {:>7.1} ms   (YAML parse, separately: {:>7.1} ms)",
            build_plan.as_secs_f64() * 1e3,
            parse.as_secs_f64() * 1e3,
        );
        if nodes == 10_000 {
            let verdict = if build_plan < BAR { "within" } else { "OVER" };
            println!("  10,000 nodes: {verdict} the {} ms bar", BAR.as_millis());
        }
    }
    let (critical, work) = simulated_shape(1_000);
    println!(
        "  random_dag(1000, {SEED}) simulated: critical path {critical:.1} s, total work {work:.1} s \
         (work / 8 = {:.1} s)",
        work / 8.0
    );
}
