//! The time source, as a small trait so tests and dry runs can fix the clock.

/// Gives the current time in Unix seconds.
pub(crate) trait Clock: Send + Sync {
    /// Seconds since the Unix epoch, UTC.
    fn now(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(before) => -(before.duration().as_secs() as i64),
        }
    }
}

/// A clock stopped at a given time.
#[cfg(test)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct FixedClock(pub(crate) i64);

#[cfg(test)]
impl Clock for FixedClock {
    fn now(&self) -> i64 {
        self.0
    }
}
