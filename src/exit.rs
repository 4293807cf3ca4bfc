//! The exit-code contract: the only place the numbers 0–4 appear.
//!
//! Every caller (an Argo Workflows step, a Kargo verification Job, an operator)
//! reads the exit code first. Changing the meaning of a code is a breaking change.

use std::fmt;

/// A process exit code with a name from the executor contract (§2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExitCode(u8);

impl ExitCode {
    /// Every component in scope reached the goal of the action.
    pub const SUCCESS: ExitCode = ExitCode(0);
    /// A component failed and nothing in scope succeeded, or the run could not proceed.
    pub const FAILURE: ExitCode = ExitCode(1);
    /// Some components succeeded and others failed, were skipped, or are degraded.
    pub const PARTIAL: ExitCode = ExitCode(2);
    /// Bad arguments or configuration, detected before any change was made.
    pub const INVALID: ExitCode = ExitCode(3);
    /// A sync, health, wait or deletion deadline passed.
    pub const TIMEOUT: ExitCode = ExitCode(4);

    /// All codes, in numeric order, for tables and tests.
    pub const ALL: [ExitCode; 5] = [
        Self::SUCCESS,
        Self::FAILURE,
        Self::PARTIAL,
        Self::INVALID,
        Self::TIMEOUT,
    ];

    /// The numeric value handed to the operating system.
    pub fn code(self) -> u8 {
        self.0
    }

    /// Looks a code up by its number; `None` for anything outside the contract.
    pub fn from_code(code: i32) -> Option<ExitCode> {
        Self::ALL.into_iter().find(|c| i32::from(c.0) == code)
    }

    /// The contract's name of the code, as the README's table prints it.
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "Success",
            1 => "Failure",
            2 => "Partial",
            3 => "Invalid",
            _ => "Timeout",
        }
    }

    /// The one word written to `<output-dir>/status` for this code.
    pub fn status_word(self) -> &'static str {
        match self.0 {
            0 => "succeeded",
            1 => "failed",
            2 => "partial",
            3 => "invalid",
            _ => "timeout",
        }
    }
}

impl fmt::Display for ExitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.0, self.name())
    }
}

/// As the number, in report.json's `exitCode`.
impl serde::Serialize for ExitCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.0)
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_their_numbers() {
        for code in ExitCode::ALL {
            assert_eq!(ExitCode::from_code(i32::from(code.code())), Some(code));
        }
        assert_eq!(ExitCode::from_code(5), None);
        assert_eq!(ExitCode::from_code(-1), None);
    }

    #[test]
    fn status_words_are_the_contract_words() {
        let words: Vec<_> = ExitCode::ALL.iter().map(|c| c.status_word()).collect();
        assert_eq!(
            words,
            ["succeeded", "failed", "partial", "invalid", "timeout"]
        );
    }
}
