//! Plans: waves, the critical path by summed timeouts, the longest chain,
//! and the JSON shape.

use super::support::{dag, example, CTX};
use crate::dag::{plan, render_text, Dag, Overrides};

#[test]
fn critical_path_follows_timeouts_and_longest_chain_follows_node_count() {
    // x: one heavy node; a → b → c: three light ones.
    let d = dag("
stacks:
  - name: s
    apps:
      - {name: x, timeouts: {sync: 1h, health: 1h}}
      - {name: a, timeouts: {sync: 1m, health: 1m}}
      - {name: b, dependsOn: [a], timeouts: {sync: 1m, health: 1m}}
      - {name: c, dependsOn: [b], timeouts: {sync: 1m, health: 1m}}
");
    let p = plan(&d);
    assert_eq!(
        p.waves,
        vec![vec!["s"], vec!["a", "x"], vec!["b"], vec!["c"]]
    );
    // A pure grouping stack counts nothing: it is ready at once.
    assert_eq!(p.critical_path, ["s", "x"]);
    assert_eq!(p.critical_path_seconds, 7200.0);
    assert_eq!(p.longest_chain, ["s", "a", "b", "c"]);
    assert_eq!(p.longest_chain_seconds, 360.0);
    assert_eq!(p.summary.waves, 4);
    let text = render_text(&p);
    assert!(
        text.contains("critical path (2 nodes, summed timeouts 2h): s → x"),
        "{text}"
    );
    assert!(
        text.contains("longest chain (4 nodes, summed timeouts 6m): s → a → b → c"),
        "{text}"
    );
}

#[test]
fn the_example_plan_respects_the_platform_order() {
    let d = Dag::build(&example(), &Overrides::default(), &CTX).unwrap();
    let p = plan(&d);
    let wave = |name: &str| {
        p.waves
            .iter()
            .position(|w| w.iter().any(|n| n == name))
            .unwrap_or_else(|| panic!("{name} is planned"))
    };
    for chain in [
        &[
            "metallb",
            "rook-ceph-operator",
            "ceph-crds",
            "rook-ceph-cluster",
            "ceph-storage-classes",
            "vault",
            "keycloak",
        ][..],
        &["ceph-storage-classes", "postgresql-clusters", "harbor"],
        &["postgresql-clusters", "temporal"],
        &["prometheus", "grafana"],
    ] {
        for pair in chain.windows(2) {
            assert!(
                wave(pair[0]) < wave(pair[1]),
                "{} before {}",
                pair[0],
                pair[1]
            );
        }
    }
    let json = serde_json::to_value(&p).unwrap();
    for key in [
        "waves",
        "criticalPath",
        "criticalPathSeconds",
        "longestChain",
        "longestChainSeconds",
        "nodes",
        "summary",
    ] {
        assert!(json.get(key).is_some(), "{key} in {json:#}");
    }
    assert_eq!(json["nodes"][0]["wave"], 1);
    assert!(json["nodes"][0].get("syncTimeoutSeconds").is_some());
}

/// Whatever the timeouts, a node's budget (sync + health) and the summed
/// timeouts of a chain saturate instead of overflowing.
#[test]
fn budgets_saturate_instead_of_overflowing() {
    use std::time::Duration;

    use crate::dag::BuildContext;

    let ctx = BuildContext {
        default_sync: Duration::MAX,
        default_health: Duration::MAX,
        ..CTX
    };
    let spec =
        super::support::spec("stacks:\n- name: s\n  app: s-root\n  apps: [{name: a}]\n").unwrap();
    let d = Dag::build(&spec, &Overrides::default(), &ctx).unwrap();
    for node in d.nodes() {
        assert_eq!(node.deadline(), Duration::MAX, "{}", node.name);
    }
    let text = render_text(&plan(&d));
    assert!(text.contains("critical path (2 nodes"), "{text}");
}
