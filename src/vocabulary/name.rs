//! The one name rule for everything the executor names (DAG nodes, scopes,
//! Applications), and the namespace rule.

/// What [`valid`] accepts, for messages.
pub const NAME_RULE: &str = "use lowercase letters, digits, '-' and '.', as Kubernetes names do";

/// What [`valid_namespace`] accepts, for messages.
pub const NAMESPACE_RULE: &str = "use lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (a Kubernetes namespace name)";

/// True for names Kubernetes and Argo CD accept (DNS-1123 subdomain), so
/// that every DAG node can be named in a scope and every scope names an
/// Application Argo CD can hold.
pub fn valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
        && !name.starts_with(['-', '.'])
        && !name.ends_with(['-', '.'])
}

/// True for a Kubernetes namespace name (DNS-1123 label: lowercase letters,
/// digits and '-', starting and ending with a letter or digit, at most 63),
/// where Argo CD may keep Applications (`application.namespaces`).
pub fn valid_namespace(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_namespaces_follow_kubernetes() {
        for (name, is_name, is_namespace) in [
            ("temporal", true, true),
            ("cert-manager.crds", true, false),
            ("a", true, true),
            ("", false, false),
            ("Temporal", false, false),
            ("-x", false, false),
            ("x-", false, false),
            ("x.", false, false),
            ("a b", false, false),
            (&"a".repeat(64), true, false),
            (&"a".repeat(254), false, false),
        ] {
            assert_eq!(valid(name), is_name, "{name:?} as a name");
            assert_eq!(
                valid_namespace(name),
                is_namespace,
                "{name:?} as a namespace"
            );
        }
    }
}
