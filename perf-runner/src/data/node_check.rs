//! The result of `cargo xtask node check`: one row per rule of the node contract, each
//! passed, failed with what to fix, skipped (an optional capability the node does not
//! declare) or not run (a check it depends on failed). Plain data; [`crate::tasks::node_check`]
//! produces it, [`crate::report::node_check`] renders it.

use std::path::PathBuf;

use serde::Serialize;

use crate::Exit;

/// How one check ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "detail")]
pub enum Status {
    /// The node does what the contract says.
    Passed,
    /// It does not: what it did, and what to fix.
    Failed(String),
    /// An optional capability the node does not declare: never a failure.
    Skipped(String),
    /// Not checked because a check it needs failed (named here).
    NotRun(String),
}

/// One row of the table.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Short name: the endpoint or rule.
    pub name: &'static str,
    /// What the contract says, in a line.
    pub contract: String,
    /// How it ended.
    pub status: Status,
}

impl Check {
    /// A row.
    pub fn new(name: &'static str, contract: impl Into<String>, status: Status) -> Self {
        Self {
            name,
            contract: contract.into(),
            status,
        }
    }
}

/// A whole conformance check.
#[derive(Debug, Clone, Serialize)]
pub struct NodeCheck {
    /// The node under test.
    pub node_bin: PathBuf,
    /// Its peer: `None` when the peer was a second instance of the node under test.
    pub peer_bin: Option<PathBuf>,
    /// `quic` or `tcp`.
    pub transport: String,
    /// The capabilities its ready line declared.
    pub capabilities: Vec<String>,
    /// The rows, in the order they ran.
    pub checks: Vec<Check>,
}

impl NodeCheck {
    /// Rows that failed.
    pub fn failed(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(|c| matches!(c.status, Status::Failed(_)))
    }

    /// 1 if any check failed, else 0 (skipped and not-run rows never fail by themselves).
    pub fn exit(&self) -> Exit {
        Exit::verdict(self.failed().next().is_some())
    }
}
