//! executor: deploys, validates and tears down a Kubernetes platform through Argo CD.
//!
//! The contract (inputs, exit codes, report) is `executor-contract.md`; the README
//! prints its tables. Each concept lives in one module:
//!
//! - [`vocabulary`]: actions, scopes, names, durations; it imports nothing of ours;
//! - [`exit`]: the exit codes, by name, and [`outcome`]: the one mapping to them;
//! - [`config`]: the checked configuration of a run and environment.yaml;
//! - [`argocd`]: the Argo CD REST client, API types and watch stream;
//! - [`cluster`]: the Kubernetes side: cluster access, the API server client, preflight;
//! - [`readiness`]: pure verdicts on one Application snapshot, and [`evidence`]: what a failed one shows;
//! - [`checks`]: the critical health checks of health.yaml and the built-ins;
//! - [`compliance`]: validate's compliance rules over live manifests, and exemptions;
//! - [`deadline`]: a component's deadlines and the settings they came from;
//! - [`wait`]: the event loop over the watch stream;
//! - [`actions`]: deploy, validate and teardown;
//! - [`report`]: the `report.json` schema, [`metrics`]: its Prometheus rendering,
//!   [`outputs`]: the atomic writer of both, `exit-code` and `status`, [`push`]: their push to a
//!   Pushgateway, and [`advice`]: what to do next;
//! - [`object`]: reading a manifest's fields as JSON, for the rules that judge objects;
//! - [`run_id`]: the id that marks this run's operations, and [`request_stats`]: the requests it sent;
//! - [`workflow_result`]: a rendered platform workflow's result, from its exit handler;
//! - [`cli`]: the top layer, used only by the binary: arguments, the loader, and
//!   [`cli::run`], one run from argv to exit code;
//! - [`sim`]: a stateful Argo CD simulator for tests, benchmarks and `--simulate`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod actions;
pub mod advice;
pub mod argocd;
pub mod checks;
pub mod cli;
pub mod cluster;
pub mod compliance;
pub mod config;
pub mod crash;
pub mod dag;
pub mod deadline;
pub mod error;
pub mod evidence;
pub mod exit;
pub mod metrics;
pub mod object;
pub mod outcome;
pub mod outputs;
pub mod progress;
pub mod push;
pub mod readiness;
pub mod report;
pub mod report_view;
pub mod request_stats;
pub mod run_id;
pub mod sim;
pub mod simulate;
pub mod summary;
pub mod telemetry;
pub mod traceparent;
pub mod vocabulary;
pub mod wait;
pub mod workflow_result;
