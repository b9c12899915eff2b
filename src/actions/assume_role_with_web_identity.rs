//! `sts:AssumeRoleWithWebIdentity`: temporary credentials of a CAM role for the holder of an
//! OIDC token from a trusted identity provider (a TKE pod's service-account token, a CI
//! runner's). The token is the proof: the request is sent unsigned, as the official SDKs send
//! it.

use std::fmt;

use serde::Serialize;

use super::assume_role::{is_name, AssumeRole, TemporaryCredentials, STS_SERVICE, STS_VERSION};
use crate::error::Error;
use crate::request::Action;

/// The longest web identity token accepted: OIDC tokens are a few kilobytes at most.
pub(crate) const MAX_WEB_IDENTITY_TOKEN_BYTES: usize = 16 * 1024;

/// An identity provider's name as CAM knows it (`TKE_PROVIDER_ID`): 1 to 128 letters, digits
/// and `+=,.@_-`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub(crate) struct ProviderId(String);

impl ProviderId {
    pub(crate) fn new(id: &str) -> Result<Self, Error> {
        if is_name(id) {
            return Ok(ProviderId(id.to_owned()));
        }
        let shown: String = id.chars().take(160).collect();
        Err(Error::InvalidInput(format!(
            "identity provider id {shown:?} is not 1 to 128 letters, digits and +=,.@_-"
        )))
    }
}

/// A web identity token; its `Debug` never shows it, and no error quotes it.
#[derive(Clone, Serialize)]
#[serde(transparent)]
pub(crate) struct WebIdentityToken(String);

impl WebIdentityToken {
    /// The token in `text` (a token file's content), without surrounding whitespace: at most
    /// 16 KiB of printable ASCII.
    pub(crate) fn new(text: &str) -> Result<Self, Error> {
        let token = text.trim();
        let why = if token.is_empty() {
            "is empty"
        } else if token.len() > MAX_WEB_IDENTITY_TOKEN_BYTES {
            "is longer than 16 KiB"
        } else if !token.bytes().all(|b| b.is_ascii_graphic()) {
            "holds a space, a control character or non-ASCII text"
        } else {
            return Ok(WebIdentityToken(token.to_owned()));
        };
        Err(Error::InvalidInput(format!("the web identity token {why}")))
    }

    pub(crate) fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for WebIdentityToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// An `AssumeRoleWithWebIdentity` request; its `Debug` shows the token as `***`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AssumeRoleWithWebIdentity {
    #[serde(rename = "ProviderId")]
    pub(crate) provider_id: ProviderId,
    #[serde(rename = "WebIdentityToken")]
    pub(crate) token: WebIdentityToken,
    /// The role, session name and lifetime, as AssumeRole asks for them.
    #[serde(flatten)]
    pub(crate) role: AssumeRole,
}

impl Action for AssumeRoleWithWebIdentity {
    type Output = TemporaryCredentials;

    fn name(&self) -> &'static str {
        "AssumeRoleWithWebIdentity"
    }

    fn version(&self) -> &'static str {
        STS_VERSION
    }

    fn service(&self) -> &'static str {
        STS_SERVICE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::assume_role::{RoleArn, SessionName};

    const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ6cTh4In0.c2ln-zq8x";

    fn request() -> AssumeRoleWithWebIdentity {
        AssumeRoleWithWebIdentity {
            provider_id: ProviderId::new("OIDC").unwrap(),
            token: WebIdentityToken::new(&format!("{TOKEN}\n")).unwrap(),
            role: AssumeRole {
                role_arn: RoleArn::new("qcs::cam::uin/100000000001:roleName/pods").unwrap(),
                session_name: SessionName::new("pod-1").unwrap(),
                duration_seconds: 3600,
            },
        }
    }

    #[test]
    fn the_request_carries_the_token_in_its_parameters_and_never_in_debug() {
        let request = request();
        assert_eq!(
            (request.name(), request.version(), request.service()),
            ("AssumeRoleWithWebIdentity", "2018-08-13", "sts")
        );
        assert_eq!(
            serde_json::to_string(&request).unwrap(),
            format!(
                r#"{{"ProviderId":"OIDC","WebIdentityToken":"{TOKEN}","RoleArn":"qcs::cam::uin/100000000001:roleName/pods","RoleSessionName":"pod-1","DurationSeconds":3600}}"#
            )
        );
        let shown = format!("{request:?} {request:#?}");
        assert!(!shown.contains("zq8x") && shown.contains("***"), "{shown}");
    }

    #[test]
    fn tokens_and_provider_ids_are_checked_without_echoing_the_token() {
        for (text, why) in [
            ("", "is empty"),
            (" \n", "is empty"),
            (&"t".repeat(MAX_WEB_IDENTITY_TOKEN_BYTES + 1), "longer than 16 KiB"),
            ("zq8x token", "holds a space"),
            ("zq8x\u{7}", "control character"),
            ("zq8x\u{e9}", "non-ASCII"),
        ] {
            let err = WebIdentityToken::new(text).unwrap_err().to_string();
            assert!(err.contains(why) && !err.contains("zq8x"), "{err}");
        }
        assert!(WebIdentityToken::new(&"t".repeat(MAX_WEB_IDENTITY_TOKEN_BYTES)).is_ok());
        assert!(ProviderId::new("OIDC").is_ok() && ProviderId::new("tke-oidc.1").is_ok());
        for id in ["", "a b", &"p".repeat(129)] {
            assert!(ProviderId::new(id).unwrap_err().to_string().contains("identity provider id"), "{id}");
        }
    }
}
