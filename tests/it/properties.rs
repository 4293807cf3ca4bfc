//! Properties over generated input (proptest): every parser of ours takes
//! arbitrary bytes and mutations of a real file without panicking; readiness
//! calls an app ready only when Argo CD shows it Synced and Healthy; the
//! scheduler starts no node before its dependencies are ready and skips
//! exactly the transitive dependents of the nodes that were not.
//!
//! `PROPTEST_CASES` sets the cases per property (256 here; the long run is
//! `PROPTEST_CASES=100000 cargo test --release --test it properties::`).
//! fuzz/ drives the same entry points with cargo-fuzz.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::Mutex;

use executor::argocd::stream::decode_line;
use executor::argocd::types::Application;
use executor::dag::schedule::{self, Event, Graph, Mode, Options, Slot};
use executor::dag::{BuildContext, Dag, DagSpec, Overrides};
use executor::readiness::{assess, Expectation, Tracked, Verdict};
use executor::vocabulary::SuspendedIs;
use proptest::prelude::*;

const DAG: &str = include_str!("../../examples/config/dag.yaml");
const ENVIRONMENT: &str = include_str!("../../examples/config/environment.yaml");
const HEALTH: &str = include_str!("../../examples/config/health.yaml");
const SIMULATION: &str = include_str!("../../examples/config/simulation.yaml");
const APP: &str = include_str!("../fixtures/readiness/ours-succeeded.json");

/// Bytes YAML and JSON give meaning to, so mutations reach past the tokenizer.
const SPECIAL: &[u8] = b" \n\t:-[]{},#&*!|>'\"%@`?0123456789.~\\";

/// One edit of a text: replace, insert or delete a byte, or duplicate or drop a line.
#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    DuplicateLine(usize),
    DropLine(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let byte = prop_oneof![proptest::sample::select(SPECIAL.to_vec()), any::<u8>(),];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(at, b)| Edit::Replace(at, b)),
        (any::<usize>(), byte).prop_map(|(at, b)| Edit::Insert(at, b)),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::DuplicateLine),
        any::<usize>().prop_map(Edit::DropLine),
    ]
}

fn apply(base: &str, edits: &[Edit]) -> Vec<u8> {
    let mut bytes = base.as_bytes().to_vec();
    for edit in edits {
        let len = bytes.len().max(1);
        match *edit {
            Edit::Replace(at, b) if !bytes.is_empty() => bytes[at % len] = b,
            Edit::Insert(at, b) => bytes.insert(at % (bytes.len() + 1), b),
            Edit::Delete(at) if !bytes.is_empty() => {
                bytes.remove(at % len);
            }
            Edit::DuplicateLine(at) | Edit::DropLine(at) => {
                let mut lines: Vec<Vec<u8>> =
                    bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                let i = at % lines.len();
                if matches!(edit, Edit::DuplicateLine(_)) {
                    let line = lines[i].clone();
                    lines.insert(i, line);
                } else {
                    lines.remove(i);
                }
                bytes = lines.join(&b'\n');
            }
            _ => {}
        }
    }
    bytes
}

/// A real file with up to 8 edits, or arbitrary bytes.
fn input(base: &'static str) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::collection::vec(edit(), 0..8).prop_map(move |edits| apply(base, &edits)),
        1 => proptest::collection::vec(any::<u8>(), 0..512),
    ]
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// dag.yaml as `executor` reads it: parsed, then validated and built.
pub fn dag_file(bytes: &[u8]) {
    if let Ok(spec) = DagSpec::parse(&text(bytes), Path::new("dag.yaml")) {
        let ctx = BuildContext {
            cluster_name: Some("in-cluster"),
            default_sync: std::time::Duration::from_secs(300),
            default_health: std::time::Duration::from_secs(600),
            default_app_namespace: None,
        };
        if let Ok(dag) = Dag::build(&spec, &Overrides::default(), &ctx) {
            let _ = executor::dag::plan(&dag);
        }
    }
}

proptest! {
    #[test]
    fn dag_yaml_never_panics(bytes in input(DAG)) {
        dag_file(&bytes);
    }

    #[test]
    fn environment_yaml_never_panics(bytes in input(ENVIRONMENT)) {
        let _ = executor::config::environment::EnvironmentFile::parse(&text(&bytes));
    }

    #[test]
    fn health_yaml_never_panics(bytes in input(HEALTH)) {
        let apps: BTreeSet<String> = ["cert-manager", "vault"].map(String::from).into();
        let _ = executor::checks::file::HealthChecks::parse(&text(&bytes), Path::new("/config"), Some(&apps));
    }

    #[test]
    fn simulation_yaml_never_panics(bytes in input(SIMULATION)) {
        let _ = serde_yaml::from_str::<executor::sim::Scenario>(&text(&bytes));
    }

    #[test]
    fn a_watch_line_never_panics(bytes in input(STREAM_LINE)) {
        let _ = decode_line(&bytes, Some("default"));
        let _ = decode_line(&bytes, None);
    }

    /// Whatever the Application says, `Ready` means Argo CD shows it Synced
    /// and Healthy (or Suspended, where Suspended is asked to count as Healthy).
    #[test]
    fn ready_only_when_synced_and_healthy(app in application(), suspended in 0..3u8) {
        let suspended_is = [SuspendedIs::Healthy, SuspendedIs::Progressing, SuspendedIs::Failed][suspended as usize];
        let expect = Expectation { tracked: Tracked::Settled, revision: None, suspended_is };
        if assess(&app, &expect) == Verdict::Ready {
            let health = app.status.health.status.as_str();
            prop_assert_eq!(app.status.sync.status.as_str(), "Synced");
            prop_assert!(
                health == "Healthy" || (health == "Suspended" && suspended_is == SuspendedIs::Healthy),
                "ready with health {health}"
            );
        }
    }

    /// Random DAGs, random results: no node starts before every dependency
    /// finished ready; the skipped are exactly the transitive dependents of
    /// the nodes that did not become ready; every other node ran once.
    #[test]
    fn the_scheduler_keeps_dependency_order(
        deps in dag_shape(),
        fails in proptest::collection::vec(proptest::bool::weighted(0.15), 40),
        parallelism in 1..6usize,
        waves in any::<bool>(),
    ) {
        check_schedule(&deps, &fails, parallelism, if waves { Mode::Waves } else { Mode::Eager })?;
    }
}

/// A real watch line: an Application event.
const STREAM_LINE: &str = concat!(
    r#"{"result":{"type":"MODIFIED","application":"#,
    include_str!("../fixtures/readiness/ours-succeeded.json"),
    "}}"
);

/// The fixture with its status fields set from Argo CD's vocabulary and beyond,
/// and any of its parts removed.
fn application() -> impl Strategy<Value = Application> {
    let health = proptest::sample::select(vec![
        "Healthy",
        "Progressing",
        "Degraded",
        "Suspended",
        "Missing",
        "Unknown",
        "",
        "healthy",
    ]);
    let sync = proptest::sample::select(vec!["Synced", "OutOfSync", "Unknown", ""]);
    let phase = proptest::sample::select(vec![
        "Succeeded",
        "Running",
        "Failed",
        "Error",
        "Terminating",
        "",
    ]);
    let drop = proptest::collection::vec(
        proptest::sample::select(vec![
            "operation",
            "operationState",
            "reconciledAt",
            "conditions",
            "resources",
            "summary",
            "deletionTimestamp",
        ]),
        0..3,
    );
    (health, sync, phase, drop, any::<bool>()).prop_map(|(health, sync, phase, drop, deleting)| {
        let mut value: serde_json::Value = serde_json::from_str(APP).expect("fixture is JSON");
        value["status"]["health"]["status"] = health.into();
        value["status"]["sync"]["status"] = sync.into();
        if value["status"]["operationState"].is_object() {
            value["status"]["operationState"]["phase"] = phase.into();
        }
        if deleting {
            value["metadata"]["deletionTimestamp"] = "2026-11-22T08:00:09Z".into();
        }
        for field in drop {
            for object in ["status", "metadata"] {
                if let Some(map) = value[object].as_object_mut() {
                    map.remove(field);
                }
            }
            if let Some(map) = value.as_object_mut() {
                map.remove(field);
            }
        }
        serde_json::from_value(value).expect("still an Application")
    })
}

/// Up to 40 nodes; each depends on up to 3 earlier ones (so the graph is acyclic).
fn dag_shape() -> impl Strategy<Value = Vec<Vec<usize>>> {
    (1..40usize).prop_flat_map(|n| {
        (0..n)
            .map(|i| {
                if i == 0 {
                    Just(Vec::new()).boxed()
                } else {
                    proptest::collection::btree_set(0..i, 0..=3.min(i))
                        .prop_map(|s| s.into_iter().collect())
                        .boxed()
                }
            })
            .collect::<Vec<_>>()
    })
}

fn check_schedule(
    deps: &[Vec<usize>],
    fails: &[bool],
    parallelism: usize,
    mode: Mode,
) -> Result<(), TestCaseError> {
    let graph = Graph::new(deps.to_vec());
    let options = Options {
        parallelism,
        mode,
        weight: Vec::new(),
    };
    let slots = Mutex::new(Vec::new());
    let events = Mutex::new(Vec::new());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(schedule::run(
        &graph,
        &options,
        &slots,
        |node| async move {
            // Finish in an order the scheduler does not choose.
            tokio::task::yield_now().await;
            !fails[node]
        },
        |ready: &bool| *ready,
        |event| events.lock().unwrap().push(event),
    ));
    let events = events.into_inner().unwrap();
    let mut ready = HashSet::new();
    let mut started = HashSet::new();
    for event in &events {
        match *event {
            Event::Started(node) => {
                for &d in &deps[node] {
                    prop_assert!(
                        ready.contains(&d),
                        "{node} started before its dependency {d} was ready"
                    );
                }
                prop_assert!(started.insert(node), "{node} started twice");
            }
            Event::Finished { node, ready: true } => {
                ready.insert(node);
            }
            _ => {}
        }
    }
    // Skipped: every transitive dependent of a node that finished not ready.
    let mut expected_skipped = HashSet::new();
    for (node, node_deps) in deps.iter().enumerate() {
        if node_deps
            .iter()
            .any(|d| expected_skipped.contains(d) || (started.contains(d) && !ready.contains(d)))
        {
            expected_skipped.insert(node);
        }
    }
    let slots = slots.into_inner().unwrap();
    for (node, slot) in slots.iter().enumerate() {
        match slot {
            Slot::Skipped { .. } => prop_assert!(
                expected_skipped.contains(&node),
                "{node} skipped, its dependencies were ready"
            ),
            Slot::Done(_) => prop_assert!(
                !expected_skipped.contains(&node),
                "{node} ran, a dependency had failed"
            ),
            _ => prop_assert!(false, "{node} neither ran nor was skipped"),
        }
    }
    Ok(())
}
