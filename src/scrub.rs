//! Keeps the secrets a request was signed with out of everything its response gives back.
//!
//! A server (or a gateway in front of it) may echo the session token, or even the secret key,
//! in any field: the RequestId, an error code or message, an HTML page, a key pair's name. It
//! may echo it whole or cut short (`token tk-Vx7Qw2… is invalid`). So the response body is
//! scrubbed before anything is parsed out of it: every run of at least [`MIN_SECRET`]
//! characters that starts like a secret (its first characters, then as far as it goes on
//! matching) becomes `***`, first in the raw bytes (which covers HTML, broken JSON and plain
//! JSON strings), then, when the body holds an escape that could spell a secret in disguise
//! (`\u0074ok…`, `\/`), in every string of the parsed JSON. Texts that this crate cuts short
//! are scrubbed once more after parsing, since a cut can leave a shorter start of a secret.
//!
//! A response may also carry a secret of its own: `CreateKeyPair` answers with the new key's
//! private key. That body must be parsed as it is, so the private key is kept out of the texts
//! an error takes from a body instead ([`without_private_keys`]): every PEM block (`-----BEGIN`
//! to the end of its `-----END …-----` line, or to the end of the text when cut) and the value
//! of every `"PrivateKey"` member become `***`.

use std::borrow::Cow;

use crate::credentials::Credentials;
use crate::error::Error;
use crate::http::HttpResponse;

/// What a secret is replaced with.
pub(crate) const MASK: &str = "***";

/// The shortest start of a secret that is masked at the end of a cut text: shorter ones are
/// too likely to be ordinary text.
const MIN_CUT_PREFIX: usize = 4;
/// The shortest secret that is masked at all, and the shortest start of one that is masked
/// anywhere: a shorter one (real secret keys have 32 characters) would turn ordinary words
/// into `***` and tells nothing when echoed.
const MIN_SECRET: usize = 8;

/// The secrets of one request.
#[derive(Clone, Copy, Default)]
pub(crate) struct Secrets<'a> {
    token: Option<&'a str>,
    key: Option<&'a str>,
}

impl<'a> Secrets<'a> {
    /// The secret key and session token of `credentials`.
    pub(crate) fn of(credentials: &'a Credentials) -> Self {
        Secrets { token: credentials.token(), key: Some(credentials.secret_key()) }
    }

    /// A single secret that is neither a key nor a session token, e.g. a web identity token.
    pub(crate) fn one(secret: &'a str) -> Self {
        Secrets { token: Some(secret), key: None }
    }

    fn each(&self) -> impl Iterator<Item = &'a str> {
        [self.token, self.key].into_iter().flatten().filter(|s| s.len() >= MIN_SECRET)
    }

    /// `response` with every secret masked in its body; borrowed when there was none.
    pub(crate) fn response<'r>(&self, response: &'r HttpResponse) -> Cow<'r, HttpResponse> {
        match self.body(&response.body) {
            Cow::Borrowed(_) => Cow::Borrowed(response),
            Cow::Owned(body) => Cow::Owned(HttpResponse { body, ..response.clone() }),
        }
    }

    fn body<'b>(&self, body: &'b [u8]) -> Cow<'b, [u8]> {
        let mut body = Cow::Borrowed(body);
        for secret in self.each() {
            if let Some(masked) = mask(&body, secret) {
                body = Cow::Owned(masked);
            }
        }
        if body.contains(&b'\\') {
            if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&body) {
                if self.value(&mut value) {
                    body = Cow::Owned(value.to_string().into_bytes());
                }
            }
        }
        body
    }

    /// Masks the secrets in every string of `value`, keys included; whether any was found.
    fn value(&self, value: &mut serde_json::Value) -> bool {
        use serde_json::Value;
        match value {
            Value::String(s) => self.text(s),
            Value::Array(items) => items.iter_mut().fold(false, |found, v| self.value(v) | found),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                let mut found = false;
                for (mut key, mut v) in entries {
                    found |= self.text(&mut key) | self.value(&mut v);
                    map.insert(key, v);
                }
                found
            }
            _ => false,
        }
    }

    /// Masks every run in `text` that starts like a secret; whether any was found.
    pub(crate) fn text(&self, text: &mut String) -> bool {
        let mut found = false;
        for secret in self.each() {
            if let Some(masked) = mask(text.as_bytes(), secret) {
                // Whole characters of the secret were replaced by ASCII: still UTF-8.
                *text = String::from_utf8_lossy(&masked).into_owned();
                found = true;
            }
        }
        found
    }

    /// Masks the secrets in `text`, and a start of one left at its end by a cut (with or
    /// without the `…` that marks the cut).
    pub(crate) fn cut_text(&self, text: &mut String) {
        self.text(text);
        for secret in self.each() {
            let kept = text.strip_suffix('…').unwrap_or(text).len();
            let cut = (MIN_CUT_PREFIX..secret.len())
                .rev()
                .filter(|&n| secret.is_char_boundary(n))
                .find(|&n| text[..kept].ends_with(&secret[..n]));
            if let Some(n) = cut {
                text.replace_range(kept - n..kept, MASK);
            }
        }
    }

    /// `error` with the secrets masked in every text it took from a response.
    pub(crate) fn error(&self, mut error: Error) -> Error {
        match &mut error {
            Error::Api { code, message, request_id, .. } => {
                let mut text = code.as_str().to_owned();
                self.cut_text(&mut text);
                if text != code.as_str() {
                    *code = crate::error::ErrorCode::new(&text);
                }
                self.cut_text(message);
                request_id.iter_mut().for_each(|id| self.cut_text(id));
            }
            Error::Http { snippet: text, request_id, .. }
            | Error::Decode { message: text, request_id, .. } => {
                self.cut_text(text);
                request_id.iter_mut().for_each(|id| self.cut_text(id));
            }
            Error::Transport { message, .. } => self.cut_text(message),
            _ => {}
        }
        error
    }
}

/// `haystack` with every run that starts like `secret` (its first [`MIN_SECRET`] bytes, then
/// as many more as go on matching, ending on a character boundary of the secret) replaced by
/// [`MASK`]; `None` when there is none.
fn mask(haystack: &[u8], secret: &str) -> Option<Vec<u8>> {
    let secret = secret.as_bytes();
    let start = &secret[..MIN_SECRET.min(secret.len())];
    let mut out: Option<Vec<u8>> = None;
    let (mut copied, mut at) = (0, 0);
    while let Some(found) = find(&haystack[at..], start) {
        let begin = at + found;
        let mut len = haystack[begin..].iter().zip(secret).take_while(|(a, b)| a == b).count();
        while len > start.len() && !is_char_start(secret.get(len)) {
            len -= 1;
        }
        let out = out.get_or_insert_with(|| Vec::with_capacity(haystack.len()));
        out.extend_from_slice(&haystack[copied..begin]);
        out.extend_from_slice(MASK.as_bytes());
        copied = begin + len;
        at = copied;
    }
    let mut out = out?;
    out.extend_from_slice(&haystack[copied..]);
    Some(out)
}

/// `text` with every PEM block and the string value of every `"PrivateKey"` member replaced by
/// [`MASK`] (each to the end of `text` when it is cut short); borrowed when there is none.
pub(crate) fn without_private_keys(text: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    while let Some(found) = [pem_block(text, copied), private_key_member(text, copied)]
        .into_iter()
        .flatten()
        // A member's value that starts as a PEM block is masked whole, to its closing quote.
        .min_by_key(|found| (found.start, std::cmp::Reverse(found.end)))
    {
        out.push_str(&text[copied..found.start]);
        out.push_str(MASK);
        copied = found.end;
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// The first PEM block in `text` from `from` on: `-----BEGIN` to the `-----` that closes its
/// `-----END` line, or to the end of `text`.
fn pem_block(text: &str, from: usize) -> Option<std::ops::Range<usize>> {
    const BEGIN: &str = "-----BEGIN";
    const END: &str = "-----END";
    let start = from + text[from..].find(BEGIN)?;
    let after_begin = start + BEGIN.len();
    let end = text[after_begin..]
        .find(END)
        .map(|at| after_begin + at + END.len())
        .and_then(|label| text[label..].find("-----").map(|at| label + at + "-----".len()))
        .unwrap_or(text.len());
    Some(start..end)
}

/// The value of the first `"PrivateKey": "…"` member in `text` from `from` on, without its
/// quotes: up to its closing quote, or to the end of `text`.
fn private_key_member(text: &str, from: usize) -> Option<std::ops::Range<usize>> {
    const KEY: &str = "\"PrivateKey\"";
    let mut at = from;
    loop {
        at += text[at..].find(KEY)? + KEY.len();
        let rest = text[at..].trim_start();
        let Some(value) = rest.strip_prefix(':').map(str::trim_start).and_then(|v| v.strip_prefix('"'))
        else {
            continue;
        };
        let start = text.len() - value.len();
        let mut escaped = false;
        let len = value
            .bytes()
            .position(|b| {
                let closes = b == b'"' && !escaped;
                escaped = b == b'\\' && !escaped;
                closes
            })
            .unwrap_or(value.len());
        return Some(start..start + len);
    }
}

/// Whether a character starts at `byte` (or the string ends there).
fn is_char_start(byte: Option<&u8>) -> bool {
    byte.is_none_or(|&b| (b as i8) >= -0x40)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    // Every answer's body is searched, and bodies are JSON text: the standard library's
    // substring search is many times faster than the byte loop below, kept for other bytes.
    if let (Ok(haystack), Ok(needle)) = (std::str::from_utf8(haystack), std::str::from_utf8(needle)) {
        return haystack.find(needle);
    }
    let first = needle[0];
    (0..=haystack.len() - needle.len())
        .find(|&i| haystack[i] == first && &haystack[i..i + needle.len()] == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "tok-SECRET-0123456789";
    const KEY: &str = "key-SECRET-9876543210";

    fn secrets() -> Secrets<'static> {
        Secrets { token: Some(TOKEN), key: Some(KEY) }
    }

    fn scrubbed(body: &str) -> String {
        String::from_utf8(secrets().body(body.as_bytes()).into_owned()).unwrap()
    }

    #[test]
    fn raw_occurrences_of_either_secret_are_masked() {
        let out = scrubbed(&format!("<html>{TOKEN} and {KEY}{TOKEN}</html>"));
        assert_eq!(out, "<html>*** and ******</html>");
        assert!(
            matches!(secrets().body(b"{\"Response\":{}}"), Cow::Borrowed(_)),
            "clean bodies are not copied"
        );
    }

    #[test]
    fn secrets_spelt_with_json_escapes_are_masked_in_every_string_and_key() {
        let escaped: String = TOKEN.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
        let body = format!(
            r#"{{"Response":{{"RequestId":"{escaped}","KeyPairSet":[{{"KeyName":"a\/{escaped}"}}],"{escaped}":1}}}}"#
        );
        let out = scrubbed(&body);
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["Response"]["RequestId"], "***");
        assert_eq!(value["Response"]["KeyPairSet"][0]["KeyName"], "a/***");
        assert_eq!(value["Response"]["***"], 1);
        assert!(!out.contains("SECRET"), "{out}");
    }

    #[test]
    fn a_start_of_a_secret_is_masked_wherever_it_is_and_however_long() {
        let mut text = format!("token {} was refused; key {}", &TOKEN[..10], &KEY[..8]);
        secrets().cut_text(&mut text);
        assert_eq!(text, "token *** was refused; key ***");
        let mut short = format!("{} and {}", &TOKEN[..7], &TOKEN[3..15]);
        secrets().text(&mut short);
        assert_eq!(short, format!("{} and {}", &TOKEN[..7], &TOKEN[3..15]), "only starts of a secret");
        let body = format!("<p>{}</p><p>{TOKEN}</p>", &TOKEN[..12]);
        assert_eq!(scrubbed(&body), "<p>***</p><p>***</p>");
    }

    #[test]
    fn a_multibyte_character_matched_in_part_is_left_whole() {
        let secret = "abcdefgh\u{e9}tail";
        let text = "x abcdefgh\u{e8} y";
        let masked = mask(text.as_bytes(), secret).unwrap();
        assert_eq!(String::from_utf8(masked).unwrap(), "x ***\u{e8} y");
    }

    #[test]
    fn secrets_too_short_to_be_real_leave_text_alone() {
        let mut text = String::from("io: Broken pipe");
        Secrets { token: Some("k"), key: Some("pipe") }.cut_text(&mut text);
        assert_eq!(text, "io: Broken pipe");
    }

    #[test]
    fn the_start_of_a_secret_left_by_a_cut_is_masked() {
        let mut cut = format!("bad token {}…", &TOKEN[..9]);
        secrets().cut_text(&mut cut);
        assert_eq!(cut, "bad token ***…");
        let mut short = String::from("ends with tok");
        secrets().cut_text(&mut short);
        assert_eq!(short, "ends with tok", "three characters are not masked");
    }

    #[test]
    fn errors_are_scrubbed_in_code_message_and_request_id() {
        let error = Error::Api {
            code: crate::error::ErrorCode::new(&format!("Bad.{TOKEN}")),
            message: format!("m {KEY}"),
            request_id: Some(format!("r-{}", &TOKEN[..12])),
        };
        let shown = format!("{:?}", secrets().error(error));
        assert!(!shown.contains("SECRET") && shown.contains("Bad.***"), "{shown}");
    }

    #[test]
    fn private_keys_are_masked_as_pem_blocks_and_as_private_key_members() {
        let pem = "-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEA\\n-----END RSA PRIVATE KEY-----";
        for (text, expected) in [
            (
                format!(r#"{{"PublicKey":"ssh-rsa A","PrivateKey":"{pem}\\n"}}"#),
                r#"{"PublicKey":"ssh-rsa A","PrivateKey":"***"}"#,
            ),
            (
                format!("invalid type: string \"{pem}\", expected i64"),
                "invalid type: string \"***\", expected i64",
            ),
            (format!("a {pem} b {pem} c"), "a *** b *** c"),
            ("cut: -----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQ".into(), "cut: ***"),
            ("no end: -----BEGIN X-----\\nMIIE-----END".into(), "no end: ***"),
            (
                r#"{"PrivateKey" : "b3BlbnNzaC1rZXk\"quoted\"", "KeyId":"skey-mv9yzyjj"}"#.into(),
                r#"{"PrivateKey" : "***", "KeyId":"skey-mv9yzyjj"}"#,
            ),
            (r#"{"PrivateKey":"b3BlbnNzaC1rZXktdjEAAAAA"#.into(), r#"{"PrivateKey":"***"#),
            (
                r#"{"PrivateKey":"","PrivateKey":null,"PrivateKey":"k2"}"#.into(),
                r#"{"PrivateKey":"***","PrivateKey":null,"PrivateKey":"***"}"#,
            ),
        ] {
            assert_eq!(without_private_keys(&text), expected, "{text}");
        }
        for clean in ["", "ssh-rsa AAAA -----", r#"{"PrivateKey":null}"#, "PrivateKey: x", "-----BEGI"] {
            assert!(matches!(without_private_keys(clean), Cow::Borrowed(_)), "{clean}");
        }
    }
}
