//! The provider reading credentials from environment variables.

use std::fmt;
use std::sync::Arc;

use super::{absent, in_context, Credentials, ProvideCredentials};
use crate::env::{non_empty_var, Environment, SystemEnvironment};
use crate::error::Error;

/// The variable holding the secret id.
pub(crate) const SECRET_ID_VAR: &str = "TENCENTCLOUD_SECRET_ID";
/// The variable holding the secret key.
pub(crate) const SECRET_KEY_VAR: &str = "TENCENTCLOUD_SECRET_KEY";
/// The variables that may hold the session token of temporary credentials, in the order they
/// are read; the first set and non-empty one wins.
pub(crate) const TOKEN_VARS: [&str; 3] =
    ["TENCENTCLOUD_TOKEN", "TENCENTCLOUD_SESSION_TOKEN", "TENCENTCLOUD_SECURITY_TOKEN"];

/// Credentials from `TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY` and, for temporary
/// credentials, a session token.
///
/// The token is read from the first of these that is set and not empty, so whichever name a
/// tool exported is understood:
///
/// | variable | read by |
/// |---|---|
/// | `TENCENTCLOUD_TOKEN` | tccli, and its COS and CI plugins |
/// | `TENCENTCLOUD_SESSION_TOKEN` | the official Node.js SDK |
/// | `TENCENTCLOUD_SECURITY_TOKEN` | the Terraform provider |
///
/// (The official Python and Go SDKs read the id and key from the environment, no token.)
///
/// Unset and empty variables count as absent. When none of them is set the source is
/// absent ([`Error::NoCredentials`]), so a chain moves on. When some are set but not both id
/// and key, or a value is malformed (whitespace padding, control characters), the source is
/// broken: the error names the variables, never their values. The variables are read on every
/// call, which costs next to nothing.
pub struct EnvProvider {
    env: Arc<dyn Environment>,
}

impl EnvProvider {
    /// The name this source reports in [`Error::NoCredentials`].
    pub(crate) const SOURCE: &'static str = "environment";

    /// Reads the process's environment variables.
    pub fn new() -> Self {
        Self::with_env(Arc::new(SystemEnvironment))
    }

    /// Reads the variables through `env`.
    pub(crate) fn with_env(env: Arc<dyn Environment>) -> Self {
        EnvProvider { env }
    }
}

impl Default for EnvProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl EnvProvider {
    /// The first token variable set and not empty, with its value.
    fn token(&self) -> Result<Option<(&'static str, String)>, Error> {
        for name in TOKEN_VARS {
            if let Some(value) = non_empty_var(&*self.env, name)? {
                return Ok(Some((name, value)));
            }
        }
        Ok(None)
    }
}

impl ProvideCredentials for EnvProvider {
    fn credentials(&self) -> Result<Credentials, Error> {
        let env = &*self.env;
        let id = non_empty_var(env, SECRET_ID_VAR)?;
        let key = non_empty_var(env, SECRET_KEY_VAR)?;
        let token = self.token()?;
        let (id, key) = match (id, key) {
            (Some(id), Some(key)) => (id, key),
            (None, None) if token.is_none() => {
                return Err(absent(Self::SOURCE, format!("{SECRET_ID_VAR} and {SECRET_KEY_VAR} are not set")))
            }
            (id, key) => {
                // Only a token is set when neither id nor key is.
                let set = match (&id, &key, &token) {
                    (Some(_), _, _) => SECRET_ID_VAR,
                    (None, Some(_), _) => SECRET_KEY_VAR,
                    (None, None, token) => token.as_ref().map_or(SECRET_ID_VAR, |(name, _)| *name),
                };
                let unset = if id.is_some() { SECRET_KEY_VAR } else { SECRET_ID_VAR };
                return Err(Error::credentials(format!(
                    "environment: {set} is set but {unset} is not; set both {SECRET_ID_VAR} and \
                     {SECRET_KEY_VAR}, or neither"
                )));
            }
        };
        let context = "environment variables";
        let credentials = Credentials::new(id, key).map_err(|e| in_context(context, e))?;
        match token {
            Some((name, token)) => credentials
                .with_token(token)
                .map_err(|e| in_context(&format!("environment variable {name}"), e)),
            None => Ok(credentials),
        }
    }

    /// The variables read, e.g. `environment (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY,
    /// TENCENTCLOUD_SESSION_TOKEN)`.
    fn source(&self) -> String {
        let token = match self.token() {
            Ok(Some((name, _))) => format!(", {name}"),
            _ => String::new(),
        };
        format!("environment ({SECRET_ID_VAR}, {SECRET_KEY_VAR}{token})")
    }
}

impl fmt::Debug for EnvProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvProvider")
            .field("variables", &[SECRET_ID_VAR, SECRET_KEY_VAR])
            .field("token_variables", &TOKEN_VARS)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::fakes::FakeEnv;

    const TOKEN_VAR: &str = TOKEN_VARS[0];

    fn provider(vars: &[(&str, &str)]) -> EnvProvider {
        EnvProvider::with_env(Arc::new(FakeEnv::with_vars(vars)))
    }

    #[test]
    fn reads_id_key_and_optional_token() {
        let c = provider(&[(SECRET_ID_VAR, "AKIDenv"), (SECRET_KEY_VAR, "key")]).credentials().unwrap();
        assert_eq!((c.secret_id(), c.secret_key(), c.token()), ("AKIDenv", "key", None));
        let c = provider(&[(SECRET_ID_VAR, "AKIDenv"), (SECRET_KEY_VAR, "key"), (TOKEN_VAR, "tok")])
            .credentials()
            .unwrap();
        assert_eq!(c.token(), Some("tok"));
    }

    #[test]
    fn each_token_name_is_read_and_the_first_set_and_non_empty_wins() {
        let keys = [(SECRET_ID_VAR, "AKID"), (SECRET_KEY_VAR, "key")];
        for name in TOKEN_VARS {
            let c = provider(&[keys[0], keys[1], (name, "tok")]).credentials().unwrap();
            assert_eq!(c.token(), Some("tok"), "{name}");
        }
        let all = [(TOKEN_VARS[0], "first"), (TOKEN_VARS[1], "second"), (TOKEN_VARS[2], "third")];
        let token = |vars: &[(&str, &str)]| {
            let c = provider(&[&keys[..], vars].concat()).credentials().unwrap();
            c.token().map(str::to_owned)
        };
        assert_eq!(token(&all).as_deref(), Some("first"));
        assert_eq!(token(&all[1..]).as_deref(), Some("second"));
        assert_eq!(token(&[(TOKEN_VARS[0], ""), all[2]]).as_deref(), Some("third"), "empty counts as unset");
        assert_eq!(token(&[(TOKEN_VARS[2], "third"), (TOKEN_VARS[1], "second")]).as_deref(), Some("second"));
    }

    #[test]
    fn the_source_names_the_variables_read_and_no_value() {
        let keys = [(SECRET_ID_VAR, "AKIDvisible"), (SECRET_KEY_VAR, "KEYVALUE")];
        assert_eq!(provider(&keys).source(), "environment (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY)");
        let with_token = provider(&[keys[0], keys[1], (TOKEN_VARS[2], "TOKVALUE")]);
        assert_eq!(
            with_token.source(),
            "environment (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY, TENCENTCLOUD_SECURITY_TOKEN)"
        );
    }

    #[test]
    fn unset_or_empty_variables_are_absent() {
        let empty: Vec<(&str, &str)> =
            [SECRET_ID_VAR, SECRET_KEY_VAR].into_iter().chain(TOKEN_VARS).map(|name| (name, "")).collect();
        for vars in [&[][..], &empty[..]] {
            match provider(vars).credentials().unwrap_err() {
                Error::NoCredentials(tried) => {
                    assert_eq!(tried.len(), 1);
                    assert_eq!(tried[0].0, "environment");
                    assert!(tried[0].1.contains(SECRET_ID_VAR), "{}", tried[0].1);
                }
                other => panic!("{other:?}"),
            }
        }
        let c = provider(&[(SECRET_ID_VAR, "AKID"), (SECRET_KEY_VAR, "key"), (TOKEN_VAR, "")]).credentials();
        assert_eq!(c.unwrap().token(), None);
    }

    #[test]
    fn a_half_set_environment_is_broken_and_names_what_is_missing() {
        let cases: [(&[(&str, &str)], &str); 5] = [
            (&[(SECRET_ID_VAR, "AKID")], "TENCENTCLOUD_SECRET_ID is set but TENCENTCLOUD_SECRET_KEY is not"),
            (&[(SECRET_KEY_VAR, "key")], "TENCENTCLOUD_SECRET_KEY is set but TENCENTCLOUD_SECRET_ID is not"),
            (&[(TOKEN_VAR, "tok")], "TENCENTCLOUD_TOKEN is set but TENCENTCLOUD_SECRET_ID is not"),
            (
                &[(TOKEN_VARS[2], "tok")],
                "TENCENTCLOUD_SECURITY_TOKEN is set but TENCENTCLOUD_SECRET_ID is not",
            ),
            (&[(SECRET_ID_VAR, "AKID"), (TOKEN_VAR, "t")], "SECRET_ID is set but TENCENTCLOUD_SECRET_KEY"),
        ];
        for (vars, expected) in cases {
            match provider(vars).credentials().unwrap_err() {
                Error::Credentials { message: why, .. } => assert!(why.contains(expected), "{why}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn malformed_values_are_broken_not_absent() {
        let cases: [(&[(&str, &str)], &str); 5] = [
            (&[(SECRET_ID_VAR, "AKID"), (SECRET_KEY_VAR, "key ")], "environment variables: the secret key"),
            (&[(SECRET_ID_VAR, " AKID"), (SECRET_KEY_VAR, "key")], "environment variables: the secret id"),
            (
                &[(SECRET_ID_VAR, "AKID"), (SECRET_KEY_VAR, "key"), (TOKEN_VAR, "tok\n")],
                "environment variable TENCENTCLOUD_TOKEN: the session token",
            ),
            (
                &[(SECRET_ID_VAR, "AKID"), (SECRET_KEY_VAR, "key"), (TOKEN_VARS[1], " tok")],
                "environment variable TENCENTCLOUD_SESSION_TOKEN: the session token",
            ),
            (&[(SECRET_ID_VAR, "AKID"), (SECRET_KEY_VAR, "   ")], "environment variables: the secret key"),
        ];
        for (vars, expected) in cases {
            match provider(vars).credentials().unwrap_err() {
                Error::Credentials { message: why, .. } => assert!(why.starts_with(expected), "{why}"),
                other => panic!("{vars:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_non_unicode_value_is_an_error_naming_the_variable() {
        let env = FakeEnv::with_vars(&[(SECRET_ID_VAR, "AKID")]).non_unicode(SECRET_KEY_VAR);
        let err = EnvProvider::with_env(Arc::new(env)).credentials().unwrap_err();
        assert_eq!(err.to_string(), "credentials: TENCENTCLOUD_SECRET_KEY is not valid Unicode");
        let keys = FakeEnv::with_vars(&[(SECRET_ID_VAR, "AKID"), (SECRET_KEY_VAR, "k")]);
        let err = EnvProvider::with_env(Arc::new(keys.non_unicode(TOKEN_VARS[1]))).credentials().unwrap_err();
        assert_eq!(err.to_string(), "credentials: TENCENTCLOUD_SESSION_TOKEN is not valid Unicode");
    }
}
