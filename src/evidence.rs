//! What a failure's report entry shows of the Application it failed on: the
//! operation's, sync's and health's messages, its conditions, and the
//! resources of its tree that are not healthy, with their messages. Pure:
//! `actions::evidence` reads the snapshot and the tree.

use serde::Serialize;

use crate::argocd::types::{Application, ApplicationTree};

/// At most this many unhealthy resources per failure.
const MAX_RESOURCES: usize = 10;

/// `failures[].evidence` in the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// `status.operationState`: its phase and message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// `status.sync.status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync: Option<String>,
    /// `status.health`: its status and message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    /// `status.conditions`: `<type>: <message>`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// The resources of the tree that are not Healthy (pods included).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<UnhealthyResource>,
}

/// One resource of the tree that is not Healthy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnhealthyResource {
    /// `Kind namespace/name`.
    pub resource: String,
    /// Its health status.
    pub health: String,
    /// Its health message, when Argo CD gives one (`Back-off pulling image …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn joined(status: &str, message: Option<&str>) -> Option<String> {
    match (status, message.filter(|m| !m.is_empty())) {
        ("", None) => None,
        (s, None) => Some(s.to_owned()),
        ("", Some(m)) => Some(m.to_owned()),
        (s, Some(m)) => Some(format!("{s}: {m}")),
    }
}

impl Evidence {
    /// What `app` (the last snapshot) and its `tree` show.
    pub fn of(app: &Application, tree: Option<&ApplicationTree>) -> Evidence {
        let status = &app.status;
        let resources = tree.map(unhealthy).unwrap_or_default();
        Evidence {
            operation: status
                .operation_state
                .as_ref()
                .and_then(|o| joined(&o.phase, o.message.as_deref())),
            sync: Some(status.sync.status.clone()).filter(|s| !s.is_empty()),
            health: joined(&status.health.status, status.health.message.as_deref()),
            conditions: status
                .conditions
                .iter()
                .map(|c| format!("{}: {}", c.kind, c.message))
                .collect(),
            resources,
        }
    }

    /// Adds what the resource tree shows.
    pub fn add_tree(&mut self, tree: &ApplicationTree) {
        self.resources = unhealthy(tree);
    }

    /// Whether any message of it contains `needle`.
    pub fn mentions(&self, needle: &str) -> bool {
        let texts = [&self.operation, &self.health]
            .into_iter()
            .flatten()
            .chain(&self.conditions)
            .chain(self.resources.iter().filter_map(|r| r.message.as_ref()));
        texts.into_iter().any(|t| t.contains(needle))
    }

    /// The first unhealthy resource whose message contains `needle`.
    pub fn resource_mentioning(&self, needle: &str) -> Option<&UnhealthyResource> {
        self.resources
            .iter()
            .find(|r| r.message.as_deref().is_some_and(|m| m.contains(needle)))
    }
}

/// The resources of `tree` that are not Healthy, at most [`MAX_RESOURCES`].
fn unhealthy(tree: &ApplicationTree) -> Vec<UnhealthyResource> {
    tree.nodes
        .iter()
        .filter_map(|n| {
            let health = n.health.as_ref()?;
            (health.status != "Healthy").then(|| UnhealthyResource {
                resource: match n.namespace.as_str() {
                    "" => format!("{} {}", n.kind, n.name),
                    ns => format!("{} {ns}/{}", n.kind, n.name),
                },
                health: health.status.clone(),
                message: health.message.clone().filter(|m| !m.is_empty()),
            })
        })
        .take(MAX_RESOURCES)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_takes_the_messages_and_the_unhealthy_resources() {
        let app: Application = serde_json::from_value(serde_json::json!({
            "metadata": { "name": "web" },
            "spec": { "project": "default", "destination": {}, "source": { "repoURL": "r" } },
            "status": {
                "sync": { "status": "Synced" },
                "health": { "status": "Degraded", "message": "" },
                "operationState": { "phase": "Succeeded", "message": "successfully synced (all tasks run)", "operation": {} },
                "conditions": [{ "type": "SyncError", "message": "one or more objects failed" }],
            },
        }))
        .unwrap();
        let tree: ApplicationTree = serde_json::from_value(serde_json::json!({ "nodes": [
            { "kind": "Deployment", "namespace": "web", "name": "web", "health": { "status": "Degraded", "message": "Deployment \"web\" exceeded its progress deadline" } },
            { "kind": "Pod", "namespace": "web", "name": "web-1", "health": { "status": "Degraded", "message": "Back-off pulling image \"web:nope\": ImagePullBackOff" } },
            { "kind": "Service", "namespace": "web", "name": "web", "health": { "status": "Healthy" } },
            { "kind": "ConfigMap", "namespace": "web", "name": "c" },
        ]})).unwrap();
        let e = Evidence::of(&app, Some(&tree));
        assert_eq!(
            e.operation.as_deref(),
            Some("Succeeded: successfully synced (all tasks run)")
        );
        assert_eq!(e.sync.as_deref(), Some("Synced"));
        assert_eq!(e.health.as_deref(), Some("Degraded"));
        assert_eq!(e.conditions, ["SyncError: one or more objects failed"]);
        let resources: Vec<&str> = e.resources.iter().map(|r| r.resource.as_str()).collect();
        assert_eq!(resources, ["Deployment web/web", "Pod web/web-1"]);
        assert!(e.mentions("ImagePullBackOff"));
        assert_eq!(
            e.resource_mentioning("ImagePullBackOff")
                .map(|r| r.resource.as_str()),
            Some("Pod web/web-1")
        );
        assert!(!e.mentions("OOMKilled"));
        assert_eq!(Evidence::of(&app, None).resources, []);
    }
}
