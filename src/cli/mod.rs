//! The top layer: the command line. Raw clap values (`args`), what a
//! rejected command line still says (`usage`), the loader that checks them
//! into a `crate::config::Config` (`load`, `values`), `executor dag` (`dag`),
//! `executor report` (`report`), and one run from argv to exit code (`run`). Only the binary's entry uses it.

pub mod args;
pub mod dag;
pub mod load;
pub mod report;
pub mod run;
pub mod signals;
pub mod usage;
pub mod values;
