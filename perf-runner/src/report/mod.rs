//! Renderers: a finished [`RunSummary`] in, text out. Renderers compute nothing beyond layout.
//!
//! One file per format. Deciding where the bytes go (file, stdout) is the caller's job.

pub mod comparison;
pub mod csv;
pub mod escape;
pub mod markdown;
pub mod plots;
pub mod terminal;
pub mod trend;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_magnitude_and_unit() {
        assert_eq!(format_value(1234.5, "ms"), "1234");
        assert_eq!(format_value(12.345, "ms"), "12.3");
        assert_eq!(format_value(0.0123, "ms"), "0.012");
        assert_eq!(format_value(0.5, "ratio"), "0.500");
        assert_eq!(format_value(7_748_528.0, "bytes"), "7.75 M");
    }
}
