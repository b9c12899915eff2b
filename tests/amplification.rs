//! What a server can make us hold: 1,000 ids answered with error codes or RequestIds of nearly
//! 1 MiB (the transport's body cap) keep the batch deletion's peak memory within 64 MiB. (That
//! the command line's output stays within 2 MiB is tested in `cli/tests/`.)
//!
//! Memory is measured in this process by a counting global allocator, around the library call
//! against a loopback server that serves prebuilt bytes (its own allocations count too, so it
//! allocates next to nothing per request). It is the only test in this binary, so no other
//! test's allocations show in the measurement.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

#[path = "support/huge_answers.rs"]
mod huge_answers;

use cvm_keypairs::testing::ID_CHARS;
use cvm_keypairs::{Client, Credentials, UreqTransportBuilder};
use huge_answers::{ids, server, MIB, MODES};

/// Counts the bytes allocated and not yet freed, and the most there were.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static MEASURING: AtomicBool = AtomicBool::new(false);

/// More than this live at once while measuring aborts the test binary at once: a regression
/// must fail the test, not take the machine's memory. (Failing the allocation instead could
/// deadlock: the allocation error hook takes the lock a panic's backtrace holds.)
const HARD_CAP: usize = 256 << 20;

/// Counts `n` more bytes.
fn reserve(n: usize) {
    let live = LIVE.fetch_add(n, Ordering::SeqCst) + n;
    if live > HARD_CAP && MEASURING.load(Ordering::SeqCst) {
        std::process::abort();
    }
    PEAK.fetch_max(live, Ordering::SeqCst);
}

// SAFETY: every call is passed on to the system allocator unchanged; only counting is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        reserve(layout.size());
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        reserve(layout.size());
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if new_size > old {
            reserve(new_size - old);
        }
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            if new_size > old {
                LIVE.fetch_sub(new_size - old, Ordering::SeqCst);
            }
        } else if new_size < old {
            LIVE.fetch_sub(old - new_size, Ordering::SeqCst);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// `f`'s result and the most bytes live at once while it ran, beyond those live before.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    MEASURING.store(true, Ordering::SeqCst);
    let value = f();
    MEASURING.store(false, Ordering::SeqCst);
    (value, PEAK.load(Ordering::SeqCst) - before)
}

fn client(url: &str, mode: &str) -> Client {
    Client::builder()
        .credentials(Credentials::new("AKIDamplification", "amplification-secret-key").unwrap())
        .endpoint(url)
        .region(mode)
        .transport(Arc::new(UreqTransportBuilder::default().proxy(None).unwrap().build().unwrap()))
        .build()
        .unwrap()
}

#[test]
fn huge_codes_and_request_ids_for_a_thousand_ids_keep_peak_memory_within_64_mib() {
    let url = server();
    let ids = ids();
    for mode in MODES {
        let client = client(&url, mode);
        let (report, peak) = peak_during(|| client.delete_key_pairs_all(ids.iter().map(String::as_str)));
        let report = report.unwrap();
        eprintln!("{mode}: peak {:.1} MiB", peak as f64 / MIB as f64);
        assert!(peak <= 64 * MIB, "{mode}: peak memory {peak} bytes");
        // An over-long code or RequestId is replaced whole by a marker of its length, never cut.
        let marker = |prefix: &str| format!("<{} characters, not kept>", prefix.len() + MIB - 1024);
        let (code, request_id) = match mode {
            "huge-code" => (marker("Hostile."), "r".to_owned()),
            _ => ("FailedOperation".to_owned(), marker("r-")),
        };
        assert!(request_id.chars().count() <= ID_CHARS && code.chars().count() <= ID_CHARS);
        if mode == "huge-request-id-success" {
            assert_eq!(report.deleted.len(), 1000, "{mode}");
        } else {
            assert_eq!(report.failed.len(), 1000, "{mode}");
        }
        for failure in &report.failed {
            assert_eq!(failure.code().to_string(), code, "{mode}");
            assert_eq!(failure.request_id(), Some(request_id.as_str()), "{mode}");
        }
        let ids = &report.request_ids;
        assert!(!ids.is_empty() && ids.iter().all(|id| *id == request_id), "{mode}: {ids:?}");
    }
}
