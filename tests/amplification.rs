//! What a server can make us hold: 1,000 ids answered with error codes or RequestIds of nearly
//! 1 MiB (the transport's body cap) keep the batch deletion's peak memory within 64 MiB.
//! (`cli/tests/amplification_cli.rs` bounds the command line's output for the same answers.)
//!
//! Memory is measured in this process by a counting global allocator, around the library call
//! against a loopback server that serves prebuilt bytes (its own allocations count too, so it
//! allocates next to nothing per request). The tests take turns, so one's allocations never
//! show in another's measurement.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use cvm_keypairs::response::ID_CHARS;
use cvm_keypairs::{Client, Credentials, UreqTransport};

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

/// One test at a time in this binary.
static TURN: Mutex<()> = Mutex::new(());

const MIB: usize = 1 << 20;

/// How the server answers, chosen by the region the client sends.
const MODES: [&str; 3] = ["huge-code", "huge-request-id", "huge-request-id-success"];

/// The whole HTTP response for `mode` and `action`: a body of just under 1 MiB in which one
/// text is nearly all of it.
fn response(mode: &str, action: &str) -> Vec<u8> {
    let huge = |prefix: &str| format!("{prefix}{}", "A".repeat(MIB - 1024));
    let body = match (mode, action) {
        ("huge-code", _) => format!(
            r#"{{"Response":{{"Error":{{"Code":"{}","Message":"m"}},"RequestId":"r"}}}}"#,
            huge("Hostile.")
        ),
        ("huge-request-id", _) => format!(
            r#"{{"Response":{{"Error":{{"Code":"FailedOperation","Message":"m"}},"RequestId":"{}"}}}}"#,
            huge("r-")
        ),
        (_, "DescribeKeyPairs") => {
            format!(r#"{{"Response":{{"TotalCount":0,"KeyPairSet":[],"RequestId":"{}"}}}}"#, huge("r-"))
        }
        _ => format!(r#"{{"Response":{{"RequestId":"{}"}}}}"#, huge("r-")),
    };
    assert!(body.len() < MIB, "under the transport's cap");
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

/// Every response the server gives: (mode, action, bytes).
type Answers = Arc<Vec<(&'static str, &'static str, Vec<u8>)>>;

/// A keep-alive HTTP server on 127.0.0.1 that answers each request with the prebuilt bytes for
/// its `X-TC-Region` (the mode) and `X-TC-Action`; returns its URL.
fn server() -> String {
    let answers: Answers = Arc::new(
        MODES
            .iter()
            .flat_map(|&mode| {
                ["DeleteKeyPairs", "DescribeKeyPairs"].map(|action| (mode, action, response(mode, action)))
            })
            .collect(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let answers = answers.clone();
            std::thread::spawn(move || serve(stream, &answers));
        }
    });
    url
}

fn serve(stream: TcpStream, answers: &Answers) {
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::with_capacity(4096, stream);
    let (mut line, mut body) = (String::with_capacity(256), Vec::with_capacity(4096));
    loop {
        line.clear();
        if !matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
            return;
        }
        let (mut length, mut mode, mut action) = (0, None, None);
        loop {
            line.clear();
            if reader.read_line(&mut line).is_err() {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else { return };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("x-tc-region") {
                mode = MODES.iter().position(|m| *m == value);
            } else if name.eq_ignore_ascii_case("x-tc-action") {
                action = Some(value == "DescribeKeyPairs");
            }
        }
        body.resize(length, 0);
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let (Some(mode), Some(describe)) = (mode, action) else { return };
        if writer.write_all(&answers[mode * 2 + usize::from(describe)].2).is_err() {
            return;
        }
    }
}

fn ids() -> Vec<String> {
    (0..1000).map(|i| format!("skey-a{i:07}")).collect()
}

fn client(url: &str, mode: &str) -> Client {
    Client::builder()
        .credentials(Credentials::new("AKIDamplification", "amplification-secret-key").unwrap())
        .endpoint(url)
        .region(mode)
        .transport(Arc::new(UreqTransport::builder().no_proxy().build().unwrap()))
        .build()
        .unwrap()
}

#[test]
fn huge_codes_and_request_ids_for_a_thousand_ids_keep_peak_memory_within_64_mib() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let url = server();
    let ids = ids();
    for mode in MODES {
        let client = client(&url, mode);
        let (report, peak) = peak_during(|| client.delete_key_pairs_all(ids.iter().map(String::as_str)));
        let report = report.unwrap();
        eprintln!("{mode}: peak {:.1} MiB", peak as f64 / MIB as f64);
        assert!(peak <= 64 * MIB, "{mode}: peak memory {peak} bytes");
        let short = |text: &str| text.chars().count() <= ID_CHARS + 1;
        if mode == "huge-request-id-success" {
            assert_eq!(report.deleted.len(), 1000, "{mode}");
        } else {
            assert_eq!(report.failed.len(), 1000, "{mode}");
        }
        for failure in &report.failed {
            assert!(short(&failure.code().to_string()) && short(failure.request_id().unwrap_or_default()));
        }
        assert!(!report.request_ids.is_empty() && report.request_ids.iter().all(|id| short(id)), "{mode}");
    }
}
