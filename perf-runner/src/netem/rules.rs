//! What happens to one datagram on one directed link: the rules (delay, jitter, loss, rate,
//! partition, corruption) and the per-link state they need. Pure and seeded; no IO.

use std::time::{Duration, Instant};

use rand::{Rng, rngs::StdRng};

/// How packets are lost.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Loss {
    /// No loss.
    #[default]
    None,
    /// Each packet independently with this probability.
    Uniform(f64),
    /// Gilbert–Elliott: a two-state Markov chain (good, bad) with a loss probability per state,
    /// for bursty loss. Transition probabilities are per packet.
    GilbertElliott {
        /// P(good → bad).
        p_good_to_bad: f64,
        /// P(bad → good).
        p_bad_to_good: f64,
        /// Loss probability in the good state.
        loss_good: f64,
        /// Loss probability in the bad state.
        loss_bad: f64,
    },
}

impl Loss {
    /// Long-run loss rate.
    pub fn mean_rate(&self) -> f64 {
        match *self {
            Loss::None => 0.0,
            Loss::Uniform(p) => p,
            Loss::GilbertElliott {
                p_good_to_bad,
                p_bad_to_good,
                loss_good,
                loss_bad,
            } => {
                let total = p_good_to_bad + p_bad_to_good;
                if total == 0.0 {
                    return loss_good;
                }
                let bad = p_good_to_bad / total;
                bad * loss_bad + (1.0 - bad) * loss_good
            }
        }
    }
}

/// The rules of one directed link.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LinkRules {
    /// One-way delay.
    pub delay: Duration,
    /// Uniform extra delay in [0, jitter]; never reorders (release times are monotonic).
    pub jitter: Duration,
    /// Loss model.
    pub loss: Loss,
    /// Bandwidth cap, bits per second (token bucket with one MTU of burst).
    pub rate_bps: Option<u64>,
    /// Drop everything.
    pub partitioned: bool,
    /// Probability of flipping one random byte of a packet.
    pub corrupt: f64,
}

/// Most bytes a link queues for its rate limit before it drops (tail drop, like netem's limit).
pub const QUEUE_LIMIT_BYTES: usize = 1 << 20;

/// What to do with one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Dropped by the partition.
    Partitioned,
    /// Dropped by the loss model.
    Lost,
    /// Dropped because the rate limiter's queue is full.
    QueueFull,
    /// Delivered at this instant, with one byte flipped if `corrupt`.
    Deliver {
        /// Release time.
        at: Instant,
        /// Whether to corrupt it.
        corrupt: bool,
    },
}

/// Per-link state: the Gilbert–Elliott state, the rate limiter's clock, the last release.
#[derive(Debug, Clone, Default)]
pub struct LinkState {
    bad: bool,
    /// When the rate limiter will have sent everything queued so far.
    busy_until: Option<Instant>,
    /// Latest release time handed out: releases never go backwards, so nothing reorders.
    last_release: Option<Instant>,
}

impl LinkState {
    /// Decides the fate of a packet of `len` bytes arriving at `now`.
    pub fn decide(
        &mut self,
        rules: &LinkRules,
        len: usize,
        now: Instant,
        rng: &mut StdRng,
    ) -> Fate {
        if rules.partitioned {
            return Fate::Partitioned;
        }
        let lost = match rules.loss {
            Loss::None => false,
            Loss::Uniform(p) => rng.random::<f64>() < p,
            Loss::GilbertElliott {
                p_good_to_bad,
                p_bad_to_good,
                loss_good,
                loss_bad,
            } => {
                let flip = if self.bad {
                    p_bad_to_good
                } else {
                    p_good_to_bad
                };
                if rng.random::<f64>() < flip {
                    self.bad = !self.bad;
                }
                rng.random::<f64>() < if self.bad { loss_bad } else { loss_good }
            }
        };
        if lost {
            return Fate::Lost;
        }
        match self.release_time(rules, len, now, rng, Some(QUEUE_LIMIT_BYTES)) {
            None => Fate::QueueFull,
            Some(at) => Fate::Deliver {
                at,
                corrupt: rules.corrupt > 0.0 && rng.random::<f64>() < rules.corrupt,
            },
        }
    }

    /// When a chunk of a TCP stream of `len` bytes read at `now` is released: the rate limit,
    /// delay and jitter apply; a stream is never lost or corrupted (TCP below the proxy would
    /// retransmit), and its queue is bounded by backpressure, not by dropping.
    pub fn release_chunk(
        &mut self,
        rules: &LinkRules,
        len: usize,
        now: Instant,
        rng: &mut StdRng,
    ) -> Instant {
        self.release_time(rules, len, now, rng, None)
            .expect("no queue limit, no drop")
    }

    /// Release time under the rate limit (None: the queue is over `queue_limit` bytes), the
    /// delay and the jitter, never before an earlier release.
    fn release_time(
        &mut self,
        rules: &LinkRules,
        len: usize,
        now: Instant,
        rng: &mut StdRng,
        queue_limit: Option<usize>,
    ) -> Option<Instant> {
        // Serialisation at the capped rate: the packet leaves the bottleneck when everything
        // queued before it has, then travels the delay.
        let mut leaves = now;
        if let Some(bps) = rules.rate_bps.filter(|b| *b > 0) {
            let start = self.busy_until.filter(|b| *b > now).unwrap_or(now);
            let queued = start.saturating_duration_since(now);
            let queued_bytes = queued.as_secs_f64() * bps as f64 / 8.0;
            if queue_limit.is_some_and(|limit| queued_bytes + len as f64 > limit as f64) {
                return None;
            }
            leaves = start + Duration::from_secs_f64(len as f64 * 8.0 / bps as f64);
            self.busy_until = Some(leaves);
        }
        let jitter = if rules.jitter.is_zero() {
            Duration::ZERO
        } else {
            rules.jitter.mul_f64(rng.random::<f64>())
        };
        let mut at = leaves + rules.delay + jitter;
        if let Some(last) = self.last_release {
            at = at.max(last);
        }
        self.last_release = Some(at);
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn run(rules: LinkRules, packets: usize) -> Vec<Fate> {
        let mut state = LinkState::default();
        let mut rng = StdRng::seed_from_u64(1);
        let now = Instant::now();
        (0..packets)
            .map(|i| {
                state.decide(
                    &rules,
                    1000,
                    now + Duration::from_micros(i as u64),
                    &mut rng,
                )
            })
            .collect()
    }

    #[test]
    fn uniform_loss_rate_is_within_its_binomial_interval() {
        let n = 20_000;
        let lost = run(
            LinkRules {
                loss: Loss::Uniform(0.05),
                ..Default::default()
            },
            n,
        )
        .iter()
        .filter(|f| **f == Fate::Lost)
        .count();
        let ci = crate::stats::proportion::clopper_pearson(lost, n, 0.999).unwrap();
        assert!(ci.low <= 0.05 && 0.05 <= ci.high, "{lost} of {n}: {ci:?}");
    }

    #[test]
    fn gilbert_elliott_loses_in_bursts_at_its_mean_rate() {
        let loss = Loss::GilbertElliott {
            p_good_to_bad: 0.01,
            p_bad_to_good: 0.2,
            loss_good: 0.0,
            loss_bad: 0.9,
        };
        assert!((loss.mean_rate() - 0.01 / 0.21 * 0.9).abs() < 1e-12);
        let fates = run(
            LinkRules {
                loss,
                ..Default::default()
            },
            50_000,
        );
        let lost: Vec<bool> = fates.iter().map(|f| *f == Fate::Lost).collect();
        let n_lost = lost.iter().filter(|l| **l).count();
        let rate = n_lost as f64 / lost.len() as f64;
        assert!((rate - loss.mean_rate()).abs() < 0.01, "rate {rate}");
        // Bursty: P(lost | previous lost) far above the mean rate (independent loss: equal).
        let after_loss = lost.windows(2).filter(|w| w[0]).count();
        let both = lost.windows(2).filter(|w| w[0] && w[1]).count();
        let conditional = both as f64 / after_loss as f64;
        assert!(conditional > 0.5, "P(loss | loss) = {conditional}");
    }

    #[test]
    fn delay_jitter_never_reorder() {
        let fates = run(
            LinkRules {
                delay: Duration::from_millis(20),
                jitter: Duration::from_millis(10),
                ..Default::default()
            },
            1000,
        );
        let times: Vec<Instant> = fates
            .iter()
            .map(|f| match f {
                Fate::Deliver { at, .. } => *at,
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        let first = times[0];
        let now = first - Duration::from_millis(30);
        assert!(times.iter().all(|t| *t >= now + Duration::from_millis(10)));
    }

    #[test]
    fn the_rate_limit_spaces_packets_and_drops_when_the_queue_is_full() {
        let rules = LinkRules {
            rate_bps: Some(8_000_000), // 1 MB/s: a 1000-byte packet every 1 ms
            ..Default::default()
        };
        let mut state = LinkState::default();
        let mut rng = StdRng::seed_from_u64(1);
        let now = Instant::now();
        let fates: Vec<Fate> = (0..2000)
            .map(|_| state.decide(&rules, 1000, now, &mut rng))
            .collect();
        let Fate::Deliver { at, .. } = fates[999] else {
            panic!("{:?}", fates[999])
        };
        assert_eq!(at - now, Duration::from_millis(1000));
        assert!(
            fates.contains(&Fate::QueueFull),
            "a 1 MiB queue cannot take 2 MB at once"
        );
    }

    #[test]
    fn a_partition_drops_everything_and_corruption_is_counted() {
        let fates = run(
            LinkRules {
                partitioned: true,
                ..Default::default()
            },
            10,
        );
        assert!(fates.iter().all(|f| *f == Fate::Partitioned));
        let corrupt = run(
            LinkRules {
                corrupt: 0.1,
                ..Default::default()
            },
            10_000,
        )
        .iter()
        .filter(|f| matches!(f, Fate::Deliver { corrupt: true, .. }))
        .count();
        assert!((800..1200).contains(&corrupt), "{corrupt}");
    }
}
