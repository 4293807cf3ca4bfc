//! Critical health checks against the real stack: a Rook CephCluster that
//! Argo CD counts as Healthy (it has no health rule for it) while Ceph
//! says HEALTH_WARN, and a Vault check on a loopback stand-in that is sealed.
//! The CephCluster CRD is e2e/manifests/health-crds.yaml (the real group,
//! kind and status fields); the test writes its status, as Rook would.

use std::time::Duration;

use executor::exit::ExitCode;

use crate::fixture::{self, assert_code, assert_status, config_map, App, Executor};

#[path = "../support/vault.rs"]
mod vault;

const LIMIT: Duration = Duration::from_secs(120);

fn ceph_cluster() -> String {
    "apiVersion: ceph.rook.io/v1\nkind: CephCluster\nmetadata:\n  name: rook-ceph\nspec:\n  dataDirHostPath: /var/lib/rook\n  mon:\n    count: 3\n".to_owned()
}

/// Writes the CephCluster's status through the status subresource.
fn set_ceph(app: &App, health: &str) {
    let patch = format!(
        r#"{{"status":{{"phase":"Ready","ceph":{{"health":"{health}","details":{{"MON_DISK_LOW":{{"message":"mon a is low on available space","severity":"HEALTH_WARN"}}}}}}}}}}"#
    );
    app.stack
        .kubectl(&[
            "patch",
            "cephclusters.ceph.rook.io",
            "rook-ceph",
            "-n",
            app.namespace(),
            "--subresource=status",
            "--type=merge",
            "-p",
            &patch,
        ])
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The check records of the app's component, as (name, target, status).
fn checks(run: &fixture::Run, app: &str) -> Vec<(String, String, String)> {
    run.component(app)["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no checks: {}", run.show()))
        .iter()
        .map(|c| {
            let field = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            (field("name"), field("target"), field("status"))
        })
        .collect()
}

/// deploy syncs the CephCluster, Argo CD reports the app Healthy, and the
/// built-in check keeps the executor waiting (no status yet) until the
/// health timeout: exit 4 naming the check. With Ceph at HEALTH_WARN,
/// validate reports the app unhealthy (exit 1, CheckFailed); at HEALTH_OK
/// a deploy passes without a sync.
#[test]
fn a_ceph_cluster_in_health_warn_is_unhealthy() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::new(stack, "ceph");
    app.push(&[
        ("cluster.yaml", ceph_cluster()),
        ("cm.yaml", config_map("settings")),
    ])
    .create();
    let executor = || {
        Executor::new(stack, "")
            .admin_kubeconfig(stack)
            .args(&["--scope", &app.scope()])
    };

    let waited = executor()
        .args(&["--health-timeout", "6s"])
        .run(stack, "deploy", LIMIT);
    assert_code(&waited, ExitCode::TIMEOUT);
    assert_status(&waited, &app.name, "timeout");
    let message = waited.component(&app.name)["message"].as_str().unwrap();
    assert!(
        // "synced; …" or "sync completed; …", as the stream's updates fell.
        message.contains("Synced and Healthy")
            && message.contains(&format!(
                "critical check cephCluster (CephCluster {}/rook-ceph): no status.phase yet",
                app.namespace()
            )),
        "{}",
        waited.show()
    );
    assert_eq!(
        app.application().unwrap()["status"]["health"]["status"],
        "Healthy",
        "Argo CD itself counts the CephCluster healthy"
    );

    set_ceph(&app, "HEALTH_WARN");
    let warned = executor().run(stack, "validate", LIMIT);
    assert_code(&warned, ExitCode::FAILURE);
    assert_status(&warned, &app.name, "unhealthy");
    assert_eq!(warned.report["failures"][0]["reason"], "CheckFailed");
    let target = format!("CephCluster {}/rook-ceph", app.namespace());
    assert_eq!(
        checks(&warned, &app.name),
        [(
            "cephCluster".to_owned(),
            target.clone(),
            "failed".to_owned()
        )]
    );
    let said = warned.component(&app.name)["checks"][0]["message"]
        .as_str()
        .unwrap();
    assert_eq!(
        said,
        "phase Ready but HEALTH_WARN, not HEALTH_OK (MON_DISK_LOW: mon a is low on available space)"
    );

    set_ceph(&app, "HEALTH_OK");
    let fine = executor().run(stack, "deploy", LIMIT);
    assert_code(&fine, ExitCode::SUCCESS);
    assert_status(&fine, &app.name, "unchanged");
    assert_eq!(
        checks(&fine, &app.name),
        [("cephCluster".to_owned(), target, "passed".to_owned())]
    );
}

/// A Vault check (health.yaml) against a sealed Vault on loopback: the app
/// is Healthy in Argo CD and unhealthy to validate (exit 1); unsealed, it
/// validates (exit 0). No cluster access is needed for an HTTP check.
#[test]
fn a_sealed_vault_fails_its_check() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::deployed(stack, "vault");
    let vault = vault::FakeVault::start();
    let executor = || {
        let executor = Executor::new(stack, "").args(&["--scope", &app.scope()]);
        std::fs::create_dir_all(executor.config_dir()).unwrap();
        std::fs::write(
            executor.config_dir().join("health.yaml"),
            format!(
                "checks:\n  - name: vault-unsealed\n    app: {}\n    vault: {{ url: \"{}\" }}\n",
                app.name, vault.url
            ),
        )
        .unwrap();
        executor
    };

    let sealed = executor().run(stack, "validate", LIMIT);
    assert_code(&sealed, ExitCode::FAILURE);
    assert_status(&sealed, &app.name, "unhealthy");
    let check = &sealed.component(&app.name)["checks"][0];
    assert_eq!(
        (check["status"].as_str(), check["message"].as_str()),
        (Some("failed"), Some("sealed (503)")),
        "{}",
        sealed.show()
    );
    assert_eq!(sealed.component(&app.name)["health"], "Healthy");
    assert_eq!(vault.requests(), 1, "validate asks once");

    vault.unseal();
    let unsealed = executor().run(stack, "validate", LIMIT);
    assert_code(&unsealed, ExitCode::SUCCESS);
    assert_eq!(
        unsealed.component(&app.name)["checks"][0]["status"],
        "passed"
    );
}
