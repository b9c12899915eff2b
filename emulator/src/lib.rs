//! A local emulator of the Tencent Cloud CVM key-pair API on 127.0.0.1, in-process:
//! `DeleteKeyPairs`, `DescribeKeyPairs`, `CreateKeyPair`, `ImportKeyPair`,
//! `ModifyKeyPairAttribute`, `AssociateInstancesKeyPairs`, `DisassociateInstancesKeyPairs` and
//! `DescribeInstances` (CVM 2017-03-12), and on the same port STS's `AssumeRole` and
//! `AssumeRoleWithWebIdentity` (2018-08-13), whose temporary credentials then sign CVM calls.
//!
//! It lets a client's whole path — signing, HTTP, error handling, retries — be run and tested
//! with no cloud account: `cvm-keypairs emulate` serves it from the command line, and tests,
//! benches and the demo start it with [`Emulator::start`] and point any TC3-HMAC-SHA256 client
//! at [`Emulator::url`] with [`EmulatorConfig::DEFAULT_SECRET_ID`] and
//! [`EmulatorConfig::DEFAULT_SECRET_KEY`].
//!
//! The emulator is an oracle for the `cvm-keypairs` library and shares no code with it: it
//! verifies signatures with its own implementation of the documented algorithm on `ring`
//! (proven on the official SDK's signing vectors), parses requests with its own HTTP parser and
//! checks key pair ids with its own rule, so a bug in the client's signer or encoder fails
//! here as it would against the real API.
//!
//! ```
//! use cvm_keypairs_emulator::{Emulator, EmulatorConfig, KeyPair};
//! use std::io::{Read, Write};
//!
//! let emulator = Emulator::start(EmulatorConfig {
//!     key_pairs: vec![KeyPair::new("skey-aaaaaaaa")?],
//!     ..EmulatorConfig::default()
//! })?;
//! assert!(emulator.url().starts_with("http://127.0.0.1:"));
//! assert!(emulator.contains("skey-aaaaaaaa"));
//!
//! // A request without a signature is answered as the API answers it.
//! let mut stream = std::net::TcpStream::connect(emulator.addr())?;
//! stream.write_all(
//!     b"POST / HTTP/1.1\r\nX-TC-Action: DeleteKeyPairs\r\nX-TC-Version: 2017-03-12\r\n\
//!       Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
//! )?;
//! let mut answer = String::new();
//! stream.read_to_string(&mut answer)?;
//! assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(answer.contains(r#"{"Response":{"Error":{"Code":"AuthFailure.InvalidAuthorization","#));
//! assert!(emulator.contains("skey-aaaaaaaa"));
//! assert_eq!(emulator.stats().answers_with("AuthFailure.InvalidAuthorization"), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What it checks and answers
//! Every request must carry `X-TC-Action`, `X-TC-Version: 2017-03-12` (`2018-08-13` for STS), `X-TC-Timestamp` and a
//! TC3-HMAC-SHA256 `Authorization`, verified by signing the received bytes again (see the
//! README's "How requests are signed"):
//! `AuthFailure.InvalidAuthorization` (missing or malformed), `AuthFailure.SecretIdNotFound`,
//! `AuthFailure.TokenFailure` (token missing or wrong when one is configured, or sent when none
//! is), `AuthFailure.SignatureExpire` (more than 300 s from the emulator's clock),
//! `AuthFailure.SignatureFailure`. Then `NoSuchVersion`, `InvalidAction`, `MissingParameter`
//! (no `X-TC-Region`) or `UnsupportedRegion` (a region CVM is not offered in), the same for every
//! action, `RequestLimitExceeded`, `UnknownParameter` (a parameter the action does not take,
//! or one no action has) and `InvalidParameter` (a malformed query or body), and then the
//! action's own errors, each a code the official SDK lists (`tests/error-codes.txt`; the
//! crate's README has them action by action). Parameters have the official SDK's names and
//! rules: key pair ids `skey-` and instance ids `ins-` and eight of `[0-9a-z]`, at most 100 of
//! each per request; key names 1 to 25 of letters, digits and `_`; descriptions at most 60
//! characters; public keys one line `TYPE BASE64 [comment]` of an OpenSSH type whose decoded
//! blob starts with its type. API answers are HTTP 200 `application/json`,
//! `{"Response":{…,"RequestId":"…"}}` or
//! `{"Response":{"Error":{"Code":"…","Message":"…"},"RequestId":"…"}}`, with a `Date` header
//! from the emulator's clock (shifted by [`EmulatorConfig::clock_offset`]). `KeyPairSet`
//! entries carry no `PrivateKey` (only `CreateKeyPair`'s answer has one) and never show
//! `AssociatedImageIds`.
//!
//! # STS
//! The action names the service; a credential scope naming the other one is
//! `AuthFailure.SignatureFailure`. `AssumeRole` (signed) and `AssumeRoleWithWebIdentity` (sent
//! unsigned, `Authorization: SKIP`, as the official SDKs send it, with the token of
//! [`EmulatorConfig::web_identity_token`]) take a role of [`EmulatorConfig::roles`] and answer
//! `Credentials` (`Token`, `TmpSecretId`, `TmpSecretKey`), `ExpiredTime` and `Expiration`. Calls
//! signed with a `TmpSecretId` must carry its token in `X-TC-Token` and are refused with
//! `AuthFailure.TokenFailure` from `ExpiredTime` on, on the emulator's clock;
//! [`EmulatorConfig::sts_duration_cap`] shortens their life. At most 10,000 are remembered (the
//! expired, then the oldest, are forgotten first). The crate's README has the error codes.
//!
//! # Association is asynchronous
//! `AssociateInstancesKeyPairs` and `DisassociateInstancesKeyPairs` take only `STOPPED` Linux
//! instances (`UnsupportedOperation.InstanceStateRunning` without `ForceStop`,
//! `UnsupportedOperation.InstanceOsWindows`, `InvalidInstanceId.NotFound`,
//! `OperationDenied.InstanceOperationInProgress` while an earlier one is pending). They succeed
//! at once, but the change shows — in `AssociatedInstanceIds`, `LoginSettings.KeyIds` and to
//! `DeleteKeyPairs`, which refuses a key pair still visibly bound with
//! `InvalidParameterValue.KeyPairNotSupported` — only after [`EmulatorConfig::async_delay`];
//! until then `DescribeInstances` shows `LatestOperationState` `OPERATING`, then `SUCCESS`.
//! Associating a key pair with an instance replaces the instance's other key pairs. `ForceStop`
//! on a `RUNNING` instance stops it at once; [`EmulatorConfig::force_stop_restarts`] decides
//! whether it is `RUNNING` again when the change shows.
//!
//! # Rate limit and faults
//! Each action admits at most [`EmulatorConfig::rate_limit`] authenticated requests in any
//! sliding second, counted when each request has been read; requests refused with
//! `RequestLimitExceeded` do not count, nor do requests that met a fault. A client pacing
//! itself to exactly N per second should keep a small margin (a few milliseconds) for the time
//! its requests spend in transit. Faults hit every request before it is authenticated, drawn
//! from [`EmulatorConfig::fault_seed`] and the request's arrival number, so a sequential client
//! meets the same faults on every run: HTTP 500 with an HTML body
//! ([`EmulatorConfig::fail_rate`] of all requests), or the connection closed without a reply
//! ([`EmulatorConfig::drop_rate`]) — for the actions that change state half of those after the
//! change was applied, so a retry of a delete sees `InvalidKeyPairId.NotFound` for keys it just
//! deleted.
//!
//! # Connections
//! At most [`EmulatorConfig::max_connections`] are open at once; a request must arrive whole
//! within [`EmulatorConfig::request_timeout`] of its first byte, and a connection silent for
//! [`EmulatorConfig::idle_timeout`] is closed. When all are taken, a new connection evicts the
//! one that has waited longest on its client (idle, part-way through a request, or not reading
//! its answer), so slow clients cannot lock out a prompt one even if they reconnect at once.
//! Connections whose request is being answered, or whose first bytes the emulator has not yet
//! read, are never evicted; only when all are such is a new one answered 503 and closed.
//!
//! # Seed file
//! A JSON array of key pairs, or an object `{"KeyPairs": [...], "Instances": [...]}`, at most
//! [`MAX_SEED_BYTES`]; see [`parse_seed`], whose errors name the entry, its id and the field. A
//! key pair is its id or an object with `KeyId` (required), `KeyName`, `ProjectId`,
//! `Description`, `PublicKey`, `AssociatedInstanceIds`, `AssociatedImageIds`, `CreatedTime`
//! and `Tags` (`[{"Key":…,"Value":…}]`); one with an associated instance or image is bound and
//! cannot be deleted. An instance is its id or an object with `InstanceId` (required),
//! `InstanceState` (`RUNNING` or `STOPPED`, the default) and `OsName`. An instance a key pair
//! names but the seed does not list is added, `STOPPED` and running Linux, so array seeds keep
//! working unchanged.
//!
//! ```json
//! {"KeyPairs": ["skey-aaaaaaaa", {"KeyId": "skey-bbbbbbbb", "KeyName": "web", "AssociatedInstanceIds": ["ins-12345678"]}],
//!  "Instances": [{"InstanceId": "ins-12345678", "InstanceState": "RUNNING", "OsName": "Ubuntu Server 22.04 LTS 64bit"}]}
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api;
mod auth;
mod faults;
mod keys;
mod params;
mod seed;
mod server;
mod store;
mod sts;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
pub mod wire;

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

pub use seed::{parse_seed, Seed, MAX_SEED_BYTES};
pub use store::{BoundBehavior, InputError, Instance, InstanceState, KeyPair, Tag};

/// A callback told about every complete request, after it was answered (or dropped).
pub type OnRequest = Arc<dyn Fn(&RequestRecord) + Send + Sync>;

/// How the emulator behaves.
#[derive(Clone)]
pub struct EmulatorConfig {
    /// The port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The only secret id accepted.
    pub secret_id: String,
    /// The secret key requests must be signed with. Never shown by `Debug`.
    pub secret_key: String,
    /// A session token every request must carry as `X-TC-Token`; with `None`, a request that
    /// carries one is refused. Never shown by `Debug`.
    pub token: Option<String>,
    /// The key pairs present at start.
    pub key_pairs: Vec<KeyPair>,
    /// The instances present at start, besides those the key pairs name (which are added
    /// `STOPPED` and running Linux).
    pub instances: Vec<Instance>,
    /// What a delete does with key pairs bound to an instance or image.
    pub bound_behavior: BoundBehavior,
    /// How long an accepted (dis)association takes to show: until then DescribeKeyPairs,
    /// DescribeInstances' `LoginSettings` and DeleteKeyPairs see the bindings as they were, and
    /// the instance's `LatestOperationState` is `OPERATING`. 1 s by default.
    pub async_delay: Duration,
    /// Whether an instance that a (dis)association force-stopped (`ForceStop` on a `RUNNING`
    /// one) is `RUNNING` again when the change shows; by default it stays `STOPPED`, as the
    /// older API pages say (the 2025 SDK text says it is restarted).
    pub force_stop_restarts: bool,
    /// The most key pairs the account may hold: CreateKeyPair and ImportKeyPair beyond it get
    /// `InvalidKeyPair.LimitExceeded`. 100 by default, the limit the CVM "SSH key" page gives
    /// for an account (a seed may hold more).
    pub key_quota: usize,
    /// Requests per action admitted in any sliding second (10 as in the API); 0 for no limit.
    pub rate_limit: u32,
    /// The share of requests answered HTTP 500 with an HTML body, from 0 to 1.
    pub fail_rate: f64,
    /// The share of requests whose connection is closed without a reply, from 0 to 1;
    /// `fail_rate + drop_rate` is at most 1.
    pub drop_rate: f64,
    /// Seeds the fault draws.
    pub fault_seed: u64,
    /// A delay before every answer.
    pub slow: Duration,
    /// Seconds added to the system clock to get the emulator's clock.
    pub clock_offset: i64,
    /// The most connections open at once (64 by default). When all are taken, a new one evicts
    /// the connection that has waited longest on its client (idle, part-way through a request,
    /// or not taking its answer); only if every one is being answered or was just accepted is
    /// the new one answered 503 and closed.
    pub max_connections: usize,
    /// How long a connection may stay silent (between or within requests) before it is closed;
    /// 30 s by default, longer than HTTP clients keep idle pooled connections (ureq: 15 s).
    /// Zero for no limit.
    pub idle_timeout: Duration,
    /// How long one request (head and body) may take to arrive, from its first byte, before
    /// the connection is closed without an answer; 5 s by default. Zero for no limit.
    pub request_timeout: Duration,
    /// The role ARNs that exist, for `AssumeRole` and `AssumeRoleWithWebIdentity` (any other
    /// is `ResourceNotFound.RoleNotFound`); by default [`EmulatorConfig::DEFAULT_ROLE_ARN`].
    pub roles: Vec<String>,
    /// The web identity token `AssumeRoleWithWebIdentity` accepts (another is
    /// `InvalidParameter.WebIdentityTokenError`); with `None`, that action is refused with
    /// `UnsupportedOperation`. Never shown by `Debug`.
    pub web_identity_token: Option<String>,
    /// The longest life, in seconds, of the temporary credentials STS issues, whatever
    /// `DurationSeconds` asks for (so that tests can see them expire); at least 1.
    pub sts_duration_cap: Option<u64>,
    /// Told about every complete request.
    pub on_request: Option<OnRequest>,
}

impl EmulatorConfig {
    /// The secret id accepted by default.
    pub const DEFAULT_SECRET_ID: &'static str = "AKIDEMULATOR00000000000000000000";
    /// The secret key accepted by default. Not a secret: it only opens the local emulator.
    pub const DEFAULT_SECRET_KEY: &'static str = "emulator-secret-key-not-for-production";
    /// The role that exists by default.
    pub const DEFAULT_ROLE_ARN: &'static str = "qcs::cam::uin/100000000001:roleName/cvm-keypairs-emulator";
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            port: 0,
            secret_id: Self::DEFAULT_SECRET_ID.to_owned(),
            secret_key: Self::DEFAULT_SECRET_KEY.to_owned(),
            token: None,
            key_pairs: Vec::new(),
            instances: Vec::new(),
            bound_behavior: BoundBehavior::default(),
            async_delay: Duration::from_secs(1),
            force_stop_restarts: false,
            key_quota: 100,
            rate_limit: 10,
            fail_rate: 0.0,
            drop_rate: 0.0,
            fault_seed: 0,
            slow: Duration::ZERO,
            clock_offset: 0,
            max_connections: 64,
            idle_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(5),
            roles: vec![Self::DEFAULT_ROLE_ARN.to_owned()],
            web_identity_token: None,
            sts_duration_cap: None,
            on_request: None,
        }
    }
}

impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("port", &self.port)
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"***")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("key_pairs", &self.key_pairs.len())
            .field("instances", &self.instances.len())
            .field("bound_behavior", &self.bound_behavior)
            .field("async_delay", &self.async_delay)
            .field("force_stop_restarts", &self.force_stop_restarts)
            .field("key_quota", &self.key_quota)
            .field("rate_limit", &self.rate_limit)
            .field("fail_rate", &self.fail_rate)
            .field("drop_rate", &self.drop_rate)
            .field("fault_seed", &self.fault_seed)
            .field("slow", &self.slow)
            .field("clock_offset", &self.clock_offset)
            .field("max_connections", &self.max_connections)
            .field("idle_timeout", &self.idle_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("roles", &self.roles)
            .field("web_identity_token", &self.web_identity_token.as_ref().map(|_| "***"))
            .field("sts_duration_cap", &self.sts_duration_cap)
            .field("on_request", &self.on_request.as_ref().map(|_| ".."))
            .finish()
    }
}

/// One complete request and what became of it; `cvm-keypairs emulate --log` prints these as
/// JSON lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    /// The arrival number, from 0.
    pub seq: u64,
    /// The HTTP method.
    pub method: String,
    /// `X-TC-Action`, empty when absent.
    pub action: String,
    /// How many `KeyIds` it named (0 when its parameters were not read).
    pub key_ids: usize,
    /// The HTTP status sent, 0 when the connection was dropped.
    pub status: u16,
    /// `OK`, the API error code, or a fault: `fault:http-500`, `fault:drop`,
    /// `fault:drop-after-apply`, or `http:<status>` for a request refused below the API.
    pub code: String,
    /// The `RequestId` sent, empty when none was.
    pub request_id: String,
    /// How many key pairs it deleted.
    pub deleted: usize,
}

/// Counters since start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Complete requests received, by `X-TC-Action` (empty when absent), faults included;
    /// beyond 64 distinct names, further ones are counted under `(other)`.
    pub requests: BTreeMap<String, u64>,
    /// Outcomes by [`RequestRecord::code`]; also `http:<status>` for bytes that were not a
    /// request and `http:503` for connections refused when none could be evicted to make room.
    pub answers: BTreeMap<String, u64>,
}

impl Stats {
    /// Requests received for `action`.
    pub fn requests_for(&self, action: &str) -> u64 {
        self.requests.get(action).copied().unwrap_or(0)
    }

    /// Outcomes with `code`.
    pub fn answers_with(&self, code: &str) -> u64 {
        self.answers.get(code).copied().unwrap_or(0)
    }

    /// All requests received.
    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }
}

/// A running emulator; it stops when dropped.
pub struct Emulator {
    shared: Arc<server::Shared>,
    addr: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Emulator {
    /// Binds 127.0.0.1 and starts serving. Fails if the port is taken, a fault rate or their
    /// sum is not within 0 to 1, the STS duration cap is 0, or the id of a key pair or
    /// instance is malformed (kind `InvalidInput`).
    pub fn start(config: EmulatorConfig) -> io::Result<Emulator> {
        if config.sts_duration_cap == Some(0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the STS duration cap must be at least 1 s",
            ));
        }
        let rates = [config.fail_rate, config.drop_rate, config.fail_rate + config.drop_rate];
        if !rates.iter().all(|rate| (0.0..=1.0).contains(rate)) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the fail and drop rates must be from 0 to 1, and so must their sum",
            ));
        }
        let ids = config.key_pairs.iter().map(KeyPair::check_ids);
        let instance_ids = config.instances.iter().map(|i| store::INSTANCE_IDS.check(&i.instance_id));
        ids.chain(instance_ids)
            .collect::<Result<(), InputError>>()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let (shared, addr, acceptor) = server::start(config)?;
        Ok(Emulator { shared, addr, acceptor: Some(acceptor) })
    }

    /// The bound address, always on 127.0.0.1.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where to point a client: `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.shared.stats().clone()
    }

    /// The key pairs present now, ordered by id, with the instances they are visibly bound to.
    pub fn key_pairs(&self) -> Vec<KeyPair> {
        self.shared.settled_store().all()
    }

    /// The instances present now, ordered by id, in their visible state.
    pub fn instances(&self) -> Vec<Instance> {
        self.shared.settled_store().instances()
    }

    /// Whether the key pair `id` is present.
    pub fn contains(&self, id: &str) -> bool {
        self.shared.settled_store().contains(id)
    }

    /// Adds a key pair, or replaces the one with the same id, bound at once to the instances
    /// it names; fails if its id or an instance id is malformed.
    pub fn insert(&self, key_pair: KeyPair) -> Result<(), InputError> {
        key_pair.check_ids()?;
        self.shared.settled_store().insert(key_pair);
        Ok(())
    }

    /// Stops accepting, closes every connection and waits (a bounded time) for their threads.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(acceptor) = self.acceptor.take() {
            server::stop(&self.shared, self.addr, acceptor);
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The system clock in Unix seconds (negative before 1970).
pub(crate) fn unix_now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}
