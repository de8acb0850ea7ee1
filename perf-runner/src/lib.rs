//! perf-runner: everything that launches, measures, compares and reports, as a library.
//!
//! Modules are listed in data-flow order. A [`scenario`] configures a [`cluster`] of node
//! processes, optionally behind the [`netem`] switch; [`workload`] phases (chaos among them)
//! and [`measure`] turn a running cluster into per-repetition values; [`run`] schedules
//! repetitions and writes the [`data`] formats (metric definitions, summary, baseline,
//! environment, output paths); [`stats`] and [`compare`] turn samples into verdicts; [`report`]
//! renders them; [`history`] keeps the trend and [`github`] posts the PR comment. [`tasks`]
//! holds the entry points `cargo xtask` calls, one function per command. This crate parses no
//! command line.

pub mod cargo;
pub mod error;
pub mod git;

pub mod scenario;
pub mod cluster;
pub mod netem;
pub mod workload;
pub mod measure;
pub mod run;
pub mod data;
pub mod stats;
pub mod compare;
pub mod report;
pub mod history;
pub mod github;
pub mod tasks;

pub use error::{Error, Exit};
