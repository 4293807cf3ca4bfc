//! The Kubernetes API client: the few requests the executor sends to the API
//! server, each classified into an error a person can act on. Callers own
//! the deadlines; nothing here waits longer than the caller lets it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::{Stream, StreamExt};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams,
    WatchEvent, WatchParams,
};
use kube::discovery::Scope;
use serde_json::Value;

use super::access::Access;
use super::resource::ObjectRef;
use crate::request_stats::{self, RequestStats};

/// A request to the Kubernetes API that did not give an answer to act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterError {
    /// No connection, or the connection broke.
    #[error("the Kubernetes API at {server} is unreachable: {message}")]
    Unreachable {
        /// The API server's URL.
        server: String,
        /// The transport's error.
        message: String,
    },
    /// 401: the credentials were refused.
    #[error("the Kubernetes API refused the credentials (401 Unauthorized): {message}")]
    Unauthorized {
        /// The API server's message.
        message: String,
    },
    /// 403: the identity may not do this.
    #[error("forbidden (403): {message}")]
    Forbidden {
        /// The API server's message, which names the user, verb and resource.
        message: String,
    },
    /// The API server does not serve this apiVersion and kind.
    #[error("the Kubernetes API does not serve {api_version} {kind} (is its CRD installed?)")]
    UnknownKind {
        /// The apiVersion asked for.
        api_version: String,
        /// The kind asked for.
        kind: String,
    },
    /// Any other answer.
    #[error("Kubernetes API error ({code}): {message}")]
    Api {
        /// The HTTP status, 0 when there was none.
        code: u16,
        /// What the API server or the client said.
        message: String,
    },
}

/// Longest wait for one answer (a watch's events aside): kube's client has
/// no read timeout of its own, and a stalled API server must not hold a run;
/// callers' deadlines apply around it.
pub const REQUEST_LIMIT: std::time::Duration = std::time::Duration::from_secs(15);

/// What a SelfSubjectAccessReview answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The identity may.
    pub allowed: bool,
    /// The authorizer's reason, when it gives one.
    pub reason: String,
}

/// One permission to ask about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Permission {
    /// `get`, `list`, `watch`, `patch`, `create`, …
    pub verb: &'static str,
    /// The API group, empty for the core group.
    pub group: String,
    /// The resource, plural: `configmaps`.
    pub resource: String,
    /// The namespace; `None` for a cluster-scoped resource or every namespace.
    pub namespace: Option<String>,
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let resource = if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        };
        match &self.namespace {
            Some(ns) => write!(f, "{} {resource} in namespace {ns}", self.verb),
            None => write!(f, "{} {resource}", self.verb),
        }
    }
}

/// A resolved kind: where its objects live in the API.
#[derive(Debug, Clone)]
pub struct Kind {
    /// Group, version, kind and plural.
    pub resource: ApiResource,
    /// Namespaced, or cluster-scoped.
    pub namespaced: bool,
}

/// The Kubernetes API, as one identity sees it.
#[derive(Clone)]
pub struct Cluster {
    client: kube::Client,
    server: String,
    /// Discovery answers, kept for the run: `(apiVersion, kind)` → its resource.
    kinds: Arc<Mutex<HashMap<(String, String), Kind>>>,
    stats: RequestStats,
}

impl Cluster {
    /// A client for `access`; sends nothing yet.
    pub fn new(access: &Access) -> Result<Cluster, ClusterError> {
        let server = access.config.cluster_url.to_string();
        let mut config = access.config.clone();
        // Every request carries the span the client was made in (the action's).
        if let Some(value) = crate::traceparent::current()
            .and_then(|tp| reqwest::header::HeaderValue::from_str(&tp).ok())
        {
            let name = reqwest::header::HeaderName::from_static("traceparent");
            config.headers.push((name, value));
        }
        let client = kube::Client::try_from(config).map_err(|e| ClusterError::Api {
            code: 0,
            message: format!(
                "cannot set up a client for {server} ({}): {e}",
                access.source
            ),
        })?;
        Ok(Cluster {
            client,
            server,
            kinds: Arc::default(),
            stats: RequestStats::default(),
        })
    }

    /// A cluster served by `client` (the simulated one of `--simulate`),
    /// named `server` in messages.
    pub fn from_client(client: kube::Client, server: &str) -> Cluster {
        Cluster {
            client,
            server: server.to_owned(),
            kinds: Arc::default(),
            stats: RequestStats::default(),
        }
    }

    /// Every request so far, per endpoint (`<verb> <group/version>/<resource>`).
    pub fn stats(&self) -> &RequestStats {
        &self.stats
    }

    /// The API server's URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// `GET /version`: the API server's version.
    pub async fn version(&self) -> Result<String, ClusterError> {
        let info = self
            .send("get /version", self.client.apiserver_version())
            .await?;
        Ok(info.git_version)
    }

    /// Whether the namespace exists.
    pub async fn namespace_exists(&self, name: &str) -> Result<bool, ClusterError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let found = self.send("get v1/namespaces", api.get_opt(name)).await?;
        Ok(found.is_some())
    }

    /// The CustomResourceDefinition of this name, if it exists.
    pub async fn crd(&self, name: &str) -> Result<Option<CustomResourceDefinition>, ClusterError> {
        let api: Api<CustomResourceDefinition> = Api::all(self.client.clone());
        let endpoint = "get apiextensions.k8s.io/v1/customresourcedefinitions";
        self.send(endpoint, api.get_opt(name)).await
    }

    /// Asks the API server whether this identity has `permission`
    /// (a SelfSubjectAccessReview: a `create` that changes nothing).
    pub async fn can_i(&self, permission: &Permission) -> Result<Decision, ClusterError> {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(permission.verb.to_owned()),
                    group: Some(permission.group.clone()),
                    resource: Some(permission.resource.clone()),
                    namespace: permission.namespace.clone(),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        let api: Api<SelfSubjectAccessReview> = Api::all(self.client.clone());
        let answer = self
            .send(
                "create authorization.k8s.io/v1/selfsubjectaccessreviews",
                api.create(&PostParams::default(), &review),
            )
            .await?;
        let status = answer.status.unwrap_or_default();
        Ok(Decision {
            allowed: status.allowed && !status.denied.unwrap_or(false),
            reason: status.reason.unwrap_or_default(),
        })
    }

    /// Where objects of `api_version` and `kind` live, from discovery (asked once per run).
    pub async fn kind(&self, api_version: &str, kind: &str) -> Result<Kind, ClusterError> {
        let key = (api_version.to_owned(), kind.to_owned());
        if let Some(found) = self.cached(&key) {
            return Ok(found);
        }
        let (group, version) = match api_version.split_once('/') {
            Some((group, version)) => (group, version),
            None => ("", api_version),
        };
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let unknown = || ClusterError::UnknownKind {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
        };
        let discovery = kube::discovery::pinned_kind(&self.client, &gvk);
        let started = std::time::Instant::now();
        let discovered = tokio::time::timeout(REQUEST_LIMIT, discovery).await;
        let answer = match &discovered {
            Ok(Ok(_)) => "2xx".to_owned(),
            Ok(Err(kube::Error::Api(status))) => status.code.to_string(),
            _ => "error".to_owned(),
        };
        let endpoint = format!("discover {api_version}");
        self.stats.record(
            request_stats::Api::Kubernetes,
            &endpoint,
            &answer,
            started.elapsed(),
        );
        let discovered = discovered.map_err(|_| self.no_answer())?;
        let (resource, capabilities) = match discovered {
            Ok(found) => found,
            Err(kube::Error::Discovery(_)) => return Err(unknown()),
            Err(e) => match self.error(e) {
                ClusterError::Api { code: 404, .. } => return Err(unknown()),
                other => return Err(other),
            },
        };
        let found = Kind {
            resource,
            namespaced: capabilities.scope == Scope::Namespaced,
        };
        if let Ok(mut kinds) = self.kinds.lock() {
            kinds.insert(key, found.clone());
        }
        Ok(found)
    }

    fn cached(&self, key: &(String, String)) -> Option<Kind> {
        self.kinds.lock().ok()?.get(key).cloned()
    }

    fn api(&self, kind: &Kind, namespace: Option<&str>) -> Api<DynamicObject> {
        match (kind.namespaced, namespace) {
            (true, Some(ns)) => Api::namespaced_with(self.client.clone(), ns, &kind.resource),
            (true, None) => Api::default_namespaced_with(self.client.clone(), &kind.resource),
            (false, _) => Api::all_with(self.client.clone(), &kind.resource),
        }
    }

    /// The object `target` names, as JSON, if it exists.
    pub async fn get(&self, target: &ObjectRef) -> Result<Option<Value>, ClusterError> {
        let kind = self.kind(&target.api_version, &target.kind).await?;
        let api = self.api(&kind, target.namespace.as_deref());
        let endpoint = resource_endpoint("get", &kind);
        let found = self.send(&endpoint, api.get_opt(&target.name)).await?;
        Ok(found.map(|o| serde_json::to_value(o).unwrap_or(Value::Null)))
    }

    /// Applies a JSON merge patch to the object `target` names; its new state.
    pub async fn merge_patch(
        &self,
        target: &ObjectRef,
        patch: &Value,
    ) -> Result<Value, ClusterError> {
        let kind = self.kind(&target.api_version, &target.kind).await?;
        let api = self.api(&kind, target.namespace.as_deref());
        let endpoint = resource_endpoint("patch", &kind);
        let patched = self
            .send(
                &endpoint,
                api.patch(&target.name, &PatchParams::default(), &Patch::Merge(patch)),
            )
            .await?;
        Ok(serde_json::to_value(patched).unwrap_or(Value::Null))
    }

    /// Creates `object` (its apiVersion, kind, metadata.name and namespace
    /// say what and where); the created state.
    pub async fn create(&self, object: &Value) -> Result<Value, ClusterError> {
        let text = |pointer: &str| {
            object
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        let kind = self.kind(text("/apiVersion"), text("/kind")).await?;
        let namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str);
        let api = self.api(&kind, namespace);
        let body: DynamicObject =
            serde_json::from_value(object.clone()).map_err(|e| ClusterError::Api {
                code: 0,
                message: format!("not an object: {e}"),
            })?;
        let endpoint = resource_endpoint("create", &kind);
        let created = self
            .send(&endpoint, api.create(&PostParams::default(), &body))
            .await?;
        Ok(serde_json::to_value(created).unwrap_or(Value::Null))
    }

    /// Every object of `kind` matching the label `selector`, in `namespace`
    /// (every namespace when none), as JSON.
    pub async fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        selector: &str,
    ) -> Result<Vec<Value>, ClusterError> {
        let found = self.kind(api_version, kind).await?;
        let api: Api<DynamicObject> = match (found.namespaced, namespace) {
            (true, Some(ns)) => Api::namespaced_with(self.client.clone(), ns, &found.resource),
            _ => Api::all_with(self.client.clone(), &found.resource),
        };
        let endpoint = resource_endpoint("list", &found);
        let listed = self
            .send(&endpoint, api.list(&ListParams::default().labels(selector)))
            .await?;
        Ok(listed
            .items
            .into_iter()
            .map(|o| serde_json::to_value(o).unwrap_or(Value::Null))
            .collect())
    }

    /// Follows the object `target` names from `resource_version`: each
    /// event's object as JSON (`None` once it is deleted). The stream ends
    /// when the API server closes the watch (after `timeout_secs` at most).
    pub async fn watch(
        &self,
        target: &ObjectRef,
        resource_version: &str,
        timeout_secs: u32,
    ) -> Result<impl Stream<Item = Result<Option<Value>, ClusterError>> + use<>, ClusterError> {
        let kind = self.kind(&target.api_version, &target.kind).await?;
        let api = self.api(&kind, target.namespace.as_deref());
        let params = WatchParams::default()
            .fields(&format!("metadata.name={}", target.name))
            .timeout(timeout_secs);
        let endpoint = resource_endpoint("watch", &kind);
        let stream = self
            .send(&endpoint, api.watch(&params, resource_version))
            .await?;
        let this = self.clone();
        Ok(stream.filter_map(move |event| {
            let item = match event {
                Ok(WatchEvent::Added(o) | WatchEvent::Modified(o)) => {
                    Some(Ok(Some(serde_json::to_value(o).unwrap_or(Value::Null))))
                }
                Ok(WatchEvent::Deleted(_)) => Some(Ok(None)),
                Ok(WatchEvent::Bookmark(_)) => None,
                Ok(WatchEvent::Error(status)) => Some(Err(ClusterError::Api {
                    code: status.code,
                    message: status.message,
                })),
                Err(e) => Some(Err(this.error(e))),
            };
            std::future::ready(item)
        }))
    }

    /// `request`, within [`REQUEST_LIMIT`]; a kube error classified. It is
    /// recorded as `endpoint`, with the status of an error answer, `2xx`
    /// for a success (kube does not say which), or `error` for no answer.
    async fn send<T>(
        &self,
        endpoint: &str,
        request: impl std::future::Future<Output = Result<T, kube::Error>>,
    ) -> Result<T, ClusterError> {
        let span = tracing::info_span!(
            "request",
            otel.name = %endpoint,
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            api = "kubernetes",
            outcome = tracing::field::Empty,
        );
        let started = std::time::Instant::now();
        let answered = tracing::Instrument::instrument(
            tokio::time::timeout(REQUEST_LIMIT, request),
            span.clone(),
        )
        .await;
        let answer = match &answered {
            Ok(Ok(_)) => "2xx".to_owned(),
            Ok(Err(kube::Error::Api(status))) => status.code.to_string(),
            _ => "error".to_owned(),
        };
        span.record("outcome", answer.as_str());
        if answer != "2xx" {
            span.record("otel.status_code", "ERROR");
        }
        self.stats.record(
            request_stats::Api::Kubernetes,
            endpoint,
            &answer,
            started.elapsed(),
        );
        match answered {
            Ok(answer) => answer.map_err(|e| self.error(e)),
            Err(_) => Err(self.no_answer()),
        }
    }

    /// A request that had no answer within [`REQUEST_LIMIT`].
    fn no_answer(&self) -> ClusterError {
        ClusterError::Unreachable {
            server: self.server.clone(),
            message: format!("no answer within {}s", REQUEST_LIMIT.as_secs()),
        }
    }

    /// Classifies a kube error.
    fn error(&self, e: kube::Error) -> ClusterError {
        match e {
            kube::Error::Api(status) => match status.code {
                401 => ClusterError::Unauthorized {
                    message: status.message,
                },
                403 => ClusterError::Forbidden {
                    message: status.message,
                },
                code => ClusterError::Api {
                    code,
                    message: status.message,
                },
            },
            kube::Error::HyperError(_) | kube::Error::Service(_) => ClusterError::Unreachable {
                server: self.server.clone(),
                message: chain(&e),
            },
            other => ClusterError::Api {
                code: 0,
                message: chain(&other),
            },
        }
    }
}

/// The `endpoint` label of a request about objects of `kind`.
fn resource_endpoint(verb: &str, kind: &Kind) -> String {
    format!(
        "{verb} {}/{}",
        kind.resource.api_version, kind.resource.plural
    )
}

/// An error with its sources, one line: kube's own message alone says
/// "ServiceError: client error (Connect)" and hides the reason.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
