//! One attempt at a call, and the retrying loop around it: pacing, throttling, backoff,
//! clock-skew correction, and giving up on an endpoint that never answers.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::Client;
use crate::error::{codes, Error, TransportKind};
use crate::http::HttpResponse;
use crate::observe::{Event, Hooks, WaitReason};
use crate::request::Action;
use crate::response;
use crate::retry::{self, Attempted};
use crate::scrub::Secrets;

/// A failed attempt: the error, and the server's clock from the answer's `Date` header (to
/// correct the client's after `AuthFailure.SignatureExpire`).
pub(super) struct Failed {
    pub(super) error: Error,
    server_time: Option<i64>,
}

impl From<Error> for Failed {
    fn from(error: Error) -> Self {
        Failed { error, server_time: None }
    }
}

/// How an attempt's request is authorised.
#[derive(Clone, Copy)]
pub(super) enum Signing<'s> {
    /// Signed with the credentials the client's provider gives.
    Provider,
    /// Sent unsigned; `secret` (what the parameters carry as proof) is masked in the answer.
    Unsigned { secret: &'s str },
}

/// Attempts made so far at one call, by kind of failure.
#[derive(Default)]
struct Tries {
    failed: u32,
    throttled: u32,
    skew_corrected: bool,
}

impl Client {
    /// [`Client::execute_retrying`], telling `hooks` about each attempt and wait, and stopping
    /// when they ask or when nothing has answered for too long.
    pub(crate) fn execute_hooked<A: Action>(
        &self,
        action: &A,
        hooks: &mut Hooks<'_>,
    ) -> Attempted<A::Output> {
        self.retrying(action, Signing::Provider, hooks)
    }

    /// [`Client::execute_retrying`] for an action sent unsigned (`Authorization: SKIP`), as the
    /// official SDKs send sts:AssumeRoleWithWebIdentity, whose token in the parameters is the
    /// proof: `secret` (that token) is masked in whatever comes back, as a session token is.
    pub(crate) fn execute_unsigned_retrying<A: Action>(
        &self,
        action: &A,
        secret: &str,
    ) -> Result<A::Output, Error> {
        self.retrying(action, Signing::Unsigned { secret }, &mut Hooks::new(&mut |_| {}, None)).result
    }

    fn retrying<A: Action>(
        &self,
        action: &A,
        signing: Signing<'_>,
        hooks: &mut Hooks<'_>,
    ) -> Attempted<A::Output> {
        let (mut request_ids, mut may_have_taken_effect) = (Vec::new(), false);
        let mut tries = Tries::default();
        let error = loop {
            let failed = match self.attempt(action, signing, hooks) {
                Ok(value) => return Attempted { result: Ok(value), request_ids, may_have_taken_effect },
                Err(failed) => failed,
            };
            may_have_taken_effect |= may_have_taken_effect_despite(&failed.error);
            let wait = self.next_try(&failed, &mut tries);
            let error = failed.error;
            let Some(wait) = wait else { break error };
            if hooks.stop_requested() || hooks.silent_for() >= self.retry.give_up_after {
                break error;
            }
            request_ids.extend(error.request_id().map(str::to_owned));
            hooks.wait(wait, WaitReason::Retry { action: action.name(), error: &error });
        };
        Attempted { result: Err(error), request_ids, may_have_taken_effect }
    }

    /// How long to wait before trying again after `error`, or `None` to give up.
    fn next_try(&self, failed: &Failed, tries: &mut Tries) -> Option<Duration> {
        let error = &failed.error;
        if let (Some(code), Some(server)) = (error.code(), failed.server_time) {
            if *code == codes::SIGNATURE_EXPIRE && !tries.skew_corrected {
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
    /// credentials it was signed with masked in whatever comes back.
    pub(super) fn attempt<A: Action>(
        &self,
        action: &A,
        signing: Signing<'_>,
        hooks: &mut Hooks<'_>,
    ) -> Result<A::Output, Failed> {
        if let Some(limiter) = &self.limiter {
            hooks.wait(limiter.book(action.name()), WaitReason::Pacing { action: action.name() });
        }
        if hooks.stop_requested() {
            return Err(Error::Interrupted.into());
        }
        let credentials;
        let (request, secrets) = match signing {
            Signing::Provider => {
                let request;
                (credentials, request) = self.signed(action, self.now())?;
                (request, Secrets::of(&credentials))
            }
            Signing::Unsigned { secret } => (self.unsigned(action, self.now())?, Secrets::one(secret)),
        };
        hooks.event(&Event::Sending { action: action.name() });
        let response = self.transport.send(&request).map_err(|e| secrets.error(e))?;
        hooks.answered();
        parse_masked(&response, secrets)
    }
}

/// What came back, parsed, with `secrets` masked everywhere in it.
fn parse_masked<T: DeserializeOwned>(response: &HttpResponse, secrets: Secrets<'_>) -> Result<T, Failed> {
    let response = secrets.response(response);
    response::parse(&response).map_err(|e| Failed {
        error: secrets.error(e),
        server_time: response.header("Date").and_then(response::parse_http_date),
    })
}

/// Whether the request behind `error` may have been carried out although it failed.
fn may_have_taken_effect_despite(error: &Error) -> bool {
    match error {
        Error::Transport { kind, .. } => !matches!(kind, TransportKind::Connect | TransportKind::Tls),
        Error::Http { status, .. } => *status >= 500,
        Error::Decode { .. } => true,
        Error::Api { code, .. } => matches!(code.as_str(), "InternalError" | "InternalServerError"),
        _ => false,
    }
}
