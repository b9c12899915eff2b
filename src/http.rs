//! Plain HTTP request and response data, the boundary between signing and sending.
//!
//! A [`HttpRequest`] holds exactly the bytes that were signed; a transport sends it as is. Its
//! `Display` is the HTTP/1.1 wire format (request line, headers, blank line, body) for dry runs,
//! with the session token shown as `***`.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// The `User-Agent` every request carries.
pub(crate) const USER_AGENT: &str = concat!("cvm-keypairs/", env!("CARGO_PKG_VERSION"));

/// The HTTP method of an API call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Parameters in the query string, form-encoded.
    Get,
    /// Parameters as a JSON body.
    #[default]
    Post,
}

impl Method {
    /// `GET` or `POST`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Method {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Ok(Method::Get),
            "POST" => Ok(Method::Post),
            _ => Err(Error::InvalidInput(format!("method {s:?} is not GET or POST"))),
        }
    }
}

/// A fully signed request, ready to send.
///
/// Values the configuration already holds (the host, the region, and the endpoint's URL when
/// there is no query) are borrowed from it rather than copied, which is a good part of what
/// building a request costs; [`HttpRequest::into_owned`] detaches a request that must outlive
/// its configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest<'a> {
    /// GET or POST.
    pub method: Method,
    /// `scheme://host[:port]/` and, for GET, `?` and the signed query.
    pub url: Cow<'a, str>,
    /// Headers in the order they are sent; names as written on the wire.
    pub headers: Vec<(&'static str, Cow<'a, str>)>,
    /// The body (empty for GET).
    pub body: Vec<u8>,
}

/// Header names whose values are secret and are shown as `***`.
const SECRET_HEADERS: &[&str] = &["X-TC-Token"];

impl HttpRequest<'_> {
    /// The same request, owning all its parts.
    pub fn into_owned(self) -> HttpRequest<'static> {
        HttpRequest {
            method: self.method,
            url: Cow::Owned(self.url.into_owned()),
            headers: self
                .headers
                .into_iter()
                .map(|(name, value)| (name, Cow::Owned(value.into_owned())))
                .collect(),
            body: self.body,
        }
    }

    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_ref())
    }

    /// The request target: path and query, as in the request line.
    pub(crate) fn path_and_query(&self) -> &str {
        let after_scheme = self.url.find("://").map_or(0, |i| i + 3);
        self.url[after_scheme..].find('/').map_or("/", |i| &self.url[after_scheme + i..])
    }

    fn shown_headers(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.headers.iter().map(|(name, value)| {
            let secret = SECRET_HEADERS.iter().any(|s| s.eq_ignore_ascii_case(name));
            (*name, if secret { "***" } else { value.as_ref() })
        })
    }
}

impl fmt::Display for HttpRequest<'_> {
    /// The request as HTTP/1.1 puts it on the wire, secret headers masked: the request line,
    /// `content-length` for a body, then the headers in order, names lower-cased as the HTTP
    /// client sends them. A body that is not UTF-8 is shown with replacement characters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} HTTP/1.1\r\n", self.method, self.path_and_query())?;
        if !self.body.is_empty() {
            write!(f, "content-length: {}\r\n", self.body.len())?;
        }
        for (name, value) in self.shown_headers() {
            write!(f, "{}: {value}\r\n", name.to_ascii_lowercase())?;
        }
        f.write_str("\r\n")?;
        f.write_str(&String::from_utf8_lossy(&self.body))
    }
}

impl fmt::Debug for HttpRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &self.shown_headers().collect::<Vec<_>>())
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}

#[cfg(feature = "ureq")]
/// What came back: status, headers and body bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// Response headers as received.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

#[cfg(feature = "ureq")]
impl HttpResponse {
    /// The value of the first header named `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(method: Method, url: &'a str, body: &[u8]) -> HttpRequest<'a> {
        HttpRequest {
            method,
            url: url.into(),
            headers: vec![("Host", "h:8080".into()), ("X-TC-Token", "tok-SECRET".into())],
            body: body.to_vec(),
        }
    }

    #[test]
    fn wire_format_has_request_line_headers_blank_line_and_body() {
        let post = request(Method::Post, "http://h:8080/", b"{\"a\":1}");
        assert_eq!(
            post.to_string(),
            "POST / HTTP/1.1\r\ncontent-length: 7\r\nhost: h:8080\r\nx-tc-token: ***\r\n\r\n{\"a\":1}"
        );
        let get = request(Method::Get, "https://h/?KeyIds.0=skey-aaaaaaaa", b"");
        assert!(get.to_string().starts_with("GET /?KeyIds.0=skey-aaaaaaaa HTTP/1.1\r\n"));
        assert!(get.to_string().ends_with("\r\n\r\n"));
    }

    #[test]
    fn token_never_shows_in_display_or_debug() {
        let r = request(Method::Post, "http://h:8080/", b"");
        assert!(!r.to_string().contains("SECRET"));
        assert!(!format!("{r:?}").contains("SECRET"));
        assert_eq!(r.header("x-tc-token"), Some("tok-SECRET"));
    }

    #[test]
    fn into_owned_outlives_what_it_borrowed() {
        let owned = {
            let url = String::from("http://h:8080/");
            let borrowed = request(Method::Post, &url, b"{}");
            let owned = borrowed.clone().into_owned();
            assert_eq!(owned, borrowed);
            owned
        };
        assert!(matches!(owned.url, Cow::Owned(_)));
        assert_eq!((owned.path_and_query(), owned.header("Host")), ("/", Some("h:8080")));
    }

    #[test]
    fn method_parses_case_insensitively() {
        assert_eq!("get".parse::<Method>().unwrap(), Method::Get);
        assert_eq!("POST".parse::<Method>().unwrap(), Method::Post);
        assert!("PUT".parse::<Method>().is_err());
    }
}
