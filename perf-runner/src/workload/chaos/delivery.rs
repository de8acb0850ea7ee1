//! Delivery: waiting for late deliveries, then the exactly-once reports of the messages
//! published during the faults and after the last recovery event, turned into metrics.

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use serde_json::json;

use crate::{
    cluster::{Cluster, node_api::Received},
    workload::{
        Values, WorkloadError,
        exactly_once::{self, Published},
    },
};

use super::probe::received_by_all;

/// How long after the stream every delivery may take to arrive.
const SETTLE: Duration = Duration::from_secs(10);

/// Every delivery once each expected message arrived, or once `SETTLE` has passed.
pub(super) async fn settle(
    cluster: &Cluster,
    published: &[Published],
    tag: &str,
    expected: impl Fn(usize, &Published) -> bool,
) -> Result<Vec<Vec<Received>>, WorkloadError> {
    let settle_until = Instant::now() + SETTLE;
    loop {
        let received = received_by_all(cluster).await?;
        let report = exactly_once::check(published, &received, tag, &expected);
        if report.lost.is_empty() || Instant::now() > settle_until {
            return Ok(received);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// When the windows of a chaos phase begin, unix ns.
pub(super) struct Windows {
    /// The first fault: the "during" window runs from it to the recovery start.
    pub first_fault_ns: Option<u64>,
    /// The last event the network had to recover from: the "after" window starts there.
    pub recovery_start_ns: Option<u64>,
    /// When the network had recovered.
    pub recovered_ns: Option<u64>,
}

/// The delivery ratios during the faults and after the recovery start, and the recovery
/// time; each window's report goes to `raw`.
pub(super) fn values(
    published: &[Published],
    received: &[Vec<Received>],
    windows: &Windows,
    tag: &str,
    expected: impl Fn(usize, &Published) -> bool,
    raw: &mut Vec<serde_json::Value>,
) -> Values {
    let mut values = Values::new();
    let window = |from: Option<u64>, to: Option<u64>| {
        window_report(published, received, from, to, tag, &expected)
    };
    let recovery_start = windows.recovery_start_ns;
    if let Some(first) = windows.first_fault_ns {
        let during = window(Some(first), recovery_start);
        if let Some(ratio) = during.delivery_ratio() {
            values.insert("fault_delivery_ratio_during", ratio);
        }
        raw.push(json!({"phase": "chaos", "window": "during", "report": during}));
    }
    if let Some(since) = recovery_start {
        let after = window(Some(since), None);
        if let Some(ratio) = after.delivery_ratio() {
            values.insert("fault_delivery_ratio_after", ratio);
        }
        raw.push(json!({"phase": "chaos", "window": "after", "report": after}));
        if let Some(done) = windows.recovered_ns {
            values.insert("recovery_time_ms", done.saturating_sub(since) as f64 / 1e6);
        }
    }
    values
}

/// The exactly-once report of the messages published in [from, to) (open ends: unbounded).
/// Deliveries of messages published outside the window belong to another window, not to
/// this one's "never published" findings.
fn window_report(
    published: &[Published],
    received: &[Vec<Received>],
    from: Option<u64>,
    to: Option<u64>,
    tag: &str,
    expected: impl Fn(usize, &Published) -> bool,
) -> exactly_once::Report {
    let chosen: Vec<Published> = published
        .iter()
        .filter(|p| {
            from.is_none_or(|f| p.published_ns >= f) && to.is_none_or(|t| p.published_ns < t)
        })
        .cloned()
        .collect();
    let ids: HashSet<&str> = chosen.iter().map(|p| p.id.as_str()).collect();
    let in_window: Vec<Vec<Received>> = received
        .iter()
        .map(|list| {
            list.iter()
                .filter(|r| ids.contains(r.id.as_str()))
                .cloned()
                .collect()
        })
        .collect();
    exactly_once::check(&chosen, &in_window, tag, expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_reports_only_its_own_messages() {
        let p = |m: usize, ns: u64| Published {
            id: format!("c-m{m}"),
            publisher: 0,
            publisher_peer: "p0".into(),
            seq: m as u64,
            published_ns: ns,
        };
        let r = |m: usize| Received {
            id: format!("c-m{m}"),
            publisher: "p0".into(),
            seq: m as u64,
            sent_ns: 0,
            received_ns: 0,
        };
        let published = vec![p(0, 100), p(1, 200), p(2, 300)];
        // Node 1 got m0 and m2 but lost m1; m2 came twice.
        let received = vec![vec![], vec![r(0), r(2), r(2)]];
        let during = window_report(&published, &received, Some(150), Some(250), "c", |_, _| {
            true
        });
        assert_eq!(during.expected, 1);
        assert_eq!(during.lost.len(), 1);
        assert_eq!(during.lost[0].id, "c-m1");
        assert!(
            during.mismatched.is_empty() && during.duplicated.is_empty(),
            "{during:?}"
        );
        let after = window_report(&published, &received, Some(250), None, "c", |_, _| true);
        assert_eq!((after.expected, after.exactly_once), (1, 0));
        assert_eq!(after.duplicated.len(), 1);
        assert!(after.mismatched.is_empty());
    }
}
