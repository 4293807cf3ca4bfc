//! Calibrates the simulator (`src/sim/`) against the real Argo CD 3.2.11: each
//! scenario is played on both, driven by the same REST calls, and both watch
//! streams are reduced to shapes and compared.
//!
//! A shape is what the executor's readiness rules read from one event: the
//! event type, whether the top-level `operation` is set, the operation's phase,
//! sync and health status, how `status.reconciledAt` relates to
//! `operationState.finishedAt`, and whether the app is being deleted.
//! Consecutive identical shapes are collapsed (the real controller writes
//! several updates per step, the simulator one).
//!
//! Every scenario plays the real side [`RUNS`] times at once, prints the
//! simulator's trace and the real ones side by side, and asserts:
//! - the rules both sides share (named predicates below);
//! - that the simulator's collapsed trace is a subsequence of each real one,
//!   apart from the steps the real side plays only sometimes (the same-second
//!   stale reconcile, see [`is_stale_tie`]) and the differences this file
//!   lists per scenario ([`Known`]). Transitions, not adjacency: the real
//!   controller adds steps the simulator leaves out (a `Progressing` health
//!   before the test flips a Widget, a refresh that updates health without
//!   stamping `reconciledAt`), and those do not change a readiness verdict.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use executor::sim::{AppScenario, Scenario, SimOutcome, Simulator};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::runtime::Runtime;

use crate::expect::eventually;
use crate::fixture::{self, config_map, widget, App, Stack};

const LIMIT: Duration = Duration::from_secs(120);
/// How often each scenario is played on the real stack.
const RUNS: usize = 3;
/// After the last awaited step, how long a stream must stay silent to count as done.
const REAL_QUIET: Duration = Duration::from_secs(3);
const SIM_QUIET: Duration = Duration::from_secs(1);
const SIM_TOKEN: &str = "calibration-token";
const SIM_APP: &str = "calibration";
const WIDGET: &str = "w";

// ---------------------------------------------------------------- shapes

/// The watch event's type. ADDED is the stream's snapshot of the current
/// state, so it compares equal to a MODIFIED with the same state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    Added,
    Modified,
    Deleted,
}

/// How `status.reconciledAt` relates to `status.operationState.finishedAt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reconciled {
    Before,
    Equal,
    After,
    NoFinish,
}

impl Reconciled {
    /// Reconciled in or after the operation's last second.
    fn at_or_after(self) -> bool {
        matches!(self, Reconciled::Equal | Reconciled::After)
    }
}

/// One event, reduced to what readiness reads.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Shape {
    event: Event,
    operation: bool,
    phase: Option<String>,
    sync: String,
    health: String,
    reconciled: Reconciled,
    deleting: bool,
}

fn time(app: &Value, pointer: &str) -> Option<DateTime<Utc>> {
    app.pointer(pointer)
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn text(app: &Value, pointer: &str) -> String {
    app.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

impl Shape {
    /// The shape of one `result` of the stream (`{"type":…,"application":{…}}`).
    fn of(result: &Value) -> Shape {
        let app = &result["application"];
        let event = match result["type"].as_str() {
            Some("ADDED") => Event::Added,
            Some("DELETED") => Event::Deleted,
            _ => Event::Modified,
        };
        let finished = time(app, "/status/operationState/finishedAt");
        let reconciled = match (time(app, "/status/reconciledAt"), finished) {
            (_, None) => Reconciled::NoFinish,
            (Some(r), Some(f)) if r > f => Reconciled::After,
            (Some(r), Some(f)) if r == f => Reconciled::Equal,
            _ => Reconciled::Before,
        };
        let phase = text(app, "/status/operationState/phase");
        Shape {
            event,
            operation: app.get("operation").is_some_and(|o| !o.is_null()),
            phase: (!phase.is_empty()).then_some(phase),
            sync: text(app, "/status/sync/status"),
            health: text(app, "/status/health/status"),
            reconciled,
            deleting: app.pointer("/metadata/deletionTimestamp").is_some(),
        }
    }

    /// The same state, whatever the event type (ADDED or MODIFIED).
    fn same_state(&self, other: &Shape) -> bool {
        let deleted = |s: &Shape| s.event == Event::Deleted;
        deleted(self) == deleted(other)
            && Shape {
                event: other.event,
                ..self.clone()
            } == *other
    }

    /// The operation ended: a final phase.
    fn ended(&self) -> bool {
        matches!(
            self.phase.as_deref(),
            Some("Succeeded" | "Failed" | "Error")
        )
    }

    fn running(&self) -> bool {
        self.phase.as_deref() == Some("Running")
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let event = match self.event {
            Event::Added => "A",
            Event::Modified => "M",
            Event::Deleted => "D",
        };
        let reconciled = match self.reconciled {
            Reconciled::Before => "before",
            Reconciled::Equal => "equal",
            Reconciled::After => "after",
            Reconciled::NoFinish => "no-finish",
        };
        let or_dash = |s: &str| {
            if s.is_empty() {
                "-".to_owned()
            } else {
                s.to_owned()
            }
        };
        write!(
            f,
            "{event} {} {:<9} {:<19} {reconciled:<9}{}",
            if self.operation { "op" } else { "--" },
            self.phase.as_deref().unwrap_or("-"),
            format!("{}/{}", or_dash(&self.sync), or_dash(&self.health)),
            if self.deleting { " del" } else { "" },
        )
    }
}

/// Collapses consecutive shapes with the same state.
fn collapse(shapes: Vec<Shape>) -> Vec<Shape> {
    let mut out: Vec<Shape> = Vec::new();
    for shape in shapes {
        if !out.last().is_some_and(|last| last.same_state(&shape)) {
            out.push(shape);
        }
    }
    out
}

// ---------------------------------------------------------------- comparison

/// Whether a simulator step and a real one are the same step. A Synced update
/// is a fresh comparison whether it lands in the operation's last second or
/// later (which one is a matter of timing on both sides), so there `equal`
/// and `after` agree; everywhere else the relation must be the same.
fn same_step(sim: &Shape, real: &Shape) -> bool {
    let relation = sim.reconciled == real.reconciled
        || (sim.sync == "Synced" && sim.reconciled.at_or_after() && real.reconciled.at_or_after());
    relation
        && Shape {
            reconciled: real.reconciled,
            ..sim.clone()
        }
        .same_state(real)
}

/// The update Argo CD 3.2.11 can send right after an operation ends: a
/// reconcile stamped in the operation's last second that still carries the
/// pre-sync comparison. A race on the real side (seen in some runs, not in
/// others), so the subsequence check does not require it.
fn is_stale_tie(shape: &Shape) -> bool {
    shape.ended()
        && !shape.operation
        && shape.reconciled == Reconciled::Equal
        && shape.sync == "OutOfSync"
}

/// The simulator's steps (stale ties aside) that the real trace does not show
/// in the same order: each step is looked for after the last one found.
fn unmatched<'a>(sim: &'a [Shape], real: &[Shape]) -> Vec<&'a Shape> {
    let mut cursor = 0;
    let mut missing = Vec::new();
    for step in sim.iter().filter(|s| !is_stale_tie(s)) {
        match real[cursor..].iter().position(|r| same_step(step, r)) {
            Some(at) => cursor += at + 1,
            None => missing.push(step),
        }
    }
    missing
}

/// A step the simulator plays that the real Argo CD does not, in every run.
/// Kept visible: the comparison fails when it stops occurring, so a fix to the
/// simulator comes with removing its entry here.
struct Known {
    what: &'static str,
    step: fn(&Shape) -> bool,
}

/// Prints the traces side by side and asserts that the simulator's trace is a
/// subsequence of every real one, up to the `known` differences.
fn compare(scenario: &str, sim: &[Shape], reals: &[Vec<Shape>], known: &[Known]) {
    const WIDTH: usize = 50;
    let mut table = format!("\n== calibration: {scenario}\n{:<WIDTH$}", "simulator");
    for i in 1..=reals.len() {
        table += &format!(" | {:<WIDTH$}", format!("real #{i}"));
    }
    let rows = reals
        .iter()
        .map(Vec::len)
        .chain([sim.len()])
        .max()
        .unwrap_or(0);
    for row in 0..rows {
        let cell = |trace: &[Shape]| trace.get(row).map(|s| s.to_string()).unwrap_or_default();
        table += &format!("\n{:<WIDTH$}", cell(sim));
        for real in reals {
            table += &format!(" | {:<WIDTH$}", cell(real));
        }
    }
    let ties: Vec<bool> = reals.iter().map(|r| r.iter().any(is_stale_tie)).collect();
    table += &format!("\nstale same-second update after the end, real runs: {ties:?}");
    for (i, real) in reals.iter().enumerate() {
        let missing = unmatched(sim, real);
        for step in &missing {
            match known.iter().find(|k| (k.step)(step)) {
                Some(k) => table += &format!("\nreal #{}: known difference: {step}: {}", i + 1, k.what),
                None => panic!(
                    "{table}\nreal #{}: the simulator's step `{step}` is not in the real trace in this order",
                    i + 1
                ),
            }
        }
        for k in known {
            assert!(
                missing.iter().any(|s| (k.step)(s)),
                "{table}\nreal #{}: the known difference `{}` no longer shows: remove it",
                i + 1,
                k.what
            );
        }
    }
    eprintln!("{table}");
}

// ---------------------------------------------------------------- rules both sides share

fn show(trace: &[Shape]) -> String {
    trace.iter().map(|s| format!("\n  {s}")).collect()
}

/// A sync of a new app: `operation` shows up (with no `operationState` yet)
/// before the controller sets phase Running, and stays set while Running.
fn operation_pending_before_running(trace: &[Shape]) -> Result<(), String> {
    let running = trace
        .iter()
        .position(Shape::running)
        .ok_or("never Running")?;
    let pending = trace[..running]
        .iter()
        .any(|s| s.operation && s.phase.is_none());
    if pending && trace[running].operation {
        Ok(())
    } else {
        Err(format!(
            "no pending `operation` before Running:{}",
            show(trace)
        ))
    }
}

/// `operation` is cleared in the update that sets the final phase: no update
/// shows both (Argo CD's `setOperationState` patches them together).
fn operation_cleared_with_the_final_phase(trace: &[Shape]) -> Result<(), String> {
    match trace.iter().find(|s| s.ended() && s.operation) {
        None => Ok(()),
        Some(s) => Err(format!(
            "`operation` still set with a final phase: {s}{}",
            show(trace)
        )),
    }
}

/// The update that ends the operation still carries the pre-sync comparison
/// (the first shape's sync and health), with `reconciledAt` before `finishedAt`.
fn operation_ends_with_the_pre_sync_comparison(trace: &[Shape], phase: &str) -> Result<(), String> {
    let before = &trace[0];
    let end = trace
        .iter()
        .find(|s| s.ended())
        .ok_or_else(|| format!("the operation never ended:{}", show(trace)))?;
    if end.phase.as_deref() == Some(phase)
        && !end.operation
        && end.sync == before.sync
        && end.health == before.health
        && end.reconciled == Reconciled::Before
    {
        Ok(())
    } else {
        Err(format!(
            "expected the end ({phase}) with the pre-sync {}/{} and reconciledAt before finishedAt, got {end}{}",
            before.sync,
            before.health,
            show(trace)
        ))
    }
}

/// The last update is assessed in or after the operation's last second, with this health.
fn assessed_after_the_finish(trace: &[Shape], sync: &str, health: &str) -> Result<(), String> {
    let last = trace.last().ok_or("no events")?;
    if last.sync == sync && last.health == health && last.reconciled.at_or_after() {
        Ok(())
    } else {
        Err(format!(
            "expected a last update {sync}/{health} with reconciledAt ≥ finishedAt:{}",
            show(trace)
        ))
    }
}

/// Teardown: the app is marked (`deletionTimestamp`) and only then DELETED, last.
fn marked_then_deleted(trace: &[Shape]) -> Result<(), String> {
    let deleted = trace.iter().position(|s| s.event == Event::Deleted);
    let marked = trace
        .iter()
        .position(|s| s.deleting && s.event != Event::Deleted);
    match (marked, deleted) {
        (Some(m), Some(d)) if m < d && d == trace.len() - 1 && !trace[0].deleting => Ok(()),
        _ => Err(format!(
            "expected deletionTimestamp, then DELETED:{}",
            show(trace)
        )),
    }
}

/// Asserts a rule on one side's trace.
#[track_caller]
fn holds(side: &str, rule: Result<(), String>) {
    if let Err(seen) = rule {
        panic!("{side}: {seen}");
    }
}

// ---------------------------------------------------------------- driving a side

/// One side's Argo CD API: the real argocd-server or a simulator.
struct Target {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Target {
    /// argocd-server, with this bearer token.
    fn real(stack: &Stack, token: String) -> Target {
        let ca = std::fs::read(stack.var("ARGOCD_CA_FILE")).expect("the stack's CA");
        let client = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("a PEM CA"))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .expect("a client");
        Target {
            base: stack.var("ARGOCD_SERVER").to_owned(),
            token: token.trim().to_owned(),
            client,
        }
    }

    /// argocd-server as the `executor` account.
    fn executor(stack: &Stack) -> Target {
        let token = std::fs::read_to_string(stack.var("ARGOCD_TOKEN_FILE")).expect("the token");
        Target::real(stack, token)
    }

    fn sim(sim: &Simulator) -> Target {
        Target {
            base: sim.url(),
            token: SIM_TOKEN.to_owned(),
            client: reqwest::Client::new(),
        }
    }

    /// A request; every method but GET carries `Content-Type: application/json`
    /// (argocd-server answers 415 without it, `enforceContentTypes` in `server/server.go`).
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(60));
        if method != reqwest::Method::GET {
            request = request.header("content-type", "application/json");
        }
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| format!("{method} {path}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{method} {path}: {status}: {text}"));
        }
        serde_json::from_str(&text).map_err(|e| format!("{method} {path}: {e}: {text}"))
    }

    /// The executor's sync request.
    async fn sync(&self, name: &str) -> Result<Value, String> {
        let body =
            json!({"prune": false, "infos": [{"name": "executor-run", "value": "calibration"}]});
        self.call(
            reqwest::Method::POST,
            &format!("/api/v1/applications/{name}/sync"),
            Some(body),
        )
        .await
    }

    /// The executor's teardown request.
    async fn delete(&self, name: &str) -> Result<Value, String> {
        let path = format!("/api/v1/applications/{name}?cascade=true&propagationPolicy=foreground");
        self.call(reqwest::Method::DELETE, &path, None).await
    }

    /// Opens the app's watch stream and records it in the background.
    async fn watch(&self, name: &str) -> Result<Recording, String> {
        let path = format!("/api/v1/stream/applications?name={name}");
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {path}: {}", response.status()));
        }
        let events: Arc<Mutex<Vec<(Instant, Value)>>> = Arc::default();
        let sink = Arc::clone(&events);
        let task = tokio::spawn(async move {
            let mut body = response.bytes_stream();
            let mut buffer = Vec::new();
            while let Some(Ok(chunk)) = body.next().await {
                buffer.extend_from_slice(&chunk);
                while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buffer.drain(..=end).collect();
                    match serde_json::from_slice::<Value>(&line) {
                        Ok(v) if v.get("result").is_some() => {
                            let mut events = sink.lock().unwrap_or_else(|e| e.into_inner());
                            events.push((Instant::now(), v["result"].clone()));
                        }
                        _ => eprintln!(
                            "calibration: stream line {}",
                            String::from_utf8_lossy(&line)
                        ),
                    }
                }
            }
        });
        Ok(Recording { events, task })
    }
}

/// A watch stream being recorded; stops when dropped.
struct Recording {
    events: Arc<Mutex<Vec<(Instant, Value)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Recording {
    fn events(&self) -> std::sync::MutexGuard<'_, Vec<(Instant, Value)>> {
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The shapes of the events from index `from` on.
    fn shapes(&self, from: usize) -> Vec<Shape> {
        self.events()[from..]
            .iter()
            .map(|(_, v)| Shape::of(v))
            .collect()
    }

    /// The index of the last event so far.
    fn last(&self) -> usize {
        self.events().len().saturating_sub(1)
    }

    /// Waits for an event from `from` on that `done` holds for.
    fn wait(&self, what: &str, from: usize, done: impl Fn(&Shape) -> bool) {
        eventually(what, LIMIT, || {
            let shapes = self.shapes(from);
            if shapes.iter().any(&done) {
                Ok(())
            } else {
                Err(shapes
                    .last()
                    .map_or("no event".to_owned(), |s| s.to_string()))
            }
        });
    }

    /// Waits for `done`, then for the stream to stay silent for `quiet`, so
    /// updates that follow the awaited one are recorded too.
    fn settle(&self, what: &str, from: usize, done: impl Fn(&Shape) -> bool, quiet: Duration) {
        self.wait(what, from, done);
        eventually("the stream to go quiet", LIMIT, || {
            let since = self
                .events()
                .last()
                .map(|(at, _)| at.elapsed())
                .unwrap_or_default();
            if since >= quiet {
                Ok(())
            } else {
                Err(format!("an update {since:?} ago"))
            }
        });
    }
}

/// How a scenario's sync ends: the manifests on the real side, the outcome
/// in the simulator, and the last state awaited on both.
#[derive(Clone, Copy, Debug)]
enum Play {
    /// A ConfigMap and a ClusterIP Service. The Service is there for its health
    /// check: Argo CD ignores a Missing resource that has none, so an app of a
    /// lone ConfigMap reads Healthy before any sync (`setApplicationHealth` in
    /// `controller/health.go`), where the simulator's app (a Service and a
    /// Deployment) reads Missing.
    Healthy,
    /// A Widget, set Degraded once it is applied.
    Degraded,
    /// A Service the API server rejects (`spec.type: Bogus`), no retry.
    Failed,
}

impl Play {
    fn manifests(self) -> Vec<(&'static str, String)> {
        match self {
            Play::Healthy => vec![
                ("cm.yaml", config_map("settings")),
                (
                    "svc.yaml",
                    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n    - port: 80\n".to_owned(),
                ),
            ],
            Play::Degraded => vec![("widget.yaml", widget(WIDGET))],
            Play::Failed => vec![(
                "svc.yaml",
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\nspec:\n  type: Bogus\n  ports:\n    - port: 80\n".to_owned(),
            )],
        }
    }

    fn outcome(self) -> SimOutcome {
        match self {
            Play::Healthy => SimOutcome::Healthy,
            Play::Degraded => SimOutcome::Degraded,
            Play::Failed => SimOutcome::OperationFailed,
        }
    }

    /// The state both sides are followed to.
    fn done(self, s: &Shape) -> bool {
        let assessed = s.reconciled.at_or_after() && !s.operation;
        match self {
            Play::Healthy => assessed && s.sync == "Synced" && s.health == "Healthy",
            Play::Degraded => assessed && s.sync == "Synced" && s.health == "Degraded",
            Play::Failed => assessed && matches!(s.phase.as_deref(), Some("Failed" | "Error")),
        }
    }
}

/// Plays a sync on one side: waits for the app's first comparison, sends the
/// sync, runs `meanwhile`, and records until the play's last state and a quiet
/// stream. Returns the recording and the index of the last event before the sync.
fn play_sync(
    rt: &Runtime,
    target: &Target,
    name: &str,
    play: Play,
    quiet: Duration,
    meanwhile: impl FnOnce(),
) -> (Recording, usize) {
    let rec = rt
        .block_on(target.watch(name))
        .unwrap_or_else(|e| panic!("{e}"));
    rec.wait("the app's first comparison", 0, |s| s.sync == "OutOfSync");
    let from = rec.last();
    rt.block_on(target.sync(name))
        .unwrap_or_else(|e| panic!("{e}"));
    meanwhile();
    rec.settle(
        &format!("{play:?} after the sync"),
        from,
        |s| play.done(s),
        quiet,
    );
    (rec, from)
}

/// A new app on the real stack, ready to sync.
fn real_app(stack: &'static Stack, prefix: &str, play: Play) -> App {
    let app = App::new(stack, prefix);
    app.push(&play.manifests()).create();
    app
}

/// Flips the Widget to Degraded once Argo CD has applied it (Degraded plays only).
fn degrade_when_applied(stack: &Stack, app: &App, play: Play) {
    if let Play::Degraded = play {
        eventually("the Widget to be applied", LIMIT, || {
            stack
                .get("widgets.e2e.executor.dev", app.namespace(), WIDGET)
                .map(|_| ())
                .ok_or_else(|| "no Widget yet".to_owned())
        });
        app.set_widget(WIDGET, "Degraded");
    }
}

/// Removes a scenario's app from the real stack (best effort: it only saves the controller work).
fn clean_up(rt: &Runtime, target: &Target, name: &str) {
    if let Err(e) = rt.block_on(target.delete(name)) {
        eprintln!("calibration: cleaning up {name}: {e}");
    }
}

/// A new real app's sync, collapsed, from its last pre-sync state on.
fn real_sync(stack: &'static Stack, rt: &Runtime, play: Play) -> Vec<Shape> {
    let app = real_app(stack, "cal-sync", play);
    let target = Target::executor(stack);
    let (rec, from) = play_sync(rt, &target, &app.name, play, REAL_QUIET, || {
        degrade_when_applied(stack, &app, play)
    });
    let trace = collapse(rec.shapes(from));
    clean_up(rt, &target, &app.name);
    trace
}

/// A simulator with one app of this timeline (the default timings).
fn simulator(rt: &Runtime, app: AppScenario) -> Simulator {
    let scenario = Scenario {
        apps: vec![app],
        ..Scenario::with_apps(SIM_TOKEN, &[])
    };
    rt.block_on(Simulator::start(scenario))
        .expect("the simulator starts")
}

/// The same sync in the simulator, collapsed.
fn sim_sync(rt: &Runtime, play: Play) -> Vec<Shape> {
    let sim = simulator(
        rt,
        AppScenario {
            outcome: play.outcome(),
            ..AppScenario::named(SIM_APP)
        },
    );
    let (rec, from) = play_sync(rt, &Target::sim(&sim), SIM_APP, play, SIM_QUIET, || {});
    collapse(rec.shapes(from))
}

/// Plays `one` [`RUNS`] times at once.
fn runs(one: impl Fn() -> Vec<Shape> + Sync) -> Vec<Vec<Shape>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..RUNS).map(|_| scope.spawn(&one)).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The rules every sync of a new app follows, on either side.
fn sync_rules(side: &str, trace: &[Shape], phase: &str) {
    holds(side, operation_pending_before_running(trace));
    holds(side, operation_cleared_with_the_final_phase(trace));
    holds(
        side,
        operation_ends_with_the_pre_sync_comparison(trace, phase),
    );
}

// ---------------------------------------------------------------- scenarios

/// Calibrates a new app's sync to Healthy: pending `operation`, Running with
/// the old health, the end with the pre-sync comparison and `reconciledAt`
/// before `finishedAt`, the same-second stale update (required of the
/// simulator, a race on the real side), then Synced/Healthy assessed at or
/// after the finish.
#[test]
fn calibrate_a_new_app_synced_to_healthy() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let rt = runtime();
    let reals = runs(|| real_sync(stack, &rt, Play::Healthy));
    let sim = sim_sync(&rt, Play::Healthy);
    for (i, real) in reals.iter().enumerate() {
        let side = format!("real #{}", i + 1);
        sync_rules(&side, real, "Succeeded");
        holds(&side, assessed_after_the_finish(real, "Synced", "Healthy"));
    }
    sync_rules("simulator", &sim, "Succeeded");
    holds(
        "simulator",
        assessed_after_the_finish(&sim, "Synced", "Healthy"),
    );
    assert!(
        sim.iter().any(is_stale_tie),
        "simulator: no stale same-second update:{}",
        show(&sim)
    );
    compare("new app → sync → Healthy", &sim, &reals, &[]);
}

/// Calibrates a new app's sync to Degraded (the Widget flipped once applied;
/// `SimOutcome::Degraded` in the simulator): the same operation steps, then
/// Synced/Degraded assessed at or after the finish. The real side may show
/// Progressing first (the Widget before the flip); the simulator goes straight
/// to Degraded, which the subsequence check allows.
#[test]
fn calibrate_a_new_app_synced_to_degraded() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let rt = runtime();
    let reals = runs(|| real_sync(stack, &rt, Play::Degraded));
    let sim = sim_sync(&rt, Play::Degraded);
    for (i, real) in reals.iter().enumerate() {
        let side = format!("real #{}", i + 1);
        sync_rules(&side, real, "Succeeded");
        holds(&side, assessed_after_the_finish(real, "Synced", "Degraded"));
    }
    sync_rules("simulator", &sim, "Succeeded");
    holds(
        "simulator",
        assessed_after_the_finish(&sim, "Synced", "Degraded"),
    );
    assert!(
        sim.iter().any(is_stale_tie),
        "simulator: no stale same-second update:{}",
        show(&sim)
    );
    compare("new app → sync → Degraded", &sim, &reals, &[]);
}

/// Calibrates a failed operation (an apply the API server rejects, no retry;
/// `SimOutcome::OperationFailed`): pending, Running, then phase Failed with
/// `operation` cleared and the pre-sync OutOfSync/Missing, reconciledAt before
/// finishedAt; later updates stay OutOfSync. Known difference: the simulator
/// then assesses Degraded (`outcome_health` in `src/sim/model.rs`, set by
/// `Store::reconcile` in `src/sim/operations.rs`), while nothing of a rejected
/// apply exists, so the real app stays Missing.
#[test]
fn calibrate_a_failed_operation() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let rt = runtime();
    let reals = runs(|| real_sync(stack, &rt, Play::Failed));
    let sim = sim_sync(&rt, Play::Failed);
    let stays_out_of_sync = |trace: &[Shape]| match trace
        .iter()
        .skip_while(|s| !s.ended())
        .find(|s| s.sync != "OutOfSync")
    {
        None => Ok(()),
        Some(s) => Err(format!("a failed sync compared {s}:{}", show(trace))),
    };
    for (i, real) in reals.iter().enumerate() {
        let side = format!("real #{}", i + 1);
        sync_rules(&side, real, "Failed");
        holds(&side, stays_out_of_sync(real));
    }
    sync_rules("simulator", &sim, "Failed");
    holds("simulator", stays_out_of_sync(&sim));
    assert!(
        sim.iter().any(is_stale_tie),
        "simulator: no stale same-second update:{}",
        show(&sim)
    );
    compare(
        "failed operation",
        &sim,
        &reals,
        &[Known {
            what:
                "after a rejected apply the simulator assesses Degraded; the real app stays Missing",
            step: |s| s.ended() && s.health == "Degraded",
        }],
    );
}

/// Calibrates the teardown of a Healthy app (synced first, the same way on
/// both sides): the DELETE's finalizer patch, `deletionTimestamp`, then
/// DELETED as the last event. Known difference: while its resources are
/// deleted, the real app is re-compared (OutOfSync/Missing) before it goes,
/// so its DELETED event carries OutOfSync/Missing; the simulator removes the
/// app as it was (`fire`'s `Step::Remove` in `src/sim/controller.rs`).
#[test]
fn calibrate_the_teardown_of_a_healthy_app() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let rt = runtime();
    let teardown = |target: &Target, name: &str, quiet: Duration| {
        let (rec, _) = play_sync(&rt, target, name, Play::Healthy, quiet, || {});
        let from = rec.last();
        rt.block_on(target.delete(name))
            .unwrap_or_else(|e| panic!("{e}"));
        rec.wait("DELETED", from, |s| s.event == Event::Deleted);
        collapse(rec.shapes(from))
    };
    let reals = runs(|| {
        let app = real_app(stack, "cal-down", Play::Healthy);
        teardown(&Target::executor(stack), &app.name, REAL_QUIET)
    });
    let sim = {
        let sim = simulator(&rt, AppScenario::named(SIM_APP));
        teardown(&Target::sim(&sim), SIM_APP, SIM_QUIET)
    };
    for (i, real) in reals.iter().enumerate() {
        holds(&format!("real #{}", i + 1), marked_then_deleted(real));
    }
    holds("simulator", marked_then_deleted(&sim));
    compare(
        "teardown of a Healthy app",
        &sim,
        &reals,
        &[Known {
            what: "the real app is re-compared OutOfSync/Missing as its resources go; the simulator deletes it Synced/Healthy",
            step: |s| s.event == Event::Deleted && s.health == "Healthy",
        }],
    );
}

/// Calibrates someone else's operation: on the real side `admin` syncs a new
/// app while the stream is watched; in the simulator, `foreign_operation` has
/// alice's sync Running from the start. Both end Synced/Healthy assessed at or
/// after the finish, the end carrying the pre-sync comparison. Known
/// difference: the simulator shows health Progressing while the foreign
/// operation runs and when it ends (`Store::start_foreign_operation` in
/// `src/sim/operations.rs`); the real controller leaves the last comparison's
/// health (Missing for a new app), as the simulator's own `pick_up` does.
#[test]
fn calibrate_someone_elses_operation() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let rt = runtime();
    let password = std::fs::read_to_string(stack.var("ARGOCD_ADMIN_PASSWORD_FILE"))
        .expect("the admin password");
    let session = rt
        .block_on(Target::executor(stack).call(
            reqwest::Method::POST,
            "/api/v1/session",
            Some(json!({"username": "admin", "password": password.trim()})),
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let admin_token = session["token"]
        .as_str()
        .expect("a session token")
        .to_owned();
    let reals = runs(|| {
        let app = real_app(stack, "cal-foreign", Play::Healthy);
        let admin = Target::real(stack, admin_token.clone());
        let (rec, from) = play_sync(&rt, &admin, &app.name, Play::Healthy, REAL_QUIET, || {});
        let trace = collapse(rec.shapes(from));
        clean_up(&rt, &admin, &app.name);
        trace
    });
    let sim = {
        let sim = simulator(
            &rt,
            AppScenario {
                foreign_operation: Some(Duration::from_millis(300)),
                ..AppScenario::named(SIM_APP)
            },
        );
        let rec = rt
            .block_on(Target::sim(&sim).watch(SIM_APP))
            .unwrap_or_else(|e| panic!("{e}"));
        rec.settle(
            "Healthy after alice's sync",
            0,
            |s| Play::Healthy.done(s),
            SIM_QUIET,
        );
        collapse(rec.shapes(0))
    };
    for (i, real) in reals.iter().enumerate() {
        let side = format!("real #{}", i + 1);
        sync_rules(&side, real, "Succeeded");
        holds(&side, assessed_after_the_finish(real, "Synced", "Healthy"));
    }
    holds("simulator", operation_cleared_with_the_final_phase(&sim));
    holds(
        "simulator",
        assessed_after_the_finish(&sim, "Synced", "Healthy"),
    );
    compare(
        "someone else's operation",
        &sim,
        &reals,
        &[Known {
            what: "the simulator shows Progressing during (and at the end of) a foreign operation; the real app keeps its last comparison's health",
            step: |s| s.health == "Progressing",
        }],
    );
}
