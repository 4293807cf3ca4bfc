//! teardown's PV policy against the real stack: a PVC bound to a PV whose
//! reclaim policy is Delete. `retain` patches the PV to Retain before the
//! delete is sent (the API server's audit log shows the order), and without
//! cluster access teardown refuses to delete rather than lose the volume.

use std::time::Duration;

use executor::exit::ExitCode;

use crate::fixture::{self, assert_code, assert_status, App, Executor, Stack, ENVIRONMENT};

const LIMIT: Duration = Duration::from_secs(120);

fn claim(volume: &str) -> String {
    format!("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\nspec:\n  accessModes: [ReadWriteOnce]\n  storageClassName: \"\"\n  volumeName: {volume}\n  resources:\n    requests:\n      storage: 1Gi\n")
}

fn volume(name: &str, namespace: &str) -> String {
    format!("apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: {name}\nspec:\n  capacity:\n    storage: 1Gi\n  accessModes: [ReadWriteOnce]\n  persistentVolumeReclaimPolicy: Delete\n  storageClassName: \"\"\n  claimRef:\n    namespace: {namespace}\n    name: data\n  hostPath:\n    path: /tmp/{name}\n")
}

fn reclaim_policy(stack: &Stack, name: &str) -> Option<String> {
    let out = stack
        .kubectl(&["get", "pv", name, "-o", "json", "--ignore-not-found"])
        .unwrap_or_else(|e| panic!("{e}"));
    let pv: serde_json::Value = serde_json::from_str(out.trim()).ok()?;
    pv["spec"]["persistentVolumeReclaimPolicy"]
        .as_str()
        .map(str::to_owned)
}

/// A new PersistentVolume (reclaim policy Delete) for the claim `data` of
/// `app`'s namespace: its name, and the claim's manifest.
pub(crate) fn volume_for(stack: &Stack, app: &App) -> (String, String) {
    let pv = stack.unique("pv");
    stack
        .apply(&volume(&pv, app.namespace()))
        .unwrap_or_else(|e| panic!("{e}"));
    let claim = claim(&pv);
    (pv, claim)
}

/// Binds `app`'s claim `data` once Argo CD has applied it. No PV controller
/// runs here (e2e/up), so the test binds the claim, as it would.
pub(crate) fn bind_when_applied(stack: &Stack, app: &App) {
    let started = std::time::Instant::now();
    while stack.get("pvc", app.namespace(), "data").is_none() {
        assert!(started.elapsed() < LIMIT, "the claim was never applied");
        std::thread::sleep(Duration::from_millis(200));
    }
    stack
        .kubectl(&[
            "patch",
            "pvc",
            "data",
            "-n",
            app.namespace(),
            "--subresource=status",
            "--type=merge",
            "-p",
            r#"{"status":{"phase":"Bound","accessModes":["ReadWriteOnce"],"capacity":{"storage":"1Gi"}}}"#,
        ])
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Deploys an app of one claim bound to a new volume.
fn deployed_with_a_volume(stack: &'static Stack) -> (App, String) {
    let app = App::new(stack, "volume");
    let (pv, claim) = volume_for(stack, &app);
    app.push(&[("pvc.yaml", claim)]).create();
    let executor = Executor::new(stack, "").args(&["--scope", &app.scope()]);
    let running = executor.spawn(stack, "deploy");
    bind_when_applied(stack, &app);
    assert_code(&running.finish(LIMIT), ExitCode::SUCCESS);
    (app, pv)
}

/// Without cluster access the volume cannot be kept: teardown fails the app
/// (VolumePolicy) and sends no delete. With access, the PV is patched to
/// Retain first, then the app deleted (audit log order), and the PV stays.
#[test]
fn retain_patches_the_volume_before_the_delete() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let (app, pv) = deployed_with_a_volume(stack);
    let teardown = |kubeconfig: bool| {
        let executor = Executor::new(stack, "").args(&[
            "--scope",
            &app.scope(),
            "--confirm",
            ENVIRONMENT,
            "--pv-policy",
            "retain",
        ]);
        let executor = if kubeconfig {
            executor.admin_kubeconfig(stack)
        } else {
            executor
        };
        executor.run(stack, "teardown", LIMIT)
    };

    let refused = teardown(false);
    assert_code(&refused, ExitCode::FAILURE);
    assert_status(&refused, &app.name, "failed");
    assert_eq!(refused.report["failures"][0]["reason"], "VolumePolicy");
    let said = refused.component(&app.name)["message"].as_str().unwrap();
    assert!(said.contains("nothing was deleted"), "{said}");
    assert!(app.application().is_some(), "the app is still there");
    assert!(stack
        .audited("delete", "applications", &app.name)
        .is_empty());

    let run = teardown(true);
    assert_code(&run, ExitCode::SUCCESS);
    assert_status(&run, &app.name, "removed");
    let said = run.component(&app.name)["message"].as_str().unwrap();
    assert!(
        said.contains(&format!("retained PersistentVolumes: {pv}")),
        "{said}"
    );
    assert_eq!(reclaim_policy(stack, &pv).as_deref(), Some("Retain"));
    let patched = stack.audited("patch", "persistentvolumes", &pv);
    let deleted = stack.audited("delete", "applications", &app.name);
    assert_eq!(patched.len(), 1, "one patch of {pv}");
    assert!(!deleted.is_empty(), "Argo CD deleted the Application");
    assert!(
        patched[0] < deleted[0],
        "the PV was patched ({}) before the Application was deleted ({})",
        patched[0],
        deleted[0]
    );
    let _ = stack.kubectl(&["delete", "pv", &pv, "--wait=false"]);
}

/// The name of the first VolumeSnapshot in `app`'s namespace, once there is one.
pub(crate) fn snapshot_once_taken(stack: &Stack, app: &App) -> String {
    let started = std::time::Instant::now();
    loop {
        let listed = stack
            .kubectl(&[
                "get",
                "volumesnapshots",
                "-n",
                app.namespace(),
                "-o",
                "name",
            ])
            .unwrap_or_default();
        if let Some(name) = listed.lines().next() {
            break name
                .trim_start_matches("volumesnapshot.snapshot.storage.k8s.io/")
                .to_owned();
        }
        assert!(started.elapsed() < LIMIT, "no VolumeSnapshot was created");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Sets `status.readyToUse` of `app`'s VolumeSnapshot, as the snapshot controller would.
pub(crate) fn make_ready(stack: &Stack, app: &App, snapshot: &str) {
    stack
        .kubectl(&[
            "patch",
            "volumesnapshot",
            snapshot,
            "-n",
            app.namespace(),
            "--subresource=status",
            "--type=merge",
            "-p",
            r#"{"status":{"readyToUse":true}}"#,
        ])
        .unwrap_or_else(|e| panic!("{e}"));
}

/// `snapshot`: a VolumeSnapshot of the claim, waited for until ready to use
/// (the test sets `status.readyToUse`, as the snapshot controller would),
/// then the volume retained and the app deleted.
#[test]
fn snapshot_waits_for_a_ready_snapshot_then_retains() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let (app, pv) = deployed_with_a_volume(stack);
    let executor = Executor::new(stack, "").admin_kubeconfig(stack).args(&[
        "--scope",
        &app.scope(),
        "--confirm",
        ENVIRONMENT,
        "--pv-policy",
        "snapshot",
    ]);
    let mut running = executor.spawn(stack, "teardown");
    let snapshot = snapshot_once_taken(stack, &app);
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        running.is_running(),
        "it waits for the snapshot to be ready"
    );
    assert!(
        app.application().is_some(),
        "nothing deleted before the snapshot is ready"
    );
    let taken = stack
        .get("volumesnapshot", app.namespace(), &snapshot)
        .unwrap();
    assert_eq!(taken["spec"]["source"]["persistentVolumeClaimName"], "data");
    make_ready(stack, &app, &snapshot);
    let run = running.finish(LIMIT);
    assert_code(&run, ExitCode::SUCCESS);
    assert_status(&run, &app.name, "removed");
    let said = run.component(&app.name)["message"].as_str().unwrap();
    assert!(
        said.contains(&format!(
            "snapshots ready: {}/{snapshot}; retained PersistentVolumes: {pv}",
            app.namespace()
        )),
        "{said}"
    );
    assert_eq!(reclaim_policy(stack, &pv).as_deref(), Some("Retain"));
    let _ = stack.kubectl(&["delete", "pv", &pv, "--wait=false"]);
}
