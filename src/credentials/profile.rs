//! Credentials from the INI profile file `~/.tencentcloud/credentials`, as the official SDKs and
//! tccli write it.
//!
//! [`parse_profile`] is the pure parser (text and section in, credentials out), so it can be
//! tested and fuzzed without files; [`ProfileProvider`] finds and reads the file.
//!
//! ```text
//! [default]
//! secret_id = AKIDEXAMPLE
//! secret_key = secret-key-EXAMPLE
//!
//! [prod]
//! secret_id = AKIDPROD
//! secret_key = "secret-key-PROD"
//! token = optional-session-token
//! ```

use std::env::VarError;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use super::{absent, in_context, Credentials, ProvideCredentials};
use crate::env::{non_empty_var, Environment, SystemEnvironment};
use crate::error::Error;

/// The variable naming the profile file, instead of `~/.tencentcloud/credentials`.
pub(crate) const CREDENTIALS_FILE_VAR: &str = "TENCENTCLOUD_CREDENTIALS_FILE";
/// The variable naming the profile (section) to use, instead of `default`.
pub(crate) const PROFILE_VAR: &str = "TENCENTCLOUD_PROFILE";

/// Reads the credentials of profile `section` from the text of a profile file.
///
/// The format, strictly, since an ambiguous file must not silently select the wrong identity:
/// - Lines are `[name]` section headers, `name = value` pairs, blank lines, or comments starting
///   with `#` or `;`. A leading byte-order mark and CRLF line ends are accepted; whitespace
///   around names, values and `=` is ignored; a value runs from the first `=` to the line end.
/// - Any other line, including a pair before the first header, is an error naming its line
///   number, wherever it is in the file: a broken header could move keys into another section.
/// - In the section read, the keys are `secret_id`, `secret_key` and the optional `token`,
///   matched without regard to ASCII case; other keys are ignored. One pair of matching quotes
///   around a value is removed (`secret_key = "…"`). An empty `token` means no token.
/// - Inline comments are not supported: a value containing ` #` or ` ;` is an error rather than
///   a guess. So are unbalanced quotes.
/// - The section read may appear only once, and each key only once in it; other sections may
///   repeat (they are not read).
///
/// Errors name the section, the key and the line, never a value (for example `section [prod]
/// not found (sections present: default)`).
pub(crate) fn parse_profile(text: &str, section: &str) -> Result<Credentials, Error> {
    if section.is_empty() || section.trim() != section {
        return Err(Error::credentials(format!(
            "profile name {section:?} is empty or has leading or trailing whitespace"
        )));
    }
    let mut reader =
        Reader { section, sections: Vec::new(), current: None, header_line: None, keys: [None; 3] };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, line) in text.split('\n').enumerate() {
        reader.line(index + 1, line.trim())?;
    }
    let keys = reader.finish()?;
    let [id, key, token] = keys.map(|entry| entry.map(|(_, value)| value));
    let missing = |name: &str| Error::credentials(format!("section [{section}] has no {name}"));
    let context = format!("section [{section}]");
    let credentials =
        Credentials::new(id.ok_or_else(|| missing(KEYS[0]))?, key.ok_or_else(|| missing(KEYS[1]))?)
            .map_err(|e| in_context(&context, e))?;
    match token.filter(|token| !token.is_empty()) {
        Some(token) => credentials.with_token(token).map_err(|e| in_context(&context, e)),
        None => Ok(credentials),
    }
}

/// Where [`parse_profile`] is in the file: the sections seen, the one the lines belong to, and
/// the keys of the section asked for, each with its line.
struct Reader<'t> {
    section: &'t str,
    sections: Vec<&'t str>,
    current: Option<&'t str>,
    header_line: Option<usize>,
    keys: [Option<(usize, &'t str)>; 3],
}

impl<'t> Reader<'t> {
    /// Takes line `n`, trimmed.
    fn line(&mut self, n: usize, line: &'t str) -> Result<(), Error> {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            return Ok(());
        }
        if line.starts_with('[') {
            return self.header(n, line);
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err(line_error(n, "expected `name = value`, a `[section]` header or a comment"));
        };
        if self.current.is_none() {
            return Err(line_error(n, "a `name = value` pair comes before any `[section]` header"));
        }
        let name = name.trim();
        if name.is_empty() {
            return Err(line_error(n, "a `name = value` pair has no name"));
        }
        let Some(slot) = KEYS.iter().position(|key| key.eq_ignore_ascii_case(name)) else { return Ok(()) };
        if self.current != Some(self.section) {
            return Ok(());
        }
        if let Some((first, _)) = self.keys[slot] {
            return Err(Error::credentials(format!(
                "section [{}] sets {} twice, on lines {first} and {n}",
                self.section, KEYS[slot]
            )));
        }
        self.keys[slot] = Some((n, unquote(value.trim()).map_err(|why| line_error(n, why))?));
        Ok(())
    }

    fn header(&mut self, n: usize, line: &'t str) -> Result<(), Error> {
        let name = line
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .ok_or_else(|| line_error(n, "a section header must be `[name]` alone on its line"))?;
        if name == self.section {
            if let Some(first) = self.header_line {
                return Err(Error::credentials(format!(
                    "section [{}] appears twice, on lines {first} and {n}",
                    self.section
                )));
            }
            self.header_line = Some(n);
        }
        if !self.sections.contains(&name) {
            self.sections.push(name);
        }
        self.current = Some(name);
        Ok(())
    }

    /// The keys of the section asked for, or why there are none.
    fn finish(self) -> Result<[Option<(usize, &'t str)>; 3], Error> {
        if self.header_line.is_none() {
            let present = if self.sections.is_empty() { "none".to_owned() } else { self.sections.join(", ") };
            return Err(Error::credentials(format!(
                "section [{}] not found (sections present: {present})",
                self.section
            )));
        }
        Ok(self.keys)
    }
}

/// The keys read, in the order secret id, secret key, token.
const KEYS: [&str; 3] = ["secret_id", "secret_key", "token"];

fn line_error(n: usize, why: &str) -> Error {
    Error::credentials(format!("line {n}: {why}"))
}

/// Removes one pair of matching quotes, refusing what looks like an inline comment or a stray
/// quote (either would end up inside the secret and break every signature).
fn unquote(value: &str) -> Result<&str, &'static str> {
    if value.split_whitespace().skip(1).any(|word| word.starts_with('#') || word.starts_with(';')) {
        return Err("comments must be on their own line, not after a value");
    }
    let inner = ['"', '\'']
        .iter()
        .find_map(|&q| value.strip_prefix(q).and_then(|rest| rest.strip_suffix(q)))
        .unwrap_or(value);
    if inner.starts_with(['"', '\'']) || inner.ends_with(['"', '\'']) {
        return Err("a value has an unbalanced quote");
    }
    Ok(inner)
}

/// Credentials from a profile file.
///
/// The file is `TENCENTCLOUD_CREDENTIALS_FILE` if set, else `~/.tencentcloud/credentials`; the
/// profile is the one given to [`new`](Self::new), else `TENCENTCLOUD_PROFILE`,
/// else `default`. Empty variables count as unset.
///
/// The source is absent ([`Error::NoCredentials`], a chain moves on) only when nothing asked
/// for it: neither variable is set, no profile was named, and the default file does not exist
/// (or there is no home directory). Once the file exists or was asked for, every problem is an
/// error naming the file and section: unreadable or missing file, a syntax error, a missing
/// section or key, a malformed value, a path that is not a regular file (a FIFO, a device).
/// That way a broken profile never silently hands over to another identity.
///
/// The file is read once: later calls return the same credentials, so one run never switches
/// identity halfway because the file changed. A file that group or others may read (Unix
/// mode & 0o044) still works, and earns one warning on stderr, as ssh does:
/// `<path> is readable by others (mode 0644); chmod 600 it`.
pub struct ProfileProvider {
    env: Arc<dyn Environment>,
    profile: Option<String>,
    // A lock rather than a `OnceLock`, so threads asking at once read the file (and warn) once.
    loaded: Mutex<Option<Credentials>>,
}

impl ProfileProvider {
    /// The name this source reports in [`Error::NoCredentials`].
    pub(crate) const SOURCE: &'static str = "profile file";

    /// The profile `name`, or with `None` the one named by `TENCENTCLOUD_PROFILE`, else
    /// `default`. A profile named here is the one a command line's `--profile NAME` asks for:
    /// a missing file or section is then an error, not an absent source, so use this provider
    /// on its own rather than in a chain, and the profile the user named wins over environment
    /// variables.
    pub fn new(name: Option<&str>) -> Self {
        Self::with_env(Arc::new(SystemEnvironment), name)
    }

    /// [`ProfileProvider::new`], reading files and variables through `env`.
    pub(crate) fn with_env(env: Arc<dyn Environment>, name: Option<&str>) -> Self {
        ProfileProvider { env, profile: name.map(str::to_owned), loaded: Mutex::new(None) }
    }

    fn load(&self) -> Result<Credentials, Error> {
        let env = &*self.env;
        let (section, named) = match &self.profile {
            Some(name) => (name.clone(), Some(format!("profile {name:?} was asked for"))),
            None => match non_empty_var(env, PROFILE_VAR)? {
                Some(name) => (name, Some(format!("{PROFILE_VAR} is set"))),
                None => ("default".to_owned(), None),
            },
        };
        let (path, asked) = match file_var(env) {
            Some(path) => (path, Some(format!("{CREDENTIALS_FILE_VAR} is set"))),
            None => match env.home_dir() {
                Some(home) => (home.join(".tencentcloud").join("credentials"), named),
                None if named.is_none() => {
                    return Err(absent(
                        Self::SOURCE,
                        format!("no home directory and {CREDENTIALS_FILE_VAR} is not set"),
                    ))
                }
                None => {
                    return Err(Error::credentials(format!(
                        "profile [{section}]: no home directory to find ~/.tencentcloud/credentials in; \
                         set {CREDENTIALS_FILE_VAR}"
                    )))
                }
            },
        };
        let shown = printable(&path.display().to_string());
        let (text, mode) = match env.read_file(&path) {
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::NotFound && asked.is_none() => {
                return Err(absent(Self::SOURCE, format!("{shown} does not exist")));
            }
            Err(e) => {
                let why = asked.map(|why| format!(" ({why})")).unwrap_or_default();
                return Err(Error::credentials(format!("profile file {shown}{why} cannot be read: {e}")));
            }
        };
        let credentials =
            parse_profile(&text, &section).map_err(|e| in_context(&format!("profile file {shown}"), e))?;
        if let Some(mode) = mode.filter(|mode| mode & 0o044 != 0) {
            env.warn(&format!("{shown} is readable by others (mode {mode:04o}); chmod 600 it"));
        }
        Ok(credentials)
    }
}

/// `text` with control characters escaped, for a path from the environment shown to people.
fn printable(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            shown.extend(c.escape_debug());
        } else {
            shown.push(c);
        }
    }
    shown
}

/// `TENCENTCLOUD_CREDENTIALS_FILE`, which may be any path, Unicode or not; empty means unset.
fn file_var(env: &dyn Environment) -> Option<PathBuf> {
    match env.var(CREDENTIALS_FILE_VAR) {
        Ok(path) if !path.is_empty() => Some(path.into()),
        Err(VarError::NotUnicode(path)) => Some(path.into()),
        _ => None,
    }
}

impl ProvideCredentials for ProfileProvider {
    fn credentials(&self) -> Result<Credentials, Error> {
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(credentials) = &*loaded {
            return Ok(credentials.clone());
        }
        Ok(loaded.insert(self.load()?).clone())
    }
}

impl fmt::Debug for ProfileProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileProvider")
            .field("profile", &self.profile)
            // `try_lock`: showing a provider must never wait for (or deadlock on) a load.
            .field(
                "loaded",
                &self.loaded.try_lock().ok().and_then(|c| c.as_ref().map(|c| c.secret_id().to_owned())),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::credentials::fakes::FakeEnv;

    fn parse(text: &str) -> Result<Credentials, String> {
        parse_profile(text, "default").map_err(|e| e.to_string())
    }

    fn parts(c: &Credentials) -> (&str, &str, Option<&str>) {
        (c.secret_id(), c.secret_key(), c.token())
    }

    #[test]
    fn reads_the_named_section_with_comments_whitespace_crlf_and_bom() {
        let text = "\u{feff}# tccli profile\r\n; another comment\r\n\r\n  [ default ]  \r\n\
                    secret_id=AKIDdefault\r\n\tsecret_key   =   key-default  \r\n\
                    [prod]\nSECRET_ID = AKIDprod\nSecret_Key = \"key-prod\"\ntoken = 'tok-prod'\nregion = x\n";
        let c = parse_profile(text, "default").unwrap();
        assert_eq!(parts(&c), ("AKIDdefault", "key-default", None));
        let c = parse_profile(text, "prod").unwrap();
        assert_eq!(parts(&c), ("AKIDprod", "key-prod", Some("tok-prod")));
    }

    #[test]
    fn a_value_keeps_everything_after_the_first_equals_sign() {
        let c = parse("[default]\nsecret_id = AKID\nsecret_key = a=b==\ntoken = dG9rZW4=\n").unwrap();
        assert_eq!(parts(&c), ("AKID", "a=b==", Some("dG9rZW4=")));
    }

    #[test]
    fn an_empty_token_means_none() {
        let c = parse("[default]\nsecret_id = AKID\nsecret_key = k\ntoken =\n").unwrap();
        assert_eq!(c.token(), None);
    }

    #[test]
    fn missing_section_or_key_names_the_section_and_what_is_there() {
        assert_eq!(
            parse("[prod]\nsecret_id = AKID\n[test]\n[prod]\n").unwrap_err(),
            "credentials: section [default] not found (sections present: prod, test)"
        );
        assert_eq!(
            parse("").unwrap_err(),
            "credentials: section [default] not found (sections present: none)"
        );
        assert_eq!(
            parse("[default]\nsecret_key = k\n").unwrap_err(),
            "credentials: section [default] has no secret_id"
        );
        assert_eq!(
            parse("[default]\nsecret_id = AKID\n[other]\nsecret_key = k\n").unwrap_err(),
            "credentials: section [default] has no secret_key"
        );
    }

    #[test]
    fn duplicates_in_the_section_read_are_errors_and_elsewhere_ignored() {
        assert_eq!(
            parse("[default]\nsecret_id = A\n\n[default]\nsecret_key = k\n").unwrap_err(),
            "credentials: section [default] appears twice, on lines 1 and 4"
        );
        assert_eq!(
            parse("[default]\nsecret_id = A\nsecret_key = k\nSecret_Key = k2\n").unwrap_err(),
            "credentials: section [default] sets secret_key twice, on lines 3 and 4"
        );
        let c =
            parse("[x]\nsecret_id = 1\nsecret_id = 2\n[default]\nsecret_id = AKID\nsecret_key = k\n[x]\n");
        assert_eq!(c.unwrap().secret_id(), "AKID");
    }

    #[test]
    fn syntax_errors_anywhere_name_the_line() {
        let cases = [
            ("[default]\nsecret_id AKID\n", "line 2: expected `name = value`"),
            ("secret_id = AKID\n[default]\n", "line 1: a `name = value` pair comes before any"),
            ("[default]\nsecret_id = A\nsecret_key = k\n[prod\n", "line 4: a section header must be"),
            ("[default] # main\n", "line 1: a section header must be"),
            ("[]\n", "line 1: a section header must be"),
            ("[default]\n = k\n", "line 2: a `name = value` pair has no name"),
            (
                "[default]\nsecret_id = A\nsecret_key = k # old one\n",
                "line 3: comments must be on their own line",
            ),
            ("[default]\nsecret_id = A\nsecret_key = k\t;x\n", "line 3: comments must be on their own line"),
            ("[default]\nsecret_id = A\nsecret_key = \"k\n", "line 3: a value has an unbalanced quote"),
            ("[default]\nsecret_id = A\nsecret_key = 'k\"\n", "line 3: a value has an unbalanced quote"),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.starts_with(&format!("credentials: {expected}")), "{text:?}: {err}");
        }
    }

    #[test]
    fn malformed_values_are_rejected_by_credential_validation() {
        let cases = [
            ("[default]\nsecret_id = A\nsecret_key =\n", "section [default]: the secret key is empty"),
            (
                "[default]\nsecret_id = A\nsecret_key = \" k\"\n",
                "section [default]: the secret key has leading",
            ),
            (
                "[default]\nsecret_id = A B\nsecret_key = k\n",
                "section [default]: the secret id must be printable",
            ),
            (
                "[default]\nsecret_id = A\nsecret_key = k\ntoken = \"t \"\n",
                "section [default]: the session token has",
            ),
            (
                "[default]\nsecret_id = A\nsecret_key = k\u{0}\n",
                "section [default]: the secret key contains a control",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.starts_with(&format!("credentials: {expected}")), "{text:?}: {err}");
        }
    }

    #[test]
    fn profile_names_must_be_non_empty_and_unpadded() {
        assert!(parse_profile("[default]\n", "").is_err());
        assert!(parse_profile("[ prod ]\nsecret_id = A\nsecret_key = k\n", " prod").is_err());
    }

    #[test]
    fn parsing_arbitrary_mutations_never_panics_nor_echoes_values() {
        let base = "\u{feff}[default]\r\nsecret_id = AKIDfuzz\r\nsecret_key = \"KEYVALUE\"\r\n; c\r\n[p]\r\ntoken = TOKVALUE\r\n";
        let alphabet = ['[', ']', '=', '"', '\'', '#', ';', ' ', '\r', '\n', '\t', '\u{0}', 'é', 'x'];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound as u64) as usize
        };
        for _ in 0..3000 {
            let mut chars: Vec<char> = base.chars().collect();
            for _ in 0..1 + next(4) {
                let at = next(chars.len());
                match next(3) {
                    0 => chars[at] = alphabet[next(alphabet.len())],
                    1 => chars.insert(at, alphabet[next(alphabet.len())]),
                    _ => drop(chars.remove(at)),
                }
            }
            let text: String = chars.into_iter().collect();
            for section in ["default", "p"] {
                if let Err(e) = parse_profile(&text, section) {
                    let shown = format!("{e} {e:?}");
                    assert!(!shown.contains("KEYVALUE") && !shown.contains("TOKVALUE"), "{text:?}: {shown}");
                }
            }
        }
    }

    const HOME_FILE: &str = "/home/u/.tencentcloud/credentials";
    const FILE: &str =
        "[default]\nsecret_id = AKIDdef\nsecret_key = k\n[prod]\nsecret_id = AKIDprod\nsecret_key = k\n";

    fn provider(env: FakeEnv) -> ProfileProvider {
        ProfileProvider::with_env(Arc::new(env.home("/home/u")), None)
    }

    fn absent_reason(result: Result<Credentials, Error>) -> String {
        match result {
            Err(Error::NoCredentials(tried)) if tried.len() == 1 && tried[0].0 == "profile file" => {
                tried[0].1.clone()
            }
            other => panic!("{other:?}"),
        }
    }

    fn broken_reason(result: Result<Credentials, Error>) -> String {
        match result {
            Err(Error::Credentials { message: why, .. }) => why,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_the_home_file_and_the_profile_from_the_environment() {
        let env = FakeEnv::default().file(HOME_FILE, FILE);
        assert_eq!(provider(env.clone()).credentials().unwrap().secret_id(), "AKIDdef");
        let named = env.var_set(PROFILE_VAR, "prod");
        assert_eq!(provider(named.clone()).credentials().unwrap().secret_id(), "AKIDprod");
        let explicit = ProfileProvider::with_env(Arc::new(named.home("/home/u")), Some("default"));
        assert_eq!(
            explicit.credentials().unwrap().secret_id(),
            "AKIDdef",
            "an explicit name beats the variable"
        );
    }

    #[test]
    fn the_file_variable_replaces_the_home_file() {
        let env = FakeEnv::default().file("/etc/tc", FILE).var_set(CREDENTIALS_FILE_VAR, "/etc/tc");
        assert_eq!(provider(env).credentials().unwrap().secret_id(), "AKIDdef");
    }

    #[test]
    fn no_file_and_nothing_asked_for_is_absent() {
        assert_eq!(
            absent_reason(provider(FakeEnv::default()).credentials()),
            format!("{HOME_FILE} does not exist")
        );
        let homeless = ProfileProvider::with_env(Arc::new(FakeEnv::default()), None);
        assert!(absent_reason(homeless.credentials()).starts_with("no home directory"));
    }

    #[test]
    fn a_missing_file_that_was_asked_for_is_broken() {
        let why = broken_reason(
            provider(FakeEnv::default().var_set(CREDENTIALS_FILE_VAR, "/etc/tc")).credentials(),
        );
        assert!(
            why.starts_with("profile file /etc/tc (TENCENTCLOUD_CREDENTIALS_FILE is set) cannot be read"),
            "{why}"
        );
        let why = broken_reason(provider(FakeEnv::default().var_set(PROFILE_VAR, "prod")).credentials());
        assert!(
            why.starts_with(&format!("profile file {HOME_FILE} (TENCENTCLOUD_PROFILE is set) cannot")),
            "{why}"
        );
        let p = ProfileProvider::with_env(Arc::new(FakeEnv::default().home("/home/u")), Some("prod"));
        assert!(broken_reason(p.credentials()).contains("(profile \"prod\" was asked for) cannot be read"));
        let homeless = ProfileProvider::with_env(Arc::new(FakeEnv::default()), Some("prod"));
        assert!(broken_reason(homeless.credentials()).contains("no home directory"));
    }

    #[test]
    fn an_existing_file_that_is_unreadable_or_wrong_is_broken_and_named() {
        let env = FakeEnv::default().unreadable(HOME_FILE, io::ErrorKind::PermissionDenied);
        let why = broken_reason(provider(env).credentials());
        assert!(why.starts_with(&format!("profile file {HOME_FILE} cannot be read: ")), "{why}");
        let env = FakeEnv::default().file(HOME_FILE, "[prod]\nsecret_id = A\nsecret_key = k\n");
        assert_eq!(
            broken_reason(provider(env).credentials()),
            format!("profile file {HOME_FILE}: section [default] not found (sections present: prod)")
        );
        let env = FakeEnv::default().file(HOME_FILE, FILE).var_set(PROFILE_VAR, "staging");
        assert!(broken_reason(provider(env).credentials()).contains("section [staging] not found"));
    }

    #[test]
    fn the_file_is_read_once() {
        let env = FakeEnv::default().file(HOME_FILE, FILE);
        let reads = env.reads();
        let p = provider(env);
        assert_eq!(p.credentials().unwrap().secret_key(), p.credentials().unwrap().secret_key());
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn a_file_group_or_others_can_read_works_with_one_warning() {
        for (mode, warned) in [(0o644, true), (0o640, true), (0o604, true), (0o600, false), (0o400, false)] {
            let env = FakeEnv::default().file_with_mode(HOME_FILE, FILE, mode);
            let p = provider(env.clone());
            for _ in 0..3 {
                assert_eq!(p.credentials().unwrap().secret_id(), "AKIDdef", "{mode:o}");
            }
            let expected = format!("{HOME_FILE} is readable by others (mode {mode:04o}); chmod 600 it");
            assert_eq!(env.warnings(), if warned { vec![expected] } else { vec![] }, "{mode:o}");
        }
    }

    #[test]
    fn a_path_with_control_characters_is_shown_escaped() {
        let path = "/etc/tc\u{1b}[31m\n";
        let env = FakeEnv::default().file_with_mode(path, FILE, 0o644).var_set(CREDENTIALS_FILE_VAR, path);
        provider(env.clone()).credentials().unwrap();
        assert_eq!(env.warnings(), [r"/etc/tc\u{1b}[31m\n is readable by others (mode 0644); chmod 600 it"]);
        let broken = FakeEnv::default().file(path, "[x]\n").var_set(CREDENTIALS_FILE_VAR, path);
        let why = broken_reason(provider(broken).credentials());
        assert!(why.starts_with(r"profile file /etc/tc\u{1b}[31m\n: "), "{why}");
    }

    /// Each read waits up to `WAIT` for a second reader, so readers the provider lets in
    /// together are seen together.
    struct SlowReads {
        env: FakeEnv,
        inside: std::sync::atomic::AtomicUsize,
    }

    impl Environment for SlowReads {
        fn var(&self, name: &str) -> Result<String, VarError> {
            self.env.var(name)
        }
        fn home_dir(&self) -> Option<PathBuf> {
            self.env.home_dir()
        }
        fn read_file(&self, path: &std::path::Path) -> io::Result<(String, Option<u32>)> {
            use std::sync::atomic::Ordering::SeqCst;
            const WAIT: std::time::Duration = std::time::Duration::from_millis(300);
            self.inside.fetch_add(1, SeqCst);
            let start = std::time::Instant::now();
            while self.inside.load(SeqCst) < 2 && start.elapsed() < WAIT {
                std::thread::yield_now();
            }
            self.env.read_file(path)
        }
        fn warn(&self, message: &str) {
            self.env.warn(message)
        }
    }

    #[test]
    fn threads_asking_at_once_read_the_file_and_warn_once() {
        let env = FakeEnv::default().home("/home/u").file_with_mode(HOME_FILE, FILE, 0o644);
        let reads = env.reads();
        let slow = SlowReads { env: env.clone(), inside: Default::default() };
        let p = ProfileProvider::with_env(Arc::new(slow), None);
        let start = std::sync::Barrier::new(2);
        std::thread::scope(|scope| {
            for _ in 0..2 {
                scope.spawn(|| {
                    start.wait();
                    assert_eq!(p.credentials().unwrap().secret_id(), "AKIDdef");
                });
            }
        });
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(env.warnings().len(), 1, "{:?}", env.warnings());
    }
}
