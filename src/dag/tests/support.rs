//! Helpers: build a DAG from YAML text in an environment whose clusterName is `dev-1`.

use std::path::Path;
use std::time::Duration;

use crate::dag::{BuildContext, Dag, DagErrors, DagSpec, Overrides};

/// Two stacks (one with an app-of-apps) and a third that depends on a stack
/// and on one member of another: the edges every ordering test needs.
pub const TWO_STACKS: &str = "
stacks:
  - name: infra
    app: platform-infra
    apps:
      - name: metallb
      - name: ingress
        dependsOn: [metallb]
  - name: storage
    dependsOn: [infra]
    apps:
      - name: ceph
  - name: apps
    apps:
      - name: web
        dependsOn: [storage, metallb]
";

/// The environment every unit test builds in.
pub const CTX: BuildContext<'static> = BuildContext {
    cluster_name: Some("dev-1"),
    default_sync: Duration::from_secs(300),
    default_health: Duration::from_secs(600),
    default_app_namespace: None,
};

/// Parses `yaml` as dag.yaml.
pub fn spec(yaml: &str) -> Result<DagSpec, DagErrors> {
    DagSpec::parse(yaml, Path::new("dag.yaml"))
}

/// Parses and builds with `overrides`.
pub fn build_with(yaml: &str, overrides: &Overrides) -> Result<Dag, DagErrors> {
    Dag::build(&spec(yaml)?, overrides, &CTX)
}

/// Parses and builds without overrides; panics on errors.
pub fn dag(yaml: &str) -> Dag {
    build_with(yaml, &Overrides::default()).unwrap_or_else(|e| panic!("valid DAG:\n{e}"))
}

/// Parses and builds; panics when it is valid; returns the messages.
pub fn errors(yaml: &str) -> Vec<String> {
    match build_with(yaml, &Overrides::default()) {
        Ok(_) => panic!("expected errors for:\n{yaml}"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

/// Names of a node's dependencies.
pub fn deps(dag: &Dag, name: &str) -> Vec<String> {
    let id = dag.find(name).unwrap_or_else(|| panic!("{name} is a node"));
    dag.dependencies(id)
        .iter()
        .map(|d| dag.node(*d).name.clone())
        .collect()
}

/// The example platform's dag.yaml.
pub fn example() -> DagSpec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/config/dag.yaml");
    crate::dag::load_spec(&path).expect("the example parses")
}
