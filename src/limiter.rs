//! Client-side pacing: at most N requests per action in any one-second window.
//!
//! The API counts requests per action in a sliding second and answers `RequestLimitExceeded`
//! beyond its limit (10 per second for the key-pair actions). Waiting here, before signing,
//! costs nothing the API would not have refused anyway, and the shared state makes every
//! thread using one client respect the same budget.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a window lasts, with a margin for requests that arrive later than they left
/// (the server sees arrival times; a request delayed in flight would otherwise share a window
/// with the next burst).
const WINDOW: Duration = Duration::from_millis(1_050);

/// Paces requests per action; shared by all threads of one client.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_second: usize,
    sent: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    /// A limiter allowing `per_second` requests per action in any window (at least 1).
    pub(crate) fn new(per_second: usize) -> Self {
        RateLimiter { per_second: per_second.max(1), sent: Mutex::new(HashMap::new()) }
    }

    /// The configured requests per second per action.
    pub(crate) fn per_second(&self) -> usize {
        self.per_second
    }

    /// Books the next slot for `action` and returns how long to wait for it: the caller
    /// waits (and may say so) before sending.
    pub(crate) fn book(&self, action: &str) -> Duration {
        self.reserve(action, Instant::now()).saturating_duration_since(Instant::now())
    }

    /// Books the earliest start at or after `now` that keeps every window within the limit,
    /// and returns it.
    fn reserve(&self, action: &str, now: Instant) -> Instant {
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        let times = sent.entry(action.to_owned()).or_default();
        while times.front().is_some_and(|&t| t + WINDOW <= now) {
            times.pop_front();
        }
        let at = if times.len() < self.per_second {
            times.back().map_or(now, |&last| last.max(now))
        } else {
            // The slot of the request `per_second` places back frees up one window later.
            (times[times.len() - self.per_second] + WINDOW).max(now)
        };
        times.push_back(at);
        // Only the last `per_second` bookings can ever constrain a later one.
        while times.len() > self.per_second {
            times.pop_front();
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_window_ever_holds_more_than_the_limit() {
        let limiter = RateLimiter::new(10);
        let start = Instant::now();
        let booked: Vec<Instant> = (0..35).map(|_| limiter.reserve("DeleteKeyPairs", start)).collect();
        assert!(booked[..10].iter().all(|&t| t == start), "a first burst of 10 goes at once");
        for (i, &t) in booked.iter().enumerate() {
            let in_window = booked.iter().filter(|&&u| u >= t && u < t + WINDOW).count();
            assert!(in_window <= 10, "window from request {i} holds {in_window}");
        }
        assert_eq!(booked[34] - start, WINDOW * 3, "35 requests need three more windows");
    }

    #[test]
    fn actions_have_separate_budgets() {
        let limiter = RateLimiter::new(2);
        let now = Instant::now();
        assert_eq!(limiter.reserve("A", now), now);
        assert_eq!(limiter.reserve("A", now), now);
        assert_eq!(limiter.reserve("B", now), now);
        assert_eq!(limiter.reserve("A", now), now + WINDOW);
    }

    #[test]
    fn old_requests_stop_counting() {
        let limiter = RateLimiter::new(1);
        let now = Instant::now();
        assert_eq!(limiter.reserve("A", now), now);
        let later = now + WINDOW;
        assert_eq!(limiter.reserve("A", later), later);
    }

    #[test]
    fn threads_share_one_budget() {
        let limiter = std::sync::Arc::new(RateLimiter::new(5));
        let now = Instant::now();
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let l = limiter.clone();
                std::thread::spawn(move || (0..5).map(|_| l.reserve("A", now)).collect::<Vec<_>>())
            })
            .collect();
        let mut all: Vec<Instant> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
        all.sort();
        assert_eq!(all.iter().filter(|&&t| t == now).count(), 5);
        assert_eq!(*all.last().unwrap(), now + WINDOW * 3);
    }
}
