//! Critical health checks from health.yaml, through the binary against the
//! simulator: a Vault check on a loopback stand-in that is sealed, then
//! unsealed; health.yaml mistakes are exit 3 before any request.

use std::time::Duration;

use executor::exit::ExitCode;
use executor::sim::{AppScenario, InitialState, Scenario};

use crate::common::{assert_code, TestContext, TOKEN};

#[path = "../support/vault.rs"]
mod vault;
use vault::FakeVault;

const SCOPE: [&str; 2] = ["--scope", "app:vault"];

fn scenario(initial: InitialState) -> Scenario {
    let app = AppScenario {
        initial,
        ..Scenario::with_apps(TOKEN, &["vault"]).apps.remove(0)
    };
    Scenario {
        apps: vec![app],
        ..Scenario::with_apps(TOKEN, &[])
    }
}

fn health_yaml(url: &str) -> String {
    format!("checks:\n  - name: vault-unsealed\n    app: vault\n    vault: {{ url: \"{url}\" }}\n")
}

/// Argo CD says Healthy, Vault says sealed: validate reports the check
/// failed and the app unhealthy (exit 1, reason CheckFailed); unsealed, the
/// same validate passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_fails_a_sealed_vault_and_passes_it_unsealed() {
    let vault = FakeVault::start();
    let ctx = TestContext::new(scenario(InitialState::Healthy)).await;
    std::fs::write(ctx.config_dir.join("health.yaml"), health_yaml(&vault.url)).unwrap();

    let sealed = ctx.run("validate", &SCOPE).await;
    assert_code(&sealed, ExitCode::FAILURE);
    let component = sealed.component();
    assert_eq!(component["status"], "unhealthy", "{component}");
    assert_eq!(sealed.report["failures"][0]["reason"], "CheckFailed");
    let check = &component["checks"][0];
    assert_eq!(check["name"], "vault-unsealed");
    assert_eq!(check["target"], format!("{}/v1/sys/health", vault.url));
    assert_eq!(check["status"], "failed");
    assert_eq!(check["message"], "sealed (503)");
    assert!(
        component["message"]
            .as_str()
            .unwrap()
            .contains("critical check vault-unsealed"),
        "{component}"
    );
    assert_eq!(vault.requests(), 1, "validate asks once");

    vault.unseal();
    let unsealed = ctx.run("validate", &SCOPE).await;
    assert_code(&unsealed, ExitCode::SUCCESS);
    let check = &unsealed.component()["checks"][0];
    assert_eq!(check["status"], "passed", "{check}");
    assert_eq!(check["message"], "initialized, unsealed and active");
}

/// deploy counts the app ready only once Vault is unsealed: it syncs, Argo
/// CD reports Healthy, and the executor keeps asking Vault until it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_waits_for_vault_to_be_unsealed() {
    let vault = FakeVault::start();
    let ctx = TestContext::new(scenario(InitialState::OutOfSync)).await;
    std::fs::write(ctx.config_dir.join("health.yaml"), health_yaml(&vault.url)).unwrap();
    let unsealer = {
        let started = std::time::Instant::now();
        let vault = &vault;
        async move {
            // Unseal once the executor has asked at least twice.
            while vault.requests() < 2 && started.elapsed() < Duration::from_secs(30) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            vault.unseal();
        }
    };
    let (result, ()) = tokio::join!(ctx.run("deploy", &SCOPE), unsealer);
    assert_code(&result, ExitCode::SUCCESS);
    let component = result.component();
    assert_eq!(component["status"], "succeeded", "{component}");
    assert_eq!(component["checks"][0]["status"], "passed", "{component}");
    assert!(
        vault.requests() >= 3,
        "asked while sealed, then once unsealed"
    );
    assert_eq!(ctx.syncs("vault"), 1);
}

/// Sealed past the health timeout: deploy times out (exit 4) naming the
/// check and the deadline to raise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_times_out_on_a_vault_that_stays_sealed() {
    let vault = FakeVault::start();
    let ctx = TestContext::new(scenario(InitialState::Healthy)).await;
    std::fs::write(ctx.config_dir.join("health.yaml"), health_yaml(&vault.url)).unwrap();
    let result = ctx
        .run(
            "deploy",
            &[&SCOPE[..], &["--health-timeout", "3s"]].concat(),
        )
        .await;
    assert_code(&result, ExitCode::TIMEOUT);
    let component = result.component();
    assert_eq!(component["status"], "timeout", "{component}");
    let message = component["message"].as_str().unwrap();
    assert!(
        message.contains("critical check vault-unsealed") && message.contains("sealed (503)"),
        "{message}"
    );
    assert_eq!(ctx.syncs("vault"), 0, "it was already Synced and Healthy");
}

/// A mistake in health.yaml is exit 3 naming the file and the check, before
/// any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_health_yaml_is_invalid_before_any_request() {
    let ctx = TestContext::new(scenario(InitialState::Healthy)).await;
    std::fs::write(
        ctx.config_dir.join("health.yaml"),
        "checks:\n  - name: vault-unsealed\n    app: vault\n    vault: { url: \"ftp://vault\" }\n",
    )
    .unwrap();
    let result = ctx.run("validate", &SCOPE).await;
    assert_code(&result, ExitCode::INVALID);
    let message = result.report["failures"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("health.yaml")
            && message.contains("checks[0] (vault-unsealed)")
            && message.contains("must be an http:// or https:// URL"),
        "{message}"
    );
    assert!(ctx.requests().is_empty(), "{:?}", ctx.requests());
}
