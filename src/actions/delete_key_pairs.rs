//! `DeleteKeyPairs`: delete 1 to 100 key pairs in one request.

use crate::error::Error;
use crate::key_id::{self, KeyId};
use crate::request::Action;
use crate::tc3::Decimal;

/// The most ids one request may name.
pub const MAX_IDS: usize = 100;

/// A `DeleteKeyPairs` request: 1 to 100 distinct, well-formed key pair ids.
///
/// Repeated ids are removed, keeping each one's first occurrence; the limit applies to what is
/// left.
///
/// ```
/// use cvm_keypairs::DeleteKeyPairs;
/// let req = DeleteKeyPairs::parse(["skey-aaaaaaaa", "skey-bbbbbbbb", "skey-aaaaaaaa"]).unwrap();
/// assert_eq!(req.key_ids().len(), 2);
/// assert!(DeleteKeyPairs::parse(Vec::<&str>::new()).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteKeyPairs {
    key_ids: Vec<KeyId>,
}

impl DeleteKeyPairs {
    /// A request for these ids.
    pub fn new(ids: impl IntoIterator<Item = KeyId>) -> Result<Self, Error> {
        let mut key_ids: Vec<KeyId> = ids.into_iter().collect();
        key_id::dedup(&mut key_ids);
        if key_ids.is_empty() || key_ids.len() > MAX_IDS {
            return Err(Error::KeyIdCount(key_ids.len()));
        }
        Ok(DeleteKeyPairs { key_ids })
    }

    /// Parses every id (all malformed ones are reported together), then as [`DeleteKeyPairs::new`].
    pub fn parse<'a>(ids: impl IntoIterator<Item = &'a str>) -> Result<Self, Error> {
        Self::new(key_id::parse_all(ids)?)
    }

    /// The ids, deduplicated, in the order given.
    pub fn key_ids(&self) -> &[KeyId] {
        &self.key_ids
    }
}

impl Action for DeleteKeyPairs {
    fn name(&self) -> &'static str {
        "DeleteKeyPairs"
    }

    fn write_query(&self, out: &mut String) -> Result<(), Error> {
        write_key_ids_query(out, &self.key_ids);
        Ok(())
    }

    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        write_key_ids_json(out, &self.key_ids);
        Ok(())
    }
}

/// Appends `KeyIds.0=…&KeyIds.1=…` to a query, after a `&` unless it is empty.
pub(crate) fn write_key_ids_query(out: &mut String, ids: &[KeyId]) {
    // Names and ids are all unreserved characters, so nothing needs escaping.
    out.reserve(ids.len() * 24);
    for (i, id) in ids.iter().enumerate() {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str("KeyIds.");
        out.push_str(Decimal::new(i as i64).as_str());
        out.push('=');
        out.push_str(id.as_str());
    }
}

/// Appends the JSON object `{"KeyIds":["skey-…",…]}`.
pub(crate) fn write_key_ids_json(out: &mut Vec<u8>, ids: &[KeyId]) {
    // A KeyId is `skey-[0-9a-z]{8}`, so it needs no JSON escaping.
    out.reserve(14 + ids.len() * 16);
    out.extend_from_slice(b"{\"KeyIds\":[");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(id.as_str().as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(b"]}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("skey-{i:08}")).collect()
    }

    #[test]
    fn takes_one_to_a_hundred_ids() {
        let hundred = ids(100);
        let req = DeleteKeyPairs::parse(hundred.iter().map(String::as_str)).unwrap();
        assert_eq!(req.key_ids().len(), 100);
        let over = ids(101);
        assert!(matches!(
            DeleteKeyPairs::parse(over.iter().map(String::as_str)),
            Err(Error::KeyIdCount(101))
        ));
        assert!(matches!(DeleteKeyPairs::parse([]), Err(Error::KeyIdCount(0))));
    }

    #[test]
    fn the_limit_counts_distinct_ids() {
        let mut with_dup = ids(100);
        with_dup.push(with_dup[0].clone());
        assert_eq!(DeleteKeyPairs::parse(with_dup.iter().map(String::as_str)).unwrap().key_ids().len(), 100);
    }

    #[test]
    fn invalid_ids_are_all_reported() {
        match DeleteKeyPairs::parse(["skey-aaaaaaaa", "skey-1122", "x"]) {
            Err(Error::InvalidKeyIds(bad)) => {
                assert_eq!(bad.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["skey-1122", "x"])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn both_encodings_list_ids_in_order() {
        let req = DeleteKeyPairs::parse(["skey-bbbbbbbb", "skey-aaaaaaaa"]).unwrap();
        let mut q = String::new();
        req.write_query(&mut q).unwrap();
        assert_eq!(q, "KeyIds.0=skey-bbbbbbbb&KeyIds.1=skey-aaaaaaaa");
        let mut j = Vec::new();
        req.write_json(&mut j).unwrap();
        assert_eq!(j, br#"{"KeyIds":["skey-bbbbbbbb","skey-aaaaaaaa"]}"#);
        let parsed: serde_json::Value = serde_json::from_slice(&j).unwrap();
        assert_eq!(parsed, serde_json::json!({"KeyIds": ["skey-bbbbbbbb", "skey-aaaaaaaa"]}));
    }
}
