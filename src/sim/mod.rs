//! Temporary stub until the simulator branch lands.
#![allow(missing_docs)]
use serde::Deserialize;
#[derive(Debug, Clone, Default, Deserialize)]
pub enum InitialState {
    #[default]
    OutOfSync,
    Healthy,
    Absent,
}
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AppScenario {
    pub name: String,
    pub initial: InitialState,
}
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Scenario {
    pub token: String,
    pub apps: Vec<AppScenario>,
}
impl Scenario {
    pub fn with_apps(token: &str, names: &[&str]) -> Scenario {
        Scenario {
            token: token.into(),
            apps: names
                .iter()
                .map(|n| AppScenario {
                    name: n.to_string(),
                    initial: InitialState::OutOfSync,
                })
                .collect(),
        }
    }
}
pub struct Simulator;
impl Simulator {
    pub async fn start(_s: Scenario) -> std::io::Result<Simulator> {
        Ok(Simulator)
    }
    pub fn url(&self) -> String {
        String::new()
    }
}
