//! teardown's PV policy, applied before the delete is sent: the app's
//! claims (its managed PVCs, and its StatefulSets' claims, which Argo CD
//! does not manage) and the volumes bound to them. `retain` patches each
//! volume's reclaim policy to Retain; `snapshot` first takes a
//! VolumeSnapshot of each claim and waits until it is ready to use, then
//! retains; `delete` leaves them, and teardown checks after the delete that
//! they are gone. A policy that cannot be applied stops the app's teardown
//! before anything is deleted.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;

use super::context::RunContext;
use crate::cluster::resource::ObjectRef;
use crate::cluster::{Cluster, ClusterError};
use crate::config::PvPolicy;
use crate::object::{or, text};

/// How often a snapshot or a volume is read again while waited for.
const POLL: Duration = Duration::from_secs(1);

/// One claim and the volume bound to it.
#[derive(Debug, Clone)]
struct Claim {
    pvc: ObjectRef,
    volume: Option<String>,
}

/// What was done before the delete, for the message, and the volumes to
/// see gone after it (`delete`).
#[derive(Debug, Default)]
pub struct Applied {
    /// A clause for the component's message (empty when there were no claims).
    pub note: String,
    /// `delete`: the volumes that must be gone once the app is.
    pub must_go: Vec<String>,
}

fn pv(name: &str) -> ObjectRef {
    ObjectRef {
        api_version: "v1".to_owned(),
        kind: "PersistentVolume".to_owned(),
        namespace: None,
        name: name.to_owned(),
    }
}

/// Applies the PV policy to the app whose managed resources are `managed`,
/// within `ends`. `Err` says why it could not be, and that nothing was deleted.
pub async fn before_delete(
    ctx: &RunContext,
    managed: &[ObjectRef],
    ends: Instant,
) -> Result<Applied, String> {
    let policy = ctx.config.pv_policy;
    let has_claims = managed
        .iter()
        .any(|r| matches!(r.kind.as_str(), "PersistentVolumeClaim" | "StatefulSet"));
    let Some(cluster) = &ctx.cluster else {
        return match (has_claims, policy) {
            (false, _) => Ok(Applied::default()),
            (true, PvPolicy::Delete) => Ok(Applied {
                note: format!(
                    "; its volumes were not checked: {}",
                    super::preflight::NO_CLUSTER
                ),
                must_go: Vec::new(),
            }),
            (true, _) => Err(format!(
                "it has PersistentVolumeClaims (or StatefulSets), and --pv-policy {} needs cluster access to keep their volumes: {}; or pass --pv-policy delete to let them go; nothing was deleted",
                word(policy),
                super::preflight::NO_CLUSTER
            )),
        };
    };
    let work = async {
        let claims = claims(cluster, managed).await?;
        apply(ctx, cluster, policy, &claims, ends).await
    };
    match tokio::time::timeout_at(ends, work).await {
        Ok(Ok(applied)) => Ok(applied),
        Ok(Err(why)) => Err(format!(
            "--pv-policy {} could not be applied: {why}; nothing was deleted",
            word(policy)
        )),
        Err(_) => Err(format!(
            "--pv-policy {} was not applied within the teardown deadline; nothing was deleted",
            word(policy)
        )),
    }
}

fn word(policy: PvPolicy) -> &'static str {
    match policy {
        PvPolicy::Retain => "retain",
        PvPolicy::Delete => "delete",
        PvPolicy::Snapshot => "snapshot",
    }
}

/// The app's claims: its managed PVCs, and those its StatefulSets' claim
/// templates made (`<template>-<statefulset>-<ordinal>`, the StatefulSet
/// controller's naming), each with the volume bound to it.
async fn claims(cluster: &Cluster, managed: &[ObjectRef]) -> Result<Vec<Claim>, String> {
    let read = |e: ClusterError, what: &str| format!("cannot read {what}: {e}");
    let mut pvcs: Vec<ObjectRef> = managed
        .iter()
        .filter(|r| r.kind == "PersistentVolumeClaim")
        .cloned()
        .collect();
    for sts in managed.iter().filter(|r| r.kind == "StatefulSet") {
        let Some(found) = cluster
            .get(sts)
            .await
            .map_err(|e| read(e, &sts.to_string()))?
        else {
            continue;
        };
        let templates: Vec<String> = found
            .pointer("/spec/volumeClaimTemplates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|t| text(t, "/metadata/name").to_owned())
            .filter(|n| !n.is_empty())
            .collect();
        if templates.is_empty() {
            continue;
        }
        let namespace = sts.namespace.as_deref();
        let listed = cluster
            .list("v1", "PersistentVolumeClaim", namespace, "")
            .await
            .map_err(|e| read(e, "the PersistentVolumeClaims of a StatefulSet"))?;
        for pvc in listed {
            let name = text(&pvc, "/metadata/name");
            if templates.iter().any(|t| of_template(name, t, &sts.name)) {
                pvcs.push(ObjectRef {
                    api_version: "v1".to_owned(),
                    kind: "PersistentVolumeClaim".to_owned(),
                    namespace: sts.namespace.clone(),
                    name: name.to_owned(),
                });
            }
        }
    }
    let mut claims = Vec::new();
    for pvc in pvcs {
        let found = cluster
            .get(&pvc)
            .await
            .map_err(|e| read(e, &pvc.to_string()))?;
        let volume = found
            .as_ref()
            .map(|p| text(p, "/spec/volumeName").to_owned())
            .filter(|v| !v.is_empty());
        claims.push(Claim { pvc, volume });
    }
    Ok(claims)
}

/// Whether `claim` is one that claim template `template` of StatefulSet `sts` made.
fn of_template(claim: &str, template: &str, sts: &str) -> bool {
    claim
        .strip_prefix(&format!("{template}-{sts}-"))
        .is_some_and(|ordinal| !ordinal.is_empty() && ordinal.bytes().all(|b| b.is_ascii_digit()))
}

async fn apply(
    ctx: &RunContext,
    cluster: &Cluster,
    policy: PvPolicy,
    claims: &[Claim],
    ends: Instant,
) -> Result<Applied, String> {
    if claims.is_empty() {
        return Ok(Applied::default());
    }
    let volumes: Vec<&str> = claims.iter().filter_map(|c| c.volume.as_deref()).collect();
    let unbound: Vec<String> = claims
        .iter()
        .filter(|c| c.volume.is_none())
        .map(|c| c.pvc.to_string())
        .collect();
    let unbound = if unbound.is_empty() {
        String::new()
    } else {
        format!(" ({} without a bound volume)", unbound.join(", "))
    };
    match policy {
        PvPolicy::Delete => Ok(Applied {
            note: format!("; --pv-policy delete: volumes left to their reclaim policy{unbound}"),
            must_go: volumes.iter().map(|v| (*v).to_owned()).collect(),
        }),
        PvPolicy::Retain => {
            let kept = retain(cluster, &volumes).await?;
            Ok(Applied {
                note: format!("; retained PersistentVolumes: {}{unbound}", listed(&kept)),
                must_go: Vec::new(),
            })
        }
        PvPolicy::Snapshot => {
            let mut taken = Vec::new();
            for claim in claims.iter().filter(|c| c.volume.is_some()) {
                taken.push(snapshot(ctx, cluster, &claim.pvc, ends).await?);
            }
            let kept = retain(cluster, &volumes).await?;
            Ok(Applied {
                note: format!(
                    "; snapshots ready: {}; retained PersistentVolumes: {}{unbound}",
                    listed(&taken),
                    listed(&kept)
                ),
                must_go: Vec::new(),
            })
        }
    }
}

fn listed(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// Sets each volume's reclaim policy to Retain (a volume already Retain is
/// left alone); the volumes, as listed in the message.
async fn retain(cluster: &Cluster, volumes: &[&str]) -> Result<Vec<String>, String> {
    let mut kept = Vec::new();
    for &name in volumes {
        let target = pv(name);
        let found = cluster
            .get(&target)
            .await
            .map_err(|e| format!("cannot read {target}: {e}"))?;
        let Some(found) = found else {
            kept.push(format!("{name} (already gone)"));
            continue;
        };
        if text(&found, "/spec/persistentVolumeReclaimPolicy") != "Retain" {
            let patch = json!({"spec": {"persistentVolumeReclaimPolicy": "Retain"}});
            cluster
                .merge_patch(&target, &patch)
                .await
                .map_err(|e| format!("cannot set {target} to Retain: {e}"))?;
            tracing::info!(phase = "volumes", "{target}: reclaim policy set to Retain");
        }
        kept.push(name.to_owned());
    }
    Ok(kept)
}

/// Takes a VolumeSnapshot of `pvc` (of the default snapshot class) and
/// waits until its `status.readyToUse` is true; `namespace/name` of it.
async fn snapshot(
    ctx: &RunContext,
    cluster: &Cluster,
    pvc: &ObjectRef,
    ends: Instant,
) -> Result<String, String> {
    let namespace = pvc.namespace.clone().unwrap_or_default();
    // The run id ends in 12 random hex digits: unique per run, and short.
    let suffix = &ctx.run_id[ctx.run_id.len().saturating_sub(12)..];
    let mut name = format!("{}-{suffix}", pvc.name);
    if name.len() > 253 {
        name = format!("{}-{suffix}", &pvc.name[..240]);
    }
    let body = json!({
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshot",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "executor"},
            "annotations": {"executor.platform.dev/run": ctx.run_id},
        },
        "spec": {"source": {"persistentVolumeClaimName": pvc.name}},
    });
    cluster
        .create(&body)
        .await
        .map_err(|e| format!("cannot create a VolumeSnapshot of {pvc}: {e}"))?;
    let target = ObjectRef {
        api_version: "snapshot.storage.k8s.io/v1".to_owned(),
        kind: "VolumeSnapshot".to_owned(),
        namespace: Some(namespace.clone()),
        name: name.clone(),
    };
    tracing::info!(
        phase = "volumes",
        "{target} of {pvc}: waiting until ready to use"
    );
    loop {
        let found = cluster
            .get(&target)
            .await
            .map_err(|e| format!("cannot read {target}: {e}"))?;
        let found = found.unwrap_or(Value::Null);
        if found.pointer("/status/readyToUse").and_then(Value::as_bool) == Some(true) {
            return Ok(format!("{namespace}/{name}"));
        }
        let error = text(&found, "/status/error/message");
        if !error.is_empty() {
            return Err(format!("{target} of {pvc} failed: {error}"));
        }
        if Instant::now() + POLL >= ends {
            return Err(format!(
                "{target} of {pvc} was not ready to use within the teardown deadline"
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// `delete`: the volumes still there once the app is gone, waited for
/// within `ends` (the PV controller deletes them after their claims); one
/// whose reclaim policy is not Delete will not go, and is named at once.
pub async fn still_there(cluster: &Cluster, volumes: &[String], ends: Instant) -> Vec<String> {
    let mut settled = Vec::new();
    let mut waiting: Vec<(String, String)> =
        volumes.iter().map(|v| (v.clone(), String::new())).collect();
    let look = async {
        while !waiting.is_empty() {
            let mut next = Vec::new();
            for (name, _) in &waiting {
                match cluster.get(&pv(name)).await {
                    Ok(None) => {}
                    Ok(Some(found)) => {
                        let policy =
                            or(text(&found, "/spec/persistentVolumeReclaimPolicy"), "unset");
                        let said = format!(
                            "PersistentVolume {name} (reclaim policy {policy}, phase {})",
                            or(text(&found, "/status/phase"), "unknown")
                        );
                        if policy == "Delete" {
                            next.push((name.clone(), said));
                        } else {
                            settled.push(said);
                        }
                    }
                    Err(e) => settled.push(format!("PersistentVolume {name} (cannot tell: {e})")),
                }
            }
            waiting = next;
            if !waiting.is_empty() {
                tokio::time::sleep(POLL).await;
            }
        }
    };
    // At the deadline, what is still there is named as last seen.
    let _ = tokio::time::timeout_at(ends, look).await;
    settled.extend(waiting.into_iter().map(|(name, said)| {
        if said.is_empty() {
            format!("PersistentVolume {name} (not seen gone)")
        } else {
            said
        }
    }));
    settled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statefulset_claims_are_told_by_their_name() {
        let cases = [
            ("data-db-0", true),
            ("data-db-12", true),
            ("data-db-", false),
            ("data-db-x", false),
            ("data-dbx-0", false),
            ("logs-db-0", false),
        ];
        for (claim, expected) in cases {
            assert_eq!(of_template(claim, "data", "db"), expected, "{claim}");
        }
    }
}
