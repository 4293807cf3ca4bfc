//! The Argo CD side: API types, the REST client, the watch stream and errors.
//!
//! Imports point one way: `client` → `stream` → `error` → `foreign`, `tls`,
//! `types`. Nothing here imports the rest of the crate: the client returns
//! its own errors and counters, and `actions/` and `report` map them.

pub mod client;
pub mod error;
pub mod foreign;
pub mod stream;
pub mod tls;
pub mod types;

pub use client::{Client, ClientOptions, RequestCounts};
pub use error::ArgoError;
