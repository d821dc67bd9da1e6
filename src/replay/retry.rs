//! Retry decisions for failed replays: which failures to retry, how long to wait, and the
//! provider's own "retry after" hints.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

use crate::domain::ErrorClass;

/// How failed replays are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub max_attempts: u32,
    /// Backoff before the second attempt (before jitter); doubles for each further attempt.
    pub base: Duration,
    /// Upper bound of the backoff (before jitter).
    pub cap: Duration,
    /// Longest provider hint worth waiting for; beyond it the replay gives up.
    pub max_hint: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            max_hint: Duration::from_secs(120),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Try again after this long.
    Retry(Duration),
    /// Record the failure.
    GiveUp,
}

/// Failures that may go away by themselves.
fn retryable(class: ErrorClass) -> bool {
    matches!(
        class,
        ErrorClass::RateLimited
            | ErrorClass::ServerError
            | ErrorClass::Timeout
            | ErrorClass::Connection
    )
}

impl RetryPolicy {
    /// After attempt number `attempt` (1-based) failed with `class`: retry (after how long) or give up.
    ///
    /// Only rate_limited, server_error, timeout and connection are retried. Exponential backoff
    /// with full jitter: wait = rand01 * min(cap, base * 2^(attempt-1)). When the provider gave a
    /// hint (Retry-After etc.) wait exactly the hint plus up to 10% jitter instead; a hint longer
    /// than `max_hint` means give up (the candidate is paced by the rate limiter's pause instead).
    /// `rand01` outside [0, 1] is clamped (NaN counts as 0).
    pub fn decide(
        &self,
        attempt: u32,
        class: ErrorClass,
        hint: Option<Duration>,
        rand01: f64,
    ) -> Decision {
        if !retryable(class) || attempt >= self.max_attempts {
            return Decision::GiveUp;
        }
        let r = if rand01.is_nan() {
            0.0
        } else {
            rand01.clamp(0.0, 1.0)
        };
        match hint {
            Some(h) if h > self.max_hint => Decision::GiveUp,
            Some(h) => Decision::Retry(h.mul_f64(1.0 + 0.1 * r)),
            None => {
                let factor = 1u32
                    .checked_shl(attempt.saturating_sub(1))
                    .unwrap_or(u32::MAX);
                let ceiling = self.base.saturating_mul(factor).min(self.cap);
                Decision::Retry(ceiling.mul_f64(r))
            }
        }
    }
}

/// The provider's "when to retry" hint from response headers: `retry-after-ms`, `retry-after`
/// (seconds, possibly fractional, or an HTTP-date relative to `now`; past dates give zero),
/// `x-ratelimit-reset-requests` / `x-ratelimit-reset-tokens` in OpenAI's duration format; takes
/// the largest valid one; None if none.
pub fn retry_hint(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let values = |name: &'static str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::trim)
    };
    let millis = values("retry-after-ms").filter_map(|v| seconds(v, 1000.0));
    let after = values("retry-after").filter_map(|v| seconds(v, 1.0).or_else(|| until(v, now)));
    let resets = values("x-ratelimit-reset-requests")
        .chain(values("x-ratelimit-reset-tokens"))
        .filter_map(parse_reset_duration);
    millis.chain(after).chain(resets).max()
}

/// A non-negative decimal number of `per_second` units.
fn seconds(v: &str, per_second: f64) -> Option<Duration> {
    let n: f64 = v.parse().ok()?;
    Duration::try_from_secs_f64(n / per_second).ok()
}

/// Time from `now` to an HTTP-date (IMF-fixdate, as RFC 2822 reads it); zero if it is past.
fn until(v: &str, now: SystemTime) -> Option<Duration> {
    let at = SystemTime::from(chrono::DateTime::parse_from_rfc2822(v).ok()?);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parse OpenAI's duration format.
///
/// A sequence of decimal numbers, each followed by a unit (`h`, `m`, `s`, `ms`, `us`/`µs`,
/// `ns`), as in "1s", "6m0s", "20ms", "1h2m3.5s"; a bare "0" is zero. Anything else is None.
pub fn parse_reset_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = s;
    let mut total = 0.0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(number_end);
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_end);
        let value: f64 = number.parse().ok()?;
        let scale = match unit {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += value * scale;
        rest = tail;
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderName, HeaderValue};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn retried(d: Decision) -> Duration {
        match d {
            Decision::Retry(w) => w,
            Decision::GiveUp => panic!("expected a retry"),
        }
    }

    #[test]
    fn default_policy() {
        let p = RetryPolicy::default();
        assert_eq!(
            (p.max_attempts, p.base, p.cap, p.max_hint),
            (4, ms(500), secs(30), secs(120))
        );
    }

    #[test]
    fn only_transient_failures_are_retried() {
        let p = RetryPolicy::default();
        for class in ErrorClass::ALL {
            let transient = matches!(
                class,
                ErrorClass::RateLimited
                    | ErrorClass::ServerError
                    | ErrorClass::Timeout
                    | ErrorClass::Connection
            );
            for hint in [None, Some(secs(1))] {
                let d = p.decide(1, class, hint, 0.5);
                assert_eq!(
                    matches!(d, Decision::Retry(_)),
                    transient,
                    "{class} {hint:?}"
                );
            }
        }
    }

    #[test]
    fn gives_up_after_the_last_attempt() {
        let p = RetryPolicy::default();
        let c = ErrorClass::ServerError;
        assert!(matches!(p.decide(3, c, None, 1.0), Decision::Retry(_)));
        assert_eq!(p.decide(4, c, None, 1.0), Decision::GiveUp);
        assert_eq!(p.decide(5, c, Some(ms(1)), 1.0), Decision::GiveUp);
        let once = RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        };
        assert_eq!(once.decide(1, c, None, 1.0), Decision::GiveUp);
    }

    #[test]
    fn full_jitter_bounds() {
        let p = RetryPolicy {
            max_attempts: 100,
            ..RetryPolicy::default()
        };
        let c = ErrorClass::Timeout;
        let ceilings = [
            (1, ms(500)),
            (2, secs(1)),
            (3, secs(2)),
            (7, secs(30)), // 32 s capped
            (33, secs(30)),
            (99, secs(30)),
        ];
        for (attempt, ceiling) in ceilings {
            assert_eq!(retried(p.decide(attempt, c, None, 0.0)), Duration::ZERO);
            assert_eq!(
                retried(p.decide(attempt, c, None, 1.0)),
                ceiling,
                "{attempt}"
            );
            assert_eq!(retried(p.decide(attempt, c, None, 0.5)), ceiling / 2);
        }
        // Out-of-range randomness is clamped.
        assert_eq!(retried(p.decide(1, c, None, 7.0)), ms(500));
        assert_eq!(retried(p.decide(1, c, None, -1.0)), Duration::ZERO);
        assert_eq!(retried(p.decide(1, c, None, f64::NAN)), Duration::ZERO);
    }

    #[test]
    fn hints_are_honoured_within_max_hint() {
        let p = RetryPolicy::default();
        let c = ErrorClass::RateLimited;
        assert_eq!(retried(p.decide(1, c, Some(secs(2)), 0.0)), secs(2));
        assert_eq!(retried(p.decide(1, c, Some(secs(2)), 1.0)), ms(2200));
        assert_eq!(
            retried(p.decide(1, c, Some(Duration::ZERO), 1.0)),
            Duration::ZERO
        );
        // Longer than the backoff cap but within max_hint: still honoured.
        assert_eq!(retried(p.decide(2, c, Some(secs(60)), 0.0)), secs(60));
        assert_eq!(retried(p.decide(1, c, Some(secs(120)), 0.0)), secs(120));
        assert_eq!(p.decide(1, c, Some(ms(120_001)), 0.0), Decision::GiveUp);
        assert_eq!(p.decide(1, c, Some(secs(3600)), 0.0), Decision::GiveUp);
    }

    #[test]
    fn no_retry_storm() {
        for p in [
            RetryPolicy::default(),
            RetryPolicy {
                max_attempts: 12,
                base: ms(100),
                cap: secs(5),
                max_hint: secs(10),
            },
        ] {
            let c = ErrorClass::Connection;
            let waits: Vec<Duration> = (1..=p.max_attempts)
                .map_while(|a| match p.decide(a, c, None, 1.0) {
                    Decision::Retry(w) => Some(w),
                    Decision::GiveUp => None,
                })
                .collect();
            assert_eq!(waits.len() as u32, p.max_attempts - 1);
            let total: Duration = waits.iter().sum();
            let cap_sum: Duration = (0..p.max_attempts - 1)
                .map(|i| p.base.saturating_mul(1 << i).min(p.cap))
                .sum();
            assert!(total <= cap_sum && cap_sum <= p.cap * (p.max_attempts - 1));
            // With hints, at most max_hint plus jitter per retry.
            let hinted: Duration = (1..=p.max_attempts)
                .filter_map(|a| match p.decide(a, c, Some(p.max_hint), 1.0) {
                    Decision::Retry(w) => Some(w),
                    Decision::GiveUp => None,
                })
                .sum();
            assert!(hinted <= p.max_hint.mul_f64(1.1) * (p.max_attempts - 1));
        }
    }

    #[test]
    fn parses_openai_reset_durations() {
        let good = [
            ("1s", ms(1000)),
            ("6m0s", secs(360)),
            ("20ms", ms(20)),
            ("1h2m3.5s", ms(3_723_500)),
            ("0.5s", ms(500)),
            ("1m30s", secs(90)),
            ("0", Duration::ZERO),
            (" 2s ", secs(2)),
            ("1500us", Duration::from_micros(1500)),
        ];
        for (s, want) in good {
            assert_eq!(parse_reset_duration(s), Some(want), "{s:?}");
        }
        for bad in [
            "", "s", "1", "1x", "abc", "-1s", "1.2.3s", "1s2", "ms", "1 s", "infs",
        ] {
            assert_eq!(parse_reset_duration(bad), None, "{bad:?}");
        }
    }

    /// Header (name, raw value) pairs.
    type Headers = &'static [(&'static str, &'static [u8])];

    #[test]
    fn hints_from_headers() {
        // Wed, 21 Oct 2015 07:28:00 GMT
        let date = SystemTime::UNIX_EPOCH + secs(1_445_412_480);
        let now = date - secs(30);
        let cases: &[(Headers, Option<Duration>)] = &[
            (&[], None),
            (&[("retry-after-ms", b"1500")], Some(ms(1500))),
            (
                &[("retry-after-ms", b"12.5")],
                Some(Duration::from_micros(12_500)),
            ),
            (&[("retry-after", b"20")], Some(secs(20))),
            (&[("retry-after", b" 0.5 ")], Some(ms(500))),
            (
                &[("retry-after", b"Wed, 21 Oct 2015 07:28:00 GMT")],
                Some(secs(30)),
            ),
            (
                &[("retry-after", b"Wed, 21 Oct 2015 07:27:00 GMT")],
                Some(Duration::ZERO),
            ),
            (&[("x-ratelimit-reset-requests", b"6m0s")], Some(secs(360))),
            (&[("x-ratelimit-reset-tokens", b"20ms")], Some(ms(20))),
            (
                &[
                    ("retry-after", b"2"),
                    ("retry-after-ms", b"2500"),
                    ("x-ratelimit-reset-requests", b"1s"),
                    ("x-ratelimit-reset-tokens", b"0.5s"),
                ],
                Some(ms(2500)),
            ),
            (
                &[
                    ("retry-after", b"soon"),
                    ("retry-after-ms", b"-5"),
                    ("x-ratelimit-reset-requests", b"forever"),
                    ("x-ratelimit-reset-tokens", b"\xff\xfe"),
                ],
                None,
            ),
            (&[("retry-after", b"inf"), ("retry-after-ms", b"NaN")], None),
            (&[("retry-after", b"1e400")], None),
            (
                &[
                    ("retry-after", b"soon"),
                    ("x-ratelimit-reset-tokens", b"3s"),
                ],
                Some(secs(3)),
            ),
            (&[("x-unrelated", b"5")], None),
        ];
        for (headers, want) in cases {
            let mut map = HeaderMap::new();
            for (name, value) in headers.iter() {
                map.append(
                    HeaderName::from_static(name),
                    HeaderValue::from_bytes(value).expect("valid header bytes"),
                );
            }
            assert_eq!(retry_hint(&map, now), *want, "{headers:?}");
        }
    }
}
