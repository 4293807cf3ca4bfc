//! `<config-dir>/health.yaml`: the critical checks, parsed strictly and
//! checked whole before any request, so that every mistake is exit 3 with
//! the check's name and what to write instead.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path as FsPath;
use std::time::Duration;

use serde::Deserialize;

use super::builtin::Builtin;
use super::field::{Expect, FieldRule, Path};
use super::plan::{CheckSpec, Http, Probe, Rule};
use crate::cluster::resource::ObjectRef;
use crate::vocabulary::duration;

/// Which built-ins are on (all, unless health.yaml turns one off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Builtins {
    /// Rook CephCluster.
    pub ceph_cluster: bool,
    /// Zalando postgresql.
    pub postgresql: bool,
    /// Nested Applications (their own health).
    pub applications: bool,
    /// Deployment, StatefulSet, DaemonSet, Job, PVC.
    pub workloads: bool,
}

impl Default for Builtins {
    fn default() -> Self {
        Builtins {
            ceph_cluster: true,
            postgresql: true,
            applications: true,
            workloads: true,
        }
    }
}

impl Builtins {
    /// Whether `builtin` is on.
    pub fn enabled(&self, builtin: Builtin) -> bool {
        match builtin {
            Builtin::CephCluster => self.ceph_cluster,
            Builtin::Postgresql => self.postgresql,
            Builtin::Applications => self.applications,
            Builtin::Workloads(_) => self.workloads,
        }
    }
}

/// The checked health.yaml (the defaults when there is none).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HealthChecks {
    /// Which built-ins are on.
    pub builtins: Builtins,
    /// The file's own checks, in its order.
    pub checks: Vec<CheckSpec>,
    /// The Applications that are nodes of dag.yaml (all of them, whatever
    /// the scope): components of their own, which a parent does not check.
    pub dag_apps: BTreeSet<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    builtins: Builtins,
    #[serde(default)]
    checks: Vec<RawCheck>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawCheck {
    name: String,
    app: String,
    resource: Option<RawResource>,
    http: Option<RawHttp>,
    vault: Option<RawVault>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawResource {
    api_version: String,
    kind: String,
    name: Option<String>,
    namespace: Option<String>,
    selector: Option<String>,
    condition: Option<String>,
    field: Option<RawField>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawField {
    path: String,
    equals: Option<serde_yaml::Value>,
    #[serde(rename = "in")]
    one_of: Option<Vec<serde_yaml::Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawHttp {
    url: String,
    status: Option<u16>,
    #[serde(default)]
    json: BTreeMap<String, serde_yaml::Value>,
    timeout: Option<String>,
    ca_file: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawVault {
    url: String,
    timeout: Option<String>,
    ca_file: Option<String>,
}

/// How long one HTTP check may take when health.yaml does not say.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest an HTTP check may be given: a deadline, not a wait.
const MAX_HTTP_TIMEOUT: Duration = Duration::from_secs(60);

fn json_of(value: serde_yaml::Value) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

impl HealthChecks {
    /// Parses and checks health.yaml's `text`. `config_dir` resolves a
    /// relative `caFile`; `apps` are the run's Application names when there
    /// is a dag.yaml (a check for any other app is a typo). Every problem is
    /// listed, each with the check it is in.
    pub fn parse(
        text: &str,
        config_dir: &FsPath,
        apps: Option<&BTreeSet<String>>,
    ) -> Result<HealthChecks, String> {
        let raw: RawFile = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        let mut problems = Vec::new();
        let mut names = BTreeSet::new();
        let mut checks = Vec::new();
        for (i, check) in raw.checks.into_iter().enumerate() {
            let at = format!("checks[{i}] ({})", check.name);
            if !crate::vocabulary::name::valid(&check.name) {
                problems.push(format!(
                    "checks[{i}]: name '{}' {}",
                    check.name,
                    crate::vocabulary::name::NAME_RULE
                ));
            }
            if ["postgresql", "applications", "workloads"].contains(&check.name.as_str()) {
                problems.push(format!(
                    "{at}: the name is a built-in's, which the report would mix up with it; choose another"
                ));
            }
            if !names.insert(check.name.clone()) {
                problems.push(format!(
                    "{at}: the name is used twice; give each check its own"
                ));
            }
            if let Some(apps) = apps.filter(|a| !a.contains(&check.app)) {
                problems.push(format!(
                    "{at}: app '{}' is not an Application of dag.yaml; use one of: {}",
                    check.app,
                    apps.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
            let probe = match (check.resource, check.http, check.vault) {
                (Some(r), None, None) => resource(r),
                (None, Some(h), None) => http(h, config_dir),
                (None, None, Some(v)) => vault(v, config_dir),
                _ => Err("needs exactly one of `resource:`, `http:` or `vault:`".to_owned()),
            };
            match probe {
                Ok(probe) => checks.push(CheckSpec {
                    name: check.name,
                    app: check.app,
                    probe,
                }),
                Err(problem) => problems.push(format!("{at}: {problem}")),
            }
        }
        if problems.is_empty() {
            Ok(HealthChecks {
                builtins: raw.builtins,
                checks,
                dag_apps: apps.cloned().unwrap_or_default(),
            })
        } else {
            Err(problems.join("; "))
        }
    }
}

fn resource(r: RawResource) -> Result<Probe, String> {
    if r.api_version.is_empty() || r.kind.is_empty() {
        return Err("`resource:` needs apiVersion and kind".to_owned());
    }
    let rule = match (r.condition, r.field) {
        (Some(_), Some(_)) => {
            return Err("give `condition:` or `field:`, not both".to_owned());
        }
        (Some(condition), None) if condition.is_empty() => {
            return Err("`condition:` is empty; name a condition type such as Ready".to_owned())
        }
        (Some(condition), None) => Rule::Condition(condition),
        (None, Some(field)) => Rule::Field(field_rule(field)?),
        // No rule given: the kind's built-in rule, if it has one, else existing.
        (None, None) => {
            let group = r.api_version.rsplit_once('/').map_or("", |(g, _)| g);
            Builtin::of(group, &r.kind).map_or(Rule::Exists, Rule::Builtin)
        }
    };
    match (r.name, r.selector) {
        (Some(name), None) if !name.is_empty() => Ok(Probe::Object {
            target: ObjectRef {
                api_version: r.api_version,
                kind: r.kind,
                namespace: r.namespace,
                name,
            },
            rule,
        }),
        (None, Some(selector)) if !selector.trim().is_empty() => Ok(Probe::Selected {
            api_version: r.api_version,
            kind: r.kind,
            namespace: r.namespace,
            selector,
            rule,
        }),
        _ => Err("`resource:` needs exactly one of `name:` or `selector:` (a label selector such as app=vault)".to_owned()),
    }
}

fn field_rule(field: RawField) -> Result<FieldRule, String> {
    let path = Path::parse(&field.path).map_err(|why| format!("field.path {why}"))?;
    let expect = match (field.equals, field.one_of) {
        (Some(_), Some(_)) => return Err("give field.equals or field.in, not both".to_owned()),
        (Some(value), None) => Expect::Equals(json_of(value)),
        (None, Some(values)) if values.is_empty() => {
            return Err("field.in is empty; list the values that pass".to_owned())
        }
        (None, Some(values)) => Expect::In(values.into_iter().map(json_of).collect()),
        (None, None) => Expect::Exists,
    };
    Ok(FieldRule { path, expect })
}

fn url(text: &str) -> Result<reqwest::Url, String> {
    match reqwest::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(url),
        Ok(_) => Err(format!(
            "url '{text}' must be an http:// or https:// URL with a host"
        )),
        Err(e) => Err(format!("url '{text}' does not parse ({e})")),
    }
}

fn timeout(text: Option<String>) -> Result<Duration, String> {
    let Some(text) = text else {
        return Ok(HTTP_TIMEOUT);
    };
    match duration::parse(&text) {
        Ok(d) if !d.is_zero() && d <= MAX_HTTP_TIMEOUT => Ok(d),
        Ok(_) => Err(format!(
            "timeout '{text}' must be more than 0 and at most 60s"
        )),
        Err(why) => Err(format!("timeout '{text}' is {why}")),
    }
}

fn ca(file: Option<String>, config_dir: &FsPath) -> Result<Option<Vec<u8>>, String> {
    let Some(file) = file else { return Ok(None) };
    let path = config_dir.join(&file);
    let pem = std::fs::read(&path)
        .map_err(|e| format!("caFile {} cannot be read ({e})", path.display()))?;
    reqwest::Certificate::from_pem_bundle(&pem)
        .ok()
        .filter(|certs| !certs.is_empty())
        .ok_or_else(|| format!("caFile {} holds no PEM certificate", path.display()))?;
    Ok(Some(pem))
}

fn http(h: RawHttp, config_dir: &FsPath) -> Result<Probe, String> {
    let status = h.status.unwrap_or(200);
    if !(100..=599).contains(&status) {
        return Err(format!("status {status} is not an HTTP status"));
    }
    let json = h
        .json
        .into_iter()
        .map(|(path, value)| {
            Ok(FieldRule {
                path: Path::parse(&path).map_err(|why| format!("json key {why}"))?,
                expect: Expect::Equals(json_of(value)),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Probe::Http(Http {
        url: url(&h.url)?,
        status,
        json,
        timeout: timeout(h.timeout)?,
        ca_pem: ca(h.ca_file, config_dir)?,
    }))
}

fn vault(v: RawVault, config_dir: &FsPath) -> Result<Probe, String> {
    let mut url = url(&v.url)?;
    // The base URL of Vault; its health endpoint is always the same path.
    let base = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{base}/v1/sys/health"));
    Ok(Probe::Vault(Http {
        url,
        status: 200,
        json: Vec::new(),
        timeout: timeout(v.timeout)?,
        ca_pem: ca(v.ca_file, config_dir)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Result<HealthChecks, String> {
        let apps: BTreeSet<String> = ["vault", "rook-ceph-cluster"].map(String::from).into();
        HealthChecks::parse(text, FsPath::new("/nonexistent"), Some(&apps))
    }

    #[test]
    fn a_file_with_each_kind_of_check_parses() {
        let text = r#"
builtins: { workloads: false }
checks:
  - name: ceph-ok
    app: rook-ceph-cluster
    resource:
      apiVersion: ceph.rook.io/v1
      kind: CephCluster
      namespace: rook-ceph
      name: rook-ceph
      field: { path: status.ceph.health, in: [HEALTH_OK, HEALTH_WARN] }
  - name: vault-pods
    app: vault
    resource: { apiVersion: v1, kind: Pod, namespace: vault, selector: app=vault, condition: Ready }
  - name: vault-unsealed
    app: vault
    vault: { url: "https://vault.vault.svc:8200/" }
  - name: vault-ui
    app: vault
    http: { url: "http://vault.vault.svc:8200/ui/", status: 200, json: { "data.ok": true }, timeout: 2s }
"#;
        let checks = parse(text).unwrap();
        assert!(!checks.builtins.workloads && checks.builtins.ceph_cluster);
        let probes: Vec<&Probe> = checks.checks.iter().map(|c| &c.probe).collect();
        assert!(
            matches!(probes[0], Probe::Object { rule: Rule::Field(f), .. } if f.expect == Expect::In(vec![json!("HEALTH_OK"), json!("HEALTH_WARN")]))
        );
        assert!(
            matches!(probes[1], Probe::Selected { selector, rule: Rule::Condition(c), .. } if selector == "app=vault" && c == "Ready")
        );
        let Probe::Vault(v) = probes[2] else {
            panic!("{probes:?}")
        };
        assert_eq!(v.url.as_str(), "https://vault.vault.svc:8200/v1/sys/health");
        assert_eq!(v.timeout, HTTP_TIMEOUT);
        let Probe::Http(h) = probes[3] else {
            panic!("{probes:?}")
        };
        assert_eq!(
            (h.status, h.timeout, h.json[0].path.to_string()),
            (200, Duration::from_secs(2), "data.ok".to_owned())
        );
    }

    #[test]
    fn a_resource_check_without_a_rule_takes_its_kinds_built_in() {
        let text = "checks:\n  - name: db\n    app: vault\n    resource: { apiVersion: acid.zalan.do/v1, kind: postgresql, namespace: db, name: main }\n  - name: cm\n    app: vault\n    resource: { apiVersion: v1, kind: ConfigMap, namespace: db, name: main }\n";
        let checks = parse(text).unwrap();
        assert!(matches!(
            &checks.checks[0].probe,
            Probe::Object {
                rule: Rule::Builtin(Builtin::Postgresql),
                ..
            }
        ));
        assert!(matches!(
            &checks.checks[1].probe,
            Probe::Object {
                rule: Rule::Exists,
                ..
            }
        ));
    }

    #[test]
    fn every_mistake_is_named_with_its_check_and_the_fix() {
        let cases = [
            ("checks:\n  - name: a\n    app: vault\n", "checks[0] (a): needs exactly one of `resource:`, `http:` or `vault:`"),
            ("checks:\n  - name: a\n    app: keycloak\n    vault: { url: 'http://v:8200' }\n", "checks[0] (a): app 'keycloak' is not an Application of dag.yaml; use one of: rook-ceph-cluster, vault"),
            ("checks:\n  - name: a\n    app: vault\n    vault: { url: 'http://v:8200' }\n  - name: a\n    app: vault\n    vault: { url: 'http://v:8200' }\n", "checks[1] (a): the name is used twice"),
            ("checks:\n  - name: A_B\n    app: vault\n    vault: { url: 'http://v:8200' }\n", "checks[0]: name 'A_B'"),
            ("checks:\n  - name: workloads\n    app: vault\n    vault: { url: 'http://v:8200' }\n", "checks[0] (workloads): the name is a built-in's"),
            ("checks:\n  - name: a\n    app: vault\n    vault: { url: 'ftp://v' }\n", "url 'ftp://v' must be an http:// or https:// URL"),
            ("checks:\n  - name: a\n    app: vault\n    http: { url: 'http://v', timeout: 10m }\n", "timeout '10m' must be more than 0 and at most 60s"),
            ("checks:\n  - name: a\n    app: vault\n    http: { url: 'http://v', status: 999 }\n", "status 999 is not an HTTP status"),
            ("checks:\n  - name: a\n    app: vault\n    http: { url: 'http://v', caFile: ca.pem }\n", "caFile /nonexistent/ca.pem cannot be read"),
            ("checks:\n  - name: a\n    app: vault\n    resource: { apiVersion: v1, kind: Pod, name: x, selector: 'a=b' }\n", "exactly one of `name:` or `selector:`"),
            ("checks:\n  - name: a\n    app: vault\n    resource: { apiVersion: v1, kind: Pod, name: x, condition: Ready, field: { path: a } }\n", "`condition:` or `field:`, not both"),
            ("checks:\n  - name: a\n    app: vault\n    resource: { apiVersion: v1, kind: Pod, name: x, field: { path: 'a[?(@.x)]' } }\n", "field.path 'a[?(@.x)]': only keys"),
            ("checks:\n  - name: a\n    app: vault\n    resource: { apiVersion: v1, kind: Pod, name: x, field: { path: a, in: [] } }\n", "field.in is empty"),
            ("builtins: { ceph: false }\n", "unknown field `ceph`"),
            ("checks:\n  - name: a\n    app: vault\n    vault: { url: 'http://v' }\n    extra: 1\n", "unknown field `extra`"),
        ];
        for (text, expected) in cases {
            let error = parse(text).unwrap_err();
            assert!(
                error.contains(expected),
                "{text}\n→ {error}\nexpected: {expected}"
            );
        }
    }

    #[test]
    fn without_a_dag_any_app_name_is_taken() {
        let text = "checks:\n  - name: a\n    app: anything\n    vault: { url: 'http://v:8200' }\n";
        let checks = HealthChecks::parse(text, FsPath::new("/"), None).unwrap();
        assert_eq!(checks.checks[0].app, "anything");
    }
}
