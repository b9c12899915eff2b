//! From an action's parameters to a complete signed [`HttpRequest`], pure.
//!
//! [`RequestConfig`] holds everything about how requests are sent apart from the action and the
//! time: endpoint, region, method, language and which headers are signed. The body or query is
//! written once and those exact bytes are both signed and sent.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::credentials::Credentials;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::http::{HttpRequest, Method, USER_AGENT};
use crate::tc3::{self, Payload, Signer, SigningInput};

/// The CVM API version this crate speaks.
pub(crate) const VERSION: &str = "2017-03-12";

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

/// An API action: its parameters (serialised as the POST body by serde_json, or flattened into
/// the GET query), its name, version and service, and the type of its answer.
///
/// Adding an action is one type implementing this; [`crate::Client::execute`] sends it. A
/// float that is NaN or infinite is refused in a GET query but written `null` in a POST body
/// (serde_json's choice): check floats are finite when the action is made.
///
/// ```
/// use cvm_keypairs::Action;
/// #[derive(serde::Serialize)]
/// struct DescribeZones {}
/// #[derive(serde::Deserialize)]
/// struct Zones {
///     #[serde(rename = "TotalCount")]
///     total_count: u64,
/// }
/// impl Action for DescribeZones {
///     type Output = Zones;
///     fn name(&self) -> &'static str {
///         "DescribeZones"
///     }
/// }
/// ```
pub trait Action: Serialize {
    /// What the API answers: the fields of its `Response` object.
    type Output: DeserializeOwned;
    /// The action name, e.g. `DeleteKeyPairs`.
    fn name(&self) -> &'static str;
    /// The API version, `2017-03-12` unless the action says otherwise.
    fn version(&self) -> &'static str {
        VERSION
    }
    /// The service in the credential scope, `cvm` unless the action says otherwise.
    fn service(&self) -> &'static str {
        "cvm"
    }
}

/// The language of API error messages (`X-TC-Language`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// `zh-CN`
    ZhCn,
    /// `en-US`
    EnUs,
}

impl Language {
    /// `zh-CN` or `en-US`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Language::ZhCn => "zh-CN",
            Language::EnUs => "en-US",
        }
    }
}

impl FromStr for Language {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "zh-CN" => Ok(Language::ZhCn),
            "en-US" => Ok(Language::EnUs),
            _ => Err(Error::InvalidInput(format!("language {s:?} is not zh-CN or en-US"))),
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How requests are built: everything but the action, the credentials and the time; it keeps
/// the derived signing key of its last request, so it is cheap to build many.
///
/// ```
/// use cvm_keypairs::{Credentials, DeleteKeyPairs, Method, RequestConfig};
/// let mut config = RequestConfig::default();
/// config.region = "ap-guangzhou".into();
/// config.method = Method::Get;
/// let credentials = Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE")?;
/// let request = config.build(&credentials, &DeleteKeyPairs::new(["skey-mv9yzyjj"])?, 1_700_000_000)?;
/// assert_eq!(request.url, "https://cvm.tencentcloudapi.com/?KeyIds.0=skey-mv9yzyjj");
/// # Ok::<(), cvm_keypairs::Error>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct RequestConfig {
    /// Where requests go (default `cvm.tencentcloudapi.com`).
    pub endpoint: Endpoint,
    /// The region (`X-TC-Region`), e.g. `ap-guangzhou`; empty to omit the header.
    pub region: String,
    /// GET (query) or POST (JSON body, the default).
    pub method: Method,
    /// The language of error messages; `None` (the default) omits `X-TC-Language`.
    pub language: Option<Language>,
    /// Sign `x-tc-action` too (`content-type;host;x-tc-action`, binding the action into the
    /// signature as the public signature example does; the default), or only
    /// `content-type;host` as the official SDKs do.
    pub sign_action_header: bool,
    /// Sign `UNSIGNED-PAYLOAD` instead of the body (default false).
    pub unsigned_payload: bool,
    signer: Signer,
}

impl Default for RequestConfig {
    fn default() -> Self {
        RequestConfig {
            endpoint: Endpoint::default(),
            region: String::new(),
            method: Method::Post,
            language: None,
            sign_action_header: true,
            unsigned_payload: false,
            signer: Signer::new(),
        }
    }
}

/// A copy has a cache of its own.
impl Clone for RequestConfig {
    fn clone(&self) -> Self {
        RequestConfig {
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            method: self.method,
            language: self.language,
            sign_action_header: self.sign_action_header,
            unsigned_payload: self.unsigned_payload,
            signer: Signer::new(),
        }
    }
}

impl RequestConfig {
    /// Builds and signs the request for `action` at `timestamp` (Unix seconds): a pure
    /// function of its inputs (the signing key cache is invisible).
    ///
    /// ```
    /// use cvm_keypairs::{Credentials, DeleteKeyPairs, RequestConfig};
    /// let config = RequestConfig::default();
    /// let creds = Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE")?;
    /// let request = config.build(&creds, &DeleteKeyPairs::new(["skey-mv9yzyjj"])?, 1_700_000_000)?;
    /// assert_eq!(request.body, br#"{"KeyIds":["skey-mv9yzyjj"]}"#);
    /// assert_eq!(request.header("X-TC-Action"), Some("DeleteKeyPairs"));
    /// # Ok::<(), cvm_keypairs::Error>(())
    /// ```
    pub fn build<'a>(
        &'a self,
        credentials: &Credentials,
        action: &impl Action,
        timestamp: i64,
    ) -> Result<HttpRequest<'a>, Error> {
        self.assemble(Some(credentials), action, timestamp)
    }

    /// `action` unsigned, as the official SDKs send the calls whose parameters are their own
    /// proof (sts:AssumeRoleWithWebIdentity): `Authorization: SKIP` and no `X-TC-Token`,
    /// every other header as [`build`](Self::build) writes it.
    #[cfg(feature = "ureq")]
    pub(crate) fn build_unsigned<'a>(
        &'a self,
        action: &impl Action,
        timestamp: i64,
    ) -> Result<HttpRequest<'a>, Error> {
        self.assemble(None, action, timestamp)
    }

    /// The request for `action`, signed with `credentials` when there are any. Only the
    /// parameters' serialisation depends on the action's type; the rest is one function for
    /// every action, compiled once.
    fn assemble<'a>(
        &'a self,
        credentials: Option<&Credentials>,
        action: &impl Action,
        timestamp: i64,
    ) -> Result<HttpRequest<'a>, Error> {
        let names = Names { name: action.name(), version: action.version(), service: action.service() };
        let written = match self.method {
            Method::Get => {
                let mut query = String::new();
                crate::query::write(&mut query, action)?;
                Written::Query(query)
            }
            Method::Post => {
                let mut body = Vec::with_capacity(64);
                serde_json::to_writer(&mut body, action).map_err(Error::unencodable)?;
                Written::Body(body)
            }
        };
        self.assemble_written(credentials, names, written, timestamp)
    }

    /// The request for parameters already written, for an action of these names.
    fn assemble_written<'a>(
        &'a self,
        credentials: Option<&Credentials>,
        Names { name, version, service }: Names,
        written: Written,
        timestamp: i64,
    ) -> Result<HttpRequest<'a>, Error> {
        if !is_name(name) || !is_name(version) || !is_name(service) {
            return Err(Error::InvalidInput(format!(
                "action {name:?}, version {version:?} or service {service:?} is malformed"
            )));
        }
        if !self.region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(Error::InvalidInput(format!("region {:?} is malformed", self.region)));
        }
        let Parameters { url, query, body, content_type } = self.parameters(written)?;
        let host = self.endpoint.authority();
        let authorization = match credentials {
            Some(credentials) => {
                let all_signed = [("content-type", content_type), ("host", host), ("x-tc-action", name)];
                let signed = if self.sign_action_header { &all_signed[..] } else { &all_signed[..2] };
                let payload = if self.unsigned_payload { Payload::Unsigned } else { Payload::Bytes(&body) };
                // Every header, the method, the service and the secret id come from checked parts.
                Cow::Owned(self.signer.authorization_prevalidated(
                    credentials,
                    &SigningInput {
                        secret_id: credentials.secret_id(),
                        secret_key: credentials.secret_key(),
                        service,
                        timestamp,
                        method: self.method.as_str(),
                        query: &query,
                        headers: signed,
                        payload,
                    },
                )?)
            }
            None => Cow::Borrowed("SKIP"),
        };
        let token = credentials.and_then(Credentials::token);
        let headers = self.headers(authorization, content_type, host, (name, version), timestamp, token);
        Ok(HttpRequest { method: self.method, url, headers, body })
    }

    /// Every header of a request, in the order they are sent.
    fn headers<'a>(
        &'a self,
        authorization: Cow<'a, str>,
        content_type: &'static str,
        host: &'a str,
        (name, version): (&'static str, &'static str),
        timestamp: i64,
        token: Option<&str>,
    ) -> Vec<(&'static str, Cow<'a, str>)> {
        let mut headers = Vec::with_capacity(12);
        headers.push(("Authorization", authorization));
        headers.push(("Content-Type", Cow::Borrowed(content_type)));
        headers.push(("Host", Cow::Borrowed(host)));
        headers.push(("X-TC-Action", Cow::Borrowed(name)));
        headers.push(("X-TC-Timestamp", Cow::Owned(tc3::Decimal::new(timestamp).as_str().to_owned())));
        headers.push(("X-TC-Version", Cow::Borrowed(version)));
        if !self.region.is_empty() {
            headers.push(("X-TC-Region", Cow::Borrowed(self.region.as_str())));
        }
        if let Some(token) = token {
            headers.push(("X-TC-Token", Cow::Owned(token.to_owned())));
        }
        if let Some(language) = self.language {
            headers.push(("X-TC-Language", Cow::Borrowed(language.as_str())));
        }
        if self.unsigned_payload {
            headers.push(("X-TC-Content-SHA256", Cow::Borrowed(tc3::UNSIGNED_PAYLOAD)));
        }
        // Named here so the HTTP client adds none of its own and a dry run shows all it sends.
        headers.push(("User-Agent", Cow::Borrowed(USER_AGENT)));
        headers.push(("Accept", Cow::Borrowed(JSON)));
        headers
    }

    /// The URL (with the query, for GET), the query, the body (for POST) and the content type
    /// of the parameters as written: the exact bytes that are signed and sent.
    fn parameters(&self, written: Written) -> Result<Parameters<'_>, Error> {
        let base = self.endpoint.base_url();
        match written {
            Written::Query(query) => {
                let url = if query.is_empty() {
                    Cow::Borrowed(base)
                } else {
                    let mut url = String::with_capacity(base.len() + 1 + query.len());
                    url.push_str(base);
                    url.push('?');
                    url.push_str(&query);
                    Cow::Owned(url)
                };
                Ok(Parameters { url, query, body: Vec::new(), content_type: FORM })
            }
            Written::Body(mut body) => {
                match body.first() {
                    Some(b'{') => {}
                    // Unit (no parameters) is the empty object.
                    _ if body == b"null" => body = b"{}".to_vec(),
                    _ => {
                        return Err(Error::InvalidInput(
                            "the parameters must serialise to a JSON object".into(),
                        ))
                    }
                }
                Ok(Parameters { url: Cow::Borrowed(base), query: String::new(), body, content_type: JSON })
            }
        }
    }
}

/// An action's name, version and service.
struct Names {
    name: &'static str,
    version: &'static str,
    service: &'static str,
}

/// An action's parameters serialised: the GET query or the POST body.
enum Written {
    Query(String),
    Body(Vec<u8>),
}

/// An action's parameters as a request carries them.
struct Parameters<'a> {
    url: Cow<'a, str>,
    query: String,
    body: Vec<u8>,
    content_type: &'static str,
}

fn is_name(s: &str) -> bool {
    // Every byte is looked at, without an early exit: names are short and usually valid.
    !s.is_empty() && s.bytes().fold(true, |ok, b| ok & NAME[b as usize])
}

/// The bytes allowed in action names and versions, as a table: checked on every build.
const NAME: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_');
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DeleteKeyPairs;

    #[test]
    fn build_borrows_what_the_configuration_holds() {
        let config = RequestConfig { region: "ap-guangzhou".into(), ..RequestConfig::default() };
        let credentials = Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap();
        let action = DeleteKeyPairs::new(["skey-aaaaaaaa"]).unwrap();
        let post = config.build(&credentials, &action, 1_700_000_000).unwrap();
        assert!(matches!(post.url, Cow::Borrowed("https://cvm.tencentcloudapi.com/")));
        for name in ["Host", "X-TC-Region", "X-TC-Action", "Content-Type"] {
            let value = post.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v);
            assert!(matches!(value, Some(Cow::Borrowed(_))), "{name}: {value:?}");
        }

        let get = RequestConfig { method: Method::Get, ..config.clone() };
        let get = get.build(&credentials, &action, 1_700_000_000).unwrap();
        assert_eq!(get.url, "https://cvm.tencentcloudapi.com/?KeyIds.0=skey-aaaaaaaa");
    }

    #[test]
    fn is_name_takes_only_name_bytes() {
        for name in ["", "Delete KeyPairs", "Delete\nKeyPairs", "Délete"] {
            assert!(!is_name(name), "{name:?}");
        }
        assert!(is_name("DeleteKeyPairs") && is_name("2017-03-12") && is_name("a_b.c"));
    }
}
