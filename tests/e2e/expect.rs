//! Expectations on what the real servers hold, and the one bounded poll that
//! waits for them (Argo CD's `Consequences.Expect`): no scenario sleeps a fixed time.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fixture::App;

/// Polls `check` with a growing interval until it holds or `timeout` passes;
/// then fails with what it last saw.
#[track_caller]
pub fn eventually<T>(what: &str, timeout: Duration, check: impl FnMut() -> Result<T, String>) -> T {
    poll(timeout, check)
        .unwrap_or_else(|seen| panic!("expected {what} within {timeout:?}; last saw: {seen}"))
}

/// Polls `check` with a growing interval until it holds (`Ok`) or `timeout`
/// passes (`Err` with what it last saw).
pub fn poll<T>(
    timeout: Duration,
    mut check: impl FnMut() -> Result<T, String>,
) -> Result<T, String> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(50);
    loop {
        match check() {
            Ok(value) => return Ok(value),
            Err(seen) if Instant::now() >= deadline => return Err(seen),
            Err(_) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// A field of the Application as a string, `""` when absent.
pub fn field<'a>(app: &'a Value, pointer: &str) -> &'a str {
    app.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The Application exists and Argo CD says it is Synced and Healthy.
pub fn synced_and_healthy(app: &App) -> Result<Value, String> {
    let live = app.application().ok_or("no Application")?;
    let (sync, health) = (
        field(&live, "/status/sync/status"),
        field(&live, "/status/health/status"),
    );
    if sync == "Synced" && health == "Healthy" {
        Ok(live)
    } else {
        Err(format!("sync {sync}, health {health}"))
    }
}

/// No operation is running on the Application: `operation` cleared and a final phase.
pub fn operation_ended(app: &App) -> Result<String, String> {
    let live = app.application().ok_or("no Application")?;
    let phase = field(&live, "/status/operationState/phase").to_owned();
    if live.get("operation").is_none() && matches!(phase.as_str(), "Succeeded" | "Failed" | "Error")
    {
        Ok(phase)
    } else {
        Err(format!(
            "phase {phase:?}, operation {}, message {:?}",
            if live.get("operation").is_some() {
                "set"
            } else {
                "cleared"
            },
            field(&live, "/status/operationState/message")
        ))
    }
}

/// The Application is gone from the API server.
pub fn application_gone(app: &App) -> Result<(), String> {
    match app.application() {
        None => Ok(()),
        Some(live) => Err(format!(
            "still there, finalizers {}",
            live.pointer("/metadata/finalizers")
                .cloned()
                .unwrap_or_default()
        )),
    }
}
