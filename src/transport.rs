//! How a signed request reaches the API: the [`Transport`] trait, and [`UreqTransport`].
//!
//! The client only ever hands a finished [`HttpRequest`] to a transport and gets plain
//! [`HttpResponse`] data back, so tests inject fakes and the signer never meets an HTTP client.
//!
//! [`UreqTransport`] (cargo feature `ureq`, on by default) keeps one `ureq::Agent`, so calls
//! reuse a kept-alive connection. Its timeouts are ureq's per-phase ones on purpose: ureq's
//! whole-call timeouts (`timeout_global`, `timeout_per_call`) make it resolve the host name on a
//! new thread for every call, which more than doubled the cost of a call on loopback.
//!
//! The proxy comes from the environment unless set: the first of `ALL_PROXY`, `all_proxy`,
//! `HTTPS_PROXY`, `https_proxy`, `HTTP_PROXY` and `http_proxy` that is set and not empty (ureq's
//! order), with the hosts `NO_PROXY` (or `no_proxy`) lists reached directly. A value the
//! transport cannot use (not a proxy URL, or a SOCKS proxy, which this build of ureq lacks)
//! fails [`UreqTransportBuilder::build`] naming the variable. Left to itself, ureq would skip a
//! malformed value, and pass a SOCKS one by, connecting directly either way.

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
pub use self::ureq_transport::{UreqTransport, UreqTransportBuilder};

#[cfg(feature = "ureq")]
mod ureq_transport {
    use std::fmt;
    use std::time::Duration;

    use super::Transport;
    use crate::env::{non_empty_var, Environment, SystemEnvironment};
    use crate::error::{Error, TransportKind};
    use crate::http::{HttpRequest, HttpResponse};

    /// The default limit on establishing a connection, TLS included.
    pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default limit on each stage of a call once connected.
    pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
    /// The default cap on a response body, 1 MiB.
    pub(crate) const DEFAULT_BODY_LIMIT: usize = 1 << 20;

    /// A [`Transport`] over one reused `ureq::Agent` (rustls, keep-alive).
    ///
    /// ```
    /// use std::time::Duration;
    /// use cvm_keypairs::UreqTransportBuilder;
    /// let transport = UreqTransportBuilder::default()
    ///     .connect_timeout(Duration::from_secs(5))
    ///     .timeout(Duration::from_secs(30))
    ///     .body_limit(256 * 1024)
    ///     .proxy(None)?
    ///     .build()?;
    /// assert!(format!("{transport:?}").contains("body_limit: 262144"));
    /// # Ok::<(), cvm_keypairs::Error>(())
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
        proxy: ProxyChoice,
    }

    #[derive(Clone)]
    enum ProxyChoice {
        // Read when the transport is built, so a bad variable is an error there.
        Environment,
        Direct,
        Given(ureq::Proxy),
    }

    /// The proxy variables, in the order ureq reads them.
    const PROXY_VARS: [&str; 6] =
        ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"];

    impl Default for UreqTransportBuilder {
        fn default() -> Self {
            UreqTransportBuilder {
                connect_timeout: DEFAULT_CONNECT_TIMEOUT,
                timeout: DEFAULT_TIMEOUT,
                body_limit: DEFAULT_BODY_LIMIT,
                proxy: ProxyChoice::Environment,
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

        /// Sends through this proxy (`http://` or `https://`, optionally with user and
        /// password) instead of the one the environment names, or with `None` connects
        /// directly, whatever the environment says.
        pub fn proxy(mut self, url: Option<&str>) -> Result<Self, Error> {
            self.proxy = match url {
                // The URL may hold a password: the error does not repeat it.
                Some(url) => ProxyChoice::Given(
                    usable_proxy(url, "")
                        .map_err(|why| Error::InvalidInput(format!("the proxy URL {why}")))?,
                ),
                None => ProxyChoice::Direct,
            };
            Ok(self)
        }

        /// The transport. Unless [`proxy`](Self::proxy) said otherwise, the proxy variables are
        /// read now (`ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`, each before its lower-case form,
        /// and `NO_PROXY`), and one the transport cannot use is an error naming it, never its
        /// value.
        pub fn build(self) -> Result<UreqTransport, Error> {
            self.build_in(&SystemEnvironment)
        }

        pub(crate) fn build_in(mut self, env: &dyn Environment) -> Result<UreqTransport, Error> {
            if let ProxyChoice::Environment = self.proxy {
                self.proxy = proxy_from_env(env)?.map_or(ProxyChoice::Direct, ProxyChoice::Given);
            }
            let proxy = match &self.proxy {
                ProxyChoice::Given(proxy) => Some(proxy.clone()),
                _ => None,
            };
            let direct = proxy.as_ref().map(|_| self.agent(None));
            Ok(UreqTransport { agent: self.agent(proxy), direct, settings: self })
        }

        fn agent(&self, proxy: Option<ureq::Proxy>) -> ureq::Agent {
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                // The API never redirects; following one could send the signed request elsewhere.
                .max_redirects(0)
                .max_redirects_will_error(false)
                .user_agent(crate::http::USER_AGENT)
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

    impl UreqTransport {
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

    /// The proxy the environment names, if any; an error names the variable that is unusable.
    fn proxy_from_env(env: &dyn Environment) -> Result<Option<ureq::Proxy>, Error> {
        // Only a non-Unicode value fails `non_empty_var`.
        let read = |name: &str| {
            non_empty_var(env, name).map_err(|_| Error::InvalidInput(format!("{name} is not valid Unicode")))
        };
        for name in PROXY_VARS {
            let Some(url) = read(name)? else { continue };
            let no_proxy = match read("NO_PROXY")? {
                Some(list) => Some(list),
                None => read("no_proxy")?,
            };
            let proxy = usable_proxy(&url, no_proxy.as_deref().unwrap_or_default())
                .map_err(|why| Error::InvalidInput(format!("{name} {why}; correct or unset it")))?;
            return Ok(Some(proxy));
        }
        Ok(None)
    }

    /// `url` as a proxy ureq can use, bypassed for the hosts in the comma-separated `no_proxy`;
    /// or why not, in words that never repeat the URL (it may hold a password).
    fn usable_proxy(url: &str, no_proxy: &str) -> Result<ureq::Proxy, &'static str> {
        const INVALID: &str = "is not a valid proxy URL";
        let parsed = ureq::Proxy::new(url).map_err(|_| INVALID)?;
        if !matches!(parsed.protocol(), ureq::ProxyProtocol::Http | ureq::ProxyProtocol::Https) {
            // ureq without its socks-proxy feature connects directly past an environment's SOCKS
            // proxy, and panics on a configured one.
            return Err(
                "names a SOCKS proxy, which this build cannot use (only http:// or https:// proxies)",
            );
        }
        // Only ureq's builder takes NO_PROXY entries; it percent-encodes user and password again.
        let mut builder = ureq::Proxy::builder(parsed.protocol()).host(parsed.host()).port(parsed.port());
        if let Some(user) = parsed.username() {
            builder = builder.username(user);
        }
        if let Some(password) = parsed.password() {
            builder = builder.password(password);
        }
        for host in no_proxy.split(',').map(str::trim).filter(|host| !host.is_empty()) {
            builder = builder.no_proxy(host);
        }
        builder.build().map_err(|_| INVALID)
    }

    fn is_loopback(url: &str) -> bool {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        crate::endpoint::Endpoint::parse_allowing_http(authority).is_ok_and(|e| e.is_loopback())
    }

    fn too_large(what: &str, limit: usize) -> Error {
        let message = format!("{what} exceeds the cap of {limit} bytes");
        Error::transport(TransportKind::BodyTooLarge, message, None)
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
        Error::transport(kind, e.to_string(), Some(Box::new(e)))
    }

    impl fmt::Debug for UreqTransportBuilder {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            // Only where the proxy is: its URL may hold a password.
            let proxy = match &self.proxy {
                ProxyChoice::Environment => "from the environment".to_owned(),
                ProxyChoice::Direct => "none".to_owned(),
                ProxyChoice::Given(p) => format!("{}:{}", p.host(), p.port()),
            };
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

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::credentials::fakes::FakeEnv;

        const PASSWORD: &str = "pw-Secret42";

        /// The proxy a transport built in `env` uses, as `host:port`, or why it cannot be built.
        fn proxy_in(env: &FakeEnv) -> Result<Option<String>, String> {
            match UreqTransportBuilder::default().build_in(env) {
                Ok(t) => Ok(match t.settings.proxy {
                    ProxyChoice::Given(p) => Some(format!("{}:{}", p.host(), p.port())),
                    _ => None,
                }),
                Err(e) => Err(e.to_string()),
            }
        }

        #[test]
        fn the_first_proxy_variable_set_and_not_empty_is_used_in_ureqs_order() {
            assert_eq!(proxy_in(&FakeEnv::default()), Ok(None));
            let env = FakeEnv::with_vars(&[
                ("ALL_PROXY", ""),
                ("HTTPS_PROXY", "http://127.0.0.1:3128"),
                ("HTTP_PROXY", "http://127.0.0.1:8080"),
            ]);
            assert_eq!(proxy_in(&env).unwrap().as_deref(), Some("127.0.0.1:3128"));
            let lower = env.var_set("all_proxy", "https://127.0.0.1:4443");
            assert_eq!(proxy_in(&lower).unwrap().as_deref(), Some("127.0.0.1:4443"));
            let bare = FakeEnv::with_vars(&[("http_proxy", "127.0.0.1:9")]);
            assert_eq!(proxy_in(&bare).unwrap().as_deref(), Some("127.0.0.1:9"), "no scheme means http");
            // What comes after the one used is not read.
            let later =
                FakeEnv::with_vars(&[("HTTPS_PROXY", "http://127.0.0.1:3128"), ("HTTP_PROXY", "socks5://x")]);
            assert_eq!(proxy_in(&later).unwrap().as_deref(), Some("127.0.0.1:3128"));
        }

        #[test]
        fn an_unusable_proxy_variable_is_an_error_naming_it_never_its_value() {
            let values = [
                format!("socks5://user:{PASSWORD}@127.0.0.1:1080"),
                format!("socks5h://user:{PASSWORD}@127.0.0.1:1080"),
                format!("socks://user:{PASSWORD}@127.0.0.1:1080"),
                format!("socks4://user:{PASSWORD}@127.0.0.1:1080"),
                format!("ftp://user:{PASSWORD}@127.0.0.1:21"),
                format!("http://user:{PASSWORD}@[::1"),
            ];
            for name in PROXY_VARS {
                for value in &values {
                    let err = proxy_in(&FakeEnv::with_vars(&[(name, value)])).unwrap_err();
                    assert!(err.starts_with(&format!("invalid input: {name} ")), "{value}: {err}");
                    assert!(!err.contains(PASSWORD) && !err.contains("127.0.0.1"), "{err}");
                }
                let err = proxy_in(&FakeEnv::default().non_unicode(name)).unwrap_err();
                assert_eq!(err, format!("invalid input: {name} is not valid Unicode"));
            }
            let socks =
                proxy_in(&FakeEnv::with_vars(&[("HTTPS_PROXY", "socks5://127.0.0.1:1")])).unwrap_err();
            assert_eq!(
                socks,
                "invalid input: HTTPS_PROXY names a SOCKS proxy, which this build cannot use \
                 (only http:// or https:// proxies); correct or unset it"
            );
        }

        #[test]
        fn an_explicit_choice_ignores_the_environment_and_refuses_socks() {
            let bad = FakeEnv::with_vars(&[("HTTPS_PROXY", "socks5://127.0.0.1:1")]);
            assert!(UreqTransportBuilder::default().proxy(None).unwrap().build_in(&bad).is_ok());
            let given = UreqTransportBuilder::default()
                .proxy(Some("http://127.0.0.1:3128"))
                .unwrap()
                .build_in(&bad)
                .unwrap();
            assert!(format!("{given:?}").contains("proxy: \"127.0.0.1:3128\""), "{given:?}");
            let err = UreqTransportBuilder::default()
                .proxy(Some(&format!("socks5://u:{PASSWORD}@127.0.0.1:1")))
                .unwrap_err();
            assert!(err.to_string().starts_with("invalid input: the proxy URL names a SOCKS proxy"), "{err}");
            assert!(
                format!("{:?}", UreqTransportBuilder::default()).contains("proxy: \"from the environment\"")
            );
        }

        #[test]
        fn no_proxy_hosts_bypass_the_proxy_and_credentials_survive() {
            let uri = |url: &str| url.parse::<ureq::http::Uri>().unwrap();
            for name in ["NO_PROXY", "no_proxy"] {
                let env = FakeEnv::with_vars(&[
                    ("HTTPS_PROXY", &format!("http://user:{PASSWORD}@127.0.0.1:3128")),
                    (name, "example.com, .internal,,"),
                ]);
                let proxy = proxy_from_env(&env).unwrap().unwrap();
                assert_eq!((proxy.username(), proxy.password()), (Some("user"), Some(PASSWORD)));
                assert!(proxy.is_no_proxy(&uri("https://example.com/")), "{name}");
                assert!(proxy.is_no_proxy(&uri("https://kms.internal/")), "{name}");
                assert!(!proxy.is_no_proxy(&uri("https://cvm.tencentcloudapi.com/")), "{name}");
            }
            let none = FakeEnv::with_vars(&[("HTTPS_PROXY", "http://127.0.0.1:3128")]);
            assert!(!proxy_from_env(&none).unwrap().unwrap().is_no_proxy(&uri("https://example.com/")));
        }
    }
}
