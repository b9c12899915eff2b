//! `cvm-keypairs delete` while it runs, seen as a person or a CI log sees it: what stderr says
//! and when (waits, heartbeats on a silent endpoint), and what an interrupted run leaves on
//! stdout (SIGINT, SIGTERM). Every stderr line is timestamped as it arrives.

mod cli_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cli_support::*;
use serde_json::Value;

/// A running client whose stderr lines are collected with the time each arrived.
struct Live {
    child: Child,
    started: Instant,
    lines: mpsc::Receiver<(Duration, String)>,
    seen: Vec<(Duration, String)>,
    stdout: std::thread::JoinHandle<String>,
    _home: TempDir,
}

impl Live {
    fn spawn(args: &[&str], stdin: Option<String>) -> Live {
        let home = TempDir::new("home");
        let mut child = command(args, Creds::Good(None), &home)
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().unwrap();
            std::thread::spawn(move || pipe.write_all(input.as_bytes()));
        }
        let started = Instant::now();
        let (send, lines) = mpsc::channel();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = send.send((started.elapsed(), line));
            }
        });
        let mut out = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = out.read_to_string(&mut text);
            text
        });
        Live { child, started, lines, seen: Vec::new(), stdout, _home: home }
    }

    /// Waits (at most `limit`) for a stderr line that `wanted` accepts.
    fn wait_for(&mut self, limit: Duration, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((at, line)) => {
                    self.seen.push((at, line.clone()));
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(_) => panic!("no such line within {limit:?}; stderr so far: {:#?}", self.seen),
            }
        }
    }

    fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status();
        assert!(status.unwrap().success());
    }

    /// Waits (at most `limit`) for the exit; returns the code, stdout, and every stderr line.
    fn finish(mut self, limit: Duration) -> (i32, String, Vec<(Duration, String)>) {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("still running after {limit:?}; stderr: {:#?}", self.seen);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = self.stdout.join().unwrap();
        self.seen.extend(self.lines.try_iter());
        for secret in [SECRET_KEY, TOKEN] {
            assert!(!stdout.contains(secret) && !self.seen.iter().any(|(_, l)| l.contains(secret)));
        }
        (status.code().expect("exited"), stdout, self.seen)
    }
}

/// The longest time between two stderr lines (or from the start to the first, or from the
/// last to `end`).
fn longest_silence(lines: &[(Duration, String)], end: Duration) -> Duration {
    let mut stamps: Vec<Duration> = vec![Duration::ZERO];
    stamps.extend(lines.iter().map(|(at, _)| *at));
    stamps.push(end);
    stamps.windows(2).map(|w| w[1].saturating_sub(w[0])).max().unwrap()
}

#[test]
fn an_endpoint_that_never_answers_ends_the_run_within_two_minutes_never_silent_for_15_s() {
    // Accepts connections and reads, never answers: the default timeout and silence limit
    // (60 s) must end the run, with a heartbeat meanwhile.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut sink = [0u8; 4096];
                while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
            });
        }
    });
    let asked = ids("dead", 1000);
    let args = ["delete", "--region", REGION, "--endpoint", &url, "--json", "-"];
    let live = Live::spawn(&args, Some(asked.join("\n")));
    let started = live.started;
    let (code, stdout, stderr) = live.finish(Duration::from_secs(120));
    let took = started.elapsed();
    assert_eq!(code, 4, "{stdout}\n{stderr:#?}");
    assert!(took < Duration::from_secs(120), "{took:?}");
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    let (_, _, failed) = check_json(&report, &asked);
    assert!(failed.values().all(|c| c == "Transport.Timeout"), "{failed:?}");
    let silence = longest_silence(&stderr, took);
    assert!(silence <= Duration::from_secs(15), "silent for {silence:?}: {stderr:#?}");
    assert!(
        stderr.iter().any(|(_, l)| l.starts_with("still waiting for the answer to DeleteKeyPairs: ")),
        "{stderr:#?}"
    );
}

/// A loopback API that throttles the first `throttled` requests of any action with `code` (as
/// JSON text), then answers like an account whose keys all exist (DeleteKeyPairs succeeds,
/// DescribeKeyPairs lists none).
fn throttling_api(throttled: usize, code: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let count = count.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    let (mut line, mut length) = (String::new(), 0);
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap();
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let n = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let answer = if n < throttled {
                        format!(
                            r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"slow down"}},"RequestId":"r-t"}}}}"#
                        )
                    } else if String::from_utf8_lossy(&body).contains("Limit") {
                        r#"{"Response":{"TotalCount":0,"KeyPairSet":[],"RequestId":"r-d"}}"#.to_owned()
                    } else {
                        r#"{"Response":{"RequestId":"r-ok"}}"#.to_owned()
                    };
                    let reply =
                        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{answer}", answer.len());
                    if stream.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

#[test]
fn a_throttled_run_says_what_it_waits_for_and_how_long() {
    let url = throttling_api(2, "RequestLimitExceeded");
    let live = Live::spawn(&["delete", "--region", REGION, "--endpoint", &url, "skey-aaaaaaaa"], None);
    let (code, stdout, stderr) = live.finish(Duration::from_secs(30));
    assert_eq!(code, 0, "{stdout}\n{stderr:#?}");
    let waits: Vec<&String> = stderr.iter().map(|(_, l)| l).filter(|l| l.starts_with("waiting ")).collect();
    assert_eq!(waits.len(), 2, "one line per throttled wait: {stderr:#?}");
    for wait in waits {
        assert!(wait.contains(" s: DeleteKeyPairs was throttled (RequestLimitExceeded)"), "{wait}");
    }
}

#[test]
fn the_server_s_code_in_a_wait_line_is_escaped() {
    let url = throttling_api(1, r"RequestLimitExceeded.\u001b[2J\u001b]0;owned\u0007");
    let live = Live::spawn(&["delete", "--region", REGION, "--endpoint", &url, "skey-aaaaaaaa"], None);
    let (code, stdout, stderr) = live.finish(Duration::from_secs(30));
    assert_eq!(code, 0, "{stdout}\n{stderr:#?}");
    let waits: Vec<&String> = stderr.iter().map(|(_, l)| l).filter(|l| l.starts_with("waiting ")).collect();
    assert_eq!(waits.len(), 1, "{stderr:#?}");
    assert!(waits[0].contains(r"(RequestLimitExceeded.\u{1b}[2J\u{1b}]0;owned\u{7})"), "{}", waits[0]);
    assert!(stderr.iter().all(|(_, l)| !l.contains(['\x1b', '\x07'])), "{stderr:#?}");
}

/// 1,000 keys in an emulator that answers each request after `slow_ms`.
fn slow_emulator(slow_ms: &str) -> (Emu, Vec<String>) {
    let asked = ids("sig", 1000);
    let seed: Vec<Value> = asked.iter().map(|id| seed_entry(id, false)).collect();
    (Emu::start(&seed, &["--slow-ms", slow_ms]), asked)
}

/// Checks an interrupted run's report: each id once, every key the emulator no longer has
/// named as deleted or as accepted by a DeleteKeyPairs, and the rest `Interrupted`.
fn check_interrupted(report: &Value, asked: &[String], emu: Emu) -> Vec<Value> {
    let (deleted, not_found, failed) = check_json(report, asked);
    assert!(not_found.is_empty());
    assert!(failed.values().all(|c| c == "Interrupted"), "{failed:?}");
    let records = emu.finish();
    let gone: usize = records
        .iter()
        .filter(|r| r["action"] == "DeleteKeyPairs")
        .map(|r| r["deleted"].as_u64().unwrap() as usize)
        .sum();
    let accepted = report["failed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["message"].as_str().unwrap().contains("DeleteKeyPairs accepted it"))
        .count();
    assert_eq!(deleted.len() + accepted, gone, "every key deleted is named: {report}");
    assert!(gone > 0 && gone < 1000, "interrupted midway: {gone}");
    records
}

#[test]
fn sigterm_stops_sending_and_leaves_the_report_of_what_was_settled() {
    let (emu, asked) = slow_emulator("200");
    let args = ["delete", "--region", REGION, "--endpoint", &emu.url, "--json", "-"];
    let mut live = Live::spawn(&args, Some(asked.join("\n")));
    live.wait_for(Duration::from_secs(30), |l| l.contains("300 awaiting verification"));
    live.signal("TERM");
    let signalled = Instant::now();
    let (code, stdout, stderr) = live.finish(Duration::from_secs(10));
    assert_eq!(code, 143, "{stderr:#?}");
    assert!(signalled.elapsed() < Duration::from_secs(3), "{:?}", signalled.elapsed());
    assert!(stderr.iter().any(|(_, l)| l.starts_with("interrupted: sending nothing more")), "{stderr:#?}");
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    let records = check_interrupted(&report, &asked, emu);
    // The request in flight at the signal returned; nothing was sent after it.
    let deletes = records.iter().filter(|r| r["action"] == "DeleteKeyPairs").count();
    assert!(deletes <= 4, "{deletes} DeleteKeyPairs: {records:?}");
    assert!(records.iter().all(|r| r["action"] != "DescribeKeyPairs"), "no verification after the signal");
}

#[test]
fn sigint_during_a_request_that_does_not_return_prints_the_report_as_it_stands() {
    let (emu, asked) = slow_emulator("4000");
    let args = ["delete", "--region", REGION, "--endpoint", &emu.url, "-"];
    let mut live = Live::spawn(&args, Some(asked.join("\n")));
    // The first request was answered after 4 s; the second is in flight for 4 s more.
    live.wait_for(Duration::from_secs(30), |l| l.contains("100 awaiting verification"));
    std::thread::sleep(Duration::from_millis(300));
    live.signal("INT");
    let signalled = Instant::now();
    let (code, stdout, _) = live.finish(Duration::from_secs(10));
    assert_eq!(code, 130);
    assert!(
        signalled.elapsed() < Duration::from_secs(3),
        "it did not wait for the request: {:?}",
        signalled.elapsed()
    );
    assert!(stdout.starts_with("1000 key pairs: 0 deleted, 0 not found, 0 kept, 1000 failed"), "{stdout}");
    assert!(stdout.contains("DeleteKeyPairs accepted it"), "{stdout}");
    assert!(stdout.contains("a DeleteKeyPairs naming it got no answer: it may be deleted"), "{stdout}");
    drop(emu);
}
