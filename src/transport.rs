//! How a signed request reaches the API: the [`Transport`] trait.
//!
//! The client only ever hands a finished [`HttpRequest`] to a transport and gets plain
//! [`HttpResponse`] data back, so tests inject fakes and the signer never meets an HTTP client.

use crate::error::Error;
use crate::http::{HttpRequest, HttpResponse};

/// Sends one fully signed request and returns what came back.
///
/// An HTTP error status is a response, not an error: the API puts its errors in the body.
/// Failures below HTTP are [`Error::Transport`].
pub trait Transport: Send + Sync {
    /// Sends `request` exactly as given (URL, headers, body bytes).
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, Error>;
}
