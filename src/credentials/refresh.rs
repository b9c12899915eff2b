//! The cache behind every source of temporary credentials (the instance role, an assumed role,
//! a web identity): one refresh at a time, early enough, and a failed refresh that does not
//! fail requests while the credentials in hand are still valid.
//!
//! The cache sits behind a mutex held during a refresh, so threads asking at once wait for the
//! one refresh under way and reuse its result: one fetch (one STS call), not one per thread.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, TryLockError};

use super::Credentials;
use crate::clock::Clock;
use crate::error::Error;

/// Credentials are refreshed once fewer than this many seconds remain before they expire (or
/// half their lifetime, when that is shorter).
pub(crate) const REFRESH_BEFORE_SECONDS: i64 = 300;

/// After a failed refresh, the credentials in hand are served without trying again for this
/// many seconds (never past their expiry), so a source that is down does not make every
/// request wait for it.
pub(crate) const RETRY_AFTER_FAILURE_SECONDS: i64 = 15;

/// Credentials a source fetched, and when they expire (Unix seconds, after the time of the
/// fetch: each source checks that itself, to say why in its own terms).
pub(crate) struct Fetched {
    pub(crate) credentials: Credentials,
    pub(crate) expires_at: i64,
}

/// The cached credentials of one source.
pub(crate) struct RefreshCache {
    clock: Arc<dyn Clock>,
    cached: Mutex<Option<Cached>>,
}

struct Cached {
    credentials: Credentials,
    expires_at: i64,
    /// When to fetch again: the refresh time, or a little after a failed refresh.
    next_fetch: i64,
}

impl RefreshCache {
    /// An empty cache judging time by `clock`.
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        RefreshCache { clock, cached: Mutex::new(None) }
    }

    /// The clock the cache judges time by.
    #[cfg(test)]
    pub(crate) fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The cached credentials while they are fresh, else those `fetch` gets (given the time).
    ///
    /// When `fetch` fails with `E`, unexpired credentials are served anyway; otherwise the
    /// error is `fail(e, Some(expired_at))` when the cached ones have expired, or
    /// `fail(e, None)` when there were none.
    pub(crate) fn get<E>(
        &self,
        fetch: impl FnOnce(i64) -> Result<Fetched, E>,
        fail: impl FnOnce(E, Option<i64>) -> Error,
    ) -> Result<Credentials, Error> {
        let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        // Read after taking the lock: a thread that waited out another's refresh sees fresh time.
        let now = self.clock.now();
        if let Some(fresh) = cached.as_ref().filter(|c| now < c.next_fetch) {
            return Ok(fresh.credentials.clone());
        }
        let error = match fetch(now) {
            Ok(fetched) => return Ok(cached.insert(Cached::new(fetched, now)).credentials.clone()),
            Err(error) => error,
        };
        match cached.as_mut() {
            Some(old) if now < old.expires_at => {
                old.next_fetch = now.saturating_add(RETRY_AFTER_FAILURE_SECONDS).min(old.expires_at);
                Ok(old.credentials.clone())
            }
            Some(old) => Err(fail(error, Some(old.expires_at))),
            None => Err(fail(error, None)),
        }
    }
}

impl Cached {
    fn new(fetched: Fetched, now: i64) -> Self {
        let Fetched { credentials, expires_at } = fetched;
        // Half the lifetime, for credentials too short-lived to be refreshed 5 minutes early.
        let margin = REFRESH_BEFORE_SECONDS.min(expires_at.saturating_sub(now) / 2);
        Cached { credentials, expires_at, next_fetch: expires_at.saturating_sub(margin) }
    }
}

/// The cached credentials (shown as `Credentials` show: the secret id only) and their expiry.
impl fmt::Debug for RefreshCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |c: &Option<Cached>| c.as_ref().map(|c| (c.credentials.clone(), c.expires_at));
        match self.cached.try_lock() {
            Ok(cached) => show(&cached).fmt(f),
            Err(TryLockError::Poisoned(cached)) => show(&cached.into_inner()).fmt(f),
            Err(TryLockError::WouldBlock) => f.write_str("<refreshing>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::credentials::fakes::FakeClock;

    const NOW: i64 = 1_700_000_000;

    fn setup() -> (Arc<FakeClock>, RefreshCache) {
        let clock = Arc::new(FakeClock::at(NOW));
        (clock.clone(), RefreshCache::new(clock))
    }

    fn fetched(id: &str, expires_at: i64) -> Fetched {
        Fetched { credentials: Credentials::new(id, "tmp-key").unwrap(), expires_at }
    }

    /// Asks `cache`, fetching `id` valid until `expires_at` if it must; the id served.
    fn ask(cache: &RefreshCache, fetches: &AtomicUsize, id: &str, expires_at: i64) -> String {
        let fetch = |_| {
            fetches.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>(fetched(id, expires_at))
        };
        cache.get(fetch, |_, _| unreachable!()).unwrap().secret_id().to_owned()
    }

    fn fail(cache: &RefreshCache) -> Result<Credentials, Error> {
        cache.get(|_| Err("down"), |why, expired| Error::credentials(format!("{why} {expired:?}")))
    }

    #[test]
    fn refreshes_five_minutes_before_expiry_when_the_lifetime_is_long() {
        let (clock, cache) = setup();
        let fetches = AtomicUsize::new(0);
        let expiry = NOW + 7200;
        assert_eq!(ask(&cache, &fetches, "AKIDfirst", expiry), "AKIDfirst");
        clock.set(expiry - REFRESH_BEFORE_SECONDS - 1);
        assert_eq!(ask(&cache, &fetches, "AKIDsecond", expiry + 7200), "AKIDfirst");
        clock.set(expiry - REFRESH_BEFORE_SECONDS);
        assert_eq!(ask(&cache, &fetches, "AKIDsecond", expiry + 7200), "AKIDsecond");
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn refreshes_at_half_the_lifetime_when_that_is_sooner() {
        let (clock, cache) = setup();
        let fetches = AtomicUsize::new(0);
        ask(&cache, &fetches, "AKIDfirst", NOW + 120);
        clock.set(NOW + 59);
        assert_eq!(ask(&cache, &fetches, "AKIDsecond", NOW + 240), "AKIDfirst");
        clock.set(NOW + 60);
        assert_eq!(ask(&cache, &fetches, "AKIDsecond", NOW + 240), "AKIDsecond");
        // The next margin is half of the new lifetime, 180 seconds from NOW + 60.
        clock.set(NOW + 149);
        assert_eq!(ask(&cache, &fetches, "AKIDthird", NOW + 999), "AKIDsecond");
        clock.set(NOW + 150);
        assert_eq!(ask(&cache, &fetches, "AKIDthird", NOW + 999), "AKIDthird");
    }

    #[test]
    fn a_failed_refresh_serves_unexpired_credentials_waits_then_fails_once_expired() {
        let (clock, cache) = setup();
        let fetches = AtomicUsize::new(0);
        let expiry = NOW + 3600;
        ask(&cache, &fetches, "AKIDold", expiry);
        clock.set(expiry - 100);
        assert_eq!(fail(&cache).unwrap().secret_id(), "AKIDold");
        clock.set(expiry - 100 + RETRY_AFTER_FAILURE_SECONDS - 1);
        assert_eq!(ask(&cache, &fetches, "AKIDnew", expiry + 3600), "AKIDold", "not tried again yet");
        clock.set(expiry - 1);
        assert_eq!(fail(&cache).unwrap().secret_id(), "AKIDold");
        clock.set(expiry);
        let err = fail(&cache).unwrap_err().to_string();
        assert_eq!(err, format!("credentials: down Some({expiry})"));
        assert_eq!(ask(&cache, &fetches, "AKIDnew", expiry + 3600), "AKIDnew", "a later success recovers");
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_first_fetch_that_fails_is_the_error_without_an_expiry() {
        let (_, cache) = setup();
        assert_eq!(fail(&cache).unwrap_err().to_string(), "credentials: down None");
        assert_eq!(format!("{cache:?}"), "None");
    }

    #[test]
    fn sixteen_threads_asking_at_once_cause_one_fetch_per_refresh() {
        let (clock, cache) = setup();
        let (cache, fetches) = (Arc::new(cache), Arc::new(AtomicUsize::new(0)));
        for (round, expiry) in [(1, NOW + 3600), (2, NOW + 7200)] {
            let start = Arc::new(std::sync::Barrier::new(16));
            let threads: Vec<_> = (0..16)
                .map(|_| {
                    let (cache, fetches, start) = (cache.clone(), fetches.clone(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        let slow = |_| {
                            fetches.fetch_add(1, Ordering::SeqCst);
                            // Slow enough that every thread asks while the fetch is under way.
                            std::thread::sleep(std::time::Duration::from_millis(50));
                            Ok::<_, ()>(fetched(&format!("AKID{round}"), expiry))
                        };
                        cache.get(slow, |_, _| unreachable!()).unwrap().secret_id().to_owned()
                    })
                })
                .collect();
            for thread in threads {
                assert_eq!(thread.join().unwrap(), format!("AKID{round}"));
            }
            assert_eq!(fetches.load(Ordering::SeqCst), round);
            clock.set(expiry - 1);
        }
    }
}
