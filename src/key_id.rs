//! `KeyId`, a key pair id known to be well-formed (`skey-` and eight of `[0-9a-z]`).
//!
//! Ids are checked once, when parsed, so a malformed id is reported before anything is sent
//! and every later step can write ids into a query or JSON body without escaping.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, KeyIdError};

const PREFIX: &str = "skey-";
const LEN: usize = PREFIX.len() + 8;

/// A well-formed key pair id such as `skey-mv9yzyjj`.
///
/// ```
/// use cvm_keypairs::KeyId;
/// let id: KeyId = "skey-mv9yzyjj".parse().unwrap();
/// assert_eq!(id.to_string(), "skey-mv9yzyjj");
/// assert!("skey-1122".parse::<KeyId>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; LEN]);

impl KeyId {
    /// The id as text.
    pub(crate) fn as_str(&self) -> &str {
        // Parsing admits ASCII only.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl FromStr for KeyId {
    type Err = KeyIdError;

    fn from_str(s: &str) -> Result<Self, KeyIdError> {
        let invalid = |reason: &'static str| KeyIdError::new(s, reason);
        if !s.starts_with(PREFIX) {
            return Err(invalid("a key pair id starts with \"skey-\""));
        }
        if s.len() != LEN {
            return Err(invalid("a key pair id is \"skey-\" and 8 characters"));
        }
        if !s.bytes().skip(PREFIX.len()).all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()) {
            return Err(invalid("after \"skey-\" only 0-9 and a-z are allowed"));
        }
        let mut bytes = [0u8; LEN];
        bytes.copy_from_slice(s.as_bytes());
        Ok(KeyId(bytes))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.as_str())
    }
}

impl serde::Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for KeyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl AsRef<str> for KeyId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// Parses every id, reporting all malformed ones at once.
pub(crate) fn parse_all<I: AsRef<str>>(ids: impl IntoIterator<Item = I>) -> Result<Vec<KeyId>, Error> {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for id in ids {
        match id.as_ref().parse() {
            Ok(id) => good.push(id),
            Err(e) => bad.push(e),
        }
    }
    if bad.is_empty() {
        Ok(good)
    } else {
        Err(Error::InvalidKeyIds(bad))
    }
}

/// Removes repeated ids, keeping each one's first occurrence and the order.
pub(crate) fn dedup(ids: &mut Vec<KeyId>) {
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    ids.retain(|id| seen.insert(*id));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_shape() {
        for ok in ["skey-mv9yzyjj", "skey-00000000", "skey-zzzzzzzz", "skey-1a2b3c4d"] {
            assert_eq!(ok.parse::<KeyId>().unwrap().to_string(), ok);
        }
    }

    #[test]
    fn rejects_everything_else_naming_the_id() {
        for bad in [
            "",
            "skey-",
            "skey-1122",
            "skey-mv9yzyjjx",
            "SKEY-mv9yzyjj",
            "skey-MV9YZYJJ",
            "skey_mv9yzyjj",
            " skey-mv9yzyjj",
            "skey-mv9yzyj ",
            "skey-mv9yzyj-",
            "skey-mv9yzyj中",
            "key-mv9yzyjj",
            "skey-mv9y\nyjj",
        ] {
            let err = bad.parse::<KeyId>().unwrap_err();
            assert_eq!(err.id, bad);
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn dedup_keeps_first_occurrences_in_order() {
        let mut ids =
            parse_all(["skey-bbbbbbbb", "skey-aaaaaaaa", "skey-bbbbbbbb", "skey-cccccccc", "skey-aaaaaaaa"])
                .unwrap();
        dedup(&mut ids);
        let shown: Vec<_> = ids.iter().map(KeyId::as_str).collect();
        assert_eq!(shown, ["skey-bbbbbbbb", "skey-aaaaaaaa", "skey-cccccccc"]);
    }

    #[test]
    fn every_malformed_id_is_reported_together() {
        match parse_all(["skey-mv9yzyjj", "bad", "skey-UPPER123"]) {
            Err(Error::InvalidKeyIds(errors)) => assert_eq!(errors.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn serde_round_trip_validates() {
        let id: KeyId = serde_json::from_str("\"skey-mv9yzyjj\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"skey-mv9yzyjj\"");
        assert!(serde_json::from_str::<KeyId>("\"skey-x\"").is_err());
    }
}
