//! What stands in front of the API: recording, injected faults, argocd-server's
//! content-type check and bearer-token authentication, in that order.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::server::Shared;
use super::stream::STREAM_PATH;
use crate::argocd::types::grpc;

/// Bodies larger than this are refused; no Argo CD request comes close.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// One request as the simulator received it.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedRequest {
    /// `GET`, `POST`, `DELETE`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query string, `""` if none.
    pub query: String,
    /// The body as JSON; a body that is not JSON is kept as a JSON string; `None` if empty.
    pub body: Option<serde_json::Value>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The `Authorization` header.
    pub authorization: Option<String>,
    /// The W3C `traceparent` header.
    pub traceparent: Option<String>,
    /// The status code answered.
    pub status: u16,
    /// When the request arrived.
    pub at: std::time::Instant,
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

fn recorded_body(bytes: &[u8]) -> Option<serde_json::Value> {
    if bytes.is_empty() {
        return None;
    }
    Some(
        serde_json::from_slice(bytes).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned())
        }),
    )
}

/// The middleware: records the request, applies faults and checks, then routes.
pub(crate) async fn gate(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_BODY_BYTES).await;
    let recorded = RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        body: bytes.as_deref().ok().and_then(recorded_body),
        content_type: header_text(&parts.headers, "content-type"),
        authorization: header_text(&parts.headers, "authorization"),
        traceparent: header_text(&parts.headers, "traceparent"),
        status: 0,
        at: std::time::Instant::now(),
    };
    let (index, fault) = shared.record(recorded);
    let revoked = shared
        .faults
        .token_revoked_after
        .is_some_and(|after| index as u64 >= u64::from(after));
    let is_stream = parts.uri.path() == STREAM_PATH;
    if !is_stream && !shared.faults.response_delay.is_zero() {
        tokio::time::sleep(shared.faults.response_delay).await;
    }
    if parts.method == axum::http::Method::DELETE && parts.uri.path().ends_with("/operation") {
        tokio::time::sleep(shared.faults.termination_delay).await;
    }
    let lose_response = matches!(fault, Some(Injected::LostResponse));
    let response = match (fault, bytes) {
        (Some(Injected::Answer(fault)), _) => fault.into_response(),
        (Some(Injected::Reset), _) => reset(),
        (Some(Injected::Stalled), _) => {
            // No data and no close, until the simulator stops.
            let mut shutdown = shared.shutdown.clone();
            let _ = shutdown.wait_for(|stopped| *stopped).await;
            reset()
        }
        (_, Err(_)) => ApiError::invalid_argument("failed to read request body").into_response(),
        (_, Ok(bytes)) => match check(&shared, &parts.method, &parts.headers).and_then(|()| {
            if revoked {
                Err(ApiError::revoked_session())
            } else {
                Ok(())
            }
        }) {
            // Argo CD authenticates userinfo without requiring it
            // (server/session/session.go, AuthFuncOverride): a bad token is
            // `loggedIn: false`, not a 401.
            Err(ApiError::Grpc {
                code: grpc::UNAUTHENTICATED,
                ..
            }) if parts.uri.path() == super::handlers::USERINFO_PATH => {
                next.run(Request::from_parts(parts, Body::from(bytes)))
                    .await
            }
            Err(error) => error.into_response(),
            Ok(()) => {
                next.run(Request::from_parts(parts, Body::from(bytes)))
                    .await
            }
        },
    };
    if lose_response {
        // The handler ran; its answer is lost with the connection.
        shared.set_status(index, 0);
        return reset();
    }
    shared.set_status(index, response.status().as_u16());
    response
}

/// What a request gets besides the handler's answer.
#[derive(Debug)]
pub(crate) enum Injected {
    /// This error instead of the handler's answer.
    Answer(ApiError),
    /// The connection closes before any answer; the handler does not run.
    Reset,
    /// The handler runs, then the connection closes before its answer.
    LostResponse,
    /// No answer and no close: a half-open connection.
    Stalled,
}

impl From<super::chaos::ChaosFault> for Injected {
    fn from(fault: super::chaos::ChaosFault) -> Injected {
        use super::chaos::ChaosFault as F;
        match fault {
            F::Unavailable => Injected::Answer(ApiError::unavailable()),
            F::RateLimited => Injected::Answer(ApiError::RateLimited {
                retry_after_secs: 0,
            }),
            F::Reset => Injected::Reset,
            F::LostResponse => Injected::LostResponse,
        }
    }
}

/// A response whose body fails before anything is written: hyper then closes
/// the connection without sending even the headers, and the client sees the
/// connection closed before a response, as after a reset.
fn reset() -> Response {
    let failed = futures_util::stream::once(async {
        Err::<axum::body::Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected reset",
        ))
    });
    Response::new(Body::from_stream(failed))
}

/// The checks argocd-server makes before a handler runs.
pub(crate) fn check(shared: &Shared, method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    // enforceContentTypes wraps the whole gateway: every method but GET needs
    // exactly `application/json` (compared case-insensitively, parameters not allowed).
    if method != Method::GET {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !content_type.eq_ignore_ascii_case("application/json") {
            return Err(ApiError::UnsupportedMediaType);
        }
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match authorization.strip_prefix("Bearer ") {
        None => Err(ApiError::no_session()),
        Some(token) if token.trim().is_empty() => Err(ApiError::no_session()),
        Some(token) if token.trim() == shared.token => Ok(()),
        Some(_) => Err(ApiError::invalid_session()),
    }
}

/// The fault an arriving request gets, by its position among all requests.
pub(crate) fn fault_for(faults: &super::scenario::Faults, index: usize) -> Option<Injected> {
    let index = index as u64;
    let unavailable = u64::from(faults.unavailable_first);
    let limited = unavailable + u64::from(faults.rate_limited_first);
    if index < unavailable {
        Some(Injected::Answer(ApiError::unavailable()))
    } else if index < limited {
        Some(Injected::Answer(ApiError::RateLimited {
            retry_after_secs: faults.retry_after_secs,
        }))
    } else {
        None
    }
}
