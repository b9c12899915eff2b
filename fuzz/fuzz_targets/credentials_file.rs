//! `parse_profile` on arbitrary text and section: never a panic; an error never shows the value
//! of any `secret_id`, `secret_key` or `token` line, in any section, in `Display` or `Debug`;
//! credentials read come from exactly those lines of the section asked for, unquoted, and
//! their `Debug` shows neither the secret key nor the token.
//!
//! Input: text (UTF-8, lossily); its first line is the section asked for, the rest is the file.
//! Every value the parser would read as one of the three keys is marked: `^N^` (N its line
//! number) is put before it, after its spaces and opening quote, and `^` is removed from all
//! other text, so a `^` in an error can only come from a value and a value read names its line.
#![no_main]

use cvm_keypairs::testing::{credential_parts, parse_profile};
use libfuzzer_sys::fuzz_target;

const KEYS: [&str; 3] = ["secret_id", "secret_key", "token"];
const MARK: char = '^';

/// A marked value: which key its line sets (index into `KEYS`), the section it is in, and the
/// value as the parser should read it (trimmed, one pair of matching quotes removed).
struct Marked {
    key: usize,
    section: Option<String>,
    value: String,
}

/// Marks the values of the key lines of `file`, as the parser splits it into lines, sections
/// and pairs; returns the marked text and the marked values by line number.
fn mark(file: &str) -> (String, Vec<(usize, Marked)>) {
    let (bom, body) = match file.strip_prefix('\u{feff}') {
        Some(body) => ("\u{feff}", body),
        None => ("", file),
    };
    let mut section = None;
    let mut marked = Vec::new();
    let mut lines = Vec::new();
    for (index, line) in body.split('\n').enumerate() {
        let n = index + 1;
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            section = Some(name.trim().to_owned());
        }
        let pair = line.split_once('=').filter(|_| !trimmed.starts_with(['[', '#', ';']));
        let key = pair.and_then(|(name, _)| KEYS.iter().position(|k| k.eq_ignore_ascii_case(name.trim())));
        match (pair, key) {
            (Some((name, value)), Some(key)) if !value.trim().is_empty() => {
                let spaces = value.len() - value.trim_start().len();
                let (space, rest) = value.split_at(spaces);
                let (quote, rest) = match rest.strip_prefix(['"', '\'']) {
                    Some(after) => rest.split_at(rest.len() - after.len()),
                    None => ("", rest),
                };
                let value = format!("{quote}{MARK}{n}{MARK}{rest}");
                let trimmed = value.trim();
                let unquoted = ['"', '\'']
                    .iter()
                    .find_map(|&q| trimmed.strip_prefix(q).and_then(|r| r.strip_suffix(q)))
                    .unwrap_or(trimmed);
                marked.push((n, Marked { key, section: section.clone(), value: unquoted.to_owned() }));
                lines.push(format!("{name}={space}{value}"));
            }
            _ => lines.push(line.to_owned()),
        }
    }
    (format!("{bom}{}", lines.join("\n")), marked)
}

/// The marked value `s` came from, by the line number after its opening `^`.
fn source<'a>(s: &str, marked: &'a [(usize, Marked)]) -> &'a Marked {
    let line =
        s.strip_prefix(MARK).and_then(|r| r.split_once(MARK)).and_then(|(n, _)| n.parse::<usize>().ok());
    let found = marked.iter().find(|(n, _)| Some(*n) == line).map(|(_, m)| m);
    found.unwrap_or_else(|| panic!("{s:?} is not a value of the file"))
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data).replace(MARK, "");
    let (section, file) = input.split_once('\n').unwrap_or((&input, ""));
    let (text, marked) = mark(file);
    match parse_profile(&text, section) {
        Err(e) => {
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains(MARK), "a value shown in {shown:?}\nfile: {text:?}");
        }
        Ok(credentials) => {
            let (secret_id, secret_key, token) = credential_parts(&credentials);
            let values = [Some(secret_id), Some(secret_key), token];
            for (key, value) in values.into_iter().enumerate() {
                let Some(value) = value else { continue };
                let from = source(value, &marked);
                assert_eq!(
                    (from.key, from.section.as_deref()),
                    (key, Some(section)),
                    "{value:?} in {text:?}"
                );
                assert_eq!(value, from.value);
            }
            let debug = format!("{credentials:?}");
            for secret in [Some(secret_key), token].into_iter().flatten() {
                assert!(!debug.contains(secret), "{debug}");
            }
        }
    }
});
