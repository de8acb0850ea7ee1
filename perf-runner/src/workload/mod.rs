//! Workloads driven through the nodes' control API, one module per phase.
//!
//! Each phase returns metric values for one repetition plus raw records for `metrics.jsonl`.
//! Within-repetition distributions (every DHT get, every gossip delivery) are reduced to
//! percentiles here: they are not independent samples and never reach a statistical test.

pub mod chaos;
pub mod dht;
pub mod exactly_once;
pub mod formation;
pub mod gossip;
pub mod throughput;

use std::collections::BTreeMap;

use crate::{cluster::ClusterError, cluster::node_api::ApiError};

/// Metric values of one repetition, by metric name.
pub type Values = BTreeMap<&'static str, f64>;

/// Why a phase could not complete.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// A node stopped answering or answered an error where none is allowed.
    #[error("node {index}: {source}")]
    Api {
        /// Node index.
        index: usize,
        /// The failed call.
        source: ApiError,
    },
    /// The cluster itself failed (a node crashed).
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// A condition was not reached in time.
    #[error("{0}")]
    Timeout(String),
    /// The repetition could not be set up (e.g. the network emulation).
    #[error("{0}")]
    Setup(String),
    /// Traffic went around the network emulation.
    #[error("{0}")]
    Bypass(String),
}

/// Adds each `(name, q)` quantile of `values`; adds nothing when `values` is empty.
pub(crate) fn insert_quantiles(
    out: &mut Values,
    quantiles: &[(&'static str, f64)],
    values: &[f64],
) {
    for &(name, q) in quantiles {
        if let Some(v) = crate::stats::descriptive::quantile(values, q) {
            out.insert(name, v);
        }
    }
}
