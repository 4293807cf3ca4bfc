//! Request handling: authentication, content type, unknown apps, lists,
//! recording and the shape of what the API answers.

use serde_json::json;

use super::support::{delete, fast, get, post, send, start, TOKEN};
use crate::sim::{AppScenario, InitialState, Scenario, SimOutcome, Simulator};

/// Argo CD answers 403, not 404, for an unknown app when no project is given.
#[tokio::test]
async fn unknown_app_is_403_without_project_and_404_with_one() {
    let sim = start(vec![fast("known")]).await;

    let answer = get(&sim, "/api/v1/applications/nope").await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.body,
        json!({"error": "permission denied", "code": 7, "message": "permission denied"})
    );

    let answer = get(&sim, "/api/v1/applications/nope?project=default").await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.body["code"], 5);
    assert_eq!(
        answer.body["message"],
        "applications.argoproj.io \"nope\" not found"
    );

    // An existing app asked for in another project is "not found" too.
    let answer = get(&sim, "/api/v1/applications/known?project=other").await;
    assert_eq!(answer.status, 404);

    let answer = post(&sim, "/api/v1/applications/nope/sync", json!({})).await;
    assert_eq!(answer.status, 403);
    let answer = post(
        &sim,
        "/api/v1/applications/nope/sync",
        json!({"project": "default"}),
    )
    .await;
    assert_eq!(answer.status, 404);
    assert_eq!(delete(&sim, "/api/v1/applications/nope").await.status, 403);
    assert_eq!(
        get(&sim, "/api/v1/applications/nope/resource-tree")
            .await
            .status,
        403
    );
}

/// Without a bearer token, or with the wrong one, every endpoint answers 401 code 16.
#[tokio::test]
async fn missing_or_wrong_token_is_401() {
    let sim = start(vec![fast("app")]).await;
    let url = format!("{}/api/v1/applications/app", sim.url());

    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": "no session information", "code": 16, "message": "no session information"})
    );

    let response = reqwest::Client::new()
        .get(&url)
        .bearer_auth("forged")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["message"],
        "invalid session: token signature is invalid"
    );
}

/// argocd-server's enforceContentTypes: every non-GET request needs exactly
/// `application/json`, checked before authentication.
#[tokio::test]
async fn non_get_requests_without_json_content_type_are_415() {
    let sim = start(vec![fast("app")]).await;
    let path = "/api/v1/applications/app/sync";

    let answer = send(&sim, reqwest::Method::POST, path, None, Some(json!({}))).await;
    assert_eq!(answer.status, 415);
    assert_eq!(answer.text, "Invalid content type\n");

    // The match is exact: parameters are not accepted.
    let with_charset = Some("application/json; charset=utf-8");
    let answer = send(
        &sim,
        reqwest::Method::POST,
        path,
        with_charset,
        Some(json!({})),
    )
    .await;
    assert_eq!(answer.status, 415);

    // DELETE is not exempt.
    let answer = send(
        &sim,
        reqwest::Method::DELETE,
        "/api/v1/applications/app",
        None,
        None,
    )
    .await;
    assert_eq!(answer.status, 415);
    assert!(sim
        .app("app")
        .unwrap()
        .metadata
        .deletion_timestamp
        .is_none());

    // Case does not matter; GET needs no content type.
    let upper = Some("Application/JSON");
    assert_eq!(
        send(&sim, reqwest::Method::POST, path, upper, Some(json!({})))
            .await
            .status,
        200
    );
    assert_eq!(get(&sim, "/api/v1/applications/app").await.status, 200);

    // Rejected before authentication.
    let response = reqwest::Client::new()
        .post(format!("{}{path}", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);
}

/// The app JSON has the full v1alpha1Application shape with second-precision times.
#[tokio::test]
async fn get_answers_a_full_application() {
    let sim = start(vec![fast("web")]).await;
    let answer = get(&sim, "/api/v1/applications/web").await;
    assert_eq!(answer.status, 200);
    let app = &answer.body;
    // Typed client-go objects carry an empty TypeMeta, so argocd-server omits these.
    assert!(app.get("apiVersion").is_none() && app.get("kind").is_none());
    assert_eq!(app["metadata"]["name"], "web");
    assert_eq!(app["metadata"]["namespace"], "argocd");
    assert!(app["metadata"]["uid"].as_str().unwrap().len() == 36);
    assert!(app["metadata"]["resourceVersion"].is_string());
    assert_eq!(app["spec"]["project"], "default");
    assert_eq!(app["spec"]["source"]["targetRevision"], "HEAD");
    assert!(app["spec"]["source"]["repoURL"].is_string());
    assert_eq!(app["spec"]["destination"]["namespace"], "web");
    assert_eq!(app["status"]["sync"]["status"], "OutOfSync");
    assert_eq!(app["status"]["health"]["status"], "Missing");
    assert!(app["status"].get("operationState").is_none());
    assert!(app.get("operation").is_none());
    let reconciled = app["status"]["reconciledAt"].as_str().unwrap();
    assert_eq!(
        reconciled.len(),
        "2026-11-22T08:00:00Z".len(),
        "{reconciled}"
    );
    assert!(reconciled.ends_with('Z'));
}

/// Listing filters by name and project; `items` is null when nothing matches.
#[tokio::test]
async fn list_filters_and_answers_null_items_when_empty() {
    let other = AppScenario {
        project: "team".into(),
        ..fast("b-app")
    };
    let sim = start(vec![
        other,
        fast("a-app"),
        AppScenario {
            initial: InitialState::Absent,
            ..fast("ghost")
        },
    ])
    .await;

    let answer = get(&sim, "/api/v1/applications").await;
    let names: Vec<_> = answer.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["a-app", "b-app"]);
    assert!(answer.body["metadata"].is_object());

    let answer = get(&sim, "/api/v1/applications?projects=team").await;
    assert_eq!(answer.body["items"].as_array().unwrap().len(), 1);

    let answer = get(&sim, "/api/v1/applications?name=ghost").await;
    assert_eq!(answer.status, 200);
    assert!(answer.body["items"].is_null(), "{}", answer.text);
}

/// Every request is recorded with its headers, body and answered status.
#[tokio::test]
async fn requests_are_recorded_in_order() {
    let sim = start(vec![fast("app")]).await;
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/applications/app/sync?x=1", sim.url()))
        .bearer_auth(TOKEN)
        .header(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        )
        .json(&json!({"revision": "main", "unknownField": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    get(&sim, "/api/v1/applications/missing").await;

    let requests = sim.requests();
    assert_eq!(requests.len(), 2);
    let sync = &requests[0];
    assert_eq!(sync.method, "POST");
    assert_eq!(sync.path, "/api/v1/applications/app/sync");
    assert_eq!(sync.query, "x=1");
    assert_eq!(
        sync.body,
        Some(json!({"revision": "main", "unknownField": true}))
    );
    assert_eq!(sync.content_type.as_deref(), Some("application/json"));
    assert_eq!(sync.authorization.as_deref(), Some("Bearer test-token"));
    assert!(sync.traceparent.as_deref().unwrap().starts_with("00-0af7"));
    assert_eq!(sync.status, 200);
    assert_eq!(requests[1].status, 403);
    assert_eq!(requests[1].body, None);
}

/// The resource tree is empty before the first sync and carries health after.
#[tokio::test]
async fn resource_tree_reflects_deployed_resources() {
    let healthy = AppScenario {
        initial: InitialState::Healthy,
        ..fast("up")
    };
    let sim = start(vec![fast("down"), healthy]).await;
    let answer = get(&sim, "/api/v1/applications/down/resource-tree").await;
    assert_eq!(answer.status, 200);
    assert!(answer.body["nodes"].as_array().unwrap().is_empty());

    let answer = get(&sim, "/api/v1/applications/up/resource-tree").await;
    let nodes = answer.body["nodes"].as_array().unwrap();
    assert!(nodes.len() >= 3);
    assert!(nodes
        .iter()
        .any(|n| n["kind"] == "Deployment" && n["health"]["status"] == "Healthy"));
}

/// A scenario reads from YAML with humantime durations and rejects unknown fields.
#[test]
fn scenario_reads_from_yaml() {
    let yaml = r#"
token: t
apps:
  - name: api
    syncDuration: 2s
    healthDelay: 150ms
    outcome: OperationFailed
    initial: Healthy
    autoSync: true
    foreignOperation: 1s
faults:
  unavailableFirst: 2
  dropStreamAfter: 3
"#;
    let scenario: Scenario = serde_yaml::from_str(yaml).unwrap();
    let app = &scenario.apps[0];
    assert_eq!(app.sync_duration, std::time::Duration::from_secs(2));
    assert_eq!(app.health_delay, std::time::Duration::from_millis(150));
    assert_eq!(app.deletion_delay, std::time::Duration::from_millis(200));
    assert_eq!(app.outcome, SimOutcome::OperationFailed);
    assert_eq!(app.initial, InitialState::Healthy);
    assert_eq!(app.project, "default");
    assert_eq!(
        app.foreign_operation,
        Some(std::time::Duration::from_secs(1))
    );
    assert_eq!(scenario.faults.unavailable_first, 2);
    assert_eq!(scenario.faults.drop_stream_times, 1);
    assert_eq!(scenario.faults.retry_after_secs, 1);

    let error =
        serde_yaml::from_str::<Scenario>("token: t\napps:\n  - name: a\n    synDuration: 1s\n")
            .unwrap_err();
    assert!(error.to_string().contains("synDuration"), "{error}");
    assert!(serde_yaml::from_str::<Scenario>("token: t\napps:\n  - project: p\n").is_err());
}

/// Duplicate names are a scenario error.
#[tokio::test]
async fn duplicate_app_names_are_refused() {
    let scenario = Scenario::with_apps(TOKEN, &["a", "a"]);
    let error = Simulator::start(scenario).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}
