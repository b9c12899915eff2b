//! The options every API command shares (region, endpoint, method, credentials, timeouts,
//! retries, pacing), the [`Client`] they make, and how a failed call maps to an exit code.
//!
//! Every command that calls the API, and the demo, goes through [`Connection::client`] or
//! [`Connection::client_with`], so the demo exercises exactly the client the real commands use.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use cvm_keypairs::{
    Client, Endpoint, Error, ErrorCode, FailureCode, Language, Method, ProvideCredentials, RetryPolicy,
    TransportKind, UreqTransportBuilder,
};

use crate::args::{Args, UsageError};
use crate::exit;
use crate::output::for_people;

/// The help lines of the shared options, for each command's help text.
pub const OPTIONS_HELP: &str = "\
Connection options:
  --region <REGION>          Region, e.g. ap-guangzhou [default: $TENCENTCLOUD_REGION, else
                             the `region` of the profile's section (or of tccli's
                             <profile>.configure)]; required: none, or an empty one, is an
                             error (exit 3)
  --endpoint <ENDPOINT>      HOST[:PORT] or URL; plain http:// only on a loopback host
                             [default: cvm.tencentcloudapi.com]
  --method <METHOD>          GET (query) or POST (JSON body) [default: POST]
  --language <LANG>          Language of API error messages: zh-CN or en-US
  --profile <NAME>           Use only profile NAME of ~/.tencentcloud/credentials (or of
                             $TENCENTCLOUD_CREDENTIALS_FILE, /etc/tencentcloud/credentials,
                             tccli's ~/.tccli/NAME.credential), and the role its role_arn
                             names; without it the default chain (`cvm-keypairs credentials
                             --help` lists its order and says which source wins). The file
                             must be a regular file; one readable by group or others is used
                             with a warning (chmod 600 it)
  --sts-endpoint <ENDPOINT>  STS for assumed roles and web identities, as --endpoint
                             [default: $TENCENTCLOUD_STS_ENDPOINT, else sts.tencentcloudapi.com]
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
    sts_endpoint: Option<String>,
    timeout: Option<Duration>,
    max_retries: Option<u32>,
    rate_limit: Option<usize>,
    send_once: bool,
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
            "sts-endpoint" => self.sts_endpoint = Some(args.value(name)?),
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

    /// Makes the client send a request once, whatever `--max-retries` says, for the actions a
    /// repeat after a lost answer would get wrong (a name already taken, an operation in
    /// progress). A throttled answer is still waited out and the request sent again: the API
    /// gives it without doing anything.
    pub fn send_once(&mut self) {
        self.send_once = true;
    }

    /// Options for `endpoint` with `method`, everything else at its default.
    pub fn to_endpoint(endpoint: String, method: Method) -> Self {
        Connection { endpoint: Some(endpoint), method: Some(method), ..Connection::default() }
    }

    /// The client for these options: credentials from `--profile`, else the default chain;
    /// the region from `--region`, else as the library finds it (`TENCENTCLOUD_REGION`, the
    /// profile's), and one is required. When there is no client, says why (in JSON too with
    /// `json`) and returns the exit code.
    pub fn client(&self, json: bool) -> Result<Client, u8> {
        let refused = |code: &str, message: &str| crate::refuse_setting(code, message, json);
        if self.region.as_deref() == Some("") {
            return Err(refused("InvalidInput", "no region: the --region given is empty"));
        }
        for text in self.endpoint.iter().chain(&self.sts_endpoint) {
            check_endpoint(text).map_err(|why| refused("InvalidEndpoint", &why))?;
        }
        let client = self.client_with(None, self.region.as_deref()).map_err(|e| crate::fail(&e, json))?;
        if client.region().is_empty() {
            return Err(refused(
                "InvalidInput",
                "no region: give --region, set TENCENTCLOUD_REGION, or give the profile a region",
            ));
        }
        Ok(client)
    }

    /// How long one stage of a request may take: `--timeout`, or [`DEFAULT_TIMEOUT`].
    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    /// The client for these options with `credentials` (`None`: the default chain) and `region`
    /// (`None`: as the library finds it).
    pub fn client_with(
        &self,
        credentials: Option<Arc<dyn ProvideCredentials>>,
        region: Option<&str>,
    ) -> Result<Client, Error> {
        let timeout = self.timeout();
        let transport = UreqTransportBuilder::default()
            .timeout(timeout)
            .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
            .build()?;
        let mut builder =
            Client::builder().method(self.method.unwrap_or_default()).transport(Arc::new(transport));
        if let Some(region) = region {
            builder = builder.region(region);
        }
        if let Some(credentials) = credentials {
            builder = builder.credentials(credentials);
        }
        if let Some(name) = &self.profile {
            builder = builder.profile(name);
        }
        if let Some(endpoint) = &self.sts_endpoint {
            builder = builder.sts_endpoint(endpoint);
        }
        if let Some(endpoint) = &self.endpoint {
            builder = builder.endpoint(endpoint);
        }
        if let Some(language) = self.language {
            builder = builder.language(language);
        }
        let mut retry = RetryPolicy::default();
        retry.max_attempts = match (self.send_once, self.max_retries) {
            (true, _) => 1,
            (false, retries) => retries.map_or(retry.max_attempts, |retries| retries + 1),
        };
        // A request is given at least its whole timeout before the run calls the endpoint dead.
        retry.give_up_after = retry.give_up_after.max(timeout);
        builder = builder.retry(retry);
        if let Some(per_second) = self.rate_limit {
            builder = builder.rate_limit(per_second);
        }
        builder.build()
    }
}

/// How long one stage of a request may take without `--timeout` (as the official SDKs).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest a connection may take to open, whatever `--timeout` says.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the command line refuses `text` as an endpoint, if it does: what the library refuses,
/// phrased for the command line when plain http is the only problem.
fn check_endpoint(text: &str) -> Result<(), String> {
    let Err(refused) = Endpoint::parse(text) else { return Ok(()) };
    let plain = text.get(..7).is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"));
    if plain && Endpoint::parse(&format!("https://{}", &text[7..])).is_ok() {
        return Err(format!(
            "{text:?}: plain http would send the signed request in clear text, so the command line \
             allows http:// only for a loopback host (localhost, 127.0.0.0/8, ::1); use https"
        ));
    }
    Err(refused.to_string())
}

/// The exit code for a command that failed as a whole with `error`.
///
/// Malformed ids are 2 (the command line checks every other input before it reaches the
/// library); credentials, authentication and configuration (endpoint, region, other
/// settings) are 3; no valid API answer at all (network, timeout, gateway page, garbled body)
/// is 4; any other API error is 1.
pub fn exit_code(error: &Error) -> u8 {
    match error {
        Error::InvalidKeyIds { .. } => exit::USAGE,
        Error::Transport { .. } | Error::Http { .. } | Error::Decode { .. } => exit::NETWORK,
        Error::Api { code, .. } if error.is_auth() || is_config_code(code) => exit::CONFIG,
        Error::Api { .. } => exit::FAILED,
        _ => exit::CONFIG,
    }
}

/// Whether a request that failed with `error` may have taken effect all the same: it may have
/// reached the API, and no answer says what became of it.
pub fn may_have_taken_effect(error: &Error) -> bool {
    let never_sent =
        matches!(error, Error::Transport { kind: TransportKind::Connect | TransportKind::Tls, .. });
    exit_code(error) == exit::NETWORK && !never_sent
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
pub fn error_code(error: &Error) -> Cow<'static, str> {
    match error {
        Error::InvalidKeyIds { .. } => "InvalidKeyIds".into(),
        Error::InvalidInput { .. } => "InvalidInput".into(),
        // A source STS (or the metadata service) refused keeps the API's code.
        Error::Credentials { .. } => {
            error.code().map_or("Credentials".into(), |code| code.to_string().into())
        }
        Error::NoCredentials { .. } => "NoCredentials".into(),
        other => FailureCode::from(other).to_string().into(),
    }
}

/// Prints why a command failed (with the API's code and RequestId when there are some, and a
/// hint when the code suggests one).
pub fn report_error(error: &Error) {
    eprintln!("error: {}", for_people(&error.to_string()));
    if exit_code(error) == exit::USAGE {
        eprintln!("Nothing was sent.");
    }
    if let Some(hint) = hint(&FailureCode::from(error)) {
        eprintln!("hint: {hint}");
    }
}

/// What to do about a failure with `code`, when there is something.
pub fn hint(code: &FailureCode) -> Option<&'static str> {
    match code {
        FailureCode::Api(code) if *code == "AuthFailure.SignatureExpire" => Some(
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
    use cvm_keypairs::{CredentialsChain, KeyId};

    use super::*;
    use crate::fakes::{answered, api_error, unreachable_endpoint};

    #[test]
    fn whole_run_failures_map_to_the_documented_exit_codes() {
        let bad_id = Error::from("skey-bad".parse::<KeyId>().unwrap_err());
        let no_credentials = CredentialsChain::new(vec![]).credentials().unwrap_err();
        let endpoint = Endpoint::parse("http://example.com").unwrap_err();
        for (error, code) in [
            (bad_id, exit::USAGE),
            (no_credentials, exit::CONFIG),
            (endpoint, exit::CONFIG),
            (api_error("AuthFailure.SignatureFailure"), exit::CONFIG),
            (api_error("UnauthorizedOperation"), exit::CONFIG),
            (api_error("InvalidRegion"), exit::CONFIG),
            (unreachable_endpoint(), exit::NETWORK),
            (answered(502, "<html>"), exit::NETWORK),
            (answered(200, "{"), exit::NETWORK),
            (api_error("InternalError"), exit::FAILED),
        ] {
            assert_eq!(exit_code(&error), code, "{error:?}");
        }
    }

    #[test]
    fn json_codes_name_what_was_wrong_before_sending_and_keep_the_api_s() {
        for (error, code) in [
            (Error::from("x".parse::<KeyId>().unwrap_err()), "InvalidKeyIds"),
            (Endpoint::parse("ftp://x").unwrap_err(), "InvalidInput"),
            (CredentialsChain::new(vec![]).credentials().unwrap_err(), "NoCredentials"),
            (api_error("Some.NewCode"), "Some.NewCode"),
            (answered(502, "<html>"), "HTTP502"),
            (unreachable_endpoint(), "Transport.Connect"),
        ] {
            assert_eq!(error_code(&error), code);
        }
    }

    #[test]
    fn only_a_request_that_may_have_reached_the_api_and_got_no_answer_may_have_taken_effect() {
        assert!(may_have_taken_effect(&answered(502, "<html>")));
        assert!(may_have_taken_effect(&answered(200, "{")));
        assert!(!may_have_taken_effect(&unreachable_endpoint()), "never connected");
        assert!(!may_have_taken_effect(&api_error("InvalidKeyPairName.Duplicate")));
    }

    #[test]
    fn hints_follow_the_failure_code() {
        let code = |error: Error| FailureCode::from(&error);
        assert!(
            hint(&FailureCode::Transport(TransportKind::Tls)).is_some_and(|h| h.contains("http://HOST:PORT"))
        );
        assert!(
            hint(&code(api_error("AuthFailure.SecretIdNotFound"))).is_some_and(|h| h.contains("secret id"))
        );
        assert!(hint(&code(api_error("AuthFailure.SignatureExpire"))).is_some_and(|h| h.contains("clock")));
        assert!(hint(&code(api_error("InternalError"))).is_none());
    }

    #[test]
    fn plain_http_is_refused_in_the_command_line_s_words_only_for_a_remote_host() {
        assert_eq!(check_endpoint("http://127.0.0.1:9000"), Ok(()));
        assert_eq!(check_endpoint("cvm.tencentcloudapi.com"), Ok(()));
        let remote = check_endpoint("HTTP://example.com").unwrap_err();
        assert!(remote.contains("allows http:// only for a loopback host"), "{remote}");
        let malformed = check_endpoint("http://example.com/path").unwrap_err();
        assert!(malformed.contains("no path"), "the library's reason: {malformed}");
    }
}
