//! Injected faults and the per-action rate limit, both deterministic.
//!
//! Whether a request meets a fault is a pure function of the fault seed and the request's
//! sequence number ([`decide`]), so a run with the same seed and the same order of requests
//! meets the same faults. The rate limiter admits at most N requests of one action in any
//! sliding one-second window; rejected requests are not recorded, so a client that backs off
//! is not punished for the attempts it lost.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// What happens to one request before (or instead of) its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answered normally.
    None,
    /// Answered with HTTP 500 and an HTML body; nothing is applied.
    Http500,
    /// The connection is closed without a reply; nothing is applied.
    DropBefore,
    /// The request is applied (keys deleted), then the connection is closed without a reply.
    DropAfter,
}

/// The fault rates: shares of all requests, each from 0 to 1, together at most 1.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FaultRates {
    /// The share of requests answered with HTTP 500.
    pub fail: f64,
    /// The share of requests whose connection is closed without a reply. For `DeleteKeyPairs`
    /// half of those are closed after the deletion was applied.
    pub drop: f64,
}

/// The fault for request number `seq` (from 0) under `seed`; `mutating` says whether the
/// request changes state, the only case where a drop can come after applying it.
pub fn decide(seed: u64, seq: u64, rates: FaultRates, mutating: bool) -> Fault {
    let mut rng = SplitMix64::new(seed ^ seq.wrapping_mul(0xD1B5_4A32_D192_ED03));
    // One draw splits [0, 1) into fail, drop and normal, so each rate is its share of all requests.
    let (draw, after) = (rng.next_f64(), rng.next_u64() & 1 == 1);
    if draw < rates.fail {
        Fault::Http500
    } else if draw < rates.fail + rates.drop {
        if mutating && after {
            Fault::DropAfter
        } else {
            Fault::DropBefore
        }
    } else {
        Fault::None
    }
}

/// SplitMix64: a tiny, fast, well-mixed generator; plenty for fault injection and request ids.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// At most `limit` admitted requests per action in any sliding one-second window.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: usize,
    window: Duration,
    admitted: HashMap<String, VecDeque<Instant>>,
}

impl RateLimiter {
    /// `limit` 0 admits everything.
    pub(crate) fn new(limit: u32) -> Self {
        RateLimiter { limit: limit as usize, window: Duration::from_secs(1), admitted: HashMap::new() }
    }

    /// Admits (and records) a request of `action` arriving at `now`, or refuses it.
    pub(crate) fn admit(&mut self, action: &str, now: Instant) -> bool {
        if self.limit == 0 {
            return true;
        }
        let times = self.admitted.entry(action.to_owned()).or_default();
        while times.front().is_some_and(|&t| now.saturating_duration_since(t) >= self.window) {
            times.pop_front();
        }
        if times.len() >= self.limit {
            return false;
        }
        times.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATES: FaultRates = FaultRates { fail: 0.2, drop: 0.1 };

    #[test]
    fn same_seed_and_sequence_give_the_same_faults() {
        let run = |seed| (0..500).map(|n| decide(seed, n, RATES, true)).collect::<Vec<_>>();
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }

    #[test]
    fn fault_shares_follow_the_rates() {
        let (mut fail, mut before, mut after) = (0, 0, 0);
        for n in 0..20_000 {
            match decide(9, n, RATES, true) {
                Fault::Http500 => fail += 1,
                Fault::DropBefore => before += 1,
                Fault::DropAfter => after += 1,
                Fault::None => {}
            }
        }
        assert!((3_700..4_300).contains(&fail), "{fail}");
        assert!((1_800..2_200).contains(&(before + after)), "{before} {after}");
        assert!(before > 600 && after > 600, "{before} {after}");
    }

    #[test]
    fn read_only_requests_are_never_dropped_after_applying() {
        assert!((0..5_000).all(|n| decide(1, n, RATES, false) != Fault::DropAfter));
    }

    #[test]
    fn zero_rates_never_fault_and_full_rates_always_do() {
        assert!((0..1_000).all(|n| decide(3, n, FaultRates::default(), true) == Fault::None));
        let always = FaultRates { fail: 1.0, drop: 0.0 };
        assert!((0..1_000).all(|n| decide(3, n, always, true) == Fault::Http500));
        let never_answered = FaultRates { fail: 0.5, drop: 0.5 };
        assert!((0..1_000).all(|n| decide(3, n, never_answered, true) != Fault::None));
    }

    #[test]
    fn limiter_admits_n_per_sliding_second_per_action() {
        let mut limiter = RateLimiter::new(3);
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        assert!(limiter.admit("A", at(0)));
        assert!(limiter.admit("A", at(100)));
        assert!(limiter.admit("A", at(200)));
        assert!(!limiter.admit("A", at(300)), "fourth within one second");
        assert!(limiter.admit("B", at(300)), "other actions have their own window");
        assert!(!limiter.admit("A", at(999)));
        assert!(limiter.admit("A", at(1_000)), "the first one left the window");
        assert!(!limiter.admit("A", at(1_050)));
        assert!(limiter.admit("A", at(1_100)));
    }

    #[test]
    fn refused_requests_do_not_extend_the_window() {
        let mut limiter = RateLimiter::new(1);
        let t0 = Instant::now();
        assert!(limiter.admit("A", t0));
        for ms in (10..1_000).step_by(10) {
            assert!(!limiter.admit("A", t0 + Duration::from_millis(ms)));
        }
        assert!(limiter.admit("A", t0 + Duration::from_millis(1_000)));
    }

    #[test]
    fn limit_zero_admits_everything() {
        let mut limiter = RateLimiter::new(0);
        let now = Instant::now();
        assert!((0..1_000).all(|_| limiter.admit("A", now)));
    }
}
