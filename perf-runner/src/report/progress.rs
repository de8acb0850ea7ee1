//! Progress on stderr: on a terminal, one indicatif bar over repetitions whose message names the
//! phase; elsewhere (a CI log, a pipe), one plain line per phase, so a long run in CI shows
//! where it is and where it stopped.

use std::{cell::RefCell, io::IsTerminal, time::Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::run::Observer;

/// An [`Observer`] that draws an indicatif progress bar on stderr, or writes plain lines when
/// stderr is not a terminal.
pub struct ProgressBarObserver {
    bar: ProgressBar,
    /// Without a terminal: the scenario, the current repetition's position and label, and
    /// when the run began, for plain lines.
    lines: Option<RefCell<Lines>>,
}

struct Lines {
    scenario: String,
    began: Instant,
    position: String,
}

impl ProgressBarObserver {
    /// A bar for `scenario`; hidden when `quiet`.
    pub fn new(scenario: &str, quiet: bool) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = if quiet || !terminal {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(0)
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:.bold} [{bar:30.cyan/blue}] {pos}/{len} {msg} ({elapsed})",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar.set_prefix(scenario.to_owned());
        let lines = (!quiet && !terminal).then(|| {
            RefCell::new(Lines {
                scenario: scenario.to_owned(),
                began: Instant::now(),
                position: String::new(),
            })
        });
        Self { bar, lines }
    }
}

/// `12.3 s` since the run began.
fn since(began: Instant) -> String {
    format!("{:.1} s", began.elapsed().as_secs_f64())
}

impl Observer for ProgressBarObserver {
    fn repetition_started(&self, index: usize, total: usize, label: &str) {
        self.bar.set_length(total as u64);
        self.bar.set_position(index as u64);
        self.bar.set_message(label.to_owned());
        if let Some(lines) = &self.lines {
            lines.borrow_mut().position = format!("{}/{total} {label}", index + 1);
        }
    }

    fn phase(&self, name: &str) {
        let message = self.bar.message();
        let base = message.split(" · ").next().unwrap_or("").to_owned();
        self.bar.set_message(format!("{base} · {name}"));
        if let Some(lines) = &self.lines {
            let lines = lines.borrow();
            eprintln!(
                "{} {} · {name} ({})",
                lines.scenario,
                lines.position,
                since(lines.began)
            );
        }
    }

    fn repetition_finished(&self) {
        self.bar.inc(1);
    }

    fn finished(&self) {
        self.bar.finish_and_clear();
        if let Some(lines) = &self.lines {
            let lines = lines.borrow();
            eprintln!("{} finished ({})", lines.scenario, since(lines.began));
        }
    }
}
