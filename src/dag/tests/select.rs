//! Scopes and stack subsets: what each selects, and the errors for names
//! that select nothing.

use super::support::{dag, spec, CTX};
use crate::dag::{Dag, Overrides};
use crate::vocabulary::Scope;

const PLATFORM: &str = "
stacks:
  - name: infra
    app: platform-infra
    apps: [{name: metallb}, {name: cert-manager}]
  - name: storage
    dependsOn: [infra]
    apps: [{name: ceph}, {name: classes, dependsOn: [ceph]}]
  - name: monitoring
    apps: [{name: prometheus, dependsOn: [classes]}, {name: grafana, dependsOn: [prometheus]}]
";

fn names(d: &Dag) -> Vec<&str> {
    let mut v: Vec<&str> = d.nodes().iter().map(|n| n.name.as_str()).collect();
    v.sort();
    v
}

fn select(scope: &str, stacks: &[&str]) -> Result<Dag, String> {
    let stacks: Vec<String> = stacks.iter().map(|s| s.to_string()).collect();
    dag(PLATFORM)
        .select(&Scope::parse(scope).unwrap(), &stacks)
        .map_err(|e| e.to_string())
}

#[test]
fn scopes_select_the_induced_subgraph() {
    assert_eq!(select("platform", &[]).unwrap().len(), 9);
    let s = select("stack:storage", &[]).unwrap();
    assert_eq!(names(&s), ["ceph", "classes", "storage"]);
    let storage = s.find("storage").unwrap();
    assert!(s.dependencies(storage).is_empty(), "infra is outside");
    assert_eq!(
        s.assumed_ready(storage),
        ["infra", "cert-manager", "metallb"]
    );
    assert_eq!(s.members(storage).len(), 2);
    let ceph = s.node(s.find("ceph").unwrap());
    assert_eq!(ceph.stack, Some(storage));
    let a = select("app:grafana", &[]).unwrap();
    assert_eq!(names(&a), ["grafana"]);
    let g = a.node(a.find("grafana").unwrap());
    assert_eq!(g.stack, None, "its stack is not selected");
    assert_eq!(g.stack_name.as_deref(), Some("monitoring"));
    assert_eq!(a.assumed_ready(g.id), ["monitoring", "prometheus"]);
    // app:<app-of-apps> selects the stack node alone.
    assert_eq!(
        names(&select("app:platform-infra", &[]).unwrap()),
        ["infra"]
    );
}

#[test]
fn a_stack_subset_restricts_every_scope() {
    let p = select("platform", &["infra", "monitoring"]).unwrap();
    assert_eq!(
        names(&p),
        [
            "cert-manager",
            "grafana",
            "infra",
            "metallb",
            "monitoring",
            "prometheus"
        ]
    );
    let prometheus = p.find("prometheus").unwrap();
    assert_eq!(p.assumed_ready(prometheus), ["classes"]);
    assert!(select("stack:infra", &["infra"]).is_ok());
    let err = select("stack:storage", &["infra"]).unwrap_err();
    assert!(
        err.contains("'stack:storage' is outside --stacks (DAG_STACKS) infra"),
        "{err}"
    );
    let err = select("app:grafana", &["infra"]).unwrap_err();
    assert!(err.contains("add its stack 'monitoring'"), "{err}");
}

/// (scope, --stacks, message).
const NOTHING: &[(&str, &[&str], &str)] = &[
    (
        "stack:storag",
        &[],
        "--scope (TARGET_SCOPE) stack: 'storag' names nothing in dag.yaml; did you mean 'storage'?",
    ),
    (
        "stack:grafana",
        &[],
        "'grafana' names nothing in dag.yaml; it is an app: use app:grafana",
    ),
    (
        "app:grafna",
        &[],
        "--scope (TARGET_SCOPE) app: 'grafna' names nothing in dag.yaml; did you mean 'grafana'?",
    ),
    ("app:storage", &[], "it is a stack: use stack:storage"),
    ("app:vault", &[], "'vault' names nothing in dag.yaml"),
    (
        "platform",
        &["infa"],
        "--stacks (DAG_STACKS) entry 'infa' names nothing in dag.yaml; did you mean 'infra'?",
    ),
    (
        "platform",
        &["ceph"],
        "it is an app of stack 'storage', not a stack",
    ),
];

#[test]
fn a_scope_that_names_nothing_is_an_error_with_a_suggestion() {
    for (scope, stacks, needle) in NOTHING {
        let err = select(scope, stacks).unwrap_err();
        assert!(err.contains(needle), "{scope} {stacks:?}: {err}");
    }
}

/// An invalid DAG and a bad scope are reported together.
#[test]
fn build_and_scope_errors_come_together() {
    let yaml = format!("{PLATFORM}  - name: broken\n    apps: [{{name: x, dependsOn: [y]}}]\n");
    let overrides = Overrides {
        stacks: vec!["infa".into()],
        ..Overrides::default()
    };
    let err = Dag::build_scoped(
        &spec(&yaml).unwrap(),
        &overrides,
        &CTX,
        &Scope::App("grafna".into()),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("'y', which is not a node"), "{err}");
    assert!(err.contains("'infa' names nothing"), "{err}");
    assert!(err.contains("'grafna' names nothing"), "{err}");
}
