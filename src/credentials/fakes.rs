//! Test doubles for the credential providers: an in-memory environment, a scripted metadata
//! transport and a settable clock, so no test touches the process environment, the home
//! directory or the network.

use std::collections::{HashMap, VecDeque};
use std::env::VarError;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::clock::Clock;
use crate::env::Environment;
use crate::error::{Error, TransportKind};
use crate::http::{HttpRequest, HttpResponse};
use crate::transport::Transport;

/// Variables, a home directory and files, all in memory; counts file reads and records
/// warnings.
#[derive(Clone, Default)]
pub(crate) struct FakeEnv {
    vars: HashMap<String, Result<String, VarError>>,
    home: Option<PathBuf>,
    files: HashMap<PathBuf, Result<(String, Option<u32>), io::ErrorKind>>,
    reads: Arc<AtomicUsize>,
    warnings: Arc<Mutex<Vec<String>>>,
    disk: bool,
}

impl FakeEnv {
    pub(crate) fn with_vars(vars: &[(&str, &str)]) -> Self {
        vars.iter().fold(FakeEnv::default(), |env, (name, value)| env.var_set(name, value))
    }

    pub(crate) fn var_set(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), Ok(value.to_owned()));
        self
    }

    pub(crate) fn non_unicode(mut self, name: &str) -> Self {
        self.vars.insert(name.to_owned(), Err(VarError::NotUnicode("\u{fffd}".into())));
        self
    }

    pub(crate) fn home(mut self, path: &str) -> Self {
        self.home = Some(path.into());
        self
    }

    /// A file only its owner can read (mode 0600).
    pub(crate) fn file(self, path: &str, text: &str) -> Self {
        self.file_with_mode(path, text, 0o600)
    }

    pub(crate) fn file_with_mode(mut self, path: &str, text: &str, mode: u32) -> Self {
        self.files.insert(path.into(), Ok((text.to_owned(), Some(mode))));
        self
    }

    pub(crate) fn unreadable(mut self, path: &str, kind: io::ErrorKind) -> Self {
        self.files.insert(path.into(), Err(kind));
        self
    }

    /// Reads files from the real file system (with its size cap and its refusal of FIFOs), not
    /// from those given here.
    pub(crate) fn on_disk(mut self) -> Self {
        self.disk = true;
        self
    }

    /// The number of `read_file` calls so far, found or not, shared with clones.
    pub(crate) fn reads(&self) -> Arc<AtomicUsize> {
        self.reads.clone()
    }

    /// Every warning so far, shared with clones.
    pub(crate) fn warnings(&self) -> Vec<String> {
        self.warnings.lock().unwrap().clone()
    }
}

impl Environment for FakeEnv {
    fn var(&self, name: &str) -> Result<String, VarError> {
        self.vars.get(name).cloned().unwrap_or(Err(VarError::NotPresent))
    }

    fn home_dir(&self) -> Option<PathBuf> {
        self.home.clone()
    }

    fn read_file(&self, path: &Path) -> io::Result<(String, Option<u32>)> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        if self.disk {
            return crate::env::SystemEnvironment.read_file(path);
        }
        match self.files.get(path) {
            Some(Ok(file)) => Ok(file.clone()),
            Some(Err(kind)) => Err(io::Error::from(*kind)),
            None => Err(io::Error::from(io::ErrorKind::NotFound)),
        }
    }

    fn warn(&self, message: &str) {
        self.warnings.lock().unwrap().push(message.to_owned());
    }
}

/// Answers requests from a script of (expected URL, answer), in order; records what was sent.
/// A request beyond the script fails the test.
#[derive(Default)]
pub(crate) struct ScriptedTransport {
    script: Mutex<VecDeque<(String, Result<HttpResponse, Error>)>>,
    sent: Mutex<Vec<HttpRequest<'static>>>,
}

impl ScriptedTransport {
    pub(crate) fn answer(&self, url: &str, status: u16, body: &str) {
        let response = HttpResponse { status, headers: Vec::new(), body: body.as_bytes().to_vec() };
        self.script.lock().unwrap().push_back((url.to_owned(), Ok(response)));
    }

    pub(crate) fn fail(&self, url: &str, kind: TransportKind) {
        let error = Error::transport(kind, format!("scripted {kind:?} failure"), None);
        self.script.lock().unwrap().push_back((url.to_owned(), Err(error)));
    }

    pub(crate) fn sent(&self) -> Vec<HttpRequest<'static>> {
        self.sent.lock().unwrap().clone()
    }
}

impl Transport for ScriptedTransport {
    fn send(&self, request: &HttpRequest<'_>) -> Result<HttpResponse, Error> {
        self.sent.lock().unwrap().push(request.clone().into_owned());
        let (url, answer) = self.script.lock().unwrap().pop_front().expect("a request beyond the script");
        assert_eq!(request.url, url, "requests out of the scripted order");
        answer
    }
}

/// A clock the test moves by hand.
pub(crate) struct FakeClock(AtomicI64);

impl FakeClock {
    pub(crate) fn at(now: i64) -> Self {
        FakeClock(AtomicI64::new(now))
    }

    pub(crate) fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The default STS endpoint's URL, where the STS sources send their calls.
pub(crate) const STS_URL: &str = "https://sts.tencentcloudapi.com/";

/// An STS answer issuing `id` (with the key `tmp-key-<id>` and the token `tmp-token-<id>`),
/// valid until `expires_at`.
pub(crate) fn sts_answer(id: &str, expires_at: i64) -> String {
    format!(
        r#"{{"Response":{{"Credentials":{{"Token":"tmp-token-{id}","TmpSecretId":"{id}","TmpSecretKey":"tmp-key-{id}"}},
            "ExpiredTime":{expires_at},"Expiration":"2023-11-15T00:13:20Z","RequestId":"r-{id}"}}}}"#
    )
}

/// An STS error answer.
pub(crate) fn sts_error(code: &str, message: &str, request_id: &str) -> String {
    format!(
        r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"{message}"}},"RequestId":"{request_id}"}}}}"#
    )
}
