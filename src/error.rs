//! The crate's one error type.
//!
//! Every failure, from a malformed id to an API error, is an [`Error`]. None of them ever holds
//! a secret key, a session token or a signing key.

use std::fmt;

/// A key pair id that failed validation, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyIdError {
    /// The offending id as given (at most its first 64 characters).
    pub id: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for KeyIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid key pair id {:?}: {}", self.id, self.reason)
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A key pair id is malformed; nothing was sent.
    InvalidKeyId(KeyIdError),
    /// Several ids are malformed (all of them are listed); nothing was sent.
    InvalidKeyIds(Vec<KeyIdError>),
    /// A request must name 1 to 100 key pairs; it named this many, and nothing was sent.
    KeyIdCount(usize),
    /// The timestamp has no UTC date between years 0 and 9999, so it cannot be signed.
    InvalidTimestamp(i64),
    /// The endpoint cannot be used; the text says why.
    InvalidEndpoint(String),
    /// Another input cannot be signed or sent as given; the text says which and why.
    InvalidInput(String),
    /// A credential source was found but is unusable; the text says which and why.
    Credentials(String),
    /// No credential source gave credentials: each source tried, and why it failed.
    NoCredentials(Vec<(&'static str, String)>),
    /// The request could not be sent or its response not received.
    Transport {
        /// What kind of failure.
        kind: TransportKind,
        /// Details from the HTTP client.
        message: String,
    },
}

/// What went wrong below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// Name resolution or connection failed; the request was not sent.
    Connect,
    /// The TLS handshake or certificate check failed.
    Tls,
    /// A configured timeout elapsed.
    Timeout,
    /// The connection broke or closed while sending or receiving.
    Io,
    /// The response body exceeded the configured cap.
    BodyTooLarge,
    /// Any other failure of the HTTP client.
    Other,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidKeyId(e) => e.fmt(f),
            Error::InvalidKeyIds(errors) => {
                write!(f, "{} invalid key pair ids:", errors.len())?;
                for e in errors {
                    write!(f, " {:?} ({});", e.id, e.reason)?;
                }
                Ok(())
            }
            Error::KeyIdCount(n) => write!(f, "a request takes 1 to 100 key pair ids, got {n}"),
            Error::InvalidTimestamp(t) => write!(f, "timestamp {t} has no UTC date in years 0 to 9999"),
            Error::InvalidEndpoint(why) => write!(f, "invalid endpoint: {why}"),
            Error::InvalidInput(why) => write!(f, "invalid input: {why}"),
            Error::Credentials(why) => write!(f, "credentials: {why}"),
            Error::NoCredentials(tried) => {
                f.write_str("no credentials found:")?;
                for (source, why) in tried {
                    write!(f, " {source}: {why};")?;
                }
                Ok(())
            }
            Error::Transport { kind, message } => write!(f, "transport error ({kind:?}): {message}"),
        }
    }
}

impl std::error::Error for Error {}
