//! The Kubernetes side without a cluster: bad kubeconfigs are Invalid before
//! any request, `--require-cluster` makes no access Invalid, and without
//! access the cluster-side checks are reported skipped and change no exit
//! code. The checks themselves run against the real API server (tests/e2e).

use executor::exit::ExitCode;
use executor::sim::Scenario;

use crate::common::{assert_code, b64, TestContext, REFUSED_KUBECONFIG as KUBECONFIG, TOKEN};

const SCOPE: [&str; 2] = ["--scope", "app:temporal"];

async fn ctx(apps: &[&str]) -> TestContext {
    TestContext::new(Scenario::with_apps(TOKEN, apps)).await
}

/// Each way a kubeconfig can be unusable: exit Invalid, the input named, the
/// Invalid report written, and no request to Argo CD or the cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_kubeconfig_is_invalid_before_any_request() {
    let ctx = ctx(&["temporal"]).await;
    let missing = ctx.config_dir.join("no-such-kubeconfig");
    let missing = missing.to_str().unwrap();
    let cases: Vec<(Option<&str>, Option<String>, &str)> = vec![
        (
            Some(missing),
            None,
            "invalid --kubeconfig (KUBECONFIG_PATH)",
        ),
        (
            None,
            Some("%%%".to_owned()),
            "invalid KUBECONFIG_DATA: is not base64",
        ),
        (
            None,
            Some(b64("clusters: [unclosed")),
            "invalid KUBECONFIG_DATA: is not a kubeconfig",
        ),
        (
            None,
            Some(b64(
                &KUBECONFIG.replace("current-context: e2e", "current-context: prod")
            )),
            "current-context 'prod' is not one of its contexts (e2e)",
        ),
    ];
    for (path, data, needle) in cases {
        let mut cmd = ctx.command("validate", &SCOPE);
        if let Some(path) = path {
            cmd.args(["--kubeconfig", path]);
        }
        if let Some(data) = &data {
            cmd.env("KUBECONFIG_DATA", data);
        }
        let result = ctx.run_command(cmd).await;
        assert_code(&result, ExitCode::INVALID);
        assert_eq!(result.report["status"], "invalid");
        let message = result.report["failures"][0]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{needle}: {message}");
        assert!(ctx.requests().is_empty(), "{:?}", ctx.requests());
    }
}

/// `--require-cluster` (REQUIRE_CLUSTER) without any access is Invalid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_cluster_without_access_is_invalid() {
    let ctx = ctx(&["temporal"]).await;
    let mut cmd = ctx.command("deploy", &SCOPE);
    cmd.env("REQUIRE_CLUSTER", "true");
    let result = ctx.run_command(cmd).await;
    assert_code(&result, ExitCode::INVALID);
    let message = result.report["failures"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("--require-cluster (REQUIRE_CLUSTER)"),
        "{message}"
    );
    assert!(message.contains("KUBECONFIG_DATA"), "{message}");
    assert!(ctx.requests().is_empty());
}

/// Without cluster access: preflight checks the token, reports the cluster
/// checks skipped, and a resource node is skipped without holding back its
/// dependents or changing the exit code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_cluster_access_the_cluster_checks_are_skipped() {
    let ctx = ctx(&["cert-manager", "issuers"]).await;
    ctx.write_dag(
        "stacks:
  - name: infrastructure
    apps:
      - name: cert-manager
      - name: issuers
        dependsOn: [crds]
    resources:
      - name: crds
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        resourceName: certificates.cert-manager.io
        dependsOn: [cert-manager]
",
    );
    let result = ctx.run("deploy", &["--scope", "platform"]).await;
    assert_code(&result, ExitCode::SUCCESS);
    let preflight = result.report["preflight"].as_array().unwrap();
    let statuses: Vec<(&str, &str)> = preflight
        .iter()
        .map(|c| (c["check"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("argocd-api", "passed"),
            ("cluster-api", "skipped"),
            ("argocd-namespace", "skipped"),
            ("application-crd", "skipped"),
            ("permissions", "skipped"),
        ]
    );
    let crds = result.report["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "crds")
        .unwrap();
    assert_eq!(crds["status"], "skipped", "{crds}");
    assert!(
        crds["message"]
            .as_str()
            .unwrap()
            .contains("no cluster access"),
        "{crds}"
    );
    assert_eq!(
        ctx.syncs("issuers"),
        1,
        "the skipped check holds nothing back"
    );
}

/// A token Argo CD does not accept stops the run in preflight: Failure,
/// reason Unauthenticated, one request (userinfo), nothing synced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_refuses_a_token_argocd_does_not_accept() {
    let ctx = ctx(&["temporal"]).await;
    std::fs::write(ctx.secrets_dir.join("argocd-token"), "not-the-token").unwrap();
    let result = ctx.run("deploy", &SCOPE).await;
    assert_code(&result, ExitCode::FAILURE);
    assert_eq!(result.report["failures"][0]["reason"], "Unauthenticated");
    assert_eq!(result.report["preflight"][0]["status"], "failed");
    let requests = ctx.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].path, "/api/v1/session/userinfo");
    // --skip-preflight: the run goes on and meets the same token problem itself.
    let mut cmd = ctx.command("deploy", &SCOPE);
    cmd.arg("--skip-preflight");
    let result = ctx.run_command(cmd).await;
    assert_code(&result, ExitCode::FAILURE);
    assert_eq!(result.report["preflight"][0]["status"], "skipped");
    assert_eq!(result.report["failures"][0]["component"], "temporal");
}
