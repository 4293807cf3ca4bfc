//! The built-in checks of RFC-DEPLOY-0001 §5.5, as pure functions: a Rook
//! CephCluster, a Zalando `postgresql`, Vault's `/v1/sys/health`, and a
//! nested Application. Argo CD 3.2.11 has no health rule for CephCluster
//! (no `resource_customizations/ceph.rook.io`), so it counts a cluster in
//! HEALTH_WARN as Healthy; its rule for `acid.zalan.do/postgresql` reads only
//! `status.PostgresClusterStatus` (resource_customizations/acid.zalan.do/
//! postgresql/health.lua), not how many instances are ready.

use serde_json::Value;

use super::finding::{Finding, Health};
use super::workload::Workload;
use crate::argocd::types::Application;
use crate::object::{or, text};

/// A built-in, by the name health.yaml's `builtins:` turns it off with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// `ceph.rook.io` CephCluster: phase Ready and `status.ceph.health` HEALTH_OK.
    CephCluster,
    /// `acid.zalan.do` postgresql: Running, and as many ready pods as instances.
    Postgresql,
    /// `argoproj.io` Application: the child's own health and sync status.
    Applications,
    /// Deployment, StatefulSet, DaemonSet, Job and PVC, as Argo CD judges them.
    Workloads(Workload),
}

impl Builtin {
    /// The built-in for a managed resource of `group`/`kind`, if any.
    pub fn of(group: &str, kind: &str) -> Option<Builtin> {
        match (group, kind) {
            ("ceph.rook.io", "CephCluster") => Some(Builtin::CephCluster),
            ("acid.zalan.do", "postgresql") => Some(Builtin::Postgresql),
            ("argoproj.io", "Application") => Some(Builtin::Applications),
            _ => Workload::of(group, kind).map(Builtin::Workloads),
        }
    }

    /// Its name in health.yaml and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::CephCluster => "cephCluster",
            Builtin::Postgresql => "postgresql",
            Builtin::Applications => "applications",
            Builtin::Workloads(_) => "workloads",
        }
    }
}

/// A Rook CephCluster: `status.phase` Ready (Connected for an external
/// cluster) and `status.ceph.health` HEALTH_OK. HEALTH_WARN may clear (deploy waits for it); HEALTH_ERR and
/// phase Failure do not.
pub fn ceph_cluster(object: &Value) -> Finding {
    let phase = text(object, "/status/phase");
    let health = text(object, "/status/ceph/health");
    // Rook lists what is wrong under status.ceph.details: {CHECK: {message, severity}}.
    let details: Vec<String> = object
        .pointer("/status/ceph/details")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(
            |(check, d)| match d.get("message").and_then(Value::as_str) {
                Some(message) => format!("{check}: {message}"),
                None => check.clone(),
            },
        )
        .collect();
    let said = |mut message: String| {
        if !details.is_empty() {
            message.push_str(&format!(" ({})", details.join("; ")));
        }
        message
    };
    match (phase, health) {
        ("", _) => Finding::progressing("no status.phase yet"),
        ("Failure", _) => Finding::degraded(said(format!("phase Failure, {}", or_unset(health)))),
        // An external cluster (spec.external) is Connected, not Ready.
        (phase, _) if phase != "Ready" && phase != "Connected" => {
            Finding::progressing(format!("phase {phase}, not Ready yet"))
        }
        (phase, "HEALTH_OK") => Finding::healthy(format!("phase {phase}, HEALTH_OK")),
        (phase, "HEALTH_ERR") => Finding::degraded(said(format!("phase {phase} but HEALTH_ERR"))),
        (phase, health) => Finding::progressing(said(format!(
            "phase {phase} but {}, not HEALTH_OK",
            or_unset(health)
        ))),
    }
}

fn or_unset(health: &str) -> String {
    if health.is_empty() {
        "no status.ceph.health".to_owned()
    } else {
        health.to_owned()
    }
}

/// The label selector of a Zalando cluster's pods (the operator's default
/// `cluster_name_label` and its `application=spilo` label).
pub fn postgresql_pods(name: &str) -> String {
    format!("application=spilo,cluster-name={name}")
}

/// A Zalando `postgresql`: `status.PostgresClusterStatus` Running (Argo CD's
/// rule: Creating and Updating are Progressing, anything else Degraded), and
/// as many Ready pods as `spec.numberOfInstances`.
pub fn postgresql(object: &Value, pods: &[Value]) -> Finding {
    let status = text(object, "/status/PostgresClusterStatus");
    match status {
        "" => return Finding::progressing("no status.PostgresClusterStatus yet"),
        "Running" => {}
        "Creating" | "Updating" => return Finding::progressing(status),
        failed => return Finding::degraded(failed),
    }
    let wanted = object
        .pointer("/spec/numberOfInstances")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let ready = pods.iter().filter(|p| pod_ready(p)).count() as i64;
    if ready < wanted {
        Finding::progressing(format!("Running, but {ready} of {wanted} instances ready"))
    } else {
        Finding::healthy(format!("Running, {ready} of {wanted} instances ready"))
    }
}

fn pod_ready(pod: &Value) -> bool {
    pod.pointer("/metadata/deletionTimestamp").is_none()
        && pod
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| text(c, "/type") == "Ready" && text(c, "/status") == "True")
            })
}

/// Vault's `/v1/sys/health`: initialized, unsealed, active. Vault answers
/// 200 when active, 429 standby, 472/473 for DR and performance
/// secondaries, 501 when not initialized, 503 when sealed, each with the
/// same JSON body (vault/http/sys_health.go); the body decides, the code
/// says what it was when there is none. Sealed and not initialized may
/// change (auto-unseal, an operator), so they are Progressing.
pub fn vault(status: u16, body: &str) -> Finding {
    let Ok(body) = serde_json::from_str::<Value>(body) else {
        return Finding::new(
            Health::Unknown,
            format!("answered {status} without Vault's health JSON"),
        );
    };
    let flag = |key: &str| body.get(key).and_then(Value::as_bool);
    match (flag("initialized"), flag("sealed"), flag("standby")) {
        (Some(false), _, _) => Finding::progressing(format!("not initialized ({status})")),
        (_, Some(true), _) => Finding::progressing(format!("sealed ({status})")),
        (_, _, Some(true)) => Finding::progressing(format!("a standby, not active ({status})")),
        (Some(true), Some(false), Some(false)) => {
            Finding::healthy("initialized, unsealed and active")
        }
        _ => Finding::new(
            Health::Unknown,
            format!("answered {status} without initialized/sealed/standby"),
        ),
    }
}

/// A nested Application: its own health (Argo CD does not fold a child's
/// health into its parent's since 1.8). Its sync status is shown, not
/// judged: a child without automated sync stays OutOfSync until someone
/// syncs it, which is not its parent's deploy to wait for.
pub fn application(child: &Application) -> Finding {
    let health = child.status.health.status.as_str();
    let sync = child.status.sync.status.as_str();
    let seen = format!(
        "{} and {}",
        or(health, "no health"),
        or(sync, "no sync status")
    );
    match health {
        "Healthy" => Finding::healthy(seen),
        "Progressing" => Finding::progressing(seen),
        "Suspended" => Finding::new(Health::Suspended, seen),
        "Degraded" => Finding::degraded(seen),
        "Missing" => Finding::new(Health::Missing, seen),
        // Not assessed yet: a child its parent's sync has just created.
        "" => Finding::progressing(seen),
        _ => Finding::new(Health::Unknown, seen),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use Health as H;

    #[test]
    fn a_ceph_cluster_is_healthy_only_ready_and_health_ok() {
        let c = |phase: &str, health: &str| json!({"status": {"phase": phase, "ceph": {"health": health}}});
        let warned = json!({"status": {"phase": "Ready", "ceph": {"health": "HEALTH_WARN", "details": {"MON_DISK_LOW": {"message": "mon a is low on available space", "severity": "HEALTH_WARN"}}}}});
        let cases = [
            (json!({}), H::Progressing, "no status.phase yet".to_owned()),
            (c("Progressing", ""), H::Progressing, "phase Progressing, not Ready yet".to_owned()),
            (c("Failure", "HEALTH_ERR"), H::Degraded, "phase Failure, HEALTH_ERR".to_owned()),
            (c("Ready", "HEALTH_OK"), H::Healthy, "phase Ready, HEALTH_OK".to_owned()),
            (c("Connected", "HEALTH_OK"), H::Healthy, "phase Connected, HEALTH_OK".to_owned()),
            (warned, H::Progressing, "phase Ready but HEALTH_WARN, not HEALTH_OK (MON_DISK_LOW: mon a is low on available space)".to_owned()),
            (c("Ready", "HEALTH_ERR"), H::Degraded, "phase Ready but HEALTH_ERR".to_owned()),
            (c("Ready", ""), H::Progressing, "phase Ready but no status.ceph.health, not HEALTH_OK".to_owned()),
        ];
        for (object, health, message) in cases {
            let found = ceph_cluster(&object);
            assert_eq!((found.health, found.message), (health, message), "{object}");
        }
    }

    #[test]
    fn a_postgresql_cluster_needs_running_and_every_instance_ready() {
        let pg = |status: &str| json!({"spec": {"numberOfInstances": 2}, "status": {"PostgresClusterStatus": status}});
        let pod =
            |ready: &str| json!({"status": {"conditions": [{"type": "Ready", "status": ready}]}});
        let deleting = json!({"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        let cases = [
            (
                json!({}),
                vec![],
                H::Progressing,
                "no status.PostgresClusterStatus yet",
            ),
            (pg("Creating"), vec![], H::Progressing, "Creating"),
            (pg("SyncFailed"), vec![], H::Degraded, "SyncFailed"),
            (
                pg("Running"),
                vec![pod("True"), pod("False")],
                H::Progressing,
                "Running, but 1 of 2 instances ready",
            ),
            (
                pg("Running"),
                vec![pod("True"), deleting],
                H::Progressing,
                "Running, but 1 of 2 instances ready",
            ),
            (
                pg("Running"),
                vec![pod("True"), pod("True")],
                H::Healthy,
                "Running, 2 of 2 instances ready",
            ),
        ];
        for (object, pods, health, message) in cases {
            let found = postgresql(&object, &pods);
            assert_eq!(
                (found.health, found.message.as_str()),
                (health, message),
                "{object}"
            );
        }
        assert_eq!(
            postgresql_pods("acid-main"),
            "application=spilo,cluster-name=acid-main"
        );
    }

    #[test]
    fn vault_must_be_initialized_unsealed_and_active() {
        let body = |i: bool, s: bool, st: bool| {
            json!({"initialized": i, "sealed": s, "standby": st}).to_string()
        };
        let cases = [
            (
                200,
                body(true, false, false),
                H::Healthy,
                "initialized, unsealed and active",
            ),
            (503, body(true, true, true), H::Progressing, "sealed (503)"),
            (
                501,
                body(false, true, true),
                H::Progressing,
                "not initialized (501)",
            ),
            (
                429,
                body(true, false, true),
                H::Progressing,
                "a standby, not active (429)",
            ),
            (
                502,
                "<html>bad gateway</html>".to_owned(),
                H::Unknown,
                "answered 502 without Vault's health JSON",
            ),
            (
                200,
                "{}".to_owned(),
                H::Unknown,
                "answered 200 without initialized/sealed/standby",
            ),
        ];
        for (status, body, health, message) in cases {
            let found = vault(status, &body);
            assert_eq!(
                (found.health, found.message.as_str()),
                (health, message),
                "{status} {body}"
            );
        }
    }

    #[test]
    fn a_nested_application_counts_by_its_own_health_and_sync() {
        let app = |health: &str, sync: &str| {
            let mut a = Application::default();
            a.status.health.status = health.to_owned();
            a.status.sync.status = sync.to_owned();
            a
        };
        let cases = [
            (app("Healthy", "Synced"), H::Healthy, "Healthy and Synced"),
            (
                app("Healthy", "OutOfSync"),
                H::Healthy,
                "Healthy and OutOfSync",
            ),
            (
                app("Degraded", "Synced"),
                H::Degraded,
                "Degraded and Synced",
            ),
            (
                app("Suspended", "Synced"),
                H::Suspended,
                "Suspended and Synced",
            ),
            (
                app("Missing", "OutOfSync"),
                H::Missing,
                "Missing and OutOfSync",
            ),
            (app("", ""), H::Progressing, "no health and no sync status"),
            (app("Unknown", "Unknown"), H::Unknown, "Unknown and Unknown"),
        ];
        for (child, health, message) in cases {
            let found = application(&child);
            assert_eq!((found.health, found.message.as_str()), (health, message));
        }
        assert_eq!(
            Builtin::of("ceph.rook.io", "CephCluster").map(Builtin::name),
            Some("cephCluster")
        );
        assert_eq!(
            Builtin::of("apps", "Deployment").map(Builtin::name),
            Some("workloads")
        );
        assert_eq!(Builtin::of("", "ConfigMap"), None);
    }
}
