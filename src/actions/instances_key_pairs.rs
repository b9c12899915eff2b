//! `AssociateInstancesKeyPairs` and `DisassociateInstancesKeyPairs`: bind key pairs to
//! instances, or unbind them. Both take the same parameters, checked by one `Binding`.

use serde::Serialize;

use super::validate;
use super::Receipt;
use crate::error::Error;
use crate::key_id::KeyId;
use crate::request::Action;

/// What both actions send, in the official SDK's order: `InstanceIds`, `KeyIds`, `ForceStop`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Binding {
    #[serde(rename = "InstanceIds")]
    instance_ids: Vec<String>,
    #[serde(rename = "KeyIds")]
    key_ids: Vec<KeyId>,
    #[serde(rename = "ForceStop", skip_serializing_if = "Option::is_none")]
    force_stop: Option<bool>,
}

impl Binding {
    fn new<K: AsRef<str>, I: AsRef<str>>(
        key_ids: impl IntoIterator<Item = K>,
        instance_ids: impl IntoIterator<Item = I>,
    ) -> Result<Self, Error> {
        Ok(Binding {
            key_ids: validate::key_ids(key_ids)?,
            instance_ids: validate::instance_ids(instance_ids)?,
            force_stop: None,
        })
    }
}

/// An `AssociateInstancesKeyPairs` request: bind 1 to 100 key pairs to each of 1 to 100
/// instances (`ins-` and 8 of `0-9 a-z`; repeats removed).
///
/// An instance's other key pairs stop working ("the old key will become invalid"), and one
/// that logged in by password no longer can. The API binds only to stopped instances unless
/// [`with_force_stop`](AssociateInstancesKeyPairs::with_force_stop) lets it shut a running
/// one down first. The answer means the request was accepted: the binding shows in
/// `DescribeKeyPairs` (`AssociatedInstanceIds`) once done.
///
/// ```
/// use cvm_keypairs::AssociateInstancesKeyPairs;
/// let bind = AssociateInstancesKeyPairs::new(["skey-mv9yzyjj"], ["ins-1e4r6y8i", "ins-3e56fg78"])?
///     .with_force_stop(true);
/// assert_eq!(
///     serde_json::to_string(&bind)?,
///     r#"{"InstanceIds":["ins-1e4r6y8i","ins-3e56fg78"],"KeyIds":["skey-mv9yzyjj"],"ForceStop":true}"#
/// );
/// assert!(AssociateInstancesKeyPairs::new(["skey-mv9yzyjj"], ["i-123"]).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct AssociateInstancesKeyPairs(Binding);

impl AssociateInstancesKeyPairs {
    /// Binds `key_ids` (strings or [`KeyId`]s) to `instance_ids`: every malformed key pair id
    /// is reported together ([`Error::InvalidKeyIds`]), as is every malformed instance id
    /// ([`Error::InvalidInput`]).
    pub fn new<K: AsRef<str>, I: AsRef<str>>(
        key_ids: impl IntoIterator<Item = K>,
        instance_ids: impl IntoIterator<Item = I>,
    ) -> Result<Self, Error> {
        Binding::new(key_ids, instance_ids).map(AssociateInstancesKeyPairs)
    }

    /// Sends `ForceStop`: `true` lets the API force a running instance to shut down first
    /// (the API's default, when it is not sent, is `false`: running instances are refused).
    pub fn with_force_stop(mut self, force_stop: bool) -> Self {
        self.0.force_stop = Some(force_stop);
        self
    }
}

impl Action for AssociateInstancesKeyPairs {
    type Output = Receipt;

    fn name(&self) -> &'static str {
        "AssociateInstancesKeyPairs"
    }
}

/// A `DisassociateInstancesKeyPairs` request: unbind 1 to 100 key pairs from each of 1 to 100
/// instances, with the same parameters and checks as [`AssociateInstancesKeyPairs`].
///
/// A key pair bound to an instance cannot be deleted; unbinding finishes some time after the
/// answer, when `DescribeKeyPairs` no longer lists the instance.
///
/// ```
/// use cvm_keypairs::DisassociateInstancesKeyPairs;
/// let unbind = DisassociateInstancesKeyPairs::new(["skey-mv9yzyjj"], ["ins-1e4r6y8i"])?;
/// assert_eq!(serde_json::to_string(&unbind)?, r#"{"InstanceIds":["ins-1e4r6y8i"],"KeyIds":["skey-mv9yzyjj"]}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisassociateInstancesKeyPairs(Binding);

impl DisassociateInstancesKeyPairs {
    /// Unbinds `key_ids` (strings or [`KeyId`]s) from `instance_ids`, checked as
    /// [`AssociateInstancesKeyPairs::new`] checks them.
    pub fn new<K: AsRef<str>, I: AsRef<str>>(
        key_ids: impl IntoIterator<Item = K>,
        instance_ids: impl IntoIterator<Item = I>,
    ) -> Result<Self, Error> {
        Binding::new(key_ids, instance_ids).map(DisassociateInstancesKeyPairs)
    }

    /// Sends `ForceStop`: `true` lets the API force a running instance to shut down first.
    pub fn with_force_stop(mut self, force_stop: bool) -> Self {
        self.0.force_stop = Some(force_stop);
        self
    }
}

impl Action for DisassociateInstancesKeyPairs {
    type Output = Receipt;

    fn name(&self) -> &'static str {
        "DisassociateInstancesKeyPairs"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn query(req: &impl Serialize) -> String {
        let mut q = String::new();
        crate::query::write(&mut q, req).unwrap();
        q
    }

    #[test]
    fn both_actions_encode_alike_in_the_sdk_order() {
        let keys = ["skey-bbbbbbbb", "skey-aaaaaaaa", "skey-bbbbbbbb"];
        let instances = ["ins-00000002", "ins-00000001", "ins-00000002"];
        let associate = AssociateInstancesKeyPairs::new(keys, instances).unwrap();
        let disassociate = DisassociateInstancesKeyPairs::new(keys, instances).unwrap();
        let expected = "InstanceIds.0=ins-00000002&InstanceIds.1=ins-00000001\
                        &KeyIds.0=skey-bbbbbbbb&KeyIds.1=skey-aaaaaaaa";
        assert_eq!(query(&associate), expected);
        assert_eq!(query(&disassociate), expected);
        let expected = json!({"InstanceIds": ["ins-00000002", "ins-00000001"], "KeyIds": ["skey-bbbbbbbb", "skey-aaaaaaaa"]});
        assert_eq!(serde_json::to_value(&associate).unwrap(), expected);
        assert_eq!(serde_json::to_value(&disassociate).unwrap(), expected);
        assert_eq!(
            query(&associate.with_force_stop(true)),
            format!("{}&ForceStop=true", query(&disassociate))
        );
        let stopped = disassociate.with_force_stop(false);
        assert_eq!(serde_json::to_value(&stopped).unwrap()["ForceStop"], json!(false));
        assert_eq!(
            serde_json::to_string(&stopped).unwrap(),
            r#"{"InstanceIds":["ins-00000002","ins-00000001"],"KeyIds":["skey-bbbbbbbb","skey-aaaaaaaa"],"ForceStop":false}"#
        );
    }

    #[test]
    fn bad_ids_and_counts_are_refused_before_sending() {
        let key = ["skey-mv9yzyjj"];
        let instance = ["ins-1e4r6y8i"];
        assert!(matches!(
            AssociateInstancesKeyPairs::new(["skey-1"], instance),
            Err(Error::InvalidKeyIds(_))
        ));
        assert!(matches!(
            DisassociateInstancesKeyPairs::new(key, ["ins-1"]),
            Err(Error::InvalidInput(m)) if m.starts_with("invalid instance id \"ins-1\"")
        ));
        let none: [&str; 0] = [];
        assert!(
            matches!(AssociateInstancesKeyPairs::new(none, instance), Err(Error::InvalidInput(m)) if m.ends_with("key pair ids, got 0"))
        );
        assert!(
            matches!(AssociateInstancesKeyPairs::new(key, none), Err(Error::InvalidInput(m)) if m.ends_with("instance ids, got 0"))
        );
        let keys: Vec<String> = (0..101).map(|i| format!("skey-{i:08}")).collect();
        let instances: Vec<String> = (0..101).map(|i| format!("ins-{i:08}")).collect();
        assert!(AssociateInstancesKeyPairs::new(&keys[..100], &instances[..100]).is_ok());
        assert!(
            matches!(AssociateInstancesKeyPairs::new(&keys, instance), Err(Error::InvalidInput(m)) if m.ends_with("got 101"))
        );
        assert!(
            matches!(DisassociateInstancesKeyPairs::new(key, &instances), Err(Error::InvalidInput(m)) if m.ends_with("got 101"))
        );
    }
}
