//! The REST endpoints of the simulated argocd-server, with the paths,
//! parameters and answers of Argo CD 3.6's `assets/swagger.json`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{delete, get, post};
use axum::{middleware, Json, Router};
use serde::Serialize;
use serde_json::{json, Value};

use crate::argocd::types::{Application, ApplicationTree, ManagedResources, ResourceDiff};

use super::error::ApiError;
use super::gate::gate;
use super::model::{child_app_nodes, live_manifest, tree_nodes};
use super::params::{sync_request, Params};
use super::server::Shared;
use super::store::AppFilter;
use super::stream::{self, STREAM_PATH};

type SharedState = State<Arc<Shared>>;

/// The routes, behind the gate.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    // One parameter name per position: the router does not allow
    // `{name}` and `{applicationName}` side by side.
    Router::new()
        .route("/api/v1/applications", get(list))
        .route(
            "/api/v1/applications/{name}",
            get(get_app).delete(delete_app),
        )
        .route("/api/v1/applications/{name}/sync", post(sync))
        .route("/api/v1/applications/{name}/operation", delete(terminate))
        .route(
            "/api/v1/applications/{name}/resource-tree",
            get(resource_tree),
        )
        .route(
            "/api/v1/applications/{name}/managed-resources",
            get(managed_resources),
        )
        .route(
            "/api/v1/account/can-i/{resource}/{action}/{*subresource}",
            get(can_i),
        )
        .route(USERINFO_PATH, get(user_info))
        .route(STREAM_PATH, get(stream::watch))
        .fallback(|| async { ApiError::route_not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), gate))
        .with_state(shared)
}

/// `v1alpha1ApplicationList`. `items` is `null`, not `[]`, when nothing
/// matches: the gateway re-encodes the gRPC message, which has no empty lists.
#[derive(Serialize)]
struct ListBody {
    metadata: ListMeta,
    items: Option<Vec<Application>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListMeta {
    resource_version: String,
}

/// `GET /api/v1/applications`.
async fn list(State(shared): SharedState, RawQuery(query): RawQuery) -> Json<ListBody> {
    let params = Params::parse(query.as_deref());
    let filter = AppFilter {
        name: params.non_empty("name").map(str::to_string),
        projects: params.projects(),
        min_version: 0,
    };
    let repo = params.non_empty("repo");
    let selector = params.non_empty("selector");
    let store = shared.store();
    let items: Vec<Application> = store
        .list(&filter)
        .into_iter()
        .filter(|app| {
            repo.is_none_or(|r| app.spec.source.as_ref().is_some_and(|s| s.repo_url == r))
        })
        .filter(|app| selector.is_none_or(|s| selector_matches(s, &app.metadata.labels)))
        .collect();
    Json(ListBody {
        metadata: ListMeta {
            resource_version: store.collection_version(),
        },
        items: (!items.is_empty()).then_some(items),
    })
}

/// A Kubernetes label selector, equality-based forms only
/// (`k=v`, `k==v`, `k!=v`, `k`, `!k`), comma-separated.
fn selector_matches(selector: &str, labels: &std::collections::BTreeMap<String, String>) -> bool {
    selector
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .all(|requirement| {
            if let Some((key, value)) = requirement.split_once("!=") {
                labels.get(key.trim()).is_none_or(|v| v != value.trim())
            } else if let Some((key, value)) = requirement
                .split_once("==")
                .or_else(|| requirement.split_once('='))
            {
                labels.get(key.trim()).is_some_and(|v| v == value.trim())
            } else if let Some(key) = requirement.strip_prefix('!') {
                !labels.contains_key(key.trim())
            } else {
                labels.contains_key(requirement)
            }
        })
}

/// `GET /api/v1/applications/{name}`; with `refresh`, the controller
/// re-reconciles before the answer, as argocd-server waits for it.
async fn get_app(
    State(shared): SharedState,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Application>, ApiError> {
    let params = Params::parse(query.as_deref());
    let projects = params.projects();
    if projects.len() > 1 {
        return Err(ApiError::invalid_argument(
            "multiple projects specified - the get endpoint accepts either zero or one project",
        ));
    }
    let project = projects.first().map(String::as_str);
    let app_namespace = params.non_empty("appNamespace");
    let refresh = params.get("refresh").is_some();
    if refresh && (shared.faults.controller_stopped || shared.lose_refresh(&name)) {
        // argocd-server answers only once the refresh was reconciled.
        std::future::pending::<()>().await;
    }
    shared.mutate(|store| {
        let app = store.lookup(&name, project, app_namespace)?.app.clone();
        if refresh {
            Ok(Json(store.refresh(&name).unwrap_or(app)))
        } else {
            Ok(Json(app))
        }
    })
}

/// `POST /api/v1/applications/{name}/sync`.
async fn sync(
    State(shared): SharedState,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<Application>, ApiError> {
    let request = sync_request(&name, &body)?;
    shared.mutate(|store| store.request_sync(&name, &request).map(Json))
}

/// `DELETE /api/v1/applications/{name}/operation`: `applicationOperationTerminateResponse` is `{}`.
async fn terminate(
    State(shared): SharedState,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = Params::parse(query.as_deref());
    shared.mutate(|store| {
        store.terminate(
            &name,
            params.non_empty("project"),
            params.non_empty("appNamespace"),
        )
    })?;
    Ok(Json(json!({})))
}

/// `DELETE /api/v1/applications/{name}`: `applicationApplicationResponse` is `{}`.
async fn delete_app(
    State(shared): SharedState,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = Params::parse(query.as_deref());
    let cascade = params.bool("cascade")?;
    let policy = params.get("propagationPolicy").unwrap_or("");
    shared.mutate(|store| {
        store.delete(
            &name,
            cascade,
            policy,
            params.non_empty("project"),
            params.non_empty("appNamespace"),
        )
    })?;
    Ok(Json(json!({})))
}

/// `GET /api/v1/session/userinfo`.
pub(crate) const USERINFO_PATH: &str = "/api/v1/session/userinfo";

/// `GET /api/v1/session/userinfo`: whether the request's token is accepted,
/// as `sessionGetUserInfoResponse` says it.
async fn user_info(State(shared): SharedState, headers: axum::http::HeaderMap) -> Json<Value> {
    match super::gate::check(&shared, &axum::http::Method::GET, &headers) {
        Ok(()) => Json(json!({"loggedIn": true, "username": "executor", "iss": "argocd"})),
        Err(_) => Json(json!({"loggedIn": false})),
    }
}

/// `GET /api/v1/account/can-i/{resource}/{action}/{subresource}`: the
/// simulator's one token is an admin's, so the answer is always `yes`
/// (`accountCanIResponse`). A token that may not see a project is shown on
/// the real stack (e2e), not here.
async fn can_i() -> Json<Value> {
    Json(json!({"value": "yes"}))
}

/// `read` of the app a per-app GET names, with its `project` and
/// `appNamespace` parameters judged as argocd-server judges them.
fn read_app<T>(
    shared: &Shared,
    name: &str,
    query: Option<&str>,
    read: impl FnOnce(&super::store::SimApp) -> T,
) -> Result<T, ApiError> {
    let params = Params::parse(query);
    let store = shared.store();
    let sim = store.lookup(
        name,
        params.non_empty("project"),
        params.non_empty("appNamespace"),
    )?;
    Ok(read(sim))
}

/// `GET /api/v1/applications/{applicationName}/resource-tree`.
async fn resource_tree(
    State(shared): SharedState,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<ApplicationTree>, ApiError> {
    read_app(&shared, &name, query.as_deref(), |sim| {
        let mut nodes = tree_nodes(&sim.app);
        nodes.extend(child_app_nodes(&sim.scenario.children));
        Json(ApplicationTree { nodes })
    })
}

/// `GET /api/v1/applications/{name}/managed-resources`: each managed
/// resource with its live manifest as JSON text (`"null"` while it does not
/// exist), as argocd-server's `ManagedResources` answers.
async fn managed_resources(
    State(shared): SharedState,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<ManagedResources>, ApiError> {
    let items: Vec<ResourceDiff> = read_app(&shared, &name, query.as_deref(), |sim| {
        sim.app
            .status
            .resources
            .iter()
            .map(|r| ResourceDiff {
                group: r.group.clone(),
                kind: r.kind.clone(),
                namespace: r.namespace.clone(),
                name: r.name.clone(),
                live_state: Some(live_manifest(r).to_string()),
            })
            .collect()
    })?;
    Ok(Json(ManagedResources {
        items: (!items.is_empty()).then_some(items),
    }))
}
