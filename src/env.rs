//! The process environment as a small trait: variables, the home directory, files and
//! warnings for the user.
//!
//! Credential providers and the transport's proxy settings see the operating system only
//! through [`Environment`], so tests hand them a fake and never touch the real process
//! environment, home directory or stderr.

use std::env::VarError;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::error::Error;

/// The variable holding the default region.
pub(crate) const REGION_VAR: &str = "TENCENTCLOUD_REGION";

/// What credential providers (and the transport's proxy settings) need from the operating
/// system.
pub(crate) trait Environment: Send + Sync {
    /// The value of the variable `name`, as [`std::env::var`] gives it.
    fn var(&self, name: &str) -> Result<String, VarError>;
    /// The current user's home directory, if one is known.
    fn home_dir(&self) -> Option<PathBuf>;
    /// The whole regular file at `path` as UTF-8 text, and its Unix permission bits (`None`
    /// where there are none). Anything else (a FIFO, a device, a directory) is an error, never
    /// a wait.
    fn read_file(&self, path: &Path) -> io::Result<(String, Option<u32>)>;
    /// Tells the user about something to fix that does not stop the work, e.g. a credentials
    /// file others can read. Providers warn at most once each.
    fn warn(&self, message: &str);
}

/// The real environment: process variables, the user's home directory, the file system, and
/// warnings printed on stderr as `warning: <message>`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SystemEnvironment;

/// Credential files are a few lines; a cap keeps a path to `/dev/zero` from eating memory.
const MAX_FILE_BYTES: u64 = 1 << 20;

impl Environment for SystemEnvironment {
    fn var(&self, name: &str) -> Result<String, VarError> {
        std::env::var(name)
    }

    fn home_dir(&self) -> Option<PathBuf> {
        // Deprecated only before Rust 1.86, which fixed its Windows behaviour; right on Unix always.
        #[allow(deprecated)]
        std::env::home_dir().filter(|home| !home.as_os_str().is_empty())
    }

    fn read_file(&self, path: &Path) -> io::Result<(String, Option<u32>)> {
        // Opening a FIFO for reading waits for a writer, and a device may never end: only a
        // regular file is opened. The path could still be swapped for a FIFO between this
        // check and the open (std offers no O_NONBLOCK without libc), a race only someone who
        // can write the directory wins; the opened file is checked again before reading.
        regular_file(std::fs::metadata(path)?)?;
        let file = File::open(path)?;
        let metadata = regular_file(file.metadata()?)?;
        let mut text = String::new();
        file.take(MAX_FILE_BYTES + 1).read_to_string(&mut text)?;
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "the file is larger than 1 MiB"));
        }
        Ok((text, permissions(&metadata)))
    }

    fn warn(&self, message: &str) {
        eprintln!("warning: {message}");
    }
}

/// `metadata` if it is a regular file's, else an error saying what it is.
fn regular_file(metadata: Metadata) -> io::Result<Metadata> {
    if metadata.is_file() {
        return Ok(metadata);
    }
    let kind = metadata.file_type();
    let what = if kind.is_dir() { "a directory" } else { special_kind(&kind) };
    Err(io::Error::new(io::ErrorKind::InvalidInput, format!("it is {what}, not a regular file")))
}

#[cfg(unix)]
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "something else"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "something else"
}

#[cfg(unix)]
fn permissions(metadata: &Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    Some(metadata.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn permissions(_: &Metadata) -> Option<u32> {
    None
}

/// A variable's value, or `None` when it is unset or empty: `export VAR=` is a common way to
/// switch a variable off. A value that is not Unicode is an error naming the variable.
pub(crate) fn non_empty_var(env: &dyn Environment, name: &str) -> Result<Option<String>, Error> {
    match env.var(name) {
        Ok(value) if value.is_empty() => Ok(None),
        Ok(value) => Ok(Some(value)),
        Err(VarError::NotPresent) => Ok(None),
        Err(VarError::NotUnicode(_)) => Err(Error::credentials(format!("{name} is not valid Unicode"))),
    }
}

/// The region named by `TENCENTCLOUD_REGION`, or `None` when it is unset or empty.
///
/// The value is returned as is; [`RequestConfig::build`](crate::RequestConfig::build) rejects a
/// malformed region before anything is sent.
pub(crate) fn region_from_env(env: &dyn Environment) -> Result<Option<String>, Error> {
    non_empty_var(env, REGION_VAR)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::credentials::fakes::FakeEnv;

    #[test]
    fn region_comes_from_tencentcloud_region_and_empty_means_none() {
        let env = FakeEnv::with_vars(&[(REGION_VAR, "ap-guangzhou")]);
        assert_eq!(region_from_env(&env).unwrap().as_deref(), Some("ap-guangzhou"));
        assert_eq!(region_from_env(&FakeEnv::with_vars(&[(REGION_VAR, "")])).unwrap(), None);
        assert_eq!(region_from_env(&FakeEnv::default()).unwrap(), None);
    }

    /// A fresh directory under the system temp dir for one test.
    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cvm-keypairs-env-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn system_environment_reads_files_and_caps_their_size() {
        let dir = temp_dir("read");
        let small = dir.join("credentials");
        std::fs::write(&small, "[default]\n").unwrap();
        let big = dir.join("big");
        std::fs::write(&big, vec![b'#'; MAX_FILE_BYTES as usize + 1]).unwrap();
        let sys = SystemEnvironment;
        assert_eq!(sys.read_file(&small).unwrap().0, "[default]\n");
        assert_eq!(sys.read_file(&dir.join("missing")).unwrap_err().kind(), io::ErrorKind::NotFound);
        let err = sys.read_file(&big).unwrap_err();
        assert_eq!(
            (err.kind(), err.to_string().as_str()),
            (io::ErrorKind::InvalidData, "the file is larger than 1 MiB")
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(sys.var("CVM_KEYPAIRS_TEST_VARIABLE_NEVER_SET"), Err(VarError::NotPresent));
    }

    #[cfg(unix)]
    #[test]
    fn system_environment_reports_the_permission_bits() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("mode");
        let path = dir.join("credentials");
        std::fs::write(&path, "[default]\n").unwrap();
        for mode in [0o644, 0o640, 0o600, 0o400] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            assert_eq!(SystemEnvironment.read_file(&path).unwrap().1, Some(mode), "{mode:o}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// `SystemEnvironment::read_file(path)`, failing the test rather than hanging if it waits.
    fn read_within_seconds(path: PathBuf) -> io::Result<(String, Option<u32>)> {
        let (done, result) = std::sync::mpsc::channel();
        std::thread::spawn(move || done.send(SystemEnvironment.read_file(&path)));
        result.recv_timeout(std::time::Duration::from_secs(5)).expect("read_file waited instead of refusing")
    }

    #[cfg(unix)]
    #[test]
    fn anything_but_a_regular_file_is_refused_without_waiting() {
        let dir = temp_dir("special");
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let link = dir.join("link-to-fifo");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        for (path, what) in [
            (fifo, "a FIFO"),
            (link, "a FIFO"),
            ("/dev/null".into(), "a character device"),
            ("/dev/zero".into(), "a character device"),
            (dir.clone(), "a directory"),
        ] {
            let err = read_within_seconds(path.clone()).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{path:?}");
            assert_eq!(err.to_string(), format!("it is {what}, not a regular file"), "{path:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
