//! report.json as a whole (schema `executor.report/v2`): the summary counters,
//! the run's identity (`runId`, `version`, `simulated`) and the Application
//! each component stands for, named in the recommendations.

use std::time::Duration;

use executor::exit::ExitCode;
use executor::sim::{Scenario, SimOutcome};
use serde_json::{json, Value};

use crate::common::{assert_code, RunResult, TestContext, TOKEN};

/// `infrastructure` syncs its app-of-apps `platform-infrastructure` before
/// cert-manager; `tools` is a grouping stack, with no Application of its own.
const DAG: &str = "\
stacks:
  - name: infrastructure
    app: platform-infrastructure
    apps:
      - name: cert-manager
  - name: tools
    apps:
      - name: dashboard
";

async fn stacks(change: impl Fn(&mut executor::sim::AppScenario)) -> TestContext {
    let mut scenario = Scenario::with_apps(
        TOKEN,
        &["platform-infrastructure", "cert-manager", "dashboard"],
    );
    for app in &mut scenario.apps {
        app.sync_duration = Duration::from_millis(100);
        app.health_delay = Duration::from_millis(50);
        change(app);
    }
    let ctx = TestContext::new(scenario).await;
    ctx.write_dag(DAG);
    ctx
}

fn component<'a>(result: &'a RunResult, name: &str) -> &'a Value {
    result.report["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{name} reported: {:#}", result.report))
}

/// A platform deploy whose app-of-apps' sync fails: Partial.
async fn failed_app_of_apps() -> RunResult {
    let ctx = stacks(|app| {
        if app.name == "platform-infrastructure" {
            app.outcome = SimOutcome::OperationFailed;
        }
    })
    .await;
    let result = ctx.run("deploy", &["--scope", "platform"]).await;
    assert_code(&result, ExitCode::PARTIAL);
    result
}

/// The sum of every counter but `total`.
fn counted(summary: &Value) -> u64 {
    summary
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "total")
        .map(|(_, v)| v.as_u64().unwrap())
        .sum()
}

/// A dry run's "would sync" is counted as `pending`, under its own name, not
/// as skipped; every deploy counter is present, zeros included, and they add
/// up to `total`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_counts_pending_by_its_own_name() {
    let ctx = stacks(|_| {}).await;
    let result = ctx
        .run("deploy", &["--scope", "platform", "--dry-run", "true"])
        .await;
    assert_code(&result, ExitCode::SUCCESS);
    assert_eq!(result.report["apiVersion"], "executor.report/v2");
    assert_eq!(
        result.report["summary"],
        json!({"total": 4, "succeeded": 0, "unchanged": 0, "failed": 0, "skipped": 0,
               "timeout": 0, "pending": 4, "cancelled": 0}),
        "{:#}",
        result.report["components"]
    );
}

/// A failed app-of-apps: its stack is `failed`, its member `skipped`, the
/// grouping stack and its app `succeeded`; the counters say exactly that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_counters_match_the_components() {
    let result = failed_app_of_apps().await;
    let summary = &result.report["summary"];
    assert_eq!(
        *summary,
        json!({"total": 4, "succeeded": 2, "unchanged": 0, "failed": 1, "skipped": 1,
               "timeout": 0, "pending": 0, "cancelled": 0})
    );
    assert_eq!(counted(summary), 4);
}

/// validate counts `degraded` as degraded (v1 counted it as failed), with the
/// validate counters only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_counts_degraded_by_its_own_name() {
    let ctx = stacks(|app| {
        app.initial = if app.name == "dashboard" {
            executor::sim::InitialState::OutOfSync
        } else {
            executor::sim::InitialState::Healthy
        };
    })
    .await;
    let result = ctx.run("validate", &["--scope", "platform"]).await;
    assert_code(&result, ExitCode::PARTIAL);
    assert_eq!(
        result.report["summary"],
        json!({"total": 4, "healthy": 2, "degraded": 2, "unhealthy": 0, "failed": 0,
               "timeout": 0, "pending": 0, "cancelled": 0}),
        "{:#}",
        result.report["components"]
    );
}

/// Each component names the Argo CD Application it stands for (none for a
/// grouping stack), and the advice names that Application, not the stack.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recommendations_name_the_application_not_the_stack() {
    let result = failed_app_of_apps().await;
    assert_eq!(
        component(&result, "infrastructure")["application"],
        "platform-infrastructure"
    );
    assert_eq!(component(&result, "dashboard")["application"], "dashboard");
    assert!(
        component(&result, "tools").get("application").is_none(),
        "a grouping stack has no Application"
    );
    let advice = result.report["recommendations"].to_string();
    assert!(
        advice.contains("argocd app get platform-infrastructure --show-operation"),
        "{advice}"
    );
    assert!(
        !advice.contains("argocd app get infrastructure"),
        "{advice}"
    );
    assert!(
        result
            .stdout
            .contains("argocd app get platform-infrastructure"),
        "{}",
        result.stdout
    );
}

/// Every report carries a random run id (the `executor-run` info of its
/// syncs), prefixed with the workflow and pod name that the templates pass,
/// and the executor's version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_names_the_run_and_the_version() {
    let ctx = stacks(|_| {}).await;
    let mut cmd = ctx.command("deploy", &["--scope", "app:dashboard"]);
    cmd.env("WORKFLOW_NAME", "platform-deploy-x7k2p")
        .env("POD_NAME", "platform-deploy-x7k2p-deploy-1234567890");
    let first = ctx.run_command(cmd).await;
    assert_code(&first, ExitCode::SUCCESS);
    assert_eq!(first.report["version"], env!("CARGO_PKG_VERSION"));
    let run_id = first.report["runId"].as_str().unwrap().to_owned();
    let random = run_id
        .strip_prefix("platform-deploy-x7k2p-deploy-1234567890-")
        .unwrap_or_else(|| panic!("{run_id} starts with the pod name"));
    assert!(
        random.len() == 12 && random.chars().all(|c| c.is_ascii_hexdigit()),
        "{run_id}"
    );
    let sync = ctx
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/sync"))
        .unwrap();
    assert_eq!(
        sync.body.unwrap()["infos"][0],
        json!({"name": "executor-run", "value": run_id})
    );
    // Same pod name, same second: still another run id.
    let mut cmd = ctx.command("deploy", &["--scope", "app:dashboard"]);
    cmd.env("WORKFLOW_NAME", "platform-deploy-x7k2p")
        .env("POD_NAME", "platform-deploy-x7k2p-deploy-1234567890");
    let second = ctx.run_command(cmd).await;
    assert_ne!(second.report["runId"], first.report["runId"]);
}

/// An invalid run has a run id and a version too, and says whether it was simulated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_report_names_the_run() {
    let ctx = stacks(|_| {}).await;
    let result = ctx
        .run(
            "deploy",
            &["--scope", "app:dashboard", "--dry-run", "maybe"],
        )
        .await;
    assert_code(&result, ExitCode::INVALID);
    assert!(result.report["runId"]
        .as_str()
        .is_some_and(|id| id.len() == 12));
    assert_eq!(result.report["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(result.report["simulated"], false);
}

/// A simulated run says so in report.json and on stdout, and warns that the
/// given Argo CD server is not used; a real run says `simulated: false`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_run_is_marked_as_such() {
    let ctx = stacks(|_| {}).await;
    let real = ctx.run("deploy", &["--scope", "app:dashboard"]).await;
    assert_code(&real, ExitCode::SUCCESS);
    assert_eq!(real.report["simulated"], false);
    assert!(!real.stdout.contains("simulated"), "{}", real.stdout);
    let before = ctx.requests().len();
    let simulated = ctx
        .run("deploy", &["--scope", "app:dashboard", "--simulate"])
        .await;
    assert_code(&simulated, ExitCode::SUCCESS);
    assert_eq!(simulated.report["simulated"], true);
    assert!(
        simulated
            .stdout
            .lines()
            .next()
            .unwrap()
            .contains("(simulated)"),
        "{}",
        simulated.stdout
    );
    let warning = simulated
        .stderr
        .lines()
        .find(|l| l.contains("--argocd-server"))
        .unwrap_or_else(|| panic!("a warning about the ignored server: {}", simulated.stderr));
    assert!(warning.contains(r#""level":"warn""#), "{warning}");
    assert_eq!(ctx.requests().len(), before, "the given server is not used");
}

/// `executor report` shows a real partial-failure report: text without
/// colour when piped (and with NO_COLOR), Markdown with a row per
/// component, the JSON as written; a file that is not a report is Invalid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executor_report_shows_a_partial_report() {
    use crate::common::cli::executor;
    let result = failed_app_of_apps().await;
    assert_code(&result, ExitCode::PARTIAL);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    std::fs::write(&path, result.report.to_string()).unwrap();
    let path = path.to_str().unwrap();

    let text = executor(&["report", path], &[("NO_COLOR", "1")]);
    assert_eq!(text.code, ExitCode::SUCCESS, "{}", text.stderr);
    let first = text.stdout.lines().next().unwrap();
    assert!(
        first.contains("partial (exit 2 Partial)"),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains('\x1b'), "no colour when piped");
    let failed: Vec<&Value> = result.report["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "succeeded")
        .collect();
    assert!(!failed.is_empty());
    for c in &failed {
        let name = c["name"].as_str().unwrap();
        assert!(
            text.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(name)
                    && l.contains(c["status"].as_str().unwrap())),
            "{name} in\n{}",
            text.stdout
        );
    }
    for r in result.report["recommendations"].as_array().unwrap() {
        assert!(text.stdout.contains(r.as_str().unwrap()), "{}", text.stdout);
    }

    let markdown = executor(&["report", path, "-o", "markdown"], &[]);
    assert_eq!(markdown.code, ExitCode::SUCCESS);
    let rows = markdown
        .stdout
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| component "))
        .count();
    assert_eq!(
        rows,
        result.report["components"].as_array().unwrap().len(),
        "{}",
        markdown.stdout
    );

    let json = executor(&["report", path, "-o", "json"], &[]);
    let back: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(back, result.report);

    std::fs::write(dir.path().join("other.json"), r#"{"apiVersion": "v1"}"#).unwrap();
    let other = dir.path().join("other.json");
    let refused = executor(&["report", other.to_str().unwrap()], &[]);
    assert_eq!(refused.code, ExitCode::INVALID);
    assert!(
        refused.stderr.contains("not an executor report"),
        "{}",
        refused.stderr
    );
    let missing = executor(&["report", "/nonexistent/report.json"], &[]);
    assert_eq!(missing.code, ExitCode::INVALID);
}

/// A failure carries what its Application showed: the last snapshot's
/// health and sync, and the unhealthy resources of its tree (read once, at
/// the end), pods included; the text view shows them under the component.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_carries_its_evidence() {
    use executor::sim::AppScenario;
    let ctx = TestContext::new(Scenario {
        apps: vec![AppScenario {
            outcome: SimOutcome::Degraded,
            ..AppScenario::named("temporal")
        }],
        ..Scenario::with_apps(TOKEN, &[])
    })
    .await;
    let result = ctx.run("deploy", &["--scope", "app:temporal"]).await;
    assert_code(&result, ExitCode::FAILURE);
    let failure = &result.report["failures"][0];
    assert_eq!(failure["reason"], "Degraded", "{failure}");
    let evidence = &failure["evidence"];
    assert!(
        evidence["health"]
            .as_str()
            .is_some_and(|h| h.starts_with("Degraded")),
        "{evidence}"
    );
    assert_eq!(evidence["sync"], "Synced", "{evidence}");
    let resources: Vec<&str> = evidence["resources"]
        .as_array()
        .unwrap_or_else(|| panic!("{evidence}"))
        .iter()
        .map(|r| r["resource"].as_str().unwrap())
        .collect();
    assert!(
        resources.iter().any(|r| r.starts_with("Pod temporal/")),
        "{resources:?}"
    );
    assert_eq!(ctx.count("GET", "/temporal/resource-tree"), 1);
    assert!(
        result
            .stdout
            .lines()
            .any(|l| l.trim_start().starts_with("Pod temporal/")),
        "{}",
        result.stdout
    );
}
