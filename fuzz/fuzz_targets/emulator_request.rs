//! The emulator's `parse_request` on arbitrary bytes: never a panic, and
//! - a request is within the bounds (head, header count, body), uses at most the bytes given,
//!   keeps its body verbatim, parses the same from exactly the bytes it used, and written out
//!   again parses back to itself; every shorter prefix of those bytes is `Incomplete`;
//! - `Incomplete` only when some bytes can still follow that make a request: the target builds
//!   such a completion and the parser must accept it (or, past the head size limit, refuse it
//!   for that reason only);
//! - `Invalid` is final, with one of the documented statuses: no bytes added make it valid.
#![no_main]

use cvm_keypairs_emulator::wire::{
    parse_request, ParseError, ParsedRequest, MAX_BODY_BYTES, MAX_HEADERS, MAX_HEAD_BYTES,
};
use libfuzzer_sys::fuzz_target;

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

fn write(request: &ParsedRequest) -> Vec<u8> {
    let mut out = format!("{} {} HTTP/1.{}\r\n", request.method, request.target, request.minor_version);
    for (name, value) in &request.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(&request.body);
    out
}

/// The `Content-Length` values among `lines` (header lines of a head), as numbers.
fn lengths<'a>(lines: impl Iterator<Item = &'a [u8]>) -> Vec<u64> {
    lines
        .filter_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            let value = std::str::from_utf8(&line[colon + 1..]).ok()?.trim_matches([' ', '\t']);
            line[..colon].eq_ignore_ascii_case(b"Content-Length").then(|| value.parse().ok())?
        })
        .collect()
}

fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(bytes);
    std::iter::from_fn(move || {
        let current = rest?;
        match find(current, b"\r\n") {
            Some(i) => {
                rest = Some(&current[i + 2..]);
                Some(&current[..i])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// Bytes that complete `buf` into a request, if its start allows any: the rest of a cut
/// UTF-8 character, of the line being received, the end of the head, and the body.
fn completion(buf: &[u8]) -> Vec<u8> {
    if let Some(i) = find(buf, b"\r\n\r\n") {
        let length = lengths(lines(&buf[..i]).skip(1)).first().copied().unwrap_or(0);
        // An invalid head may name any length: never ask for more than a MiB.
        let missing = (i as u64 + 4).saturating_add(length).saturating_sub(buf.len() as u64).min(1 << 20);
        return vec![b'.'; missing as usize];
    }
    let mut out = Vec::new();
    if let Err(e) = std::str::from_utf8(buf) {
        let tail = &buf[e.valid_up_to()..];
        let width = match tail[0] {
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            _ => 4,
        };
        // The next byte decides validity (E0, ED, F0, F4 narrow it); later ones may be 0x80.
        for next in 0x80..=0xbf_u8 {
            let mut candidate = tail.to_vec();
            candidate.push(next);
            candidate.resize(width.max(candidate.len()), 0x80);
            if std::str::from_utf8(&candidate).is_ok() {
                out = candidate[tail.len()..].to_vec();
                break;
            }
        }
    }
    let mut all = [buf, &out].concat();
    let start = rfind(&all, b"\r\n").map_or(0, |i| i + 2);
    let line = all[start..].to_vec();
    let tail: &[u8] = if start == 0 {
        // The request line.
        if line.ends_with(b"\r") {
            b"\n"
        } else {
            let spaces = line.iter().filter(|&&b| b == b' ').count();
            let version = line.rsplit(|&b| b == b' ').next().unwrap_or_default();
            match spaces {
                0 if line.is_empty() => b"G / HTTP/1.1\r\n",
                0 => b" / HTTP/1.1\r\n",
                1 if line.ends_with(b" ") => b"/ HTTP/1.1\r\n",
                1 => b" HTTP/1.1\r\n",
                _ if b"HTTP/1.1".starts_with(version) => &b"HTTP/1.1\r\n"[version.len()..],
                _ if b"HTTP/1.0".starts_with(version) => &b"HTTP/1.0\r\n"[version.len()..],
                _ => b"\r\n",
            }
        }
    } else if line.is_empty() {
        b""
    } else if line.ends_with(b"\r") {
        b"\n"
    } else if let Some(colon) = line.iter().position(|&b| b == b':') {
        if line[..colon].eq_ignore_ascii_case(b"Content-Length") {
            let digits =
                std::str::from_utf8(&line[colon + 1..]).unwrap_or("x").trim_start_matches([' ', '\t']);
            let earlier = lengths(lines(&all[..start]).skip(1)).first().copied();
            if let (true, Some(earlier)) = (digits.bytes().all(|b| b.is_ascii_digit()), earlier) {
                // Leading zeros are allowed: make the digits read as the earlier length.
                let wanted = earlier.to_string();
                let significant = digits.trim_start_matches('0');
                let more = if significant.is_empty() {
                    if earlier == 0 && !digits.is_empty() {
                        String::new()
                    } else {
                        wanted
                    }
                } else {
                    wanted.strip_prefix(significant).unwrap_or_default().to_owned()
                };
                out.extend_from_slice(more.as_bytes());
            } else if digits.is_empty() {
                out.push(b'0');
            }
        }
        b"\r\n"
    } else {
        b"x:\r\n"
    };
    out.extend_from_slice(tail);
    all = [buf, &out].concat();
    if !all.ends_with(b"\r\n\r\n") {
        out.extend_from_slice(b"\r\n");
        all.extend_from_slice(b"\r\n");
    }
    let body = completion(&all);
    out.extend_from_slice(&body);
    out
}

fn check_request(data: &[u8], request: &ParsedRequest, used: usize) {
    assert!(used <= data.len());
    let head_end = find(data, b"\r\n\r\n").expect("a request without a head end") + 4;
    assert!(head_end <= MAX_HEAD_BYTES && request.headers.len() <= MAX_HEADERS);
    assert!(request.body.len() <= MAX_BODY_BYTES);
    assert_eq!(used, head_end + request.body.len());
    assert_eq!(&data[head_end..used], request.body.as_slice());
    assert_eq!(parse_request(&data[..used]), Ok((request.clone(), used)));
    let written = write(request);
    assert_eq!(parse_request(&written), Ok((request.clone(), written.len())), "{written:?}");
    // Every prefix (a sample of them for long requests) is the start of this request.
    let step = (used / 64).max(1);
    let near_end = [used.saturating_sub(1), head_end.saturating_sub(1), head_end.saturating_sub(2)];
    for end in (0..used).step_by(step).chain(near_end.into_iter().filter(|&e| e < used)) {
        assert_eq!(parse_request(&data[..end]), Err(ParseError::Incomplete), "prefix {:?}", &data[..end]);
    }
}

fuzz_target!(|data: &[u8]| {
    let result = parse_request(data);
    assert_eq!(parse_request(data), result, "not deterministic");
    match result {
        Ok((request, used)) => check_request(data, &request, used),
        Err(ParseError::Incomplete) => {
            let more = completion(data);
            let whole = [data, &more].concat();
            match parse_request(&whole) {
                Ok((request, used)) => {
                    assert_eq!(used, whole.len(), "completion {more:?}");
                    check_request(&whole, &request, used);
                }
                Err(ParseError::Invalid { status: 431, .. })
                    if find(&whole, b"\r\n\r\n").is_none_or(|i| i + 4 > MAX_HEAD_BYTES) => {}
                Err(e) => panic!("Incomplete, but completed with {more:?} it is {e:?}"),
            }
        }
        Err(ParseError::Invalid { status, reason }) => {
            assert!([400, 413, 431, 505].contains(&status), "{status} {reason}");
            assert!(!reason.is_empty() && reason.is_ascii());
            for more in [completion(data), b"\r\n\r\n".to_vec(), b"\n\r\n".to_vec()] {
                let longer = parse_request(&[data, &more].concat());
                assert!(
                    matches!(longer, Err(ParseError::Invalid { .. })),
                    "Invalid, then with {more:?}: {longer:?}"
                );
            }
        }
    }
});
