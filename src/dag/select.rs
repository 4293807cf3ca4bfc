//! Narrowing a DAG to what one run touches: a scope (`platform`,
//! `stack:<name>`, `app:<name>`) and an optional stack subset (`--stacks`).
//! The result is the induced sub-DAG; dependencies left outside are assumed
//! ready, as a single-app run assumes its dependencies are.

use super::build::BuildContext;
use super::error::{did_you_mean, DagError, DagErrors};
use super::graph::{Dag, NodeId, NodeKind, Proto};
use super::overrides::Overrides;
use super::spec::{DagSpec, SpecNames};
use crate::vocabulary::Scope;

const SCOPE: &str = "--scope (TARGET_SCOPE)";
const STACKS: &str = "--stacks (DAG_STACKS)";

impl Dag {
    /// Builds and selects in one go, reporting build and scope errors
    /// together: the run's whole validation. The stack subset comes from
    /// `overrides.stacks`.
    pub fn build_scoped(
        spec: &DagSpec,
        overrides: &Overrides,
        ctx: &BuildContext,
        scope: &Scope,
    ) -> Result<Dag, DagErrors> {
        match Dag::build(spec, overrides, ctx) {
            Ok(dag) => dag.select(scope, overrides.stacks()),
            Err(mut errors) => {
                errors
                    .0
                    .extend(unknown_names(spec, scope, overrides.stacks()));
                Err(errors)
            }
        }
    }

    /// The sub-DAG for `scope`, within the stacks named in `stacks` (all when empty):
    /// `platform` is every node of those stacks; `stack:<name>` the stack and its
    /// members; `app:<name>` that one node (an app, a resource, or a stack's
    /// app-of-apps), without its dependencies.
    pub fn select(&self, scope: &Scope, stacks: &[String]) -> Result<Dag, DagErrors> {
        let mut errors = Vec::new();
        let file = self.source.display().to_string();
        let stack_names = || {
            self.nodes
                .iter()
                .filter(|n| matches!(n.kind, NodeKind::Stack { .. }))
                .map(|n| n.name.as_str())
        };
        let mut subset: Vec<NodeId> = Vec::new();
        for name in stacks {
            match self.find(name) {
                Some(id) if matches!(self.node(id).kind, NodeKind::Stack { .. }) => subset.push(id),
                found => errors.push(DagError::UnknownName {
                    what: format!("{STACKS} entry"),
                    name: name.clone(),
                    dag: file.clone(),
                    hint: match found {
                        Some(id) => format!(
                            "; it is {} of stack '{}', not a stack",
                            a_kind(self.node(id).kind_name()),
                            self.node(id).stack_name.as_deref().unwrap_or("?")
                        ),
                        None => did_you_mean(name, stack_names()),
                    },
                }),
            }
        }
        let in_subset = |stack: NodeId| subset.is_empty() || subset.contains(&stack);
        let mut keep = vec![false; self.len()];
        let check_subset = |stack: NodeId, errors: &mut Vec<DagError>| {
            if !in_subset(stack) {
                errors.push(DagError::OutsideSubset {
                    scope: scope.to_string(),
                    stacks: stacks.join(","),
                    stack: self.node(stack).name.clone(),
                });
            }
        };
        match scope {
            Scope::Platform => {
                for id in self.ids() {
                    let stack = self.node(id).stack.unwrap_or(id);
                    keep[id.0] = in_subset(stack);
                }
            }
            Scope::Stack(name) => match self.find(name) {
                Some(id) if matches!(self.node(id).kind, NodeKind::Stack { .. }) => {
                    check_subset(id, &mut errors);
                    keep[id.0] = true;
                    for m in self.members(id) {
                        keep[m.0] = true;
                    }
                }
                found => errors.push(DagError::UnknownName {
                    what: format!("{SCOPE} stack:"),
                    name: name.clone(),
                    dag: file.clone(),
                    hint: match found {
                        Some(id) => {
                            format!(
                                "; it is {}: use app:{name}",
                                a_kind(self.node(id).kind_name())
                            )
                        }
                        None => did_you_mean(name, stack_names()),
                    },
                }),
            },
            Scope::App(name) => {
                let by_app_of_apps = || {
                    self.nodes
                        .iter()
                        .find(|n| matches!(&n.kind, NodeKind::Stack { app: Some(a) } if a == name))
                        .map(|n| n.id)
                };
                match self.find(name) {
                    Some(id) if matches!(self.node(id).kind, NodeKind::Stack { .. }) => errors
                        .push(DagError::UnknownName {
                            what: format!("{SCOPE} app:"),
                            name: name.clone(),
                            dag: file.clone(),
                            hint: format!("; it is a stack: use stack:{name}"),
                        }),
                    Some(id) if matches!(self.node(id).kind, NodeKind::Resource(_)) => errors
                        .push(DagError::UnknownName {
                            what: format!("{SCOPE} app:"),
                            name: name.clone(),
                            dag: file.clone(),
                            hint: format!(
                                "; it is a resource of stack '{stack}', checked but never synced: use stack:{stack}",
                                stack = self.node(id).stack_name.as_deref().unwrap_or("?")
                            ),
                        }),
                    Some(id) => {
                        check_subset(self.node(id).stack.unwrap_or(id), &mut errors);
                        keep[id.0] = true;
                    }
                    None => match by_app_of_apps() {
                        Some(id) => {
                            check_subset(id, &mut errors);
                            keep[id.0] = true;
                        }
                        None => errors.push(DagError::UnknownName {
                            what: format!("{SCOPE} app:"),
                            name: name.clone(),
                            dag: file.clone(),
                            hint: did_you_mean(
                                name,
                                self.nodes
                                    .iter()
                                    .filter_map(|n| n.application().or(Some(&n.name))),
                            ),
                        }),
                    },
                }
            }
        }
        DagErrors::check(errors, ())?;
        Ok(self.induced(&keep))
    }

    /// The sub-DAG of the kept nodes, renumbered; dependencies that were
    /// dropped are remembered as assumed ready.
    fn induced(&self, keep: &[bool]) -> Dag {
        let mut new_index = vec![usize::MAX; self.len()];
        let mut protos = Vec::new();
        for id in self.ids().filter(|id| keep[id.0]) {
            new_index[id.0] = protos.len();
            let node = self.node(id);
            let mut assumed_ready = self.assumed_ready[id.0].clone();
            assumed_ready.extend(
                self.dependencies(id)
                    .iter()
                    .filter(|d| !keep[d.0])
                    .map(|d| self.node(*d).name.clone()),
            );
            protos.push(Proto {
                node: node.clone(),
                stack: None,
                dependencies: Vec::new(),
                assumed_ready,
            });
        }
        for id in self.ids().filter(|id| keep[id.0]) {
            let p = &mut protos[new_index[id.0]];
            p.stack = self
                .node(id)
                .stack
                .filter(|s| keep[s.0])
                .map(|s| new_index[s.0]);
            p.dependencies = self
                .dependencies(id)
                .iter()
                .filter(|d| keep[d.0])
                .map(|d| new_index[d.0])
                .collect();
        }
        Dag::assemble(protos, self.source.clone())
    }
}

/// `an app`, `a resource`.
fn a_kind(kind: &str) -> String {
    match kind {
        "app" => "an app".to_owned(),
        other => format!("a {other}"),
    }
}

/// Scope and subset names that name nothing in the file at all, for when the
/// DAG itself is invalid and cannot be selected from.
fn unknown_names(spec: &DagSpec, scope: &Scope, stacks: &[String]) -> Vec<DagError> {
    let names = SpecNames::of(spec);
    let file = spec.file();
    let mut errors = Vec::new();
    for name in stacks {
        if !names.stacks.contains(&name.as_str()) {
            errors.push(DagError::UnknownName {
                what: format!("{STACKS} entry"),
                name: name.clone(),
                dag: file.clone(),
                hint: did_you_mean(name, names.stacks.iter().copied()),
            });
        }
    }
    let (what, name, known) = match scope {
        Scope::Platform => return errors,
        Scope::Stack(name) => ("stack:", name, &names.stacks),
        Scope::App(name) => ("app:", name, &names.apps),
    };
    if !known.contains(&name.as_str()) {
        errors.push(DagError::UnknownName {
            what: format!("{SCOPE} {what}"),
            name: name.clone(),
            dag: file,
            hint: did_you_mean(name, known.iter().copied()),
        });
    }
    errors
}
