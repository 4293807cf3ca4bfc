//! The Kubernetes side: the executor's own view of the cluster, next to Argo
//! CD's. [`access`] decides which API server and identity (kubeconfig, or the
//! pod's service account), [`client`] talks to it, [`resource`] judges one
//! object, and [`preflight`] checks that a run can proceed before it changes
//! anything.

pub mod access;
pub mod client;
pub mod preflight;
pub mod resource;

pub use access::{Access, AccessError, Source};
pub use client::{Cluster, ClusterError};
