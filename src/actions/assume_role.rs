//! `sts:AssumeRole`: temporary credentials of a CAM role, for long-term keys allowed to assume
//! it; and what it shares with `sts:AssumeRoleWithWebIdentity`: the role ARN, the session name,
//! the lifetime, and the answer.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::bounded::{capped, ID_CHARS};
use crate::credentials::Credentials;
use crate::error::Error;
use crate::request::Action;

/// The STS API version.
pub(crate) const STS_VERSION: &str = "2018-08-13";
/// The service in the credential scope of STS calls.
pub(crate) const STS_SERVICE: &str = "sts";

/// The lifetime asked for when none is given, in seconds.
pub(crate) const DEFAULT_DURATION_SECONDS: u32 = 7200;
/// The longest lifetime STS grants, in seconds (its documentation gives no minimum).
pub(crate) const MAX_DURATION_SECONDS: u32 = 43_200;

/// The longest session token accepted from STS: it documents at most 4,096 bytes, "depending on
/// the policies"; four times that leaves room without letting an answer fill memory.
const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// The longest temporary secret id or key accepted (STS documents at most 1,024 bytes).
const MAX_KEY_BYTES: usize = 1024;

/// A CAM role's ARN, checked: `qcs::cam::uin/<uin>:roleName/<name>`,
/// `qcs::cam::uin/<uin>:role/<id>`, or a service role's
/// `…:role/tencentcloudServiceRoleName/<name>` or `…:role/tencentcloudServiceRole/<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub(crate) struct RoleArn(String);

impl RoleArn {
    pub(crate) fn new(arn: &str) -> Result<Self, Error> {
        if is_role_arn(arn) {
            return Ok(RoleArn(arn.to_owned()));
        }
        let shown: String = arn.chars().take(160).collect();
        Err(Error::InvalidInput(format!(
            "role ARN {shown:?} is not qcs::cam::uin/<account uin>:roleName/<role name> nor \
             qcs::cam::uin/<account uin>:role/<role id> (or a service role's \
             role/tencentcloudServiceRoleName/<name> or role/tencentcloudServiceRole/<id>)"
        )))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_role_arn(arn: &str) -> bool {
    let Some((uin, role)) = arn.strip_prefix("qcs::cam::uin/").and_then(|rest| rest.split_once(':')) else {
        return false;
    };
    // The more specific prefixes first: `role/` alone would take a service role's path as an id.
    let named = ["roleName/", "role/tencentcloudServiceRoleName/"];
    let numbered = ["role/tencentcloudServiceRole/", "role/"];
    let by_name = named.iter().find_map(|prefix| role.strip_prefix(prefix)).map(is_name);
    let by_id = || numbered.iter().find_map(|prefix| role.strip_prefix(prefix)).map(is_digits);
    is_digits(uin) && by_name.or_else(by_id).unwrap_or(false)
}

fn is_digits(s: &str) -> bool {
    (1..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// A CAM name (role, session, identity provider): 1 to 128 letters, digits and `+=,.@_-`.
pub(crate) fn is_name(s: &str) -> bool {
    (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// A session name as STS takes it: 2 to 128 letters, digits and `+=,.@_-`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub(crate) struct SessionName(String);

impl SessionName {
    pub(crate) fn new(name: &str) -> Result<Self, Error> {
        if name.len() >= 2 && is_name(name) {
            return Ok(SessionName(name.to_owned()));
        }
        let shown: String = name.chars().take(160).collect();
        Err(Error::InvalidInput(format!(
            "role session name {shown:?} is not 2 to 128 letters, digits and +=,.@_-"
        )))
    }

    /// `cvm-keypairs-<unix time>`, the name used when none is given.
    pub(crate) fn default_at(now: i64) -> Self {
        SessionName(format!("cvm-keypairs-{now}"))
    }
}

/// `seconds` when STS grants such a lifetime: 1 to 43,200.
pub(crate) fn duration_seconds(seconds: u32) -> Result<u32, Error> {
    if (1..=MAX_DURATION_SECONDS).contains(&seconds) {
        return Ok(seconds);
    }
    Err(Error::InvalidInput(format!(
        "the credentials' duration must be 1 to {MAX_DURATION_SECONDS} seconds, got {seconds}"
    )))
}

/// An `AssumeRole` request (the base keys that sign it must be allowed to assume the role), and
/// the role part of an `AssumeRoleWithWebIdentity` request.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AssumeRole {
    #[serde(rename = "RoleArn")]
    pub(crate) role_arn: RoleArn,
    #[serde(rename = "RoleSessionName")]
    pub(crate) session_name: SessionName,
    #[serde(rename = "DurationSeconds")]
    pub(crate) duration_seconds: u32,
}

impl Action for AssumeRole {
    type Output = TemporaryCredentials;

    fn name(&self) -> &'static str {
        "AssumeRole"
    }

    fn version(&self) -> &'static str {
        STS_VERSION
    }

    fn service(&self) -> &'static str {
        STS_SERVICE
    }
}

/// What `AssumeRole` and `AssumeRoleWithWebIdentity` answer: the temporary credentials (their
/// `Debug` shows the secret id only), when they expire, and the RequestId.
#[derive(Debug)]
pub(crate) struct TemporaryCredentials {
    pub(crate) credentials: Credentials,
    /// `ExpiredTime`, Unix seconds.
    pub(crate) expires_at: i64,
    pub(crate) request_id: String,
}

/// Read through a JSON value and checked field by field, so that no error quotes a value: a
/// malformed answer could hold a temporary key where another field belongs.
impl<'de> Deserialize<'de> for TemporaryCredentials {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        temporary_credentials(&value).map_err(serde::de::Error::custom)
    }
}

fn temporary_credentials(answer: &Value) -> Result<TemporaryCredentials, String> {
    let text = |name: &str, max: usize| {
        let value = answer["Credentials"][name]
            .as_str()
            .ok_or_else(|| format!("the answer has no Credentials.{name} string"))?;
        match value.len() {
            n if n > max => Err(format!("Credentials.{name} is longer than {max} bytes ({n})")),
            _ => Ok(value),
        }
    };
    let id = text("TmpSecretId", MAX_KEY_BYTES)?;
    let key = text("TmpSecretKey", MAX_KEY_BYTES)?;
    let token = text("Token", MAX_TOKEN_BYTES)?;
    let expires_at =
        answer["ExpiredTime"].as_i64().ok_or_else(|| "the answer has no ExpiredTime integer".to_owned())?;
    let request_id = answer["RequestId"].as_str().map(|id| capped(id, ID_CHARS)).unwrap_or_default();
    let credentials = Credentials::new(id, key)
        .and_then(|c| c.with_token(token))
        .map_err(|e| format!("the temporary credentials are unusable: {e}"))?;
    Ok(TemporaryCredentials { credentials, expires_at, request_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "qcs::cam::uin/100000000001:roleName/cleanup";

    #[test]
    fn role_arns_take_the_documented_forms_only() {
        for arn in [
            ARN,
            "qcs::cam::uin/12345678:role/4611686018427397919",
            "qcs::cam::uin/12345678:role/tencentcloudServiceRole/4611686018427397920",
            "qcs::cam::uin/12345678:role/tencentcloudServiceRoleName/TKE_QCSRole",
            "qcs::cam::uin/1:roleName/a+=,.@_-b",
        ] {
            assert_eq!(RoleArn::new(arn).unwrap().as_str(), arn);
        }
        for arn in [
            "",
            "cleanup",
            "qcs::cam::uin/:roleName/x",
            "qcs::cam::uin/12a:roleName/x",
            "qcs::cam::uin/1:roleName/",
            "qcs::cam::uin/1:role/name",
            "qcs::cam::uin/1:roleName/a/b",
            "qcs::cam::uin/1:roleName/a b",
            "qcs::cam::uin/1:user/x",
            "qcs::cam::uin/1:role/tencentcloudServiceRole/x",
            "arn:aws:iam::123456789012:role/x",
            &format!("qcs::cam::uin/1:roleName/{}", "r".repeat(129)),
        ] {
            let err = RoleArn::new(arn).unwrap_err().to_string();
            assert!(
                err.starts_with("invalid input: role ARN ") && err.contains(":roleName/<role name>"),
                "{arn}: {err}"
            );
        }
        let shown = RoleArn::new(&format!("x\n{}", "y".repeat(500))).unwrap_err().to_string();
        assert!(shown.contains("x\\n") && shown.len() < 600, "escaped and bounded: {shown}");
    }

    #[test]
    fn session_names_and_durations_are_checked() {
        for name in ["ab", "cvm-keypairs-1700000000", "a+=,.@_-", &"n".repeat(128)] {
            assert!(SessionName::new(name).is_ok(), "{name}");
        }
        for name in ["", "a", "has space", "naïve", &"n".repeat(129)] {
            assert!(SessionName::new(name).unwrap_err().to_string().contains("2 to 128 letters"), "{name}");
        }
        assert_eq!(SessionName::default_at(1_700_000_000).0, "cvm-keypairs-1700000000");
        assert_eq!((duration_seconds(1).unwrap(), duration_seconds(43_200).unwrap()), (1, 43_200));
        for bad in [0, 43_201, u32::MAX] {
            assert!(duration_seconds(bad).unwrap_err().to_string().ends_with(&format!("got {bad}")));
        }
    }

    #[test]
    fn the_request_is_an_sts_action_with_the_documented_parameters() {
        let request = AssumeRole {
            role_arn: RoleArn::new(ARN).unwrap(),
            session_name: SessionName::new("job-1").unwrap(),
            duration_seconds: DEFAULT_DURATION_SECONDS,
        };
        assert_eq!(
            (request.name(), request.version(), request.service()),
            ("AssumeRole", "2018-08-13", "sts")
        );
        assert_eq!(
            serde_json::to_string(&request).unwrap(),
            format!(r#"{{"RoleArn":"{ARN}","RoleSessionName":"job-1","DurationSeconds":7200}}"#)
        );
    }

    fn parse(answer: &str) -> Result<TemporaryCredentials, String> {
        serde_json::from_str(answer).map_err(|e| e.to_string())
    }

    fn answer(id: &str, key: &str, token: &str) -> String {
        format!(
            r#"{{"Credentials":{{"Token":"{token}","TmpSecretId":"{id}","TmpSecretKey":"{key}"}},
                "ExpiredTime":1700007200,"Expiration":"2023-11-15T00:13:20Z","RequestId":"r-1"}}"#
        )
    }

    #[test]
    fn the_answer_gives_credentials_with_token_expiry_and_request_id() {
        let parsed = parse(&answer("AKIDtmp", "tmp-key-zq8x", "tmp-token-zq8x")).unwrap();
        let c = &parsed.credentials;
        assert_eq!(
            (c.secret_id(), c.secret_key(), c.token()),
            ("AKIDtmp", "tmp-key-zq8x", Some("tmp-token-zq8x"))
        );
        assert_eq!((parsed.expires_at, parsed.request_id.as_str()), (1_700_007_200, "r-1"));
        assert!(!format!("{parsed:?}").contains("zq8x"), "{parsed:?}");
    }

    #[test]
    fn malformed_or_oversized_answers_are_refused_naming_the_field_never_a_value() {
        let good = answer("AKIDtmp", "tmp-key-zq8x", "tmp-token-zq8x");
        let cases = [
            (good.replace(r#""Token""#, r#""Tok""#), "no Credentials.Token string"),
            (good.replace(r#""tmp-key-zq8x""#, "[1]"), "no Credentials.TmpSecretKey string"),
            (
                r#"{"Credentials":"tmp-key-zq8x","ExpiredTime":1}"#.to_owned(),
                "no Credentials.TmpSecretId string",
            ),
            (good.replace("1700007200", r#""zq8x""#), "no ExpiredTime integer"),
            (good.replace("tmp-token-zq8x", &"t".repeat(MAX_TOKEN_BYTES + 1)), "Token is longer than 16384"),
            (good.replace("tmp-key-zq8x", &"k".repeat(1025)), "TmpSecretKey is longer than 1024 bytes"),
            (good.replace("AKIDtmp", "AKID tmp-key-zq8x"), "unusable: invalid input: the secret id must be"),
            (good.replace("tmp-token-zq8x", " tmp-token-zq8x"), "the session token has leading"),
        ];
        for (text, why) in cases {
            let err = parse(&text).unwrap_err();
            assert!(err.contains(why), "{why}: {err}");
            assert!(!err.contains("zq8x"), "{err}");
        }
        assert!(parse(
            &good.replace(r#""RequestId":"r-1""#, &format!(r#""RequestId":"{}""#, "r".repeat(200)))
        )
        .unwrap()
        .request_id
        .starts_with("<200 characters"));
    }
}
