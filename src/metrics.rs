//! `<output-dir>/metrics.prom`: the run's metrics in Prometheus text format,
//! for a node exporter's textfile collector or a Pushgateway. It renders a
//! `report::Report`; `outputs` writes the text, and `report` does not know it.
//!
//! Every series carries `environment`, `action` and `scope`, the labels a
//! dashboard filters by (and the Pushgateway groups by). The README lists
//! each metric, its labels and how its value is encoded.

use prometheus::{
    Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec,
    Opts, Registry, TextEncoder,
};

use crate::outcome::word;
use crate::report::Report;

/// Buckets of a whole run's duration, in seconds.
const RUN_BUCKETS: [f64; 10] = [
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];
/// Buckets of one request's time to its answer, in seconds (a refresh GET
/// may take up to 90 s).
const REQUEST_BUCKETS: [f64; 11] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 90.0];

/// `Opts` with the run's labels.
fn opts(report: &Report, name: &str, help: &str) -> Opts {
    Opts::new(name, help)
        .const_label("environment", &report.environment)
        .const_label("action", &report.action)
        .const_label("scope", &report.scope)
}

/// Renders the contract's metrics, and the requests', for a finished run.
pub fn render(report: &Report) -> Result<String, prometheus::Error> {
    let registry = Registry::new();
    let duration = Histogram::with_opts(
        HistogramOpts::from(opts(
            report,
            "executor_action_duration_seconds",
            "Wall time of the executor run.",
        ))
        .buckets(RUN_BUCKETS.to_vec()),
    )?;
    duration.observe(report.duration_seconds);
    let status = Gauge::with_opts(
        opts(
            report,
            "executor_action_status",
            "Exit code of the run (0 Success … 4 Timeout).",
        )
        .const_label("status", &report.status),
    )?;
    status.set(f64::from(report.exit_code.code()));
    let health = GaugeVec::new(
        opts(
            report,
            "executor_component_health",
            "1 when the component reached the action's goal, else 0.",
        ),
        &["component", "kind", "status"],
    )?;
    for c in &report.components {
        let status = word(c.status);
        health
            .with_label_values(&[c.name.as_str(), c.kind, status.as_str()])
            .set(if c.status.is_ok() { 1.0 } else { 0.0 });
    }
    let errors = IntCounterVec::new(
        opts(
            report,
            "executor_errors_total",
            "Components that did not reach the goal, by reason.",
        ),
        &["type"],
    )?;
    for failure in &report.failures {
        let reason = word(failure.reason);
        errors.with_label_values(&[reason.as_str()]).inc();
    }
    let requests = IntCounterVec::new(
        opts(
            report,
            "executor_requests_total",
            "Requests sent, retries included, by API, endpoint and answer.",
        ),
        &["api", "endpoint", "code"],
    )?;
    let latency = HistogramVec::new(
        HistogramOpts::from(opts(
            report,
            "executor_request_duration_seconds",
            "Time from sending a request to its answer.",
        ))
        .buckets(REQUEST_BUCKETS.to_vec()),
        &["api", "endpoint"],
    )?;
    for e in &report.metrics.endpoints {
        let labels = [e.api.label(), e.endpoint.as_str()];
        for (code, n) in &e.outcomes {
            requests
                .with_label_values(&[labels[0], labels[1], code.as_str()])
                .inc_by(*n);
        }
        let histogram = latency.with_label_values(&labels);
        for s in &e.seconds {
            histogram.observe(*s);
        }
    }
    let retries = IntCounter::with_opts(
        opts(
            report,
            "executor_request_retries_total",
            "Argo CD requests sent again after a transient failure.",
        )
        .const_label("api", "argocd"),
    )?;
    retries.inc_by(report.metrics.retries);
    let reconnects = IntCounter::with_opts(opts(
        report,
        "executor_watch_reconnects_total",
        "Times the Argo CD watch stream was reopened.",
    ))?;
    reconnects.inc_by(report.metrics.watch_reconnects);
    registry.register(Box::new(duration))?;
    registry.register(Box::new(status))?;
    registry.register(Box::new(health))?;
    registry.register(Box::new(errors))?;
    registry.register(Box::new(requests))?;
    registry.register(Box::new(latency))?;
    registry.register(Box::new(retries))?;
    registry.register(Box::new(reconnects))?;
    let mut out = Vec::new();
    TextEncoder::new().encode(&registry.gather(), &mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}
