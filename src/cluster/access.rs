//! Cluster access, in the contract's order: `KUBECONFIG_PATH` (`--kubeconfig`),
//! else `KUBECONFIG_DATA` (base64), else the pod's service account. Loading
//! reads files only; a bad kubeconfig is an input error, found before any
//! request. No access at all is allowed: the cluster-side checks are then
//! reported as skipped (`--require-cluster` makes it an input error).
//!
//! The kubeconfig's `current-context` is used; nothing falls back to
//! `KUBECONFIG` or `~/.kube/config`, so that a pipeline never picks up
//! whatever cluster a laptop last pointed at.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use futures_util::FutureExt;
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};

/// Where the pod's service account token is mounted.
pub const IN_CLUSTER_TOKEN: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/// Which input the access came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--kubeconfig` (`KUBECONFIG_PATH`).
    Path(PathBuf),
    /// `KUBECONFIG_DATA`.
    Data,
    /// The pod's service account (`KUBERNETES_SERVICE_HOST` and the mounted token).
    InCluster,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Path(path) => write!(f, "--kubeconfig (KUBECONFIG_PATH) {}", path.display()),
            Source::Data => f.write_str("KUBECONFIG_DATA"),
            Source::InCluster => f.write_str("the pod's service account"),
        }
    }
}

/// A checked way to reach the cluster.
#[derive(Clone)]
pub struct Access {
    /// Where it came from.
    pub source: Source,
    /// The loaded client configuration.
    pub config: kube::Config,
}

/// Names the source and the server; never the credentials.
impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Access")
            .field("source", &self.source)
            .field("server", &self.config.cluster_url.to_string())
            .finish()
    }
}

/// A kubeconfig that cannot be used, or access required and absent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {input}: {problem}; {hint}")]
pub struct AccessError {
    /// The input, with its flag or variable.
    pub input: String,
    /// What is wrong.
    pub problem: String,
    /// How to fix it.
    pub hint: String,
}

/// The inputs that give cluster access.
#[derive(Debug, Clone, Default)]
pub struct Inputs<'a> {
    /// `--kubeconfig` (`KUBECONFIG_PATH`).
    pub path: Option<&'a Path>,
    /// `KUBECONFIG_DATA`.
    pub data: Option<&'a str>,
    /// `KUBERNETES_SERVICE_HOST` is set: the executor runs in a pod.
    pub in_pod: bool,
}

/// Which source applies, by the contract's order; empty values are unset.
pub fn source(inputs: &Inputs) -> Option<Source> {
    if let Some(path) = inputs.path.filter(|p| !p.as_os_str().is_empty()) {
        return Some(Source::Path(path.to_owned()));
    }
    if inputs.data.is_some_and(|d| !d.trim().is_empty()) {
        return Some(Source::Data);
    }
    inputs.in_pod.then_some(Source::InCluster)
}

/// Loads the access the inputs give. `Ok(None)`: none given, or a pod
/// without a mounted service account token (automountServiceAccountToken:
/// false), which is no access rather than a bad input.
pub fn load(inputs: &Inputs) -> Result<Option<Access>, AccessError> {
    let Some(source) = source(inputs) else {
        return Ok(None);
    };
    let config = match &source {
        Source::Path(path) => from_path(path)?,
        Source::Data => from_data(inputs.data.unwrap_or_default())?,
        Source::InCluster => {
            if !Path::new(IN_CLUSTER_TOKEN).exists() {
                return Ok(None);
            }
            kube::Config::incluster().map_err(|e| AccessError {
                input: source.to_string(),
                problem: e.to_string(),
                hint: "mount the service account token (automountServiceAccountToken), or give --kubeconfig".to_owned(),
            })?
        }
    };
    Ok(Some(Access { source, config }))
}

fn from_path(path: &Path) -> Result<kube::Config, AccessError> {
    let input = Source::Path(path.to_owned()).to_string();
    let bad = |problem: String, hint: &str| AccessError {
        input: input.clone(),
        problem,
        hint: hint.to_owned(),
    };
    // Read once ourselves, so that an unreadable file is named as such;
    // kube's reader then resolves the file's relative paths against its directory.
    let text = std::fs::read(path).map_err(|e| {
        bad(
            format!("cannot be read ({e})"),
            "mount the kubeconfig there, or point --kubeconfig (KUBECONFIG_PATH) at it",
        )
    })?;
    std::str::from_utf8(&text).map_err(|_| bad("is not UTF-8 text".to_owned(), YAML_HINT))?;
    let kubeconfig = Kubeconfig::read_from(path).map_err(|e| parse_error(&input, e))?;
    checked(&input, kubeconfig)
}

fn from_data(data: &str) -> Result<kube::Config, AccessError> {
    let input = Source::Data.to_string();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| AccessError {
            input: input.clone(),
            problem: format!("is not base64 ({e})"),
            hint: "give the kubeconfig's bytes base64-encoded, e.g. `base64 -w0 kubeconfig`"
                .to_owned(),
        })?;
    let text = String::from_utf8(bytes).map_err(|_| AccessError {
        input: input.clone(),
        problem: "does not decode to UTF-8 text".to_owned(),
        hint: YAML_HINT.to_owned(),
    })?;
    let kubeconfig = Kubeconfig::from_yaml(&text).map_err(|e| parse_error(&input, e))?;
    checked(&input, kubeconfig)
}

const YAML_HINT: &str = "give a kubeconfig file (YAML, as `kubectl config view --raw` prints it)";

/// The parser's own message quotes the lines around the error (serde-saphyr
/// shows a snippet), which may hold a token or a key: only the kind of
/// problem is named.
fn parse_error(input: &str, e: KubeconfigError) -> AccessError {
    let what = match e {
        KubeconfigError::Parse(_) => "YAML that does not parse as one",
        _ => "unreadable as one",
    };
    AccessError {
        input: input.to_owned(),
        problem: format!(
            "is not a kubeconfig ({what}; its text is not shown, as it may hold credentials)"
        ),
        hint: YAML_HINT.to_owned(),
    }
}

/// The kubeconfig's current context, its cluster and server, loaded as
/// kube's client configuration, with each missing piece named.
fn checked(input: &str, kubeconfig: Kubeconfig) -> Result<kube::Config, AccessError> {
    let bad = |problem: String, hint: String| AccessError {
        input: input.to_owned(),
        problem,
        hint,
    };
    let names = |names: Vec<&str>| {
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    };
    let contexts = names(
        kubeconfig
            .contexts
            .iter()
            .map(|c| c.name.as_str())
            .collect(),
    );
    let Some(current) = kubeconfig.current_context.clone().filter(|c| !c.is_empty()) else {
        return Err(bad(
            "has no current-context".to_owned(),
            format!("set one with `kubectl config use-context <name>` (contexts: {contexts})"),
        ));
    };
    let Some(context) = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == current)
        .and_then(|c| c.context.as_ref())
    else {
        return Err(bad(
            format!("current-context '{current}' is not one of its contexts ({contexts})"),
            "set current-context to one of them, or add that context".to_owned(),
        ));
    };
    let cluster = kubeconfig
        .clusters
        .iter()
        .find(|c| c.name == context.cluster)
        .and_then(|c| c.cluster.as_ref());
    let clusters = names(
        kubeconfig
            .clusters
            .iter()
            .map(|c| c.name.as_str())
            .collect(),
    );
    match cluster {
        None => {
            return Err(bad(
                format!(
                    "context '{current}' names cluster '{}', which is not one of its clusters ({clusters})",
                    context.cluster
                ),
                "add that cluster, or fix the context".to_owned(),
            ))
        }
        Some(c) if c.server.as_deref().is_none_or(str::is_empty) => {
            return Err(bad(
                format!("cluster '{}' has no server", context.cluster),
                "set its server to the API server's URL".to_owned(),
            ))
        }
        Some(_) => {}
    }
    // kube's loader is async in signature only: it reads files and never
    // waits, so it completes on its first poll.
    let loaded = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .now_or_never()
        .unwrap_or(Err(KubeconfigError::FindPath));
    loaded.map_err(|e| {
        bad(
            e.to_string(),
            "fix the kubeconfig's cluster or user entry".to_owned(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "apiVersion: v1
kind: Config
current-context: e2e
contexts:
- name: e2e
  context: {cluster: local, user: admin, namespace: argocd}
clusters:
- name: local
  cluster: {server: 'https://127.0.0.1:6443', insecure-skip-tls-verify: true}
users:
- name: admin
  user: {token: secret-token}
";

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    #[test]
    fn the_source_follows_the_contracts_order() {
        let path = Path::new("/k/config");
        let cases = [
            (Inputs::default(), None),
            (
                Inputs {
                    in_pod: true,
                    ..Inputs::default()
                },
                Some(Source::InCluster),
            ),
            (
                Inputs {
                    data: Some("eA=="),
                    in_pod: true,
                    ..Inputs::default()
                },
                Some(Source::Data),
            ),
            (
                Inputs {
                    path: Some(path),
                    data: Some("eA=="),
                    in_pod: true,
                },
                Some(Source::Path(path.to_owned())),
            ),
            (
                Inputs {
                    path: Some(Path::new("")),
                    data: Some("  "),
                    in_pod: false,
                },
                None,
            ),
        ];
        for (inputs, expected) in cases {
            assert_eq!(source(&inputs), expected, "{inputs:?}");
        }
    }

    #[test]
    fn a_good_kubeconfig_loads_its_current_context() {
        let data = b64(GOOD);
        let access = load(&Inputs {
            data: Some(&data),
            ..Inputs::default()
        })
        .unwrap()
        .unwrap();
        assert_eq!(access.source, Source::Data);
        assert_eq!(
            access.config.cluster_url.to_string(),
            "https://127.0.0.1:6443/"
        );
        assert_eq!(access.config.default_namespace, "argocd");
        let debug = format!("{access:?}");
        assert!(!debug.contains("secret-token"), "{debug}");
    }

    #[test]
    fn each_bad_kubeconfig_is_named() {
        let no_current = GOOD.replace("current-context: e2e\n", "");
        let unknown = GOOD.replace("current-context: e2e", "current-context: prod");
        let no_cluster = GOOD.replace("{cluster: local,", "{cluster: gone,");
        let no_server = GOOD.replace("server: 'https://127.0.0.1:6443', ", "");
        let cases: Vec<(String, &str)> = vec![
            ("not base64!".to_owned(), "is not base64"),
            (b64("key: [unclosed"), "is not a kubeconfig"),
            (
                base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe]),
                "does not decode to UTF-8",
            ),
            (
                b64("apiVersion: v1\nkind: Config\n"),
                "has no current-context; set one with `kubectl config use-context <name>` (contexts: none)",
            ),
            (
                b64(&no_current),
                "has no current-context; set one with `kubectl config use-context <name>` (contexts: e2e)",
            ),
            (
                b64(&unknown),
                "current-context 'prod' is not one of its contexts (e2e)",
            ),
            (
                b64(&no_cluster),
                "names cluster 'gone', which is not one of its clusters (local)",
            ),
            (b64(&no_server), "cluster 'local' has no server"),
        ];
        for (data, expected) in cases {
            let e = load(&Inputs {
                data: Some(&data),
                ..Inputs::default()
            })
            .unwrap_err();
            assert_eq!(e.input, "KUBECONFIG_DATA");
            assert!(e.to_string().contains(expected), "{expected}: {e}");
        }
    }

    #[test]
    fn a_broken_kubeconfig_never_shows_its_credentials() {
        let broken = GOOD.replace("kind: Config", "kind: [Config");
        let e = load(&Inputs {
            data: Some(&b64(&broken)),
            ..Inputs::default()
        })
        .unwrap_err();
        assert!(e.problem.contains("is not a kubeconfig"), "{e}");
        assert!(!e.to_string().contains("secret-token"), "{e}");
    }

    #[test]
    fn an_unreadable_or_binary_kubeconfig_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("binary");
        std::fs::write(&binary, [0xff, 0x00, 0xfe]).unwrap();
        let missing = dir.path().join("missing");
        for (path, expected) in [(&missing, "cannot be read"), (&binary, "is not UTF-8")] {
            let e = load(&Inputs {
                path: Some(path),
                ..Inputs::default()
            })
            .unwrap_err();
            assert!(
                e.input.starts_with("--kubeconfig (KUBECONFIG_PATH) "),
                "{e}"
            );
            assert!(e.problem.contains(expected), "{expected}: {e}");
        }
    }

    #[test]
    fn a_kubeconfig_files_relative_paths_are_its_directorys() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "t").unwrap();
        let text = GOOD.replace("{token: secret-token}", "{tokenFile: token}");
        let path = dir.path().join("config");
        std::fs::write(&path, text).unwrap();
        let access = load(&Inputs {
            path: Some(&path),
            ..Inputs::default()
        })
        .unwrap()
        .unwrap();
        assert_eq!(
            access.config.auth_info.token_file.as_deref(),
            Some(dir.path().join("token").to_str().unwrap())
        );
    }
}
