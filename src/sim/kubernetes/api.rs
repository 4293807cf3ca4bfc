//! The simulated Kubernetes API's requests and answers, with the real paths
//! and shapes kube-client sends and reads: `/version`, discovery
//! (`/api/v1`, `/apis/<group>/<version>`), get, list (label selector) and
//! watch (one name, from a resourceVersion) of any served kind, and
//! SelfSubjectAccessReviews, always allowed. It changes nothing: any other
//! write is refused, 405.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures_util::stream;
use serde_json::{json, Value};

use super::super::server::Shared;
use super::world::{Served, World};

/// How often a watch looks at the world again.
const WATCH_TICK: Duration = Duration::from_millis(50);

#[derive(Clone)]
struct Api {
    shared: Arc<Shared>,
    world: Arc<World>,
}

pub(crate) fn router(shared: Arc<Shared>, world: World) -> Router {
    Router::new().fallback(answer).with_state(Api {
        shared,
        world: Arc::new(world),
    })
}

fn status(code: StatusCode, reason: &str, message: String) -> Response {
    let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16()});
    (code, axum::Json(body)).into_response()
}

fn json_response(value: Value) -> Response {
    axum::Json(value).into_response()
}

/// One request: where it goes, and what it asks.
struct Asked<'a> {
    group: &'a str,
    version: &'a str,
    namespace: Option<&'a str>,
    plural: &'a str,
    name: Option<&'a str>,
}

/// Splits `/api/v1/...` or `/apis/<group>/<version>/...`.
fn parse(path: &str) -> Option<(&str, &str, Vec<&str>)> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["api", version, rest @ ..] => Some(("", version, rest.to_vec())),
        ["apis", group, version, rest @ ..] => Some((group, version, rest.to_vec())),
        _ => None,
    }
}

fn asked<'a>(group: &'a str, version: &'a str, rest: &[&'a str]) -> Option<Asked<'a>> {
    let (namespace, plural, name) = match rest {
        ["namespaces", ns, plural] => (Some(*ns), *plural, None),
        ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name)),
        [plural] => (None, *plural, None),
        [plural, name] => (None, *plural, Some(*name)),
        _ => return None,
    };
    Some(Asked {
        group,
        version,
        namespace,
        plural,
        name,
    })
}

async fn answer(
    State(api): State<Api>,
    method: Method,
    uri: Uri,
    Query(params): Query<BTreeMap<String, String>>,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if path == "/version" {
        return json_response(
            json!({"major": "1", "minor": "36", "gitVersion": "v1.36.0-simulated",
            "platform": "linux/amd64"}),
        );
    }
    let Some((group, version, rest)) = parse(path) else {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{path} is not served"),
        );
    };
    if rest.is_empty() {
        return discovery(&api.world, group, version);
    }
    if method == Method::POST
        && group == "authorization.k8s.io"
        && rest == ["selfsubjectaccessreviews"]
    {
        let mut review: Value = serde_json::from_slice(&body).unwrap_or_else(|_| json!({}));
        review["status"] = json!({"allowed": true, "reason": "simulated: every identity may"});
        return (StatusCode::CREATED, axum::Json(review)).into_response();
    }
    if method != Method::GET {
        return status(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "the simulated cluster only answers reads".to_owned(),
        );
    }
    let Some(asked) = asked(group, version, &rest) else {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{path} is not served"),
        );
    };
    let Some(kind) = api
        .world
        .kind(asked.group, asked.version, asked.plural)
        .cloned()
    else {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("the server could not find the requested resource ({path})"),
        );
    };
    if params.get("watch").is_some_and(|w| w == "true" || w == "1") {
        return watch(api, kind, asked.namespace.map(str::to_owned), &params);
    }
    let objects = select(&api, &kind, asked.namespace, &params);
    match asked.name {
        Some(name) => match objects.into_iter().find(|o| o["metadata"]["name"] == name) {
            Some(found) => json_response(found),
            None => status(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("{}.{} \"{name}\" not found", kind.plural, kind.group),
            ),
        },
        None => json_response(json!({
            "apiVersion": if kind.group.is_empty() { kind.version.clone() } else { format!("{}/{}", kind.group, kind.version) },
            "kind": format!("{}List", kind.kind),
            "metadata": {"resourceVersion": "1"},
            "items": objects,
        })),
    }
}

/// The objects of `kind` in `namespace` (every one, for none) that match
/// the query's label and field selectors.
fn select(
    api: &Api,
    kind: &Served,
    namespace: Option<&str>,
    params: &BTreeMap<String, String>,
) -> Vec<Value> {
    let labels = pairs(params.get("labelSelector"));
    let fields = pairs(params.get("fieldSelector"));
    let store = api.shared.store();
    api.world
        .objects(&store, kind, std::time::Instant::now())
        .into_iter()
        .filter(|o| namespace.is_none() || o["metadata"]["namespace"] == namespace.unwrap_or(""))
        .filter(|o| {
            labels
                .iter()
                .all(|(k, v)| o["metadata"]["labels"][k.as_str()] == v.as_str())
        })
        .filter(|o| {
            fields
                .iter()
                .all(|(k, v)| k != "metadata.name" || o["metadata"]["name"] == v.as_str())
        })
        .collect()
}

/// `k=v,k2=v2` (and `k==v`); other selector forms match everything.
fn pairs(selector: Option<&String>) -> Vec<(String, String)> {
    selector
        .map(|s| equality_labels(s).into_iter().collect())
        .unwrap_or_default()
}

/// The labels an equality selector (`a=b,c==d`) asks for; other forms
/// (`!=`, `in`, existence) ask for none here.
pub fn equality_labels(selector: &str) -> BTreeMap<String, String> {
    selector
        .split(',')
        .filter_map(|part| {
            let (key, value) = part.split_once('=')?;
            let key = key.trim();
            (!key.is_empty() && !key.ends_with('!')).then(|| {
                (
                    key.to_owned(),
                    value.trim_start_matches('=').trim().to_owned(),
                )
            })
        })
        .collect()
}

fn discovery(world: &World, group: &str, version: &str) -> Response {
    let kinds = world.kinds_of(group, version);
    if kinds.is_empty() {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("the server could not find the requested resource ({group}/{version})"),
        );
    }
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    let resources: Vec<Value> = kinds
        .iter()
        .map(|k| {
            json!({"name": k.plural, "singularName": k.kind.to_lowercase(), "namespaced": k.namespaced,
                   "kind": k.kind, "verbs": ["get", "list", "watch"]})
        })
        .collect();
    json_response(json!({"kind": "APIResourceList", "apiVersion": "v1",
        "groupVersion": group_version, "resources": resources}))
}

/// A watch: an event each time a selected object's resourceVersion differs
/// from the last one sent (the client's, to begin with; `0` replays what
/// exists as ADDED), until `timeoutSeconds`.
fn watch(
    api: Api,
    kind: Served,
    namespace: Option<String>,
    params: &BTreeMap<String, String>,
) -> Response {
    let timeout = params
        .get("timeoutSeconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(300u64);
    let watch = Watch {
        api,
        kind,
        namespace,
        since: params
            .get("resourceVersion")
            .cloned()
            .unwrap_or_else(|| "0".to_owned()),
        params: params.clone(),
        sent: BTreeMap::new(),
        ends: tokio::time::Instant::now() + Duration::from_secs(timeout),
    };
    let events = stream::unfold(watch, |mut watch| async move {
        let line = watch.next().await?;
        Some((Ok::<_, std::io::Error>(Bytes::from(line)), watch))
    });
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from_stream(events))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

struct Watch {
    api: Api,
    kind: Served,
    namespace: Option<String>,
    params: BTreeMap<String, String>,
    /// The client's resourceVersion.
    since: String,
    /// Per object name: the version last sent (or seen at the start).
    sent: BTreeMap<String, String>,
    ends: tokio::time::Instant,
}

impl Watch {
    /// The next event's line, once there is one; `None` at the timeout.
    async fn next(&mut self) -> Option<String> {
        loop {
            let objects = select(
                &self.api,
                &self.kind,
                self.namespace.as_deref(),
                &self.params,
            );
            for object in objects {
                let name = object["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let version = object["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let event = match self.sent.get(&name) {
                    Some(last) if *last == version => None,
                    Some(_) => Some("MODIFIED"),
                    None if self.since == "0" => Some("ADDED"),
                    None if self.since != version => Some("MODIFIED"),
                    None => None,
                };
                self.sent.insert(name, version);
                if let Some(event) = event {
                    return Some(format!("{}\n", json!({"type": event, "object": object})));
                }
            }
            if tokio::time::Instant::now() >= self.ends {
                return None;
            }
            tokio::time::sleep(WATCH_TICK).await;
        }
    }
}
