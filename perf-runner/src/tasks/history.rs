//! `cargo xtask perf record` and `cargo xtask perf trend`: append a finished run to the
//! history store, and analyse a scenario's history into `trend.md`, `trend.json`, plots and,
//! when a recent change point is a regression, `alert.md`.

use std::path::{Path, PathBuf};

use crate::{
    Error, Exit,
    data::{
        output::{OutputRoot, RunDir, TrendDir, write_atomic},
        summary::RunSummary,
    },
    history::{self, Recorded, Trend, TrendConfig},
    report::trend as render,
    stats::change_point,
};

/// The history directory when none is given: `<workspace>/target/perf/history`.
fn history_dir(workspace: &Path, history: &Option<PathBuf>) -> PathBuf {
    history
        .clone()
        .unwrap_or_else(|| OutputRoot::of_workspace(workspace).history())
}

/// A run to record.
#[derive(Debug, Clone)]
pub struct RecordRequest {
    /// A run directory or its summary.json.
    pub run: PathBuf,
    /// History directory; default `<workspace>/target/perf/history`.
    pub history: Option<PathBuf>,
    /// The swarmbench repository.
    pub workspace: PathBuf,
}

/// Appends the run to its scenario's history; returns the history file and what was done.
pub fn record(request: &RecordRequest) -> Result<(PathBuf, Recorded), Error> {
    let file = if request.run.is_dir() {
        RunDir {
            dir: request.run.clone(),
        }
        .summary()
    } else {
        request.run.clone()
    };
    let summary = RunSummary::read(&file)?;
    let dir = history_dir(&request.workspace, &request.history);
    Ok(history::record(&dir, &summary)?)
}

/// A trend to analyse.
#[derive(Debug, Clone)]
pub struct TrendRequest {
    /// Scenario whose history to analyse.
    pub scenario: String,
    /// History directory; default `<workspace>/target/perf/history`.
    pub history: Option<PathBuf>,
    /// Where the files go; default `<workspace>/target/perf/trend/<scenario>`.
    pub out: Option<PathBuf>,
    /// A change point among the newest `recent` records counts as recent.
    pub recent: usize,
    /// Significance level of each change point's permutation test, in (0, 1).
    pub alpha: f64,
    /// A recent regression fails the command (exit 1).
    pub fail_on_regression: bool,
    /// The swarmbench repository.
    pub workspace: PathBuf,
}

/// An analysed and written trend.
#[derive(Debug, Clone)]
pub struct TrendOutcome {
    /// The analysis.
    pub trend: Trend,
    /// `trend.md` (also `alert.md` when there is a recent regression).
    pub markdown: String,
    /// Where `trend.md` went.
    pub written: PathBuf,
    /// Why the plots are missing, if they are: plots never fail a trend.
    pub plot_error: Option<String>,
    fail_on_regression: bool,
}

impl TrendOutcome {
    /// 1 for a recent regression when the request asked to fail on one, else 0.
    pub fn exit(&self) -> Exit {
        Exit::verdict(self.fail_on_regression && !self.trend.recent_regressions.is_empty())
    }
}

/// Loads and analyses the history, then writes `trend.md`, `trend.json` and the plots
/// atomically; writes `alert.md` for a recent regression and removes a stale one otherwise.
pub fn trend(request: &TrendRequest) -> Result<TrendOutcome, Error> {
    if !(request.alpha > 0.0 && request.alpha < 1.0) {
        return Err(Error::Usage(format!(
            "--alpha {} must be between 0 and 1",
            request.alpha
        )));
    }
    let records = history::load(
        &history_dir(&request.workspace, &request.history),
        &request.scenario,
    )?;
    if records.is_empty() {
        return Err(Error::Usage(format!(
            "no history for scenario {:?}; record runs with `cargo xtask perf record <run-dir>`",
            request.scenario
        )));
    }
    let config = TrendConfig {
        detection: change_point::Config {
            alpha: request.alpha,
            ..Default::default()
        },
        recent: request.recent,
    };
    let trend = history::analyse(&records, &config);
    let out = TrendDir {
        dir: request.out.clone().unwrap_or_else(|| {
            OutputRoot::of_workspace(&request.workspace).trend(&request.scenario)
        }),
    };
    let (plots, plot_error) = match render::plots(&out.plots(), &trend) {
        Ok(files) => (
            files
                .iter()
                .filter_map(|f| f.strip_prefix(&out.dir).ok())
                .map(|f| f.display().to_string())
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let markdown = render::markdown(&trend, &plots);
    write_files(&out, &trend, &markdown).map_err(|source| Error::Io {
        path: out.dir.clone(),
        source,
    })?;
    super::write_step_summary(&markdown);
    Ok(TrendOutcome {
        trend,
        markdown,
        written: out.markdown(),
        plot_error,
        fail_on_regression: request.fail_on_regression,
    })
}

/// `trend.md`, `trend.json`, and `alert.md` exactly when a recent change point regressed.
fn write_files(out: &TrendDir, trend: &Trend, markdown: &str) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(trend).expect("trend serializes");
    write_atomic(&out.markdown(), markdown.as_bytes())?;
    write_atomic(&out.json(), &json)?;
    let alert = out.alert();
    if trend.recent_regressions.is_empty() {
        // An alert from an earlier trend no longer holds: it must not linger.
        match std::fs::remove_file(&alert) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    } else {
        write_atomic(&alert, markdown.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::MetricChange;

    fn trend(regressed: bool) -> Trend {
        let change = MetricChange {
            index: 3,
            commit: "abc".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            before: 10.0,
            after: 12.0,
            change: 0.2,
            regression: true,
            p_value: 0.001,
            environment_changed: false,
        };
        Trend {
            scenario: "s".into(),
            records: 6,
            commits: Vec::new(),
            alpha: 0.05,
            metrics: Vec::new(),
            recent_regressions: if regressed {
                vec![("formation_time_ms".into(), change)]
            } else {
                Vec::new()
            },
            recent: 3,
        }
    }

    #[test]
    fn an_alert_is_written_for_a_recent_regression_and_removed_when_it_is_stale() {
        let out = tempfile::tempdir().unwrap();
        let files = TrendDir {
            dir: out.path().into(),
        };
        let alert = out.path().join("alert.md");
        write_files(&files, &trend(true), "# regressed").unwrap();
        assert_eq!(std::fs::read_to_string(&alert).unwrap(), "# regressed");
        assert!(out.path().join("trend.json").is_file());
        write_files(&files, &trend(false), "# fine").unwrap();
        assert!(!alert.exists(), "a stale alert must not linger");
        assert_eq!(
            std::fs::read_to_string(out.path().join("trend.md")).unwrap(),
            "# fine"
        );
        write_files(&files, &trend(false), "# fine").unwrap();
    }

    #[test]
    fn a_bad_alpha_or_an_empty_history_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut request = TrendRequest {
            scenario: "s".into(),
            history: Some(dir.path().into()),
            out: Some(dir.path().join("out")),
            recent: 3,
            alpha: 1.5,
            fail_on_regression: true,
            workspace: dir.path().into(),
        };
        let e = super::trend(&request).unwrap_err();
        assert_eq!(e.to_string(), "--alpha 1.5 must be between 0 and 1");
        assert_eq!(e.exit_code(), 2);
        request.alpha = 0.05;
        let e = super::trend(&request).unwrap_err();
        assert!(
            e.to_string().starts_with("no history for scenario \"s\""),
            "{e}"
        );
        assert_eq!(e.exit_code(), 2);
    }
}
