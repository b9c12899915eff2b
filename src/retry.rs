//! When to try a failed call again: exponential backoff with full jitter, and a separate,
//! larger budget for throttling.
//!
//! Full jitter (a uniformly random wait up to the exponential bound) spreads the retries of
//! many clients apart instead of bunching them into the same instants. Throttling
//! (`RequestLimitExceeded`) is different: the API counts requests per account and action in a
//! one-second window that other jobs on the account share, so trying again before that window
//! has passed is pointless, and while other jobs keep it full, it takes longer. A throttled call
//! therefore always waits at least [`RetryPolicy::throttle_wait`], plus a random share of a
//! bound that doubles, and has its own budget of attempts.

use std::time::Duration;

use crate::error::Error;

/// How many times to try and how long to wait in between.
///
/// With the defaults, one call waits at most 0.6 s between attempts after transient failures,
/// and at most 64 s in all while throttled (9 waits of 1 s plus up to 1, 2, 4, then 8 s each);
/// on top of that come the attempts themselves, each bounded by the transport's timeouts, and
/// retrying stops once nothing has answered for [`RetryPolicy::give_up_after`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all after transient failures (network, HTTP 5xx, internal errors), the
    /// first included (at least 1). Default 3.
    pub max_attempts: u32,
    /// The bound of the wait before the second attempt; it doubles for each later one.
    /// Default 200 ms.
    pub base: Duration,
    /// The largest bound a wait can have: 5 s.
    pub(crate) cap: Duration,
    /// Throttled answers (`RequestLimitExceeded`) one call accepts before it gives up; they
    /// do not use up `max_attempts`. Default 10.
    pub max_throttled: u32,
    /// The least wait after a throttled answer: the API's one-second window. The wait after
    /// the n-th is this plus a random share of `throttle_wait × 2^(n-1)`, at most 8 ×
    /// `throttle_wait`. Default 1 s.
    pub throttle_wait: Duration,
    /// Stop retrying once no HTTP response at all has come for this long (an endpoint that
    /// accepts connections and never answers); the batch calls count this across requests.
    /// Default 60 s.
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(5),
            max_throttled: 10,
            throttle_wait: Duration::from_secs(1),
            give_up_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries: one attempt.
    #[cfg(test)]
    pub(crate) fn none() -> Self {
        RetryPolicy { max_attempts: 1, max_throttled: 1, ..Self::default() }
    }

    /// The default policy with `max_attempts` attempts after transient failures.
    #[cfg(test)]
    pub(crate) fn with_max_attempts(max_attempts: u32) -> Self {
        RetryPolicy { max_attempts, ..Self::default() }
    }

    /// The same policy with no waits at all: for tests against fakes.
    #[cfg(test)]
    pub(crate) fn without_waits(self) -> Self {
        RetryPolicy { base: Duration::ZERO, cap: Duration::ZERO, throttle_wait: Duration::ZERO, ..self }
    }

    /// The wait after failed attempt `attempt` (1-based), given a uniformly random `u64`; `None`
    /// after the last attempt, so nothing sleeps when no attempt follows.
    pub(crate) fn delay(&self, attempt: u32, random: u64) -> Option<Duration> {
        if attempt >= self.max_attempts.max(1) {
            return None;
        }
        let doublings = attempt.saturating_sub(1).min(20);
        let bound = self.base.saturating_mul(1 << doublings).min(self.cap);
        Some(jitter(bound, random))
    }

    /// The wait after the `throttled`-th throttled answer (1-based) of one call, given a
    /// uniformly random `u64`; `None` once [`RetryPolicy::max_throttled`] is spent.
    pub(crate) fn throttle_delay(&self, throttled: u32, random: u64) -> Option<Duration> {
        if throttled >= self.max_throttled.max(1) {
            return None;
        }
        let doublings = throttled.saturating_sub(1).min(3);
        let bound = self.throttle_wait.saturating_mul(1 << doublings);
        Some(self.throttle_wait.saturating_add(jitter(bound, random)))
    }
}

/// A uniformly random duration from zero to `bound`, both included.
fn jitter(bound: Duration, random: u64) -> Duration {
    let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(match nanos.checked_add(1) {
        Some(span) => random % span,
        None => random,
    })
}

/// A uniformly random `u64` from the system's secure generator (falling back to the clock,
/// which is plenty for jitter).
pub(crate) fn random_u64() -> u64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        return nanos.subsec_nanos() as u64;
    }
    u64::from_le_bytes(bytes)
}

/// The outcome of a call that may have been attempted several times.
#[derive(Debug)]
pub(crate) struct Attempted<T> {
    /// The last attempt's result.
    pub(crate) result: Result<T, Error>,
    /// The RequestIds of the earlier attempts' API answers, so none is lost.
    pub(crate) request_ids: Vec<String>,
    /// Whether a failed attempt may still have taken effect on the server (a timeout, a broken
    /// connection, a 5xx or an internal error after the request went out).
    pub(crate) may_have_taken_effect: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_bounded_by_doubling_base_and_cap() {
        let p = RetryPolicy {
            max_attempts: 10,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(500),
            ..RetryPolicy::default()
        };
        let max = u64::MAX;
        assert_eq!(p.delay(1, 100_000_000), Some(Duration::from_millis(100)));
        assert_eq!(p.delay(2, 200_000_000), Some(Duration::from_millis(200)));
        assert_eq!(p.delay(3, 400_000_000), Some(Duration::from_millis(400)));
        assert_eq!(p.delay(4, 500_000_000), Some(Duration::from_millis(500)), "capped");
        for attempt in 1..10 {
            for r in [0, 1, 12_345_678_901, max] {
                assert!(p.delay(attempt, r).unwrap() <= Duration::from_millis(500));
            }
        }
        assert_eq!(p.delay(1, 0), Some(Duration::ZERO), "full jitter reaches zero");
    }

    #[test]
    fn throttled_waits_last_at_least_the_window_and_grow_to_eight_times_it() {
        let p = RetryPolicy::default();
        let second = Duration::from_secs(1);
        for n in 1..10 {
            assert_eq!(p.throttle_delay(n, 0), Some(second), "never shorter than the window");
        }
        // A random value equal to the bound draws the whole bound.
        let longest = |n: u32| p.throttle_delay(n, 1_000_000_000 << (n - 1).min(3));
        assert_eq!(longest(1), Some(second * 2), "1 s plus up to 1 s");
        assert_eq!(longest(2), Some(second * 3));
        assert_eq!(longest(3), Some(second * 5));
        assert_eq!(longest(4), Some(second * 9));
        assert_eq!(longest(9), Some(second * 9), "the bound stops doubling at 8 s");
        assert_eq!(p.throttle_delay(10, 5), None, "ten throttled answers, then it gives up");
        let worst: Duration = (1..10).map(longest).map(Option::unwrap).sum();
        assert_eq!(worst, second * 64, "the documented worst case");
        assert!(p.max_throttled > p.max_attempts, "throttling has the larger budget");
    }

    #[test]
    fn extreme_settings_do_not_overflow() {
        let huge = RetryPolicy {
            max_attempts: u32::MAX,
            base: Duration::MAX,
            cap: Duration::MAX,
            max_throttled: u32::MAX,
            throttle_wait: Duration::MAX,
            give_up_after: Duration::MAX,
        };
        for attempt in [0, 1, 2, 64, u32::MAX - 1] {
            for r in [0, 7, u64::MAX] {
                assert!(huge.delay(attempt, r).is_some());
                assert!(huge.throttle_delay(attempt, r).is_some());
            }
        }
        assert_eq!(RetryPolicy::default().delay(0, 5), Some(Duration::from_nanos(5)));
    }

    #[test]
    fn no_wait_after_the_last_attempt() {
        let p = RetryPolicy::default();
        assert!(p.delay(2, 7).is_some());
        assert_eq!(p.delay(3, 7), None);
        assert_eq!(RetryPolicy::none().delay(1, 7), None);
        assert_eq!(RetryPolicy { max_attempts: 0, ..p }.delay(1, 7), None);
    }

    #[test]
    fn random_values_vary() {
        let draws: std::collections::HashSet<u64> = (0..8).map(|_| random_u64()).collect();
        assert!(draws.len() > 1);
    }
}
