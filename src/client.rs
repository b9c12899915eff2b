//! [`Client`]: sign, send and parse one API call, with its [`ClientBuilder`].
//!
//! A call is three steps that stay separately reachable, so a dry run can stop after the first
//! and a retrying caller can repeat the last two with a corrected timestamp:
//! [`Client::sign_at`] (credentials, configuration and action to an [`HttpRequest`]),
//! [`Client::send`] (through the [`Transport`], then [`response::parse`]), and
//! [`Client::execute_at`], both in one. Each of those makes exactly one attempt;
//! [`Client::execute_retrying`] adds pacing, retries and clock-skew correction around them.

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::actions::delete_key_pairs::DeleteKeyPairs;
use crate::actions::describe_key_pairs::{self, DescribeKeyPairs, DescribeKeyPairsOutput, KeyPair};
use crate::clock::{Clock, SystemClock};
use crate::credentials::{
    region_from_env, Credentials, Environment, ProvideCredentials, SystemEnvironment, REGION_VAR,
};
use crate::endpoint::Endpoint;
use crate::error::{Error, ErrorCode, TransportKind};
use crate::http::{HttpRequest, HttpResponse, Method};
use crate::key_id::KeyId;
use crate::limiter::RateLimiter;
use crate::observe::{Event, Hooks, WaitReason};
use crate::request::{Action, Language, RequestConfig, SignedHeaderSet};
use crate::response;
use crate::retry::{self, RetryPolicy};
use crate::scrub::Secrets;
use crate::tc3::Signer;
use crate::transport::Transport;

/// A blocking CVM API client: one configuration, one credentials source, one transport, and a
/// signer whose derived key is reused across calls. Share it between threads by reference or
/// in an `Arc`.
///
/// ```
/// use std::sync::Arc;
/// use cvm_keypairs::{Client, Credentials, DeleteKeyPairs, HttpRequest, HttpResponse, Error};
///
/// // A stand-in for the network: any `Fn(&HttpRequest) -> Result<HttpResponse, Error>`.
/// let fake = |request: &HttpRequest| -> Result<HttpResponse, Error> {
///     assert_eq!(request.header("X-TC-Action"), Some("DeleteKeyPairs"));
///     Ok(HttpResponse { status: 200, body: br#"{"Response":{"RequestId":"r-1"}}"#.to_vec(), ..Default::default() })
/// };
/// let client = Client::builder()
///     .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE")?)
///     .region("ap-guangzhou")
///     .transport(Arc::new(fake))
///     .build()?;
/// let request_id = client.delete_key_pairs(&DeleteKeyPairs::parse(["skey-mv9yzyjj"])?)?;
/// assert_eq!(request_id, "r-1");
/// # Ok::<(), cvm_keypairs::Error>(())
/// ```
pub struct Client {
    config: RequestConfig,
    credentials: Arc<dyn ProvideCredentials>,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    signer: Signer,
    limiter: Option<RateLimiter>,
    retry: RetryPolicy,
    // Seconds to add to the clock, learnt from a server that rejected a signature as expired.
    skew: AtomicI64,
}

/// The outcome of a call that may have been attempted several times.
#[derive(Debug)]
pub struct Attempted<T> {
    /// The last attempt's result.
    pub result: Result<T, Error>,
    /// The RequestIds of the earlier attempts' API answers, so none is lost.
    pub request_ids: Vec<String>,
    /// Whether a failed attempt may still have taken effect on the server (a timeout, a broken
    /// connection, a 5xx or an internal error after the request went out).
    pub may_have_taken_effect: bool,
}

impl Client {
    /// A builder; credentials are required, everything else has a default.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// How requests are built: endpoint, region, method, language, signed headers.
    pub fn config(&self) -> &RequestConfig {
        &self.config
    }

    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The current time in Unix seconds: the client's clock, corrected by any skew learnt
    /// from the server.
    pub fn now(&self) -> i64 {
        self.clock.now().saturating_add(self.skew.load(Ordering::Relaxed))
    }

    /// The correction, in seconds, added to the clock after a server reported the signature
    /// expired (0 until then).
    pub fn clock_skew(&self) -> i64 {
        self.skew.load(Ordering::Relaxed)
    }

    /// Sends `action` until it succeeds, fails for good, or the retry policy is spent.
    ///
    /// Each attempt is signed afresh with the current time. Transient failures
    /// ([`Error::is_retryable`]) are retried with exponential backoff and full jitter, with no
    /// wait after the last attempt; throttling ([`Error::is_throttling`]) has its own, larger
    /// budget and always waits out the API's one-second window (see [`RetryPolicy`]). Retrying
    /// stops once no HTTP response has come for [`RetryPolicy::give_up_after`].
    /// `AuthFailure.SignatureExpire` with a `Date` header sets the client's clock correction
    /// from it and re-signs once, without using up an attempt.
    ///
    /// A retry after a timeout, a broken connection or a server error may repeat an action
    /// that did take effect ([`Attempted::may_have_taken_effect`] says so): use this for
    /// actions that are safe to repeat, or check the outcome, as the batch deletion does.
    pub fn execute_retrying<T: DeserializeOwned>(&self, action: &(impl Action + ?Sized)) -> Attempted<T> {
        self.execute_hooked(action, &mut Hooks::new(&mut |_| {}, None), as_parsed)
    }

    /// [`Client::execute_retrying`], telling `hooks` about each attempt and wait, stopping
    /// when they ask, and scrubbing each output with `scrub`.
    pub(crate) fn execute_hooked<T: DeserializeOwned>(
        &self,
        action: &(impl Action + ?Sized),
        hooks: &mut Hooks<'_>,
        scrub: Scrub<T>,
    ) -> Attempted<T> {
        let (mut request_ids, mut may_have_taken_effect) = (Vec::new(), false);
        let mut tries = Tries::default();
        let error = loop {
            let error = match self.attempt(action, tries.attempts() + 1, hooks, scrub) {
                Ok(value) => return Attempted { result: Ok(value), request_ids, may_have_taken_effect },
                Err(error) => error,
            };
            may_have_taken_effect |= may_have_taken_effect_despite(&error);
            let Some(wait) = self.next_try(&error, &mut tries) else { break error };
            if hooks.stop_requested() || hooks.silent_for() >= self.retry.give_up_after {
                break error;
            }
            request_ids.extend(error.request_id().map(str::to_owned));
            hooks.wait(wait, WaitReason::Retry { action: action.name(), error: &error });
        };
        Attempted { result: Err(error), request_ids, may_have_taken_effect }
    }

    /// How long to wait before trying again after `error`, or `None` to give up.
    fn next_try(&self, error: &Error, tries: &mut Tries) -> Option<Duration> {
        if let Error::Api { code: ErrorCode::AuthFailureSignatureExpire, server_time: Some(server), .. } =
            error
        {
            if !tries.skew_corrected {
                tries.skew_corrected = true;
                self.skew.store(server.saturating_sub(self.clock.now()), Ordering::Relaxed);
                return Some(Duration::ZERO);
            }
        }
        if error.is_throttling() {
            tries.throttled += 1;
            return self.retry.throttle_delay(tries.throttled, retry::random_u64());
        }
        tries.failed += 1;
        if !error.is_retryable() {
            return None;
        }
        self.retry.delay(tries.failed, retry::random_u64())
    }

    /// One attempt: paced, signed at the current time, sent, parsed, with the secrets of the
    /// credentials it was signed with masked in whatever comes back (`scrub` masks them in
    /// what parsing cut short).
    fn attempt<T: DeserializeOwned>(
        &self,
        action: &(impl Action + ?Sized),
        attempt: u32,
        hooks: &mut Hooks<'_>,
        scrub: Scrub<T>,
    ) -> Result<T, Error> {
        if let Some(limiter) = &self.limiter {
            hooks.wait(limiter.book(action.name()), WaitReason::Pacing { action: action.name() });
        }
        if hooks.stop_requested() {
            return Err(Error::Interrupted);
        }
        let (credentials, request) = self.signed(action, self.now())?;
        hooks.event(&Event::Sending { action: action.name(), attempt });
        let response = self.transport.send(&request);
        if response.is_ok() {
            hooks.answered();
        }
        let secrets = Secrets::of(&credentials);
        let mut output = parse_masked(response, secrets)?;
        scrub(&mut output, secrets);
        Ok(output)
    }

    /// The signed request for `action` at the clock's time, as it would be sent: what a dry
    /// run prints.
    pub fn sign(&self, action: &(impl Action + ?Sized)) -> Result<HttpRequest<'_>, Error> {
        self.sign_at(action, self.now())
    }

    /// The signed request for `action` at `timestamp` (Unix seconds), with the credentials
    /// the provider gives now. A client without a region refuses, before asking for
    /// credentials.
    pub fn sign_at(&self, action: &(impl Action + ?Sized), timestamp: i64) -> Result<HttpRequest<'_>, Error> {
        Ok(self.signed(action, timestamp)?.1)
    }

    /// The credentials the provider gives now, and `action` signed with them at `timestamp`.
    fn signed(
        &self,
        action: &(impl Action + ?Sized),
        timestamp: i64,
    ) -> Result<(Credentials, HttpRequest<'_>), Error> {
        self.require_region()?;
        let credentials: Credentials = self.credentials.credentials()?;
        let request = self.config.build(&self.signer, &credentials, action, timestamp)?;
        Ok((credentials, request))
    }

    /// Every CVM action needs a region; [`RequestConfig::build`] accepts none only because a
    /// signer alone may be asked to reproduce such a request.
    fn require_region(&self) -> Result<(), Error> {
        if self.config.region.is_empty() {
            return Err(Error::InvalidInput(format!(
                "no region: give the client one (e.g. ap-guangzhou) or set {REGION_VAR}"
            )));
        }
        Ok(())
    }

    /// Sends a signed request once and parses the response into `T` (the fields of the
    /// `Response` object). The client's rate limiter paces every request it sends.
    ///
    /// Should a server or gateway echo the request's session token anywhere in its answer, it
    /// is replaced by `***`. (The calls that sign for themselves, such as
    /// [`Client::execute`], mask the secret key too.) A client without a region sends nothing.
    pub fn send<T: DeserializeOwned>(&self, request: &HttpRequest<'_>) -> Result<T, Error> {
        self.require_region()?;
        if let (Some(limiter), Some(action)) = (&self.limiter, request.header("X-TC-Action")) {
            std::thread::sleep(limiter.book(action));
        }
        parse_masked(self.transport.send(request), Secrets::token(request.header("X-TC-Token")))
    }

    /// Signs `action` at the clock's time, sends it once and parses the response.
    pub fn execute<T: DeserializeOwned>(&self, action: &(impl Action + ?Sized)) -> Result<T, Error> {
        self.once(action, as_parsed)
    }

    /// One attempt at `action`, its output scrubbed with `scrub`.
    fn once<T: DeserializeOwned>(
        &self,
        action: &(impl Action + ?Sized),
        scrub: Scrub<T>,
    ) -> Result<T, Error> {
        self.attempt(action, 1, &mut Hooks::new(&mut |_| {}, None), scrub)
    }

    /// Signs `action` at `timestamp`, sends it once and parses the response.
    pub fn execute_at<T: DeserializeOwned>(
        &self,
        action: &(impl Action + ?Sized),
        timestamp: i64,
    ) -> Result<T, Error> {
        let (credentials, request) = self.signed(action, timestamp)?;
        if let Some(limiter) = &self.limiter {
            std::thread::sleep(limiter.book(action.name()));
        }
        parse_masked(self.transport.send(&request), Secrets::of(&credentials))
    }

    /// Calls any CVM action once: `params` must serialise to a JSON object (or unit, for no
    /// parameters), sent as the POST body or, with GET, flattened into the query (in key
    /// order). `Resp` is deserialised from the `Response` object.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), cvm_keypairs::Error> {
    /// # let client = cvm_keypairs::Client::builder().region("ap-guangzhou")
    /// #     .credentials(cvm_keypairs::Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE")?).build()?;
    /// let zones: serde_json::Value = client.call("DescribeZones", "2017-03-12", &())?;
    /// # Ok(()) }
    /// ```
    pub fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        action: &'static str,
        version: &'static str,
        params: &Req,
    ) -> Result<Resp, Error> {
        self.execute(&Generic { name: action, version, params })
    }

    /// Deletes 1 to 100 key pairs in one call, once, and returns the RequestId.
    ///
    /// Success means the API accepted the request; a key bound to an instance or image is not
    /// deleted, so verify with [`Client::describe_key_pairs`] where it matters.
    pub fn delete_key_pairs(&self, request: &DeleteKeyPairs) -> Result<String, Error> {
        Ok(self.once(request, RequestIdOnly::scrub)?.request_id)
    }

    /// Lists one page of key pairs.
    pub fn describe_key_pairs(&self, request: &DescribeKeyPairs) -> Result<DescribeKeyPairsOutput, Error> {
        self.once(request, scrub_listing)
    }

    /// Lists every key pair matching `request` (its ids or filters, from its offset on), page
    /// after page, each page retried as [`Client::execute_retrying`] does (listing is safe to
    /// repeat). For a request by ids, only those ids are kept, whatever else the API returns.
    ///
    /// The listing ends on its own whatever the server answers: at the `TotalCount` it
    /// reports, on an empty page, or on a page that adds no key not listed before. A page
    /// larger than asked for, or a listing beyond 100,000 key pairs or 2,000 pages, is an
    /// [`Error::Decode`]. [`KeyPairList::is_complete`] tells whether what was listed is
    /// everything the API counted.
    ///
    /// Pages are separate calls: a key pair created or deleted meanwhile may shift the
    /// pages, so one may be missed (the list is then incomplete); none is listed twice.
    pub fn describe_all_key_pairs(&self, request: &DescribeKeyPairs) -> Result<KeyPairList, Error> {
        self.list_hooked(request, &mut Hooks::new(&mut |_| {}, None))
    }

    /// [`Client::describe_all_key_pairs`] with `hooks`.
    pub(crate) fn list_hooked(
        &self,
        request: &DescribeKeyPairs,
        hooks: &mut Hooks<'_>,
    ) -> Result<KeyPairList, Error> {
        let asked: HashSet<KeyId> = request.key_ids().iter().copied().collect();
        let limit = if asked.is_empty() { describe_key_pairs::MAX_LIMIT } else { asked.len() as u64 };
        let mut offset = request.offset().unwrap_or(0);
        let mut list = KeyPairList::default();
        let mut seen = HashSet::new();
        for _ in 0..MAX_LISTING_PAGES {
            let page_request = request.clone().with_offset(offset).with_limit(limit)?;
            let attempted = self.execute_hooked(&page_request, hooks, scrub_listing);
            list.request_ids.extend(attempted.request_ids);
            let page = attempted.result?;
            list.request_ids.push(page.request_id.clone());
            let count = page.key_pairs.len() as u64;
            if count > limit {
                return Err(listing_error(
                    page.request_id,
                    format!("a page of {count} key pairs, {limit} asked for"),
                ));
            }
            let before = list.key_pairs.len();
            list.total_count = page.total_count;
            list.key_pairs.extend(
                page.key_pairs
                    .into_iter()
                    .filter(|k| (asked.is_empty() || asked.contains(&k.key_id)) && seen.insert(k.key_id)),
            );
            if list.key_pairs.len() > MAX_LISTED {
                return Err(listing_error(page.request_id, format!("more than {MAX_LISTED} key pairs")));
            }
            offset = offset.saturating_add(count);
            if count == 0 || list.key_pairs.len() == before || offset >= page.total_count {
                return Ok(list);
            }
        }
        Err(Error::Decode {
            status: 200,
            message: format!("the listing goes on past {MAX_LISTING_PAGES} pages"),
            request_id: None,
        })
    }
}

/// What an output needs after parsing, given the secrets of its request: one that holds a
/// text the parser cut short (a RequestId, see [`response::ID_CHARS`]) masks the start of a
/// secret that the cut may have left ([`Secrets::cut_text`]), as errors do.
pub(crate) type Scrub<T> = for<'s> fn(&mut T, Secrets<'s>);

/// The [`Scrub`] of outputs of the caller's choosing, which this crate does not cut.
fn as_parsed<T>(_: &mut T, _: Secrets<'_>) {}

fn scrub_listing(output: &mut DescribeKeyPairsOutput, secrets: Secrets<'_>) {
    secrets.cut_text(&mut output.request_id);
}

/// What came back, parsed, with `secrets` masked everywhere in it.
fn parse_masked<T: DeserializeOwned>(
    response: Result<HttpResponse, Error>,
    secrets: Secrets<'_>,
) -> Result<T, Error> {
    response.and_then(|r| response::parse(&secrets.response(&r))).map_err(|e| secrets.error(e))
}

/// The most key pairs one listing holds.
const MAX_LISTED: usize = 100_000;
/// The most pages one listing asks for.
const MAX_LISTING_PAGES: usize = 2_000;

fn listing_error(request_id: String, what: String) -> Error {
    Error::Decode {
        status: 200,
        message: format!("DescribeKeyPairs returned {what}; refusing the listing"),
        request_id: Some(request_id),
    }
}

/// Key pairs listed over several pages by [`Client::describe_all_key_pairs`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct KeyPairList {
    /// Each key pair once, in the order of the pages.
    pub key_pairs: Vec<KeyPair>,
    /// How many key pairs match, as the API counted them on the last page (`TotalCount`).
    pub total_count: u64,
    /// The RequestId of every page, in order.
    pub request_ids: Vec<String>,
}

impl KeyPairList {
    /// Whether exactly the key pairs the API counted were listed: only then does a key pair
    /// missing from the list not exist (a listing cut short, or a server that counts more
    /// than it returns, is not evidence of absence).
    pub fn is_complete(&self) -> bool {
        self.key_pairs.len() as u64 == self.total_count
    }
}

/// Attempts made so far at one call, by kind of failure.
#[derive(Default)]
struct Tries {
    failed: u32,
    throttled: u32,
    skew_corrected: bool,
}

impl Tries {
    fn attempts(&self) -> u32 {
        self.failed + self.throttled + u32::from(self.skew_corrected)
    }
}

/// The output of actions that return nothing but their RequestId.
#[derive(Deserialize)]
pub(crate) struct RequestIdOnly {
    #[serde(rename = "RequestId", deserialize_with = "response::request_id")]
    pub(crate) request_id: String,
}

impl RequestIdOnly {
    /// The [`Scrub`] of this output.
    pub(crate) fn scrub(&mut self, secrets: Secrets<'_>) {
        secrets.cut_text(&mut self.request_id);
    }
}

/// Whether the request behind `error` may have been carried out although it failed.
fn may_have_taken_effect_despite(error: &Error) -> bool {
    match error {
        Error::Transport { kind, .. } => !matches!(kind, TransportKind::Connect | TransportKind::Tls),
        Error::Http { status, .. } => *status >= 500,
        Error::Decode { .. } => true,
        Error::Api { code, .. } => matches!(code, ErrorCode::InternalError | ErrorCode::InternalServerError),
        _ => false,
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("credentials", &self.credentials)
            .field("rate_limit", &self.limiter.as_ref().map(RateLimiter::per_second))
            .field("retry", &self.retry)
            .field("clock_skew", &self.clock_skew())
            .finish_non_exhaustive()
    }
}

/// An action named at run time, with parameters from any `Serialize` value.
struct Generic<'a, P> {
    name: &'static str,
    version: &'static str,
    params: &'a P,
}

impl<P: Serialize> Action for Generic<'_, P> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn version(&self) -> &'static str {
        self.version
    }

    fn write_query(&self, out: &mut String) -> Result<(), Error> {
        let encoded = match serde_json::to_value(self.params).map_err(Error::unencodable)? {
            serde_json::Value::Object(params) => crate::query::encode_object(&params),
            serde_json::Value::Null => String::new(),
            _ => return Err(not_an_object()),
        };
        crate::query::append(out, &encoded);
        Ok(())
    }

    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let start = out.len();
        serde_json::to_writer(&mut *out, self.params).map_err(Error::unencodable)?;
        match &out[start..] {
            [b'{', ..] => Ok(()),
            b"null" => {
                out.truncate(start);
                out.extend_from_slice(b"{}");
                Ok(())
            }
            _ => Err(not_an_object()),
        }
    }
}

fn not_an_object() -> Error {
    Error::InvalidInput("the parameters must serialise to a JSON object".into())
}

/// Settings for a [`Client`]. Only credentials are required.
///
/// Defaults: endpoint `cvm.tencentcloudapi.com`, the region from `TENCENTCLOUD_REGION`, POST,
/// no language header, [`SignedHeaderSet::WithAction`], the system clock, 10 requests per
/// second per action and [`RetryPolicy::default`] for [`Client::execute_retrying`], and with
/// the `ureq` feature a [`UreqTransport`](crate::transport::UreqTransport) with its defaults
/// (so [`build`](Self::build) fails on a proxy variable it cannot use) and the default
/// credentials chain (environment, profile file, instance role).
///
/// A client without a region (none given, `TENCENTCLOUD_REGION` unset or empty) can be built,
/// but it signs and sends nothing: every call fails with [`Error::InvalidInput`] saying "no
/// region", and [`Client::delete_key_pairs_all`] fails as a whole.
#[derive(Default)]
pub struct ClientBuilder {
    config: RequestConfig,
    region_set: bool,
    rate_limit: Option<usize>,
    retry: RetryPolicy,
    endpoint: Option<String>,
    allow_insecure_http: bool,
    credentials: Option<Arc<dyn ProvideCredentials>>,
    transport: Option<Arc<dyn Transport>>,
    clock: Option<Arc<dyn Clock>>,
}

impl ClientBuilder {
    /// Fixed credentials.
    pub fn credentials(self, credentials: Credentials) -> Self {
        self.credentials_provider(Arc::new(credentials))
    }

    /// A source asked for credentials before every request, so temporary ones can rotate.
    pub fn credentials_provider(mut self, provider: Arc<dyn ProvideCredentials>) -> Self {
        self.credentials = Some(provider);
        self
    }

    /// The region, e.g. `ap-guangzhou` (sent as `X-TC-Region`), instead of
    /// `TENCENTCLOUD_REGION`. An empty one is a missing region: [`build`](Self::build) fails.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.config.region = region.into();
        self.region_set = true;
        self
    }

    /// At most `per_second` requests per action in any second for
    /// [`Client::execute_retrying`] and the batch calls, across all threads using the client
    /// (default 10, the API's limit for the key-pair actions); 0 turns pacing off.
    pub fn rate_limit(mut self, per_second: usize) -> Self {
        self.rate_limit = Some(per_second);
        self
    }

    /// How [`Client::execute_retrying`] and the batch calls retry.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The endpoint as text: `host`, `host:port`, `https://…`, or `http://…` for a loopback
    /// host (any host after [`ClientBuilder::allow_insecure_http`]). Checked by
    /// [`ClientBuilder::build`].
    pub fn endpoint(mut self, endpoint: &str) -> Self {
        self.endpoint = Some(endpoint.to_owned());
        self
    }

    /// An endpoint already parsed.
    pub fn parsed_endpoint(mut self, endpoint: Endpoint) -> Self {
        self.config.endpoint = endpoint;
        self.endpoint = None;
        self
    }

    /// Accepts a plain `http://` endpoint on any host. The signed request and any session
    /// token then cross the network in clear text.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// POST with a JSON body (the default) or GET with a query.
    pub fn method(mut self, method: Method) -> Self {
        self.config.method = method;
        self
    }

    /// The language of API error messages.
    pub fn language(mut self, language: Language) -> Self {
        self.config.language = Some(language);
        self
    }

    /// Which headers the signature covers.
    pub fn signed_headers(mut self, set: SignedHeaderSet) -> Self {
        self.config.signed_headers = set;
        self
    }

    /// Signs `UNSIGNED-PAYLOAD` instead of the body.
    pub fn unsigned_payload(mut self, unsigned: bool) -> Self {
        self.config.unsigned_payload = unsigned;
        self
    }

    /// How requests are sent.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Where the time for signatures comes from.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The client, or why the settings cannot make one.
    pub fn build(self) -> Result<Client, Error> {
        self.build_in(&SystemEnvironment)
    }

    /// [`build`](Self::build) with the region and proxy variables read from `env`.
    fn build_in(self, env: &dyn Environment) -> Result<Client, Error> {
        let mut config = self.config;
        if let Some(text) = &self.endpoint {
            config.endpoint = if self.allow_insecure_http {
                Endpoint::parse_allowing_http(text)
            } else {
                Endpoint::parse(text)
            }?;
        }
        if !self.region_set {
            config.region = region_from_env(env)?.unwrap_or_default();
        } else if config.region.is_empty() {
            return Err(Error::InvalidInput("no region: the region given is empty".into()));
        }
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let credentials = match self.credentials {
            Some(credentials) => credentials,
            None => default_credentials(clock.clone())?,
        };
        let transport = match self.transport {
            Some(transport) => transport,
            None => default_transport(env)?,
        };
        let limiter = match self.rate_limit.unwrap_or(DEFAULT_RATE_LIMIT) {
            0 => None,
            n => Some(RateLimiter::new(n)),
        };
        Ok(Client {
            config,
            credentials,
            transport,
            clock,
            signer: Signer::new(),
            limiter,
            retry: self.retry,
            skew: AtomicI64::new(0),
        })
    }
}

/// The API's limit for the key-pair actions, requests per second.
const DEFAULT_RATE_LIMIT: usize = 10;

#[cfg(feature = "ureq")]
fn default_transport(env: &dyn Environment) -> Result<Arc<dyn Transport>, Error> {
    Ok(Arc::new(crate::transport::UreqTransport::builder().build_in(env)?))
}

#[cfg(not(feature = "ureq"))]
fn default_transport(_env: &dyn Environment) -> Result<Arc<dyn Transport>, Error> {
    Err(Error::InvalidInput("built without the `ureq` feature: give the ClientBuilder a transport".into()))
}

#[cfg(feature = "ureq")]
fn default_credentials(clock: Arc<dyn Clock>) -> Result<Arc<dyn ProvideCredentials>, Error> {
    use std::time::Duration;
    // The metadata service answers only inside Tencent Cloud: elsewhere the chain must give up
    // quickly, and a proxy must never carry the request.
    let metadata = crate::transport::UreqTransport::builder()
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(1))
        .no_proxy()
        .build()?;
    let chain = crate::credentials::CredentialsChain::default_chain(
        Arc::new(SystemEnvironment),
        Arc::new(metadata),
        clock,
    );
    Ok(Arc::new(chain))
}

#[cfg(not(feature = "ureq"))]
fn default_credentials(_clock: Arc<dyn Clock>) -> Result<Arc<dyn ProvideCredentials>, Error> {
    Err(Error::InvalidInput("built without the `ureq` feature: give the ClientBuilder credentials".into()))
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("endpoint", &self.endpoint)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use serde_json::{json, Value};

    use super::*;
    use crate::clock::FixedClock;
    use crate::credentials::fakes::FakeEnv;

    const TS: i64 = 1_700_000_000;

    type Sent = Arc<Mutex<Vec<HttpRequest<'static>>>>;

    /// A client whose transport records each request and answers with `answer(request)`.
    fn client_with(
        method: Method,
        answer: impl Fn(&HttpRequest) -> (u16, String) + Send + Sync + 'static,
    ) -> (Client, Sent) {
        let sent: Sent = Arc::default();
        let log = sent.clone();
        let transport = move |request: &HttpRequest| -> Result<HttpResponse, Error> {
            log.lock().unwrap().push(request.clone().into_owned());
            let (status, body) = answer(request);
            Ok(HttpResponse { status, headers: vec![], body: body.into_bytes() })
        };
        let credentials = Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE")
            .unwrap()
            .with_token("tok-EXAMPLE-1234")
            .unwrap();
        let client = Client::builder()
            .credentials(credentials)
            .region("ap-guangzhou")
            .method(method)
            .clock(Arc::new(FixedClock(TS)))
            .transport(Arc::new(transport))
            .build()
            .unwrap();
        (client, sent)
    }

    fn ok(_: &HttpRequest) -> (u16, String) {
        (200, r#"{"Response":{"RequestId":"r-1"}}"#.into())
    }

    #[test]
    fn execute_sends_exactly_what_sign_returns_at_the_clock_time() {
        for method in [Method::Get, Method::Post] {
            let (client, sent) = client_with(method, ok);
            let action = DeleteKeyPairs::parse(["skey-mv9yzyjj"]).unwrap();
            let signed = client.sign(&action).unwrap();
            assert_eq!(signed, client.sign_at(&action, TS).unwrap());
            assert_eq!(signed.header("X-TC-Timestamp"), Some("1700000000"));
            assert_eq!(client.delete_key_pairs(&action).unwrap(), "r-1");
            assert_eq!(sent.lock().unwrap().as_slice(), [signed]);
        }
    }

    #[test]
    fn generic_calls_encode_any_serialisable_parameters() {
        let (client, sent) = client_with(Method::Get, ok);
        let params = json!({"Zone": "ap-guangzhou-3", "InstanceIds": ["ins-1", "ins 2"]});
        let out: Value = client.call("DescribeInstances", "2017-03-12", &params).unwrap();
        assert_eq!(out, json!({"RequestId": "r-1"}));
        let request = sent.lock().unwrap().pop().unwrap();
        assert_eq!(request.path_and_query(), "/?InstanceIds.0=ins-1&InstanceIds.1=ins+2&Zone=ap-guangzhou-3");
        assert_eq!(request.header("X-TC-Action"), Some("DescribeInstances"));

        let (client, sent) = client_with(Method::Post, ok);
        client.call::<_, Value>("DescribeZones", "2017-03-12", &()).unwrap();
        client.call::<_, Value>("DescribeInstances", "2017-03-12", &params).unwrap();
        let bodies: Vec<Vec<u8>> = sent.lock().unwrap().iter().map(|r| r.body.clone()).collect();
        assert_eq!(bodies[0], b"{}");
        assert_eq!(bodies[1], serde_json::to_vec(&params).unwrap());
    }

    #[test]
    fn bad_generic_calls_fail_before_sending() {
        for method in [Method::Get, Method::Post] {
            let (client, sent) = client_with(method, ok);
            let not_object = client.call::<_, Value>("DescribeZones", "2017-03-12", &[1, 2]);
            assert!(matches!(not_object, Err(Error::InvalidInput(_))), "{not_object:?}");
            let bad_name = client.call::<_, Value>("Describe Zones", "2017-03-12", &());
            assert!(matches!(bad_name, Err(Error::InvalidInput(_))), "{bad_name:?}");
            assert!(sent.lock().unwrap().is_empty());
        }
    }

    #[test]
    fn describe_all_pages_through_everything_once() {
        let ids: Vec<String> = (0..250).map(|i| format!("skey-{i:08}")).collect();
        let (client, sent) = client_with(Method::Post, move |request| {
            let params: Value = serde_json::from_slice(&request.body).unwrap();
            let (offset, limit) =
                (params["Offset"].as_u64().unwrap() as usize, params["Limit"].as_u64().unwrap() as usize);
            let page: Vec<Value> =
                ids.iter().skip(offset).take(limit).map(|id| json!({"KeyId": id})).collect();
            (200, json!({"Response": {"TotalCount": 250, "KeyPairSet": page, "RequestId": "r"}}).to_string())
        });
        let all = client.describe_all_key_pairs(&DescribeKeyPairs::all()).unwrap();
        assert!(all.is_complete());
        let all = all.key_pairs;
        assert_eq!(all.len(), 250);
        assert_eq!(all[249].key_id.as_str(), "skey-00000249");
        let asked: Vec<Value> =
            sent.lock().unwrap().iter().map(|r| serde_json::from_slice(&r.body).unwrap()).collect();
        assert_eq!(
            asked,
            [
                json!({"Offset": 0, "Limit": 100}),
                json!({"Offset": 100, "Limit": 100}),
                json!({"Offset": 200, "Limit": 100})
            ]
        );
    }

    #[test]
    fn describe_all_stops_on_an_empty_page() {
        let (client, sent) = client_with(Method::Post, |_| {
            (200, r#"{"Response":{"TotalCount":500,"KeyPairSet":[],"RequestId":"r"}}"#.into())
        });
        let listed = client.describe_all_key_pairs(&DescribeKeyPairs::all()).unwrap();
        assert!(listed.key_pairs.is_empty() && !listed.is_complete());
        assert_eq!(sent.lock().unwrap().len(), 1);
    }

    #[test]
    fn an_echoed_session_token_is_scrubbed_from_errors() {
        let (client, _) = client_with(Method::Post, |request| {
            let token = request.header("X-TC-Token").unwrap();
            match request.header("X-TC-Action") {
                Some("Api") => (
                    200,
                    format!(
                        r#"{{"Response":{{"Error":{{"Code":"X","Message":"bad token {token}"}},"RequestId":"r"}}}}"#
                    ),
                ),
                // The token starts right where the snippet is cut.
                _ => (502, format!("{}{token}", "x".repeat(crate::response::SNIPPET_CHARS - 6))),
            }
        });
        for action in ["Api", "Gateway"] {
            let err = client.call::<_, Value>(action, "2017-03-12", &()).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("tok-EX") && shown.contains("***"), "{shown}");
        }
    }

    #[test]
    fn the_provider_is_asked_for_every_request() {
        #[derive(Debug, Default)]
        struct Rotating(Mutex<u32>);
        impl ProvideCredentials for Rotating {
            fn credentials(&self) -> Result<Credentials, Error> {
                let mut n = self.0.lock().unwrap();
                *n += 1;
                Credentials::new(format!("AKID{n}"), "secret-EXAMPLE")
            }
        }
        let client = Client::builder()
            .credentials_provider(Arc::new(Rotating::default()))
            .region("ap-guangzhou")
            .transport(Arc::new(|_: &HttpRequest| -> Result<HttpResponse, Error> { unreachable!() }))
            .build()
            .unwrap();
        let action = DeleteKeyPairs::parse(["skey-mv9yzyjj"]).unwrap();
        assert!(client.sign(&action).unwrap().header("Authorization").unwrap().contains("Credential=AKID1/"));
        assert!(client.sign(&action).unwrap().header("Authorization").unwrap().contains("Credential=AKID2/"));
    }

    #[test]
    fn the_builder_refuses_what_cannot_work() {
        let with_creds = || {
            let unused = |_: &HttpRequest| -> Result<HttpResponse, Error> { unreachable!() };
            Client::builder()
                .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap())
                .transport(Arc::new(unused))
        };
        let default_chain = format!("{:?}", Client::builder().region("ap-guangzhou").build().unwrap());
        assert!(default_chain.contains("CredentialsChain"), "{default_chain}");
        let remote_http = with_creds().endpoint("http://cvm.tencentcloudapi.com").build();
        assert!(matches!(remote_http, Err(Error::InvalidEndpoint(_))));
        let opted_in = with_creds()
            .endpoint("http://cvm.tencentcloudapi.com")
            .allow_insecure_http(true)
            .build()
            .unwrap();
        assert_eq!(opted_in.config().endpoint.base_url(), "http://cvm.tencentcloudapi.com/");
        let default = with_creds().build().unwrap();
        assert_eq!(default.config().endpoint, Endpoint::default());
        assert_eq!(default.config().method, Method::Post);
        let parsed = with_creds().parsed_endpoint(Endpoint::intl()).build().unwrap();
        assert_eq!(parsed.config().endpoint.authority(), "cvm.intl.tencentcloudapi.com");
    }

    /// A transport that fails the test if anything is sent.
    fn nothing_sent() -> Arc<dyn Transport> {
        Arc::new(|_: &HttpRequest| -> Result<HttpResponse, Error> { panic!("nothing may be sent") })
    }

    fn assert_no_region<T: fmt::Debug>(result: Result<T, Error>) {
        match result {
            Err(Error::InvalidInput(why)) => assert!(why.starts_with("no region: "), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_empty_region_given_fails_the_build() {
        let built = Client::builder()
            .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap())
            .region("")
            .transport(nothing_sent())
            .build_in(&FakeEnv::with_vars(&[("TENCENTCLOUD_REGION", "ap-guangzhou")]));
        assert_no_region(built);
    }

    #[test]
    fn a_client_without_a_region_signs_and_sends_nothing() {
        #[derive(Debug)]
        struct Unasked;
        impl ProvideCredentials for Unasked {
            fn credentials(&self) -> Result<Credentials, Error> {
                panic!("the region is checked first")
            }
        }
        let action = DeleteKeyPairs::parse(["skey-mv9yzyjj"]).unwrap();
        let signed_elsewhere = RequestConfig { region: "ap-guangzhou".into(), ..RequestConfig::default() };
        let credentials = Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap();
        let request = signed_elsewhere.build(&Signer::new(), &credentials, &action, TS).unwrap();
        for env in [FakeEnv::default(), FakeEnv::with_vars(&[("TENCENTCLOUD_REGION", "")])] {
            let builder = || Client::builder().transport(nothing_sent()).rate_limit(0);
            let client = builder().credentials(credentials.clone()).build_in(&env).unwrap();
            assert_eq!(client.config().region, "");
            assert_no_region(client.sign(&action));
            assert_no_region(client.delete_key_pairs(&action));
            assert_no_region(client.call::<_, Value>("DescribeZones", "2017-03-12", &()));
            assert_no_region(client.send::<Value>(&request));
            assert_no_region(client.delete_key_pairs_all(["skey-aaaaaaaa", "skey-bbbbbbbb"]));
            assert_no_region(client.describe_all_key_pairs(&DescribeKeyPairs::all()));
            let unasked = builder().credentials_provider(Arc::new(Unasked)).build_in(&env).unwrap();
            assert_no_region(unasked.sign(&action));
        }
        let from_env = Client::builder()
            .credentials(credentials)
            .transport(nothing_sent())
            .build_in(&FakeEnv::with_vars(&[("TENCENTCLOUD_REGION", "ap-shanghai")]))
            .unwrap();
        assert_eq!(from_env.sign(&action).unwrap().header("X-TC-Region"), Some("ap-shanghai"));
    }

    #[cfg(feature = "ureq")]
    #[test]
    fn the_default_transport_refuses_a_proxy_variable_it_cannot_use() {
        let env = FakeEnv::with_vars(&[("HTTPS_PROXY", "socks5://user:pw-EXAMPLE@127.0.0.1:1")]);
        let with_creds =
            || Client::builder().credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap());
        match with_creds().region("ap-guangzhou").build_in(&env) {
            Err(Error::InvalidInput(why)) => {
                assert!(
                    why.starts_with("HTTPS_PROXY names a SOCKS proxy") && !why.contains("pw-EXAMPLE"),
                    "{why}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(
            with_creds().transport(nothing_sent()).build_in(&env).is_ok(),
            "a given transport is used as is"
        );
    }

    #[test]
    fn the_default_transport_needs_the_ureq_feature() {
        let built =
            Client::builder().credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap()).build();
        assert_eq!(built.is_ok(), cfg!(feature = "ureq"), "{built:?}");
    }

    #[test]
    fn clients_can_be_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Client>();
    }

    /// A clock one second further on at every reading.
    struct Ticking(std::sync::atomic::AtomicI64);

    impl Clock for Ticking {
        fn now(&self) -> i64 {
            self.0.fetch_add(1, Ordering::SeqCst)
        }
    }

    /// A client whose every request gets the next scripted answer (status, Date, body).
    fn scripted(answers: Vec<(u16, Option<&'static str>, &'static str)>) -> (Client, Sent) {
        scripted_with(answers, RetryPolicy::with_max_attempts(3).without_waits())
    }

    fn scripted_with(
        answers: Vec<(u16, Option<&'static str>, &'static str)>,
        policy: RetryPolicy,
    ) -> (Client, Sent) {
        let sent: Sent = Arc::default();
        let log = sent.clone();
        let answers = Mutex::new(answers.into_iter());
        let transport = move |request: &HttpRequest| -> Result<HttpResponse, Error> {
            log.lock().unwrap().push(request.clone().into_owned());
            let (status, date, body) = answers.lock().unwrap().next().expect("no more answers scripted");
            let headers = date.map(|d| vec![("Date".to_owned(), d.to_owned())]).unwrap_or_default();
            Ok(HttpResponse { status, headers, body: body.as_bytes().to_vec() })
        };
        let client = Client::builder()
            .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap())
            .region("ap-guangzhou")
            .clock(Arc::new(Ticking(std::sync::atomic::AtomicI64::new(TS))))
            .transport(Arc::new(transport))
            .rate_limit(0)
            .retry(policy)
            .build()
            .unwrap();
        (client, sent)
    }

    fn timestamps(sent: &Sent) -> Vec<String> {
        sent.lock().unwrap().iter().map(|r| r.header("X-TC-Timestamp").unwrap().to_owned()).collect()
    }

    const INTERNAL: &str =
        r#"{"Response":{"Error":{"Code":"InternalError","Message":"x"},"RequestId":"r-i"}}"#;

    #[test]
    fn retries_re_sign_every_attempt_and_stop_after_the_last() {
        let (client, sent) = scripted(vec![(200, None, INTERNAL); 3]);
        let action = DeleteKeyPairs::parse(["skey-mv9yzyjj"]).unwrap();
        let outcome: Attempted<Value> = client.execute_retrying(&action);
        assert_eq!(outcome.result.unwrap_err().code(), Some(&ErrorCode::InternalError));
        let stamps = timestamps(&sent);
        assert_eq!(stamps.len(), 3, "max_attempts requests, then it stops");
        assert!(stamps.windows(2).all(|w| w[0] != w[1]), "each attempt signed afresh: {stamps:?}");
        assert_eq!(outcome.request_ids, ["r-i", "r-i"], "the earlier attempts' RequestIds are kept");
        assert!(outcome.may_have_taken_effect);
    }

    #[test]
    fn errors_that_cannot_pass_are_not_retried() {
        let invalid = r#"{"Response":{"Error":{"Code":"InvalidParameter","Message":"x"},"RequestId":"r"}}"#;
        let (client, sent) = scripted(vec![(200, None, invalid)]);
        let outcome: Attempted<Value> =
            client.execute_retrying(&DeleteKeyPairs::parse(["skey-mv9yzyjj"]).unwrap());
        assert!(outcome.result.is_err());
        assert_eq!(sent.lock().unwrap().len(), 1);
        assert!(!outcome.may_have_taken_effect);
    }

    #[test]
    fn a_clock_correction_re_signs_without_using_up_an_attempt() {
        let expired = r#"{"Response":{"Error":{"Code":"AuthFailure.SignatureExpire","Message":"x"},"RequestId":"r-e"}}"#;
        let server_date = Some("Tue, 14 Nov 2023 23:13:20 GMT"); // TS + 3600
        let (client, sent) = scripted(vec![
            (200, server_date, expired),
            (200, None, INTERNAL),
            (200, None, INTERNAL),
            (200, None, INTERNAL),
        ]);
        let outcome: Attempted<Value> =
            client.execute_retrying(&DeleteKeyPairs::parse(["skey-mv9yzyjj"]).unwrap());
        assert!(outcome.result.is_err());
        let stamps = timestamps(&sent);
        assert_eq!(stamps.len(), 4, "the re-sign plus three attempts: {stamps:?}");
        let corrected: i64 = stamps[1].parse().unwrap();
        assert!((corrected - (TS + 3600)).abs() <= 3, "{stamps:?}");
        assert!((client.clock_skew() - 3600).abs() <= 2);
    }

    const THROTTLED: &str = r#"{"Response":{"Error":{"Code":"RequestLimitExceeded.UinLimitExceeded","Message":"x"},"RequestId":"r-t"}}"#;

    #[test]
    fn throttling_has_its_own_larger_budget_than_transient_failures() {
        let ok = r#"{"Response":{"RequestId":"r-ok"}}"#;
        let mut answers = vec![(200, None, THROTTLED); 9];
        answers.push((200, None, ok));
        // One attempt for transient failures, yet nine throttled answers are waited out.
        let (client, sent) = scripted_with(answers, RetryPolicy::with_max_attempts(1).without_waits());
        let outcome: Attempted<Value> =
            client.execute_retrying(&DeleteKeyPairs::parse(["skey-mv9yzyjj"]).unwrap());
        assert!(outcome.result.is_ok(), "{:?}", outcome.result);
        assert_eq!(sent.lock().unwrap().len(), 10);

        let (client, sent) =
            scripted_with(vec![(200, None, THROTTLED); 11], RetryPolicy::default().without_waits());
        let outcome: Attempted<Value> =
            client.execute_retrying(&DeleteKeyPairs::parse(["skey-mv9yzyjj"]).unwrap());
        assert!(outcome.result.unwrap_err().is_throttling());
        assert_eq!(sent.lock().unwrap().len(), 10, "ten throttled answers, then it gives up");
    }

    #[test]
    fn a_throttled_call_waits_out_the_window_and_says_so() {
        let policy =
            RetryPolicy { throttle_wait: std::time::Duration::from_millis(40), ..RetryPolicy::default() };
        let ok = r#"{"Response":{"RequestId":"r-ok"}}"#;
        let (client, _) =
            scripted_with(vec![(200, None, THROTTLED), (200, None, THROTTLED), (200, None, ok)], policy);
        let mut waits = Vec::new();
        let mut observer = |e: &Event<'_>| {
            if let Event::Waiting { duration, reason: WaitReason::Retry { error, .. } } = e {
                waits.push((*duration, error.is_throttling()));
            }
        };
        let started = std::time::Instant::now();
        let outcome: Attempted<Value> = client.execute_hooked(
            &DeleteKeyPairs::parse(["skey-mv9yzyjj"]).unwrap(),
            &mut Hooks::new(&mut observer, None),
            as_parsed,
        );
        assert!(outcome.result.is_ok());
        assert_eq!(waits.len(), 2, "{waits:?}");
        assert!(waits.iter().all(|&(d, throttled)| throttled && d >= policy.throttle_wait), "{waits:?}");
        assert!(started.elapsed() >= policy.throttle_wait * 2);
    }

    #[test]
    fn retrying_stops_once_nothing_has_answered_for_too_long() {
        let sent = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let count = sent.clone();
        let transport = move |_: &HttpRequest| -> Result<HttpResponse, Error> {
            count.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(30));
            Err(Error::Transport { kind: TransportKind::Timeout, message: "no answer".into() })
        };
        let mut policy = RetryPolicy::with_max_attempts(10).without_waits();
        policy.give_up_after = std::time::Duration::from_millis(50);
        let client = Client::builder()
            .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap())
            .region("ap-guangzhou")
            .transport(Arc::new(transport))
            .rate_limit(0)
            .retry(policy)
            .build()
            .unwrap();
        let outcome: Attempted<Value> =
            client.execute_retrying(&DeleteKeyPairs::parse(["skey-mv9yzyjj"]).unwrap());
        assert_eq!(outcome.result.unwrap_err().code_text(), "Transport.Timeout");
        assert_eq!(sent.load(Ordering::SeqCst), 2, "60 ms of silence after two attempts: no third");
    }

    /// A client whose DescribeKeyPairs pages come from `page(offset)`.
    fn lister(page: impl Fn(u64) -> Value + Send + Sync + 'static) -> (Client, Sent) {
        let (client, sent) = client_with(Method::Post, move |request| {
            let params: Value = serde_json::from_slice(&request.body).unwrap();
            let mut body = page(params["Offset"].as_u64().unwrap());
            body["RequestId"] = "r".into();
            (200, json!({ "Response": body }).to_string())
        });
        let client = Client { limiter: None, ..client };
        (client, sent)
    }

    fn key_pairs(range: std::ops::Range<u64>) -> Value {
        Value::Array(range.map(|i| json!({"KeyId": format!("skey-{i:08}")})).collect())
    }

    #[test]
    fn a_listing_ends_when_a_page_adds_no_new_key_whatever_the_total_claims() {
        let (client, sent) =
            lister(|_| json!({"TotalCount": 1_000_000_000_000_000_000u64, "KeyPairSet": key_pairs(0..100)}));
        let listed = client.describe_all_key_pairs(&DescribeKeyPairs::all()).unwrap();
        assert_eq!(listed.key_pairs.len(), 100);
        assert!(!listed.is_complete());
        assert_eq!(sent.lock().unwrap().len(), 2, "the repeated page ends it");
    }

    #[test]
    fn a_page_larger_than_asked_for_is_refused() {
        let (client, _) =
            lister(|o| json!({"TotalCount": 1_000_000, "KeyPairSet": key_pairs(o * 3000..o * 3000 + 3000)}));
        let error = client.describe_all_key_pairs(&DescribeKeyPairs::all()).unwrap_err();
        assert!(matches!(error, Error::Decode { .. }) && error.to_string().contains("3000"), "{error}");
    }

    #[test]
    fn a_listing_that_never_ends_is_refused_at_its_bounds() {
        // A hundred new keys on every page: refused past 100,000 key pairs.
        let (client, sent) = lister(|o| json!({"TotalCount": u64::MAX, "KeyPairSet": key_pairs(o..o + 100)}));
        let error = client.describe_all_key_pairs(&DescribeKeyPairs::all()).unwrap_err();
        assert!(error.to_string().contains("more than 100000 key pairs"), "{error}");
        assert_eq!(sent.lock().unwrap().len(), 1001);
        // One new key a page: refused past 2,000 pages.
        let (client, sent) = lister(|o| json!({"TotalCount": u64::MAX, "KeyPairSet": key_pairs(o..o + 1)}));
        let error = client.describe_all_key_pairs(&DescribeKeyPairs::all()).unwrap_err();
        assert!(error.to_string().contains("2000 pages"), "{error}");
        assert_eq!(sent.lock().unwrap().len(), 2000);
    }
}
