//! The watch stream: snapshot as ADDED, then changes, silence for unknown names.

use std::time::Duration;

use super::support::{fast, get, start, Next, Watch};

/// On connect the stream sends the current state as ADDED, then a MODIFIED per change.
#[tokio::test]
async fn stream_sends_added_then_modified() {
    let sim = start(vec![fast("web"), fast("db")]).await;
    let (status, content_type, mut watch) = Watch::open(&sim, "?name=web").await;
    assert_eq!(status, 200);
    assert_eq!(content_type.as_deref(), Some("application/json"));

    let added = watch.event().await;
    assert_eq!(added.kind, "ADDED");
    assert_eq!(added.application.metadata.name, "web");
    assert!(matches!(
        watch.next(Duration::from_millis(50)).await,
        Next::Silent
    ));

    // A refresh makes the controller reconcile: one MODIFIED, for this app only.
    get(&sim, "/api/v1/applications/db?refresh=normal").await;
    get(&sim, "/api/v1/applications/web?refresh=normal").await;
    let modified = watch.event().await;
    assert_eq!(modified.kind, "MODIFIED");
    assert_eq!(modified.application.metadata.name, "web");
    let version = |e: &crate::argocd::types::WatchEvent| {
        e.application
            .metadata
            .resource_version
            .clone()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert!(version(&modified) > version(&added));
}

/// Without a name, every app is sent as ADDED, sorted by name.
#[tokio::test]
async fn stream_without_name_sends_every_app() {
    let sim = start(vec![fast("web"), fast("db")]).await;
    let (_, _, mut watch) = Watch::open(&sim, "").await;
    let first = watch.event().await;
    let second = watch.event().await;
    assert_eq!(first.application.metadata.name, "db");
    assert_eq!(second.application.metadata.name, "web");
}

/// For a name that does not exist the stream sends nothing and stays open.
#[tokio::test]
async fn stream_for_unknown_name_is_silent_and_open() {
    let sim = start(vec![fast("web")]).await;
    let (status, _, mut watch) = Watch::open(&sim, "?name=ghost").await;
    assert_eq!(status, 200);
    assert!(matches!(
        watch.next(Duration::from_millis(150)).await,
        Next::Silent
    ));
    get(&sim, "/api/v1/applications/web?refresh=normal").await;
    assert!(matches!(
        watch.next(Duration::from_millis(100)).await,
        Next::Silent
    ));
}

/// Shutting the simulator down ends open streams.
#[tokio::test]
async fn shutdown_ends_open_streams() {
    let sim = start(vec![fast("web")]).await;
    let (_, _, mut watch) = Watch::open(&sim, "?name=web").await;
    watch.event().await;
    sim.shutdown();
    assert!(matches!(
        watch.next(Duration::from_secs(1)).await,
        Next::End | Next::Error
    ));
}
