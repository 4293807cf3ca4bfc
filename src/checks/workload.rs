//! Workload health as Argo CD assesses it, as pure functions over the
//! object's JSON. Ported from gitops-engine's `pkg/health`
//! (health_deployment.go, health_statefulset.go, health_daemonset.go,
//! health_job.go, health_pvc.go, at the version Argo CD 3.2.11 links,
//! v0.7.1-0.20251217140045-5baed5604d2d), so that validate reads the
//! cluster's own state with the rules Argo CD would apply to it.

use serde_json::Value;

use super::finding::{Finding, Health};
use crate::object::text;

/// A kind with a workload rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// `apps/v1` Deployment.
    Deployment,
    /// `apps/v1` StatefulSet.
    StatefulSet,
    /// `apps/v1` DaemonSet.
    DaemonSet,
    /// `batch/v1` Job.
    Job,
    /// `v1` PersistentVolumeClaim.
    PersistentVolumeClaim,
}

impl Workload {
    /// The rule for `group`/`kind`, if there is one.
    pub fn of(group: &str, kind: &str) -> Option<Workload> {
        match (group, kind) {
            ("apps", "Deployment") => Some(Workload::Deployment),
            ("apps", "StatefulSet") => Some(Workload::StatefulSet),
            ("apps", "DaemonSet") => Some(Workload::DaemonSet),
            ("batch", "Job") => Some(Workload::Job),
            ("", "PersistentVolumeClaim") => Some(Workload::PersistentVolumeClaim),
            _ => None,
        }
    }

    /// Judges `object` by this kind's rule.
    pub fn judge(self, object: &Value) -> Finding {
        match self {
            Workload::Deployment => deployment(object),
            Workload::StatefulSet => stateful_set(object),
            Workload::DaemonSet => daemon_set(object),
            Workload::Job => job(object),
            Workload::PersistentVolumeClaim => pvc(object),
        }
    }
}

fn int(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn opt_int(object: &Value, pointer: &str) -> Option<i64> {
    object.pointer(pointer).and_then(Value::as_i64)
}

fn conditions(object: &Value) -> impl Iterator<Item = &Value> {
    object
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn deployment(d: &Value) -> Finding {
    if d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
        return Finding::new(Health::Suspended, "Deployment is paused");
    }
    if int(d, "/metadata/generation") > int(d, "/status/observedGeneration") {
        return Finding::progressing(
            "Waiting for rollout to finish: observed deployment generation less than desired generation",
        );
    }
    let progressing = conditions(d).find(|c| text(c, "/type") == "Progressing");
    let updated = int(d, "/status/updatedReplicas");
    let replicas = int(d, "/status/replicas");
    let available = int(d, "/status/availableReplicas");
    if progressing.is_some_and(|c| text(c, "/reason") == "ProgressDeadlineExceeded") {
        return Finding::degraded(format!(
            "Deployment \"{}\" exceeded its progress deadline",
            text(d, "/metadata/name")
        ));
    }
    if let Some(wanted) = opt_int(d, "/spec/replicas").filter(|&w| updated < w) {
        return Finding::progressing(format!("Waiting for rollout to finish: {updated} out of {wanted} new replicas have been updated..."));
    }
    if replicas > updated {
        return Finding::progressing(format!(
            "Waiting for rollout to finish: {} old replicas are pending termination...",
            replicas - updated
        ));
    }
    if available < updated {
        return Finding::progressing(format!(
            "Waiting for rollout to finish: {available} of {updated} updated replicas are available..."
        ));
    }
    Finding::healthy(format!("{available} replicas available"))
}

fn stateful_set(s: &Value) -> Finding {
    let observed = int(s, "/status/observedGeneration");
    if observed == 0 || int(s, "/metadata/generation") > observed {
        return Finding::progressing("Waiting for statefulset spec update to be observed...");
    }
    let wanted = opt_int(s, "/spec/replicas");
    let ready = int(s, "/status/readyReplicas");
    if let Some(wanted) = wanted.filter(|&w| ready < w) {
        return Finding::progressing(format!(
            "Waiting for {} pods to be ready...",
            wanted - ready
        ));
    }
    let updated = int(s, "/status/updatedReplicas");
    let strategy = text(s, "/spec/updateStrategy/type");
    if strategy == "RollingUpdate" && s.pointer("/spec/updateStrategy/rollingUpdate").is_some() {
        let partition = opt_int(s, "/spec/updateStrategy/rollingUpdate/partition");
        if let (Some(wanted), Some(partition)) = (wanted, partition) {
            if updated < wanted - partition {
                return Finding::progressing(format!(
                    "Waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated...",
                    wanted - partition
                ));
            }
        }
        return Finding::healthy(format!(
            "partitioned roll out complete: {updated} new pods have been updated..."
        ));
    }
    if strategy == "OnDelete" {
        return Finding::healthy(format!("statefulset has {ready} ready pods"));
    }
    let update_revision = text(s, "/status/updateRevision");
    if update_revision != text(s, "/status/currentRevision") {
        return Finding::progressing(format!(
            "waiting for statefulset rolling update to complete {updated} pods at revision {update_revision}..."
        ));
    }
    Finding::healthy(format!(
        "statefulset rolling update complete {} pods at revision {}...",
        int(s, "/status/currentReplicas"),
        text(s, "/status/currentRevision")
    ))
}

fn daemon_set(d: &Value) -> Finding {
    if int(d, "/metadata/generation") > int(d, "/status/observedGeneration") {
        return Finding::progressing(
            "Waiting for rollout to finish: observed daemon set generation less than desired generation",
        );
    }
    let updated = int(d, "/status/updatedNumberScheduled");
    let desired = int(d, "/status/desiredNumberScheduled");
    let available = int(d, "/status/numberAvailable");
    if text(d, "/spec/updateStrategy/type") == "OnDelete" {
        return Finding::healthy(format!(
            "daemon set {updated} out of {desired} new pods have been updated"
        ));
    }
    let name = text(d, "/metadata/name");
    if updated < desired {
        return Finding::progressing(format!("Waiting for daemon set \"{name}\" rollout to finish: {updated} out of {desired} new pods have been updated..."));
    }
    if available < desired {
        return Finding::progressing(format!("Waiting for daemon set \"{name}\" rollout to finish: {available} of {desired} updated pods are available..."));
    }
    Finding::healthy(format!("{available} of {desired} pods available"))
}

fn job(j: &Value) -> Finding {
    let (mut failed, mut complete, mut suspended) = (None, None, false);
    for c in conditions(j) {
        match text(c, "/type") {
            "Failed" => {
                failed = Some(text(c, "/message").to_owned());
                complete = Some(String::new());
            }
            "Complete" => complete = Some(text(c, "/message").to_owned()),
            "Suspended" => {
                complete = Some(text(c, "/message").to_owned());
                suspended |= text(c, "/status") == "True";
            }
            _ => {}
        }
    }
    match (complete, failed) {
        (None, _) => Finding::progressing("Job has not completed"),
        (_, Some(why)) => Finding::degraded(if why.is_empty() {
            "Job failed".to_owned()
        } else {
            why
        }),
        (Some(_), None) if suspended => Finding::new(Health::Suspended, "Job is suspended"),
        (Some(why), None) => Finding::healthy(if why.is_empty() {
            "Job completed".to_owned()
        } else {
            why
        }),
    }
}

fn pvc(p: &Value) -> Finding {
    match text(p, "/status/phase") {
        "Bound" => Finding::healthy("Bound"),
        "Pending" => Finding::progressing("Pending: not bound to a volume yet"),
        "Lost" => Finding::degraded("Lost: its volume is gone"),
        other => Finding::new(Health::Unknown, format!("phase '{other}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use Health as H;

    fn check(kind: Workload, cases: &[(Value, Health, &str)]) {
        for (object, health, message) in cases {
            let found = kind.judge(object);
            assert_eq!(
                (found.health, found.message.as_str()),
                (*health, *message),
                "{kind:?} {object}"
            );
        }
    }

    #[test]
    fn deployments_are_judged_as_argo_cd_judges_them() {
        let d = |spec: Value, status: Value| json!({"metadata": {"name": "web", "generation": 2}, "spec": spec, "status": status});
        check(Workload::Deployment, &[
            (d(json!({"paused": true}), json!({})), H::Suspended, "Deployment is paused"),
            (d(json!({"replicas": 2}), json!({"observedGeneration": 1})), H::Progressing, "Waiting for rollout to finish: observed deployment generation less than desired generation"),
            (d(json!({"replicas": 2}), json!({"observedGeneration": 2, "conditions": [{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}]})), H::Degraded, "Deployment \"web\" exceeded its progress deadline"),
            (d(json!({"replicas": 2}), json!({"observedGeneration": 2, "updatedReplicas": 1, "replicas": 2})), H::Progressing, "Waiting for rollout to finish: 1 out of 2 new replicas have been updated..."),
            (d(json!({"replicas": 2}), json!({"observedGeneration": 2, "updatedReplicas": 2, "replicas": 3})), H::Progressing, "Waiting for rollout to finish: 1 old replicas are pending termination..."),
            (d(json!({"replicas": 2}), json!({"observedGeneration": 2, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 1})), H::Progressing, "Waiting for rollout to finish: 1 of 2 updated replicas are available..."),
            (d(json!({"replicas": 2}), json!({"observedGeneration": 2, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 2})), H::Healthy, "2 replicas available"),
        ]);
    }

    #[test]
    fn statefulsets_honour_partitions_strategies_and_revisions() {
        let s = |spec: Value, status: Value| json!({"metadata": {"name": "db", "generation": 1}, "spec": spec, "status": status});
        let rolling = json!({"replicas": 3, "updateStrategy": {"type": "RollingUpdate"}});
        let partitioned = json!({"replicas": 3, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}});
        check(Workload::StatefulSet, &[
            (s(rolling.clone(), json!({})), H::Progressing, "Waiting for statefulset spec update to be observed..."),
            (s(rolling.clone(), json!({"observedGeneration": 1, "readyReplicas": 1})), H::Progressing, "Waiting for 2 pods to be ready..."),
            (s(partitioned.clone(), json!({"observedGeneration": 1, "readyReplicas": 3, "updatedReplicas": 1})), H::Progressing, "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated..."),
            (s(partitioned, json!({"observedGeneration": 1, "readyReplicas": 3, "updatedReplicas": 2})), H::Healthy, "partitioned roll out complete: 2 new pods have been updated..."),
            (s(json!({"replicas": 3, "updateStrategy": {"type": "OnDelete"}}), json!({"observedGeneration": 1, "readyReplicas": 3})), H::Healthy, "statefulset has 3 ready pods"),
            (s(rolling.clone(), json!({"observedGeneration": 1, "readyReplicas": 3, "updatedReplicas": 1, "currentRevision": "db-1", "updateRevision": "db-2"})), H::Progressing, "waiting for statefulset rolling update to complete 1 pods at revision db-2..."),
            (s(rolling, json!({"observedGeneration": 1, "readyReplicas": 3, "currentReplicas": 3, "currentRevision": "db-2", "updateRevision": "db-2"})), H::Healthy, "statefulset rolling update complete 3 pods at revision db-2..."),
        ]);
    }

    #[test]
    fn daemonsets_wait_for_updated_and_available_pods() {
        let d = |strategy: &str, status: Value| json!({"metadata": {"name": "agent", "generation": 1}, "spec": {"updateStrategy": {"type": strategy}}, "status": status});
        check(Workload::DaemonSet, &[
            (d("RollingUpdate", json!({"observedGeneration": 0})), H::Progressing, "Waiting for rollout to finish: observed daemon set generation less than desired generation"),
            (d("OnDelete", json!({"observedGeneration": 1, "updatedNumberScheduled": 1, "desiredNumberScheduled": 3})), H::Healthy, "daemon set 1 out of 3 new pods have been updated"),
            (d("RollingUpdate", json!({"observedGeneration": 1, "updatedNumberScheduled": 1, "desiredNumberScheduled": 3})), H::Progressing, "Waiting for daemon set \"agent\" rollout to finish: 1 out of 3 new pods have been updated..."),
            (d("RollingUpdate", json!({"observedGeneration": 1, "updatedNumberScheduled": 3, "desiredNumberScheduled": 3, "numberAvailable": 2})), H::Progressing, "Waiting for daemon set \"agent\" rollout to finish: 2 of 3 updated pods are available..."),
            (d("RollingUpdate", json!({"observedGeneration": 1, "updatedNumberScheduled": 3, "desiredNumberScheduled": 3, "numberAvailable": 3})), H::Healthy, "3 of 3 pods available"),
        ]);
    }

    #[test]
    fn jobs_complete_fail_or_are_suspended() {
        let j = |conditions: Value| json!({"status": {"conditions": conditions}});
        check(
            Workload::Job,
            &[
                (j(json!([])), H::Progressing, "Job has not completed"),
                (
                    j(json!([{"type": "Complete", "status": "True", "message": ""}])),
                    H::Healthy,
                    "Job completed",
                ),
                (
                    j(
                        json!([{"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}]),
                    ),
                    H::Degraded,
                    "BackoffLimitExceeded",
                ),
                (
                    j(json!([{"type": "Suspended", "status": "True"}])),
                    H::Suspended,
                    "Job is suspended",
                ),
            ],
        );
    }

    #[test]
    fn claims_are_healthy_only_when_bound() {
        let p = |phase: &str| json!({"status": {"phase": phase}});
        check(
            Workload::PersistentVolumeClaim,
            &[
                (p("Bound"), H::Healthy, "Bound"),
                (
                    p("Pending"),
                    H::Progressing,
                    "Pending: not bound to a volume yet",
                ),
                (p("Lost"), H::Degraded, "Lost: its volume is gone"),
                (p(""), H::Unknown, "phase ''"),
            ],
        );
        assert_eq!(
            Workload::of("", "PersistentVolumeClaim"),
            Some(Workload::PersistentVolumeClaim)
        );
        assert_eq!(Workload::of("extensions", "Deployment"), None);
    }
}
