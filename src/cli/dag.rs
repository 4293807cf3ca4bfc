//! `executor dag validate`, `plan` and `render`: read the DAG file, its
//! overrides and environment.yaml from the config directory, validate them
//! all, and print the plan. No cluster, no Argo CD, no report file. And
//! `executor dag result`, a rendered workflow's exit handler: the platform's
//! report from the workflow's failed steps.

use std::path::{Path, PathBuf};

use super::args::{DagArgs, DagCommand, DagInputs, DagRenderArgs, DagResultArgs};
use super::run::finish_report;
use crate::config::environment::EnvironmentFile;
use crate::dag::render::{render, RenderKind};
use crate::dag::{plan, render_text, Dag, DagError, DagErrors};
use crate::exit::ExitCode;
use crate::outcome::{Abort, Outcome};
use crate::report::{Metrics, Report};
use crate::vocabulary::{Action, Scope};

/// How `dag plan` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

/// Runs `executor dag …`: prints to stdout, errors to stderr (every one of
/// them), and returns Invalid for any problem, else Success.
pub fn run(args: &DagArgs) -> ExitCode {
    let (inputs, output) = match &args.command {
        DagCommand::Validate(inputs) => (inputs, None),
        DagCommand::Plan(p) => (&p.inputs, Some(p.output.as_deref())),
        DagCommand::Render(r) => return render_command(r),
        DagCommand::Result(r) => return result_command(r),
    };
    let format = match output {
        None | Some(None | Some("text")) => Ok(Format::Text),
        Some(Some("json")) => Ok(Format::Json),
        Some(Some(other)) => Err(DagError::BadFlag {
            flag: "-o (--output)",
            value: other.to_owned(),
            problem: "expected text or json".to_owned(),
        }),
    };
    let result = format
        .map_err(DagErrors::from)
        .and_then(|format| load(inputs).map(|dag| (dag, format)));
    let (dag, format) = match result {
        Ok(done) => done,
        Err(errors) => return invalid(&errors),
    };
    let plan = plan(&dag);
    match (output, format) {
        (None, _) => {
            let health = match health_file(inputs, &dag) {
                Ok(health) => health,
                Err(e) => return invalid(&DagErrors::from(e)),
            };
            let s = &plan.summary;
            println!(
                "{} is valid: {}, {} waves{health}",
                plan.source,
                s.describe(),
                s.waves
            );
        }
        (Some(_), Format::Text) => print!("{}", render_text(&plan)),
        (Some(_), Format::Json) => println!(
            "{}",
            serde_json::to_string_pretty(&plan).expect("a plan always serializes")
        ),
    }
    ExitCode::SUCCESS
}

/// Prints every problem to stderr; the code is always Invalid.
fn invalid(errors: &DagErrors) -> ExitCode {
    for e in &errors.0 {
        eprintln!("error: {e}");
    }
    eprintln!(
        "{} problem{} found; nothing was run: exit {}",
        errors.0.len(),
        if errors.0.len() == 1 { "" } else { "s" },
        ExitCode::INVALID
    );
    ExitCode::INVALID
}

/// `executor dag render`: the Workflow on stdout.
fn render_command(args: &DagRenderArgs) -> ExitCode {
    let mut errors = Vec::new();
    let action = match args.action.as_str() {
        "deploy" => Action::Deploy,
        "teardown" => Action::Teardown,
        other => {
            errors.push(DagError::BadFlag {
                flag: "--action",
                value: other.to_owned(),
                problem: "expected deploy or teardown".to_owned(),
            });
            Action::Deploy
        }
    };
    let kind = match args.kind.as_str() {
        "workflow" => RenderKind::Workflow,
        "workflow-template" => RenderKind::WorkflowTemplate,
        other => {
            errors.push(DagError::BadFlag {
                flag: "--kind",
                value: other.to_owned(),
                problem: "expected workflow or workflow-template".to_owned(),
            });
            RenderKind::Workflow
        }
    };
    let dag = match load(&args.inputs) {
        Ok(dag) if errors.is_empty() => dag,
        Ok(_) => return invalid(&DagErrors(errors)),
        Err(e) => {
            errors.extend(e.0);
            return invalid(&DagErrors(errors));
        }
    };
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| format!("platform-{action}"));
    print!("{}", render(&dag, action, kind, &name));
    ExitCode::SUCCESS
}

/// Reads and checks everything `dag` needs, collecting every problem.
pub fn load(inputs: &DagInputs) -> Result<Dag, DagErrors> {
    let config_dir = inputs
        .config_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("/config"));
    let mut errors = Vec::new();
    let environment =
        read_environment(&config_dir, inputs.environment.as_deref()).unwrap_or_else(|e| {
            errors.push(e);
            None
        });
    let scope_text = inputs.scope.as_deref().unwrap_or("platform");
    let scope = Scope::parse(scope_text).unwrap_or_else(|problem| {
        errors.push(DagError::BadFlag {
            flag: "--scope (TARGET_SCOPE)",
            value: scope_text.to_owned(),
            problem,
        });
        Scope::Platform
    });
    super::load::build_dag(
        &config_dir.join("dag.yaml"),
        environment.as_ref(),
        &scope,
        &inputs.dag,
        errors,
    )
}

/// `dag validate` checks health.yaml beside dag.yaml too, as a run would
/// (its checks must name the DAG's Applications): what it found, for the
/// line that says the files are valid.
fn health_file(inputs: &DagInputs, dag: &Dag) -> Result<String, DagError> {
    let config_dir = inputs
        .config_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("/config"));
    let path = config_dir.join("health.yaml");
    if !path.exists() {
        return Ok(String::new());
    }
    // As a run reads it, so that the two cannot disagree.
    let checks = super::load::health_file(&config_dir, Some(dag.source())).map_err(|e| {
        let message = match e {
            crate::config::ConfigError::HealthFile { message, .. } => message,
            other => other.to_string(),
        };
        DagError::Parse {
            path: path.clone(),
            message,
        }
    })?;
    let n = checks.checks.len();
    Ok(format!(
        "; {} is valid: {n} check{}",
        path.display(),
        if n == 1 { "" } else { "s" }
    ))
}

/// environment.yaml when the config directory has one (for clusterName and
/// the default timeouts); `None` when it has none, unless `--environment` asks for it.
fn read_environment(
    config_dir: &Path,
    given: Option<&str>,
) -> Result<Option<EnvironmentFile>, DagError> {
    let path = config_dir.join("environment.yaml");
    let text = match std::fs::read_to_string(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && given.is_none() => return Ok(None),
        Err(source) => {
            return Err(DagError::Read {
                path,
                hint: "the DAG's clusterName and default timeouts come from it".to_owned(),
                source,
            })
        }
        Ok(text) => text,
    };
    let env = EnvironmentFile::parse(&text).map_err(|e| DagError::Parse {
        path: path.clone(),
        message: e.to_string(),
    })?;
    match given {
        Some(name) if !name.is_empty() && name != env.name => Err(DagError::BadFlag {
            flag: "--environment (ENVIRONMENT)",
            value: name.to_owned(),
            problem: format!("expected '{}', the name in {}", env.name, path.display()),
        }),
        _ => Ok(Some(env)),
    }
}

/// `executor dag result`: the platform's result of a rendered workflow, in
/// its exit handler. Writes the report of the workflow's tasks (scope
/// `platform`) like a run does, prints its summary, and exits with the
/// platform's code, so the workflow fails unless the platform succeeded.
/// Bad arguments are Invalid, with the Invalid report.
fn result_command(args: &DagResultArgs) -> ExitCode {
    use crate::workflow_result::{exit_code, outcome, parse_failures, parse_tasks};
    let now = chrono::Utc::now();
    let started_at = args
        .started_at
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or(now, |t| t.with_timezone(&chrono::Utc));
    let action = match args.action.as_str() {
        "deploy" => Ok(Action::Deploy),
        "teardown" => Ok(Action::Teardown),
        other => Err(format!(
            "--action {other:?}: expected deploy or teardown, the rendered workflow's action"
        )),
    };
    let run = crate::report::RunInfo {
        run_id: crate::run_id::new(|k| std::env::var(k).ok()),
        action: action.clone().unwrap_or(Action::Deploy).to_string(),
        scope: Scope::Platform.to_string(),
        environment: args.environment.clone().unwrap_or_default(),
        dry_run: args.dry_run == "true",
        simulated: false,
        started_at,
    };
    let inputs = action.and_then(|action| {
        let tasks = parse_tasks(&args.tasks).map_err(|e| {
            format!("--tasks: {e}; pass the list `executor dag render` wrote into the exit handler")
        })?;
        let failures = parse_failures(&args.failures).map_err(|e| {
            format!("--failures: {e}; pass {{{{workflow.failures}}}} from an exit handler")
        })?;
        Ok((action, tasks, failures))
    });
    let (action, tasks, failures) = match inputs {
        Ok(inputs) => inputs,
        Err(message) => {
            eprintln!("error: {message}");
            let outcome = Outcome {
                action: Action::Deploy,
                dry_run: false,
                cancelled: false,
                components: Vec::new(),
                recommendations: Vec::new(),
                aborted: Some(Abort::Invalid(message)),
                preflight: Vec::new(),
                enforce_compliance: false,
            };
            let mut report = Report::new(&run, &outcome, Metrics::default(), now);
            return finish_report(&mut report, &args.output_dir);
        }
    };
    let mut outcome = outcome(action, run.dry_run, &tasks, &failures);
    for component in &mut outcome.components {
        component.started_at = crate::report::rfc3339(started_at);
    }
    let validation = (action == Action::Deploy).then(|| args.validation.as_deref().unwrap_or(""));
    let mut report = Report::new(&run, &outcome, Metrics::default(), chrono::Utc::now());
    let code = exit_code(&outcome, validation);
    if code != report.exit_code {
        let said = validation
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .unwrap_or("nothing");
        report.exit_code = code;
        report.status = code.status_word().to_owned();
        report.recommendations.push(format!(
            "every step succeeded, but the final `validate --scope platform` reported {said}: run `executor validate --scope platform` to see which component is not Healthy and Synced"
        ));
    }
    finish_report(&mut report, &args.output_dir)
}
