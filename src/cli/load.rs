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
    use crate::dag::{load_spec, BuildContext, Dag, DagErrors, Overrides};
    let path = config_dir.join("dag.yaml");
    if !path.exists() {
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
    let (overrides, mut errors) = Overrides::collect(&args.dag);
    let spec = load_spec(&path).map_err(|mut e| {
        e.0.splice(0..0, errors.drain(..));
        e
    })?;
    let ctx = BuildContext {
        cluster_name: environment.cluster_name.as_deref(),
        default_sync: environment.timeouts.sync,
        default_health: environment.timeouts.health,
        default_app_namespace: environment.argocd.app_namespace.as_deref(),
    };
    // With a dag.yaml, `app:` must name one of its Applications: a typo is
    // caught here (with a did-you-mean) instead of syncing an app of that name.
    match Dag::build_scoped(&spec, &overrides, &ctx, scope) {
        Ok(dag) => {
            let dag = DagErrors::check(errors, dag)?;
            Ok(match scope {
                Scope::App(name) => Target::App {
                    name: name.clone(),
                    dag: Some(dag),
                },
                Scope::Platform | Scope::Stack(_) => Target::Dag(dag),
            })
        }
        Err(e) => {
            errors.extend(e.0);
            Err(DagErrors(errors).into())
        }
    }
}

/// Reads and checks every input of a run of `action`. `env` looks up
/// environment variables that have no flag (TRACE_ID, SPAN_ID).
pub fn run_config(
    action: Action,
    args: &RunArgs,
    log: LogSettings,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let simulate = parse_bool("--simulate (EXECUTOR_SIMULATE)", args.simulate.as_deref())?;
    let dry_run = parse_bool("--dry-run (DRY_RUN)", args.dry_run.as_deref())?;
    let scope_text = args.scope.as_deref().unwrap_or("platform");
    let scope = Scope::parse(scope_text).map_err(|problem| ConfigError::BadValue {
        input: "--scope (TARGET_SCOPE)",
        value: scope_text.to_owned(),
        problem,
    })?;
    let app_namespace = parse_app_namespace(args.app_namespace.as_deref(), &scope)?;
    let given_env =
        args.environment
            .clone()
            .filter(|e| !e.is_empty())
            .ok_or(ConfigError::Missing {
                input: "--environment (ENVIRONMENT)",
                hint: "name the target environment, as in environment.yaml".to_owned(),
            })?;

    let config_dir = args
        .config_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("/config"));
    let env_path = config_dir.join("environment.yaml");
    let text = read_file(
        "environment.yaml",
        &env_path,
        "mount the environment ConfigMap there or pass --config-dir (EXECUTOR_CONFIG_DIR)",
    )?;
    let text = String::from_utf8_lossy(&text);
    let environment = EnvironmentFile::parse(&text).map_err(|e| ConfigError::EnvironmentFile {
        path: env_path.clone(),
        message: e.to_string(),
    })?;
    if environment.name != given_env {
        return Err(ConfigError::EnvironmentMismatch {
            given: given_env,
            in_file: environment.name.clone(),
            path: env_path,
        });
    }
    if environment.retries.max_attempts == 0 {
        return Err(ConfigError::EnvironmentFile {
            path: env_path,
            message: "retries.maxAttempts must be at least 1 (it counts the first attempt)"
                .to_owned(),
        });
    }

    let target = load_dag(&config_dir, &environment, &scope, args)?;
    let app_namespaces = app_namespaces(
        &scope,
        target.dag(),
        app_namespace,
        environment.argocd.app_namespace.as_deref(),
    );

    let pv_policy = match args.pv_policy.as_deref() {
        None | Some("retain") => PvPolicy::Retain,
        Some("delete") => PvPolicy::Delete,
        Some("snapshot") => PvPolicy::Snapshot,
        Some(other) => {
            return Err(ConfigError::bad(
                "--pv-policy (PV_POLICY)",
                other,
                "retain, delete or snapshot",
            ))
        }
    };
    if action == Action::Teardown && args.confirm.as_deref() != Some(environment.name.as_str()) {
        let given = match &args.confirm {
            None => String::new(),
            Some(c) => format!(" (got '{c}')"),
        };
        return Err(ConfigError::Confirmation {
            expected: environment.name.clone(),
            given,
        });
    }

    let validate_wait = match &args.wait {
        None => None,
        Some(text) => Some(crate::vocabulary::duration::parse(text).map_err(|problem| {
            ConfigError::BadValue {
                input: "--wait (VALIDATE_WAIT)",
                value: text.clone(),
                problem,
            }
        })?),
    };

    let timeout = |input: &'static str, value: &Option<String>| match value.as_deref() {
        None | Some("") => Ok(None),
        Some(text) => crate::vocabulary::duration::parse(text)
            .map(Some)
            .map_err(|problem| ConfigError::BadValue {
                input,
                value: text.to_owned(),
                problem,
            }),
    };
    let sync_override = timeout("--sync-timeout (SYNC_TIMEOUT)", &args.sync_timeout)?;
    let health_override = timeout("--health-timeout (HEALTH_TIMEOUT)", &args.health_timeout)?;
    let run_timeout = args.timeout.as_deref().map(run_timeout).transpose()?;
    let revision = match args.revision.as_deref() {
        None => None,
        Some(r) if !r.is_empty() && !r.contains(char::is_whitespace) => Some(r.to_owned()),
        Some(r) => {
            return Err(ConfigError::bad(
                "--revision (TARGET_REVISION)",
                r,
                "a branch, tag or commit SHA, such as main, v1.2.0 or 9f1c2ab",
            ))
        }
    };
    let parallelism = match args.parallelism.as_deref() {
        None => 8,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=256).contains(&n) => n,
            _ => {
                return Err(ConfigError::bad(
                    "--parallelism (PARALLELISM)",
                    text,
                    "a whole number from 1 to 256",
                ))
            }
        },
    };
    let schedule = match args.schedule.as_deref() {
        None | Some("eager") => crate::dag::schedule::Mode::Eager,
        Some("waves") => crate::dag::schedule::Mode::Waves,
        Some(other) => {
            return Err(ConfigError::bad(
                "--schedule (SCHEDULE)",
                other,
                "eager or waves",
            ))
        }
    };

    let prune = match args.prune.as_deref() {
        None => None,
        given => Some(parse_bool("--prune (PRUNE)", given)?),
    };

    let trace = match (env("TRACE_ID"), env("SPAN_ID")) {
        (None, _) => None,
        (Some(trace_id), span) => Some(TraceContext {
            trace_id: parse_hex_id("TRACE_ID", &trace_id, 32)?,
            span_id: match span {
                Some(s) => parse_hex_id("SPAN_ID", &s, 16)?,
                None => "0000000000000001".to_owned(),
            },
        }),
    };

    let argocd = if simulate {
        ArgoCdTarget {
            endpoint: Endpoint::Simulated,
            ca_pem: None,
            token: SIMULATED_TOKEN.to_owned(),
            project: environment.argocd.project.clone(),
            namespace: environment.argocd_namespace.clone(),
        }
    } else {
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
        ArgoCdTarget {
            endpoint: Endpoint::Remote(server),
            ca_pem,
            token,
            project: environment.argocd.project.clone(),
            namespace: environment.argocd_namespace.clone(),
        }
    };

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
        wait_sync_window: parse_bool(
            "--wait-sync-window (WAIT_SYNC_WINDOW)",
            args.wait_sync_window.as_deref(),
        )?,
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
        environment,
    })
}

#[cfg(test)]
mod tests;
