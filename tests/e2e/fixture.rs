//! The vocabulary of an end-to-end scenario against the real stack of `e2e/`:
//! find the stack, push manifests to its git repository, create Applications,
//! flip a Widget's status, and run the executor binary.
//!
//! Modelled on Argo CD's own e2e fixture (`test/e2e/fixture/app/`), without its
//! global state: every scenario gets its own app names, paths and namespaces,
//! so tests run in any order and in parallel.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use executor::exit::ExitCode;
use serde_json::Value;
use tempfile::TempDir;

/// The environment every e2e run deploys to.
pub const ENVIRONMENT: &str = "e2e";

/// The running stack, read from the env file `e2e/up` writes.
pub struct Stack {
    vars: BTreeMap<String, String>,
    /// A clone of the stack's git repository that scenarios commit to.
    work: TempDir,
    /// One pusher at a time.
    git: Mutex<()>,
}

/// Where `e2e/up` writes its env file.
fn env_file() -> PathBuf {
    if let Ok(state) = std::env::var("E2E_STATE") {
        return PathBuf::from(state).join("env");
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".to_owned());
    PathBuf::from(home).join(".cache/executor-e2e/run/env")
}

/// The stack, or `None` (with a message) when it is not up outside CI.
/// With `CI` set, a missing stack fails the test: it never passes silently.
pub fn stack() -> Option<&'static Stack> {
    static STACK: OnceLock<Option<Stack>> = OnceLock::new();
    let stack = STACK.get_or_init(|| {
        let path = env_file();
        match std::fs::read_to_string(&path) {
            Ok(text) => Some(Stack::load(&text)),
            Err(e) => {
                let msg = format!(
                    "the real stack is not up ({}: {e}); run e2e/build && e2e/up",
                    path.display()
                );
                if std::env::var_os("CI").is_some() {
                    panic!("{msg}");
                }
                eprintln!("skipping: {msg}");
                None
            }
        }
    });
    stack.as_ref()
}

/// The stack for this test, or return from it (outside CI) when there is none.
macro_rules! require_stack {
    () => {
        match $crate::fixture::stack() {
            Some(stack) => stack,
            None => return,
        }
    };
}

/// Scenarios that stop a component of the stack exclude every other scenario;
/// the others share it.
static EXCLUSIVE: RwLock<()> = RwLock::new(());

/// Held by every scenario that only uses the stack.
pub fn shared() -> RwLockReadGuard<'static, ()> {
    EXCLUSIVE.read().unwrap_or_else(|e| e.into_inner())
}

/// Held by a scenario that stops or restarts a component of the stack.
pub fn exclusive() -> RwLockWriteGuard<'static, ()> {
    EXCLUSIVE.write().unwrap_or_else(|e| e.into_inner())
}

fn run_ok(cmd: &mut Command) -> Result<String, String> {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        ))
    }
}

impl Stack {
    fn load(text: &str) -> Stack {
        let vars: BTreeMap<String, String> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| {
                (
                    k.trim().trim_start_matches("export ").to_owned(),
                    v.trim().trim_matches('"').to_owned(),
                )
            })
            .collect();
        let work = tempfile::tempdir().expect("temp dir");
        let stack = Stack {
            vars,
            work,
            git: Mutex::new(()),
        };
        let clone = stack.work.path().join("repo");
        run_ok(
            Command::new("git")
                .args(["clone", "--quiet", stack.var("GIT_REPO_URL")])
                .arg(&clone),
        )
        .expect("the stack's git repository clones");
        for (k, v) in [("user.name", "e2e"), ("user.email", "e2e@127.0.0.1")] {
            run_ok(
                Command::new("git")
                    .arg("-C")
                    .arg(&clone)
                    .args(["config", k, v]),
            )
            .unwrap();
        }
        stack
    }

    /// A variable of the env file.
    pub fn var(&self, key: &str) -> &str {
        self.vars
            .get(key)
            .unwrap_or_else(|| panic!("{key} is not in the stack's env file"))
    }

    /// A name no other scenario of this or an earlier run uses: `<prefix>-<run>-<n>`.
    pub fn unique(&self, prefix: &str) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        static RUN: OnceLock<String> = OnceLock::new();
        let run = RUN.get_or_init(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            format!("{:x}", t % 0xfffff)
        });
        format!("{prefix}-{run}-{}", N.fetch_add(1, Ordering::Relaxed))
    }

    /// Runs kubectl as the cluster admin.
    pub fn kubectl(&self, args: &[&str]) -> Result<String, String> {
        run_ok(
            Command::new(self.var("KUBECTL"))
                .env("KUBECONFIG", self.var("KUBECONFIG"))
                .args(args),
        )
    }

    /// `kubectl apply -f -` of a YAML document.
    pub fn apply(&self, yaml: &str) -> Result<String, String> {
        use std::io::Write;
        let mut child = Command::new(self.var("KUBECTL"))
            .env("KUBECONFIG", self.var("KUBECONFIG"))
            .args(["apply", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(yaml.as_bytes())
            .map_err(|e| e.to_string())?;
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!(
                "kubectl apply failed: {}\n{yaml}",
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    /// One object as JSON, or `None` when it does not exist.
    pub fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let out = self
            .kubectl(&[
                "get",
                kind,
                name,
                "-n",
                namespace,
                "-o",
                "json",
                "--ignore-not-found",
            ])
            .unwrap_or_else(|e| panic!("{e}"));
        (!out.trim().is_empty()).then(|| serde_json::from_str(&out).expect("kubectl JSON"))
    }

    /// Writes (or with `None`, removes) files under the repository root,
    /// commits and pushes; returns the commit pushed.
    pub fn push(&self, files: &[(&str, Option<&str>)], message: &str) -> String {
        let _one = self.git.lock().unwrap_or_else(|e| e.into_inner());
        let repo = self.work.path().join("repo");
        for (path, content) in files {
            let target = repo.join(path);
            match content {
                Some(text) => {
                    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                    std::fs::write(&target, text).unwrap();
                }
                None => {
                    let _ = std::fs::remove_file(&target);
                }
            }
        }
        let git = |args: &[&str]| run_ok(Command::new("git").arg("-C").arg(&repo).args(args));
        git(&["add", "-A"]).unwrap();
        git(&["commit", "--quiet", "--allow-empty", "-m", message]).unwrap();
        // Another process (a concurrent test binary) may have pushed: rebase once and retry.
        if git(&["push", "--quiet", "origin", "HEAD:main"]).is_err() {
            git(&["pull", "--quiet", "--rebase", "origin", "main"]).unwrap();
            git(&["push", "--quiet", "origin", "HEAD:main"]).unwrap();
        }
        git(&["rev-parse", "HEAD"]).unwrap().trim().to_owned()
    }

    /// Calls Argo CD's REST API with the `executor` token (curl, so the call is
    /// independent of the client under test).
    pub fn argocd(&self, method: &str, path: &str, body: Option<&str>) -> Result<Value, String> {
        let token =
            std::fs::read_to_string(self.var("ARGOCD_TOKEN_FILE")).map_err(|e| e.to_string())?;
        let mut cmd = Command::new("curl");
        cmd.args([
            "-sS",
            "--fail-with-body",
            "-X",
            method,
            "--cacert",
            self.var("ARGOCD_CA_FILE"),
        ])
        .args(["-H", &format!("Authorization: Bearer {}", token.trim())])
        .args(["-H", "Content-Type: application/json"]);
        if let Some(body) = body {
            cmd.args(["--data", body]);
        }
        cmd.arg(format!("{}{path}", self.var("ARGOCD_SERVER")));
        // Not run_ok: its message would show the command line, token included.
        let output = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        let out = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            return Err(format!(
                "{method} {path} failed: {}{out}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        serde_json::from_str(&out).map_err(|e| format!("{method} {path}: {e}: {out}"))
    }

    /// Writes a token of the `executor` account that expires after `seconds`
    /// into a file of `dir`, and returns the file.
    pub fn short_lived_token(&self, dir: &Path, seconds: u64) -> PathBuf {
        let id = self.unique("short");
        let answer = self
            .argocd(
                "POST",
                "/api/v1/account/executor/token",
                Some(&format!(
                    r#"{{"id":"{id}","name":"executor","expiresIn":{seconds}}}"#
                )),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let token = answer["token"].as_str().expect("a token");
        let path = dir.join(format!("{id}.token"));
        std::fs::write(&path, token).unwrap();
        path
    }

    /// When the API server received each `verb` request for the object
    /// (`resource`, e.g. `applications`, and name), from its audit log.
    pub fn audited(
        &self,
        verb: &str,
        resource: &str,
        name: &str,
    ) -> Vec<chrono::DateTime<chrono::Utc>> {
        let log = std::fs::read_to_string(self.var("AUDIT_LOG")).unwrap_or_default();
        log.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|e| {
                e["stage"] == "ResponseComplete"
                    && e["verb"] == verb
                    && e["objectRef"]["resource"] == resource
                    && e["objectRef"]["name"] == name
            })
            .filter_map(|e| e["requestReceivedTimestamp"].as_str()?.parse().ok())
            .collect()
    }

    /// The resource requests `user` sent, as the API server's audit log
    /// recorded them (non-resource requests, discovery say, left out).
    pub fn requests_of(&self, user: &str) -> Vec<Audited> {
        let log = std::fs::read_to_string(self.var("AUDIT_LOG")).unwrap_or_default();
        log.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|e| e["stage"] == "ResponseComplete" && e["user"]["username"] == user)
            .filter(|e| e["objectRef"].is_object())
            .map(|e| {
                let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
                Audited {
                    verb: text(&e["verb"]),
                    group: text(&e["objectRef"]["apiGroup"]),
                    resource: text(&e["objectRef"]["resource"]),
                    name: text(&e["objectRef"]["name"]),
                    code: e["responseStatus"]["code"].as_u64().unwrap_or(0),
                }
            })
            .collect()
    }

    /// A kubeconfig in `dir` for a new ServiceAccount `name` of Argo CD's
    /// namespace, bound to a ClusterRole of `rules` (YAML list items, indented
    /// for 0 spaces), with a token from the TokenRequest API: an identity
    /// with exactly those permissions, as the real RBAC authorizer judges them.
    pub fn service_account_kubeconfig(&self, dir: &Path, name: &str, rules: &str) -> PathBuf {
        let ns = self.var("ARGOCD_NAMESPACE");
        let rules: String = rules.lines().map(|l| format!("  {l}\n")).collect();
        let rules = if rules.is_empty() {
            "  []\n".to_owned()
        } else {
            rules
        };
        self.apply(&format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  namespace: {ns}\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {name}\nrules:\n{rules}---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: {name}\n\
             roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: {name}\n\
             subjects:\n- kind: ServiceAccount\n  name: {name}\n  namespace: {ns}\n"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        self.token_kubeconfig(dir, ns, name)
    }

    /// A kubeconfig in `dir` for the existing ServiceAccount `namespace/name`,
    /// with a token from the TokenRequest API.
    pub fn token_kubeconfig(&self, dir: &Path, namespace: &str, name: &str) -> PathBuf {
        let token = self
            .kubectl(&["create", "token", name, "-n", namespace, "--duration", "1h"])
            .unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join(format!("{name}.kubeconfig"));
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: sa\ncontexts:\n- name: sa\n  context: {{cluster: e2e, user: sa}}\n\
                 clusters:\n- name: e2e\n  cluster:\n    server: {}\n    certificate-authority: {}\n\
                 users:\n- name: sa\n  user:\n    token: {}\n",
                self.var("KUBE_APISERVER_URL"),
                self.var("ARGOCD_CA_FILE"),
                token.trim()
            ),
        )
        .unwrap();
        path
    }

    /// The pid of a component `e2e/up` started.
    pub fn pid(&self, component: &str) -> u32 {
        let path = Path::new(self.var("E2E_STATE")).join(format!("pids/{component}.pid"));
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .trim()
            .parse()
            .expect("a pid")
    }
}

/// A ConfigMap manifest: healthy as soon as it exists.
pub fn config_map(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key: value\n")
}

/// A Widget manifest: Progressing until a test sets its `status.phase`.
pub fn widget(name: &str) -> String {
    format!("apiVersion: e2e.executor.dev/v1\nkind: Widget\nmetadata:\n  name: {name}\nspec:\n  size: 1\n")
}

/// One request of the API server's audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audited {
    pub verb: String,
    /// `""` for the core group.
    pub group: String,
    pub resource: String,
    pub name: String,
    /// The response's status code.
    pub code: u64,
}

/// One Application of a scenario and its git path.
pub struct App {
    pub stack: &'static Stack,
    /// The Application's name, also its git path and destination namespace.
    pub name: String,
    /// `spec.project`.
    pub project: String,
    /// Extra YAML under `spec.syncPolicy` (indented by the caller for 4 spaces).
    pub sync_policy: String,
    /// The git path the app points at (default: its name).
    pub path: String,
    /// The Application's own namespace (default: Argo CD's).
    pub app_namespace: String,
    /// Its destination namespace (default: its name).
    pub destination: String,
}

impl App {
    /// A new app in project `default` with a unique name.
    pub fn new(stack: &'static Stack, prefix: &str) -> App {
        let name = stack.unique(prefix);
        App {
            stack,
            path: name.clone(),
            app_namespace: stack.var("ARGOCD_NAMESPACE").to_owned(),
            destination: name.clone(),
            name,
            project: "default".to_owned(),
            sync_policy: "    syncOptions:\n      - CreateNamespace=true\n".to_owned(),
        }
    }

    /// A new app of one ConfigMap, deployed by the executor (exit 0 asserted):
    /// the starting point of scenarios about what comes after a deploy.
    pub fn deployed(stack: &'static Stack, prefix: &str) -> App {
        let app = App::new(stack, prefix);
        app.push(&[("cm.yaml", config_map("settings"))]).create();
        let run = Executor::new(stack, "")
            .args(&["--scope", &app.scope()])
            .run(stack, "deploy", Duration::from_secs(120));
        assert_code(&run, ExitCode::SUCCESS);
        app
    }

    /// `app:<name>`, the executor's scope for this app.
    pub fn scope(&self) -> String {
        format!("app:{}", self.name)
    }

    /// Its destination namespace.
    pub fn namespace(&self) -> &str {
        &self.destination
    }

    /// Pushes manifests (file name, content) to the app's path.
    pub fn push(&self, files: &[(&str, String)]) -> &Self {
        self.commit(files);
        self
    }

    /// Pushes manifests (file name, content) to the app's path; returns the commit.
    pub fn commit(&self, files: &[(&str, String)]) -> String {
        let paths: Vec<(String, Option<&str>)> = files
            .iter()
            .map(|(f, c)| (format!("{}/{f}", self.path), Some(c.as_str())))
            .collect();
        let refs: Vec<(&str, Option<&str>)> = paths.iter().map(|(p, c)| (p.as_str(), *c)).collect();
        self.stack.push(&refs, &format!("{}: manifests", self.name))
    }

    /// Removes a manifest from the app's path.
    pub fn remove(&self, file: &str) -> &Self {
        let path = format!("{}/{file}", self.path);
        self.stack
            .push(&[(&path, None)], &format!("{}: remove {file}", self.name));
        self
    }

    /// The Application manifest.
    pub fn manifest(&self) -> String {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: {app_ns}\nspec:\n  project: {project}\n  source:\n    repoURL: {repo}\n    path: {path}\n    targetRevision: main\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: {dest}\n  syncPolicy:\n{policy}",
            name = self.name,
            app_ns = self.app_namespace,
            dest = self.destination,
            project = self.project,
            repo = self.stack.var("GIT_REPO_URL"),
            path = self.path,
            policy = if self.sync_policy.is_empty() { "    {}\n" } else { &self.sync_policy },
        )
    }

    /// Creates the Application in Kubernetes, as an app-of-apps or a person would.
    pub fn create(&self) -> &Self {
        self.stack
            .apply(&self.manifest())
            .unwrap_or_else(|e| panic!("{e}"));
        self
    }

    /// The Application object as the API server holds it.
    pub fn application(&self) -> Option<Value> {
        self.stack
            .get("applications.argoproj.io", &self.app_namespace, &self.name)
    }

    /// Expectation: the Widget `widget` exists in the app's destination namespace.
    pub fn widget_applied(&self, widget: &str) -> Result<(), String> {
        self.stack
            .get("widgets.e2e.executor.dev", self.namespace(), widget)
            .map(|_| ())
            .ok_or_else(|| format!("no Widget {widget} yet"))
    }

    /// Gives the app its own `retry` policy (50 attempts, 1 s apart): a
    /// manifest that fails to apply then keeps the operation Running.
    pub fn retrying(mut self) -> App {
        self.sync_policy.push_str(
            "    retry:\n      limit: 50\n      backoff:\n        duration: 1s\n        factor: 1\n        maxDuration: 1s\n",
        );
        self
    }

    /// Sets a Widget's `status.phase` (and message), as its controller would.
    pub fn set_widget(&self, widget: &str, phase: &str) {
        let patch =
            format!(r#"{{"status":{{"phase":"{phase}","message":"set by the e2e test"}}}}"#);
        self.stack
            .kubectl(&[
                "patch",
                "widgets.e2e.executor.dev",
                widget,
                "-n",
                self.namespace(),
                "--subresource=status",
                "--type=merge",
                "-p",
                &patch,
            ])
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

/// What one run of the executor left behind.
#[derive(Debug)]
pub struct Run {
    pub code: ExitCode,
    pub stdout: String,
    pub stderr: String,
    pub report: Value,
    pub took: Duration,
}

impl Run {
    /// The report's component of that name.
    pub fn component(&self, name: &str) -> &Value {
        self.report["components"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["name"] == name))
            .unwrap_or_else(|| panic!("no component {name} in the report:\n{:#}", self.report))
    }

    /// Everything about the run, for assertion messages.
    pub fn show(&self) -> String {
        format!(
            "exit {} after {:?}\nstdout:\n{}\nstderr:\n{}\nreport:\n{:#}",
            self.code, self.took, self.stdout, self.stderr, self.report
        )
    }
}

/// Asserts the exit code by name, showing the run when it differs.
#[track_caller]
pub fn assert_code(run: &Run, expected: ExitCode) {
    assert_eq!(run.code, expected, "{}", run.show());
    assert_eq!(run.report["exitCode"], expected.code(), "{}", run.show());
}

/// Asserts a component's status in the report, showing the run when it differs.
#[track_caller]
pub fn assert_status(run: &Run, component: &str, status: &str) {
    assert_eq!(run.component(component)["status"], status, "{}", run.show());
}

/// The executor's inputs for one run against the stack.
pub struct Executor {
    dir: TempDir,
    token_file: String,
    extra_env: String,
    args: Vec<String>,
    trust_ca: bool,
}

impl Executor {
    /// Runs with the full-rights `executor` token and environment.yaml's defaults
    /// plus `extra` (YAML appended to it).
    pub fn new(stack: &Stack, extra: &str) -> Executor {
        Executor {
            dir: tempfile::tempdir().expect("temp dir"),
            token_file: stack.var("ARGOCD_TOKEN_FILE").to_owned(),
            extra_env: extra.to_owned(),
            args: Vec::new(),
            trust_ca: true,
        }
    }

    /// Runs without `--argocd-ca-file`: the stack's CA is not trusted.
    pub fn without_ca(mut self) -> Executor {
        self.trust_ca = false;
        self
    }

    /// Uses this token file.
    pub fn token_file(mut self, path: &Path) -> Executor {
        self.token_file = path.display().to_string();
        self
    }

    /// Uses another token file of the stack's env file (say `ARGOCD_LIMITED_TOKEN_FILE`).
    pub fn token(mut self, stack: &Stack, key: &str) -> Executor {
        self.token_file = stack.var(key).to_owned();
        self
    }

    /// Adds command-line arguments.
    pub fn args(mut self, args: &[&str]) -> Executor {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// Runs with the stack's cluster-admin kubeconfig (`--kubeconfig`).
    pub fn admin_kubeconfig(self, stack: &Stack) -> Executor {
        let path = stack.var("KUBECONFIG").to_owned();
        self.args(&["--kubeconfig", &path])
    }

    /// The config directory, for a dag.yaml.
    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    /// Writes `<config-dir>/dag.yaml`.
    pub fn write_dag(&self, yaml: &str) {
        std::fs::create_dir_all(self.config_dir()).unwrap();
        std::fs::write(self.config_dir().join("dag.yaml"), yaml).unwrap();
    }

    fn prepare(&self, stack: &Stack, action: &str) -> Command {
        let config = self.config_dir();
        let secrets = self.dir.path().join("secrets");
        let out = self.dir.path().join("out");
        for d in [&config, &secrets, &out] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(
            config.join("environment.yaml"),
            format!(
                "name: {ENVIRONMENT}\ndomain: e2e.local\ngitRepository: {}\ngitRevision: main\n\
                 argocdNamespace: {}\nretries:\n  maxAttempts: 3\n  backoff: 200ms\n{}",
                stack.var("GIT_REPO_URL"),
                stack.var("ARGOCD_NAMESPACE"),
                self.extra_env
            ),
        )
        .unwrap();
        std::fs::copy(&self.token_file, secrets.join("argocd-token")).unwrap();
        // E2E_EXECUTOR runs another build (an older commit's, to show a scenario failing before its fix).
        let binary = std::env::var("E2E_EXECUTOR")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_executor").to_owned());
        let mut cmd = Command::new(binary);
        cmd.arg(action)
            .args(["--environment", ENVIRONMENT])
            .arg("--config-dir")
            .arg(&config)
            .arg("--secrets-dir")
            .arg(&secrets)
            .arg("--output-dir")
            .arg(&out)
            .args(["--argocd-server", stack.var("ARGOCD_SERVER")]);
        if self.trust_ca {
            cmd.args(["--argocd-ca-file", stack.var("ARGOCD_CA_FILE")]);
        }
        cmd.args(["--log-format", "json", "--log-level", "debug"])
            .args(&self.args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs `executor <action>` to completion (killed after `limit`) and reads its outputs.
    pub fn run(&self, stack: &Stack, action: &str, limit: Duration) -> Run {
        self.spawn(stack, action).finish(limit)
    }

    /// Starts `executor <action>` and returns at once.
    pub fn spawn(&self, stack: &Stack, action: &str) -> Running<'_> {
        let child = self
            .prepare(stack, action)
            .spawn()
            .expect("executor starts");
        Running {
            executor: self,
            child: Some(child),
            started: Instant::now(),
        }
    }

    fn read(&self, output: std::process::Output, took: Duration) -> Run {
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let raw = output.status.code().unwrap_or_else(|| {
            panic!(
                "executor killed by a signal after {took:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
            )
        });
        let code = ExitCode::from_code(raw)
            .unwrap_or_else(|| panic!("exit code {raw} is not in the contract\n{stderr}"));
        let report_path = self.dir.path().join("out/report.json");
        let report = std::fs::read_to_string(&report_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_else(|| panic!("report.json written\nstdout:\n{stdout}\nstderr:\n{stderr}"));
        Run {
            code,
            stdout,
            stderr,
            report,
            took,
        }
    }
}

/// An executor run in progress.
pub struct Running<'a> {
    executor: &'a Executor,
    child: Option<std::process::Child>,
    started: Instant,
}

impl Running<'_> {
    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Waits, while the executor runs, for `check` to hold (polling like
    /// [`crate::expect::eventually`]); fails showing the run if the executor exits first.
    #[track_caller]
    pub fn meanwhile<T>(
        &mut self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut() -> Result<T, String>,
    ) -> T {
        let seen = crate::expect::poll(timeout, || {
            if self.is_running() {
                check().map(Some)
            } else {
                Ok(None)
            }
        });
        let problem = match seen {
            Ok(Some(value)) => return value,
            Ok(None) => "it exited".to_owned(),
            Err(seen) => {
                if let Some(child) = self.child.as_mut() {
                    let _ = child.kill();
                }
                format!("none within {timeout:?} (last saw: {seen}); killed it")
            }
        };
        let run = self.collect();
        panic!(
            "expected {what} while the executor runs, but {problem}\n{}",
            run.show()
        )
    }

    fn collect(&mut self) -> Run {
        let child = self.child.take().expect("collected once");
        let output = child.wait_with_output().expect("executor output");
        self.executor.read(output, self.started.elapsed())
    }

    /// Sends SIGTERM and reads the outputs; also returns how long the exit took.
    pub fn terminate(self) -> (Run, Duration) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let sent = Instant::now();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let run = self.finish(Duration::from_secs(30));
        (run, sent.elapsed())
    }

    /// Waits for the exit (killing it after `limit`) and reads the outputs.
    pub fn finish(mut self, limit: Duration) -> Run {
        let pid = self.child.as_ref().expect("running").id();
        let deadline = self.started + limit;
        let killer = std::thread::spawn(move || {
            while Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    return;
                }
            }
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        });
        let run = self.collect();
        let _ = killer.join();
        run
    }
}
