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
        }
    }
}

impl std::error::Error for Error {}
