//! Key material: the API's rule for an OpenSSH public key, and the stand-in keys CreateKeyPair
//! hands out.
//!
//! A public key is one line `TYPE BASE64 [comment]` whose decoded blob starts with TYPE as an
//! SSH string (a 4-byte big-endian length, then the bytes), TYPE one of [`KEY_TYPES`]; that is
//! all the API can check without the key's maths, and all it needs to refuse a private key, a
//! PEM file or a truncated paste. The keys CreateKeyPair makes look like OpenSSH keys but are
//! random bytes, and say so in clear text inside, so nobody mistakes one for a working key.

use super::faults::SplitMix64;

/// The key types the API takes.
pub(crate) const KEY_TYPES: [&str; 5] =
    ["ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"];

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Decodes padded standard base64; `None` for anything else (wrong length, a character outside
/// the alphabet, `=` before the end).
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if bytes.len() % 4 != 0 {
        return None;
    }
    let padding = bytes.iter().rev().take(2).take_while(|&&b| b == b'=').count();
    let data = &bytes[..bytes.len() - padding];
    let value = |c: u8| ALPHABET.iter().position(|&a| a == c).map(|v| v as u32);
    let (mut out, mut acc, mut bits) = (Vec::with_capacity(bytes.len() / 4 * 3), 0u32, 0);
    for &c in data {
        acc = (acc << 6) | value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// Standard base64 with padding.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Why `text` is not a public key the API takes, if it is not one.
pub(crate) fn public_key_problem(text: &str) -> Option<String> {
    if text.contains(['\n', '\r']) {
        return Some("a public key is one line".into());
    }
    let mut parts = text.splitn(3, ' ');
    let (key_type, blob) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !KEY_TYPES.contains(&key_type) {
        let shown: String = key_type.chars().take(32).collect();
        return Some(format!("the key type {shown:?} is not one of {}", KEY_TYPES.join(", ")));
    }
    let Some(decoded) = base64_decode(blob).filter(|_| !blob.is_empty()) else {
        return Some("the key is not `TYPE BASE64 [comment]` with padded standard base64".into());
    };
    let mut prefix = (key_type.len() as u32).to_be_bytes().to_vec();
    prefix.extend_from_slice(key_type.as_bytes());
    if !decoded.starts_with(&prefix) {
        return Some(format!("the decoded key does not start with its type {key_type}"));
    }
    None
}

/// The part of a (valid) public key that identifies it: type and blob, without the comment.
pub(crate) fn public_key_identity(text: &str) -> &str {
    let text = text.trim();
    let mut spaces = text.match_indices(' ').map(|(i, _)| i);
    match (spaces.next(), spaces.next()) {
        (Some(_), Some(second)) => &text[..second],
        _ => text,
    }
}

/// A fresh key pair for CreateKeyPair: an `ssh-rsa` public key line and an OpenSSH-armoured
/// private key, both random and both saying in clear text that they are not real keys.
pub(crate) fn generate(rng: &mut SplitMix64, key_name: &str) -> (String, String) {
    let mut random = || rng.next_u64().to_be_bytes();
    let mut blob = ssh_string(b"ssh-rsa");
    blob.extend(ssh_string(&[1, 0, 1]));
    let mut modulus = b"\0cvm-keypairs-emulator: not a real RSA modulus ".to_vec();
    while modulus.len() < 257 {
        modulus.extend(random());
    }
    modulus.truncate(257);
    blob.extend(ssh_string(&modulus));
    let public = format!("ssh-rsa {} {key_name}", base64_encode(&blob));

    let mut inner = b"cvm-keypairs-emulator: NOT A REAL PRIVATE KEY. It opens nothing; ".to_vec();
    inner.extend(format!("it only stands for the one CreateKeyPair returned for {key_name}. ").as_bytes());
    for _ in 0..24 {
        inner.extend(random());
    }
    let body = base64_encode(&inner);
    let lines: Vec<&str> =
        body.as_bytes().chunks(70).map(|line| std::str::from_utf8(line).unwrap_or("")).collect();
    let private = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
        lines.join("\n")
    );
    (public, private)
}

fn ssh_string(bytes: &[u8]) -> Vec<u8> {
    let mut out = (bytes.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real (public) ed25519 key line: type, blob, comment.
    const ED25519: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host";

    #[test]
    fn base64_round_trips_and_refuses_what_is_not_padded_base64() {
        for text in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            let encoded = base64_encode(text.as_bytes());
            assert_eq!(base64_decode(&encoded).as_deref(), Some(text.as_bytes()), "{encoded}");
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        for bad in ["Zm8", "Zm=8", "Zm 8", "Zm8=Zm8=", "Z===", "Zm8*"] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn public_keys_must_be_one_line_of_a_known_type_whose_blob_starts_with_it() {
        assert_eq!(public_key_problem(ED25519), None);
        assert_eq!(public_key_problem(ED25519.rsplit_once(' ').unwrap().0), None, "the comment is optional");
        let rsa_blob = base64_encode(&[ssh_string(b"ssh-rsa"), ssh_string(&[1, 0, 1])].concat());
        assert_eq!(public_key_problem(&format!("ssh-rsa {rsa_blob} a comment with spaces")), None);
        for key_type in KEY_TYPES {
            let blob = base64_encode(&ssh_string(key_type.as_bytes()));
            assert_eq!(public_key_problem(&format!("{key_type} {blob}")), None, "{key_type}");
        }
        let wrong_type = ED25519.replacen("ssh-ed25519", "ssh-rsa", 1);
        for (bad, why) in [
            (format!("{ED25519}\nssh-rsa AAAA"), "one line"),
            ("ssh-dss AAAAB3NzaC1kc3M= x".to_owned(), "not one of"),
            ("-----BEGIN OPENSSH PRIVATE KEY-----".into(), "not one of"),
            ("ssh-ed25519".into(), "padded standard base64"),
            ("ssh-ed25519  AAAAC3NzaC1lZDI1NTE5".into(), "padded standard base64"),
            (
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJ".into(),
                "base64",
            ),
            (wrong_type, "does not start with its type ssh-rsa"),
            (format!("ssh-rsa {}", base64_encode(b"\0\0\0")), "does not start"),
        ] {
            let problem = public_key_problem(&bad).unwrap_or_else(|| panic!("{bad:?} passed"));
            assert!(problem.contains(why), "{bad:?}: {problem}");
        }
    }

    #[test]
    fn identity_leaves_out_the_comment() {
        let bare = ED25519.rsplit_once(' ').unwrap().0;
        assert_eq!(public_key_identity(ED25519), bare);
        assert_eq!(public_key_identity(bare), bare);
        assert_eq!(public_key_identity(&format!("{bare} other comment")), bare);
    }

    #[test]
    fn generated_keys_pass_the_public_key_rule_differ_and_say_they_are_not_real() {
        let mut rng = SplitMix64::new(7);
        let (public, private) = generate(&mut rng, "web_1");
        let (public2, private2) = generate(&mut rng, "web_1");
        assert_eq!(public_key_problem(&public), None, "{public}");
        assert!(public.starts_with("ssh-rsa AAAAB3NzaC1yc2E") && public.ends_with(" web_1"), "{public}");
        assert_ne!((public_key_identity(&public), &private), (public_key_identity(&public2), &private2));
        assert!(private.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"), "{private}");
        assert!(private.ends_with("\n-----END OPENSSH PRIVATE KEY-----\n"), "{private}");
        let body: String = private.lines().filter(|l| !l.starts_with("-----")).collect();
        let inner = String::from_utf8_lossy(&base64_decode(&body).unwrap()).into_owned();
        assert!(inner.starts_with("cvm-keypairs-emulator: NOT A REAL PRIVATE KEY."), "{inner}");
        assert!(private.lines().all(|l| l.len() <= 70));
    }
}
