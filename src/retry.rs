//! When to try a failed call again: exponential backoff with full jitter.
//!
//! Full jitter (a uniformly random wait up to the exponential bound) spreads the retries of
//! many clients apart instead of bunching them into the same instants.

use std::time::Duration;

/// How many times to try and how long to wait in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1). Default 3.
    pub max_attempts: u32,
    /// The bound of the wait before the second attempt; it doubles for each later one.
    /// Default 200 ms.
    pub base: Duration,
    /// The largest bound a wait can have. Default 5 s.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 3, base: Duration::from_millis(200), cap: Duration::from_secs(5) }
    }
}

impl RetryPolicy {
    /// No retries: one attempt.
    pub fn none() -> Self {
        RetryPolicy { max_attempts: 1, ..Self::default() }
    }

    /// The wait after failed attempt `attempt` (1-based), given a uniformly random `u64`; `None`
    /// after the last attempt, so nothing sleeps when no attempt follows.
    pub fn delay(&self, attempt: u32, random: u64) -> Option<Duration> {
        if attempt >= self.max_attempts.max(1) {
            return None;
        }
        let doublings = attempt.saturating_sub(1).min(20);
        let bound = self.base.saturating_mul(1 << doublings).min(self.cap);
        let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
        Some(Duration::from_nanos(match nanos.checked_add(1) {
            Some(span) => random % span,
            None => random,
        }))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_bounded_by_doubling_base_and_cap() {
        let p = RetryPolicy {
            max_attempts: 10,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(500),
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
    fn extreme_settings_do_not_overflow() {
        let huge = RetryPolicy { max_attempts: u32::MAX, base: Duration::MAX, cap: Duration::MAX };
        for attempt in [0, 1, 2, 64, u32::MAX - 1] {
            for r in [0, 7, u64::MAX] {
                assert!(huge.delay(attempt, r).is_some());
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
