//! What a long call tells its caller while it runs: [`Event`]s for progress, requests and waits.
//!
//! A batch deletion can take minutes on a busy account or a slow network. Its caller (the CLI
//! prints these on stderr) must be able to say what is happening at any moment: what was
//! settled, which request is in flight, and what a wait is for and how long it lasts.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, FailureCode};

/// Something a running call reports to its observer.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// Where a batch stands, after each step that settled key pairs.
    Progress(Progress),
    /// A request for this action is about to be sent.
    #[non_exhaustive]
    Sending {
        /// The action.
        action: &'static str,
    },
    /// The call is about to wait this long before going on.
    #[non_exhaustive]
    Waiting {
        /// How long.
        duration: Duration,
        /// What for, in words: pacing to the rate limit, a retry after a failure (naming the
        /// API's code, which came from the server), or the pause before a batch's next round.
        reason: &'a str,
    },
}

/// Why a call waits (the words go in [`Event::Waiting`]).
pub(crate) enum WaitReason<'a> {
    /// The client paces `action` to its rate limit.
    Pacing { action: &'static str },
    /// `action` failed with `error` and will be tried again.
    Retry { action: &'static str, error: &'a Error },
    /// A batch pauses before round `round`, which looks at `key_pairs` again.
    NextRound { round: u32, key_pairs: usize },
    /// DescribeKeyPairs does not yet show `pairs` key pair bindings made (`bound`) or removed,
    /// which the API carries out asynchronously; `left` of the time allowed remains.
    Binding { pairs: usize, bound: bool, left: Duration },
}

impl fmt::Display for WaitReason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitReason::Pacing { action } => write!(f, "pacing {action} to the rate limit"),
            WaitReason::Retry { action, error } if error.is_throttling() => write!(
                f,
                "{action} was throttled ({}): the account's requests per second are used up, maybe by \
                 another job; trying again",
                FailureCode::of(error)
            ),
            WaitReason::Retry { action, error } => {
                write!(f, "{action} failed ({}); trying again", FailureCode::of(error))
            }
            WaitReason::NextRound { round, key_pairs } => {
                let plural = if *key_pairs == 1 { "" } else { "s" };
                write!(f, "then round {round} checks again and retries {key_pairs} key pair{plural} that failed transiently")
            }
            WaitReason::Binding { pairs, bound, left } => {
                let (plural, change) =
                    (if *pairs == 1 { "" } else { "s" }, if *bound { "made" } else { "removed" });
                write!(
                    f,
                    "DescribeKeyPairs does not yet show {pairs} key pair binding{plural} {change} (the API \
                     carries them out asynchronously); checking again, for at most {} s more",
                    left.as_secs()
                )
            }
        }
    }
}

/// How many key pairs of a batch are where. Every id is counted once, and when the batch
/// ends the counts are those of its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Progress {
    /// Ids in all (repeats removed).
    pub total: usize,
    /// Deleted and verified absent (or deleted with verification turned off).
    pub deleted: usize,
    /// Did not exist.
    pub not_found: usize,
    /// Still present after deletion, or refused by the API for good (bound to an instance or
    /// image).
    pub kept: usize,
    /// Failed for good.
    pub failed: usize,
    /// Not yet deleted or not found, though no more is sent for them: accepted by a
    /// DeleteKeyPairs and not yet verified, or found absent after a request whose answer was
    /// lost (whether that request deleted them is decided at the end).
    pub unverified: usize,
    /// The round under way, from 1.
    pub(crate) round: u32,
}

impl Progress {
    /// Ids whose outcome is known: deleted, not found, kept or failed.
    pub(crate) fn settled(&self) -> usize {
        self.deleted + self.not_found + self.kept + self.failed
    }
}

/// How long a pause sleeps at a time, so that a stop request ends it promptly.
const STOP_CHECK: Duration = Duration::from_millis(50);

/// What a call carries through its attempts: the observer, a stop request, and when an HTTP
/// response last came (to give up on an endpoint that never answers).
pub(crate) struct Hooks<'a> {
    observer: &'a mut dyn FnMut(&Event<'_>),
    stop: Option<&'a AtomicBool>,
    last_answer: Instant,
}

impl<'a> Hooks<'a> {
    pub(crate) fn new(observer: &'a mut dyn FnMut(&Event<'_>), stop: Option<&'a AtomicBool>) -> Self {
        Hooks { observer, stop, last_answer: Instant::now() }
    }

    pub(crate) fn event(&mut self, event: &Event<'_>) {
        (self.observer)(event);
    }

    pub(crate) fn stop_requested(&self) -> bool {
        self.stop.is_some_and(|stop| stop.load(Ordering::SeqCst))
    }

    /// How long no HTTP response has come.
    pub(crate) fn silent_for(&self) -> Duration {
        self.last_answer.elapsed()
    }

    /// Notes that an HTTP response (any status) came.
    pub(crate) fn answered(&mut self) {
        self.last_answer = Instant::now();
    }

    /// Says it waits, then waits `duration`, ending early if a stop is requested.
    pub(crate) fn wait(&mut self, duration: Duration, reason: WaitReason<'_>) {
        if duration.is_zero() {
            return;
        }
        self.event(&Event::Waiting { duration, reason: &reason.to_string() });
        let until = Instant::now() + duration;
        while !self.stop_requested() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::sleep(left.min(STOP_CHECK));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_is_announced_and_ends_early_on_a_stop_request() {
        let stop = AtomicBool::new(false);
        let mut seen = Vec::new();
        let started = Instant::now();
        {
            let mut observer = |e: &Event<'_>| seen.push(format!("{e:?}"));
            let mut hooks = Hooks::new(&mut observer, Some(&stop));
            hooks.wait(Duration::ZERO, WaitReason::Pacing { action: "A" });
            std::thread::scope(|s| {
                s.spawn(|| {
                    std::thread::sleep(Duration::from_millis(100));
                    stop.store(true, Ordering::SeqCst);
                });
                hooks.wait(Duration::from_secs(30), WaitReason::Pacing { action: "A" });
            });
            assert!(hooks.stop_requested());
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        assert_eq!(seen.len(), 1, "a zero wait is not announced: {seen:?}");
        assert!(seen[0].contains("Waiting") && seen[0].contains("30s"), "{seen:?}");
        assert!(seen[0].contains("pacing A to the rate limit"), "{seen:?}");
    }
}
