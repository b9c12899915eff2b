//! [`WebIdentityProvider`]: temporary credentials of a CAM role for the holder of an OIDC token
//! (a TKE pod, a CI runner), through sts:AssumeRoleWithWebIdentity.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::sts::Sts;
use super::{in_context, Credentials, ProvideCredentials};
use crate::actions::assume_role_with_web_identity::{
    AssumeRoleWithWebIdentity, ProviderId, WebIdentityToken,
};
use crate::env::{non_empty_var, Environment, SystemEnvironment, REGION_VAR};
use crate::error::Error;
use crate::transport::Transport;

/// The variables the official SDKs read for a web identity (TKE's OIDC), in this order.
pub(crate) const PROVIDER_ID_VAR: &str = "TKE_PROVIDER_ID";
pub(crate) const TOKEN_FILE_VAR: &str = "TKE_WEB_IDENTITY_TOKEN_FILE";
pub(crate) const ROLE_ARN_VAR: &str = "TKE_ROLE_ARN";
pub(crate) const TKE_REGION_VAR: &str = "TKE_REGION";

/// The temporary credentials of a CAM role for the holder of an OIDC token from an identity
/// provider the role trusts, through `sts:AssumeRoleWithWebIdentity` (version 2018-08-13).
///
/// The token is read from its file at every refresh (TKE and CI runners rotate it), through
/// the same checks as every credentials file: a regular file (a FIFO or a device is an error,
/// never a wait), at most 16 KiB of printable ASCII once surrounding whitespace is trimmed. An
/// unreadable file is an error naming the path (and the variable it came from), never the
/// token.
///
/// The token is the proof, so the request is sent unsigned (`Authorization: SKIP`, no
/// `X-TC-Token`), as the official SDKs send it; should STS echo the token in an answer, it is
/// masked. Defaults, checks, caching, refreshing and errors are those of
/// [`AssumeRoleProvider`](crate::AssumeRoleProvider), with failures naming `web identity for
/// role qcs::…`. No secret ever shows in its `Debug` or errors.
///
/// ```
/// use cvm_keypairs::WebIdentityProvider;
/// let provider = WebIdentityProvider::new(
///     "OIDC",
///     "/var/run/secrets/tke.cloud.tencent.com/identity-token/token",
///     "qcs::cam::uin/100000000001:roleName/pods",
/// )?
/// .with_region("ap-guangzhou")?;
/// // Give it to a client: `Client::builder().credentials(provider)`.
/// assert!(format!("{provider:?}").contains("identity-token"));
/// # Ok::<(), cvm_keypairs::Error>(())
/// ```
pub struct WebIdentityProvider {
    provider_id: ProviderId,
    token_file: PathBuf,
    /// The variable the path came from, named in errors.
    token_file_var: Option<&'static str>,
    env: Arc<dyn Environment>,
    sts: Sts,
}

/// What the internal client of a web identity would sign with: nothing, since
/// AssumeRoleWithWebIdentity is sent unsigned; it says so should anything ask.
#[derive(Debug)]
struct Unsigned;

impl ProvideCredentials for Unsigned {
    fn credentials(&self) -> Result<Credentials, Error> {
        Err(Error::credentials("AssumeRoleWithWebIdentity is sent unsigned, with no credentials"))
    }
}

impl WebIdentityProvider {
    /// Assumes `role_arn` as the identity provider `provider_id` (e.g. `OIDC`) vouches for
    /// the holder of the token in `token_file`.
    pub fn new(provider_id: &str, token_file: impl Into<PathBuf>, role_arn: &str) -> Result<Self, Error> {
        let sts = Sts::new(role_arn, Arc::new(Unsigned))?;
        Ok(Self::with_env(Arc::new(SystemEnvironment), ProviderId::new(provider_id)?, token_file.into(), sts))
    }

    fn with_env(env: Arc<dyn Environment>, provider_id: ProviderId, token_file: PathBuf, sts: Sts) -> Self {
        WebIdentityProvider { provider_id, token_file, token_file_var: None, env, sts }
    }

    /// The session name (`RoleSessionName`): 2 to 128 letters, digits and `+=,.@_-`.
    pub fn with_session_name(self, name: &str) -> Result<Self, Error> {
        Ok(WebIdentityProvider { sts: self.sts.session_name(name)?, ..self })
    }

    /// The lifetime asked for (`DurationSeconds`), 1 to 43,200 seconds (default 7,200).
    pub fn with_duration_seconds(self, seconds: u32) -> Result<Self, Error> {
        Ok(WebIdentityProvider { sts: self.sts.duration_seconds(seconds)?, ..self })
    }

    /// The STS endpoint: `host`, `host:port`, `https://…`, or `http://…` for a loopback host
    /// only, as [`ClientBuilder::endpoint`](crate::ClientBuilder::endpoint) takes it.
    pub fn with_endpoint(self, endpoint: &str) -> Result<Self, Error> {
        Ok(WebIdentityProvider { sts: self.sts.endpoint(endpoint)?, ..self })
    }

    /// The region STS calls carry (`X-TC-Region`), `TKE_REGION` in a TKE pod.
    pub fn with_region(self, region: &str) -> Result<Self, Error> {
        Ok(WebIdentityProvider { sts: self.sts.region(region)?, ..self })
    }

    /// How STS calls are sent (default: a `UreqTransport` with its defaults).
    pub fn with_transport(self, transport: Arc<dyn Transport>) -> Self {
        WebIdentityProvider { sts: self.sts.transport(transport), ..self }
    }

    #[cfg(test)]
    fn with_clock(self, clock: Arc<dyn crate::clock::Clock>) -> Self {
        WebIdentityProvider { sts: self.sts.clock(clock), ..self }
    }

    /// The provider with its STS settings changed by `change` (the default chain's).
    pub(crate) fn map_sts(self, change: impl FnOnce(Sts) -> Result<Sts, Error>) -> Result<Self, Error> {
        Ok(WebIdentityProvider { sts: change(self.sts)?, ..self })
    }

    /// The web identity the official SDKs' variables describe: `TKE_PROVIDER_ID`,
    /// `TKE_WEB_IDENTITY_TOKEN_FILE` and `TKE_ROLE_ARN` (none set: `None`; some but not all:
    /// an error naming the missing ones), the region `TKE_REGION` (else `TENCENTCLOUD_REGION`)
    /// and the endpoint `TENCENTCLOUD_STS_ENDPOINT`, where set. A malformed value is an error
    /// naming its variable.
    pub(crate) fn from_env(env: &Arc<dyn Environment>) -> Result<Option<Self>, Error> {
        let vars = [PROVIDER_ID_VAR, TOKEN_FILE_VAR, ROLE_ARN_VAR];
        let [id, file, arn] = vars.map(|var| non_empty_var(&**env, var));
        let values = [id?, file?, arn?];
        let missing: Vec<&str> =
            vars.iter().zip(&values).filter(|(_, value)| value.is_none()).map(|(var, _)| *var).collect();
        if missing.len() == vars.len() {
            return Ok(None);
        }
        let [Some(id), Some(file), Some(arn)] = values else {
            let set: Vec<&str> = vars.iter().filter(|var| !missing.contains(var)).copied().collect();
            return Err(Error::credentials(format!(
                "web identity: {} set, but not {}",
                set.join(" and "),
                missing.join(" nor ")
            )));
        };
        let provider_id = ProviderId::new(&id).map_err(|e| in_context(PROVIDER_ID_VAR, e))?;
        let sts = Sts::new(&arn, Arc::new(Unsigned)).map_err(|e| in_context(ROLE_ARN_VAR, e))?;
        let sts = sts.with_env_settings(&**env, &[TKE_REGION_VAR, REGION_VAR])?;
        let provider = Self::with_env(env.clone(), provider_id, file.into(), sts);
        Ok(Some(WebIdentityProvider { token_file_var: Some(TOKEN_FILE_VAR), ..provider }))
    }

    /// The token, read afresh from its file.
    fn read_token(&self) -> Result<WebIdentityToken, Error> {
        let context = self.file_context();
        let (text, _) = self.env.read_file(&self.token_file).map_err(|e| Error::Credentials {
            message: format!("{context} cannot be read: {e}"),
            source: Some(Box::new(e)),
        })?;
        WebIdentityToken::new(&text).map_err(|e| in_context(&context, e))
    }

    /// `the token file "<path>"`, and the variable that named it.
    fn file_context(&self) -> String {
        let path: &Path = &self.token_file;
        match self.token_file_var {
            Some(var) => format!("the token file {path:?} ({var})"),
            None => format!("the token file {path:?}"),
        }
    }
}

impl ProvideCredentials for WebIdentityProvider {
    /// `web identity for role ARN, the token file "PATH" (VARIABLE)`.
    fn source(&self) -> String {
        format!("{}, {}", self.sts.describe("web identity for role"), self.file_context())
    }

    fn credentials(&self) -> Result<Credentials, Error> {
        self.sts.credentials("web identity for role", |client, role| {
            let action = AssumeRoleWithWebIdentity {
                provider_id: self.provider_id.clone(),
                token: self.read_token()?,
                role,
            };
            client
                .execute_unsigned_retrying(&action, action.token.expose_secret())
                .map_err(|e| in_context("sts:AssumeRoleWithWebIdentity failed", e))
        })
    }
}

impl fmt::Debug for WebIdentityProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebIdentityProvider")
            .field("provider_id", &self.provider_id)
            .field("token_file", &self.token_file)
            .field("sts", &self.sts)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use serde_json::Value;

    use super::*;
    use crate::credentials::fakes::{sts_answer, sts_error, FakeClock, FakeEnv, ScriptedTransport, STS_URL};
    use crate::credentials::sts::STS_ENDPOINT_VAR;

    const NOW: i64 = 1_700_000_000;
    const ARN: &str = "qcs::cam::uin/100000000001:roleName/pods";
    const FILE: &str = "/var/run/secrets/token";
    const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ6cTh4In0.sig-zq8x-0123456789";

    fn tke_env(token: &str) -> FakeEnv {
        FakeEnv::with_vars(&[
            (PROVIDER_ID_VAR, "OIDC"),
            (TOKEN_FILE_VAR, FILE),
            (ROLE_ARN_VAR, ARN),
            (TKE_REGION_VAR, "ap-beijing"),
        ])
        .file_with_mode(FILE, token, 0o644)
    }

    fn provider(env: FakeEnv) -> (Arc<ScriptedTransport>, Arc<FakeClock>, WebIdentityProvider) {
        let env: Arc<dyn Environment> = Arc::new(env);
        let transport = Arc::new(ScriptedTransport::default());
        let clock = Arc::new(FakeClock::at(NOW));
        let provider = WebIdentityProvider::from_env(&env).unwrap().unwrap();
        (transport.clone(), clock.clone(), provider.with_transport(transport).with_clock(clock))
    }

    fn error_of(provider: &WebIdentityProvider) -> String {
        let err = provider.credentials().unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("zq8x"), "{shown}");
        err.to_string()
    }

    #[test]
    fn the_request_is_unsigned_as_the_sdks_send_it_and_carries_the_token_file_s_token() {
        let (transport, _, provider) = provider(tke_env(&format!("{TOKEN}\n")));
        transport.answer(STS_URL, 200, &sts_answer("AKIDpod", NOW + 7200));
        let c = provider.credentials().unwrap();
        assert_eq!((c.secret_id(), c.token()), ("AKIDpod", Some("tmp-token-AKIDpod")));
        let request = &transport.sent()[0];
        for (name, value) in [
            ("Authorization", "SKIP"),
            ("X-TC-Action", "AssumeRoleWithWebIdentity"),
            ("X-TC-Version", "2018-08-13"),
            ("X-TC-Region", "ap-beijing"),
            ("Content-Type", "application/json"),
            ("Host", "sts.tencentcloudapi.com"),
        ] {
            assert_eq!(request.header(name), Some(value), "{name}");
        }
        assert_eq!(request.header("X-TC-Token"), None);
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let expected = serde_json::json!({
            "ProviderId": "OIDC", "WebIdentityToken": TOKEN, "RoleArn": ARN,
            "RoleSessionName": "cvm-keypairs-1700000000", "DurationSeconds": 7200
        });
        assert_eq!(body, expected);
    }

    #[test]
    fn the_token_file_is_read_again_at_every_refresh_and_only_then() {
        let env = tke_env(TOKEN);
        let reads = env.reads();
        let (transport, clock, provider) = provider(env);
        transport.answer(STS_URL, 200, &sts_answer("AKIDfirst", NOW + 3600));
        provider.credentials().unwrap();
        provider.credentials().unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        clock.set(NOW + 3600 - 300);
        transport.answer(STS_URL, 200, &sts_answer("AKIDsecond", NOW + 7200));
        assert_eq!(provider.credentials().unwrap().secret_id(), "AKIDsecond");
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn an_unreadable_oversized_or_empty_token_file_is_an_error_naming_the_path_and_variable() {
        let unreadable = tke_env(TOKEN).unreadable(FILE, std::io::ErrorKind::PermissionDenied);
        let (_, _, p) = provider(unreadable);
        let context =
            format!("credentials: web identity for role {ARN}: the token file \"{FILE}\" ({TOKEN_FILE_VAR})");
        assert_eq!(error_of(&p), format!("{context} cannot be read: permission denied"));
        let (_, _, p) = provider(tke_env(&format!("zq8x{}", "t".repeat(16 * 1024))));
        assert_eq!(error_of(&p), format!("{context}: the web identity token is longer than 16 KiB"));
        let (_, _, p) = provider(tke_env(" \n"));
        assert_eq!(error_of(&p), format!("{context}: the web identity token is empty"));
        let (transport, _, p) = provider(tke_env("zq8x zq8x"));
        assert!(error_of(&p).ends_with("holds a space, a control character or non-ASCII text"));
        assert!(transport.sent().is_empty(), "nothing sent without a usable token");
    }

    #[test]
    fn a_fifo_as_the_token_file_is_refused_without_waiting() {
        let dir = std::env::temp_dir().join(format!("cvm-keypairs-web-identity-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("token");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let provider = WebIdentityProvider::new("OIDC", &fifo, ARN).unwrap();
        let (done, result) = std::sync::mpsc::channel();
        std::thread::spawn(move || done.send(provider.credentials().map(drop).map_err(|e| e.to_string())));
        let err =
            result.recv_timeout(std::time::Duration::from_secs(5)).expect("waited on the FIFO").unwrap_err();
        assert!(err.ends_with("cannot be read: it is a FIFO, not a regular file"), "{err}");
        assert!(err.contains(&format!("{fifo:?}")), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_sts_error_echoing_the_token_keeps_code_and_request_id_with_the_token_masked() {
        let (transport, _, provider) = provider(tke_env(TOKEN));
        let message = format!("token {TOKEN} is not trusted");
        for _ in 0..2 {
            transport.answer(
                STS_URL,
                200,
                &sts_error("InvalidParameter.WebIdentityTokenError", &message, "r-web-1"),
            );
        }
        let err = provider.credentials().unwrap_err();
        assert_eq!(err.code().map(|c| c.as_str()), Some("InvalidParameter.WebIdentityTokenError"));
        assert_eq!(err.request_id(), Some("r-web-1"));
        assert_eq!(
            error_of(&provider),
            format!(
                "credentials: web identity for role {ARN}: sts:AssumeRoleWithWebIdentity failed: API error \
                 InvalidParameter.WebIdentityTokenError: token *** is not trusted (RequestId r-web-1)"
            )
        );
    }

    #[test]
    fn from_env_needs_all_three_variables_or_none() {
        let from = |env: FakeEnv| {
            let env: Arc<dyn Environment> = Arc::new(env);
            WebIdentityProvider::from_env(&env).map(|p| p.is_some()).map_err(|e| e.to_string())
        };
        assert_eq!(from(FakeEnv::default()), Ok(false));
        assert_eq!(
            from(FakeEnv::with_vars(&[(TKE_REGION_VAR, "ap-beijing"), (ROLE_ARN_VAR, "")])),
            Ok(false)
        );
        assert_eq!(
            from(FakeEnv::with_vars(&[(ROLE_ARN_VAR, ARN)])),
            Err("credentials: web identity: TKE_ROLE_ARN set, but not TKE_PROVIDER_ID nor TKE_WEB_IDENTITY_TOKEN_FILE"
                .into())
        );
        assert_eq!(
            from(FakeEnv::with_vars(&[(PROVIDER_ID_VAR, "OIDC"), (TOKEN_FILE_VAR, FILE)])),
            Err("credentials: web identity: TKE_PROVIDER_ID and TKE_WEB_IDENTITY_TOKEN_FILE set, but not TKE_ROLE_ARN"
                .into())
        );
        for (var, value, why) in [
            (PROVIDER_ID_VAR, "O I", "TKE_PROVIDER_ID: identity provider id \"O I\""),
            (ROLE_ARN_VAR, "pods", "TKE_ROLE_ARN: role ARN \"pods\""),
            (TKE_REGION_VAR, "ap beijing", "TKE_REGION: STS region"),
            (STS_ENDPOINT_VAR, "ftp://x", "TENCENTCLOUD_STS_ENDPOINT: endpoint \"ftp://x\""),
        ] {
            let err = from(tke_env(TOKEN).var_set(var, value)).unwrap_err();
            assert!(err.starts_with(&format!("credentials: {why}")), "{err}");
        }
    }

    #[test]
    fn the_region_is_tke_region_else_tencentcloud_region_else_the_default() {
        for (vars, region) in [
            (&[(TKE_REGION_VAR, "ap-beijing"), (REGION_VAR, "ap-shanghai")][..], "ap-beijing"),
            (&[(TKE_REGION_VAR, ""), (REGION_VAR, "ap-shanghai")][..], "ap-shanghai"),
            (&[(TKE_REGION_VAR, "")][..], "ap-guangzhou"),
        ] {
            let env = vars.iter().fold(tke_env(TOKEN), |env, (var, value)| env.var_set(var, value));
            let (transport, _, provider) = provider(env);
            transport.answer(STS_URL, 200, &sts_answer("AKIDpod", NOW + 60));
            provider.credentials().unwrap();
            assert_eq!(transport.sent()[0].header("X-TC-Region"), Some(region), "{vars:?}");
        }
    }

    #[test]
    fn debug_shows_the_settings_and_never_the_token_or_keys() {
        let (transport, _, provider) = provider(tke_env(TOKEN));
        transport.answer(STS_URL, 200, &sts_answer("AKIDzq8x", NOW + 60).replace("tmp-", "zq8x-"));
        provider.credentials().unwrap();
        let shown = format!("{provider:?} {provider:#?}");
        assert!(shown.contains(FILE) && shown.contains(ARN) && shown.contains("OIDC"), "{shown}");
        assert!(!shown.replace("AKIDzq8x", "").contains("zq8x"), "{shown}");
    }
}
