//! Checks against Argo CD's own API description, `../shared/reference/argocd/swagger.json`
//! (Argo CD 3.6). Skipped, with a message, when `../shared` is absent (a user's clone);
//! with `CI` set that is a failure.

use std::path::PathBuf;
use std::sync::OnceLock;

use executor::sim::RecordedRequest;
use serde_json::Value;

/// The swagger document, or `None` when the reference folder is absent.
pub fn swagger() -> Option<&'static Value> {
    static DOC: OnceLock<Option<Value>> = OnceLock::new();
    DOC.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/reference/argocd/swagger.json");
        match std::fs::read_to_string(&path) {
            Ok(text) => Some(serde_json::from_str(&text).expect("swagger.json parses")),
            // With CI set, a missing reference fails: a check never passes silently.
            Err(e) if std::env::var_os("CI").is_some() => {
                panic!(
                    "{}: {e}; CI needs ../shared beside the repository",
                    path.display()
                )
            }
            Err(_) => {
                eprintln!(
                    "skipping Argo CD swagger conformance: {} not found (../shared is absent)",
                    path.display()
                );
                None
            }
        }
    })
    .as_ref()
}

/// Does `path` match the swagger template `template` (`{name}` matches one segment)?
fn matches_template(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let mut p: Vec<&str> = path.split('/').collect();
    // CanI's `subresource` is a `**` pattern in Argo CD's gateway
    // (`pkg/apiclient/account/account.pb.gw.go`, `pattern_AccountService_CanI_0`),
    // so `<project>/<name>` fills it; the swagger cannot say so.
    if template.ends_with("/can-i/{resource}/{action}/{subresource}") && p.len() > t.len() {
        p.truncate(t.len());
    }
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p)
}

/// The swagger operation for a method and concrete path.
pub fn operation(method: &str, path: &str) -> Option<&'static Value> {
    let doc = swagger()?;
    let paths = doc["paths"].as_object()?;
    // Prefer literal segments: `/api/v1/stream/applications` over `/api/v1/applications/{name}`.
    let mut candidates: Vec<(&String, &Value)> = paths
        .iter()
        .filter(|(t, _)| matches_template(t, path))
        .collect();
    candidates.sort_by_key(|(t, _)| t.matches('{').count());
    candidates
        .into_iter()
        .find_map(|(_, ops)| ops.get(method.to_ascii_lowercase()))
}

/// Resolves `#/definitions/x`.
pub fn definition(reference: &str) -> &'static Value {
    let name = reference.trim_start_matches("#/definitions/");
    &swagger().expect("swagger loaded")["definitions"][name]
}

/// Keys of `value` that the schema does not define, as dotted paths, recursively.
pub fn unknown_fields(schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => definition(r),
        None => schema,
    };
    match value {
        Value::Object(map) => {
            let Some(props) = schema.get("properties").and_then(Value::as_object) else {
                // A free-form object (additionalProperties): labels, annotations.
                return;
            };
            for (key, child) in map {
                match props.get(key) {
                    Some(sub) => unknown_fields(sub, child, &format!("{at}.{key}"), out),
                    None => out.push(format!("{at}.{key}")),
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    unknown_fields(item_schema, item, &format!("{at}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// Every recorded request has a path and method in the swagger, only known
/// query parameters, and a body with only known fields.
#[track_caller]
pub fn assert_conformant(requests: &[RecordedRequest]) {
    if swagger().is_none() {
        return;
    }
    for r in requests {
        let op = operation(&r.method, &r.path)
            .unwrap_or_else(|| panic!("{} {} is not in Argo CD's swagger", r.method, r.path));
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        for pair in r.query.split('&').filter(|p| !p.is_empty()) {
            let key = pair.split('=').next().unwrap_or_default();
            let known = params
                .iter()
                .any(|p| p["in"] == "query" && p["name"] == key);
            assert!(
                known,
                "{} {}: query parameter '{key}' is not in the swagger",
                r.method, r.path
            );
        }
        if let Some(body) = &r.body {
            let schema = params
                .iter()
                .find(|p| p["in"] == "body")
                .map(|p| &p["schema"])
                .unwrap_or_else(|| {
                    panic!(
                        "{} {} sends a body the swagger does not take",
                        r.method, r.path
                    )
                });
            let mut unknown = Vec::new();
            unknown_fields(schema, body, "body", &mut unknown);
            assert!(
                unknown.is_empty(),
                "{} {}: unknown fields {unknown:?}",
                r.method,
                r.path
            );
        }
    }
}
