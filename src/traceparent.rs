//! The W3C `traceparent` of the current span, for the requests the run
//! sends: Argo CD's and the Kubernetes API's carry the span they belong to.
//! Imports nothing of ours.

use opentelemetry::trace::TraceContextExt;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// `00-<trace id>-<span id>-01` of the current span, when it has a valid context.
pub fn current() -> Option<String> {
    let context = tracing::Span::current().context();
    let span = context.span();
    let ids = span.span_context();
    ids.is_valid()
        .then(|| format!("00-{}-{}-01", ids.trace_id(), ids.span_id()))
}
