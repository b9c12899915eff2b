//! SIGINT and SIGTERM (Ctrl-C, and what CI sends on cancel) become a flag the command polls,
//! so an interrupted deletion stops sending and still prints what it settled.
//!
//! This is the project's only unsafe code. The handler does the one thing a signal handler may
//! safely do here: store the signal number in an atomic. Everything else happens on ordinary
//! threads that read it.

use std::sync::atomic::{AtomicI32, Ordering};

static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// Catches SIGINT and SIGTERM from now on (once is enough; later calls change nothing).
pub fn catch() {
    #[cfg(unix)]
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: `note` is async-signal-safe (one atomic store, no allocation, no lock); the
        // `sigaction` struct is fully initialised (zeroed, then the handler and an empty mask),
        // and SA_RESTART keeps blocking reads and writes of other threads from failing with
        // EINTR.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = note as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

#[cfg(unix)]
extern "C" fn note(signal: libc::c_int) {
    RECEIVED.store(signal, Ordering::SeqCst);
}

/// The signal caught, if any.
pub fn caught() -> Option<i32> {
    Some(RECEIVED.load(Ordering::SeqCst)).filter(|&s| s != 0)
}

/// The conventional exit code after `signal`: 128 + its number (130 for SIGINT, 143 for
/// SIGTERM).
pub fn exit_code(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(u8::MAX)
}
