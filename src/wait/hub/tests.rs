//! The hub's namespace filter, against a stub argocd-server whose listing and
//! stream carry namesakes in other namespaces, as a real one with apps in any
//! namespace does.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::stream::{self, StreamExt};

use super::*;
use crate::argocd::types::{Application, HealthStatus, ObjectMeta, StreamLine, WatchEvent};
use crate::argocd::ClientOptions;
use crate::wait::Observation;

fn app(name: &str, namespace: &str, version: u64, health: &str) -> Application {
    let mut app = Application {
        metadata: ObjectMeta {
            name: name.into(),
            namespace: Some(namespace.into()),
            resource_version: Some(version.to_string()),
            ..ObjectMeta::default()
        },
        ..Application::default()
    };
    app.status.health = HealthStatus {
        status: health.into(),
        ..HealthStatus::default()
    };
    app
}

/// Serves `list` as `GET /api/v1/applications` and `events` on the stream,
/// which then stays open; returns a client whose `app_namespaces` is `namespaces`.
async fn stub(
    list: Vec<Application>,
    events: Vec<(&str, Application)>,
    namespaces: &[(&str, &str)],
) -> Client {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let listing = serde_json::json!({ "items": list });
    let lines: Vec<Bytes> = events
        .into_iter()
        .map(|(kind, application)| {
            let line = StreamLine {
                result: Some(WatchEvent {
                    kind: kind.into(),
                    application,
                }),
                error: None,
            };
            let mut bytes = serde_json::to_vec(&line).unwrap();
            bytes.push(b'\n');
            Bytes::from(bytes)
        })
        .collect();
    let router = Router::new()
        .route(
            "/api/v1/applications",
            get(move || std::future::ready(Json(listing.clone()))),
        )
        .route(
            "/api/v1/stream/applications",
            get(move || {
                let lines = stream::iter(lines.clone().into_iter().map(Ok::<_, std::io::Error>));
                std::future::ready(Body::from_stream(lines.chain(stream::pending())))
            }),
        );
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Client::new(ClientOptions {
        base: base.parse().unwrap(),
        token: "t".into(),
        ca_pem: None,
        project: None,
        argocd_namespace: "argocd".into(),
        app_namespaces: namespaces
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        max_attempts: 1,
        backoff: Duration::ZERO,
        traceparent: None,
    })
    .unwrap()
}

/// The latest state the hub holds for `name`.
async fn latest(hub: &Hub, name: &str) -> Application {
    let mut watcher = hub.watcher(name);
    let next = tokio::time::timeout(Duration::from_secs(5), watcher.next());
    match next.await.expect("an observation").expect("no error") {
        Observation::Present(app) => *app,
        Observation::Gone => panic!("{name} was reported gone"),
    }
}

/// Two apps named `web` (ours in `team-a`) and two named `api` (ours in Argo
/// CD's namespace): the listing and the stream's changes of the namesakes,
/// a deletion included, never reach the subscriber.
#[tokio::test]
async fn namesakes_in_other_namespaces_do_not_reach_the_subscriber() {
    let list = vec![
        app("web", "team-a", 2, "Healthy"),
        app("web", "argocd", 1, "Degraded"),
        app("api", "argocd", 3, "Healthy"),
        app("api", "team-b", 4, "Degraded"),
    ];
    let events = vec![
        ("MODIFIED", app("web", "team-a", 5, "Progressing")),
        ("MODIFIED", app("api", "team-b", 6, "Missing")),
        ("DELETED", app("web", "argocd", 7, "Degraded")),
        // Events are handled in order: once this one arrived, all before it were.
        ("ADDED", app("marker", "argocd", 8, "Healthy")),
    ];
    let client = stub(list, events, &[("web", "team-a")]).await;
    let names = ["web", "api", "marker"].map(str::to_owned);
    let hub = Hub::start(&client, names);
    assert_eq!(
        latest(&hub, "marker")
            .await
            .metadata
            .resource_version
            .as_deref(),
        Some("8")
    );
    let web = latest(&hub, "web").await;
    assert_eq!(web.metadata.namespace.as_deref(), Some("team-a"));
    assert_eq!(web.metadata.resource_version.as_deref(), Some("5"));
    let api = latest(&hub, "api").await;
    assert_eq!(api.metadata.namespace.as_deref(), Some("argocd"));
    assert_eq!(api.status.health.status, "Healthy", "{api:?}");
}

#[test]
fn an_app_is_followed_only_in_its_own_namespace() {
    let namespaces: HashMap<String, String> = [("web".to_owned(), "team-a".to_owned())].into();
    assert!(is_followed(&namespaces, "web", Some("team-a")));
    assert!(!is_followed(&namespaces, "web", Some("argocd")));
    assert!(!is_followed(&namespaces, "web", None));
    assert!(
        !is_followed(&namespaces, "api", Some("argocd")),
        "not followed at all"
    );
}
