//! A simulated Kubernetes API for `--simulate`, in process: kube-client
//! talks to it through a tower service instead of a connection. It serves
//! what the executor reads (see `api`), from the objects `world` derives
//! from the Argo CD side and the run's seeds, so preflight, resource nodes
//! and critical checks run their real code over simulated objects.

mod api;
mod world;

pub use api::equality_labels;
pub use world::Seed;

use super::server::Simulator;

impl Simulator {
    /// A client of a simulated Kubernetes API beside this Argo CD: the
    /// apps' namespaces and managed resources follow the simulated apps,
    /// and each seed becomes ready at its moment, counted from now.
    pub fn kubernetes(&self, seeds: Vec<Seed>) -> kube::Client {
        let router = api::router(self.shared(), world::World::new(seeds));
        kube::Client::new(router, "default")
    }
}
