//! An append-only log whose indices stay stable when old entries are dropped: what
//! `GET /events?since=` and `GET /gossip/received?since=` page through.

use std::collections::VecDeque;

/// Keeps the newest `capacity` entries; entry `i` keeps index `i` forever.
#[derive(Debug)]
pub struct IndexedLog<T> {
    entries: VecDeque<T>,
    dropped: usize,
    capacity: usize,
}

impl<T: Clone> IndexedLog<T> {
    /// An empty log holding at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            dropped: 0,
            capacity: capacity.max(1),
        }
    }

    /// Appends, dropping the oldest entry when full.
    pub fn push(&mut self, entry: T) {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(entry);
    }

    /// Entries with index ≥ `since`, and the next index.
    pub fn since(&self, since: usize) -> (Vec<T>, usize) {
        let skip = since.saturating_sub(self.dropped);
        (
            self.entries.iter().skip(skip).cloned().collect(),
            self.dropped + self.entries.len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_survive_dropping() {
        let mut log = IndexedLog::new(3);
        for i in 0..5 {
            log.push(i);
        }
        assert_eq!(log.since(0), (vec![2, 3, 4], 5));
        assert_eq!(log.since(3), (vec![3, 4], 5));
        assert_eq!(log.since(5), (vec![], 5));
        assert_eq!(log.since(9), (vec![], 5));
    }
}
