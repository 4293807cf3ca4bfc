//! Servers that are not what `--argocd-server` promised: a plain-http port
//! addressed with https://, and a proxy or ingress answering with its own
//! HTML page. The report says what the server is, at once and in one line.

use executor::exit::ExitCode;
use executor::sim::Scenario;

use crate::common::canned::CannedServer;
use crate::common::{assert_code, RunResult, TestContext, TOKEN};

const SCOPE: [&str; 2] = ["--scope", "app:temporal"];

/// A context whose retries pace like examples/config (5 attempts, 1 s
/// initial backoff, so a retried request takes 15 s).
async fn slow_retries() -> TestContext {
    let ctx = TestContext::new(Scenario::with_apps(TOKEN, &["temporal"])).await;
    ctx.write_environment_retrying("1s", "");
    ctx
}

fn failure_message(result: &RunResult) -> &str {
    result.report["failures"][0]["message"]
        .as_str()
        .expect("a failure message")
}

/// `https://` to a port that speaks plain HTTP: the server's first bytes are
/// not a TLS record, which no retry changes, so the run fails at once (one
/// connection, no backoff pause) and says to use http://. Both a canned
/// server and the simulator's own HTTP server (hyper) are told apart so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_to_a_plain_http_port_fails_at_once_with_a_hint() {
    let ctx = slow_retries().await;
    let plain = CannedServer::start("400 Bad Request", "text/plain", "Bad Request");
    let simulator = ctx.sim.url();
    for server in [plain.url(), simulator] {
        let https = server.replacen("http://", "https://", 1);
        let result = ctx
            .run_command(ctx.command_against(&https, "deploy", &SCOPE))
            .await;
        assert_code(&result, ExitCode::FAILURE);
        let message = failure_message(&result);
        assert!(
            message.contains("the server does not speak TLS; use http:// explicitly"),
            "{server}: {message}"
        );
        assert_eq!(result.report["metrics"]["requests"], 1, "{server}");
        assert_eq!(result.report["metrics"]["retries"], 0, "{server}");
        let took = result.report["durationSeconds"].as_f64().unwrap();
        assert!(
            took < 0.9,
            "{server}: no backoff pause (the first is 1 s): {took}"
        );
    }
    assert_eq!(plain.accepted(), 1, "one connection: no retry");
    assert!(
        ctx.requests().is_empty(),
        "the simulator never saw a request it could parse"
    );
}

/// An ingress's HTML 404 page for a wrong `--argocd-server`: reported as not
/// Argo CD's API, with the status, the content type and the page's start in
/// one line (cut at 200 characters), not the whole page; a 502 page is
/// retried like any gateway error, then reported the same way, and so is a
/// web UI's page served with 200 in the API's place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_page_is_reported_as_not_argocd_in_one_line() {
    let page = format!(
        "<!DOCTYPE html>\n<html>\n<head><title>Not Found</title></head>\n<body>\n<h1>Not Found</h1>\n{}</body>\n</html>\n",
        "<p>The requested URL was not found on this server.</p>\n".repeat(20)
    );
    let cases = [
        ("404 Not Found", 404, "ApiError", 1),
        ("502 Bad Gateway", 502, "Unavailable", 5),
        ("200 OK", 200, "ApiError", 1),
    ];
    for (status_line, status, reason, connections) in cases {
        let ctx = TestContext::new(Scenario::with_apps(TOKEN, &["temporal"])).await;
        let html = CannedServer::start(status_line, "text/html", &page);
        let result = ctx
            .run_command(ctx.command_against(&html.url(), "deploy", &SCOPE))
            .await;
        assert_code(&result, ExitCode::FAILURE);
        assert_eq!(result.report["failures"][0]["reason"], reason, "{status}");
        let message = failure_message(&result);
        let expected = format!(
            "the server at {} answered {status} with a text/html body that is not Argo CD's API (first 200 chars: <!DOCTYPE html> <html> <head><title>Not Found</title></head>",
            html.url()
        );
        assert!(message.contains(&expected), "{status}: {message}");
        assert!(
            message.contains("check --argocd-server"),
            "{status}: {message}"
        );
        assert!(!message.contains('\n'), "{status}: one line: {message}");
        assert!(
            !message.contains("</html>"),
            "{status}: cut short: {message}"
        );
        assert!(message.len() < 600, "{status}: {} chars", message.len());
        assert_eq!(html.accepted(), connections, "{status}");
    }
}
