//! How a deletion's outcome is shown: the human report, the one JSON object of `--json`, the
//! progress lines on stderr, and the exit code.
//!
//! Every requested id lands in exactly one list of the [`DeletionReport`]; both renderings keep
//! that property (kept keys go under `failed` in JSON, with the code saying why).

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::exit;
use crate::output::{count, for_people};
use cvm_keypairs::batch::{DeletionReport, KeyFailure};

/// The exit code for a finished run: 0 when every key is absent, 3 when the only keys left
/// failed authentication (credentials revoked midway), 4 when they are failures without any API
/// answer (network, gateway), otherwise 1.
pub fn exit_code(report: &DeletionReport) -> u8 {
    if report.all_absent() {
        exit::OK
    } else if report.kept.is_empty() && report.failed.iter().all(|f| f.code().is_auth()) {
        exit::CONFIG
    } else if report.kept.is_empty() && report.failed.iter().all(|f| f.code().is_no_answer()) {
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
    if !report.request_ids.is_empty() {
        let _ = writeln!(out, "\nRequestIds: {}", for_people(&report.request_ids.join(" ")));
    }
    out
}

/// The one JSON object of `--json`.
pub fn to_json(report: &DeletionReport) -> Value {
    let failure = |f: &KeyFailure| json!({"key_id": f.key_id.as_str(), "code": f.code().to_string(), "message": f.message(), "request_id": f.request_id()});
    json!({
        "deleted": report.deleted.iter().map(|id| id.as_str()).collect::<Vec<_>>(),
        "not_found": report.not_found.iter().map(|id| id.as_str()).collect::<Vec<_>>(),
        "failed": report.kept.iter().chain(&report.failed).map(failure).collect::<Vec<_>>(),
        "request_ids": report.request_ids,
    })
}

#[cfg(test)]
mod tests {
    use cvm_keypairs::{ErrorCode, FailureCode, TransportKind};

    use super::*;

    fn failure(id: &str, code: FailureCode) -> KeyFailure {
        KeyFailure::new(id.parse().unwrap(), code, "m", None)
    }

    fn api(code: &str) -> FailureCode {
        FailureCode::Api(ErrorCode::new(code))
    }

    fn report(kept: Vec<KeyFailure>, failed: Vec<KeyFailure>) -> DeletionReport {
        let mut report = DeletionReport::default();
        report.deleted = vec!["skey-aaaaaaaa".parse().unwrap()];
        report.not_found = vec!["skey-bbbbbbbb".parse().unwrap()];
        report.kept = kept;
        report.failed = failed;
        report.request_ids = vec!["r-1".into()];
        report
    }

    #[test]
    fn exit_4_only_when_every_remaining_key_failed_without_an_api_answer() {
        let net = |id| failure(id, FailureCode::Transport(TransportKind::Io));
        assert_eq!(exit_code(&report(vec![], vec![])), exit::OK);
        assert_eq!(
            exit_code(&report(
                vec![],
                vec![net("skey-cccccccc"), failure("skey-dddddddd", FailureCode::Http(502))]
            )),
            4
        );
        assert_eq!(exit_code(&report(vec![], vec![failure("skey-cccccccc", FailureCode::Decode)])), 4);
        let mixed =
            report(vec![], vec![net("skey-cccccccc"), failure("skey-dddddddd", api("InternalError"))]);
        assert_eq!(exit_code(&mixed), exit::FAILED);
        let kept =
            report(vec![failure("skey-dddddddd", FailureCode::StillPresent)], vec![net("skey-cccccccc")]);
        assert_eq!(exit_code(&kept), exit::FAILED);
        let unknown = report(vec![], vec![failure("skey-cccccccc", FailureCode::VerificationIncomplete)]);
        assert_eq!(exit_code(&unknown), exit::FAILED);
    }

    #[test]
    fn exit_3_when_every_remaining_key_failed_authentication() {
        let revoked = report(vec![], vec![failure("skey-cccccccc", api("AuthFailure.SecretIdNotFound"))]);
        assert_eq!(exit_code(&revoked), exit::CONFIG);
        let mixed = report(
            vec![],
            vec![
                failure("skey-cccccccc", api("AuthFailure.SecretIdNotFound")),
                failure("skey-dddddddd", FailureCode::Http(502)),
            ],
        );
        assert_eq!(exit_code(&mixed), exit::FAILED);
    }

    #[test]
    fn json_puts_kept_keys_under_failed_with_their_code() {
        let r = report(
            vec![failure("skey-cccccccc", FailureCode::StillPresent)],
            vec![failure("skey-dddddddd", api("X"))],
        );
        assert_eq!(
            to_json(&r),
            json!({
                "deleted": ["skey-aaaaaaaa"],
                "not_found": ["skey-bbbbbbbb"],
                "failed": [
                    {"key_id": "skey-cccccccc", "code": "KeyPairStillPresent", "message": "m", "request_id": null},
                    {"key_id": "skey-dddddddd", "code": "X", "message": "m", "request_id": null}
                ],
                "request_ids": ["r-1"]
            })
        );
    }
}
