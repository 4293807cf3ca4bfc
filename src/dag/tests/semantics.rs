//! What a valid file means: edges, timeouts, clusters, resources, simulation,
//! overrides, ids, and the YAML round trip of generated DAGs.

use std::time::Duration;

use super::support::{build_with, dag, deps, spec, CTX, TWO_STACKS};
use crate::dag::{
    random_dag, Dag, DagSpec, NodeKind, OverrideEntry, Overrides, SimOutcomeSpec, TimeoutsSpec,
};
use crate::deadline::DeadlineSource;

#[test]
fn members_follow_their_stack_and_a_stack_dependency_means_the_whole_stack() {
    let d = dag(TWO_STACKS);
    assert_eq!(deps(&d, "metallb"), ["infra"]);
    assert_eq!(deps(&d, "ingress"), ["infra", "metallb"]);
    assert_eq!(deps(&d, "storage"), ["infra", "metallb", "ingress"]);
    assert_eq!(deps(&d, "ceph"), ["storage"]);
    // On stack storage: its node and every member; on metallb: that app only.
    assert_eq!(deps(&d, "web"), ["apps", "metallb", "storage", "ceph"]);
    let infra = d.find("infra").unwrap();
    let members: Vec<_> = d.members(infra).iter().map(|m| &d.node(*m).name).collect();
    assert_eq!(members, ["metallb", "ingress"]);
    assert_eq!(d.node(infra).application(), Some("platform-infra"));
    assert_eq!(d.node(d.find("storage").unwrap()).application(), None);
}

#[test]
fn ids_are_topological_by_wave_then_name_and_adjacency_is_sorted_both_ways() {
    let d = dag(TWO_STACKS);
    let names: Vec<&str> = d.ids().map(|id| d.node(id).name.as_str()).collect();
    assert_eq!(
        names,
        ["apps", "infra", "metallb", "ingress", "storage", "ceph", "web"]
    );
    assert_eq!(d.topo_order(), d.ids().collect::<Vec<_>>());
    for id in d.ids() {
        assert_eq!(d.node(id).id, id);
        assert!(d.dependencies(id).windows(2).all(|w| w[0] < w[1]));
        assert!(d.dependents(id).windows(2).all(|w| w[0] < w[1]));
        for &dep in d.dependencies(id) {
            assert!(dep < id, "dependencies come first");
            assert!(d.dependents(dep).contains(&id));
        }
    }
    assert_eq!(d.dependency_indices()[6], vec![0, 2, 4, 5]);
}

#[test]
fn timeouts_come_from_node_then_stack_then_defaults_then_environment() {
    let yaml = "
defaults:
  timeouts: {sync: 2m}
stacks:
  - name: s
    timeouts: {health: 20m}
    apps:
      - name: plain
      - name: own
        timeouts: {sync: 7m, health: 1h}
  - name: t
    apps:
      - name: bare
";
    let d = dag(yaml);
    let t = |name: &str| {
        let n = d.node(d.find(name).unwrap());
        (n.sync_timeout.as_secs(), n.health_timeout.as_secs())
    };
    assert_eq!(t("s"), (120, 1200));
    assert_eq!(t("plain"), (120, 1200));
    assert_eq!(t("own"), (420, 3600));
    assert_eq!(t("bare"), (120, CTX.default_health.as_secs()));
    // Each value says where it came from, for a Timeout's message.
    let sources = |name: &str| {
        let n = d.node(d.find(name).unwrap());
        (n.sync_source.clone(), n.health_source.clone())
    };
    let node = |n: &str| DeadlineSource::DagNode(n.into());
    let stack = |n: &str| DeadlineSource::DagStack(n.into());
    let cases = [
        ("s", (DeadlineSource::DagDefaults, node("s"))),
        ("plain", (DeadlineSource::DagDefaults, stack("s"))),
        ("own", (node("own"), node("own"))),
        (
            "bare",
            (DeadlineSource::DagDefaults, DeadlineSource::Environment),
        ),
    ];
    for (name, want) in cases {
        assert_eq!(sources(name), want, "{name}");
    }
}

#[test]
fn overrides_replace_dependencies_and_timeouts_as_if_the_file_said_so() {
    let overrides = Overrides::with(vec![
        OverrideEntry {
            origin: "overrides.yaml".into(),
            node: "web".into(),
            depends_on: Some(vec!["ingress".into()]),
            timeouts: TimeoutsSpec::default(),
        },
        OverrideEntry {
            origin: "--set-timeout".into(),
            node: "infra".into(),
            depends_on: None,
            timeouts: TimeoutsSpec {
                sync: Some(Duration::from_secs(30)),
                health: None,
            },
        },
        OverrideEntry {
            origin: "--set-depends".into(),
            node: "ingress".into(),
            depends_on: Some(vec![]),
            timeouts: TimeoutsSpec::default(),
        },
    ]);
    let d = build_with(TWO_STACKS, &overrides).unwrap();
    assert_eq!(deps(&d, "web"), ["apps", "ingress"]);
    assert_eq!(deps(&d, "ingress"), ["infra"]);
    // A stack's overridden timeout flows to members that set none.
    let metallb = d.node(d.find("metallb").unwrap());
    assert_eq!(metallb.sync_timeout, Duration::from_secs(30));
    assert_eq!(metallb.health_timeout, CTX.default_health);
    assert_eq!(
        metallb.sync_source,
        DeadlineSource::Override {
            origin: "--set-timeout".into(),
            node: "infra".into()
        },
        "the override is named, on the stack it was given for"
    );
    assert_eq!(metallb.health_source, DeadlineSource::Environment);
}

#[test]
fn clusters_of_this_environment_are_accepted_and_inherited() {
    let yaml = "stacks:\n- name: s\n  cluster: dev-1\n  apps:\n  - {name: a}\n  - {name: b, dependsOn: [a@dev-1]}\n";
    let d = dag(yaml);
    assert_eq!(
        d.node(d.find("a").unwrap()).cluster.as_deref(),
        Some("dev-1")
    );
    assert_eq!(deps(&d, "b"), ["s", "a"]);
    // Without a clusterName, any cluster is one the executor cannot check.
    let ctx = crate::dag::BuildContext {
        cluster_name: None,
        ..CTX
    };
    let err = Dag::build(&spec(yaml).unwrap(), &Overrides::default(), &ctx).unwrap_err();
    assert!(
        err.to_string()
            .contains("this environment has no clusterName"),
        "{err}"
    );
}

/// An app's namespace is its own, else environment.yaml's; a stack's is only
/// its app-of-apps', so members do not inherit it; resources have none.
#[test]
fn app_namespaces_come_from_the_node_else_the_environment() {
    let yaml = "
stacks:
  - name: team
    app: team-apps
    namespace: team-root
    apps:
      - {name: own, namespace: team-a}
      - {name: plain}
    resources:
      - {name: ns, apiVersion: v1, kind: Namespace}
  - name: group
    apps: [{name: other}]
";
    let namespace = |d: &Dag, name: &str| d.node(d.find(name).unwrap()).app_namespace.clone();
    let d = dag(yaml);
    assert_eq!(namespace(&d, "team").as_deref(), Some("team-root"));
    assert_eq!(namespace(&d, "own").as_deref(), Some("team-a"));
    assert_eq!(namespace(&d, "plain"), None, "not the stack's");
    assert_eq!(namespace(&d, "ns"), None);
    let ctx = crate::dag::BuildContext {
        default_app_namespace: Some("apps"),
        ..CTX
    };
    let d = Dag::build(&spec(yaml).unwrap(), &Overrides::default(), &ctx).unwrap();
    assert_eq!(namespace(&d, "team").as_deref(), Some("team-root"));
    assert_eq!(namespace(&d, "own").as_deref(), Some("team-a"));
    assert_eq!(namespace(&d, "plain").as_deref(), Some("apps"));
    assert_eq!(namespace(&d, "other").as_deref(), Some("apps"));
    assert_eq!(
        namespace(&d, "group"),
        None,
        "a pure grouping has no Application"
    );
    assert_eq!(namespace(&d, "ns"), None);
}

#[test]
fn resources_get_their_condition_by_kind() {
    let yaml = "
stacks:
  - name: s
    apps: [{name: op}]
    resources:
      - {name: crd, apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, resourceName: things.example.com, dependsOn: [op]}
      - {name: ns, apiVersion: v1, kind: Namespace}
      - {name: cluster, apiVersion: ceph.rook.io/v1, kind: CephCluster, namespace: rook-ceph}
      - {name: deploy, apiVersion: apps/v1, kind: Deployment, namespace: x, condition: Exists}
";
    let d = dag(yaml);
    let res = |name: &str| match &d.node(d.find(name).unwrap()).kind {
        NodeKind::Resource(r) => r.clone(),
        other => panic!("{name} is {other:?}"),
    };
    assert_eq!(res("crd").condition.as_deref(), Some("Established"));
    assert_eq!(res("crd").name, "things.example.com");
    assert_eq!(res("ns").condition, None);
    assert_eq!(res("ns").name, "ns");
    assert_eq!(res("cluster").condition.as_deref(), Some("Ready"));
    assert_eq!(res("cluster").namespace.as_deref(), Some("rook-ceph"));
    assert_eq!(res("deploy").condition, None);
    assert_eq!(d.node(d.find("crd").unwrap()).kind_name(), "resource");
}

#[test]
fn simulation_blocks_merge_with_the_defaults() {
    let yaml = "
defaults:
  simulation: {readyAfter: 1s, jitter: 100ms}
stacks:
  - name: grouping
    apps:
      - name: a
        simulation: {readyAfter: 500ms, outcome: Degraded}
      - name: b
  - name: with-app
    app: root
    apps: [{name: c, simulation: {outcome: OperationFailed}}]
";
    let d = dag(yaml);
    let sim = |name: &str| d.node(d.find(name).unwrap()).simulation;
    let a = sim("a").unwrap();
    assert_eq!(a.ready_after, Some(Duration::from_millis(500)));
    assert_eq!(a.outcome, Some(SimOutcomeSpec::Degraded));
    assert_eq!(a.jitter, Some(Duration::from_millis(100)));
    assert_eq!(sim("b").unwrap().ready_after, Some(Duration::from_secs(1)));
    assert_eq!(
        sim("c").unwrap().outcome,
        Some(SimOutcomeSpec::OperationFailed)
    );
    assert!(sim("with-app").is_some(), "an app-of-apps is simulated");
    assert_eq!(
        sim("grouping"),
        None,
        "a pure grouping has nothing to simulate"
    );
    let bad = spec("stacks:\n- name: s\n  apps: [{name: a, simulation: {outcome: Broken}}]\n");
    assert!(bad
        .unwrap_err()
        .to_string()
        .contains("unknown variant `Broken`"));
}

#[test]
fn generated_dags_are_valid_deterministic_and_round_trip_through_yaml() {
    for (nodes, seed) in [(1, 1), (50, 2), (1000, 3)] {
        let s = random_dag(nodes, seed);
        assert_eq!(s, random_dag(nodes, seed));
        let d = Dag::build(&s, &Overrides::default(), &CTX)
            .unwrap_or_else(|e| panic!("random_dag({nodes}, {seed}) is valid:\n{e}"));
        assert!(
            d.len().abs_diff(nodes) <= 1,
            "{} nodes for {nodes}",
            d.len()
        );
        let back = DagSpec::parse(&s.to_yaml(), &s.path).unwrap();
        assert_eq!(back, s);
    }
    assert_ne!(random_dag(100, 1), random_dag(100, 2));
}

#[test]
fn the_example_platform_is_valid() {
    let d = Dag::build(&super::support::example(), &Overrides::default(), &CTX).unwrap();
    let apps = d.nodes().iter().filter(|n| n.kind == NodeKind::App).count();
    assert!((35..=45).contains(&apps), "{apps} apps");
}
