//! SIGTERM and SIGINT: the run ends within 2 s with a `cancelled` report.

use std::time::Duration;

use executor::exit::ExitCode;
use executor::sim::{AppScenario, Scenario};

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
