//! Statistics: small, exact and tested. No IO, and no knowledge of metric names.
//!
//! Only descriptive statistics live here so far; the rank tests, bootstrap and change-point
//! detection of the regression gate build on these.

pub mod descriptive;
