//! The critical health checks of one app, sent: deploy waits for them
//! after Argo CD reports the app ready (within the app's health timeout,
//! counted from then); validate makes each once. Which checks apply, and
//! what a finding means, is decided in `crate::checks`.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::Value;
use tokio::time::Instant;

use super::context::RunContext;
use crate::checks::builtin::{self, Builtin};
use crate::checks::finding::Verdict;
use crate::checks::plan::Http;
use crate::checks::{plan, CheckRecord, CheckState, Finding, Health, Planned, Probe, Rule};
use crate::cluster::resource::{judge, Condition, ObjectRef, State};
use crate::cluster::{Cluster, ClusterError};
use crate::deadline::Deadline;
use crate::outcome::{ComponentResult, ComponentStatus as S, FailureReason as R};

/// How often deploy asks again while a check does not hold yet.
const RECHECK: Duration = Duration::from_secs(2);

/// What one round of checks found: each check with its finding, or why it
/// was not made (no cluster access; an HTTP check in a simulated run).
type Round = Vec<(Planned, Result<Finding, &'static str>)>;

/// Why an HTTP check is not sent in a simulated run.
const SIMULATED: &str = "a simulated run sends no HTTP check";

/// deploy: `result` is an app Argo CD reports ready; it stays so only once
/// every check holds. A check that does not hold yet is asked again every
/// 2 s until `deadline` (Timeout); one that fails past the degraded grace
/// period fails the app.
pub async fn gate(
    ctx: &RunContext,
    mut result: ComponentResult,
    deadline: &Deadline,
) -> ComponentResult {
    let planned = plan(&result.name, &result.managed, &ctx.config.checks);
    if planned.is_empty() {
        return result;
    }
    let ends = deadline.ends();
    let grace = ctx.config.health.degraded_grace_period;
    let suspended = ctx.config.health.suspended_is;
    let mut failing_since: Option<Instant> = None;
    loop {
        let round = round(ctx, &planned, ends).await;
        let verdicts: Vec<Option<Verdict>> = round
            .iter()
            .map(|(_, f)| f.as_ref().ok().map(|f| f.state(suspended)))
            .collect();
        let first = |wanted: Verdict| verdicts.iter().position(|v| *v == Some(wanted));
        result.checks = records(&round, suspended);
        let ((Some(at), _) | (None, Some(at))) = (first(Verdict::Fails), first(Verdict::NotYet))
        else {
            return result;
        };
        let (check, finding) = (
            &round[at].0,
            round[at].1.clone().unwrap_or_else(Finding::progressing),
        );
        let failing = verdicts[at] == Some(Verdict::Fails);
        let said = said(check, &finding);
        if failing {
            let since = *failing_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= grace {
                return fail(result, S::Failed, R::CheckFailed, said);
            }
        } else {
            failing_since = None;
        }
        tracing::info!(phase = "checks", component = %result.name, "waiting: {said}");
        tokio::time::sleep_until(ends.min(Instant::now() + RECHECK)).await;
        if Instant::now() >= ends {
            let mut result = fail(
                result,
                S::Timeout,
                R::Timeout,
                format!("not within {deadline}: {said}"),
            );
            result.deadlines = vec![deadline.clone()];
            return result;
        }
    }
}

/// validate: every check once. One that does not hold makes the app
/// unhealthy (exit 1), but for the built-ins that only repeat Argo CD's
/// own health vocabulary (`workloads`, `applications`): one of those that is
/// merely not there yet (a rollout in progress) makes it degraded (exit 2),
/// as Argo CD's Progressing would.
pub async fn review(
    ctx: &RunContext,
    mut result: ComponentResult,
    ends: Instant,
) -> ComponentResult {
    let planned = plan(&result.name, &result.managed, &ctx.config.checks);
    if planned.is_empty() {
        return result;
    }
    let suspended = ctx.config.health.suspended_is;
    let round = round(ctx, &planned, ends).await;
    result.checks = records(&round, suspended);
    let mut unhealthy = false;
    let failed: Vec<String> = round
        .iter()
        .filter_map(|(check, finding)| {
            let finding = finding.as_ref().ok()?;
            let verdict = finding.state(suspended);
            let mirrors_argo_cd = matches!(check.name.as_str(), "workloads" | "applications")
                && matches!(check.probe, Probe::Object { .. } | Probe::Child(_));
            unhealthy |=
                verdict == Verdict::Fails || (verdict == Verdict::NotYet && !mirrors_argo_cd);
            (verdict != Verdict::Holds).then(|| said(check, finding))
        })
        .collect();
    if failed.is_empty() {
        return result;
    }
    let said = failed.join("; ");
    match result.status {
        S::Healthy | S::Degraded if unhealthy => fail(result, S::Unhealthy, R::CheckFailed, said),
        S::Healthy => fail(result, S::Degraded, R::CheckFailed, said),
        _ => {
            result.message.push_str(&format!("; {said}"));
            result
        }
    }
}

/// How a check that does not hold is named in messages.
fn said(check: &Planned, finding: &Finding) -> String {
    format!(
        "critical check {} ({}): {}",
        check.name,
        check.probe.target(),
        finding.message
    )
}

fn fail(mut result: ComponentResult, status: S, reason: R, said: String) -> ComponentResult {
    tracing::warn!(phase = "checks", component = %result.name, "{said}");
    result.status = status;
    result.failure = Some(reason);
    result.message = format!("{}; but {said}", result.message);
    result
}

/// The report's records of one round: checks not made are folded into one
/// record per check name and reason, so that an app with forty Deployments
/// does not list forty skipped checks.
fn records(round: &Round, suspended: crate::vocabulary::SuspendedIs) -> Vec<CheckRecord> {
    let mut records: Vec<CheckRecord> = Vec::new();
    let mut skipped: Vec<(String, &str, Vec<String>)> = Vec::new();
    for (check, finding) in round {
        let finding = match finding {
            Ok(finding) => finding,
            Err(why) => {
                match skipped
                    .iter_mut()
                    .find(|(name, reason, _)| *name == check.name && reason == why)
                {
                    Some((_, _, targets)) => targets.push(check.probe.target()),
                    None => skipped.push((check.name.clone(), why, vec![check.probe.target()])),
                }
                continue;
            }
        };
        let status = match finding.state(suspended) {
            Verdict::Holds => CheckState::Passed,
            Verdict::NotYet | Verdict::Fails => CheckState::Failed,
        };
        records.push(CheckRecord {
            name: check.name.clone(),
            target: check.probe.target(),
            status,
            message: finding.message.clone(),
        });
    }
    for (name, why, targets) in skipped {
        let target = match targets.as_slice() {
            [one] => one.clone(),
            many => format!("{} objects", many.len()),
        };
        records.push(CheckRecord {
            name,
            target,
            status: CheckState::Skipped,
            message: format!("not checked: {why}"),
        });
    }
    records
}

/// Every check once, side by side, each within `ends`.
async fn round(ctx: &RunContext, planned: &[Planned], ends: Instant) -> Round {
    let probes = planned.iter().map(|check| async move {
        if check.probe.needs_cluster() && ctx.cluster.is_none() {
            return (check.clone(), Err(super::preflight::NO_CLUSTER));
        }
        if matches!(check.probe, Probe::Http(_) | Probe::Vault(_)) && ctx.config.simulated() {
            return (check.clone(), Err(SIMULATED));
        }
        let found = match tokio::time::timeout_at(ends, probe(ctx, &check.probe)).await {
            Ok(found) => found,
            Err(_) => Finding::new(Health::Unknown, "no answer before the deadline"),
        };
        (check.clone(), Ok(found))
    });
    join_all(probes).await
}

async fn probe(ctx: &RunContext, probe: &Probe) -> Finding {
    match probe {
        Probe::Object { target, rule } => match &ctx.cluster {
            Some(cluster) => object(cluster, target, rule).await,
            None => Finding::new(Health::Unknown, super::preflight::NO_CLUSTER),
        },
        Probe::Selected {
            api_version,
            kind,
            namespace,
            selector,
            rule,
        } => {
            let Some(cluster) = &ctx.cluster else {
                return Finding::new(Health::Unknown, super::preflight::NO_CLUSTER);
            };
            let listed = cluster
                .list(api_version, kind, namespace.as_deref(), selector)
                .await;
            let objects = match listed {
                Ok(objects) => objects,
                Err(ClusterError::UnknownKind { .. }) => Vec::new(),
                Err(e) => return unreadable(&e),
            };
            if objects.is_empty() {
                return Finding::new(Health::Missing, format!("no {kind} matches {selector}"));
            }
            let mut findings = Vec::new();
            for found in &objects {
                let name = found
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                let mut finding = judged(cluster, rule, found).await;
                finding.message = format!("{name}: {}", finding.message);
                findings.push(finding);
            }
            let suspended = ctx.config.health.suspended_is;
            let worst = Finding::worst(findings, suspended).unwrap_or_else(|| Finding::healthy(""));
            if worst.state(suspended) == Verdict::Holds {
                Finding::healthy(format!("all {} match", objects.len()))
            } else {
                worst
            }
        }
        Probe::Http(http) => match get(http).await {
            Err(why) => Finding::progressing(why),
            Ok((status, body)) => http_finding(http, status, &body),
        },
        Probe::Vault(http) => match get(http).await {
            Err(why) => Finding::progressing(why),
            Ok((status, body)) => builtin::vault(status, &body),
        },
        Probe::Child(name) => match ctx.client.find_app(name, false).await {
            Ok(Some(child)) => builtin::application(&child),
            Ok(None) => Finding::new(Health::Missing, "the Application does not exist"),
            Err(e) => Finding::new(Health::Unknown, e.to_string()),
        },
    }
}

fn unreadable(e: &ClusterError) -> Finding {
    Finding::new(Health::Unknown, format!("cannot read it: {e}"))
}

async fn object(cluster: &Cluster, target: &ObjectRef, rule: &Rule) -> Finding {
    match cluster.get(target).await {
        Ok(Some(found)) => judged(cluster, rule, &found).await,
        Ok(None) | Err(ClusterError::UnknownKind { .. }) => {
            Finding::new(Health::Missing, "it does not exist")
        }
        Err(e) => unreadable(&e),
    }
}

/// `found` judged by `rule`; a postgresql's rule also needs its pods.
async fn judged(cluster: &Cluster, rule: &Rule, found: &Value) -> Finding {
    if found.pointer("/metadata/deletionTimestamp").is_some() {
        return Finding::progressing("it is being deleted");
    }
    match rule {
        Rule::Exists => Finding::healthy("it exists"),
        Rule::Condition(wanted) => match judge(&Condition::True(wanted.clone()), Some(found)) {
            State::Ready(why) => Finding::healthy(why),
            State::NotReady(why) => Finding::progressing(why),
            State::Missing => Finding::new(Health::Missing, "it does not exist"),
        },
        Rule::Field(field) => field.judge(found),
        Rule::Builtin(Builtin::CephCluster) => builtin::ceph_cluster(found),
        Rule::Builtin(Builtin::Workloads(kind)) => kind.judge(found),
        Rule::Builtin(Builtin::Postgresql) => {
            let name = found
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let namespace = found.pointer("/metadata/namespace").and_then(Value::as_str);
            match cluster
                .list("v1", "Pod", namespace, &builtin::postgresql_pods(name))
                .await
            {
                Ok(pods) => builtin::postgresql(found, &pods),
                Err(e) => unreadable(&e),
            }
        }
        Rule::Builtin(Builtin::Applications) => Finding::healthy("it exists"),
    }
}

/// The status and body of a GET, or why there was none.
async fn get(http: &Http) -> Result<(u16, String), String> {
    let mut client = reqwest::Client::builder()
        .timeout(http.timeout)
        .connect_timeout(http.timeout);
    if let Some(pem) = &http.ca_pem {
        for cert in reqwest::Certificate::from_pem_bundle(pem).map_err(|e| e.to_string())? {
            client = client.add_root_certificate(cert);
        }
    }
    let client = client.build().map_err(|e| e.to_string())?;
    let answer = client
        .get(http.url.clone())
        .send()
        .await
        .map_err(|e| format!("no answer: {}", crate::argocd::error::error_chain(&e)))?;
    let status = answer.status().as_u16();
    let body = answer.text().await.unwrap_or_default();
    Ok((status, body))
}

/// An HTTP check: the status, then each JSON field.
fn http_finding(http: &Http, status: u16, body: &str) -> Finding {
    if status != http.status {
        return Finding::progressing(format!("answered {status}, expected {}", http.status));
    }
    if http.json.is_empty() {
        return Finding::healthy(format!("answered {status}"));
    }
    let Ok(body) = serde_json::from_str::<Value>(body) else {
        return Finding::new(
            Health::Unknown,
            format!("answered {status} without a JSON body"),
        );
    };
    let findings = http.json.iter().map(|field| field.judge(&body));
    match Finding::worst(findings, crate::vocabulary::SuspendedIs::default()) {
        Some(bad) if bad.health != Health::Healthy => bad,
        _ => Finding::healthy(format!("answered {status} with the expected fields")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::field::{Expect, FieldRule, Path};
    use serde_json::json;

    #[test]
    fn an_http_check_wants_the_status_and_every_field() {
        let http = Http {
            url: reqwest::Url::parse("http://127.0.0.1:1/health").unwrap(),
            status: 200,
            json: vec![FieldRule {
                path: Path::parse("status").unwrap(),
                expect: Expect::Equals(json!("UP")),
            }],
            timeout: Duration::from_secs(1),
            ca_pem: None,
        };
        let cases = [
            (503, "{}", Health::Progressing, "answered 503, expected 200"),
            (
                200,
                "not json",
                Health::Unknown,
                "answered 200 without a JSON body",
            ),
            (
                200,
                r#"{"status":"DOWN"}"#,
                Health::Progressing,
                "status is DOWN, expected UP",
            ),
            (
                200,
                r#"{"status":"UP"}"#,
                Health::Healthy,
                "answered 200 with the expected fields",
            ),
        ];
        for (status, body, health, message) in cases {
            let found = http_finding(&http, status, body);
            assert_eq!(
                (found.health, found.message.as_str()),
                (health, message),
                "{status} {body}"
            );
        }
    }
}
