//! The Kubernetes side against the real kube-apiserver, its RBAC authorizer
//! and its CRD controller: preflight, resource nodes and orphan-free teardown.

use std::time::Duration;

use executor::exit::ExitCode;

use crate::fixture::{
    self, assert_code, assert_status, config_map, App, Executor, Stack, ENVIRONMENT,
};

const LIMIT: Duration = Duration::from_secs(120);

/// A CRD of the e2e group, `<plural>.e2e.executor.dev`, for a resource node.
pub(crate) fn crd(plural: &str, kind: &str) -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {plural}.e2e.executor.dev\nspec:\n  group: e2e.executor.dev\n  scope: Namespaced\n  names:\n    plural: {plural}\n    singular: {plural}x\n    kind: {kind}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n"
    )
}

/// A DAG of one app and one CRD resource node, started side by side.
pub(crate) fn dag(app: &str, crd_name: &str) -> String {
    format!(
        "stacks:\n  - name: base\n    apps:\n      - name: {app}\n    resources:\n      - name: crd\n        apiVersion: apiextensions.k8s.io/v1\n        kind: CustomResourceDefinition\n        resourceName: {crd_name}\n        timeouts: {{sync: 30s, health: 30s}}\n"
    )
}

/// A platform run of `app` and a resource node on the Application CRD, as a
/// new ServiceAccount (`prefix`, made unique) with only `rules`; its name too.
fn platform_as(stack: &'static Stack, app: &App, prefix: &str, rules: &str) -> (Executor, String) {
    let executor = Executor::new(stack, "");
    let dir = executor.config_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let sa = stack.unique(prefix);
    let kubeconfig = stack.service_account_kubeconfig(&dir, &sa, rules);
    let executor = executor.args(&[
        "--scope",
        "platform",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
    ]);
    executor.write_dag(&dag(&app.name, "applications.argoproj.io"));
    (executor, sa)
}

/// An identity that may read CRDs but not watch them: deploy's preflight
/// asks the API server (SelfSubjectAccessReview), refuses before any
/// change (exit 1, nothing synced) and names the permission to grant.
#[test]
fn preflight_refuses_an_identity_that_may_not_watch() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::new(stack, "nowatch");
    app.push(&[("cm.yaml", config_map("settings"))]).create();
    let (executor, _) = platform_as(
        stack,
        &app,
        "no-watch",
        "- apiGroups: ['']\n  resources: [namespaces]\n  verbs: [get]\n\
         - apiGroups: [apiextensions.k8s.io]\n  resources: [customresourcedefinitions]\n  verbs: [get, list]\n",
    );
    let run = executor.run(stack, "deploy", LIMIT);
    assert_code(&run, ExitCode::FAILURE);
    assert_eq!(
        run.report["failures"][0]["reason"],
        "PermissionDenied",
        "{}",
        run.show()
    );
    let message = run.report["failures"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("may not watch customresourcedefinitions.apiextensions.k8s.io"),
        "{message}"
    );
    let checks: Vec<(&str, &str)> = run.report["preflight"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["check"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        checks,
        [
            ("argocd-api", "passed"),
            ("cluster-api", "passed"),
            ("argocd-namespace", "passed"),
            ("application-crd", "passed"),
            ("permissions", "failed"),
        ],
        "{}",
        run.show()
    );
    assert!(
        run.report["recommendations"][0]
            .as_str()
            .unwrap()
            .contains("watch customresourcedefinitions"),
        "{}",
        run.show()
    );
    let application = app.application().expect("the Application");
    assert!(
        application["status"]["operationState"].is_null(),
        "nothing was synced: {application}"
    );
}

/// validate reads each health.yaml resource check's object: preflight asks
/// for that too, and an identity that may not read it is refused before the
/// run (exit 1, the permission named); granted, the check runs.
#[test]
fn preflight_asks_for_what_health_checks_read() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::deployed(stack, "checkread");
    let readers = "- apiGroups: ['']\n  resources: [namespaces]\n  verbs: [get]\n\
         - apiGroups: [apiextensions.k8s.io]\n  resources: [customresourcedefinitions]\n  verbs: [get]\n";
    let health = format!(
        "checks:\n  - name: settings\n    app: {}\n    resource: {{ apiVersion: v1, kind: ConfigMap, namespace: {}, name: settings }}\n",
        app.name,
        app.namespace()
    );
    let refused = {
        let (executor, _) = platform_as(stack, &app, "no-cm", readers);
        std::fs::write(executor.config_dir().join("health.yaml"), &health).unwrap();
        executor.run(stack, "validate", LIMIT)
    };
    assert_code(&refused, ExitCode::FAILURE);
    let message = refused.report["failures"][0]["message"].as_str().unwrap();
    let wanted = format!("may not get configmaps in namespace {}", app.namespace());
    assert!(message.contains(&wanted), "{wanted}: {}", refused.show());
    assert_eq!(
        refused.report["components"].as_array().map(Vec::len),
        Some(0)
    );

    let granted =
        format!("{readers}- apiGroups: ['']\n  resources: [configmaps]\n  verbs: [get]\n");
    let (executor, _) = platform_as(stack, &app, "cm", &granted);
    std::fs::write(executor.config_dir().join("health.yaml"), &health).unwrap();
    let run = executor.run(stack, "validate", LIMIT);
    assert_code(&run, ExitCode::SUCCESS);
    assert_eq!(
        run.component(&app.name)["checks"][0]["status"],
        "passed",
        "{}",
        run.show()
    );
}

/// A CRD resource node whose CRD appears mid-run: deploy follows it on a
/// watch until the API server's CRD controller reports it Established.
#[test]
fn a_crd_resource_node_becomes_established_mid_run() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::new(stack, "crdnode");
    app.push(&[("cm.yaml", config_map("settings"))]).create();
    let plural = stack.unique("gadgets").replace('-', "");
    let crd_name = format!("{plural}.e2e.executor.dev");
    let executor = Executor::new(stack, "")
        .admin_kubeconfig(stack)
        .args(&["--scope", "platform"]);
    executor.write_dag(&dag(&app.name, &crd_name));
    let mut running = executor.spawn(stack, "deploy");
    // The node starts with the run (no dependency): by now it has read the
    // CRD as missing and follows it; the app's sync takes longer anyway.
    std::thread::sleep(Duration::from_secs(2));
    assert!(running.is_running(), "still waiting for the CRD");
    stack
        .apply(&crd(&plural, "Gadget"))
        .unwrap_or_else(|e| panic!("{e}"));
    let run = running.finish(LIMIT);
    let _ = stack.kubectl(&["delete", "crd", &crd_name, "--wait=false"]);
    assert_code(&run, ExitCode::SUCCESS);
    assert_status(&run, "crd", "succeeded");
    let message = run.component("crd")["message"].as_str().unwrap();
    assert!(message.contains("Established=True"), "{message}");
    assert_status(&run, &app.name, "succeeded");
}

/// A teardown that leaves a `Delete=false` ConfigMap behind: Argo CD reports
/// the app gone, the API server still has the ConfigMap, so the app is
/// orphaned (exit Partial) and the ConfigMap named.
#[test]
fn teardown_names_the_orphaned_config_map() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::new(stack, "orphan");
    let kept = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  annotations:\n    argocd.argoproj.io/sync-options: Delete=false\ndata:\n  key: value\n";
    app.push(&[
        ("cm.yaml", config_map("settings")),
        ("kept.yaml", kept.to_owned()),
    ])
    .create();
    let deploy = Executor::new(stack, "")
        .args(&["--scope", &app.scope()])
        .run(stack, "deploy", LIMIT);
    assert_code(&deploy, ExitCode::SUCCESS);
    let run = Executor::new(stack, "")
        .admin_kubeconfig(stack)
        .args(&["--scope", &app.scope(), "--confirm", ENVIRONMENT])
        .run(stack, "teardown", LIMIT);
    assert_code(&run, ExitCode::PARTIAL);
    assert_status(&run, &app.name, "orphaned");
    let message = run.component(&app.name)["message"].as_str().unwrap();
    let named = format!("ConfigMap {}/kept", app.namespace());
    assert!(message.contains(&named), "{named}: {message}");
    assert!(!message.contains("/settings"), "{message}");
    assert_eq!(run.report["failures"][0]["reason"], "Orphaned");
    assert!(stack.get("configmap", app.namespace(), "kept").is_some());
}

/// validate sends the API server reads only (the SelfSubjectAccessReviews of
/// preflight aside), as its audit log shows for the run's own identity.
#[test]
fn validate_only_reads_from_the_api_server() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::deployed(stack, "readonly");
    let (executor, sa) = platform_as(
        stack,
        &app,
        "validate",
        "- apiGroups: ['']\n  resources: [namespaces]\n  verbs: [get]\n\
         - apiGroups: [apiextensions.k8s.io]\n  resources: [customresourcedefinitions]\n  verbs: [get]\n",
    );
    let run = executor.run(stack, "validate", LIMIT);
    assert_code(&run, ExitCode::SUCCESS);
    assert_status(&run, "crd", "healthy");
    let user = format!(
        "system:serviceaccount:{}:{sa}",
        stack.var("ARGOCD_NAMESPACE")
    );
    let requests = stack.requests_of(&user);
    assert!(
        requests.iter().any(|r| r.verb == "get"),
        "the run's reads are in the audit log: {requests:?}"
    );
    for r in &requests {
        let review = r.verb == "create" && r.resource == "selfsubjectaccessreviews";
        assert!(
            review || matches!(r.verb.as_str(), "get" | "list" | "watch"),
            "validate sent {} {}",
            r.verb,
            r.resource
        );
    }
}
