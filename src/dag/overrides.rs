//! Overrides of dag.yaml without editing it: a second file (`--dag-overrides`)
//! and flags (`--set-depends`, `--set-timeout`, `--stacks`). Each override is
//! applied as if the main file had said it; the flags win over the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use serde::Deserialize;

use super::error::{DagError, DagErrors};
use super::spec::TimeoutsSpec;
use crate::vocabulary::duration;

/// Which stacks of dag.yaml to run, and overrides of its nodes, without editing
/// it. Shared by the actions and `executor dag`; checked by `crate::dag`.
#[derive(Debug, Args, Clone, Default)]
pub struct DagOptions {
    /// A file whose `nodes:` entries replace nodes' dependsOn or timeouts (and whose `stacks:` picks a subset).
    #[arg(long, env = "DAG_OVERRIDES", value_name = "FILE")]
    pub dag_overrides: Option<PathBuf>,
    /// Replace a node's timeouts: `<node>=sync:5m,health:10m` (either or both; repeatable).
    #[arg(long, value_name = "NODE=sync:DURATION,health:DURATION")]
    pub set_timeout: Vec<String>,
    /// Replace a node's dependencies: `<node>=a,b` (`<node>=` for none; repeatable).
    #[arg(long, value_name = "NODE=DEPENDENCY,...")]
    pub set_depends: Vec<String>,
    /// Run only these stacks, comma-separated (default: all).
    #[arg(long, env = "DAG_STACKS", value_name = "STACK,...")]
    pub stacks: Option<String>,
}

/// The overrides file: `nodes: { <name>: { dependsOn: [...], timeouts: {...} } }`
/// and an optional `stacks:` subset.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OverridesFile {
    /// Deploy only these stacks (`--stacks` wins).
    #[serde(default)]
    pub stacks: Option<Vec<String>>,
    /// Per-node replacements.
    #[serde(default)]
    pub nodes: BTreeMap<String, NodeOverrideSpec>,
}

/// One node's entry in the overrides file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeOverrideSpec {
    /// Replaces the node's `dependsOn` (an empty list removes them all).
    #[serde(default)]
    pub depends_on: Option<Vec<String>>,
    /// Replaces the node's timeouts, field by field.
    #[serde(default)]
    pub timeouts: Option<TimeoutsSpec>,
}

/// One override, from the file or a flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideEntry {
    /// Where it came from: the file's path, `--set-depends` or `--set-timeout`.
    pub origin: String,
    /// The node it applies to.
    pub node: String,
    /// Replacement dependencies.
    pub depends_on: Option<Vec<String>>,
    /// Replacement timeouts (set fields only).
    pub timeouts: TimeoutsSpec,
}

/// Every override of one run, in the order they apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Entries, file first, then flags in the order given; later ones win field by field.
    pub entries: Vec<OverrideEntry>,
    /// The stack subset; empty means every stack.
    pub stacks: Vec<String>,
}

/// A node's effective overrides, merged from every entry that names it.
#[derive(Debug, Clone, Default)]
pub(super) struct Merged<'a> {
    pub depends_on: Option<(&'a [String], &'a str)>,
    pub timeouts: TimeoutsSpec,
    pub timeout_origins: TimeoutOrigins<'a>,
}

/// Where each field of a node's `timeouts` came from: the override that set
/// it last, `None` when dag.yaml itself did (or nothing did).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct TimeoutOrigins<'a> {
    pub sync: Option<&'a str>,
    pub health: Option<&'a str>,
}

impl Overrides {
    /// Reads and parses an overrides file.
    pub fn from_file(path: &Path) -> Result<Overrides, DagErrors> {
        let text = std::fs::read_to_string(path).map_err(|source| DagError::Read {
            path: path.to_owned(),
            hint: "fix the path given to --dag-overrides (DAG_OVERRIDES)".to_owned(),
            source,
        })?;
        let file: OverridesFile = serde_yaml::from_str(&text).map_err(|e| DagError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let origin = path.display().to_string();
        Ok(Overrides {
            entries: file
                .nodes
                .into_iter()
                .map(|(node, o)| OverrideEntry {
                    origin: origin.clone(),
                    node,
                    depends_on: o.depends_on,
                    timeouts: o.timeouts.unwrap_or_default(),
                })
                .collect(),
            stacks: file.stacks.unwrap_or_default(),
        })
    }

    /// Everything the flags and the overrides file say, with every problem collected.
    pub fn from_options(options: &DagOptions) -> Result<Overrides, DagErrors> {
        let (overrides, errors) = Overrides::collect(options);
        DagErrors::check(errors, overrides)
    }

    /// What parses of the flags and the file, and the problems with the rest,
    /// so that a caller can go on validating and report everything at once.
    pub fn collect(options: &DagOptions) -> (Overrides, Vec<DagError>) {
        let mut errors = Vec::new();
        let mut overrides = match &options.dag_overrides {
            Some(path) => Overrides::from_file(path).unwrap_or_else(|e| {
                errors.extend(e.0);
                Overrides::default()
            }),
            None => Overrides::default(),
        };
        for text in &options.set_depends {
            match parse_set_depends(text) {
                Ok(entry) => overrides.entries.push(entry),
                Err(e) => errors.push(e),
            }
        }
        for text in &options.set_timeout {
            match parse_set_timeout(text) {
                Ok(entry) => overrides.entries.push(entry),
                Err(e) => errors.push(e),
            }
        }
        if let Some(text) = &options.stacks {
            overrides.stacks = split_list(text);
        }
        (overrides, errors)
    }

    /// The stack subset, empty for all stacks.
    pub fn stacks(&self) -> &[String] {
        &self.stacks
    }

    /// Merges the entries per node; later entries win field by field.
    pub(super) fn merged(&self) -> BTreeMap<&str, Merged<'_>> {
        let mut out: BTreeMap<&str, Merged<'_>> = BTreeMap::new();
        for e in &self.entries {
            let m = out.entry(e.node.as_str()).or_default();
            if let Some(deps) = &e.depends_on {
                m.depends_on = Some((deps, e.origin.as_str()));
            }
            m.timeouts = e.timeouts.or(m.timeouts);
            let origin = Some(e.origin.as_str());
            if e.timeouts.sync.is_some() {
                m.timeout_origins.sync = origin;
            }
            if e.timeouts.health.is_some() {
                m.timeout_origins.health = origin;
            }
        }
        out
    }

    /// Entries that name a node, with where they came from (for unknown-node errors).
    pub(super) fn named(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|e| (e.node.as_str(), e.origin.as_str()))
    }

    /// Overrides made of these entries, for tests.
    #[cfg(test)]
    pub(super) fn with(entries: Vec<OverrideEntry>) -> Overrides {
        Overrides {
            entries,
            stacks: vec![],
        }
    }
}

/// Splits `a, b,c` into names, dropping empty ones.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

const SET_DEPENDS: &str = "--set-depends";
const SET_TIMEOUT: &str = "--set-timeout";

/// `<node>=a,b,c`; `<node>=` removes every dependency.
fn parse_set_depends(text: &str) -> Result<OverrideEntry, DagError> {
    let Some((node, list)) = text.split_once('=').filter(|(n, _)| !n.trim().is_empty()) else {
        return Err(DagError::BadFlag {
            flag: SET_DEPENDS,
            value: text.to_owned(),
            problem: "expected <node>=<dependency>,<dependency>… such as grafana=prometheus,loki (or grafana= for none)".to_owned(),
        });
    };
    Ok(OverrideEntry {
        origin: SET_DEPENDS.to_owned(),
        node: node.trim().to_owned(),
        depends_on: Some(split_list(list)),
        timeouts: TimeoutsSpec::default(),
    })
}

/// `<node>=sync:5m,health:10m` (either or both).
fn parse_set_timeout(text: &str) -> Result<OverrideEntry, DagError> {
    let bad = |why: String| DagError::BadFlag {
        flag: SET_TIMEOUT,
        value: text.to_owned(),
        problem: format!("{why}; write it like vault=sync:5m,health:15m (either or both)"),
    };
    let Some((node, list)) = text.split_once('=').filter(|(n, _)| !n.trim().is_empty()) else {
        return Err(bad("the node name is missing".to_owned()));
    };
    let mut timeouts = TimeoutsSpec::default();
    for part in split_list(list) {
        let (key, value) = part
            .split_once(':')
            .ok_or_else(|| bad(format!("'{part}' has no ':'")))?;
        let d: Duration =
            duration::parse(value).map_err(|why| bad(format!("'{value}' is {why}")))?;
        match key.trim() {
            "sync" => timeouts.sync = Some(d),
            "health" => timeouts.health = Some(d),
            other => return Err(bad(format!("'{other}' is neither sync nor health"))),
        }
    }
    if timeouts.is_empty() {
        return Err(bad("no timeout is given".to_owned()));
    }
    Ok(OverrideEntry {
        origin: SET_TIMEOUT.to_owned(),
        node: node.trim().to_owned(),
        depends_on: None,
        timeouts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_flags_parse_as_documented() {
        let e = parse_set_depends("grafana=prometheus, loki").unwrap();
        assert_eq!(e.node, "grafana");
        assert_eq!(e.depends_on, Some(vec!["prometheus".into(), "loki".into()]));
        assert_eq!(
            parse_set_depends("grafana=").unwrap().depends_on,
            Some(vec![])
        );
        let t = parse_set_timeout("vault=sync:5m,health:1h").unwrap();
        assert_eq!(t.timeouts.sync, Some(Duration::from_secs(300)));
        assert_eq!(t.timeouts.health, Some(Duration::from_secs(3600)));
        let t = parse_set_timeout("vault=health:90s").unwrap();
        assert_eq!(t.timeouts.sync, None);
    }

    #[test]
    fn bad_flags_say_how_to_write_them() {
        for (text, needle) in [
            ("grafana", "<node>="),
            ("=a", "<node>="),
            ("vault=sync", "has no ':'"),
            ("vault=sync:soon", "not a duration"),
            ("vault=wait:5m", "neither sync nor health"),
            ("vault=", "no timeout"),
        ] {
            let err = if text.starts_with("vault") {
                parse_set_timeout(text).unwrap_err()
            } else {
                parse_set_depends(text).unwrap_err()
            };
            assert!(err.to_string().contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn later_entries_win_field_by_field() {
        let entry =
            |origin: &str, deps: Option<&[&str]>, sync: Option<u64>, health: Option<u64>| {
                OverrideEntry {
                    origin: origin.into(),
                    node: "vault".into(),
                    depends_on: deps.map(|d| d.iter().map(|s| s.to_string()).collect()),
                    timeouts: TimeoutsSpec {
                        sync: sync.map(Duration::from_secs),
                        health: health.map(Duration::from_secs),
                    },
                }
            };
        let o = Overrides::with(vec![
            entry("file", Some(&["a"]), Some(1), Some(2)),
            entry("--set-timeout", None, None, Some(3)),
        ]);
        let merged = o.merged();
        let m = &merged["vault"];
        assert_eq!(m.depends_on.unwrap().1, "file");
        assert_eq!(m.timeouts.sync, Some(Duration::from_secs(1)));
        assert_eq!(m.timeouts.health, Some(Duration::from_secs(3)));
    }
}
