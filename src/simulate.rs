//! `--simulate`: the scenario the embedded simulator serves for a run. One
//! simulated Application per app in scope (per DAG node with an Application),
//! each on the timeline of its `simulation:` block, then any overrides from
//! `<config-dir>/simulation.yaml`.

use std::path::Path;
use std::time::Duration;

use std::collections::BTreeMap;

use serde_json::json;

use crate::checks::builtin::Builtin;
use crate::checks::{Probe, Rule};
use crate::config::{Config, ConfigError, Target, SIMULATED_TOKEN};
use crate::dag::{NodeKind, SimOutcomeSpec, SimulationSpec};
use crate::sim::{equality_labels, AppScenario, InitialState, Scenario, Seed, SimOutcome};
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

/// The objects the simulated cluster holds for this run, beside what the
/// simulated apps manage: each resource node's object, ready after its
/// `simulation:` timeline under deploy (already for validate and teardown,
/// which look at a deployed platform; never, for an outcome other than
/// Healthy), and the object of each health.yaml resource check, made to
/// meet its rule: the simulated platform is healthy unless a `simulation:`
/// block says otherwise.
pub fn cluster_seeds(config: &Config) -> Vec<Seed> {
    let mut seeds = Vec::new();
    for node in config.dag().into_iter().flat_map(|d| d.nodes()) {
        let NodeKind::Resource(spec) = &node.kind else {
            continue;
        };
        let healthy = node
            .simulation
            .as_ref()
            .and_then(|s| s.outcome)
            .is_none_or(|o| o == SimOutcomeSpec::Healthy);
        let ready_after = match config.action {
            Action::Deploy => ready_after(&node.name, node.simulation.as_ref()),
            Action::Validate | Action::Teardown => Duration::ZERO,
        };
        let (before, ready) = match &spec.condition {
            Some(condition) => (
                conditions(condition, "False", "simulated: not ready yet"),
                conditions(condition, "True", "simulated: ready"),
            ),
            None => (json!({}), json!({})),
        };
        seeds.push(Seed {
            api_version: spec.api_version.clone(),
            kind: spec.kind.clone(),
            namespace: spec.namespace.clone(),
            name: spec.name.clone(),
            labels: BTreeMap::new(),
            before,
            ready,
            ready_after: healthy.then_some(ready_after),
        });
    }
    for check in &config.checks.checks {
        let (api_version, kind, namespace, name, labels, rule) = match &check.probe {
            Probe::Object { target, rule } => (
                &target.api_version,
                &target.kind,
                target.namespace.clone(),
                target.name.clone(),
                BTreeMap::new(),
                rule,
            ),
            Probe::Selected {
                api_version,
                kind,
                namespace,
                selector,
                rule,
            } => (
                api_version,
                kind,
                Some(namespace.clone().unwrap_or_else(|| "default".to_owned())),
                format!("{}-0", check.name),
                equality_labels(selector),
                rule,
            ),
            Probe::Http(_) | Probe::Vault(_) | Probe::Child(_) => continue,
        };
        seeds.push(Seed {
            api_version: api_version.clone(),
            kind: kind.clone(),
            namespace,
            name,
            labels,
            before: meeting(rule),
            ready: json!({}),
            ready_after: Some(Duration::ZERO),
        });
    }
    seeds
}

/// `status.conditions` with one condition of `kind`.
fn conditions(kind: &str, status: &str, message: &str) -> serde_json::Value {
    json!({"status": {"conditions": [
        {"type": kind, "status": status, "reason": "Simulated", "message": message}
    ]}})
}

/// A body that meets `rule`.
fn meeting(rule: &Rule) -> serde_json::Value {
    match rule {
        Rule::Exists => json!({}),
        Rule::Condition(kind) => conditions(kind, "True", "simulated: ready"),
        Rule::Field(field) => {
            let mut body = json!({});
            field.path.set(&mut body, field.expect.example());
            body
        }
        Rule::Builtin(Builtin::CephCluster) => {
            json!({"status": {"phase": "Ready", "ceph": {"health": "HEALTH_OK"}}})
        }
        // No instances to wait for: no pods to simulate.
        Rule::Builtin(Builtin::Postgresql) => json!({
            "spec": {"numberOfInstances": 0},
            "status": {"PostgresClusterStatus": "Running"}
        }),
        Rule::Builtin(Builtin::Applications | Builtin::Workloads(_)) => json!({}),
    }
}

/// A node's time from its start to ready: `readyAfter`, give or take its
/// `jitter`, deterministically per name so that a rerun plays the same.
fn ready_after(name: &str, spec: Option<&SimulationSpec>) -> Duration {
    let ready_after = spec
        .and_then(|s| s.ready_after)
        .unwrap_or(DEFAULT_READY_AFTER);
    let jitter = spec.and_then(|s| s.jitter).unwrap_or_default();
    // A factor in [-1, 1].
    let factor = (fnv1a(name) % 2001) as f64 / 1000.0 - 1.0;
    Duration::from_secs_f64((ready_after.as_secs_f64() + factor * jitter.as_secs_f64()).max(0.05))
}

/// An app's simulated timeline from its `simulation:` block.
fn timeline(name: &str, spec: Option<&SimulationSpec>) -> AppScenario {
    let ready = ready_after(name, spec).as_secs_f64();
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
