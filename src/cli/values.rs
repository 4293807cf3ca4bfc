//! The small input values of a run (log settings, PV policy, trace context)
//! and how each parses. Failures are `ConfigError`s.

use super::args::RunArgs;
use super::error::ConfigError;

/// Log verbosity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Everything, including each request.
    Debug,
    /// Progress of each component.
    Info,
    /// Only what needs attention.
    Warn,
    /// Only failures.
    Error,
}

/// Log line format on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `2026-01-07T10:30:00Z INFO [deploy/sync/temporal] message`.
    Text,
    /// One JSON object per line.
    Json,
}

/// Logging settings, parsed first so that even an invalid run is logged as asked.
#[derive(Debug, Clone, Copy)]
pub struct LogSettings {
    /// Verbosity.
    pub level: LogLevel,
    /// Format.
    pub format: LogFormat,
}

impl LogSettings {
    /// Reads `--log-level` and `--log-format`; `stderr_is_terminal` picks the default format.
    pub fn from_args(args: &RunArgs, stderr_is_terminal: bool) -> Result<Self, ConfigError> {
        let level = match args
            .log_level
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("info") => LogLevel::Info,
            Some("debug") => LogLevel::Debug,
            Some("warn") | Some("warning") => LogLevel::Warn,
            Some("error") => LogLevel::Error,
            Some(other) => {
                return Err(ConfigError::bad(
                    "--log-level (LOG_LEVEL)",
                    other,
                    "debug, info, warn or error",
                ))
            }
        };
        let format = match args.log_format.as_deref() {
            None if stderr_is_terminal => LogFormat::Text,
            None => LogFormat::Json,
            Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::bad(
                    "--log-format (LOG_FORMAT)",
                    other,
                    "text or json",
                ))
            }
        };
        Ok(Self { level, format })
    }
}

/// What teardown does with the PersistentVolumes of deleted apps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PvPolicy {
    /// Keep the volumes.
    Retain,
    /// Delete the volumes.
    Delete,
    /// Snapshot, then delete.
    Snapshot,
}

/// W3C trace context handed in by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
}

impl TraceContext {
    /// The `traceparent` header value for outgoing requests.
    pub fn traceparent(&self) -> String {
        format!("00-{}-{}-01", self.trace_id, self.span_id)
    }
}
