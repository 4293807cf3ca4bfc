//! Spans over OTLP/HTTP: an in-process OTLP receiver (axum on loopback,
//! decoding with opentelemetry-proto) gets the spans of a partial platform
//! deploy: the action span, child of the caller's SPAN_ID in its TRACE_ID,
//! parents the span of every node that ran, and node spans parent their
//! requests.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::routing::post;
use executor::exit::ExitCode;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

use crate::common::assert_code;
use crate::platform::partial_platform;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID: &str = "00f067aa0ba902b7";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.as_ref()?.value.as_ref())
        .map(|v| match v {
            Any::StringValue(s) => s.clone(),
            Any::IntValue(i) => i.to_string(),
            Any::BoolValue(b) => b.to_string(),
            other => format!("{other:?}"),
        })
}

/// An OTLP/HTTP receiver on loopback: its base URL and what it received.
pub(crate) async fn receiver() -> (String, Arc<Mutex<Vec<Span>>>) {
    let spans: Arc<Mutex<Vec<Span>>> = Arc::default();
    let kept = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let kept = kept.clone();
            async move {
                let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                let mut kept = kept.lock().unwrap();
                for resource in request.resource_spans {
                    for scope in resource.scope_spans {
                        kept.extend(scope.spans);
                    }
                }
                // An empty ExportTraceServiceResponse.
                Vec::<u8>::new()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, spans)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_action_span_parents_the_nodes_and_nodes_their_requests() {
    let (url, received) = receiver().await;
    let ctx = partial_platform().await;
    let mut command = ctx.command("deploy", &["--scope", "platform"]);
    command
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &url)
        .env("TRACE_ID", TRACE_ID)
        .env("SPAN_ID", SPAN_ID);
    let result = ctx.run_command(command).await;
    assert_code(&result, ExitCode::PARTIAL);

    let spans = received.lock().unwrap().clone();
    assert!(
        spans.iter().all(|s| hex(&s.trace_id) == TRACE_ID),
        "one trace"
    );
    let actions: Vec<&Span> = spans
        .iter()
        .filter(|s| s.name == "executor deploy")
        .collect();
    assert_eq!(
        actions.len(),
        1,
        "{:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    let action = actions[0];
    assert_eq!(
        hex(&action.parent_span_id),
        SPAN_ID,
        "the caller's span is its parent"
    );
    assert_eq!(attribute(action, "exit_code").as_deref(), Some("2"));
    assert_eq!(attribute(action, "scope").as_deref(), Some("platform"));

    let nodes: BTreeMap<String, &Span> = spans
        .iter()
        .filter(|s| s.name.starts_with("node "))
        .map(|s| (attribute(s, "component").unwrap(), s))
        .collect();
    let components = result.report["components"].as_array().unwrap();
    // A skipped node is never started: it has no span.
    let started: std::collections::BTreeSet<&str> = components
        .iter()
        .filter(|c| c["status"] != "skipped")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let spanned: std::collections::BTreeSet<&str> = nodes.keys().map(String::as_str).collect();
    assert_eq!(spanned, started, "a span per node that ran");
    for (name, node) in &nodes {
        assert_eq!(node.parent_span_id, action.span_id, "{name}'s parent");
        let reported = components
            .iter()
            .find(|c| c["name"] == name.as_str())
            .unwrap();
        // A grouping stack's span ends when it lets its members start; the
        // report derives its status from theirs afterwards.
        if reported["kind"] == "app" {
            assert_eq!(
                attribute(node, "status"),
                reported["status"].as_str().map(str::to_owned),
                "{name}"
            );
        }
    }
    assert_eq!(
        attribute(nodes["ceph-cluster"], "reason").as_deref(),
        Some("OperationFailed")
    );

    // Every request span is the action's or a node's; each sync is its node's.
    let requests: Vec<&Span> = spans
        .iter()
        .filter(|s| attribute(s, "api").as_deref() == Some("argocd"))
        .collect();
    assert!(!requests.is_empty());
    let parents: Vec<&Vec<u8>> = nodes.values().map(|n| &n.span_id).collect();
    for request in &requests {
        assert!(
            request.parent_span_id == action.span_id || parents.contains(&&request.parent_span_id),
            "{} has an unknown parent",
            request.name
        );
    }
    let syncs: Vec<&&Span> = requests
        .iter()
        .filter(|s| s.name == "POST /api/v1/applications/{name}/sync")
        .collect();
    assert_eq!(
        syncs.len(),
        ctx.count("POST", "/sync"),
        "a span per sync sent"
    );
    for sync in syncs {
        assert!(
            parents.contains(&&sync.parent_span_id),
            "a sync belongs to its node"
        );
        assert_eq!(
            attribute(sync, "http.response.status_code").as_deref(),
            Some("200")
        );
    }
    // The request that Argo CD got carried its span.
    let sent = ctx.requests();
    let sync = sent.iter().find(|r| r.path.ends_with("/sync")).unwrap();
    let carried = sync
        .traceparent
        .as_deref()
        .unwrap()
        .split('-')
        .nth(2)
        .unwrap()
        .to_owned();
    assert!(
        requests.iter().any(|s| hex(&s.span_id) == carried),
        "traceparent {carried} names a request span"
    );
}
