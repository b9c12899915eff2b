//! One module per API action: its request type, and the typed result of a call; what several
//! share (the checks on their parameters, tags, the answer that is only a RequestId) is here.

// The STS actions serve the credential sources, which come with the client.
#[cfg(feature = "ureq")]
pub(crate) mod assume_role;
#[cfg(feature = "ureq")]
pub(crate) mod assume_role_with_web_identity;
pub(crate) mod create_key_pair;
pub(crate) mod delete_key_pairs;
pub(crate) mod describe_instances;
pub(crate) mod describe_key_pairs;
pub(crate) mod import_key_pair;
pub(crate) mod instances_key_pairs;
pub(crate) mod modify_key_pair_attribute;
pub(crate) mod validate;

use serde::{Deserialize, Deserializer, Serialize};

/// The answer of an action that returns nothing but its RequestId: `DeleteKeyPairs`,
/// `ModifyKeyPairAttribute`, `AssociateInstancesKeyPairs` and `DisassociateInstancesKeyPairs`.
///
/// It says the API accepted the request, not that it is done: deleting a key bound to an
/// instance, and (dis)associating keys, may take effect later, or not at all, so check with
/// `DescribeKeyPairs` where it matters.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Receipt {
    /// The request's id.
    #[serde(rename = "RequestId", deserialize_with = "crate::bounded::request_id")]
    pub request_id: String,
}

/// A tag on a resource.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Tag {
    /// The tag key.
    #[serde(rename = "Key", default, deserialize_with = "nullable")]
    pub key: String,
    /// The tag value.
    #[serde(rename = "Value", default, deserialize_with = "nullable")]
    pub value: String,
}

/// `null` as the type's default: the API sends `null` for empty lists and unset fields.
pub(crate) fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_is_its_request_id_whatever_else_comes() {
        let receipt: Receipt =
            serde_json::from_str(r#"{"RequestId":"r-1","Unknown":[1],"KeyId":null}"#).unwrap();
        assert_eq!(receipt.request_id, "r-1");
        assert_eq!(serde_json::to_string(&receipt).unwrap(), r#"{"RequestId":"r-1"}"#);
        assert!(serde_json::from_str::<Receipt>(r#"{"RequestId":null}"#).is_err());
        assert!(serde_json::from_str::<Receipt>("{}").is_err());
    }
}
