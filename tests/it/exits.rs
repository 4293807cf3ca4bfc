//! No exit path escapes the contract: an output directory that cannot be
//! written, a report that cannot be written at the end, argument-parser errors
//! and durations too long to compute a deadline from all end with a contract
//! code, and with a report wherever one can be written.

use executor::exit::ExitCode;
use executor::sim::Scenario;

use crate::common::{assert_code, TestContext, TOKEN};

const SCOPE: [&str; 2] = ["--scope", "app:temporal"];

async fn ctx() -> TestContext {
    TestContext::new(Scenario::with_apps(TOKEN, &["temporal"])).await
}

/// `timeouts: {sync: 500000000000y, ...}` would overflow every deadline
/// computed from it: Invalid, naming the field and the bound, before any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duration_too_long_for_a_deadline_is_invalid() {
    let ctx = ctx().await;
    ctx.write_environment("timeouts: {sync: 500000000000y, health: 500000000000y}\n");
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::INVALID);
    assert_eq!(result.status, "invalid\n");
    let message = result.report["failures"][0]["message"].as_str().unwrap();
    assert!(message.contains("`timeouts.sync`"), "{message}");
    assert!(message.contains("the most is 7d"), "{message}");
    assert!(ctx.requests().is_empty(), "{:?}", ctx.requests());
}

/// The same bound holds for the flags that replace a deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_flag_too_long_is_invalid() {
    let ctx = ctx().await;
    let result = ctx
        .run(
            "deploy",
            &["--scope", "app:temporal", "--sync-timeout", "30d"],
        )
        .await;
    assert_code(&result, ExitCode::INVALID);
    assert!(
        result.stderr.contains("--sync-timeout (SYNC_TIMEOUT)")
            && result.stderr.contains("the most is 7d"),
        "{}",
        result.stderr
    );
    assert!(ctx.requests().is_empty(), "{:?}", ctx.requests());
}
