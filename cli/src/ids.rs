//! The key pair ids of `delete` and `describe`: those on the command line, and those read from
//! stdin when `-` is among them.
//!
//! Stdin is what pipelines produce (`cut`, `jq -r`, files with comments, CRLF from Windows), so
//! ids are separated by any ASCII whitespace, `#` starts a comment to the end of the line, and
//! a UTF-8 byte order mark at the very start is skipped. It is read through one fixed buffer
//! and checked as it streams in, so any input is refused within bounded time and memory: a
//! word longer than [`MAX_WORD`] bytes, more than [`MAX_IDS`] ids or more than [`MAX_BYTES`]
//! bytes.

use std::collections::HashSet;
use std::io::{self, Read};

use cvm_keypairs::{DeleteKeyPairs, Error, KeyId};

use crate::args::UsageError;

/// The most ids read from stdin in one run; far more than a region's key pairs.
pub const MAX_IDS: usize = 100_000;
/// The most bytes read from stdin, comments and blank lines included: 16 MiB.
pub const MAX_BYTES: usize = 16 << 20;
/// The longest word accepted; an id has 13 bytes, the slack is for a useful error.
pub const MAX_WORD: usize = 64;
/// The most ids one request takes (DeleteKeyPairs, and DescribeKeyPairs by ids): the API's limit.
pub const PER_REQUEST: usize = 100;

const BOM: &[u8] = b"\xef\xbb\xbf";

/// The ids a command was given, not yet read or checked.
#[derive(Debug, Default)]
pub struct Ids {
    given: Vec<String>,
    from_stdin: bool,
}

impl Ids {
    /// Takes a positional argument: an id, or `-` for stdin.
    pub fn take(&mut self, arg: String) -> Result<(), UsageError> {
        if arg != "-" {
            self.given.push(arg);
        } else if self.from_stdin {
            return Err(UsageError("`-` (read ids from stdin) is given twice".into()));
        } else {
            self.from_stdin = true;
        }
        Ok(())
    }

    /// Whether neither an id nor `-` was given.
    pub fn none_given(&self) -> bool {
        self.given.is_empty() && !self.from_stdin
    }

    /// Whether `-` was given.
    pub fn reads_stdin(&self) -> bool {
        self.from_stdin
    }

    /// Every id (stdin's after the command line's), checked and without repeats; or, when
    /// stdin cannot be read or an id is malformed, the exit code after saying why (nothing
    /// is sent then).
    pub fn resolve(mut self, stdin: impl Read, json: bool) -> Result<Vec<KeyId>, u8> {
        if self.from_stdin {
            if let Err(why) = read(stdin, &mut self.given) {
                return Err(crate::refuse("InvalidInput", &why, json));
            }
        }
        parse(&self.given).map_err(|e| crate::fail(&e, json))
    }
}

/// Every id of `given` in order, each once; or the error naming every malformed one.
fn parse(given: &[String]) -> Result<Vec<KeyId>, Error> {
    let mut seen = HashSet::with_capacity(given.len());
    let mut ids = Vec::with_capacity(given.len());
    for text in given {
        match text.parse::<KeyId>() {
            Ok(id) => {
                if seen.insert(id) {
                    ids.push(id);
                }
            }
            // The library's own error, which names every malformed id: DeleteKeyPairs checks
            // each id, and reports all malformed ones together, before anything else.
            Err(e) => return Err(DeleteKeyPairs::new(given).err().unwrap_or_else(|| Error::from(e))),
        }
    }
    Ok(ids)
}

/// Adds the words of `input` to `ids`, or says why the input is refused.
fn read(mut input: impl Read, ids: &mut Vec<String>) -> Result<(), String> {
    let mut buffer = vec![0u8; 64 << 10];
    let mut words = Words {
        ids,
        word: Vec::with_capacity(MAX_WORD),
        word_start: 0,
        seen: 0,
        line: 1,
        comment: false,
        count: 0,
    };
    loop {
        let n = match input.read(&mut buffer) {
            Ok(0) => return words.end_word(),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("cannot read key pair ids from stdin: {e}")),
        };
        if words.seen + n > MAX_BYTES {
            return Err(format!("stdin holds more than {} MiB, the most one run reads", MAX_BYTES >> 20));
        }
        for &byte in &buffer[..n] {
            words.push(byte)?;
        }
    }
}

/// Splits a byte stream into words.
struct Words<'a> {
    ids: &'a mut Vec<String>,
    word: Vec<u8>,
    // Where the current word began, to recognise a byte order mark at the start of the input.
    word_start: usize,
    seen: usize,
    line: usize,
    comment: bool,
    count: usize,
}

impl Words<'_> {
    fn push(&mut self, byte: u8) -> Result<(), String> {
        match byte {
            b'\n' => {
                self.comment = false;
                self.end_word()?;
                self.line += 1;
            }
            _ if self.comment => {}
            b'#' => {
                self.end_word()?;
                self.comment = true;
            }
            b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c' => self.end_word()?,
            _ if self.word.len() == MAX_WORD => {
                return Err(format!(
                    "line {} of stdin holds a word of more than {MAX_WORD} bytes; a key pair id is \
                     \"skey-\" and 8 of 0-9a-z",
                    self.line
                ))
            }
            _ => {
                if self.word.is_empty() {
                    self.word_start = self.seen;
                }
                self.word.push(byte);
            }
        }
        self.seen += 1;
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), String> {
        let word = match &self.word[..] {
            [] => return Ok(()),
            word if self.word_start == 0 => word.strip_prefix(BOM).unwrap_or(word),
            word => word,
        };
        if !word.is_empty() {
            self.count += 1;
            if self.count > MAX_IDS {
                return Err(format!("stdin holds more than {MAX_IDS} ids, the most one run takes"));
            }
            self.ids.push(String::from_utf8_lossy(word).into_owned());
        }
        self.word.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(input: &[u8]) -> Result<Vec<String>, String> {
        let mut ids = Vec::new();
        read(input, &mut ids).map(|()| ids)
    }

    #[test]
    fn ids_are_split_on_any_whitespace_and_comments_and_blank_lines_are_skipped() {
        let input = b"\xef\xbb\xbf# exported ids\r\n\r\nskey-aaaaaaaa skey-bbbbbbbb\tskey-cccccccc\r\n  \
                      skey-dddddddd  # web server\n#skey-eeeeeeee\n\x0bskey-ffffffff#x\x0cskey-gggggggg";
        assert_eq!(
            words(input).unwrap(),
            ["skey-aaaaaaaa", "skey-bbbbbbbb", "skey-cccccccc", "skey-dddddddd", "skey-ffffffff"]
        );
        assert_eq!(words(b"\xef\xbb\xbfskey-aaaaaaaa\n").unwrap(), ["skey-aaaaaaaa"]);
        assert_eq!(words(b"\xef\xbb\xbf").unwrap(), Vec::<String>::new());
        assert_eq!(words(b"").unwrap(), Vec::<String>::new());
        assert_eq!(words(b"\n \n# only a comment").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_byte_order_mark_counts_only_at_the_very_start() {
        assert_eq!(words(b"x \xef\xbb\xbfy").unwrap(), ["x", "\u{feff}y"]);
        assert_eq!(
            words(b"\xff\xfe").unwrap(),
            ["\u{fffd}\u{fffd}"],
            "not UTF-8: kept, to be refused as an id"
        );
    }

    #[test]
    fn long_words_too_many_ids_and_too_much_input_are_refused() {
        assert_eq!(words(&[b'a'; MAX_WORD]).unwrap().len(), 1);
        let long = words(&[&b"skey-aaaaaaaa\n\n"[..], &[0u8; 100]].concat()).unwrap_err();
        assert!(long.starts_with("line 3 of stdin holds a word of more than 64 bytes"), "{long}");
        let many = "skey-aaaaaaaa\n".repeat(MAX_IDS);
        assert_eq!(words(many.as_bytes()).unwrap().len(), MAX_IDS);
        let too_many = words(format!("{many}skey-bbbbbbbb").as_bytes()).unwrap_err();
        assert_eq!(too_many, "stdin holds more than 100000 ids, the most one run takes");
        assert_eq!(words(&vec![b' '; MAX_BYTES]).unwrap().len(), 0);
        let big = words(&vec![b' '; MAX_BYTES + 1]).unwrap_err();
        assert_eq!(big, "stdin holds more than 16 MiB, the most one run reads");
    }

    #[test]
    fn dash_once_and_ids_in_order() {
        let mut ids = Ids::default();
        assert!(ids.none_given());
        ids.take("-".into()).unwrap();
        ids.take("skey-bbbbbbbb".into()).unwrap();
        assert!(!ids.none_given() && ids.reads_stdin());
        assert_eq!(ids.take("-".into()).unwrap_err().0, "`-` (read ids from stdin) is given twice");
        let resolved = ids.resolve(&b"skey-aaaaaaaa skey-bbbbbbbb"[..], false).unwrap();
        let shown: Vec<String> = resolved.iter().map(KeyId::to_string).collect();
        assert_eq!(shown, ["skey-bbbbbbbb", "skey-aaaaaaaa"]);
    }

    #[test]
    fn repeats_count_once_and_every_malformed_id_is_named_however_many_ids_there_are() {
        let twice = ["skey-aaaaaaaa".to_owned(), "skey-bbbbbbbb".into(), "skey-aaaaaaaa".into()];
        assert_eq!(parse(&twice).unwrap().len(), 2);
        let mut given: Vec<String> = (0..150).map(|i| format!("skey-a{i:07}")).collect();
        given.insert(0, "nope".into());
        given.push("skey-BAD00000".into());
        let shown = parse(&given).unwrap_err().to_string();
        assert!(shown.starts_with("2 invalid key pair ids: \"nope\" ("), "{shown}");
        assert!(shown.contains("\"skey-BAD00000\" ("), "{shown}");
    }
}
