//! executor: deploys, validates and tears down a Kubernetes platform through Argo CD.
//!
//! The contract (inputs, exit codes, report) is `executor-contract.md`; the README
//! prints its tables. Each concept lives in one module:
//!
//! - [`exit`]: the exit codes, by name;
//! - [`argocd`]: the Argo CD REST client and API types;
//! - [`sim`]: a stateful Argo CD simulator for tests, benchmarks and `--simulate`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod argocd;
pub mod exit;
pub mod sim;
