//! The compliance rules, as pure functions over one live manifest. A rule
//! that does not apply to an object (probes on a Job, say) gives no result.

use serde_json::Value;

use crate::object::text;

/// One compliance rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// No `:latest` and no untagged image.
    ImageTag,
    /// Every image pinned by digest (`@sha256:…`).
    ImageDigest,
    /// `runAsNonRoot: true` for every container (its own or the pod's).
    RunAsNonRoot,
    /// `readOnlyRootFilesystem: true` for every container.
    ReadOnlyRootFilesystem,
    /// No privileged container.
    Privileged,
    /// No `hostNetwork`.
    HostNetwork,
    /// No `hostPID`.
    HostPid,
    /// No `hostPath` volume.
    HostPath,
    /// Every container drops ALL capabilities.
    CapabilitiesDropped,
    /// Every long-running container has liveness and readiness probes.
    Probes,
    /// Every container has cpu and memory requests and limits.
    Resources,
    /// The object has the required labels.
    RequiredLabels,
}

impl Rule {
    /// Every rule, in report order.
    pub const ALL: [Rule; 12] = [
        Rule::ImageTag,
        Rule::ImageDigest,
        Rule::RunAsNonRoot,
        Rule::ReadOnlyRootFilesystem,
        Rule::Privileged,
        Rule::HostNetwork,
        Rule::HostPid,
        Rule::HostPath,
        Rule::CapabilitiesDropped,
        Rule::Probes,
        Rule::Resources,
        Rule::RequiredLabels,
    ];

    /// Its id, in the report and in exemptions.
    pub fn id(self) -> &'static str {
        match self {
            Rule::ImageTag => "image-tag",
            Rule::ImageDigest => "image-digest",
            Rule::RunAsNonRoot => "run-as-non-root",
            Rule::ReadOnlyRootFilesystem => "read-only-root-filesystem",
            Rule::Privileged => "privileged",
            Rule::HostNetwork => "host-network",
            Rule::HostPid => "host-pid",
            Rule::HostPath => "host-path",
            Rule::CapabilitiesDropped => "capabilities-dropped",
            Rule::Probes => "probes",
            Rule::Resources => "resources",
            Rule::RequiredLabels => "required-labels",
        }
    }

    /// The rule with this id.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.id() == id)
    }
}

/// One rule's verdict on one object: `Ok` with what holds, `Err` with what does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleResult {
    /// The rule.
    pub rule: Rule,
    /// What was found.
    pub verdict: Result<String, String>,
}

/// Where a kind keeps its pod template's spec, and whether it runs for good
/// (probes apply) or to completion.
fn pod_spec(object: &Value) -> Option<(&Value, bool)> {
    let kind = object.get("kind").and_then(Value::as_str)?;
    let (pointer, long_running) = match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => ("/spec/template/spec", true),
        "Job" => ("/spec/template/spec", false),
        "CronJob" => ("/spec/jobTemplate/spec/template/spec", false),
        "Pod" => ("/spec", true),
        _ => return None,
    };
    object.pointer(pointer).map(|spec| (spec, long_running))
}

fn flag(v: &Value, pointer: &str) -> Option<bool> {
    v.pointer(pointer).and_then(Value::as_bool)
}

/// The rules that apply to `object` (a live manifest), each with its
/// verdict; `labels` are the required labels. Only workloads (kinds with a
/// pod template) are judged.
pub fn evaluate(object: &Value, labels: &[String]) -> Vec<RuleResult> {
    let Some((spec, long_running)) = pod_spec(object) else {
        return Vec::new();
    };
    let list = |key: &str| -> Vec<&Value> {
        spec.get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    };
    let main = list("containers");
    let all: Vec<&Value> = list("initContainers")
        .into_iter()
        .chain(main.iter().copied())
        .collect();
    let name = |c: &Value| text(c, "/name").to_owned();
    // The containers that fail `bad`, or what holds.
    let each = |containers: &[&Value], bad: &dyn Fn(&Value) -> Option<String>, holds: &str| {
        let failing: Vec<String> = containers
            .iter()
            .filter_map(|c| bad(c).map(|why| format!("{}: {why}", name(c))))
            .collect();
        if failing.is_empty() {
            Ok(holds.to_owned())
        } else {
            Err(failing.join("; "))
        }
    };
    let mut results = Vec::new();
    let mut push =
        |rule: Rule, verdict: Result<String, String>| results.push(RuleResult { rule, verdict });

    push(
        Rule::ImageTag,
        each(
            &all,
            &|c| {
                let image = text(c, "/image");
                let without_digest = image.split('@').next().unwrap_or_default();
                // The tag is after the last ':' that follows the last '/' (a registry may have a port).
                let tag = without_digest
                    .rsplit('/')
                    .next()
                    .and_then(|last| last.split_once(':'))
                    .map(|(_, t)| t);
                match tag {
                    _ if image.contains('@') && tag.is_none() => None,
                    None => Some(format!("{image} has no tag")),
                    Some("latest") => Some(format!("{image} uses :latest")),
                    Some(_) => None,
                }
            },
            "every image has a tag other than latest",
        ),
    );
    push(
        Rule::ImageDigest,
        each(
            &all,
            &|c| {
                let image = text(c, "/image");
                (!image.contains("@sha256:")).then(|| format!("{image} is not pinned by digest"))
            },
            "every image is pinned by digest",
        ),
    );
    let pod_non_root = flag(spec, "/securityContext/runAsNonRoot");
    push(
        Rule::RunAsNonRoot,
        each(
            &all,
            &|c| match flag(c, "/securityContext/runAsNonRoot").or(pod_non_root) {
                Some(true) => None,
                _ => Some("runAsNonRoot is not true".to_owned()),
            },
            "every container runs as non-root",
        ),
    );
    push(
        Rule::ReadOnlyRootFilesystem,
        each(
            &all,
            &|c| {
                (flag(c, "/securityContext/readOnlyRootFilesystem") != Some(true))
                    .then(|| "readOnlyRootFilesystem is not true".to_owned())
            },
            "every root filesystem is read-only",
        ),
    );
    push(
        Rule::Privileged,
        each(
            &all,
            &|c| {
                (flag(c, "/securityContext/privileged") == Some(true))
                    .then(|| "privileged".to_owned())
            },
            "no container is privileged",
        ),
    );
    push(
        Rule::HostNetwork,
        if flag(spec, "/hostNetwork") == Some(true) {
            Err("hostNetwork: true".to_owned())
        } else {
            Ok("no hostNetwork".to_owned())
        },
    );
    push(
        Rule::HostPid,
        if flag(spec, "/hostPID") == Some(true) {
            Err("hostPID: true".to_owned())
        } else {
            Ok("no hostPID".to_owned())
        },
    );
    let host_paths: Vec<String> = list("volumes")
        .into_iter()
        .filter_map(|v| {
            v.get("hostPath")
                .map(|h| format!("volume {} mounts {}", text(v, "/name"), text(h, "/path")))
        })
        .collect();
    push(
        Rule::HostPath,
        if host_paths.is_empty() {
            Ok("no hostPath volume".to_owned())
        } else {
            Err(host_paths.join("; "))
        },
    );
    push(
        Rule::CapabilitiesDropped,
        each(
            &all,
            &|c| {
                let drops_all = c
                    .pointer("/securityContext/capabilities/drop")
                    .and_then(Value::as_array)
                    .is_some_and(|d| d.iter().any(|x| x.as_str() == Some("ALL")));
                (!drops_all).then(|| "does not drop ALL capabilities".to_owned())
            },
            "every container drops ALL capabilities",
        ),
    );
    if long_running {
        push(
            Rule::Probes,
            each(
                &main,
                &|c| {
                    let missing: Vec<&str> = ["livenessProbe", "readinessProbe"]
                        .into_iter()
                        .filter(|p| c.get(*p).is_none_or(Value::is_null))
                        .collect();
                    (!missing.is_empty()).then(|| format!("no {}", missing.join(" and no ")))
                },
                "every container has liveness and readiness probes",
            ),
        );
    }
    push(
        Rule::Resources,
        each(
            &main,
            &|c| {
                let missing: Vec<String> = ["requests", "limits"]
                    .into_iter()
                    .flat_map(|side| ["cpu", "memory"].map(|what| (side, what)))
                    .filter(|(side, what)| {
                        c.pointer(&format!("/resources/{side}/{what}")).is_none()
                    })
                    .map(|(side, what)| format!("{side}.{what}"))
                    .collect();
                (!missing.is_empty()).then(|| format!("no {}", missing.join(", ")))
            },
            "every container has cpu and memory requests and limits",
        ),
    );
    let have = object
        .pointer("/metadata/labels")
        .and_then(Value::as_object);
    let missing: Vec<&str> = labels
        .iter()
        .filter(|l| !have.is_some_and(|h| h.contains_key(l.as_str())))
        .map(String::as_str)
        .collect();
    push(
        Rule::RequiredLabels,
        if missing.is_empty() {
            Ok(format!("has {}", labels.join(", ")))
        } else {
            Err(format!("no label {}", missing.join(", ")))
        },
    );
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels() -> Vec<String> {
        ["app", "team", "owner"].map(String::from).to_vec()
    }

    fn verdicts(object: &Value) -> Vec<(&'static str, Result<String, String>)> {
        evaluate(object, &labels())
            .into_iter()
            .map(|r| (r.rule.id(), r.verdict))
            .collect()
    }

    fn compliant() -> Value {
        json!({
            "kind": "Deployment",
            "metadata": {"name": "api", "labels": {"app": "api", "team": "core", "owner": "ops"}},
            "spec": {"template": {"spec": {
                "securityContext": {"runAsNonRoot": true},
                "containers": [{
                    "name": "api",
                    "image": "registry.example.com:5000/team/api:1.2.3@sha256:0123456789abcdef",
                    "securityContext": {"readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}},
                    "livenessProbe": {"httpGet": {"path": "/live", "port": 8080}},
                    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}}
                }]
            }}}
        })
    }

    #[test]
    fn a_compliant_deployment_passes_every_rule() {
        let found = verdicts(&compliant());
        assert_eq!(found.len(), Rule::ALL.len());
        for (rule, verdict) in found {
            assert!(verdict.is_ok(), "{rule}: {verdict:?}");
        }
    }

    #[test]
    fn each_rule_fails_for_its_own_fault_only() {
        let latest = json!({
            "kind": "Deployment",
            "metadata": {"name": "bad", "labels": {"app": "bad"}},
            "spec": {"template": {"spec": {
                "hostNetwork": true,
                "hostPID": true,
                "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
                "initContainers": [{"name": "init", "image": "busybox"}],
                "containers": [{"name": "web", "image": "nginx:latest", "securityContext": {"privileged": true}}]
            }}}
        });
        let expected = [
            ("image-tag", Err("init: busybox has no tag; web: nginx:latest uses :latest".to_owned())),
            ("image-digest", Err("init: busybox is not pinned by digest; web: nginx:latest is not pinned by digest".to_owned())),
            ("run-as-non-root", Err("init: runAsNonRoot is not true; web: runAsNonRoot is not true".to_owned())),
            ("read-only-root-filesystem", Err("init: readOnlyRootFilesystem is not true; web: readOnlyRootFilesystem is not true".to_owned())),
            ("privileged", Err("web: privileged".to_owned())),
            ("host-network", Err("hostNetwork: true".to_owned())),
            ("host-pid", Err("hostPID: true".to_owned())),
            ("host-path", Err("volume root mounts /".to_owned())),
            ("capabilities-dropped", Err("init: does not drop ALL capabilities; web: does not drop ALL capabilities".to_owned())),
            ("probes", Err("web: no livenessProbe and no readinessProbe".to_owned())),
            ("resources", Err("web: no requests.cpu, requests.memory, limits.cpu, limits.memory".to_owned())),
            ("required-labels", Err("no label team, owner".to_owned())),
        ];
        assert_eq!(verdicts(&latest), expected);
    }

    #[test]
    fn the_kinds_with_a_pod_template_are_judged_and_jobs_need_no_probes() {
        let mut job = compliant();
        job["kind"] = json!("Job");
        assert!(!verdicts(&job).iter().any(|(r, _)| *r == "probes"));
        let cron = json!({"kind": "CronJob", "metadata": {}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x:1"}]}}}}}});
        assert_eq!(
            verdicts(&cron)[0],
            (
                "image-tag",
                Ok("every image has a tag other than latest".to_owned())
            )
        );
        assert!(verdicts(&json!({"kind": "ConfigMap", "metadata": {}})).is_empty());
        // A container's own runAsNonRoot wins over the pod's.
        let mut own = compliant();
        own["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonRoot"] =
            json!(false);
        assert_eq!(
            verdicts(&own)[2].1,
            Err("api: runAsNonRoot is not true".to_owned())
        );
        // A digest alone, without a tag, is pinned and not untagged.
        let mut digest_only = compliant();
        digest_only["spec"]["template"]["spec"]["containers"][0]["image"] =
            json!("nginx@sha256:abc");
        assert!(verdicts(&digest_only)[0].1.is_ok());
        assert_eq!(Rule::from_id("host-pid"), Some(Rule::HostPid));
        assert_eq!(Rule::from_id("hostPID"), None);
    }
}
