//! The report's failure reason for an Argo CD error: the client returns its
//! own `ArgoError`, and the actions name it in the contract's vocabulary here.

use crate::argocd::ArgoError;
use crate::outcome::FailureReason;

/// The contract's failure reason for this error.
pub fn reason_of(error: &ArgoError) -> FailureReason {
    use FailureReason as R;
    match error {
        ArgoError::Unauthenticated { .. } => R::Unauthenticated,
        ArgoError::PermissionDenied { .. } => R::PermissionDenied,
        ArgoError::NotFound { .. } => R::NotFound,
        ArgoError::SyncWindow { .. } => R::SyncWindow,
        ArgoError::RevisionRefused { .. } => R::RevisionRefused,
        ArgoError::NotVisible { .. } => R::PermissionDenied,
        ArgoError::NamespaceMismatch { .. } => R::Invalid,
        ArgoError::Unavailable { .. } | ArgoError::Tls { .. } => R::Unavailable,
        ArgoError::OperationInProgress { .. }
        | ArgoError::Api { .. }
        | ArgoError::NotArgoCd(_)
        | ArgoError::Decode { .. }
        | ArgoError::Setup(_) => R::ApiError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argocd::foreign::ForeignAnswer;
    use crate::argocd::tls::TlsFailure;
    use FailureReason as R;

    /// Every kind of Argo CD error has its reason; the ones the contract does
    /// not name separately are an API error.
    #[test]
    fn each_argo_error_has_its_reason() {
        let app = || "temporal".to_owned();
        let cases = [
            (
                ArgoError::Unauthenticated {
                    message: "invalid session".to_owned(),
                },
                R::Unauthenticated,
            ),
            (
                ArgoError::PermissionDenied {
                    app: app(),
                    message: "permission denied".to_owned(),
                    project_hint: String::new(),
                },
                R::PermissionDenied,
            ),
            (
                ArgoError::SyncWindow {
                    app: app(),
                    message: "cannot sync: blocked by sync window".to_owned(),
                },
                R::SyncWindow,
            ),
            (
                ArgoError::RevisionRefused {
                    app: app(),
                    message: "Cannot sync to v1: auto-sync currently set to main".to_owned(),
                },
                R::RevisionRefused,
            ),
            (ArgoError::NotFound { app: app() }, R::NotFound),
            (
                ArgoError::NotVisible {
                    app: app(),
                    project: "*".to_owned(),
                },
                R::PermissionDenied,
            ),
            (
                ArgoError::NamespaceMismatch {
                    app: app(),
                    served: "argocd".to_owned(),
                    configured: "gitops".to_owned(),
                },
                R::Invalid,
            ),
            (ArgoError::OperationInProgress { app: app() }, R::ApiError),
            (
                ArgoError::Api {
                    what: "sync of temporal".to_owned(),
                    status: 400,
                    code: 3,
                    message: "bad request".to_owned(),
                },
                R::ApiError,
            ),
            (
                ArgoError::Unavailable {
                    what: "get of temporal".to_owned(),
                    attempts: 5,
                    last: "connection refused".to_owned(),
                },
                R::Unavailable,
            ),
            (
                ArgoError::Tls {
                    what: "get of temporal".to_owned(),
                    server: "https://argocd".to_owned(),
                    failure: TlsFailure::Certificate,
                    detail: "invalid peer certificate".to_owned(),
                },
                R::Unavailable,
            ),
            (
                ArgoError::NotArgoCd(ForeignAnswer::new(
                    "https://argocd",
                    502,
                    Some("text/html"),
                    "<html>Bad Gateway</html>",
                )),
                R::ApiError,
            ),
            (
                ArgoError::Decode {
                    what: "get of temporal".to_owned(),
                    source: serde_json::from_str::<()>("x").unwrap_err(),
                },
                R::ApiError,
            ),
            (
                ArgoError::Setup(reqwest::Client::new().get("not a url").build().unwrap_err()),
                R::ApiError,
            ),
        ];
        for (error, reason) in &cases {
            assert_eq!(reason_of(error), *reason, "{error:?}");
        }
    }
}
