//! One run from argv to exit code: parse, log, validate, execute, report.
//! Every exit path writes `report.json` and `status`.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use clap::Parser;

use super::args::{Cli, Command, RunArgs};
use super::load::run_config;
use super::signals::Signals;
use super::usage::RawRun;
use super::values::log_settings;
use crate::actions::scope::{Stop, Stopped};
use crate::actions::RunContext;
use crate::argocd::{Client, ClientOptions};
use crate::config::{Config, ConfigError, Endpoint, LogFormat, Target};
use crate::deadline::Deadline;
use crate::error::Error;
use crate::exit::ExitCode;
use crate::outcome::{Abort, Outcome};
use crate::outputs::write_outputs;
use crate::progress::ProgressView;
use crate::report::{Metrics, Report, RunInfo};
use crate::sim::Simulator;
use crate::vocabulary::Action;

/// Where the outputs go when neither `--output-dir` nor `EXECUTOR_OUTPUT_DIR` says.
const DEFAULT_OUTPUT_DIR: &str = "/tmp/executor";

/// Runs the executor with these arguments and returns the exit code; a panic
/// is a Failure with its report, not Rust's exit 101.
pub fn main_with_args(argv: impl IntoIterator<Item = OsString>) -> ExitCode {
    let argv: Vec<OsString> = argv.into_iter().collect();
    let started_at = Utc::now();
    crate::crash::install_hook();
    // One process-wide rustls provider, before any client exists: reqwest
    // and kube link ring both, and rustls panics at run time when it has to
    // choose between two providers on its own.
    let _ = rustls::crypto::ring::default_provider().install_default();
    guarded(&argv, started_at, || run(&argv, started_at))
}

/// Runs `body`; when it panics, writes the Failure report, naming the panic,
/// where the run would have written its own, and returns Failure.
fn guarded(
    argv: &[OsString],
    started_at: chrono::DateTime<Utc>,
    body: impl FnOnce() -> ExitCode,
) -> ExitCode {
    let panic = match crate::crash::catch(body) {
        Ok(code) => return code,
        Err(panic) => panic,
    };
    let raw = RawRun::read(argv, |key| std::env::var_os(key));
    let default_dir = Some(PathBuf::from(DEFAULT_OUTPUT_DIR));
    let Some((run, action, output_dir)) = early_target(raw, default_dir, started_at) else {
        return ExitCode::FAILURE;
    };
    let message = format!("{panic}; this is a bug in the executor: report it with this message");
    let outcome = aborted(action, Abort::Failed(message));
    // Writing the report must not panic its way to 101 either.
    crate::crash::catch(|| finish(&run, &outcome, Metrics::default(), &output_dir, None))
        .unwrap_or(ExitCode::FAILURE)
}

/// One run: parse, log, validate, execute, report.
fn run(argv: &[OsString], started_at: chrono::DateTime<Utc>) -> ExitCode {
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => return usage_error(argv, started_at, e),
    };
    let (action, args) = match &cli.command {
        Command::Dag(dag) => return super::dag::run(dag),
        Command::Completion(c) => return completion(c.shell),
        Command::Report(r) => return super::report::run(r),
        Command::Deploy(a) => (Action::Deploy, a.run_args()),
        Command::Validate(a) => (Action::Validate, a.run_args()),
        Command::Teardown(a) => (Action::Teardown, a.run_args()),
    };
    let output_dir = args
        .output_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUTPUT_DIR));
    let stderr_tty = std::io::stderr().is_terminal();
    // First, so that every later exit can write its report; an unwritable
    // directory is only found out at the end otherwise.
    if let Err(e) = crate::outputs::check_output_dir(&output_dir) {
        init_early_logs(&args, action.as_str(), stderr_tty);
        let e = ConfigError::OutputDir {
            path: output_dir,
            source: e.source,
        };
        tracing::error!(phase = "inputs", "{e}");
        return ExitCode::INVALID;
    }
    let checked = log_settings(&args, stderr_tty)
        .and_then(|log| run_config(action, &args, log, |k| std::env::var(k).ok()));
    let config = match checked {
        Ok(config) => config,
        Err(e) => {
            init_early_logs(&args, action.as_str(), stderr_tty);
            return invalid(&args, action, &output_dir, started_at, &e);
        }
    };
    let progress = match &config.target {
        Target::Dag(dag) if stderr_tty && config.log.format == LogFormat::Text => Some(
            ProgressView::new(dag.ids().map(|id| dag.node(id).name.clone()).collect()),
        ),
        _ => None,
    };
    let telemetry = crate::telemetry::init(
        config.log,
        action.as_str(),
        config.trace.as_ref(),
        progress.as_ref(),
        config.otlp.as_ref(),
    );
    let span = telemetry.action_span(
        action.as_str(),
        &config.scope.to_string(),
        &config.environment.name,
        config.trace.as_ref(),
    );
    let code = span.in_scope(|| traced(&args, config, action, started_at, progress, &span));
    span.record("exit_code", code.code());
    span.record("status", code.status_word());
    drop(span);
    telemetry.shutdown(super::signals::received());
    code
}

/// A checked run inside its action span: execute, then report.
fn traced(
    args: &RunArgs,
    config: Config,
    action: Action,
    started_at: chrono::DateTime<Utc>,
    progress: Option<ProgressView>,
    span: &tracing::Span,
) -> ExitCode {
    for name in super::args::foreign_env(action.as_str()) {
        if std::env::var_os(&name).is_some() {
            tracing::debug!(
                phase = "inputs",
                "ignoring {name}: {action} does not take it"
            );
        }
    }
    crate::simulate::warn_if_server_ignored(args.argocd_server.as_deref(), config.simulated());
    let run = RunInfo {
        run_id: crate::run_id::new(|k| std::env::var(k).ok()),
        action: action.as_str().to_owned(),
        scope: config.scope.to_string(),
        environment: config.environment.name.clone(),
        dry_run: config.dry_run,
        simulated: config.simulated(),
        started_at,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let message = format!("failed to start the async runtime: {e}");
            tracing::error!("{message}");
            let outcome = aborted(action, Abort::Failed(message));
            let push = config.pushgateway.as_ref();
            return finish(&run, &outcome, Metrics::default(), &config.output_dir, push);
        }
    };
    let output_dir = config.output_dir.clone();
    let pushgateway = config.pushgateway.clone();
    // A cancelled run writes its report before it confirms terminations.
    let checkpoint = |outcome: &Outcome, metrics: Metrics| {
        let report = Report::new(&run, outcome, metrics, Utc::now());
        if let Err(e) = write_outputs(&output_dir, &report) {
            tracing::error!(phase = "report", "{e}");
        }
    };
    let executed = execute(config, run.run_id.clone(), progress, &checkpoint);
    let result = runtime.block_on(tracing::Instrument::instrument(executed, span.clone()));
    // Dropping a runtime waits for its blocking threads, such as a DNS lookup
    // that stalls: the exit after SIGTERM must not wait for them.
    runtime.shutdown_background();
    let (outcome, metrics) = match result {
        Ok(done) => done,
        Err(e) => {
            tracing::error!(phase = "setup", "{e}");
            let abort = match e.exit_code() {
                ExitCode::INVALID => Abort::Invalid(e.to_string()),
                _ => Abort::Failed(e.to_string()),
            };
            (aborted(action, abort), Metrics::default())
        }
    };
    finish(&run, &outcome, metrics, &output_dir, pushgateway.as_ref())
}

/// Executes a validated run, racing it against SIGTERM and SIGINT. `run_id`
/// marks the operations it starts.
pub async fn execute(
    mut config: Config,
    run_id: String,
    progress: Option<ProgressView>,
    checkpoint: &(dyn Fn(&Outcome, Metrics) + Sync),
) -> Result<(Outcome, Metrics), Error> {
    let mut signals = Signals::install();
    // The overall deadline counts from here, setup included.
    let overall = config
        .run_timeout
        .map(|d| (Deadline::run(d), crate::deadline::after(d)));
    let (server, simulator) = match &config.argocd.endpoint {
        Endpoint::Simulated => {
            let sim = Simulator::start(crate::simulate::scenario(&config)?)
                .await
                .map_err(Error::Simulator)?;
            tracing::info!(
                phase = "simulate",
                "serving the Argo CD simulator at {}",
                sim.url()
            );
            config.argocd.namespace = crate::sim::ARGOCD_NAMESPACE.to_owned();
            (sim.base_url(), Some(sim))
        }
        Endpoint::Remote(server) => {
            if server.scheme() == "http" {
                tracing::warn!(
                    phase = "setup",
                    "using plain http to {server}: the token travels unencrypted"
                );
            }
            (server.clone(), None)
        }
    };
    let client = Client::new(ClientOptions {
        base: server,
        token: config.argocd.token.clone(),
        ca_pem: config.argocd.ca_pem.clone(),
        project: config.argocd.project.clone(),
        argocd_namespace: config.argocd.namespace.clone(),
        app_namespaces: config.app_namespaces.clone(),
        max_attempts: config.max_attempts,
        backoff: config.backoff,
        traceparent: config.trace.as_ref().map(|t| t.traceparent()),
    })?;
    // Under --simulate the cluster is simulated too, beside the simulated Argo CD.
    let cluster = match (&config.cluster, &simulator) {
        (_, Some(sim)) => Some(crate::cluster::Cluster::from_client(
            sim.kubernetes(crate::simulate::cluster_seeds(&config)),
            "the simulator",
        )),
        (Some(access), None) => Some(crate::cluster::Cluster::new(access).map_err(|e| {
            Error::Config(ConfigError::Cluster(crate::cluster::AccessError {
                input: access.source.to_string(),
                problem: e.to_string(),
                hint: "fix the kubeconfig's certificates or user entry".to_owned(),
            }))
        })?),
        (None, None) => None,
    };
    let mut ctx = RunContext {
        cluster,
        client: client.clone(),
        run_id,
        config: Arc::new(config),
        hub: None,
        in_flight: Default::default(),
    };
    let action = ctx.config.action;
    let stop = async {
        let deadline = async {
            match &overall {
                Some((deadline, at)) => {
                    tokio::time::sleep_until(*at).await;
                    deadline.clone()
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            signal = signals.recv() => Stop::Signal(signal),
            deadline = deadline => Stop::Deadline(deadline),
        }
    };
    tokio::pin!(stop);
    // Preflight first, raced against the same stop; a stop during it stops the run at once.
    let (preflight, early_stop) = tokio::select! {
        checks = crate::actions::preflight::run(&ctx) => (checks, None),
        why = &mut stop => (Vec::new(), Some(why)),
    };
    if let Some((reason, refusal)) = crate::cluster::preflight::refusal(&preflight) {
        tracing::error!(phase = "preflight", "{refusal}");
        let outcome = Outcome {
            recommendations: preflight
                .iter()
                .filter_map(|c| c.recommendation.clone())
                .collect(),
            preflight,
            ..aborted(action, Abort::Preflight(reason, refusal))
        };
        return Ok((outcome, metrics_of(&client, ctx.cluster.as_ref())));
    }
    let stop = match early_stop {
        Some(why) => futures_util::future::Either::Left(std::future::ready(why)),
        None => futures_util::future::Either::Right(stop),
    };
    let (mut components, stopped) =
        crate::actions::scope::run(&mut ctx, progress.as_ref(), stop).await;
    // A run cut short by a signal or its deadline has no time to spare; a
    // signal now, or the overall deadline, ends the reading of the trees.
    let mut late_signal = None;
    if stopped.is_none() {
        let mut late = Signals::install();
        let deadline = overall.as_ref().map(|(_, at)| *at);
        let trees = crate::actions::evidence::add_trees(&ctx, &mut components, deadline);
        tokio::select! {
            () = trees => {}
            signal = late.recv() => {
                tracing::warn!(phase = "cancel", "received {signal}; writing the report without the resource trees");
                late_signal = Some(signal);
            }
        }
    }
    let mut outcome = Outcome {
        preflight,
        action,
        dry_run: ctx.config.dry_run,
        cancelled: late_signal.is_some()
            || matches!(
                stopped,
                Some(Stopped {
                    why: Stop::Signal(_),
                    ..
                })
            ),
        recommendations: crate::advice::recommendations(&components),
        components,
        aborted: None,
        enforce_compliance: ctx.config.enforce_compliance,
    };
    if let Some(stopped) = stopped {
        let mut components = std::mem::take(&mut outcome.components);
        let base = outcome.clone();
        crate::actions::scope::stop_in_flight(&ctx, stopped, &mut components, |components| {
            let snapshot = Outcome {
                components: components.to_vec(),
                ..base.clone()
            };
            checkpoint(&snapshot, metrics_of(&client, ctx.cluster.as_ref()));
        })
        .await;
        outcome.components = components;
    }
    Ok((outcome, metrics_of(&client, ctx.cluster.as_ref())))
}

/// The report's metrics: the Argo CD client's counts, and every request to
/// Argo CD and the Kubernetes API per endpoint.
fn metrics_of(client: &Client, cluster: Option<&crate::cluster::Cluster>) -> Metrics {
    let mut metrics = Metrics::from(client.request_counts());
    metrics.endpoints = client.stats().snapshot();
    if let Some(cluster) = cluster {
        metrics.endpoints.extend(cluster.stats().snapshot());
    }
    metrics
}

fn aborted(action: Action, abort: Abort) -> Outcome {
    Outcome {
        action,
        dry_run: false,
        cancelled: false,
        components: vec![],
        recommendations: vec![],
        aborted: Some(abort),
        preflight: vec![],
        enforce_compliance: false,
    }
}

fn invalid(
    args: &RunArgs,
    action: Action,
    output_dir: &Path,
    started_at: chrono::DateTime<Utc>,
    e: &ConfigError,
) -> ExitCode {
    tracing::error!(phase = "inputs", "{e}");
    // Nothing was sent, so the id marks nothing; the report has one all the same.
    let run = RunInfo {
        run_id: crate::run_id::new(|k| std::env::var(k).ok()),
        action: action.as_str().to_owned(),
        scope: args.scope.clone().unwrap_or_else(|| "platform".to_owned()),
        environment: args.environment.clone().unwrap_or_default(),
        dry_run: args.dry_run.as_deref() == Some("true"),
        simulated: args.simulate.as_deref() == Some("true"),
        started_at,
    };
    let outcome = aborted(action, Abort::Invalid(e.to_string()));
    finish(&run, &outcome, Metrics::default(), output_dir, None)
}

/// Logging for a run that stops before its configuration is checked: as
/// asked when the log flags are valid, else the defaults.
fn init_early_logs(args: &RunArgs, action: &str, stderr_tty: bool) {
    let log =
        log_settings(args, stderr_tty).or_else(|_| log_settings(&RunArgs::default(), stderr_tty));
    if let Ok(log) = log {
        // Nothing ran: no spans to export.
        let _ = crate::telemetry::init(log, action, None, None, None);
    }
}

/// Writes the outputs, prints the summary, and returns the exit code.
///
/// Callers act on the report, so a run whose report cannot be written is a
/// Failure, whatever it achieved; an invalid run stays Invalid, since nothing
/// ran and its inputs are what to fix.
fn finish(
    run: &RunInfo,
    outcome: &Outcome,
    metrics: Metrics,
    output_dir: &Path,
    pushgateway: Option<&reqwest::Url>,
) -> ExitCode {
    let mut report = Report::new(run, outcome, metrics, Utc::now());
    let code = finish_report(&mut report, output_dir);
    if let Some(url) = pushgateway {
        push_metrics(url, &report);
    }
    code
}

/// Pushes the metrics the outputs hold; a failure is a warning.
fn push_metrics(url: &reqwest::Url, report: &Report) {
    let timeout = if super::signals::received() || report.status == "cancelled" {
        crate::push::CANCELLED_TIMEOUT
    } else {
        crate::push::TIMEOUT
    };
    let pushed = crate::metrics::render(report)
        .map_err(|e| e.to_string())
        .and_then(|text| crate::push::push(url, report, &text, timeout));
    match pushed {
        Ok(()) => tracing::debug!(phase = "metrics", "pushed the metrics to {url}"),
        Err(e) => tracing::warn!(phase = "metrics", "{e}; the run's result stands"),
    }
}

/// Writes `report`'s outputs (a Failure's, when they cannot be written) and
/// prints its summary; returns the code the outputs say.
pub(crate) fn finish_report(report: &mut Report, output_dir: &Path) -> ExitCode {
    let mut code = report.exit_code;
    if let Err(e) = write_outputs(output_dir, report) {
        tracing::error!(phase = "report", "{e}");
        if code != ExitCode::INVALID {
            code = ExitCode::FAILURE;
            crate::outputs::mark_unwritten(report, &e);
            // Whatever can still be written then agrees with the exit code.
            let _ = write_outputs(output_dir, report);
        }
    }
    // A reader that went away (a closed pipe) must not turn the run into a panic.
    let _ = write!(
        std::io::stdout().lock(),
        "{}",
        crate::summary::render(report, output_dir, crate::summary::stdout_color())
    );
    code
}

/// Prints clap's message; help and version asked for are Success. A usage
/// error is Invalid, and writes the Invalid report when the command line or
/// the environment names the output directory. `executor` or `executor dag`
/// without a subcommand is a usage error: a pipeline step that forgot its
/// action must not pass.
fn usage_error(argv: &[OsString], started_at: chrono::DateTime<Utc>, e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let _ = e.print();
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        return ExitCode::SUCCESS;
    }
    let raw = RawRun::read(argv, |key| std::env::var_os(key));
    let Some((run, action, output_dir)) = early_target(raw, None, started_at) else {
        return ExitCode::INVALID;
    };
    init_early_logs(
        &RunArgs::default(),
        &run.action,
        std::io::stderr().is_terminal(),
    );
    let message = super::usage::message(&e);
    tracing::error!(phase = "inputs", "{message}");
    finish(
        &run,
        &aborted(action, Abort::Invalid(message)),
        Metrics::default(),
        &output_dir,
        None,
    )
}

/// Where a run that stopped before its configuration was read reports, and
/// as what: the output directory it names, else `default_dir`. `None` unless
/// the action is deploy, validate or teardown (`executor dag` and `executor
/// completion` never write a report, and the report names one of the three),
/// and when no directory is known.
fn early_target(
    raw: RawRun,
    default_dir: Option<PathBuf>,
    started_at: chrono::DateTime<Utc>,
) -> Option<(RunInfo, Action, PathBuf)> {
    let action = match raw.action.as_deref()? {
        "deploy" => Action::Deploy,
        "validate" => Action::Validate,
        "teardown" => Action::Teardown,
        _ => return None,
    };
    let output_dir = raw.output_dir.or(default_dir)?;
    // A fresh id: a usage error sent nothing, and a panicked run's own id went
    // with it; the report has one all the same.
    let run = RunInfo {
        run_id: crate::run_id::new(|k| std::env::var(k).ok()),
        action: action.as_str().to_owned(),
        scope: raw.scope.unwrap_or_else(|| "platform".to_owned()),
        environment: raw.environment.unwrap_or_default(),
        dry_run: false,
        simulated: false,
        started_at,
    };
    Some((run, action, output_dir))
}

/// `executor completion <shell>`: the completion script on stdout.
fn completion(shell: clap_complete::Shell) -> ExitCode {
    use clap::CommandFactory;
    clap_complete::generate(
        shell,
        &mut Cli::command(),
        "executor",
        &mut std::io::stdout(),
    );
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic anywhere in a run: the Failure report, naming the panic, in
    /// the output directory of the command line, and exit Failure, not 101.
    #[test]
    fn a_panic_writes_the_failure_report_and_exits_failure() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let argv: Vec<OsString> = [
            "executor",
            "deploy",
            "--scope",
            "app:temporal",
            "--output-dir",
        ]
        .iter()
        .map(OsString::from)
        .chain([out.clone().into_os_string()])
        .collect();
        let code = guarded(&argv, Utc::now(), || {
            panic!("overflow when adding duration to instant")
        });
        assert_eq!(code, ExitCode::FAILURE);
        let text = std::fs::read_to_string(out.join("report.json")).unwrap();
        let report: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(report["status"], "failed", "{report:#}");
        assert_eq!(report["exitCode"], ExitCode::FAILURE.code(), "{report:#}");
        assert_eq!(report["scope"], "app:temporal", "{report:#}");
        let message = report["failures"][0]["message"].as_str().unwrap();
        assert!(message.contains("the executor panicked"), "{message}");
        assert!(
            message.contains("overflow when adding duration to instant"),
            "{message}"
        );
        let status = std::fs::read_to_string(out.join("status")).unwrap();
        assert_eq!(status, "failed\n");
    }

    /// Without a panic, the run's own code comes back untouched.
    #[test]
    fn without_a_panic_the_code_is_the_runs() {
        let argv = [OsString::from("executor")];
        for code in ExitCode::ALL {
            assert_eq!(guarded(&argv, Utc::now(), || code), code);
        }
    }
}
