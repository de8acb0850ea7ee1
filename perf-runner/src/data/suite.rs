//! The result of `cargo xtask perf suite` (`suite.json`): which suite, and how each of its
//! scenarios ended. Plain data; [`crate::tasks::suite`] produces it, [`crate::report::suite`]
//! renders it.

use std::path::PathBuf;

use serde::Serialize;

use crate::Exit;

/// A named set of scenarios.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Suite {
    /// Name on the command line.
    pub name: &'static str,
    /// Resilience level: low, medium, high, extreme.
    pub level: &'static str,
    /// What it covers.
    pub description: &'static str,
    /// Scenarios, in run order.
    pub scenarios: &'static [&'static str],
}

/// How one scenario of a suite ended, mildest first: a suite is as bad as its worst entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Measured, and no regression against its baseline (or no baseline).
    Ok,
    /// Measured, and regressed against its baseline.
    Regressed,
    /// Interrupted: the suite stops there.
    Interrupted,
    /// It could not be run or measured, or its comparison is no verdict.
    Failed,
}

impl Status {
    /// The suite's exit when this is its worst status: 3 failed, 130 interrupted, 1
    /// regressed, else 0.
    pub fn exit(self) -> Exit {
        match self {
            Status::Ok => Exit::Success,
            Status::Regressed => Exit::Regressed,
            Status::Interrupted => Exit::Interrupted,
            Status::Failed => Exit::Failed,
        }
    }

    /// The process exit code of [`Status::exit`].
    pub fn exit_code(self) -> u8 {
        self.exit().code()
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Ok => "ok",
            Status::Regressed => "regressed",
            Status::Interrupted => "interrupted",
            Status::Failed => "failed",
        })
    }
}

/// The worst status among `entries` (ok for none): it decides the suite's exit code.
pub fn worst(entries: &[Entry]) -> Status {
    entries.iter().map(|e| e.status).max().unwrap_or(Status::Ok)
}

/// One scenario's line in the combined report.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Scenario.
    pub scenario: String,
    /// How it ended.
    pub status: Status,
    /// The verdict line or the error.
    pub detail: String,
    /// Key metrics: (name, median, unit).
    pub metrics: Vec<(String, f64, String)>,
    /// Its report.
    pub report: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_status_decides_the_exit_code_and_keeps_its_text() {
        let entry = |status| Entry {
            scenario: "s".into(),
            status,
            detail: String::new(),
            metrics: Vec::new(),
            report: None,
        };
        let code = |statuses: &[Status]| {
            worst(&statuses.iter().map(|s| entry(*s)).collect::<Vec<_>>()).exit_code()
        };
        assert_eq!(code(&[]), 0);
        assert_eq!(code(&[Status::Ok, Status::Ok]), 0);
        assert_eq!(code(&[Status::Ok, Status::Regressed]), 1);
        assert_eq!(
            code(&[Status::Regressed, Status::Interrupted, Status::Ok]),
            130
        );
        assert_eq!(
            code(&[Status::Failed, Status::Interrupted, Status::Regressed]),
            3
        );
        for (status, text) in [
            (Status::Ok, "ok"),
            (Status::Regressed, "regressed"),
            (Status::Interrupted, "interrupted"),
            (Status::Failed, "failed"),
        ] {
            assert_eq!(status.to_string(), text);
            assert_eq!(
                serde_json::to_value(entry(status)).unwrap()["status"],
                text,
                "suite.json keeps the text"
            );
        }
    }
}
