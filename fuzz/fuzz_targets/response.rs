//! The response parser on arbitrary status, headers and body, into `serde_json::Value` and into
//! `DescribeKeyPairsOutput`: never a panic; success only for a 2xx status, holding the body's
//! `Response`; every error is `Api`, `Http` or `Decode`, keeps the body's RequestId, and holds
//! at most `MESSAGE_CHARS` (API message) or `SNIPPET_CHARS` (snippet, decoder message)
//! characters plus a `…` marking a cut. A code or RequestId of more than `ID_CHARS` characters
//! is replaced whole by `<N characters, not kept>`. An API error carries the body's code and
//! message whatever the status; the output type only decides between success and `Decode`.
//!
//! Input: the status as 2 bytes big-endian, then `Name: value` header lines separated by CRLF
//! and ended by an empty line (`\r\n\r\n`), then the body. Without an empty line everything
//! after the status is the body.
#![no_main]

use cvm_keypairs::testing::{parse_response, ID_CHARS, MESSAGE_CHARS, SNIPPET_CHARS};
use cvm_keypairs::{DescribeKeyPairsOutput, Error, HttpResponse};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn decode(data: &[u8]) -> Option<HttpResponse> {
    let (status, rest) = data.split_first_chunk::<2>()?;
    let (head, body) = match rest.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => (&rest[..i], &rest[i + 4..]),
        None => (&rest[..0], rest),
    };
    let headers = String::from_utf8_lossy(head)
        .split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_owned(), value.trim().to_owned()))
        .collect();
    Some(HttpResponse { status: u16::from_be_bytes(*status), headers, body: body.to_vec() })
}

/// A field of a struct that serde reads from a JSON object by name or from an array by position.
fn field<'a>(value: &'a Value, index: usize, name: &str) -> Option<&'a Value> {
    match value {
        Value::Object(fields) => fields.get(name),
        Value::Array(items) => items.get(index),
        _ => None,
    }
}

/// The body's `Response` object, when the body is JSON that `Value` reads. Bytes that are not
/// UTF-8 can only be inside strings of valid JSON, where the parser skips them in fields it
/// ignores and refuses them elsewhere, so they are replaced for `Value` to read the rest.
fn response_object(body: &[u8]) -> Option<Value> {
    let whole: Value = serde_json::from_str(&String::from_utf8_lossy(body)).ok()?;
    field(&whole, 0, "Response").cloned()
}

/// `s` cut to `max` characters with `…` appended when anything was cut.
fn bounded(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        s.chars().take(max).chain(['…']).collect()
    } else {
        s.to_owned()
    }
}

/// A code or RequestId as kept: itself up to `ID_CHARS` characters, else a marker of its length
/// (a cut could keep the start of an echoed secret).
fn capped(id: &str) -> String {
    match id.chars().count() {
        n if n <= ID_CHARS => id.to_owned(),
        n => format!("<{n} characters, not kept>"),
    }
}

fn assert_within(kept: &str, max: usize) {
    let n = kept.chars().count();
    assert!(n <= max || (n == max + 1 && kept.ends_with('…')), "{n} characters kept: {kept:?}");
}

fn is_break(c: char) -> bool {
    c.is_whitespace() || c.is_control()
}

/// A snippet is one line: the body's text with each run of whitespace and control characters
/// made one space, cut (`…`) to at most `SNIPPET_CHARS` characters.
fn check_snippet(snippet: &str, body: &[u8]) {
    assert_within(snippet, SNIPPET_CHARS);
    assert!(!snippet.starts_with(' ') && !snippet.contains("  "), "{snippet:?}");
    assert!(!snippet.chars().any(|c| c != ' ' && is_break(c)), "{snippet:?}");
    let text = String::from_utf8_lossy(body);
    let line = text.split(is_break).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ");
    if line.contains("-----BEGIN") {
        // A private key's text, from `-----BEGIN` on, is masked as `***`: the rest is checked
        // by the tests of that masking.
        return;
    }
    let mut start = snippet.strip_suffix('…').unwrap_or(snippet).trim_end_matches(' ');
    if start.len() < snippet.len() {
        // A character cut at the end of the window read shows as a replacement character.
        start = start.strip_suffix('\u{fffd}').unwrap_or(start);
    } else {
        assert_eq!(snippet, line, "an uncut snippet is the whole body");
    }
    assert!(line.starts_with(start), "{snippet:?} does not start {line:?}");
}

/// A RequestId taken from a body that could not be read whole is quoted in it and well shaped;
/// one from a body read whole is its `RequestId`, [`capped`]. A body opening with a well-shaped
/// RequestId always keeps it.
fn check_found_id(id: Option<&str>, body: &[u8], found: Option<&Value>) {
    let body_id = found.and_then(|f| field(f, 1, "RequestId")).and_then(Value::as_str).map(capped);
    if let Some(id) = id {
        let shaped = (1..=128).contains(&id.len())
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let quoted = format!("\"{id}\"");
        let in_body = body.windows(quoted.len()).any(|w| w == quoted.as_bytes());
        // Without `Value`'s reading (see `check_error`), the body must at least have the key.
        let unread = found.is_none() && body.windows(11).any(|w| w == br#""RequestId""#);
        assert!(
            (shaped && in_body) || Some(id) == body_id.as_deref() || unread,
            "RequestId {id:?} not from the body"
        );
    }
    let opening = br#"{"Response":{"RequestId":""#;
    if let Some(rest) = body.strip_prefix(&opening[..]) {
        let len = rest.iter().position(|&b| b == b'"').unwrap_or(0);
        let first = &rest[..len];
        if (1..=128).contains(&len)
            && first.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        {
            assert_eq!(id.map(str::as_bytes), Some(first), "lost the RequestId");
        }
    }
}

fn check_error(error: &Error, r: &HttpResponse, found: Option<&Value>) {
    let success = (200..300).contains(&r.status);
    let json_like = r.body.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|&b| b == b'{' || b == b'[');
    let body_id = found.and_then(|f| field(f, 1, "RequestId")).and_then(Value::as_str).map(capped);
    match error {
        Error::Api { code, message, request_id, .. } => {
            assert_within(message, MESSAGE_CHARS);
            // `Value` refuses some JSON that the parser skips (numbers out of range in fields
            // it ignores); only then are the fields not compared.
            if let Some(found) = found {
                let api = field(found, 0, "Error").expect("an API error from a body without one");
                let body_code = field(api, 0, "Code").and_then(Value::as_str).map(capped);
                assert_eq!(Some(code.as_str()), body_code.as_deref());
                let full = field(api, 1, "Message").and_then(Value::as_str).unwrap_or_default();
                assert_eq!(*message, bounded(full, MESSAGE_CHARS));
                assert_eq!(*request_id, body_id);
            }
        }
        Error::Http { status, snippet, request_id, .. } => {
            assert_eq!(*status, r.status);
            assert!(!success || !json_like, "a 2xx JSON body reported as not an API response");
            check_snippet(snippet, &r.body);
            check_found_id(request_id.as_deref(), &r.body, found);
        }
        Error::Decode { message, request_id, .. } => {
            assert!(json_like, "a body that is not JSON reported as malformed JSON");
            assert_within(message, SNIPPET_CHARS);
            check_found_id(request_id.as_deref(), &r.body, found);
        }
        other => panic!("unexpected error variant {other:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(r) = decode(data) else { return };
    let found = response_object(&r.body);
    let as_value = parse_response::<Value>(&r);
    let as_output = parse_response::<DescribeKeyPairsOutput>(&r);
    for error in [as_value.as_ref().err(), as_output.as_ref().err()].into_iter().flatten() {
        check_error(error, &r, found.as_ref());
    }
    match (&as_value, &as_output) {
        (Ok(value), output) => {
            assert!((200..300).contains(&r.status), "success from HTTP {}", r.status);
            // As above, `Value` may refuse a body whose `Response` alone it reads.
            if let Some(found) = &found {
                assert_eq!(value, found);
            }
            match output {
                Ok(out) => {
                    let id = field(value, 2, "RequestId").and_then(Value::as_str).map(capped);
                    assert_eq!(Some(&out.request_id), id.as_ref());
                }
                Err(e) => assert!(matches!(e, Error::Decode { .. }), "{e:?}"),
            }
        }
        // Only the last step, reading the Response into the output type, depends on the type.
        (Err(Error::Decode { request_id, .. }), output) => {
            if let Err(e) = output {
                assert!(matches!(e, Error::Decode { .. }), "{e:?}");
                assert_eq!(e.request_id(), request_id.as_deref());
            }
        }
        (Err(value_error), output) => {
            let output_error = output.as_ref().expect_err("an error for Value, success for the output type");
            assert_eq!(value_error.to_string(), output_error.to_string());
        }
    }
});
