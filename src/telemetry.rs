//! Logging: one `init()` for text or JSON lines on stderr, in the contract's format.
//!
//! Text: `2026-01-07T10:30:00Z INFO [deploy/sync/temporal] message`.
//! JSON: `{"timestamp","level","action","phase","component","message"}` plus
//! `trace_id` and `span_id` when the caller passed a trace context.

use std::fmt::{self, Write as _};

use chrono::{SecondsFormat, Utc};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::config::{LogFormat, LogLevel, LogSettings, TraceContext};

/// Installs the global logger. Later calls are ignored. With a progress view,
/// log lines are printed above it instead of straight to stderr.
pub fn init(
    settings: LogSettings,
    action: &str,
    trace: Option<&TraceContext>,
    progress: Option<&crate::progress::ProgressView>,
) {
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
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .event_format(format);
    let _ = match progress {
        Some(view) => builder.with_writer(view.clone()).try_init(),
        None => builder.with_writer(std::io::stderr).try_init(),
    };
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
            if let Some(t) = &self.trace {
                line.insert("trace_id".into(), t.trace_id.clone().into());
                line.insert("span_id".into(), t.span_id.clone().into());
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
