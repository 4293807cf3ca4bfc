//! `observability/`: every metric and label the alert rules and the Grafana
//! dashboard name exists in the metrics.prom of a real (simulated) partial
//! platform deploy, which `promtool check metrics` accepts, and every
//! `$labels.x` an alert's text uses is a label of its expression. (`.ci/run` also runs `promtool check rules` and `promtool
//! test rules` on them.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use executor::exit::ExitCode;
use serde_json::Value;

use crate::common::assert_code;
use crate::platform::partial_platform;

/// Labels a scrape of the Pushgateway adds to what the executor writes.
const SCRAPE_LABELS: [&str; 3] = ["job", "instance", "le"];

/// Each series name in Prometheus text and the label names it carries.
fn series(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let end = line.find(['{', ' ']).unwrap_or(line.len());
        let labels = found.entry(line[..end].to_owned()).or_default();
        if let Some(inside) = line[end..].strip_prefix('{') {
            // `name="value"` pairs; a value's own `="` is escaped as `=\"`.
            for part in inside.split("\",") {
                if let Some((name, _)) = part.split_once("=\"") {
                    labels.insert(name.trim_start_matches(',').to_owned());
                }
            }
        }
    }
    found
}

/// The metric names in a PromQL expression.
fn metrics_in(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = expr;
    while let Some(at) = rest.find("executor_") {
        let tail = &rest[at..];
        let len = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..len].to_owned());
        rest = &tail[len..];
    }
    names
}

/// The label names an expression matches on (`{a="x", b=~"y"}`) or groups
/// by (`by (a, b)`, `without (a)`), and a `label_values(…, a)`'s.
fn labels_in(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for selector in expr.split('{').skip(1) {
        let inside = selector.split('}').next().unwrap_or("");
        for matcher in inside.split(',') {
            let name = matcher.split(['=', '!']).next().unwrap_or("").trim();
            if !name.is_empty() {
                names.insert(name.to_owned());
            }
        }
    }
    for keyword in ["by (", "without ("] {
        for grouping in expr.split(keyword).skip(1) {
            let inside = grouping.split(')').next().unwrap_or("");
            names.extend(inside.split(',').map(|l| l.trim().to_owned()));
        }
    }
    if let Some(args) = expr.strip_prefix("label_values(") {
        if let Some((_, label)) = args.trim_end_matches(')').rsplit_once(',') {
            names.insert(label.trim().to_owned());
        }
    }
    names
}

/// What a panel, a variable or a rule queries, with where it is.
fn queries(dashboard: &Value, rules: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap().to_owned();
            found.push((format!("panel {}", panel["title"]), expr));
        }
    }
    for variable in dashboard["templating"]["list"].as_array().unwrap() {
        let query = variable["query"]["query"].as_str().unwrap().to_owned();
        found.push((format!("variable {}", variable["name"]), query));
    }
    for group in rules["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            let expr = rule["expr"].as_str().unwrap().to_owned();
            found.push((format!("alert {}", rule["alert"]), expr));
        }
    }
    found
}

/// `promtool check metrics` (Prometheus's own parser and linter) finds
/// nothing to say about `text`, as node_exporter's textfile collector needs.
/// Without promtool this part is skipped with a message; with `CI` set it fails.
fn promtool_accepts(text: &str) {
    use std::io::Write;
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        assert!(
            std::env::var_os("CI").is_none(),
            "promtool (Debian's prometheus) is missing; .ci/run installs it"
        );
        eprintln!("skipping promtool check metrics: promtool is missing");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool check metrics: {said}\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboards_and_alerts_name_only_existing_metrics_and_labels() {
    let ctx = partial_platform().await;
    let result = ctx.run("deploy", &["--scope", "platform"]).await;
    assert_code(&result, ExitCode::PARTIAL);
    let text = std::fs::read_to_string(ctx.output_dir.join("metrics.prom")).unwrap();
    let known = series(&text);
    assert!(known.contains_key("executor_requests_total"), "{text}");
    promtool_accepts(&text);

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("observability");
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("grafana-dashboard.json")).unwrap())
            .expect("the dashboard is JSON");
    let rules: Value =
        serde_yaml::from_str(&std::fs::read_to_string(dir.join("alerts.yaml")).unwrap()).unwrap();
    let all = queries(&dashboard, &rules);
    assert!(all.len() >= 10, "{all:?}");
    for (place, expr) in &all {
        let metrics = metrics_in(expr);
        assert!(
            !metrics.is_empty(),
            "{place}: {expr} names no executor metric"
        );
        let mut labels: BTreeSet<String> = SCRAPE_LABELS.iter().map(|l| l.to_string()).collect();
        for metric in &metrics {
            let have = known
                .get(metric)
                .unwrap_or_else(|| panic!("{place}: {metric} is not a metric the executor writes"));
            labels.extend(have.iter().cloned());
        }
        for label in labels_in(expr) {
            assert!(
                labels.contains(&label),
                "{place}: no label {label} on {metrics:?}"
            );
        }
    }
    // An alert's text names only labels its expression keeps.
    for group in rules["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            let expr = rule["expr"].as_str().unwrap();
            let mut labels: BTreeSet<String> = ["job".to_owned()].into();
            for metric in metrics_in(expr) {
                labels.extend(known[&metric].iter().cloned());
            }
            let text = rule["annotations"].to_string();
            for used in text.split("$labels.").skip(1) {
                let name: String = used
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    labels.contains(&name),
                    "alert {}: $labels.{name}",
                    rule["alert"]
                );
            }
        }
    }
}

#[test]
fn the_query_readers_find_names_and_labels() {
    let expr = r#"histogram_quantile(0.95, sum by (api, endpoint, le) (executor_request_duration_seconds_bucket{job="executor", environment=~"$environment"}))"#;
    assert_eq!(
        metrics_in(expr),
        BTreeSet::from(["executor_request_duration_seconds_bucket".to_owned()])
    );
    let want: BTreeSet<String> = ["api", "endpoint", "le", "job", "environment"]
        .iter()
        .map(|l| l.to_string())
        .collect();
    assert_eq!(labels_in(expr), want);
    let text =
        "executor_requests_total{action=\"deploy\",endpoint=\"GET /x/{name}\",code=\"200\"} 1\n";
    let want: BTreeSet<String> = ["action", "endpoint", "code"]
        .iter()
        .map(|l| l.to_string())
        .collect();
    assert_eq!(series(text)["executor_requests_total"], want);
}
