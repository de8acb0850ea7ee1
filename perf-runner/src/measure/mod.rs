//! Measurements taken from outside the nodes: /proc resources, the binary, the build.

pub mod build;
pub mod clock;
pub mod resources;
