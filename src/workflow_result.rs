//! The platform's result of a rendered workflow (`executor dag render`), as
//! its exit handler decides it with `executor dag result`: Argo Workflows
//! knows only Succeeded and Failed, and a failed task (exit 1, 2, 4) makes
//! the workflow Failed whatever else succeeded, while the contract wants the
//! platform reported Partial when some tasks succeeded (§2, §5).
//!
//! The inputs are what Argo gives an exit handler: `{{workflow.failures}}`,
//! a JSON list of every Failed or Error node (argo-workflows v3.7.9,
//! workflow/controller/operator.go: `displayName`, `message`,
//! `templateName`, `phase`, `podName`, `finishedAt`; `null` when none, and
//! `strconv.Quote`d, so it may arrive as a JSON string holding the list),
//! plus the rendered tasks and their `depends`, and validate's status.
//! Everything here is pure; `cli/dag.rs` reads the arguments and writes the
//! report.

use serde::Deserialize;

use crate::exit::ExitCode;
use crate::outcome::{ComponentResult, ComponentStatus, FailureReason, Outcome};
use crate::vocabulary::Action;

/// A task of the rendered workflow, as `render` lists it for the exit handler.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Task {
    /// The DAG task's name (its node's).
    pub name: String,
    /// The scope it runs (`app:<application>` or `stack:<name>`).
    pub scope: String,
    /// The tasks it waits for: it runs only when all of them Succeeded.
    #[serde(default)]
    pub depends: Vec<String>,
}

/// One entry of `{{workflow.failures}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FailedNode {
    /// The task's name, or `<task>(<attempt>)` for one attempt of a retried task.
    pub display_name: String,
    /// Argo's message: `main: Error (exit code 4)` for a pod whose main
    /// container failed (operator.go, `inferFailedReason`), the retry
    /// strategy's verdict for the task's own node.
    pub message: String,
    /// `Failed` or `Error`.
    pub phase: String,
    /// The step's pod.
    pub pod_name: String,
}

/// Reads `{{workflow.failures}}`: a JSON list, `null`, or either of them as a JSON string.
pub fn parse_failures(text: &str) -> Result<Vec<FailedNode>, String> {
    let value: serde_json::Value = match text.trim() {
        "" => return Ok(Vec::new()),
        text => serde_json::from_str(text).map_err(|e| e.to_string())?,
    };
    let value = match value {
        serde_json::Value::String(inner) => {
            serde_json::from_str(&inner).map_err(|e| format!("the quoted list: {e}"))?
        }
        value => value,
    };
    match value {
        serde_json::Value::Null => Ok(Vec::new()),
        value => serde_json::from_value(value).map_err(|e| e.to_string()),
    }
}

/// Reads the rendered task list.
pub fn parse_tasks(text: &str) -> Result<Vec<Task>, String> {
    let tasks: Vec<Task> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    for task in &tasks {
        if let Some(unknown) = task
            .depends
            .iter()
            .find(|d| !tasks.iter().any(|t| &t.name == *d))
        {
            return Err(format!(
                "task {} depends on {unknown}, which is not a task",
                task.name
            ));
        }
    }
    Ok(tasks)
}

/// The number in Argo's `(exit code N)`.
fn exit_code_in(message: &str) -> Option<i32> {
    let rest = &message[message.find("(exit code ")? + "(exit code ".len()..];
    rest[..rest.find(')')?].trim().parse().ok()
}

/// A shutdown (`argo stop`, `argo terminate`): operator.go's message for
/// the nodes it fails then.
fn stopped(message: &str) -> bool {
    message.starts_with("Stopped with strategy")
}

/// A deadline: the template's or the workflow's (`… exceeded its deadline`,
/// `retry exceeded workflow deadline`, a pod's `DeadlineExceeded`) or the
/// retries' `maxDuration` (`Max duration limit exceeded`).
fn deadline(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    message.contains("deadline") || message.contains("max duration")
}

/// The workflow's own deadline ended it: tasks it had not started are not known to have run.
fn workflow_deadline(message: &str) -> bool {
    message.contains("Step exceeded its deadline") || message.contains("workflow deadline")
}

/// `name` is the task itself (`name`) or one of its attempts (`name(N)`): the attempt.
fn attempt_of(display_name: &str, task: &str) -> Option<Option<u32>> {
    let rest = display_name.strip_prefix(task)?;
    if rest.is_empty() {
        return Some(None);
    }
    let n = rest.strip_prefix('(')?.strip_suffix(')')?.parse().ok()?;
    Some(Some(n))
}

/// What the failures say about one task: its status, the reason and a
/// message, or `None` when it did not fail. The task failed when its own
/// node did (a retried task's node fails only once its retries are over);
/// failed attempts of a task whose later attempt succeeded say nothing.
fn failed_task(
    action: Action,
    task: &str,
    failures: &[FailedNode],
) -> Option<(ComponentStatus, FailureReason, String)> {
    use ComponentStatus as S;
    use FailureReason as R;
    let mine: Vec<(Option<u32>, &FailedNode)> = failures
        .iter()
        .filter_map(|f| attempt_of(&f.display_name, task).map(|a| (a, f)))
        .collect();
    if !mine.iter().any(|(attempt, _)| attempt.is_none()) {
        return None;
    }
    // The last attempt's pod says how; the task's own node, when it has none.
    let last = mine
        .iter()
        .max_by_key(|(attempt, _)| attempt.map_or(0, |n| n.saturating_add(1)))?;
    let node = last.1;
    let code = exit_code_in(&node.message);
    let (status, reason) = match code {
        // The stop may name the task's node and not its attempt's.
        _ if mine.iter().any(|(_, f)| stopped(&f.message)) => (S::Cancelled, R::Cancelled),
        Some(4) => (S::Timeout, R::Timeout),
        _ if deadline(&node.message) => (S::Timeout, R::Timeout),
        Some(2) if action == Action::Teardown => (S::Orphaned, R::Orphaned),
        Some(3) => (S::Failed, R::Invalid),
        _ => (S::Failed, R::StepFailed),
    };
    let said: Vec<&str> = mine
        .iter()
        .rev()
        .map(|(_, f)| f.message.as_str())
        .filter(|m| !m.is_empty())
        .collect();
    let mut message = format!("the step {}", node.phase.to_lowercase());
    if let Some(code) = code {
        message.push_str(&format!(" with exit {code}"));
    }
    if !said.is_empty() {
        message.push_str(&format!(": {}", said.join("; ")));
    }
    if !node.pod_name.is_empty() {
        message.push_str(&format!(" (pod {})", node.pod_name));
    }
    Some((status, reason, message))
}

/// Every task's result, in the rendered order: what the failures say, else
/// skipped when a task it waits for did not succeed (Argo omits it), else
/// the action's success, unless a shutdown or the workflow's deadline ended
/// the run, when a task that did not fail may as well never have started.
pub fn components(action: Action, tasks: &[Task], failures: &[FailedNode]) -> Vec<ComponentResult> {
    use ComponentStatus as S;
    let cut_short = failures
        .iter()
        .any(|f| stopped(&f.message) || workflow_deadline(&f.message));
    let mut results: Vec<ComponentResult> = tasks
        .iter()
        .map(|task| {
            let (kind, application) = match task.scope.split_once(':') {
                Some(("stack", _)) => ("stack", Some(task.name.clone())),
                Some((_, app)) => ("app", Some(app.to_owned())),
                None => ("app", Some(task.name.clone())),
            };
            let mut result =
                ComponentResult::recorded(&task.name, kind, application, S::Pending, String::new());
            if let Some((status, reason, message)) = failed_task(action, &task.name, failures) {
                result.status = status;
                result.failure = Some(reason);
                result.message = message;
            }
            result
        })
        .collect();
    // Skips spread along `depends` until nothing changes, whatever the order.
    loop {
        let mut changed = false;
        for (i, task) in tasks.iter().enumerate() {
            if results[i].status != S::Pending {
                continue;
            }
            let blocked = task.depends.iter().find(|d| {
                results
                    .iter()
                    .find(|r| &r.name == *d)
                    .is_some_and(|r| !r.status.is_ok() && r.status != S::Pending)
            });
            if let Some(dependency) = blocked {
                results[i].status = S::Skipped;
                results[i].failure = Some(FailureReason::DependencyFailed);
                results[i].message =
                    format!("not run: {dependency}, which it waits for, did not succeed");
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for result in results.iter_mut().filter(|r| r.status == S::Pending) {
        if cut_short {
            result.message = "not known to have run: the workflow was stopped first".to_owned();
        } else {
            result.status = match action {
                Action::Teardown => S::Removed,
                _ => S::Succeeded,
            };
            result.message = "the step succeeded".to_owned();
        }
    }
    results
}

/// The outcome of the workflow's tasks: cancelled when it was stopped.
pub fn outcome(action: Action, dry_run: bool, tasks: &[Task], failures: &[FailedNode]) -> Outcome {
    let components = components(action, tasks, failures);
    Outcome {
        action,
        dry_run,
        cancelled: failures.iter().any(|f| stopped(&f.message)),
        recommendations: crate::advice::recommendations(&components),
        components,
        aborted: None,
        preflight: Vec::new(),
        enforce_compliance: false,
    }
}

/// The platform's exit code: the tasks' ([`Outcome::exit_code`]), except
/// that a deploy whose tasks all succeeded is Partial unless the exit
/// handler's `validate --scope platform` says `succeeded` (`validation` is
/// its status word; anything else, its `unknown` default included, means
/// the platform's health is not confirmed). Teardown passes `None`.
pub fn exit_code(outcome: &Outcome, validation: Option<&str>) -> ExitCode {
    let code = outcome.exit_code();
    match validation {
        Some(word) if code == ExitCode::SUCCESS && word.trim() != "succeeded" => ExitCode::PARTIAL,
        _ => code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ComponentStatus as S;

    fn tasks() -> Vec<Task> {
        // base ← api ← web, and tools alone.
        let task = |name: &str, depends: &[&str]| Task {
            name: name.to_owned(),
            scope: format!("app:{name}"),
            depends: depends.iter().map(|d| d.to_string()).collect(),
        };
        vec![
            task("base", &[]),
            task("api", &["base"]),
            task("web", &["api"]),
            task("tools", &[]),
        ]
    }

    fn failed(display_name: &str, message: &str) -> FailedNode {
        FailedNode {
            display_name: display_name.to_owned(),
            message: message.to_owned(),
            phase: "Failed".to_owned(),
            pod_name: String::new(),
        }
    }

    /// Tasks whose retries are over: each `(task, last attempt, its message)`
    /// as Argo lists it, the attempt's node and the task's own.
    fn given(tasks: &[(&str, u32, &str)]) -> Vec<FailedNode> {
        tasks
            .iter()
            .flat_map(|(task, attempt, message)| {
                [
                    failed(&format!("{task}({attempt})"), message),
                    failed(task, "No more retries left"),
                ]
            })
            .collect()
    }

    #[test]
    fn failures_parse_as_argo_substitutes_them() {
        let list = r#"[{"displayName":"api(0)","message":"main: Error (exit code 1)","templateName":"sync-and-wait","phase":"Failed","podName":"p-1","finishedAt":"2026-12-02T10:00:00Z"}]"#;
        let quoted = serde_json::to_string(list).unwrap();
        for text in [list, quoted.as_str()] {
            let parsed = parse_failures(text).unwrap();
            assert_eq!(parsed.len(), 1, "{text}");
            assert_eq!(parsed[0].display_name, "api(0)");
            assert_eq!(parsed[0].pod_name, "p-1");
        }
        for none in ["", "null", "\"null\"", "[]"] {
            assert_eq!(parse_failures(none).unwrap(), vec![], "{none}");
        }
        assert!(parse_failures("{{workflow.failures}}").is_err());
    }

    #[test]
    fn tasks_must_depend_on_tasks() {
        let err = parse_tasks(r#"[{"name":"a","scope":"app:a","depends":["b"]}]"#).unwrap_err();
        assert!(err.contains("depends on b"), "{err}");
    }

    #[test]
    fn task_statuses_follow_the_failures() {
        let exit = |n: i32| format!("main: Error (exit code {n})");
        let cases: Vec<(&str, Action, Vec<FailedNode>, [S; 4])> = vec![
            ("no failures", Action::Deploy, vec![], [S::Succeeded; 4]),
            ("teardown", Action::Teardown, vec![], [S::Removed; 4]),
            (
                "a failure skips its dependents, transitively",
                Action::Deploy,
                vec![
                    failed("base(0)", &exit(1)),
                    failed("base", "retryStrategy.expression evaluated to false"),
                ],
                [S::Failed, S::Skipped, S::Skipped, S::Succeeded],
            ),
            (
                "the last attempt decides",
                Action::Deploy,
                vec![
                    failed("api(0)", &exit(4)),
                    failed("api(1)", &exit(1)),
                    failed("api", "No more retries left"),
                ],
                [S::Succeeded, S::Failed, S::Skipped, S::Succeeded],
            ),
            (
                "a timeout",
                Action::Deploy,
                vec![
                    failed("web(2)", &exit(4)),
                    failed("web", "No more retries left"),
                ],
                [S::Succeeded, S::Succeeded, S::Timeout, S::Succeeded],
            ),
            (
                "maxDuration",
                Action::Deploy,
                vec![failed("tools", "Max duration limit exceeded")],
                [S::Succeeded, S::Succeeded, S::Succeeded, S::Timeout],
            ),
            (
                "teardown's orphans",
                Action::Teardown,
                given(&[("base", 0, &exit(2))]),
                [S::Orphaned, S::Skipped, S::Skipped, S::Removed],
            ),
            (
                "a stop leaves what did not fail unknown",
                Action::Deploy,
                given(&[("api", 0, "Stopped with strategy 'Stop'")]),
                [S::Pending, S::Cancelled, S::Skipped, S::Pending],
            ),
            (
                "a stop named on the task's node, its attempt's pod deleted",
                Action::Deploy,
                vec![
                    failed("api(0)", "pod deleted"),
                    failed("api", "Stopped with strategy 'Stop'"),
                ],
                [S::Pending, S::Cancelled, S::Skipped, S::Pending],
            ),
            (
                "a name that only starts like a task's is not the task",
                Action::Deploy,
                given(&[("api-extra", 0, &exit(1))]),
                [S::Succeeded; 4],
            ),
            (
                "a retry that succeeded: only its first attempt failed",
                Action::Deploy,
                vec![failed("api(0)", &exit(4))],
                [S::Succeeded; 4],
            ),
        ];
        for (name, action, failures, want) in cases {
            let got: Vec<S> = components(action, &tasks(), &failures)
                .iter()
                .map(|c| c.status)
                .collect();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn the_message_names_the_exit_the_verdict_and_the_pod() {
        let mut node = failed("api(1)", "main: Error (exit code 1)");
        node.pod_name = "platform-x-api-123".to_owned();
        let results = components(
            Action::Deploy,
            &tasks(),
            &[
                node,
                failed("api", "retryStrategy.expression evaluated to false"),
            ],
        );
        assert_eq!(
            results[1].message,
            "the step failed with exit 1: retryStrategy.expression evaluated to false; main: Error (exit code 1) (pod platform-x-api-123)"
        );
        assert_eq!(results[1].failure, Some(FailureReason::StepFailed));
        assert_eq!(
            results[2].message,
            "not run: api, which it waits for, did not succeed"
        );
    }

    #[test]
    fn the_platform_code_counts_tasks_then_the_final_validation() {
        let exit = |n: i32| format!("main: Error (exit code {n})");
        type Case<'a> = (&'a str, Action, Vec<FailedNode>, Option<&'a str>, ExitCode);
        let cases: Vec<Case> = vec![
            (
                "all succeeded, healthy",
                Action::Deploy,
                vec![],
                Some("succeeded\n"),
                ExitCode::SUCCESS,
            ),
            (
                "all succeeded, degraded",
                Action::Deploy,
                vec![],
                Some("partial"),
                ExitCode::PARTIAL,
            ),
            (
                "all succeeded, unhealthy",
                Action::Deploy,
                vec![],
                Some("failed"),
                ExitCode::PARTIAL,
            ),
            (
                "all succeeded, not reported",
                Action::Deploy,
                vec![],
                Some("unknown"),
                ExitCode::PARTIAL,
            ),
            (
                "one failed, others succeeded",
                Action::Deploy,
                given(&[("web", 0, &exit(1))]),
                Some("partial"),
                ExitCode::PARTIAL,
            ),
            (
                "nothing succeeded",
                Action::Deploy,
                given(&[("base", 0, &exit(1)), ("tools", 0, &exit(1))]),
                Some("failed"),
                ExitCode::FAILURE,
            ),
            (
                "only timeouts, nothing else failed",
                Action::Deploy,
                given(&[("base", 2, &exit(4)), ("tools", 2, &exit(4))]),
                Some("partial"),
                ExitCode::TIMEOUT,
            ),
            (
                "teardown removed all",
                Action::Teardown,
                vec![],
                None,
                ExitCode::SUCCESS,
            ),
            (
                "teardown's orphans",
                Action::Teardown,
                given(&[("tools", 0, &exit(2))]),
                None,
                ExitCode::PARTIAL,
            ),
            (
                "a stop achieved nothing known",
                Action::Deploy,
                given(&[("base", 0, "Stopped with strategy 'Terminate'")]),
                Some("succeeded"),
                ExitCode::FAILURE,
            ),
        ];
        for (name, action, failures, validation, want) in cases {
            let outcome = outcome(action, false, &tasks(), &failures);
            assert_eq!(exit_code(&outcome, validation), want, "{name}");
        }
    }
}
