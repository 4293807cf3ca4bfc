//! How the small values of a run parse from the command line: log settings.

use super::args::RunArgs;
use crate::config::{ConfigError, LogFormat, LogLevel, LogSettings};

/// Reads `--log-level` and `--log-format`; `stderr_is_terminal` picks the default format.
pub fn log_settings(args: &RunArgs, stderr_is_terminal: bool) -> Result<LogSettings, ConfigError> {
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
    Ok(LogSettings { level, format })
}
