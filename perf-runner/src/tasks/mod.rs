//! The entry points: one function per `cargo xtask` command, each taking a request struct and
//! returning data (or a [`crate::Error`] that knows its exit code). They compose the stages;
//! none holds a stage's logic.

pub mod perf;
pub mod bench;
pub mod suite;
pub mod validate;
pub mod bisect;
