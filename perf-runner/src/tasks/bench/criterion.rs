//! Reads criterion's result files: `<criterion dir>/<group>/<function>/new/{benchmark,sample,estimates}.json`.
//!
//! The samples are what the gate compares: criterion's `sample.json` holds, per sample, the
//! number of iterations and their total time in ns; one sample's value is time / iterations.
//! `estimates.json` gives criterion's own mean and its interval, kept for the report.

use std::path::Path;

use serde::Deserialize;

use super::BenchError;

/// One benchmark's wall-time result.
#[derive(Debug, Clone, PartialEq)]
pub struct WallResult {
    /// The function id (our case name).
    pub case: String,
    /// Per-iteration time of each sample, ns.
    pub samples_ns: Vec<f64>,
    /// Criterion's mean estimate, ns.
    pub mean_ns: f64,
    /// Its 95 % confidence interval, ns.
    pub mean_ci_ns: (f64, f64),
}

#[derive(Deserialize)]
struct BenchmarkId {
    function_id: Option<String>,
}

#[derive(Deserialize)]
struct Sample {
    iters: Vec<f64>,
    times: Vec<f64>,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Deserialize)]
struct Interval {
    lower_bound: f64,
    upper_bound: f64,
}

#[derive(Deserialize)]
struct Estimates {
    mean: Estimate,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, BenchError> {
    let text = std::fs::read_to_string(path).map_err(|e| BenchError::Results {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| BenchError::Results {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Every benchmark of `group` under `criterion_dir`, sorted by case name. A missing group
/// directory means no results (an empty list).
pub fn read(criterion_dir: &Path, group: &str) -> Result<Vec<WallResult>, BenchError> {
    let group_dir = criterion_dir.join(group);
    let Ok(entries) = std::fs::read_dir(&group_dir) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let new = entry.path().join("new");
        if !new.join("sample.json").is_file() {
            continue; // criterion's own report/ directory, or an unfinished benchmark
        }
        let id: BenchmarkId = read_json(&new.join("benchmark.json"))?;
        let sample: Sample = read_json(&new.join("sample.json"))?;
        let estimates: Estimates = read_json(&new.join("estimates.json"))?;
        if sample.iters.len() != sample.times.len() || sample.iters.iter().any(|i| *i <= 0.0) {
            return Err(BenchError::Results {
                path: new.join("sample.json"),
                message: "iters and times do not pair up".into(),
            });
        }
        out.push(WallResult {
            case: id
                .function_id
                .unwrap_or_else(|| entry.file_name().to_string_lossy().into_owned()),
            samples_ns: sample
                .times
                .iter()
                .zip(&sample.iters)
                .map(|(t, i)| t / i)
                .collect(),
            mean_ns: estimates.mean.point_estimate,
            mean_ci_ns: (
                estimates.mean.confidence_interval.lower_bound,
                estimates.mean.confidence_interval.upper_bound,
            ),
        });
    }
    out.sort_by(|a, b| a.case.cmp(&b.case));
    Ok(out)
}
