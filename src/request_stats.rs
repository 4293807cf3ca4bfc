//! The requests a run sent, per API and endpoint: how many, with which
//! answer, and how long each took, for `metrics.prom`. The Argo CD and
//! Kubernetes clients record into one shared [`RequestStats`]; the report
//! carries its [`snapshot`](RequestStats::snapshot). Imports nothing of ours.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Which API a request went to: the `api` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Api {
    /// argocd-server's REST API.
    ArgoCd,
    /// The Kubernetes API server.
    Kubernetes,
}

impl Api {
    /// The label value.
    pub fn label(self) -> &'static str {
        match self {
            Api::ArgoCd => "argocd",
            Api::Kubernetes => "kubernetes",
        }
    }
}

/// What one endpoint was sent and answered.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointRecord {
    /// The API.
    pub api: Api,
    /// `METHOD /path/{template}`: names replaced by placeholders, so the
    /// label has a bounded number of values.
    pub endpoint: String,
    /// Requests by answer: the HTTP status (`200`, `503`, …), or `error`
    /// when none came (connection refused, reset, timeout).
    pub outcomes: BTreeMap<String, u64>,
    /// Each request's time to its answer, in seconds.
    pub seconds: Vec<f64>,
}

/// Shared by every clone: the clients and the run record into the same one.
#[derive(Debug, Clone, Default)]
pub struct RequestStats(Arc<Mutex<BTreeMap<(Api, String), EndpointRecord>>>);

impl RequestStats {
    /// Records one request (one attempt, retries counted apart).
    pub fn record(&self, api: Api, endpoint: &str, outcome: &str, took: Duration) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map
            .entry((api, endpoint.to_owned()))
            .or_insert_with(|| EndpointRecord {
                api,
                endpoint: endpoint.to_owned(),
                outcomes: BTreeMap::new(),
                seconds: Vec::new(),
            });
        *entry.outcomes.entry(outcome.to_owned()).or_insert(0) += 1;
        entry.seconds.push(took.as_secs_f64());
    }

    /// Every endpoint so far, by API then endpoint.
    pub fn snapshot(&self) -> Vec<EndpointRecord> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_add_up_per_endpoint_and_answer() {
        let stats = RequestStats::default();
        let shared = stats.clone();
        let ms = Duration::from_millis;
        stats.record(
            Api::ArgoCd,
            "GET /api/v1/applications/{name}",
            "200",
            ms(10),
        );
        shared.record(
            Api::ArgoCd,
            "GET /api/v1/applications/{name}",
            "503",
            ms(20),
        );
        shared.record(
            Api::ArgoCd,
            "GET /api/v1/applications/{name}",
            "200",
            ms(30),
        );
        stats.record(Api::Kubernetes, "GET /version", "error", ms(5));
        let got = stats.snapshot();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].api, Api::ArgoCd);
        assert_eq!(
            got[0].outcomes,
            BTreeMap::from([("200".to_owned(), 2), ("503".to_owned(), 1)])
        );
        assert_eq!(got[0].seconds, [0.01, 0.02, 0.03]);
        assert_eq!(got[1].endpoint, "GET /version");
    }
}
