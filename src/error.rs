//! The crate's one error type, the API's error codes, and the codes of a report's failures.
//!
//! Every failure, from a malformed id to an API error, is an [`Error`]. None of them ever holds
//! a secret key, a session token or a signing key.

use std::fmt;

/// A key pair id that failed validation, and why (its `Display`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyIdError {
    /// The offending id as given (at most its first 64 characters).
    pub id: String,
    reason: &'static str,
}

impl KeyIdError {
    pub(crate) fn new(id: &str, reason: &'static str) -> Self {
        KeyIdError { id: id.chars().take(64).collect(), reason }
    }
}

impl fmt::Display for KeyIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid key pair id {:?}: {}", self.id, self.reason)
    }
}

impl std::error::Error for KeyIdError {}

/// A cause kept behind an [`Error`], for [`std::error::Error::source`].
type Source = Box<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong in this crate.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Key pair ids are malformed (every one of them, in order); nothing was sent.
    #[non_exhaustive]
    InvalidKeyIds(Vec<KeyIdError>),
    /// An input or setting cannot be signed or sent as given: the count of ids in a request
    /// (1 to 100), a key pair name, description, tag or public key, an instance id, a
    /// timestamp without a UTC date in years 0 to 9999, an endpoint, no region, parameters
    /// that are not an object…; the text says which and why (an action's checks quote a bad
    /// value escaped, at most 64 characters of it). Nothing was sent.
    #[non_exhaustive]
    InvalidInput(String),
    /// A credential source was found but is unusable; the text says which and why.
    #[non_exhaustive]
    Credentials {
        /// Which source and what is wrong (never a value).
        message: String,
        /// The failure underneath (e.g. reading a file), if any.
        source: Option<Source>,
    },
    /// No credential source gave credentials: each source tried, and why it failed.
    #[non_exhaustive]
    NoCredentials(Vec<(&'static str, String)>),
    /// The request could not be sent or its response not received.
    #[non_exhaustive]
    Transport {
        /// What kind of failure.
        kind: TransportKind,
        /// Details from the HTTP client.
        message: String,
        /// The HTTP client's error, if any.
        source: Option<Source>,
    },
    /// The API answered with an error: `{"Response":{"Error":{"Code","Message"},"RequestId"}}`.
    #[non_exhaustive]
    Api {
        /// The error code.
        code: ErrorCode,
        /// The API's message, at most 1,000 characters.
        message: String,
        /// The request's id, to quote to support; `None` only if the response had none.
        request_id: Option<String>,
    },
    /// The response is not an API response at all, e.g. a gateway's HTML 502 page.
    #[non_exhaustive]
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
    #[non_exhaustive]
    Decode {
        /// What is wrong, at most 200 characters.
        message: String,
        /// The request's id, if the body held one.
        request_id: Option<String>,
        /// The JSON decoder's error, if any.
        source: Option<Source>,
    },
    /// The call was stopped on request (a batch's [`crate::BatchControl::stop`]) before it
    /// was sent.
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

/// The most malformed ids an [`Error::InvalidKeyIds`] message names.
const NAMED_BAD_IDS: usize = 20;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidKeyIds(errors) => write_bad_ids(f, errors),
            Error::InvalidInput(why) => write!(f, "invalid input: {why}"),
            Error::Credentials { message, .. } => write!(f, "credentials: {message}"),
            Error::NoCredentials(tried) => {
                f.write_str("no credentials found:")?;
                for (i, (source, why)) in tried.iter().enumerate() {
                    write!(f, "{} {source}: {why}", if i == 0 { "" } else { ";" })?;
                }
                Ok(())
            }
            Error::Transport { kind, message, .. } => write!(f, "transport error ({kind:?}): {message}"),
            Error::Api { code, message, request_id } => {
                write!(f, "API error {code}: {message} ({})", Rid(request_id))
            }
            Error::Http { status, snippet, request_id } => {
                write!(f, "HTTP {status} without an API response ({}): {snippet:?}", Rid(request_id))
            }
            Error::Decode { message, request_id, .. } => {
                write!(f, "cannot decode the API response: {message} ({})", Rid(request_id))
            }
            Error::Interrupted => f.write_str("interrupted before the request was sent"),
        }
    }
}

/// `N invalid key pair ids: "a" (why); "b" (why); and M more`, naming at most
/// [`NAMED_BAD_IDS`].
fn write_bad_ids(f: &mut fmt::Formatter<'_>, errors: &[KeyIdError]) -> fmt::Result {
    let plural = if errors.len() == 1 { "" } else { "s" };
    write!(f, "{} invalid key pair id{plural}:", errors.len())?;
    for (i, e) in errors.iter().take(NAMED_BAD_IDS).enumerate() {
        write!(f, "{} {:?} ({})", if i == 0 { "" } else { ";" }, e.id, e.reason)?;
    }
    if errors.len() > NAMED_BAD_IDS {
        write!(f, "; and {} more", errors.len() - NAMED_BAD_IDS)?;
    }
    Ok(())
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

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::InvalidKeyIds(errors) => errors.first().map(|e| e as _),
            Error::Credentials { source, .. }
            | Error::Transport { source, .. }
            | Error::Decode { source, .. } => source.as_deref().map(|s| s as _),
            _ => None,
        }
    }
}

impl From<KeyIdError> for Error {
    fn from(e: KeyIdError) -> Self {
        Error::InvalidKeyIds(vec![e])
    }
}

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

    #[cfg(feature = "ureq")]
    /// Whether the API refused the call for its rate limit (`RequestLimitExceeded`, `….…`).
    pub(crate) fn is_throttling(&self) -> bool {
        // Only the API's own answer: a credential source that was throttled has already waited.
        matches!(self, Error::Api { code, .. } if code.is_throttling())
    }

    /// Whether the credentials are missing, wrong, expired or not allowed to do this.
    pub fn is_auth(&self) -> bool {
        match self {
            Error::Api { code, .. } => code.is_auth(),
            Error::Credentials { .. } | Error::NoCredentials(_) => true,
            _ => false,
        }
    }

    /// The API error code, for [`Error::Api`], and for an [`Error::Credentials`] caused by
    /// one (an STS call of an assumed role or a web identity that the API refused).
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => self.cause().and_then(Error::code),
        }
    }

    /// The RequestId of the response this error came from, when it had one; for an
    /// [`Error::Credentials`], that of the STS response that caused it.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. }
            | Error::Http { request_id, .. }
            | Error::Decode { request_id, .. } => request_id.as_deref(),
            _ => self.cause().and_then(Error::request_id),
        }
    }

    /// The error of this crate that a credential source's failure keeps as its source.
    fn cause(&self) -> Option<&Error> {
        match self {
            Error::Credentials { source: Some(source), .. } => source.downcast_ref::<Error>(),
            _ => None,
        }
    }

    #[cfg(feature = "ureq")]
    /// A credential source's failure caused by `error`, which is kept whole as its source (its
    /// code and RequestId stay reachable through [`Error::code`] and [`Error::request_id`]).
    pub(crate) fn credentials_caused_by(context: &str, error: Error) -> Error {
        Error::Credentials { message: format!("{context}: {error}"), source: Some(Box::new(error)) }
    }

    #[cfg(feature = "ureq")]
    /// A credential source's failure with no cause underneath.
    pub(crate) fn credentials(message: impl Into<String>) -> Error {
        Error::Credentials { message: message.into(), source: None }
    }

    /// A failure below HTTP.
    #[cfg(any(test, feature = "ureq"))]
    pub(crate) fn transport(
        kind: TransportKind,
        message: impl Into<String>,
        source: Option<Source>,
    ) -> Error {
        Error::Transport { kind, message: message.into(), source }
    }

    /// Parameters that serde cannot encode.
    pub(crate) fn unencodable(e: impl fmt::Display) -> Error {
        Error::InvalidInput(format!("cannot encode the parameters: {e}"))
    }
}

/// An API error code, kept verbatim (at most 128 characters).
///
/// Compare it with the code as the API writes it (`code == "InvalidKeyPairId.NotFound"`);
/// codes are text, so a code this crate learns to name later never stops matching. Classify
/// the [`Error`] itself with [`Error::is_retryable`] and [`Error::is_auth`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ErrorCode(Box<str>);

#[cfg(feature = "ureq")]
/// The codes this crate acts on.
pub(crate) mod codes {
    pub(crate) const KEY_PAIR_NOT_FOUND: &str = "InvalidKeyPairId.NotFound";
    pub(crate) const KEY_PAIR_NOT_SUPPORTED: &str = "InvalidParameterValue.KeyPairNotSupported";
    pub(crate) const KEY_PAIR_OPERATION_NOT_SUPPORTED: &str = "InvalidKeyPair.NotSupported";
    pub(crate) const INVALID_PARAMETER_VALUE: &str = "InvalidParameterValue";
    pub(crate) const SIGNATURE_EXPIRE: &str = "AuthFailure.SignatureExpire";
}

impl ErrorCode {
    #[cfg(feature = "ureq")]
    /// The code `code`, as the API writes it.
    pub(crate) fn new(code: &str) -> Self {
        ErrorCode(code.into())
    }

    /// The code as the API writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Throttling ([`ErrorCode::is_throttling`]) and internal errors (`InternalError`,
    /// `InternalServerError`): trying again later may succeed.
    pub(crate) fn is_retryable(&self) -> bool {
        matches!(self.as_str(), "InternalError" | "InternalServerError") || self.is_throttling()
    }

    /// `RequestLimitExceeded` and any `RequestLimitExceeded.…`: the account's window of
    /// requests is full, often because another job shares it.
    pub(crate) fn is_throttling(&self) -> bool {
        self.in_family("RequestLimitExceeded")
    }

    /// `AuthFailure` and any `AuthFailure.…`, and `UnauthorizedOperation`.
    pub(crate) fn is_auth(&self) -> bool {
        self.in_family("AuthFailure") || self.as_str() == "UnauthorizedOperation"
    }

    /// Codes saying the request itself is wrong: unknown or malformed ids, bad, missing or
    /// unknown parameters, unsupported key pairs, an unknown action or region.
    #[cfg(test)]
    fn is_input(&self) -> bool {
        ["InvalidKeyPairId", "InvalidKeyPair", "InvalidParameter", "InvalidParameterValue"]
            .iter()
            .any(|family| self.in_family(family))
            || matches!(
                self.as_str(),
                "MissingParameter"
                    | "UnknownParameter"
                    | "InvalidAction"
                    | "InvalidRegion"
                    | "UnsupportedRegion"
            )
    }

    /// Whether the code is `family` or `family.…`.
    fn in_family(&self, family: &str) -> bool {
        self.as_str().strip_prefix(family).is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The code of a key pair's failure in a report: why it was kept, or failed.
///
/// Its text (`Display`, and its JSON form) is what reports show: the API's code verbatim,
/// `KeyPairStillPresent`, `KeyPairStillBound`, `VerificationIncomplete`, `Interrupted`,
/// `Transport.<kind>` (e.g. `Transport.Timeout`), `HTTP<status>`, `DecodeError`, or
/// `ClientError`.
///
/// It is made from an [`Error`] with `FailureCode::from(&error)`.
///
/// ```
/// use cvm_keypairs::FailureCode;
/// assert_eq!(FailureCode::StillPresent.to_string(), "KeyPairStillPresent");
/// assert!(FailureCode::Http(502).is_no_answer());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureCode {
    /// The API answered with this error.
    Api(ErrorCode),
    /// `KeyPairStillPresent`: DeleteKeyPairs succeeded, but the key pair is still there (bound
    /// to an instance or image).
    StillPresent,
    /// `KeyPairStillBound`: the key pair was to be detached from its instances first, and is
    /// still bound to one: a running instance that was not to be force-stopped, or an unbinding
    /// that DescribeKeyPairs did not show in the time allowed. It was not deleted.
    StillBound,
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

impl From<&Error> for FailureCode {
    fn from(error: &Error) -> Self {
        FailureCode::of(error)
    }
}

impl FailureCode {
    /// The code for a failure with `error`.
    pub(crate) fn of(error: &Error) -> Self {
        match error {
            Error::Api { code, .. } => FailureCode::Api(code.clone()),
            Error::Http { status, .. } => FailureCode::Http(*status),
            Error::Transport { kind, .. } => FailureCode::Transport(*kind),
            Error::Decode { .. } => FailureCode::Decode,
            Error::Interrupted => FailureCode::Interrupted,
            _ => FailureCode::Client,
        }
    }

    /// Whether the credentials were refused: an `AuthFailure…` or `UnauthorizedOperation` code.
    pub fn is_auth(&self) -> bool {
        matches!(self, FailureCode::Api(code) if code.is_auth())
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
            FailureCode::StillBound => f.write_str("KeyPairStillBound"),
            FailureCode::VerificationIncomplete => f.write_str("VerificationIncomplete"),
            FailureCode::Interrupted => f.write_str("Interrupted"),
            FailureCode::Transport(kind) => write!(f, "Transport.{kind:?}"),
            FailureCode::Http(status) => write!(f, "HTTP{status}"),
            FailureCode::Decode => f.write_str("DecodeError"),
            FailureCode::Client => f.write_str("ClientError"),
        }
    }
}

impl serde::Serialize for FailureCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_ids_show_the_count_and_at_most_twenty() {
        let bad = |n: usize| {
            Error::InvalidKeyIds((0..n).map(|i| KeyIdError::new(&format!("x{i}"), "r")).collect()).to_string()
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

    #[test]
    fn codes_are_classified_by_family_and_compared_as_text() {
        for (code, retryable, throttling, auth, input) in [
            ("RequestLimitExceeded", true, true, false, false),
            ("RequestLimitExceeded.IPLimitExceeded", true, true, false, false),
            ("RequestLimitExceededX", false, false, false, false),
            ("InternalError", true, false, false, false),
            ("AuthFailure.SecretIdNotFound", false, false, true, false),
            ("UnauthorizedOperation", false, false, true, false),
            ("InvalidKeyPairId.NotFound", false, false, false, true),
            ("InvalidParameterValue.KeyPairNotSupported", false, false, false, true),
            ("UnsupportedRegion", false, false, false, true),
            ("Some.NewCode", false, false, false, false),
        ] {
            let c = ErrorCode::new(code);
            assert_eq!(
                (c.is_retryable(), c.is_throttling(), c.is_auth(), c.is_input()),
                (retryable, throttling, auth, input),
                "{code}"
            );
            assert_eq!(c, code);
        }
    }

    #[test]
    fn causes_are_kept_as_sources() {
        use std::error::Error as _;
        let io = std::io::Error::other("disk on fire");
        let e = Error::Credentials { message: "profile file".into(), source: Some(Box::new(io)) };
        assert_eq!(e.source().unwrap().to_string(), "disk on fire");
        let bad: Error = KeyIdError::new("x", "too short").into();
        assert!(bad.source().unwrap().to_string().contains("too short"));
        assert!(Error::Interrupted.source().is_none());
    }

    #[test]
    fn a_credential_source_failed_by_the_api_keeps_its_code_and_request_id() {
        let api = Error::Api {
            code: ErrorCode::new("RequestLimitExceeded"),
            message: "slow down".into(),
            request_id: Some("r-sts".into()),
        };
        let e = Error::credentials_caused_by("assumed role r: sts:AssumeRole failed", api);
        assert_eq!(e.code().map(ErrorCode::as_str), Some("RequestLimitExceeded"));
        assert_eq!(e.request_id(), Some("r-sts"));
        assert!(e.is_auth() && !e.is_throttling() && !e.is_retryable());
        assert_eq!(
            e.to_string(),
            "credentials: assumed role r: sts:AssumeRole failed: API error RequestLimitExceeded: slow down (RequestId r-sts)"
        );
        let io =
            Error::Credentials { message: "m".into(), source: Some(Box::new(std::io::Error::other("x"))) };
        assert_eq!((io.code(), io.request_id()), (None, None));
    }
}
