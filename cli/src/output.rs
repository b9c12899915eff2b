//! What the commands print: every stdout write goes through [`print`], which remembers the
//! first one that failed so a report nobody received never ends in exit 0 ([`finish`]), and
//! text that came from outside (API answers, key names) goes through [`for_people`] before a
//! person's terminal sees it.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::{Mutex, PoisonError};

use crate::exit;

// The emulator calls the demo's printer from its own threads, so this is process-wide.
static FAILED: Mutex<Option<io::Error>> = Mutex::new(None);

/// Writes `text` on stdout and flushes it. Once a write has failed nothing more is written:
/// the output is incomplete anyway, and a reader that went away wants nothing more.
pub fn print(text: &str) {
    let mut failed = FAILED.lock().unwrap_or_else(PoisonError::into_inner);
    if failed.is_some() {
        return;
    }
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        *failed = Some(e);
    }
}

/// Prints `value` as one line of JSON.
pub fn print_json(value: &serde_json::Value) {
    print(&format!("{value}\n"));
}

/// Prints one line of JSON as `serde_json::to_string` made it (keeping the order of the
/// library's fields). Should that have failed (only a map with keys that are not strings can
/// fail, and no output has one), nothing is printed and the output counts as not written.
pub fn print_json_text(json: serde_json::Result<String>) {
    match json {
        Ok(text) => print(&format!("{text}\n")),
        Err(e) => {
            let mut failed = FAILED.lock().unwrap_or_else(PoisonError::into_inner);
            failed.get_or_insert(io::Error::other(e));
        }
    }
}

/// The exit code of a command that would exit `code`, now that it has printed everything:
/// `code` if stdout took it all, or if the reader went away (a broken pipe, as with `| head`:
/// it stopped reading on purpose, so this ends quietly); otherwise a message on stderr and
/// [`exit::OUTPUT`].
pub fn finish(code: u8) -> u8 {
    match FAILED.lock().unwrap_or_else(PoisonError::into_inner).take() {
        None => code,
        Some(e) if e.kind() == io::ErrorKind::BrokenPipe => code,
        Some(e) => {
            eprintln!(
                "error: cannot write to stdout: {e}; the output is incomplete (key pairs the command \
                 deleted stay deleted)"
            );
            exit::OUTPUT
        }
    }
}

/// `text` safe to print on a terminal: every control character (C0 such as ESC, CR, LF and
/// tab; DEL; C1) and every bidirectional formatting or line-separator character is shown as
/// a Rust-style escape such as `\u{1b}`, so a server cannot clear the screen, retitle the
/// terminal, start a forged `error:` line or reorder what is shown.
pub fn for_people(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) {
            let _ = write!(shown, "\\u{{{:x}}}", u32::from(c));
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}

/// `n` and `noun`, plural unless `n` is 1: "1 key pair", "2 key pairs", "0 requests".
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_singular_only_for_one() {
        assert_eq!(
            [count(0, "key pair"), count(1, "key pair"), count(2, "request")],
            ["0 key pairs", "1 key pair", "2 requests"]
        );
    }

    #[test]
    fn controls_and_bidi_characters_are_escaped_and_the_rest_kept() {
        assert!(matches!(for_people("skey-aaaaaaaa 中文 ok"), Cow::Borrowed(_)));
        assert_eq!(
            for_people("a\x1b[2J\r\nerror: x\t\x00\x7f\u{85}\u{9b}\u{202e}\u{2066}\u{2069}\u{200f}z"),
            "a\\u{1b}[2J\\u{d}\\u{a}error: x\\u{9}\\u{0}\\u{7f}\\u{85}\\u{9b}\\u{202e}\\u{2066}\\u{2069}\\u{200f}z"
        );
    }
}
