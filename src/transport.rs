//! How a signed request reaches the API: the [`Transport`] trait, and [`UreqTransport`].
//!
//! The client only ever hands a finished [`HttpRequest`] to a transport and gets plain
//! [`HttpResponse`] data back, so tests inject fakes and the signer never meets an HTTP client.
//!
//! [`UreqTransport`] (cargo feature `ureq`, on by default) keeps one `ureq::Agent`, so calls
//! reuse a kept-alive connection. Its timeouts are ureq's per-phase ones on purpose: ureq's
//! whole-call timeouts (`timeout_global`, `timeout_per_call`) make it resolve the host name on a
//! new thread for every call, which more than doubled the cost of a call on loopback.

use crate::error::Error;
use crate::http::{HttpRequest, HttpResponse};

/// Sends one fully signed request and returns what came back.
///
/// An implementation sends the method, URL, headers and body bytes exactly as given (the
/// `Host` header among them, which is signed), and returns the status, headers and body as
/// received. An HTTP error status is a response, not an error: the API puts its errors in the
/// body. Failures below HTTP (connect, TLS, timeout, I/O, a body over a size cap) are
/// [`Error::Transport`].
///
/// The request may borrow from the configuration it was built with; a fake that records what
/// it was sent keeps [`HttpRequest::into_owned`] copies.
pub trait Transport: Send + Sync {
    /// Sends `request` exactly as given (URL, headers, body bytes).
    fn send(&self, request: &HttpRequest<'_>) -> Result<HttpResponse, Error>;
}

/// Any function from a request to a response is a transport: handy for tests and fakes.
impl<F> Transport for F
where
    F: Fn(&HttpRequest<'_>) -> Result<HttpResponse, Error> + Send + Sync,
{
    fn send(&self, request: &HttpRequest<'_>) -> Result<HttpResponse, Error> {
        self(request)
    }
}

#[cfg(feature = "ureq")]
pub use self::ureq_transport::{
    UreqTransport, UreqTransportBuilder, DEFAULT_BODY_LIMIT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT,
};

#[cfg(feature = "ureq")]
mod ureq_transport {
    use std::fmt;
    use std::time::Duration;

    use super::Transport;
    use crate::error::{Error, TransportKind};
    use crate::http::{HttpRequest, HttpResponse};

    /// The default limit on establishing a connection, TLS included.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default limit on each stage of a call once connected.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
    /// The default cap on a response body, 1 MiB.
    pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

    /// A [`Transport`] over one reused `ureq::Agent` (rustls, keep-alive).
    ///
    /// ```
    /// use std::time::Duration;
    /// use cvm_keypairs::UreqTransport;
    /// let transport = UreqTransport::builder()
    ///     .connect_timeout(Duration::from_secs(5))
    ///     .timeout(Duration::from_secs(30))
    ///     .body_limit(256 * 1024)
    ///     .no_proxy()
    ///     .build();
    /// assert!(format!("{transport:?}").contains("body_limit: 262144"));
    /// ```
    pub struct UreqTransport {
        agent: ureq::Agent,
        // Loopback requests never go through a proxy: a proxy would carry the clear-text http
        // that the loopback rule allows only because it never leaves the machine.
        direct: Option<ureq::Agent>,
        settings: UreqTransportBuilder,
    }

    /// Settings of a [`UreqTransport`].
    #[derive(Clone)]
    pub struct UreqTransportBuilder {
        connect_timeout: Duration,
        timeout: Duration,
        body_limit: usize,
        proxy: Option<ureq::Proxy>,
    }

    impl Default for UreqTransportBuilder {
        fn default() -> Self {
            UreqTransportBuilder {
                connect_timeout: DEFAULT_CONNECT_TIMEOUT,
                timeout: DEFAULT_TIMEOUT,
                body_limit: DEFAULT_BODY_LIMIT,
                proxy: ureq::Proxy::try_from_env(),
            }
        }
    }

    impl UreqTransportBuilder {
        /// The limit on establishing a connection: name resolution excluded, TCP connect and
        /// TLS handshake included. Default 10 s.
        pub fn connect_timeout(mut self, timeout: Duration) -> Self {
            self.connect_timeout = timeout;
            self
        }

        /// The limit on each stage of a call once connected: sending the request, waiting for
        /// the response headers, and receiving the body are each bounded by it. A server that
        /// never answers is given up on after this long; one that sends its headers just in
        /// time and then trickles the body can take up to about twice as long, plus the
        /// connect timeout. Default 60 s, as the official SDKs.
        ///
        /// Why not one deadline for the whole call: ureq's whole-call timeout re-arms socket
        /// timeouts around every read and write and resolves the host on a new thread each
        /// call, which more than doubled the cost of a call on loopback.
        pub fn timeout(mut self, timeout: Duration) -> Self {
            self.timeout = timeout;
            self
        }

        /// The largest response body accepted, in bytes; a larger one is an error with
        /// [`TransportKind::BodyTooLarge`] and is never held in memory. Default 1 MiB.
        pub fn body_limit(mut self, bytes: usize) -> Self {
            self.body_limit = bytes;
            self
        }

        /// Sends through this proxy (`http://`, `socks5://`, …, optionally with user and
        /// password) instead of the one named by `HTTPS_PROXY`/`ALL_PROXY`/`HTTP_PROXY`.
        pub fn proxy(mut self, url: &str) -> Result<Self, Error> {
            // The URL may hold a password: the error does not repeat it.
            let proxy =
                ureq::Proxy::new(url).map_err(|_| Error::InvalidInput("the proxy URL is invalid".into()))?;
            self.proxy = Some(proxy);
            Ok(self)
        }

        /// Connects directly, whatever the environment says.
        pub fn no_proxy(mut self) -> Self {
            self.proxy = None;
            self
        }

        /// The transport.
        pub fn build(self) -> UreqTransport {
            let direct = self.proxy.as_ref().map(|_| self.agent(None));
            UreqTransport { agent: self.agent(self.proxy.clone()), direct, settings: self }
        }

        fn agent(&self, proxy: Option<ureq::Proxy>) -> ureq::Agent {
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                // The API never redirects; following one could send the signed request elsewhere.
                .max_redirects(0)
                .max_redirects_will_error(false)
                .user_agent(crate::request::USER_AGENT)
                .proxy(proxy)
                .timeout_connect(Some(self.connect_timeout))
                .timeout_send_request(Some(self.timeout))
                .timeout_send_body(Some(self.timeout))
                .timeout_recv_response(Some(self.timeout))
                .timeout_recv_body(Some(self.timeout))
                .build()
                .new_agent()
        }
    }

    impl Default for UreqTransport {
        fn default() -> Self {
            Self::new()
        }
    }

    impl UreqTransport {
        /// A transport with the default settings: connect timeout 10 s, stage timeout 60 s,
        /// body cap 1 MiB, proxy from the environment.
        pub fn new() -> Self {
            UreqTransportBuilder::default().build()
        }

        /// Settings to adjust before [`UreqTransportBuilder::build`].
        pub fn builder() -> UreqTransportBuilder {
            UreqTransportBuilder::default()
        }

        fn receive(&self, response: ureq::http::Response<ureq::Body>) -> Result<HttpResponse, Error> {
            let (parts, body) = response.into_parts();
            let limit = self.settings.body_limit;
            if let Some(length) = body.content_length().filter(|&n| n > limit as u64) {
                return Err(too_large(&format!("the response body of {length} bytes"), limit));
            }
            let body = body.into_with_config().limit(limit as u64).read_to_vec().map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => too_large("the response body", limit),
                e => transport_error(e),
            })?;
            let headers = parts
                .headers
                .iter()
                .map(|(name, value)| {
                    (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned())
                })
                .collect();
            Ok(HttpResponse { status: parts.status.as_u16(), headers, body })
        }
    }

    impl Transport for UreqTransport {
        fn send(&self, request: &HttpRequest<'_>) -> Result<HttpResponse, Error> {
            let mut builder =
                ureq::http::Request::builder().method(request.method.as_str()).uri(request.url.as_ref());
            // The signed Host goes as given; ureq adds its own only when none is set.
            for (name, value) in &request.headers {
                builder = builder.header(*name, value.as_ref());
            }
            let built =
                |e: ureq::http::Error| Error::InvalidInput(format!("the request cannot be sent: {e}"));
            let agent = match &self.direct {
                Some(direct) if is_loopback(&request.url) => direct,
                _ => &self.agent,
            };
            let response = if request.body.is_empty() {
                agent.run(builder.body(()).map_err(built)?)
            } else {
                agent.run(builder.body(request.body.as_slice()).map_err(built)?)
            };
            self.receive(response.map_err(transport_error)?)
        }
    }

    fn is_loopback(url: &str) -> bool {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        crate::endpoint::Endpoint::parse_allowing_http(authority).is_ok_and(|e| e.is_loopback())
    }

    fn too_large(what: &str, limit: usize) -> Error {
        let message = format!("{what} exceeds the cap of {limit} bytes");
        Error::Transport { kind: TransportKind::BodyTooLarge, message }
    }

    fn transport_error(e: ureq::Error) -> Error {
        use std::io::ErrorKind as Io;
        let kind = match &e {
            ureq::Error::Timeout(_) => TransportKind::Timeout,
            ureq::Error::HostNotFound
            | ureq::Error::ConnectionFailed
            | ureq::Error::ConnectProxyFailed(_)
            | ureq::Error::InvalidProxyUrl => TransportKind::Connect,
            ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) | ureq::Error::TlsRequired => {
                TransportKind::Tls
            }
            ureq::Error::Io(io) => match io.kind() {
                Io::ConnectionRefused
                | Io::AddrNotAvailable
                | Io::NetworkUnreachable
                | Io::HostUnreachable => TransportKind::Connect,
                Io::TimedOut | Io::WouldBlock => TransportKind::Timeout,
                // rustls reports handshake, certificate and record failures this way.
                Io::InvalidData => TransportKind::Tls,
                _ => TransportKind::Io,
            },
            ureq::Error::Protocol(_) => TransportKind::Io,
            _ => TransportKind::Other,
        };
        Error::Transport { kind, message: e.to_string() }
    }

    impl fmt::Debug for UreqTransportBuilder {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            // Only where the proxy is: its URL may hold a password.
            let proxy = self.proxy.as_ref().map(|p| format!("{}:{}", p.host(), p.port()));
            f.debug_struct("UreqTransportBuilder")
                .field("connect_timeout", &self.connect_timeout)
                .field("timeout", &self.timeout)
                .field("body_limit", &self.body_limit)
                .field("proxy", &proxy)
                .finish()
        }
    }

    impl fmt::Debug for UreqTransport {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_tuple("UreqTransport").field(&self.settings).finish()
        }
    }
}
