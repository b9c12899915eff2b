//! What a running command says on stderr: progress, every wait worth mentioning, and a
//! heartbeat whenever it has been quiet for a while, so a person or a CI log always knows what
//! it is doing and never sees more than [`HEARTBEAT`] of silence.
//!
//! Progress is one line per update, or one line redrawn in place when stderr is a terminal;
//! other messages are whole lines. Progress is a courtesy: a closed stderr never stops a run.

use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cvm_keypairs::{Event, Progress};

use crate::output::for_people;

/// The longest quiet spell before the heartbeat speaks (the promise is 15 s).
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// Waits at least this long are announced; shorter ones (pacing, quick retries) are not.
const NOTABLE_WAIT: Duration = Duration::from_secs(1);

/// The stderr reporter of one run, with its heartbeat thread.
pub struct Status {
    shared: Arc<Shared>,
    heartbeat: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    done: Condvar,
}

struct State {
    terminal: bool,
    /// The progress line drawn in place on a terminal, to redraw after a message.
    drawn: Option<String>,
    /// The last progress line, not repeated when nothing changed.
    last_progress: Option<String>,
    last_said: Instant,
    /// What the run is waiting for now, and since when.
    activity: Option<(String, Instant)>,
    /// How long one request may go unanswered before it times out.
    timeout: Duration,
    finished: bool,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn say(&mut self, line: &str) {
        if self.finished {
            return;
        }
        let mut err = io::stderr().lock();
        let _ = if self.terminal { write!(err, "\r\x1b[K{line}\n") } else { writeln!(err, "{line}") };
        if let Some(progress) = self.drawn.as_ref().filter(|_| self.terminal) {
            let _ = write!(err, "{progress}");
        }
        let _ = err.flush();
        self.last_said = Instant::now();
    }

    fn progress(&mut self, line: String) {
        if self.last_progress.as_deref() == Some(line.as_str()) {
            return;
        }
        self.last_progress = Some(line.clone());
        if self.terminal {
            let mut err = io::stderr().lock();
            let _ = write!(err, "\r\x1b[K{line}");
            let _ = err.flush();
            self.drawn = Some(line);
            self.last_said = Instant::now();
        } else {
            self.say(&line);
        }
    }
}

impl Status {
    /// A reporter for this process's stderr; `timeout` is the transport's, for the heartbeat.
    pub fn start(timeout: Duration) -> Status {
        let state = State {
            terminal: io::stderr().is_terminal(),
            drawn: None,
            last_progress: None,
            last_said: Instant::now(),
            activity: None,
            timeout,
            finished: false,
        };
        let shared = Arc::new(Shared { state: Mutex::new(state), done: Condvar::new() });
        let beating = shared.clone();
        let heartbeat =
            std::thread::Builder::new().name("heartbeat".into()).spawn(move || beat(&beating)).ok();
        Status { shared, heartbeat }
    }

    /// Tells what `event` means, when it is worth telling.
    pub fn event(&self, event: &Event<'_>) {
        let mut state = self.shared.state();
        match event {
            Event::Progress(p) => state.progress(progress_line(p)),
            Event::Sending { action, .. } => {
                state.activity = Some((format!("the answer to {action}"), Instant::now()));
            }
            Event::Waiting { duration, reason, .. } => {
                // The reason names the API's error code, which came from the server.
                let why = for_people(reason);
                if *duration >= NOTABLE_WAIT {
                    state.say(&format!("waiting {}: {why}", seconds(*duration)));
                }
                state.activity =
                    Some((format!("the end of a {} wait ({why})", seconds(*duration)), Instant::now()));
            }
            _ => {}
        }
    }

    /// Says `line` now.
    pub fn say(&self, line: &str) {
        self.shared.state().say(line);
    }

    /// Stops the heartbeat and ends an in-place line; nothing more is said.
    pub fn finish(&self) {
        let mut state = self.shared.state();
        state.finished = true;
        if state.terminal && state.drawn.take().is_some() {
            eprintln!();
        }
        self.shared.done.notify_all();
    }
}

impl Drop for Status {
    fn drop(&mut self) {
        self.finish();
        if let Some(heartbeat) = self.heartbeat.take() {
            let _ = heartbeat.join();
        }
    }
}

/// The heartbeat: whenever nothing was said for [`HEARTBEAT`], says what the run waits for.
fn beat(shared: &Shared) {
    let mut state = shared.state();
    while !state.finished {
        let quiet = state.last_said.elapsed();
        if quiet >= HEARTBEAT {
            let line = match &state.activity {
                Some((what, since)) if what.starts_with("the answer") => format!(
                    "still waiting for {what}: {} so far (a request times out after {})",
                    seconds(since.elapsed()),
                    seconds(state.timeout)
                ),
                Some((what, since)) => {
                    format!("still waiting for {what}: {} so far", seconds(since.elapsed()))
                }
                None => "still working".to_owned(),
            };
            state.say(&line);
            continue;
        }
        state = shared.done.wait_timeout(state, HEARTBEAT - quiet).unwrap_or_else(PoisonError::into_inner).0;
    }
}

/// `deleted 300/1000, 2 not found, 1 kept, 0 failed`, with the keys awaiting verification when
/// there are some: the counts of the report, as they stand.
pub fn progress_line(p: &Progress) -> String {
    let mut line = format!(
        "deleted {}/{}, {} not found, {} kept, {} failed",
        p.deleted, p.total, p.not_found, p.kept, p.failed
    );
    if p.unverified > 0 {
        line.push_str(&format!(", {} awaiting verification", p.unverified));
    }
    line
}

fn seconds(d: Duration) -> String {
    if d >= Duration::from_secs(10) {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_count_what_the_report_will_count() {
        let mut p = Progress::default();
        p.total = 1000;
        p.deleted = 300;
        p.not_found = 2;
        p.kept = 1;
        p.unverified = 100;
        assert_eq!(
            progress_line(&p),
            "deleted 300/1000, 2 not found, 1 kept, 0 failed, 100 awaiting verification"
        );
        p.unverified = 0;
        assert_eq!(progress_line(&p), "deleted 300/1000, 2 not found, 1 kept, 0 failed");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(seconds(Duration::from_millis(2500)), "2.5 s");
        assert_eq!(seconds(Duration::from_secs(64)), "64 s");
    }
}
