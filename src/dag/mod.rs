//! The DAG of stacks, applications and resources: scheduling (more to come).

pub mod schedule;
