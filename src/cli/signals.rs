//! SIGTERM and SIGINT, as one future that names the first to arrive.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::signal::unix::{signal, Signal, SignalKind};

/// Set once a SIGTERM or SIGINT has arrived: what runs after the run (the
/// push, the span export) then keeps to the 2 s the contract leaves.
static RECEIVED: AtomicBool = AtomicBool::new(false);

/// Whether a SIGTERM or SIGINT arrived during the run.
pub fn received() -> bool {
    RECEIVED.load(Ordering::Relaxed)
}

/// SIGTERM and SIGINT handlers, installed as soon as a run starts so that a
/// signal during setup is caught too.
pub struct Signals {
    term: Option<Signal>,
    int: Option<Signal>,
}

impl Signals {
    /// Installs both handlers; one that cannot be installed never fires.
    pub fn install() -> Signals {
        Signals {
            term: signal(SignalKind::terminate()).ok(),
            int: signal(SignalKind::interrupt()).ok(),
        }
    }

    /// Resolves on the first SIGTERM or SIGINT, naming it.
    pub async fn recv(&mut self) -> &'static str {
        async fn next(signal: &mut Option<Signal>) {
            match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        let name = tokio::select! {
            () = next(&mut self.term) => "SIGTERM",
            () = next(&mut self.int) => "SIGINT",
        };
        RECEIVED.store(true, Ordering::Relaxed);
        name
    }
}
