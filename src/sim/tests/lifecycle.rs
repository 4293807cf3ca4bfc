//! Operation and deletion timelines: asynchronous sync with its stale window,
//! conflicts, outcomes, foreign and automated operations, termination, finalizers.

use std::time::Duration;

use serde_json::json;

use super::support::{delete, fast, get, phase, post, start, wait_until, Watch};
use crate::argocd::types::Application;
use crate::sim::{AppScenario, InitialState, SimOutcome};

fn is_sha(revision: Option<&str>) -> bool {
    revision.is_some_and(|r| r.len() == 40 && r.chars().all(|c| c.is_ascii_hexdigit()))
}

fn sync_revision(app: &Application) -> Option<&str> {
    app.status.sync.revision.as_deref()
}

/// Sync is asynchronous: the POST only sets `operation`; the controller runs
/// it and completes it in one update with the pre-sync comparison; then, as
/// watched on Argo CD 3.2.11 for a new app, a reconcile stamped in the same
/// second as `finishedAt` still shows OutOfSync/Missing, the re-comparison
/// a moment later shows Synced/Progressing, and the health step Healthy.
#[tokio::test]
async fn sync_goes_pending_running_succeeded_stale_then_healthy() {
    let sim = start(vec![fast("web")]).await;
    let (_, _, mut watch) = Watch::open(&sim, "?name=web").await;
    assert_eq!(watch.event().await.kind, "ADDED");

    let infos = json!([{"name": "executor-run", "value": "run-1"}]);
    let answer = post(
        &sim,
        "/api/v1/applications/web/sync",
        json!({"revision": "main", "prune": true, "syncOptions": {"items": ["CreateNamespace=true"]}, "infos": infos}),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let operation = &answer.body["operation"];
    assert!(is_sha(operation["sync"]["revision"].as_str()));
    assert_eq!(operation["sync"]["prune"], true);
    assert_eq!(
        operation["sync"]["syncOptions"],
        json!(["CreateNamespace=true"])
    );
    assert_eq!(operation["initiatedBy"]["username"], "admin");
    assert_eq!(operation["info"], infos);
    // Right after the POST, operationState still shows the previous operation (none here).
    assert!(answer.body["status"].get("operationState").is_none());

    let mut states = Vec::new();
    loop {
        let event = watch.event().await;
        assert_eq!(event.kind, "MODIFIED");
        let healthy = event.application.status.health.status == "Healthy";
        states.push(event.application);
        if healthy {
            break;
        }
    }
    assert_eq!(states.len(), 6, "{states:#?}");

    let pending = &states[0];
    assert!(pending.operation.is_some());
    assert!(pending.status.operation_state.is_none());

    let running = &states[1];
    assert_eq!(phase(running), "Running");
    assert!(
        running.operation.is_some(),
        "operation stays set while running"
    );
    let state = running.status.operation_state.as_ref().unwrap();
    assert!(state.started_at.is_some() && state.finished_at.is_none());
    assert_eq!(
        running.status.health.status, "Missing",
        "health is the last comparison's"
    );

    let completed = &states[2];
    assert_eq!(phase(completed), "Succeeded");
    assert!(completed.operation.is_none(), "cleared in the same update");
    assert_eq!(completed.status.sync.status, "OutOfSync");
    assert_eq!(completed.status.health.status, "Missing", "health is stale");
    let state = completed.status.operation_state.as_ref().unwrap();
    let revision = state.sync_result.as_ref().unwrap().revision.as_str();
    assert!(is_sha(Some(revision)));
    let finished = state.finished_at.unwrap();
    assert!(completed.status.reconciled_at.unwrap() < finished);

    let tied = &states[3];
    assert_eq!(tied.status.reconciled_at, Some(finished), "same second");
    assert_eq!(tied.status.sync.status, "OutOfSync");
    assert_eq!(tied.status.health.status, "Missing");

    let recompared = &states[4];
    assert!(recompared.status.reconciled_at.unwrap() >= finished);
    assert_eq!(recompared.status.sync.status, "Synced");
    assert_eq!(recompared.status.health.status, "Progressing");

    let healthy = &states[5];
    assert!(healthy.status.reconciled_at.unwrap() >= finished);
    assert_eq!(healthy.status.sync.status, "Synced");
    assert_eq!(sync_revision(healthy), Some(revision));
    assert!(sim.healthy_at("web").is_some());
    assert_eq!(sim.app("web").as_ref(), Some(healthy));
}

/// With `lagging_cache` the stale reconcile is stamped the second after
/// `finishedAt`, still OutOfSync/Missing; the re-comparison never goes back
/// before it.
#[tokio::test]
async fn a_lagging_cache_stamps_the_stale_reconcile_a_second_later() {
    let sim = start(vec![AppScenario {
        lagging_cache: true,
        ..fast("web")
    }])
    .await;
    let (_, _, mut watch) = Watch::open(&sim, "?name=web").await;
    assert_eq!(watch.event().await.kind, "ADDED");
    let answer = post(&sim, "/api/v1/applications/web/sync", json!({})).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let mut states = Vec::new();
    while states
        .last()
        .is_none_or(|a: &Application| a.status.health.status != "Healthy")
    {
        states.push(watch.event().await.application);
    }
    let finished = states[2]
        .status
        .operation_state
        .as_ref()
        .unwrap()
        .finished_at
        .unwrap();
    let lagging = &states[3];
    assert_eq!(
        lagging.status.reconciled_at,
        Some(finished + chrono::TimeDelta::seconds(1))
    );
    assert_eq!(lagging.status.sync.status, "OutOfSync");
    assert_eq!(lagging.status.health.status, "Missing");
    for later in &states[4..] {
        assert!(later.status.reconciled_at >= lagging.status.reconciled_at);
    }
}

/// A second sync while one is pending or running is refused with code 9.
#[tokio::test]
async fn second_sync_while_in_progress_is_400_code_9() {
    let sim = start(vec![fast("web")]).await;
    let path = "/api/v1/applications/web/sync";
    assert_eq!(post(&sim, path, json!({})).await.status, 200);

    let answer = post(&sim, path, json!({})).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["code"], 9);
    let message = answer.body["message"].as_str().unwrap();
    assert!(
        message.contains("another operation is already in progress"),
        "{message}"
    );

    wait_until(&sim, "web", "running", |a| phase(a) == "Running").await;
    assert_eq!(post(&sim, path, json!({})).await.status, 400);

    wait_until(&sim, "web", "healthy", |a| {
        a.status.health.status == "Healthy"
    })
    .await;
    assert_eq!(post(&sim, path, json!({})).await.status, 200);
}

/// OperationFailed: phase Failed with a message, still OutOfSync, then Degraded.
#[tokio::test]
async fn failed_operation_leaves_app_out_of_sync_and_degraded() {
    let sim = start(vec![AppScenario {
        outcome: SimOutcome::OperationFailed,
        ..fast("bad")
    }])
    .await;
    post(&sim, "/api/v1/applications/bad/sync", json!({})).await;
    let app = wait_until(&sim, "bad", "failed", |a| phase(a) == "Failed").await;
    assert!(app.operation.is_none());
    assert_eq!(app.status.sync.status, "OutOfSync");
    let state = app.status.operation_state.as_ref().unwrap();
    assert!(state.message.as_deref().unwrap().contains("failed"));
    let app = wait_until(&sim, "bad", "degraded", |a| {
        a.status.health.status == "Degraded"
    })
    .await;
    assert!(app.status.health.message.is_some());
    assert!(sim.healthy_at("bad").is_none());
}

/// Degraded, Suspended and Unknown outcomes follow a Succeeded operation.
#[tokio::test]
async fn outcomes_set_the_final_health() {
    let apps = [
        ("deg", SimOutcome::Degraded, "Degraded"),
        ("sus", SimOutcome::Suspended, "Suspended"),
        ("unk", SimOutcome::Unknown, "Unknown"),
    ];
    let sim = start(
        apps.iter()
            .map(|(name, outcome, _)| AppScenario {
                outcome: *outcome,
                ..fast(name)
            })
            .collect(),
    )
    .await;
    for (name, _, health) in apps {
        post(
            &sim,
            &format!("/api/v1/applications/{name}/sync"),
            json!({}),
        )
        .await;
        let app = wait_until(&sim, name, health, |a| a.status.health.status == health).await;
        assert_eq!(phase(&app), "Succeeded");
        assert_eq!(app.status.sync.status, "Synced");
    }
}

/// An app that starts Healthy is ready: reconciled after its old operation finished.
#[tokio::test]
async fn healthy_initial_state_is_reconciled_after_its_last_operation() {
    let sim = start(vec![AppScenario {
        initial: InitialState::Healthy,
        ..fast("up")
    }])
    .await;
    let app = sim.app("up").unwrap();
    assert_eq!(app.status.sync.status, "Synced");
    assert_eq!(app.status.health.status, "Healthy");
    assert!(is_sha(sync_revision(&app)));
    let state = app.status.operation_state.as_ref().unwrap();
    assert_eq!(state.phase, "Succeeded");
    assert!(app.status.reconciled_at.unwrap() > state.finished_at.unwrap());
    assert!(app.operation.is_none());
}

/// Someone else's operation is running at start; it cannot be joined by a new sync.
#[tokio::test]
async fn foreign_operation_runs_then_leaves_app_healthy() {
    let sim = start(vec![AppScenario {
        foreign_operation: Some(Duration::from_millis(80)),
        outcome: SimOutcome::Degraded,
        ..fast("busy")
    }])
    .await;
    let app = sim.app("busy").unwrap();
    assert_eq!(phase(&app), "Running");
    let initiator = app
        .operation
        .as_ref()
        .unwrap()
        .initiated_by
        .as_ref()
        .unwrap();
    assert_eq!(initiator.username.as_deref(), Some("alice"));
    let answer = post(&sim, "/api/v1/applications/busy/sync", json!({})).await;
    assert_eq!(answer.status, 400);

    let app = wait_until(&sim, "busy", "healthy", |a| {
        a.status.health.status == "Healthy"
    })
    .await;
    assert_eq!(phase(&app), "Succeeded");
    assert_eq!(app.status.sync.status, "Synced");
}

/// A refresh of an auto-synced OutOfSync app starts an automated operation;
/// a sync pinned to another revision is refused.
#[tokio::test]
async fn auto_sync_starts_on_refresh_and_refuses_other_revisions() {
    let sim = start(vec![AppScenario {
        auto_sync: true,
        ..fast("auto")
    }])
    .await;
    let answer = post(
        &sim,
        "/api/v1/applications/auto/sync",
        json!({"revision": "main"}),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body["message"],
        "Cannot sync to main: auto-sync currently set to HEAD"
    );

    let before = sim.app("auto").unwrap().metadata.resource_version;
    let answer = get(&sim, "/api/v1/applications/auto?refresh=normal").await;
    assert_ne!(
        answer.body["metadata"]["resourceVersion"].as_str(),
        before.as_deref()
    );
    assert_eq!(answer.body["operation"]["initiatedBy"]["automated"], true);
    wait_until(&sim, "auto", "healthy", |a| {
        a.status.health.status == "Healthy"
    })
    .await;
}

/// Argo CD does not retry an automated sync that failed for the same revision.
#[tokio::test]
async fn failed_automated_sync_is_not_retried() {
    let sim = start(vec![AppScenario {
        auto_sync: true,
        outcome: SimOutcome::OperationFailed,
        ..fast("auto")
    }])
    .await;
    get(&sim, "/api/v1/applications/auto?refresh=normal").await;
    wait_until(&sim, "auto", "failed", |a| phase(a) == "Failed").await;
    let answer = get(&sim, "/api/v1/applications/auto?refresh=normal").await;
    assert!(answer.body.get("operation").is_none());
}

/// Terminating a running operation: Terminating at once, then Failed and cleared.
#[tokio::test]
async fn terminate_stops_the_running_operation() {
    let sim = start(vec![AppScenario {
        sync_duration: Duration::from_millis(150),
        ..fast("web")
    }])
    .await;
    let path = "/api/v1/applications/web/operation";
    let answer = delete(&sim, path).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["code"], 3);
    assert_eq!(
        answer.body["message"],
        "Unable to terminate operation. No operation is in progress"
    );

    post(&sim, "/api/v1/applications/web/sync", json!({})).await;
    wait_until(&sim, "web", "running", |a| phase(a) == "Running").await;
    let answer = delete(&sim, path).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, json!({}));
    assert_eq!(phase(&sim.app("web").unwrap()), "Terminating");

    let app = wait_until(&sim, "web", "terminated", |a| phase(a) == "Failed").await;
    let state = app.status.operation_state.as_ref().unwrap();
    assert_eq!(state.message.as_deref(), Some("Operation terminated"));
    assert!(app.operation.is_none());
    assert_eq!(app.status.sync.status, "OutOfSync");
    // The terminated operation never completes later.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(phase(&sim.app("web").unwrap()), "Failed");
    assert_eq!(
        post(&sim, "/api/v1/applications/web/sync", json!({}))
            .await
            .status,
        200
    );
}

/// Cascading foreground delete: finalizer and deletionTimestamp first, the
/// app disappears after its deletion delay, with a DELETED event.
#[tokio::test]
async fn delete_keeps_app_behind_finalizer_then_removes_it() {
    let sim = start(vec![fast("a"), fast("b")]).await;
    let (_, _, mut watch) = Watch::open(&sim, "?name=a").await;
    assert_eq!(watch.event().await.kind, "ADDED");

    let query = "?cascade=true&propagationPolicy=foreground";
    let answer = delete(&sim, &format!("/api/v1/applications/a{query}")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, json!({}));
    let app = sim.app("a").unwrap();
    assert!(app.metadata.deletion_timestamp.is_some());
    assert_eq!(
        app.metadata.finalizers,
        ["resources-finalizer.argocd.argoproj.io/foreground"]
    );
    let answer = post(&sim, "/api/v1/applications/a/sync", json!({})).await;
    assert_eq!(answer.body["message"], "application is deleting");

    delete(&sim, &format!("/api/v1/applications/b{query}")).await;
    let kinds = [
        watch.event().await,
        watch.event().await,
        watch.event().await,
    ];
    let kinds: Vec<_> = kinds.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["MODIFIED", "MODIFIED", "DELETED"]);
    assert!(sim.app("a").is_none());
    assert_eq!(get(&sim, "/api/v1/applications/a").await.status, 403);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    while sim.deletion_order().len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(sim.deletion_order(), ["a", "b"]);
}

/// Non-cascading delete removes the app at once; bad parameters are code 3.
#[tokio::test]
async fn non_cascading_delete_is_immediate_and_bad_policies_are_refused() {
    let sim = start(vec![fast("a")]).await;
    let path = "/api/v1/applications/a";
    let answer = delete(&sim, &format!("{path}?propagationPolicy=sideways")).await;
    assert_eq!(
        (answer.status, answer.body["code"].as_i64()),
        (400, Some(3))
    );
    let answer = delete(
        &sim,
        &format!("{path}?cascade=false&propagationPolicy=foreground"),
    )
    .await;
    assert_eq!(
        (answer.status, answer.body["code"].as_i64()),
        (400, Some(3))
    );

    assert_eq!(
        delete(&sim, &format!("{path}?cascade=false")).await.status,
        200
    );
    assert!(sim.app("a").is_none());
    assert_eq!(sim.deletion_order(), ["a"]);
}
