//! The listener, one thread per connection, and what is shared between them.
//!
//! Connections are bounded ([`EmulatorConfig::max_connections`]); each one is served
//! request after request (keep-alive, pipelining) until the client closes it, stays silent for
//! [`EmulatorConfig::idle_timeout`], sends something that is not a request, or the emulator
//! stops. Stopping wakes the blocked `accept` with a connection of its own and shuts every open
//! socket, so no thread is left behind.

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::faults::{self, Fault, FaultRates, RateLimiter, SplitMix64};
use super::store::Store;
use super::wire::{self, ParseError, ParsedRequest};
use super::{api, EmulatorConfig, RequestRecord, Stats};
use crate::clock::{Clock, SystemClock};

const HTML_500: &str = "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n\
<center><h1>500 Internal Server Error</h1></center>\r\n<hr><center>emulated gateway</center>\r\n</body>\r\n</html>\r\n";

/// The most distinct action names counted in [`Stats::requests`].
const MAX_COUNTED_ACTIONS: usize = 64;
/// The counter shared by action names beyond [`MAX_COUNTED_ACTIONS`].
const OTHER_ACTIONS: &str = "(other)";

/// How long `stop` waits for connection threads to finish.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// State shared by the handle, the acceptor and every connection thread.
pub(crate) struct Shared {
    pub(crate) config: EmulatorConfig,
    store: Mutex<Store>,
    limiter: Mutex<RateLimiter>,
    stats: Mutex<Stats>,
    next_seq: AtomicU64,
    request_ids: Mutex<SplitMix64>,
    stopping: AtomicBool,
    connections: Mutex<HashMap<u64, TcpStream>>,
    next_connection: AtomicU64,
    all_closed: Condvar,
}

// Nothing that holds these locks can panic between two related updates, so a lock poisoned by
// a panicking thread still guards consistent data.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    pub(crate) fn limiter(&self) -> MutexGuard<'_, RateLimiter> {
        lock(&self.limiter)
    }

    pub(crate) fn stats(&self) -> MutexGuard<'_, Stats> {
        lock(&self.stats)
    }

    /// The emulator's clock: the system clock shifted by the configured offset.
    fn now(&self) -> i64 {
        SystemClock.now().saturating_add(self.config.clock_offset)
    }

    /// A fresh request id shaped like a version-4 UUID.
    fn request_id(&self) -> String {
        let (a, b) = {
            let mut rng = lock(&self.request_ids);
            (rng.next_u64(), rng.next_u64())
        };
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }

    fn count_answer(&self, code: &str) {
        *self.stats().answers.entry(code.to_owned()).or_default() += 1;
    }
}

/// Binds 127.0.0.1 and spawns the acceptor.
pub(crate) fn start(config: EmulatorConfig) -> io::Result<(Arc<Shared>, SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))?;
    let addr = listener.local_addr()?;
    let entropy =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let shared = Arc::new(Shared {
        store: Mutex::new(Store::new(config.key_pairs.clone(), config.bound_behavior)),
        limiter: Mutex::new(RateLimiter::new(config.rate_limit)),
        stats: Mutex::new(Stats::default()),
        next_seq: AtomicU64::new(0),
        request_ids: Mutex::new(SplitMix64::new(entropy ^ (u64::from(addr.port()) << 48))),
        stopping: AtomicBool::new(false),
        connections: Mutex::new(HashMap::new()),
        next_connection: AtomicU64::new(0),
        all_closed: Condvar::new(),
        config,
    });
    let acceptor_shared = Arc::clone(&shared);
    let acceptor = thread::Builder::new()
        .name("emulator-accept".into())
        .spawn(move || accept_loop(&listener, &acceptor_shared))?;
    Ok((shared, addr, acceptor))
}

/// Stops the acceptor, shuts every open connection and waits for their threads.
pub(crate) fn stop(shared: &Shared, addr: SocketAddr, acceptor: JoinHandle<()>) {
    shared.stopping.store(true, Ordering::SeqCst);
    // `accept` blocks; a connection of our own wakes it up to see the flag.
    let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
    let _ = acceptor.join();
    let mut open = lock(&shared.connections);
    for stream in open.values() {
        let _ = stream.shutdown(Shutdown::Both);
    }
    let deadline = Instant::now() + STOP_GRACE;
    while !open.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        open = shared.all_closed.wait_timeout(open, left).unwrap_or_else(PoisonError::into_inner).0;
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let stream = match stream {
            Ok(stream) => stream,
            Err(_) => {
                // Out of file descriptors or a connection reset before accept: let it pass.
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let Some(id) = register(shared, &stream) else {
            refuse(shared, stream);
            continue;
        };
        let connection_shared = Arc::clone(shared);
        let spawned = thread::Builder::new().name("emulator-conn".into()).spawn(move || {
            serve_connection(&connection_shared, stream);
            unregister(&connection_shared, id);
        });
        if spawned.is_err() {
            unregister(shared, id);
        }
    }
}

fn register(shared: &Shared, stream: &TcpStream) -> Option<u64> {
    let mut open = lock(&shared.connections);
    if open.len() >= shared.config.max_connections {
        return None;
    }
    let id = shared.next_connection.fetch_add(1, Ordering::Relaxed);
    open.insert(id, stream.try_clone().ok()?);
    Some(id)
}

fn unregister(shared: &Shared, id: u64) {
    let mut open = lock(&shared.connections);
    open.remove(&id);
    if open.is_empty() {
        shared.all_closed.notify_all();
    }
}

fn refuse(shared: &Shared, mut stream: TcpStream) {
    shared.count_answer("http:503");
    let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
    let body = b"too many connections\n";
    let _ = stream.write_all(&wire::write_response(
        503,
        &wire::http_date(shared.now()),
        "text/plain",
        false,
        body,
    ));
}

fn serve_connection(shared: &Shared, mut stream: TcpStream) {
    let timeout = Some(shared.config.idle_timeout).filter(|t| !t.is_zero());
    let _ = stream.set_write_timeout(timeout);
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    // When the first byte of the pending request came: a request trickled in byte by byte
    // must still arrive whole within the timeout.
    let mut started: Option<Instant> = None;
    loop {
        match wire::parse_request(&buf) {
            Ok((request, used)) => {
                buf.drain(..used);
                started = (!buf.is_empty()).then(Instant::now);
                if !serve_request(shared, &request, &mut stream) || shared.stopping.load(Ordering::SeqCst) {
                    return;
                }
            }
            Err(ParseError::Incomplete) => {
                let wait = match (timeout, started) {
                    (Some(limit), Some(t)) => Some(limit.saturating_sub(t.elapsed())),
                    (limit, _) => limit,
                };
                if wait.is_some_and(|w| w.is_zero()) || stream.set_read_timeout(wait).is_err() {
                    return;
                }
                match stream.read(&mut chunk) {
                    Ok(0) => return,
                    Ok(n) => {
                        started = started.or_else(|| Some(Instant::now()));
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => return,
                }
            }
            Err(ParseError::Invalid { status, reason }) => {
                shared.count_answer(&format!("http:{status}"));
                let date = wire::http_date(shared.now());
                let body = format!("{reason}\n");
                let _ = stream.write_all(&wire::write_response(
                    status,
                    &date,
                    "text/plain",
                    false,
                    body.as_bytes(),
                ));
                return;
            }
        }
    }
}

/// What to send back for one request.
struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
}

/// Answers one request; returns whether the connection stays open.
fn serve_request(shared: &Shared, request: &ParsedRequest, stream: &mut TcpStream) -> bool {
    let seq = shared.next_seq.fetch_add(1, Ordering::SeqCst);
    let action = request.header("X-TC-Action").unwrap_or("").to_owned();
    {
        let mut stats = shared.stats();
        // Action names come from clients: past a bound, new ones share one counter.
        let known = stats.requests.contains_key(&action) || stats.requests.len() < MAX_COUNTED_ACTIONS;
        *stats.requests.entry(if known { action.clone() } else { OTHER_ACTIONS.to_owned() }).or_default() +=
            1;
    }
    let mut record = RequestRecord {
        seq,
        method: request.method.clone(),
        action,
        key_ids: 0,
        status: 0,
        code: String::new(),
        request_id: String::new(),
        deleted: 0,
    };
    let reply = decide_reply(shared, request, &mut record);
    shared.count_answer(&record.code);
    if let Some(on_request) = &shared.config.on_request {
        on_request(&record);
    }
    let Some(reply) = reply else {
        let _ = stream.shutdown(Shutdown::Both);
        return false;
    };
    if !shared.config.slow.is_zero() {
        thread::sleep(shared.config.slow);
    }
    let keep_alive = request.keep_alive() && !shared.stopping.load(Ordering::SeqCst);
    let date = wire::http_date(shared.now());
    let bytes = wire::write_response(reply.status, &date, reply.content_type, keep_alive, &reply.body);
    stream.write_all(&bytes).is_ok() && keep_alive
}

/// Decides the answer (applying the request) and fills `record`; `None` drops the connection.
fn decide_reply(shared: &Shared, request: &ParsedRequest, record: &mut RequestRecord) -> Option<Reply> {
    let text = |status: u16, body: &str| {
        Some(Reply { status, content_type: "text/plain", body: format!("{body}\n").into_bytes() })
    };
    if request.path() != "/" {
        record.status = 404;
        record.code = "http:404".into();
        return text(404, "the API is served at /");
    }
    if request.method != "GET" && request.method != "POST" {
        record.status = 405;
        record.code = "http:405".into();
        return text(405, "only GET and POST are supported");
    }
    let config = &shared.config;
    let rates = FaultRates { fail: config.fail_rate, drop: config.drop_rate };
    let fault = faults::decide(config.fault_seed, record.seq, rates, record.action == "DeleteKeyPairs");
    match fault {
        Fault::Http500 => {
            record.status = 500;
            record.code = "fault:http-500".into();
            return Some(Reply {
                status: 500,
                content_type: "text/html",
                body: HTML_500.as_bytes().to_vec(),
            });
        }
        Fault::DropBefore => {
            record.code = "fault:drop".into();
            return None;
        }
        Fault::None | Fault::DropAfter => {}
    }

    let outcome = api::answer(shared, request, shared.now());
    record.key_ids = outcome.key_ids;
    record.deleted = outcome.deleted;
    if fault == Fault::DropAfter {
        record.code = "fault:drop-after-apply".into();
        return None;
    }
    let mut response = match outcome.result {
        Ok(members) => {
            record.code = "OK".into();
            members
        }
        Err(error) => {
            record.code = error.code.into();
            let mut members = serde_json::Map::new();
            members.insert("Error".into(), json!({"Code": error.code, "Message": error.message}));
            members
        }
    };
    record.request_id = shared.request_id();
    response.insert("RequestId".into(), Value::String(record.request_id.clone()));
    record.status = 200;
    let body = json!({ "Response": response }).to_string().into_bytes();
    Some(Reply { status: 200, content_type: "application/json", body })
}
