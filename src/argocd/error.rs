//! Errors of the Argo CD boundary, typed from Argo CD's `{"error","code","message"}` bodies.

use super::foreign::ForeignAnswer;
use super::tls::TlsFailure;
use super::types::grpc;

/// A failed Argo CD request.
#[derive(Debug, thiserror::Error)]
pub enum ArgoError {
    /// 401 / code 16.
    #[error("failed to authenticate to Argo CD: {message}; check that the argocd-token file holds a valid, unexpired token")]
    Unauthenticated {
        /// Argo CD's message.
        message: String,
    },
    /// 403 / code 7.
    #[error("failed to access application '{app}': permission denied ({message}); check the token's RBAC and that the app exists in the project{project_hint}")]
    PermissionDenied {
        /// The application.
        app: String,
        /// Argo CD's message.
        message: String,
        /// Extra hint about `argocd.project`, pre-formatted.
        project_hint: String,
    },
    /// 403 / code 7 from a sync that a sync window of the app's project blocks
    /// (argo-cd `server/application/application.go`, `Server.Sync`: "cannot sync:
    /// blocked by sync window"). Not a token problem.
    #[error("sync of '{app}' is blocked by a sync window of its project ({message}); wait for the window to open, or pass --wait-sync-window to wait within the sync timeout")]
    SyncWindow {
        /// The application.
        app: String,
        /// Argo CD's message, with the active windows when they could be read.
        message: String,
    },
    /// 404 / code 5.
    #[error("application '{app}' not found in Argo CD")]
    NotFound {
        /// The application.
        app: String,
    },
    /// Argo CD says no such app, but the token may not see every app of that
    /// name, so it may exist all the same.
    #[error("application '{app}' is absent or not visible to this token: Argo CD answers the same for both, and the token may not get applications '{project}/{app}'; grant it applications, get in the app's project (argocd-rbac-cm), or check the name")]
    NotVisible {
        /// The application.
        app: String,
        /// The project asked about (`*` when none is configured).
        project: String,
    },
    /// Argo CD serves the app from another namespace than environment.yaml's `argocdNamespace`.
    #[error("application '{app}' lives in namespace '{served}', but argocdNamespace in environment.yaml is '{configured}'; set argocdNamespace: {served} (or the app's namespace, for an app outside Argo CD's own)")]
    NamespaceMismatch {
        /// The application.
        app: String,
        /// The namespace Argo CD served it from.
        served: String,
        /// environment.yaml's `argocdNamespace`.
        configured: String,
    },
    /// 400 / code 9, "Cannot sync to X: auto-sync currently set to Y": Argo
    /// CD syncs an app with an automated policy only to its targetRevision
    /// (argo-cd 3.2.11 `server/application/application.go`, `resolveSourceRevisions`).
    #[error("Argo CD refuses to sync '{app}' to another revision than its targetRevision while its automated sync policy is on ({message}); drop --revision, point the Application's targetRevision at that revision in Git, or turn automated sync off")]
    RevisionRefused {
        /// The application.
        app: String,
        /// Argo CD's message.
        message: String,
    },
    /// 400 / code 9, "another operation is already in progress".
    #[error("another operation is already in progress on '{app}'")]
    OperationInProgress {
        /// The application.
        app: String,
    },
    /// Any other error body Argo CD sent.
    #[error("Argo CD refused {what}: HTTP {status}, code {code}: {message}")]
    Api {
        /// The request, e.g. `sync of temporal`.
        what: String,
        /// HTTP status.
        status: u16,
        /// gRPC code.
        code: i32,
        /// Argo CD's message.
        message: String,
    },
    /// Transient failures outlasted every retry.
    #[error("failed to reach Argo CD for {what} after {attempts} attempts: {last}")]
    Unavailable {
        /// The request.
        what: String,
        /// Attempts made.
        attempts: u32,
        /// The last error.
        last: String,
    },
    /// The TLS handshake failed in a way that no retry changes.
    #[error("failed to reach Argo CD at {server} for {what}: the TLS handshake failed ({detail}); {}", .failure.hint())]
    Tls {
        /// The request.
        what: String,
        /// The server as configured.
        server: String,
        /// Why, and so what to do.
        failure: TlsFailure,
        /// rustls' words for it.
        detail: String,
    },
    /// An answer whose body is not Argo CD's API: a proxy's or an ingress's page.
    #[error("{0}")]
    NotArgoCd(ForeignAnswer),
    /// A response body that does not decode.
    #[error("failed to decode Argo CD's answer to {what}: {source}")]
    Decode {
        /// The request.
        what: String,
        /// The decode error.
        #[source]
        source: serde_json::Error,
    },
    /// The HTTP client could not be built (bad CA bundle, TLS setup).
    #[error("failed to set up the Argo CD client: {0}")]
    Setup(#[source] reqwest::Error),
}

impl ArgoError {
    /// Maps an error body to a typed error. `app` names the application the request was about.
    pub fn from_body(
        what: &str,
        app: &str,
        status: u16,
        code: i32,
        message: String,
        project: Option<&str>,
    ) -> ArgoError {
        // A body without a gRPC code (a proxy's page, an unparsed chunk) is typed by its HTTP status.
        let code = match (code, status) {
            (0, 401) => grpc::UNAUTHENTICATED,
            (0, 403) => grpc::PERMISSION_DENIED,
            _ => code,
        };
        match code {
            grpc::PERMISSION_DENIED if message.contains("blocked by sync window") => {
                ArgoError::SyncWindow { app: app.to_owned(), message }
            }
            grpc::UNAUTHENTICATED => ArgoError::Unauthenticated { message },
            grpc::PERMISSION_DENIED => ArgoError::PermissionDenied {
                app: app.to_owned(),
                message,
                project_hint: match project {
                    Some(p) => format!(" '{p}'"),
                    None => " (set argocd.project in environment.yaml to get 'not found' instead of 'permission denied' for a missing app)".to_owned(),
                },
            },
            grpc::NOT_FOUND => ArgoError::NotFound { app: app.to_owned() },
            grpc::FAILED_PRECONDITION if message.contains("auto-sync currently set to") => {
                ArgoError::RevisionRefused { app: app.to_owned(), message }
            }
            grpc::FAILED_PRECONDITION if message.contains("another operation is already in progress") => {
                ArgoError::OperationInProgress { app: app.to_owned() }
            }
            _ => ArgoError::Api {
                what: what.to_owned(),
                status,
                code,
                message,
            },
        }
    }
}

/// The error and its causes in one line: reqwest's top-level message alone
/// ("error sending request") hides whether it was a refusal, a reset or TLS.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
