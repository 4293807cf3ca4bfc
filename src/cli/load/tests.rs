//! Unit tests of the run configuration: value parsers, and the checks and
//! resolution of `run_config` on real files in a temporary directory.

use std::path::Path;

use super::*;
use crate::cli::args::RunArgs;
use crate::cli::values::log_settings;

#[test]
fn trace_ids_must_be_w3c_hex() {
    assert!(parse_hex_id("TRACE_ID", "4bf92f3577b34da6a3ce929d0e0e4736", 32).is_ok());
    assert!(parse_hex_id("TRACE_ID", "00000000000000000000000000000000", 32).is_err());
    assert!(parse_hex_id("SPAN_ID", "xyz", 16).is_err());
}

#[test]
fn servers_must_be_http_urls() {
    assert!(parse_server("x", "https://argocd.example.com").is_ok());
    assert!(parse_server("x", "http://127.0.0.1:8080").is_ok());
    assert!(parse_server("x", "ftp://argocd").is_err());
    assert!(parse_server("x", "argocd.example.com").is_err());
}

/// A config directory with environment.yaml (plus `extra`), dag.yaml when
/// given, and a token; `--argocd-server` is never contacted.
fn files(extra: &str, dag: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let env = format!("name: dev\ndomain: dev.example.com\ngitRepository: https://git.example.com/p.git\ngitRevision: main\n{extra}");
    std::fs::write(dir.path().join("environment.yaml"), env).unwrap();
    if let Some(dag) = dag {
        std::fs::write(dir.path().join("dag.yaml"), dag).unwrap();
    }
    std::fs::write(dir.path().join("argocd-token"), "token\n").unwrap();
    dir
}

/// `executor deploy --scope <scope> [--app-namespace <ns>]` on `dir`.
fn deploy(dir: &Path, scope: &str, app_namespace: Option<&str>) -> Result<Config, ConfigError> {
    let args = RunArgs {
        environment: Some("dev".into()),
        scope: Some(scope.into()),
        app_namespace: app_namespace.map(str::to_owned),
        config_dir: Some(dir.to_owned()),
        secrets_dir: Some(dir.to_owned()),
        ..RunArgs::default()
    };
    let log = log_settings(&args, false).unwrap();
    run_config(Action::Deploy, &args, log, |_| None)
}

const DAG: &str = "stacks:\n- name: team\n  app: team-apps\n  namespace: team-root\n  apps:\n  - {name: own, namespace: team-a}\n  - {name: plain}\n";

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `--app-namespace` is an app scope's: with another scope it is Invalid,
/// naming the input and the fix, before anything is read.
#[test]
fn app_namespace_outside_an_app_scope_is_invalid() {
    let dir = files("", Some(DAG));
    for scope in ["platform", "stack:team"] {
        let err = deploy(dir.path(), scope, Some("team-a")).unwrap_err();
        assert!(matches!(err, ConfigError::AppScopeOnly { .. }), "{err:?}");
        assert_eq!(
            crate::error::Error::from(err).exit_code(),
            crate::exit::ExitCode::INVALID
        );
        let text = deploy(dir.path(), scope, Some("team-a"))
            .unwrap_err()
            .to_string();
        assert!(
            text.starts_with("--app-namespace (APP_NAMESPACE) applies only to --scope app:<name>"),
            "{text}"
        );
        assert!(
            text.contains("`namespace:` on the app in dag.yaml"),
            "{text}"
        );
    }
    // Empty is unset, as for the other optional variables.
    assert!(deploy(dir.path(), "platform", Some("")).is_ok());
}

/// A namespace that Kubernetes would reject, in any of the three inputs, is Invalid.
#[test]
fn bad_namespaces_are_invalid() {
    let dir = files("", None);
    let err = deploy(dir.path(), "app:web", Some("Team_A")).unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::BadValue {
                input: "--app-namespace (APP_NAMESPACE)",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("'Team_A': expected a namespace name"),
        "{err}"
    );
    let dir = files("argocd:\n  appNamespace: team.a\n", None);
    let err = deploy(dir.path(), "app:web", None).unwrap_err().to_string();
    assert!(err.contains("'team.a' is not a valid namespace"), "{err}");
    assert!(err.contains("line 6"), "{err}");
    let dir = files(
        "",
        Some("stacks:\n- name: s\n  apps: [{name: web, namespace: A}]\n"),
    );
    let err = deploy(dir.path(), "app:web", None).unwrap_err().to_string();
    assert!(
        err.contains("app 'web' in stack 's' has namespace 'A'"),
        "{err}"
    );
}

/// The map holds only apps with a namespace: for an app scope the flag wins
/// over the node's, which wins over environment.yaml's; for a DAG scope each
/// node's, a stack's namespace being only its app-of-apps'.
#[test]
fn app_namespaces_resolve_flag_then_node_then_environment() {
    let dir = files("", Some(DAG));
    let ns = |scope, flag| deploy(dir.path(), scope, flag).unwrap().app_namespaces;
    assert_eq!(ns("app:own", None), map(&[("own", "team-a")]));
    assert_eq!(ns("app:own", Some("argocd")), map(&[("own", "argocd")]));
    assert_eq!(
        ns("app:team-apps", None),
        map(&[("team-apps", "team-root")])
    );
    assert_eq!(ns("app:plain", None), map(&[]));
    assert_eq!(
        ns("platform", None),
        map(&[("own", "team-a"), ("team-apps", "team-root")])
    );

    let dir = files("argocd:\n  appNamespace: apps\n", Some(DAG));
    let ns = |scope, flag| deploy(dir.path(), scope, flag).unwrap().app_namespaces;
    assert_eq!(ns("app:plain", None), map(&[("plain", "apps")]));
    assert_eq!(
        ns("stack:team", None),
        map(&[
            ("own", "team-a"),
            ("plain", "apps"),
            ("team-apps", "team-root")
        ])
    );
    let config = deploy(dir.path(), "platform", None).unwrap();
    assert_eq!(
        config.argocd.namespace, "argocd",
        "Argo CD's own stays argocdNamespace"
    );

    // Without a dag.yaml, any app: environment.yaml's namespace, or the flag.
    let dir = files("argocd:\n  appNamespace: apps\n", None);
    let ns = |scope, flag| deploy(dir.path(), scope, flag).unwrap().app_namespaces;
    assert_eq!(ns("app:unlisted", None), map(&[("unlisted", "apps")]));
    assert_eq!(ns("app:unlisted", Some("x")), map(&[("unlisted", "x")]));
}
