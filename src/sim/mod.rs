//! A stateful, faithful fake of the Argo CD REST API, served on 127.0.0.1.
//!
//! Integration tests start it in-process and run the real binary against it,
//! the benchmark measures deploy latency with it, and `executor deploy
//! --simulate` runs against it. It reproduces the behaviour the executor has
//! to get right: asynchronous syncs with a stale-health window, 403 for
//! unknown apps, content-type enforcement, finalizers, and the watch stream.
//! Beside it, `kubernetes` simulates the cluster those apps deploy to, for
//! the executor's Kubernetes side.

mod chaos;
mod controller;
mod error;
mod gate;
mod handlers;
mod kubernetes;
mod model;
mod operations;
mod params;
mod scenario;
mod server;
mod store;
mod stream;

#[cfg(test)]
mod tests;

pub use chaos::{Chaos, ChaosFault};
pub use gate::RecordedRequest;
pub use kubernetes::{equality_labels, Seed};
pub use model::ARGOCD_NAMESPACE;
pub use scenario::{AppScenario, Faults, InitialState, Scenario, SimOutcome};
pub use server::Simulator;
