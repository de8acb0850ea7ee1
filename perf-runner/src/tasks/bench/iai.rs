//! Reads iai-callgrind's `summary.json` files (written with `--save-summary=json`), one per
//! benchmark under `<iai dir>/<package>/<bench>/<group>/<function>.<id>/summary.json`.
//!
//! Only the callgrind totals of the *new* run are taken: instructions (`Ir`) and the cycle
//! estimate. iai-callgrind's own comparison with its previous run is ignored; the gate compares.

use std::path::Path;

use serde_json::Value;

use super::BenchError;

/// One benchmark's callgrind counts.
#[derive(Debug, Clone, PartialEq)]
pub struct CountResult {
    /// The function name (our case name).
    pub case: String,
    /// Instructions executed.
    pub instructions: u64,
    /// iai-callgrind's estimated cycles, when the cache simulation produced it.
    pub estimated_cycles: Option<u64>,
}

/// A metric's new value: `{"Left": v}` or `{"Both": [new, old]}`, where a value is a bare
/// number or `{"Int": n}` / `{"Float": x}` depending on the iai-callgrind version.
fn new_value(metric: &Value) -> Option<u64> {
    let metrics = metric.get("metrics")?;
    let v = metrics
        .get("Left")
        .or_else(|| metrics.get("Both").and_then(|b| b.get(0)))?;
    let number = |v: &Value| v.as_u64().or_else(|| v.as_f64().map(|f| f.round() as u64));
    number(v)
        .or_else(|| v.get("Int").and_then(number))
        .or_else(|| v.get("Float").and_then(number))
}

/// Parses one `summary.json`.
pub fn parse(path: &Path, text: &str) -> Result<CountResult, BenchError> {
    let bad = |message: &str| BenchError::Results {
        path: path.to_path_buf(),
        message: message.to_owned(),
    };
    let json: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
    let case = json["function_name"]
        .as_str()
        .ok_or_else(|| bad("no function_name"))?
        .to_owned();
    let callgrind = json["profiles"]
        .as_array()
        .and_then(|profiles| profiles.iter().find(|p| p["tool"] == "Callgrind"))
        .ok_or_else(|| bad("no Callgrind profile"))?;
    let totals = &callgrind["summaries"]["total"]["summary"]["Callgrind"];
    let instructions = new_value(&totals["Ir"]).ok_or_else(|| bad("no Ir total"))?;
    Ok(CountResult {
        case,
        instructions,
        estimated_cycles: new_value(&totals["EstimatedCycles"]),
    })
}

/// Every `summary.json` below `dir`, sorted by case name.
pub fn read(dir: &Path) -> Result<Vec<CountResult>, BenchError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "summary.json") {
                let text = std::fs::read_to_string(&path).map_err(|e| BenchError::Results {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                out.push(parse(&path, &text)?);
            }
        }
    }
    out.sort_by(|a, b| a.case.cmp(&b.case));
    Ok(out)
}
