//! Operations that do not end by themselves: an app's own retry policy, and a
//! stalled application controller.

use std::time::Duration;

use executor::exit::ExitCode;

use crate::expect::{self, eventually};
use crate::fixture::{self, assert_code, assert_status, App, Executor, Stack};

const LIMIT: Duration = Duration::from_secs(120);

/// A Service the API server rejects (`spec.type: Unsupported value`).
fn bad_service() -> String {
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\nspec:\n  type: Bogus\n  ports:\n    - port: 80\n".to_owned()
}

/// An app with its own `retry` policy keeps its operation Running
/// ("Retrying attempt #N"). At the sync deadline the executor reports the
/// operation's own message, terminates it, and confirms that it ended; when it
/// says `terminated`, Argo CD agrees.
#[test]
fn a_retrying_operation_is_terminated_and_confirmed_at_the_deadline() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::new(stack, "retry").retrying();
    app.push(&[("svc.yaml", bad_service())]).create();
    let run = Executor::new(stack, "")
        .args(&[
            "--scope",
            &format!("app:{}", app.name),
            "--sync-timeout",
            "8s",
            "--health-timeout",
            "5s",
        ])
        .run(stack, "deploy", LIMIT);
    assert_code(&run, ExitCode::TIMEOUT);
    let component = run.component(&app.name);
    let message = component["message"].as_str().unwrap_or("");
    assert!(
        message.contains("Unsupported value"),
        "the operation's own message: {}",
        run.show()
    );
    // Deadline 8 s, confirmation 10 s at most, plus margin for a loaded machine.
    assert!(run.took < Duration::from_secs(8 + 10 + 5), "{}", run.show());
    match component["termination"].as_str() {
        Some("terminated") => {
            let phase = expect::operation_ended(&app).unwrap_or_else(|seen| {
                panic!(
                    "reported terminated, but Argo CD shows {seen}\n{}",
                    run.show()
                )
            });
            assert_ne!(phase, "Succeeded");
        }
        Some("terminationRequested") => {
            assert!(message.contains("not confirmed"), "{}", run.show())
        }
        other => panic!("termination {other:?}\n{}", run.show()),
    }
}

/// Resumes a stopped process when dropped, so a failing test leaves the stack running.
struct Stopped(u32);

impl Stopped {
    fn new(stack: &Stack, component: &str) -> Stopped {
        let pid = stack.pid(component);
        assert!(std::process::Command::new("kill")
            .args(["-STOP", &pid.to_string()])
            .status()
            .unwrap()
            .success());
        Stopped(pid)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-CONT", &self.0.to_string()])
            .status();
    }
}

/// With the application controller stopped, argocd-server holds a refresh GET
/// open with no limit. The deploy still ends near its deadline (exit 4),
/// saying that the controller did not reconcile, instead of minutes later.
#[test]
fn a_stalled_controller_cannot_hold_a_run_past_its_deadline() {
    let stack = require_stack!();
    let _alone = fixture::exclusive();
    let app = App::new(stack, "stalled");
    app.push(&[("cm.yaml", crate::fixture::config_map("settings"))])
        .create();
    // Let the controller see the app once, as it would have in a real cluster.
    eventually("a first reconcile", LIMIT, || {
        let live = app.application().ok_or("no app")?;
        live.pointer("/status/reconciledAt")
            .map(|_| ())
            .ok_or_else(|| "not reconciled".to_owned())
    });
    let run = {
        let _stopped = Stopped::new(stack, "argocd-application-controller");
        Executor::new(stack, "")
            .args(&[
                "--scope",
                &format!("app:{}", app.name),
                "--sync-timeout",
                "5s",
                "--health-timeout",
                "5s",
            ])
            .run(stack, "deploy", LIMIT)
    };
    assert_code(&run, ExitCode::TIMEOUT);
    assert!(run.took < Duration::from_secs(5 + 5 + 5), "{}", run.show());
    let message = run.component(&app.name)["message"].as_str().unwrap_or("");
    assert!(message.contains("controller"), "{}", run.show());
}

/// SIGTERM while the operation this run started is Running (kept so by the
/// app's retry policy): exit within the contract's 2 s (with margin for a
/// loaded machine), a cancelled report that says the termination was
/// requested or confirmed, and Argo CD's operation really ends.
#[test]
fn sigterm_terminates_the_operation_this_run_started() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::new(stack, "sigterm").retrying();
    app.push(&[("svc.yaml", bad_service())]).create();
    let executor = Executor::new(stack, "").args(&["--scope", &format!("app:{}", app.name)]);
    let mut running = executor.spawn(stack, "deploy");
    running.meanwhile("our operation to be Running", LIMIT, || {
        let live = app.application().ok_or("no app")?;
        match expect::field(&live, "/status/operationState/phase") {
            "Running"
                if expect::field(&live, "/status/operationState/message").contains("Retrying") =>
            {
                Ok(())
            }
            other => Err(other.to_owned()),
        }
    });
    let (run, took) = running.terminate();
    assert!(
        took < Duration::from_millis(2500),
        "exited {took:?} after SIGTERM\n{}",
        run.show()
    );
    assert_eq!(run.report["status"], "cancelled", "{}", run.show());
    let component = run.component(&app.name);
    assert_eq!(component["status"], "cancelled", "{}", run.show());
    match component["termination"].as_str() {
        Some("terminated") => {
            expect::operation_ended(&app)
                .unwrap_or_else(|seen| panic!("reported terminated, Argo CD shows {seen}"));
        }
        Some("terminationRequested") => {
            eventually(
                "the requested termination to end the operation",
                Duration::from_secs(30),
                || expect::operation_ended(&app),
            );
        }
        other => panic!("termination {other:?}\n{}", run.show()),
    }
}

/// validate cannot refresh: a snapshot whose last reconcile predates the end of
/// the last operation is reported degraded ("not yet re-assessed"), never
/// healthy, even though it says Synced and Healthy. Produced on the real
/// servers by stopping the controller and writing the status it would have
/// left right after an operation (Application status has no subresource).
#[test]
fn validate_reports_a_stale_snapshot_as_degraded() {
    let stack = require_stack!();
    let _alone = fixture::exclusive();
    let app = App::deployed(stack, "stale");
    let scope = app.scope();
    let run = {
        let _stopped = Stopped::new(stack, "argocd-application-controller");
        let live = app.application().unwrap();
        let finished = expect::field(&live, "/status/operationState/finishedAt").to_owned();
        let finished: chrono::DateTime<chrono::Utc> = finished.parse().unwrap();
        let before = (finished - chrono::TimeDelta::seconds(5)).format("%Y-%m-%dT%H:%M:%SZ");
        stack
            .kubectl(&[
                "patch",
                "applications.argoproj.io",
                &app.name,
                "-n",
                stack.var("ARGOCD_NAMESPACE"),
                "--type=merge",
                "-p",
                &format!(r#"{{"status":{{"reconciledAt":"{before}"}}}}"#),
            ])
            .unwrap_or_else(|e| panic!("{e}"));
        eventually("argocd-server to serve the patched status", LIMIT, || {
            let live = stack.argocd("GET", &format!("/api/v1/applications/{}", app.name), None)?;
            match expect::field(&live, "/status/reconciledAt") {
                at if at == before.to_string() => Ok(()),
                other => Err(other.to_owned()),
            }
        });
        Executor::new(stack, "")
            .args(&["--scope", &scope])
            .run(stack, "validate", LIMIT)
    };
    assert_code(&run, ExitCode::PARTIAL);
    assert_status(&run, &app.name, "degraded");
    let message = run.component(&app.name)["message"].as_str().unwrap_or("");
    assert!(
        message.contains("not yet re-assessed since the last operation"),
        "{}",
        run.show()
    );
}
