#![doc = include_str!("../README.md")]

pub mod api;
pub mod app;
pub mod config;
pub mod control;
pub mod serve;
pub mod event_loop;
pub mod fault;
pub mod gossip_payload;
pub mod indexed_log;
pub mod metrics;
pub mod network;
pub mod peer_bound;
pub mod perf_protocol;
pub mod time;

pub use config::NodeConfig;
