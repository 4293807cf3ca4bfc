//! `workflow-templates/rbac.yaml` on the real API server and its RBAC
//! authorizer: the file applied as it ships, each action run with its own
//! service account's token, and the audit log read back. Nothing an action
//! needs is refused (a missing permission shows as a 403, or as a failed
//! run), validate only reads, and every permission the file grants is used
//! by an account bound to it (an excess one shows as unused).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use executor::exit::ExitCode;
use serde::Deserialize;
use serde_json::Value;

use crate::cluster::{crd, dag};
use crate::fixture::{
    self, assert_code, assert_status, config_map, App, Audited, Executor, Stack, ENVIRONMENT,
};
use crate::volumes::{bind_when_applied, make_ready, snapshot_once_taken, volume_for};

const LIMIT: Duration = Duration::from_secs(120);
/// Where rbac.yaml puts the accounts: the workflows' namespace.
const ACCOUNTS: &str = "argo";
/// Used by Argo Workflows' own executor in each step's pod, not by ours.
const WORKFLOW_STEP_ROLE: &str = "executor-workflow-step";

/// rbac.yaml as it ships, applied once per test process in its namespace
/// (which e2e/up makes, with the restricted Pod Security label);
/// `kubectl apply`, so a rerun on the same stack finds it in place.
pub(crate) fn applied(stack: &Stack) -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        assert_eq!(stack.var("WORKFLOWS_NAMESPACE"), ACCOUNTS);
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/workflow-templates/rbac.yaml");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        stack.apply(&text).unwrap_or_else(|e| panic!("{e}"));
        text
    })
}

/// A kubeconfig for one of rbac.yaml's accounts.
fn account(stack: &Stack, dir: &Path, name: &str) -> PathBuf {
    stack.token_kubeconfig(dir, ACCOUNTS, name)
}

fn user(name: &str) -> String {
    format!("system:serviceaccount:{ACCOUNTS}:{name}")
}

/// One permission a role of rbac.yaml grants, and the accounts bound to it.
#[derive(Debug)]
struct Grant {
    role: String,
    group: String,
    resource: String,
    verb: String,
    accounts: BTreeSet<String>,
}

impl Grant {
    fn allows(&self, request: &Audited) -> bool {
        let matches = |granted: &str, asked: &str| granted == "*" || granted == asked;
        self.verb == request.verb
            && matches(&self.group, &request.group)
            && matches(&self.resource, &request.resource)
    }
}

/// Every (role, group, resource, verb) of rbac.yaml, with the accounts its bindings name.
fn grants(text: &str) -> Vec<Grant> {
    let docs: Vec<Value> = serde_yaml::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).expect("rbac.yaml is YAML"))
        .collect();
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| Some(s.as_str()?.to_owned()))
            .collect()
    };
    let mut bound: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for doc in docs.iter().filter(|d| {
        matches!(
            d["kind"].as_str(),
            Some("RoleBinding" | "ClusterRoleBinding")
        )
    }) {
        let role = doc["roleRef"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        for subject in doc["subjects"].as_array().into_iter().flatten() {
            assert_eq!(subject["namespace"], ACCOUNTS, "{subject}");
            let name = subject["name"].as_str().unwrap_or_default().to_owned();
            bound.entry(role.clone()).or_default().insert(name);
        }
    }
    let mut grants = Vec::new();
    for doc in docs
        .iter()
        .filter(|d| matches!(d["kind"].as_str(), Some("Role" | "ClusterRole")))
    {
        let role = doc["metadata"]["name"].as_str().unwrap_or_default();
        for rule in doc["rules"].as_array().into_iter().flatten() {
            for group in names(&rule["apiGroups"]) {
                for resource in names(&rule["resources"]) {
                    for verb in names(&rule["verbs"]) {
                        grants.push(Grant {
                            role: role.to_owned(),
                            group: group.clone(),
                            resource: resource.clone(),
                            verb,
                            accounts: bound.get(role).cloned().unwrap_or_default(),
                        });
                    }
                }
            }
        }
    }
    grants
}

/// An app of every kind the built-in checks read (a claim aside: the
/// platform's app has one), synced by Argo CD itself (automated): validate's
/// checks read each. Without their controllers here they never become ready,
/// which validate may report; what counts is that each is read, and allowed.
/// Its StatefulSet has a claim template, so teardown looks for the claims
/// the StatefulSet controller would have made.
fn every_checked_kind(stack: &'static Stack) -> App {
    let mut app = App::new(stack, "kinds");
    app.sync_policy.push_str("    automated: {}\n");
    let pod = "    metadata:\n      labels: {app: x}\n    spec:\n      containers:\n        - {name: x, image: registry.invalid/x:1}\n";
    let selected = format!("  selector:\n    matchLabels: {{app: x}}\n  template:\n{pod}");
    app.push(&[
        (
            "deployment.yaml",
            format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 0\n{selected}"),
        ),
        (
            "statefulset.yaml",
            format!("apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  replicas: 0\n  serviceName: db\n{selected}  volumeClaimTemplates:\n    - metadata: {{name: data}}\n      spec:\n        accessModes: [ReadWriteOnce]\n        resources: {{requests: {{storage: 1Gi}}}}\n"),
        ),
        (
            "daemonset.yaml",
            format!("apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\nspec:\n{selected}"),
        ),
        (
            "job.yaml",
            format!("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\nspec:\n  suspend: true\n  template:\n{}", pod.replace("    spec:\n", "    spec:\n      restartPolicy: Never\n")),
        ),
        (
            "ceph.yaml",
            "apiVersion: ceph.rook.io/v1\nkind: CephCluster\nmetadata:\n  name: rook-ceph\nspec:\n  dataDirHostPath: /var/lib/rook\n".to_owned(),
        ),
        (
            "postgresql.yaml",
            "apiVersion: acid.zalan.do/v1\nkind: postgresql\nmetadata:\n  name: acid-main\nspec:\n  teamId: acid\n  numberOfInstances: 1\n".to_owned(),
        ),
    ])
    .create();
    let kinds = [
        ("deployment", "web"),
        ("statefulset", "db"),
        ("daemonset", "agent"),
        ("job", "migrate"),
        ("cephclusters.ceph.rook.io", "rook-ceph"),
        ("postgresqls.acid.zalan.do", "acid-main"),
    ];
    let started = std::time::Instant::now();
    while kinds
        .iter()
        .any(|(kind, name)| stack.get(kind, app.namespace(), name).is_none())
    {
        assert!(
            started.elapsed() < LIMIT,
            "Argo CD never synced {}",
            app.name
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    app
}

/// deploy, validate and teardown of a platform (an app with a claim, and a
/// CRD resource node that appears mid-run), each as its own account of
/// rbac.yaml, plus validate and teardown of an app of every checked kind;
/// then, from the
/// audit log: no request of theirs refused, validate's all reads, and each
/// granted permission used.
#[test]
fn each_action_runs_as_its_own_account_and_uses_every_grant() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let text = applied(stack);
    let before: BTreeMap<&str, usize> =
        ["executor-deploy", "executor-validate", "executor-teardown"]
            .into_iter()
            .map(|a| (a, stack.requests_of(&user(a)).len()))
            .collect();

    let app = App::new(stack, "rbac");
    let (pv, claim) = volume_for(stack, &app);
    app.push(&[("cm.yaml", config_map("settings")), ("pvc.yaml", claim)])
        .create();
    // Kinds are unique per group too: a CRD a failed run left would refuse the name.
    let plural = stack.unique("doohickeys").replace('-', "");
    let crd_name = format!("{plural}.e2e.executor.dev");
    // The platform (scope `platform`), or an app outside it (`app:<name>`).
    let run_as = |name: &str, args: &[&str]| {
        let executor = Executor::new(stack, "");
        std::fs::create_dir_all(executor.config_dir()).unwrap();
        let kubeconfig = account(stack, &executor.config_dir(), name);
        if args.contains(&"platform") {
            executor.write_dag(&dag(&app.name, &crd_name));
        }
        executor
            .args(&[
                "--kubeconfig",
                kubeconfig.to_str().unwrap(),
                "--require-cluster",
            ])
            .args(args)
    };

    // deploy: the node reads the CRD as missing and watches it; the app's
    // claim is bound as a PV controller would.
    let deploy = run_as("executor-deploy", &["--scope", "platform"]);
    let running = deploy.spawn(stack, "deploy");
    bind_when_applied(stack, &app);
    stack
        .apply(&crd(&plural, &format!("D{plural}")))
        .unwrap_or_else(|e| panic!("{e}"));
    let deployed = running.finish(LIMIT);
    assert_code(&deployed, ExitCode::SUCCESS);
    assert_status(&deployed, "crd", "succeeded");
    assert_status(&deployed, &app.name, "succeeded");

    let validated =
        run_as("executor-validate", &["--scope", "platform"]).run(stack, "validate", LIMIT);
    assert_code(&validated, ExitCode::SUCCESS);
    assert_status(&validated, &app.name, "healthy");

    let kinds = every_checked_kind(stack);
    let checked =
        run_as("executor-validate", &["--scope", &kinds.scope()]).run(stack, "validate", LIMIT);
    let records = checked.component(&kinds.name)["checks"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("no checks: {}", checked.show()));
    for target in [
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CephCluster",
        "postgresql",
    ] {
        let record = records
            .iter()
            .find(|r| {
                r["target"]
                    .as_str()
                    .is_some_and(|t| t.starts_with(&format!("{target} ")))
            })
            .unwrap_or_else(|| panic!("no check of the {target}: {}", checked.show()));
        let said = record["message"].as_str().unwrap_or_default();
        assert!(!said.contains("cannot read it"), "{target}: {said}");
    }

    let kinds_torn = run_as(
        "executor-teardown",
        &["--scope", &kinds.scope(), "--confirm", ENVIRONMENT],
    )
    .run(stack, "teardown", LIMIT);
    assert_code(&kinds_torn, ExitCode::SUCCESS);
    assert_status(&kinds_torn, &kinds.name, "removed");

    let teardown = run_as(
        "executor-teardown",
        &[
            "--scope",
            "platform",
            "--confirm",
            ENVIRONMENT,
            "--pv-policy",
            "snapshot",
        ],
    );
    let running = teardown.spawn(stack, "teardown");
    let snapshot = snapshot_once_taken(stack, &app);
    make_ready(stack, &app, &snapshot);
    let torn = running.finish(LIMIT);
    let _ = stack.kubectl(&["delete", "crd", &crd_name, "--wait=false"]);
    let _ = stack.kubectl(&["delete", "pv", &pv, "--wait=false"]);
    assert_code(&torn, ExitCode::SUCCESS);
    assert_status(&torn, &app.name, "removed");

    // The audit log: this test's requests of each account.
    let sent: BTreeMap<&str, Vec<Audited>> = before
        .iter()
        .map(|(a, n)| (*a, stack.requests_of(&user(a)).split_off(*n)))
        .collect();
    for (account, requests) in &sent {
        assert!(!requests.is_empty(), "{account} sent nothing");
        let refused: Vec<_> = requests.iter().filter(|r| r.code == 403).collect();
        assert!(refused.is_empty(), "{account} was refused: {refused:#?}");
    }
    for r in &sent["executor-validate"] {
        let review = r.verb == "create" && r.resource == "selfsubjectaccessreviews";
        assert!(
            review || matches!(r.verb.as_str(), "get" | "list" | "watch"),
            "validate sent {r:?}"
        );
    }
    let unused: Vec<_> = grants(text)
        .into_iter()
        .filter(|g| g.role != WORKFLOW_STEP_ROLE)
        .filter(|g| {
            !g.accounts.iter().any(|a| {
                sent.get(a.as_str())
                    .is_some_and(|requests| requests.iter().any(|r| g.allows(r)))
            })
        })
        .collect();
    assert!(unused.is_empty(), "granted but never used: {unused:#?}");
}
