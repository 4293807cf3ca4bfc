//! The push of a run's metrics to a Prometheus Pushgateway
//! (`--pushgateway-url`): `PUT <url>/metrics/job/executor/environment/<e>/action/<a>/scope/<s>`,
//! so each environment, action and scope keeps the metrics of its last run,
//! replaced whole by the next one (a PUT replaces the group). A failed push
//! is the caller's warning, never a failure of the action.

use std::time::Duration;

use base64::Engine;
use reqwest::Url;

use crate::report::Report;

/// How long a push may take after a run.
pub const TIMEOUT: Duration = Duration::from_secs(2);
/// After a signal: the run must exit within 2 s of it, most of which the
/// terminations had.
pub const CANCELLED_TIMEOUT: Duration = Duration::from_millis(200);

/// One label of the grouping key as a path pair. Pushgateway reads a value
/// with `/` (or an empty one) only base64url-encoded, with `@base64` after
/// the name (pushgateway README, "URL"); other values go as they are when
/// they need no escaping.
fn pair(name: &str, value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if plain {
        format!("{name}/{value}")
    } else if value.is_empty() {
        format!("{name}@base64/=")
    } else {
        let encoded = base64::engine::general_purpose::URL_SAFE.encode(value);
        format!("{name}@base64/{encoded}")
    }
}

/// The group's URL under `base`: job `executor`, then environment, action and scope.
pub fn group_url(base: &Url, report: &Report) -> Url {
    let path = [
        pair("job", "executor"),
        pair("environment", &report.environment),
        pair("action", &report.action),
        pair("scope", &report.scope),
    ]
    .join("/");
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{prefix}/metrics/{path}"));
    url
}

/// Pushes `text` (metrics.prom) for `report`'s group, within `timeout`.
pub fn push(base: &Url, report: &Report, text: &str, timeout: Duration) -> Result<(), String> {
    let url = group_url(base, report);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the push: {e}"))?;
    let sent = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| e.to_string())?;
        let response = client
            .put(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "text/plain; version=0.0.4")
            .body(text.to_owned())
            .send()
            .await
            .map_err(|e| crate::argocd::error::error_chain(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        Err(format!("answered {status}: {}", body.trim()))
    });
    runtime.shutdown_background();
    sent.map_err(|e| format!("push of the metrics to {url} failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_plain_or_base64url() {
        let cases = [
            ("scope", "app:temporal", "scope/app:temporal"),
            ("scope", "platform", "scope/platform"),
            ("environment", "", "environment@base64/="),
            // "a/b" base64url-encoded.
            ("scope", "a/b", "scope@base64/YS9i"),
            ("scope", "ü", "scope@base64/w7w="),
        ];
        for (name, value, want) in cases {
            assert_eq!(pair(name, value), want, "{value:?}");
        }
    }
}
