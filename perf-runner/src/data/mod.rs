//! The data formats every later stage reads: what each metric means ([`metrics`]), the
//! `summary.json` of a run ([`summary`]) with its comparison section ([`comparison`], which
//! [`crate::compare`] fills in), committed baselines ([`baseline`]), the machine and revision a
//! run came from ([`env`]), the result of a node conformance check ([`node_check`]), a scale curve
//! ([`curve`]), and where outputs go and how they are written ([`output`]).

pub mod metrics;
pub mod comparison;
pub mod suite;
pub mod validation;
pub mod curve;
pub mod node_check;
pub mod summary;
pub mod baseline;
pub mod env;
pub mod output;
