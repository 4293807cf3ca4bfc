//! The compliance report of validate: rules over each app's live manifests
//! (Argo CD's managed-resources), per app, resource and rule passed, failed
//! or exempt. [`rules`] judges one object, [`exemption`] decides what is
//! exempt (and when an exemption has expired); `actions::compliance` reads
//! the manifests. It changes no exit code unless `--enforce-compliance`.

pub mod exemption;
pub mod rules;

pub use exemption::{Exemption, Policy};
pub use rules::{evaluate, Rule, RuleResult};

use serde::Serialize;

/// How one rule ended for one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The resource follows the rule.
    Passed,
    /// It does not (or its exemption has expired).
    Failed,
    /// It does not, and an exemption that has not expired covers it.
    Exempt,
}

/// One line of the compliance report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The Application.
    pub app: String,
    /// `Kind namespace/name`.
    pub resource: String,
    /// The rule's id (`image-tag`, `run-as-non-root`, …).
    pub rule: &'static str,
    /// How it ended.
    pub status: Status,
    /// What was found (the containers at fault), and the exemption's reason.
    pub message: String,
}
