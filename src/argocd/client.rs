//! The Argo CD REST client: one method per endpoint the executor uses, each
//! with bearer auth, typed errors and bounded retries of transient failures.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backoff::backoff::Backoff;
use backoff::ExponentialBackoff;
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::{error_chain, ArgoError};
use super::foreign::ForeignAnswer;
use super::stream::EventStream;
use super::tls::tls_failure;
use crate::request_stats::{Api, RequestStats};

use super::types::{
    ApiErrorBody, Application, ApplicationList, ApplicationTree, CanIResponse, ManagedResources,
    SyncRequest, SyncWindows, UserInfo,
};

/// How long one non-streaming request may take before it counts as a transient failure.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The token check reads a session argocd-server holds in memory
/// (`server/session`, `GetUserInfo`): a server that says nothing for this long
/// is not answering, and preflight tries again rather than wait the full
/// [`REQUEST_TIMEOUT`] before any node's deadline has started.
const USERINFO_TIMEOUT: Duration = Duration::from_secs(10);
/// A GET with `refresh` waits until the controller has re-reconciled the app
/// (argocd-server watches for the refresh annotation to clear), which takes
/// longer on a busy controller.
const REFRESH_TIMEOUT: Duration = Duration::from_secs(90);
/// Upper bound of any single backoff pause, `Retry-After` included.
const MAX_PAUSE: Duration = Duration::from_secs(60);

/// Settings for [`Client::new`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Base URL, e.g. `https://argocd-server.argocd.svc`.
    pub base: Url,
    /// Bearer token.
    pub token: String,
    /// Extra CA certificates, PEM.
    pub ca_pem: Option<Vec<u8>>,
    /// Argo CD project, sent so that an unknown app is a 404.
    pub project: Option<String>,
    /// The namespace Argo CD runs in, where Applications live by default.
    pub argocd_namespace: String,
    /// Application name → namespace, for apps that Argo CD manages outside its
    /// own namespace ("apps in any namespace"); sent as `appNamespace` with
    /// every request about the app.
    pub app_namespaces: BTreeMap<String, String>,
    /// Total attempts of one request.
    pub max_attempts: u32,
    /// Initial backoff interval.
    pub backoff: Duration,
    /// W3C `traceparent` for every request.
    pub traceparent: Option<String>,
}

/// The client's request counters at one moment; the run reports them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RequestCounts {
    /// HTTP requests sent to Argo CD, retries included.
    pub requests: u64,
    /// Of those, retries after a transient error.
    pub retries: u64,
    /// Times a watch stream had to be reopened.
    pub watch_reconnects: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    watch_reconnects: AtomicU64,
}

/// A cheap-to-clone Argo CD API client.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    options: Arc<ClientOptions>,
    counters: Arc<Counters>,
    stats: RequestStats,
}

/// A successful answer, its body read in full.
struct Answer {
    status: u16,
    content_type: Option<String>,
    bytes: bytes::Bytes,
}

/// How [`Client::send`] reads a successful answer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// In full, within this time; a failure while reading is retried.
    Whole(Duration),
    /// Not at all: the caller reads the stream as it comes.
    Stream,
}

/// A successful answer, as [`Reading`] asked.
enum Received {
    Whole(Answer),
    Stream(reqwest::Response),
}

/// What went wrong with one attempt, and whether to try again.
enum Attempt {
    Retry {
        error: String,
        pause: Option<Duration>,
    },
    Fatal(ArgoError),
}

impl Client {
    /// Builds the client. TLS verification is always on; `ca_pem` adds trust anchors.
    pub fn new(options: ClientOptions) -> Result<Client, ArgoError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("executor/", env!("CARGO_PKG_VERSION")))
            .tcp_nodelay(true);
        if let Some(pem) = &options.ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem).map_err(ArgoError::Setup)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        Ok(Client {
            http: builder.build().map_err(ArgoError::Setup)?,
            options: Arc::new(options),
            counters: Arc::default(),
            stats: RequestStats::default(),
        })
    }

    /// Every request so far, per endpoint.
    pub fn stats(&self) -> &RequestStats {
        &self.stats
    }

    /// The request counters so far.
    pub fn request_counts(&self) -> RequestCounts {
        RequestCounts {
            requests: self.counters.requests.load(Ordering::Relaxed),
            retries: self.counters.retries.load(Ordering::Relaxed),
            watch_reconnects: self.counters.watch_reconnects.load(Ordering::Relaxed),
        }
    }

    /// Counts one reopening of a watch stream.
    pub fn count_reconnect(&self) {
        self.counters
            .watch_reconnects
            .fetch_add(1, Ordering::Relaxed);
    }

    /// The initial backoff interval, for loops that pace themselves like the client.
    pub fn backoff(&self) -> ExponentialBackoff {
        ExponentialBackoff {
            initial_interval: self.options.backoff,
            current_interval: self.options.backoff,
            max_interval: MAX_PAUSE,
            max_elapsed_time: None,
            ..ExponentialBackoff::default()
        }
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.options.base.clone();
        let base_path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base_path}{path}"));
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// The namespace of `name` when one is configured for it; `None` means
    /// Argo CD's own, which argocd-server assumes when none is sent.
    pub fn app_namespace(&self, name: &str) -> Option<&str> {
        self.options.app_namespaces.get(name).map(String::as_str)
    }

    /// The namespace `name` lives in: its own, else Argo CD's.
    pub fn namespace_of(&self, name: &str) -> &str {
        self.app_namespace(name)
            .unwrap_or(&self.options.argocd_namespace)
    }

    /// `name=<app>` (and its `appNamespace`) for one app; for all apps,
    /// `projects=<project>` when one is configured, so a shared Argo CD sends
    /// only this platform's apps. A single-app watch matches only the app in
    /// `appNamespace`, Argo CD's own when unset (argo-cd
    /// `server/application/application.go`, `Server.Watch`).
    fn filter<'a>(&'a self, name: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
        match (name, self.options.project.as_deref()) {
            (Some(name), _) => std::iter::once(("name", name))
                .chain(self.app_namespace(name).map(|ns| ("appNamespace", ns)))
                .collect(),
            (None, Some(project)) => vec![("projects", project)],
            (None, None) => vec![],
        }
    }

    /// The query of every request about one app: `project` when configured,
    /// and `appNamespace` when the app lives outside Argo CD's namespace
    /// (argocd-server looks it up there, `getApplicationEnforceRBACInformer`).
    fn app_query(&self, name: &str) -> Vec<(&str, &str)> {
        let project = self.options.project.as_deref().map(|p| ("project", p));
        let namespace = self.app_namespace(name).map(|ns| ("appNamespace", ns));
        project.into_iter().chain(namespace).collect()
    }

    /// The app's RBAC object: `<project>/<namespace>/<name>` outside Argo CD's
    /// namespace, else `<project>/<name>` (argo-cd `util/security/rbac.go`,
    /// `RBACName`, behind `Application.RBACName`).
    fn rbac_name(&self, project: &str, name: &str) -> String {
        match self.app_namespace(name) {
            Some(ns) if ns != self.options.argocd_namespace => format!("{project}/{ns}/{name}"),
            _ => format!("{project}/{name}"),
        }
    }

    /// Sends one request with retries of transient failures: connect errors,
    /// resets, 5xx and 429 (honouring `Retry-After`). A TLS failure is not
    /// transient: the same server answers the same handshake the same way.
    async fn send(
        &self,
        what: &str,
        app: &str,
        method: Method,
        url: Url,
        body: Option<&dyn erased::Body>,
        reading: Reading,
    ) -> Result<Received, ArgoError> {
        let mut backoff = self.backoff();
        let mut attempt = 0;
        let endpoint = endpoint(&method, url.path());
        loop {
            attempt += 1;
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(&self.options.token)
                .header(reqwest::header::ACCEPT, "application/json");
            if method != Method::GET {
                // argocd-server answers 415 to any non-GET request without it, DELETE included.
                request = request.header(reqwest::header::CONTENT_TYPE, "application/json");
            }
            // One span per attempt, child of the node's (or the action's);
            // the request carries it, else the caller's context.
            let span = tracing::info_span!(
                "request",
                otel.name = %endpoint,
                otel.kind = "client",
                otel.status_code = tracing::field::Empty,
                api = "argocd",
                http.request.method = %method,
                url.path = %url.path(),
                http.response.status_code = tracing::field::Empty,
                error = tracing::field::Empty,
                attempt,
            );
            let traceparent = span
                .in_scope(crate::traceparent::current)
                .or_else(|| self.options.traceparent.clone());
            if let Some(tp) = traceparent {
                request = request.header("traceparent", tp);
            }
            if let Some(body) = body {
                request = request.body(body.to_json());
            }
            if let Reading::Whole(timeout) = reading {
                request = request.timeout(timeout);
            }
            tracing::debug!(
                phase = "request",
                component = app,
                "{method} {}",
                url.path()
            );
            let started = std::time::Instant::now();
            let sent = tracing::Instrument::instrument(request.send(), span.clone()).await;
            let answer = match &sent {
                Ok(response) => {
                    let status = response.status();
                    span.record("http.response.status_code", status.as_u16());
                    if !status.is_success() {
                        span.record("otel.status_code", "ERROR");
                    }
                    status.as_u16().to_string()
                }
                Err(e) => {
                    span.record("otel.status_code", "ERROR");
                    span.record("error", error_chain(e));
                    "error".to_owned()
                }
            };
            drop(span);
            self.stats
                .record(Api::ArgoCd, &endpoint, &answer, started.elapsed());
            let outcome = match sent {
                // The body is read here, inside the retries: a connection
                // reset after the headers is as transient as one before them.
                Ok(response) if response.status().is_success() && reading == Reading::Stream => {
                    return Ok(Received::Stream(response))
                }
                Ok(response) if response.status().is_success() => {
                    let status = response.status().as_u16();
                    let content_type = content_type(&response);
                    match response.bytes().await {
                        Ok(bytes) => {
                            return Ok(Received::Whole(Answer {
                                status,
                                content_type,
                                bytes,
                            }))
                        }
                        Err(e) => Attempt::Retry {
                            error: format!("reading the answer: {}", error_chain(&e)),
                            pause: None,
                        },
                    }
                }
                Ok(response) => self.classify(what, app, response).await,
                Err(e) => match tls_failure(&e) {
                    Some((failure, detail)) => Attempt::Fatal(ArgoError::Tls {
                        what: what.to_owned(),
                        server: self.server().to_owned(),
                        failure,
                        detail,
                    }),
                    None => Attempt::Retry {
                        error: error_chain(&e),
                        pause: None,
                    },
                },
            };
            match outcome {
                Attempt::Fatal(e) => return Err(e),
                Attempt::Retry { error, pause } => {
                    if attempt >= self.options.max_attempts {
                        return Err(ArgoError::Unavailable {
                            what: what.to_owned(),
                            attempts: attempt,
                            last: error,
                        });
                    }
                    let pause = pause
                        .or_else(|| backoff.next_backoff())
                        .unwrap_or(MAX_PAUSE)
                        .min(MAX_PAUSE);
                    tracing::warn!(
                        phase = "retry",
                        component = app,
                        "{what} failed ({error}); retrying in {pause:?} (attempt {attempt} of {})",
                        self.options.max_attempts
                    );
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }

    /// [`Client::send`] for a request without a body, with the usual timeout.
    async fn send_plain(
        &self,
        what: &str,
        app: &str,
        method: Method,
        url: Url,
    ) -> Result<Answer, ArgoError> {
        self.send_whole(what, app, method, url, None, REQUEST_TIMEOUT)
            .await
    }

    /// [`Client::send`] for a request whose answer is read in full within `timeout`.
    async fn send_whole(
        &self,
        what: &str,
        app: &str,
        method: Method,
        url: Url,
        body: Option<&dyn erased::Body>,
        timeout: Duration,
    ) -> Result<Answer, ArgoError> {
        match self
            .send(what, app, method, url, body, Reading::Whole(timeout))
            .await?
        {
            Received::Whole(answer) => Ok(answer),
            Received::Stream(_) => unreachable!("send reads a whole answer when asked to"),
        }
    }

    async fn classify(&self, what: &str, app: &str, response: reqwest::Response) -> Attempt {
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let content_type = content_type(&response);
        let text = response.text().await.unwrap_or_default();
        let transient = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
        let Some(body) = ApiErrorBody::parse(&text) else {
            let answer = self.foreign(status.as_u16(), content_type.as_deref(), &text);
            return match status.as_u16() {
                // A gateway's 502 page while argocd-server restarts passes like Argo CD's own 503.
                _ if transient => Attempt::Retry {
                    error: answer.to_string(),
                    pause: retry_after,
                },
                // A proxy's refusal is still a refusal: typed by its status.
                401 | 403 => Attempt::Fatal(ArgoError::from_body(
                    what,
                    app,
                    status.as_u16(),
                    0,
                    answer.to_string(),
                    self.options.project.as_deref(),
                )),
                _ => Attempt::Fatal(ArgoError::NotArgoCd(answer)),
            };
        };
        let message = if body.message.is_empty() {
            body.error
        } else {
            body.message
        };
        if transient {
            return Attempt::Retry {
                error: format!("HTTP {}: {message}", status.as_u16()),
                pause: retry_after,
            };
        }
        Attempt::Fatal(ArgoError::from_body(
            what,
            app,
            status.as_u16(),
            body.code,
            message,
            self.options.project.as_deref(),
        ))
    }

    fn json<T: DeserializeOwned>(&self, what: &str, answer: Answer) -> Result<T, ArgoError> {
        let Answer {
            status,
            content_type,
            bytes,
        } = answer;
        serde_json::from_slice(&bytes).map_err(|source| {
            // Not JSON at all is a page served in Argo CD's place; JSON of
            // another shape is Argo CD's answer that this version misreads.
            if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err() {
                let text = String::from_utf8_lossy(&bytes);
                return ArgoError::NotArgoCd(self.foreign(status, content_type.as_deref(), &text));
            }
            ArgoError::Decode {
                what: what.to_owned(),
                source,
            }
        })
    }

    /// The server as configured, for messages.
    fn server(&self) -> &str {
        self.options.base.as_str().trim_end_matches('/')
    }

    /// An answer of this server that is not Argo CD's API.
    fn foreign(&self, status: u16, content_type: Option<&str>, body: &str) -> ForeignAnswer {
        ForeignAnswer::new(self.server(), status, content_type, body)
    }

    /// `GET /api/v1/applications/{name}`, with `refresh=normal` when asked.
    pub async fn get_app(&self, name: &str, refresh: bool) -> Result<Application, ArgoError> {
        let mut query = self.app_query(name);
        if refresh {
            query.push(("refresh", "normal"));
        }
        let what = format!("get of {name}");
        let url = self.url(&format!("/api/v1/applications/{name}"), &query);
        let timeout = if refresh {
            REFRESH_TIMEOUT
        } else {
            REQUEST_TIMEOUT
        };
        let response = self
            .send_whole(&what, name, Method::GET, url, None, timeout)
            .await?;
        self.json(&what, response)
    }

    /// Like [`Client::get_app`], but an absent application is `Ok(None)`.
    ///
    /// Argo CD answers 403 for an unknown app when no project is given, and
    /// 404 with a project, but the same for an app the token may not see or
    /// that lives in another project, and its listing omits those too
    /// (argo-cd `server/application/application.go`,
    /// `getApplicationEnforceRBACInformer`). So an app is absent only when the
    /// token is allowed to see it; otherwise the answer is [`ArgoError::NotVisible`].
    pub async fn find_app(
        &self,
        name: &str,
        refresh: bool,
    ) -> Result<Option<Application>, ArgoError> {
        match self.get_app(name, refresh).await {
            Ok(app) => {
                // The shared watch keeps an app's events only from the namespace
                // it expects (Argo CD's own, unless one is configured for the
                // app), so a wrong argocdNamespace would silently hide them.
                let served = app.metadata.namespace.as_deref().unwrap_or_default();
                if self.app_namespace(name).is_none()
                    && !served.is_empty()
                    && served != self.options.argocd_namespace
                {
                    return Err(ArgoError::NamespaceMismatch {
                        app: name.to_owned(),
                        served: served.to_owned(),
                        configured: self.options.argocd_namespace.clone(),
                    });
                }
                Ok(Some(app))
            }
            // With a project, argocd-server answers 404 for an absent app; a 403
            // then is a refusal of another kind (a namespace it does not serve).
            Err(refused @ ArgoError::PermissionDenied { .. }) if self.options.project.is_some() => {
                Err(refused)
            }
            Err(refused @ (ArgoError::NotFound { .. } | ArgoError::PermissionDenied { .. })) => {
                match self.can_get(name).await {
                    Ok(true) => Ok(None),
                    Ok(false) => Err(ArgoError::NotVisible {
                        app: name.to_owned(),
                        project: self
                            .options
                            .project
                            .clone()
                            .unwrap_or_else(|| "*".to_owned()),
                    }),
                    Err(e) => {
                        tracing::debug!(
                            phase = "request",
                            component = name,
                            "permission check failed: {e}"
                        );
                        Err(refused)
                    }
                }
            }
            Err(e) => Err(e),
        }
    }

    /// `GET /api/v1/applications?name=…`.
    pub async fn list_apps(&self, name: Option<&str>) -> Result<Vec<Application>, ArgoError> {
        let what = format!("list of {}", name.unwrap_or("applications"));
        let url = self.url("/api/v1/applications", &self.filter(name));
        let response = self
            .send_plain(&what, name.unwrap_or(""), Method::GET, url)
            .await?;
        let list: ApplicationList = self.json(&what, response)?;
        Ok(list.items.unwrap_or_default())
    }

    /// `POST /api/v1/applications/{name}/sync`. Returns the app with its new
    /// `operation`. The client sets `appNamespace`, so no caller can forget it:
    /// argocd-server takes it from the body only (`Server.Sync`).
    pub async fn sync(&self, request: &SyncRequest) -> Result<Application, ArgoError> {
        let name = &request.name;
        let what = format!("sync of {name}");
        let url = self.url(&format!("/api/v1/applications/{name}/sync"), &[]);
        let body = SyncRequest {
            app_namespace: self.app_namespace(name).map(str::to_owned),
            ..request.clone()
        };
        let response = self
            .send_whole(&what, name, Method::POST, url, Some(&body), REQUEST_TIMEOUT)
            .await?;
        self.json(&what, response)
    }

    /// `GET /api/v1/applications/{name}/syncwindows`: the windows of the app's project.
    pub async fn sync_windows(&self, name: &str) -> Result<SyncWindows, ArgoError> {
        let what = format!("sync windows of {name}");
        let url = self.url(
            &format!("/api/v1/applications/{name}/syncwindows"),
            &self.app_query(name),
        );
        let response = self.send_plain(&what, name, Method::GET, url).await?;
        self.json(&what, response)
    }

    /// `GET /api/v1/account/can-i/applications/get/<project>/<name>`: may this
    /// token see the app? Without a project, asks for `*`: a yes then covers
    /// every project the app could be in (argo-cd `server/account/account.go`,
    /// `CanI`, enforces the RBAC object as given, so `*/<name>` is granted only
    /// by a policy on every project). For an app in another namespace the
    /// object is `<project>/<namespace>/<name>`, see [`Client::rbac_name`].
    pub async fn can_get(&self, name: &str) -> Result<bool, ArgoError> {
        let what = format!("permission check for {name}");
        let project = self.options.project.as_deref().unwrap_or("*");
        let object = self.rbac_name(project, name);
        let url = self.url(
            &format!("/api/v1/account/can-i/applications/get/{object}"),
            &[],
        );
        let response = self.send_plain(&what, name, Method::GET, url).await?;
        let answer: CanIResponse = self.json(&what, response)?;
        Ok(answer.value == "yes")
    }

    /// `GET /api/v1/session/userinfo`: whether Argo CD accepts the token, and
    /// as whom. Argo CD answers 200 with `loggedIn: false` for a bad token
    /// (server/session/session.go authenticates this call without requiring it).
    pub async fn user_info(&self) -> Result<UserInfo, ArgoError> {
        let what = "the token's user info".to_owned();
        let url = self.url("/api/v1/session/userinfo", &[]);
        let response = self
            .send_whole(&what, "", Method::GET, url, None, USERINFO_TIMEOUT)
            .await?;
        self.json(&what, response)
    }

    /// `DELETE /api/v1/applications/{name}/operation`: terminate the running operation.
    pub async fn terminate_operation(&self, name: &str) -> Result<(), ArgoError> {
        let what = format!("termination of the operation on {name}");
        let url = self.url(
            &format!("/api/v1/applications/{name}/operation"),
            &self.app_query(name),
        );
        self.send_plain(&what, name, Method::DELETE, url)
            .await
            .map(drop)
    }

    /// `DELETE /api/v1/applications/{name}?cascade=true&propagationPolicy=foreground`,
    /// or with `cascade` false `?cascade=false`: the app goes, its resources
    /// stay (Argo CD refuses a propagation policy without cascade).
    pub async fn delete_app(&self, name: &str, cascade: bool) -> Result<(), ArgoError> {
        let what = format!("deletion of {name}");
        let mut query = if cascade {
            vec![("cascade", "true"), ("propagationPolicy", "foreground")]
        } else {
            vec![("cascade", "false")]
        };
        query.extend(self.app_query(name));
        let url = self.url(&format!("/api/v1/applications/{name}"), &query);
        self.send_plain(&what, name, Method::DELETE, url)
            .await
            .map(drop)
    }

    /// `GET /api/v1/applications/{name}/resource-tree`.
    pub async fn resource_tree(&self, name: &str) -> Result<ApplicationTree, ArgoError> {
        let what = format!("resource tree of {name}");
        let url = self.url(
            &format!("/api/v1/applications/{name}/resource-tree"),
            &self.app_query(name),
        );
        let response = self.send_plain(&what, name, Method::GET, url).await?;
        self.json(&what, response)
    }

    /// `GET /api/v1/applications/{name}/managed-resources`: each managed
    /// resource with its live manifest.
    pub async fn managed_resources(&self, name: &str) -> Result<ManagedResources, ArgoError> {
        let what = format!("managed resources of {name}");
        let url = self.url(
            &format!("/api/v1/applications/{name}/managed-resources"),
            &self.app_query(name),
        );
        let response = self.send_plain(&what, name, Method::GET, url).await?;
        self.json(&what, response)
    }

    /// Opens `GET /api/v1/stream/applications?name=…&appNamespace=…`. The first
    /// event is the current state (`ADDED`); for an unknown name nothing ever
    /// arrives. Without a name it carries apps of every namespace Argo CD
    /// manages (`Server.isApplicationPermitted`), so the reader must tell
    /// them apart by `metadata.namespace` ([`Client::namespace_of`]).
    pub async fn watch(&self, name: Option<&str>) -> Result<EventStream, ArgoError> {
        let what = format!("watch of {}", name.unwrap_or("applications"));
        let url = self.url("/api/v1/stream/applications", &self.filter(name));
        let sent = self
            .send(
                &what,
                name.unwrap_or(""),
                Method::GET,
                url,
                None,
                Reading::Stream,
            )
            .await?;
        let Received::Stream(response) = sent else {
            unreachable!("send hands a stream over unread when asked to")
        };
        Ok(EventStream::new(response, self.options.project.clone()))
    }
}

/// The response's `Content-Type`, when it has a readable one.
/// The `endpoint` label of a request: its method and path, with the names
/// in it (an Application's, a `can-i` object's) replaced by placeholders.
fn endpoint(method: &Method, path: &str) -> String {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let templated: Vec<&str> = match segments.as_slice() {
        ["api", "v1", "applications", _, rest @ ..] => ["api", "v1", "applications", "{name}"]
            .into_iter()
            .chain(rest.iter().copied())
            .collect(),
        ["api", "v1", "account", "can-i", _, _, ..] => {
            vec![
                "api",
                "v1",
                "account",
                "can-i",
                "{resource}",
                "{action}",
                "{object}",
            ]
        }
        _ => segments,
    };
    format!("{method} /{}", templated.join("/"))
}

fn content_type(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Request bodies without making `send` generic (one copy of the retry loop).
mod erased {
    /// A body that serialises to JSON.
    pub trait Body: Sync {
        fn to_json(&self) -> Vec<u8>;
    }
    impl<T: super::Serialize + Sync> Body for T {
        fn to_json(&self) -> Vec<u8> {
            serde_json::to_vec(self).unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests;
