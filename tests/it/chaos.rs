//! Chaos runs: seeded random platforms of 20 apps, random outcomes and random
//! faults on about 10 % of the requests (at most 3 in a row for one request,
//! so a correct executor retrying within its deadline always gets through),
//! each run's report compared with the ground truth its scenario implies.
//!
//! `CHAOS_RUNS` sets the number of runs (8 here; `.ci/run` runs 200),
//! `CHAOS_SEED` replays a run: every failure names its seed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use executor::dag::XorShift;
use executor::exit::ExitCode;
use executor::sim::{AppScenario, Chaos, ChaosFault, InitialState, Scenario, SimOutcome};
use futures_util::StreamExt;

use crate::common::{TestContext, TOKEN};

const STACKS: usize = 4;
const APPS_PER_STACK: usize = 5;
/// Each app's sync and health timeouts: far beyond its simulated timeline,
/// so an app whose outcome is Healthy is always ready before its deadline.
const TIMEOUT: &str = "20s";
/// A run that takes longer hangs: no app takes more than half a second, the
/// longest chain is 20 apps, and retries pause 20 to 160 ms.
const HANG: Duration = Duration::from_secs(45);
/// Runs at once: the simulator and the test share the two cores with the executors.
const PARALLEL: usize = 3;

/// The generator the benchmarks' random DAGs use: the seed fixes the whole run.
struct Rng(XorShift);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0.below(n as usize) as u64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn millis(&mut self, from: u64, to: u64) -> Duration {
        Duration::from_millis(from + self.below(to - from))
    }
}

/// One chaos run: the platform, the simulator's scenario, and what the report must say.
struct Plan {
    seed: u64,
    dag: String,
    scenario: Scenario,
    /// Each app's status, by the contract: skipped when a dependency did not
    /// succeed, else unchanged when it was already deployed, succeeded when
    /// its outcome is Healthy, failed otherwise.
    expected: BTreeMap<String, &'static str>,
}

fn app_name(stack: usize, app: usize) -> String {
    format!("s{stack}-app{app}")
}

fn plan(seed: u64) -> Plan {
    let mut rng = Rng(XorShift::new(seed));
    let mut dag = String::from("stacks:\n");
    let mut apps = Vec::new();
    let mut expected: BTreeMap<String, &'static str> = BTreeMap::new();
    let mut stack_ok = Vec::new();
    for stack in 0..STACKS {
        let stack_deps: Vec<usize> = (0..stack).filter(|_| rng.chance(40)).collect();
        let _ = writeln!(dag, "  - name: s{stack}");
        if !stack_deps.is_empty() {
            let names: Vec<String> = stack_deps.iter().map(|d| format!("s{d}")).collect();
            let _ = writeln!(dag, "    dependsOn: [{}]", names.join(", "));
        }
        dag.push_str("    apps:\n");
        let upstream_ok = stack_deps.iter().all(|&d| stack_ok[d]);
        let mut all_ok = true;
        for app in 0..APPS_PER_STACK {
            let name = app_name(stack, app);
            let deps: Vec<usize> = (0..app).filter(|_| rng.chance(30)).collect();
            let _ = writeln!(dag, "      - name: {name}");
            if !deps.is_empty() {
                let names: Vec<String> = deps.iter().map(|&d| app_name(stack, d)).collect();
                let _ = writeln!(dag, "        dependsOn: [{}]", names.join(", "));
            }
            // An app already deployed stays Healthy; a new one fails one time in 25.
            let deployed = rng.chance(20);
            let outcome = match rng.below(100) {
                _ if deployed => SimOutcome::Healthy,
                0 => SimOutcome::Degraded,
                1 => SimOutcome::OperationFailed,
                2 => SimOutcome::Unknown,
                3 => SimOutcome::Degraded,
                _ => SimOutcome::Healthy,
            };
            let status =
                if !upstream_ok || deps.iter().any(|&d| !is_ok(expected[&app_name(stack, d)])) {
                    "skipped"
                } else if deployed {
                    "unchanged"
                } else if outcome == SimOutcome::Healthy {
                    "succeeded"
                } else {
                    "failed"
                };
            all_ok &= is_ok(status);
            expected.insert(name.clone(), status);
            apps.push(AppScenario {
                initial: if deployed {
                    InitialState::Healthy
                } else {
                    InitialState::OutOfSync
                },
                outcome,
                sync_duration: rng.millis(20, 250),
                health_delay: rng.millis(10, 200),
                ..AppScenario::named(&name)
            });
        }
        stack_ok.push(all_ok);
    }
    let mut scenario = Scenario::with_apps(TOKEN, &[]);
    scenario.apps = apps;
    scenario.faults.chaos = Some(Chaos {
        seed,
        percent: 10,
        max_burst: 3,
    });
    Plan {
        seed,
        dag,
        scenario,
        expected,
    }
}

/// Succeeded, or already as it should be.
fn is_ok(status: &str) -> bool {
    matches!(status, "succeeded" | "unchanged")
}

/// The exit code the contract gives a deploy with these statuses.
fn expected_code(expected: &BTreeMap<String, &'static str>) -> ExitCode {
    let succeeded = expected.values().filter(|&&s| is_ok(s)).count();
    if succeeded == expected.len() {
        ExitCode::SUCCESS
    } else if succeeded > 0 {
        ExitCode::PARTIAL
    } else {
        ExitCode::FAILURE
    }
}

/// What one run showed.
#[derive(Default)]
struct Tally {
    faults: BTreeMap<String, usize>,
    statuses: BTreeMap<&'static str, usize>,
    longest: Duration,
}

/// Runs one plan; returns what it saw, or why it broke the contract.
async fn run(plan: Plan) -> Result<Tally, String> {
    let seed = plan.seed;
    let ctx = TestContext::new(plan.scenario).await;
    ctx.write_environment(&format!(
        "timeouts:\n  sync: {TIMEOUT}\n  health: {TIMEOUT}\n"
    ));
    ctx.write_dag(&plan.dag);
    let started = Instant::now();
    let child = ctx
        .command("deploy", &["--scope", "platform"])
        .spawn()
        .expect("executor starts");
    let Ok(output) = tokio::time::timeout(HANG, child.wait_with_output()).await else {
        return Err(format!("seed {seed}: hung (no exit within {HANG:?})"));
    };
    let took = started.elapsed();
    let output = output.expect("executor output");
    // A missing report.json or status panics in `result`: name the seed first.
    if !ctx.output_dir.join("report.json").is_file() || !ctx.output_dir.join("status").is_file() {
        return Err(format!("seed {seed}: report.json or status missing"));
    }
    let result = ctx.result(output);
    let mut wrong = Vec::new();
    let components = result.report["components"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut tally = Tally {
        longest: took,
        ..Tally::default()
    };
    for (name, &want) in &plan.expected {
        let got = components
            .iter()
            .find(|c| c["name"] == name.as_str())
            .and_then(|c| c["status"].as_str())
            .unwrap_or("absent");
        *tally.statuses.entry(want).or_default() += 1;
        if got != want {
            let kind = match (want, got) {
                (_, got) if is_ok(got) => "FALSE SUCCESS",
                (want, _) if is_ok(want) => "FALSE FAILURE",
                _ => "wrong status",
            };
            let message = components
                .iter()
                .find(|c| c["name"] == name.as_str())
                .map(|c| c["message"].to_string())
                .unwrap_or_default();
            wrong.push(format!(
                "{kind}: {name} is {got}, expected {want} ({message})"
            ));
        }
    }
    let want_code = expected_code(&plan.expected);
    if result.code != want_code {
        wrong.push(format!("exit {:?}, expected {want_code:?}", result.code));
    }
    if result.status.trim() != want_code.status_word() {
        wrong.push(format!(
            "status {:?}, expected {}",
            result.status.trim(),
            want_code.status_word()
        ));
    }
    for fault in ctx.sim.chaos_faults() {
        *tally.faults.entry(format!("{fault:?}")).or_default() += 1;
    }
    if wrong.is_empty() {
        Ok(tally)
    } else {
        Err(format!(
            "seed {seed} (CHAOS_SEED={seed} CHAOS_RUNS=1 replays it): {}\nfaults: {:?}\nstderr:\n{}",
            wrong.join("; "),
            tally.faults,
            result.stderr
        ))
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
        })
        .unwrap_or(default)
}

/// Every run's statuses and exit code match the ground truth: no false
/// success, no false failure, no hang, no missing report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_runs_match_the_ground_truth() {
    let runs = env_number("CHAOS_RUNS", 8);
    let first = env_number(
        "CHAOS_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(1),
    );
    eprintln!("chaos: {runs} runs from seed {first}");
    let results: Vec<Result<Tally, String>> = futures_util::stream::iter(0..runs)
        .map(|i| run(plan(first.wrapping_add(i))))
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    let mut total = Tally::default();
    let mut broken = Vec::new();
    for result in results {
        match result {
            Ok(tally) => {
                for (kind, n) in tally.faults {
                    *total.faults.entry(kind).or_default() += n;
                }
                for (status, n) in tally.statuses {
                    *total.statuses.entry(status).or_default() += n;
                }
                total.longest = total.longest.max(tally.longest);
            }
            Err(why) => broken.push(why),
        }
    }
    let injected: usize = total.faults.values().sum();
    eprintln!(
        "chaos: {} of {runs} runs matched the ground truth; apps {:?}; {injected} faults injected {:?}; longest run {:.1} s",
        runs as usize - broken.len(),
        total.statuses,
        total.faults,
        total.longest.as_secs_f64()
    );
    assert!(
        broken.is_empty(),
        "{} runs broke the contract:\n{}",
        broken.len(),
        broken.join("\n\n")
    );
    for kind in [
        ChaosFault::Unavailable,
        ChaosFault::RateLimited,
        ChaosFault::Reset,
        ChaosFault::LostResponse,
    ] {
        assert!(
            runs < 4 || total.faults.contains_key(&format!("{kind:?}")),
            "{kind:?} was injected at least once in {runs} runs: {:?}",
            total.faults
        );
    }
}
