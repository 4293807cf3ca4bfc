//! `executor dag validate` and `executor dag plan`: the real binary on DAG
//! files, no cluster. Invalid DAGs exit Invalid with every problem on stderr;
//! plans print waves and chains as text or JSON.

use std::path::Path;

use executor::exit::ExitCode;
use serde_json::Value;

use crate::common::cli::{example_dir, executor, ConfigDir, Output};

/// A config directory holding `dag` (its environment's clusterName is dev-1).
fn config(dag: &str) -> ConfigDir {
    ConfigDir::new("clusterName: dev-1\n", dag)
}

/// Runs `executor dag <args>` with a clean environment plus `env`.
fn run_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut all = vec!["dag"];
    all.extend_from_slice(args);
    executor(&all, env)
}

fn run(args: &[&str]) -> Output {
    run_env(args, &[])
}

/// `dag validate` on `config`, expecting Invalid and every needle on stderr.
#[track_caller]
fn assert_invalid(config: &ConfigDir, extra: &[&str], needles: &[&str]) -> Output {
    let dir = config.path().to_str().unwrap();
    let mut args = vec!["validate", "--config-dir", dir];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert_eq!(
        out.code,
        ExitCode::INVALID,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    for needle in needles {
        assert!(
            out.stderr.contains(needle),
            "stderr should contain {needle:?}:\n{}",
            out.stderr
        );
    }
    assert!(out.stdout.is_empty(), "nothing on stdout: {}", out.stdout);
    out
}

/// The plan of `dir` as JSON, with `extra` arguments.
fn plan_json(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["plan", "-o", "json", "--config-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert_eq!(out.code, ExitCode::SUCCESS, "{}", out.stderr);
    serde_json::from_str(&out.stdout).expect("plan -o json prints JSON")
}

/// The wave (from 0) of `name` in a JSON plan.
fn wave(plan: &Value, name: &str) -> usize {
    plan["waves"]
        .as_array()
        .unwrap()
        .iter()
        .position(|w| w.as_array().unwrap().iter().any(|n| n == name))
        .unwrap_or_else(|| panic!("{name} is in the plan"))
}

fn node<'a>(plan: &'a Value, name: &str) -> &'a Value {
    plan["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == name)
        .unwrap_or_else(|| panic!("{name} is in the plan"))
}

const CYCLE: &str = "stacks:\n- name: s\n  apps:\n  - {name: a, dependsOn: [c]}\n  - {name: b, dependsOn: [a]}\n  - {name: c, dependsOn: [b]}\n";

/// A cycle is rejected before anything runs, naming its nodes in order.
#[test]
fn a_cycle_is_reported_with_its_nodes_in_order() {
    let config = config(CYCLE);
    assert_invalid(
        &config,
        &[],
        &["dependency cycle a → b → c → a", "1 problem found"],
    );
    // plan validates too.
    let out = run(&["plan", "--config-dir", config.path().to_str().unwrap()]);
    assert_eq!(out.code, ExitCode::INVALID);
}

/// Every problem of the file is reported, not only the first.
#[test]
fn several_errors_are_reported_together() {
    let config = config(
        "stacks:\n- name: s\n  apps:\n  - {name: a, dependsOn: [a]}\n  - {name: b, dependsOn: [grafna]}\n  - {name: grafana}\n- name: empty\n- name: t\n  cluster: prod-2\n  apps: [{name: a}]\n",
    );
    let out = assert_invalid(
        &config,
        &[],
        &[
            "app 'a' in stack 's' depends on itself",
            "depends on 'grafna', which is not a node; did you mean 'grafana'?",
            "stack 'empty' is empty",
            "'a' is defined twice",
            "stack 't' is for cluster 'prod-2'",
            "5 problems found",
        ],
    );
    assert_eq!(
        out.stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .count(),
        5
    );
}

/// The single checks, one file each (table): message and fix.
#[test]
fn each_check_names_the_node_and_the_fix() {
    let cases: &[(&str, &[&str])] = &[
        (
            "stacks:\n- name: m\n  apps:\n  - {name: prometheus}\n  - {name: grafana, dependsOn: [promethus]}\n",
            &["dag.yaml: app 'grafana' in stack 'm' depends on 'promethus', which is not a node; did you mean 'prometheus'?"],
        ),
        (
            "stacks:\n- name: a\n  apps: [{name: vault}]\n- name: b\n  apps: [{name: vault}]\n",
            &["'vault' is defined twice, as app 'vault' in stack 'a' and as app 'vault' in stack 'b'", "rename one"],
        ),
        (
            "stacks:\n- name: s\n  apps: [{name: a, dependsOn: [a]}]\n",
            &["depends on itself; remove 'a' from its dependsOn"],
        ),
        (
            "stacks:\n- name: s\n  app: s-apps\n- name: t\n  apps: [{name: a}]\n",
            &["stack 's' is empty; give it at least one app or resource, or remove it"],
        ),
        (
            "stacks:\n- name: s\n  apps:\n  - {name: a}\n  - {name: b, dependsOn: [a@prod-2]}\n",
            &["depends on 'a@prod-2' on cluster 'prod-2', but this environment's clusterName is 'dev-1'; multi-cluster execution is not supported yet"],
        ),
    ];
    for (dag, needles) in cases {
        assert_invalid(&config(dag), &[], needles);
    }
}

/// A misspelt field is an error with its line and column.
#[test]
fn an_unknown_field_reports_line_and_column() {
    let config =
        config("stacks:\n  - name: s\n    apps:\n      - name: a\n        dependson: [b]\n");
    assert_invalid(
        &config,
        &[],
        &["unknown field `dependson`", "line 5 column 9", "dependsOn"],
    );
}

/// A scope or a --stacks entry that names nothing, with a suggestion.
#[test]
fn a_scope_that_names_nothing_is_invalid() {
    let dir = example_dir();
    let dir = dir.to_str().unwrap();
    let out = run(&[
        "validate",
        "--config-dir",
        dir,
        "--scope",
        "stack:monitorng",
    ]);
    assert_eq!(out.code, ExitCode::INVALID);
    assert!(
        out.stderr.contains("'monitorng' names nothing in"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean 'monitoring'?"),
        "{}",
        out.stderr
    );
    let out = run_env(
        &["validate", "--config-dir", dir],
        &[
            ("TARGET_SCOPE", "app:grafna"),
            ("DAG_STACKS", "monitoring,strage"),
        ],
    );
    assert_eq!(out.code, ExitCode::INVALID);
    assert!(
        out.stderr.contains("did you mean 'grafana'?"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("'strage' names nothing"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean 'storage'?"),
        "{}",
        out.stderr
    );
}

/// The shipped example validates and its plan keeps the platform's order.
#[test]
fn the_example_validates_and_plans_in_platform_order() {
    let dir = example_dir();
    let out = run(&["validate", "--config-dir", dir.to_str().unwrap()]);
    assert_eq!(out.code, ExitCode::SUCCESS, "{}", out.stderr);
    assert!(out.stdout.contains("is valid: "), "{}", out.stdout);

    let text = run(&["plan", "--config-dir", dir.to_str().unwrap()]);
    assert_eq!(text.code, ExitCode::SUCCESS, "{}", text.stderr);
    for needle in [
        "  wave 1 ",
        "critical path (",
        "longest chain (",
        "summed timeouts",
    ] {
        assert!(
            text.stdout.contains(needle),
            "{needle:?} in\n{}",
            text.stdout
        );
    }

    let plan = plan_json(&dir, &[]);
    let apps = plan["summary"]["apps"].as_u64().unwrap();
    assert!((35..=45).contains(&apps), "{apps} apps");
    for chain in [
        &[
            "metallb",
            "rook-ceph-operator",
            "ceph-crds",
            "rook-ceph-cluster",
            "ceph-storage-classes",
        ][..],
        &["ceph-storage-classes", "vault", "keycloak"],
        &[
            "ceph-storage-classes",
            "cloudnative-pg",
            "postgresql-clusters",
            "keycloak",
        ],
        &["postgresql-clusters", "harbor"],
        &["vault", "temporal"],
        &["postgresql-clusters", "temporal"],
        &["prometheus", "grafana"],
    ] {
        for pair in chain.windows(2) {
            assert!(
                wave(&plan, pair[0]) < wave(&plan, pair[1]),
                "{} before {}",
                pair[0],
                pair[1]
            );
        }
    }
    let critical: Vec<&str> = plan["criticalPath"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        critical.contains(&"metallb") && critical.contains(&"ceph-storage-classes"),
        "{critical:?}"
    );
    assert!(plan["criticalPathSeconds"].as_f64().unwrap() > 0.0);
    assert!(!plan["longestChain"].as_array().unwrap().is_empty());
}

/// An overrides file and flags change dependencies and timeouts without editing dag.yaml.
#[test]
fn overrides_file_and_flags_change_the_plan() {
    let config = config(
        "stacks:\n- name: m\n  apps:\n  - {name: prometheus}\n  - {name: loki}\n  - {name: grafana, dependsOn: [prometheus]}\n",
    );
    let before = plan_json(config.path(), &[]);
    assert_eq!(
        node(&before, "grafana")["dependsOn"],
        serde_json::json!(["m", "prometheus"])
    );
    assert_eq!(node(&before, "loki")["syncTimeoutSeconds"], 300.0);

    let file = config.write(
        "overrides.yaml",
        "nodes:\n  grafana:\n    dependsOn: [loki]\n  loki:\n    timeouts: {sync: 1m, health: 2m}\n",
    );
    let after = plan_json(config.path(), &["--dag-overrides", file.to_str().unwrap()]);
    assert_eq!(
        node(&after, "grafana")["dependsOn"],
        serde_json::json!(["m", "loki"])
    );
    assert_eq!(node(&after, "loki")["syncTimeoutSeconds"], 60.0);
    assert_eq!(node(&after, "loki")["healthTimeoutSeconds"], 120.0);

    // Flags win over the file.
    let flags = plan_json(
        config.path(),
        &[
            "--dag-overrides",
            file.to_str().unwrap(),
            "--set-depends",
            "grafana=prometheus,loki",
            "--set-timeout",
            "loki=health:30m",
        ],
    );
    assert_eq!(
        node(&flags, "grafana")["dependsOn"],
        serde_json::json!(["m", "loki", "prometheus"])
    );
    assert_eq!(node(&flags, "loki")["syncTimeoutSeconds"], 60.0);
    assert_eq!(node(&flags, "loki")["healthTimeoutSeconds"], 1800.0);

    // Overrides of unknown nodes, and bad flags, are invalid too.
    assert_invalid(
        &config,
        &["--set-timeout", "lokki=sync:1m", "--set-depends", "grafana"],
        &[
            "--set-timeout: overrides node 'lokki', which is not in",
            "did you mean 'loki'?",
            "invalid --set-depends 'grafana': expected",
        ],
    );
    let bad = config.write("bad.yaml", "nodes:\n  loki:\n    timeout: {sync: 1m}\n");
    assert_invalid(
        &config,
        &["--dag-overrides", bad.to_str().unwrap()],
        &["unknown field `timeout`", "line 3 column 5"],
    );
}

/// `--stacks` (or DAG_STACKS) restricts the plan to those stacks; what they
/// depend on outside is listed as assumed ready.
#[test]
fn a_stack_subset_plans_only_those_stacks() {
    let dir = example_dir();
    let plan = plan_json(&dir, &["--stacks", "storage,monitoring"]);
    let names: Vec<&str> = plan["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"ceph-storage-classes") && names.contains(&"grafana"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"vault") && !names.contains(&"metallb"),
        "{names:?}"
    );
    let assumed: Vec<&str> = plan["assumedReady"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        assumed.contains(&"metallb") && assumed.contains(&"infrastructure"),
        "{assumed:?}"
    );

    let out = run_env(
        &["plan", "-o", "json", "--config-dir", dir.to_str().unwrap()],
        &[("DAG_STACKS", "data")],
    );
    assert_eq!(out.code, ExitCode::SUCCESS, "{}", out.stderr);
    let plan: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(plan["summary"]["stacks"], 1);

    let scoped = plan_json(&dir, &["--scope", "stack:monitoring"]);
    assert_eq!(scoped["summary"]["stacks"], 1);
    assert_eq!(scoped["summary"]["apps"], 7);
}

/// Bad inputs of the subcommand itself.
#[test]
fn bad_dag_inputs_are_invalid() {
    let dir = example_dir();
    let dir = dir.to_str().unwrap();
    let out = run(&["plan", "--config-dir", dir, "-o", "yaml"]);
    assert_eq!(out.code, ExitCode::INVALID);
    assert!(
        out.stderr
            .contains("invalid -o (--output) 'yaml': expected text or json"),
        "{}",
        out.stderr
    );
    let out = run(&["validate", "--config-dir", dir, "--environment", "prod"]);
    assert_eq!(out.code, ExitCode::INVALID);
    assert!(
        out.stderr.contains("expected 'dev', the name in"),
        "{}",
        out.stderr
    );
    let empty = tempfile::tempdir().unwrap();
    let out = run(&["validate", "--config-dir", empty.path().to_str().unwrap()]);
    assert_eq!(out.code, ExitCode::INVALID);
    assert!(
        out.stderr.contains("failed to read") && out.stderr.contains("dag.yaml"),
        "{}",
        out.stderr
    );
}
