//! What the two STS sources ([`super::AssumeRoleProvider`], [`super::WebIdentityProvider`])
//! share: the role, session name and lifetime they ask for, where and how they call STS (an
//! internal [`Client`], so pacing, retries, timeouts and the masking of secrets in answers are
//! those of every other call), and the cache of what STS gave.

use std::fmt;
use std::sync::Arc;

use super::refresh::{Fetched, RefreshCache};
use super::{in_context, Credentials, ProvideCredentials};
use crate::actions::assume_role::{
    duration_seconds, AssumeRole, RoleArn, SessionName, TemporaryCredentials, DEFAULT_DURATION_SECONDS,
};
use crate::client::Client;
#[cfg(test)]
use crate::clock::Clock;
use crate::clock::SystemClock;
use crate::endpoint::Endpoint;
use crate::env::{non_empty_var, Environment};
use crate::error::Error;
use crate::transport::Transport;

/// The variable overriding the STS endpoint.
pub(crate) const STS_ENDPOINT_VAR: &str = "TENCENTCLOUD_STS_ENDPOINT";
/// The STS endpoint used when none is given.
pub(crate) const DEFAULT_STS_ENDPOINT: &str = "sts.tencentcloudapi.com";
/// The region of STS calls when none is given, as the official SDKs send AssumeRole.
pub(crate) const DEFAULT_STS_REGION: &str = "ap-guangzhou";

/// One STS source's settings and cache.
pub(crate) struct Sts {
    role_arn: RoleArn,
    session_name: Option<SessionName>,
    duration_seconds: u32,
    endpoint: Endpoint,
    region: String,
    /// What the internal client signs with (the base credentials of an assumed role).
    signer: Arc<dyn ProvideCredentials>,
    /// `None`: the client's default transport.
    transport: Option<Arc<dyn Transport>>,
    cache: RefreshCache,
}

impl Sts {
    pub(crate) fn new(role_arn: &str, signer: Arc<dyn ProvideCredentials>) -> Result<Self, Error> {
        Ok(Sts {
            role_arn: RoleArn::new(role_arn)?,
            session_name: None,
            duration_seconds: DEFAULT_DURATION_SECONDS,
            endpoint: Endpoint::parse(DEFAULT_STS_ENDPOINT)?,
            region: DEFAULT_STS_REGION.to_owned(),
            signer,
            transport: None,
            cache: RefreshCache::new(Arc::new(SystemClock)),
        })
    }

    pub(crate) fn session_name(mut self, name: &str) -> Result<Self, Error> {
        self.session_name = Some(SessionName::new(name)?);
        Ok(self)
    }

    pub(crate) fn duration_seconds(mut self, seconds: u32) -> Result<Self, Error> {
        self.duration_seconds = duration_seconds(seconds)?;
        Ok(self)
    }

    pub(crate) fn endpoint(mut self, endpoint: &str) -> Result<Self, Error> {
        self.endpoint = Endpoint::parse(endpoint)?;
        Ok(self)
    }

    pub(crate) fn region(mut self, region: &str) -> Result<Self, Error> {
        let valid = !region.is_empty() && region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !valid {
            let shown: String = region.chars().take(64).collect();
            return Err(Error::InvalidInput(format!("STS region {shown:?} is not like ap-guangzhou")));
        }
        self.region = region.to_owned();
        Ok(self)
    }

    pub(crate) fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    #[cfg(test)]
    pub(crate) fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.cache = RefreshCache::new(clock);
        self
    }

    /// The endpoint `TENCENTCLOUD_STS_ENDPOINT` names and the region the first of `region_vars`
    /// set names, where set.
    pub(crate) fn with_env_settings(
        mut self,
        env: &dyn Environment,
        region_vars: &[&str],
    ) -> Result<Self, Error> {
        if let Some(endpoint) = non_empty_var(env, STS_ENDPOINT_VAR)? {
            self = self.endpoint(&endpoint).map_err(|e| in_context(STS_ENDPOINT_VAR, e))?;
        }
        for var in region_vars {
            if let Some(region) = non_empty_var(env, var)? {
                return self.region(&region).map_err(|e| in_context(var, e));
            }
        }
        Ok(self)
    }

    /// The cached credentials, or those `call` gets from STS through the internal client when
    /// they are due for a refresh (given the role, session name and lifetime to ask for). A failure names the source: `kind` and the role ARN (e.g.
    /// `assumed role qcs::…`).
    pub(crate) fn credentials(
        &self,
        kind: &str,
        call: impl FnOnce(&Client, AssumeRole) -> Result<TemporaryCredentials, Error>,
    ) -> Result<Credentials, Error> {
        let fetch = |now: i64| {
            let role = AssumeRole {
                role_arn: self.role_arn.clone(),
                session_name: self.session_name.clone().unwrap_or_else(|| SessionName::default_at(now)),
                duration_seconds: self.duration_seconds,
            };
            let answer = call(&self.client()?, role)?;
            if answer.expires_at <= now {
                return Err(Error::Decode {
                    message: format!(
                        "the credentials STS gave expired at {} (Unix seconds), not after now ({now}); \
                         is the clock right?",
                        answer.expires_at
                    ),
                    request_id: Some(answer.request_id),
                    source: None,
                });
            }
            Ok(Fetched { credentials: answer.credentials, expires_at: answer.expires_at })
        };
        self.cache.get(fetch, |error, expired| {
            let source = format!("{kind} {}", self.role_arn.as_str());
            match expired {
                None => in_context(&source, error),
                Some(at) => in_context(
                    &format!("{source}: the credentials expired at {at} and refreshing them failed"),
                    error,
                ),
            }
        })
    }

    /// `KIND ARN`, e.g. `assumed role qcs::cam::uin/1:roleName/x`.
    pub(crate) fn describe(&self, kind: &str) -> String {
        format!("{kind} {}", self.role_arn.as_str())
    }

    /// Where the keys that sign the STS calls come from.
    pub(crate) fn signer_source(&self) -> String {
        self.signer.source()
    }

    fn client(&self) -> Result<Client, Error> {
        let builder = Client::builder()
            .credentials(self.signer.clone())
            .endpoint(self.endpoint.base_url())
            .region(self.region.clone());
        let builder = match &self.transport {
            Some(transport) => builder.transport(transport.clone()),
            None => builder,
        };
        // The signatures' time comes from the same clock as the cache's, which tests set.
        #[cfg(test)]
        let builder = builder.clock(self.cache.clock());
        builder.build()
    }
}

impl fmt::Debug for Sts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sts")
            .field("role_arn", &self.role_arn.as_str())
            .field("session_name", &self.session_name)
            .field("duration_seconds", &self.duration_seconds)
            .field("endpoint", &self.endpoint.base_url())
            .field("region", &self.region)
            .field("signer", &self.signer)
            .field("cached", &self.cache)
            .finish()
    }
}
