//! Each action takes its own flags: another action's flag is a usage error
//! (Invalid, before any request), another action's environment variable is
//! ignored, and each `--help` lists only what the action takes.

use executor::exit::ExitCode;
use executor::sim::{InitialState, Scenario};

use crate::common::cli::executor;
use crate::common::{TestContext, TOKEN};

async fn ctx() -> TestContext {
    TestContext::new(Scenario::with_apps(TOKEN, &["temporal"])).await
}

/// The exit code of a finished process, by name.
fn code(output: &std::process::Output) -> Option<ExitCode> {
    ExitCode::from_code(output.status.code().expect("exited"))
}

/// A flag of another action is Invalid, named, and sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_actions_flag_is_invalid() {
    let ctx = ctx().await;
    let cases: [(&str, &[&str]); 6] = [
        ("validate", &["--confirm", "dev"]),
        ("validate", &["--dry-run", "true"]),
        ("validate", &["--sync-timeout", "5m"]),
        ("deploy", &["--pv-policy", "delete"]),
        ("deploy", &["--wait", "5m"]),
        ("teardown", &["--prune", "true"]),
    ];
    for (action, flag) in cases {
        let mut args = vec!["--scope", "app:temporal"];
        args.extend_from_slice(flag);
        let mut cmd = ctx.command(action, &args);
        let output = cmd.output().await.expect("executor runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            code(&output),
            Some(ExitCode::INVALID),
            "{action} {flag:?}: {stderr}"
        );
        assert!(stderr.contains(flag[0]), "{action} {flag:?}: {stderr}");
    }
    assert!(ctx.requests().is_empty(), "{:?}", ctx.requests());
}

/// Variables of another action are ignored: one ConfigMap serves every step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_actions_environment_is_ignored() {
    let mut scenario = Scenario::with_apps(TOKEN, &["temporal"]);
    scenario.apps[0].initial = InitialState::Healthy;
    let ctx = TestContext::new(scenario).await;
    let mut cmd = ctx.command("validate", &["--scope", "app:temporal"]);
    cmd.env("DRY_RUN", "maybe")
        .env("TEARDOWN_CONFIRM", "someone-else")
        .env("PV_POLICY", "shred")
        .env("SYNC_TIMEOUT", "soon");
    let result = ctx.run_command(cmd).await;
    crate::common::assert_code(&result, ExitCode::SUCCESS);
    assert_eq!(result.report["components"][0]["status"], "healthy");
}

/// Each action's help lists its own flags, with defaults, and no other's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_action_helps_with_its_own_flags() {
    let cases: [(&str, &[&str], &[&str]); 3] = [
        (
            "deploy",
            &[
                "--dry-run",
                "--sync-timeout",
                "--prune",
                "--wait-sync-window",
            ],
            &["--confirm", "--pv-policy", "--wait "],
        ),
        (
            "validate",
            &["--wait", "--scope", "--timeout"],
            &["--confirm", "--dry-run", "--pv-policy", "--prune"],
        ),
        (
            "teardown",
            &["--confirm", "--pv-policy", "--dry-run"],
            &["--wait ", "--prune", "--wait-sync-window"],
        ),
    ];
    for (action, own, foreign) in cases {
        let output = executor(&[action, "--help"], &[]);
        assert_eq!(output.code, ExitCode::SUCCESS, "{action} --help");
        let help = &output.stdout;
        for flag in own {
            assert!(help.contains(flag), "{action} --help lacks {flag}:\n{help}");
        }
        for flag in foreign {
            assert!(
                !help.contains(flag),
                "{action} --help lists {flag}:\n{help}"
            );
        }
        assert!(help.contains("[default: platform]"), "{action}: {help}");
    }
}

/// `executor` or `executor dag` alone is a usage error, not a success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_subcommand_is_invalid() {
    for args in [&[][..], &["dag"]] {
        let output = executor(args, &[]);
        assert_eq!(output.code, ExitCode::INVALID, "{args:?}");
        assert!(output.stderr.contains("Usage:"), "{args:?}");
    }
}

/// `executor completion <shell>` prints a script that knows the actions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_scripts_know_the_actions() {
    for shell in ["bash", "zsh", "fish"] {
        let output = executor(&["completion", shell], &[]);
        assert_eq!(output.code, ExitCode::SUCCESS, "{shell}");
        let script = &output.stdout;
        for word in ["executor", "deploy", "teardown", "--confirm"] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
    assert_eq!(
        executor(&["completion", "tcsh"], &[]).code,
        ExitCode::INVALID
    );
}

/// `--prune` wins over environment.yaml's `sync.prune` in the sync request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_flag_wins_over_environment_yaml() {
    for (flag, file, want) in [
        (None, "sync:\n  prune: true\n", true),
        (Some("false"), "sync:\n  prune: true\n", false),
        (Some("true"), "", true),
    ] {
        let ctx = ctx().await;
        ctx.write_environment(file);
        let mut args = vec!["--scope", "app:temporal"];
        if let Some(value) = flag {
            args.extend(["--prune", value]);
        }
        let result = ctx.run("deploy", &args).await;
        crate::common::assert_code(&result, ExitCode::SUCCESS);
        let body = ctx.first_sync_body();
        assert_eq!(
            body["prune"], want,
            "--prune {flag:?} with {file:?}: {body}"
        );
    }
}
