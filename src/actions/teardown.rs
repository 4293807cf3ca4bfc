//! `teardown` for one application: delete with cascade and foreground
//! propagation, then wait on the stream until it is gone: absent, or
//! replaced by a new object of the same name.

use std::convert::Infallible;
use std::ops::ControlFlow;

use super::context::{Deadlines, RunContext, Tracker};
use super::failure::reason_of;
use crate::argocd::types::Application;
use crate::argocd::ArgoError;
use crate::cluster::resource::ObjectRef;
use crate::cluster::{Cluster, ClusterError};
use crate::outcome::{ComponentResult, ComponentStatus as S, FailureReason as R};
use crate::vocabulary::duration::human;
use crate::wait::{self, Observation, Waited, Watcher};

/// What becomes of an app's resources when it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Children {
    /// Deleted with it (cascade, foreground): the contract's teardown.
    Cascade,
    /// Left (no cascade): an app-of-apps whose child Applications are nodes
    /// of this run, torn down after it. With automated sync, a parent
    /// re-creates a child deleted before it, and the contract forbids
    /// turning its auto-sync off, so the parent goes first.
    Keep,
}

/// Tears down one application. The confirmation was checked with the inputs.
pub async fn teardown_app(
    ctx: &RunContext,
    name: &str,
    deadlines: Deadlines,
    children_go: Children,
) -> ComponentResult {
    let track = Tracker::app(name);
    let app = match ctx.client.find_app(name, false).await {
        Ok(Some(app)) => app,
        Ok(None) => return track.finish(S::Absent, None, "already absent; nothing to delete"),
        Err(e @ ArgoError::NotVisible { .. }) => return not_visible(ctx, &track, name, &e).await,
        Err(e) => return track.api_error(&e, None),
    };
    if ctx.config.dry_run {
        let how = match children_go {
            Children::Cascade => "with cascade and foreground propagation",
            Children::Keep => "without cascade, before its child Applications",
        };
        return track.finish(
            S::Pending,
            Some(&app),
            format!("dry run: would delete {how}"),
        );
    }
    // An app-of-apps' child Applications should go with it; any left behind
    // (Delete=false, or a failed cascade) are orphans. So are the other
    // resources it managed, as recorded now and checked in the cluster once
    // the app is gone.
    let mut children = child_applications(ctx, name).await;
    if children_go == Children::Keep {
        // Those in the DAG are torn down next, as their own nodes.
        children.retain(|child| !ctx.config.checks.dag_apps.contains(child));
    }
    let managed = managed_resources(&app);
    let destination = app
        .spec
        .destination
        .as_ref()
        .and_then(|d| d.namespace.clone())
        .filter(|ns| !ns.is_empty())
        .map(|ns| ObjectRef {
            api_version: "v1".to_owned(),
            kind: "Namespace".to_owned(),
            namespace: None,
            name: ns,
        });
    let ends = crate::deadline::after(deadlines.total());
    // The PV policy first: once the claims are deleted, their volumes follow
    // their reclaim policy, and it is too late to keep them.
    let volumes = match super::volumes::before_delete(ctx, &managed, ends).await {
        Ok(applied) => applied,
        Err(why) => return track.fail(S::Failed, R::VolumePolicy, Some(&app), why),
    };
    let mut last: Option<Application> = Some(app);
    // Open the stream before deleting: once the app is gone, the stream has nothing to say.
    let mut watcher = match &ctx.hub {
        Some(hub) => hub.watcher_for_existing(name),
        None => Watcher::new(&ctx.client, name).confirm_on_connect(),
    };
    let cascade = children_go == Children::Cascade;
    tracing::info!(
        phase = "delete",
        component = name,
        "{}",
        if cascade {
            "deleting (cascade, foreground)"
        } else {
            "deleting without cascade: its child Applications are torn down next"
        }
    );
    // The first observation says whether there is still something to delete,
    // and which object: its uid, as last seen before the delete request.
    let present = wait::within(ends, &mut watcher, |o| {
        ControlFlow::Break(match o {
            Observation::Gone => None,
            Observation::Present(app) => Some(app.metadata.uid.clone()),
        })
    })
    .await;
    let uid = match present {
        Waited::Decided(uid) => uid,
        Waited::Gone => return absent_before_delete(&track),
        Waited::TimedOut => return not_confirmed(&track, &deadlines, last.as_ref()),
        Waited::Failed(e) => return track.api_error(&e, last.as_ref()),
    };
    match tokio::time::timeout_at(ends, ctx.client.delete_app(name, cascade)).await {
        Ok(Ok(())) => {}
        Ok(Err(ArgoError::NotFound { .. })) => return absent_before_delete(&track),
        Ok(Err(e)) => return track.api_error(&e, last.as_ref()),
        Err(_) => return not_confirmed(&track, &deadlines, last.as_ref()),
    }
    // Nothing to decide: gone is the only way out, and an app of the same
    // name with another uid is a new object, so ours is gone.
    let mut again = false;
    let gone = wait::within(ends, &mut watcher, |observation| {
        if wait::is_deleted(observation, uid.as_deref()) {
            again = matches!(observation, Observation::Present(_));
            return ControlFlow::Break(None::<Infallible>);
        }
        if let Observation::Present(app) = observation {
            last = Some((**app).clone());
        }
        ControlFlow::Continue(None)
    })
    .await;
    let again = if again {
        "; an Application of the same name was created again since (a new uid)"
    } else {
        ""
    };
    match gone {
        Waited::Gone => {
            let mut left: Vec<String> = orphans(ctx, &children)
                .await
                .into_iter()
                .map(|child| format!("Application {child}"))
                .collect();
            let mut unknown = Vec::new();
            let checked = match &ctx.cluster {
                Some(cluster) => {
                    let (resources, unreadable) =
                        leftover_resources(cluster, &managed, destination.clone(), ends).await;
                    left.extend(resources);
                    left.extend(super::volumes::still_there(cluster, &volumes.must_go, ends).await);
                    unknown = unreadable;
                    String::new()
                }
                None if managed.is_empty() => String::new(),
                None => format!(
                    "; its {} other resources were not checked: {}",
                    managed.len(),
                    super::preflight::NO_CLUSTER
                ),
            };
            let checked = format!("{checked}{}", volumes.note);
            if !unknown.is_empty() {
                // As with an app the token may not see: what cannot be told is no success.
                let left = if left.is_empty() {
                    String::new()
                } else {
                    format!("; remaining: {}", left.join(", "))
                };
                track.fail(
                    S::Failed,
                    R::PermissionDenied,
                    None,
                    format!(
                        "deleted, but whether these resources it managed remain cannot be told: {}; grant the executor's identity get on them (workflow-templates/rbac.yaml){left}{again}",
                        unknown.join(", ")
                    ),
                )
            } else if left.is_empty() {
                let what = if cascade {
                    "deleted; Argo CD removed the application and its resources"
                } else {
                    "deleted without cascade, before its child Applications (torn down next)"
                };
                track.finish(S::Removed, None, format!("{what}{checked}{again}"))
            } else {
                track.fail(
                    S::Orphaned,
                    R::Orphaned,
                    None,
                    format!(
                        "deleted, but resources it managed remain: {} (Delete=false sync option, or not cascaded); delete them or remove them from Git{checked}{again}",
                        left.join(", ")
                    ),
                )
            }
        }
        Waited::Failed(e) => track.api_error(&e, last.as_ref()),
        Waited::TimedOut => {
            let mut result = not_confirmed(&track, &deadlines, last.as_ref());
            if let Some(cluster) = &ctx.cluster {
                // Argo CD keeps the app until every resource it deletes is gone
                // (finalizeApplicationDeletion in argo-cd's controller/appcontroller.go
                // returns while one has a deletionTimestamp): say which one holds it.
                let held = holding(cluster, &managed, destination.as_ref()).await;
                if !held.is_empty() {
                    result
                        .message
                        .push_str(&format!("; still being deleted: {}", held.join(", ")));
                }
            }
            result
        }
    }
}

/// How long, past the deadline, teardown looks for what holds an app.
const HOLDING_LOOK: std::time::Duration = std::time::Duration::from_secs(3);

/// The recorded resources (and the destination namespace) that are being
/// deleted and not gone: what keeps Argo CD from removing the app. Read side
/// by side, each within `HOLDING_LOOK`, so that what was found is kept.
async fn holding(
    cluster: &Cluster,
    managed: &[ObjectRef],
    destination: Option<&ObjectRef>,
) -> Vec<String> {
    let reads = managed
        .iter()
        .chain(destination.filter(|d| !managed.contains(d)))
        .map(|resource| async move {
            match tokio::time::timeout(HOLDING_LOOK, cluster.get(resource)).await {
                Ok(Ok(Some(object))) if object.pointer("/metadata/deletionTimestamp").is_some() => {
                    Some(stuck(resource, &object))
                }
                _ => None,
            }
        });
    futures_util::future::join_all(reads)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Argo CD answers the same for an absent app and one the token may not see;
/// the Kubernetes API can tell them apart (contract §4, teardown 4). Without
/// cluster access, or when it cannot tell either, the run cannot tell.
async fn not_visible(
    ctx: &RunContext,
    track: &Tracker,
    name: &str,
    e: &ArgoError,
) -> ComponentResult {
    let Some(cluster) = &ctx.cluster else {
        return track.api_error(e, None);
    };
    let namespace = ctx
        .config
        .app_namespaces
        .get(name)
        .unwrap_or(&ctx.config.argocd.namespace);
    let application = ObjectRef {
        api_version: "argoproj.io/v1alpha1".to_owned(),
        kind: "Application".to_owned(),
        namespace: Some(namespace.clone()),
        name: name.to_owned(),
    };
    match cluster.get(&application).await {
        Ok(None) => track.finish(
            S::Absent,
            None,
            format!("already absent: the Kubernetes API has no Application {namespace}/{name} (Argo CD could not tell, as its token may not see every app); nothing to delete"),
        ),
        Ok(Some(_)) => track.fail(
            S::Failed,
            R::PermissionDenied,
            None,
            format!("{e}; the Kubernetes API shows that Application {namespace}/{name} exists, so it is there and the token may not see it; nothing was deleted"),
        ),
        Err(k) => track.fail(
            S::Failed,
            reason_of(e),
            None,
            format!("{e}; the Kubernetes API could not tell either ({k}); nothing was deleted"),
        ),
    }
}

/// The app was gone by the time the delete request went out.
fn absent_before_delete(track: &Tracker) -> ComponentResult {
    track.finish(
        S::Absent,
        None,
        "disappeared before the delete request; nothing to delete",
    )
}

/// The deadline passed before the app was seen gone.
fn not_confirmed(
    track: &Tracker,
    deadlines: &Deadlines,
    last: Option<&Application>,
) -> ComponentResult {
    let finalizers = last
        .map(|a| a.metadata.finalizers.join(", "))
        .unwrap_or_default();
    let msg = format!(
        "deletion not confirmed within {}, {} plus {}; finalizers still present: {}",
        human(deadlines.total()),
        deadlines.sync,
        deadlines.health,
        if finalizers.is_empty() {
            "none"
        } else {
            &finalizers
        }
    );
    let passed = [&deadlines.sync, &deadlines.health];
    track.timeout(&passed, R::Timeout, last, msg)
}

/// The Applications an app-of-apps manages, from its resource tree. A tree
/// that cannot be read only means the orphan check is skipped.
async fn child_applications(ctx: &RunContext, name: &str) -> Vec<String> {
    match ctx.client.resource_tree(name).await {
        Ok(tree) => tree
            .nodes
            .into_iter()
            .filter(|n| n.group == "argoproj.io" && n.kind == "Application")
            .map(|n| n.name)
            .collect(),
        Err(e) => {
            tracing::warn!(phase = "delete", component = name, "no orphan check: {e}");
            Vec::new()
        }
    }
}

/// Child Applications that still exist.
async fn orphans(ctx: &RunContext, children: &[String]) -> Vec<String> {
    let mut left = Vec::new();
    for child in children {
        if !matches!(ctx.client.find_app(child, false).await, Ok(None)) {
            left.push(child.clone());
        }
    }
    left
}

/// The resources the app manages (its `status.resources`), but child
/// Applications, which [`child_applications`] covers through Argo CD.
fn managed_resources(app: &Application) -> Vec<ObjectRef> {
    app.status
        .resources
        .iter()
        .filter(|r| !(r.group == "argoproj.io" && r.kind == "Application"))
        .map(crate::checks::plan::object_of)
        .collect()
}

/// The recorded resources still in the cluster, each as `Kind ns/name`, and
/// those that could not be read, with why: they may remain. One being
/// deleted is waited for until `ends`; a namespace still Terminating then
/// is named with what holds it (its status conditions). `destination`, the
/// app's destination namespace, is reported only when it is Terminating.
async fn leftover_resources(
    cluster: &Cluster,
    managed: &[ObjectRef],
    destination: Option<ObjectRef>,
    ends: tokio::time::Instant,
) -> (Vec<String>, Vec<String>) {
    let mut left = Vec::new();
    let mut unknown = Vec::new();
    let mut deleting: Vec<ObjectRef> = Vec::new();
    let destination = destination.filter(|d| !managed.contains(d));
    for resource in managed.iter().chain(destination.iter()) {
        match cluster.get(resource).await {
            Ok(None) | Err(ClusterError::UnknownKind { .. }) => {}
            Ok(Some(object)) if object.pointer("/metadata/deletionTimestamp").is_some() => {
                deleting.push(resource.clone());
            }
            Ok(Some(_)) if Some(resource) == destination.as_ref() => {}
            Ok(Some(_)) => left.push(resource.to_string()),
            Err(e) => unknown.push(format!("{resource} ({e})")),
        }
    }
    // Being deleted (the destination namespace, say, deleted by someone
    // else): give them a while, within the deadline, before naming them.
    let ends = ends.min(tokio::time::Instant::now() + DELETING_PATIENCE);
    while !deleting.is_empty() {
        let last_look = tokio::time::Instant::now() + std::time::Duration::from_secs(1) >= ends;
        let mut still = Vec::new();
        for resource in deleting {
            match cluster.get(&resource).await {
                Ok(None) | Err(ClusterError::UnknownKind { .. }) => {}
                Ok(Some(object)) if last_look => left.push(stuck(&resource, &object)),
                Ok(Some(_)) => still.push(resource),
                Err(e) => unknown.push(format!("{resource} ({e})")),
            }
        }
        deleting = still;
        if !deleting.is_empty() {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
    (left, unknown)
}

/// How long a recorded resource that is being deleted is waited for once the
/// app is gone (Argo CD itself waited for those it deleted).
const DELETING_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// A resource still being deleted at the deadline; for a namespace, the
/// conditions that hold it in Terminating (NamespaceContentRemaining,
/// NamespaceFinalizersRemaining, …, as the namespace controller sets them).
fn stuck(resource: &ObjectRef, object: &serde_json::Value) -> String {
    if resource.kind != "Namespace" {
        return format!("{resource} (still being deleted)");
    }
    let held: Vec<String> = object
        .pointer("/status/conditions")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c["status"] == "True")
        .map(|c| {
            format!(
                "{}: {}",
                c["type"].as_str().unwrap_or_default(),
                c["message"].as_str().unwrap_or_default()
            )
        })
        .collect();
    if held.is_empty() {
        format!("{resource} (stuck in Terminating)")
    } else {
        format!("{resource} (stuck in Terminating: {})", held.join("; "))
    }
}
