//! HTTP/1.1 on the wire for the emulator: a pure request parser and the response writer.
//!
//! [`parse_request`] works on the bytes received so far and either returns one complete request
//! and how many bytes it used, says it needs more, or says why the bytes can never be a request
//! it accepts. It never panics and never reads past its bounds, so it can be fuzzed on its own.
//! Only what the API needs is accepted: `Content-Length` bodies (no chunked encoding), CRLF line
//! ends, at most [`MAX_HEAD_BYTES`] of request line and headers, [`MAX_HEADERS`] headers and
//! [`MAX_BODY_BYTES`] of body.

use std::fmt::Write as _;

/// The most bytes of request line and headers, blank line included.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// The most header lines in one request.
pub const MAX_HEADERS: usize = 64;
/// The largest body accepted (a request for 100 ids is under 2 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// One complete request, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRequest {
    /// The method token, e.g. `GET`.
    pub method: String,
    /// The request target, e.g. `/?KeyIds.0=skey-aaaaaaaa`.
    pub target: String,
    /// The minor version of `HTTP/1.x`.
    pub minor_version: u8,
    /// Headers in order, names as sent, values with surrounding spaces and tabs removed.
    pub headers: Vec<(String, String)>,
    /// The body (`Content-Length` bytes).
    pub body: Vec<u8>,
}

impl ParsedRequest {
    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(path, _)| path)
    }

    /// The raw query, exactly as sent (empty when there is none).
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, query)| query)
    }

    /// Whether the client lets the connection stay open after the answer.
    pub fn keep_alive(&self) -> bool {
        let connection = self.header("Connection").unwrap_or("");
        let has = |token: &str| connection.split(',').any(|t| t.trim().eq_ignore_ascii_case(token));
        if self.minor_version == 0 {
            has("keep-alive")
        } else {
            !has("close")
        }
    }
}

/// Why bytes are not (yet) a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// The bytes so far are the start of a valid request; more are needed. (Only the size
    /// limit is not foreseen: a head that cannot end within [`MAX_HEAD_BYTES`] fails there.)
    Incomplete,
    /// The bytes can never be an accepted request; answer with this HTTP status and close.
    Invalid {
        /// 400, 413, 431 or 505.
        status: u16,
        /// A short reason, safe to send back.
        reason: &'static str,
    },
}

fn invalid(status: u16, reason: &'static str) -> ParseError {
    ParseError::Invalid { status, reason }
}

/// Parses one request from the start of `buf`; returns it and the number of bytes it used.
///
/// ```
/// use cvm_keypairs_emulator::wire::{parse_request, ParseError};
/// let bytes = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}GET";
/// let (request, used) = parse_request(bytes).unwrap();
/// assert_eq!((request.method.as_str(), request.body.as_slice()), ("POST", &b"{}"[..]));
/// assert_eq!(&bytes[used..], b"GET", "the rest is the start of the next request");
/// assert_eq!(parse_request(&bytes[..20]), Err(ParseError::Incomplete));
/// ```
pub fn parse_request(buf: &[u8]) -> Result<(ParsedRequest, usize), ParseError> {
    let head_end = match find(buf, b"\r\n\r\n") {
        Some(i) if i + 4 <= MAX_HEAD_BYTES => i + 4,
        Some(_) => return Err(invalid(431, "request head too large")),
        None if buf.len() >= MAX_HEAD_BYTES => return Err(invalid(431, "request head too large")),
        None => {
            check_partial_head(buf)?;
            return Err(ParseError::Incomplete);
        }
    };
    let head = std::str::from_utf8(&buf[..head_end - 4]).map_err(|_| not_utf8())?;
    let (request, length) = parse_head(head)?;
    let end = head_end + length;
    if buf.len() < end {
        return Err(ParseError::Incomplete);
    }
    let body = buf[head_end..end].to_vec();
    Ok((ParsedRequest { body, ..request }, end))
}

fn not_utf8() -> ParseError {
    invalid(400, "request head is not UTF-8")
}

/// The request line and headers of a whole head (without its blank line), checked together,
/// and the length of the body that follows.
fn parse_head(head: &str) -> Result<(ParsedRequest, usize), ParseError> {
    let mut lines = head.split("\r\n");
    let (method, target, minor_version) = parse_request_line(lines.next().unwrap_or(""))?;

    let mut headers = Vec::new();
    for line in lines {
        if headers.len() == MAX_HEADERS {
            return Err(invalid(431, "too many headers"));
        }
        headers.push(parse_header(line)?);
    }
    let request = ParsedRequest { method, target, minor_version, headers, body: Vec::new() };

    if request.header("Transfer-Encoding").is_some() {
        return Err(invalid(400, "Transfer-Encoding is not supported; send Content-Length"));
    }
    if request.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("Host")).count() > 1 {
        return Err(invalid(400, "more than one Host header"));
    }
    let length = content_length(&request)?;
    if length > MAX_BODY_BYTES {
        return Err(invalid(413, "body too large"));
    }
    Ok((request, length))
}

/// Fails early on a partial head that can no longer become an accepted request, so a client
/// sending garbage slowly is answered at once rather than at the size limit, and
/// [`ParseError::Incomplete`] always means that more bytes could still make one.
///
/// Every check on a head only gets stricter as lines are added, so the lines already ended
/// must pass them on their own, and with the line still arriving completed as a client could
/// complete it.
fn check_partial_head(buf: &[u8]) -> Result<(), ParseError> {
    // A character cut short may still be completed; any non-ASCII one stands in for it.
    let (text, cut) = match std::str::from_utf8(buf) {
        Ok(text) => (text, false),
        Err(e) if e.error_len().is_none() => {
            (std::str::from_utf8(&buf[..e.valid_up_to()]).map_err(|_| not_utf8())?, true)
        }
        Err(_) => return Err(not_utf8()),
    };
    let start = text.rfind("\r\n").map_or(0, |i| i + 2);
    let (done, mut line) = (&text[..start], text[start..].to_owned());
    if cut {
        line.push('\u{e9}');
    }
    let ended = line.ends_with('\r');
    if ended {
        line.pop();
    }
    let Some(done_head) = done.strip_suffix("\r\n") else {
        if !ended {
            line = complete_request_line(&line);
        }
        return parse_request_line(&line).map(drop);
    };
    let earlier_length = parse_head(done_head)?.0.header("Content-Length").map(str::to_owned);
    if !ended && !line.is_empty() {
        match line.split_once(':') {
            None => line.push_str("x:"),
            Some((name, value)) if name.eq_ignore_ascii_case("Content-Length") => {
                let digits = value.trim_start_matches([' ', '\t']);
                if digits.bytes().all(|b| b.is_ascii_digit()) {
                    let more = length_digits_to_add(digits, earlier_length.as_deref());
                    line.push_str(&more);
                }
            }
            Some(_) => {}
        }
    }
    if line.is_empty() {
        return Ok(());
    }
    parse_head(&format!("{done}{line}")).map(drop)
}

/// Completes a request line that has not ended yet: `G`, ` /`, ` HTTP/1.1` or the rest of the
/// version as needed. A start that no completion can fix is returned as it is, to be rejected.
fn complete_request_line(start: &str) -> String {
    let parts: Vec<&str> = start.split(' ').collect();
    let rest = match parts.as_slice() {
        [""] => "G / HTTP/1.1",
        [_] => " / HTTP/1.1",
        [_, ""] => "/ HTTP/1.1",
        [_, _] => " HTTP/1.1",
        [_, _, version] => ["HTTP/1.1", "HTTP/1.0"]
            .iter()
            .find(|full| full.starts_with(version))
            .map_or("", |full| &full[version.len()..]),
        _ => "",
    };
    format!("{start}{rest}")
}

/// The digits to append to a `Content-Length` value still arriving so that it becomes valid and
/// agrees with an earlier `Content-Length` of the same request.
fn length_digits_to_add(digits: &str, earlier: Option<&str>) -> String {
    let Some(earlier) = earlier.and_then(|e| e.parse::<usize>().ok()) else {
        return if digits.is_empty() { "0".to_owned() } else { String::new() };
    };
    let wanted = earlier.to_string();
    match digits.trim_start_matches('0') {
        "" if earlier == 0 && !digits.is_empty() => String::new(),
        "" => wanted,
        significant => wanted.strip_prefix(significant).unwrap_or_default().to_owned(),
    }
}

fn parse_request_line(line: &str) -> Result<(String, String, u8), ParseError> {
    let bad = || invalid(400, "malformed request line");
    let mut parts = line.split(' ');
    let (method, target, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v), None) => (m, t, v),
        _ => return Err(bad()),
    };
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return Err(bad());
    }
    if !target.starts_with('/') || !target.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    let minor = match version {
        "HTTP/1.1" => 1,
        "HTTP/1.0" => 0,
        v if v.starts_with("HTTP/") => return Err(invalid(505, "only HTTP/1.0 and HTTP/1.1 are supported")),
        _ => return Err(bad()),
    };
    Ok((method.to_owned(), target.to_owned(), minor))
}

fn parse_header(line: &str) -> Result<(String, String), ParseError> {
    let bad = || invalid(400, "malformed header line");
    let (name, value) = line.split_once(':').ok_or_else(bad)?;
    // An empty or non-token name also rejects obsolete line folding (a line starting with a space).
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return Err(bad());
    }
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(bad());
    }
    Ok((name.to_owned(), value.trim_matches([' ', '\t']).to_owned()))
}

fn content_length(request: &ParsedRequest) -> Result<usize, ParseError> {
    let mut length = None;
    for (_, value) in request.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("Content-Length")) {
        if value.is_empty() || value.len() > 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(400, "malformed Content-Length"));
        }
        let n: usize = value.parse().map_err(|_| invalid(400, "malformed Content-Length"))?;
        if length.is_some_and(|l| l != n) {
            return Err(invalid(400, "conflicting Content-Length headers"));
        }
        length = Some(n);
    }
    Ok(length.unwrap_or(0))
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The reason phrase of the statuses the emulator sends.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Writes a complete response: status line, `Date`, `Content-Type`, `Content-Length`,
/// `Connection`, blank line, body.
pub fn write_response(status: u16, date: &str, content_type: &str, keep_alive: bool, body: &[u8]) -> Vec<u8> {
    let mut head = String::with_capacity(160);
    // Writing to a String cannot fail.
    let _ = write!(
        head,
        "HTTP/1.1 {status} {}\r\nDate: {date}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
        reason(status),
        body.len(),
        if keep_alive { "keep-alive" } else { "close" },
    );
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// `timestamp` as an HTTP date (IMF-fixdate), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
///
/// ```
/// assert_eq!(cvm_keypairs_emulator::wire::http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
/// ```
pub fn http_date(timestamp: i64) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let t = time::OffsetDateTime::from_unix_timestamp(timestamp).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[t.weekday().number_days_from_monday() as usize],
        t.day(),
        MONTHS[u8::from(t.month()) as usize - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<(ParsedRequest, usize), ParseError> {
        parse_request(s.as_bytes())
    }

    fn status(s: &str) -> u16 {
        match parse(s) {
            Err(ParseError::Invalid { status, .. }) => status,
            other => panic!("{s:?} gave {other:?}"),
        }
    }

    #[test]
    fn parses_get_with_query_and_post_with_body() {
        let text = "GET /?KeyIds.0=skey-aaaaaaaa HTTP/1.1\r\nHost: h:1\r\nX-A:  v \t\r\n\r\n";
        let (get, used) = parse(text).unwrap();
        assert_eq!(used, text.len());
        assert_eq!((get.path(), get.query()), ("/", "KeyIds.0=skey-aaaaaaaa"));
        assert_eq!(get.header("x-a"), Some("v"));
        assert!(get.body.is_empty() && get.keep_alive());

        let (post, _) =
            parse("POST / HTTP/1.1\r\ncontent-length: 3\r\nConnection: close\r\n\r\nabc").unwrap();
        assert_eq!((post.body.as_slice(), post.keep_alive(), post.query()), (&b"abc"[..], false, ""));
    }

    #[test]
    fn every_prefix_of_a_valid_request_is_incomplete() {
        let full = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
        for end in 0..full.len() {
            assert_eq!(parse(&full[..end]), Err(ParseError::Incomplete), "{end}");
        }
        assert_eq!(parse(full).unwrap().1, full.len());
    }

    #[test]
    fn pipelined_requests_are_taken_one_at_a_time() {
        let two = "GET /?a=1 HTTP/1.1\r\n\r\nGET /?a=2 HTTP/1.1\r\n\r\n";
        let (first, used) = parse(two).unwrap();
        let (second, rest) = parse(&two[used..]).unwrap();
        assert_eq!((first.query(), second.query(), used + rest), ("a=1", "a=2", two.len()));
    }

    #[test]
    fn http_1_0_closes_unless_asked_to_keep_alive() {
        assert!(!parse("GET / HTTP/1.0\r\n\r\n").unwrap().0.keep_alive());
        assert!(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").unwrap().0.keep_alive());
    }

    #[test]
    fn malformed_heads_are_400() {
        for bad in [
            "GET /\r\n\r\n",
            "GET  / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1 x\r\n\r\n",
            "G(T / HTTP/1.1\r\n\r\n",
            "GET x HTTP/1.1\r\n\r\n",
            "GET / FTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
            "GET / HTTP/1.1\r\n: empty\r\n\r\n",
            "GET / HTTP/1.1\r\nBad Name: v\r\n\r\n",
            "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
            "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
            "GET / HTTP/1.1\r\nA: b\nc\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ] {
            assert_eq!(status(bad), 400, "{bad:?}");
        }
        assert_eq!(status("GET / HTTP/2.0\r\n\r\n"), 505);
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\nA: \xff\r\n\r\n"),
            Err(invalid(400, "request head is not UTF-8"))
        );
    }

    #[test]
    fn garbage_is_rejected_before_the_size_limit() {
        assert_eq!(status("\x16\x03\x01\x02\x00"), 400);
        assert_eq!(status("{\"json\": 1}"), 400);
    }

    #[test]
    fn incomplete_only_while_more_bytes_can_still_make_a_request() {
        for start in [
            "\r",
            "GET\r",
            "GET x",
            "GET / FTP",
            "GET / HTTP/1.1 ",
            "GET / HTTP/1.1\rX",
            "GET / HTTP/1.1\r\nBad Name",
            "GET / HTTP/1.1\r\nA: b\r\n folded",
            "GET / HTTP/1.1\r\nA: b\rc",
            "GET / HTTP/1.1\r\nTransfer-Encoding: c",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b",
            "POST / HTTP/1.1\r\nContent-Length: 7\r\nContent-Length: 8",
            "POST / HTTP/1.1\r\nContent-Length: 1x",
            "POST / HTTP/1.1\r\nContent-Length: 0000000000001",
        ] {
            assert!(matches!(parse(start), Err(ParseError::Invalid { .. })), "{start:?}");
        }
        assert_eq!(status("GET x"), 400);
        assert_eq!(status("GET / HTTP/2"), 505);
        assert_eq!(status("POST / HTTP/1.1\r\nContent-Length: 70000"), 413);
        assert_eq!(status(&format!("GET / HTTP/1.1\r\n{}X", "A: b\r\n".repeat(MAX_HEADERS))), 431);
        assert_eq!(parse_request(b"GET / HTTP/1.1\r\nA: \xff"), Err(not_utf8()));
        for start in [
            "G",
            "GET / HTTP/1",
            "GET / HTTP/1.1\r",
            "GET / HTTP/1.1\r\nHost: a\r\nHos",
            "GET / HTTP/1.1\r\nTransfer-Encoding",
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 0",
            "POST / HTTP/1.1\r\nContent-Length: 65536 ",
        ] {
            assert_eq!(parse(start), Err(ParseError::Incomplete), "{start:?}");
        }
        let cut_char = "GET / HTTP/1.1\r\nA: é".as_bytes();
        assert_eq!(parse_request(&cut_char[..cut_char.len() - 1]), Err(ParseError::Incomplete));
    }

    #[test]
    fn size_and_count_bounds_hold() {
        let many = format!("GET / HTTP/1.1\r\n{}\r\n", "A: b\r\n".repeat(MAX_HEADERS + 1));
        assert_eq!(status(&many), 431);
        let most = format!("GET / HTTP/1.1\r\n{}\r\n", "A: b\r\n".repeat(MAX_HEADERS));
        assert!(parse(&most).is_ok());
        let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(MAX_HEAD_BYTES));
        assert_eq!(status(&long), 431);
        assert_eq!(status(&format!("{long}\r\n")), 431);
        let big = format!("POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n", MAX_BODY_BYTES + 1);
        assert_eq!(status(&big), 413);
        let max = format!("POST / HTTP/1.1\r\nContent-Length: {MAX_BODY_BYTES}\r\n\r\n");
        assert_eq!(parse(&max), Err(ParseError::Incomplete));
    }

    #[test]
    fn random_and_mutated_bytes_never_panic() {
        let valid = b"POST /?a=b HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody";
        let mut rng = crate::faults::SplitMix64::new(7);
        for _ in 0..20_000 {
            let mut bytes = valid.to_vec();
            for _ in 0..(rng.next_u64() % 4 + 1) {
                let i = (rng.next_u64() % bytes.len() as u64) as usize;
                bytes[i] = rng.next_u64() as u8;
            }
            let cut = (rng.next_u64() % (bytes.len() as u64 + 1)) as usize;
            if let Ok((_, used)) = parse_request(&bytes[..cut]) {
                assert!(used <= cut);
            }
        }
    }

    #[test]
    fn responses_carry_length_date_type_and_connection() {
        let out = write_response(200, "Sun, 06 Nov 1994 08:49:37 GMT", "application/json", true, b"{}");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: application/json\r\n\
             Content-Length: 2\r\nConnection: keep-alive\r\n\r\n{}"
        );
    }

    #[test]
    fn http_dates_are_imf_fixdate_in_utc() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_709_164_800), "Thu, 29 Feb 2024 00:00:00 GMT");
        assert_eq!(http_date(1_700_000_000), "Tue, 14 Nov 2023 22:13:20 GMT");
    }
}
