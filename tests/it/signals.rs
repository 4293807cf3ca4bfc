//! SIGTERM and SIGINT: the run ends within 2 s with a `cancelled` report.

use std::time::{Duration, Instant};

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
        let child = ctx
            .command("deploy", &["--scope", "app:temporal"])
            .spawn()
            .unwrap();
        let pid = child.id().unwrap().to_string();
        // Wait until the sync was sent, so the run is mid-wait.
        let deadline = Instant::now() + Duration::from_secs(10);
        while ctx.count("POST", "/sync") == 0 {
            assert!(Instant::now() < deadline, "the sync was never sent");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let sent = Instant::now();
        let kill = tokio::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .await
            .unwrap();
        assert!(kill.success());
        let output = tokio::time::timeout(Duration::from_secs(5), child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        assert!(
            sent.elapsed() < Duration::from_secs(2),
            "SIG{signal} handled in {:?}",
            sent.elapsed()
        );
        let result = ctx.result(output);
        assert_code(&result, ExitCode::FAILURE);
        assert_eq!(result.status, "cancelled\n");
        assert_eq!(result.report["status"], "cancelled");
        assert_eq!(result.component()["status"], "cancelled");
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
    let child = ctx
        .command("deploy", &["--scope", "platform"])
        .spawn()
        .unwrap();
    let pid = child.id().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    while ctx.count("POST", "/slow/sync") == 0 {
        assert!(Instant::now() < deadline, "slow was never synced");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let kill = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(kill.success());
    let output = tokio::time::timeout(Duration::from_secs(5), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let result = ctx.result(output);
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
