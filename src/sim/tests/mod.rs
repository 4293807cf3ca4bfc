//! Tests of the simulator through its own HTTP API, as a client sees it.

mod api;
mod faults;
mod lifecycle;
mod stream;
mod support;
mod swagger;
