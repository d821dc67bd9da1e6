//! Detecting partitions of the consumer group that nobody consumes.
//!
//! A coordinator that loses members to session timeouts mid-rebalance can leave partitions
//! assigned to no live member (seen with the tansu broker: survivors get empty or partial
//! assignments and the group never rebalances again). Every worker therefore watches the whole
//! topic: when a partition it does not hold has messages waiting and its committed offset has not
//! moved for a window, while the worker's own partitions are fine (so this is not a global stall
//! such as the database being down), it rejoins the group, which forces a fresh rebalance. The
//! window doubles after each forced rejoin (up to [`MAX_WINDOW`]) so that a member that is merely
//! slow is not rebalanced over and over.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Longest wait between forced rejoins.
pub const MAX_WINDOW: Duration = Duration::from_secs(600);

/// One partition as seen at a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionProgress {
    pub partition: i32,
    /// Held by this worker.
    pub mine: bool,
    /// Messages after the group's committed offset.
    pub lag: i64,
    /// The group's committed offset (or the low watermark when nothing is committed).
    pub committed: i64,
}

/// See the module docs.
#[derive(Debug)]
pub struct StallWatch {
    window: Duration,
    initial: Duration,
    /// Per partition with messages waiting: since when its committed offset has been this value.
    unchanged_since: HashMap<i32, (Instant, i64)>,
}

impl StallWatch {
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            initial: window,
            unchanged_since: HashMap::new(),
        }
    }

    /// Record a check of every partition; returns the orphaned partitions when this worker
    /// should rejoin the group now (empty otherwise).
    pub fn observe(&mut self, now: Instant, partitions: &[PartitionProgress]) -> Vec<i32> {
        let mut stalled = Vec::new();
        let mut mine_stalled = false;
        let mut waiting = false;
        for p in partitions {
            if p.lag <= 0 {
                self.unchanged_since.remove(&p.partition);
                continue;
            }
            waiting = true;
            let entry = self
                .unchanged_since
                .entry(p.partition)
                .or_insert((now, p.committed));
            if entry.1 != p.committed {
                *entry = (now, p.committed);
            }
            if now.duration_since(entry.0) >= self.window {
                if p.mine {
                    mine_stalled = true;
                } else {
                    stalled.push(p.partition);
                }
            }
        }
        if !waiting {
            self.window = self.initial;
        }
        if stalled.is_empty() || mine_stalled {
            return Vec::new();
        }
        self.unchanged_since.clear();
        self.window = (self.window * 2).min(MAX_WINDOW);
        stalled.sort_unstable();
        stalled
    }

    /// The current window (grows after each forced rejoin).
    pub fn window(&self) -> Duration {
        self.window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(partition: i32, mine: bool, lag: i64, committed: i64) -> PartitionProgress {
        PartitionProgress {
            partition,
            mine,
            lag,
            committed,
        }
    }

    #[test]
    fn a_partition_nobody_consumes_triggers_a_rejoin_with_backoff() {
        let (t0, s) = (Instant::now(), Duration::from_secs);
        let mut w = StallWatch::new(s(30));
        let check = |mine_committed: i64| vec![p(0, true, 0, mine_committed), p(1, false, 7, 40)];
        assert!(w.observe(t0, &check(10)).is_empty());
        assert!(w.observe(t0 + s(20), &check(12)).is_empty());
        assert_eq!(
            w.observe(t0 + s(30), &check(14)),
            vec![1],
            "30 s with partition 1 stuck"
        );
        assert_eq!(w.window(), s(60), "the next rejoin waits longer");
        assert!(w.observe(t0 + s(40), &check(15)).is_empty());
        assert!(w.observe(t0 + s(90), &check(16)).is_empty());
        assert_eq!(w.observe(t0 + s(100), &check(17)), vec![1]);
    }

    #[test]
    fn progress_no_lag_or_a_global_stall_never_trigger() {
        let (t0, s) = (Instant::now(), Duration::from_secs);
        let mut w = StallWatch::new(s(30));
        // Another member consumes partition 1, slowly but steadily.
        for i in 0..10 {
            let at = t0 + s(10 * i);
            assert!(w.observe(at, &[p(1, false, 5, 100 + i as i64)]).is_empty());
        }
        // Nothing waits anywhere.
        for i in 0..10 {
            assert!(w
                .observe(t0 + s(100 + 10 * i), &[p(1, false, 0, 200)])
                .is_empty());
        }
        // Everything is stuck, this worker's partitions too (e.g. the database is down): rejoining
        // would not help.
        for i in 0..10 {
            let at = t0 + s(200 + 10 * i);
            let all = [p(0, true, 3, 50), p(1, false, 5, 200)];
            assert!(w.observe(at, &all).is_empty());
        }
    }

    #[test]
    fn an_idle_worker_rejoins_when_the_whole_topic_is_orphaned() {
        let (t0, s) = (Instant::now(), Duration::from_secs);
        let mut w = StallWatch::new(s(30));
        let all = [p(0, false, 3, 50), p(1, false, 5, 200), p(2, false, 0, 9)];
        assert!(w.observe(t0, &all).is_empty());
        assert_eq!(w.observe(t0 + s(30), &all), vec![0, 1]);
    }
}
