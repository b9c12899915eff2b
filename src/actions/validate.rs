//! The checks the actions' parameters pass when a request is made, so nothing malformed is
//! ever sent, and the way their messages name a bad value: quoted, control characters escaped,
//! at most [`SHOWN_CHARS`] characters of it.

use serde::Serialize;

use super::Tag;
use crate::bounded::bounded;
use crate::error::Error;
use crate::key_id::{self, KeyId};

/// The most key pair ids, and the most instance ids, one request may name.
pub(crate) const MAX_IDS: usize = 100;
/// The most characters of a bad value that a message shows.
const SHOWN_CHARS: usize = 64;
/// Key pair names: 1 to 25 of `A-Z a-z 0-9 _`, as the API documents.
const MAX_NAME: usize = 25;
/// Key pair descriptions: at most 60 characters, as the API documents.
const MAX_DESCRIPTION: usize = 60;
/// Tag keys and values: Tencent Cloud's tag pages give 127 characters for one and 255 for the
/// other, in either order, so both are bounded by the larger: nothing the API takes is refused
/// here, and the API judges the rest (its character set, reserved prefixes).
const MAX_TAG_CHARS: usize = 255;
/// The most tags a resource may carry, as the tag pages document.
const MAX_TAGS: usize = 50;
/// The longest public key line taken: a 16,384-bit RSA key, the largest OpenSSH makes, is
/// under 2,800 characters with a comment.
const MAX_PUBLIC_KEY: usize = 8192;
/// The key types the API imports.
const KEY_TYPES: [&str; 5] =
    ["ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"];
const INSTANCE_PREFIX: &str = "ins-";
/// The most malformed instance ids a message names.
const NAMED_BAD_IDS: usize = 20;

/// `value` as a message shows it: quoted, escaped, cut at [`SHOWN_CHARS`].
pub(crate) fn shown(value: &str) -> String {
    format!("{:?}", bounded(value, SHOWN_CHARS))
}

fn invalid(message: String) -> Error {
    Error::InvalidInput(message)
}

/// A key pair name: 1 to 25 of letters, digits and underscore.
pub(crate) fn key_name(name: &str) -> Result<String, Error> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    if !(1..=MAX_NAME).contains(&name.len()) || !name.bytes().all(allowed) {
        return Err(invalid(format!(
            "key pair name {}: 1 to {MAX_NAME} of A-Z, a-z, 0-9 and _",
            shown(name)
        )));
    }
    Ok(name.to_owned())
}

/// A key pair description: at most 60 characters (empty clears it).
pub(crate) fn description(text: &str) -> Result<String, Error> {
    let count = text.chars().count();
    if count > MAX_DESCRIPTION {
        return Err(invalid(format!(
            "description {}: {count} characters, at most {MAX_DESCRIPTION}",
            shown(text)
        )));
    }
    Ok(text.to_owned())
}

/// `ids`, repeats removed (each first occurrence kept, in order): 1 to 100 must be left.
pub(crate) fn key_id_list(mut ids: Vec<KeyId>) -> Result<Vec<KeyId>, Error> {
    key_id::dedup(&mut ids);
    count("key pair ids", ids.len())?;
    Ok(ids)
}

/// Parses `ids` as key pair ids, every malformed one reported together, then
/// [`key_id_list`].
pub(crate) fn key_ids<I: AsRef<str>>(ids: impl IntoIterator<Item = I>) -> Result<Vec<KeyId>, Error> {
    key_id_list(key_id::parse_all(ids)?)
}

/// Instance ids (`ins-` and 8 of `0-9 a-z`): every malformed one is named together (the first
/// [`NAMED_BAD_IDS`] of them); repeats are removed, keeping each first occurrence; 1 to 100
/// must be left.
pub(crate) fn instance_ids<I: AsRef<str>>(ids: impl IntoIterator<Item = I>) -> Result<Vec<String>, Error> {
    let (mut good, mut bad) = (Vec::<String>::new(), Vec::new());
    for id in ids {
        let id = id.as_ref();
        if !is_instance_id(id) {
            bad.push(id.to_owned());
        } else if !good.iter().any(|seen| seen == id) {
            good.push(id.to_owned());
        }
    }
    if !bad.is_empty() {
        let mut named: Vec<String> = bad.iter().take(NAMED_BAD_IDS).map(|id| shown(id)).collect();
        if bad.len() > NAMED_BAD_IDS {
            named.push(format!("and {} more", bad.len() - NAMED_BAD_IDS));
        }
        let plural = if bad.len() == 1 { "" } else { "s" };
        return Err(invalid(format!(
            "invalid instance id{plural} {}: an instance id is \"ins-\" and 8 of 0-9, a-z",
            named.join(", ")
        )));
    }
    count("instance ids", good.len())?;
    Ok(good)
}

/// Whether `id` is a well-formed instance id.
pub(crate) fn is_instance_id(id: &str) -> bool {
    id.strip_prefix(INSTANCE_PREFIX).is_some_and(|rest| {
        rest.len() == 8 && rest.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    })
}

/// A page size of a listing: 1 to 100.
pub(crate) fn page_size(limit: u64) -> Result<u64, Error> {
    if !(1..=MAX_IDS as u64).contains(&limit) {
        return Err(invalid(format!("the page size must be 1 to {MAX_IDS}, got {limit}")));
    }
    Ok(limit)
}

fn count(what: &str, n: usize) -> Result<(), Error> {
    if n == 0 || n > MAX_IDS {
        return Err(invalid(format!("a request takes 1 to {MAX_IDS} {what}, got {n}")));
    }
    Ok(())
}

/// Tags to attach to a new key pair, as the API takes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TagSpecification {
    #[serde(rename = "ResourceType")]
    resource_type: &'static str,
    #[serde(rename = "Tags")]
    tags: Vec<Tag>,
}

/// The `TagSpecification` of a key pair with `tags` (empty for none): each key non-empty and
/// given once, keys and values at most 255 characters without control characters, at most 50
/// tags.
pub(crate) fn key_pair_tags<K: Into<String>, V: Into<String>>(
    tags: impl IntoIterator<Item = (K, V)>,
) -> Result<Vec<TagSpecification>, Error> {
    let mut checked: Vec<Tag> = Vec::new();
    for (key, value) in tags {
        let (key, value) = (key.into(), value.into());
        for (what, text) in [("key", &key), ("value", &value)] {
            if text.chars().count() > MAX_TAG_CHARS || text.chars().any(char::is_control) {
                return Err(invalid(format!(
                    "tag {what} {}: at most {MAX_TAG_CHARS} characters, no control characters",
                    shown(text)
                )));
            }
        }
        if key.is_empty() {
            return Err(invalid(format!("the tag with value {} has an empty key", shown(&value))));
        }
        if checked.iter().any(|t| t.key == key) {
            return Err(invalid(format!("tag key {} is given twice", shown(&key))));
        }
        checked.push(Tag { key, value });
    }
    if checked.len() > MAX_TAGS {
        return Err(invalid(format!("{} tags, at most {MAX_TAGS}", checked.len())));
    }
    if checked.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![TagSpecification { resource_type: "keypair", tags: checked }])
}

/// An OpenSSH public key line, `TYPE BASE64 [comment]`, trimmed: TYPE one of [`KEY_TYPES`],
/// BASE64 canonical and decoding to a key blob that starts with TYPE (length-prefixed, as
/// every OpenSSH key blob does), one line of at most 8192 bytes.
pub(crate) fn public_key(text: &str) -> Result<String, Error> {
    let key = text.trim_matches(|c: char| c.is_ascii_whitespace());
    let refuse = |why: String| Err(invalid(format!("public key {}: {why}", shown(key))));
    if key.len() > MAX_PUBLIC_KEY {
        return refuse(format!("{} bytes, at most {MAX_PUBLIC_KEY}", key.len()));
    }
    if key.chars().any(|c| c.is_control() && c != '\t') {
        return refuse("not one line of text (a key file holds one key)".into());
    }
    let mut fields = key.split([' ', '\t']).filter(|f| !f.is_empty());
    let (kind, data) = (fields.next().unwrap_or_default(), fields.next().unwrap_or_default());
    if !KEY_TYPES.contains(&kind) {
        return refuse(format!("the type {} is not one of {}", shown(kind), KEY_TYPES.join(", ")));
    }
    if data.is_empty() {
        return refuse("no key data after the type".into());
    }
    let Some(blob) = crate::base64::decode(data) else {
        return refuse("the key data is not base64".into());
    };
    let mut prefix = (kind.len() as u32).to_be_bytes().to_vec();
    prefix.extend_from_slice(kind.as_bytes());
    if blob.len() <= prefix.len() || !blob.starts_with(&prefix) {
        return refuse(format!("the key data is not a {kind} key"));
    }
    Ok(key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Public keys made by `ssh-keygen`, one of each type.
    const KEYS: [&str; 5] = [
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC057FZ4E2w0E+cbTwfsCr/1vzE6ug8fTJY4B9tAC0MDESJtxTX8H4lQhL9dxDJkZy2uQggaD9zWWZoWOOdEpFy5xKrQ3XjQQ/WFv30vIIIfAlgmZWE024DbooP0AozqN+q+1sT+uUakVIb1yP1Tx/KWJcpcHEyVl/nTdG1o5AoiDhrs1YxvbMUm0VQuByLLa/i/GSbwBnlNbyHw+V/CW9+ff9X+JXmMsa2uXDLgWP8MrAZNpjEe9ARdYj7kvgxz+JSGg7/7aTwPy/DY5gukDB9Dbh+kBu5qVZpfHKLcpbzLZLtqUFybQeyWZ1GsbBELvWZ5aQ0EbbijfOfjhly+GqT deploy",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKTdthVklA9fhih2OIjBQGqdjtK62tDD50tjFMOSNQqs ci@example",
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBBGsygJ/VeXk+JYjy9IdF1frOo2vFFG67f241YKK7zBcEX+5Ujs+wZUfpA3V3C6z0Hjl9B1rfEqe5RLnNl8tjDs=",
        "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBD74N/2CBwOYt+DNwlNJKIdbTb4BjDzCDVrrObqjIZZ+yMw99y5vCmxl9qTdmHphiTUl/4CAwCEXwsgvoD6C4SDsMecW5JoX8HiK8kkPHYH2lm0mEdDanMayBsLLDsgnPA== k384",
        "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBACRQi6kncsz0qcQSHEdGcYMi9Tqvw+Jv04dFeHYaGhpH1jibJHAPWMin2j7SfSqRxQBFCXdzZVsrmmtet4L2rOM/AFWoB0+utEpKlyp4uV6BswZn2q3NLneYWH0trMECaAutCKNWNJB5/WCBMvVfgld5i3aZ94z3p7XHSvvp/RlBfekMg== k521 with spaces",
    ];

    fn message(result: Result<impl std::fmt::Debug, Error>) -> String {
        match result {
            Err(Error::InvalidInput(m)) => m,
            other => panic!("not InvalidInput: {other:?}"),
        }
    }

    fn data(key: &str) -> &str {
        key.split(' ').nth(1).unwrap()
    }

    #[test]
    fn key_names_are_1_to_25_letters_digits_and_underscores() {
        for ok in ["a", "deploy_key_2", &"x".repeat(25), "ABC_123"] {
            assert_eq!(key_name(ok).unwrap(), ok);
        }
        for bad in ["", &"x".repeat(26), "has space", "dash-ed", "dot.ted", "名前", "tab\t"] {
            let m = message(key_name(bad));
            assert!(m.starts_with(&format!("key pair name {bad:?}")), "{m}");
        }
        let m = message(key_name(&format!("{}\u{1b}[31m", "n".repeat(100))));
        assert!(m.starts_with(&format!("key pair name \"{}…\":", "n".repeat(64))), "bounded: {m}");
        let m = message(key_name("x\u{1b}[31m"));
        assert!(m.starts_with(r#"key pair name "x\u{1b}[31m":"#), "escaped: {m}");
    }

    #[test]
    fn descriptions_are_at_most_60_characters() {
        assert_eq!(description(&"é".repeat(60)).unwrap().chars().count(), 60);
        assert_eq!(description("").unwrap(), "");
        let m = message(description(&"é".repeat(61)));
        assert!(m.ends_with(": 61 characters, at most 60"), "{m}");
    }

    #[test]
    fn instance_ids_are_checked_deduplicated_and_counted() {
        let ids = instance_ids(["ins-bbbbbbbb", "ins-0a1b2c3d", "ins-bbbbbbbb"]).unwrap();
        assert_eq!(ids, ["ins-bbbbbbbb", "ins-0a1b2c3d"]);
        let m = message(instance_ids([
            "ins-aaaaaaaa",
            "ins-1",
            "INS-AAAAAAAA",
            "ins-aaaaaaa\n",
            "ins-aaaaaaaaa",
        ]));
        assert_eq!(
            m,
            r#"invalid instance ids "ins-1", "INS-AAAAAAAA", "ins-aaaaaaa\n", "ins-aaaaaaaaa": an instance id is "ins-" and 8 of 0-9, a-z"#
        );
        assert!(message(instance_ids(["x"])).starts_with(r#"invalid instance id "x": "#));
        let many: Vec<String> = (0..30).map(|i| format!("bad{i}")).collect();
        assert!(message(instance_ids(&many)).contains(r#""bad19", and 10 more:"#));
        let hundred: Vec<String> = (0..101).map(|i| format!("ins-{i:08}")).collect();
        assert_eq!(instance_ids(&hundred[..100]).unwrap().len(), 100);
        assert_eq!(message(instance_ids(&hundred)), "a request takes 1 to 100 instance ids, got 101");
        assert_eq!(message(instance_ids(Vec::<&str>::new())), "a request takes 1 to 100 instance ids, got 0");
    }

    #[test]
    fn key_id_lists_are_deduplicated_and_counted() {
        assert_eq!(key_ids(["skey-aaaaaaaa", "skey-aaaaaaaa"]).unwrap().len(), 1);
        assert!(matches!(key_ids(["skey-x"]), Err(Error::InvalidKeyIds(_))));
        let many: Vec<String> = (0..101).map(|i| format!("skey-{i:08}")).collect();
        assert_eq!(message(key_ids(&many)), "a request takes 1 to 100 key pair ids, got 101");
        assert_eq!(message(key_ids(Vec::<&str>::new())), "a request takes 1 to 100 key pair ids, got 0");
    }

    #[test]
    fn tags_become_one_key_pair_tag_specification() {
        let spec = key_pair_tags([("env", "ci"), ("owner", "")]).unwrap();
        assert_eq!(
            serde_json::to_string(&spec).unwrap(),
            r#"[{"ResourceType":"keypair","Tags":[{"Key":"env","Value":"ci"},{"Key":"owner","Value":""}]}]"#
        );
        assert!(key_pair_tags(Vec::<(String, String)>::new()).unwrap().is_empty());
        let fifty: Vec<(String, &str)> = (0..50).map(|i| (format!("k{i}"), "v")).collect();
        assert_eq!(key_pair_tags(fifty.clone()).unwrap()[0].tags.len(), 50);
        let mut fifty_one = fifty;
        fifty_one.push(("k50".into(), "v"));
        assert_eq!(message(key_pair_tags(fifty_one)), "51 tags, at most 50");
        assert_eq!(key_pair_tags([("键".repeat(255), "v".repeat(255))]).unwrap()[0].tags.len(), 1);
        for (bad, says) in [
            (("", "v"), r#"the tag with value "v" has an empty key"#),
            (("k\n", "v"), r#"tag key "k\n": at most 255 characters, no control characters"#),
            (("k", "v\u{7}"), r#"tag value "v\u{7}": at most 255 characters, no control characters"#),
            (("a", "1"), r#"tag key "a" is given twice"#),
        ] {
            assert_eq!(message(key_pair_tags([("a", "0"), bad])), says);
        }
        assert!(message(key_pair_tags([("k".repeat(256), "v")])).starts_with("tag key \"kkk"));
        assert!(message(key_pair_tags([("k", "v".repeat(256))])).starts_with("tag value \"vvv"));
    }

    #[test]
    fn public_keys_of_every_type_are_taken_trimmed() {
        for (key, kind) in KEYS.iter().zip(KEY_TYPES) {
            assert!(key.starts_with(kind));
            assert_eq!(public_key(&format!("  {key}\r\n")).unwrap(), *key);
            let bare = format!("{kind} {}", data(key));
            assert_eq!(public_key(&bare).unwrap(), bare, "no comment");
        }
        let tabbed = KEYS[1].replacen(' ', "\t", 1);
        assert_eq!(public_key(&tabbed).unwrap(), tabbed);
    }

    #[test]
    fn malformed_public_keys_are_refused_saying_why() {
        let ed = data(KEYS[1]);
        let cases = [
            (String::new(), r#"the type "" is not one of ssh-rsa, ssh-ed25519, ecdsa-sha2-nistp256"#),
            (format!("ssh-dss {ed}"), r#"the type "ssh-dss" is not one of"#),
            (format!("from=\"x\" {}", KEYS[1]), "is not one of"),
            ("ssh-ed25519".to_owned(), "no key data after the type"),
            (format!("ssh-ed25519 {}", &ed[1..]), "the key data is not base64"),
            (format!("ssh-ed25519 {ed}!"), "the key data is not base64"),
            (format!("ssh-ed25519 {}", ed.replace('A', "-")), "the key data is not base64"),
            (format!("ssh-rsa {ed}"), "the key data is not a ssh-rsa key"),
            (format!("ssh-ed25519 {}", data(KEYS[0])), "the key data is not a ssh-ed25519 key"),
            (format!("ecdsa-sha2-nistp384 {}", data(KEYS[2])), "is not a ecdsa-sha2-nistp384 key"),
            // The type alone, with no key after it.
            ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5".to_owned(), "the key data is not a ssh-ed25519 key"),
            (format!("{}\n{}", KEYS[1], KEYS[1]), "not one line of text"),
            (format!("{} \u{1b}[2J", KEYS[1]), "not one line of text"),
            (format!("{} {}", KEYS[1], "c".repeat(8192)), "bytes, at most 8192"),
        ];
        for (bad, says) in cases {
            let m = message(public_key(&bad));
            assert!(m.contains(says), "{bad:?}: {m}");
            assert!(m.starts_with("public key \""), "{m}");
            assert!(m.chars().count() < 250, "bounded: {m}");
            assert!(!m.contains('\n') && !m.contains('\u{1b}'), "escaped: {m}");
        }
    }
}
