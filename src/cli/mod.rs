//! Command-line inputs: raw clap values (`args`), the environment file
//! (`environment`), small input values (`values`), their errors (`error`),
//! and the validated run configuration (`config`).

pub mod args;
pub mod config;
pub mod environment;
pub mod error;
pub mod values;
