//! Integration tests: the real `executor` binary against the in-process Argo CD
//! simulator. One binary, one module per topic; helpers in `common`.

mod common;

mod canary;
mod chaos;
mod checks;
mod cluster;
mod conformance;
mod dag;
mod deadlines;
mod deploy;
mod exits;
mod faults;
mod flags;
mod inputs;
mod logs;
mod network;
mod observability;
mod overall_timeout;
mod platform;
mod properties;
mod pushgateway;
mod render;
mod report;
mod revision;
mod signals;
mod simulated_cluster;
mod teardown;
mod templates;
mod traces;
mod validate;
