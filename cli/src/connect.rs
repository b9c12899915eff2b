//! The options every API command shares (region, endpoint, method, credentials, timeouts,
//! retries, pacing), the [`Client`] they make, and how a failed call maps to an exit code.
//!
//! `delete`, `describe` and `demo` all go through [`Connection::client`] or
//! [`Connection::client_with`], so the demo exercises exactly the client the real commands use.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use cvm_keypairs::credentials::{region_from_env, ProfileProvider};
use cvm_keypairs::endpoint::Scheme;
use cvm_keypairs::retry::RetryPolicy;
use cvm_keypairs::{
    Client, Endpoint, Error, ErrorCode, FailureCode, Language, Method, ProvideCredentials, SystemEnvironment,
    TransportKind, UreqTransport,
};

use crate::args::{Args, UsageError};
use crate::exit;
use crate::output::for_people;

/// The help lines of the shared options, for each command's help text.
pub const OPTIONS_HELP: &str = "\
Connection options:
  --region <REGION>          Region, e.g. ap-guangzhou [default: $TENCENTCLOUD_REGION];
                             required: none, or an empty one, is an error (exit 3)
  --endpoint <ENDPOINT>      HOST[:PORT] or URL; plain http:// only on a loopback host
                             [default: cvm.tencentcloudapi.com]
  --method <METHOD>          GET (query) or POST (JSON body) [default: POST]
  --language <LANG>          Language of API error messages: zh-CN or en-US
  --profile <NAME>           Use only profile NAME of ~/.tencentcloud/credentials (or of
                             $TENCENTCLOUD_CREDENTIALS_FILE); without it credentials come from
                             TENCENTCLOUD_SECRET_ID/_KEY/_TOKEN, then profile
                             $TENCENTCLOUD_PROFILE or `default`, then the CVM instance role.
                             The file must be a regular file; one readable by group or
                             others is used with a warning (chmod 600 it)
  --timeout <SECS>           Give up on a request after SECS of silence while sending it,
                             waiting for its answer or receiving it (more than 0, at most
                             3600; connecting: at most 10 s) [default: 60]
  --max-retries <N>          Retries of a request after a transient failure (network, HTTP
                             5xx, internal error), 0 to 100; throttling (RequestLimitExceeded)
                             has its own budget of 10 [default: 2]
  --rate-limit <N>           Requests per second per action sent at most [default: 10]

Proxy: the first of ALL_PROXY, HTTPS_PROXY and HTTP_PROXY (each before its lower-case form)
that is set and not empty, except for the hosts in NO_PROXY and loopback. Only http:// and
https:// proxies work: any other value (e.g. socks5://) is an error naming the variable
(exit 3), never a direct connection.
";

/// What `delete --help` and `describe --help` say after the options: how text from outside is
/// shown, and the clock-skew correction.
pub const NOTES_HELP: &str = "
Text from the API and from key pairs (codes, messages, RequestIds, names) is printed for
people with control and bidirectional-formatting characters escaped as \\u{1b} and the like,
so a server cannot drive the terminal or forge a line; JSON output keeps the exact text.

Clock skew is corrected once per request: when the API refuses a request with
AuthFailure.SignatureExpire (its timestamp more than 5 minutes from the server's clock), the
server's time is taken from that answer's Date header, the request is signed again and sent
once more, and later requests use the corrected clock. Exit 3 still happens when such an
answer has no Date header, or the re-signed request is refused again (e.g. the clock jumped).
";

/// The connection options as given on the command line.
#[derive(Debug, Default)]
pub struct Connection {
    region: Option<String>,
    endpoint: Option<String>,
    method: Option<Method>,
    language: Option<Language>,
    profile: Option<String>,
    timeout: Option<Duration>,
    max_retries: Option<u32>,
    rate_limit: Option<usize>,
}

impl Connection {
    /// Takes option `name` (and its value) if it is a connection option; `Ok(false)` if not.
    pub fn take(&mut self, name: &str, args: &mut Args) -> Result<bool, UsageError> {
        match name {
            "region" => self.region = Some(args.value(name)?),
            "endpoint" => self.endpoint = Some(args.value(name)?),
            "method" => self.method = Some(args.parsed(name, "GET or POST")?),
            "language" => self.language = Some(args.parsed(name, "zh-CN or en-US")?),
            "profile" => self.profile = Some(args.value(name)?),
            "timeout" => {
                let secs: f64 = args.parsed(name, "a number of seconds")?;
                if !(secs > 0.0 && secs <= 3600.0) {
                    return Err(UsageError(format!(
                        "--timeout takes more than 0 and at most 3600 seconds, not {secs}"
                    )));
                }
                self.timeout = Some(Duration::from_secs_f64(secs));
            }
            "max-retries" => {
                let n: u32 = args.parsed(name, "a whole number of retries")?;
                if n > 100 {
                    return Err(UsageError(format!("--max-retries takes 0 to 100, not {n}")));
                }
                self.max_retries = Some(n);
            }
            "rate-limit" => {
                let n: usize = args.parsed(name, "a whole number of requests per second")?;
                if n == 0 {
                    return Err(UsageError("--rate-limit takes at least 1".into()));
                }
                self.rate_limit = Some(n);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Options for `endpoint` with `method`, everything else at its default.
    pub fn to_endpoint(endpoint: String, method: Method) -> Self {
        Connection { endpoint: Some(endpoint), method: Some(method), ..Connection::default() }
    }

    /// The client for these options: credentials from `--profile`, else the default chain
    /// (environment, profile file, instance role); a region is required.
    pub fn client(&self) -> Result<Client, Error> {
        let region = match &self.region {
            Some(region) => region.clone(),
            None => region_from_env(&SystemEnvironment)?.ok_or_else(|| {
                Error::InvalidInput("no region: give --region or set TENCENTCLOUD_REGION".into())
            })?,
        };
        let credentials: Option<Arc<dyn ProvideCredentials>> = self.profile.as_ref().map(|name| {
            Arc::new(ProfileProvider::with_profile(Arc::new(SystemEnvironment), name.clone())) as _
        });
        self.client_with(credentials, &region)
    }

    /// How long one stage of a request may take: `--timeout`, or the transport's default.
    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(cvm_keypairs::transport::DEFAULT_TIMEOUT)
    }

    /// The client for these options with `credentials` (`None`: the default chain) and `region`.
    pub fn client_with(
        &self,
        credentials: Option<Arc<dyn ProvideCredentials>>,
        region: &str,
    ) -> Result<Client, Error> {
        let mut transport = UreqTransport::builder();
        if let Some(timeout) = self.timeout {
            transport = transport.timeout(timeout).connect_timeout(timeout.min(Duration::from_secs(10)));
        }
        let mut builder = Client::builder()
            .region(region)
            .method(self.method.unwrap_or_default())
            .transport(Arc::new(transport.build()?));
        if let Some(credentials) = credentials {
            builder = builder.credentials_provider(credentials);
        }
        if let Some(text) = &self.endpoint {
            let endpoint = Endpoint::parse_allowing_http(text)?;
            if endpoint.scheme() == Scheme::Http && !endpoint.is_loopback() {
                return Err(Error::InvalidEndpoint(format!(
                    "{text:?}: plain http would send the signed request in clear text, so the command \
                     line allows http:// only for a loopback host (localhost, 127.0.0.0/8, ::1); use https"
                )));
            }
            builder = builder.parsed_endpoint(endpoint);
        }
        if let Some(language) = self.language {
            builder = builder.language(language);
        }
        let mut retry = RetryPolicy::with_max_attempts(self.max_retries.map_or(3, |retries| retries + 1));
        // A request is given at least its whole timeout before the run calls the endpoint dead.
        retry.give_up_after = retry.give_up_after.max(self.timeout());
        builder = builder.retry(retry);
        if let Some(per_second) = self.rate_limit {
            builder = builder.rate_limit(per_second);
        }
        builder.build()
    }
}

/// The exit code for a command that failed as a whole with `error`.
///
/// Malformed input is 2; credentials, authentication and configuration (endpoint, region,
/// other settings) are 3; no valid API answer at all (network, timeout, gateway page, garbled
/// body) is 4; any other API error is 1.
pub fn exit_code(error: &Error) -> u8 {
    match error {
        Error::InvalidKeyId(_)
        | Error::InvalidKeyIds(_)
        | Error::KeyIdCount(_)
        | Error::InvalidTimestamp(_) => exit::USAGE,
        Error::Transport { .. } | Error::Http { .. } | Error::Decode { .. } => exit::NETWORK,
        Error::Api { code, .. } if code.is_auth() || is_config_code(code) => exit::CONFIG,
        Error::Api { .. } => exit::FAILED,
        _ => exit::CONFIG,
    }
}

/// API codes saying the request's settings, not its key pairs, are wrong.
fn is_config_code(code: &ErrorCode) -> bool {
    matches!(
        code.as_str(),
        "InvalidRegion" | "UnsupportedRegion" | "InvalidAction" | "NoSuchVersion" | "UnsupportedOperation"
    )
}

/// The `code` of the `--json` error object for `error`: the API's code, `HTTP<status>`,
/// `Transport.<kind>` or `DecodeError` when a request was answered or tried, else what was
/// wrong before sending.
pub fn error_code(error: &Error) -> Cow<'_, str> {
    match error {
        Error::InvalidKeyId(_) | Error::InvalidKeyIds(_) => "InvalidKeyIds".into(),
        Error::KeyIdCount(_) => "KeyIdCount".into(),
        Error::InvalidTimestamp(_) => "InvalidTimestamp".into(),
        Error::InvalidEndpoint(_) => "InvalidEndpoint".into(),
        Error::InvalidInput(_) => "InvalidInput".into(),
        Error::Credentials(_) => "Credentials".into(),
        Error::NoCredentials(_) => "NoCredentials".into(),
        other => other.code_text().into(),
    }
}

/// Prints why a command failed (with the API's code and RequestId when there are some, and a
/// hint when the code suggests one).
pub fn report_error(error: &Error) {
    eprintln!("error: {}", for_people(&error.to_string()));
    if exit_code(error) == exit::USAGE {
        eprintln!("Nothing was sent.");
    }
    if let Some(hint) = hint(&FailureCode::of(error)) {
        eprintln!("hint: {hint}");
    }
}

/// What to do about a failure with `code` (an [`Error::code_text`]), when there is something.
pub fn hint(code: &FailureCode) -> Option<&'static str> {
    match code {
        FailureCode::Api(ErrorCode::AuthFailureSignatureExpire) => Some(
            "the signature's timestamp is too far from the server's clock, even after correcting the \
             clock once from the server's Date header; check this machine's clock",
        ),
        FailureCode::Transport(TransportKind::Tls) => Some(
            "the TLS handshake failed; if the endpoint serves plain http (as `cvm-keypairs emulate` \
             does), give it as http://HOST:PORT, which is allowed only for a loopback host",
        ),
        code if code.is_auth() => Some("check the secret id and key (and token) the credentials chain found"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: &str) -> Error {
        Error::Api {
            status: 200,
            code: code.parse().unwrap(),
            message: "m".into(),
            request_id: None,
            server_time: None,
        }
    }

    #[test]
    fn whole_run_failures_map_to_the_documented_exit_codes() {
        let http = Error::Http { status: 502, snippet: "<html>".into(), request_id: None };
        let transport = Error::Transport { kind: TransportKind::Timeout, message: "slow".into() };
        for (error, code) in [
            (Error::InvalidKeyIds(vec![]), exit::USAGE),
            (Error::InvalidTimestamp(-1), exit::USAGE),
            (Error::NoCredentials(vec![]), exit::CONFIG),
            (Error::Credentials("profile".into()), exit::CONFIG),
            (Error::InvalidEndpoint("x".into()), exit::CONFIG),
            (api("AuthFailure.SignatureFailure"), exit::CONFIG),
            (api("UnauthorizedOperation"), exit::CONFIG),
            (api("InvalidRegion"), exit::CONFIG),
            (transport, exit::NETWORK),
            (http, exit::NETWORK),
            (api("InternalError"), exit::FAILED),
        ] {
            assert_eq!(exit_code(&error), code, "{error:?}");
        }
    }

    #[test]
    fn json_codes_name_what_was_wrong_before_sending_and_keep_the_api_s() {
        let transport = Error::Transport { kind: TransportKind::Tls, message: "x".into() };
        for (error, code) in [
            (Error::InvalidKeyIds(vec![]), "InvalidKeyIds"),
            (Error::InvalidEndpoint("x".into()), "InvalidEndpoint"),
            (Error::NoCredentials(vec![]), "NoCredentials"),
            (api("Some.NewCode"), "Some.NewCode"),
            (transport, "Transport.Tls"),
        ] {
            assert_eq!(error_code(&error), code);
        }
        assert!(
            hint(&FailureCode::Transport(TransportKind::Tls)).is_some_and(|h| h.contains("http://HOST:PORT"))
        );
        let auth = FailureCode::Api(ErrorCode::AuthFailureSecretIdNotFound);
        assert!(hint(&auth).is_some_and(|h| h.contains("secret id")));
        assert!(hint(&FailureCode::Api(ErrorCode::InternalError)).is_none());
    }
}
