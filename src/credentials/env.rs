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
/// The variable holding the session token of temporary credentials.
pub(crate) const TOKEN_VAR: &str = "TENCENTCLOUD_TOKEN";

/// Credentials from `TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY` and, for temporary
/// credentials, `TENCENTCLOUD_TOKEN`.
///
/// Unset and empty variables count as absent. When none of the three is set the source is
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

impl ProvideCredentials for EnvProvider {
    fn credentials(&self) -> Result<Credentials, Error> {
        let env = &*self.env;
        let id = non_empty_var(env, SECRET_ID_VAR)?;
        let key = non_empty_var(env, SECRET_KEY_VAR)?;
        let token = non_empty_var(env, TOKEN_VAR)?;
        let (id, key) = match (id, key, &token) {
            (Some(id), Some(key), _) => (id, key),
            (None, None, None) => {
                return Err(absent(Self::SOURCE, format!("{SECRET_ID_VAR} and {SECRET_KEY_VAR} are not set")))
            }
            (id, key, _) => {
                let (set, unset) = match (id, key) {
                    (Some(_), _) => (SECRET_ID_VAR, SECRET_KEY_VAR),
                    (None, Some(_)) => (SECRET_KEY_VAR, SECRET_ID_VAR),
                    (None, None) => (TOKEN_VAR, SECRET_ID_VAR),
                };
                return Err(Error::credentials(format!(
                    "environment: {set} is set but {unset} is not; set both {SECRET_ID_VAR} and \
                     {SECRET_KEY_VAR}, or neither"
                )));
            }
        };
        let context = "environment variables";
        let credentials = Credentials::new(id, key).map_err(|e| in_context(context, e))?;
        match token {
            Some(token) => credentials.with_token(token).map_err(|e| in_context(context, e)),
            None => Ok(credentials),
        }
    }
}

impl fmt::Debug for EnvProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvProvider").field("variables", &[SECRET_ID_VAR, SECRET_KEY_VAR, TOKEN_VAR]).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::fakes::FakeEnv;

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
    fn unset_or_empty_variables_are_absent() {
        for vars in [&[][..], &[(SECRET_ID_VAR, ""), (SECRET_KEY_VAR, ""), (TOKEN_VAR, "")][..]] {
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
        let cases: [(&[(&str, &str)], &str); 4] = [
            (&[(SECRET_ID_VAR, "AKID")], "TENCENTCLOUD_SECRET_ID is set but TENCENTCLOUD_SECRET_KEY is not"),
            (&[(SECRET_KEY_VAR, "key")], "TENCENTCLOUD_SECRET_KEY is set but TENCENTCLOUD_SECRET_ID is not"),
            (&[(TOKEN_VAR, "tok")], "TENCENTCLOUD_TOKEN is set but TENCENTCLOUD_SECRET_ID is not"),
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
        let cases: [&[(&str, &str)]; 4] = [
            &[(SECRET_ID_VAR, "AKID"), (SECRET_KEY_VAR, "key ")],
            &[(SECRET_ID_VAR, " AKID"), (SECRET_KEY_VAR, "key")],
            &[(SECRET_ID_VAR, "AKID"), (SECRET_KEY_VAR, "key"), (TOKEN_VAR, "tok\n")],
            &[(SECRET_ID_VAR, "AKID"), (SECRET_KEY_VAR, "   ")],
        ];
        for vars in cases {
            match provider(vars).credentials().unwrap_err() {
                Error::Credentials { message: why, .. } => {
                    assert!(why.starts_with("environment variables: "), "{why}")
                }
                other => panic!("{vars:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_non_unicode_value_is_an_error_naming_the_variable() {
        let env = FakeEnv::with_vars(&[(SECRET_ID_VAR, "AKID")]).non_unicode(SECRET_KEY_VAR);
        let err = EnvProvider::with_env(Arc::new(env)).credentials().unwrap_err();
        assert_eq!(err.to_string(), "credentials: TENCENTCLOUD_SECRET_KEY is not valid Unicode");
    }
}
