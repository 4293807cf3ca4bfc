//! The contract's three actions.

use std::fmt;

/// One of the contract's three actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Sync and wait until ready.
    Deploy,
    /// Read-only health and sync check.
    Validate,
    /// Delete and wait until gone.
    Teardown,
}

impl Action {
    /// The action's name as the CLI and the report spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Deploy => "deploy",
            Action::Validate => "validate",
            Action::Teardown => "teardown",
        }
    }

    /// The action a name spells, as [`Action::as_str`] gives it.
    pub fn from_name(name: &str) -> Option<Action> {
        [Action::Deploy, Action::Validate, Action::Teardown]
            .into_iter()
            .find(|a| a.as_str() == name)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
