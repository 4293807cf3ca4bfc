//! The binary on its own, without a simulator: `executor dag`, `--help`,
//! completion and usage errors, in a config directory of the tests' layout.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use executor::exit::ExitCode;
use tempfile::TempDir;

use super::environment_yaml;

/// What one run printed.
#[derive(Debug)]
pub struct Output {
    /// The exit code, by name.
    pub code: ExitCode,
    /// The human summary, or what the command prints.
    pub stdout: String,
    /// The logs and errors.
    pub stderr: String,
}

/// Runs `executor <args>` with a clean environment plus `env`.
pub fn executor(args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_executor"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("executor runs");
    let raw = out.status.code().expect("exited, not killed by a signal");
    Output {
        code: ExitCode::from_code(raw)
            .unwrap_or_else(|| panic!("exit {raw} is not in the contract")),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The shipped example configuration.
pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/config")
}

/// A config directory holding the tests' environment.yaml (plus `extra`) and dag.yaml.
pub struct ConfigDir {
    dir: TempDir,
}

impl ConfigDir {
    /// environment.yaml with `extra` appended, and `dag` as dag.yaml.
    pub fn new(extra: &str, dag: &str) -> ConfigDir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("environment.yaml"), environment_yaml(extra)).unwrap();
        std::fs::write(dir.path().join("dag.yaml"), dag).unwrap();
        ConfigDir { dir }
    }

    /// The directory, for `--config-dir`.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes another file into the directory and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}
