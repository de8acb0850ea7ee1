//! When a paired run has measured enough: `--against` adds ABBA pairs until every gated metric
//! is decided (regressed, improved, or unchanged with the power to tell) or the time budget
//! ends, looking at the data at planned points without raising the false-alarm rate.
//!
//! The looks are at the scenario's repetitions n₁, then 2n₁, 4n₁, … up to the most pairs the
//! budget holds (N, fixed at the first look from the time the first n₁ pairs took, before any
//! verdict is seen). Look k tests at the level [`spending::look_level`] gives it, a share of α
//! such that all looks together never exceed α. Stopping because everything is decided never
//! adds a false alarm; stopping because time ran out leaves the undecided metrics
//! "inconclusive", which is what they are.

use std::time::Duration;

use crate::{
    data::comparison::{Comparison, Look, Sequential, Verdict},
    stats::spending,
};

/// Most pairs any paired run takes, whatever the budget: beyond this the runs are long and the
/// answer would not change a pull request's fate.
pub const MAX_PAIRS: usize = 256;

/// Where the next look is, and what the looks so far spent.
#[derive(Debug, Clone)]
pub struct Looks {
    /// Overall false-alarm level across every look.
    alpha: f64,
    /// Time the run may take.
    budget: Duration,
    /// Pairs at the first look (the scenario's repetitions).
    first: usize,
    /// Most pairs of this run: set at the first look.
    max_pairs: Option<usize>,
    /// Looks taken.
    taken: Vec<Look>,
}

/// What to do after a look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Measure until `pairs` pairs, then look again.
    Continue {
        /// Pairs at the next look.
        pairs: usize,
    },
    /// Stop; the reason goes into the report.
    Stop(String),
}

impl Looks {
    /// Looks for a run with overall level `alpha`, first looking at `first` pairs.
    pub fn new(alpha: f64, first: usize, budget: Duration) -> Self {
        Self {
            alpha,
            budget,
            first: first.max(1),
            max_pairs: None,
            taken: Vec::new(),
        }
    }

    /// Pairs at which the next look happens.
    pub fn next_look(&self) -> usize {
        match (self.taken.last(), self.max_pairs) {
            (Some(last), Some(max)) => (last.pairs * 2).min(max),
            _ => self.first,
        }
    }

    /// The level the look at `pairs` pairs may test at, after `elapsed` of the run. The first
    /// look fixes the most pairs the run may take from the time they took.
    pub fn level(&mut self, pairs: usize, elapsed: Duration) -> f64 {
        let max = *self
            .max_pairs
            .get_or_insert_with(|| max_pairs(self.first, pairs, elapsed, self.budget));
        let previous = self.taken.last().map_or(0, |l| l.pairs);
        let level = spending::look_level(self.alpha, previous, pairs, max);
        self.taken.push(Look { pairs, level });
        level
    }

    /// After the look at `pairs` pairs, `elapsed` into the run, whose verdicts are
    /// `comparison`: go on to the next look, or stop and say why.
    pub fn step(&self, pairs: usize, elapsed: Duration, comparison: &Comparison) -> Step {
        let undecided = undecided(comparison);
        if undecided.is_empty() {
            return Step::Stop(format!("every gated metric decided after {pairs} pairs"));
        }
        let max = self.max_pairs.unwrap_or(self.first);
        let next = self.next_look();
        if pairs >= max || next <= pairs {
            return Step::Stop(format!(
                "{} undecided after {pairs} pairs, the most this run's budget of {} s holds",
                undecided.join(", "),
                self.budget.as_secs()
            ));
        }
        let per_pair = elapsed.as_secs_f64() / pairs as f64;
        let needed = elapsed.as_secs_f64() + (next - pairs) as f64 * per_pair;
        if needed > self.budget.as_secs_f64() {
            return Step::Stop(format!(
                "{} undecided after {pairs} pairs: {next} pairs would take about {needed:.0} s, over the budget of {} s",
                undecided.join(", "),
                self.budget.as_secs()
            ));
        }
        Step::Continue { pairs: next }
    }

    /// The record of this run's looks for the report, with why it stopped.
    pub fn record(&self, stopped: String) -> Sequential {
        Sequential {
            alpha: self.alpha,
            budget_s: self.budget.as_secs_f64(),
            max_pairs: self.max_pairs.unwrap_or(self.first),
            looks: self.taken.clone(),
            stopped,
        }
    }
}

/// The most pairs a run may take: the largest `first · 2^j` that fits the budget at the pace
/// of the first `pairs` pairs (which took `elapsed`, warm-up included), within [`MAX_PAIRS`];
/// never fewer than `first`.
fn max_pairs(first: usize, pairs: usize, elapsed: Duration, budget: Duration) -> usize {
    let per_pair = elapsed.as_secs_f64() / pairs.max(1) as f64;
    let fit = if per_pair > 0.0 {
        (budget.as_secs_f64() / per_pair).floor() as usize
    } else {
        MAX_PAIRS
    };
    let limit = fit.min(MAX_PAIRS);
    let mut max = first;
    while max * 2 <= limit {
        max *= 2;
    }
    max
}

/// Gated metrics without a decision.
fn undecided(comparison: &Comparison) -> Vec<&str> {
    comparison
        .metrics
        .iter()
        .filter(|m| m.gated && m.verdict == Verdict::Inconclusive)
        .map(|m| m.name.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{self, GateConfig, MetricSamples, Mode};

    fn comparison(verdicts: &[(bool, Verdict)]) -> Comparison {
        let mut c = compare::compare(Mode::Paired, "t".into(), &[], &GateConfig::default());
        for (i, (gated, verdict)) in verdicts.iter().enumerate() {
            let mut m = compare::compare(
                Mode::Paired,
                "t".into(),
                &[MetricSamples {
                    name: "formation_time_ms",
                    base: &[1.0, 2.0],
                    head: &[1.0, 2.0],
                    base_sessions: &[],
                }],
                &GateConfig::default(),
            )
            .metrics
            .remove(0);
            m.name = format!("m{i}");
            m.gated = *gated;
            m.verdict = *verdict;
            c.metrics.push(m);
        }
        c
    }

    #[test]
    fn the_first_look_fixes_the_most_pairs_from_its_pace() {
        // 10 pairs in 50 s: 5 s a pair, 300 s hold 60; the looks double from 10: 10, 20, 40.
        let mut looks = Looks::new(0.01, 10, Duration::from_secs(300));
        assert_eq!(looks.next_look(), 10);
        let first = looks.level(10, Duration::from_secs(50));
        assert!((first - spending::look_level(0.01, 0, 10, 40)).abs() < 1e-15);
        assert_eq!(looks.next_look(), 20);
        looks.level(20, Duration::from_secs(100));
        assert_eq!(looks.next_look(), 40);
        let last = looks.level(40, Duration::from_secs(200));
        let spent: f64 = looks
            .record(String::new())
            .looks
            .iter()
            .map(|l| l.level)
            .sum();
        assert!((spent - 0.01).abs() < 1e-12 && last > 0.0, "{spent}");
        assert_eq!(
            max_pairs(10, 10, Duration::from_secs(500), Duration::from_secs(300)),
            10
        );
        assert_eq!(max_pairs(4, 4, Duration::ZERO, Duration::from_secs(1)), 256);
    }

    #[test]
    fn it_stops_when_every_gated_metric_is_decided() {
        let mut looks = Looks::new(0.01, 10, Duration::from_secs(300));
        looks.level(10, Duration::from_secs(50));
        let decided = comparison(&[
            (true, Verdict::Regressed),
            (true, Verdict::Unchanged),
            (false, Verdict::Inconclusive),
        ]);
        assert!(matches!(
            looks.step(10, Duration::from_secs(50), &decided),
            Step::Stop(why) if why.contains("every gated metric decided")
        ));
        let open = comparison(&[(true, Verdict::Unchanged), (true, Verdict::Inconclusive)]);
        assert_eq!(
            looks.step(10, Duration::from_secs(50), &open),
            Step::Continue { pairs: 20 }
        );
    }

    #[test]
    fn it_stops_undecided_when_the_budget_or_the_plan_ends() {
        let open = comparison(&[(true, Verdict::Inconclusive)]);
        let mut looks = Looks::new(0.01, 10, Duration::from_secs(300));
        looks.level(10, Duration::from_secs(50));
        // The run slowed down: 10 more pairs at 20 s each no longer fit.
        assert!(matches!(
            looks.step(10, Duration::from_secs(200), &open),
            Step::Stop(why) if why.contains("m0 undecided") && why.contains("over the budget")
        ));
        looks.level(20, Duration::from_secs(100));
        looks.level(40, Duration::from_secs(200));
        assert!(matches!(
            looks.step(40, Duration::from_secs(200), &open),
            Step::Stop(why) if why.contains("the most this run's budget")
        ));
    }
}
