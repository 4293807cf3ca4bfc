//! The Argo CD token is never written anywhere: a canary token, through a
//! failing deploy at debug level with spans exported, and through a
//! rejected one, appears in none of stdout, stderr, report.json,
//! metrics.prom, status, exit-code or the exported spans.

use executor::exit::ExitCode;
use executor::sim::{AppScenario, Scenario, SimOutcome};

use crate::common::{assert_code, TestContext, TOKEN};
use crate::traces::receiver;

const CANARY: &str = "canary-7f3a9c2e5b1d4f60e8a2-never-printed";

/// Every output of the run in `ctx`, and the spans received, as one text.
fn everything(ctx: &TestContext, result: &crate::common::RunResult, spans: &str) -> String {
    let mut all = format!(
        "{}\n{}\n{}\n{spans}",
        result.stdout, result.stderr, result.report
    );
    for file in ["report.json", "metrics.prom", "status", "exit-code"] {
        all.push_str(&std::fs::read_to_string(ctx.output_dir.join(file)).unwrap_or_default());
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_appears_in_no_output() {
    let (url, received) = receiver().await;
    let scenario = Scenario {
        apps: vec![AppScenario {
            outcome: SimOutcome::Degraded,
            ..AppScenario::named("temporal")
        }],
        ..Scenario::with_apps(TOKEN, &[])
    };
    let ctx = TestContext::with_token(scenario, CANARY).await;
    let args = ["--scope", "app:temporal", "--log-level", "debug"];
    let mut command = ctx.command("deploy", &args);
    command.env("OTEL_EXPORTER_OTLP_ENDPOINT", &url);
    let result = ctx.run_command(command).await;
    assert_code(&result, ExitCode::FAILURE);
    let spans = format!("{:?}", received.lock().unwrap());
    assert!(spans.len() > 100, "spans were exported: {spans}");
    assert!(
        ctx.requests()
            .iter()
            .all(|r| r.authorization.as_deref() == Some(&format!("Bearer {CANARY}"))),
        "the canary was the token sent"
    );
    let all = everything(&ctx, &result, &spans);
    assert!(!all.contains(CANARY), "the token leaked:\n{all}");

    // Refused: the server expects another token.
    std::fs::write(
        ctx.secrets_dir.join("argocd-token"),
        format!("{CANARY}-old\n"),
    )
    .unwrap();
    let mut command = ctx.command("deploy", &args);
    command.env("OTEL_EXPORTER_OTLP_ENDPOINT", &url);
    let refused = ctx.run_command(command).await;
    assert_code(&refused, ExitCode::FAILURE);
    let spans = format!("{:?}", received.lock().unwrap());
    let all = everything(&ctx, &refused, &spans);
    assert!(!all.contains(CANARY), "the token leaked:\n{all}");
}
