//! simulation.yaml: the simulator's scenario.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_yaml::from_str::<executor::sim::Scenario>(&String::from_utf8_lossy(data));
});
