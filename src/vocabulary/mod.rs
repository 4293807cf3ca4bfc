//! The shared vocabulary: the three actions, scopes and the one name rule,
//! what Suspended counts as, and durations (one parse, one format, one serde
//! adapter). It sits at the bottom: every module may import it, and it
//! imports nothing of ours.

pub mod action;
pub mod duration;
pub mod name;
pub mod scope;
pub mod suspended;

pub use action::Action;
pub use scope::Scope;
pub use suspended::SuspendedIs;
