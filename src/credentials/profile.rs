//! Credentials and settings from a profile: the INI file `~/.tencentcloud/credentials` the
//! official SDKs read, or tccli's own `~/.tccli/<profile>.credential` (see `tccli.rs`).
//!
//! [`parse_profile`] is the pure parser (text and section in, profile out), so it can be tested
//! and fuzzed without files; [`ProfileProvider`] finds and reads the file.
//!
//! ```text
//! [default]
//! secret_id = AKIDEXAMPLE
//! secret_key = secret-key-EXAMPLE
//! region = ap-guangzhou
//!
//! [prod]
//! secret_id = AKIDPROD
//! secret_key = "secret-key-PROD"
//! token = optional-session-token
//! role_arn = qcs::cam::uin/100000000001:roleName/cleanup
//! role_session_name = nightly
//! ```

use std::env::VarError;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use super::{absent, in_context, tccli, Credentials, ProvideCredentials};
use crate::env::{non_empty_var, Environment, SystemEnvironment};
use crate::error::Error;

/// The variable naming the profile file, instead of `~/.tencentcloud/credentials`.
pub(crate) const CREDENTIALS_FILE_VAR: &str = "TENCENTCLOUD_CREDENTIALS_FILE";
/// The variable naming the profile (section) to use, instead of `default`.
pub(crate) const PROFILE_VAR: &str = "TENCENTCLOUD_PROFILE";
/// The profile file of every user, read when the home directory has none (as the official
/// Python, Node.js and Java SDKs do).
pub(crate) const SYSTEM_FILE: &str = "/etc/tencentcloud/credentials";

/// What a profile holds: credentials, and the settings that go with them.
#[derive(Clone, Debug)]
pub(crate) struct Profile {
    pub(crate) credentials: Credentials,
    /// The region a client uses when given none (`region`).
    pub(crate) region: Option<String>,
    /// The role the credentials assume (`role_arn`; tccli: `role-arn`).
    pub(crate) role_arn: Option<String>,
    /// The session name for that role (`role_session_name`; tccli: `role-session-name`).
    pub(crate) role_session_name: Option<String>,
}

/// Reads profile `section` from the text of a profile file.
///
/// The format, strictly, since an ambiguous file must not silently select the wrong identity:
/// - Lines are `[name]` section headers, `name = value` pairs, blank lines, or comments starting
///   with `#` or `;`. A leading byte-order mark and CRLF line ends are accepted; whitespace
///   around names, values and `=` is ignored; a value runs from the first `=` to the line end.
/// - Any other line, including a pair before the first header, is an error naming its line
///   number, wherever it is in the file: a broken header could move keys into another section.
/// - In the section read, the keys are `secret_id`, `secret_key` and the optional `token`,
///   `region`, `role_arn` and `role_session_name`, matched without regard to ASCII case; other
///   keys are ignored. One pair of matching quotes around a value is removed
///   (`secret_key = "…"`). An empty optional value means none.
/// - Inline comments are not supported: a value containing ` #` or ` ;` is an error rather than
///   a guess. So are unbalanced quotes.
/// - The section read may appear only once, and each key only once in it; other sections may
///   repeat (they are not read).
///
/// Errors name the section, the key and the line, never a value (for example `section [prod]
/// not found (sections present: default)`).
pub(crate) fn parse_profile(text: &str, section: &str) -> Result<Profile, Error> {
    if section.is_empty() || section.trim() != section {
        return Err(Error::credentials(format!(
            "profile name {section:?} is empty or has leading or trailing whitespace"
        )));
    }
    let mut reader =
        Reader { section, sections: Vec::new(), current: None, header_line: None, keys: [None; KEYS.len()] };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, line) in text.split('\n').enumerate() {
        reader.line(index + 1, line.trim())?;
    }
    let [id, key, token, region, role_arn, role_session_name] =
        reader.finish()?.map(|entry| entry.map(|(_, value)| value));
    let missing = |name: &str| Error::credentials(format!("section [{section}] has no {name}"));
    let context = format!("section [{section}]");
    let credentials =
        Credentials::new(id.ok_or_else(|| missing(KEYS[0]))?, key.ok_or_else(|| missing(KEYS[1]))?)
            .map_err(|e| in_context(&context, e))?;
    let setting = |value: Option<&str>| value.filter(|value| !value.is_empty()).map(str::to_owned);
    let credentials = match setting(token) {
        Some(token) => credentials.with_token(token).map_err(|e| in_context(&context, e))?,
        None => credentials,
    };
    Ok(Profile {
        credentials,
        region: setting(region),
        role_arn: setting(role_arn),
        role_session_name: setting(role_session_name),
    })
}

/// Where [`parse_profile`] is in the file: the sections seen, the one the lines belong to, and
/// the keys of the section asked for, each with its line.
struct Reader<'t> {
    section: &'t str,
    sections: Vec<&'t str>,
    current: Option<&'t str>,
    header_line: Option<usize>,
    keys: [Option<(usize, &'t str)>; KEYS.len()],
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
    fn finish(self) -> Result<[Option<(usize, &'t str)>; KEYS.len()], Error> {
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

/// The keys read, in the order [`parse_profile`] takes them apart.
const KEYS: [&str; 6] = ["secret_id", "secret_key", "token", "region", "role_arn", "role_session_name"];

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

/// Credentials (and a region, and role settings) from a profile.
///
/// The profile is the one given to [`new`](Self::new), else `TENCENTCLOUD_PROFILE`, else
/// `default`. The first of these files that exists is read; empty variables count as unset:
///
/// 1. `TENCENTCLOUD_CREDENTIALS_FILE`, when set: then it must exist, it is never skipped;
/// 2. `~/.tencentcloud/credentials`;
/// 3. `/etc/tencentcloud/credentials`;
/// 4. tccli's `~/.tccli/<profile>.credential` (JSON), with the region of
///    `~/.tccli/<profile>.configure`; a credential file of `"type": "cvm-role"` means "use the
///    instance role" and counts as no file.
///
/// The source is absent ([`Error::NoCredentials`], a chain moves on) only when nothing asked
/// for it: no profile was named and none of the files exists (or there is no home directory).
/// Once a file exists or was asked for, every problem is an error naming the file and the
/// section or field: an unreadable or missing file, a syntax error, a missing section or key, a
/// malformed value, a path that is not a regular file (a FIFO, a device). That way a broken
/// profile never silently hands over to another identity.
///
/// The profile's `region` is the region of a [`Client`](crate::Client) that is given none and
/// finds no `TENCENTCLOUD_REGION` ([`ProvideCredentials::region`]).
///
/// The file is read once: later calls return the same credentials, so one run never switches
/// identity halfway because the file changed. A file that group or others may read (Unix
/// mode & 0o044) still works, and earns one warning on stderr, as ssh does:
/// `<path> is readable by others (mode 0644); chmod 600 it`.
pub struct ProfileProvider {
    env: Arc<dyn Environment>,
    profile: Option<String>,
    // A lock rather than a `OnceLock`, so threads asking at once read the file (and warn) once.
    loaded: Mutex<Option<Loaded>>,
}

/// A profile read, and where from.
#[derive(Clone)]
struct Loaded {
    profile: Profile,
    source: String,
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

    /// The profile: credentials, region and role settings, read at the first call.
    pub(crate) fn profile(&self) -> Result<Profile, Error> {
        Ok(self.loaded()?.profile)
    }

    fn loaded(&self) -> Result<Loaded, Error> {
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(done) = &*loaded {
            return Ok(done.clone());
        }
        Ok(loaded.insert(self.load()?).clone())
    }

    /// The profile asked for, and who asked (`None`: nobody, it is `default`).
    fn section(&self) -> Result<(String, Option<String>), Error> {
        Ok(match &self.profile {
            Some(name) => (name.clone(), Some(format!("profile {name:?} was asked for"))),
            None => match non_empty_var(&*self.env, PROFILE_VAR)? {
                Some(name) => (name, Some(format!("{PROFILE_VAR} is set"))),
                None => ("default".to_owned(), None),
            },
        })
    }

    fn load(&self) -> Result<Loaded, Error> {
        let env = &*self.env;
        let (section, named) = self.section()?;
        if let Some(path) = file_var(env) {
            let why = format!(" ({CREDENTIALS_FILE_VAR} is set)");
            let read = env.read_file(&path).map_err(|e| unreadable("profile file", &path, &why, e))?;
            return read_ini(env, &path, read, &section);
        }
        let home = env.home_dir();
        let mut looked = Vec::new();
        let ini_files = home.iter().map(|home| home.join(".tencentcloud").join("credentials"));
        for path in ini_files.chain([PathBuf::from(SYSTEM_FILE)]) {
            if let Some(read) = read_if_present(env, "profile file", &path)? {
                return read_ini(env, &path, read, &section);
            }
            looked.push(printable(&path));
        }
        if let Some(home) = &home {
            let (credential, configure) = tccli::files(home, &section)?;
            if let Some(read) = read_if_present(env, "tccli file", &credential)? {
                return match read_tccli(env, (&credential, read), &configure, &section) {
                    Err(Error::NoCredentials(why)) if named.is_some() => {
                        let why = why.into_iter().map(|(_, why)| why).collect::<String>();
                        Err(Error::credentials(format!("profile {section:?}: {why}")))
                    }
                    read => read,
                };
            }
            looked.push(printable(&credential));
        }
        let homeless = if home.is_none() { " (no home directory)" } else { "" };
        let why = format!("none of {} exists{homeless}", looked.join(", "));
        match named {
            None => Err(absent(Self::SOURCE, why)),
            Some(named) => Err(Error::credentials(format!("profile {section:?} ({named}): {why}"))),
        }
    }
}

/// The profile `section` of the INI file at `path`, whose text and mode are `read`.
fn read_ini(
    env: &dyn Environment,
    path: &Path,
    (text, mode): (String, Option<u32>),
    section: &str,
) -> Result<Loaded, Error> {
    let shown = printable(path);
    let profile =
        parse_profile(&text, section).map_err(|e| in_context(&format!("profile file {shown}"), e))?;
    warn_if_shared(env, &shown, mode);
    Ok(Loaded { profile, source: format!("profile {section:?} in {shown}") })
}

/// The tccli profile `section`: its credential file (path, text and mode), and the region of
/// its configure file, if there is one.
fn read_tccli(
    env: &dyn Environment,
    (path, (text, mode)): (&Path, (String, Option<u32>)),
    configure: &Path,
    section: &str,
) -> Result<Loaded, Error> {
    let shown = printable(path);
    let parsed = tccli::parse_credential(&text).map_err(|e| in_context(&format!("tccli file {shown}"), e))?;
    warn_if_shared(env, &shown, mode);
    let Some(mut profile) = parsed else {
        return Err(absent(
            ProfileProvider::SOURCE,
            format!("{shown} says to use the CVM instance role (\"type\": \"cvm-role\")"),
        ));
    };
    if let Some((text, _)) = read_if_present(env, "tccli file", configure)? {
        let context = format!("tccli file {}", printable(configure));
        profile.region = tccli::parse_region(&text).map_err(|e| in_context(&context, e))?;
    }
    Ok(Loaded { profile, source: format!("tccli profile {section:?} in {shown}") })
}

/// The text and mode of the file at `path`, or `None` when there is none; `what` names the
/// file in the error.
fn read_if_present(
    env: &dyn Environment,
    what: &str,
    path: &Path,
) -> Result<Option<(String, Option<u32>)>, Error> {
    match env.read_file(path) {
        Ok(read) => Ok(Some(read)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(unreadable(what, path, "", e)),
    }
}

/// The error for the file at `path` that cannot be read; `why` says why it was read at all.
fn unreadable(what: &str, path: &Path, why: &str, error: io::Error) -> Error {
    Error::credentials(format!("{what} {}{why} cannot be read: {error}", printable(path)))
}

/// Warns, as ssh does, when others than the owner may read a file holding secrets.
fn warn_if_shared(env: &dyn Environment, shown: &str, mode: Option<u32>) {
    if let Some(mode) = mode.filter(|mode| mode & 0o044 != 0) {
        env.warn(&format!("{shown} is readable by others (mode {mode:04o}); chmod 600 it"));
    }
}

/// `path` with control characters escaped, for a path from the environment shown to people.
fn printable(path: &Path) -> String {
    let text = path.display().to_string();
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
        Ok(self.profile()?.credentials)
    }

    /// `profile "NAME" in PATH` or `tccli profile "NAME" in PATH`; `profile file` when there
    /// is none to read.
    fn source(&self) -> String {
        self.loaded().map_or_else(|_| Self::SOURCE.to_owned(), |loaded| loaded.source)
    }

    fn region(&self) -> Result<Option<String>, Error> {
        match self.profile() {
            Ok(profile) => Ok(profile.region),
            Err(Error::NoCredentials(_)) => Ok(None),
            Err(broken) => Err(broken),
        }
    }
}

impl fmt::Debug for ProfileProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `try_lock`: showing a provider must never wait for (or deadlock on) a load.
        let loaded = self.loaded.try_lock().ok().and_then(|loaded| loaded.clone());
        f.debug_struct("ProfileProvider")
            .field("profile", &self.profile)
            .field("source", &loaded.as_ref().map(|loaded| &loaded.source))
            .field(
                "secret_id",
                &loaded.as_ref().map(|loaded| loaded.profile.credentials.secret_id().to_owned()),
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
        parse_profile(text, "default").map(|profile| profile.credentials).map_err(|e| e.to_string())
    }

    fn parts(c: &Credentials) -> (&str, &str, Option<&str>) {
        (c.secret_id(), c.secret_key(), c.token())
    }

    #[test]
    fn reads_the_named_section_with_comments_whitespace_crlf_and_bom() {
        let text = "\u{feff}# tccli profile\r\n; another comment\r\n\r\n  [ default ]  \r\n\
                    secret_id=AKIDdefault\r\n\tsecret_key   =   key-default  \r\n\
                    [prod]\nSECRET_ID = AKIDprod\nSecret_Key = \"key-prod\"\ntoken = 'tok-prod'\nregion = x\n";
        let c = parse_profile(text, "default").unwrap().credentials;
        assert_eq!(parts(&c), ("AKIDdefault", "key-default", None));
        let c = parse_profile(text, "prod").unwrap().credentials;
        assert_eq!(parts(&c), ("AKIDprod", "key-prod", Some("tok-prod")));
    }

    #[test]
    fn reads_the_region_and_role_settings_of_the_section_asked_for() {
        let text = "[default]\nsecret_id = A\nsecret_key = k\nREGION = ap-guangzhou\n\
                    role_arn = \"qcs::cam::uin/1:roleName/r\"\nRole_Session_Name = nightly\n\
                    [other]\nsecret_id = B\nsecret_key = k\nregion = ap-beijing\nrole_arn =\n";
        let p = parse_profile(text, "default").unwrap();
        let settings = |p: &Profile| (p.region.clone(), p.role_arn.clone(), p.role_session_name.clone());
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(settings(&p), (some("ap-guangzhou"), some("qcs::cam::uin/1:roleName/r"), some("nightly")));
        let p = parse_profile(text, "other").unwrap();
        assert_eq!(settings(&p), (some("ap-beijing"), None, None), "empty means none, nothing leaks across");
        let twice = "[default]\nsecret_id = A\nsecret_key = k\nregion = a\nregion = b\n";
        assert_eq!(
            parse_profile(twice, "default").unwrap_err().to_string(),
            "credentials: section [default] sets region twice, on lines 4 and 5"
        );
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

    fn absent_reason<T: fmt::Debug>(result: Result<T, Error>) -> String {
        match result {
            Err(Error::NoCredentials(tried)) if tried.len() == 1 && tried[0].0 == "profile file" => {
                tried[0].1.clone()
            }
            other => panic!("{other:?}"),
        }
    }

    fn broken_reason<T: fmt::Debug>(result: Result<T, Error>) -> String {
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
        let p = provider(env.file(HOME_FILE, &FILE.replace("AKIDdef", "AKIDhome")));
        assert_eq!(p.credentials().unwrap().secret_id(), "AKIDdef");
        assert_eq!(p.source(), "profile \"default\" in /etc/tc");
    }

    #[test]
    fn the_home_file_wins_over_the_system_file_which_is_the_fallback() {
        let system = FILE.replace("AKIDdef", "AKIDsystem");
        let both = FakeEnv::default().file(HOME_FILE, FILE).file(SYSTEM_FILE, &system);
        let p = provider(both);
        assert_eq!(p.credentials().unwrap().secret_id(), "AKIDdef");
        assert_eq!(p.source(), format!("profile \"default\" in {HOME_FILE}"));
        let p = provider(FakeEnv::default().file(SYSTEM_FILE, &system));
        assert_eq!(p.credentials().unwrap().secret_id(), "AKIDsystem");
        assert_eq!(p.source(), "profile \"default\" in /etc/tencentcloud/credentials");
        let homeless =
            ProfileProvider::with_env(Arc::new(FakeEnv::default().file(SYSTEM_FILE, &system)), None);
        assert_eq!(homeless.credentials().unwrap().secret_id(), "AKIDsystem", "no home directory needed");
        let named = FakeEnv::default().file(SYSTEM_FILE, &system).var_set(PROFILE_VAR, "prod");
        assert_eq!(provider(named).credentials().unwrap().secret_id(), "AKIDprod");
    }

    #[test]
    fn no_file_and_nothing_asked_for_is_absent() {
        assert_eq!(
            absent_reason(provider(FakeEnv::default()).credentials()),
            format!("none of {HOME_FILE}, {SYSTEM_FILE}, /home/u/.tccli/default.credential exists")
        );
        let homeless = ProfileProvider::with_env(Arc::new(FakeEnv::default()), None);
        assert_eq!(
            absent_reason(homeless.credentials()),
            format!("none of {SYSTEM_FILE} exists (no home directory)")
        );
        assert_eq!(provider(FakeEnv::default()).source(), "profile file");
        assert_eq!(provider(FakeEnv::default()).region().unwrap(), None, "absent: no region, no error");
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
        let looked = format!("none of {HOME_FILE}, {SYSTEM_FILE}, /home/u/.tccli/prod.credential exists");
        let why = broken_reason(provider(FakeEnv::default().var_set(PROFILE_VAR, "prod")).credentials());
        assert_eq!(why, format!("profile \"prod\" (TENCENTCLOUD_PROFILE is set): {looked}"));
        let p = ProfileProvider::with_env(Arc::new(FakeEnv::default().home("/home/u")), Some("prod"));
        assert_eq!(
            broken_reason(p.credentials()),
            format!("profile \"prod\" (profile \"prod\" was asked for): {looked}")
        );
        let homeless = ProfileProvider::with_env(Arc::new(FakeEnv::default()), Some("prod"));
        assert!(broken_reason(homeless.credentials()).ends_with("(no home directory)"));
    }

    #[test]
    fn a_set_file_variable_naming_a_missing_file_never_falls_back() {
        let env = FakeEnv::default()
            .file(HOME_FILE, FILE)
            .file(SYSTEM_FILE, FILE)
            .file("/home/u/.tccli/default.credential", TCCLI)
            .var_set(CREDENTIALS_FILE_VAR, "/missing");
        let p = provider(env);
        let why = broken_reason(p.credentials());
        assert!(
            why.starts_with("profile file /missing (TENCENTCLOUD_CREDENTIALS_FILE is set) cannot be read"),
            "{why}"
        );
        assert!(matches!(p.region(), Err(Error::Credentials { .. })), "nor for the region");
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
        p.region().unwrap();
        p.source();
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn the_region_comes_from_the_section_read_and_a_broken_file_is_an_error() {
        let text = "[default]\nsecret_id = A\nsecret_key = k\nregion = ap-guangzhou\n[prod]\nsecret_id = B\nsecret_key = k\n";
        let env = FakeEnv::default().file(HOME_FILE, text);
        assert_eq!(provider(env.clone()).region().unwrap().as_deref(), Some("ap-guangzhou"));
        assert_eq!(provider(env.var_set(PROFILE_VAR, "prod")).region().unwrap(), None);
        let broken = FakeEnv::default().file(HOME_FILE, "[default]\nregion ap-guangzhou\n");
        assert!(broken_reason(provider(broken).region()).contains("line 2: expected `name = value`"));
    }

    const TCCLI_FILE: &str = "/home/u/.tccli/default.credential";
    const TCCLI_CONFIGURE: &str = "/home/u/.tccli/default.configure";
    const TCCLI: &str = r#"{"secretId": "AKIDtccli", "secretKey": "k", "type": "default"}"#;

    #[test]
    fn tccli_files_are_read_when_no_ini_file_exists() {
        let configure = r#"{"_sys_param": {"region": "ap-shanghai", "output": "json"}, "cvm": {"version": "2017-03-12"}}"#;
        let env = FakeEnv::default().file(TCCLI_FILE, TCCLI).file(TCCLI_CONFIGURE, configure);
        let p = provider(env.clone());
        assert_eq!(p.credentials().unwrap().secret_id(), "AKIDtccli");
        assert_eq!(p.region().unwrap().as_deref(), Some("ap-shanghai"));
        assert_eq!(p.source(), format!("tccli profile \"default\" in {TCCLI_FILE}"));
        let p = provider(FakeEnv::default().file(TCCLI_FILE, TCCLI));
        assert_eq!(
            (p.credentials().unwrap().secret_id(), p.region().unwrap()),
            ("AKIDtccli", None),
            "no configure file"
        );
        let named =
            FakeEnv::default().file("/home/u/.tccli/prod.credential", TCCLI).var_set(PROFILE_VAR, "prod");
        assert_eq!(provider(named).source(), "tccli profile \"prod\" in /home/u/.tccli/prod.credential");
        for ini in [HOME_FILE, SYSTEM_FILE] {
            let p = provider(env.clone().file(ini, FILE));
            assert_eq!(p.credentials().unwrap().secret_id(), "AKIDdef", "{ini} wins over tccli");
            assert_eq!(p.region().unwrap(), None, "the configure file goes with the tccli credentials only");
        }
    }

    #[test]
    fn a_tccli_file_for_the_instance_role_is_absent_unless_the_profile_was_asked_for() {
        let env = FakeEnv::default().file(TCCLI_FILE, r#"{"type": "cvm-role"}"#);
        assert_eq!(
            absent_reason(provider(env.clone()).credentials()),
            format!("{TCCLI_FILE} says to use the CVM instance role (\"type\": \"cvm-role\")")
        );
        let why = broken_reason(provider(env.var_set(PROFILE_VAR, "default")).credentials());
        assert_eq!(why, format!("profile \"default\": {TCCLI_FILE} says to use the CVM instance role (\"type\": \"cvm-role\")"));
    }

    #[test]
    fn broken_tccli_files_are_errors_naming_the_file() {
        let cases = [
            (TCCLI_FILE, "{\"secretId\": \"A\",", format!("tccli file {TCCLI_FILE}: not valid JSON (line 1, column 17)")),
            (TCCLI_FILE, r#"{"secretKey": "k"}"#, format!("tccli file {TCCLI_FILE}: \"secretId\" is missing")),
            (TCCLI_CONFIGURE, "[1]", format!("tccli file {TCCLI_CONFIGURE}: not a JSON object, or a field appears twice (line 1, column 2)")),
        ];
        for (path, text, expected) in cases {
            let env = FakeEnv::default().file(TCCLI_FILE, TCCLI).file(path, text);
            assert_eq!(broken_reason(provider(env).credentials()), expected);
        }
        let env = FakeEnv::default().unreadable(TCCLI_FILE, io::ErrorKind::PermissionDenied);
        assert!(broken_reason(provider(env).credentials())
            .starts_with(&format!("tccli file {TCCLI_FILE} cannot be read: ")));
        let env = FakeEnv::default()
            .file(TCCLI_FILE, TCCLI)
            .unreadable(TCCLI_CONFIGURE, io::ErrorKind::InvalidData);
        assert!(broken_reason(provider(env).credentials())
            .starts_with(&format!("tccli file {TCCLI_CONFIGURE} cannot be read: ")));
        let escaping = FakeEnv::default().var_set(PROFILE_VAR, "../../etc/x");
        assert_eq!(
            broken_reason(provider(escaping).credentials()),
            "profile name \"../../etc/x\" cannot name a file in ~/.tccli"
        );
    }

    #[test]
    fn a_tccli_file_others_can_read_works_with_one_warning() {
        let env = FakeEnv::default().file_with_mode(TCCLI_FILE, TCCLI, 0o644).file_with_mode(
            TCCLI_CONFIGURE,
            "{}",
            0o644,
        );
        let p = provider(env.clone());
        for _ in 0..2 {
            assert_eq!(p.credentials().unwrap().secret_id(), "AKIDtccli");
        }
        assert_eq!(env.warnings(), [format!("{TCCLI_FILE} is readable by others (mode 0644); chmod 600 it")]);
    }

    /// A fresh home directory under the system temp dir for one test, with `~/.tccli`.
    fn temp_home(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cvm-keypairs-profile-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join(".tccli")).unwrap();
        dir
    }

    #[cfg(unix)]
    #[test]
    fn oversized_or_special_tccli_files_are_refused_without_waiting() {
        let home = temp_home("special");
        let credential = home.join(".tccli/default.credential");
        let on_disk = || FakeEnv::default().home(home.to_str().unwrap()).on_disk();
        std::fs::write(&credential, format!("{}{TCCLI}", " ".repeat(1 << 20))).unwrap();
        let why = broken_reason(ProfileProvider::with_env(Arc::new(on_disk()), None).credentials());
        assert!(why.ends_with(".credential cannot be read: the file is larger than 1 MiB"), "{why}");
        std::fs::remove_file(&credential).unwrap();
        assert!(std::process::Command::new("mkfifo").arg(&credential).status().unwrap().success());
        let (done, result) = std::sync::mpsc::channel();
        let env = on_disk();
        std::thread::spawn(move || done.send(ProfileProvider::with_env(Arc::new(env), None).credentials()));
        let result = result.recv_timeout(std::time::Duration::from_secs(5)).expect("waited on a FIFO");
        assert!(
            broken_reason(result).ends_with(".credential cannot be read: it is a FIFO, not a regular file")
        );
        std::fs::remove_file(&credential).unwrap();
        std::fs::write(&credential, TCCLI).unwrap();
        let configure = home.join(".tccli/default.configure");
        assert!(std::process::Command::new("mkfifo").arg(&configure).status().unwrap().success());
        let why = broken_reason(ProfileProvider::with_env(Arc::new(on_disk()), None).credentials());
        assert!(why.ends_with(".configure cannot be read: it is a FIFO, not a regular file"), "{why}");
        std::fs::remove_dir_all(&home).unwrap();
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
