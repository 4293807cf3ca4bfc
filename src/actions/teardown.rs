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

/// Tears down one application. The confirmation was checked with the inputs.
pub async fn teardown_app(ctx: &RunContext, name: &str, deadlines: Deadlines) -> ComponentResult {
    let track = Tracker::app(name);
    let app = match ctx.client.find_app(name, false).await {
        Ok(Some(app)) => app,
        Ok(None) => return track.finish(S::Absent, None, "already absent; nothing to delete"),
        Err(e @ ArgoError::NotVisible { .. }) => return not_visible(ctx, &track, name, &e).await,
        Err(e) => return track.api_error(&e, None),
    };
    if ctx.config.dry_run {
        return track.finish(
            S::Pending,
            Some(&app),
            "dry run: would delete with cascade and foreground propagation",
        );
    }
    // An app-of-apps' child Applications should go with it; any left behind
    // (Delete=false, or a failed cascade) are orphans. So are the other
    // resources it managed, as recorded now and checked in the cluster once
    // the app is gone.
    let children = child_applications(ctx, name).await;
    let managed = managed_resources(&app);
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
    tracing::info!(
        phase = "delete",
        component = name,
        "deleting (cascade, foreground)"
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
    match tokio::time::timeout_at(ends, ctx.client.delete_app(name)).await {
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
                    let (resources, unreadable) = leftover_resources(cluster, &managed).await;
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
                track.finish(
                    S::Removed,
                    None,
                    format!("deleted; Argo CD removed the application and its resources{checked}{again}"),
                )
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
        Waited::TimedOut => not_confirmed(&track, &deadlines, last.as_ref()),
    }
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
/// those that could not be read, with why: they may remain.
async fn leftover_resources(
    cluster: &Cluster,
    managed: &[ObjectRef],
) -> (Vec<String>, Vec<String>) {
    let mut left = Vec::new();
    let mut unknown = Vec::new();
    for resource in managed {
        match cluster.get(resource).await {
            Ok(None) | Err(ClusterError::UnknownKind { .. }) => {}
            Ok(Some(object)) if object.pointer("/metadata/deletionTimestamp").is_some() => {
                left.push(format!("{resource} (still being deleted)"));
            }
            Ok(Some(_)) => left.push(resource.to_string()),
            Err(e) => unknown.push(format!("{resource} ({e})")),
        }
    }
    (left, unknown)
}
