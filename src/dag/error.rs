//! What can be wrong with a DAG file, its overrides or a selection. Every
//! error names the file (or flag) and the node and says how to fix it; they
//! are collected, so one run reports all of them. All map to exit Invalid.

use std::fmt;
use std::path::PathBuf;

/// One problem with the DAG, its overrides, or the scope.
#[derive(Debug, thiserror::Error)]
pub enum DagError {
    /// A file could not be read.
    #[error("failed to read {path}: {source}; {hint}")]
    Read {
        /// The file.
        path: PathBuf,
        /// How to fix it.
        hint: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file does not parse, has an unknown field, or a bad value.
    #[error("invalid {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// serde_yaml's message, with line and column.
        message: String,
    },
    /// The file defines no stack.
    #[error("{file}: no stacks are defined; add a `stacks:` list with at least one stack")]
    NoStacks {
        /// The DAG file.
        file: String,
    },
    /// A name that Argo CD or Kubernetes would not accept.
    #[error("{file}: {node} is not a valid name: use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters")]
    InvalidName {
        /// The DAG file.
        file: String,
        /// The node, described (`app 'Grafana'`).
        node: String,
    },
    /// An Application namespace that Kubernetes would not accept.
    #[error(
        "{file}: {node} has namespace '{namespace}', which is not a valid namespace: {}",
        crate::vocabulary::name::NAMESPACE_RULE
    )]
    InvalidNamespace {
        /// The DAG file.
        file: String,
        /// The node, described.
        node: String,
        /// What was written.
        namespace: String,
    },
    /// `namespace` on a stack without an app-of-apps: there is no Application to place.
    #[error("{file}: stack '{stack}' sets namespace but has no app-of-apps (`app:`), and its members do not inherit it; set `namespace` on each app instead, or `argocd.appNamespace` in environment.yaml for all of them")]
    NamespaceWithoutApp {
        /// The DAG file.
        file: String,
        /// The stack.
        stack: String,
    },
    /// Two nodes, or two Applications, with one name.
    #[error("{file}: '{name}' is defined twice, as {first} and as {second}; {what} must be unique: rename one")]
    Duplicate {
        /// The DAG file.
        file: String,
        /// The name.
        name: String,
        /// The first definition, described.
        first: String,
        /// The second definition, described.
        second: String,
        /// What must be unique.
        what: &'static str,
    },
    /// A dependency on a name that is not a node.
    #[error("{file}: {node} depends on '{dependency}', which is not a node{hint}")]
    UnknownDependency {
        /// Where the dependency was written (the DAG file, the overrides file or a flag).
        file: String,
        /// The dependent node, described.
        node: String,
        /// The unknown name.
        dependency: String,
        /// `; did you mean 'x'?` or empty.
        hint: String,
    },
    /// A dependency that cannot be parsed (empty, or more than one `@`).
    #[error("{file}: {node} has dependency '{dependency}': {reason}")]
    BadDependency {
        /// Where the dependency was written.
        file: String,
        /// The dependent node, described.
        node: String,
        /// What was written.
        dependency: String,
        /// What is wrong and how to write it.
        reason: String,
    },
    /// A node that depends on itself.
    #[error("{file}: {node} depends on itself; remove '{name}' from its dependsOn")]
    SelfDependency {
        /// Where the dependency was written.
        file: String,
        /// The node, described.
        node: String,
        /// Its name.
        name: String,
    },
    /// A member that lists its own stack: that order is always implied.
    #[error("{file}: {node} depends on its own stack '{stack}', which is already implied (a stack's app-of-apps always comes before its members); remove it from dependsOn")]
    ImpliedDependency {
        /// Where the dependency was written.
        file: String,
        /// The member, described.
        node: String,
        /// Its stack.
        stack: String,
    },
    /// A stack that depends on one of its own members: a cycle by construction.
    #[error("{file}: stack '{stack}' depends on its own member '{member}', but members always come after their stack; move the dependency to the members that need it, or move '{member}' to another stack")]
    MemberDependency {
        /// Where the dependency was written.
        file: String,
        /// The stack.
        stack: String,
        /// Its member.
        member: String,
    },
    /// A stack without applications or resources.
    #[error(
        "{file}: stack '{stack}' is empty; give it at least one app or resource, or remove it"
    )]
    EmptyStack {
        /// The DAG file.
        file: String,
        /// The stack.
        stack: String,
    },
    /// A dependency cycle, in order, first node repeated at the end.
    #[error("{file}: dependency cycle {}; each node must be ready before the next (a stack before its members, a whole stack before what depends on it): remove one of these dependencies", .cycle.join(" → "))]
    Cycle {
        /// The DAG file.
        file: String,
        /// The nodes of the cycle, the first repeated last.
        cycle: Vec<String>,
    },
    /// A node placed on a cluster that is not this environment's.
    #[error("{file}: {node} is for cluster '{cluster}', but {expected}; multi-cluster execution is not supported yet: remove `cluster` or run it with that cluster's environment")]
    WrongCluster {
        /// The DAG file or overrides source.
        file: String,
        /// The node, described.
        node: String,
        /// The cluster it names.
        cluster: String,
        /// `this environment's clusterName is 'x'` or that it has none.
        expected: String,
    },
    /// A `name@cluster` dependency on another cluster.
    #[error("{file}: {node} depends on '{dependency}' on cluster '{cluster}', but {expected}; multi-cluster execution is not supported yet: depend on '{}' on this cluster instead", .dependency.split('@').next().unwrap_or_default())]
    DependencyCluster {
        /// Where the dependency was written.
        file: String,
        /// The dependent node, described.
        node: String,
        /// The dependency as written (`name@cluster`).
        dependency: String,
        /// The cluster it names.
        cluster: String,
        /// What this environment's cluster is.
        expected: String,
    },
    /// An override for a node that does not exist.
    #[error("{file}: overrides node '{node}', which is not in {dag}{hint}")]
    UnknownOverride {
        /// The overrides file or flag.
        file: String,
        /// The name.
        node: String,
        /// The DAG file.
        dag: String,
        /// `; did you mean 'x'?` or empty.
        hint: String,
    },
    /// A flag value that does not parse.
    #[error("invalid {flag} '{value}': {problem}")]
    BadFlag {
        /// The flag (and variable).
        flag: &'static str,
        /// What was given.
        value: String,
        /// What is wrong with it and how to write it, as a clause: `expected text or json`.
        problem: String,
    },
    /// A scope, or a `--stacks` entry, that names nothing in the DAG.
    #[error("{what} '{name}' names nothing in {dag}{hint}")]
    UnknownName {
        /// `--scope (TARGET_SCOPE) stack:` or `--stacks (DAG_STACKS)`.
        what: String,
        /// The name.
        name: String,
        /// The DAG file.
        dag: String,
        /// `; did you mean 'x'?`, or what the name is instead.
        hint: String,
    },
    /// A scope that lies outside the `--stacks` subset.
    #[error("--scope (TARGET_SCOPE) '{scope}' is outside --stacks (DAG_STACKS) {stacks}; add its stack '{stack}' to --stacks or drop --stacks")]
    OutsideSubset {
        /// The scope.
        scope: String,
        /// The subset, comma-separated.
        stacks: String,
        /// The stack of the scope.
        stack: String,
    },
}

/// Every problem found, in the order found. Never empty.
#[derive(Debug)]
pub struct DagErrors(pub Vec<DagError>);

impl std::error::Error for DagErrors {}

impl fmt::Display for DagErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl DagErrors {
    /// Every problem in one line, for a log line or the report: the problem
    /// itself when there is one, else `3 problems: a; b; c`.
    pub fn sentence(&self) -> String {
        let all: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        match all.as_slice() {
            [one] => one.clone(),
            many => format!("{} problems: {}", many.len(), many.join("; ")),
        }
    }
}

impl From<DagError> for DagErrors {
    fn from(e: DagError) -> Self {
        DagErrors(vec![e])
    }
}

impl DagErrors {
    /// `Ok(value)` when `errors` is empty, else all of them.
    pub fn check<T>(errors: Vec<DagError>, value: T) -> Result<T, DagErrors> {
        if errors.is_empty() {
            Ok(value)
        } else {
            Err(DagErrors(errors))
        }
    }
}

/// `; did you mean 'x'?` for the known name closest to `name`, or empty when
/// none is close enough to be a likely typo.
pub fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let limit = (name.chars().count() / 3).max(2);
    known
        .into_iter()
        .map(|k| (strsim::damerau_levenshtein(name, k), k))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| format!("; did you mean '{k}'?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_close_names_only() {
        let known = ["prometheus", "grafana", "loki"];
        assert_eq!(
            did_you_mean("promethues", known),
            "; did you mean 'prometheus'?"
        );
        assert_eq!(did_you_mean("grafna", known), "; did you mean 'grafana'?");
        assert_eq!(did_you_mean("vault", known), "");
    }

    #[test]
    fn all_errors_are_listed_one_per_line() {
        let errors = DagErrors(vec![
            DagError::NoStacks { file: "a".into() },
            DagError::EmptyStack {
                file: "a".into(),
                stack: "s".into(),
            },
        ]);
        assert_eq!(errors.to_string().lines().count(), 2);
    }
}
