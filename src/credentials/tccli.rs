//! tccli's own profile files, which [`ProfileProvider`](super::ProfileProvider) reads when there
//! is no INI profile file: pure parsers of their JSON, and where they are.
//!
//! `tccli configure` (tccli 3.x) writes, for profile `NAME` (`default` unless `--profile`):
//!
//! ```text
//! ~/.tccli/NAME.credential  {"secretId": "AKID…", "secretKey": "…", "token": "…",
//!                            "role-arn": "qcs::cam::…", "role-session-name": "…",
//!                            "type": "default"}
//! ~/.tccli/NAME.configure   {"_sys_param": {"region": "ap-guangzhou", "output": "json"},
//!                            "cvm": {"endpoint": "cvm.tencentcloudapi.com", "version": "2017-03-12"}}
//! ```
//!
//! Only `secretId` and `secretKey` are required. `type` is `default` (keys), `cvm-role` (use
//! the instance role), or `sso` / `oauth` (temporary keys that tccli itself renews, with an
//! `expiresAt`); older tccli versions put `region` at the top of the configure file. Other
//! fields are ignored. A field given twice is an error, as in the INI file; errors name the
//! field, or the line and column, never a value.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::error::Category;
use serde_json::Value;

use super::profile::Profile;
use super::Credentials;
use crate::error::Error;

/// The credential and configure files of tccli profile `profile` under `home`; a name that
/// would reach outside `~/.tccli` is an error.
pub(super) fn files(home: &Path, profile: &str) -> Result<(PathBuf, PathBuf), Error> {
    if profile.contains(['/', '\\', '\0']) {
        return Err(Error::credentials(format!("profile name {profile:?} cannot name a file in ~/.tccli")));
    }
    let dir = home.join(".tccli");
    Ok((dir.join(format!("{profile}.credential")), dir.join(format!("{profile}.configure"))))
}

/// The fields read of a `.credential` file, each checked by [`string`]. No `Debug`: it holds
/// secrets.
#[derive(Deserialize)]
struct CredentialFile {
    #[serde(rename = "type")]
    kind: Option<Value>,
    #[serde(rename = "secretId")]
    secret_id: Option<Value>,
    #[serde(rename = "secretKey")]
    secret_key: Option<Value>,
    token: Option<Value>,
    #[serde(rename = "role-arn")]
    role_arn: Option<Value>,
    #[serde(rename = "role-session-name")]
    role_session_name: Option<Value>,
}

/// The profile of a `.credential` file, without a region (that is in the configure file), or
/// `None` when the file says to use the CVM instance role.
pub(super) fn parse_credential(text: &str) -> Result<Option<Profile>, Error> {
    let file: CredentialFile = from_json(text)?;
    match string(file.kind, "type")?.as_deref() {
        None | Some("default") => {}
        Some("cvm-role") => return Ok(None),
        Some(kind @ ("sso" | "oauth")) => {
            return Err(Error::credentials(format!(
                "\"type\" is \"{kind}\": temporary keys that only tccli renews; log in with \
                 `tccli configure` keys, or export TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY"
            )))
        }
        Some(_) => {
            return Err(Error::credentials(
                "\"type\" is none of those tccli writes (default, cvm-role, sso, oauth)".to_owned(),
            ))
        }
    }
    let required = |value, field| {
        string(value, field)?.ok_or_else(|| Error::credentials(format!("\"{field}\" is missing")))
    };
    let credentials =
        Credentials::new(required(file.secret_id, "secretId")?, required(file.secret_key, "secretKey")?)?;
    let credentials = match setting(file.token, "token")? {
        Some(token) => credentials.with_token(token)?,
        None => credentials,
    };
    Ok(Some(Profile {
        credentials,
        region: None,
        role_arn: setting(file.role_arn, "role-arn")?,
        role_session_name: setting(file.role_session_name, "role-session-name")?,
    }))
}

#[derive(Deserialize)]
struct ConfigureFile {
    #[serde(rename = "_sys_param")]
    sys_param: Option<SysParam>,
    /// Where older tccli versions kept it.
    region: Option<Value>,
}

#[derive(Deserialize)]
struct SysParam {
    region: Option<Value>,
}

/// The region of a `.configure` file: `_sys_param.region`, else a top-level `region`.
pub(super) fn parse_region(text: &str) -> Result<Option<String>, Error> {
    let file: ConfigureFile = from_json(text)?;
    match file.sys_param.and_then(|sys_param| sys_param.region) {
        Some(region) => setting(Some(region), "_sys_param.region"),
        None => setting(file.region, "region"),
    }
}

/// `text` as a `T`. The message is made here, never taken from serde_json, whose type errors
/// quote the value they met.
fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(text).map_err(|e| {
        let why = match e.classify() {
            Category::Data => "not a JSON object, or a field appears twice",
            Category::Io | Category::Syntax | Category::Eof => "not valid JSON",
        };
        Error::credentials(format!("{why} (line {}, column {})", e.line(), e.column()))
    })
}

/// The string `value` of `field`, or `None` when the field is absent or `null`.
fn string(value: Option<Value>, field: &str) -> Result<Option<String>, Error> {
    match value {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(Error::credentials(format!("\"{field}\" is not a string"))),
    }
}

/// An optional string field; empty means none, as tccli writes a setting it was given empty.
fn setting(value: Option<Value>, field: &str) -> Result<Option<String>, Error> {
    Ok(string(value, field)?.filter(|text| !text.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(text: &str) -> Profile {
        parse_credential(text).unwrap().expect("keys, not the instance role")
    }

    fn error(result: Result<impl std::fmt::Debug, Error>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn reads_keys_token_and_role_settings_and_ignores_the_rest() {
        let text = "\u{feff}{\"secretId\": \"AKIDt\", \"secretKey\": \"k\", \"token\": \"tok\", \"type\": \"default\",\n\
                    \"role-arn\": \"qcs::cam::uin/1:roleName/r\", \"role-session-name\": \"s\", \"extra\": {\"a\": [1]}}";
        let p = profile(text);
        let c = &p.credentials;
        assert_eq!((c.secret_id(), c.secret_key(), c.token()), ("AKIDt", "k", Some("tok")));
        assert_eq!(p.role_arn.as_deref(), Some("qcs::cam::uin/1:roleName/r"));
        assert_eq!(p.role_session_name.as_deref(), Some("s"));
        assert_eq!(p.region, None);
        let p = profile(r#"{"secretId": "A", "secretKey": "k", "token": "", "role-arn": null}"#);
        assert_eq!((p.credentials.token(), p.role_arn), (None, None), "empty and null mean none");
    }

    #[test]
    fn the_type_decides_between_keys_the_instance_role_and_a_refusal() {
        assert!(parse_credential(r#"{"type": "cvm-role", "secretId": "A"}"#).unwrap().is_none());
        for kind in ["sso", "oauth"] {
            let text = format!(r#"{{"type": "{kind}", "secretId": "A", "secretKey": "k", "expiresAt": 1}}"#);
            assert!(
                error(parse_credential(&text)).starts_with(&format!("credentials: \"type\" is \"{kind}\": "))
            );
        }
        assert_eq!(
            error(parse_credential(r#"{"type": "saml\u001b[31m"}"#)),
            "credentials: \"type\" is none of those tccli writes (default, cvm-role, sso, oauth)"
        );
    }

    #[test]
    fn missing_mistyped_or_repeated_fields_are_named_never_echoed() {
        let cases = [
            (r#"{"secretId": "A"}"#, "\"secretKey\" is missing"),
            (r#"{"secretId": "A", "secretKey": 9876543210}"#, "\"secretKey\" is not a string"),
            (r#"{"secretId": "A", "secretKey": "k", "token": ["9876543210"]}"#, "\"token\" is not a string"),
            (r#"{"secretId": "A", "secretKey": "k", "type": 7}"#, "\"type\" is not a string"),
            (
                r#"{"secretId": "A", "secretKey": "9876543210", "secretKey": "k"}"#,
                "not a JSON object, or a field",
            ),
            (r#""9876543210""#, "not a JSON object, or a field appears twice (line 1, column 12)"),
            ("{\"secretId\": \"A\", \"secretKey\": \"98765\n43210\"}", "not valid JSON (line 2, column 0)"),
            (r#"{"secretId": "A", "secretKey": " 9876543210"}"#, "the secret key has leading or trailing"),
            ("", "not valid JSON (line 1, column 0)"),
        ];
        for (text, expected) in cases {
            let shown = error(parse_credential(text));
            assert!(shown.contains(expected), "{text}: {shown}");
            assert!(!shown.contains("9876543210") && !shown.contains("43210"), "{shown}");
        }
    }

    #[test]
    fn the_region_is_the_sys_param_one_else_the_old_top_level_one() {
        let region = |text| parse_region(text).unwrap();
        assert_eq!(
            region(r#"{"_sys_param": {"region": "ap-beijing"}, "region": "old"}"#).as_deref(),
            Some("ap-beijing")
        );
        assert_eq!(
            region(r#"{"region": "ap-nanjing", "cvm": {"endpoint": "e"}}"#).as_deref(),
            Some("ap-nanjing")
        );
        assert_eq!(region(r#"{"_sys_param": {"output": "json"}}"#), None);
        assert_eq!(region(r#"{"_sys_param": {"region": ""}}"#), None);
        assert_eq!(
            error(parse_region(r#"{"_sys_param": {"region": 1}}"#)),
            "credentials: \"_sys_param.region\" is not a string"
        );
        assert!(error(parse_region(r#"{"_sys_param": "x"}"#)).starts_with("credentials: not a JSON object"));
    }

    #[test]
    fn a_profile_name_cannot_reach_outside_the_tccli_directory() {
        let (credential, configure) = files(Path::new("/h"), "prod.eu").unwrap();
        assert_eq!(
            (credential.to_str(), configure.to_str()),
            (Some("/h/.tccli/prod.eu.credential"), Some("/h/.tccli/prod.eu.configure"))
        );
        for name in ["../x", "a/b", "a\\b", "a\0"] {
            assert!(
                error(files(Path::new("/h"), name)).contains("cannot name a file in ~/.tccli"),
                "{name:?}"
            );
        }
    }
}
