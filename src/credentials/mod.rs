//! API credentials: a secret id, a secret key and, for temporary credentials, a session token.
//!
//! `Debug` shows the secret id and `***` for the rest, so credentials can be logged safely.

use std::fmt;

use crate::error::Error;

/// A source of credentials, asked before every request so temporary credentials can rotate.
pub trait ProvideCredentials: Send + Sync + fmt::Debug {
    /// Current credentials, or why there are none.
    fn credentials(&self) -> Result<Credentials, Error>;
}

impl ProvideCredentials for Credentials {
    fn credentials(&self) -> Result<Credentials, Error> {
        Ok(self.clone())
    }
}

/// A secret id and key, with an optional session token.
///
/// ```
/// use cvm_keypairs::Credentials;
/// let c = Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap();
/// assert_eq!(format!("{c:?}"), r#"Credentials { secret_id: "AKIDEXAMPLE", secret_key: "***", token: None }"#);
/// assert!(Credentials::new("AKIDEXAMPLE", " secret").is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    secret_id: String,
    secret_key: String,
    token: Option<String>,
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
        Ok(Credentials { secret_id, secret_key, token: None })
    }

    /// Adds the session token of temporary credentials (sent as `X-TC-Token`).
    pub fn with_token(mut self, token: impl Into<String>) -> Result<Self, Error> {
        let token = token.into();
        check("session token", &token)?;
        self.token = Some(token);
        Ok(self)
    }

    /// The secret id (not secret).
    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }

    /// The secret key. Handle with care: never log it.
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// The session token, for temporary credentials.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
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
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"***")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
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
}
