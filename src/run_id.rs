//! The run id: the `executor-run` info of every operation a run starts, and
//! the report's `runId`. Random, so that two pods started in the same second
//! (each PID 1) never share one; prefixed with the Argo Workflows workflow and
//! pod name when the templates pass them, so an operation in Argo CD names the
//! step that started it.

/// The workflow's name (`{{workflow.name}}` in workflow-templates/executor.yaml).
pub const WORKFLOW_ENV: &str = "WORKFLOW_NAME";
/// The pod's name (the downward API's `metadata.name` in the templates).
pub const POD_ENV: &str = "POD_NAME";
/// Else the pod's name as the container runtime sets it.
const HOSTNAME_ENV: &str = "HOSTNAME";
/// Random bytes in the id: 12 hex characters.
const RANDOM_BYTES: usize = 6;
/// The longest each name may add, as a Kubernetes label value.
const MAX_PART: usize = 63;

/// A new run id, reading the names from `env`.
pub fn new(env: impl Fn(&str) -> Option<String>) -> String {
    let workflow = env(WORKFLOW_ENV);
    let pod = env(POD_ENV).or_else(|| env(HOSTNAME_ENV));
    compose(workflow.as_deref(), pod.as_deref(), &random_hex())
}

/// `<workflow>-<pod>-<random>`, leaving out the names not known, and the
/// workflow's when the pod's already starts with it (Argo names its pods
/// after their workflow).
fn compose(workflow: Option<&str>, pod: Option<&str>, random: &str) -> String {
    let workflow = workflow.map(clean).filter(|w| !w.is_empty());
    let pod = pod.map(clean).filter(|p| !p.is_empty());
    let mut parts: Vec<String> = match (workflow, pod) {
        (Some(w), Some(p)) if p.starts_with(&w) => vec![p],
        (w, p) => w.into_iter().chain(p).collect(),
    };
    parts.push(random.to_owned());
    parts.join("-")
}

/// What a Kubernetes name may hold (lowercase letters, digits, `-`, `.`), at
/// most [`MAX_PART`] characters of it, so the id stays a plain, short info value.
fn clean(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
        .take(MAX_PART)
        .collect::<String>()
        .trim_matches(['-', '.'])
        .to_owned()
}

/// [`RANDOM_BYTES`] from the OS, in hex; from the clock and PID should the
/// OS have none to give (the id must exist before any request).
fn random_hex() -> String {
    let mut bytes = [0u8; RANDOM_BYTES];
    if getrandom::getrandom(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        let seed = nanos ^ (u64::from(std::process::id()) << 40);
        bytes.copy_from_slice(&seed.to_le_bytes()[..RANDOM_BYTES]);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_names_the_workflow_and_pod_when_known() {
        let cases: &[(Option<&str>, Option<&str>, &str)] = &[
            (None, None, "0123456789ab"),
            (Some("deploy-x7k2p"), None, "deploy-x7k2p-0123456789ab"),
            (None, Some("executor-5f9c"), "executor-5f9c-0123456789ab"),
            (
                Some("deploy-x7k2p"),
                Some("deploy-x7k2p-metallb-1234"),
                "deploy-x7k2p-metallb-1234-0123456789ab",
            ),
            (
                Some("deploy-x7k2p"),
                Some("runner"),
                "deploy-x7k2p-runner-0123456789ab",
            ),
            (Some(""), Some("  "), "0123456789ab"),
            (Some("Deploy_X7/k2p"), None, "deployx7k2p-0123456789ab"),
        ];
        for (workflow, pod, expected) in cases {
            assert_eq!(
                compose(*workflow, *pod, "0123456789ab"),
                *expected,
                "{workflow:?} {pod:?}"
            );
        }
        let long = "a".repeat(300);
        assert_eq!(
            compose(Some(&long), None, "0123456789ab").len(),
            MAX_PART + 13
        );
    }

    /// PID 1 in every pod, the same second: the ids still differ.
    #[test]
    fn ids_are_random() {
        let env = |k: &str| (k == POD_ENV).then(|| "executor".to_owned());
        let a = new(env);
        let b = new(env);
        assert_ne!(a, b);
        let random = a.strip_prefix("executor-").unwrap();
        assert_eq!(random.len(), 2 * RANDOM_BYTES);
        assert!(random.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
