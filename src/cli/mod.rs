//! Command-line inputs: raw clap values (`args`), the environment file
//! (`environment`), and the validated run configuration (`config`).

pub mod args;
pub mod config;
pub mod environment;
