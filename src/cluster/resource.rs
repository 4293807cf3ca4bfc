//! One object in the cluster, judged: a DAG resource node is ready when its
//! object exists and its condition holds. Pure functions over the object's
//! JSON, so that the same verdicts serve the real API server and tests.

use serde_json::Value;

/// Names one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// `apiextensions.k8s.io/v1`, `v1`, …
    pub api_version: String,
    /// `CustomResourceDefinition`, `ConfigMap`, …
    pub kind: String,
    /// The namespace, for a namespaced kind.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// What makes an existing object ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Existing is enough.
    Exists,
    /// `status.conditions[]` has this type with status `True`.
    True(String),
}

impl Condition {
    /// The DAG's resolved condition (`None`: existing is enough; the
    /// defaults by kind are the DAG's, `dag::graph::default_condition`).
    pub fn of(condition: Option<&str>) -> Condition {
        match condition {
            None => Condition::Exists,
            Some(condition) => Condition::True(condition.to_owned()),
        }
    }
}

/// The verdict on one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// No such object.
    Missing,
    /// It exists, but is not ready yet: what is lacking.
    NotReady(String),
    /// Ready: why.
    Ready(String),
}

/// Judges `object` (as the API server returned it) against `condition`.
pub fn judge(condition: &Condition, object: Option<&Value>) -> State {
    let Some(object) = object else {
        return State::Missing;
    };
    if object.pointer("/metadata/deletionTimestamp").is_some() {
        return State::NotReady("it is being deleted".to_owned());
    }
    let wanted = match condition {
        Condition::Exists => return State::Ready("it exists".to_owned()),
        Condition::True(wanted) => wanted,
    };
    let found = object
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(wanted.as_str()));
    let Some(found) = found else {
        return State::NotReady(format!("no {wanted} condition yet"));
    };
    let text = |key: &str| found.get(key).and_then(Value::as_str).unwrap_or_default();
    if text("status") == "True" {
        return State::Ready(format!("{wanted}=True"));
    }
    let mut lacking = format!(
        "{wanted}={}",
        if text("status").is_empty() {
            "Unknown"
        } else {
            text("status")
        }
    );
    for detail in [text("reason"), text("message")] {
        if !detail.is_empty() {
            lacking.push_str(&format!(" ({detail})"));
        }
    }
    State::NotReady(lacking)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn judges_an_object_against_its_condition() {
        let established = Condition::True("Established".into());
        let crd = |conditions: Value| json!({"metadata": {"name": "x"}, "status": {"conditions": conditions}});
        let cases = [
            (&established, None, State::Missing),
            (
                &established,
                Some(crd(json!([{"type": "Established", "status": "True"}]))),
                State::Ready("Established=True".into()),
            ),
            (
                &established,
                Some(crd(json!([{"type": "NamesAccepted", "status": "True"}]))),
                State::NotReady("no Established condition yet".into()),
            ),
            (
                &established,
                Some(crd(
                    json!([{"type": "Established", "status": "False", "reason": "Installing", "message": "the CRD is being installed"}]),
                )),
                State::NotReady(
                    "Established=False (Installing) (the CRD is being installed)".into(),
                ),
            ),
            (
                &established,
                Some(json!({"metadata": {"name": "x"}})),
                State::NotReady("no Established condition yet".into()),
            ),
            (
                &Condition::Exists,
                Some(json!({"metadata": {"name": "x"}})),
                State::Ready("it exists".into()),
            ),
            (
                &Condition::Exists,
                Some(
                    json!({"metadata": {"name": "x", "deletionTimestamp": "2026-01-01T00:00:00Z"}}),
                ),
                State::NotReady("it is being deleted".into()),
            ),
        ];
        for (condition, object, expected) in cases {
            assert_eq!(judge(condition, object.as_ref()), expected, "{object:?}");
        }
    }
}
