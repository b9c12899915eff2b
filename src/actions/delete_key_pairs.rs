//! `DeleteKeyPairs`: delete 1 to 100 key pairs in one request.

use serde::Serialize;

use super::validate;
use super::Receipt;
use crate::error::Error;
use crate::key_id::{self, KeyId};
use crate::request::Action;

/// A `DeleteKeyPairs` request: 1 to 100 distinct, well-formed key pair ids.
///
/// Success means the API accepted the request; a key bound to an instance or image may be kept
/// all the same, so verify with `DescribeKeyPairs` where it matters
/// ([`crate::Client::delete_key_pairs_all`] does).
///
/// ```
/// use cvm_keypairs::DeleteKeyPairs;
/// let req = DeleteKeyPairs::new(["skey-aaaaaaaa", "skey-bbbbbbbb", "skey-aaaaaaaa"])?;
/// assert_eq!(serde_json::to_string(&req)?, r#"{"KeyIds":["skey-aaaaaaaa","skey-bbbbbbbb"]}"#);
/// assert!(DeleteKeyPairs::new(Vec::<&str>::new()).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeleteKeyPairs {
    #[serde(rename = "KeyIds")]
    key_ids: Vec<KeyId>,
}

impl DeleteKeyPairs {
    /// A request for these ids (strings or [`KeyId`]s): every malformed one is reported
    /// together; repeats are removed, keeping each id's first occurrence; 1 to 100 must be
    /// left.
    pub fn new<I: AsRef<str>>(ids: impl IntoIterator<Item = I>) -> Result<Self, Error> {
        Self::of(key_id::parse_all(ids)?)
    }

    /// A request for ids already parsed.
    pub(crate) fn of(key_ids: Vec<KeyId>) -> Result<Self, Error> {
        Ok(DeleteKeyPairs { key_ids: validate::key_id_list(key_ids)? })
    }
}

impl Action for DeleteKeyPairs {
    type Output = Receipt;

    fn name(&self) -> &'static str {
        "DeleteKeyPairs"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("skey-{i:08}")).collect()
    }

    fn query(req: &DeleteKeyPairs) -> String {
        let mut q = String::new();
        crate::query::write(&mut q, req).unwrap();
        q
    }

    #[test]
    fn takes_one_to_a_hundred_distinct_ids() {
        assert_eq!(DeleteKeyPairs::new(ids(100)).unwrap().key_ids.len(), 100);
        assert!(
            matches!(DeleteKeyPairs::new(ids(101)), Err(Error::InvalidInput(m)) if m.ends_with(", got 101"))
        );
        assert!(
            matches!(DeleteKeyPairs::new(Vec::<String>::new()), Err(Error::InvalidInput(m)) if m.ends_with(", got 0"))
        );
        let mut with_dup = ids(100);
        with_dup.push(with_dup[0].clone());
        assert_eq!(DeleteKeyPairs::new(with_dup).unwrap().key_ids.len(), 100);
    }

    #[test]
    fn invalid_ids_are_all_reported() {
        match DeleteKeyPairs::new(["skey-aaaaaaaa", "skey-1122", "x"]) {
            Err(Error::InvalidKeyIds(bad)) => {
                assert_eq!(bad.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["skey-1122", "x"])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn both_encodings_list_ids_in_order() {
        let req = DeleteKeyPairs::new(["skey-bbbbbbbb", "skey-aaaaaaaa"]).unwrap();
        assert_eq!(query(&req), "KeyIds.0=skey-bbbbbbbb&KeyIds.1=skey-aaaaaaaa");
        assert_eq!(serde_json::to_string(&req).unwrap(), r#"{"KeyIds":["skey-bbbbbbbb","skey-aaaaaaaa"]}"#);
        let parsed: KeyId = "skey-cccccccc".parse().unwrap();
        assert_eq!(DeleteKeyPairs::new([parsed]).unwrap().key_ids, [parsed], "KeyIds are taken too");
    }
}
