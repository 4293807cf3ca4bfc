//! The top-level error of a run that could not produce an outcome, and its
//! one exhaustive mapping to an exit code.

use crate::argocd::ArgoError;
use crate::config::ConfigError;
use crate::exit::ExitCode;

/// Why a run ended without component results.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad inputs, found before any network call.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The Argo CD client could not be set up.
    #[error(transparent)]
    ArgoCd(#[from] ArgoError),
    /// The embedded simulator could not start.
    #[error("failed to start the simulator: {0}")]
    Simulator(#[source] std::io::Error),
}

impl Error {
    /// The contract's exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Config(_) => ExitCode::INVALID,
            Error::ArgoCd(_) => ExitCode::FAILURE,
            Error::Simulator(_) => ExitCode::FAILURE,
        }
    }
}
