//! [`AssumeRoleProvider`]: temporary credentials of a CAM role, assumed with base credentials
//! through sts:AssumeRole, e.g. for a cleanup job working in another account.

use std::fmt;
use std::sync::Arc;

use super::sts::Sts;
use super::{in_context, Credentials, ProvideCredentials};
use crate::actions::assume_role::AssumeRole;
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
}

/// The role `TENCENTCLOUD_ROLE_ARN` names, assumed with `base`, or `None` when it is unset or
/// empty; with the session name `TENCENTCLOUD_ROLE_SESSION_NAME`, the endpoint
/// `TENCENTCLOUD_STS_ENDPOINT` and the region `TENCENTCLOUD_REGION`, where set. A malformed
/// value is an error naming its variable.
#[allow(dead_code)] // Until the default chain reads it (issue 14's wiring).
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
    Ok(Some(AssumeRoleProvider { sts: provider.sts.from_env(env, &[REGION_VAR])? }))
}

impl ProvideCredentials for AssumeRoleProvider {
    fn credentials(&self) -> Result<Credentials, Error> {
        self.sts.credentials("assumed role", |client, session| {
            let action = AssumeRole {
                role_arn: session.role_arn,
                session_name: session.session_name,
                duration_seconds: session.duration_seconds,
            };
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
