//! [`WebIdentityProvider`]: temporary credentials of a CAM role for the holder of an OIDC token
//! (a TKE pod, a CI runner), through sts:AssumeRoleWithWebIdentity.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::sts::Sts;
use super::{in_context, Credentials, ProvideCredentials};
use crate::actions::assume_role_with_web_identity::{AssumeRoleWithWebIdentity, ProviderId, WebIdentityToken};
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

    /// The web identity the official SDKs' variables describe: `TKE_PROVIDER_ID`,
    /// `TKE_WEB_IDENTITY_TOKEN_FILE` and `TKE_ROLE_ARN` (none set: `None`; some but not all:
    /// an error naming the missing ones), the region `TKE_REGION` (else `TENCENTCLOUD_REGION`)
    /// and the endpoint `TENCENTCLOUD_STS_ENDPOINT`, where set. A malformed value is an error
    /// naming its variable.
    #[allow(dead_code)] // Until the default chain reads it (issue 14's wiring).
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
        let sts = sts.from_env(&**env, &[TKE_REGION_VAR, REGION_VAR])?;
        let provider = Self::with_env(env.clone(), provider_id, file.into(), sts);
        Ok(Some(WebIdentityProvider { token_file_var: Some(TOKEN_FILE_VAR), ..provider }))
    }

    /// The token, read afresh from its file.
    fn read_token(&self) -> Result<WebIdentityToken, Error> {
        let context = self.file_context();
        let (text, _) = self
            .env
            .read_file(&self.token_file)
            .map_err(|e| Error::Credentials { message: format!("{context} cannot be read: {e}"), source: Some(Box::new(e)) })?;
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
    fn credentials(&self) -> Result<Credentials, Error> {
        self.sts.credentials("web identity for role", |client, session| {
            let action = AssumeRoleWithWebIdentity {
                provider_id: self.provider_id.clone(),
                token: self.read_token()?,
                role_arn: session.role_arn,
                session_name: session.session_name,
                duration_seconds: session.duration_seconds,
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
