//! The stopping rule of a paired perf run (`--against`, `--base-node-bin`): at each planned
//! look, the gate compares the arms at that look's share of α ([`compare::sequential`]), and
//! the run stops once every gated metric is decided or the budget is spent.

use std::time::Duration;

use crate::{
    compare::{Comparison, GateConfig, sequential::Looks, sequential::Step},
    data::summary::RunSummary,
    run::Stopping,
    tasks::gate::{self, Base, Gate},
};

/// Default time budget of a paired run: sized so that `perf standard --against <ref>` with
/// builds cached ends within 6 minutes on a 2-core machine (README "Measured").
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(300);

/// A [`Stopping`] that looks at the data of a paired run.
pub struct SequentialStop<'a> {
    looks: Looks,
    gate: Gate<'a>,
    base_label: String,
    comparison: Option<Comparison>,
}

impl<'a> SequentialStop<'a> {
    /// Looks for a run whose first look is at `first` pairs, comparing through `gate` (its α is
    /// the overall level), the base arm named `base_label`.
    pub fn new(first: usize, budget: Duration, gate: Gate<'a>, base_label: String) -> Self {
        Self {
            looks: Looks::new(gate.config.alpha, first, budget),
            gate,
            base_label,
            comparison: None,
        }
    }

    /// The comparison of the last look, with the record of every look; `None` before the first.
    pub fn into_comparison(self) -> Option<Comparison> {
        self.comparison
    }
}

impl Stopping for SequentialStop<'_> {
    fn planned(&self) -> usize {
        self.looks.next_look()
    }

    fn enough(&mut self, rounds: usize, elapsed: Duration, summaries: &[RunSummary]) -> bool {
        if rounds < self.looks.next_look() {
            return false;
        }
        let [head, base, ..] = summaries else {
            unreachable!("a paired run has two arms");
        };
        let level = self.looks.level(rounds, elapsed);
        let gate = Gate {
            config: GateConfig {
                alpha: level,
                ..self.gate.config.clone()
            },
            ..self.gate.clone()
        };
        let arm = Base::Arm {
            summary: base,
            label: self.base_label.clone(),
        };
        let mut comparison = gate::compare(head, arm, &gate);
        let (stop, why) = match self.looks.step(rounds, elapsed, &comparison) {
            Step::Continue { pairs } => {
                (false, format!("stopped before the look at {pairs} pairs"))
            }
            Step::Stop(why) => (true, why),
        };
        // Recorded at every look, so an interrupted run still says how far it got.
        comparison.sequential = Some(self.looks.record(why));
        self.comparison = Some(comparison);
        stop
    }
}
