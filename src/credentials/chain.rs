//! Several credential sources tried in order (the default chain is in `defaults.rs`).

use std::fmt;
use std::sync::OnceLock;

use super::{Credentials, ProvideCredentials};
use crate::error::Error;

/// Credential sources tried in order; the first that gives credentials wins.
///
/// A source answering [`Error::NoCredentials`] is not configured at all, and the next one is
/// tried. Any other error means a source is configured but broken (say only
/// `TENCENTCLOUD_SECRET_ID` is set, or the profile file lacks the section asked for): the chain
/// stops there and returns that error, rather than silently carrying on with another identity.
/// When every source is absent the error is [`Error::NoCredentials`] listing each source and
/// why.
///
/// Once a source has given credentials the chain keeps asking that source only, so one run
/// never changes identity halfway; a later failure of that source is returned as is.
/// [`source`](ProvideCredentials::source) then names that source (before, it says no source
/// has answered yet), and [`region`](ProvideCredentials::region) is the first region a source
/// names, in order.
///
/// ```
/// use cvm_keypairs::{Client, Credentials, CredentialsChain, EnvProvider};
///
/// // The environment first, then fixed credentials as a fallback. A client asks the chain
/// // before each request.
/// let chain = CredentialsChain::new(vec![
///     Box::new(EnvProvider::new()),
///     Box::new(Credentials::new("AKIDEXAMPLE", "secret-key-EXAMPLE")?),
/// ]);
/// let client = Client::builder().credentials(chain).region("ap-guangzhou").build()?;
/// # Ok::<(), cvm_keypairs::Error>(())
/// ```
pub struct CredentialsChain {
    sources: Vec<Box<dyn ProvideCredentials>>,
    chosen: OnceLock<usize>,
}

impl CredentialsChain {
    /// Tries `sources` in order.
    pub fn new(sources: Vec<Box<dyn ProvideCredentials>>) -> Self {
        CredentialsChain { sources, chosen: OnceLock::new() }
    }
}

impl ProvideCredentials for CredentialsChain {
    fn credentials(&self) -> Result<Credentials, Error> {
        if let Some(&chosen) = self.chosen.get() {
            return self.sources[chosen].credentials();
        }
        let mut tried = Vec::new();
        for (index, source) in self.sources.iter().enumerate() {
            match source.credentials() {
                Ok(credentials) => {
                    self.chosen.get_or_init(|| index);
                    return Ok(credentials);
                }
                Err(Error::NoCredentials(why)) => tried.extend(why),
                Err(broken) => return Err(broken),
            }
        }
        Err(Error::NoCredentials(tried))
    }

    /// The source that gave credentials, e.g. `environment (TENCENTCLOUD_SECRET_ID, …)`.
    fn source(&self) -> String {
        match self.chosen.get() {
            Some(&chosen) => self.sources[chosen].source(),
            None => "credentials chain (no source has given credentials yet)".to_owned(),
        }
    }

    fn region(&self) -> Result<Option<String>, Error> {
        for source in &self.sources {
            if let Some(region) = source.region()? {
                return Ok(Some(region));
            }
        }
        Ok(None)
    }
}

impl fmt::Debug for CredentialsChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsChain")
            .field("sources", &self.sources)
            .field("chosen", &self.chosen.get())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use std::sync::Arc;

    use super::*;
    use crate::credentials::fakes::{FakeClock, FakeEnv, ScriptedTransport};
    use crate::credentials::role::METADATA_ROLE_URL;
    use crate::error::TransportKind;

    const HOME_FILE: &str = "/home/u/.tencentcloud/credentials";
    const PROFILE: &str = "[default]\nsecret_id = AKIDprofile\nsecret_key = k\n";
    const ENV: [(&str, &str); 2] = [("TENCENTCLOUD_SECRET_ID", "AKIDenv"), ("TENCENTCLOUD_SECRET_KEY", "k")];

    /// The default chain over `env`, and the metadata transport, which answers nothing unless scripted.
    fn chain(env: FakeEnv) -> (CredentialsChain, Arc<ScriptedTransport>) {
        let transport = Arc::new(ScriptedTransport::default());
        let clock = Arc::new(FakeClock::at(1_700_000_000));
        (
            crate::credentials::defaults::over(Arc::new(env.home("/home/u")), transport.clone(), clock),
            transport,
        )
    }

    fn script_role(transport: &ScriptedTransport) {
        transport.answer(METADATA_ROLE_URL, 200, "cvm-role");
        transport.answer(
            &format!("{METADATA_ROLE_URL}cvm-role"),
            200,
            r#"{"TmpSecretId":"AKIDrole","TmpSecretKey":"k","Token":"t","ExpiredTime":1700007200,"Code":"Success"}"#,
        );
    }

    fn id(result: Result<Credentials, Error>) -> String {
        result.unwrap().secret_id().to_owned()
    }

    #[test]
    fn the_environment_wins_over_profile_and_role() {
        let (chain, transport) = chain(FakeEnv::with_vars(&ENV).file(HOME_FILE, PROFILE));
        assert_eq!(id(chain.credentials()), "AKIDenv");
        assert!(transport.sent().is_empty(), "the metadata service is never asked");
    }

    #[test]
    fn without_environment_the_profile_wins_over_the_role() {
        let (chain, transport) = chain(FakeEnv::default().file(HOME_FILE, PROFILE));
        assert_eq!(id(chain.credentials()), "AKIDprofile");
        assert!(transport.sent().is_empty());
    }

    #[test]
    fn the_source_is_the_one_that_answered() {
        let (chain_, _) = chain(FakeEnv::with_vars(&ENV).file(HOME_FILE, PROFILE));
        assert_eq!(chain_.source(), "credentials chain (no source has given credentials yet)");
        chain_.credentials().unwrap();
        assert_eq!(chain_.source(), "environment (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY)");
        let (chain_, _) = chain(FakeEnv::default().file(HOME_FILE, PROFILE));
        chain_.credentials().unwrap();
        assert_eq!(chain_.source(), format!("profile \"default\" in {HOME_FILE}"));
        let (chain_, _) = chain(FakeEnv::default().file("/etc/tencentcloud/credentials", PROFILE));
        chain_.credentials().unwrap();
        assert_eq!(chain_.source(), "profile \"default\" in /etc/tencentcloud/credentials");
        let tccli = r#"{"secretId": "AKIDtccli", "secretKey": "k"}"#;
        let (chain_, _) = chain(FakeEnv::default().file("/home/u/.tccli/default.credential", tccli));
        assert_eq!(id(chain_.credentials()), "AKIDtccli");
        assert_eq!(chain_.source(), "tccli profile \"default\" in /home/u/.tccli/default.credential");
    }

    #[test]
    fn the_region_is_the_profile_s_even_when_the_environment_gives_the_keys() {
        let with_region = format!("{PROFILE}region = ap-chengdu\n");
        let (chain_, transport) = chain(FakeEnv::with_vars(&ENV).file(HOME_FILE, &with_region));
        assert_eq!(chain_.region().unwrap().as_deref(), Some("ap-chengdu"));
        assert_eq!(id(chain_.credentials()), "AKIDenv");
        let (chain_, _) = chain(FakeEnv::with_vars(&ENV));
        assert_eq!(chain_.region().unwrap(), None);
        assert!(transport.sent().is_empty(), "asking for a region never reaches the metadata service");
        let fixed = CredentialsChain::new(vec![Box::new(Credentials::new("AKID", "k").unwrap())]);
        assert_eq!(fixed.region().unwrap(), None);
    }

    #[test]
    fn without_environment_and_profile_the_role_is_used_and_stays_chosen() {
        let env = FakeEnv::default();
        let reads = env.reads();
        let (chain, transport) = chain(env);
        script_role(&transport);
        assert_eq!(id(chain.credentials()), "AKIDrole");
        let looked = reads.load(Ordering::SeqCst);
        assert_eq!(
            looked, 6,
            "the INI files at home and in /etc, and tccli's, for the profile's role and keys"
        );
        assert_eq!(id(chain.credentials()), "AKIDrole");
        assert_eq!(
            reads.load(Ordering::SeqCst),
            looked,
            "the profile files are looked for once, before the role won"
        );
        assert_eq!(transport.sent().len(), 2, "the role's credentials are cached");
    }

    #[test]
    fn when_every_source_is_absent_the_error_lists_each_and_why() {
        let (chain, transport) = chain(FakeEnv::default());
        transport.fail(METADATA_ROLE_URL, TransportKind::Timeout);
        let err = chain.credentials().unwrap_err();
        let Error::NoCredentials(tried) = &err else { panic!("{err:?}") };
        let sources: Vec<_> = tried.iter().map(|(source, _)| *source).collect();
        assert_eq!(sources, ["assumed role", "environment", "profile file", "web identity", "instance role"]);
        assert_eq!(tried[0].1, "TENCENTCLOUD_ROLE_ARN is not set");
        assert_eq!(tried[1].1, "TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY are not set");
        assert_eq!(
            tried[2].1,
            format!("none of {HOME_FILE}, /etc/tencentcloud/credentials, /home/u/.tccli/default.credential exists")
        );
        assert!(tried[3].1.starts_with("TKE_PROVIDER_ID"));
        assert!(tried[4].1.starts_with("the metadata service did not answer: transport error (Timeout)"));
        assert!(err.to_string().starts_with(
            "no credentials found: assumed role: TENCENTCLOUD_ROLE_ARN is not set; environment:"
        ));
    }

    #[test]
    fn a_broken_source_stops_the_chain_instead_of_falling_through() {
        let half_set = FakeEnv::with_vars(&ENV[..1]).file(HOME_FILE, PROFILE);
        let (chain_, transport) = chain(half_set);
        let err = chain_.credentials().unwrap_err();
        assert!(
            err.to_string().contains("TENCENTCLOUD_SECRET_ID is set but TENCENTCLOUD_SECRET_KEY is not"),
            "{err}"
        );
        assert!(transport.sent().is_empty());

        let (chain_, transport) = chain(FakeEnv::default().file(HOME_FILE, "[prod]\n"));
        let err = chain_.credentials().unwrap_err();
        assert!(
            matches!(&err, Error::Credentials { message: why, .. } if why.contains("section [default] not found")),
            "{err:?}"
        );
        assert!(transport.sent().is_empty());
    }

    #[test]
    fn a_chosen_source_that_later_fails_is_not_replaced() {
        let source = FailAfterFirst(std::sync::atomic::AtomicBool::new(false));
        let chain = CredentialsChain::new(vec![
            Box::new(source),
            Box::new(Credentials::new("AKIDother", "k").unwrap()),
        ]);
        assert_eq!(id(chain.credentials()), "AKIDfirst");
        assert!(
            matches!(chain.credentials(), Err(Error::Credentials { .. })),
            "no switch to the second source"
        );
    }

    #[derive(Debug)]
    struct FailAfterFirst(std::sync::atomic::AtomicBool);

    impl ProvideCredentials for FailAfterFirst {
        fn credentials(&self) -> Result<Credentials, Error> {
            if self.0.swap(true, Ordering::SeqCst) {
                return Err(Error::credentials("gone".to_owned()));
            }
            Credentials::new("AKIDfirst", "k")
        }
    }
}
