//! Shared helpers: a `TestContext` that lays out config, secrets and output
//! directories, starts the simulator, runs the binary, and reads the results.

pub mod canned;
pub mod cli;
pub mod swagger;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use executor::exit::ExitCode;
use executor::sim::{RecordedRequest, Scenario, Simulator};
use serde_json::Value;
use tempfile::TempDir;

/// The token the tests' simulator accepts.
pub const TOKEN: &str = "test-token";
/// The environment every test deploys to.
pub const ENVIRONMENT: &str = "test";

/// One test's world: directories, a running simulator, and the binary.
pub struct TestContext {
    /// Holds every directory below; removed on drop.
    _dir: TempDir,
    /// `--config-dir`, holding environment.yaml.
    pub config_dir: PathBuf,
    /// `--secrets-dir`, holding argocd-token.
    pub secrets_dir: PathBuf,
    /// `--output-dir`.
    pub output_dir: PathBuf,
    /// The simulator serving this test.
    pub sim: Simulator,
}

/// What one run of the binary left behind.
#[derive(Debug)]
pub struct RunResult {
    /// The exit code, by name.
    pub code: ExitCode,
    /// The human summary.
    pub stdout: String,
    /// The logs.
    pub stderr: String,
    /// report.json, parsed.
    pub report: Value,
    /// The status file's content.
    pub status: String,
}

impl RunResult {
    /// The first component of the report.
    pub fn component(&self) -> &Value {
        &self.report["components"][0]
    }
}

/// A kubeconfig whose API server (127.0.0.1:1) refuses every connection.
pub const REFUSED_KUBECONFIG: &str = "apiVersion: v1
kind: Config
current-context: e2e
contexts:
- name: e2e
  context: {cluster: local, user: admin}
clusters:
- name: local
  cluster: {server: 'https://127.0.0.1:1'}
users:
- name: admin
  user: {token: t}
";

/// `text` in base64, as KUBECONFIG_DATA takes it.
pub fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// environment.yaml with fast retries, so fault scenarios finish quickly.
pub fn environment_yaml(extra: &str) -> String {
    environment_yaml_retrying("20ms", extra)
}

/// environment.yaml with 5 attempts per request and this initial backoff.
pub fn environment_yaml_retrying(backoff: &str, extra: &str) -> String {
    format!(
        "name: {ENVIRONMENT}\ndomain: test.example.com\ngitRepository: https://git.example.com/platform.git\ngitRevision: main\n\
         retries:\n  maxAttempts: 5\n  backoff: {backoff}\n{extra}"
    )
}

impl TestContext {
    /// Starts the simulator with `scenario` (its token is set to [`TOKEN`]) and
    /// writes a default environment.yaml.
    pub async fn new(scenario: Scenario) -> TestContext {
        Self::with_token(scenario, TOKEN).await
    }

    /// [`TestContext::new`] with another Argo CD token, on both sides.
    pub async fn with_token(mut scenario: Scenario, token: &str) -> TestContext {
        scenario.token = token.to_owned();
        let dir = tempfile::tempdir().expect("temp dir");
        let config_dir = dir.path().join("config");
        let secrets_dir = dir.path().join("secrets");
        let output_dir = dir.path().join("out");
        std::fs::create_dir_all(&config_dir).unwrap();
        std::fs::create_dir_all(&secrets_dir).unwrap();
        std::fs::write(secrets_dir.join("argocd-token"), format!("{token}\n")).unwrap();
        let ctx = TestContext {
            sim: Simulator::start(scenario).await.expect("simulator starts"),
            _dir: dir,
            config_dir,
            secrets_dir,
            output_dir,
        };
        ctx.write_environment("");
        ctx
    }

    /// Rewrites environment.yaml with `extra` appended to the defaults.
    pub fn write_environment(&self, extra: &str) {
        std::fs::write(
            self.config_dir.join("environment.yaml"),
            environment_yaml(extra),
        )
        .unwrap();
    }

    /// Rewrites environment.yaml with this initial backoff instead of the fast one.
    pub fn write_environment_retrying(&self, backoff: &str, extra: &str) {
        std::fs::write(
            self.config_dir.join("environment.yaml"),
            environment_yaml_retrying(backoff, extra),
        )
        .unwrap();
    }

    /// Writes dag.yaml into the config directory.
    pub fn write_dag(&self, yaml: &str) {
        std::fs::write(self.config_dir.join("dag.yaml"), yaml).unwrap();
    }

    /// Sync requests the simulator received for `app`.
    pub fn syncs(&self, app: &str) -> usize {
        self.count("POST", &format!("/applications/{app}/sync"))
    }

    /// The binary with every directory and the simulator's URL set.
    pub fn command(&self, action: &str, args: &[&str]) -> tokio::process::Command {
        self.command_against(&self.sim.url(), action, args)
    }

    /// The binary with every directory set, addressing `server` instead of the simulator.
    pub fn command_against(
        &self,
        server: &str,
        action: &str,
        args: &[&str],
    ) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_executor"));
        cmd.arg(action)
            .arg("--environment")
            .arg(ENVIRONMENT)
            .arg("--config-dir")
            .arg(&self.config_dir)
            .arg("--secrets-dir")
            .arg(&self.secrets_dir)
            .arg("--output-dir")
            .arg(&self.output_dir)
            .arg("--argocd-server")
            .arg(server)
            .arg("--log-format")
            .arg("json")
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// Runs `executor <action> <args>` to completion (60 s at most) and reads its outputs.
    /// Every request the simulator has seen so far must conform to Argo CD's swagger.
    pub async fn run(&self, action: &str, args: &[&str]) -> RunResult {
        let result = self.run_command(self.command(action, args)).await;
        swagger::assert_conformant(&self.sim.requests());
        result
    }

    /// Runs a prepared command and reads its outputs.
    pub async fn run_command(&self, mut cmd: tokio::process::Command) -> RunResult {
        let child = cmd.spawn().expect("executor binary starts");
        let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .expect("executor finishes within 60 s")
            .expect("executor output");
        self.result(output)
    }

    /// Starts `executor <action> <args>`, waits until the simulator has
    /// received a POST whose path ends with `sync_suffix` (so the run is
    /// mid-wait), sends `SIG<signal>`, and returns the outputs with the time
    /// the process took to exit after the signal.
    pub async fn signal_after(
        &self,
        action: &str,
        args: &[&str],
        sync_suffix: &str,
        signal: &str,
    ) -> (RunResult, Duration) {
        let child = self.command(action, args).spawn().expect("executor starts");
        let pid = child.id().expect("running").to_string();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while self.count("POST", sync_suffix) == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "{sync_suffix} was never requested"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let sent = std::time::Instant::now();
        let kill = tokio::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .await
            .expect("kill runs");
        assert!(kill.success());
        let output = tokio::time::timeout(Duration::from_secs(5), child.wait_with_output())
            .await
            .expect("exits within 5 s of the signal")
            .expect("executor output");
        let took = sent.elapsed();
        (self.result(output), took)
    }

    /// Reads the outputs of a finished process.
    pub fn result(&self, output: std::process::Output) -> RunResult {
        let raw = output
            .status
            .code()
            .expect("exited, not killed by a signal");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let code = ExitCode::from_code(raw)
            .unwrap_or_else(|| panic!("exit code {raw} is not in the contract\n{stderr}"));
        let report_text = std::fs::read_to_string(self.output_dir.join("report.json"))
            .unwrap_or_else(|e| {
                panic!("report.json written ({e})\nstdout:\n{stdout}\nstderr:\n{stderr}")
            });
        let report: Value = serde_json::from_str(&report_text).expect("report.json is JSON");
        keep_report_sample(&report_text);
        let status =
            std::fs::read_to_string(self.output_dir.join("status")).expect("status written");
        RunResult {
            code,
            stdout,
            stderr,
            report,
            status,
        }
    }

    /// Requests the simulator received, excluding nothing.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.sim.requests()
    }

    /// The requests about applications: all but preflight's token check
    /// (`/api/v1/session/userinfo`), which names no app.
    pub fn app_requests(&self) -> Vec<RecordedRequest> {
        let mut requests = self.requests();
        requests.retain(|r| r.path != "/api/v1/session/userinfo");
        requests
    }

    /// The body of the first sync request the simulator received.
    pub fn first_sync_body(&self) -> Value {
        self.requests()
            .into_iter()
            .find(|r| r.method == "POST" && r.path.ends_with("/sync"))
            .and_then(|r| r.body)
            .expect("a sync request with a body")
    }

    /// How many requests matched `method` and a path ending with `suffix`.
    pub fn count(&self, method: &str, suffix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path.ends_with(suffix))
            .count()
    }
}

/// With `REPORT_SAMPLES_DIR` set (`.ci/run` sets it), keeps a copy of the report,
/// named after the test and a counter, for `.ci/validate_schemas.py` to check
/// against `schemas/report.schema.json`.
pub fn keep_report_sample(text: &str) {
    static SAMPLES: AtomicUsize = AtomicUsize::new(0);
    let Some(dir) = std::env::var_os("REPORT_SAMPLES_DIR") else {
        return;
    };
    let dir = Path::new(&dir);
    let test = std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .replace("::", "-");
    let n = SAMPLES.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!("{test}-{n}.json"));
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&path, text))
        .unwrap_or_else(|e| panic!("report sample {} written ({e})", path.display()));
}

/// Asserts the exit code by name, showing the run's outputs when it differs.
#[track_caller]
pub fn assert_code(result: &RunResult, expected: ExitCode) {
    assert_eq!(
        result.code, expected,
        "expected exit {expected}, got {}\nstdout:\n{}\nstderr:\n{}\nreport:\n{:#}",
        result.code, result.stdout, result.stderr, result.report
    );
    assert_eq!(
        result.report["exitCode"],
        expected.code(),
        "report.exitCode matches the process"
    );
}

/// Asserts a Timeout whose component message and recommendation name the
/// deadlines that passed (each with its kind, value and setting), and no
/// other setting.
#[track_caller]
pub fn assert_timeout_names(result: &RunResult, deadlines: &[&str]) {
    assert_code(result, ExitCode::TIMEOUT);
    let message = result.component()["message"].as_str().unwrap();
    let recommendations = result.report["recommendations"].to_string();
    for deadline in deadlines {
        assert!(message.contains(deadline), "{deadline}: {message}");
        assert!(
            !recommendations.contains("environment.yaml") || deadline.contains("environment.yaml"),
            "blames only the setting that set it: {recommendations}"
        );
    }
    let advice = format!("raise {}", deadlines.join(" or "));
    assert!(
        recommendations.contains(&advice),
        "{advice}: {recommendations}"
    );
}

/// The value of a rendered DAG task's argument `name`, if it passes one.
pub fn task_argument<'a>(task: &'a Value, name: &str) -> Option<&'a str> {
    task["arguments"]["parameters"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["value"].as_str())
}
