//! `--pushgateway-url`: a partial platform deploy pushes its metrics to a
//! real Prometheus Pushgateway (Debian's `prometheus-pushgateway`, started
//! here on loopback), read back with the Prometheus project's own text
//! parser (the Python client's `text_string_to_metric_families`); a push
//! that fails is a warning and leaves the result alone. Without the
//! Pushgateway or the parser the tests skip with a message; with `CI` set
//! they fail.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use executor::exit::ExitCode;
use serde_json::Value;

use crate::common::{assert_code, ENVIRONMENT};
use crate::platform::{partial_platform, platform};

/// Reads the Prometheus text format with the Python client's parser: one
/// JSON object per sample, `{name, labels, value}`.
const PARSER: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.append({"name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps(out))
"#;

/// What the test needs, or why it skips (a failure under CI).
fn needs(what: &str, found: bool) -> bool {
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{what} is missing; .ci/run installs it"
        );
        eprintln!("skipping the Pushgateway test: {what} is missing");
    }
    found
}

fn python_parser_available() -> bool {
    Command::new("python3")
        .args(["-c", "import prometheus_client.parser"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A Pushgateway on a free loopback port, stopped when dropped.
struct Pushgateway {
    child: Child,
    url: String,
}

impl Pushgateway {
    fn start() -> Option<Pushgateway> {
        let binary = std::env::var("PUSHGATEWAY_BIN")
            .unwrap_or_else(|_| "prometheus-pushgateway".to_owned());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&binary)
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if !needs(
            &format!("{binary} (Debian's prometheus-pushgateway)"),
            child.is_ok(),
        ) {
            return None;
        }
        let gateway = Pushgateway {
            child: child.unwrap(),
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the Pushgateway did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(gateway)
    }

    /// What a scrape of it returns, parsed.
    async fn scrape(&self) -> Vec<Value> {
        let text = reqwest::get(format!("{}/metrics", self.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut parser = Command::new("python3")
            .args(["-c", PARSER])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        parser
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = parser.wait_with_output().unwrap();
        assert!(out.status.success(), "the parser read the scrape:\n{text}");
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Pushgateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of the one sample named `name` whose labels include `labels`.
fn sample(samples: &[Value], name: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<&Value> = samples
        .iter()
        .filter(|s| s["name"] == name && labels.iter().all(|(k, v)| s["labels"][k] == *v))
        .collect();
    assert_eq!(found.len(), 1, "one {name} {labels:?} in {samples:#?}");
    found[0]["value"].as_f64().unwrap()
}

/// After a partial platform deploy, the Pushgateway holds the four
/// contract metrics in the group job=executor, environment, action, scope,
/// with every series labelled so, and the requests per endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_deploy_is_pushed_and_scraped_back() {
    if !needs("python3's prometheus_client", python_parser_available()) {
        return;
    }
    let Some(gateway) = Pushgateway::start() else {
        return;
    };
    let ctx = partial_platform().await;
    let mut command = ctx.command("deploy", &["--scope", "platform"]);
    command.env("PUSHGATEWAY_URL", &gateway.url);
    let result = ctx.run_command(command).await;
    assert_code(&result, ExitCode::PARTIAL);

    let samples = gateway.scrape().await;
    let group = [
        ("job", "executor"),
        ("environment", ENVIRONMENT),
        ("action", "deploy"),
        ("scope", "platform"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        group.iter().chain(extra).copied().collect()
    };
    assert_eq!(
        sample(
            &samples,
            "executor_action_status",
            &with(&[("status", "partial")])
        ),
        f64::from(ExitCode::PARTIAL.code())
    );
    assert_eq!(
        sample(
            &samples,
            "executor_action_duration_seconds_count",
            &with(&[])
        ),
        1.0
    );
    let health = |component: &'static str, status: &'static str| {
        sample(
            &samples,
            "executor_component_health",
            &with(&[("component", component), ("status", status)]),
        )
    };
    assert_eq!(health("ceph-cluster", "failed"), 0.0);
    assert_eq!(health("vault", "skipped"), 0.0);
    assert_eq!(health("metallb", "succeeded"), 1.0);
    assert_eq!(
        sample(
            &samples,
            "executor_errors_total",
            &with(&[("type", "DependencyFailed")])
        ),
        3.0
    );
    let syncs = sample(
        &samples,
        "executor_requests_total",
        &with(&[
            ("api", "argocd"),
            ("endpoint", "POST /api/v1/applications/{name}/sync"),
            ("code", "200"),
        ]),
    );
    // As many as the server received: one per app that was not skipped.
    assert_eq!(syncs, ctx.count("POST", "/sync") as f64);
    assert!(syncs >= 6.0, "{syncs}");
    // Every series of the push carries the group's labels.
    for s in samples.iter().filter(|s| {
        s["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("executor_"))
    }) {
        for (k, v) in group {
            assert_eq!(s["labels"][k], v, "{s}");
        }
    }
}

/// A Pushgateway that does not answer leaves the run's result, report and
/// files as they were, with a warning naming the push.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_push_is_a_warning() {
    let ctx = platform(|_| {}).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut command = ctx.command("deploy", &["--scope", "platform"]);
    command.env("PUSHGATEWAY_URL", &url);
    let result = ctx.run_command(command).await;
    assert_code(&result, ExitCode::SUCCESS);
    let warned = result.stderr.lines().any(|line| {
        serde_json::from_str::<Value>(line).is_ok_and(|l| {
            l["level"] == "warn"
                && l["phase"] == "metrics"
                && l["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("push of the metrics to") && m.contains(&url))
        })
    });
    assert!(warned, "{}", result.stderr);
    assert_eq!(result.report["status"], "succeeded");
}
