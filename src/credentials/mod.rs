//! API credentials (a secret id, a secret key and, for temporary credentials, a session token)
//! and where they come from.
//!
//! [`Credentials`] are checked once, when made. The sources are [`EnvProvider`] (environment
//! variables), [`ProfileProvider`] (`~/.tencentcloud/credentials`, `/etc/tencentcloud/credentials`
//! or tccli's `~/.tccli` files) and [`InstanceRoleProvider`] (the CVM metadata service);
//! [`AssumeRoleProvider`] and [`WebIdentityProvider`] get a role's temporary credentials from
//! STS (`sts.rs`), and every temporary source shares one refresh cache (`refresh.rs`). The
//! default chain tries them in the order the README's table gives; each says where its
//! credentials come from ([`ProvideCredentials::source`]) and a profile names a region. They
//! reach the operating system only through [`Environment`] and the network only through a
//! [`Transport`](crate::Transport), so tests fake both. Every type here shows the secret id and
//! never the secret key or token in `Debug`, and no error ever holds a secret value.

use std::fmt;
use std::sync::Arc;

use crate::error::Error;

// The sources read the environment, files and the metadata service: they come with the client.
#[cfg(feature = "ureq")]
mod assume_role;
#[cfg(feature = "ureq")]
mod chain;
#[cfg(feature = "ureq")]
pub(crate) mod defaults;
#[cfg(feature = "ureq")]
mod env;
#[cfg(test)]
pub(crate) mod fakes;
#[cfg(feature = "ureq")]
mod profile;
#[cfg(feature = "ureq")]
mod refresh;
#[cfg(feature = "ureq")]
pub(crate) mod role;
#[cfg(feature = "ureq")]
mod sts;
#[cfg(feature = "ureq")]
mod tccli;
#[cfg(feature = "ureq")]
mod web_identity;

#[cfg(feature = "ureq")]
pub use assume_role::AssumeRoleProvider;
#[cfg(feature = "ureq")]
pub use chain::CredentialsChain;
#[cfg(feature = "ureq")]
pub use env::EnvProvider;
#[cfg(all(feature = "testing", feature = "ureq"))]
pub(crate) use profile::parse_profile;
#[cfg(feature = "ureq")]
pub use profile::ProfileProvider;
#[cfg(feature = "ureq")]
pub use role::InstanceRoleProvider;
#[cfg(feature = "ureq")]
pub use web_identity::WebIdentityProvider;

/// A source of credentials, asked before every request so temporary credentials can rotate.
///
/// A source that is not configured at all (no variables set, no file, no metadata service)
/// answers [`Error::NoCredentials`] with its own name and why, so a [`CredentialsChain`] moves on
/// to the next source. Any other error means the source is configured but broken, and stops a
/// chain.
pub trait ProvideCredentials: Send + Sync + fmt::Debug {
    /// Current credentials, or why there are none.
    fn credentials(&self) -> Result<Credentials, Error>;

    /// Where the credentials come from, for people, never holding a secret: e.g.
    /// `environment (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY)` or
    /// `profile "prod" in /home/u/.tencentcloud/credentials`. A [`CredentialsChain`] names the
    /// source that answered. Ask after [`credentials`](Self::credentials) succeeded: before, a
    /// source may only know where it would look. The default says `custom provider`.
    fn source(&self) -> String {
        "custom provider".to_owned()
    }

    /// The region this source's configuration names, if any: the `region` of a profile. A
    /// [`Client`](crate::Client) given no region and no `TENCENTCLOUD_REGION` uses it. A source
    /// that is not configured answers `Ok(None)`; one that is configured but broken (a profile
    /// file with a syntax error) answers the error its credentials would. The default is
    /// `Ok(None)`.
    fn region(&self) -> Result<Option<String>, Error> {
        Ok(None)
    }
}

impl ProvideCredentials for Credentials {
    fn credentials(&self) -> Result<Credentials, Error> {
        Ok(self.clone())
    }

    fn source(&self) -> String {
        "credentials given to the client".to_owned()
    }
}

/// A shared provider, e.g. one chain behind several clients.
impl<P: ProvideCredentials + ?Sized> ProvideCredentials for Arc<P> {
    fn credentials(&self) -> Result<Credentials, Error> {
        (**self).credentials()
    }

    fn source(&self) -> String {
        (**self).source()
    }

    fn region(&self) -> Result<Option<String>, Error> {
        (**self).region()
    }
}

/// A secret id and key, with an optional session token.
///
/// The values are held once, behind an `Arc`: cloning credentials, as a client does for every
/// request, copies no secret. There is no `PartialEq`: secrets are not compared.
///
/// ```
/// use cvm_keypairs::Credentials;
/// let c = Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap();
/// assert_eq!(format!("{c:?}"), r#"Credentials { secret_id: "AKIDEXAMPLE", secret_key: "***", token: None }"#);
/// assert!(Credentials::new("AKIDEXAMPLE", " secret").is_err());
/// ```
#[derive(Clone)]
pub struct Credentials(Arc<Secrets>);

struct Secrets {
    secret_id: String,
    secret_key: String,
    token: Option<String>,
    /// Identifies the secret key for the signer's cache of derived keys, which thus holds no
    /// copy of it.
    fingerprint: Fingerprint,
}

impl Credentials {
    /// Long-term credentials. Empty values and values with leading or trailing whitespace (a
    /// common cause of signature mismatches after a copy and paste) are rejected.
    pub fn new(secret_id: impl Into<String>, secret_key: impl Into<String>) -> Result<Self, Error> {
        let (secret_id, secret_key) = (secret_id.into(), secret_key.into());
        check("secret id", &secret_id)?;
        if !secret_id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::InvalidInput(
                "the secret id must be printable ASCII without spaces".to_owned(),
            ));
        }
        check("secret key", &secret_key)?;
        let fingerprint = Fingerprint::of(&secret_key);
        Ok(Credentials(Arc::new(Secrets { secret_id, secret_key, token: None, fingerprint })))
    }

    /// Adds the session token of temporary credentials (sent as `X-TC-Token`).
    pub fn with_token(self, token: impl Into<String>) -> Result<Self, Error> {
        let token = token.into();
        check("session token", &token)?;
        let Secrets { secret_id, secret_key, fingerprint, .. } = &*self.0;
        Ok(Credentials(Arc::new(Secrets {
            secret_id: secret_id.clone(),
            secret_key: secret_key.clone(),
            token: Some(token),
            fingerprint: *fingerprint,
        })))
    }

    /// The secret id (not secret).
    pub(crate) fn secret_id(&self) -> &str {
        &self.0.secret_id
    }

    /// The secret key. Handle with care: never log it.
    pub(crate) fn secret_key(&self) -> &str {
        &self.0.secret_key
    }

    /// The session token, for temporary credentials.
    pub(crate) fn token(&self) -> Option<&str> {
        self.0.token.as_deref()
    }

    pub(crate) fn fingerprint(&self) -> &Fingerprint {
        &self.0.fingerprint
    }
}

/// A SHA-256 digest standing for a secret key where it must be recognised, not used.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fingerprint([u8; 32]);

impl Fingerprint {
    pub(crate) fn of(secret_key: &str) -> Self {
        let mut context = ring::digest::Context::new(&ring::digest::SHA256);
        context.update(b"cvm-keypairs signing-key cache\0");
        context.update(secret_key.as_bytes());
        let mut bytes = [0; 32];
        bytes.copy_from_slice(context.finish().as_ref());
        Fingerprint(bytes)
    }
}

#[cfg(feature = "ureq")]
/// The error of a source that is not configured at all.
fn absent(source: &'static str, why: String) -> Error {
    Error::NoCredentials(vec![(source, why)])
}

#[cfg(feature = "ureq")]
/// Says which source failed and where: a rejected value (the message still names fields, never
/// values) or a failure underneath, kept as the source so its code and RequestId stay reachable.
fn in_context(context: &str, error: Error) -> Error {
    match error {
        Error::InvalidInput(why) => Error::credentials(format!("{context}: {why}")),
        Error::Credentials { message, source } => {
            Error::Credentials { message: format!("{context}: {message}"), source }
        }
        other => Error::credentials_caused_by(context, other),
    }
}

// The message names the field, never the value.
fn check(what: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::InvalidInput(format!("the {what} is empty")));
    }
    if value.trim() != value {
        return Err(Error::InvalidInput(format!("the {what} has leading or trailing whitespace")));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::InvalidInput(format!("the {what} contains a control character")));
    }
    Ok(())
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.secret_id())
            .field("secret_key", &"***")
            .field("token", &self.token().map(|_| "***"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::env::{SECRET_ID_VAR, SECRET_KEY_VAR, TOKEN_VARS};
    use super::profile::CREDENTIALS_FILE_VAR;
    use super::role::METADATA_ROLE_URL;
    use super::*;

    #[test]
    fn rejects_empty_padded_and_control_values_without_echoing_them() {
        let bad = [
            ("", "k"),
            ("AKID", ""),
            (" AKID", "k"),
            ("AKID", "k\n"),
            ("AK ID", "k"),
            ("AKID中", "k"),
            ("AKID", "k\u{7}ey"),
        ];
        for (id, key) in bad {
            let err = Credentials::new(id, key).unwrap_err();
            assert!(matches!(err, Error::InvalidInput(_)), "{id:?} {key:?}");
        }
        let err = Credentials::new("AKID", "SECRETVALUE ").unwrap_err();
        assert!(!err.to_string().contains("SECRETVALUE"));
        assert!(Credentials::new("AKID", "k").unwrap().with_token("").is_err());
        assert!(Credentials::new("AKID", "k").unwrap().with_token("t\r\n").is_err());
    }

    #[test]
    fn debug_masks_key_and_token() {
        let c = Credentials::new("AKIDvisible", "KEY-SECRET").unwrap().with_token("TOKEN-SECRET").unwrap();
        let shown = format!("{c:?} {c:#?}");
        assert!(shown.contains("AKIDvisible"));
        assert!(!shown.contains("SECRET"), "{shown}");
    }

    // Both share a marker, so even a partial echo is caught.
    const KEY: &str = "sk-zq8x-5f1e";
    const TOKEN: &str = "tok-zq8x-9a2c";

    /// Everything `provider` shows of itself and of what it answers (credentials, source,
    /// region), and whether it gave credentials.
    fn everything_shown(provider: &dyn ProvideCredentials) -> (String, bool) {
        let result = provider.credentials();
        let outcome = match &result {
            Ok(c) => format!("{c:?} {c:#?}"),
            Err(e) => format!("{e} {e:?} {e:#?}"),
        };
        let region = provider.region();
        let shown = format!("{outcome} {provider:?} {provider:#?} {} {region:?}", provider.source());
        (shown, result.is_ok())
    }

    /// Formats every provider and every outcome they can produce from inputs holding a
    /// distinctive secret key and token, and checks neither ever shows.
    #[test]
    fn no_provider_nor_any_of_its_errors_shows_the_secret_key_or_token() {
        use std::sync::Arc;

        use super::fakes::{FakeClock, FakeEnv, ScriptedTransport};
        use crate::error::TransportKind;

        let mut shown = Vec::new();
        let mut record = |provider: &dyn ProvideCredentials| {
            let (text, ok) = everything_shown(provider);
            shown.push(text);
            ok
        };

        let env_cases: [&[(&str, String)]; 6] = [
            &[(SECRET_ID_VAR, "AKIDenv".into()), (SECRET_KEY_VAR, KEY.into()), (TOKEN_VARS[0], TOKEN.into())],
            &[(SECRET_ID_VAR, "AKIDenv".into()), (SECRET_KEY_VAR, format!("{KEY} "))],
            &[
                (SECRET_ID_VAR, "AKIDenv".into()),
                (SECRET_KEY_VAR, KEY.into()),
                (TOKEN_VARS[0], format!("{TOKEN}\n")),
            ],
            &[(SECRET_KEY_VAR, KEY.into()), (TOKEN_VARS[0], TOKEN.into())],
            &[(TOKEN_VARS[0], TOKEN.into())],
            &[(SECRET_ID_VAR, format!(" {KEY}")), (SECRET_KEY_VAR, KEY.into())],
        ];
        for vars in env_cases {
            let vars: Vec<(&str, &str)> = vars.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let env = Arc::new(FakeEnv::with_vars(&vars));
            record(&EnvProvider::with_env(env.clone()));
            record(&defaults::over(env, Arc::new(ScriptedTransport::default()), Arc::new(FakeClock::at(0))));
        }

        let file = "/secrets/credentials";
        let good = format!("[default]\nsecret_id = AKIDfile\nsecret_key = {KEY}\ntoken = {TOKEN}\n");
        let profile_texts = [
            good.clone(),
            good.replace(KEY, &format!("\"{KEY} \"")),
            good.replace(KEY, &format!("{KEY} # rotated")),
            good.replace(KEY, &format!("'{KEY}")),
            good.replace(TOKEN, &format!("{TOKEN}\u{7}")),
            format!("{good}secret_key = {KEY}\n"),
            format!("{good}[default]\ntoken = {TOKEN}\n"),
            good.replace("secret_id = AKIDfile\n", ""),
            good.replace("= ", ""),
            good.replace("[default]", &format!("[{KEY}")),
            good.replace("default", "prod"),
        ];
        for text in &profile_texts {
            let env = FakeEnv::default().file(file, text).var_set(CREDENTIALS_FILE_VAR, file);
            record(&ProfileProvider::with_env(Arc::new(env), None));
        }
        let unreadable = FakeEnv::default().unreadable(file, std::io::ErrorKind::InvalidData);
        record(&ProfileProvider::with_env(Arc::new(unreadable.var_set(CREDENTIALS_FILE_VAR, file)), None));

        let role_url = format!("{METADATA_ROLE_URL}r");
        let good = format!(
            r#"{{"TmpSecretId":"AKIDrole","TmpSecretKey":"{KEY}","Token":"{TOKEN}","ExpiredTime":2000,"Code":"Success"}}"#
        );
        let role_answers = [
            (200, good.clone()),
            (200, good.replace("Success", "Failure")),
            (200, good[..good.find(TOKEN).unwrap() + 5].to_owned()),
            (200, good.replace(&format!("\"{TOKEN}\""), "[1]")),
            (200, good.replace(KEY, &format!(" {KEY}"))),
            (200, good.replace(TOKEN, &format!("{TOKEN}\\n"))),
            (200, good.replace("2000", "1000")),
            (500, good.clone()),
            (403, format!("denied for {KEY}")),
        ];
        for (status, body) in &role_answers {
            let transport = Arc::new(ScriptedTransport::default());
            transport.answer(METADATA_ROLE_URL, 200, "r");
            transport.answer(&role_url, *status, body);
            let clock = Arc::new(FakeClock::at(1000));
            let provider = InstanceRoleProvider::with_clock(transport.clone(), clock.clone());
            if record(&provider) {
                clock.set(1999);
                transport.fail(METADATA_ROLE_URL, TransportKind::Timeout);
                record(&provider);
                clock.set(2000);
                transport.answer(METADATA_ROLE_URL, 200, "r");
                transport.answer(&role_url, 200, &good.replace("Success", "Failure"));
                record(&provider);
            }
        }

        assert!(shown.len() > 30);
        for text in &shown {
            assert!(!text.contains("zq8x"), "{text}");
        }
    }

    /// The same for every token variable and for tccli's files, good and broken.
    #[test]
    fn no_token_variable_nor_tccli_file_shows_the_secret_key_or_token() {
        use std::sync::Arc;

        use super::fakes::FakeEnv;

        let mut shown = Vec::new();
        for name in TOKEN_VARS {
            for token in [TOKEN.to_owned(), format!("{TOKEN}\n"), format!(" {TOKEN}")] {
                let vars = [(SECRET_ID_VAR, "AKIDenv"), (SECRET_KEY_VAR, KEY), (name, token.as_str())];
                shown.push(everything_shown(&EnvProvider::with_env(Arc::new(FakeEnv::with_vars(&vars)))));
                shown
                    .push(everything_shown(&EnvProvider::with_env(Arc::new(FakeEnv::with_vars(&vars[2..])))));
            }
        }
        let good = format!(
            r#"{{"secretId": "AKIDtccli", "secretKey": "{KEY}", "token": "{TOKEN}", "type": "default"}}"#
        );
        let credential_texts = [
            good.clone(),
            good.replace(&format!("\"{KEY}\""), "1234"),
            good.replace(&format!("\"{TOKEN}\""), &format!("[\"{TOKEN}\"]")),
            good.replace(KEY, &format!("{KEY} ")),
            good.replace(TOKEN, &format!("{TOKEN}\\u0007")),
            good.replace("\"token\"", "\"secretKey\""),
            good.replace("default", "sso"),
            good.replace("default", KEY),
            good[..good.len() / 2].to_owned(),
            format!("\"{KEY}\""),
            format!("[\"{KEY}\", \"{TOKEN}\"]"),
        ];
        let file = "/home/u/.tccli/default.credential";
        for text in &credential_texts {
            for configure in [r#"{"_sys_param": {"region": "ap-guangzhou"}}"#, "{"] {
                let env = FakeEnv::default().home("/home/u").file(file, text);
                let env = env.file("/home/u/.tccli/default.configure", configure);
                shown.push(everything_shown(&ProfileProvider::with_env(Arc::new(env), None)));
            }
        }
        assert!(shown.iter().any(|(_, ok)| *ok) && shown.iter().any(|(_, ok)| !ok));
        for (text, _) in &shown {
            assert!(!text.contains("zq8x"), "{text}");
        }
    }
}
