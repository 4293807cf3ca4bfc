//! The Argo CD side: API types, the REST client, the watch stream and errors.

pub mod client;
pub mod error;
pub mod foreign;
pub mod stream;
pub mod tls;
pub mod types;

pub use client::{Client, ClientOptions, RequestCounts};
pub use error::ArgoError;
