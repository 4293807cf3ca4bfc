//! A Timeout names the setting its deadline came from, in the component's
//! message and in the recommendation: the flag, dag.yaml (the node, its
//! stack), an override, or environment.yaml, whichever won.

use std::time::Duration;

use executor::sim::{AppScenario, Scenario};

use crate::common::{assert_timeout_names, TestContext, TOKEN};

const SCOPE: [&str; 2] = ["--scope", "app:temporal"];

/// An app that syncs but never becomes healthy in time.
fn never_healthy() -> Scenario {
    Scenario {
        apps: vec![AppScenario {
            health_delay: Duration::from_secs(30),
            ..Scenario::with_apps(TOKEN, &["temporal"]).apps.remove(0)
        }],
        ..Scenario::with_apps(TOKEN, &[])
    }
}

/// The health deadline of one app, set five ways: each Timeout names its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_names_the_setting_of_its_deadline() {
    let one_app =
        |timeouts: &str| format!("stacks:\n- name: s\n{timeouts}  apps:\n  - name: temporal\n");
    let cases: [(&str, String, &[&str], &str); 5] = [
        (
            "timeouts:\n  health: 1s\n",
            String::new(),
            &[],
            "the health timeout of 1s (environment.yaml timeouts.health)",
        ),
        (
            "timeouts:\n  health: 1h\n",
            String::new(),
            &["--health-timeout", "1s"],
            "the health timeout of 1s (--health-timeout / HEALTH_TIMEOUT)",
        ),
        (
            "",
            format!("{}    timeouts: {{health: 1s}}\n", one_app("")),
            &[],
            "the health timeout of 1s (dag.yaml node `temporal` timeouts.health)",
        ),
        (
            "",
            one_app("  timeouts: {health: 1s}\n"),
            &[],
            "the health timeout of 1s (dag.yaml stack `s` timeouts.health)",
        ),
        (
            "",
            one_app("  timeouts: {health: 1h}\n"),
            &["--set-timeout", "temporal=health:1s"],
            "the health timeout of 1s (--set-timeout temporal=health:1s)",
        ),
    ];
    for (environment, dag, flags, deadline) in cases {
        let ctx = TestContext::new(never_healthy()).await;
        ctx.write_environment(environment);
        if !dag.is_empty() {
            ctx.write_dag(&dag);
        }
        let args: Vec<&str> = SCOPE.iter().chain(flags).copied().collect();
        let result = ctx.run("deploy", &args).await;
        assert_timeout_names(&result, &[deadline]);
    }
}
