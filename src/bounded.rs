//! Text from outside, bounded: a server decides how long its codes, RequestIds and messages
//! are, and must not make a report or an error hold megabytes, nor leave the start of an echoed
//! secret at a cut. Outputs of actions need this whether or not the crate sends requests itself.

use serde::Deserialize;

/// The most characters of an error code or a RequestId kept: real ones are a few dozen, and a
/// server must not make every report line hold a megabyte. A longer one is replaced whole by a
/// marker rather than cut, since a cut could keep the start of an echoed secret.
pub(crate) const ID_CHARS: usize = 128;

/// Deserialises a RequestId, [`capped`], for the outputs of actions.
pub(crate) fn request_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let id = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    Ok(capped(&id, ID_CHARS))
}

/// `id` (an error code, a RequestId, an instance id) when it has at most `max` characters, else
/// a marker saying how long it was: never a cut, which could keep the start of an echoed secret.
pub(crate) fn capped(id: &str, max: usize) -> String {
    match id.chars().count() {
        n if n <= max => id.to_owned(),
        n => format!("<{n} characters, not kept>"),
    }
}

/// At most `max` characters of `s`, with `…` marking a cut.
pub(crate) fn bounded(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}
