//! Reading an object's fields (a Kubernetes manifest as JSON) the way every
//! rule here reads them: a missing or mistyped field is empty, never a panic.

use serde_json::Value;

/// The string at `pointer` (a JSON pointer, `/status/phase`), or `""`.
pub fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// `text`, or `instead` when it is empty.
pub fn or<'a>(text: &'a str, instead: &'a str) -> &'a str {
    if text.is_empty() {
        instead
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_missing_or_mistyped_field_is_empty() {
        let object = json!({"status": {"phase": "Ready", "replicas": 3}});
        assert_eq!(text(&object, "/status/phase"), "Ready");
        assert_eq!(text(&object, "/status/replicas"), "");
        assert_eq!(text(&object, "/spec/x"), "");
        assert_eq!(or("", "unset"), "unset");
        assert_eq!(or("Delete", "unset"), "Delete");
    }
}
