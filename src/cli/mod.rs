//! Command-line inputs: raw clap values (`args`), the environment file
//! (`environment`), small input values (`values`), their errors (`error`),
//! the validated run configuration (`config`), and what a rejected command
//! line still says (`usage`).

pub mod args;
pub mod config;
pub mod environment;
pub mod error;
pub mod usage;
pub mod values;
