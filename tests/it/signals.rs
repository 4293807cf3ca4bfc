//! SIGTERM and SIGINT: the run ends within 2 s with a `cancelled` report.

use std::time::Duration;

use executor::exit::ExitCode;
use executor::sim::{AppScenario, Faults, Scenario};

use crate::common::{assert_code, TestContext, TOKEN};

/// SIGTERM during a long sync: exit within 2 s, status cancelled, the report
/// written, and the exit code of what was achieved (nothing: Failure).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_writes_a_cancelled_report_quickly() {
    for signal in ["TERM", "INT"] {
        let ctx = TestContext::new(Scenario {
            apps: vec![AppScenario {
                sync_duration: Duration::from_secs(60),
                ..Scenario::with_apps(TOKEN, &["temporal"]).apps.remove(0)
            }],
            ..Scenario::with_apps(TOKEN, &[])
        })
        .await;
        let (result, took) = ctx
            .signal_after("deploy", &["--scope", "app:temporal"], "/sync", signal)
            .await;
        assert!(
            took < Duration::from_secs(2),
            "SIG{signal} handled in {took:?}"
        );
        assert_code(&result, ExitCode::FAILURE);
        assert_eq!(result.status, "cancelled\n");
        assert_eq!(result.report["status"], "cancelled");
        assert_eq!(result.component()["status"], "cancelled");
        // The operation this run started was terminated, or at least asked to be
        // (again, if the first request came before the controller had started it).
        assert!(
            ctx.count("DELETE", "/temporal/operation") >= 1,
            "SIG{signal}"
        );
        let termination = result.component()["termination"].as_str();
        assert!(
            matches!(termination, Some("terminated" | "terminationRequested")),
            "SIG{signal}: {termination:?}"
        );
    }
}

/// SIGTERM during a platform run: the report lists every node (what finished,
/// what was cancelled in flight, what never started), status cancelled, and
/// the exit code of what was achieved: Partial, since something succeeded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_platform_reports_every_node() {
    let mut scenario = Scenario::with_apps(TOKEN, &["first", "slow", "after"]);
    for app in &mut scenario.apps {
        app.sync_duration = Duration::from_millis(100);
        app.health_delay = Duration::from_millis(100);
    }
    scenario.apps[1].sync_duration = Duration::from_secs(60);
    let ctx = TestContext::new(scenario).await;
    ctx.write_dag(
        "stacks:\n  - name: base\n    apps:\n      - name: first\n      - name: slow\n        dependsOn: [first]\n      - name: after\n        dependsOn: [slow]\n",
    );
    let (result, _) = ctx
        .signal_after("deploy", &["--scope", "platform"], "/slow/sync", "TERM")
        .await;
    assert_code(&result, ExitCode::PARTIAL);
    assert_eq!(result.status, "cancelled\n");
    let status = |name: &str| {
        result.report["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("first"), "succeeded");
    assert_eq!(status("slow"), "cancelled");
    assert_eq!(status("after"), "pending");
}

/// Under Argo Workflows the `wait` container saves the outputs as soon as
/// the pod gets SIGTERM: `status` says `cancelled` before any termination
/// request is answered (here each takes 1.5 s), and is rewritten when one is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_writes_status_before_terminating() {
    let ctx = TestContext::new(Scenario {
        apps: vec![AppScenario {
            sync_duration: Duration::from_secs(60),
            ..AppScenario::named("temporal")
        }],
        faults: Faults {
            termination_delay: Duration::from_millis(1500),
            ..Faults::default()
        },
        ..Scenario::with_apps(TOKEN, &[])
    })
    .await;
    let child = ctx
        .command("deploy", &["--scope", "app:temporal"])
        .spawn()
        .expect("executor starts");
    let pid = child.id().expect("running").to_string();
    // Signalled once Argo CD has accepted the sync, so the operation is in flight.
    let accepted = std::time::Instant::now() + Duration::from_secs(10);
    while ctx.count("POST", "/temporal/sync") == 0 || ctx.count("GET", "/temporal") == 0 {
        assert!(
            std::time::Instant::now() < accepted,
            "the sync was never sent"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status = ctx.output_dir.join("status");
    let sent = std::time::Instant::now();
    let kill = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(kill.success());
    let written = loop {
        if std::fs::read_to_string(&status).is_ok_and(|s| s == "cancelled\n") {
            break sent.elapsed();
        }
        assert!(
            sent.elapsed() < Duration::from_secs(2),
            "no cancelled status"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let output = tokio::time::timeout(Duration::from_secs(5), child.wait_with_output())
        .await
        .expect("exits")
        .unwrap();
    let result = ctx.result(output);
    assert!(
        ctx.count("DELETE", "/temporal/operation") >= 1,
        "termination was requested"
    );
    // Before the termination request is answered (1.5 s) or given up on (600 ms).
    assert!(
        written < Duration::from_millis(450),
        "status written {written:?} after SIGTERM"
    );
    assert_code(&result, ExitCode::FAILURE);
    assert_eq!(
        result.component()["termination"],
        "terminationRequested",
        "rewritten once the request was sent: {}",
        result.report
    );
}
