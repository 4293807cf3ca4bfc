//! The Argo CD side: API types, the REST client and its errors.

pub mod types;
