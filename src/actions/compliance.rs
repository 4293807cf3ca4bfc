//! validate's compliance report for one app: its live manifests from Argo
//! CD's managed-resources (so that a token alone is enough), each judged by
//! `crate::compliance`. Without `--enforce-compliance` it changes nothing
//! but the report; with it, a failed rule makes the app unhealthy.

use super::context::RunContext;
use crate::compliance::exemption::Subject;
use crate::compliance::{evaluate, Entry, Status};
use crate::outcome::{ComponentResult, ComponentStatus as S, FailureReason as R};

/// Assesses the app of `result` (one that exists) and records the entries on it.
pub async fn assess(ctx: &RunContext, mut result: ComponentResult) -> ComponentResult {
    let app = result.name.clone();
    let resources = match ctx.client.managed_resources(&app).await {
        Ok(found) => found.items.unwrap_or_default(),
        Err(e) => {
            tracing::warn!(phase = "compliance", component = %app, "{e}");
            if ctx.config.enforce_compliance && matches!(result.status, S::Healthy | S::Degraded) {
                // Enforced, what cannot be assessed is no pass.
                result.status = S::Unhealthy;
                result.failure = Some(R::NonCompliant);
                result.message = format!(
                    "{}; but compliance could not be assessed: {e}",
                    result.message
                );
            } else {
                result
                    .message
                    .push_str(&format!("; compliance not assessed: {e}"));
            }
            return result;
        }
    };
    let policy = &ctx.config.environment.compliance;
    let today = chrono::Utc::now().date_naive();
    for resource in &resources {
        let Some(live) = resource
            .live_state
            .as_deref()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            .filter(|live| !live.is_null())
        else {
            continue;
        };
        let subject = Subject {
            app: &app,
            kind: &resource.kind,
            namespace: &resource.namespace,
            name: &resource.name,
        };
        let named = if resource.namespace.is_empty() {
            format!("{} {}", resource.kind, resource.name)
        } else {
            format!("{} {}/{}", resource.kind, resource.namespace, resource.name)
        };
        for rule in evaluate(&live, &policy.required_labels) {
            let (status, message) = policy.judge(&rule, &subject, today);
            result.compliance.push(Entry {
                app: app.clone(),
                resource: named.clone(),
                rule: rule.rule.id(),
                status,
                message,
            });
        }
    }
    let failed: Vec<String> = result
        .compliance
        .iter()
        .filter(|e| e.status == Status::Failed)
        .map(|e| format!("{} {}", e.resource, e.rule))
        .collect();
    if ctx.config.enforce_compliance
        && !failed.is_empty()
        && matches!(result.status, S::Healthy | S::Degraded)
    {
        let shown: Vec<&str> = failed.iter().take(5).map(String::as_str).collect();
        let more = failed.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        result.status = S::Unhealthy;
        result.failure = Some(R::NonCompliant);
        result.message = format!(
            "{}; but not compliant ({} failed: {}{more})",
            result.message,
            failed.len(),
            shown.join(", ")
        );
    }
    result
}
