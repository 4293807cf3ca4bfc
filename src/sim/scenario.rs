//! What the simulator plays: the apps, their timelines and the injected faults.
//!
//! A scenario is plain data. Tests build it in code; `executor deploy --simulate`
//! reads it from a `simulation.yaml`, so every type here deserialises with
//! camelCase names, rejects unknown fields and takes durations as humantime
//! strings such as `"300ms"` or `"2s"`.

use std::time::Duration;

use super::chaos::Chaos;
use serde::{Deserialize, Serialize};

/// Everything the simulator needs to start: the accepted token, the apps and the faults.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    /// The bearer token every request must carry.
    pub token: String,
    /// The Applications Argo CD knows about (or, with `initial: Absent`, does not).
    #[serde(default)]
    pub apps: Vec<AppScenario>,
    /// Faults injected in front of the API.
    #[serde(default)]
    pub faults: Faults,
}

impl Scenario {
    /// A scenario with the given token and one OutOfSync app per name, default timelines.
    pub fn with_apps(token: &str, names: &[&str]) -> Scenario {
        Scenario {
            token: token.to_string(),
            apps: names.iter().map(|name| AppScenario::named(name)).collect(),
            faults: Faults::default(),
        }
    }
}

/// The state an app starts in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum InitialState {
    /// Never synced: sync `OutOfSync`, health `Missing`, no `operationState`.
    #[default]
    OutOfSync,
    /// Synced and Healthy after an old Succeeded operation, re-reconciled since.
    Healthy,
    /// The app does not exist.
    Absent,
}

/// How the app's operations end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SimOutcome {
    /// The operation succeeds and the app becomes Healthy.
    #[default]
    Healthy,
    /// The operation succeeds but the app becomes Degraded.
    Degraded,
    /// The operation ends in phase `Failed`; the app stays OutOfSync and becomes Degraded.
    OperationFailed,
    /// The operation succeeds and the app becomes Suspended.
    Suspended,
    /// The operation succeeds but health cannot be assessed: `Unknown`.
    Unknown,
}

/// One Application and its timeline.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppScenario {
    /// The Application's name.
    pub name: String,
    /// `spec.project`.
    #[serde(default = "default_project")]
    pub project: String,
    /// `spec.source.targetRevision`. Branch and tag names are resolved to commit SHAs.
    /// Argo CD refuses a sync to any other revision when auto-sync is on.
    #[serde(default = "default_target_revision")]
    pub target_revision: String,
    /// The state the app starts in.
    #[serde(default)]
    pub initial: InitialState,
    /// How long an operation stays Running before it completes.
    #[serde(default = "default_sync_duration", with = "humantime_duration")]
    pub sync_duration: Duration,
    /// After an operation completes, when the controller re-reconciles and sets the final health.
    #[serde(default = "default_health_delay", with = "humantime_duration")]
    pub health_delay: Duration,
    /// After an operation completes, when the controller's re-comparison shows
    /// `Synced` and `Progressing` until `healthDelay`; from `healthDelay` on, it
    /// comes with the final health. Until then the stale pre-sync comparison
    /// stands; a refresh shows what the sync applied at once.
    #[serde(default = "default_recompare_delay", with = "humantime_duration")]
    pub recompare_delay: Duration,
    /// How the app's operations end.
    #[serde(default)]
    pub outcome: SimOutcome,
    /// `spec.syncPolicy.automated` is set: a refresh of an OutOfSync app starts an automated sync.
    #[serde(default)]
    pub auto_sync: bool,
    /// At start, an operation initiated by someone else (`alice`) is Running and
    /// completes after this long, leaving the app Synced and Healthy.
    #[serde(default, with = "humantime_option")]
    pub foreign_operation: Option<Duration>,
    /// After a cascading DELETE, how long finalizers keep the app before it disappears.
    #[serde(default = "default_deletion_delay", with = "humantime_duration")]
    pub deletion_delay: Duration,
    /// Applications this app-of-apps manages: they show in its resource tree,
    /// and its cascading deletion deletes them before it disappears.
    #[serde(default)]
    pub children: Vec<String>,
    /// The app carries `argocd.argoproj.io/sync-options: Delete=false`, so a
    /// parent's cascading deletion leaves it behind: an orphan.
    #[serde(default)]
    pub delete_protected: bool,
    /// Once its deletion finishes, the app is created again at once (an
    /// app-of-apps that still lists it, with self-heal): same name, a new
    /// `metadata.uid`, never synced. Only the first deletion does this.
    #[serde(default)]
    pub recreated: bool,
    /// The controller loses the first refresh asked for: the refreshing GET
    /// that asked is never answered (argocd-server waits for a reconcile
    /// that does not come), as seen on the real stack for an app created a
    /// moment before. Later refreshes are answered.
    #[serde(default)]
    pub loses_refresh: bool,
    /// The stale reconcile after an operation is stamped a second after its
    /// `finishedAt` instead of in the same second: a comparison that began
    /// after the operation ended but read the controller's cluster cache
    /// before its watches delivered the apply, as the real stack showed once
    /// under load (see `readiness::freshness`).
    #[serde(default)]
    pub lagging_cache: bool,
}

impl AppScenario {
    /// An OutOfSync app with the given name and default timelines.
    pub fn named(name: &str) -> AppScenario {
        AppScenario {
            name: name.to_string(),
            ..AppScenario::default()
        }
    }
}

impl Default for AppScenario {
    fn default() -> Self {
        AppScenario {
            name: String::new(),
            project: default_project(),
            target_revision: default_target_revision(),
            initial: InitialState::default(),
            sync_duration: default_sync_duration(),
            health_delay: default_health_delay(),
            recompare_delay: default_recompare_delay(),
            outcome: SimOutcome::default(),
            auto_sync: false,
            foreign_operation: None,
            deletion_delay: default_deletion_delay(),
            children: Vec::new(),
            delete_protected: false,
            recreated: false,
            loses_refresh: false,
            lagging_cache: false,
        }
    }
}

/// Faults injected in front of the API, in this order: unavailable, rate limited, delayed.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Faults {
    /// The first N requests (any endpoint) are answered 503 with gRPC code 14.
    #[serde(default)]
    pub unavailable_first: u32,
    /// The next N requests are answered 429 with a `Retry-After` header.
    #[serde(default)]
    pub rate_limited_first: u32,
    /// The `Retry-After` value, in seconds.
    #[serde(default = "default_retry_after_secs")]
    pub retry_after_secs: u64,
    /// Each of the first `drop_stream_times` stream connections is closed after this many events.
    #[serde(default)]
    pub drop_stream_after: Option<u32>,
    /// How many stream connections are dropped.
    #[serde(default = "default_drop_stream_times")]
    pub drop_stream_times: u32,
    /// Drop a stream by failing the body mid-response (the client sees a read
    /// error) instead of ending it cleanly (the client sees end of stream).
    #[serde(default)]
    pub drop_stream_abort: bool,
    /// Added before answering every non-stream request.
    #[serde(default, with = "humantime_duration")]
    pub response_delay: Duration,
    /// Added before answering a TerminateOperation (`DELETE …/operation`).
    #[serde(default, with = "humantime_duration")]
    pub termination_delay: Duration,
    /// From the Nth request on (counting every request), the token is refused
    /// as argocd-server refuses a token deleted from its account.
    #[serde(default)]
    pub token_revoked_after: Option<u32>,
    /// The first request whose path ends with this (`/sync`) is handled,
    /// then its connection closes before the answer: a reset mid-request.
    #[serde(default)]
    pub lose_answer_to: Option<String>,
    /// The first request whose path ends with this gets no answer and no
    /// close: a half-open connection.
    #[serde(default)]
    pub stall_answer_to: Option<String>,
    /// The application controller is stopped: no operation is picked up
    /// and no refreshing GET is answered (argocd-server waits for a
    /// reconcile that does not come), while every other request is.
    #[serde(default)]
    pub controller_stopped: bool,
    /// Seeded random faults on a share of the other requests.
    #[serde(default)]
    pub chaos: Option<Chaos>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            unavailable_first: 0,
            rate_limited_first: 0,
            retry_after_secs: default_retry_after_secs(),
            drop_stream_after: None,
            drop_stream_times: default_drop_stream_times(),
            drop_stream_abort: false,
            response_delay: Duration::ZERO,
            termination_delay: Duration::ZERO,
            token_revoked_after: None,
            lose_answer_to: None,
            stall_answer_to: None,
            controller_stopped: false,
            chaos: None,
        }
    }
}

fn default_project() -> String {
    "default".to_string()
}

fn default_target_revision() -> String {
    "HEAD".to_string()
}

fn default_sync_duration() -> Duration {
    Duration::from_millis(300)
}

fn default_health_delay() -> Duration {
    Duration::from_millis(200)
}

/// A few milliseconds after the stale reconcile, as watched on Argo CD 3.2.11.
fn default_recompare_delay() -> Duration {
    Duration::from_millis(20)
}

fn default_deletion_delay() -> Duration {
    Duration::from_millis(200)
}

fn default_retry_after_secs() -> u64 {
    1
}

fn default_drop_stream_times() -> u32 {
    1
}

/// Serde helper: a `Duration` written as a humantime string (`"300ms"`, `"2s"`).
mod humantime_duration {
    use std::time::Duration;

    use serde::{de::Error, Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text).map_err(D::Error::custom)
    }
}

/// Serde helper: an optional `Duration` written as a humantime string.
mod humantime_option {
    use std::time::Duration;

    use serde::{de::Error, Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            Some(text) => humantime::parse_duration(&text)
                .map(Some)
                .map_err(D::Error::custom),
            None => Ok(None),
        }
    }
}
