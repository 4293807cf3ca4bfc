//! `<output-dir>/metrics.prom`: the run's metrics in Prometheus text format,
//! for a node exporter's textfile collector or a Pushgateway. It renders a
//! `report::Report`; `outputs` writes the text, and `report` does not know it.

use prometheus::{
    Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, IntCounterVec, Opts, Registry, TextEncoder,
};

use crate::outcome::word;
use crate::report::Report;

/// Renders the contract's metrics for a finished run.
pub fn render(report: &Report) -> Result<String, prometheus::Error> {
    let registry = Registry::new();
    let duration = Histogram::with_opts(
        HistogramOpts::new(
            "executor_action_duration_seconds",
            "Wall time of the executor run.",
        )
        .const_label("action", &report.action)
        .const_label("scope", &report.scope)
        .const_label("environment", &report.environment)
        .buckets(vec![
            1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
        ]),
    )?;
    duration.observe(report.duration_seconds);
    let status = Gauge::with_opts(
        Opts::new(
            "executor_action_status",
            "Exit code of the run (0 Success … 4 Timeout).",
        )
        .const_label("action", &report.action)
        .const_label("scope", &report.scope)
        .const_label("environment", &report.environment)
        .const_label("status", &report.status),
    )?;
    status.set(f64::from(report.exit_code.code()));
    let health = GaugeVec::new(
        Opts::new(
            "executor_component_health",
            "1 when the component reached the action's goal, else 0.",
        )
        .const_label("action", &report.action),
        &["component", "kind", "status"],
    )?;
    for c in &report.components {
        let status = word(c.status);
        health
            .with_label_values(&[c.name.as_str(), c.kind, status.as_str()])
            .set(if c.status.is_ok() { 1.0 } else { 0.0 });
    }
    let errors = IntCounterVec::new(
        Opts::new(
            "executor_errors_total",
            "Components that did not reach the goal, by reason.",
        )
        .const_label("action", &report.action),
        &["type"],
    )?;
    for failure in &report.failures {
        let reason = word(failure.reason);
        errors.with_label_values(&[reason.as_str()]).inc();
    }
    registry.register(Box::new(duration))?;
    registry.register(Box::new(status))?;
    registry.register(Box::new(health))?;
    registry.register(Box::new(errors))?;
    let mut out = Vec::new();
    TextEncoder::new().encode(&registry.gather(), &mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}
