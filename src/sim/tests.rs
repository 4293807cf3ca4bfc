//! Tests of the simulator against its own HTTP API.
