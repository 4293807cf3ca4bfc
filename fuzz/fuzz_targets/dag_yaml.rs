//! dag.yaml as the executor reads it: parsed, validated and built, then planned.
#![no_main]

use std::path::Path;
use std::time::Duration;

use executor::dag::{plan, BuildContext, Dag, DagSpec, Overrides};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(spec) = DagSpec::parse(&text, Path::new("dag.yaml")) else {
        return;
    };
    let ctx = BuildContext {
        cluster_name: Some("in-cluster"),
        default_sync: Duration::from_secs(300),
        default_health: Duration::from_secs(600),
        default_app_namespace: None,
    };
    if let Ok(dag) = Dag::build(&spec, &Overrides::default(), &ctx) {
        let _ = plan(&dag);
    }
});
