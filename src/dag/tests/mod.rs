//! Unit tests of the DAG file, its validation, selection and planning.

mod plan;
mod select;
mod semantics;
pub(crate) mod support;
mod validation;
