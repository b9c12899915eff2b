//! The listener, one thread per connection, and what is shared between them.
//!
//! Each connection is served request after request (keep-alive, pipelining) until the client
//! closes it, stays silent for [`EmulatorConfig::idle_timeout`], takes longer than
//! [`EmulatorConfig::request_timeout`] to send one request, sends something that is not a
//! request, is evicted, or the emulator stops.
//!
//! At most [`EmulatorConfig::max_connections`] are open at once. A connection that comes when
//! all are taken evicts (closes) the one that has waited longest on its client — idle between
//! requests, part-way through sending one, or not taking its answer — so slow or idle clients
//! cannot lock out a prompt one, even when they reconnect at once. A connection is never
//! evicted while its request is being answered, nor before its thread has read what the client
//! sent with it: a client that sends its request at once is served. Only when every connection
//! is in one of those two states is the newcomer answered 503 and closed.
//!
//! Stopping wakes the blocked `accept` with a connection of its own and shuts every open
//! socket, so no thread is left behind.

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::api::{self, Received};
use super::faults::{self, Fault, FaultRates, RateLimiter, SplitMix64};
use super::store::{Settings, Store};
use super::sts::{Temporaries, MAX_LIVE_CREDENTIALS};
use super::wire::{self, ParseError, ParsedRequest};
use super::{unix_now, EmulatorConfig, RequestRecord, Stats};

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
    temporaries: Mutex<Temporaries>,
    limiter: Mutex<RateLimiter>,
    stats: Mutex<Stats>,
    next_seq: AtomicU64,
    request_ids: Mutex<SplitMix64>,
    stopping: AtomicBool,
    connections: Mutex<HashMap<u64, Connection>>,
    next_connection: AtomicU64,
    all_closed: Condvar,
}

/// One open connection, as the budget sees it.
struct Connection {
    stream: TcpStream,
    activity: Activity,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Activity {
    /// Accepted; its thread has not yet read what came with it. Not evictable.
    Opening,
    /// Waiting on the client since then: for a request (idle, or since its first byte) or for
    /// the client to take an answer. Evictable, the longest wait first.
    Waiting(Instant),
    /// A complete request is being decided and applied. Not evictable.
    Serving,
    /// Shut by an eviction; its thread is on its way out. Outside the budget.
    Evicted,
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

    /// The store with every (dis)association that is due by now applied.
    pub(crate) fn settled_store(&self) -> MutexGuard<'_, Store> {
        let mut store = self.store();
        store.settle(Instant::now());
        store
    }

    /// The temporary credentials STS issued.
    pub(crate) fn temporaries(&self) -> MutexGuard<'_, Temporaries> {
        lock(&self.temporaries)
    }

    pub(crate) fn limiter(&self) -> MutexGuard<'_, RateLimiter> {
        lock(&self.limiter)
    }

    pub(crate) fn stats(&self) -> MutexGuard<'_, Stats> {
        lock(&self.stats)
    }

    /// The emulator's clock: the system clock shifted by the configured offset.
    fn now(&self) -> i64 {
        unix_now().saturating_add(self.config.clock_offset)
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
pub(crate) fn start(mut config: EmulatorConfig) -> io::Result<(Arc<Shared>, SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))?;
    let addr = listener.local_addr()?;
    let entropy =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let settings = Settings {
        bound_behavior: config.bound_behavior,
        key_quota: config.key_quota,
        async_delay: config.async_delay,
        force_stop_restarts: config.force_stop_restarts,
    };
    // The store owns the key pairs and instances; a second copy in the config would double a
    // large seed.
    let store = Store::new(
        std::mem::take(&mut config.key_pairs),
        std::mem::take(&mut config.instances),
        settings,
        entropy.rotate_left(17) ^ u64::from(addr.port()),
    );
    let shared = Arc::new(Shared {
        store: Mutex::new(store),
        temporaries: Mutex::new(Temporaries::new(MAX_LIVE_CREDENTIALS)),
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
    for connection in open.values() {
        let _ = connection.stream.shutdown(Shutdown::Both);
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
            serve_connection(&connection_shared, id, stream);
            unregister(&connection_shared, id);
        });
        if spawned.is_err() {
            unregister(shared, id);
        }
    }
}

/// Makes room for a new connection (evicting if the budget is full) and records it; `None`
/// when every connection is opening or being answered.
fn register(shared: &Shared, stream: &TcpStream) -> Option<u64> {
    let clone = stream.try_clone().ok()?;
    let mut open = lock(&shared.connections);
    let live = open.values().filter(|c| c.activity != Activity::Evicted).count();
    if live >= shared.config.max_connections {
        let longest = open
            .values_mut()
            .filter_map(|c| match c.activity {
                Activity::Waiting(since) => Some((since, c)),
                _ => None,
            })
            .min_by_key(|(since, _)| *since);
        let (_, evicted) = longest?;
        // Its thread wakes from a read or write that now fails, and leaves.
        let _ = evicted.stream.shutdown(Shutdown::Both);
        evicted.activity = Activity::Evicted;
    }
    let id = shared.next_connection.fetch_add(1, Ordering::Relaxed);
    open.insert(id, Connection { stream: clone, activity: Activity::Opening });
    Some(id)
}

/// Records what connection `id` does now; `false` when it was evicted and must stop.
fn set_activity(shared: &Shared, id: u64, activity: Activity) -> bool {
    match lock(&shared.connections).get_mut(&id) {
        Some(c) if c.activity != Activity::Evicted => {
            c.activity = activity;
            true
        }
        _ => false,
    }
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

/// Where a connection stands while it waits on its client.
struct Waiting {
    /// Since when: the end of the last answer (or the accept), or the first byte of the
    /// pending request, which must then arrive whole within the request limit however it
    /// trickles in.
    since: Instant,
    /// Whether the pending request has begun.
    started: bool,
    /// The `since` last recorded as the connection's activity.
    registered: Option<Instant>,
}

fn serve_connection(shared: &Shared, id: u64, mut stream: TcpStream) {
    let idle = nonzero(shared.config.idle_timeout);
    let _ = stream.set_write_timeout(idle);
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let Some(started) = read_opening(&mut stream, &mut buf, &mut chunk) else {
        return;
    };
    let mut waiting = Waiting { since: Instant::now(), started, registered: None };
    loop {
        match wire::parse_request(&buf) {
            Ok((request, used)) => {
                if !set_activity(shared, id, Activity::Serving) {
                    return;
                }
                buf.drain(..used);
                let Some((bytes, keep_alive)) = serve_request(shared, &request) else {
                    let _ = stream.shutdown(Shutdown::Both);
                    return;
                };
                let since = Instant::now();
                waiting = Waiting { since, started: !buf.is_empty(), registered: Some(since) };
                // From here the connection waits on the client to take the answer.
                if !set_activity(shared, id, Activity::Waiting(since)) {
                    return;
                }
                if stream.write_all(&bytes).is_err() || !keep_alive || shared.stopping.load(Ordering::SeqCst)
                {
                    return;
                }
            }
            Err(ParseError::Incomplete) => {
                if !read_more(shared, id, &mut stream, &mut waiting, &mut buf, &mut chunk) {
                    return;
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

fn nonzero(t: Duration) -> Option<Duration> {
    Some(t).filter(|t| !t.is_zero())
}

/// Takes what the client sent with the connection before it becomes evictable (`Opening` is
/// not), so a client that sends its request at once is never evicted before it is read.
/// `Some(whether anything came)`, or `None` when the connection is done.
fn read_opening(stream: &mut TcpStream, buf: &mut Vec<u8>, chunk: &mut [u8]) -> Option<bool> {
    stream.set_nonblocking(true).ok()?;
    let started = match stream.read(chunk) {
        Ok(0) => return None,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => false,
        Err(_) => return None,
    };
    stream.set_nonblocking(false).ok()?;
    Some(started)
}

/// Waits, within the idle and request limits, for more of the pending request; `false` when
/// the connection is done (closed, timed out or evicted).
fn read_more(
    shared: &Shared,
    id: u64,
    stream: &mut TcpStream,
    waiting: &mut Waiting,
    buf: &mut Vec<u8>,
    chunk: &mut [u8],
) -> bool {
    if waiting.registered != Some(waiting.since) {
        if !set_activity(shared, id, Activity::Waiting(waiting.since)) {
            return false;
        }
        waiting.registered = Some(waiting.since);
    }
    let idle = nonzero(shared.config.idle_timeout);
    let wait = match (waiting.started, nonzero(shared.config.request_timeout)) {
        (true, Some(limit)) => {
            let left = limit.saturating_sub(waiting.since.elapsed());
            Some(idle.map_or(left, |idle| idle.min(left)))
        }
        _ => idle,
    };
    if wait.is_some_and(|w| w.is_zero()) || stream.set_read_timeout(wait).is_err() {
        return false;
    }
    match stream.read(chunk) {
        Ok(0) => false,
        Ok(n) => {
            if !waiting.started {
                waiting.since = Instant::now();
                waiting.started = true;
            }
            buf.extend_from_slice(&chunk[..n]);
            true
        }
        Err(e) => e.kind() == ErrorKind::Interrupted,
    }
}

/// What to send back for one request.
struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
}

/// Answers one request: the response's bytes and whether the connection stays open after it,
/// or `None` to drop the connection without a reply.
fn serve_request(shared: &Shared, request: &ParsedRequest) -> Option<(Vec<u8>, bool)> {
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
    let reply = reply?;
    if !shared.config.slow.is_zero() {
        thread::sleep(shared.config.slow);
    }
    let keep_alive = request.keep_alive() && !shared.stopping.load(Ordering::SeqCst);
    let date = wire::http_date(shared.now());
    Some((wire::write_response(reply.status, &date, reply.content_type, keep_alive, &reply.body), keep_alive))
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
    let fault = draw_fault(shared, record);
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
    // The id is known before the action runs: an instance's LatestOperationRequestId is it.
    let request_id = shared.request_id();
    let received = Received { unix: shared.now(), instant: Instant::now() };
    let outcome = api::answer(shared, request, received, &request_id);
    record.key_ids = outcome.key_ids;
    record.deleted = outcome.deleted;
    if fault == Fault::DropAfter {
        record.code = "fault:drop-after-apply".into();
        return None;
    }
    Some(api_reply(outcome.result, request_id, record))
}

/// The fault, if any, that meets the request `record` describes.
fn draw_fault(shared: &Shared, record: &RequestRecord) -> Fault {
    let config = &shared.config;
    let rates = FaultRates { fail: config.fail_rate, drop: config.drop_rate };
    let mutating = api::find_action(&record.action).is_some_and(|(_, a)| a.mutating);
    faults::decide(config.fault_seed, record.seq, rates, mutating)
}

/// The API's answer to a request that ran: its members or its error, with `request_id`.
fn api_reply(
    result: Result<serde_json::Map<String, Value>, api::ApiError>,
    request_id: String,
    record: &mut RequestRecord,
) -> Reply {
    let mut response = match result {
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
    record.request_id = request_id;
    response.insert("RequestId".into(), Value::String(record.request_id.clone()));
    record.status = 200;
    let body = json!({ "Response": response }).to_string().into_bytes();
    Reply { status: 200, content_type: "application/json", body }
}
