//! Renderers: a finished [`RunSummary`] in, text out. Renderers compute nothing beyond layout.
//!
//! One file per format; each returns bytes. [`write_run_files`] is the one place that puts a
//! run's renderings on disk (the scheduler calls it after every round through
//! [`crate::run::RunConfig::write_files`]).

use std::path::PathBuf;

use crate::{
    Error,
    data::{
        output::{RunDir, write_atomic},
        summary::RunSummary,
    },
};

pub mod comment;
pub mod comparison;
pub mod csv;
pub mod curve;
pub mod escape;
pub mod markdown;
pub mod node_check;
pub mod plots;
pub mod progress;
pub mod suite;
pub mod terminal;
pub mod trend;
pub mod validation;

/// A number formatted for humans, with a precision suited to its size.
pub fn format_value(value: f64, unit: &str) -> String {
    match unit {
        "bytes" if value.abs() >= 1e6 => format!("{:.2} M", value / 1e6),
        "bytes" if value.abs() >= 1e3 => format!("{:.1} k", value / 1e3),
        "ratio" => format!("{value:.3}"),
        _ if value == 0.0 => "0".into(),
        _ if value.abs() >= 100.0 => format!("{value:.0}"),
        _ if value.abs() >= 10.0 => format!("{value:.1}"),
        _ if value.abs() >= 0.1 => format!("{value:.2}"),
        _ => format!("{value:.3}"),
    }
}

/// How many repetitions ran, against the scenario's number: "15 repetitions", "3 of 15
/// repetitions" (a run that stopped early), or "60 repetitions (15 planned; the sequential test
/// added pairs)" — a paired run keeps adding pairs until its metrics are decided, so more than
/// planned is not an error, and "60 of 15" would read like one.
pub fn repetitions_text(done: usize, planned: usize, what: &str) -> String {
    use std::cmp::Ordering;
    match done.cmp(&planned) {
        Ordering::Equal => format!("{done} {what}"),
        Ordering::Less => format!("{done} of {planned} {what}"),
        Ordering::Greater => {
            format!("{done} {what} ({planned} planned; the sequential test added pairs)")
        }
    }
}

/// Writes `summary.json`, `samples.csv` and `report.md` of a summary, atomically.
pub fn write_run_files(dir: &RunDir, summary: &RunSummary) -> Result<(), Error> {
    let io = |path: PathBuf| move |source| Error::Io { path, source };
    let json = serde_json::to_vec_pretty(summary).expect("summary serializes");
    write_atomic(&dir.summary(), &json).map_err(io(dir.summary()))?;
    write_atomic(&dir.samples_csv(), csv::render(summary).as_bytes())
        .map_err(io(dir.samples_csv()))?;
    write_atomic(&dir.report_md(), markdown::render(summary).as_bytes())
        .map_err(io(dir.report_md()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repetitions_say_planned_stopped_early_or_extended() {
        assert_eq!(repetitions_text(15, 15, "repetitions"), "15 repetitions");
        assert_eq!(
            repetitions_text(3, 15, "repetitions"),
            "3 of 15 repetitions"
        );
        assert_eq!(
            repetitions_text(60, 15, "repetitions"),
            "60 repetitions (15 planned; the sequential test added pairs)"
        );
    }

    #[test]
    fn formats_by_magnitude_and_unit() {
        assert_eq!(format_value(1234.5, "ms"), "1234");
        assert_eq!(format_value(12.345, "ms"), "12.3");
        assert_eq!(format_value(0.0123, "ms"), "0.012");
        assert_eq!(format_value(0.5, "ratio"), "0.500");
        assert_eq!(format_value(7_748_528.0, "bytes"), "7.75 M");
    }
}
