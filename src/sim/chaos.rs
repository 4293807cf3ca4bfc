//! Chaos: seeded random faults on a share of the requests, in bounded bursts,
//! so that a chaos run is reproducible from its seed and a correct executor,
//! retrying within its deadline, always gets through.

use std::collections::HashMap;

use serde::Deserialize;

/// Random faults on `percent` of the requests, at most `max_burst` in a row
/// for one request (the same method, path and query: a retry of it).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Chaos {
    /// Seeds the generator: the same seed and the same requests give the same faults.
    pub seed: u64,
    /// The share of requests that get a fault, in percent.
    #[serde(default = "default_percent")]
    pub percent: u32,
    /// Consecutive faults one request may get before it is answered.
    #[serde(default = "default_max_burst")]
    pub max_burst: u32,
}

fn default_percent() -> u32 {
    10
}

fn default_max_burst() -> u32 {
    3
}

/// What a request hit by chaos gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChaosFault {
    /// 503 with gRPC code 14, as argocd-server answers while its backend is down.
    Unavailable,
    /// 429 with `Retry-After: 0`.
    RateLimited,
    /// The connection is closed before any answer: the request never reached a handler.
    Reset,
    /// The handler ran (a sync started, an app was deleted), then the
    /// connection closed before its answer: the client cannot tell this from
    /// [`ChaosFault::Reset`], and its retry meets the changed state.
    LostResponse,
}

const KINDS: [ChaosFault; 4] = [
    ChaosFault::Unavailable,
    ChaosFault::RateLimited,
    ChaosFault::Reset,
    ChaosFault::LostResponse,
];

/// The generator and the bursts so far.
#[derive(Debug)]
pub(crate) struct ChaosState {
    spec: Chaos,
    state: u64,
    bursts: HashMap<String, u32>,
    /// Every fault injected, in order.
    pub injected: Vec<ChaosFault>,
}

impl ChaosState {
    pub(crate) fn new(spec: Chaos) -> ChaosState {
        ChaosState {
            state: spec.seed,
            spec,
            bursts: HashMap::new(),
            injected: Vec::new(),
        }
    }

    /// splitmix64: small, fast, and enough for picking faults.
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The fault for the next arrival of `request` (`METHOD path?query`), if any.
    pub(crate) fn decide(&mut self, request: &str) -> Option<ChaosFault> {
        let roll = self.next() % 100;
        let kind = KINDS[(self.next() % KINDS.len() as u64) as usize];
        let burst = self.bursts.entry(request.to_owned()).or_default();
        if *burst < self.spec.max_burst && roll < u64::from(self.spec.percent) {
            *burst += 1;
            self.injected.push(kind);
            Some(kind)
        } else {
            *burst = 0;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(percent: u32, max_burst: u32) -> Chaos {
        Chaos {
            seed: 7,
            percent,
            max_burst,
        }
    }

    #[test]
    fn a_request_is_answered_after_at_most_max_burst_faults() {
        let mut chaos = ChaosState::new(spec(100, 3));
        let faults: Vec<bool> = (0..8).map(|_| chaos.decide("GET /a").is_some()).collect();
        assert_eq!(
            faults,
            [true, true, true, false, true, true, true, false],
            "every fourth try gets through"
        );
        assert!(
            chaos.decide("GET /b").is_some(),
            "another request has its own burst"
        );
    }

    #[test]
    fn the_share_of_faults_follows_percent_and_the_seed_repeats_them() {
        let run = |seed| {
            let mut chaos = ChaosState::new(Chaos {
                seed,
                ..spec(10, 3)
            });
            (0..10_000)
                .map(|i| chaos.decide(&format!("GET /{i}")))
                .collect::<Vec<_>>()
        };
        let first = run(1);
        let hit = first.iter().filter(|f| f.is_some()).count();
        assert!((800..1200).contains(&hit), "about 10 %: {hit}");
        assert_eq!(first, run(1), "same seed, same faults");
        assert_ne!(first, run(2), "another seed, other faults");
        for kind in KINDS {
            assert!(first.contains(&Some(kind)), "{kind:?} is drawn");
        }
    }

    #[test]
    fn zero_percent_injects_nothing() {
        let mut chaos = ChaosState::new(spec(0, 3));
        assert!((0..1000).all(|i| chaos.decide(&format!("GET /{i}")).is_none()));
    }
}
