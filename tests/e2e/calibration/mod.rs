//! Calibrates the simulator (`src/sim/`) against the real Argo CD 3.2.11: each
//! scenario is played on both, driven by the same REST calls, and both watch
//! streams are reduced to shapes and compared.
//!
//! A shape is what the executor's readiness rules read from one event: the
//! event type, whether the top-level `operation` is set, the operation's phase,
//! sync and health status, how `status.reconciledAt` relates to
//! `operationState.finishedAt`, and whether the app is being deleted.
//! Consecutive identical shapes are collapsed (the real controller writes
//! several updates per step, the simulator one).
//!
//! Every scenario plays the real side [`RUNS`] times at once, prints the
//! simulator's trace and the real ones side by side, and asserts:
//! - the rules both sides share (named predicates below);
//! - that the simulator's collapsed trace is a subsequence of each real one,
//!   apart from the one step the real side plays only sometimes (the
//!   same-second stale reconcile, see [`stale_tie`]) and the differences
//!   listed per scenario ([`Known`]).
//!
//! A subsequence, not step for step: over repeated runs the real controller
//! adds steps in some runs and not in others (Synced with the new health but
//! `reconciledAt` still before `finishedAt`; a Widget's Progressing before
//! the test flips it; a re-comparison while an app is deleted), so equal
//! sequences, or even equal adjacent pairs, do not hold from run to run. What
//! holds in every run is that each step the simulator plays appears, in the
//! same order, in the real trace. The real-only steps are printed.

mod drive;
mod scenarios;
mod shape;
