//! Invalid inputs: exit Invalid, a message naming the input, outputs written,
//! and not a single request sent.

use executor::exit::ExitCode;
use executor::sim::Scenario;

use crate::common::{assert_code, TestContext, TOKEN};

async fn ctx() -> TestContext {
    TestContext::new(Scenario::with_apps(TOKEN, &["temporal"])).await
}

/// Runs with bad inputs and checks the common promises of an invalid run.
async fn assert_invalid(ctx: &TestContext, action: &str, args: &[&str], needle: &str) {
    let result = ctx.run(action, args).await;
    assert_code(&result, ExitCode::INVALID);
    assert_eq!(result.status, "invalid\n");
    assert_eq!(result.report["status"], "invalid");
    assert!(
        result.stderr.contains(needle) || result.stdout.contains(needle),
        "message should mention {needle:?}\nstderr: {}\nstdout: {}",
        result.stderr,
        result.stdout
    );
    assert!(
        ctx.requests().is_empty(),
        "no request before inputs are valid: {:?}",
        ctx.requests()
    );
}

/// A scope that is neither platform, stack:<name> nor app:<name>.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_scope_is_invalid() {
    let ctx = ctx().await;
    assert_invalid(
        &ctx,
        "deploy",
        &["--scope", "application:temporal"],
        "--scope (TARGET_SCOPE)",
    )
    .await;
}

/// DRY_RUN must be true or false.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_maybe_is_invalid() {
    let ctx = ctx().await;
    let mut cmd = ctx.command("deploy", &["--scope", "app:temporal"]);
    cmd.env("DRY_RUN", "maybe");
    let result = ctx.run_command(cmd).await;
    assert_code(&result, ExitCode::INVALID);
    assert!(
        result.stderr.contains("--dry-run (DRY_RUN)"),
        "{}",
        result.stderr
    );
    assert!(ctx.requests().is_empty());
}

/// An unknown field in environment.yaml is named with its line and column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_environment_field_reports_line_and_column() {
    let ctx = ctx().await;
    ctx.write_environment("timeouts:\n  synk: 5m\n");
    assert_invalid(
        &ctx,
        "deploy",
        &["--scope", "app:temporal"],
        "unknown field `synk`",
    )
    .await;
    let result = ctx.run("deploy", &["--scope", "app:temporal"]).await;
    assert!(
        result.stderr.contains("line 9 column 3"),
        "{}",
        result.stderr
    );
}

/// A duration that does not parse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_duration_is_invalid() {
    let ctx = ctx().await;
    ctx.write_environment("timeouts:\n  health: forever\n");
    assert_invalid(
        &ctx,
        "deploy",
        &["--scope", "app:temporal"],
        "'forever' is not a duration",
    )
    .await;
}

/// A missing or unparsable environment.yaml.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_broken_environment_file_is_invalid() {
    let ctx = ctx().await;
    std::fs::write(ctx.config_dir.join("environment.yaml"), "name: [unclosed\n").unwrap();
    assert_invalid(
        &ctx,
        "validate",
        &["--scope", "app:temporal"],
        "environment.yaml",
    )
    .await;
    std::fs::remove_file(ctx.config_dir.join("environment.yaml")).unwrap();
    assert_invalid(
        &ctx,
        "validate",
        &["--scope", "app:temporal"],
        "failed to read environment.yaml",
    )
    .await;
}

/// ENVIRONMENT must equal the file's name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_mismatch_is_invalid() {
    let ctx = ctx().await;
    let mut cmd = ctx.command(
        "deploy",
        &["--scope", "app:temporal", "--environment", "production"],
    );
    cmd.env("X", "1");
    let result = ctx.run_command(cmd).await;
    assert_code(&result, ExitCode::INVALID);
    assert!(
        result.stderr.contains("is 'production' but"),
        "{}",
        result.stderr
    );
}

/// The token file is required, and never taken from a plain variable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_token_file_is_invalid() {
    let ctx = ctx().await;
    std::fs::remove_file(ctx.secrets_dir.join("argocd-token")).unwrap();
    let mut cmd = ctx.command("deploy", &["--scope", "app:temporal"]);
    cmd.env("ARGOCD_TOKEN", TOKEN)
        .env("ARGOCD_AUTH_TOKEN", TOKEN);
    let result = ctx.run_command(cmd).await;
    assert_code(&result, ExitCode::INVALID);
    assert!(result.stderr.contains("argocd-token"), "{}", result.stderr);
    assert!(ctx.requests().is_empty());
}

/// An unknown flag is a usage error: Invalid, not clap's 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_flag_is_invalid_not_usage_code_2() {
    let ctx = ctx().await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_executor"))
        .args(["deploy", "--frobnicate"])
        .output()
        .await
        .unwrap();
    assert_eq!(
        ExitCode::from_code(output.status.code().unwrap()),
        Some(ExitCode::INVALID)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("--frobnicate"));
    assert!(ctx.requests().is_empty());
}

/// --help and --version succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_and_version_exit_success() {
    for args in [&["--help"][..], &["--version"], &["deploy", "--help"]] {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_executor"))
            .args(args)
            .output()
            .await
            .unwrap();
        assert_eq!(
            ExitCode::from_code(output.status.code().unwrap()),
            Some(ExitCode::SUCCESS),
            "{args:?}"
        );
    }
}

/// Teardown without --confirm, or with the wrong name, deletes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_without_confirmation_is_invalid_and_deletes_nothing() {
    let ctx = ctx().await;
    assert_invalid(&ctx, "teardown", &["--scope", "app:temporal"], "--confirm").await;
    assert_invalid(
        &ctx,
        "teardown",
        &["--scope", "app:temporal", "--confirm", "prod"],
        "got 'prod'",
    )
    .await;
    assert!(ctx.sim.app("temporal").is_some(), "the app still exists");
}

/// An https server URL is required unless http is given explicitly; other schemes are invalid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_server_url_is_invalid() {
    let ctx = ctx().await;
    assert_invalid(
        &ctx,
        "validate",
        &["--scope", "app:temporal", "--argocd-server", "ftp://argocd"],
        "--argocd-server",
    )
    .await;
}

/// A name that is not DNS-1123 never reaches a URL: a path in a scope, a
/// stack or a teardown confirmation is Invalid before any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_that_are_not_dns_1123_never_reach_a_url() {
    let ctx = ctx().await;
    for scope in [
        "app:../settings",
        "app:a/b",
        "app:%2e%2e",
        "stack:a/b",
        "app:Temporal",
        "app:",
    ] {
        for action in ["deploy", "validate"] {
            assert_invalid(&ctx, action, &["--scope", scope], "--scope").await;
        }
    }
    assert_invalid(
        &ctx,
        "teardown",
        &["--scope", "app:../settings", "--confirm", "test"],
        "--scope",
    )
    .await;
}

/// A Pushgateway URL that is not an http(s) URL is Invalid before any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_pushgateway_url_is_invalid() {
    let ctx = ctx().await;
    for bad in [
        "pushgateway:9091",
        "ftp://pushgateway",
        "http://pushgateway:9091/?job=x",
    ] {
        assert_invalid(
            &ctx,
            "deploy",
            &["--scope", "app:temporal", "--pushgateway-url", bad],
            "--pushgateway-url (PUSHGATEWAY_URL)",
        )
        .await;
    }
}

/// The workflow templates pass PUSHGATEWAY_URL and OTEL_EXPORTER_OTLP_ENDPOINT
/// empty when unset: empty is none, not invalid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_telemetry_endpoints_are_none() {
    let ctx = ctx().await;
    let mut cmd = ctx.command("deploy", &["--scope", "app:temporal"]);
    cmd.env("PUSHGATEWAY_URL", "")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "");
    let result = ctx.run_command(cmd).await;
    assert_code(&result, ExitCode::SUCCESS);
    assert!(
        !result.stderr.contains("push of the metrics"),
        "{}",
        result.stderr
    );
}

/// `--app-namespace` only means something for one app; with a platform or
/// stack scope it is Invalid, naming the input and where to set it instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_namespace_outside_an_app_scope_is_invalid() {
    let ctx = ctx().await;
    ctx.write_dag("stacks:\n- name: s\n  apps: [{name: temporal}]\n");
    assert_invalid(
        &ctx,
        "deploy",
        &["--scope", "platform", "--app-namespace", "team-a"],
        "--app-namespace (APP_NAMESPACE) applies only to --scope app:<name>",
    )
    .await;
    let mut cmd = ctx.command("validate", &["--scope", "stack:s"]);
    cmd.env("APP_NAMESPACE", "team-a");
    let result = ctx.run_command(cmd).await;
    assert_code(&result, ExitCode::INVALID);
    assert!(
        result
            .stderr
            .contains("`namespace:` on the app in dag.yaml"),
        "{}",
        result.stderr
    );
    assert!(ctx.requests().is_empty());
}

/// A namespace Kubernetes would reject is Invalid before any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_app_namespace_is_invalid() {
    let ctx = ctx().await;
    assert_invalid(
        &ctx,
        "deploy",
        &["--scope", "app:temporal", "--app-namespace", "Team_A"],
        "invalid --app-namespace (APP_NAMESPACE) 'Team_A'",
    )
    .await;
}

/// With a dag.yaml, `app:` must name one of its Applications: a typo gets a
/// did-you-mean, a stack or a resource node is never synced as an app of its
/// name; all Invalid before any request. A stack's own Application syncs
/// alone, as the rendered workflow steps ask.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_scope_must_name_an_application_of_the_dag() {
    const DAG: &str = "\
stacks:
  - name: infrastructure
    app: platform-infrastructure
    apps:
      - name: metallb
      - name: issuers
        dependsOn: [crds]
    resources:
      - name: crds
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        resourceName: certificates.cert-manager.io
";
    let ctx = TestContext::new(Scenario::with_apps(
        TOKEN,
        &["platform-infrastructure", "metallb", "issuers"],
    ))
    .await;
    ctx.write_dag(DAG);
    for (scope, needle) in [
        ("app:metalb", "did you mean 'metallb'?"),
        ("app:crds", "it is a resource of stack 'infrastructure'"),
        ("app:infrastructure", "use stack:infrastructure"),
    ] {
        assert_invalid(&ctx, "deploy", &["--scope", scope], needle).await;
    }
    let result = ctx
        .run("deploy", &["--scope", "app:platform-infrastructure"])
        .await;
    assert_code(&result, ExitCode::SUCCESS);
    assert_eq!(ctx.syncs("platform-infrastructure"), 1);
    assert_eq!(ctx.syncs("metallb") + ctx.syncs("issuers"), 0);
}

/// Each message is one sentence: the input, the value as given, what is
/// wrong and how to write it; no doubled words, no stray line breaks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_inputs_read_as_one_sentence() {
    const LISTED: &str = "stacks:\n- name: a\n  apps:\n  - name: temporal\n";
    const BROKEN: &str = "stacks:\n- name: a\n  apps:\n  - name: x\n    dependsOn: [y]\n";
    let ctx = ctx().await;
    let cases: [(&str, &[&str], &str); 5] = [
        ("deploy", &["--scope", "apps:x"], "invalid --scope (TARGET_SCOPE) 'apps:x': expected platform, stack:<name> or app:<name>"),
        ("deploy", &["--scope", "app:"], "invalid --scope (TARGET_SCOPE) 'app:': the name after 'app:' is empty; write it like app:temporal"),
        ("validate", &["--scope", "app:temporal", "--wait", "5"], "invalid --wait (VALIDATE_WAIT) '5': not a duration (time unit needed, for example 5sec or 5ms); write it like 90s, 5m or 1h"),
        ("deploy", &["--scope", "app:temporal", "--set-timeout", "temporal=sync:soon"], "invalid --set-timeout 'temporal=sync:soon': 'soon' is not a duration"),
        ("deploy", &["--scope", "platform"], "dag.yaml: app 'x' in stack 'a' depends on 'y', which is not a node"),
    ];
    for (action, args, message) in cases {
        match args {
            [.., "platform"] => ctx.write_dag(BROKEN),
            _ => ctx.write_dag(LISTED),
        }
        let result = ctx.run(action, args).await;
        assert_code(&result, ExitCode::INVALID);
        let got = result.report["failures"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(
            got.starts_with(message) || got.contains(message),
            "{args:?}: {got}"
        );
        assert!(!got.contains('\n'), "{args:?}: {got:?}");
        assert!(
            !got.contains("expected expected") && !got.contains("expected '"),
            "{got}"
        );
    }
    assert!(ctx.requests().is_empty());
}

/// Every bad input is reported at once, not one per run: a bad scope, a
/// bad duration, a bad schedule and a missing token, all in one Invalid
/// report, before any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_problem_is_reported_at_once() {
    let ctx = ctx().await;
    std::fs::remove_file(ctx.secrets_dir.join("argocd-token")).unwrap();
    let result = ctx
        .run(
            "deploy",
            &[
                "--scope",
                "apps:x",
                "--sync-timeout",
                "soon",
                "--schedule",
                "fast",
            ],
        )
        .await;
    assert_code(&result, ExitCode::INVALID);
    let message = result.report["failures"][0]["message"]
        .as_str()
        .unwrap_or_default();
    for needle in [
        "4 problems: ",
        "invalid --scope (TARGET_SCOPE) 'apps:x'",
        "invalid --sync-timeout (SYNC_TIMEOUT) 'soon'",
        "invalid --schedule (SCHEDULE) 'fast'",
        "the Argo CD token",
    ] {
        assert!(message.contains(needle), "{needle}: {message}");
    }
    assert!(ctx.requests().is_empty());
}

/// `--set-timeout` and `--set-depends` change dag.yaml's nodes: without a
/// dag.yaml they would do nothing, so they are Invalid, naming the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dag_overrides_without_a_dag_are_invalid() {
    let ctx = ctx().await;
    for flag in [
        ["--set-timeout", "temporal=health:1s"],
        ["--set-depends", "temporal="],
    ] {
        let mut args = vec!["--scope", "app:temporal"];
        args.extend(flag);
        assert_invalid(
            &ctx,
            "deploy",
            &args,
            &format!("{} changes nodes of", flag[0]),
        )
        .await;
    }
}
