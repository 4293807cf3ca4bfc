//! Critical health checks (RFC-DEPLOY-0001 §5.5): what must hold, beyond
//! Argo CD's own health, before an app counts as ready (deploy) or healthy
//! (validate). [`file`] reads `<config-dir>/health.yaml`; [`plan`] decides
//! which checks apply to one app (the file's, and the built-ins over the
//! app's managed resources); [`finding`], [`field`], [`workload`] and
//! [`builtin`] judge what a probe found, as pure functions over JSON.
//! `actions::checks` sends the requests.

pub mod builtin;
pub mod field;
pub mod file;
pub mod finding;
pub mod plan;
pub mod workload;

pub use file::HealthChecks;
pub use finding::{CheckRecord, CheckState, Finding, Health};
pub use plan::{plan, Planned, Probe, Rule};
