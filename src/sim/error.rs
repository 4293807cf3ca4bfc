//! The errors the simulated API answers with, shaped like argocd-server's.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::argocd::types::{grpc, ApiErrorBody};

/// gRPC code for ResourceExhausted, used for rate limiting (HTTP 429).
const RESOURCE_EXHAUSTED: i32 = 8;
/// gRPC code for Unimplemented (here: a known path with the wrong method).
const UNIMPLEMENTED: i32 = 12;

/// An error answer of the simulated API.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// A gRPC status, rendered by the gateway as `{"error","code","message"}`.
    #[error("{message}")]
    Grpc {
        /// The gRPC status code.
        code: i32,
        /// The message, also copied into `error`.
        message: String,
    },
    /// argocd-server's `enforceContentTypes` rejected the request before the gateway saw it.
    #[error("Invalid content type")]
    UnsupportedMediaType,
    /// Injected rate limiting.
    #[error("too many requests")]
    RateLimited {
        /// Seconds for the `Retry-After` header.
        retry_after_secs: u64,
    },
}

impl ApiError {
    fn grpc(code: i32, message: impl Into<String>) -> ApiError {
        ApiError::Grpc {
            code,
            message: message.into(),
        }
    }

    /// 401: no bearer token at all.
    pub(crate) fn no_session() -> ApiError {
        ApiError::grpc(grpc::UNAUTHENTICATED, "no session information")
    }

    /// 401: a token that is not the scenario's.
    pub(crate) fn invalid_session() -> ApiError {
        ApiError::grpc(
            grpc::UNAUTHENTICATED,
            "invalid session: token signature is invalid",
        )
    }

    /// 401: a token deleted from its account since it was issued
    /// (argo-cd `util/session/sessionmanager.go`, `Parse`: "account %s does
    /// not have token with id %s", wrapped as an invalid session).
    pub(crate) fn revoked_session() -> ApiError {
        ApiError::grpc(
            grpc::UNAUTHENTICATED,
            "invalid session: account executor does not have token with id 5f0c1e2a",
        )
    }

    /// 403: Argo CD answers this for an unknown app when no project is given,
    /// so that a caller cannot probe which apps exist.
    pub(crate) fn permission_denied() -> ApiError {
        ApiError::grpc(grpc::PERMISSION_DENIED, "permission denied")
    }

    /// 404: the Kubernetes NotFound message, only when a project was given.
    pub(crate) fn app_not_found(name: &str) -> ApiError {
        ApiError::grpc(
            grpc::NOT_FOUND,
            format!("applications.argoproj.io \"{name}\" not found"),
        )
    }

    /// 400 with FailedPrecondition (code 9).
    pub(crate) fn failed_precondition(message: impl Into<String>) -> ApiError {
        ApiError::grpc(grpc::FAILED_PRECONDITION, message)
    }

    /// 400 with InvalidArgument (code 3).
    pub(crate) fn invalid_argument(message: impl Into<String>) -> ApiError {
        ApiError::grpc(grpc::INVALID_ARGUMENT, message)
    }

    /// 503 with Unavailable (code 14), as a proxy in front of a restarting server answers.
    pub(crate) fn unavailable() -> ApiError {
        ApiError::grpc(
            grpc::UNAVAILABLE,
            "connection error: desc = \"transport: Error while dialing: dial tcp 127.0.0.1:8083: connect: connection refused\"",
        )
    }

    /// 404 for a path the gateway does not route.
    pub(crate) fn route_not_found() -> ApiError {
        ApiError::grpc(grpc::NOT_FOUND, "Not Found")
    }

    /// 405 for a routed path with the wrong method.
    pub(crate) fn method_not_allowed() -> ApiError {
        ApiError::grpc(UNIMPLEMENTED, "Method Not Allowed")
    }
}

/// The HTTP status grpc-gateway uses for a gRPC code.
fn http_status(code: i32) -> StatusCode {
    match code {
        grpc::UNAUTHENTICATED => StatusCode::UNAUTHORIZED,
        grpc::PERMISSION_DENIED => StatusCode::FORBIDDEN,
        grpc::NOT_FOUND => StatusCode::NOT_FOUND,
        grpc::FAILED_PRECONDITION | grpc::INVALID_ARGUMENT => StatusCode::BAD_REQUEST,
        grpc::UNAVAILABLE => StatusCode::SERVICE_UNAVAILABLE,
        RESOURCE_EXHAUSTED => StatusCode::TOO_MANY_REQUESTS,
        UNIMPLEMENTED => StatusCode::METHOD_NOT_ALLOWED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn body(code: i32, message: &str) -> Json<ApiErrorBody> {
    Json(ApiErrorBody {
        error: message.to_string(),
        code,
        message: message.to_string(),
    })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Grpc { code, message } => {
                (http_status(code), body(code, &message)).into_response()
            }
            // Go's http.Error: plain text with a trailing newline.
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                [
                    (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                ],
                "Invalid content type\n",
            )
                .into_response(),
            ApiError::RateLimited { retry_after_secs } => {
                let mut response = (
                    StatusCode::TOO_MANY_REQUESTS,
                    body(RESOURCE_EXHAUSTED, "too many requests"),
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                response
            }
        }
    }
}
