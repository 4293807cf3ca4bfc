//! Conformance with Argo CD's `swagger.json`: every route the simulator serves
//! exists there, and every field it answers is a documented property.
//!
//! The reference is read from `../shared/reference/` at test time; when the
//! folder is absent the tests say so and pass, except with `CI` set, where they fail.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use super::support::{delete, fast, get, phase, post, start, wait_until, Watch};
use crate::sim::{AppScenario, InitialState};

fn swagger() -> Option<Value> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/argocd/swagger.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).unwrap()),
        // With CI set, a missing reference fails: a check never passes silently.
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!(
                "{}: {e}; CI needs ../shared beside the repository",
                path.display()
            )
        }
        Err(_) => {
            eprintln!("skipping: {} is absent", path.display());
            None
        }
    }
}

/// Resolves `$ref` and merges `allOf` into one list of property maps.
fn properties<'a>(
    swagger: &'a Value,
    schema: &'a Value,
) -> Vec<&'a serde_json::Map<String, Value>> {
    let schema = resolve(swagger, schema);
    let mut found: Vec<_> = schema["properties"].as_object().into_iter().collect();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        found.extend(properties(swagger, part));
    }
    found
}

fn resolve<'a>(swagger: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/definitions/");
            resolve(swagger, &swagger["definitions"][name])
        }
        None => schema,
    }
}

/// Collects every key of `value` that `schema` does not document.
fn undocumented(swagger: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    let resolved = resolve(swagger, schema);
    match value {
        Value::Object(map) => {
            if resolved.get("additionalProperties").is_some() {
                return;
            }
            let known = properties(swagger, schema);
            // Kubernetes TypeMeta is inlined in Go, so the generated swagger omits it.
            let is_object = known.iter().any(|p| p.contains_key("metadata"));
            for (key, inner) in map {
                if is_object && (key == "apiVersion" || key == "kind") {
                    continue;
                }
                match known.iter().find_map(|p| p.get(key)) {
                    Some(inner_schema) => {
                        undocumented(swagger, inner_schema, inner, &format!("{at}.{key}"), out)
                    }
                    None => out.push(format!("{at}.{key}")),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                undocumented(
                    swagger,
                    &resolved["items"],
                    item,
                    &format!("{at}[{i}]"),
                    out,
                );
            }
        }
        _ => {}
    }
}

fn assert_documented(swagger: &Value, definition: &str, value: &Value) {
    let schema = json!({"$ref": format!("#/definitions/{definition}")});
    let mut out = Vec::new();
    undocumented(swagger, &schema, value, definition, &mut out);
    assert!(out.is_empty(), "undocumented fields: {out:?} in {value:#}");
}

/// Every route the simulator serves is a path and method of the real API.
#[test]
fn served_routes_exist_in_swagger() {
    let Some(swagger) = swagger() else { return };
    let routes = [
        ("/api/v1/applications", "get"),
        ("/api/v1/applications/{name}", "get"),
        ("/api/v1/applications/{name}", "delete"),
        ("/api/v1/applications/{name}/sync", "post"),
        ("/api/v1/applications/{name}/operation", "delete"),
        (
            "/api/v1/applications/{applicationName}/resource-tree",
            "get",
        ),
        ("/api/v1/stream/applications", "get"),
    ];
    for (path, method) in routes {
        assert!(
            swagger["paths"][path][method].is_object(),
            "{method} {path} is not in swagger.json"
        );
    }
}

/// The Application in every phase of its life has only documented fields.
#[tokio::test]
async fn answers_use_only_documented_fields() {
    let Some(swagger) = swagger() else { return };
    let sim = start(vec![
        AppScenario {
            sync_duration: Duration::from_millis(120),
            ..fast("web")
        },
        AppScenario {
            initial: InitialState::Healthy,
            auto_sync: true,
            ..fast("up")
        },
    ])
    .await;
    let (_, _, mut watch) = Watch::open(&sim, "?name=web").await;
    let line = watch.event().await;
    assert_documented(
        &swagger,
        "v1alpha1ApplicationWatchEvent",
        &serde_json::to_value(line).unwrap(),
    );

    let mut answers = vec![get(&sim, "/api/v1/applications/up").await.body];
    answers.push(
        post(
            &sim,
            "/api/v1/applications/web/sync",
            json!({"revision": "main", "prune": true, "infos": [{"name": "a", "value": "b"}]}),
        )
        .await
        .body,
    );
    wait_until(&sim, "web", "running", |a| phase(a) == "Running").await;
    answers.push(get(&sim, "/api/v1/applications/web").await.body);
    delete(&sim, "/api/v1/applications/web/operation").await;
    wait_until(&sim, "web", "terminated", |a| phase(a) == "Failed").await;
    answers.push(
        get(&sim, "/api/v1/applications/web?refresh=hard")
            .await
            .body,
    );
    delete(&sim, "/api/v1/applications/up?cascade=true").await;
    answers.push(get(&sim, "/api/v1/applications/up").await.body);
    for answer in &answers {
        assert!(answer["metadata"]["name"].is_string(), "{answer}");
        assert_documented(&swagger, "v1alpha1Application", answer);
    }

    let list = get(&sim, "/api/v1/applications").await.body;
    assert_documented(&swagger, "v1alpha1ApplicationList", &list);
    let tree = get(&sim, "/api/v1/applications/up/resource-tree")
        .await
        .body;
    assert_documented(&swagger, "v1alpha1ApplicationTree", &tree);
}
