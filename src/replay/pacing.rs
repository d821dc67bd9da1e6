//! Pacing replays to one candidate: smooth request and token rate limits, shared by concurrent tasks.
//!
//! Each limit is a GCRA (generic cell rate algorithm): a limit of R units per minute costs every
//! unit an *emission interval* of 60/R s, and a *theoretical arrival time* (TAT) records when the
//! account would be empty again. A request of k units may go once `TAT - now <= (burst - k) *
//! interval`, so after an idle period `burst` units pass at once and after that requests leave
//! one interval apart — never a whole minute's quota in one go. Sending moves the TAT forward by
//! k intervals. Requests (rpm) and estimated tokens (tpm) are two independent limits; a request
//! waits for both, and a rate of 0 means unlimited.
//!
//! Callers *reserve*: the slot is taken at once and the caller is told how long to wait, so
//! concurrent callers queue in call order and the total rate holds. A reservation is not given
//! back if the caller is cancelled while waiting (the slot is simply lost).
//!
//! A request estimated at more tokens than the token burst could never conform; it is let
//! through as soon as the token account is empty, and the TAT moves forward by its full cost, so
//! the requests after it wait for the excess instead.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Seconds as a `Duration`; values that do not fit saturate.
fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::MAX)
}

/// One GCRA limit.
#[derive(Debug, Clone)]
struct Gcra {
    /// Seconds one unit is worth: 60 / rate per minute.
    interval: f64,
    /// Units that may pass at once after an idle period.
    burst: f64,
    /// Theoretical arrival time; `None` until first used (the account is empty).
    tat: Option<Instant>,
}

impl Gcra {
    /// A limit of `per_minute` units (None when 0: unlimited); bursts below 1 (or NaN) count as 1.
    fn new(per_minute: u32, burst: f64) -> Option<Self> {
        (per_minute > 0).then(|| Self {
            interval: 60.0 / f64::from(per_minute),
            burst: if burst >= 1.0 { burst } else { 1.0 },
            tat: None,
        })
    }

    /// The earliest instant (not before `now`) at which `units` conform. Oversize requests
    /// conform once the account is empty.
    fn earliest(&self, now: Instant, units: f64) -> Instant {
        let Some(tat) = self.tat else { return now };
        let slack = (self.burst - units.min(self.burst)) * self.interval;
        tat.checked_sub(secs(slack)).map_or(now, |t| t.max(now))
    }

    /// Charge `units` sent at `at`.
    fn consume(&mut self, at: Instant, units: f64) {
        let base = self.tat.map_or(at, |t| t.max(at));
        self.tat = Some(base + secs(units * self.interval));
    }

    /// Correct the account by `units` (negative: give back, but never credit time before `now`).
    fn adjust(&mut self, now: Instant, units: f64) {
        if units >= 0.0 {
            self.tat = Some(self.tat.unwrap_or(now) + secs(units * self.interval));
        } else if let Some(tat) = self.tat.filter(|&t| t > now) {
            let back = tat.checked_sub(secs(-units * self.interval));
            self.tat = Some(back.map_or(now, |t| t.max(now)));
        }
    }
}

#[derive(Debug)]
struct State {
    requests: Option<Gcra>,
    tokens: Option<Gcra>,
    paused_until: Option<Instant>,
}

/// Request and token rate limits for one candidate, shared by the tasks replaying to it.
#[derive(Debug)]
pub struct RateLimiter {
    state: Mutex<State>,
}

/// The default burst: one second's worth of `per_minute`, at least 1.
fn default_burst(per_minute: u32) -> f64 {
    (f64::from(per_minute) / 60.0).max(1.0)
}

impl RateLimiter {
    /// Limits of `rpm` requests and `tpm` tokens per minute (0: unlimited), one second's burst.
    pub fn new(rpm: u32, tpm: u32) -> Self {
        Self::with_burst(rpm, tpm, default_burst(rpm), default_burst(tpm))
    }

    /// Limits with explicit burst tolerances (in requests and tokens; values below 1 count as 1).
    pub fn with_burst(rpm: u32, tpm: u32, request_burst: f64, token_burst: f64) -> Self {
        Self {
            state: Mutex::new(State {
                requests: Gcra::new(rpm, request_burst),
                tokens: Gcra::new(tpm, token_burst),
                paused_until: None,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is consistent after every statement, so a panic elsewhere cannot corrupt it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reserve one request estimated at `tokens`; returns how long the caller must wait before sending.
    pub fn reserve(&self, now: Instant, tokens: u32) -> Duration {
        let mut s = self.state();
        let tokens = f64::from(tokens);
        let mut at = s.paused_until.map_or(now, |p| p.max(now));
        if let Some(r) = &s.requests {
            at = at.max(r.earliest(now, 1.0));
        }
        if let Some(t) = &s.tokens {
            at = at.max(t.earliest(now, tokens));
        }
        if let Some(r) = &mut s.requests {
            r.consume(at, 1.0);
        }
        if let Some(t) = &mut s.tokens {
            t.consume(at, tokens);
        }
        at - now
    }

    /// After the response: correct the token account by (actual - estimated) tokens (may give tokens back, never below what `now` allows).
    pub fn settle(&self, now: Instant, estimated: u32, actual: u32) {
        if let Some(t) = &mut self.state().tokens {
            t.adjust(now, f64::from(actual) - f64::from(estimated));
        }
    }

    /// The provider said to back off (429 with Retry-After): nothing is sent before `until`.
    pub fn pause_until(&self, until: Instant) {
        let mut s = self.state();
        s.paused_until = Some(s.paused_until.map_or(until, |p| p.max(until)));
    }

    /// Convenience for async callers: reserve, then tokio::time::sleep for the wait. Returns the wait.
    ///
    /// Reads the clock through tokio, so tests with a paused runtime clock see consistent time.
    pub async fn acquire(&self, tokens: u32) -> Duration {
        let wait = self.reserve(tokio::time::Instant::now().into_std(), tokens);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: f64) -> Duration {
        Duration::from_secs_f64(x)
    }

    fn assert_close(got: Duration, want: f64) {
        let got = got.as_secs_f64();
        assert!(
            (got - want).abs() < 1e-6,
            "waited {got} s, expected {want} s"
        );
    }

    /// `clients` tasks reserve, send at now + wait, get an answer a little later and go again,
    /// until `until` simulated seconds. Returns the send times (seconds since start), sorted.
    fn simulate(limiter: &RateLimiter, tokens: u32, clients: usize, until: f64) -> Vec<f64> {
        let t0 = Instant::now();
        let mut next: Vec<f64> = (0..clients).map(|i| i as f64 * 0.001).collect();
        let mut sends = Vec::new();
        loop {
            let (i, t) = next
                .iter()
                .copied()
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .expect("at least one client");
            if t >= until {
                break;
            }
            let sent = t + limiter.reserve(t0 + s(t), tokens).as_secs_f64();
            sends.push(sent);
            next[i] = sent + 0.05 + (i % 7) as f64 * 0.013;
        }
        sends.sort_by(f64::total_cmp);
        sends
    }

    /// Sends per minute over the steady-state minute [15 s, 75 s), from first to last send in it.
    fn steady_rate(sends: &[f64]) -> f64 {
        let w: Vec<f64> = sends
            .iter()
            .copied()
            .filter(|t| (15.0..75.0).contains(t))
            .collect();
        assert!(w.len() >= 2, "too few sends in the window: {}", w.len());
        (w.len() - 1) as f64 * 60.0 / (w[w.len() - 1] - w[0])
    }

    fn assert_rate(limiter: RateLimiter, tokens: u32, per_minute: f64, burst: f64) {
        let sends = simulate(&limiter, tokens, 16, 90.0);
        let rate = steady_rate(&sends);
        assert!(
            (rate - per_minute).abs() <= per_minute * 0.01,
            "rate {rate}/min, limit {per_minute}/min"
        );
        // Over the first minute, the initial burst is the only excess.
        let first_minute = sends.iter().filter(|&&t| t < 60.0).count() as f64;
        assert!(
            first_minute <= per_minute + burst,
            "{first_minute} sends in the first minute"
        );
    }

    #[test]
    fn simultaneous_reservations_spread_over_the_minute() {
        let limiter = RateLimiter::new(600, 0);
        let t0 = Instant::now();
        let waits: Vec<Duration> = (0..600).map(|_| limiter.reserve(t0, 1)).collect();
        // Default burst: one second's worth (10) at once, then one every 100 ms.
        assert!(waits[..10].iter().all(|w| w.is_zero()));
        for pair in waits[9..].windows(2) {
            assert_close(pair[1] - pair[0], 0.1);
        }
        let last = waits[599].as_secs_f64();
        assert!((59.0..=60.0).contains(&last), "last waits {last} s");
    }

    #[test]
    fn request_rate_holds_under_pressure() {
        assert_rate(RateLimiter::new(600, 0), 100, 600.0, 10.0);
    }

    #[test]
    fn token_rate_holds_under_pressure() {
        // 60k tokens per minute with 1000-token requests: 60 requests per minute.
        assert_rate(RateLimiter::new(0, 60_000), 1000, 60.0, 1.0);
    }

    #[test]
    fn the_tighter_limit_wins() {
        assert_rate(RateLimiter::new(600, 60_000), 1000, 60.0, 1.0);
        assert_rate(RateLimiter::new(30, 600_000), 1000, 30.0, 1.0);
    }

    #[test]
    fn burst_passes_at_once_after_idle() {
        let limiter = RateLimiter::with_burst(60, 0, 5.0, 0.0);
        let t0 = Instant::now();
        for start in [t0, t0 + s(30.0)] {
            for _ in 0..5 {
                assert!(limiter.reserve(start, 1).is_zero());
            }
            assert_close(limiter.reserve(start, 1), 1.0);
        }
    }

    #[test]
    fn settle_gives_back_and_charges_tokens() {
        let t0 = Instant::now();
        let reserve_twice = |estimated, actual| {
            let limiter = RateLimiter::new(0, 60_000); // 1 ms per token, burst 1000
            assert!(limiter.reserve(t0, estimated).is_zero());
            if let Some(actual) = actual {
                limiter.settle(t0 + s(0.1), estimated, actual);
            }
            limiter.reserve(t0 + s(0.1), 1000)
        };
        assert_close(reserve_twice(1000, None), 0.9);
        assert_close(reserve_twice(1000, Some(300)), 0.2);
        assert_close(reserve_twice(1000, Some(3000)), 2.9);
        // Giving back never credits time that has already passed.
        assert!(reserve_twice(1000, Some(0)).is_zero());
        let limiter = RateLimiter::new(0, 60_000);
        limiter.reserve(t0, 1000);
        limiter.settle(t0 + s(5.0), 1000, 0);
        limiter.reserve(t0 + s(5.0), 1000);
        assert_close(limiter.reserve(t0 + s(5.0), 1000), 1.0);
    }

    #[test]
    fn pause_delays_every_reservation() {
        let limiter = RateLimiter::new(600, 0);
        let t0 = Instant::now();
        limiter.pause_until(t0 + s(5.0));
        limiter.pause_until(t0 + s(2.0)); // an earlier pause does not shorten it
        assert_close(limiter.reserve(t0, 1), 5.0);
        assert_close(limiter.reserve(t0 + s(1.0), 1), 4.0);
        assert_close(limiter.reserve(t0 + s(4.5), 1), 0.5);
        assert!(limiter.reserve(t0 + s(10.0), 1).is_zero());

        let unlimited = RateLimiter::new(0, 0);
        unlimited.pause_until(t0 + s(3.0));
        assert_close(unlimited.reserve(t0 + s(1.0), 10), 2.0);
        assert!(unlimited.reserve(t0 + s(3.0), 10).is_zero());
    }

    #[test]
    fn unlimited_never_waits() {
        let limiter = RateLimiter::new(0, 0);
        let t0 = Instant::now();
        for _ in 0..10_000 {
            assert!(limiter.reserve(t0, u32::MAX).is_zero());
        }
        limiter.settle(t0, 0, u32::MAX);
        assert!(limiter.reserve(t0, 1).is_zero());
    }

    #[test]
    fn oversize_request_passes_and_delays_the_next() {
        let limiter = RateLimiter::new(0, 60_000); // burst 1000 tokens
        let t0 = Instant::now();
        assert!(limiter.reserve(t0, 5000).is_zero());
        // The next waits until the excess has drained: 5 s of tokens minus its own 900 ms of slack.
        assert_close(limiter.reserve(t0, 100), 4.1);

        // When the account is not empty, an oversize request waits until it is.
        let limiter = RateLimiter::new(0, 60_000);
        assert!(limiter.reserve(t0, 1000).is_zero());
        assert_close(limiter.reserve(t0, 5000), 1.0);
        assert_close(limiter.reserve(t0, 1000), 6.0);
    }

    #[test]
    fn send_times_never_go_backwards() {
        let limiter = RateLimiter::new(120, 30_000);
        let t0 = Instant::now();
        let mut last = t0;
        for i in 0..500u32 {
            let now = t0 + s(f64::from(i) * 0.05);
            let at = now + limiter.reserve(now, (i * 7919) % 1400);
            assert!(at >= last, "call {i} scheduled before the previous one");
            last = at;
        }
    }

    #[test]
    fn bursts_below_one_count_as_one() {
        let limiter = RateLimiter::with_burst(60, 0, 0.0, f64::NAN);
        let t0 = Instant::now();
        assert!(limiter.reserve(t0, 1).is_zero());
        assert_close(limiter.reserve(t0, 1), 1.0);
        assert_close(limiter.reserve(t0, 1), 2.0);
    }

    #[tokio::test(start_paused = true)]
    async fn acquire_sleeps_for_the_wait() {
        let limiter = RateLimiter::with_burst(60, 0, 1.0, 1.0);
        let start = tokio::time::Instant::now();
        assert!(limiter.acquire(0).await.is_zero());
        assert_eq!(limiter.acquire(0).await, Duration::from_secs(1));
        assert!(start.elapsed() >= Duration::from_secs(1));
    }
}
