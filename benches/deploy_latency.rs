//! Benchmark: how fast a deploy notices readiness, and how many requests it sends.
//!
//! For each run, the simulator records the instant it marks the app Healthy;
//! the benchmark records the instant the `executor` process exits. The
//! difference is the latency the event-driven wait adds. Run with
//! `cargo bench --bench deploy_latency`; figures go into the README.

use std::process::Stdio;
use std::time::{Duration, Instant};

use executor::sim::{AppScenario, Scenario, Simulator};

const TOKEN: &str = "bench-token";
const RUNS: usize = 25;

fn environment(dir: &std::path::Path) {
    std::fs::create_dir_all(dir.join("config")).unwrap();
    std::fs::create_dir_all(dir.join("secrets")).unwrap();
    std::fs::write(
        dir.join("config/environment.yaml"),
        "name: bench\ndomain: bench.example.com\ngitRepository: https://git.example.com/p.git\ngitRevision: main\n",
    )
    .unwrap();
    std::fs::write(dir.join("secrets/argocd-token"), TOKEN).unwrap();
}

/// One deploy; returns (healthy → exit latency, request count).
async fn one(health_delay: Duration) -> (Duration, usize) {
    let dir = tempfile::tempdir().unwrap();
    environment(dir.path());
    let app = AppScenario {
        sync_duration: Duration::from_millis(100),
        health_delay,
        ..Scenario::with_apps(TOKEN, &["app"]).apps.remove(0)
    };
    let sim = Simulator::start(Scenario {
        apps: vec![app],
        ..Scenario::with_apps(TOKEN, &[])
    })
    .await
    .unwrap();
    let status = tokio::process::Command::new(env!("CARGO_BIN_EXE_executor"))
        .args([
            "deploy",
            "--environment",
            "bench",
            "--scope",
            "app:app",
            "--log-format",
            "json",
            "--log-level",
            "warn",
        ])
        .arg("--config-dir")
        .arg(dir.path().join("config"))
        .arg("--secrets-dir")
        .arg(dir.path().join("secrets"))
        .arg("--output-dir")
        .arg(dir.path().join("out"))
        .arg("--argocd-server")
        .arg(sim.url())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .unwrap();
    let exited = Instant::now();
    assert_eq!(status.code(), Some(0), "deploy succeeded");
    let healthy = sim
        .healthy_at("app")
        .expect("the simulator marked the app Healthy");
    (exited.duration_since(healthy), sim.requests().len())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for the list of benchmarks.
    }
    println!(
        "deploy latency: simulator marks Healthy -> executor process exits ({RUNS} runs each)"
    );
    println!(
        "{:>14} {:>10} {:>10} {:>10} {:>10}",
        "health delay", "median", "p90", "max", "requests"
    );
    for health_delay in [Duration::from_millis(200), Duration::from_secs(2)] {
        let mut latencies = Vec::new();
        let mut requests = Vec::new();
        for _ in 0..RUNS {
            let (latency, count) = one(health_delay).await;
            latencies.push(latency);
            requests.push(count);
        }
        latencies.sort();
        requests.sort();
        requests.dedup();
        println!(
            "{:>14?} {:>10.1?} {:>10.1?} {:>10.1?} {:>10?}",
            health_delay,
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.9),
            latencies[latencies.len() - 1],
            requests
        );
    }
}
