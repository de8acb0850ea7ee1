//! perf-runner: everything that launches, measures and reports, as a library.
//!
//! Data flows one way: a [`scenario`] configures a [`cluster`] of node processes; [`workload`]
//! and [`measure`] turn it into per-repetition values; [`run`] schedules repetitions and keeps
//! the [`summary`]; [`stats`] summarises; [`report`] renders. This crate parses no command line:
//! `xtask` does that and calls [`run::run`].

pub mod baseline;
pub mod bench;
pub mod bisect;
pub mod chaos;
pub mod clock;
pub mod cluster;
pub mod compare;
pub mod env;
pub mod error;
pub mod github;
pub mod history;
pub mod measure;
pub mod metrics;
pub mod netem;
pub mod node_api;
pub mod output;
pub mod perf;
pub mod progress;
pub mod report;
pub mod run;
pub mod scenario;
pub mod stats;
pub mod suite;
pub mod summary;
pub mod validate;
pub mod workload;

pub use error::Error;
