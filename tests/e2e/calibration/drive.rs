//! Driving one side, the real argocd-server or the simulator, through the
//! same REST calls, and recording its watch stream.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use executor::readiness::RUN_MARKER;
use executor::sim::{AppScenario, Scenario, SimOutcome, Simulator};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::runtime::Runtime;

use crate::expect::eventually;
use crate::fixture::{config_map, widget, App, Stack};

use super::shape::*;

pub(super) const LIMIT: Duration = Duration::from_secs(120);
/// How often each scenario is played on the real stack.
pub(super) const RUNS: usize = 3;
/// After the last awaited step, how long a stream must stay silent to count as done.
pub(super) const REAL_QUIET: Duration = Duration::from_secs(3);
pub(super) const SIM_QUIET: Duration = Duration::from_secs(1);
/// How long the controller may take to start a requested sync before a real
/// run counts as stalled. It normally takes under two seconds; but once in
/// about forty real runs, Argo CD 3.2.11 left a sync requested in the same
/// second as a new app's first reconcile pending until that app's next resync
/// (180 s on this stack), which is not what these scenarios calibrate.
pub(super) const PICKUP: Duration = Duration::from_secs(30);
/// How often a stalled real run is played again with a new app.
pub(super) const STALL_RETRIES: usize = 2;
pub(super) const SIM_TOKEN: &str = "calibration-token";
pub(super) const SIM_APP: &str = "calibration";
pub(super) const WIDGET: &str = "w";

/// One side's Argo CD API: the real argocd-server or a simulator.
pub(super) struct Target {
    pub(super) base: String,
    pub(super) token: String,
    pub(super) client: reqwest::Client,
}

impl Target {
    /// argocd-server, with this bearer token.
    pub(super) fn real(stack: &Stack, token: String) -> Target {
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
    pub(super) fn executor(stack: &Stack) -> Target {
        let token = std::fs::read_to_string(stack.var("ARGOCD_TOKEN_FILE")).expect("the token");
        Target::real(stack, token)
    }

    /// A simulator, with its scenario's token.
    pub(super) fn sim(sim: &Simulator) -> Target {
        Target {
            base: sim.url(),
            token: SIM_TOKEN.to_owned(),
            client: reqwest::Client::new(),
        }
    }

    /// A request; every method but GET carries `Content-Type: application/json`
    /// (argocd-server answers 415 without it, `enforceContentTypes` in `server/server.go`).
    pub(super) async fn call(
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
    pub(super) async fn sync(&self, name: &str) -> Result<Value, String> {
        let body = json!({"prune": false, "infos": [{"name": RUN_MARKER, "value": "calibration"}]});
        self.call(
            reqwest::Method::POST,
            &format!("/api/v1/applications/{name}/sync"),
            Some(body),
        )
        .await
    }

    /// The executor's teardown request.
    pub(super) async fn delete(&self, name: &str) -> Result<Value, String> {
        let path = format!("/api/v1/applications/{name}?cascade=true&propagationPolicy=foreground");
        self.call(reqwest::Method::DELETE, &path, None).await
    }

    /// Opens the app's watch stream and records it in the background.
    pub(super) async fn watch(&self, name: &str) -> Result<Recording, String> {
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
pub(super) struct Recording {
    pub(super) events: Arc<Mutex<Vec<(Instant, Value)>>>,
    pub(super) task: tokio::task::JoinHandle<()>,
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Recording {
    pub(super) fn events(&self) -> std::sync::MutexGuard<'_, Vec<(Instant, Value)>> {
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The shapes of the events from index `from` on.
    pub(super) fn shapes(&self, from: usize) -> Vec<Shape> {
        self.events()[from..]
            .iter()
            .map(|(_, v)| Shape::of(v))
            .collect()
    }

    /// The index of the last event so far.
    pub(super) fn last(&self) -> usize {
        self.events().len().saturating_sub(1)
    }

    /// Waits for an event from `from` on that `done` holds for.
    pub(super) fn wait(&self, what: &str, from: usize, done: impl Fn(&Shape) -> bool) {
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

    /// Waits up to [`PICKUP`] for the controller to `what`: an event from
    /// `from` on that `done` holds for. Not an assertion: the caller decides.
    pub(super) fn within(
        &self,
        what: &str,
        from: usize,
        done: impl Fn(&Shape) -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + PICKUP;
        let reached = eventually(what, LIMIT, || {
            if self.shapes(from).iter().any(&done) {
                Ok(true)
            } else if Instant::now() >= deadline {
                Ok(false)
            } else {
                Err("not yet".to_owned())
            }
        });
        if reached {
            Ok(())
        } else {
            Err(format!(
                "the controller did not {what} within {PICKUP:?}:{}",
                show(&collapse(self.shapes(from)))
            ))
        }
    }

    /// Waits for `done`, then for the stream to stay silent for `quiet`, so
    /// updates that follow the awaited one are recorded too.
    pub(super) fn settle(
        &self,
        what: &str,
        from: usize,
        done: impl Fn(&Shape) -> bool,
        quiet: Duration,
    ) {
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
pub(super) enum Play {
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
    pub(super) fn manifests(self) -> Vec<(&'static str, String)> {
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

    /// The simulator's app for this play, assessed in the re-comparison
    /// after the sync. The real Widget of a Healthy play carries its status in
    /// the manifest, so that comparison already says Healthy. A Degraded
    /// play's Widget flips once applied: the real side shows Synced/Progressing
    /// first, stamped in the finish's second in most runs but in some only
    /// unstamped (`CompareWithRecent`), a race the simulator does not play; it
    /// goes straight to Degraded, which the subsequence check allows.
    pub(super) fn sim_app(self) -> AppScenario {
        let outcome = match self {
            Play::Healthy => SimOutcome::Healthy,
            Play::Degraded => SimOutcome::Degraded,
            Play::Failed => SimOutcome::OperationFailed,
        };
        let app = AppScenario {
            outcome,
            ..AppScenario::named(SIM_APP)
        };
        AppScenario {
            health_delay: app.recompare_delay,
            ..app
        }
    }

    /// The state both sides are followed to.
    pub(super) fn done(self, s: &Shape) -> bool {
        let assessed = s.reconciled.at_or_after() && !s.operation;
        match self {
            Play::Healthy => assessed && s.sync == "Synced" && s.health == "Healthy",
            Play::Degraded => assessed && s.sync == "Synced" && s.health == "Degraded",
            Play::Failed => assessed && matches!(s.phase.as_deref(), Some("Failed" | "Error")),
        }
    }

    /// The final phase of the operation: an apply the API server rejects
    /// ends Failed ("one or more objects failed to apply"), not Error.
    pub(super) fn phase(self) -> &'static str {
        match self {
            Play::Healthy | Play::Degraded => "Succeeded",
            Play::Failed => "Failed",
        }
    }

    /// What the last update shows: the outcome assessed at or after the
    /// finish, and after a failed operation, OutOfSync from its end on.
    pub(super) fn last_rule(self, trace: &[Shape]) -> Result<(), String> {
        match self {
            Play::Healthy => assessed_after_the_finish(trace, "Synced", "Healthy"),
            Play::Degraded => assessed_after_the_finish(trace, "Synced", "Degraded"),
            Play::Failed => {
                let after_end = trace.iter().skip_while(|s| !s.ended());
                match after_end.clone().find(|s| s.sync != "OutOfSync") {
                    Some(s) => Err(format!("a failed sync compared {s}:{}", show(trace))),
                    None if after_end.last().is_some_and(|s| self.done(s)) => Ok(()),
                    None => Err(format!(
                        "expected a last update Failed with reconciledAt ≥ finishedAt:{}",
                        show(trace)
                    )),
                }
            }
        }
    }
}

/// Plays a sync on one side: waits for the app's first comparison, sends the
/// sync, runs `meanwhile` once the controller started it, and records until
/// the play's last state and a quiet stream. Returns the recording and the
/// index of the last event before the sync, or the trace so far when the
/// controller did not start the sync within [`PICKUP`].
pub(super) fn play_sync(
    rt: &Runtime,
    target: &Target,
    name: &str,
    play: Play,
    quiet: Duration,
    meanwhile: impl FnOnce(),
) -> Result<(Recording, usize), String> {
    let rec = rt
        .block_on(target.watch(name))
        .unwrap_or_else(|e| panic!("{e}"));
    rec.within("compare the app", 0, |s| s.sync == "OutOfSync")
        .map_err(|e| format!("{name}: {e}"))?;
    let from = rec.last();
    rt.block_on(target.sync(name))
        .unwrap_or_else(|e| panic!("{e}"));
    rec.within("start the sync", from, |s| s.running() || s.ended())
        .map_err(|e| format!("{name}: {e}"))?;
    meanwhile();
    rec.settle(
        &format!("{play:?} after the sync"),
        from,
        |s| play.done(s),
        quiet,
    );
    Ok((rec, from))
}

/// A new app on the real stack, ready to sync.
pub(super) fn real_app(stack: &'static Stack, prefix: &str, play: Play) -> App {
    let app = App::new(stack, prefix);
    app.push(&play.manifests()).create();
    app
}

/// Flips the Widget to Degraded once Argo CD has applied it (Degraded plays only).
pub(super) fn degrade_when_applied(stack: &Stack, app: &App, play: Play) {
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
pub(super) fn clean_up(rt: &Runtime, target: &Target, name: &str) {
    if let Err(e) = rt.block_on(target.delete(name)) {
        eprintln!("calibration: cleaning up {name}: {e}");
    }
}

/// A new real app's sync, collapsed, from its last pre-sync state on.
pub(super) fn real_sync(
    stack: &'static Stack,
    rt: &Runtime,
    play: Play,
) -> Result<Vec<Shape>, String> {
    let app = real_app(stack, "cal-sync", play);
    let target = Target::executor(stack);
    let trace = play_sync(rt, &target, &app.name, play, REAL_QUIET, || {
        degrade_when_applied(stack, &app, play)
    })
    .map(|(rec, from)| collapse(rec.shapes(from)));
    clean_up(rt, &target, &app.name);
    trace
}

/// A simulator with one app of this timeline (the default timings).
pub(super) fn simulator(rt: &Runtime, app: AppScenario) -> Simulator {
    let scenario = Scenario {
        apps: vec![app],
        ..Scenario::with_apps(SIM_TOKEN, &[])
    };
    rt.block_on(Simulator::start(scenario))
        .expect("the simulator starts")
}

/// The same sync in the simulator, collapsed.
pub(super) fn sim_sync(rt: &Runtime, play: Play) -> Vec<Shape> {
    let sim = simulator(rt, play.sim_app());
    let (rec, from) = play_sync(rt, &Target::sim(&sim), SIM_APP, play, SIM_QUIET, || {})
        .unwrap_or_else(|e| panic!("simulator: {e}"));
    collapse(rec.shapes(from))
}

/// Plays `one` [`RUNS`] times at once. A run the controller stalled on is
/// printed and played again, at most [`STALL_RETRIES`] times.
pub(super) fn runs(
    stack: &Stack,
    one: impl Fn() -> Result<Vec<Shape>, String> + Sync,
) -> Vec<Vec<Shape>> {
    let one = &one;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (1..=RUNS)
            .map(|run| {
                scope.spawn(move || {
                    for attempt in 0..=STALL_RETRIES {
                        match one() {
                            Ok(trace) => return trace,
                            Err(stall) => eprintln!(
                                "calibration: real #{run}, attempt {}: {stall}\n  {}",
                                attempt + 1,
                                controller_state(stack)
                            ),
                        }
                    }
                    panic!(
                        "real #{run}: the controller stalled {} times",
                        STALL_RETRIES + 1
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// The application controller's process state, for a stall's message:
/// another test process may have stopped it (`T`), which the in-process
/// [`fixture::exclusive`] lock cannot prevent.
pub(super) fn controller_state(stack: &Stack) -> String {
    let pid = stack.pid("argocd-application-controller");
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The state follows the parenthesised command name.
    let state = stat
        .rsplit_once(") ")
        .and_then(|(_, rest)| rest.get(..1))
        .unwrap_or("?");
    format!("argocd-application-controller (pid {pid}) is in state {state}")
}

pub(super) fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}
