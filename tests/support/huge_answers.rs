//! A loopback API whose answers are nearly 1 MiB (the transport's body cap) of one error code
//! or RequestId, shared by the library's tests (`tests/amplification.rs`) and the command
//! line's (`cli/tests/amplification_cli.rs`). It serves prebuilt bytes, so it allocates next
//! to nothing per request.
#![allow(dead_code)] // Each test binary uses a different part of it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

/// One mebibyte.
pub const MIB: usize = 1 << 20;

/// How the server answers, chosen by the region the client sends.
pub const MODES: [&str; 3] = ["huge-code", "huge-request-id", "huge-request-id-success"];

/// The whole HTTP response for `mode` and `action`: a body of just under 1 MiB in which one
/// text is nearly all of it.
fn response(mode: &str, action: &str) -> Vec<u8> {
    let huge = |prefix: &str| format!("{prefix}{}", "A".repeat(MIB - 1024));
    let body = match (mode, action) {
        ("huge-code", _) => format!(
            r#"{{"Response":{{"Error":{{"Code":"{}","Message":"m"}},"RequestId":"r"}}}}"#,
            huge("Hostile.")
        ),
        ("huge-request-id", _) => format!(
            r#"{{"Response":{{"Error":{{"Code":"FailedOperation","Message":"m"}},"RequestId":"{}"}}}}"#,
            huge("r-")
        ),
        (_, "DescribeKeyPairs") => {
            format!(r#"{{"Response":{{"TotalCount":0,"KeyPairSet":[],"RequestId":"{}"}}}}"#, huge("r-"))
        }
        _ => format!(r#"{{"Response":{{"RequestId":"{}"}}}}"#, huge("r-")),
    };
    assert!(body.len() < MIB, "under the transport's cap");
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

/// Every response the server gives: (mode, action, bytes).
type Answers = Arc<Vec<(&'static str, &'static str, Vec<u8>)>>;

/// A keep-alive HTTP server on 127.0.0.1 that answers each request with the prebuilt bytes for
/// its `X-TC-Region` (the mode) and `X-TC-Action`; returns its URL.
pub fn server() -> String {
    let answers: Answers = Arc::new(
        MODES
            .iter()
            .flat_map(|&mode| {
                ["DeleteKeyPairs", "DescribeKeyPairs"].map(|action| (mode, action, response(mode, action)))
            })
            .collect(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let answers = answers.clone();
            std::thread::spawn(move || serve(stream, &answers));
        }
    });
    url
}

fn serve(stream: TcpStream, answers: &Answers) {
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::with_capacity(4096, stream);
    let (mut line, mut body) = (String::with_capacity(256), Vec::with_capacity(4096));
    loop {
        line.clear();
        if !matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
            return;
        }
        let (mut length, mut mode, mut action) = (0, None, None);
        loop {
            line.clear();
            if reader.read_line(&mut line).is_err() {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else { return };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("x-tc-region") {
                mode = MODES.iter().position(|m| *m == value);
            } else if name.eq_ignore_ascii_case("x-tc-action") {
                action = Some(value == "DescribeKeyPairs");
            }
        }
        body.resize(length, 0);
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let (Some(mode), Some(describe)) = (mode, action) else { return };
        if writer.write_all(&answers[mode * 2 + usize::from(describe)].2).is_err() {
            return;
        }
    }
}

/// The 1,000 ids the tests delete.
pub fn ids() -> Vec<String> {
    (0..1000).map(|i| format!("skey-a{i:07}")).collect()
}
