//! [`Client`]: sign, send and parse API calls, alone or as a verified batch deletion.
//!
//! The client is built by its [`ClientBuilder`] (`builder.rs`); one attempt and the retrying
//! loop around it live in `execute.rs`, listings that span pages in `list.rs`, and the batch
//! deletion's rounds in [`crate::batch`], which calls back in here for every request.

mod builder;
mod execute;
mod list;
#[cfg(test)]
mod tests;

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::actions::delete_key_pairs::DeleteKeyPairs;
use crate::actions::describe_instances::{DescribeInstances, DescribeInstancesOutput};
use crate::actions::describe_key_pairs::{DescribeKeyPairs, DescribeKeyPairsOutput};
use crate::actions::instances_key_pairs::DisassociateInstancesKeyPairs;
use crate::actions::{validate, Receipt};
use crate::batch::{self, BatchOptions, DeletionReport};
use crate::clock::Clock;
use crate::credentials::{Credentials, ProvideCredentials};
use crate::env::REGION_VAR;
use crate::error::Error;
use crate::http::HttpRequest;
use crate::limiter::RateLimiter;
use crate::observe::{Event, Hooks};
use crate::request::{Action, RequestConfig};
use crate::retry::{Attempted, RetryPolicy};
use crate::transport::Transport;

pub use builder::ClientBuilder;
use execute::Signing;

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
/// let output = client.execute(&DeleteKeyPairs::new(["skey-mv9yzyjj"])?)?;
/// assert_eq!(output.request_id, "r-1");
/// # Ok::<(), cvm_keypairs::Error>(())
/// ```
pub struct Client {
    config: RequestConfig,
    credentials: Arc<dyn ProvideCredentials>,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    limiter: Option<RateLimiter>,
    retry: RetryPolicy,
    // Seconds to add to the clock, learnt from a server that rejected a signature as expired.
    skew: AtomicI64,
}

impl Client {
    /// A builder; every setting has a default.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The current time in Unix seconds: the client's clock, corrected by any skew learnt
    /// from the server.
    pub(crate) fn now(&self) -> i64 {
        self.clock.now().saturating_add(self.skew.load(Ordering::Relaxed))
    }

    /// The correction, in seconds, added to the clock after a server reported the signature
    /// expired (0 until then).
    #[cfg(test)]
    pub(crate) fn clock_skew(&self) -> i64 {
        self.skew.load(Ordering::Relaxed)
    }

    /// The signed request for `action` at the clock's time, as it would be sent.
    pub(crate) fn sign(&self, action: &impl Action) -> Result<HttpRequest<'_>, Error> {
        self.sign_at(action, self.now())
    }

    /// The signed request for `action` at `timestamp` (Unix seconds), with the credentials
    /// the provider gives now, exactly as it would be sent: what a dry run prints. A client
    /// without a region refuses, before asking for credentials.
    pub fn sign_at(&self, action: &impl Action, timestamp: i64) -> Result<HttpRequest<'_>, Error> {
        Ok(self.signed(action, timestamp)?.1)
    }

    /// The region the client signs for (`X-TC-Region`): the builder's, else
    /// `TENCENTCLOUD_REGION`'s, else the credentials' (a profile's `region`); empty when none
    /// was found, and then every call is refused before anything is sent.
    pub fn region(&self) -> &str {
        &self.config.region
    }

    /// Where the client's credentials come from, e.g. `environment (TENCENTCLOUD_SECRET_ID,
    /// TENCENTCLOUD_SECRET_KEY)` or `profile "prod" in /home/u/.tencentcloud/credentials`:
    /// asks the provider for credentials (so a chain picks its source; nothing is sent to the
    /// API), then for its [`source`](ProvideCredentials::source). Never holds a secret.
    pub fn credentials_source(&self) -> Result<String, Error> {
        self.credentials.credentials()?;
        Ok(self.credentials.source())
    }

    /// The credentials the provider gives now, and `action` signed with them at `timestamp`.
    fn signed(&self, action: &impl Action, timestamp: i64) -> Result<(Credentials, HttpRequest<'_>), Error> {
        self.check_region()?;
        let credentials = self.credentials.credentials()?;
        let request = self.config.build(&credentials, action, timestamp)?;
        Ok((credentials, request))
    }

    /// `action` unsigned at `timestamp` (see [`RequestConfig::build_unsigned`]).
    fn unsigned(&self, action: &impl Action, timestamp: i64) -> Result<HttpRequest<'_>, Error> {
        self.check_region()?;
        self.config.build_unsigned(action, timestamp)
    }

    fn check_region(&self) -> Result<(), Error> {
        if self.config.region.is_empty() {
            // Every CVM action needs a region; `RequestConfig::build` accepts none only because
            // a signer alone may be asked to reproduce such a request.
            return Err(Error::InvalidInput(format!(
                "no region: give the client one (e.g. ap-guangzhou), set {REGION_VAR} or a profile's region"
            )));
        }
        Ok(())
    }

    /// Signs `action` at the clock's time, sends it once (paced by the client's rate limit)
    /// and parses the answer.
    ///
    /// Should a server or gateway echo the session token or the secret key anywhere in its
    /// answer, it is replaced by `***`.
    pub fn execute<A: Action>(&self, action: &A) -> Result<A::Output, Error> {
        self.attempt(action, Signing::Provider, &mut Hooks::new(&mut |_| {}, None))
            .map_err(|failed| failed.error)
    }

    /// Sends `action` until it succeeds, fails for good, or the retry policy is spent.
    ///
    /// Each attempt is signed afresh with the current time. Transient failures
    /// ([`Error::is_retryable`]) are retried with exponential backoff and full jitter, with no
    /// wait after the last attempt; throttling (`RequestLimitExceeded…`) has its own, larger
    /// budget and always waits out the API's one-second window (see [`RetryPolicy`]). Retrying
    /// stops once no HTTP response has come for [`RetryPolicy::give_up_after`].
    /// `AuthFailure.SignatureExpire` with a `Date` header sets the client's clock correction
    /// from it and re-signs once, without using up an attempt.
    ///
    /// A retry after a timeout, a broken connection or a server error may repeat an action
    /// that did take effect: use this for actions that are safe to repeat, or check the
    /// outcome, as the batch deletion does.
    pub fn execute_retrying<A: Action>(&self, action: &A) -> Result<A::Output, Error> {
        self.execute_hooked(action, &mut Hooks::new(&mut |_| {}, None)).result
    }

    /// Calls any action once: `params` must serialise to a struct or map (or unit, for no
    /// parameters), sent as the POST body or, with GET, flattened into the query in field
    /// order. `Resp` is deserialised from the `Response` object.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), cvm_keypairs::Error> {
    /// # let client = cvm_keypairs::Client::builder().region("ap-guangzhou").build()?;
    /// let zones: serde_json::Value = client.call("DescribeZones", "2017-03-12", &())?;
    /// # Ok(()) }
    /// ```
    pub fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        action: &'static str,
        version: &'static str,
        params: &Req,
    ) -> Result<Resp, Error> {
        self.execute(&Generic { name: action, version, params, output: PhantomData })
    }

    /// Lists every key pair matching `request` (its ids or filters, from its offset on), page
    /// after page, each page retried as [`Client::execute_retrying`] does (listing is safe to
    /// repeat). For a request by ids, only those ids are kept, whatever else the API returns.
    ///
    /// The listing ends on its own whatever the server answers: at the `TotalCount` it
    /// reports, on an empty page, or on a page that adds no key not listed before. A page
    /// larger than asked for, or a listing beyond 100,000 key pairs or 2,000 pages, is an
    /// [`Error::Decode`]. [`DescribeKeyPairsOutput::is_complete`] tells whether what was
    /// listed is everything the API counted; the RequestId is the last page's.
    ///
    /// Pages are separate calls: a key pair created or deleted meanwhile may shift the
    /// pages, so one may be missed (the list is then incomplete); none is listed twice.
    pub fn describe_all_key_pairs(
        &self,
        request: &DescribeKeyPairs,
    ) -> Result<DescribeKeyPairsOutput, Error> {
        Ok(self.list_hooked(request, &mut Hooks::new(&mut |_| {}, None))?.0)
    }

    /// Deletes any number of key pairs (strings or [`crate::KeyId`]s), verified, with the
    /// default [`BatchOptions`].
    ///
    /// Every id is validated first: if any is malformed nothing is sent and the error lists
    /// them all. Duplicates are removed; no ids give an empty report. Fails as a whole only
    /// for errors that concern every id (credentials, configuration, authentication) met
    /// before anything was done; everything else is reported per id (see
    /// [`DeletionReport`]).
    pub fn delete_key_pairs_all<I: AsRef<str>>(
        &self,
        ids: impl IntoIterator<Item = I>,
    ) -> Result<DeletionReport, Error> {
        self.delete_key_pairs_all_with(ids, &BatchOptions::default(), |_| {})
    }

    /// [`Client::delete_key_pairs_all`] with options, telling `observer` about progress,
    /// requests and waits as they happen.
    pub fn delete_key_pairs_all_with<I: AsRef<str>>(
        &self,
        ids: impl IntoIterator<Item = I>,
        options: &BatchOptions,
        mut observer: impl FnMut(&Event<'_>),
    ) -> Result<DeletionReport, Error> {
        batch::delete_all(self, crate::key_id::parse_all(ids)?, options, &mut observer)
    }

    /// Waits until DescribeKeyPairs shows each of `key_ids` bound to each of `instance_ids`
    /// (`bound`), or bound to none of them (`!bound`), for at most `timeout`, telling
    /// `observer` about every wait. Returns the (key pair, instance) pairs not shown so when
    /// the time ran out: none means done.
    ///
    /// AssociateInstancesKeyPairs and DisassociateInstancesKeyPairs answer before the API
    /// makes the change (a DeleteKeyPairs right after an unbinding can still fail), so call
    /// this after them. Only a complete listing is evidence: a key pair the listing cannot
    /// show stays pending, and a key pair shown absent is bound to nothing. The ids are
    /// checked as those actions check them (1 to 100 of each); a look that fails transiently
    /// is tried again at the next one, any other failure is returned.
    pub fn wait_for_bindings<K: AsRef<str>, I: AsRef<str>>(
        &self,
        key_ids: impl IntoIterator<Item = K>,
        instance_ids: impl IntoIterator<Item = I>,
        bound: bool,
        timeout: std::time::Duration,
        mut observer: impl FnMut(&Event<'_>),
    ) -> Result<Vec<(crate::KeyId, String)>, Error> {
        let key_ids = validate::key_ids(key_ids)?;
        let instance_ids = validate::instance_ids(instance_ids)?;
        let pairs: Vec<batch::binding::Pair> =
            key_ids.iter().flat_map(|key| instance_ids.iter().map(|id| (*key, id.clone()))).collect();
        let mut hooks = Hooks::new(&mut observer, None);
        Ok(batch::binding::wait_for(self, &pairs, bound, timeout, &mut hooks)?.pending)
    }
}

/// What the batch deletion asks of the client.
impl batch::Api for Client {
    fn check(&self, action: &DeleteKeyPairs) -> Result<(), Error> {
        self.sign(action).map(drop)
    }

    fn delete(&self, action: &DeleteKeyPairs, hooks: &mut Hooks<'_>) -> Attempted<Receipt> {
        self.execute_hooked(action, hooks)
    }

    fn list(
        &self,
        request: &DescribeKeyPairs,
        hooks: &mut Hooks<'_>,
    ) -> Result<(DescribeKeyPairsOutput, Vec<String>), Error> {
        self.list_hooked(request, hooks)
    }

    fn disassociate(
        &self,
        action: &DisassociateInstancesKeyPairs,
        hooks: &mut Hooks<'_>,
    ) -> Attempted<Receipt> {
        self.execute_hooked(action, hooks)
    }

    fn instances(
        &self,
        request: &DescribeInstances,
        hooks: &mut Hooks<'_>,
    ) -> Attempted<DescribeInstancesOutput> {
        self.execute_hooked(request, hooks)
    }

    fn give_up_after(&self) -> std::time::Duration {
        self.retry.give_up_after
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("credentials", &self.credentials)
            .field("rate_limit", &self.limiter.as_ref().map(RateLimiter::per_second))
            .field("retry", &self.retry)
            .field("clock_skew", &self.skew.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// An action named at run time, with parameters from any `Serialize` value.
struct Generic<'a, P, R> {
    name: &'static str,
    version: &'static str,
    params: &'a P,
    output: PhantomData<fn() -> R>,
}

impl<P: Serialize, R> Serialize for Generic<'_, P, R> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.params.serialize(s)
    }
}

impl<P: Serialize, R: DeserializeOwned> Action for Generic<'_, P, R> {
    type Output = R;

    fn name(&self) -> &'static str {
        self.name
    }

    fn version(&self) -> &'static str {
        self.version
    }
}
