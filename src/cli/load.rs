//! The loader: raw clap values and files in, a checked [`Config`] out.
//! Every failure here is `ExitCode::INVALID`, and it happens before any
//! network call.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;

use super::args::RunArgs;
use crate::config::environment::{EnvironmentFile, SyncSettings};
use crate::config::{
    ArgoCdTarget, Config, ConfigError, Endpoint, LogSettings, PvPolicy, Target, TraceContext,
    SIMULATED_TOKEN,
};
use crate::dag::{load_spec, BuildContext, Dag, DagError, DagErrors, DagOptions, Overrides};
use crate::vocabulary::{duration, Action, Scope};

fn parse_bool(input: &'static str, value: Option<&str>) -> Result<bool, ConfigError> {
    match value {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ConfigError::bad(input, other, "true or false")),
    }
}

fn read_file(what: &'static str, path: &Path, hint: &str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|source| ConfigError::Unreadable {
        what,
        path: path.to_owned(),
        hint: hint.to_owned(),
        source,
    })
}

fn parse_hex_id(input: &'static str, value: &str, len: usize) -> Result<String, ConfigError> {
    let ok = value.len() == len
        && value.bytes().all(|b| b.is_ascii_hexdigit())
        && value.bytes().any(|b| b != b'0');
    if ok {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(ConfigError::bad(
            input,
            value,
            &format!("{len} hex digits, not all zero (W3C trace context)"),
        ))
    }
}

fn parse_server(input: &'static str, text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text)
        .map_err(|e| ConfigError::bad(input, text, &format!("an https:// URL ({e})")))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(ConfigError::bad(
            input,
            text,
            "an https:// URL such as https://argocd-server.argocd.svc",
        ));
    }
    Ok(url)
}

/// `--pushgateway-url`, `--otlp-endpoint`: an http(s) URL with a host and
/// nothing after its path; unset or empty is none.
fn http_url(
    input: &'static str,
    text: Option<&str>,
    example: &str,
) -> Result<Option<Url>, ConfigError> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(None);
    };
    let expected = format!("an http:// or https:// URL such as {example}");
    let url = Url::parse(text.trim())
        .map_err(|e| ConfigError::bad(input, text, &format!("{expected} ({e})")))?;
    if !matches!(url.scheme(), "https" | "http")
        || url.host_str().is_none()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(ConfigError::bad(input, text, &expected));
    }
    Ok(Some(url))
}

/// `--timeout`: a duration, or bare seconds as the argocd CLI takes them;
/// more than zero and at most the longest duration any input may give.
fn run_timeout(text: &str) -> Result<Duration, ConfigError> {
    const INPUT: &str = "--timeout (EXECUTOR_TIMEOUT)";
    let bad = |problem: String| ConfigError::BadValue {
        input: INPUT,
        value: text.to_owned(),
        problem,
    };
    let d = match text.trim().parse::<u64>() {
        Ok(secs) => duration::parse(&format!("{secs}s")),
        Err(_) => duration::parse(text),
    }
    .map_err(bad)?;
    if d.is_zero() {
        return Err(bad(
            "must be more than 0; leave it unset for no overall deadline".to_owned(),
        ));
    }
    Ok(d)
}

/// `--app-namespace`, when given: a namespace name, and only for an app scope.
fn parse_app_namespace<'a>(
    value: Option<&'a str>,
    scope: &Scope,
) -> Result<Option<&'a str>, ConfigError> {
    const INPUT: &str = "--app-namespace (APP_NAMESPACE)";
    let Some(namespace) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if !matches!(scope, Scope::App(_)) {
        return Err(ConfigError::AppScopeOnly {
            input: INPUT,
            scope: scope.to_string(),
            hint: "set `namespace:` on the app in dag.yaml, or `argocd.appNamespace` in environment.yaml for every app",
        });
    }
    if !crate::vocabulary::name::valid_namespace(namespace) {
        return Err(ConfigError::bad(
            INPUT,
            namespace,
            &format!(
                "a namespace name; {}",
                crate::vocabulary::name::NAMESPACE_RULE
            ),
        ));
    }
    Ok(Some(namespace))
}

/// The namespace of every Application in scope that has one. For an app
/// scope: `--app-namespace`, else its DAG node's, else environment.yaml's
/// `argocd.appNamespace`; otherwise each DAG node's (which already fell back
/// to environment.yaml's).
fn app_namespaces(
    scope: &Scope,
    dag: Option<&crate::dag::Dag>,
    flag: Option<&str>,
    default: Option<&str>,
) -> BTreeMap<String, String> {
    let nodes = dag.map(crate::dag::Dag::nodes).unwrap_or_default();
    match scope {
        Scope::App(name) => {
            let node = nodes
                .iter()
                .find(|n| n.application() == Some(name.as_str()));
            let from_files = match node {
                Some(node) => node.app_namespace.as_deref(),
                None => default,
            };
            flag.or(from_files)
                .map(|namespace| (name.clone(), namespace.to_owned()))
                .into_iter()
                .collect()
        }
        Scope::Platform | Scope::Stack(_) => nodes
            .iter()
            .filter_map(|n| Some((n.application()?.to_owned(), n.app_namespace.clone()?)))
            .collect(),
    }
}

/// Reads, validates and selects the DAG for this scope, before any request.
fn load_dag(
    config_dir: &Path,
    environment: &EnvironmentFile,
    scope: &Scope,
    args: &RunArgs,
) -> Result<Target, ConfigError> {
    let path = config_dir.join("dag.yaml");
    if !path.exists() {
        // Given on the command line for this run, they would silently do nothing.
        let flag = [
            ("--set-timeout", args.dag.set_timeout.is_empty()),
            ("--set-depends", args.dag.set_depends.is_empty()),
        ]
        .into_iter()
        .find_map(|(flag, unset)| (!unset).then_some(flag));
        if let Some(flag) = flag {
            return Err(ConfigError::OverrideWithoutDag { flag, path });
        }
        return match scope {
            Scope::App(name) => Ok(Target::App {
                name: name.clone(),
                dag: None,
            }),
            _ => Err(ConfigError::NoDag {
                scope: scope.to_string(),
                path,
            }),
        };
    }
    let dag = build_dag(&path, Some(environment), scope, &args.dag, Vec::new())?;
    Ok(match scope {
        Scope::App(name) => Target::App {
            name: name.clone(),
            dag: Some(dag),
        },
        Scope::Platform | Scope::Stack(_) => Target::Dag(dag),
    })
}

/// dag.yaml at `path` with the flags' overrides, built against
/// environment.yaml when there is one (its clusterName and default timeouts)
/// and selected for `scope`, with every problem collected after `errors`.
/// The one DAG pipeline of the actions and of `executor dag`. With a
/// dag.yaml, `app:` must name one of its Applications: a typo is caught here
/// (with a did-you-mean) instead of syncing an app of that name.
pub(super) fn build_dag(
    path: &Path,
    environment: Option<&EnvironmentFile>,
    scope: &Scope,
    options: &DagOptions,
    mut errors: Vec<DagError>,
) -> Result<Dag, DagErrors> {
    let (overrides, override_errors) = Overrides::collect(options);
    errors.extend(override_errors);
    let spec = match load_spec(path) {
        Ok(spec) => spec,
        Err(e) => {
            errors.extend(e.0);
            return Err(DagErrors(errors));
        }
    };
    let timeouts = environment.map(|e| e.timeouts).unwrap_or_default();
    let ctx = BuildContext {
        cluster_name: environment.and_then(|e| e.cluster_name.as_deref()),
        default_sync: timeouts.sync,
        default_health: timeouts.health,
        default_app_namespace: environment.and_then(|e| e.argocd.app_namespace.as_deref()),
    };
    match Dag::build_scoped(&spec, &overrides, &ctx, scope) {
        Ok(dag) => DagErrors::check(errors, dag),
        Err(e) => {
            errors.extend(e.0);
            Err(DagErrors(errors))
        }
    }
}

/// Every problem found with the inputs, in the order found.
#[derive(Default)]
struct Problems(Vec<ConfigError>);

impl Problems {
    /// The value, or `None` with its problem recorded.
    fn check<T>(&mut self, checked: Result<T, ConfigError>) -> Option<T> {
        checked.map_err(|e| self.0.push(e)).ok()
    }

    /// One problem as itself; several as one error that lists them all.
    fn into_error(mut self) -> ConfigError {
        match self.0.len() {
            1 => self.0.remove(0),
            _ => ConfigError::Several(self.0),
        }
    }
}

/// Reads and checks every input of a run of `action`, reporting every
/// problem at once (a check that needs another input's value is skipped
/// when that input is bad). `env` looks up environment variables that have
/// no flag (TRACE_ID, SPAN_ID).
pub fn run_config(
    action: Action,
    args: &RunArgs,
    log: LogSettings,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let mut problems = Problems::default();
    let simulate = problems.check(parse_bool(
        "--simulate (EXECUTOR_SIMULATE)",
        args.simulate.as_deref(),
    ));
    let dry_run = problems.check(parse_bool("--dry-run (DRY_RUN)", args.dry_run.as_deref()));
    let scope_text = args.scope.as_deref().unwrap_or("platform");
    let scope = problems.check(
        Scope::parse(scope_text).map_err(|problem| ConfigError::BadValue {
            input: "--scope (TARGET_SCOPE)",
            value: scope_text.to_owned(),
            problem,
        }),
    );
    let app_namespace = match &scope {
        Some(scope) => problems.check(parse_app_namespace(args.app_namespace.as_deref(), scope)),
        None => None,
    };
    let config_dir = args
        .config_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("/config"));
    let environment = problems.check(environment_file(&config_dir, args));
    let target = match (&scope, &environment) {
        (Some(scope), Some(environment)) => {
            problems.check(load_dag(&config_dir, environment, scope, args))
        }
        _ => None,
    };
    let dag_file = target.as_ref().and_then(Target::dag).map(Dag::source);
    let checks = problems.check(health_file(&config_dir, dag_file));
    let pv_policy = problems.check(pv_policy(args.pv_policy.as_deref()));
    if let Some(environment) = &environment {
        problems.check(confirmation(action, args.confirm.as_deref(), environment));
    }
    let validate_wait = problems.check(optional_duration("--wait (VALIDATE_WAIT)", &args.wait));
    let sync_override = problems.check(optional_duration(
        "--sync-timeout (SYNC_TIMEOUT)",
        &args.sync_timeout,
    ));
    let health_override = problems.check(optional_duration(
        "--health-timeout (HEALTH_TIMEOUT)",
        &args.health_timeout,
    ));
    // Empty is unset, as for the other timeouts: one ConfigMap may leave it blank.
    let run_timeout = problems.check(
        args.timeout
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(run_timeout)
            .transpose(),
    );
    let revision = problems.check(revision(args.revision.as_deref()));
    let parallelism = problems.check(parallelism(args.parallelism.as_deref()));
    let schedule = problems.check(schedule(args.schedule.as_deref()));
    let prune = problems.check(
        args.prune
            .as_deref()
            .map(|given| parse_bool("--prune (PRUNE)", Some(given)))
            .transpose(),
    );
    let wait_sync_window = problems.check(parse_bool(
        "--wait-sync-window (WAIT_SYNC_WINDOW)",
        args.wait_sync_window.as_deref(),
    ));
    let trace = problems.check(trace(&env));
    let require_cluster = problems.check(parse_bool(
        "--require-cluster (REQUIRE_CLUSTER)",
        args.require_cluster.as_deref(),
    ));
    let enforce_compliance = problems.check(parse_bool(
        "--enforce-compliance (ENFORCE_COMPLIANCE)",
        args.enforce_compliance.as_deref(),
    ));
    let skip_preflight = problems.check(parse_bool(
        "--skip-preflight (SKIP_PREFLIGHT)",
        args.skip_preflight.as_deref(),
    ));
    let pushgateway = problems.check(http_url(
        "--pushgateway-url (PUSHGATEWAY_URL)",
        args.pushgateway_url.as_deref(),
        "http://pushgateway.monitoring:9091",
    ));
    let otlp = problems.check(http_url(
        "--otlp-endpoint (OTEL_EXPORTER_OTLP_ENDPOINT)",
        args.otlp_endpoint.as_deref(),
        "http://otel-collector.monitoring:4318",
    ));
    let data = env("KUBECONFIG_DATA");
    let inputs = crate::cluster::access::Inputs {
        path: args.kubeconfig.as_deref(),
        data: data.as_deref(),
        in_pod: env("KUBERNETES_SERVICE_HOST").is_some_and(|h| !h.is_empty()),
    };
    let cluster = problems.check(crate::cluster::access::load(&inputs).map_err(ConfigError::from));
    if require_cluster == Some(true) && matches!(cluster, Some(None)) {
        problems.check::<()>(Err(ConfigError::NoCluster));
    }
    let argocd = match (simulate, &environment) {
        (Some(simulate), Some(environment)) => {
            problems.check(argocd_target(simulate, args, environment))
        }
        _ => None,
    };

    let (
        Some(dry_run),
        Some(scope),
        Some(app_namespace),
        Some(environment),
        Some(target),
        Some(pv_policy),
        Some(validate_wait),
        Some(sync_override),
        Some(health_override),
        Some(run_timeout),
        Some(revision),
        Some(parallelism),
        Some(schedule),
        Some(prune),
        Some(wait_sync_window),
        Some(trace),
        Some(argocd),
        Some(cluster),
        Some(skip_preflight),
        Some(checks),
        Some(enforce_compliance),
        Some(pushgateway),
        Some(otlp),
    ) = (
        dry_run,
        scope,
        app_namespace,
        environment,
        target,
        pv_policy,
        validate_wait,
        sync_override,
        health_override,
        run_timeout,
        revision,
        parallelism,
        schedule,
        prune,
        wait_sync_window,
        trace,
        argocd,
        cluster,
        skip_preflight,
        checks,
        enforce_compliance,
        pushgateway,
        otlp,
    )
    else {
        return Err(problems.into_error());
    };
    if !problems.0.is_empty() {
        return Err(problems.into_error());
    }
    let app_namespaces = app_namespaces(
        &scope,
        target.dag(),
        app_namespace,
        environment.argocd.app_namespace.as_deref(),
    );
    Ok(Config {
        action,
        scope,
        dry_run,
        log,
        output_dir: args
            .output_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("/tmp/executor")),
        config_dir,
        argocd,
        sync_timeout: environment.timeouts.sync,
        health_timeout: environment.timeouts.health,
        max_attempts: environment.retries.max_attempts,
        backoff: environment.retries.backoff,
        health: environment.health,
        sync: SyncSettings {
            // `--prune` wins over environment.yaml's `sync.prune`.
            prune: prune.or(environment.sync.prune),
            ..environment.sync.clone()
        },
        pv_policy,
        terminate_on_timeout: !args.no_terminate_on_timeout,
        wait_sync_window,
        trace,
        validate_wait,
        sync_override,
        health_override,
        revision,
        run_timeout,
        parallelism,
        schedule,
        target,
        app_namespaces,
        cluster,
        skip_preflight,
        checks,
        enforce_compliance,
        pushgateway,
        otlp,
        environment,
    })
}

/// `<config-dir>/health.yaml`, when there is one: without it only the
/// built-ins apply. With a dag.yaml, a check must name one of its
/// Applications (any of the file's, not only those in this run's scope).
pub(super) fn health_file(
    config_dir: &Path,
    dag_file: Option<&Path>,
) -> Result<crate::checks::HealthChecks, ConfigError> {
    let apps = dag_file
        .and_then(|file| load_spec(file).ok())
        .map(|spec| spec.applications());
    let path = config_dir.join("health.yaml");
    if !path.exists() {
        return Ok(crate::checks::HealthChecks {
            dag_apps: apps.unwrap_or_default(),
            ..Default::default()
        });
    }
    let bytes = read_file(
        "health.yaml",
        &path,
        "make it readable, or remove it to use only the built-in checks",
    )?;
    let invalid = |message: String| ConfigError::HealthFile {
        path: path.clone(),
        message,
    };
    let text = String::from_utf8(bytes).map_err(|_| invalid("it is not UTF-8 text".to_owned()))?;
    crate::checks::HealthChecks::parse(&text, config_dir, apps.as_ref()).map_err(invalid)
}

/// `<config-dir>/environment.yaml`, for the environment `--environment` names.
fn environment_file(config_dir: &Path, args: &RunArgs) -> Result<EnvironmentFile, ConfigError> {
    let given = args
        .environment
        .clone()
        .filter(|e| !e.is_empty())
        .ok_or(ConfigError::Missing {
            input: "--environment (ENVIRONMENT)",
            hint: "name the target environment, as in environment.yaml".to_owned(),
        })?;
    let path = config_dir.join("environment.yaml");
    let text = read_file(
        "environment.yaml",
        &path,
        "mount the environment ConfigMap there or pass --config-dir (EXECUTOR_CONFIG_DIR)",
    )?;
    let text = String::from_utf8_lossy(&text);
    let environment = EnvironmentFile::parse(&text).map_err(|e| ConfigError::EnvironmentFile {
        path: path.clone(),
        message: e.to_string(),
    })?;
    if environment.name != given {
        return Err(ConfigError::EnvironmentMismatch {
            given,
            in_file: environment.name.clone(),
            path,
        });
    }
    if environment.retries.max_attempts == 0 {
        return Err(ConfigError::EnvironmentFile {
            path,
            message: "retries.maxAttempts must be at least 1 (it counts the first attempt)"
                .to_owned(),
        });
    }
    Ok(environment)
}

/// Teardown's `--confirm` must equal the environment's name.
fn confirmation(
    action: Action,
    confirm: Option<&str>,
    environment: &EnvironmentFile,
) -> Result<(), ConfigError> {
    if action != Action::Teardown || confirm == Some(environment.name.as_str()) {
        return Ok(());
    }
    Err(ConfigError::Confirmation {
        expected: environment.name.clone(),
        given: confirm.map(|c| format!(" (got '{c}')")).unwrap_or_default(),
    })
}

fn pv_policy(value: Option<&str>) -> Result<PvPolicy, ConfigError> {
    match value {
        None | Some("retain") => Ok(PvPolicy::Retain),
        Some("delete") => Ok(PvPolicy::Delete),
        Some("snapshot") => Ok(PvPolicy::Snapshot),
        Some(other) => Err(ConfigError::bad(
            "--pv-policy (PV_POLICY)",
            other,
            "retain, delete or snapshot",
        )),
    }
}

/// A duration flag; unset or empty means none.
fn optional_duration(
    input: &'static str,
    value: &Option<String>,
) -> Result<Option<Duration>, ConfigError> {
    match value.as_deref() {
        None | Some("") => Ok(None),
        Some(text) => duration::parse(text)
            .map(Some)
            .map_err(|problem| ConfigError::BadValue {
                input,
                value: text.to_owned(),
                problem,
            }),
    }
}

/// `--revision`; empty is unset, so one ConfigMap may leave it blank.
fn revision(value: Option<&str>) -> Result<Option<String>, ConfigError> {
    match value {
        None | Some("") => Ok(None),
        Some(r) if !r.is_empty() && !r.contains(char::is_whitespace) => Ok(Some(r.to_owned())),
        Some(r) => Err(ConfigError::bad(
            "--revision (TARGET_REVISION)",
            r,
            "a branch, tag or commit SHA, such as main, v1.2.0 or 9f1c2ab",
        )),
    }
}

fn parallelism(value: Option<&str>) -> Result<usize, ConfigError> {
    match value {
        None => Ok(8),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=256).contains(&n) => Ok(n),
            _ => Err(ConfigError::bad(
                "--parallelism (PARALLELISM)",
                text,
                "a whole number from 1 to 256",
            )),
        },
    }
}

fn schedule(value: Option<&str>) -> Result<crate::dag::schedule::Mode, ConfigError> {
    match value {
        None | Some("eager") => Ok(crate::dag::schedule::Mode::Eager),
        Some("waves") => Ok(crate::dag::schedule::Mode::Waves),
        Some(other) => Err(ConfigError::bad(
            "--schedule (SCHEDULE)",
            other,
            "eager or waves",
        )),
    }
}

/// The caller's W3C trace context, from TRACE_ID and SPAN_ID.
fn trace(env: &impl Fn(&str) -> Option<String>) -> Result<Option<TraceContext>, ConfigError> {
    let Some(trace_id) = env("TRACE_ID") else {
        return Ok(None);
    };
    Ok(Some(TraceContext {
        trace_id: parse_hex_id("TRACE_ID", &trace_id, 32)?,
        span_id: match env("SPAN_ID") {
            Some(s) => parse_hex_id("SPAN_ID", &s, 16)?,
            None => "0000000000000001".to_owned(),
        },
    }))
}

/// Where Argo CD is and how to authenticate: the simulator's, or the
/// server's URL, an extra CA bundle, and the token from the secrets directory.
fn argocd_target(
    simulate: bool,
    args: &RunArgs,
    environment: &EnvironmentFile,
) -> Result<ArgoCdTarget, ConfigError> {
    let target = |endpoint, ca_pem, token| ArgoCdTarget {
        endpoint,
        ca_pem,
        token,
        project: environment.argocd.project.clone(),
        namespace: environment.argocd_namespace.clone(),
    };
    if simulate {
        return Ok(target(
            Endpoint::Simulated,
            None,
            SIMULATED_TOKEN.to_owned(),
        ));
    }
    let server = match (&args.argocd_server, &environment.argocd.server) {
        (Some(s), _) => parse_server("--argocd-server (ARGOCD_SERVER)", s)?,
        (None, Some(s)) => parse_server("argocd.server in environment.yaml", s)?,
        (None, None) => parse_server(
            "argocdNamespace in environment.yaml",
            &format!("https://argocd-server.{}.svc", environment.argocd_namespace),
        )?,
    };
    let ca_pem = match &args.argocd_ca_file {
        None => None,
        Some(path) => {
            let pem = read_file(
                "--argocd-ca-file (ARGOCD_CA_FILE)",
                path,
                "give a readable PEM bundle",
            )?;
            if reqwest::Certificate::from_pem_bundle(&pem)
                .map(|c| c.is_empty())
                .unwrap_or(true)
            {
                return Err(ConfigError::bad(
                    "--argocd-ca-file (ARGOCD_CA_FILE)",
                    &path.display().to_string(),
                    "a PEM file holding at least one certificate",
                ));
            }
            Some(pem)
        }
    };
    let secrets_dir = args
        .secrets_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("/secrets"));
    let token_path = secrets_dir.join("argocd-token");
    let token = read_file(
        "the Argo CD token",
        &token_path,
        "mount the token Secret there or pass --secrets-dir (EXECUTOR_SECRETS_DIR)",
    )?;
    let token = String::from_utf8(token)
        .unwrap_or_default()
        .trim()
        .to_owned();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(ConfigError::Missing {
            input: "Argo CD token",
            hint: format!(
                "{} is empty or not a single token; write the bearer token into it",
                token_path.display()
            ),
        });
    }
    Ok(target(Endpoint::Remote(server), ca_pem, token))
}

#[cfg(test)]
mod tests;
