//! Hand-written command-line parsing shared by every subcommand.
//!
//! Options are `--name value` or `--name=value`; `--` ends options; `-` alone is a positional
//! argument (it means stdin where a command takes ids). A value is taken verbatim even when it
//! starts with `-`, so `--clock-offset -3600` works.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;

/// A usage error: the message to print before exiting with code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One parsed argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// `--name` (without the dashes) or `-h`/`-V` style short flags (as `h`, `V`).
    Option(String),
    /// Anything else, including `-` and everything after `--`.
    Positional(String),
}

/// The arguments of one subcommand, consumed front to back.
#[derive(Debug)]
pub struct Args {
    items: VecDeque<String>,
    // The `value` of a `--name=value` just returned as an option.
    inline_value: Option<String>,
    only_positional: bool,
}

impl Args {
    /// Arguments as given, the subcommand name already removed.
    pub fn new(items: impl IntoIterator<Item = String>) -> Self {
        Args { items: items.into_iter().collect(), inline_value: None, only_positional: false }
    }

    /// The next argument, or an error if the previous option's `=value` was not used.
    pub fn next_arg(&mut self) -> Result<Option<Arg>, UsageError> {
        if let Some(value) = self.inline_value.take() {
            return Err(UsageError(format!("unexpected value {value:?}: this option takes no value")));
        }
        let Some(item) = self.items.pop_front() else { return Ok(None) };
        if self.only_positional || item == "-" || !item.starts_with('-') {
            return Ok(Some(Arg::Positional(item)));
        }
        if item == "--" {
            self.only_positional = true;
            return self.next_arg();
        }
        if let Some(long) = item.strip_prefix("--") {
            return Ok(Some(match long.split_once('=') {
                Some((name, value)) => {
                    self.inline_value = Some(value.to_owned());
                    Arg::Option(name.to_owned())
                }
                None => Arg::Option(long.to_owned()),
            }));
        }
        Ok(Some(Arg::Option(item[1..].to_owned())))
    }

    /// The next option's name, for commands that take no positional arguments.
    pub fn next_option(&mut self) -> Result<Option<String>, UsageError> {
        match self.next_arg()? {
            None => Ok(None),
            Some(Arg::Option(name)) => Ok(Some(name)),
            Some(Arg::Positional(p)) => Err(UsageError(format!("unexpected argument {p:?}"))),
        }
    }

    /// The value of option `name`, just returned by [`Args::next_arg`].
    pub fn value(&mut self, name: &str) -> Result<String, UsageError> {
        self.inline_value
            .take()
            .or_else(|| self.items.pop_front())
            .ok_or_else(|| UsageError(format!("--{name} needs a value")))
    }

    /// The value of option `name`, parsed; `what` describes the expected form.
    pub fn parsed<T: FromStr>(&mut self, name: &str, what: &str) -> Result<T, UsageError> {
        let value = self.value(name)?;
        value.parse().map_err(|_| UsageError(format!("--{name} takes {what}, not {value:?}")))
    }

    /// The values of option `name` that takes several: its value, then every argument after it
    /// up to the next one that starts with `-` (an option, `--` or `-`).
    pub fn values(&mut self, name: &str) -> Result<Vec<String>, UsageError> {
        let mut values = vec![self.value(name)?];
        while let Some(next) =
            self.items.front().filter(|item| !self.only_positional && !item.starts_with('-'))
        {
            values.push(next.clone());
            self.items.pop_front();
        }
        Ok(values)
    }

    /// The value of `--tag`: `KEY=VALUE`, split at the first `=` (the key not empty).
    pub fn tag(&mut self, name: &str) -> Result<(String, String), UsageError> {
        let value = self.value(name)?;
        match value.split_once('=') {
            Some((key, tag_value)) if !key.is_empty() => Ok((key.to_owned(), tag_value.to_owned())),
            _ => Err(UsageError(format!("--{name} takes KEY=VALUE (the key not empty), not {value:?}"))),
        }
    }
}

/// The error for an option a subcommand does not know.
pub fn unknown_option(command: &str, name: &str) -> UsageError {
    UsageError(format!("unknown option {}{name} for `{command}`", if name.len() == 1 { "-" } else { "--" }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::new(list.iter().map(|s| s.to_string()))
    }

    fn all(mut a: Args) -> Vec<Arg> {
        let mut out = Vec::new();
        while let Some(arg) = a.next_arg().unwrap() {
            out.push(arg);
        }
        out
    }

    #[test]
    fn options_positionals_and_the_double_dash() {
        let opt = |s: &str| Arg::Option(s.into());
        let pos = |s: &str| Arg::Positional(s.into());
        assert_eq!(
            all(args(&["--log", "x", "-", "-h", "--", "--port", "-"])),
            [opt("log"), pos("x"), pos("-"), opt("h"), pos("--port"), pos("-")]
        );
    }

    #[test]
    fn values_come_from_the_next_argument_or_after_equals() {
        let mut a = args(&["--port", "80", "--clock-offset=-5", "--seed"]);
        assert_eq!(a.next_arg().unwrap(), Some(Arg::Option("port".into())));
        assert_eq!(a.parsed::<u16>("port", "a port").unwrap(), 80);
        assert_eq!(a.next_arg().unwrap(), Some(Arg::Option("clock-offset".into())));
        assert_eq!(a.parsed::<i64>("clock-offset", "seconds").unwrap(), -5);
        assert_eq!(a.next_arg().unwrap(), Some(Arg::Option("seed".into())));
        assert_eq!(a.value("seed").unwrap_err().0, "--seed needs a value");
    }

    #[test]
    fn a_negative_number_is_taken_as_a_value() {
        let mut a = args(&["--clock-offset", "-3600"]);
        a.next_arg().unwrap();
        assert_eq!(a.parsed::<i64>("clock-offset", "seconds").unwrap(), -3600);
    }

    #[test]
    fn an_option_with_several_values_takes_them_up_to_the_next_option() {
        let mut a = args(&["--instance", "ins-a", "ins-b", "--force-stop", "skey-c"]);
        a.next_arg().unwrap();
        assert_eq!(a.values("instance").unwrap(), ["ins-a", "ins-b"]);
        assert_eq!(a.next_arg().unwrap(), Some(Arg::Option("force-stop".into())));
        let mut b = args(&["--instance=ins-a", "ins-b", "--", "ins-c"]);
        b.next_arg().unwrap();
        assert_eq!(b.values("instance").unwrap(), ["ins-a", "ins-b"]);
        assert_eq!(b.next_arg().unwrap(), Some(Arg::Positional("ins-c".into())));
        let mut c = args(&["--instance", "-"]);
        c.next_arg().unwrap();
        assert_eq!(c.values("instance").unwrap(), ["-"], "the first value is taken verbatim");
    }

    #[test]
    fn tags_are_key_equals_value() {
        let mut a = args(&["--tag", "env=ci=1", "--tag", "team=", "--tag", "=x", "--tag", "novalue"]);
        let mut next = || {
            a.next_arg().unwrap();
            a.tag("tag")
        };
        assert_eq!(next().unwrap(), ("env".to_owned(), "ci=1".to_owned()));
        assert_eq!(next().unwrap(), ("team".to_owned(), String::new()));
        assert!(next().unwrap_err().0.starts_with("--tag takes KEY=VALUE"));
        assert!(next().is_err());
    }

    #[test]
    fn bad_values_and_unused_inline_values_are_usage_errors() {
        let mut a = args(&["--port", "http"]);
        a.next_arg().unwrap();
        assert_eq!(
            a.parsed::<u16>("port", "a port number").unwrap_err().0,
            "--port takes a port number, not \"http\""
        );
        let mut b = args(&["--log=yes"]);
        b.next_arg().unwrap();
        assert!(b.next_arg().is_err());
    }
}
