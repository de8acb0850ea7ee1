//! Calls to every node with a bound on how many are in flight.
//!
//! `try_join_all` over 1,000 nodes opens 1,000 connections at once: the runner's file
//! descriptors, and 1,000 nodes woken in the same instant on a 2-core machine. A bound keeps
//! the runner's cost flat as the network grows while staying far above what small clusters need.

use futures::{Future, StreamExt, TryStreamExt, stream};

/// Control API calls in flight at once across all nodes.
pub const CALLS_IN_FLIGHT: usize = 64;

/// Runs `calls` at most [`CALLS_IN_FLIGHT`] at a time; results in the calls' order, or the
/// first error (the calls still running are dropped, which cancels them).
pub async fn each_node<T, E, F>(calls: impl IntoIterator<Item = F>) -> Result<Vec<T>, E>
where
    F: Future<Output = Result<T, E>>,
{
    stream::iter(calls)
        .buffered(CALLS_IN_FLIGHT)
        .try_collect()
        .await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn keeps_order_and_bounds_the_calls_in_flight() {
        let in_flight = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let calls = (0..500).map(|i| {
            let (in_flight, most) = (&in_flight, &most);
            async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::task::yield_now().await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, ()>(i)
            }
        });
        let results = each_node(calls).await.unwrap();
        assert_eq!(results, (0..500).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), CALLS_IN_FLIGHT);
    }

    #[tokio::test]
    async fn the_first_error_is_returned() {
        let calls = (0..10).map(|i| async move { if i == 3 { Err(i) } else { Ok(i) } });
        assert_eq!(each_node(calls).await, Err(3));
    }
}
