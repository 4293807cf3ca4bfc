//! health.yaml's parser and checks.
#![no_main]

use std::collections::BTreeSet;
use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let apps: BTreeSet<String> = ["cert-manager", "vault"].map(String::from).into();
    let _ = executor::checks::file::HealthChecks::parse(
        &String::from_utf8_lossy(data),
        Path::new("/config"),
        Some(&apps),
    );
});
