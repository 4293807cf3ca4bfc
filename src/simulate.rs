//! `--simulate`: the scenario the embedded simulator serves for a run. One
//! simulated Application per app in scope (per DAG node with an Application),
//! each on the timeline of its `simulation:` block, then any overrides from
//! `<config-dir>/simulation.yaml`.

use std::path::Path;
use std::time::Duration;

use crate::config::{Config, ConfigError, Target, SIMULATED_TOKEN};
use crate::dag::{SimOutcomeSpec, SimulationSpec};
use crate::sim::{AppScenario, InitialState, Scenario, SimOutcome};
use crate::vocabulary::Action;

/// Time from sync request to Healthy when a node says nothing.
const DEFAULT_READY_AFTER: Duration = Duration::from_millis(1000);
/// Share of `readyAfter` spent in the sync operation; the rest is health.
const SYNC_SHARE: f64 = 0.6;

/// Warns that `--argocd-server` (or `ARGOCD_SERVER`) is not used: under
/// `--simulate` every request goes to the embedded simulator.
pub fn warn_if_server_ignored(server: Option<&str>, simulate: bool) {
    if let (true, Some(server)) = (simulate, server) {
        tracing::warn!(
            phase = "simulate",
            "--argocd-server (ARGOCD_SERVER) {server} is ignored under --simulate: the run talks to the embedded simulator only"
        );
    }
}

/// The scenario for this run.
pub fn scenario(config: &Config) -> Result<Scenario, ConfigError> {
    let mut scenario = overrides(&config.config_dir.join("simulation.yaml"))?;
    let seeded: Vec<AppScenario> = match &config.target {
        Target::Dag(dag) | Target::App { dag: Some(dag), .. } => dag
            .nodes()
            .iter()
            .filter_map(|node| Some(timeline(node.application()?, node.simulation.as_ref())))
            .collect(),
        Target::App { name, dag: None } => vec![timeline(name, None)],
    };
    for mut app in seeded {
        if scenario.apps.iter().any(|a| a.name == app.name) {
            continue; // simulation.yaml wins.
        }
        if config.action != Action::Deploy {
            // validate and teardown have something to look at: a deployed app.
            app.initial = InitialState::Healthy;
        }
        scenario.apps.push(app);
    }
    if let Some(project) = &config.argocd.project {
        // The executor asks for apps in this project; the simulated ones live there.
        for app in &mut scenario.apps {
            app.project = project.clone();
        }
    }
    Ok(scenario)
}

/// `simulation.yaml`, or an empty scenario when there is none.
fn overrides(path: &Path) -> Result<Scenario, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Scenario::with_apps(SIMULATED_TOKEN, &[]))
        }
        Err(source) => {
            return Err(ConfigError::Unreadable {
                what: "simulation.yaml",
                path: path.to_owned(),
                hint: "make it readable or remove it".to_owned(),
                source,
            })
        }
        Ok(text) => text,
    };
    let invalid = |e: serde_yaml::Error| ConfigError::EnvironmentFile {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let mut value: serde_yaml::Value = serde_yaml::from_str(&text).map_err(invalid)?;
    if let serde_yaml::Value::Mapping(map) = &mut value {
        map.insert("token".into(), SIMULATED_TOKEN.into());
    }
    serde_yaml::from_value(value).map_err(invalid)
}

/// An app's simulated timeline from its `simulation:` block.
fn timeline(name: &str, spec: Option<&SimulationSpec>) -> AppScenario {
    let ready_after = spec
        .and_then(|s| s.ready_after)
        .unwrap_or(DEFAULT_READY_AFTER);
    let jitter = spec.and_then(|s| s.jitter).unwrap_or_default();
    // Deterministic per name, so a rerun plays the same timeline: a factor in [-1, 1].
    let factor = (fnv1a(name) % 2001) as f64 / 1000.0 - 1.0;
    let ready = (ready_after.as_secs_f64() + factor * jitter.as_secs_f64()).max(0.05);
    AppScenario {
        sync_duration: Duration::from_secs_f64(ready * SYNC_SHARE),
        health_delay: Duration::from_secs_f64(ready * (1.0 - SYNC_SHARE)),
        outcome: match spec.and_then(|s| s.outcome) {
            None | Some(SimOutcomeSpec::Healthy) => SimOutcome::Healthy,
            Some(SimOutcomeSpec::Degraded) => SimOutcome::Degraded,
            Some(SimOutcomeSpec::OperationFailed) => SimOutcome::OperationFailed,
        },
        ..AppScenario::named(name)
    }
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timelines_follow_ready_after_and_stay_within_jitter() {
        let spec = SimulationSpec {
            ready_after: Some(Duration::from_secs(2)),
            outcome: Some(SimOutcomeSpec::Degraded),
            jitter: Some(Duration::from_millis(500)),
        };
        for name in ["vault", "keycloak", "grafana"] {
            let app = timeline(name, Some(&spec));
            let total = (app.sync_duration + app.health_delay).as_secs_f64();
            assert!((1.5..=2.5).contains(&total), "{name}: {total}");
            assert_eq!(app.outcome, SimOutcome::Degraded);
            assert_eq!(
                timeline(name, Some(&spec)).sync_duration,
                app.sync_duration,
                "deterministic"
            );
        }
        let plain = timeline("x", None);
        assert_eq!(
            plain.sync_duration + plain.health_delay,
            DEFAULT_READY_AFTER
        );
    }
}
