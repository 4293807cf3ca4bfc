//! Helpers for the simulator tests: fast scenarios, a small HTTP client, a
//! watch-stream reader and polling with a deadline.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;

use crate::argocd::types::{Application, StreamLine, WatchEvent};
use crate::sim::{AppScenario, Scenario, Simulator};

/// The token every test scenario accepts.
pub(super) const TOKEN: &str = "test-token";

/// An app with a timeline in tens of milliseconds.
pub(super) fn fast(name: &str) -> AppScenario {
    AppScenario {
        sync_duration: Duration::from_millis(60),
        health_delay: Duration::from_millis(40),
        deletion_delay: Duration::from_millis(40),
        ..AppScenario::named(name)
    }
}

/// A scenario with these apps.
pub(super) fn scenario(apps: Vec<AppScenario>) -> Scenario {
    Scenario {
        apps,
        ..Scenario::with_apps(TOKEN, &[])
    }
}

/// Starts a simulator with these apps.
pub(super) async fn start(apps: Vec<AppScenario>) -> Simulator {
    Simulator::start(scenario(apps)).await.unwrap()
}

/// A status and a JSON body (`Value::Null` when the body is not JSON).
pub(super) struct Answer {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

/// Sends a request with the scenario token; `content_type` is set when given.
pub(super) async fn send(
    sim: &Simulator,
    method: reqwest::Method,
    path: &str,
    content_type: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", sim.url()))
        .bearer_auth(TOKEN);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
        headers,
    }
}

/// `GET` with the token.
pub(super) async fn get(sim: &Simulator, path: &str) -> Answer {
    send(sim, reqwest::Method::GET, path, None, None).await
}

/// `POST` a JSON body with the token.
pub(super) async fn post(sim: &Simulator, path: &str, body: Value) -> Answer {
    send(
        sim,
        reqwest::Method::POST,
        path,
        Some("application/json"),
        Some(body),
    )
    .await
}

/// `DELETE` with the token and the JSON content type.
pub(super) async fn delete(sim: &Simulator, path: &str) -> Answer {
    send(
        sim,
        reqwest::Method::DELETE,
        path,
        Some("application/json"),
        None,
    )
    .await
}

/// Polls the simulator's state until `done` holds, or panics after two seconds.
pub(super) async fn wait_until(
    sim: &Simulator,
    name: &str,
    what: &str,
    done: impl Fn(&Application) -> bool,
) -> Application {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        if let Some(app) = sim.app(name) {
            if done(&app) {
                return app;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {name}: {what}; last state {:?}",
            sim.app(name)
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The phase of `operationState`, `""` when there is none.
pub(super) fn phase(app: &Application) -> &str {
    app.status
        .operation_state
        .as_ref()
        .map_or("", |s| s.phase.as_str())
}

/// An open watch stream.
pub(super) struct Watch {
    body: futures_util::stream::BoxStream<'static, reqwest::Result<axum::body::Bytes>>,
    buffer: Vec<u8>,
}

/// What reading the next line of a watch stream gave.
#[derive(Debug)]
pub(super) enum Next {
    /// A parsed event.
    Event(Box<WatchEvent>),
    /// The body ended cleanly.
    End,
    /// The body failed.
    Error,
    /// Nothing arrived in time.
    Silent,
}

impl Watch {
    /// Opens `GET /api/v1/stream/applications` with this query.
    pub(super) async fn open(sim: &Simulator, query: &str) -> (u16, Option<String>, Watch) {
        let response = reqwest::Client::new()
            .get(format!("{}/api/v1/stream/applications{query}", sim.url()))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let watch = Watch {
            body: response.bytes_stream().boxed(),
            buffer: Vec::new(),
        };
        (status, content_type, watch)
    }

    /// The next line, waiting at most `wait`.
    pub(super) async fn next(&mut self, wait: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                let parsed: StreamLine = serde_json::from_slice(&line).unwrap();
                return Next::Event(Box::new(parsed.result.unwrap()));
            }
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Err(_) => return Next::Silent,
                Ok(None) => return Next::End,
                Ok(Some(Err(_))) => return Next::Error,
                Ok(Some(Ok(chunk))) => self.buffer.extend_from_slice(&chunk),
            }
        }
    }

    /// The next event, panicking if there is none within a second.
    pub(super) async fn event(&mut self) -> WatchEvent {
        match self.next(Duration::from_secs(1)).await {
            Next::Event(event) => *event,
            other => panic!("expected a watch event, got {other:?}"),
        }
    }
}
