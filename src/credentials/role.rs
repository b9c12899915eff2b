//! Temporary credentials of the CAM role attached to a CVM instance, from the instance metadata
//! service, cached and refreshed before they expire.
//!
//! Two plain GETs through the [`Transport`]: the role-name listing, then that role's
//! credentials. Time comes from a [`Clock`], so tests fake both and run without a network.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use super::refresh::{Fetched, RefreshCache};
use super::{absent, in_context, Credentials, ProvideCredentials};
use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::http::{HttpRequest, HttpResponse, Method};
use crate::transport::Transport;

/// The metadata URL listing the instance's role; the role's credentials are at this URL plus
/// the role name.
pub(crate) const METADATA_ROLE_URL: &str =
    "http://metadata.tencentyun.com/latest/meta-data/cam/security-credentials/";

/// The temporary credentials of the instance's CAM role, from the metadata service.
///
/// Credentials are cached and fetched again once fewer than 5 minutes (or half their lifetime,
/// when that is shorter) remain before their `ExpiredTime`. The cache sits behind a mutex held
/// during a refresh, so threads asking at once cause one fetch, not one each. If a refresh
/// fails while the cached credentials have not expired yet, they are returned anyway (and the
/// metadata service is asked again 15 seconds later): a passing hiccup of the metadata service
/// must not fail requests that would still be signed validly. Once they have expired, the
/// failure is returned.
///
/// The first fetch decides whether the source is present. No answer from the metadata service,
/// an HTTP 404 (no role attached), another status or an answer that is not a role name mean
/// "not a CVM instance with a role": [`Error::NoCredentials`], and a chain moves on. Once a role
/// name came back, any failure (status, `Code` other than `Success`, malformed JSON, a missing
/// field, already expired credentials) is an [`Error::Credentials`] naming the role and what
/// failed, never a secret value.
///
/// Give it a transport with short timeouts (about one second to connect and to receive) and no
/// proxy: the metadata host only answers inside Tencent Cloud, and elsewhere a long timeout
/// would delay every run that ends up here.
pub struct InstanceRoleProvider {
    transport: Arc<dyn Transport>,
    cache: RefreshCache,
}

/// Why a fetch failed: the source is not there at all, or it is there and broken.
enum Failure {
    Absent(String),
    Broken(Error),
}

impl InstanceRoleProvider {
    /// The name this source reports in [`Error::NoCredentials`].
    pub(crate) const SOURCE: &'static str = "instance role";

    /// Fetches through `transport`, judging expiry by the system clock.
    pub fn new(transport: Arc<dyn Transport>) -> Self {
        Self::with_clock(transport, Arc::new(SystemClock))
    }

    /// Fetches through `transport`, judging expiry by `clock`.
    pub(crate) fn with_clock(transport: Arc<dyn Transport>, clock: Arc<dyn Clock>) -> Self {
        InstanceRoleProvider { transport, cache: RefreshCache::new(clock) }
    }

    fn get(&self, url: &str) -> Result<HttpResponse, Error> {
        let request =
            HttpRequest { method: Method::Get, url: url.into(), headers: Vec::new(), body: Vec::new() };
        self.transport.send(&request)
    }

    fn fetch(&self, now: i64) -> Result<Fetched, Failure> {
        let listing = self
            .get(METADATA_ROLE_URL)
            .map_err(|e| Failure::Absent(format!("the metadata service did not answer: {e}")))?;
        match listing.status {
            200 => {}
            404 => {
                return Err(Failure::Absent(
                    "no CAM role is attached to this instance (the metadata service answered HTTP 404)"
                        .to_owned(),
                ))
            }
            status => {
                return Err(Failure::Absent(format!(
                    "the metadata service answered HTTP {status} when asked for the role name"
                )))
            }
        }
        let role = role_name(&listing.body).ok_or_else(|| {
            Failure::Absent("the metadata service's answer is not a CAM role name".to_owned())
        })?;
        let context = format!("role {role}");
        let broken = |why: String| Failure::Broken(Error::credentials(format!("{context}: {why}")));
        let answer = self
            .get(&format!("{METADATA_ROLE_URL}{role}"))
            .map_err(|e| broken(format!("fetching the credentials failed: {e}")))?;
        if answer.status != 200 {
            return Err(broken(format!("the metadata service answered HTTP {}", answer.status)));
        }
        parse_role_credentials(&answer.body, now).map_err(|e| Failure::Broken(in_context(&context, e)))
    }
}

/// The role name in the listing: one CAM role name (letters, digits and `+=,.@_-`, at most 128),
/// a trailing newline allowed. Anything else, such as a captive portal's HTML page, is refused.
fn role_name(body: &[u8]) -> Option<&str> {
    let name = std::str::from_utf8(body).ok()?.trim();
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b);
    (!name.is_empty() && name.len() <= 128 && name.bytes().all(allowed)).then_some(name)
}

/// Checks and converts the metadata answer. serde_json's syntax errors give a position, never
/// input text; field errors are written here and name the field only.
fn parse_role_credentials(body: &[u8], now: i64) -> Result<Fetched, Error> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Error::credentials(format!("the answer is not JSON: {e}")))?;
    match value.get("Code").and_then(Value::as_str) {
        Some("Success") => {}
        Some(code) => {
            let code: String = code.chars().take(64).collect();
            return Err(Error::credentials(format!(
                "the metadata service answered Code {code:?}, not \"Success\""
            )));
        }
        None => return Err(Error::credentials("the answer has no Code".to_owned())),
    }
    let text = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| Error::credentials(format!("the answer has no {name} string")))
    };
    let (id, key, token) = (text("TmpSecretId")?, text("TmpSecretKey")?, text("Token")?);
    let expires_at = value
        .get("ExpiredTime")
        .and_then(Value::as_i64)
        .ok_or_else(|| Error::credentials("the answer has no ExpiredTime integer".to_owned()))?;
    if expires_at <= now {
        return Err(Error::credentials(format!(
            "the credentials expired at {expires_at} (Unix seconds), not after now ({now}); is the clock right?"
        )));
    }
    let credentials = Credentials::new(id, key)?.with_token(token)?;
    Ok(Fetched { credentials, expires_at })
}

impl ProvideCredentials for InstanceRoleProvider {
    fn source(&self) -> String {
        "CVM instance role (metadata service)".to_owned()
    }

    fn credentials(&self) -> Result<Credentials, Error> {
        self.cache.get(
            |now| self.fetch(now),
            |failure, expired| match (failure, expired) {
                (failure, Some(expired_at)) => {
                    let context = format!(
                        "instance role: the credentials expired at {expired_at} and refreshing them failed"
                    );
                    match failure {
                        Failure::Absent(why) => Error::credentials(format!("{context}: {why}")),
                        Failure::Broken(e) => in_context(&context, e),
                    }
                }
                (Failure::Absent(why), None) => absent(Self::SOURCE, why),
                (Failure::Broken(e), None) => in_context("instance role", e),
            },
        )
    }
}

impl fmt::Debug for InstanceRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstanceRoleProvider")
            .field("url", &METADATA_ROLE_URL)
            .field("cached", &self.cache)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::fakes::{FakeClock, ScriptedTransport};
    use crate::credentials::refresh::REFRESH_BEFORE_SECONDS;
    use crate::error::TransportKind;

    const NOW: i64 = 1_700_000_000;
    const ROLE_URL: &str =
        "http://metadata.tencentyun.com/latest/meta-data/cam/security-credentials/cvm-role";

    fn answer(id: &str, expires_at: i64) -> String {
        format!(
            r#"{{"TmpSecretId":"{id}","TmpSecretKey":"tmp-key","Token":"tmp-token","ExpiredTime":{expires_at},
                "Expiration":"2023-11-14T23:13:20Z","Code":"Success"}}"#
        )
    }

    fn setup() -> (Arc<ScriptedTransport>, Arc<FakeClock>, InstanceRoleProvider) {
        let transport = Arc::new(ScriptedTransport::default());
        let clock = Arc::new(FakeClock::at(NOW));
        let provider = InstanceRoleProvider::with_clock(transport.clone(), clock.clone());
        (transport, clock, provider)
    }

    fn script_success(transport: &ScriptedTransport, id: &str, expires_at: i64) {
        transport.answer(METADATA_ROLE_URL, 200, "cvm-role\n");
        transport.answer(ROLE_URL, 200, &answer(id, expires_at));
    }

    fn broken_reason(result: Result<Credentials, Error>) -> String {
        match result {
            Err(Error::Credentials { message: why, .. }) => why,
            other => panic!("{other:?}"),
        }
    }

    fn absent_reason(result: Result<Credentials, Error>) -> String {
        match result {
            Err(Error::NoCredentials(tried)) if tried.len() == 1 && tried[0].0 == "instance role" => {
                tried[0].1.clone()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fetches_the_role_name_then_its_credentials_with_plain_gets() {
        let (transport, _, provider) = setup();
        script_success(&transport, "AKIDtmp", NOW + 7200);
        let c = provider.credentials().unwrap();
        assert_eq!((c.secret_id(), c.secret_key(), c.token()), ("AKIDtmp", "tmp-key", Some("tmp-token")));
        let sent = transport.sent();
        assert_eq!(sent.len(), 2);
        for request in &sent {
            assert_eq!((request.method, request.headers.len(), request.body.len()), (Method::Get, 0, 0));
        }
        assert_eq!((&*sent[0].url, &*sent[1].url), (METADATA_ROLE_URL, ROLE_URL));
    }

    #[test]
    fn caches_until_five_minutes_before_expiry_then_refreshes() {
        let (transport, clock, provider) = setup();
        let expiry = NOW + 3600;
        script_success(&transport, "AKIDfirst", expiry);
        assert_eq!(provider.credentials().unwrap().secret_id(), "AKIDfirst");
        clock.set(expiry - REFRESH_BEFORE_SECONDS - 1);
        assert_eq!(provider.credentials().unwrap().secret_id(), "AKIDfirst");
        assert_eq!(transport.sent().len(), 2, "still fresh: no request");
        clock.set(expiry - REFRESH_BEFORE_SECONDS);
        script_success(&transport, "AKIDsecond", expiry + 3600);
        assert_eq!(provider.credentials().unwrap().secret_id(), "AKIDsecond");
        assert_eq!(transport.sent().len(), 4);
        assert_eq!(provider.credentials().unwrap().secret_id(), "AKIDsecond");
        assert_eq!(transport.sent().len(), 4);
    }

    #[test]
    fn a_failed_refresh_keeps_unexpired_credentials_and_fails_once_they_expire() {
        let (transport, clock, provider) = setup();
        let expiry = NOW + 3600;
        script_success(&transport, "AKIDold", expiry);
        provider.credentials().unwrap();
        clock.set(expiry - 1);
        transport.answer(METADATA_ROLE_URL, 200, "cvm-role");
        transport.answer(ROLE_URL, 500, "busy");
        assert_eq!(provider.credentials().unwrap().secret_id(), "AKIDold");
        clock.set(expiry);
        transport.fail(METADATA_ROLE_URL, TransportKind::Timeout);
        let why = broken_reason(provider.credentials());
        assert!(
            why.starts_with(&format!(
                "instance role: the credentials expired at {expiry} and refreshing them failed: the metadata service did not answer"
            )),
            "{why}"
        );
        script_success(&transport, "AKIDnew", expiry + 3600);
        assert_eq!(provider.credentials().unwrap().secret_id(), "AKIDnew", "a later success recovers");
    }

    #[test]
    fn no_metadata_service_or_no_role_is_absent() {
        let (transport, _, provider) = setup();
        transport.fail(METADATA_ROLE_URL, TransportKind::Connect);
        assert!(absent_reason(provider.credentials()).starts_with("the metadata service did not answer"));
        transport.answer(METADATA_ROLE_URL, 404, "not found");
        assert!(absent_reason(provider.credentials()).starts_with("no CAM role is attached"));
        transport.answer(METADATA_ROLE_URL, 502, "bad gateway");
        assert!(absent_reason(provider.credentials()).contains("HTTP 502 when asked for the role name"));
        for body in ["", " \n", "<html><body>Welcome</body></html>", "two\nroles", "r\u{e9}le"] {
            transport.answer(METADATA_ROLE_URL, 200, body);
            assert!(absent_reason(provider.credentials()).contains("not a CAM role name"), "{body:?}");
        }
        transport.answer(METADATA_ROLE_URL, 200, &"r".repeat(129));
        assert!(absent_reason(provider.credentials()).contains("not a CAM role name"));
    }

    #[test]
    fn a_role_whose_credentials_fail_is_broken() {
        let cases = [
            (500, answer("AKID", NOW + 60), "role cvm-role: the metadata service answered HTTP 500"),
            (
                200,
                answer("AKID", NOW + 60).replace("Success", "InternalError"),
                "Code \"InternalError\", not",
            ),
            (200, answer("AKID", NOW + 60).replace(r#","Code":"Success""#, ""), "the answer has no Code"),
            (200, answer("AKID", NOW + 60)[..40].to_owned(), "role cvm-role: the answer is not JSON: EOF"),
            (200, "[1,2]".to_owned(), "the answer has no Code"),
            (200, answer("AKID", NOW + 60).replace("\"Token\"", "\"Tok\""), "the answer has no Token string"),
            (
                200,
                answer("AKID", NOW + 60).replace("\"tmp-key\"", "17"),
                "the answer has no TmpSecretKey string",
            ),
            (
                200,
                answer("AKID", NOW + 60).replace(&(NOW + 60).to_string(), "\"soon\""),
                "no ExpiredTime integer",
            ),
            (200, answer("AKID", NOW), "expired at 1700000000 (Unix seconds), not after now (1700000000)"),
            (
                200,
                answer("AKID", NOW + 60).replace("tmp-key", "tmp-key "),
                "the secret key has leading or trailing",
            ),
            (200, answer("", NOW + 60), "the secret id is empty"),
        ];
        for (status, body, expected) in cases {
            let (transport, _, provider) = setup();
            transport.answer(METADATA_ROLE_URL, 200, "cvm-role");
            transport.answer(ROLE_URL, status, &body);
            let why = broken_reason(provider.credentials());
            assert!(
                why.starts_with("instance role: role cvm-role: ") && why.contains(expected),
                "{body}: {why}"
            );
        }
        let (transport, _, provider) = setup();
        transport.answer(METADATA_ROLE_URL, 200, "cvm-role");
        transport.fail(ROLE_URL, TransportKind::Io);
        assert!(broken_reason(provider.credentials())
            .contains("fetching the credentials failed: transport error (Io)"));
    }

    #[test]
    fn threads_asking_at_once_cause_one_fetch() {
        let (transport, _, provider) = setup();
        script_success(&transport, "AKIDshared", NOW + 7200);
        let provider = Arc::new(provider);
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let provider = provider.clone();
                std::thread::spawn(move || provider.credentials().map(|c| c.secret_id().to_owned()))
            })
            .collect();
        for thread in threads {
            assert_eq!(thread.join().unwrap().unwrap(), "AKIDshared");
        }
        assert_eq!(transport.sent().len(), 2);
    }

    #[test]
    fn debug_shows_the_expiry_but_no_secret() {
        let (transport, _, provider) = setup();
        script_success(&transport, "AKIDtmp", NOW + 7200);
        provider.credentials().unwrap();
        let shown = format!("{provider:?}");
        assert!(shown.contains("AKIDtmp") && shown.contains(&(NOW + 7200).to_string()), "{shown}");
        assert!(!shown.contains("tmp-key") && !shown.contains("tmp-token"), "{shown}");
    }
}
