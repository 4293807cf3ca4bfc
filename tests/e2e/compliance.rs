//! validate's compliance report against the real stack: a Deployment that
//! breaks one rule of each category, read back from Argo CD's
//! managed-resources, with one exemption in force and one expired.

use std::time::Duration;

use executor::exit::ExitCode;

use crate::fixture::{self, assert_code, assert_status, App, Executor};

const LIMIT: Duration = Duration::from_secs(120);

/// Zero replicas: the kube-apiserver takes it (no PodSecurity labels on the
/// namespace) and Argo CD counts it Healthy; no pod is ever made.
fn careless_deployment() -> String {
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: careless\n  labels:\n    app: careless\nspec:\n  replicas: 0\n  selector:\n    matchLabels:\n      app: careless\n  template:\n    metadata:\n      labels:\n        app: careless\n    spec:\n      hostNetwork: true\n      hostPID: true\n      volumes:\n        - name: root\n          hostPath:\n            path: /\n      containers:\n        - name: web\n          image: nginx:latest\n          securityContext:\n            privileged: true\n".to_owned()
}

/// Every rule fails once; `probes` is exempt until tomorrow, and
/// `host-pid`'s exemption expired yesterday, so it fails and says so.
/// Without `--enforce-compliance` validate exits 0 all the same; with it,
/// exit 1 and the app unhealthy (NonCompliant).
#[test]
fn the_compliance_report_names_each_failed_rule_and_the_expired_exemption() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::new(stack, "careless");
    app.push(&[("deployment.yaml", careless_deployment())])
        .create();
    let executor = Executor::new(stack, "").args(&["--scope", &app.scope()]);
    let running = executor.spawn(stack, "deploy");
    // No deployment controller runs here (e2e/up): report the rollout as it would.
    let started = std::time::Instant::now();
    while stack
        .get("deployment", app.namespace(), "careless")
        .is_none()
    {
        assert!(
            started.elapsed() < LIMIT,
            "the Deployment was never applied"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    stack
        .kubectl(&[
            "patch",
            "deployment",
            "careless",
            "-n",
            app.namespace(),
            "--subresource=status",
            "--type=merge",
            "-p",
            r#"{"status":{"observedGeneration":1,"replicas":0}}"#,
        ])
        .unwrap_or_else(|e| panic!("{e}"));
    let deploy = running.finish(LIMIT);
    assert_code(&deploy, ExitCode::SUCCESS);

    let today = chrono::Utc::now().date_naive();
    let day = chrono::Days::new(1);
    let compliance = format!(
        "compliance:\n  exemptions:\n    - {{rule: probes, app: {app}, kind: Deployment, name: careless, reason: a probe is coming in 1.3, expires: '{tomorrow}'}}\n    - {{rule: host-pid, app: {app}, reason: node debugging, expires: '{yesterday}'}}\n",
        app = app.name,
        tomorrow = today + day,
        yesterday = today - day,
    );
    let validate = |extra: &[&str]| {
        Executor::new(stack, &compliance)
            .args(&["--scope", &app.scope()])
            .args(extra)
            .run(stack, "validate", LIMIT)
    };

    let reported = validate(&[]);
    assert_code(&reported, ExitCode::SUCCESS);
    assert_status(&reported, &app.name, "healthy");
    let report = &reported.report["compliance"];
    assert_eq!(report["enforced"], false, "{}", reported.show());
    let resource = format!("Deployment {}/careless", app.namespace());
    let results: Vec<(String, String)> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"] == resource.as_str())
        .map(|e| {
            (
                e["rule"].as_str().unwrap().to_owned(),
                e["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("image-tag", "failed"),
        ("image-digest", "failed"),
        ("run-as-non-root", "failed"),
        ("read-only-root-filesystem", "failed"),
        ("privileged", "failed"),
        ("host-network", "failed"),
        ("host-pid", "failed"),
        ("host-path", "failed"),
        ("capabilities-dropped", "failed"),
        ("probes", "exempt"),
        ("resources", "failed"),
        ("required-labels", "failed"),
    ]
    .map(|(r, s)| (r.to_owned(), s.to_owned()))
    .to_vec();
    assert_eq!(results, expected, "{}", reported.show());
    assert_eq!(
        (report["failed"].as_u64(), report["exempt"].as_u64()),
        (Some(11), Some(1))
    );
    let message = |rule: &str| {
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["rule"] == rule)
            .and_then(|e| e["message"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        message("host-pid"),
        format!(
            "hostPID: true; its exemption expired on {} (node debugging)",
            today - day
        )
    );
    assert_eq!(message("image-tag"), "web: nginx:latest uses :latest");
    assert_eq!(message("required-labels"), "no label team, owner");

    let enforced = validate(&["--enforce-compliance"]);
    assert_code(&enforced, ExitCode::FAILURE);
    assert_status(&enforced, &app.name, "unhealthy");
    assert_eq!(enforced.report["failures"][0]["reason"], "NonCompliant");
    assert_eq!(enforced.report["compliance"]["enforced"], true);
    let said = enforced.report["failures"][0]["message"].as_str().unwrap();
    assert!(said.contains("not compliant (11 failed:"), "{said}");
}
