//! From a received [`HttpResponse`] to a typed result or an [`Error`], pure.
//!
//! API 3.0 answers `{"Response":{…,"RequestId":…}}`, and puts errors inside it as
//! `{"Response":{"Error":{"Code","Message"},"RequestId":…}}`, usually with HTTP 200. What comes
//! back through gateways and proxies can be anything else, so the body is judged by its content,
//! never by its `Content-Type`: an API error wins whatever the status; JSON that is cut short or
//! malformed is a [`Error::Decode`]; a body that is not JSON at all (an HTML 502 page) is an
//! [`Error::Http`]. Texts taken from the body are bounded, hold no private key (see
//! [`crate::scrub::without_private_keys`]), and the RequestId is kept whenever the body holds
//! one.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::bounded::{bounded, capped, ID_CHARS};
use crate::error::{Error, ErrorCode};
use crate::http::HttpResponse;
use crate::scrub::without_private_keys;

/// The most characters of a body kept in [`Error::Http`] and of a decoder message kept in
/// [`Error::Decode`].
pub(crate) const SNIPPET_CHARS: usize = 200;
/// The most characters of an API error message kept in [`Error::Api`].
pub(crate) const MESSAGE_CHARS: usize = 1000;

#[derive(Deserialize)]
struct Envelope<T> {
    #[serde(rename = "Response")]
    response: T,
}

/// What every response holds besides the action's own fields.
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "Error")]
    error: Option<ApiError>,
    #[serde(rename = "RequestId")]
    request_id: Option<String>,
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message", default)]
    message: Option<String>,
}

/// Maps a response to the action's output `T`, deserialised from the `Response` object, or to
/// the error it carries.
pub(crate) fn parse<T: DeserializeOwned>(response: &HttpResponse) -> Result<T, Error> {
    let (status, body) = (response.status, response.body.as_slice());
    let head = match serde_json::from_slice::<Envelope<Head>>(body) {
        Ok(envelope) => envelope.response,
        Err(e) => {
            let request_id = find_request_id(body);
            // Valid JSON of another shape from a non-2xx status is a gateway's, not the API's.
            let gateway = e.is_data() && !is_success(status);
            return Err(if looks_like_json(body) && !gateway {
                decode_error(e, request_id)
            } else {
                Error::Http { status, snippet: snippet(body), request_id }
            });
        }
    };
    if let Some(error) = head.error {
        return Err(Error::Api {
            code: ErrorCode::new(&capped(&error.code, ID_CHARS)),
            message: bounded(
                &without_private_keys(error.message.as_deref().unwrap_or_default()),
                MESSAGE_CHARS,
            ),
            request_id: head.request_id.map(|id| capped(&id, ID_CHARS)),
        });
    }
    let request_id = head.request_id.map(|id| capped(&id, ID_CHARS));
    if !is_success(status) {
        return Err(Error::Http { status, snippet: snippet(body), request_id });
    }
    serde_json::from_slice::<Envelope<T>>(body)
        .map(|envelope| envelope.response)
        .map_err(|e| decode_error(e, request_id))
}

/// A body that could not be decoded. The decoder's message may quote a value from the body;
/// when that holds a private key, the message keeps it masked and the decoder's error, which
/// shows it whole, is not kept.
fn decode_error(e: serde_json::Error, request_id: Option<String>) -> Error {
    let text = e.to_string();
    let (message, source) = match without_private_keys(&text) {
        std::borrow::Cow::Borrowed(clean) => (bounded(clean, SNIPPET_CHARS), Some(Box::new(e) as _)),
        std::borrow::Cow::Owned(masked) => (bounded(&masked, SNIPPET_CHARS), None),
    };
    Error::Decode { message, request_id, source }
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

fn looks_like_json(body: &[u8]) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|&b| b == b'{' || b == b'[')
}

/// The start of a body as one line of text: whitespace runs become one space.
fn snippet(body: &[u8]) -> String {
    // Four bytes per character at most, so this prefix always holds enough characters.
    let window = &body[..body.len().min(SNIPPET_CHARS * 4 + 4)];
    let head = String::from_utf8_lossy(window);
    let head = without_private_keys(&head);
    let mut line = String::with_capacity(head.len());
    for word in head.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()) {
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    // The window is shorter than the body, yet whitespace may have shrunk its text below the cap.
    if window.len() < body.len() && line.chars().nth(SNIPPET_CHARS).is_none() {
        format!("{line}…")
    } else {
        bounded(&line, SNIPPET_CHARS)
    }
}

/// The value of the first `"RequestId": "…"` in a body that could not be parsed whole, when it
/// has the shape of a request id.
fn find_request_id(body: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"\"RequestId\"";
    let mut rest = body;
    while let Some(at) = rest.windows(KEY.len()).position(|w| w == KEY) {
        rest = &rest[at + KEY.len()..];
        let value = skip_ws(rest).strip_prefix(b":").map(skip_ws).and_then(|v| v.strip_prefix(b"\""));
        if let Some(value) = value {
            let len = value.iter().position(|&b| b == b'"')?;
            let id = &value[..len];
            if (1..=128).contains(&len)
                && id.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
            {
                return Some(String::from_utf8_lossy(id).into_owned());
            }
        }
    }
    None
}

fn skip_ws(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(s.len());
    &s[start..]
}

/// Month names as HTTP dates write them.
pub(crate) const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Parses an HTTP date in the IMF-fixdate form servers must send (`Sun, 06 Nov 1994 08:49:37
/// GMT`) into Unix seconds.
pub(crate) fn parse_http_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() != 29 || !s.is_ascii() || &s[3..5] != ", " || &s[25..] != " GMT" {
        return None;
    }
    let separators = [(7, b' '), (11, b' '), (16, b' '), (19, b':'), (22, b':')];
    if separators.iter().any(|&(i, c)| s.as_bytes()[i] != c) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = &s[range];
        digits.bytes().all(|b| b.is_ascii_digit()).then(|| digits.parse().ok())?
    };
    let month = MONTHS.iter().position(|m| *m == &s[8..11])? as u8 + 1;
    let date = time::Date::from_calendar_date(
        number(12..16)? as i32,
        time::Month::try_from(month).ok()?,
        number(5..7)? as u8,
    )
    .ok()?;
    let time =
        time::Time::from_hms(number(17..19)? as u8, number(20..22)? as u8, number(23..25)? as u8).ok()?;
    Some(time::PrimitiveDateTime::new(date, time).assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse_only_in_imf_fixdate_form() {
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse_http_date("Tue, 14 Nov 2023 22:13:20 GMT"), Some(1_700_000_000));
        assert_eq!(parse_http_date(" Sat, 29 Feb 2020 23:59:59 GMT "), Some(1_583_020_799));
        for bad in [
            "",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:49:37 GMT",
            "Sun, 06 Xyz 1994 08:49:37 GMT",
            "Sun, +6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08-49-37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMTé",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn snippets_are_one_bounded_line() {
        let html = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n\t<body>";
        assert_eq!(snippet(html), "<html> <head><title>502 Bad Gateway</title></head> <body>");
        let long = "é".repeat(5000);
        let cut = snippet(long.as_bytes());
        assert_eq!(cut.chars().count(), SNIPPET_CHARS + 1);
        assert!(cut.ends_with('…'));
        // Whitespace shrinks the text below the cap, but the body went on: still marked cut.
        let spaced = " ".repeat(2000) + "tail";
        assert_eq!(snippet(spaced.as_bytes()), "…");
        assert_eq!(snippet(b""), "");
        // Bytes that are not UTF-8 grow into replacement characters; the body still went on.
        let mut garbled = vec![0xff; 150];
        garbled.extend_from_slice(&[b' '; 654]);
        garbled.extend_from_slice(b"tail");
        assert_eq!(snippet(&garbled), format!("{}…", "\u{fffd}".repeat(150)));
        // Cut after 200 characters, with the next one as long in bytes as the `…` put instead.
        let euro = format!("{}€{}x", "a".repeat(SNIPPET_CHARS), " ".repeat(700));
        assert_eq!(snippet(euro.as_bytes()), format!("{}…", "a".repeat(SNIPPET_CHARS)));
    }

    #[test]
    fn codes_and_request_ids_past_the_cap_are_replaced_whole() {
        let long = "x".repeat(ID_CHARS + 1);
        let body =
            format!(r#"{{"Response":{{"Error":{{"Code":"{long}","Message":"m"}},"RequestId":"{long}"}}}}"#);
        let error = parse::<serde::de::IgnoredAny>(&HttpResponse {
            status: 200,
            body: body.into_bytes(),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(error.code().unwrap().as_str(), "<129 characters, not kept>");
        assert_eq!(error.request_id(), Some("<129 characters, not kept>"));
        assert_eq!(
            capped(&"y".repeat(ID_CHARS), ID_CHARS),
            "y".repeat(ID_CHARS),
            "up to the cap, kept as is"
        );
    }

    #[test]
    fn request_ids_are_found_in_broken_bodies_only_when_well_shaped() {
        assert_eq!(find_request_id(br#"{"Response":{"RequestId" : "ab-12","#).as_deref(), Some("ab-12"));
        assert_eq!(find_request_id(br#"{"RequestId":1,"x":{"RequestId":"z9"}"#).as_deref(), Some("z9"));
        assert_eq!(find_request_id(br#"{"RequestId":"a b"}"#), None);
        assert_eq!(find_request_id(br#"{"RequestId":"unterminated"#), None);
        assert_eq!(find_request_id(b"<html>"), None);
    }

    #[test]
    fn a_private_key_in_a_body_reaches_no_error() {
        use crate::actions::create_key_pair::CreateKeyPairOutput;
        // Not a key: PEM-shaped text, made up; `MIIE` marks any part of it that leaks.
        let pem = r"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAmadeUp\n-----END RSA PRIVATE KEY-----\n";
        let key_pair = |private: &str, project: &str| {
            format!(r#"{{"KeyId":"skey-mv9yzyjj","ProjectId":{project},"PrivateKey":"{private}"}}"#)
        };
        let answer =
            |key_pair: String| format!(r#"{{"Response":{{"KeyPair":{key_pair},"RequestId":"r-1"}}}}"#);
        let good = answer(key_pair(pem, "0"));
        let misplaced = answer(key_pair("k", &format!("\"{pem}\"")));
        let bodies = [
            (500, good.clone()),
            (200, format!("<html>{good}")),
            (502, answer(key_pair("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB", "0"))),
            (200, misplaced.clone()),
            (200, answer(format!(r#""{pem}""#))),
            (
                200,
                format!(
                    r#"{{"Response":{{"Error":{{"Code":"InternalError","Message":"{pem}"}},"RequestId":"r-1"}}}}"#
                ),
            ),
        ];
        for (status, body) in bodies {
            let response = HttpResponse { status, body: body.into_bytes(), ..Default::default() };
            let error = parse::<CreateKeyPairOutput>(&response).unwrap_err();
            let mut shown = format!("{error} {error:?}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                shown.push_str(&format!(" {cause} {cause:?}"));
                source = cause.source();
            }
            assert!(!shown.contains("MIIE") && !shown.contains("b3BlbnNz"), "{status}: {shown}");
            assert!(shown.contains("***") && error.request_id() == Some("r-1"), "{status}: {shown}");
        }
        // A decoding error with no private key keeps the decoder's own error as its cause.
        let plain = answer(key_pair("k", "\"seven\""));
        let error = parse::<CreateKeyPairOutput>(&HttpResponse {
            status: 200,
            body: plain.into_bytes(),
            ..Default::default()
        });
        assert!(std::error::Error::source(&error.unwrap_err()).is_some());
        let created = parse::<CreateKeyPairOutput>(&HttpResponse {
            status: 200,
            body: good.into_bytes(),
            ..Default::default()
        });
        assert_eq!(
            created.unwrap().private_key.expose_secret(),
            pem.replace(r"\n", "\n"),
            "a good answer is parsed whole"
        );
    }
}
