//! The small checked values of a run: log settings, PV policy, trace context.

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

/// What teardown does with the PersistentVolumes of deleted apps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PvPolicy {
    /// Keep the volumes.
    Retain,
    /// Leave the volumes to their reclaim policy, and check they are gone.
    Delete,
    /// Snapshot each claim's volume (a VolumeSnapshot, ready to use), then retain.
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
