//! deploy for one application, against the simulator.

use std::time::Duration;

use executor::exit::ExitCode;
use executor::sim::{AppScenario, Faults, InitialState, Scenario, SimOutcome};

use crate::common::{assert_code, TestContext, TOKEN};

const APP: &str = "temporal";
const SCOPE: [&str; 2] = ["--scope", "app:temporal"];

fn scenario(app: AppScenario) -> Scenario {
    Scenario {
        apps: vec![app],
        ..Scenario::with_apps(TOKEN, &[])
    }
}

/// The default app behind Argo CD answering with these faults.
fn faulty(faults: Faults) -> Scenario {
    Scenario {
        faults,
        ..scenario(app())
    }
}

fn app() -> AppScenario {
    Scenario::with_apps(TOKEN, &[APP]).apps.remove(0)
}

/// A controller whose re-comparison after the sync is late: the same-second
/// stale update (OutOfSync/Missing) stands, and after 2 s the executor asks
/// for a refresh; that comparison shows what the sync applied (Synced,
/// Progressing), never a confirmed Missing, and the deploy succeeds once Healthy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_recompare_after_the_stale_update_is_waited_for() {
    let ctx = TestContext::new(scenario(AppScenario {
        health_delay: Duration::from_millis(2500),
        recompare_delay: Duration::from_millis(2500),
        ..app()
    }))
    .await;
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::SUCCESS);
    assert_eq!(result.component()["health"], "Healthy");
    assert!(
        ctx.count("GET", "/applications/temporal") >= 2,
        "the first GET and the refresh after the unconfirmed verdict"
    );
}

/// The stale update stamped a second after the operation's end (the
/// controller's cache lagging the apply, seen once on the real stack under
/// load) is not a failure either: it is confirmed or overturned by a later
/// comparison, here the refresh's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_update_a_second_after_the_sync_is_not_a_failure() {
    let ctx = TestContext::new(scenario(AppScenario {
        health_delay: Duration::from_millis(2500),
        recompare_delay: Duration::from_millis(2500),
        lagging_cache: true,
        ..app()
    }))
    .await;
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::SUCCESS);
    assert_eq!(result.component()["status"], "succeeded");
    assert_eq!(result.component()["health"], "Healthy");
    assert!(
        ctx.count("GET", "/applications/temporal") >= 2,
        "the first GET and the refresh after the unconfirmed verdict"
    );
}

/// An OutOfSync app is synced once and reported succeeded, with the snapshot
/// the decision was made on; the sync carries the run marker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_deploy_succeeds() {
    let ctx = TestContext::new(scenario(app())).await;
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::SUCCESS);
    assert_eq!(result.status, "succeeded\n");
    let c = result.component();
    assert_eq!(c["status"], "succeeded");
    assert_eq!(c["health"], "Healthy");
    assert_eq!(c["sync"], "Synced");
    assert_eq!(c["operation"], "Succeeded");
    assert_eq!(
        c["revision"].as_str().map(str::len),
        Some(40),
        "a resolved commit SHA"
    );
    assert_eq!(result.report["summary"]["succeeded"], 1);
    let metrics = std::fs::read_to_string(ctx.output_dir.join("metrics.prom")).unwrap();
    assert!(metrics.contains("executor_action_status{"), "{metrics}");
    assert!(
        metrics.contains(r#"executor_component_health{action="deploy",component="temporal",environment="test",kind="app",scope="app:temporal",status="succeeded"} 1"#),
        "{metrics}"
    );
    // Each request by endpoint, the Application's name left out of the label.
    assert!(
        metrics.contains(r#"executor_requests_total{action="deploy",api="argocd",code="200",endpoint="POST /api/v1/applications/{name}/sync",environment="test",scope="app:temporal"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"executor_request_duration_seconds_count{action="deploy",api="argocd",endpoint="POST /api/v1/applications/{name}/sync",environment="test",scope="app:temporal"} 1"#),
        "{metrics}"
    );
    assert_eq!(ctx.count("POST", "/sync"), 1);
    let sync = ctx
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/sync"))
        .unwrap();
    let infos = &sync.body.as_ref().unwrap()["infos"];
    assert_eq!(
        infos[0]["name"], "executor-run",
        "the sync names the executor run: {sync:?}"
    );
    assert_eq!(
        infos[0]["value"], result.report["runId"],
        "the report names the run its syncs carry"
    );
    assert_eq!(c["application"], APP);
    assert!(ctx
        .requests()
        .iter()
        .all(|r| r.authorization.as_deref() == Some("Bearer test-token")));
}

/// A second deploy of a ready app sends no sync and reports unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_deploy_is_unchanged_and_sends_no_sync() {
    let ctx = TestContext::new(scenario(app())).await;
    assert_code(&ctx.run("deploy", &SCOPE).await, ExitCode::SUCCESS);
    let before = ctx.requests().len();
    let second = ctx.run("deploy", &SCOPE).await;
    assert_code(&second, ExitCode::SUCCESS);
    assert_eq!(second.component()["status"], "unchanged");
    assert_eq!(second.report["summary"]["unchanged"], 1);
    let new: Vec<_> = ctx.requests().into_iter().skip(before).collect();
    assert!(
        new.iter().all(|r| r.method == "GET"),
        "only reads on an unchanged deploy: {new:?}"
    );
    assert_eq!(ctx.count("POST", "/sync"), 1, "no second sync");
}

/// A foreign operation in progress (alice's sync, or the automated sync an
/// auto-sync app starts on refresh): deploy waits for it instead of failing,
/// and does not start a second sync on top of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_waits_behind_a_foreign_operation() {
    let cases = [
        (
            "alice",
            AppScenario {
                foreign_operation: Some(Duration::from_millis(600)),
                ..app()
            },
        ),
        (
            "automated sync",
            AppScenario {
                auto_sync: true,
                ..app()
            },
        ),
    ];
    for (who, app) in cases {
        let ctx = TestContext::new(scenario(app)).await;
        let result = ctx.run("deploy", &SCOPE).await;
        assert_code(&result, ExitCode::SUCCESS);
        assert_eq!(
            ctx.count("POST", "/sync"),
            0,
            "{who}: that operation did the sync"
        );
        let message = result.component()["message"].as_str().unwrap();
        assert!(message.contains(who), "{who}: {message}");
    }
}

/// The watch stream drops mid-wait: the executor reconnects and still succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_survives_a_dropped_stream() {
    let ctx = TestContext::new(faulty(Faults {
        drop_stream_after: Some(2),
        drop_stream_times: 2,
        ..Faults::default()
    }))
    .await;
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::SUCCESS);
    assert!(
        result.report["metrics"]["watchReconnects"]
            .as_u64()
            .unwrap()
            >= 1,
        "{}",
        result.report["metrics"]
    );
    assert!(
        ctx.count("GET", "/stream/applications") >= 2,
        "the stream was reopened"
    );
}

/// Three 503s are retried with backoff, and the deploy succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_retries_through_three_503s() {
    let ctx = TestContext::new(faulty(Faults {
        unavailable_first: 3,
        ..Faults::default()
    }))
    .await;
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::SUCCESS);
    assert_eq!(result.report["metrics"]["retries"], 3);
    let statuses: Vec<u16> = ctx.requests().iter().take(4).map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 503, 200]);
}

/// 429 with Retry-After is honoured: the retry waits at least that long.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_honours_retry_after() {
    let ctx = TestContext::new(faulty(Faults {
        rate_limited_first: 1,
        retry_after_secs: 1,
        ..Faults::default()
    }))
    .await;
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::SUCCESS);
    assert_eq!(ctx.requests()[0].status, 429);
    assert!(
        result.report["durationSeconds"].as_f64().unwrap() >= 1.0,
        "waited for Retry-After"
    );
}

/// Argo CD down for longer than the retries allow: Failure, reason Unavailable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_fails_when_argocd_stays_unavailable() {
    let ctx = TestContext::new(faulty(Faults {
        unavailable_first: 50,
        ..Faults::default()
    }))
    .await;
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::FAILURE);
    assert_eq!(result.report["failures"][0]["reason"], "Unavailable");
    assert_eq!(ctx.requests().len(), 5, "bounded by retries.maxAttempts");
}

/// A Degraded app fails the deploy (exit Failure, reason Degraded).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn degraded_app_fails() {
    let ctx = TestContext::new(scenario(AppScenario {
        outcome: SimOutcome::Degraded,
        ..app()
    }))
    .await;
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::FAILURE);
    assert_eq!(result.status, "failed\n");
    assert_eq!(result.component()["status"], "failed");
    assert_eq!(result.component()["health"], "Degraded");
    assert_eq!(result.report["failures"][0]["reason"], "Degraded");
    assert!(!result.report["recommendations"]
        .as_array()
        .unwrap()
        .is_empty());
}

/// Degraded within the grace period is not yet a failure; past it, it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn degraded_fails_only_after_the_grace_period() {
    let ctx = TestContext::new(scenario(AppScenario {
        outcome: SimOutcome::Degraded,
        ..app()
    }))
    .await;
    ctx.write_environment("health:\n  degradedGracePeriod: 1500ms\n");
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::FAILURE);
    assert!(result.component()["message"]
        .as_str()
        .unwrap()
        .contains("grace period"));
    assert!(result.report["durationSeconds"].as_f64().unwrap() >= 1.5);
}

/// An operation that ends Failed fails the deploy with reason OperationFailed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_operation_fails() {
    let ctx = TestContext::new(scenario(AppScenario {
        outcome: SimOutcome::OperationFailed,
        ..app()
    }))
    .await;
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::FAILURE);
    assert_eq!(result.component()["operation"], "Failed");
    assert_eq!(result.report["failures"][0]["reason"], "OperationFailed");
}

/// A sync that outlives the sync deadline: Timeout, and the operation this run
/// started is terminated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_deadline_times_out_and_terminates_our_operation() {
    let ctx = TestContext::new(scenario(AppScenario {
        sync_duration: Duration::from_secs(30),
        ..app()
    }))
    .await;
    ctx.write_environment("timeouts:\n  sync: 1s\n");
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::TIMEOUT);
    assert_eq!(result.status, "timeout\n");
    assert_eq!(result.component()["status"], "timeout");
    assert_eq!(
        ctx.count("DELETE", "/operation"),
        1,
        "terminated the operation it started"
    );
}

/// `--sync-timeout` (SYNC_TIMEOUT, as a rendered workflow task sets it)
/// replaces environment.yaml's deadline for this run; an empty value does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_run_timeout_replaces_the_configured_one() {
    let slow = || {
        scenario(AppScenario {
            sync_duration: Duration::from_secs(30),
            ..app()
        })
    };
    let ctx = TestContext::new(slow()).await;
    let mut cmd = ctx.command("deploy", &SCOPE);
    cmd.env("SYNC_TIMEOUT", "1s").env("HEALTH_TIMEOUT", "");
    let result = ctx.run_command(cmd).await;
    assert_code(&result, ExitCode::TIMEOUT);
    assert!(result.component()["message"]
        .as_str()
        .unwrap()
        .contains("sync timeout of 1s"));
    let ctx = TestContext::new(slow()).await;
    let result = ctx
        .run(
            "deploy",
            &["--scope", "app:temporal", "--sync-timeout", "soon"],
        )
        .await;
    assert_code(&result, ExitCode::INVALID);
    assert!(ctx.requests().is_empty());
}

/// With --no-terminate-on-timeout the operation is left running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_terminate_on_timeout_leaves_the_operation() {
    let ctx = TestContext::new(scenario(AppScenario {
        sync_duration: Duration::from_secs(30),
        ..app()
    }))
    .await;
    ctx.write_environment("timeouts:\n  sync: 1s\n");
    let result = ctx
        .run(
            "deploy",
            &["--scope", "app:temporal", "--no-terminate-on-timeout"],
        )
        .await;
    assert_code(&result, ExitCode::TIMEOUT);
    assert_eq!(ctx.count("DELETE", "/operation"), 0);
}

/// Health that never arrives hits the separate health deadline; nothing is terminated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_deadline_times_out() {
    let ctx = TestContext::new(scenario(AppScenario {
        health_delay: Duration::from_secs(30),
        ..app()
    }))
    .await;
    ctx.write_environment("timeouts:\n  health: 1s\n");
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::TIMEOUT);
    assert!(result.component()["message"]
        .as_str()
        .unwrap()
        .contains("health timeout"));
    assert_eq!(
        ctx.count("DELETE", "/operation"),
        0,
        "the operation had completed"
    );
}

/// A dry run sends no mutating request and says what it would do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_sends_nothing_mutating() {
    let ctx = TestContext::new(scenario(app())).await;
    let result = ctx
        .run("deploy", &["--scope", "app:temporal", "--dry-run", "true"])
        .await;
    assert_code(&result, ExitCode::SUCCESS);
    assert_eq!(result.report["dryRun"], true);
    assert_eq!(
        result.report["summary"]["pending"], 1,
        "would sync: pending, not skipped"
    );
    assert_eq!(result.report["summary"]["skipped"], 0);
    assert!(result.component()["message"]
        .as_str()
        .unwrap()
        .contains("would sync"));
    assert!(
        ctx.requests().iter().all(|r| r.method == "GET"),
        "{:?}",
        ctx.requests()
    );
}

/// An app that does not exist: Failure with reason NotFound (Argo CD's 403 is
/// told apart from a real permission problem by listing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_app_fails_not_found() {
    let ctx = TestContext::new(scenario(AppScenario {
        initial: InitialState::Absent,
        ..app()
    }))
    .await;
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::FAILURE);
    assert_eq!(result.report["failures"][0]["reason"], "NotFound");
    assert_eq!(ctx.count("POST", "/sync"), 0);
}

/// A wrong token: Failure with a hint about the token, not a retry storm.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_fails_with_a_hint() {
    let ctx = TestContext::new(scenario(app())).await;
    std::fs::write(ctx.secrets_dir.join("argocd-token"), "not-the-token").unwrap();
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::FAILURE);
    assert_eq!(result.report["failures"][0]["reason"], "Unauthenticated");
    assert!(result.report["failures"][0]["message"]
        .as_str()
        .unwrap()
        .contains("argocd-token"));
    assert_eq!(
        ctx.requests().len(),
        1,
        "authentication errors are not retried"
    );
    assert!(
        !result.stderr.contains("not-the-token") && !result.stdout.contains("not-the-token"),
        "the token is never printed"
    );
}

/// The request count of a deploy does not grow with the time the app takes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_count_is_independent_of_wait_time() {
    let mut counts = Vec::new();
    for health_delay in [Duration::from_millis(50), Duration::from_millis(1500)] {
        let ctx = TestContext::new(scenario(AppScenario {
            health_delay,
            ..app()
        }))
        .await;
        assert_code(&ctx.run("deploy", &SCOPE).await, ExitCode::SUCCESS);
        counts.push(ctx.requests().len());
    }
    assert_eq!(counts[0], counts[1], "requests: {counts:?}");
}

/// Trace context is carried into every request as a W3C traceparent: the
/// caller's trace, and the request's own span (a child of the run's span,
/// itself a child of the caller's SPAN_ID).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_context_reaches_argocd() {
    let ctx = TestContext::new(scenario(app())).await;
    let mut cmd = ctx.command("deploy", &SCOPE);
    cmd.env("TRACE_ID", "4bf92f3577b34da6a3ce929d0e0e4736")
        .env("SPAN_ID", "00f067aa0ba902b7");
    let result = ctx.run_command(cmd).await;
    assert_code(&result, ExitCode::SUCCESS);
    let requests = ctx.requests();
    let mut spans = std::collections::BTreeSet::new();
    for r in &requests {
        let tp = r.traceparent.as_deref().unwrap_or_default();
        let parts: Vec<&str> = tp.split('-').collect();
        assert_eq!(parts.len(), 4, "{tp}");
        assert_eq!(
            (parts[0], parts[1], parts[3]),
            ("00", "4bf92f3577b34da6a3ce929d0e0e4736", "01"),
            "{} {}: {tp}",
            r.method,
            r.path
        );
        assert_eq!(parts[2].len(), 16, "{tp}");
        assert_ne!(parts[2], "00f067aa0ba902b7", "{tp}");
        spans.insert(parts[2].to_owned());
    }
    assert_eq!(spans.len(), requests.len(), "one span per request");
    let first_log: serde_json::Value =
        serde_json::from_str(result.stderr.lines().next().unwrap()).unwrap();
    assert_eq!(first_log["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
}

/// The stream keeps failing: after repeated failures the watcher falls back to
/// polling GET, and the deploy still succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_falls_back_to_polling_when_the_stream_keeps_failing() {
    let ctx = TestContext::new(faulty(Faults {
        drop_stream_after: Some(0),
        drop_stream_times: 100,
        ..Faults::default()
    }))
    .await;
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::SUCCESS);
    assert!(
        result.stderr.contains("falling back to polling"),
        "{}",
        result.stderr
    );
    assert_eq!(
        ctx.count("GET", "/stream/applications"),
        3,
        "gave up the stream after three failures"
    );
}

/// Slow answers from Argo CD slow the run down but change nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_tolerates_slow_responses() {
    let ctx = TestContext::new(faulty(Faults {
        response_delay: Duration::from_millis(300),
        ..Faults::default()
    }))
    .await;
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::SUCCESS);
    assert_eq!(result.report["metrics"]["retries"], 0);
}

/// Whether a recorded request names `appNamespace=<namespace>` in its query.
fn has_app_namespace(r: &executor::sim::RecordedRequest, namespace: &str) -> bool {
    r.query
        .split('&')
        .any(|pair| pair == format!("appNamespace={namespace}"))
}

/// `--app-namespace` (an app in any namespace, here Argo CD's own, the only
/// one the simulator enables) goes with every request about the app: the
/// refreshing GET and the app's own watch as `appNamespace=`, the sync in its
/// body (argocd-server reads it from there, `Server.Sync`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_namespace_goes_with_every_request_about_the_app() {
    let ctx = TestContext::new(scenario(app())).await;
    let args = ["--scope", "app:temporal", "--app-namespace", "argocd"];
    let result = ctx.run("deploy", &args).await;
    assert_code(&result, ExitCode::SUCCESS);
    let requests = ctx.app_requests();
    assert!(requests
        .iter()
        .any(|r| r.path == "/api/v1/stream/applications"));
    for r in &requests {
        if r.path.ends_with("/sync") {
            let body = r.body.as_ref().unwrap();
            assert_eq!(body["appNamespace"], "argocd", "{r:?}");
            assert!(r.query.is_empty(), "{r:?}");
        } else {
            assert!(has_app_namespace(r, "argocd"), "{r:?}");
        }
    }
    // Without one, nothing changes: no appNamespace at all.
    let ctx = TestContext::new(scenario(app())).await;
    assert_code(&ctx.run("deploy", &SCOPE).await, ExitCode::SUCCESS);
    for r in ctx.requests() {
        assert!(!r.query.contains("appNamespace"), "{r:?}");
        assert!(
            r.body
                .as_ref()
                .is_none_or(|b| b.get("appNamespace").is_none()),
            "{r:?}"
        );
    }
}

/// environment.yaml's `argocd.appNamespace` is every app's default; a
/// namespace the simulated Argo CD does not enable is refused like by
/// argocd-server (permission denied), so the request did name it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_app_namespace_is_the_default() {
    let ctx = TestContext::new(scenario(app())).await;
    ctx.write_environment("argocd:\n  appNamespace: argocd\n");
    assert_code(&ctx.run("deploy", &SCOPE).await, ExitCode::SUCCESS);
    assert!(ctx
        .app_requests()
        .iter()
        .filter(|r| !r.path.ends_with("/sync"))
        .all(|r| has_app_namespace(r, "argocd")));
    let ctx = TestContext::new(scenario(app())).await;
    ctx.write_environment("argocd:\n  appNamespace: team-a\n");
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::FAILURE);
    let get = &ctx.app_requests()[0];
    assert!(has_app_namespace(get, "team-a"), "{get:?}");
    assert_eq!(get.status, 403, "{get:?}");
    // The permission check asks for the app's RBAC object in its namespace.
    assert!(
        ctx.requests()
            .iter()
            .any(|r| r.path == "/api/v1/account/can-i/applications/get/*/team-a/temporal"),
        "{:?}",
        ctx.requests()
    );
}

/// Argo CD's controller loses the refresh of the first read (the real stack
/// showed it for an app created a moment before): after 10 s the deploy
/// reads without a refresh and, since that read may be stale, syncs even
/// though it says Synced and Healthy; it succeeds and says why it synced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_refresh_is_not_waited_out() {
    let ctx = TestContext::new(scenario(AppScenario {
        initial: InitialState::Healthy,
        loses_refresh: true,
        ..app()
    }))
    .await;
    let started = std::time::Instant::now();
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::SUCCESS);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(10) && took < Duration::from_secs(40),
        "{took:?}"
    );
    let component = result.component();
    assert_eq!(component["status"], "succeeded", "{component}");
    let message = component["message"].as_str().unwrap();
    assert!(
        message.contains("the refreshing read got no answer within 10s")
            && message.contains("synced without a fresh comparison"),
        "{message}"
    );
    assert_eq!(ctx.syncs(APP), 1, "a stale read does not make it unchanged");
}
