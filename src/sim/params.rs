//! Request parameters the way grpc-gateway reads them: repeated query keys,
//! and JSON bodies decoded leniently (unknown fields ignored, keys matched
//! case-insensitively, like Go's encoding/json).

use serde_json::{Map, Value};

use crate::argocd::types::SyncRequest;

use super::error::ApiError;

/// Field names of `applicationApplicationSyncRequest` and the messages inside it.
const SYNC_REQUEST_FIELDS: &[&str] = &[
    "appNamespace",
    "dryRun",
    "infos",
    "items",
    "manifests",
    "name",
    "project",
    "prune",
    "resources",
    "retryStrategy",
    "revision",
    "revisions",
    "sourcePositions",
    "strategy",
    "syncOptions",
    "value",
];

/// A decoded query string; keys may repeat.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Parses a raw query string (`None` when the URL has none).
    pub(crate) fn parse(raw: Option<&str>) -> Params {
        let pairs = raw
            .unwrap_or("")
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(key), percent_decode(value))
            })
            .collect();
        Params(pairs)
    }

    /// The first value of a key.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first non-empty value of a key.
    pub(crate) fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    /// Every non-empty value of a key.
    pub(crate) fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// `getProjectsFromApplicationQuery`: `project` if given, else `projects`.
    pub(crate) fn projects(&self) -> Vec<String> {
        let project = self.all("project");
        if project.is_empty() {
            self.all("projects")
        } else {
            project
        }
    }

    /// A boolean the way Go's `strconv.ParseBool` reads it.
    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(Some(true)),
            Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(Some(false)),
            Some(other) => Err(ApiError::invalid_argument(format!(
                "parsing field \"{key}\": strconv.ParseBool: parsing \"{other}\": invalid syntax"
            ))),
        }
    }
}

/// Decodes `%XX` escapes and `+` as a space; invalid escapes are kept as they are.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = text
                    .get(i + 1..i + 3)
                    .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Renames keys that match a known field case-insensitively to its exact
/// spelling, recursively. Unknown keys stay and are ignored later.
fn canonicalize(value: Value, fields: &[&str]) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, inner) in map {
                let key = fields
                    .iter()
                    .find(|f| f.eq_ignore_ascii_case(&key))
                    .map_or(key, |f| f.to_string());
                out.insert(key, canonicalize(inner, fields));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| canonicalize(item, fields))
                .collect(),
        ),
        other => other,
    }
}

/// Decodes a sync request body like grpc-gateway: an empty body is an empty
/// request, unknown fields are ignored, and the path's name wins.
pub(crate) fn sync_request(name: &str, body: &[u8]) -> Result<SyncRequest, ApiError> {
    let invalid = |e: serde_json::Error| ApiError::invalid_argument(e.to_string());
    let value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body).map_err(invalid)?
    };
    let Value::Object(map) = canonicalize(value, SYNC_REQUEST_FIELDS) else {
        return Err(ApiError::invalid_argument(
            "json: cannot unmarshal non-object into Go value of type application.ApplicationSyncRequest",
        ));
    };
    let mut map = map;
    map.insert("name".into(), Value::String(name.to_string()));
    serde_json::from_value(Value::Object(map)).map_err(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_keys_repeat_and_decode() {
        let params = Params::parse(Some("projects=a&projects=b%2Fc&name=x+y&refresh"));
        assert_eq!(params.all("projects"), ["a", "b/c"]);
        assert_eq!(params.get("name"), Some("x y"));
        assert_eq!(params.get("refresh"), Some(""));
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }

    #[test]
    fn sync_body_is_lenient_like_go() {
        let body = br#"{"REVISION":"main","syncoptions":{"ITEMS":["Prune=true"]},"bogus":1,"name":"other"}"#;
        let request = sync_request("app", body).unwrap();
        assert_eq!(request.name, "app");
        assert_eq!(request.revision.as_deref(), Some("main"));
        assert_eq!(request.sync_options.unwrap().items, ["Prune=true"]);
        // A misspelled field is silently dropped, as in Argo CD.
        let request = sync_request("app", br#"{"sync_options":{"items":["x"]}}"#).unwrap();
        assert!(request.sync_options.is_none());
        assert!(sync_request("app", b"").is_ok());
        assert!(sync_request("app", b"[1]").is_err());
        assert!(sync_request("app", br#"{"prune":"yes"}"#).is_err());
    }
}
