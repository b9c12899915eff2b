//! The default chain, and the sources in it that exist only when variables or a profile name
//! them (an assumed role, a web identity), made at the first ask.
//!
//! The order (the README's credentials table): an assumed role `TENCENTCLOUD_ROLE_ARN` names,
//! the environment's keys, a profile's assumed role (its `role_arn`), the profile's keys, a web
//! identity (`TKE_*`), the CVM instance role. A role comes before the keys that assume it:
//! naming a role means those keys are only the way to it.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use super::assume_role;
use super::sts::Sts;
use super::web_identity::{WebIdentityProvider, TKE_REGION_VAR};
use super::Credentials;
use super::{
    absent, CredentialsChain, EnvProvider, InstanceRoleProvider, ProfileProvider, ProvideCredentials,
};
use crate::clock::Clock;
use crate::env::{non_empty_var, Environment};
use crate::error::Error;
use crate::transport::Transport;

/// What the STS sources of a client's default chain take from the client: its transport, its
/// region (that of the CVM calls) and an STS endpoint it was given.
#[derive(Clone)]
pub(crate) struct StsSettings {
    pub(crate) endpoint: Option<String>,
    pub(crate) region: String,
    pub(crate) transport: Arc<dyn Transport>,
}

impl StsSettings {
    /// `sts` sent through the client's transport, to the endpoint given, and with the client's
    /// region unless `keep_region` (a web identity's `TKE_REGION` comes first).
    fn apply(&self, sts: Sts, keep_region: bool) -> Result<Sts, Error> {
        let sts = sts.transport(self.transport.clone());
        let sts = match &self.endpoint {
            Some(endpoint) => sts.endpoint(endpoint)?,
            None => sts,
        };
        if keep_region || self.region.is_empty() {
            return Ok(sts);
        }
        sts.region(&self.region)
    }
}

/// The chain a client uses when given no credentials: see the module's order. `profile` is
/// the one the client read its region from, so the file is read once.
pub(crate) fn default_chain(
    env: Arc<dyn Environment>,
    profile: Arc<ProfileProvider>,
    sts: StsSettings,
    metadata: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
) -> CredentialsChain {
    let (role_env, role_sts, role_profile) = (env.clone(), sts.clone(), profile.clone());
    let env_role = Configured::new("assumed role", Some("TENCENTCLOUD_ROLE_ARN is not set"), move || {
        let base = CredentialsChain::new(vec![
            Box::new(EnvProvider::with_env(role_env.clone())),
            Box::new(role_profile.clone()),
        ]);
        assume_role::from_env(&*role_env, base)?
            .map(|p| p.map_sts(|sts| role_sts.apply(sts, false)))
            .transpose()
    });
    let (web_env, web_sts) = (env.clone(), sts.clone());
    let web = Configured::new(
        "web identity",
        Some("TKE_PROVIDER_ID, TKE_WEB_IDENTITY_TOKEN_FILE and TKE_ROLE_ARN are not set"),
        move || {
            let keep_region = non_empty_var(&*web_env, TKE_REGION_VAR)?.is_some();
            let provider = WebIdentityProvider::from_env(&web_env)?;
            provider.map(|p| p.map_sts(|sts| web_sts.apply(sts, keep_region))).transpose()
        },
    );
    CredentialsChain::new(vec![
        Box::new(env_role),
        Box::new(EnvProvider::with_env(env.clone())),
        Box::new(profile_role(env, profile.clone(), sts)),
        Box::new(profile),
        Box::new(web),
        // Sources that need the network come last: only a chain without keys reaches them.
        Box::new(InstanceRoleProvider::with_clock(metadata, clock)),
    ])
}

/// The default chain over `env`, with `transport` for STS and the metadata service, for tests.
#[cfg(test)]
pub(crate) fn over(
    env: Arc<dyn Environment>,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
) -> CredentialsChain {
    let profile = Arc::new(ProfileProvider::with_env(env.clone(), None));
    let sts = StsSettings { endpoint: None, region: String::new(), transport: transport.clone() };
    default_chain(env, profile, sts, transport, clock)
}

/// Profile `profile` alone (a command line's `--profile`): the role its `role_arn` names,
/// assumed with its keys, else its keys.
pub(crate) fn profile_chain(
    env: Arc<dyn Environment>,
    profile: Arc<ProfileProvider>,
    sts: StsSettings,
) -> CredentialsChain {
    CredentialsChain::new(vec![Box::new(profile_role(env, profile.clone(), sts)), Box::new(profile)])
}

fn profile_role(env: Arc<dyn Environment>, profile: Arc<ProfileProvider>, sts: StsSettings) -> Configured {
    // Absent, it says nothing: the profile's keys, next in the chain, say why there are none.
    Configured::new("profile role_arn", None, move || {
        assume_role::from_profile(&*env, profile.clone())?
            .map(|p| p.map_sts(|s| sts.apply(s, false)))
            .transpose()
    })
}

type Make<P> = Box<dyn Fn() -> Result<Option<P>, Error> + Send + Sync>;

/// A source that exists only when its configuration does: made at the first ask (absent when
/// `make` finds nothing to make), then kept, so its cache of temporary credentials lives as
/// long as the chain.
struct Configured {
    name: &'static str,
    /// Why it is absent, for [`Error::NoCredentials`]; `None`: another source says it.
    why_absent: Option<&'static str>,
    make: Make<Box<dyn ProvideCredentials>>,
    made: Mutex<Option<Arc<dyn ProvideCredentials>>>,
}

impl Configured {
    fn new<P: ProvideCredentials + 'static>(
        name: &'static str,
        why_absent: Option<&'static str>,
        make: impl Fn() -> Result<Option<P>, Error> + Send + Sync + 'static,
    ) -> Self {
        let make: Make<Box<dyn ProvideCredentials>> =
            Box::new(move || Ok(make()?.map(|p| Box::new(p) as Box<dyn ProvideCredentials>)));
        Configured { name, why_absent, make, made: Mutex::new(None) }
    }

    fn provider(&self) -> Result<Option<Arc<dyn ProvideCredentials>>, Error> {
        let mut made = self.made.lock().unwrap_or_else(PoisonError::into_inner);
        if made.is_none() {
            *made = (self.make)()?.map(Arc::from);
        }
        Ok(made.clone())
    }
}

impl ProvideCredentials for Configured {
    fn credentials(&self) -> Result<Credentials, Error> {
        match self.provider()? {
            Some(provider) => provider.credentials(),
            None => match self.why_absent {
                Some(why) => Err(absent(self.name, why.to_owned())),
                None => Err(Error::NoCredentials(Vec::new())),
            },
        }
    }

    fn source(&self) -> String {
        let made = self.made.lock().unwrap_or_else(PoisonError::into_inner);
        made.as_ref().map_or_else(|| self.name.to_owned(), |provider| provider.source())
    }
}

impl fmt::Debug for Configured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let made = self.made.try_lock().ok().and_then(|made| made.clone());
        f.debug_struct("Configured").field("name", &self.name).field("made", &made).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::fakes::{sts_answer, FakeClock, FakeEnv, ScriptedTransport};

    const ARN: &str = "qcs::cam::uin/100000000001:roleName/cleanup";
    const STS: &str = "https://sts.example.test/";

    /// The default chain over `env` with the client's region `ap-chengdu` and STS endpoint
    /// [`STS`]; what it got, and the one request it sent to STS.
    fn first_sts_request(env: FakeEnv) -> (Credentials, String, crate::http::HttpRequest<'static>) {
        let transport = Arc::new(ScriptedTransport::default());
        // The chain's STS sources judge expiry by the system clock.
        let now = crate::clock::Clock::now(&crate::clock::SystemClock);
        transport.answer(STS, 200, &sts_answer("AKIDtmp", now + 7200));
        let env: Arc<dyn Environment> = Arc::new(env.home("/home/u"));
        let profile = Arc::new(ProfileProvider::with_env(env.clone(), None));
        let sts = StsSettings {
            endpoint: Some(STS.into()),
            region: "ap-chengdu".into(),
            transport: transport.clone(),
        };
        let chain = default_chain(env, profile, sts, transport.clone(), Arc::new(FakeClock::at(0)));
        let credentials = chain.credentials().unwrap();
        let sent = transport.sent();
        assert_eq!(sent.len(), 1, "{sent:?}");
        (credentials, chain.source(), sent.into_iter().next().unwrap())
    }

    #[test]
    fn a_role_named_in_the_environment_wins_over_its_keys_through_the_client_s_sts_settings() {
        let env = FakeEnv::with_vars(&[
            ("TENCENTCLOUD_SECRET_ID", "AKIDenv"),
            ("TENCENTCLOUD_SECRET_KEY", "k"),
            ("TENCENTCLOUD_ROLE_ARN", ARN),
            ("TENCENTCLOUD_REGION", "ap-beijing"),
        ]);
        let (credentials, source, request) = first_sts_request(env);
        assert_eq!(credentials.secret_id(), "AKIDtmp");
        assert_eq!(
            source,
            format!("assumed role {ARN} with environment (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY)")
        );
        assert_eq!(request.url, STS);
        assert_eq!(request.header("X-TC-Region"), Some("ap-chengdu"), "the CVM calls' region");
        assert!(request.header("Authorization").unwrap().contains("Credential=AKIDenv/"));
    }

    #[test]
    fn a_web_identity_carries_tke_region_else_the_client_s() {
        let tke = |region: Option<&str>| {
            let mut vars = vec![
                ("TKE_PROVIDER_ID", "OIDC"),
                ("TKE_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
                ("TKE_ROLE_ARN", ARN),
            ];
            vars.extend(region.map(|r| ("TKE_REGION", r)));
            FakeEnv::with_vars(&vars).file_with_mode("/var/run/token", "oidc-token", 0o600)
        };
        let (_, source, request) = first_sts_request(tke(Some("ap-shanghai")));
        assert!(source.starts_with(&format!("web identity for role {ARN}")), "{source}");
        assert_eq!(request.header("X-TC-Region"), Some("ap-shanghai"));
        let (_, _, request) = first_sts_request(tke(None));
        assert_eq!(request.header("X-TC-Region"), Some("ap-chengdu"));
        assert_eq!(request.header("Authorization"), Some("SKIP"));
    }
}
