//! End-to-end scenarios against the real stack of `e2e/`: etcd, kube-apiserver,
//! kube-controller-manager, and Argo CD's server, repo-server and controller,
//! on 127.0.0.1. Run with `e2e/up` first, then `cargo test --test e2e`.
//!
//! Not part of the README's `cargo test` (the target has `test = false`):
//! `.ci/run` runs it as its own step after `e2e/up`. Outside CI a missing stack
//! skips each scenario with a message; with `CI` set it fails.

mod expect;
#[macro_use]
mod fixture;

mod access;
mod calibration;
mod checks;
mod cluster;
mod compliance;
mod deploy;
mod kargo;
mod operations;
mod platform;
mod rbac;
mod teardown;
mod validate;
mod volumes;
mod workflows;
