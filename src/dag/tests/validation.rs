//! Every kind of invalid DAG, one table row each: the message names the file,
//! the node, and how to fix it; several problems are reported together.

use super::support::{build_with, errors, spec};
use crate::dag::OverrideEntry;
use crate::dag::{Overrides, TimeoutsSpec};

/// (scenario, dag.yaml, text every message must contain, in one of the errors).
const CASES: &[(&str, &str, &[&str])] = &[
    (
        "a cycle is reported with every node, in order",
        "stacks:\n- name: s\n  apps:\n  - {name: a, dependsOn: [c]}\n  - {name: b, dependsOn: [a]}\n  - {name: c, dependsOn: [b]}\n",
        &["dag.yaml: dependency cycle a → b → c → a", "remove one of these dependencies"],
    ),
    (
        "a cycle through whole-stack dependencies names the stack",
        "stacks:\n- name: x\n  dependsOn: [y]\n  apps: [{name: a}]\n- name: y\n  apps: [{name: b, dependsOn: [a]}]\n",
        &["dependency cycle a → b → x → a"],
    ),
    (
        "an unknown dependency suggests the closest name",
        "stacks:\n- name: monitoring\n  apps:\n  - {name: prometheus}\n  - {name: grafana, dependsOn: [promethues]}\n",
        &["app 'grafana' in stack 'monitoring' depends on 'promethues', which is not a node; did you mean 'prometheus'?"],
    ),
    (
        "a dependency on an app-of-apps points at its stack",
        "stacks:\n- name: data\n  app: platform-data\n  apps: [{name: pg}]\n- name: s\n  apps: [{name: a, dependsOn: [platform-data]}]\n",
        &["it is the app-of-apps of stack 'data': depend on 'data'"],
    ),
    (
        "a duplicate name names both definitions",
        "stacks:\n- name: s1\n  apps: [{name: vault}]\n- name: s2\n  apps: [{name: vault}]\n",
        &["'vault' is defined twice, as app 'vault' in stack 's1' and as app 'vault' in stack 's2'"],
    ),
    (
        "a stack and an app share one namespace",
        "stacks:\n- name: data\n  apps: [{name: data}]\n",
        &["'data' is defined twice, as stack 'data' and as app 'data' in stack 'data'"],
    ),
    (
        "two stacks cannot deploy one app-of-apps",
        "stacks:\n- name: a\n  app: root\n  apps: [{name: x}]\n- name: b\n  app: root\n  apps: [{name: y}]\n",
        &["'root' is defined twice", "Argo CD Application names must be unique"],
    ),
    (
        "an app-of-apps cannot also be an app node",
        "stacks:\n- name: a\n  app: x\n  apps: [{name: x}]\n",
        &["as app 'x' in stack 'a' and as the app-of-apps of stack 'a'"],
    ),
    (
        "a self-dependency",
        "stacks:\n- name: s\n  apps: [{name: a, dependsOn: [a]}]\n",
        &["app 'a' in stack 's' depends on itself; remove 'a' from its dependsOn"],
    ),
    (
        "a stack depending on itself",
        "stacks:\n- name: s\n  dependsOn: [s]\n  apps: [{name: a}]\n",
        &["stack 's' depends on itself"],
    ),
    (
        "a member naming its own stack is already implied",
        "stacks:\n- name: s\n  apps: [{name: a, dependsOn: [s]}]\n",
        &["depends on its own stack 's', which is already implied"],
    ),
    (
        "a stack depending on its own member",
        "stacks:\n- name: s\n  dependsOn: [a]\n  apps: [{name: a}]\n",
        &["stack 's' depends on its own member 'a'"],
    ),
    (
        "an empty stack",
        "stacks:\n- name: s\n  app: s-apps\n- name: t\n  apps: [{name: a}]\n",
        &["stack 's' is empty; give it at least one app or resource"],
    ),
    (
        "no stacks at all",
        "defaults: {timeouts: {sync: 1m}}\n",
        &["no stacks are defined"],
    ),
    (
        "a node on another cluster",
        "stacks:\n- name: s\n  cluster: prod-2\n  apps: [{name: a}]\n",
        &["stack 's' is for cluster 'prod-2', but this environment's clusterName is 'dev-1'; multi-cluster execution is not supported yet"],
    ),
    (
        "a dependency on another cluster",
        "stacks:\n- name: s\n  apps:\n  - {name: a}\n  - {name: b, dependsOn: [a@prod-2]}\n",
        &["app 'b' in stack 's' depends on 'a@prod-2' on cluster 'prod-2'", "multi-cluster execution is not supported yet"],
    ),
    (
        "a malformed dependency",
        "stacks:\n- name: s\n  apps:\n  - {name: a}\n  - {name: b, dependsOn: [a@x@y, '@dev-1']}\n",
        &["has dependency 'a@x@y': write a node name, or name@cluster", "has dependency '@dev-1'"],
    ),
    (
        "a name Kubernetes would reject",
        "stacks:\n- name: s\n  apps: [{name: Grafana}]\n",
        &["app 'Grafana' in stack 's' is not a valid name"],
    ),
    (
        "an app namespace that is not a DNS-1123 label",
        "stacks:\n- name: s\n  apps: [{name: a, namespace: Team_A}]\n",
        &["dag.yaml: app 'a' in stack 's' has namespace 'Team_A', which is not a valid namespace", "at most 63 characters"],
    ),
    (
        "an app-of-apps namespace with a dot (a subdomain, not a label)",
        "stacks:\n- name: s\n  app: s-apps\n  namespace: team.a\n  apps: [{name: a}]\n",
        &["dag.yaml: stack 's' has namespace 'team.a', which is not a valid namespace"],
    ),
    (
        "a namespace on a stack without an app-of-apps places nothing",
        "stacks:\n- name: s\n  namespace: team-a\n  apps: [{name: a}]\n",
        &["dag.yaml: stack 's' sets namespace but has no app-of-apps", "set `namespace` on each app instead"],
    ),
];

#[test]
fn each_invalid_dag_is_reported_with_its_fix() {
    for (scenario, yaml, needles) in CASES {
        let messages = errors(yaml);
        for needle in *needles {
            assert!(
                messages.iter().any(|m| m.contains(needle)),
                "{scenario}: no message contains {needle:?}:\n{}",
                messages.join("\n")
            );
        }
    }
}

/// Several problems in one file: all reported, not only the first.
#[test]
fn every_problem_is_reported_together() {
    let yaml = "stacks:\n- name: s\n  apps:\n  - {name: a, dependsOn: [a]}\n  - {name: b, dependsOn: [nope]}\n  - {name: c, dependsOn: [d]}\n  - {name: d, dependsOn: [c]}\n- name: empty\n- name: s\n  apps: [{name: e}]\n";
    let messages = errors(yaml);
    for needle in [
        "depends on itself",
        "'nope', which is not a node",
        "dependency cycle c → d → c",
        "stack 'empty' is empty",
        "'s' is defined twice",
    ] {
        assert!(
            messages.iter().any(|m| m.contains(needle)),
            "missing {needle:?} in:\n{}",
            messages.join("\n")
        );
    }
    assert_eq!(messages.len(), 5, "{}", messages.join("\n"));
}

/// Namespace problems are collected with the others, one message each.
#[test]
fn namespace_problems_are_reported_together() {
    let long = "n".repeat(64);
    let yaml = format!(
        "stacks:\n- name: s\n  apps:\n  - {{name: a, namespace: -a}}\n  - {{name: b, namespace: {long}}}\n  - {{name: c, dependsOn: [nope]}}\n"
    );
    let messages = errors(&yaml);
    assert_eq!(messages.len(), 3, "{}", messages.join("\n"));
    assert!(messages[0].contains("app 'a' in stack 's' has namespace '-a'"));
    assert!(messages[1].contains(&format!("app 'b' in stack 's' has namespace '{long}'")));
}

/// An unknown field is a parse error with its line and column.
#[test]
fn unknown_fields_name_line_and_column() {
    let yaml = "stacks:\n- name: s\n  apps:\n  - name: a\n    depends_on: [b]\n";
    let err = spec(yaml).unwrap_err().to_string();
    assert!(err.contains("unknown field `depends_on`"), "{err}");
    assert!(err.contains("line 5 column 5"), "{err}");
    let err = spec("stacks:\n- name: s\n  apps: [{name: a, timeouts: {sync: soon}}]\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("'soon' is not a duration"), "{err}");
}

/// A node's timeout past the bound is rejected where it is written: no deadline
/// computed from it can overflow.
#[test]
fn a_timeout_too_long_is_a_parse_error() {
    let err = spec("stacks:\n- name: s\n  apps: [{name: a, timeouts: {health: 500000000000y}}]\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'500000000000y' is too long; the most is 7d"),
        "{err}"
    );
    assert!(err.contains("line 3"), "{err}");
}

/// Overrides naming unknown nodes, and dependencies they add, are checked like the file.
#[test]
fn overrides_are_validated_and_name_their_origin() {
    let yaml = "stacks:\n- name: s\n  apps:\n  - {name: vault}\n  - {name: keycloak}\n";
    let overrides = Overrides::with(vec![
        OverrideEntry {
            origin: "--set-timeout".into(),
            node: "vaul".into(),
            depends_on: None,
            timeouts: TimeoutsSpec::default(),
        },
        OverrideEntry {
            origin: "overrides.yaml".into(),
            node: "keycloak".into(),
            depends_on: Some(vec!["vaut".into()]),
            timeouts: TimeoutsSpec::default(),
        },
    ]);
    let messages: Vec<String> = build_with(yaml, &overrides)
        .unwrap_err()
        .0
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        messages.iter().any(|m| m.starts_with(
            "--set-timeout: overrides node 'vaul', which is not in dag.yaml; did you mean 'vault'?"
        )),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.starts_with(
            "overrides.yaml: app 'keycloak' in stack 's' depends on 'vaut', which is not a node; did you mean 'vault'?"
        )),
        "{messages:?}"
    );
}
