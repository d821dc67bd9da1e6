//! Which offset may be committed when deliveries of one partition finish out of order.
//!
//! Workers process several deliveries at once; Kafka commits are a single "resume from here"
//! offset per partition. The committable offset is the lowest offset still in flight, or one past
//! the highest finished when nothing is in flight — never past an unfinished delivery.

use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Default)]
struct Partition {
    in_flight: BTreeSet<i64>,
    highest_done: Option<i64>,
    /// The first offset seen: where the group resumed, so committing it would be no progress.
    base: i64,
    committed: Option<i64>,
}

impl Partition {
    fn committable(&self) -> Option<i64> {
        match self.in_flight.first() {
            Some(lowest) => Some(*lowest),
            None => self.highest_done.map(|h| h + 1),
        }
    }
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct AckTracker {
    partitions: HashMap<(String, i32), Partition>,
}

impl AckTracker {
    /// A delivery at `offset` started processing.
    pub fn begin(&mut self, topic: &str, partition: i32, offset: i64) {
        let p = self
            .partitions
            .entry((topic.to_owned(), partition))
            .or_insert_with(|| Partition {
                base: offset,
                ..Partition::default()
            });
        p.in_flight.insert(offset);
    }

    /// The delivery at `offset` is done (stored). Returns the offset to commit if it advanced.
    pub fn complete(&mut self, topic: &str, partition: i32, offset: i64) -> Option<i64> {
        let p = self.partitions.get_mut(&(topic.to_owned(), partition))?;
        if !p.in_flight.remove(&offset) {
            return None;
        }
        p.highest_done = Some(p.highest_done.map_or(offset, |h| h.max(offset)));
        let next = p.committable()?;
        if next <= p.committed.unwrap_or(p.base) {
            return None;
        }
        p.committed = Some(next);
        Some(next)
    }

    /// Every partition's committed offset so far (for a final synchronous commit).
    pub fn committed(&self) -> Vec<(String, i32, i64)> {
        self.partitions
            .iter()
            .filter_map(|((t, p), s)| s.committed.map(|c| (t.clone(), *p, c)))
            .collect()
    }

    /// The partition was revoked (rebalance): forget it, so deliveries from it still finishing
    /// here commit nothing — the partition's new owner resumes from the last commit and
    /// idempotent processing absorbs the overlap. Returns the offset committed so far, if any.
    pub fn forget(&mut self, topic: &str, partition: i32) -> Option<i64> {
        self.partitions
            .remove(&(topic.to_owned(), partition))
            .and_then(|p| p.committed)
    }

    /// Deliveries still in flight.
    pub fn in_flight(&self) -> usize {
        self.partitions.values().map(|p| p.in_flight.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_completion_commits_each_step() {
        let mut t = AckTracker::default();
        for o in 0..3 {
            t.begin("t", 0, o);
        }
        assert_eq!(t.complete("t", 0, 0), Some(1));
        assert_eq!(t.complete("t", 0, 1), Some(2));
        assert_eq!(t.complete("t", 0, 2), Some(3));
        assert_eq!(t.in_flight(), 0);
    }

    #[test]
    fn out_of_order_never_commits_past_an_unfinished_delivery() {
        let mut t = AckTracker::default();
        for o in 10..14 {
            t.begin("t", 1, o);
        }
        assert_eq!(t.complete("t", 1, 12), None, "10 is still in flight");
        assert_eq!(t.complete("t", 1, 13), None);
        assert_eq!(t.complete("t", 1, 11), None);
        assert_eq!(
            t.complete("t", 1, 10),
            Some(14),
            "everything up to 13 is done"
        );
        assert_eq!(t.committed(), vec![("t".to_string(), 1, 14)]);
    }

    #[test]
    fn partial_progress_is_committed_up_to_the_lowest_in_flight() {
        let mut t = AckTracker::default();
        for o in 0..4 {
            t.begin("t", 0, o);
        }
        assert_eq!(t.complete("t", 0, 0), Some(1));
        assert_eq!(t.complete("t", 0, 2), None, "1 still in flight");
        assert_eq!(t.complete("t", 0, 1), Some(3), "3 still in flight");
        assert_eq!(t.complete("t", 0, 3), Some(4));
    }

    #[test]
    fn partitions_are_independent_and_unknown_offsets_ignored() {
        let mut t = AckTracker::default();
        t.begin("t", 0, 5);
        t.begin("t", 1, 7);
        assert_eq!(t.complete("t", 1, 7), Some(8));
        assert_eq!(t.complete("t", 0, 99), None);
        assert_eq!(t.complete("other", 0, 5), None);
        assert_eq!(t.complete("t", 0, 5), Some(6));
    }

    #[test]
    fn a_revoked_partition_commits_nothing_until_it_is_assigned_again() {
        let mut t = AckTracker::default();
        for o in 5..8 {
            t.begin("t", 0, o);
        }
        assert_eq!(t.complete("t", 0, 5), Some(6));
        assert_eq!(t.forget("t", 0), Some(6));
        assert_eq!(t.complete("t", 0, 6), None, "finished after the revoke");
        assert_eq!(t.complete("t", 0, 7), None);
        assert!(t.committed().is_empty());
        // Assigned again, resuming from the new owner's commit.
        t.begin("t", 0, 9);
        assert_eq!(t.complete("t", 0, 9), Some(10));
    }
}
