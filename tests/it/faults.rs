//! The fault matrix against the simulator: each fault a deploy of one app can
//! meet, the contract's exit code and reason for it, no run past its deadline
//! by more than 5 s, and no success reported for an app that is not Synced
//! and Healthy. The faults the real stack can produce run again in
//! tests/e2e/faults.rs.

use std::time::{Duration, Instant};

use executor::exit::ExitCode;
use executor::sim::{Scenario, SimOutcome, Simulator};

use crate::common::{b64, TestContext, REFUSED_KUBECONFIG, TOKEN};

const APP: &str = "temporal";
const SCOPE: [&str; 2] = ["--scope", "app:temporal"];
/// The contract's bound on a deadline overrun.
const OVERRUN: Duration = Duration::from_secs(5);

/// One fault and what the contract says of a run that meets it.
struct Row {
    fault: &'static str,
    change: fn(&mut Scenario),
    /// environment.yaml's timeouts: every row's deadline is their sum.
    sync: u64,
    health: u64,
    /// Someone else's act once the sync was requested.
    during: Option<fn(&Simulator)>,
    code: ExitCode,
    reason: Option<&'static str>,
    /// The run must take at least this long (a `Retry-After` honoured).
    at_least: Duration,
    /// A kubeconfig for the executor, as KUBECONFIG_DATA.
    kubeconfig: Option<&'static str>,
}

impl Row {
    fn new(fault: &'static str, change: fn(&mut Scenario), code: ExitCode) -> Row {
        Row {
            fault,
            change,
            sync: 10,
            health: 10,
            during: None,
            code,
            reason: None,
            at_least: Duration::ZERO,
            kubeconfig: None,
        }
    }

    fn reason(self, reason: &'static str) -> Row {
        Row {
            reason: Some(reason),
            ..self
        }
    }
}

fn rows() -> Vec<Row> {
    use ExitCode as E;
    vec![
        Row::new(
            "a burst of 503s",
            |s| s.faults.unavailable_first = 4,
            E::SUCCESS,
        ),
        Row {
            at_least: Duration::from_secs(2),
            ..Row::new(
                "429 with Retry-After",
                |s| {
                    s.faults.rate_limited_first = 2;
                    s.faults.retry_after_secs = 1;
                },
                E::SUCCESS,
            )
        },
        Row::new(
            "a connection reset mid-request (the sync's answer lost)",
            |s| s.faults.lose_answer_to = Some("/sync".to_owned()),
            E::SUCCESS,
        ),
        Row::new(
            "the sync's answer lost, the app then Degraded",
            |s| {
                s.faults.lose_answer_to = Some("/sync".to_owned());
                s.apps[0].outcome = SimOutcome::Degraded;
            },
            E::FAILURE,
        )
        .reason("Degraded"),
        Row::new(
            "the watch dropped repeatedly",
            |s| {
                s.faults.drop_stream_after = Some(1);
                s.faults.drop_stream_times = 6;
                s.faults.drop_stream_abort = true;
            },
            E::SUCCESS,
        ),
        Row {
            at_least: Duration::from_secs(10),
            ..Row::new(
                "a half-open connection in preflight (retried after 10 s)",
                |s| s.faults.stall_answer_to = Some("/session/userinfo".to_owned()),
                E::SUCCESS,
            )
        },
        Row {
            sync: 3,
            health: 3,
            ..Row::new(
                "a half-open connection on the sync (its deadline ends it)",
                |s| s.faults.stall_answer_to = Some("/sync".to_owned()),
                E::TIMEOUT,
            )
        },
        Row {
            sync: 20,
            health: 20,
            ..Row::new(
                "every response slowed by 2 s",
                |s| s.faults.response_delay = Duration::from_secs(2),
                E::SUCCESS,
            )
        },
        Row::new(
            "the token revoked mid-run",
            |s| s.faults.token_revoked_after = Some(3),
            E::FAILURE,
        )
        .reason("Unauthenticated"),
        Row {
            during: Some(|sim| sim.delete_now(APP)),
            ..Row::new(
                "the Application deleted mid-deploy",
                |s| s.apps[0].sync_duration = Duration::from_secs(2),
                E::FAILURE,
            )
            .reason("NotFound")
        },
        Row {
            during: Some(|sim| assert!(sim.terminate_operation(APP), "an operation runs")),
            ..Row::new(
                "the operation terminated by someone else",
                |s| s.apps[0].sync_duration = Duration::from_secs(2),
                E::FAILURE,
            )
            .reason("OperationFailed")
        },
        Row {
            sync: 3,
            health: 3,
            ..Row::new(
                "the controller stopped (refresh GETs block)",
                |s| s.faults.controller_stopped = true,
                E::TIMEOUT,
            )
        },
        Row {
            kubeconfig: Some(REFUSED_KUBECONFIG),
            ..Row::new(
                "the Kubernetes API unavailable during preflight",
                |_| {},
                E::FAILURE,
            )
            .reason("Unavailable")
        },
        Row {
            sync: 3,
            health: 3,
            ..Row::new(
                "an operation stuck Running",
                |s| s.apps[0].sync_duration = Duration::from_secs(3600),
                E::TIMEOUT,
            )
        },
    ]
}

/// Every row: its exit code and reason, the report and status written, no
/// run past `sync + health` by more than 5 s, and a success only for an app
/// the simulator shows Synced and Healthy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_ends_as_the_contract_says() {
    let mut broken = Vec::new();
    let rows = rows();
    for row in &rows {
        let mut scenario = Scenario::with_apps(TOKEN, &[APP]);
        (row.change)(&mut scenario);
        let ctx = TestContext::new(scenario).await;
        ctx.write_environment(&format!(
            "timeouts:\n  sync: {}s\n  health: {}s\n",
            row.sync, row.health
        ));
        let started = Instant::now();
        let mut command = ctx.command("deploy", &SCOPE);
        if let Some(kubeconfig) = row.kubeconfig {
            command.env("KUBECONFIG_DATA", b64(kubeconfig));
        }
        let child = command.spawn().expect("executor starts");
        if let Some(during) = row.during {
            while ctx.syncs(APP) == 0 && started.elapsed() < Duration::from_secs(10) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            during(&ctx.sim);
        }
        let deadline = Duration::from_secs(row.sync + row.health);
        let output = tokio::time::timeout(
            deadline + OVERRUN + Duration::from_secs(5),
            child.wait_with_output(),
        )
        .await
        .unwrap_or_else(|_| panic!("{}: hung past its deadline", row.fault))
        .expect("executor output");
        let took = started.elapsed();
        let result = ctx.result(output);
        let component = result.component();
        let reason = result.report["failures"][0]["reason"].as_str();
        let mut wrong = Vec::new();
        if result.code != row.code {
            wrong.push(format!("exit {:?}, expected {:?}", result.code, row.code));
        }
        if row.reason.is_some() && reason != row.reason {
            wrong.push(format!("reason {reason:?}, expected {:?}", row.reason));
        }
        if result.status.trim() != result.code.status_word() {
            wrong.push(format!(
                "status {:?} for exit {:?}",
                result.status, result.code
            ));
        }
        if took > deadline + OVERRUN {
            wrong.push(format!(
                "took {took:?}, past its deadline {deadline:?} by more than {OVERRUN:?}"
            ));
        }
        if took < row.at_least {
            wrong.push(format!("took {took:?}, less than {:?}", row.at_least));
        }
        if component["status"] == "succeeded" {
            let app = ctx.sim.app(APP);
            let ready = app.as_ref().is_some_and(|a| {
                a.status.sync.status == "Synced" && a.status.health.status == "Healthy"
            });
            if !ready {
                wrong.push(
                    "FALSE SUCCESS: reported succeeded, the app is not Synced and Healthy"
                        .to_owned(),
                );
            }
        }
        eprintln!(
            "fault matrix: {:<58} exit {:<8} {:<16} {:>5.1} s of {:>2} s  {}",
            row.fault,
            result.code.status_word(),
            reason.unwrap_or("-"),
            took.as_secs_f64(),
            deadline.as_secs(),
            if wrong.is_empty() { "ok" } else { "BROKEN" }
        );
        if !wrong.is_empty() {
            broken.push(format!(
                "{}: {}\nmessage: {}\nstderr:\n{}",
                row.fault,
                wrong.join("; "),
                component["message"],
                result.stderr
            ));
        }
    }
    eprintln!(
        "fault matrix: {} of {} faults as the contract says",
        rows.len() - broken.len(),
        rows.len()
    );
    assert!(broken.is_empty(), "{}", broken.join("\n\n"));
}
