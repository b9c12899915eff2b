//! [`ClientBuilder`]: every setting of a [`Client`], with its default.

use std::fmt;
use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use super::Client;
use crate::clock::{Clock, SystemClock};
use crate::credentials::defaults::{self, StsSettings};
use crate::credentials::{ProfileProvider, ProvideCredentials};
use crate::endpoint::Endpoint;
use crate::env::{region_from_env, Environment, SystemEnvironment};
use crate::error::Error;
use crate::http::Method;
use crate::limiter::RateLimiter;
use crate::request::{Language, RequestConfig};
use crate::retry::RetryPolicy;
use crate::transport::Transport;

/// Settings for a [`Client`]; every one has a default.
///
/// Defaults: endpoint `cvm.tencentcloudapi.com`, POST, no language header, 10 requests per
/// second per action and [`RetryPolicy::default`], and with the `ureq` feature a
/// `UreqTransport` with its defaults (so [`build`](Self::build) fails on a proxy variable it
/// cannot use) and the default credentials chain (environment, profile file, instance role).
///
/// The region is the first of: the one given to [`region`](Self::region), the variable
/// `TENCENTCLOUD_REGION`, the region the credentials' configuration names
/// ([`ProvideCredentials::region`]: the `region` of the profile the default chain or a
/// [`ProfileProvider`](crate::ProfileProvider) reads, even when the keys come from another
/// source of the chain). Empty counts as unset; a profile file that must be read for its
/// region and is broken fails the build. A client without a region can be built, but it
/// signs and sends nothing: every call fails with [`Error::InvalidInput`] saying "no region",
/// and [`Client::delete_key_pairs_all`] fails as a whole.
#[derive(Default)]
pub struct ClientBuilder {
    config: RequestConfig,
    region_set: bool,
    rate_limit: Option<usize>,
    retry: RetryPolicy,
    endpoint: Option<String>,
    allow_insecure_http: bool,
    credentials: Option<Arc<dyn ProvideCredentials>>,
    profile: Option<String>,
    sts_endpoint: Option<String>,
    transport: Option<Arc<dyn Transport>>,
    clock: Option<Arc<dyn Clock>>,
}

impl ClientBuilder {
    /// Where credentials come from, asked before every request so temporary ones can rotate:
    /// fixed [`Credentials`](crate::Credentials), a provider, or a chain of them.
    pub fn credentials(mut self, provider: impl ProvideCredentials + 'static) -> Self {
        self.credentials = Some(Arc::new(provider));
        self
    }

    /// Instead of the default chain, profile `name` only (as a command line's `--profile`):
    /// the role its `role_arn` names, assumed with its keys, else its keys; a missing file or
    /// section fails the first call. [`credentials`](Self::credentials) wins over this.
    pub fn profile(mut self, name: &str) -> Self {
        self.profile = Some(name.to_owned());
        self
    }

    /// The STS endpoint the default chain's assumed roles and web identities call (default
    /// `TENCENTCLOUD_STS_ENDPOINT`, else `sts.tencentcloudapi.com`), taken as
    /// [`endpoint`](Self::endpoint) takes one; checked by [`build`](Self::build). STS calls
    /// go through the client's transport and carry its region (a web identity: `TKE_REGION`
    /// first).
    pub fn sts_endpoint(mut self, endpoint: &str) -> Self {
        self.sts_endpoint = Some(endpoint.to_owned());
        self
    }

    /// The region, e.g. `ap-guangzhou` (sent as `X-TC-Region`); an empty one fails the build.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.config.region = region.into();
        self.region_set = true;
        self
    }

    /// At most `per_second` requests per action in any second, across all threads using the
    /// client (default 10, the API's limit for the key-pair actions); 0 turns pacing off.
    pub fn rate_limit(mut self, per_second: usize) -> Self {
        self.rate_limit = Some(per_second);
        self
    }

    /// How [`Client::execute_retrying`] and the batch calls retry.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The endpoint: `host`, `host:port`, `https://…`, or `http://…` for a loopback host (any
    /// host after [`ClientBuilder::allow_insecure_http`]). Checked by [`ClientBuilder::build`].
    pub fn endpoint(mut self, endpoint: &str) -> Self {
        self.endpoint = Some(endpoint.to_owned());
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

    /// How requests are sent.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Where the time for signatures comes from (tests fix it).
    #[cfg(test)]
    pub(crate) fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The client, or why the settings cannot make one.
    pub fn build(self) -> Result<Client, Error> {
        self.build_in(&SystemEnvironment)
    }

    /// [`build`](Self::build) with the region, proxy and credential variables (and files) read
    /// from `env`.
    pub(crate) fn build_in<E: Environment + Clone + 'static>(self, env: &E) -> Result<Client, Error> {
        let mut config = self.config.clone();
        if let Some(text) = &self.endpoint {
            config.endpoint = if self.allow_insecure_http {
                Endpoint::parse_allowing_http(text)
            } else {
                Endpoint::parse(text)
            }?;
        }
        if self.region_set && config.region.is_empty() {
            return Err(Error::InvalidInput("no region: the region given is empty".into()));
        }
        let clock = self.clock.clone().unwrap_or_else(|| Arc::new(SystemClock));
        let transport = match &self.transport {
            Some(transport) => transport.clone(),
            None => default_transport(env)?,
        };
        let given = std::mem::take(&mut config.region);
        let (credentials, region) = self.credentials_and_region(env, &transport, &clock, given)?;
        config.region = region;
        let limiter = match self.rate_limit.unwrap_or(DEFAULT_RATE_LIMIT) {
            0 => None,
            n => Some(RateLimiter::new(n)),
        };
        Ok(Client {
            config,
            credentials,
            transport,
            clock,
            limiter,
            retry: self.retry,
            skew: AtomicI64::new(0),
        })
    }
}

impl ClientBuilder {
    /// The credentials (given, or the default chain) and the region (given, else
    /// `TENCENTCLOUD_REGION`, else the credentials' configuration's).
    fn credentials_and_region<E: Environment + Clone + 'static>(
        &self,
        env: &E,
        transport: &Arc<dyn Transport>,
        clock: &Arc<dyn Clock>,
        given: String,
    ) -> Result<(Arc<dyn ProvideCredentials>, String), Error> {
        let env_region = if self.region_set { None } else { region_from_env(env)? };
        let region_of = |configured: &dyn ProvideCredentials| -> Result<String, Error> {
            match (self.region_set, env_region.clone()) {
                (true, _) => Ok(given.clone()),
                (false, Some(region)) => Ok(region),
                (false, None) => Ok(configured.region()?.unwrap_or_default()),
            }
        };
        if let Some(credentials) = &self.credentials {
            return Ok((credentials.clone(), region_of(&**credentials)?));
        }
        let env: Arc<dyn Environment> = Arc::new(env.clone());
        let profile = Arc::new(ProfileProvider::with_env(env.clone(), self.profile.as_deref()));
        let region = region_of(&*profile)?;
        if let Some(endpoint) = &self.sts_endpoint {
            Endpoint::parse(endpoint).map_err(in_sts_context)?;
        }
        let sts = StsSettings {
            endpoint: self.sts_endpoint.clone(),
            region: region.clone(),
            transport: transport.clone(),
        };
        let credentials = if self.profile.is_some() {
            Arc::new(defaults::profile_chain(env, profile, sts)) as Arc<dyn ProvideCredentials>
        } else {
            Arc::new(defaults::default_chain(env, profile, sts, metadata_transport()?, clock.clone()))
        };
        Ok((credentials, region))
    }
}

/// The API's limit for the key-pair actions, requests per second.
const DEFAULT_RATE_LIMIT: usize = 10;

fn default_transport(env: &dyn Environment) -> Result<Arc<dyn Transport>, Error> {
    Ok(Arc::new(crate::transport::UreqTransportBuilder::default().build_in(env)?))
}

/// `--sts-endpoint`'s error, saying it is the STS endpoint that is wrong.
fn in_sts_context(error: Error) -> Error {
    match error {
        Error::InvalidInput(why) => Error::InvalidInput(format!("the STS endpoint: {why}")),
        other => other,
    }
}

/// How the instance role reaches the metadata service, which answers only inside Tencent
/// Cloud: elsewhere the chain must give up quickly, and a proxy must never carry the request.
fn metadata_transport() -> Result<Arc<dyn Transport>, Error> {
    Ok(Arc::new(
        crate::transport::UreqTransportBuilder::default()
            .connect_timeout(std::time::Duration::from_secs(1))
            .timeout(std::time::Duration::from_secs(1))
            .proxy(None)?
            .build()?,
    ))
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
