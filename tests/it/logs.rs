//! Logs on stderr follow the contract (§6) line by line: a partial platform
//! deploy at debug level, in both formats, every line parsed.

use executor::exit::ExitCode;
use serde_json::Value;

use crate::common::{assert_code, RunResult};
use crate::platform::partial_platform;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID: &str = "00f067aa0ba902b7";

/// A partial platform deploy logged at debug level in `format`.
async fn logged(format: &str) -> RunResult {
    let ctx = partial_platform().await;
    // The flags come after the harness's own `--log-format json`, and win.
    let args = [
        "--scope",
        "platform",
        "--log-format",
        format,
        "--log-level",
        "debug",
    ];
    let mut command = ctx.command("deploy", &args);
    command.env("TRACE_ID", TRACE_ID).env("SPAN_ID", SPAN_ID);
    let result = ctx.run_command(command).await;
    assert_code(&result, ExitCode::PARTIAL);
    assert!(result.stderr.lines().count() > 20, "{}", result.stderr);
    result
}

/// JSON: one object per line with exactly the contract's keys, the trace
/// context included (the caller's trace, the run's own span), an RFC 3339
/// timestamp and a known level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_json_line_has_the_contracts_fields() {
    let result = logged("json").await;
    let want = [
        "action",
        "component",
        "level",
        "message",
        "phase",
        "span_id",
        "timestamp",
        "trace_id",
    ];
    let mut components = std::collections::BTreeSet::new();
    for line in result.stderr.lines() {
        let object: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: not JSON: {line}"));
        let mut keys: Vec<&str> = object
            .as_object()
            .unwrap_or_else(|| panic!("not an object: {line}"))
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(keys, want, "{line}");
        assert!(
            chrono::DateTime::parse_from_rfc3339(object["timestamp"].as_str().unwrap()).is_ok(),
            "{line}"
        );
        assert!(
            ["trace", "debug", "info", "warn", "error"]
                .contains(&object["level"].as_str().unwrap()),
            "{line}"
        );
        assert_eq!(object["action"], "deploy", "{line}");
        assert_eq!(object["trace_id"], TRACE_ID, "{line}");
        // The span the line was logged in: the action's, a node's or a request's.
        let span = object["span_id"].as_str().unwrap();
        assert!(
            span.len() == 16 && span.chars().all(|c| c.is_ascii_hexdigit()),
            "{line}"
        );
        assert_ne!(
            span, SPAN_ID,
            "the caller's span is the action span's parent: {line}"
        );
        assert!(!object["message"].as_str().unwrap().is_empty(), "{line}");
        components.insert(object["component"].as_str().unwrap().to_owned());
    }
    assert!(components.contains("ceph-cluster"), "{components:?}");
}

/// Text: `<RFC 3339 UTC, seconds> <LEVEL> [<action>/<phase>[/<component>]] <message>`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_text_line_has_the_contracts_shape() {
    let result = logged("text").await;
    for line in result.stderr.lines() {
        let (timestamp, rest) = line.split_once(' ').unwrap_or_else(|| panic!("{line}"));
        let parsed = chrono::DateTime::parse_from_rfc3339(timestamp)
            .unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(timestamp.ends_with('Z') && timestamp.len() == 20, "{line}");
        assert_eq!(parsed.timestamp_subsec_nanos(), 0, "{line}");
        let (level, rest) = rest.split_once(' ').unwrap();
        assert!(
            ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&level),
            "{line}"
        );
        let context = rest
            .strip_prefix('[')
            .and_then(|r| r.split_once("] "))
            .unwrap_or_else(|| panic!("no [context]: {line}"));
        let parts: Vec<&str> = context.0.split('/').collect();
        assert_eq!(parts[0], "deploy", "{line}");
        assert!(parts.len() <= 3, "{line}");
        assert!(!context.1.is_empty(), "{line}");
    }
}
