//! One new session against several recorded ones: is the new session's level outside what the
//! recorded sessions predict?
//!
//! Separate invocations (another VM, another day) drift apart more than the repetitions inside
//! one invocation vary, so a test that knows only the within-session noise (Mann–Whitney on
//! pooled repetitions) calls drift a regression. Here the session is the unit of replication,
//! and the test is the prediction interval for one new observation from a normal sample
//! (Hahn & Meeker 1991, *Statistical Intervals*, §4.7):
//!
//! ```text
//! t = (m_new − m̄) / (s · √(1 + 1/k)),   t ~ Student's t with k − 1 degrees of freedom,
//! ```
//!
//! where m₁…m_k are the recorded sessions' levels (median of the log values), m̄ their mean and
//! s their sample standard deviation. Each mⱼ is estimated from n̄ repetitions, so s already
//! holds both the drift between sessions and the noise of a level from n̄ repetitions. A new
//! session with fewer repetitions has a noisier level; the difference, (π/2)·σ²_w·(1/n − 1/n̄)
//! (the large-sample variance of a median, σ_w the pooled within-session spread), is added to
//! the variance. More repetitions than n̄ are not credited: conservative.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::{descriptive, power::robust_sd};

/// Result of comparing one session with recorded sessions, on the log scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionTest {
    /// Recorded sessions.
    pub sessions: usize,
    /// m_new − m̄: the new session's log-level minus the recorded sessions' mean log-level.
    pub shift: f64,
    /// s: the standard deviation of the recorded sessions' log-levels (drift and noise).
    pub spread: f64,
    /// Standard error of `shift` under no change (drift and noise together).
    pub se: f64,
    /// Degrees of freedom of the reference t distribution (k − 1).
    pub df: f64,
    /// One-sided p-value that the new session is higher.
    pub p_greater: f64,
    /// One-sided p-value that the new session is lower.
    pub p_less: f64,
}

/// Tests the positive samples `new` against `recorded` sessions of positive samples. `None`
/// with fewer than two recorded sessions (no spread between sessions to learn from), an empty
/// session, or a value that is not positive.
pub fn test(recorded: &[&[f64]], new: &[f64]) -> Option<SessionTest> {
    let k = recorded.len();
    if k < 2 || new.is_empty() || recorded.iter().any(|s| s.is_empty()) {
        return None;
    }
    let logs = |s: &[f64]| -> Option<Vec<f64>> {
        s.iter()
            .map(|v| (*v > 0.0 && v.is_finite()).then(|| v.ln()))
            .collect()
    };
    let recorded: Vec<Vec<f64>> = recorded.iter().map(|s| logs(s)).collect::<Option<_>>()?;
    let new = logs(new)?;
    let levels: Vec<f64> = recorded
        .iter()
        .map(|s| descriptive::quantile(s, 0.5))
        .collect::<Option<_>>()?;
    let mean_level = descriptive::mean(&levels)?;
    let between = descriptive::std_dev(&levels)?;
    let n_bar = recorded.iter().map(Vec::len).sum::<usize>() as f64 / k as f64;
    let within_var = descriptive::mean(
        &recorded
            .iter()
            .filter_map(|s| robust_sd(s))
            .map(|sd| sd * sd)
            .collect::<Vec<_>>(),
    )
    .unwrap_or(0.0);
    let fewer_repetitions =
        (std::f64::consts::FRAC_PI_2 * within_var * (1.0 / new.len() as f64 - 1.0 / n_bar))
            .max(0.0);
    let se = (between * between * (1.0 + 1.0 / k as f64) + fewer_repetitions).sqrt();
    let shift = descriptive::quantile(&new, 0.5)? - mean_level;
    let df = (k - 1) as f64;
    let (p_greater, p_less) = if se == 0.0 {
        // Every session at the same level: any shift is certain, none is impossible.
        let certain = |yes: bool| if yes { 0.0 } else { 1.0 };
        (certain(shift > 0.0), certain(shift < 0.0))
    } else {
        let t = StudentsT::new(0.0, 1.0, df).ok()?;
        (t.sf(shift / se), t.cdf(shift / se))
    };
    Some(SessionTest {
        sessions: k,
        shift,
        spread: between,
        se,
        df,
        p_greater,
        p_less,
    })
}

/// Smallest relative change (0.05 = 5 %) this test detects with probability `power` at one-sided
/// level `alpha`: the shift at which the t statistic's expectation reaches the sum of the two
/// quantiles (the usual shifted-t approximation of the noncentral t).
pub fn mde(test: &SessionTest, alpha: f64, power: f64) -> Option<f64> {
    let t = StudentsT::new(0.0, 1.0, test.df).ok()?;
    let z = t.inverse_cdf(1.0 - alpha) + t.inverse_cdf(power);
    Some((z * test.se).exp() - 1.0)
}

/// The two-sided `level` interval of the relative change.
pub fn change_interval(test: &SessionTest, level: f64) -> Option<(f64, f64)> {
    let t = StudentsT::new(0.0, 1.0, test.df).ok()?;
    let half = t.inverse_cdf(0.5 + level / 2.0) * test.se;
    Some((
        (test.shift - half).exp() - 1.0,
        (test.shift + half).exp() - 1.0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples whose log-median is exactly `ln(level)` (odd count, symmetric in log).
    fn session(level: f64, spread: f64) -> Vec<f64> {
        [-2.0, -1.0, 0.0, 1.0, 2.0]
            .iter()
            .map(|k| level * (spread * k).exp())
            .collect()
    }

    #[test]
    fn matches_the_prediction_interval_by_hand() {
        // Levels ln 100, ln 110, ln 90: mean 4.601820, sd 0.100377 (R: sd(log(c(100,110,90)))).
        // se = 0.100377 · √(4/3) = 0.115906. New level ln 130: shift 0.265714,
        // t = 2.292505, df 2: P(T₂ > t) = 0.074456 (R: pt(2.292505, 2, lower.tail = FALSE)).
        let sessions = [
            session(100.0, 0.01),
            session(110.0, 0.01),
            session(90.0, 0.01),
        ];
        let recorded: Vec<&[f64]> = sessions.iter().map(Vec::as_slice).collect();
        let r = test(&recorded, &session(130.0, 0.01)).unwrap();
        assert_eq!(r.sessions, 3);
        assert!((r.shift - 0.265_714).abs() < 1e-5, "{r:?}");
        assert!((r.se - 0.115_906).abs() < 1e-5, "{r:?}");
        assert_eq!(r.df, 2.0);
        assert!((r.p_greater - 0.074_456).abs() < 1e-5, "{r:?}");
        assert!((r.p_greater + r.p_less - 1.0).abs() < 1e-12);
    }

    #[test]
    fn drift_between_sessions_is_not_significant_but_a_jump_beyond_it_is() {
        let sessions: Vec<Vec<f64>> = [100.0, 104.0, 97.0, 102.0, 99.0, 103.0]
            .iter()
            .map(|l| session(*l, 0.005))
            .collect();
        let recorded: Vec<&[f64]> = sessions.iter().map(Vec::as_slice).collect();
        // 5 % above the mean: inside the drift the sessions show.
        let drift = test(&recorded, &session(105.0, 0.005)).unwrap();
        assert!(drift.p_greater > 0.01, "{drift:?}");
        // 30 % above: far outside it.
        let jump = test(&recorded, &session(130.0, 0.005)).unwrap();
        assert!(jump.p_greater < 0.001, "{jump:?}");
        assert!(jump.p_less > 0.99);
    }

    #[test]
    fn a_shorter_new_session_widens_the_error() {
        let sessions = [
            session(100.0, 0.05),
            session(101.0, 0.05),
            session(99.0, 0.05),
        ];
        let recorded: Vec<&[f64]> = sessions.iter().map(Vec::as_slice).collect();
        let full = test(&recorded, &session(100.0, 0.05)).unwrap();
        let short = test(&recorded, &[100.0]).unwrap();
        assert!(short.se > full.se, "{short:?} vs {full:?}");
    }

    #[test]
    fn one_session_or_bad_values_give_no_test() {
        let one = session(100.0, 0.01);
        assert_eq!(test(&[&one], &one), None);
        assert_eq!(test(&[&one, &[0.0, 1.0]], &one), None);
        assert_eq!(test(&[&one, &one], &[]), None);
    }

    #[test]
    fn mde_and_interval_follow_the_t_quantiles() {
        let r = SessionTest {
            sessions: 5,
            shift: 0.0,
            spread: 0.02,
            se: 0.02,
            df: 4.0,
            p_greater: 0.5,
            p_less: 0.5,
        };
        // qt(0.99, 4) + qt(0.8, 4) = 3.746947 + 0.940965 = 4.687912; e^(0.0937582) − 1.
        let mde = mde(&r, 0.01, 0.8).unwrap();
        assert!((mde - 0.098_294).abs() < 1e-5, "{mde}");
        // qt(0.975, 4) = 2.776445: ±0.0555289 on the log scale.
        let (low, high) = change_interval(&r, 0.95).unwrap();
        assert!((high - 0.057_099).abs() < 1e-5 && (low + 0.054_015).abs() < 1e-5);
    }
}
