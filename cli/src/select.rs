//! Choosing key pairs by what they are rather than by id, for `delete` and `describe`: name
//! globs, age, tags and project; and `delete`'s plan of what a selection would delete.
//!
//! Tags and the project go to the API as DescribeKeyPairs filters (`tag:<key>`,
//! `project-id`), so a large account is not listed whole for them; names and age are matched
//! here, as the API filters names only exactly and has no filter on time. What the API lists
//! is checked against the filters sent as well: a server that ignored them must not widen a
//! deletion. A listing for which the API counted more key pairs than it returned may have
//! missed matches, so it is never taken as "no match": the commands say so and exit 1.

use std::fmt::Write as _;
use std::ops::Range;

use cvm_keypairs::{Client, DescribeKeyPairs, Error, Filter, KeyId, KeyPair};
use serde_json::{json, Value};

use crate::args::{Args, UsageError};
use crate::output::{self, count, for_people};

/// The help lines of the selectors, for `delete --help` and `describe --help`.
pub const HELP: &str = "\
Selectors (instead of ids; a key pair is selected when it matches every one given):
  --name <GLOB>              KeyName matches GLOB: `*` is any run of characters, `?` any one
                             character, everything else itself (case matters); repeatable:
                             any of them
  --exclude-name <GLOB>      KeyName does not match GLOB; repeatable: none of them
  --older-than <DURATION>    Created more than DURATION ago, by the CreatedTime the API gives
                             (e.g. 2020-09-22T09:31:26Z): <n>s, <n>m, <n>h or <n>d, at most
                             36500d. A key pair whose CreatedTime cannot be read is never
                             selected by it (stderr counts them)
  --tag <KEY=VALUE>          Has the tag KEY with the value VALUE; repeatable: all of them
  --project-id <N>           In project N (0 is the default project)
Tags and the project are sent as DescribeKeyPairs filters (tag:<KEY>, project-id), and what
the API lists is checked against them too; names and age are matched on the listing. When
the API counts more key pairs than it returns, the listing is incomplete and may have missed
some: stderr says so, the JSON says \"complete\": false, and the exit code is 1 (an empty
selection from such a listing is never reported as no match).
";

/// The longest glob taken: far longer than any key name.
const MAX_GLOB: usize = 255;
/// The longest `--older-than`: 36500 days, about a century.
const MAX_AGE: i64 = 36_500 * DAY;
const DAY: i64 = 86_400;

/// The selectors given on the command line.
#[derive(Debug, Default)]
pub struct Selector {
    names: Vec<String>,
    excluded: Vec<String>,
    older_than: Option<i64>,
    tags: Vec<(String, String)>,
    project_id: Option<u64>,
}

impl Selector {
    /// Takes option `name` (and its value) if it is a selector; `Ok(false)` if not.
    pub fn take(&mut self, name: &str, args: &mut Args) -> Result<bool, UsageError> {
        match name {
            "name" => self.names.push(glob(name, args)?),
            "exclude-name" => self.excluded.push(glob(name, args)?),
            "older-than" => self.older_than = Some(age(&args.value(name)?)?),
            "tag" => self.tags.push(args.tag(name)?),
            "project-id" => self.project_id = Some(args.parsed(name, "a project id (0 or more)")?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Whether no selector was given.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
            && self.excluded.is_empty()
            && self.older_than.is_none()
            && self.tags.is_empty()
            && self.project_id.is_none()
    }

    /// The listing to ask for: the filters the API has, or every key pair.
    fn request(&self) -> Result<DescribeKeyPairs, Error> {
        let mut filters: Vec<Filter> =
            self.tags.iter().map(|(key, value)| Filter::tag(key, [value.as_str()])).collect();
        filters.extend(self.project_id.map(|id| Filter::project_ids([id])));
        if filters.is_empty() {
            Ok(DescribeKeyPairs::all())
        } else {
            DescribeKeyPairs::filtered(filters)
        }
    }

    /// Lists the key pairs (every page) and keeps those selected, `now` being the time in Unix
    /// seconds that `--older-than` counts back from.
    pub fn select(&self, client: &Client, now: i64) -> Result<Selection, Error> {
        let listed = client.describe_all_key_pairs(&self.request()?)?;
        let mut selection = Selection {
            complete: listed.is_complete(),
            listed: listed.key_pairs.len(),
            total_count: listed.total_count,
            ..Selection::default()
        };
        for key_pair in listed.key_pairs {
            if !self.filters_match(&key_pair) {
                selection.off_filter += 1;
                continue;
            }
            if !self.names_match(&key_pair.key_name) {
                continue;
            }
            if let Some(age) = self.older_than {
                match created_at(&key_pair.created_time) {
                    Some(created) if now.saturating_sub(created) > age => {}
                    Some(_) => continue,
                    None => {
                        selection.unreadable.push((key_pair.key_id, key_pair.created_time));
                        continue;
                    }
                }
            }
            selection.key_pairs.push(key_pair);
        }
        Ok(selection)
    }

    /// Whether `key_pair` matches the filters sent to the API.
    fn filters_match(&self, key_pair: &KeyPair) -> bool {
        self.project_id.is_none_or(|id| u64::try_from(key_pair.project_id) == Ok(id))
            && self
                .tags
                .iter()
                .all(|(key, value)| key_pair.tags.iter().any(|tag| tag.key == *key && tag.value == *value))
    }

    fn names_match(&self, name: &str) -> bool {
        (self.names.is_empty() || self.names.iter().any(|glob| glob_matches(glob, name)))
            && !self.excluded.iter().any(|glob| glob_matches(glob, name))
    }
}

/// The key pairs a selection kept, and how far its listing can be trusted.
#[derive(Debug, Default)]
pub struct Selection {
    /// The key pairs selected, in the order listed.
    pub key_pairs: Vec<KeyPair>,
    /// Whether the listing held every key pair the API counted.
    pub complete: bool,
    listed: usize,
    total_count: u64,
    /// Key pairs that matched all else, but whose CreatedTime cannot be read.
    unreadable: Vec<(KeyId, String)>,
    /// Key pairs the API listed that do not match the filters sent.
    off_filter: usize,
}

impl Selection {
    /// Says on stderr what the selection may have missed or left out.
    pub fn warn(&self) {
        if !self.complete {
            eprintln!(
                "warning: the listing is incomplete: the API counted {} and returned {}, so key pairs \
                 may be missing from it",
                count(usize::try_from(self.total_count).unwrap_or(usize::MAX), "key pair"),
                self.listed
            );
        }
        if self.off_filter > 0 {
            eprintln!(
                "warning: {} the API listed did not match the filters sent (tags, project) and \
                 were left out",
                count(self.off_filter, "key pair")
            );
        }
        if let Some((id, text)) = self.unreadable.first() {
            eprintln!(
                "note: {} whose CreatedTime cannot be read (e.g. {id}: \"{}\") not selected by \
                 --older-than",
                count(self.unreadable.len(), "key pair"),
                for_people(text)
            );
        }
    }

    /// Prints `delete`'s plan: a line per key pair selected (or, with `json`, the object
    /// `{"plan":[{"key_id","key_name","created_time","instance_ids"}],"complete"}`), and on
    /// stderr that nothing was deleted and what `--yes` would do.
    pub fn print_plan(&self, json: bool, detach: bool) {
        if json {
            let plan: Vec<Value> = self
                .key_pairs
                .iter()
                .map(|k| {
                    json!({"key_id": k.key_id, "key_name": k.key_name, "created_time": k.created_time,
                           "instance_ids": k.associated_instance_ids})
                })
                .collect();
            output::print_json(&json!({"plan": plan, "complete": self.complete}));
        } else {
            let mut text = String::new();
            for k in &self.key_pairs {
                let _ = writeln!(
                    text,
                    "{}  {}  {}  {}",
                    k.key_id,
                    for_people(&k.key_name),
                    for_people(&k.created_time),
                    instances(&k.associated_instance_ids)
                );
            }
            output::print(&text);
        }
        let bound = self.key_pairs.iter().filter(|k| !k.associated_instance_ids.is_empty()).count();
        eprintln!(
            "plan: {} selected; nothing was deleted. Run again with --yes to delete {}.",
            count(self.key_pairs.len(), "key pair"),
            if self.key_pairs.len() == 1 { "it" } else { "them" }
        );
        if bound > 0 && !detach {
            let (verb, them) = if bound == 1 { ("is", "it") } else { ("are", "them") };
            eprintln!("{bound} of them {verb} bound to instances and would be kept: add --detach to detach {them} first");
        }
    }
}

/// Instance ids for people: comma-separated, escaped, `-` for none.
pub fn instances(ids: &[String]) -> String {
    if ids.is_empty() {
        "-".into()
    } else {
        for_people(&ids.join(",")).into_owned()
    }
}

fn glob(name: &str, args: &mut Args) -> Result<String, UsageError> {
    let glob = args.value(name)?;
    if glob.is_empty() || glob.chars().count() > MAX_GLOB {
        return Err(UsageError(format!("--{name} takes a pattern of 1 to {MAX_GLOB} characters")));
    }
    Ok(glob)
}

/// Whether `text` matches `glob` whole: `*` any run of characters, `?` any one.
fn glob_matches(glob: &str, text: &str) -> bool {
    let (glob, text): (Vec<char>, Vec<char>) = (glob.chars().collect(), text.chars().collect());
    let (mut g, mut t) = (0, 0);
    // The last `*` seen, and where in `text` its run ends so far: backtrack there on a mismatch.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if g < glob.len() && (glob[g] == '?' || (glob[g] != '*' && glob[g] == text[t])) {
            g += 1;
            t += 1;
        } else if g < glob.len() && glob[g] == '*' {
            star = Some((g, t));
            g += 1;
        } else if let Some((star_at, run_end)) = star {
            star = Some((star_at, run_end + 1));
            g = star_at + 1;
            t = run_end + 1;
        } else {
            return false;
        }
    }
    glob[g..].iter().all(|&c| c == '*')
}

/// `--older-than`'s value in seconds.
fn age(text: &str) -> Result<i64, UsageError> {
    let bad = || {
        UsageError(format!(
            "--older-than takes <n>s, <n>m, <n>h or <n>d (e.g. 90m, 1d), at most 36500d, not {text:?}"
        ))
    };
    let digits = text.get(..text.len().saturating_sub(1)).ok_or_else(bad)?;
    let unit = match &text[digits.len()..] {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => DAY,
        _ => return Err(bad()),
    };
    if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: i64 = digits.parse().map_err(|_| bad())?;
    n.checked_mul(unit).filter(|&secs| secs <= MAX_AGE).ok_or_else(bad)
}

/// A CreatedTime as the API writes it, `2020-09-22T09:31:26Z` (or with an offset such as
/// `+08:00` instead of `Z`), in Unix seconds; `None` for anything else.
pub fn created_at(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20
        || [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')].iter().any(|&(i, c)| b[i] != c)
    {
        return None;
    }
    let number = |range: Range<usize>| -> Option<i64> {
        let digits = text.get(range)?;
        digits.bytes().all(|c| c.is_ascii_digit()).then(|| digits.parse().ok())?
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let offset = match text.get(19..)? {
        "Z" => 0,
        zone if zone.len() == 6 && &zone[3..4] == ":" => {
            let (hours, minutes) = (number(20..22)?, number(23..25)?);
            let sign = match &zone[..1] {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            (hours < 24 && minutes < 60).then_some(sign * (hours * 3600 + minutes * 60))?
        }
        _ => return None,
    };
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second <= 60;
    valid.then(|| days_from_civil(year, month, day) * DAY + hour * 3600 + minute * 60 + second - offset)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the date (proleptic Gregorian), by Howard Hinnant's
/// `days_from_civil`.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selector(list: &[&str]) -> Selector {
        let mut args = Args::new(list.iter().map(|s| s.to_string()));
        let mut selector = Selector::default();
        while let Some(crate::args::Arg::Option(name)) = args.next_arg().unwrap() {
            assert!(selector.take(&name, &mut args).unwrap(), "{name}");
        }
        selector
    }

    fn key_pair(name: &str, created: &str, project: i64, tags: &[(&str, &str)]) -> KeyPair {
        let tags: Vec<Value> = tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect();
        serde_json::from_value(json!({"KeyId": "skey-aaaaaaaa", "KeyName": name, "CreatedTime": created,
                                      "ProjectId": project, "Tags": tags}))
        .unwrap()
    }

    #[test]
    fn globs_match_the_whole_name_with_stars_and_question_marks() {
        for (glob, text, matches) in [
            ("ci_*", "ci_1", true),
            ("ci_*", "ci_", true),
            ("ci_*", "xci_1", false),
            ("*_tmp", "build_tmp", true),
            ("*_tmp", "build_tmp2", false),
            ("ci_??", "ci_12", true),
            ("ci_??", "ci_1", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("**", "", true),
            ("*", "", true),
            ("?", "", false),
            ("CI_*", "ci_1", false),
            ("web", "web", true),
            ("web", "web1", false),
            ("中*", "中文", true),
            ("*a*a*a*a*b", &"a".repeat(40), false),
        ] {
            assert_eq!(glob_matches(glob, text), matches, "{glob:?} on {text:?}");
        }
    }

    #[test]
    fn ages_take_a_number_and_a_unit_and_are_bounded() {
        assert_eq!(age("90s"), Ok(90));
        assert_eq!(age("15m"), Ok(900));
        assert_eq!(age("12h"), Ok(43_200));
        assert_eq!(age("1d"), Ok(DAY));
        assert_eq!(age("0s"), Ok(0));
        assert_eq!(age("36500d"), Ok(MAX_AGE));
        for bad in ["", "d", "1", "1w", "-1d", "+1d", "1.5h", " 1d", "1dd", "36501d", "99999999999999d", "1é"]
        {
            let message = age(bad).unwrap_err().0;
            assert!(message.starts_with("--older-than takes <n>s, <n>m, <n>h or <n>d"), "{bad:?}: {message}");
        }
    }

    #[test]
    fn created_times_are_read_as_the_api_writes_them_and_nothing_else() {
        assert_eq!(created_at("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(created_at("2020-09-22T09:31:26Z"), Some(1_600_767_086));
        assert_eq!(created_at("2020-09-22T17:31:26+08:00"), Some(1_600_767_086));
        assert_eq!(created_at("2020-09-22T08:31:26-01:00"), Some(1_600_767_086));
        assert_eq!(created_at("2024-02-29T00:00:00Z"), Some(1_709_164_800), "a leap day");
        assert_eq!(created_at("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(created_at("1969-12-31T23:59:59Z"), Some(-1));
        for bad in [
            "",
            "2020-09-22",
            "2020-09-22 09:31:26",
            "2020-09-22T09:31:26",
            "2020-09-22T09:31:26.5Z",
            "2023-02-29T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "2020-13-01T00:00:00Z",
            "2020-00-01T00:00:00Z",
            "2020-04-31T00:00:00Z",
            "2020-09-22T24:00:00Z",
            "2020-09-22T09:60:00Z",
            "2020-09-22T09:31:26+8:00",
            "2020-09-22T09:31:26*08:00",
            "2020-09-22T09:31:26+24:00",
            "+020-09-22T09:31:26Z",
            "2020-0é-22T09:31:26Z",
            "2020-09-22T09:31:2éZ",
            "2020-09-22T09:31:26Zé",
        ] {
            assert_eq!(created_at(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names_must_match_one_glob_and_no_exclusion() {
        let s = selector(&["--name", "ci_*", "--name", "tmp_*", "--exclude-name", "ci_keep*"]);
        assert!(s.names_match("ci_1") && s.names_match("tmp_x"));
        assert!(!s.names_match("ci_keep_1") && !s.names_match("web"));
        let only_excluded = selector(&["--exclude-name", "prod_*"]);
        assert!(only_excluded.names_match("web") && !only_excluded.names_match("prod_db"));
    }

    #[test]
    fn tags_and_project_are_sent_as_filters_and_checked_on_what_comes_back() {
        let s = selector(&["--tag", "env=ci", "--tag", "team=web", "--project-id", "7"]);
        assert_eq!(
            serde_json::to_value(s.request().unwrap()).unwrap(),
            json!({"Filters": [{"Name": "tag:env", "Values": ["ci"]}, {"Name": "tag:team", "Values": ["web"]},
                               {"Name": "project-id", "Values": ["7"]}]})
        );
        assert!(s.filters_match(&key_pair("a", "", 7, &[("team", "web"), ("env", "ci")])));
        assert!(!s.filters_match(&key_pair("a", "", 7, &[("env", "ci")])), "all tags");
        assert!(!s.filters_match(&key_pair("a", "", 7, &[("env", "dev"), ("team", "web")])));
        assert!(!s.filters_match(&key_pair("a", "", 0, &[("env", "ci"), ("team", "web")])), "project");
        assert_eq!(serde_json::to_value(selector(&["--name", "x"]).request().unwrap()).unwrap(), json!({}));
        assert!(selector(&[]).is_empty() && !selector(&["--older-than", "1d"]).is_empty());
    }

    #[test]
    fn bad_selector_values_are_usage_errors() {
        for (list, message) in [
            (&["--name", ""][..], "--name takes a pattern of 1 to 255 characters"),
            (&["--older-than", "yesterday"][..], "--older-than takes"),
            (&["--tag", "env"][..], "--tag takes KEY=VALUE"),
            (&["--project-id", "-1"][..], "--project-id takes a project id (0 or more), not \"-1\""),
        ] {
            let mut args = Args::new(list.iter().map(|s| s.to_string()));
            let Some(crate::args::Arg::Option(name)) = args.next_arg().unwrap() else { unreachable!() };
            let error = Selector::default().take(&name, &mut args).unwrap_err().0;
            assert!(error.starts_with(message), "{list:?}: {error}");
        }
    }
}
