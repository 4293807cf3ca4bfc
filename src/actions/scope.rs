//! One run's scope, whichever it is: a single app on its own stream, or a
//! DAG through the scheduler and one shared stream; raced against a stop
//! (a signal, or the run's overall `--timeout`), after which the operations
//! this run started are terminated.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::time::Instant;

use super::context::Tracker;
use super::{cancel, platform, RunContext};
use crate::config::Target;
use crate::deadline::Deadline;
use crate::outcome::{ComponentResult, ComponentStatus, FailureReason};
use crate::progress::ProgressView;
use crate::wait::hub::Hub;

/// What cuts a run short.
#[derive(Debug, Clone)]
pub enum Stop {
    /// `SIGTERM` or `SIGINT`: the run is cancelled.
    Signal(&'static str),
    /// The run's overall deadline (`--timeout`) passed: what was in flight timed out.
    Deadline(Deadline),
}

/// What cut a run short, and when.
#[derive(Debug, Clone)]
pub struct Stopped {
    /// What it was.
    pub why: Stop,
    /// When it happened.
    pub at: Instant,
}

/// Runs every component of the scope until they are done or `stop` resolves
/// first; then returns the components as they stand.
pub async fn run(
    ctx: &mut RunContext,
    progress: Option<&ProgressView>,
    stop: impl Future<Output = Stop>,
) -> (Vec<ComponentResult>, Option<Stopped>) {
    let config = ctx.config.clone();
    let stopped = |why: Stop| {
        match &why {
            Stop::Signal(signal) => tracing::warn!(
                phase = "cancel",
                "received {signal}; stopping and writing the report"
            ),
            Stop::Deadline(d) => tracing::warn!(
                phase = "timeout",
                "{}; stopping and writing the report",
                d.passed()
            ),
        }
        Stopped {
            why,
            at: Instant::now(),
        }
    };
    match &config.target {
        Target::App { name, dag } => {
            // A single app: its own stream, and its DAG node's timeouts when it has one.
            let node = dag.as_ref().and_then(|dag| {
                dag.nodes()
                    .iter()
                    .find(|n| n.application() == Some(name.as_str()))
            });
            let deadlines = ctx.deadlines(node);
            tokio::select! {
                result = platform::run_app(ctx, name, deadlines, false) => (vec![result], None),
                why = stop => (vec![stopped_component(name, &why)], Some(stopped(why))),
            }
        }
        Target::Dag(dag) => {
            let apps = dag
                .nodes()
                .iter()
                .filter_map(|n| n.application().map(str::to_owned));
            ctx.hub = Some(Arc::new(Hub::start(&ctx.client, apps)));
            let slots = Mutex::new(Vec::new());
            let ticker = progress.map(ProgressView::spawn_ticker);
            let ctx: &RunContext = ctx;
            let stopped = tokio::select! {
                () = platform::run(ctx, dag, &slots, progress) => None,
                why = stop => Some(stopped(why)),
            };
            if let Some(view) = progress {
                view.finish();
            }
            if let Some(ticker) = ticker {
                ticker.abort();
            }
            let slots = slots.into_inner().unwrap_or_else(|e| e.into_inner());
            let why = stopped.as_ref().map(|s| &s.why);
            let components = platform::components(dag, slots, config.action, why);
            (components, stopped)
        }
    }
}

/// After a stop: terminates the operations this run started, marking each
/// component with what became of its operation; `checkpoint` writes the
/// report as it stands, first at once and again as confirmations arrive.
pub async fn stop_in_flight(
    ctx: &RunContext,
    stopped: Stopped,
    components: &mut [ComponentResult],
    checkpoint: impl Fn(&[ComponentResult]),
) {
    // A DAG's components are named after their nodes; a stack's node stands for its app-of-apps.
    let node_of: HashMap<String, String> = ctx
        .config
        .dag()
        .into_iter()
        .flat_map(|dag| dag.nodes())
        .filter_map(|n| Some((n.application()?.to_owned(), n.name.clone())))
        .collect();
    cancel::terminate_in_flight(
        ctx,
        stopped.at,
        components,
        |app| node_of.get(app).cloned(),
        checkpoint,
    )
    .await;
}

/// The app of an app scope, cut short while in progress.
fn stopped_component(name: &str, why: &Stop) -> ComponentResult {
    let track = Tracker::app(name);
    match why {
        Stop::Signal(signal) => track.fail(
            ComponentStatus::Cancelled,
            FailureReason::Cancelled,
            None,
            format!("cancelled by {signal} before it completed"),
        ),
        Stop::Deadline(d) => track.timeout(
            &[d],
            FailureReason::Timeout,
            None,
            format!("{} before it completed", d.passed()),
        ),
    }
}
