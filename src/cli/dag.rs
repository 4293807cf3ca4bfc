//! `executor dag validate`, `plan` and `render`: read the DAG file, its
//! overrides and environment.yaml from the config directory, validate them
//! all, and print the plan. No cluster, no Argo CD, no report file.

use std::path::{Path, PathBuf};

use super::args::{DagArgs, DagCommand, DagInputs, DagRenderArgs};
use crate::config::environment::EnvironmentFile;
use crate::dag::render::{render, RenderKind};
use crate::dag::{plan, render_text, Dag, DagError, DagErrors};
use crate::exit::ExitCode;
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
