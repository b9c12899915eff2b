//! `ModifyKeyPairAttribute`: rename a key pair, or change its description.

use serde::Serialize;

use super::validate;
use super::Receipt;
use crate::error::Error;
use crate::key_id::KeyId;
use crate::request::Action;

/// A `ModifyKeyPairAttribute` request: a new name (1 to 25 of letters, digits and `_`), a new
/// description (at most 60 characters; empty clears it), or both, for one key pair. Its
/// parameters go in the official SDK's order: `KeyId`, `KeyName`, `Description`.
///
/// ```
/// use cvm_keypairs::ModifyKeyPairAttribute;
/// let rename = ModifyKeyPairAttribute::new("skey-mv9yzyjj", Some("ci_old"), None)?;
/// assert_eq!(serde_json::to_string(&rename)?, r#"{"KeyId":"skey-mv9yzyjj","KeyName":"ci_old"}"#);
/// assert!(ModifyKeyPairAttribute::new("skey-mv9yzyjj", None, None).is_err(), "nothing to change");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModifyKeyPairAttribute {
    #[serde(rename = "KeyId")]
    key_id: KeyId,
    #[serde(rename = "KeyName", skip_serializing_if = "Option::is_none")]
    key_name: Option<String>,
    #[serde(rename = "Description", skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

impl ModifyKeyPairAttribute {
    /// Gives key pair `key_id` (a string or a [`KeyId`]) the name `name` and the description
    /// `description`, where given: at least one must be.
    pub fn new(
        key_id: impl AsRef<str>,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Result<Self, Error> {
        let key_id = key_id.as_ref().parse::<KeyId>()?;
        if name.is_none() && description.is_none() {
            return Err(Error::InvalidInput(
                "ModifyKeyPairAttribute needs a new name or a new description".into(),
            ));
        }
        Ok(ModifyKeyPairAttribute {
            key_id,
            key_name: name.map(validate::key_name).transpose()?,
            description: description.map(validate::description).transpose()?,
        })
    }
}

impl Action for ModifyKeyPairAttribute {
    type Output = Receipt;

    fn name(&self) -> &'static str {
        "ModifyKeyPairAttribute"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(req: &ModifyKeyPairAttribute) -> String {
        let mut q = String::new();
        crate::query::write(&mut q, req).unwrap();
        q
    }

    #[test]
    fn both_encodings_send_only_what_changes_in_the_sdk_order() {
        let both =
            ModifyKeyPairAttribute::new("skey-mv9yzyjj", Some("new_name"), Some("for CI / staging")).unwrap();
        assert_eq!(
            serde_json::to_string(&both).unwrap(),
            r#"{"KeyId":"skey-mv9yzyjj","KeyName":"new_name","Description":"for CI / staging"}"#
        );
        assert_eq!(query(&both), "KeyId=skey-mv9yzyjj&KeyName=new_name&Description=for+CI+%2F+staging");
        let id: KeyId = "skey-mv9yzyjj".parse().unwrap();
        let cleared = ModifyKeyPairAttribute::new(id, None, Some("")).unwrap();
        assert_eq!(query(&cleared), "KeyId=skey-mv9yzyjj&Description=");
        assert_eq!(serde_json::to_string(&cleared).unwrap(), r#"{"KeyId":"skey-mv9yzyjj","Description":""}"#);
    }

    #[test]
    fn bad_requests_are_refused_before_sending() {
        assert!(matches!(
            ModifyKeyPairAttribute::new("skey-mv9yzyjj", None, None),
            Err(Error::InvalidInput(m)) if m.contains("a new name or a new description")
        ));
        assert!(matches!(
            ModifyKeyPairAttribute::new("skey-1", Some("n"), None),
            Err(Error::InvalidKeyIds(_))
        ));
        for (name, description) in [(Some("bad name"), None), (None, Some("x".repeat(61).as_str()))] {
            let result = ModifyKeyPairAttribute::new("skey-mv9yzyjj", name, description);
            assert!(matches!(result, Err(Error::InvalidInput(_))), "{name:?} {description:?}");
        }
    }
}
