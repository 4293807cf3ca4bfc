//! Readiness over any Application JSON: never Ready unless Synced and Healthy.
#![no_main]

use executor::argocd::types::Application;
use executor::readiness::{assess, Expectation, Tracked, Verdict};
use executor::vocabulary::SuspendedIs;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(app) = serde_json::from_slice::<Application>(data) else {
        return;
    };
    for suspended_is in [SuspendedIs::Healthy, SuspendedIs::Progressing, SuspendedIs::Failed] {
        let expect = Expectation {
            tracked: Tracked::Settled,
            revision: None,
            suspended_is,
        };
        if assess(&app, &expect) == Verdict::Ready {
            let health = app.status.health.status.as_str();
            assert_eq!(app.status.sync.status, "Synced");
            assert!(health == "Healthy" || (health == "Suspended" && suspended_is == SuspendedIs::Healthy));
        }
    }
});
