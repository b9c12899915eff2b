//! How a deletion's outcome is shown for people, and the exit code. (`--json` prints the
//! [`DeletionReport`] as the library serialises it.)
//!
//! Every requested id lands in exactly one list of the report; the rendering keeps that
//! property.

use std::fmt::Write as _;

use cvm_keypairs::{DeletionReport, FailureCode, KeyFailure};

use crate::exit;
use crate::output::{count, for_people};

/// The exit code for a finished run: 0 when every key is absent, 3 when the only keys left
/// failed authentication (credentials revoked midway), 4 when they are failures without any API
/// answer (network, gateway), otherwise 1.
pub fn exit_code(report: &DeletionReport) -> u8 {
    let failed: Vec<&FailureCode> = report.failed.iter().map(KeyFailure::code).collect();
    exit_code_of(report.kept.len(), &failed)
}

/// [`exit_code`] for a report with `kept` keys kept and the failures with codes `failed`.
fn exit_code_of(kept: usize, failed: &[&FailureCode]) -> u8 {
    if kept == 0 && failed.is_empty() {
        exit::OK
    } else if kept == 0 && failed.iter().all(|code| code.is_auth()) {
        exit::CONFIG
    } else if kept == 0 && failed.iter().all(|code| code.is_no_answer()) {
        exit::NETWORK
    } else {
        exit::FAILED
    }
}

/// The report for people: one section per outcome, each key with its code, message and
/// RequestId where it has them (text from the API escaped).
pub fn human(report: &DeletionReport) -> String {
    let total = report.deleted.len() + report.not_found.len() + report.kept.len() + report.failed.len();
    let mut out = format!(
        "{}: {} deleted, {} not found, {} kept, {} failed\n",
        count(total, "key pair"),
        report.deleted.len(),
        report.not_found.len(),
        report.kept.len(),
        report.failed.len()
    );
    for (title, ids) in [("Deleted", &report.deleted), ("Not found (already absent)", &report.not_found)] {
        if !ids.is_empty() {
            let _ = writeln!(out, "\n{title}:");
            for id in ids {
                let _ = writeln!(out, "  {id}");
            }
        }
    }
    for (title, failures) in
        [("Kept (still present after deletion)", &report.kept), ("Failed", &report.failed)]
    {
        if failures.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}:");
        for f in failures {
            let rid = f.request_id().unwrap_or("none");
            let _ = writeln!(
                out,
                "  {}  {}: {} (RequestId: {})",
                f.key_id,
                for_people(&f.code().to_string()),
                for_people(f.message()),
                for_people(rid)
            );
        }
    }
    detach_sections(&mut out, report);
    if !report.request_ids.is_empty() {
        let _ = writeln!(out, "\nRequestIds: {}", for_people(&report.request_ids.join(" ")));
    }
    out
}

/// What `--detach` did: the key pairs it unbound, and the instances it force-stopped with
/// their state at the end (text from the API escaped).
fn detach_sections(out: &mut String, report: &DeletionReport) {
    if !report.detached.is_empty() {
        let _ = writeln!(out, "\nDetached from instances:");
        for d in &report.detached {
            let _ = writeln!(out, "  {}  from {}", d.key_id, for_people(&d.instance_ids.join(", ")));
        }
    }
    if !report.stopped_instances.is_empty() {
        let _ = writeln!(out, "\nForce-stopped instances, with their state now:");
        for s in &report.stopped_instances {
            let state =
                s.state.as_deref().map_or("unknown (DescribeInstances did not say)".into(), for_people);
            let _ = writeln!(out, "  {}  {state}", for_people(&s.instance_id));
        }
    }
}

#[cfg(test)]
mod tests {
    use cvm_keypairs::TransportKind;

    use super::*;
    use crate::fakes::api_error;

    fn api(code: &str) -> FailureCode {
        FailureCode::from(&api_error(code))
    }

    #[test]
    fn exit_4_only_when_every_remaining_key_failed_without_an_api_answer() {
        let net = FailureCode::Transport(TransportKind::Io);
        assert_eq!(exit_code_of(0, &[]), exit::OK);
        assert_eq!(exit_code_of(0, &[&net, &FailureCode::Http(502)]), exit::NETWORK);
        assert_eq!(exit_code_of(0, &[&FailureCode::Decode]), exit::NETWORK);
        assert_eq!(exit_code_of(0, &[&net, &api("InternalError")]), exit::FAILED);
        assert_eq!(exit_code_of(1, &[&net]), exit::FAILED, "a key kept");
        assert_eq!(exit_code_of(1, &[]), exit::FAILED, "only a key kept");
        assert_eq!(exit_code_of(0, &[&FailureCode::VerificationIncomplete]), exit::FAILED);
    }

    #[test]
    fn exit_3_when_every_remaining_key_failed_authentication() {
        let revoked = api("AuthFailure.SecretIdNotFound");
        assert_eq!(exit_code_of(0, &[&revoked]), exit::CONFIG);
        assert_eq!(exit_code_of(0, &[&revoked, &FailureCode::Http(502)]), exit::FAILED);
    }
}
