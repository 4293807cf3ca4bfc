//! The contract's actions, one file each. Each returns a component result;
//! the run turns results into an outcome and an exit code.

pub mod aggregate;
pub mod cancel;
mod checks;
mod compliance;
pub mod context;
pub mod deploy;
pub mod evidence;
pub mod failure;
mod nudge;
pub mod platform;
pub mod preflight;
mod resource;
pub mod scope;
pub mod sync_plan;
mod sync_window;
pub mod teardown;
mod termination;
pub mod validate;
mod volumes;

pub use context::RunContext;
