//! `ImportKeyPair`: register a public key made elsewhere (e.g. by `ssh-keygen`) as a key pair.

use serde::{Deserialize, Serialize};

use super::validate::{self, TagSpecification};
use crate::error::Error;
use crate::key_id::KeyId;
use crate::request::Action;

/// An `ImportKeyPair` request: a name (1 to 25 of letters, digits and `_`), the project (0,
/// the default project, unless set: the API requires one), the public key and tags. Its
/// parameters go in the official SDK's order: `KeyName`, `ProjectId`, `PublicKey`,
/// `TagSpecification`.
///
/// The public key is checked before anything is sent: one line `TYPE BASE64 [comment]` (as
/// in a `.pub` file; surrounding whitespace and the final newline are dropped), TYPE one of
/// `ssh-rsa`, `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ecdsa-sha2-nistp384`,
/// `ecdsa-sha2-nistp521`, and BASE64 a key of that type.
///
/// ```
/// use cvm_keypairs::ImportKeyPair;
/// let public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKTdthVklA9fhih2OIjBQGqdjtK62tDD50tjFMOSNQqs ci@example\n";
/// let import = ImportKeyPair::new("ci_deploy", public_key)?.with_tags([("env", "ci")])?;
/// assert_eq!(
///     serde_json::to_string(&import)?,
///     r#"{"KeyName":"ci_deploy","ProjectId":0,"PublicKey":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKTdthVklA9fhih2OIjBQGqdjtK62tDD50tjFMOSNQqs ci@example","TagSpecification":[{"ResourceType":"keypair","Tags":[{"Key":"env","Value":"ci"}]}]}"#
/// );
/// assert!(ImportKeyPair::new("ci_deploy", "ssh-ed25519 not-base64").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportKeyPair {
    #[serde(rename = "KeyName")]
    key_name: String,
    #[serde(rename = "ProjectId")]
    project_id: u64,
    #[serde(rename = "PublicKey")]
    public_key: String,
    #[serde(rename = "TagSpecification", skip_serializing_if = "Vec::is_empty")]
    tags: Vec<TagSpecification>,
}

impl ImportKeyPair {
    /// `public_key` (the text of an OpenSSH `.pub` file) under the name `name`, in the
    /// default project, without tags.
    pub fn new(name: &str, public_key: &str) -> Result<Self, Error> {
        Ok(ImportKeyPair {
            key_name: validate::key_name(name)?,
            project_id: 0,
            public_key: validate::public_key(public_key)?,
            tags: Vec::new(),
        })
    }

    /// In project `id` (0 is the default project).
    pub fn with_project_id(mut self, id: u64) -> Self {
        self.project_id = id;
        self
    }

    /// With these tags, `(key, value)`, replacing any given before; checked as
    /// [`CreateKeyPair::with_tags`](crate::CreateKeyPair::with_tags) checks them.
    pub fn with_tags<K: Into<String>, V: Into<String>>(
        mut self,
        tags: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, Error> {
        self.tags = validate::key_pair_tags(tags)?;
        Ok(self)
    }
}

impl Action for ImportKeyPair {
    type Output = ImportKeyPairOutput;

    fn name(&self) -> &'static str {
        "ImportKeyPair"
    }
}

/// What `ImportKeyPair` answers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ImportKeyPairOutput {
    /// The new key pair's id.
    #[serde(rename = "KeyId")]
    pub key_id: KeyId,
    /// The request's id.
    #[serde(rename = "RequestId", deserialize_with = "crate::bounded::request_id")]
    pub request_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC057FZ4E2w0E+cbTwfsCr/1vzE6ug8fTJY4B9tAC0MDESJtxTX8H4lQhL9dxDJkZy2uQggaD9zWWZoWOOdEpFy5xKrQ3XjQQ/WFv30vIIIfAlgmZWE024DbooP0AozqN+q+1sT+uUakVIb1yP1Tx/KWJcpcHEyVl/nTdG1o5AoiDhrs1YxvbMUm0VQuByLLa/i/GSbwBnlNbyHw+V/CW9+ff9X+JXmMsa2uXDLgWP8MrAZNpjEe9ARdYj7kvgxz+JSGg7/7aTwPy/DY5gukDB9Dbh+kBu5qVZpfHKLcpbzLZLtqUFybQeyWZ1GsbBELvWZ5aQ0EbbijfOfjhly+GqT deploy";

    fn query(req: &ImportKeyPair) -> String {
        let mut q = String::new();
        crate::query::write(&mut q, req).unwrap();
        q
    }

    #[test]
    fn both_encodings_follow_the_sdk_order() {
        let import = ImportKeyPair::new("deploy", &format!("{KEY}\n")).unwrap().with_project_id(3);
        assert_eq!(
            serde_json::to_value(&import).unwrap(),
            json!({"KeyName": "deploy", "ProjectId": 3, "PublicKey": KEY})
        );
        let tagged = import.with_tags([("env", "ci")]).unwrap();
        let q = query(&tagged);
        let key = KEY.replace('+', "%2B").replace('/', "%2F").replace(' ', "+");
        assert_eq!(
            q,
            format!(
                "KeyName=deploy&ProjectId=3&PublicKey={key}&TagSpecification.0.ResourceType=keypair\
                 &TagSpecification.0.Tags.0.Key=env&TagSpecification.0.Tags.0.Value=ci"
            )
        );
        let json = serde_json::to_string(&tagged).unwrap();
        assert!(json.find("\"PublicKey\"").unwrap() < json.find("\"TagSpecification\"").unwrap(), "{json}");
    }

    #[test]
    fn bad_names_keys_and_tags_are_refused() {
        for (name, key) in [("bad name", KEY), ("deploy", "ssh-rsa AAAA"), ("deploy", ""), ("", KEY)] {
            assert!(matches!(ImportKeyPair::new(name, key), Err(Error::InvalidInput(_))), "{name:?} {key:?}");
        }
        let ok = ImportKeyPair::new("deploy", KEY).unwrap();
        assert!(matches!(ok.with_tags([("k", "a"), ("k", "b")]), Err(Error::InvalidInput(_))));
    }

    #[test]
    fn output_parses_the_key_id_tolerating_unknown_fields() {
        let out: ImportKeyPairOutput =
            serde_json::from_value(json!({"KeyId": "skey-mv9yzyjj", "RequestId": "r-1", "New": null}))
                .unwrap();
        assert_eq!((out.key_id.to_string().as_str(), out.request_id.as_str()), ("skey-mv9yzyjj", "r-1"));
        assert_eq!(
            serde_json::to_value(&out).unwrap(),
            json!({"KeyId": "skey-mv9yzyjj", "RequestId": "r-1"})
        );
        for bad in [
            json!({"KeyId": null, "RequestId": "r"}),
            json!({"RequestId": "r"}),
            json!({"KeyId": "x", "RequestId": "r"}),
        ] {
            assert!(serde_json::from_value::<ImportKeyPairOutput>(bad.clone()).is_err(), "{bad}");
        }
    }
}
