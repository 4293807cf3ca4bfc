//! Scheduler tests on virtual time: each node "runs" for a duration and
//! succeeds or fails as the table says.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::*;

/// Runs `graph` where node i takes `secs[i]` seconds and fails when `fails[i]`.
/// Returns slots, (start, end) times in seconds, and the highest concurrency seen.
async fn simulate(
    graph: &Graph,
    secs: &[u64],
    fails: &[usize],
    parallelism: usize,
    mode: Mode,
) -> (Vec<Slot<bool>>, Vec<(f64, f64)>, usize) {
    let start = Instant::now();
    let times = Mutex::new(vec![(f64::NAN, f64::NAN); graph.len()]);
    let in_flight = AtomicUsize::new(0);
    let peak = AtomicUsize::new(0);
    let slots = Mutex::new(Vec::new());
    let options = Options {
        parallelism,
        mode,
        weight: secs.iter().map(|&s| s as f64).collect(),
    };
    run(
        graph,
        &options,
        &slots,
        |node| {
            let times = &times;
            let (in_flight, peak) = (&in_flight, &peak);
            async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                times.lock().unwrap()[node].0 = start.elapsed().as_secs_f64();
                tokio::time::sleep(Duration::from_secs(secs[node])).await;
                times.lock().unwrap()[node].1 = start.elapsed().as_secs_f64();
                in_flight.fetch_sub(1, Ordering::SeqCst);
                !fails.contains(&node)
            }
        },
        |ok| *ok,
        |_| {},
    )
    .await;
    (
        slots.into_inner().unwrap(),
        times.into_inner().unwrap(),
        peak.into_inner(),
    )
}

/// A diamond plus an independent branch: 0 → {1, 2} → 3, and 4 → 5.
fn diamond() -> Graph {
    Graph::new(vec![vec![], vec![0], vec![0], vec![1, 2], vec![], vec![4]])
}

#[tokio::test(start_paused = true)]
async fn every_node_starts_after_all_its_dependencies_are_ready() {
    let graph = diamond();
    let (slots, times, _) = simulate(&graph, &[1, 2, 5, 1, 1, 1], &[], 8, Mode::Eager).await;
    assert!(slots.iter().all(|s| *s == Slot::Done(true)));
    for (node, deps) in graph.dependencies.iter().enumerate() {
        for &d in deps {
            assert!(
                times[node].0 >= times[d].1,
                "{node} started before {d} finished: {times:?}"
            );
        }
    }
    // Eager: 3 starts when 2 (the slower branch) finishes at 6 s, not later.
    assert_eq!(times[3].0, 6.0);
    // The independent branch does not wait for the diamond.
    assert_eq!(times[5].0, 1.0);
}

#[tokio::test(start_paused = true)]
async fn a_failure_skips_exactly_its_transitive_dependents() {
    // 0 → 1 → 2 → 3, 1 → 4, and 5 → 6 independent; 1 fails.
    let graph = Graph::new(vec![
        vec![],
        vec![0],
        vec![1],
        vec![2],
        vec![1],
        vec![],
        vec![5],
    ]);
    let (slots, _, _) = simulate(&graph, &[1; 7], &[1], 8, Mode::Eager).await;
    assert_eq!(slots[0], Slot::Done(true));
    assert_eq!(slots[1], Slot::Done(false));
    for skipped in [2, 3, 4] {
        assert_eq!(
            slots[skipped],
            Slot::Skipped {
                failed_dependency: 1
            },
            "node {skipped} names the failed node"
        );
    }
    assert_eq!(slots[5], Slot::Done(true));
    assert_eq!(slots[6], Slot::Done(true));
}

#[tokio::test(start_paused = true)]
async fn parallelism_bounds_the_nodes_in_flight() {
    let graph = Graph::new(vec![vec![]; 20]);
    for parallelism in [1, 3, 8] {
        let (slots, times, peak) = simulate(&graph, &[1; 20], &[], parallelism, Mode::Eager).await;
        assert_eq!(peak, parallelism);
        assert!(slots.iter().all(|s| *s == Slot::Done(true)));
        let makespan = times.iter().map(|t| t.1).fold(0.0, f64::max);
        assert_eq!(makespan, (20.0 / parallelism as f64).ceil());
    }
}

#[tokio::test(start_paused = true)]
async fn waves_mode_holds_each_wave_until_the_previous_one_finishes() {
    // Wave 0: 0 (1 s) and 4 (5 s). Wave 1: 1 and 5. 1 depends only on 0, yet waits for 4.
    let graph = Graph::new(vec![vec![], vec![0], vec![], vec![], vec![], vec![4]]);
    let (_, eager, _) = simulate(&graph, &[1, 1, 1, 1, 5, 1], &[], 8, Mode::Eager).await;
    let (_, waves, _) = simulate(&graph, &[1, 1, 1, 1, 5, 1], &[], 8, Mode::Waves).await;
    assert_eq!(eager[1].0, 1.0, "eager starts 1 as soon as 0 is ready");
    assert_eq!(
        waves[1].0, 5.0,
        "waves start 1 only after the whole first wave"
    );
}

#[tokio::test(start_paused = true)]
async fn reversed_graph_runs_dependents_first() {
    let graph = diamond().reversed();
    let (_, times, _) = simulate(&graph, &[1; 6], &[], 8, Mode::Eager).await;
    assert!(
        times[0].0 >= times[1].1 && times[0].0 >= times[2].1,
        "0 goes last in reverse: {times:?}"
    );
    assert!(times[4].0 >= times[5].1);
}

#[tokio::test(start_paused = true)]
async fn the_critical_path_goes_first_when_parallelism_is_scarce() {
    // Node 0 heads a 10 s chain; nodes 2..6 are 1 s each. With parallelism 1 the
    // chain head must start first so the chain is not delayed by the short jobs.
    let mut deps = vec![vec![], vec![0]];
    deps.extend(std::iter::repeat_n(vec![], 5));
    let graph = Graph::new(deps);
    let (_, times, _) = simulate(&graph, &[5, 5, 1, 1, 1, 1, 1], &[], 2, Mode::Eager).await;
    assert_eq!(times[0].0, 0.0);
    assert_eq!(times[1].0, 5.0);
}

#[test]
fn waves_are_longest_path_levels() {
    assert_eq!(diamond().waves(), [0, 1, 1, 2, 0, 1]);
}
