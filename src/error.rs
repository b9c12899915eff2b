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
    /// The API answered with an error: `{"Response":{"Error":{"Code","Message"},"RequestId"}}`.
    Api {
        /// The HTTP status, 200 for most API errors.
        status: u16,
        /// The error code.
        code: ErrorCode,
        /// The API's message, at most 1,000 characters.
        message: String,
        /// The request's id, to quote to support; `None` only if the response had none.
        request_id: Option<String>,
        /// The response's `Date` header in Unix seconds, to measure clock skew.
        server_time: Option<i64>,
    },
    /// The response is not an API response at all, e.g. a gateway's HTML 502 page.
    Http {
        /// The HTTP status.
        status: u16,
        /// The start of the body, at most 200 characters.
        snippet: String,
        /// The request's id, if the body held one.
        request_id: Option<String>,
    },
    /// The body is JSON but truncated, malformed, or not of the expected shape (a listing
    /// page larger than asked for, or past the bounds of a listing, among them).
    Decode {
        /// The HTTP status.
        status: u16,
        /// What is wrong, at most 200 characters.
        message: String,
        /// The request's id, if the body held one.
        request_id: Option<String>,
    },
    /// The call was stopped on request (a batch's [`crate::batch::BatchControl::stop`]) before
    /// it was sent.
    Interrupted,
}

/// What went wrong below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
                // A million bad ids would make a message nobody reads: the count and a sample.
                const SHOWN: usize = 20;
                let n = errors.len();
                write!(f, "{n} invalid key pair {}: ", if n == 1 { "id" } else { "ids" })?;
                for (i, e) in errors.iter().take(SHOWN).enumerate() {
                    write!(f, "{}{:?} ({})", if i == 0 { "" } else { "; " }, e.id, e.reason)?;
                }
                if n > SHOWN {
                    write!(f, "; and {} more", n - SHOWN)?;
                }
                Ok(())
            }
            Error::KeyIdCount(n) => write!(f, "a request takes 1 to 100 key pair ids, got {n}"),
            Error::InvalidTimestamp(t) => write!(f, "timestamp {t} has no UTC date in years 0 to 9999"),
            Error::InvalidEndpoint(why) => write!(f, "invalid endpoint: {why}"),
            Error::InvalidInput(why) => write!(f, "invalid input: {why}"),
            Error::Credentials(why) => write!(f, "credentials: {why}"),
            Error::NoCredentials(tried) => {
                f.write_str("no credentials found")?;
                for (i, (source, why)) in tried.iter().enumerate() {
                    write!(f, "{} {source}: {why}", if i == 0 { ":" } else { ";" })?;
                }
                Ok(())
            }
            Error::Transport { kind, message } => write!(f, "transport error ({kind:?}): {message}"),
            Error::Api { status, code, message, request_id, .. } => {
                write!(f, "API error {code}: {message} (HTTP {status}, {})", Rid(request_id))
            }
            Error::Http { status, snippet, request_id } => {
                write!(f, "HTTP {status} without an API response ({}): {snippet:?}", Rid(request_id))
            }
            Error::Decode { status, message, request_id } => {
                write!(f, "cannot decode the API response: {message} (HTTP {status}, {})", Rid(request_id))
            }
            Error::Interrupted => f.write_str("interrupted before the request was sent"),
        }
    }
}

struct Rid<'a>(&'a Option<String>);

impl fmt::Display for Rid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, "RequestId {id}"),
            None => f.write_str("no RequestId"),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// Whether trying again later may succeed: throttling, internal errors, gateway errors
    /// (HTTP 429 and 5xx without an API response), timeouts and broken connections.
    ///
    /// After a timeout or a broken connection the request may or may not have taken effect.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api { code, .. } => code.is_retryable(),
            Error::Http { status, .. } => *status == 429 || (500..600).contains(status),
            Error::Transport { kind, .. } => {
                matches!(kind, TransportKind::Connect | TransportKind::Timeout | TransportKind::Io)
            }
            _ => false,
        }
    }

    /// Whether the API refused the call for its rate limit (`RequestLimitExceeded` and any
    /// `RequestLimitExceeded.…`): the account's window of requests is full, often because
    /// another job shares it.
    pub fn is_throttling(&self) -> bool {
        self.code().is_some_and(ErrorCode::is_throttling)
    }

    /// Whether the credentials are missing, wrong, expired or not allowed to do this.
    pub fn is_auth(&self) -> bool {
        match self {
            Error::Api { code, .. } => code.is_auth(),
            Error::Credentials(_) | Error::NoCredentials(_) => true,
            _ => false,
        }
    }

    /// Whether the request as given cannot succeed: a bad id, parameter, endpoint or count,
    /// found here before sending or reported by the API.
    pub fn is_input(&self) -> bool {
        match self {
            Error::Api { code, .. } => code.is_input(),
            Error::InvalidKeyId(_)
            | Error::InvalidKeyIds(_)
            | Error::KeyIdCount(_)
            | Error::InvalidTimestamp(_)
            | Error::InvalidEndpoint(_)
            | Error::InvalidInput(_) => true,
            _ => false,
        }
    }

    /// Parameters that serde cannot turn into JSON.
    pub(crate) fn unencodable(e: serde_json::Error) -> Error {
        Error::InvalidInput(format!("cannot encode the parameters: {e}"))
    }

    /// A short code for any error, for reports and JSON: [`FailureCode::of`] as text.
    pub fn code_text(&self) -> String {
        FailureCode::of(self).to_string()
    }

    /// The API error code, for [`Error::Api`].
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The RequestId of the response this error came from, when it had one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. }
            | Error::Http { request_id, .. }
            | Error::Decode { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }
}

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal,)*) => {
        /// An API error code. Codes this crate does not name are kept verbatim in
        /// [`ErrorCode::Other`].
        ///
        /// ```
        /// use cvm_keypairs::ErrorCode;
        /// let code: ErrorCode = "InvalidKeyPairId.NotFound".parse().unwrap();
        /// assert_eq!(code, ErrorCode::InvalidKeyPairIdNotFound);
        /// assert_eq!(code.as_str(), "InvalidKeyPairId.NotFound");
        /// assert_eq!("Some.NewCode".parse::<ErrorCode>().unwrap(), ErrorCode::Other("Some.NewCode".into()));
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
            /// Any other code, verbatim.
            Other(String),
        }

        impl ErrorCode {
            /// The code as the API writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                    ErrorCode::Other(code) => code,
                }
            }

            /// The code for `code`: a named variant, or [`ErrorCode::Other`].
            pub fn new(code: &str) -> Self {
                match code {
                    $($code => ErrorCode::$variant,)*
                    _ => ErrorCode::Other(code.to_owned()),
                }
            }
        }
    };
}

error_codes! {
    /// `InvalidKeyPairId.NotFound`: no key pair has this id (already deleted, or never existed).
    InvalidKeyPairIdNotFound = "InvalidKeyPairId.NotFound",
    /// `InvalidKeyPairId.Malformed`: the id is not of the key pair id shape.
    InvalidKeyPairIdMalformed = "InvalidKeyPairId.Malformed",
    /// `InvalidKeyPair.LimitExceeded`: too many key pairs.
    InvalidKeyPairLimitExceeded = "InvalidKeyPair.LimitExceeded",
    /// `InvalidKeyPair.NotSupported`: the key pair does not support this operation.
    InvalidKeyPairNotSupported = "InvalidKeyPair.NotSupported",
    /// `InvalidParameterValue`: a parameter value is wrong.
    InvalidParameterValue = "InvalidParameterValue",
    /// `InvalidParameterValue.KeyPairNotSupported`: the key pair does not support this
    /// operation, e.g. it is bound to an instance or image.
    InvalidParameterValueKeyPairNotSupported = "InvalidParameterValue.KeyPairNotSupported",
    /// `InvalidParameterValue.LimitExceeded`: too many parameter values.
    InvalidParameterValueLimitExceeded = "InvalidParameterValue.LimitExceeded",
    /// `InvalidParameter`: a parameter is wrong.
    InvalidParameter = "InvalidParameter",
    /// `MissingParameter`: a required parameter is missing.
    MissingParameter = "MissingParameter",
    /// `UnknownParameter`: an unknown parameter was sent.
    UnknownParameter = "UnknownParameter",
    /// `InvalidAction`: the action does not exist.
    InvalidAction = "InvalidAction",
    /// `InternalServerError`: the service failed.
    InternalServerError = "InternalServerError",
    /// `InternalError`: the API failed.
    InternalError = "InternalError",
    /// `AuthFailure.SignatureFailure`: the signature does not match (wrong secret key, or
    /// the request was changed after signing).
    AuthFailureSignatureFailure = "AuthFailure.SignatureFailure",
    /// `AuthFailure.SignatureExpire`: the timestamp is too far from the server's clock.
    AuthFailureSignatureExpire = "AuthFailure.SignatureExpire",
    /// `AuthFailure.SecretIdNotFound`: the secret id does not exist or is disabled.
    AuthFailureSecretIdNotFound = "AuthFailure.SecretIdNotFound",
    /// `AuthFailure.InvalidSecretId`: the secret id is not valid.
    AuthFailureInvalidSecretId = "AuthFailure.InvalidSecretId",
    /// `AuthFailure.TokenFailure`: the session token is wrong or expired.
    AuthFailureTokenFailure = "AuthFailure.TokenFailure",
    /// `AuthFailure.InvalidAuthorization`: the Authorization header is malformed.
    AuthFailureInvalidAuthorization = "AuthFailure.InvalidAuthorization",
    /// `AuthFailure.MFAFailure`: multi-factor authentication failed.
    AuthFailureMfaFailure = "AuthFailure.MFAFailure",
    /// `AuthFailure.UnauthorizedOperation`: the identity may not call this action.
    AuthFailureUnauthorizedOperation = "AuthFailure.UnauthorizedOperation",
    /// `UnauthorizedOperation`: the identity may not do this.
    UnauthorizedOperation = "UnauthorizedOperation",
    /// `RequestLimitExceeded`: too many requests; slow down.
    RequestLimitExceeded = "RequestLimitExceeded",
    /// `RequestLimitExceeded.UinLimitExceeded`: the account's rate limit was hit.
    RequestLimitExceededUinLimitExceeded = "RequestLimitExceeded.UinLimitExceeded",
    /// `RequestLimitExceeded.GlobalRegionUinLimitExceeded`: the account's rate limit across
    /// regions was hit.
    RequestLimitExceededGlobalRegionUinLimitExceeded = "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
    /// `RequestLimitExceeded.IPLimitExceeded`: the caller address's rate limit was hit.
    RequestLimitExceededIpLimitExceeded = "RequestLimitExceeded.IPLimitExceeded",
    /// `UnsupportedOperation`: the operation is not supported in this state.
    UnsupportedOperation = "UnsupportedOperation",
    /// `UnsupportedRegion`: the action is not offered in this region.
    UnsupportedRegion = "UnsupportedRegion",
    /// `InvalidRegion`: the region does not exist.
    InvalidRegion = "InvalidRegion",
    /// `ResourceNotFound`: a resource does not exist.
    ResourceNotFound = "ResourceNotFound",
    /// `ResourceInUse`: a resource is in use.
    ResourceInUse = "ResourceInUse",
}

impl ErrorCode {
    /// Throttling ([`ErrorCode::is_throttling`]) and internal errors: trying again later may
    /// succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ErrorCode::InternalError | ErrorCode::InternalServerError) || self.is_throttling()
    }

    /// `RequestLimitExceeded` and any `RequestLimitExceeded.…`.
    pub fn is_throttling(&self) -> bool {
        let code = self.as_str();
        code == "RequestLimitExceeded" || code.starts_with("RequestLimitExceeded.")
    }

    /// `AuthFailure` and any `AuthFailure.…`, and `UnauthorizedOperation`.
    pub fn is_auth(&self) -> bool {
        let code = self.as_str();
        code == "AuthFailure" || code.starts_with("AuthFailure.") || code == "UnauthorizedOperation"
    }

    /// Codes saying the request itself is wrong: unknown or malformed ids, bad, missing or
    /// unknown parameters, unsupported key pairs.
    pub fn is_input(&self) -> bool {
        let code = self.as_str();
        ["InvalidKeyPairId", "InvalidKeyPair", "InvalidParameter", "InvalidParameterValue"].iter().any(
            |family| code == *family || code.strip_prefix(family).is_some_and(|rest| rest.starts_with('.')),
        ) || matches!(
            self,
            ErrorCode::MissingParameter
                | ErrorCode::UnknownParameter
                | ErrorCode::InvalidAction
                | ErrorCode::InvalidRegion
                | ErrorCode::UnsupportedRegion
        )
    }
}

impl std::str::FromStr for ErrorCode {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(ErrorCode::new(s))
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The code of a key pair's failure in a report: why it was kept, or failed.
///
/// Its text (`Display`) is what reports and JSON show: the API's code verbatim,
/// `KeyPairStillPresent`, `VerificationIncomplete`, `Interrupted`, `Transport.<kind>` (e.g.
/// `Transport.Timeout`), `HTTP<status>`, `DecodeError`, or `ClientError`.
///
/// ```
/// use cvm_keypairs::{Error, ErrorCode, FailureCode};
/// let gateway = Error::Http { status: 502, snippet: "<html>".into(), request_id: None };
/// assert_eq!(FailureCode::of(&gateway), FailureCode::Http(502));
/// assert_eq!(FailureCode::of(&gateway).to_string(), "HTTP502");
/// assert!(FailureCode::of(&gateway).is_no_answer());
/// assert_eq!(FailureCode::StillPresent.to_string(), "KeyPairStillPresent");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureCode {
    /// The API answered with this error.
    Api(ErrorCode),
    /// `KeyPairStillPresent`: DeleteKeyPairs succeeded, but the key pair is still there (bound
    /// to an instance or image).
    StillPresent,
    /// `VerificationIncomplete`: DescribeKeyPairs never gave complete evidence of whether the
    /// key pair still exists (it counted more key pairs than it returned), so it is not called
    /// deleted.
    VerificationIncomplete,
    /// `Interrupted`: the run was stopped before this key pair's outcome was known.
    Interrupted,
    /// `Transport.<kind>`: no answer; the request failed below HTTP.
    Transport(TransportKind),
    /// `HTTP<status>`: an HTTP response that is not an API response, e.g. a gateway's page.
    Http(u16),
    /// `DecodeError`: a response that could not be decoded.
    Decode,
    /// `ClientError`: a failure before anything was sent.
    Client,
}

impl FailureCode {
    /// The code for a failure with `error`.
    pub fn of(error: &Error) -> Self {
        match error {
            Error::Api { code, .. } => FailureCode::Api(code.clone()),
            Error::Http { status, .. } => FailureCode::Http(*status),
            Error::Transport { kind, .. } => FailureCode::Transport(*kind),
            Error::Decode { .. } => FailureCode::Decode,
            Error::Interrupted => FailureCode::Interrupted,
            _ => FailureCode::Client,
        }
    }

    /// The API's error code, for [`FailureCode::Api`].
    pub fn api(&self) -> Option<&ErrorCode> {
        match self {
            FailureCode::Api(code) => Some(code),
            _ => None,
        }
    }

    /// Whether the credentials were refused ([`ErrorCode::is_auth`]).
    pub fn is_auth(&self) -> bool {
        self.api().is_some_and(ErrorCode::is_auth)
    }

    /// Whether no API answer came: a transport failure, a page that is not an API response,
    /// or an undecodable one.
    pub fn is_no_answer(&self) -> bool {
        matches!(self, FailureCode::Transport(_) | FailureCode::Http(_) | FailureCode::Decode)
    }
}

impl fmt::Display for FailureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureCode::Api(code) => f.write_str(code.as_str()),
            FailureCode::StillPresent => f.write_str("KeyPairStillPresent"),
            FailureCode::VerificationIncomplete => f.write_str("VerificationIncomplete"),
            FailureCode::Interrupted => f.write_str("Interrupted"),
            FailureCode::Transport(kind) => write!(f, "Transport.{kind:?}"),
            FailureCode::Http(status) => write!(f, "HTTP{status}"),
            FailureCode::Decode => f.write_str("DecodeError"),
            FailureCode::Client => f.write_str("ClientError"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_ids_show_the_count_and_at_most_twenty() {
        let bad = |n: usize| {
            Error::InvalidKeyIds((0..n).map(|i| KeyIdError { id: format!("x{i}"), reason: "r" }).collect())
                .to_string()
        };
        assert_eq!(bad(1), "1 invalid key pair id: \"x0\" (r)");
        assert_eq!(bad(2), "2 invalid key pair ids: \"x0\" (r); \"x1\" (r)");
        let many = bad(1_000);
        assert!(many.starts_with("1000 invalid key pair ids: \"x0\" (r); "), "{many}");
        assert!(many.ends_with("; \"x19\" (r); and 980 more"), "{many}");
        assert!(!many.contains("x20"), "{many}");
    }

    #[test]
    fn no_credentials_lists_each_source_without_a_trailing_semicolon() {
        let e = Error::NoCredentials(vec![("environment", "a".into()), ("profile file", "b".into())]);
        assert_eq!(e.to_string(), "no credentials found: environment: a; profile file: b");
    }
}
