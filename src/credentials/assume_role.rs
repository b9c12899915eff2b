//! [`AssumeRoleProvider`]: temporary credentials of a CAM role, assumed with base credentials
//! through sts:AssumeRole, e.g. for a cleanup job working in another account.

use std::fmt;
use std::sync::Arc;

use super::sts::Sts;
use super::{in_context, Credentials, ProfileProvider, ProvideCredentials};
use crate::env::{non_empty_var, Environment, REGION_VAR};
use crate::error::Error;
use crate::transport::Transport;

/// The variable naming the role to assume.
pub(crate) const ROLE_ARN_VAR: &str = "TENCENTCLOUD_ROLE_ARN";
/// The variable naming the role session.
pub(crate) const ROLE_SESSION_NAME_VAR: &str = "TENCENTCLOUD_ROLE_SESSION_NAME";

/// The temporary credentials of a CAM role, assumed with base credentials (any provider: fixed
/// keys, the environment, a profile) that sign `sts:AssumeRole` (version 2018-08-13, service
/// `sts`); the temporary key and session token it answers are what [`credentials`] returns.
///
/// Defaults: the session name `cvm-keypairs-<unix time>` (the time of each call), a lifetime
/// of 7,200 seconds, the endpoint `sts.tencentcloudapi.com` and the region `ap-guangzhou` (as
/// the official SDKs send it); the same transport defaults, pacing, retries and masking of
/// secrets in answers as a [`Client`](crate::Client)'s. The role ARN, session name, lifetime,
/// endpoint and region are checked when given, so nothing malformed is ever sent.
///
/// The credentials are cached and assumed again once fewer than 5 minutes (or half their
/// lifetime, when that is shorter) remain; threads asking at once wait for the one STS call
/// under way. If that call fails while the cached credentials are still valid, they are
/// returned anyway (and STS is asked again 15 seconds later); once they have expired, the
/// failure is returned. Failures are [`Error::Credentials`] naming the role and what failed,
/// e.g. `assumed role qcs::cam::uin/100000000001:roleName/cleanup: sts:AssumeRole failed: API
/// error InvalidParameter.RoleNotExist: … (RequestId …)`, with the API's code and RequestId
/// kept ([`Error::code`], [`Error::request_id`]). No secret ever shows in its `Debug` or errors.
///
/// [`credentials`]: ProvideCredentials::credentials
///
/// ```
/// use cvm_keypairs::{AssumeRoleProvider, Credentials};
/// let base = Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE")?;
/// let provider = AssumeRoleProvider::new(base, "qcs::cam::uin/100000000001:roleName/cleanup")?
///     .with_session_name("nightly-cleanup")?
///     .with_duration_seconds(3600)?;
/// // Give it to a client: `Client::builder().credentials(provider)`.
/// assert!(format!("{provider:?}").contains("roleName/cleanup"));
/// assert!(AssumeRoleProvider::new(Credentials::new("AKIDEXAMPLE", "k")?, "cleanup").is_err());
/// # Ok::<(), cvm_keypairs::Error>(())
/// ```
pub struct AssumeRoleProvider {
    sts: Sts,
}

impl AssumeRoleProvider {
    /// Assumes `role_arn` (`qcs::cam::uin/<uin>:roleName/<name>` or
    /// `qcs::cam::uin/<uin>:role/<id>`, or a service role's) with the credentials of `base`.
    pub fn new(base: impl ProvideCredentials + 'static, role_arn: &str) -> Result<Self, Error> {
        Ok(AssumeRoleProvider { sts: Sts::new(role_arn, Arc::new(base))? })
    }

    /// The session name (`RoleSessionName`): 2 to 128 letters, digits and `+=,.@_-`.
    pub fn with_session_name(self, name: &str) -> Result<Self, Error> {
        Ok(AssumeRoleProvider { sts: self.sts.session_name(name)? })
    }

    /// The lifetime asked for (`DurationSeconds`), 1 to 43,200 seconds (default 7,200).
    pub fn with_duration_seconds(self, seconds: u32) -> Result<Self, Error> {
        Ok(AssumeRoleProvider { sts: self.sts.duration_seconds(seconds)? })
    }

    /// The STS endpoint: `host`, `host:port`, `https://…`, or `http://…` for a loopback host
    /// only, as [`ClientBuilder::endpoint`](crate::ClientBuilder::endpoint) takes it.
    pub fn with_endpoint(self, endpoint: &str) -> Result<Self, Error> {
        Ok(AssumeRoleProvider { sts: self.sts.endpoint(endpoint)? })
    }

    /// The region STS calls carry (`X-TC-Region`), e.g. that of the CVM calls.
    pub fn with_region(self, region: &str) -> Result<Self, Error> {
        Ok(AssumeRoleProvider { sts: self.sts.region(region)? })
    }

    /// How STS calls are sent (default: a `UreqTransport` with its defaults).
    pub fn with_transport(self, transport: Arc<dyn Transport>) -> Self {
        AssumeRoleProvider { sts: self.sts.transport(transport) }
    }

    #[cfg(test)]
    fn with_clock(self, clock: Arc<dyn crate::clock::Clock>) -> Self {
        AssumeRoleProvider { sts: self.sts.clock(clock) }
    }

    /// The provider with its STS settings changed by `change` (the default chain's).
    pub(crate) fn map_sts(self, change: impl FnOnce(Sts) -> Result<Sts, Error>) -> Result<Self, Error> {
        Ok(AssumeRoleProvider { sts: change(self.sts)? })
    }
}

/// The role `TENCENTCLOUD_ROLE_ARN` names, assumed with `base`, or `None` when it is unset or
/// empty; with the session name `TENCENTCLOUD_ROLE_SESSION_NAME`, the endpoint
/// `TENCENTCLOUD_STS_ENDPOINT` and the region `TENCENTCLOUD_REGION`, where set. A malformed
/// value is an error naming its variable.
pub(crate) fn from_env(
    env: &dyn Environment,
    base: impl ProvideCredentials + 'static,
) -> Result<Option<AssumeRoleProvider>, Error> {
    let Some(arn) = non_empty_var(env, ROLE_ARN_VAR)? else {
        return Ok(None);
    };
    let mut provider = AssumeRoleProvider::new(base, &arn).map_err(|e| in_context(ROLE_ARN_VAR, e))?;
    if let Some(name) = non_empty_var(env, ROLE_SESSION_NAME_VAR)? {
        provider = provider.with_session_name(&name).map_err(|e| in_context(ROLE_SESSION_NAME_VAR, e))?;
    }
    Ok(Some(AssumeRoleProvider { sts: provider.sts.with_env_settings(env, &[REGION_VAR])? }))
}

/// The role the `role_arn` of `profile`'s section names, assumed with that section's keys, or
/// `None` when there is no profile or it names no role; with its `role_session_name` and the
/// endpoint `TENCENTCLOUD_STS_ENDPOINT`, where set.
pub(crate) fn from_profile(
    env: &dyn Environment,
    profile: Arc<ProfileProvider>,
) -> Result<Option<AssumeRoleProvider>, Error> {
    let section = match profile.profile() {
        Ok(section) => section,
        Err(Error::NoCredentials(_)) => return Ok(None),
        Err(broken) => return Err(broken),
    };
    let Some(arn) = section.role_arn else { return Ok(None) };
    let context = format!("role_arn of {}", profile.source());
    let mut provider = AssumeRoleProvider::new(profile, &arn).map_err(|e| in_context(&context, e))?;
    if let Some(name) = section.role_session_name {
        provider = provider.with_session_name(&name).map_err(|e| in_context(&context, e))?;
    }
    Ok(Some(AssumeRoleProvider { sts: provider.sts.with_env_settings(env, &[])? }))
}

impl ProvideCredentials for AssumeRoleProvider {
    /// `assumed role ARN with KEYS`, KEYS being the base credentials' source.
    fn source(&self) -> String {
        format!("{} with {}", self.sts.describe("assumed role"), self.sts.signer_source())
    }

    fn credentials(&self) -> Result<Credentials, Error> {
        self.sts.credentials("assumed role", |client, action| {
            client.execute_retrying(&action).map_err(|e| match e {
                // Only the base provider fails with these: STS's answers are other errors.
                Error::Credentials { .. } | Error::NoCredentials(_) => in_context("the base credentials", e),
                e => in_context("sts:AssumeRole failed", e),
            })
        })
    }
}

impl fmt::Debug for AssumeRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRoleProvider").field("sts", &self.sts).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde_json::Value;

    use super::*;
    use crate::credentials::fakes::{sts_answer, sts_error, FakeClock, FakeEnv, ScriptedTransport, STS_URL};
    use crate::credentials::refresh::REFRESH_BEFORE_SECONDS;
    use crate::error::ErrorCode;
    use crate::http::{HttpRequest, HttpResponse};

    const NOW: i64 = 1_700_000_000;
    const ARN: &str = "qcs::cam::uin/100000000001:roleName/cleanup";

    fn base() -> Credentials {
        Credentials::new("AKIDbase", "base-key-zq8x").unwrap()
    }

    fn setup() -> (Arc<ScriptedTransport>, Arc<FakeClock>, AssumeRoleProvider) {
        let transport = Arc::new(ScriptedTransport::default());
        let clock = Arc::new(FakeClock::at(NOW));
        let provider = AssumeRoleProvider::new(base(), ARN)
            .unwrap()
            .with_transport(transport.clone())
            .with_clock(clock.clone());
        (transport, clock, provider)
    }

    fn body(request: &HttpRequest<'_>) -> Value {
        serde_json::from_slice(&request.body).unwrap()
    }

    #[test]
    fn the_base_keys_sign_assume_role_for_sts_and_the_temporary_ones_come_back() {
        let (transport, _, provider) = setup();
        transport.answer(STS_URL, 200, &sts_answer("AKIDtmp", NOW + 7200));
        let c = provider.credentials().unwrap();
        assert_eq!(
            (c.secret_id(), c.secret_key(), c.token()),
            ("AKIDtmp", "tmp-key-AKIDtmp", Some("tmp-token-AKIDtmp"))
        );
        let sent = transport.sent();
        let request = &sent[0];
        for (name, value) in [
            ("X-TC-Action", "AssumeRole"),
            ("X-TC-Version", "2018-08-13"),
            ("X-TC-Region", "ap-guangzhou"),
            ("Host", "sts.tencentcloudapi.com"),
            ("X-TC-Timestamp", "1700000000"),
        ] {
            assert_eq!(request.header(name), Some(value), "{name}");
        }
        let authorization = request.header("Authorization").unwrap();
        assert!(authorization.starts_with("TC3-HMAC-SHA256 Credential=AKIDbase/2023-11-14/sts/tc3_request, "));
        assert_eq!(request.header("X-TC-Token"), None, "the base keys have no token");
        let expected = serde_json::json!({
            "RoleArn": ARN, "RoleSessionName": "cvm-keypairs-1700000000", "DurationSeconds": 7200
        });
        assert_eq!(body(request), expected);
    }

    #[test]
    fn session_name_duration_region_and_endpoint_are_sent_as_given() {
        let transport = Arc::new(ScriptedTransport::default());
        let provider = AssumeRoleProvider::new(base().with_token("base-token-zq8x").unwrap(), ARN)
            .and_then(|p| p.with_session_name("nightly"))
            .and_then(|p| p.with_duration_seconds(900))
            .and_then(|p| p.with_region("ap-singapore"))
            .and_then(|p| p.with_endpoint("http://127.0.0.1:8443"))
            .unwrap()
            .with_transport(transport.clone())
            .with_clock(Arc::new(FakeClock::at(NOW)));
        transport.answer("http://127.0.0.1:8443/", 200, &sts_answer("AKIDtmp", NOW + 900));
        provider.credentials().unwrap();
        let request = &transport.sent()[0];
        assert_eq!(body(request)["RoleSessionName"], "nightly");
        assert_eq!(body(request)["DurationSeconds"], 900);
        assert_eq!(request.header("X-TC-Region"), Some("ap-singapore"));
        assert_eq!(request.header("X-TC-Token"), Some("base-token-zq8x"), "a base session token is sent");
    }

    #[test]
    fn bad_settings_are_refused_before_anything_is_sent() {
        let refused = |result: Result<AssumeRoleProvider, Error>| result.unwrap_err().to_string();
        assert!(refused(AssumeRoleProvider::new(base(), "qcs::cam::uin/1:user/x")).contains("role ARN"));
        let ok = || AssumeRoleProvider::new(base(), ARN).unwrap();
        assert!(refused(ok().with_session_name("a b")).contains("role session name"));
        assert!(refused(ok().with_duration_seconds(43_201)).contains("1 to 43200 seconds"));
        assert!(refused(ok().with_endpoint("http://sts.example.com")).contains("plain http"));
        assert!(refused(ok().with_region("ap guangzhou")).contains("STS region"));
        assert!(refused(ok().with_region("")).contains("STS region"));
    }

    #[test]
    fn refreshes_five_minutes_before_expiry_and_across_it() {
        let (transport, clock, provider) = setup();
        transport.answer(STS_URL, 200, &sts_answer("AKIDfirst", NOW + 7200));
        assert_eq!(provider.credentials().unwrap().secret_id(), "AKIDfirst");
        clock.set(NOW + 7200 - REFRESH_BEFORE_SECONDS - 1);
        assert_eq!(provider.credentials().unwrap().secret_id(), "AKIDfirst");
        assert_eq!(transport.sent().len(), 1);
        clock.set(NOW + 7200 - REFRESH_BEFORE_SECONDS);
        transport.answer(STS_URL, 200, &sts_answer("AKIDsecond", NOW + 14_400));
        assert_eq!(provider.credentials().unwrap().secret_id(), "AKIDsecond");
        clock.set(NOW + 20_000);
        transport.answer(STS_URL, 200, &sts_answer("AKIDthird", NOW + 27_200));
        assert_eq!(provider.credentials().unwrap().secret_id(), "AKIDthird", "past the expiry");
        let sent = transport.sent();
        assert_eq!(sent.len(), 3);
        assert_eq!(body(&sent[2])["RoleSessionName"], format!("cvm-keypairs-{}", NOW + 20_000));
    }

    #[test]
    fn sixteen_threads_asking_at_once_make_one_sts_call_per_refresh() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let slow = move |_: &HttpRequest<'_>| {
            let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
            std::thread::sleep(std::time::Duration::from_millis(50));
            let body = sts_answer(&format!("AKID{n}"), NOW + 3600 * n as i64).into_bytes();
            Ok(HttpResponse { status: 200, body, ..Default::default() })
        };
        let clock = Arc::new(FakeClock::at(NOW));
        let provider = AssumeRoleProvider::new(base(), ARN).unwrap().with_transport(Arc::new(slow));
        let provider = Arc::new(provider.with_clock(clock.clone()));
        for round in 1..=3 {
            let start = Arc::new(std::sync::Barrier::new(16));
            let threads: Vec<_> = (0..16)
                .map(|_| {
                    let (provider, start) = (provider.clone(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        provider.credentials().unwrap().secret_id().to_owned()
                    })
                })
                .collect();
            for thread in threads {
                assert_eq!(thread.join().unwrap(), format!("AKID{round}"));
            }
            assert_eq!(calls.load(Ordering::SeqCst), round);
            clock.set(NOW + 3600 * round as i64 - 1);
        }
    }

    #[test]
    fn an_sts_error_keeps_its_code_and_request_id_and_names_the_role() {
        let (transport, _, provider) = setup();
        transport.answer(
            STS_URL,
            200,
            &sts_error("ResourceNotFound.RoleNotExist", "role not exist", "r-sts-1"),
        );
        let err = provider.credentials().unwrap_err();
        assert_eq!(err.code().map(ErrorCode::as_str), Some("ResourceNotFound.RoleNotExist"));
        assert_eq!(err.request_id(), Some("r-sts-1"));
        assert!(err.is_auth(), "a credentials failure");
        assert_eq!(
            err.to_string(),
            format!(
                "credentials: assumed role {ARN}: sts:AssumeRole failed: API error ResourceNotFound.RoleNotExist: \
                 role not exist (RequestId r-sts-1)"
            )
        );
    }

    #[test]
    fn a_failed_refresh_serves_unexpired_credentials_then_fails_once_they_expire() {
        let (transport, clock, provider) = setup();
        transport.answer(STS_URL, 200, &sts_answer("AKIDold", NOW + 3600));
        provider.credentials().unwrap();
        clock.set(NOW + 3599);
        transport.answer(STS_URL, 200, &sts_error("AuthFailure.SecretIdNotFound", "gone", "r-2"));
        assert_eq!(provider.credentials().unwrap().secret_id(), "AKIDold");
        clock.set(NOW + 3600);
        transport.answer(STS_URL, 200, &sts_error("AuthFailure.SecretIdNotFound", "gone", "r-3"));
        let err = provider.credentials().unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "credentials: assumed role {ARN}: the credentials expired at {} and refreshing them failed: \
                 sts:AssumeRole failed: API error AuthFailure.SecretIdNotFound",
                NOW + 3600
            )),
            "{err}"
        );
        assert_eq!(err.request_id(), Some("r-3"));
    }

    #[test]
    fn base_credentials_that_fail_are_named_as_such() {
        let provider = AssumeRoleProvider::new(AbsentBase, ARN).unwrap();
        let err = provider.credentials().unwrap_err().to_string();
        assert_eq!(
            err,
            format!("credentials: assumed role {ARN}: the base credentials: no credentials found: environment: unset")
        );
    }

    #[derive(Debug)]
    struct AbsentBase;

    impl ProvideCredentials for AbsentBase {
        fn credentials(&self) -> Result<Credentials, Error> {
            Err(Error::NoCredentials(vec![("environment", "unset".into())]))
        }
    }

    #[test]
    fn credentials_already_expired_or_malformed_answers_are_errors_with_the_request_id() {
        let (transport, _, provider) = setup();
        transport.answer(STS_URL, 200, &sts_answer("AKIDstale", NOW));
        let err = provider.credentials().unwrap_err();
        assert!(err.to_string().contains("the credentials STS gave expired at 1700000000"), "{err}");
        assert_eq!(err.request_id(), Some("r-AKIDstale"));
        transport.answer(
            STS_URL,
            200,
            &sts_answer("AKIDtmp", NOW + 60).replace("\"ExpiredTime\"", "\"Other\""),
        );
        let err = provider.credentials().unwrap_err();
        assert!(err.to_string().contains("sts:AssumeRole failed: cannot decode the API response: the answer has no ExpiredTime integer"), "{err}");
        assert_eq!(err.request_id(), Some("r-AKIDtmp"));
    }

    #[test]
    fn from_env_reads_the_role_session_name_endpoint_and_region() {
        assert!(from_env(&FakeEnv::default(), base()).unwrap().is_none());
        assert!(from_env(&FakeEnv::with_vars(&[(ROLE_ARN_VAR, "")]), base()).unwrap().is_none());
        let env = FakeEnv::with_vars(&[
            (ROLE_ARN_VAR, ARN),
            (ROLE_SESSION_NAME_VAR, "from-env"),
            ("TENCENTCLOUD_STS_ENDPOINT", "http://127.0.0.1:9000"),
            (REGION_VAR, "ap-shanghai"),
        ]);
        let transport = Arc::new(ScriptedTransport::default());
        let provider = from_env(&env, base()).unwrap().unwrap().with_transport(transport.clone());
        transport.answer("http://127.0.0.1:9000/", 200, &sts_answer("AKIDtmp", i64::MAX / 2));
        provider.credentials().unwrap();
        let request = &transport.sent()[0];
        assert_eq!(body(request)["RoleSessionName"], "from-env");
        assert_eq!(request.header("X-TC-Region"), Some("ap-shanghai"));
        for (var, value, why) in [
            (ROLE_ARN_VAR, "cleanup", "TENCENTCLOUD_ROLE_ARN: role ARN \"cleanup\""),
            (ROLE_SESSION_NAME_VAR, "a", "TENCENTCLOUD_ROLE_SESSION_NAME: role session name \"a\""),
            (
                "TENCENTCLOUD_STS_ENDPOINT",
                "http://example.com",
                "TENCENTCLOUD_STS_ENDPOINT: \"http://example.com\": plain http",
            ),
            (REGION_VAR, "ap_x", "TENCENTCLOUD_REGION: STS region \"ap_x\""),
        ] {
            let env = FakeEnv::with_vars(&[(ROLE_ARN_VAR, ARN), (var, value)]);
            let err = from_env(&env, base()).unwrap_err().to_string();
            assert!(err.starts_with(&format!("credentials: {why}")), "{err}");
        }
    }
}
