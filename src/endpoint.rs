//! Where requests go: scheme, host and port, parsed once.
//!
//! The `Host` header is signed, so the authority is normalised here (default ports dropped,
//! host lower-cased) and used verbatim for both the signature and the connection. Plain
//! `http://` would send the signed request and session token in clear text, so it is allowed
//! only for loopback hosts unless the caller opts in (`ClientBuilder::allow_insecure_http`,
//! [`Endpoint::parse_allowing_http`]).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::error::Error;

/// The default endpoint.
pub(crate) const DEFAULT_HOST: &str = "cvm.tencentcloudapi.com";

/// `https` or `http`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// TLS; the default.
    Https,
    /// Clear text: loopback, or with an explicit opt-in.
    Http,
}

impl Scheme {
    fn default_port(self) -> u16 {
        match self {
            Scheme::Https => 443,
            Scheme::Http => 80,
        }
    }

    /// `https` or `http`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }
}

/// A parsed API endpoint.
///
/// ```
/// use cvm_keypairs::Endpoint;
/// let regional: Endpoint = "https://cvm.ap-guangzhou.tencentcloudapi.com".parse()?;
/// assert!(Endpoint::parse("cvm.intl.tencentcloudapi.com:443").is_ok());
/// assert!(Endpoint::parse("http://example.com").is_err(), "clear text only on loopback");
/// assert!(Endpoint::parse("http://127.0.0.1:9000").is_ok());
/// # Ok::<(), cvm_keypairs::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    scheme: Scheme,
    host: String,
    port: u16,
    authority: String,
    base_url: String,
}

impl Default for Endpoint {
    fn default() -> Self {
        Self::https(DEFAULT_HOST)
    }
}

impl Endpoint {
    fn https(host: &str) -> Self {
        Self::new(Scheme::Https, host.to_owned(), 443)
    }

    /// Parses `host`, `host:port`, `https://host[:port][/]` or, for loopback hosts only,
    /// `http://host[:port][/]`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let e = Self::parse_allowing_http(s)?;
        if e.scheme == Scheme::Http && !e.is_loopback() {
            return Err(Error::InvalidInput(format!(
                "{s:?}: plain http would send credentials in clear text; use https or a loopback host \
                 (ClientBuilder::allow_insecure_http or Endpoint::parse_allowing_http accept any host)"
            )));
        }
        Ok(e)
    }

    /// Like [`Endpoint::parse`], but accepts `http://` for any host. This sends the signed
    /// request and any session token in clear text.
    pub(crate) fn parse_allowing_http(s: &str) -> Result<Self, Error> {
        let bad = |why: &str| Err(Error::InvalidInput(format!("endpoint {s:?}: {why}")));
        let (scheme, rest) = match s.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => (Scheme::Https, rest),
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => (Scheme::Http, rest),
            Some(_) => return bad("the scheme must be https or http"),
            None => (Scheme::Https, s),
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() {
            return bad("no host");
        }
        if authority.contains(['/', '?', '#', '@']) {
            return bad("give only scheme, host and port (no path, query or user)");
        }
        let (host, port) = match authority.rfind(':') {
            // An IPv6 literal has colons inside its brackets; only one after `]` is a port.
            Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
            _ => (authority, None),
        };
        let port = match port {
            None => scheme.default_port(),
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n != 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return bad("the port must be a number from 1 to 65535"),
            },
        };
        let host = host.to_ascii_lowercase();
        let valid_name = !host.is_empty()
            && host.split('.').all(|l| {
                !l.is_empty()
                    && !l.starts_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        let valid_ipv6 = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .is_some_and(|h| h.parse::<std::net::Ipv6Addr>().is_ok());
        if !valid_name && !valid_ipv6 {
            return bad("the host must be a DNS name, an IPv4 address or a bracketed IPv6 address");
        }
        Ok(Self::new(scheme, host, port))
    }

    fn new(scheme: Scheme, host: String, port: u16) -> Self {
        let authority = if port == scheme.default_port() { host.clone() } else { format!("{host}:{port}") };
        let base_url = format!("{}://{authority}/", scheme.as_str());
        Endpoint { scheme, host, port, authority, base_url }
    }

    /// `https` or `http`.
    #[cfg(test)]
    fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The `Host` header value: the host, and `:port` when it is not the scheme's default.
    pub(crate) fn authority(&self) -> &str {
        &self.authority
    }

    /// `scheme://authority/`.
    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Whether the host is `localhost`, in 127.0.0.0/8, or `::1`.
    pub(crate) fn is_loopback(&self) -> bool {
        let bare = self.host.trim_start_matches('[').trim_end_matches(']');
        self.host == "localhost" || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

impl FromStr for Endpoint {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.authority)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_hosts_ports_and_urls() {
        let cases = [
            ("cvm.tencentcloudapi.com", "https://cvm.tencentcloudapi.com/", "cvm.tencentcloudapi.com"),
            (
                "CVM.intl.TencentCloudAPI.com",
                "https://cvm.intl.tencentcloudapi.com/",
                "cvm.intl.tencentcloudapi.com",
            ),
            ("https://h.example:443/", "https://h.example/", "h.example"),
            ("h.example:8443", "https://h.example:8443/", "h.example:8443"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/", "127.0.0.1:8080"),
            ("http://localhost", "http://localhost/", "localhost"),
            ("http://[::1]:9000/", "http://[::1]:9000/", "[::1]:9000"),
            ("http://127.9.9.9:80", "http://127.9.9.9/", "127.9.9.9"),
        ];
        for (input, url, authority) in cases {
            let e = Endpoint::parse(input).unwrap();
            assert_eq!((e.base_url(), e.authority()), (url, authority), "{input}");
        }
        assert_eq!(Endpoint::default().authority(), DEFAULT_HOST);
    }

    #[test]
    fn plain_http_needs_loopback_or_opt_in() {
        for remote in ["http://cvm.tencentcloudapi.com", "http://10.0.0.1:8080", "http://128.0.0.1"] {
            let err = Endpoint::parse(remote).unwrap_err();
            assert!(err.to_string().contains("clear text"), "{err}");
            assert!(
                err.to_string().contains("ClientBuilder::allow_insecure_http"),
                "an opt-in that exists: {err}"
            );
            assert_eq!(Endpoint::parse_allowing_http(remote).unwrap().scheme(), Scheme::Http);
        }
    }

    #[test]
    fn rejects_malformed_endpoints() {
        for bad in [
            "",
            "https://",
            "ftp://h",
            "h/path",
            "https://h/?q",
            "user@h",
            "h:0",
            "h:70000",
            "h:",
            "h:x",
            "h h",
            "h:+80",
            "[::1",
            "[zz]:80",
            "-h.example",
            "h..example",
            "http://[::2]:80x",
        ] {
            assert!(matches!(Endpoint::parse_allowing_http(bad), Err(Error::InvalidInput(_))), "{bad:?}");
        }
    }
}
