//! One run's scope, whichever it is: a single app on its own stream, or a
//! DAG through the scheduler and one shared stream; raced against a stop
//! (a signal), after which the operations this run started are terminated.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use tokio::time::Instant;

use super::{cancel, platform, RunContext};
use crate::outcome::{ComponentResult, ComponentStatus, FailureReason};
use crate::progress::ProgressView;
use crate::vocabulary::Scope;
use crate::wait::hub::Hub;

/// What cut a run short, and when.
#[derive(Debug, Clone, Copy)]
pub struct Stopped {
    /// The signal's name, `SIGTERM` or `SIGINT`.
    pub signal: &'static str,
    /// When it arrived.
    pub at: Instant,
}

/// Runs every component of the scope until they are done or `stop` resolves
/// first; then returns the components as they stand.
pub async fn run(
    ctx: &mut RunContext,
    progress: Option<&ProgressView>,
    stop: impl Future<Output = &'static str>,
) -> (Vec<ComponentResult>, Option<Stopped>) {
    let config = ctx.config.clone();
    let stopped = |signal| {
        tracing::warn!(
            phase = "cancel",
            "received {signal}; stopping and writing the report"
        );
        Some(Stopped {
            signal,
            at: Instant::now(),
        })
    };
    match (&config.scope, &config.dag) {
        (Scope::App(name), dag) => {
            // A single app: its own stream, and its DAG node's timeouts when it has one.
            let node = dag.as_ref().and_then(|dag| {
                dag.nodes()
                    .iter()
                    .find(|n| n.application() == Some(name.as_str()))
            });
            let deadlines = ctx.deadlines(node);
            tokio::select! {
                result = platform::run_app(ctx, name, deadlines, false) => (vec![result], None),
                signal = stop => (vec![cancelled_component(name, signal)], stopped(signal)),
            }
        }
        (_, Some(dag)) => {
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
                signal = stop => stopped(signal),
            };
            if let Some(view) = progress {
                view.finish();
            }
            if let Some(ticker) = ticker {
                ticker.abort();
            }
            let slots = slots.into_inner().unwrap_or_else(|e| e.into_inner());
            let components = platform::components(dag, slots, config.action, stopped.is_some());
            (components, stopped)
        }
        (_, None) => {
            unreachable!("platform and stack scopes always have a DAG (checked in Config)")
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
        .dag
        .iter()
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

fn cancelled_component(name: &str, signal: &str) -> ComponentResult {
    ComponentResult {
        name: name.to_owned(),
        kind: "app",
        application: Some(name.to_owned()),
        status: ComponentStatus::Cancelled,
        health: None,
        sync: None,
        operation: None,
        revision: None,
        started_at: crate::report::rfc3339(Utc::now()),
        duration_seconds: 0.0,
        message: format!("cancelled by {signal} before it completed"),
        termination: None,
        failure: Some(FailureReason::Cancelled),
        deadlines: Vec::new(),
    }
}
