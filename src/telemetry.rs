//! Logging and tracing: one `init()` for text or JSON lines on stderr, in the
//! contract's format, and spans: one per action, per DAG node and per API
//! request, exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//!
//! Text: `2026-01-07T10:30:00Z INFO [deploy/sync/temporal] message`.
//! JSON: `{"timestamp","level","action","phase","component","message"}` plus
//! `trace_id` and `span_id`: the current span's (the run's trace: the caller's
//! TRACE_ID, or a generated one), else the caller's when given.

use std::fmt::{self, Write as _};
use std::sync::OnceLock;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::{filter_fn, LevelFilter};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

use crate::config::{LogFormat, LogLevel, LogSettings, TraceContext};

/// The run's own span ids (trace, span), for lines logged outside any span
/// of ours (the HTTP client's background tasks).
static RUN_SPAN: OnceLock<(String, String)> = OnceLock::new();

/// How long the export of the spans may take at the end of a run.
const EXPORT_TIMEOUT: Duration = Duration::from_millis(500);
/// After a signal: the run exits within 2 s of it, and exporting comes last.
const CANCELLED_EXPORT_TIMEOUT: Duration = Duration::from_millis(150);

/// The span pipeline of a run; [`Telemetry::shutdown`] exports what is left.
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    /// The span of the whole run, child of the caller's span when TRACE_ID
    /// (and SPAN_ID) gave one; its outcome is recorded at the end.
    pub fn action_span(
        &self,
        action: &str,
        scope: &str,
        environment: &str,
        caller: Option<&TraceContext>,
    ) -> tracing::Span {
        let span = tracing::info_span!(
            "action",
            otel.name = %format!("executor {action}"),
            otel.kind = "internal",
            action = %action,
            scope = %scope,
            environment = %environment,
            status = tracing::field::Empty,
            exit_code = tracing::field::Empty,
        );
        if let Some(parent) = caller.and_then(remote_parent) {
            let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(parent));
        }
        if let Some(ids) = crate::traceparent::ids(&span) {
            let _ = RUN_SPAN.set(ids);
        }
        span
    }

    /// Ends the pipeline, exporting the spans not yet sent (within
    /// [`EXPORT_TIMEOUT`], less after a signal); a failure is a warning.
    pub fn shutdown(self, signalled: bool) {
        let timeout = if signalled {
            CANCELLED_EXPORT_TIMEOUT
        } else {
            EXPORT_TIMEOUT
        };
        if let Err(e) = self.provider.shutdown_with_timeout(timeout) {
            tracing::warn!(phase = "trace", "exporting the spans failed: {e}");
        }
    }
}

/// The caller's span as a remote parent.
fn remote_parent(caller: &TraceContext) -> Option<SpanContext> {
    let context = SpanContext::new(
        TraceId::from_hex(&caller.trace_id).ok()?,
        SpanId::from_hex(&caller.span_id).ok()?,
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    context.is_valid().then_some(context)
}

/// Installs the global logger and span pipeline. Later calls install
/// nothing. With a progress view, log lines are printed above it instead of
/// straight to stderr. With `otlp`, spans go to `<otlp>/v1/traces` over
/// OTLP/HTTP (protobuf); without, they only give the ids in log lines and
/// `traceparent` headers.
pub fn init(
    settings: LogSettings,
    action: &str,
    trace: Option<&TraceContext>,
    progress: Option<&crate::progress::ProgressView>,
    otlp: Option<&reqwest::Url>,
) -> Telemetry {
    let level = match settings.level {
        LogLevel::Debug => Level::DEBUG,
        LogLevel::Info => Level::INFO,
        LogLevel::Warn => Level::WARN,
        LogLevel::Error => Level::ERROR,
    };
    let format = LineFormat {
        json: settings.format == LogFormat::Json,
        action: action.to_owned(),
        trace: trace.cloned(),
    };
    let resource = opentelemetry_sdk::Resource::builder_empty()
        .with_service_name("executor")
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    let mut provider = SdkTracerProvider::builder().with_resource(resource);
    if let Some(base) = otlp {
        use opentelemetry_otlp::WithExportConfig;
        let endpoint = format!("{}/v1/traces", base.as_str().trim_end_matches('/'));
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .with_timeout(EXPORT_TIMEOUT)
            .build();
        match exporter {
            Ok(exporter) => provider = provider.with_batch_exporter(exporter),
            Err(e) => eprintln!("warning: spans will not be exported to {base}: {e}"),
        }
    }
    let provider = provider.build();
    // Our own spans only: the HTTP and Kubernetes client crates' spans are not the run's.
    let spans = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("executor"))
        .with_tracked_inactivity(false)
        .with_threads(false)
        .with_filter(filter_fn(|meta| meta.target().starts_with("executor")));
    let lines = tracing_subscriber::fmt::layer().event_format(format);
    let lines = match progress {
        Some(view) => lines.with_writer(view.clone()).boxed(),
        None => lines.with_writer(std::io::stderr).boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(spans)
        .with(lines.with_filter(LevelFilter::from_level(level)))
        .try_init();
    Telemetry { provider }
}

struct LineFormat {
    json: bool,
    action: String,
    trace: Option<TraceContext>,
}

#[derive(Default)]
struct Fields {
    message: String,
    phase: Option<String>,
    component: Option<String>,
    extra: Vec<(&'static str, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field.name(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field.name(), format!("{value:?}"));
    }
}

impl Fields {
    fn put(&mut self, name: &'static str, value: String) {
        match name {
            "message" => self.message = value,
            "phase" => self.phase = Some(value),
            "component" => self.component = Some(value),
            _ => self.extra.push((name, value)),
        }
    }
}

impl LineFormat {
    /// The ids a line carries: the current span's, else the caller's.
    fn ids(&self) -> Option<(String, String)> {
        crate::traceparent::ids(&tracing::Span::current())
            .or_else(|| RUN_SPAN.get().cloned())
            .or_else(|| {
                self.trace
                    .as_ref()
                    .map(|t| (t.trace_id.clone(), t.span_id.clone()))
            })
    }
}

impl<S, N> FormatEvent<S, N> for LineFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let level = event.metadata().level().as_str();
        if self.json {
            let mut line = serde_json::Map::new();
            line.insert(
                "timestamp".into(),
                Utc::now()
                    .to_rfc3339_opts(SecondsFormat::Millis, true)
                    .into(),
            );
            line.insert("level".into(), level.to_ascii_lowercase().into());
            line.insert("action".into(), self.action.clone().into());
            line.insert("phase".into(), fields.phase.unwrap_or_default().into());
            line.insert(
                "component".into(),
                fields.component.unwrap_or_default().into(),
            );
            line.insert("message".into(), fields.message.into());
            for (k, v) in fields.extra {
                line.insert(k.into(), v.into());
            }
            if let Some((trace_id, span_id)) = self.ids() {
                line.insert("trace_id".into(), trace_id.into());
                line.insert("span_id".into(), span_id.into());
            }
            writeln!(w, "{}", serde_json::Value::Object(line))
        } else {
            let mut context = self.action.clone();
            for part in [fields.phase, fields.component].into_iter().flatten() {
                let _ = write!(context, "/{part}");
            }
            let ts = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
            write!(w, "{ts} {level} [{context}] {}", fields.message)?;
            for (k, v) in fields.extra {
                write!(w, " {k}={v}")?;
            }
            writeln!(w)
        }
    }
}
