//! Internals that this crate's own tests and fuzz targets drive (feature `testing`): not part
//! of the API, and not covered by semver.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::credentials::Credentials;
use crate::error::Error;
use crate::http::HttpResponse;

pub use crate::tc3::{sign_uncached, Payload, Signature, Signer, SigningInput};

/// The most characters kept of an API error message.
pub const MESSAGE_CHARS: usize = crate::response::MESSAGE_CHARS;
/// The most characters kept of a body in [`Error::Http`] or a decoder message.
pub const SNIPPET_CHARS: usize = crate::response::SNIPPET_CHARS;
/// The most characters kept of an error code or a RequestId.
pub const ID_CHARS: usize = crate::bounded::ID_CHARS;

/// The response parser: a response to the action's output, or the error it carries.
pub fn parse_response<T: DeserializeOwned>(response: &HttpResponse) -> Result<T, Error> {
    crate::response::parse(response)
}

/// The profile-file parser: the credentials of `section` in `text`.
pub fn parse_profile(text: &str, section: &str) -> Result<Credentials, Error> {
    crate::credentials::parse_profile(text, section).map(|profile| profile.credentials)
}

/// The GET query of `params`, as a request would carry it.
pub fn query(params: &impl Serialize) -> Result<String, Error> {
    let mut out = String::new();
    crate::query::write(&mut out, params)?;
    Ok(out)
}

/// The secret id, secret key and session token that `credentials` hold, for oracles that check
/// what a parser read.
pub fn credential_parts(credentials: &Credentials) -> (&str, &str, Option<&str>) {
    (credentials.secret_id(), credentials.secret_key(), credentials.token())
}
