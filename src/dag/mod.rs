//! The DAG of stacks, applications and resources: the `dag.yaml` file and its
//! overrides (`spec`, `overrides`), validation into a [`Dag`] (`build`),
//! selection by scope (`select`), planning (`plan`), the `executor dag`
//! subcommands (`cli`), rendering as an Argo Workflow (`render`), and the
//! scheduler (`schedule`).

mod build;

mod error;
mod graph;
mod overrides;
mod plan;
pub mod random;
pub mod render;
pub mod schedule;
mod select;
mod spec;

pub use build::BuildContext;
pub use error::{did_you_mean, DagError, DagErrors};
pub use graph::{default_condition, Dag, Node, NodeId, NodeKind, ResourceSpec};
pub use overrides::{
    split_list, DagOptions, NodeOverrideSpec, OverrideEntry, Overrides, OverridesFile,
};
pub use plan::{plan, render_text, Plan, PlanSummary, PlannedNode};
pub use random::{random_dag, random_dag_with, RandomShape, XorShift};
pub use spec::{
    load_spec, AppSpec, DagSpec, Defaults, ResourceNodeSpec, SimOutcomeSpec, SimulationSpec,
    StackSpec, TimeoutsSpec,
};

#[cfg(test)]
pub(crate) mod tests;
