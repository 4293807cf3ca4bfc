//! Random, valid DAG files for benchmarks: deterministic for a seed, with
//! stacks of apps, app-to-app dependencies inside and across stacks, some
//! whole-stack dependencies, a few resources, random timeouts and simulated
//! durations.

use std::time::Duration;

use super::spec::{
    AppSpec, DagSpec, Defaults, ResourceNodeSpec, SimulationSpec, StackSpec, TimeoutsSpec,
};

/// xorshift64*: a tiny, good-enough PRNG, so benchmarks need no `rand`.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator for `seed` (0 is replaced, as xorshift would stay at 0).
    pub fn new(seed: u64) -> Self {
        XorShift(seed.max(1) ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// The shape of a random DAG.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomShape {
    /// Apps per stack (at least 1).
    pub stack_size: usize,
    /// Each app gets 0 to this many dependencies, uniformly.
    pub max_dependencies: usize,
    /// Probability that a dependency is one of the `window` apps just before
    /// (making long chains); otherwise it is any earlier app.
    pub nearby: f64,
    /// How far back a nearby dependency may be (at least 1).
    pub window: usize,
    /// Probability that a stack depends on a whole earlier stack.
    pub stack_dependency: f64,
    /// Simulated `readyAfter` range, inclusive.
    pub ready_after: (Duration, Duration),
}

impl Default for RandomShape {
    /// 100 apps per stack, 0–3 dependencies, half of them within the 5
    /// previous apps; a fifth of the stacks depend on an earlier stack;
    /// `readyAfter` 200 ms–2 s.
    fn default() -> Self {
        RandomShape {
            stack_size: 100,
            max_dependencies: 3,
            nearby: 0.5,
            window: 5,
            stack_dependency: 0.2,
            ready_after: (Duration::from_millis(200), Duration::from_millis(2000)),
        }
    }
}

/// A valid DAG of about `nodes` nodes with the default [`RandomShape`]; see
/// [`random_dag_with`].
pub fn random_dag(nodes: usize, seed: u64) -> DagSpec {
    random_dag_with(nodes, seed, &RandomShape::default())
}

/// A valid DAG of about `nodes` nodes (stacks included, at least one stack
/// and one app), the same for the same seed and shape. Apps are numbered
/// globally and depend only on earlier apps, stacks only on earlier stacks,
/// so it is acyclic. Every 250th app is a resource node (a CRD); every other
/// stack has an app-of-apps. Timeouts are 1–10 min.
pub fn random_dag_with(nodes: usize, seed: u64, shape: &RandomShape) -> DagSpec {
    let mut rng = XorShift::new(seed);
    let stack_count = nodes.div_ceil(shape.stack_size.max(1) + 1).max(1);
    let app_count = nodes.saturating_sub(stack_count).max(stack_count);
    let mut stacks: Vec<StackSpec> = (0..stack_count)
        .map(|s| StackSpec {
            name: format!("stack-{s}"),
            app: (s % 2 == 0).then(|| format!("stack-{s}-apps")),
            ..StackSpec::default()
        })
        .collect();
    let (lo, hi) = shape.ready_after;
    let spread = hi.saturating_sub(lo).as_millis() as usize;
    for i in 0..app_count {
        // Contiguous blocks: apps of stack s come before those of stack s+1.
        let s = i * stack_count / app_count;
        let name = format!("app-{i}");
        let mut depends_on = Vec::new();
        for _ in 0..rng.below(shape.max_dependencies + 1) {
            if i == 0 {
                break;
            }
            let j = if rng.chance(shape.nearby) {
                i - 1 - rng.below(i.min(shape.window.max(1)))
            } else {
                rng.below(i)
            };
            let dep = format!("app-{j}");
            if !depends_on.contains(&dep) {
                depends_on.push(dep);
            }
        }
        let minutes =
            |rng: &mut XorShift| Some(Duration::from_secs(60 * (1 + rng.below(10) as u64)));
        let timeouts = TimeoutsSpec {
            sync: minutes(&mut rng),
            health: minutes(&mut rng),
        };
        let simulation = Some(SimulationSpec {
            ready_after: Some(lo + Duration::from_millis(rng.below(spread + 1) as u64)),
            ..SimulationSpec::default()
        });
        if i % 250 == 249 {
            stacks[s].resources.push(ResourceNodeSpec {
                name,
                api_version: "apiextensions.k8s.io/v1".to_owned(),
                kind: "CustomResourceDefinition".to_owned(),
                resource_name: Some(format!("things{i}.example.com")),
                depends_on,
                timeouts,
                simulation,
                ..ResourceNodeSpec::default()
            });
        } else {
            stacks[s].apps.push(AppSpec {
                name,
                depends_on,
                timeouts,
                simulation,
                ..AppSpec::default()
            });
        }
    }
    for (s, stack) in stacks.iter_mut().enumerate().skip(1) {
        if rng.chance(shape.stack_dependency) {
            let earlier = rng.below(s);
            stack.depends_on.push(format!("stack-{earlier}"));
        }
    }
    DagSpec {
        path: "random-dag.yaml".into(),
        defaults: Defaults {
            timeouts: TimeoutsSpec {
                sync: Some(Duration::from_secs(300)),
                health: Some(Duration::from_secs(600)),
            },
            simulation: None,
        },
        stacks,
    }
}
