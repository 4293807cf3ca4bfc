//! The small input values of a run (action, scope, log settings, PV policy,
//! trace context) and how each parses. Failures are `ConfigError`s.

use std::fmt;

use super::args::RunArgs;
use super::error::ConfigError;

/// One of the contract's three actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Sync and wait until ready.
    Deploy,
    /// Read-only health and sync check.
    Validate,
    /// Delete and wait until gone.
    Teardown,
}

impl Action {
    /// The action's name as the CLI and the report spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Deploy => "deploy",
            Action::Validate => "validate",
            Action::Teardown => "teardown",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the action applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every node of the DAG.
    Platform,
    /// One stack of the DAG and its children.
    Stack(String),
    /// One Argo CD Application.
    App(String),
}

impl Scope {
    /// Parses `platform`, `stack:<name>` or `app:<name>`.
    pub fn parse(text: &str) -> Result<Scope, String> {
        let valid_name = |name: &str| {
            !name.is_empty()
                && name.len() <= 253
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
                && !name.starts_with(['-', '.'])
                && !name.ends_with(['-', '.'])
        };
        let scope = match text.split_once(':') {
            None if text == "platform" => return Ok(Scope::Platform),
            Some(("stack", name)) if valid_name(name) => Scope::Stack(name.to_owned()),
            Some(("app", name)) if valid_name(name) => Scope::App(name.to_owned()),
            Some((kind @ ("stack" | "app"), "")) => {
                return Err(format!(
                    "the name after '{kind}:' is empty; write it like {kind}:temporal"
                ))
            }
            Some(("stack" | "app", name)) => {
                return Err(format!(
                    "'{name}' is not a valid name; use lowercase letters, digits, '-' and '.', as Kubernetes names do"
                ))
            }
            _ => return Err("expected platform, stack:<name> or app:<name>".to_owned()),
        };
        Ok(scope)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Platform => f.write_str("platform"),
            Scope::Stack(name) => write!(f, "stack:{name}"),
            Scope::App(name) => write!(f, "app:{name}"),
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_as_the_contract_spells_them() {
        assert_eq!(Scope::parse("platform"), Ok(Scope::Platform));
        assert_eq!(Scope::parse("stack:data"), Ok(Scope::Stack("data".into())));
        assert_eq!(
            Scope::parse("app:temporal"),
            Ok(Scope::App("temporal".into()))
        );
        for bad in [
            "",
            "app:",
            "app:Temporal",
            "apps:x",
            "stack",
            "platform:x",
            "app:-x",
            "app:a b",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
