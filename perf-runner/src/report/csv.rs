//! `samples.csv`: one row per metric per repetition, for spreadsheets and ad-hoc analysis.

use crate::data::summary::RunSummary;

/// `repetition,metric,value,unit` rows.
pub fn render(summary: &RunSummary) -> String {
    let mut out = String::from("repetition,metric,value,unit\n");
    for m in &summary.metrics {
        for (rep, value) in m.repetitions.iter().zip(&m.samples) {
            // Metric names and units are fixed identifiers without commas or quotes.
            out.push_str(&format!("{rep},{},{value},{}\n", m.name, m.unit));
        }
    }
    out
}
