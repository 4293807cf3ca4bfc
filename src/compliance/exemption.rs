//! environment.yaml's `compliance:` section (the required labels and the
//! exemptions) and the one decision over it: passed, failed or exempt. An
//! exemption needs a reason and an expiry date, and fails once expired, so
//! that no exception outlives its review.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};

use super::rules::{Rule, RuleResult};
use super::Status;

/// `compliance:` in environment.yaml.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Policy {
    /// Labels every workload must have.
    #[serde(default = "default_labels")]
    pub required_labels: Vec<String>,
    /// Exceptions to the rules, each with a reason and an expiry date.
    #[serde(default)]
    pub exemptions: Vec<Exemption>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            required_labels: default_labels(),
            exemptions: Vec::new(),
        }
    }
}

fn default_labels() -> Vec<String> {
    ["app", "team", "owner"].map(String::from).to_vec()
}

/// One exemption: a rule, narrowed to an app and a resource when given.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Exemption {
    /// The rule it exempts from.
    #[serde(deserialize_with = "rule")]
    pub rule: Rule,
    /// Only this Application.
    #[serde(default)]
    pub app: Option<String>,
    /// Only resources of this kind.
    #[serde(default)]
    pub kind: Option<String>,
    /// Only resources in this namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Only the resource of this name.
    #[serde(default)]
    pub name: Option<String>,
    /// Why, for the report.
    #[serde(deserialize_with = "reason")]
    pub reason: String,
    /// The last day it holds (`2027-03-31`); from the day after, the rule fails again.
    pub expires: NaiveDate,
}

fn rule<'de, D: Deserializer<'de>>(de: D) -> Result<Rule, D::Error> {
    let id = String::deserialize(de)?;
    Rule::from_id(&id).ok_or_else(|| {
        let ids: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
        serde::de::Error::custom(format!(
            "`compliance.exemptions[].rule`: '{id}' is no rule; use one of {}",
            ids.join(", ")
        ))
    })
}

fn reason<'de, D: Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    let text = String::deserialize(de)?;
    if text.trim().is_empty() {
        return Err(serde::de::Error::custom(
            "`compliance.exemptions[].reason` is empty: say why the exemption is needed",
        ));
    }
    Ok(text)
}

/// One resource, as exemptions name it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The Application.
    pub app: &'a str,
    /// Its kind.
    pub kind: &'a str,
    /// Its namespace (empty for a cluster-scoped one).
    pub namespace: &'a str,
    /// Its name.
    pub name: &'a str,
}

impl Exemption {
    fn covers(&self, rule: Rule, subject: &Subject) -> bool {
        let matches =
            |wanted: &Option<String>, actual: &str| wanted.as_deref().is_none_or(|w| w == actual);
        self.rule == rule
            && matches(&self.app, subject.app)
            && matches(&self.kind, subject.kind)
            && matches(&self.namespace, subject.namespace)
            && matches(&self.name, subject.name)
    }
}

impl Policy {
    /// The status and message of `result` for `subject` on `today`: a rule
    /// that holds passes; one that does not is exempt while the first
    /// exemption covering it has not expired, and failed otherwise.
    pub fn judge(
        &self,
        result: &RuleResult,
        subject: &Subject,
        today: NaiveDate,
    ) -> (Status, String) {
        let why = match &result.verdict {
            Ok(holds) => return (Status::Passed, holds.clone()),
            Err(why) => why,
        };
        match self
            .exemptions
            .iter()
            .find(|e| e.covers(result.rule, subject))
        {
            None => (Status::Failed, why.clone()),
            Some(e) if e.expires < today => (
                Status::Failed,
                format!(
                    "{why}; its exemption expired on {} ({})",
                    e.expires, e.reason
                ),
            ),
            Some(e) => (
                Status::Exempt,
                format!("{why}; exempt until {}: {}", e.expires, e.reason),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(yaml: &str) -> Result<Policy, String> {
        serde_yaml::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn exemptions_exempt_until_they_expire_and_only_what_they_name() {
        let policy = policy(
            "exemptions:\n  - {rule: host-pid, app: agent, kind: DaemonSet, reason: node metrics, expires: 2026-12-31}\n  - {rule: probes, reason: batch tools, expires: 2026-11-30}\n",
        )
        .unwrap();
        let failing = |rule| RuleResult {
            rule,
            verdict: Err("no".to_owned()),
        };
        let agent = Subject {
            app: "agent",
            kind: "DaemonSet",
            namespace: "mon",
            name: "agent",
        };
        let other = Subject {
            app: "web",
            ..agent
        };
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        let cases = [
            (
                failing(Rule::HostPid),
                agent,
                "2026-12-31",
                Status::Exempt,
                "no; exempt until 2026-12-31: node metrics",
            ),
            (
                failing(Rule::HostPid),
                agent,
                "2027-01-01",
                Status::Failed,
                "no; its exemption expired on 2026-12-31 (node metrics)",
            ),
            (
                failing(Rule::HostPid),
                other,
                "2026-12-01",
                Status::Failed,
                "no",
            ),
            (
                failing(Rule::HostNetwork),
                agent,
                "2026-12-01",
                Status::Failed,
                "no",
            ),
            (
                failing(Rule::Probes),
                other,
                "2026-12-02",
                Status::Failed,
                "no; its exemption expired on 2026-11-30 (batch tools)",
            ),
            (
                RuleResult {
                    rule: Rule::HostPid,
                    verdict: Ok("fine".to_owned()),
                },
                other,
                "2026-12-01",
                Status::Passed,
                "fine",
            ),
        ];
        for (result, subject, today, status, message) in cases {
            assert_eq!(
                policy.judge(&result, &subject, day(today)),
                (status, message.to_owned()),
                "{result:?} {today}"
            );
        }
        assert_eq!(Policy::default().required_labels, ["app", "team", "owner"]);
    }

    #[test]
    fn a_bad_exemption_is_named_with_the_fix() {
        let cases = [
            (
                "exemptions:\n  - {rule: hostPID, reason: x, expires: 2026-12-31}\n",
                "'hostPID' is no rule; use one of image-tag",
            ),
            (
                "exemptions:\n  - {rule: host-pid, reason: ' ', expires: 2026-12-31}\n",
                "reason` is empty",
            ),
            (
                "exemptions:\n  - {rule: host-pid, reason: x}\n",
                "missing field `expires`",
            ),
            (
                "exemptions:\n  - {rule: host-pid, reason: x, expires: next week}\n",
                "expires",
            ),
            (
                "exemptions:\n  - {rule: host-pid, reason: x, expires: 2026-12-31, until: 1}\n",
                "unknown field `until`",
            ),
        ];
        for (yaml, expected) in cases {
            let error = policy(yaml).unwrap_err();
            assert!(error.contains(expected), "{yaml}: {error}");
        }
    }
}
