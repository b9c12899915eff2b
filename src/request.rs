//! From an action's parameters to a complete signed [`HttpRequest`], pure.
//!
//! [`RequestConfig`] holds everything about how requests are sent apart from the action and the
//! time: endpoint, region, method, language and which headers are signed. The body or query is
//! written once and those exact bytes are both signed and sent.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::credentials::Credentials;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::http::{HttpRequest, Method};
use crate::tc3::{self, Payload, Signer, SigningInput};

/// The CVM API version this crate speaks.
pub const VERSION: &str = "2017-03-12";
/// The service name in the credential scope.
pub const SERVICE: &str = "cvm";

const FORM: &str = "application/x-www-form-urlencoded";
/// The `User-Agent` every request carries.
pub const USER_AGENT: &str = concat!("cvm-keypairs/", env!("CARGO_PKG_VERSION"));
const JSON: &str = "application/json";

/// An API action's request: its name, version and parameters in both encodings.
pub trait Action {
    /// The action name, e.g. `DeleteKeyPairs`.
    fn name(&self) -> &'static str;
    /// The API version.
    fn version(&self) -> &'static str {
        VERSION
    }
    /// Appends the parameters as a form-encoded query (for GET).
    fn write_query(&self, out: &mut String) -> Result<(), Error>;
    /// Appends the parameters as a compact JSON object (for POST).
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), Error>;
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
    pub fn as_str(self) -> &'static str {
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

/// Which headers the signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignedHeaderSet {
    /// `content-type;host;x-tc-action`: binds the action into the signature, as the public
    /// signature example does.
    #[default]
    WithAction,
    /// `content-type;host`, as the official SDKs sign.
    ContentTypeHost,
}

/// How requests are built: everything but the action, the credentials and the time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestConfig {
    /// Where requests go.
    pub endpoint: Endpoint,
    /// The region (`X-TC-Region`), e.g. `ap-guangzhou`; empty to omit the header.
    pub region: String,
    /// GET (query) or POST (JSON body).
    pub method: Method,
    /// The language of error messages; `None` omits `X-TC-Language`.
    pub language: Option<Language>,
    /// The headers the signature covers.
    pub signed_headers: SignedHeaderSet,
    /// Sign `UNSIGNED-PAYLOAD` instead of the body.
    pub unsigned_payload: bool,
}

impl Default for RequestConfig {
    fn default() -> Self {
        RequestConfig {
            endpoint: Endpoint::default(),
            region: String::new(),
            method: Method::Post,
            language: None,
            signed_headers: SignedHeaderSet::default(),
            unsigned_payload: false,
        }
    }
}

impl RequestConfig {
    /// Builds and signs the request for `action` at `timestamp` (Unix seconds).
    ///
    /// ```
    /// use cvm_keypairs::{Credentials, DeleteKeyPairs, RequestConfig, Signer};
    /// let config = RequestConfig { region: "ap-guangzhou".into(), ..RequestConfig::default() };
    /// let creds = Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE")?;
    /// let action = DeleteKeyPairs::parse(["skey-mv9yzyjj"])?;
    /// let request = config.build(&Signer::new(), &creds, &action, 1_700_000_000)?;
    /// assert_eq!(request.body, br#"{"KeyIds":["skey-mv9yzyjj"]}"#);
    /// assert_eq!(request.header("X-TC-Action"), Some("DeleteKeyPairs"));
    /// # Ok::<(), cvm_keypairs::Error>(())
    /// ```
    pub fn build<'a>(
        &'a self,
        signer: &Signer,
        credentials: &Credentials,
        action: &(impl Action + ?Sized),
        timestamp: i64,
    ) -> Result<HttpRequest<'a>, Error> {
        let (name, version) = (action.name(), action.version());
        if !is_name(name) || !is_name(version) {
            return Err(Error::InvalidInput(format!("action {name:?} or version {version:?} is malformed")));
        }
        if !self.region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(Error::InvalidInput(format!("region {:?} is malformed", self.region)));
        }

        let base = self.endpoint.base_url();
        let mut url = Cow::Borrowed(base);
        let mut body = Vec::new();
        let mut query = String::new();
        let content_type = match self.method {
            Method::Get => {
                action.write_query(&mut query)?;
                if !query.is_empty() {
                    let mut with_query = String::with_capacity(base.len() + 1 + query.len());
                    with_query.push_str(base);
                    with_query.push('?');
                    with_query.push_str(&query);
                    url = Cow::Owned(with_query);
                }
                FORM
            }
            Method::Post => {
                action.write_json(&mut body)?;
                JSON
            }
        };

        let host = self.endpoint.authority();
        let all_signed = [("content-type", content_type), ("host", host), ("x-tc-action", name)];
        let signed = match self.signed_headers {
            SignedHeaderSet::WithAction => &all_signed[..],
            SignedHeaderSet::ContentTypeHost => &all_signed[..2],
        };
        let payload = if self.unsigned_payload { Payload::Unsigned } else { Payload::Bytes(&body) };
        // Every header, the method, the service and the secret id come from checked parts.
        let authorization = signer.authorization_prevalidated(&SigningInput {
            secret_id: credentials.secret_id(),
            secret_key: credentials.secret_key(),
            service: SERVICE,
            timestamp,
            method: self.method.as_str(),
            query: &query,
            headers: signed,
            payload,
        })?;

        let mut headers = Vec::with_capacity(12);
        headers.push(("Authorization", Cow::Owned(authorization)));
        headers.push(("Content-Type", Cow::Borrowed(content_type)));
        headers.push(("Host", Cow::Borrowed(host)));
        headers.push(("X-TC-Action", Cow::Borrowed(name)));
        headers.push(("X-TC-Timestamp", Cow::Owned(tc3::Decimal::new(timestamp).as_str().to_owned())));
        headers.push(("X-TC-Version", Cow::Borrowed(version)));
        if !self.region.is_empty() {
            headers.push(("X-TC-Region", Cow::Borrowed(self.region.as_str())));
        }
        if let Some(token) = credentials.token() {
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
        Ok(HttpRequest { method: self.method, url, headers, body })
    }
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
        let action = DeleteKeyPairs::parse(["skey-aaaaaaaa"]).unwrap();
        let post = config.build(&Signer::new(), &credentials, &action, 1_700_000_000).unwrap();
        assert!(matches!(post.url, Cow::Borrowed("https://cvm.tencentcloudapi.com/")));
        for name in ["Host", "X-TC-Region", "X-TC-Action", "Content-Type"] {
            let value = post.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v);
            assert!(matches!(value, Some(Cow::Borrowed(_))), "{name}: {value:?}");
        }

        let get = RequestConfig { method: Method::Get, ..config.clone() };
        let get = get.build(&Signer::new(), &credentials, &action, 1_700_000_000).unwrap();
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
