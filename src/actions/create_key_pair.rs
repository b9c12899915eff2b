//! `CreateKeyPair`: have the API make a key pair, and receive its private key, once.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use super::describe_key_pairs::KeyPair;
use super::validate::{self, TagSpecification};
use crate::error::Error;
use crate::request::Action;

/// A `CreateKeyPair` request: a name (1 to 25 of letters, digits and `_`, unique in the
/// account), the project (0, the default project, unless set: the API requires one) and tags.
/// Its parameters go in the official SDK's order: `KeyName`, `ProjectId`, `TagSpecification`.
///
/// The answer carries the private key, and the API gives it this once: send the request with
/// [`Client::execute`](crate::Client::execute), not `execute_retrying`, since a retry after a
/// lost answer is refused for the name already taken while the key pair made first (whose
/// private key is then lost) stays; delete that one and create again.
///
/// ```
/// use std::sync::Arc;
/// use cvm_keypairs::{Client, CreateKeyPair, Credentials, Error, HttpRequest, HttpResponse};
///
/// let create = CreateKeyPair::new("ci_deploy")?.with_project_id(7).with_tags([("env", "ci")])?;
/// assert_eq!(
///     serde_json::to_string(&create)?,
///     r#"{"KeyName":"ci_deploy","ProjectId":7,"TagSpecification":[{"ResourceType":"keypair","Tags":[{"Key":"env","Value":"ci"}]}]}"#
/// );
/// assert!(CreateKeyPair::new("no spaces allowed").is_err());
///
/// // What the API answers, from a stand-in for the network.
/// let answer = r#"{"Response":{"KeyPair":{"KeyId":"skey-mv9yzyjj","KeyName":"ci_deploy",
///     "ProjectId":7,"PublicKey":"ssh-rsa AAAA…","PrivateKey":"-----BEGIN RSA PRIVATE KEY-----\n…"},
///     "RequestId":"r-1"}}"#;
/// let fake = move |_: &HttpRequest| -> Result<HttpResponse, Error> {
///     Ok(HttpResponse { status: 200, body: answer.into(), ..Default::default() })
/// };
/// let client = Client::builder()
///     .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE")?)
///     .region("ap-guangzhou")
///     .transport(Arc::new(fake))
///     .build()?;
/// let created = client.execute(&create)?;
/// assert_eq!(created.key_pair.key_id.to_string(), "skey-mv9yzyjj");
/// assert!(created.private_key.expose_secret().starts_with("-----BEGIN RSA PRIVATE KEY-----"));
/// assert!(!format!("{created:?}").contains("BEGIN"), "Debug hides the private key");
/// assert!(!serde_json::to_string(&created)?.contains("BEGIN"), "and so does its JSON form");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateKeyPair {
    #[serde(rename = "KeyName")]
    key_name: String,
    #[serde(rename = "ProjectId")]
    project_id: u64,
    #[serde(rename = "TagSpecification", skip_serializing_if = "Vec::is_empty")]
    tags: Vec<TagSpecification>,
}

impl CreateKeyPair {
    /// A key pair named `name`, in the default project, without tags.
    pub fn new(name: &str) -> Result<Self, Error> {
        Ok(CreateKeyPair { key_name: validate::key_name(name)?, project_id: 0, tags: Vec::new() })
    }

    /// In project `id` (0 is the default project).
    pub fn with_project_id(mut self, id: u64) -> Self {
        self.project_id = id;
        self
    }

    /// With these tags, `(key, value)`, replacing any given before: each key non-empty and
    /// given once, keys and values at most 255 characters without control characters, at most
    /// 50 tags (the API judges the characters allowed).
    pub fn with_tags<K: Into<String>, V: Into<String>>(
        mut self,
        tags: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, Error> {
        self.tags = validate::key_pair_tags(tags)?;
        Ok(self)
    }
}

impl Action for CreateKeyPair {
    type Output = CreateKeyPairOutput;

    fn name(&self) -> &'static str {
        "CreateKeyPair"
    }
}

/// What `CreateKeyPair` answers: the new key pair and its private key.
///
/// `Debug` shows the private key as `***`, and the JSON form (`Serialize`) leaves it out: it
/// is reached only through [`PrivateKey::expose_secret`].
#[derive(Debug, Deserialize, Serialize)]
#[serde(from = "Answer")]
#[non_exhaustive]
pub struct CreateKeyPairOutput {
    /// The key pair as the API made it.
    #[serde(rename = "KeyPair")]
    pub key_pair: KeyPair,
    /// Its private key.
    #[serde(skip_serializing)]
    pub private_key: PrivateKey,
    /// The request's id.
    #[serde(rename = "RequestId")]
    pub request_id: String,
}

/// The answer as it comes: the private key is a member of the `KeyPair` object.
#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "KeyPair")]
    key_pair: Created,
    #[serde(rename = "RequestId", deserialize_with = "crate::bounded::request_id")]
    request_id: String,
}

#[derive(Deserialize)]
struct Created {
    #[serde(flatten)]
    key_pair: KeyPair,
    #[serde(rename = "PrivateKey")]
    private_key: PrivateKey,
}

impl From<Answer> for CreateKeyPairOutput {
    fn from(answer: Answer) -> Self {
        let Created { key_pair, private_key } = answer.key_pair;
        CreateKeyPairOutput { key_pair, private_key, request_id: answer.request_id }
    }
}

/// A private key, as the API gave it (PEM text): a secret.
///
/// Its `Debug` is `PrivateKey(***)`; it has no `Display`, no `Serialize` and no `Clone`, so
/// it is not printed, logged or copied by accident: [`PrivateKey::expose_secret`] is the one
/// way to its text, to write it where it belongs (a file only its owner can read).
///
/// ```
/// # fn save(created: &cvm_keypairs::CreateKeyPairOutput) -> std::io::Result<()> {
/// std::fs::write("id_ci_deploy", created.private_key.expose_secret())
/// # }
/// ```
///
/// None of these compile:
///
/// ```compile_fail
/// fn shown(key: &cvm_keypairs::PrivateKey) -> String {
///     format!("{key}")
/// }
/// ```
/// ```compile_fail
/// fn json(key: &cvm_keypairs::PrivateKey) -> String {
///     serde_json::to_string(key).unwrap()
/// }
/// ```
/// ```compile_fail
/// fn copy(key: &cvm_keypairs::PrivateKey) -> cvm_keypairs::PrivateKey {
///     key.clone()
/// }
/// ```
pub struct PrivateKey(String);

impl PrivateKey {
    /// The private key's text. Handle with care: never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey(***)")
    }
}

impl<'de> Deserialize<'de> for PrivateKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let key = String::deserialize(d)?;
        // An empty key would be written out as if it were one; the error shows no value.
        if key.trim().is_empty() {
            return Err(serde::de::Error::custom("the private key is empty"));
        }
        Ok(PrivateKey(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// Not a key: PEM-shaped text, made up.
    pub(super) const PEM: &str =
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAmadeUpNotAKeyAtAll0123456789\n-----END RSA PRIVATE KEY-----\n";

    fn query(req: &CreateKeyPair) -> String {
        let mut q = String::new();
        crate::query::write(&mut q, req).unwrap();
        q
    }

    #[test]
    fn both_encodings_follow_the_sdk_order() {
        let plain = CreateKeyPair::new("deploy").unwrap();
        assert_eq!(serde_json::to_value(&plain).unwrap(), json!({"KeyName": "deploy", "ProjectId": 0}));
        assert_eq!(query(&plain), "KeyName=deploy&ProjectId=0");
        let tagged = plain.with_project_id(1_002_189).with_tags([("env", "ci run"), ("team", "é")]).unwrap();
        assert_eq!(
            serde_json::to_string(&tagged).unwrap(),
            r#"{"KeyName":"deploy","ProjectId":1002189,"TagSpecification":[{"ResourceType":"keypair","Tags":[{"Key":"env","Value":"ci run"},{"Key":"team","Value":"é"}]}]}"#
        );
        assert_eq!(
            query(&tagged),
            "KeyName=deploy&ProjectId=1002189&TagSpecification.0.ResourceType=keypair\
             &TagSpecification.0.Tags.0.Key=env&TagSpecification.0.Tags.0.Value=ci+run\
             &TagSpecification.0.Tags.1.Key=team&TagSpecification.0.Tags.1.Value=%C3%A9"
        );
        let untagged = tagged.with_tags(Vec::<(String, String)>::new()).unwrap();
        assert_eq!(query(&untagged), "KeyName=deploy&ProjectId=1002189", "tags replaced, none left");
    }

    #[test]
    fn bad_names_and_tags_are_refused() {
        for bad in ["", "a-b", &"n".repeat(26)] {
            assert!(matches!(CreateKeyPair::new(bad), Err(Error::InvalidInput(_))), "{bad:?}");
        }
        let ok = CreateKeyPair::new("n").unwrap();
        assert!(matches!(ok.with_tags([("", "v")]), Err(Error::InvalidInput(_))));
    }

    #[test]
    fn output_holds_the_key_pair_and_hides_the_private_key() {
        let body = json!({
            "KeyPair": {"KeyId": "skey-mv9yzyjj", "KeyName": "deploy", "ProjectId": 0, "Description": null,
                        "PublicKey": "ssh-rsa AAAA", "PrivateKey": PEM, "AssociatedInstanceIds": null,
                        "CreatedTime": "2020-09-22T09:31:26Z", "Tags": [{"Key": "env", "Value": "ci"}],
                        "SomethingNew": 1},
            "RequestId": "r-1",
            "Extra": [1]
        });
        let out: CreateKeyPairOutput = serde_json::from_value(body).unwrap();
        assert_eq!(out.private_key.expose_secret(), PEM);
        assert_eq!(
            (out.key_pair.key_id.to_string(), out.request_id.as_str()),
            ("skey-mv9yzyjj".into(), "r-1")
        );
        assert_eq!(out.key_pair.tags[0].value, "ci");
        assert!(out.key_pair.associated_instance_ids.is_empty() && out.key_pair.description.is_empty());
        let shown = format!("{out:?} {out:#?} {:?}", out.private_key);
        assert!(!shown.contains("MIIE") && shown.contains("PrivateKey(***)"), "{shown}");
        let json: Value = serde_json::to_value(&out).unwrap();
        assert!(!json.to_string().contains("MIIE"), "{json}");
        assert_eq!(json["KeyPair"]["KeyId"], "skey-mv9yzyjj");
        assert_eq!(json["RequestId"], "r-1");
    }

    #[test]
    fn an_answer_without_a_usable_private_key_is_refused_without_showing_it() {
        let answer =
            |key: Value| json!({"KeyPair": {"KeyId": "skey-mv9yzyjj", "PrivateKey": key}, "RequestId": "r"});
        for key in [Value::Null, json!(""), json!("  \n"), json!(7)] {
            let error = serde_json::from_value::<CreateKeyPairOutput>(answer(key.clone())).unwrap_err();
            assert!(!error.to_string().is_empty(), "{key}");
        }
        let missing = json!({"KeyPair": {"KeyId": "skey-mv9yzyjj"}, "RequestId": "r"});
        assert!(serde_json::from_value::<CreateKeyPairOutput>(missing).is_err());
        let bad_id = answer(json!(PEM));
        let bad_id = serde_json::to_string(&bad_id).unwrap().replace("skey-mv9yzyjj", "skey-x");
        let error = serde_json::from_str::<CreateKeyPairOutput>(&bad_id).unwrap_err();
        assert!(!error.to_string().contains("MIIE"), "{error}");
    }
}
