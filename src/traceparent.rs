//! The W3C `traceparent` of the current span, for the requests the run
//! sends: Argo CD's and the Kubernetes API's carry the span they belong to.
//! Imports nothing of ours.

use opentelemetry::trace::TraceContextExt;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// `00-<trace id>-<span id>-01` of the current span, when it has a valid context.
pub fn current() -> Option<String> {
    let (trace_id, span_id) = ids(&tracing::Span::current())?;
    Some(format!("00-{trace_id}-{span_id}-01"))
}

/// The (trace id, span id) of `span`, as hex, when it has a valid context.
pub fn ids(span: &tracing::Span) -> Option<(String, String)> {
    let context = span.context();
    let otel = context.span();
    let ids = otel.span_context();
    ids.is_valid()
        .then(|| (ids.trace_id().to_string(), ids.span_id().to_string()))
}
