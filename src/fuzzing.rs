//! Internals the fuzz targets drive (feature `fuzzing`, for `fuzz/` only: not part of the API
//! and not covered by semver).

use serde::Serialize;

use crate::error::Error;

pub use crate::credentials::parse_profile;
pub use crate::response::{parse as parse_response, MESSAGE_CHARS, SNIPPET_CHARS};
pub use crate::tc3::{sign_uncached, Payload, Signature, Signer, SigningInput};

/// The GET query of `params`, as a request would carry it.
pub fn query(params: &impl Serialize) -> Result<String, Error> {
    let mut out = String::new();
    crate::query::write(&mut out, params)?;
    Ok(out)
}
