//! Progress on the terminal: one bar over repetitions, the message naming the phase.
//!
//! indicatif draws nothing when stderr is not a terminal, so CI logs stay clean.

use indicatif::{ProgressBar, ProgressStyle};

use crate::run::Observer;

/// An [`Observer`] that draws an indicatif progress bar on stderr.
pub struct ProgressBarObserver {
    bar: ProgressBar,
}

impl ProgressBarObserver {
    /// A bar for `scenario`; hidden when `quiet`.
    pub fn new(scenario: &str, quiet: bool) -> Self {
        let bar = if quiet {
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
        Self { bar }
    }
}

impl Observer for ProgressBarObserver {
    fn repetition_started(&self, index: usize, total: usize, label: &str) {
        self.bar.set_length(total as u64);
        self.bar.set_position(index as u64);
        self.bar.set_message(label.to_owned());
    }

    fn phase(&self, name: &str) {
        let message = self.bar.message();
        let base = message.split(" · ").next().unwrap_or("").to_owned();
        self.bar.set_message(format!("{base} · {name}"));
    }

    fn repetition_finished(&self) {
        self.bar.inc(1);
    }

    fn finished(&self) {
        self.bar.finish_and_clear();
    }
}
