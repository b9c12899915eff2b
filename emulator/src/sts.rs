//! The STS actions (2018-08-13): `AssumeRole` and `AssumeRoleWithWebIdentity`, and the
//! temporary credentials they issue, which then sign CVM (and STS) calls with `X-TC-Token`.
//!
//! Parameters, answers and error codes are the official SDK's (tencentcloud-sdk-python-sts
//! 3.0.1459 `models.py` and `errorcodes.py`) and the AssumeRole API page's rules: a role
//! session name of 2 to 128 of letters, digits and `_+=,.@-`, `DurationSeconds` 7200 by default
//! and at most 43200. Temporary credentials live on the emulator's clock; at most
//! [`MAX_LIVE_CREDENTIALS`] are remembered, so a loop of calls cannot grow memory without bound.

use std::collections::{HashMap, VecDeque};
use std::fmt;

use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{json, Map, Value};

use super::api::{Action, ApiError};
use super::auth::{self, Signer};
use super::params::Params;
use super::server::Shared;
use super::store::iso_time;

/// The STS API version.
pub(crate) const VERSION: &str = "2018-08-13";
/// The action the official SDKs send unsigned.
pub(crate) const WEB_IDENTITY: &str = "AssumeRoleWithWebIdentity";
/// The `Authorization` value of an unsigned request, as the official SDKs send it.
pub(crate) const UNSIGNED: &str = "SKIP";
/// The most temporary credentials remembered at once.
pub(crate) const MAX_LIVE_CREDENTIALS: usize = 10_000;
/// `DurationSeconds` when none is given, and the most it may be.
const DEFAULT_DURATION: i64 = 7_200;
const MAX_DURATION: i64 = 43_200;
/// The longest `Policy` taken. The API page gives no limit; this bounds what is read.
const MAX_POLICY_BYTES: usize = 2_048;

/// The STS actions, with the parameters the emulator takes of the SDK's request models.
pub(crate) const ACTIONS: [Action; 2] = [
    Action {
        name: "AssumeRole",
        params: &["RoleArn", "RoleSessionName", "DurationSeconds", "Policy"],
        mutating: true,
    },
    Action {
        name: WEB_IDENTITY,
        params: &["ProviderId", "WebIdentityToken", "RoleArn", "RoleSessionName", "DurationSeconds"],
        mutating: true,
    },
];

/// One set of temporary credentials, by its secret id in [`Temporaries`].
struct Temporary {
    secret_key: String,
    token: String,
    /// Unix seconds on the emulator's clock; refused from then on.
    expires: i64,
}

/// The temporary credentials issued and not yet forgotten, in the order they were issued.
pub(crate) struct Temporaries {
    by_id: HashMap<String, Temporary>,
    order: VecDeque<String>,
    capacity: usize,
    random: SystemRandom,
}

impl fmt::Debug for Temporaries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Temporaries").field("live", &self.by_id.len()).finish_non_exhaustive()
    }
}

/// What [`Temporaries::issue`] gives: `TmpSecretId`, `TmpSecretKey`, `Token`.
struct Issued {
    secret_id: String,
    secret_key: String,
    token: String,
}

impl Temporaries {
    pub(crate) fn new(capacity: usize) -> Temporaries {
        Temporaries { by_id: HashMap::new(), order: VecDeque::new(), capacity, random: SystemRandom::new() }
    }

    /// The credentials of `secret_id`, if it is one issued and still remembered.
    pub(crate) fn signer(&self, secret_id: &str) -> Option<Signer> {
        self.by_id.get(secret_id).map(|t| Signer {
            secret_key: t.secret_key.clone(),
            token: Some(t.token.clone()),
            expires: Some(t.expires),
        })
    }

    /// How many are remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Fresh credentials valid until `expires`. When full, the expired ones are forgotten
    /// first, then the oldest.
    fn issue(&mut self, now: i64, expires: i64) -> Result<Issued, ApiError> {
        if self.by_id.len() >= self.capacity {
            self.by_id.retain(|_, t| t.expires > now);
            let by_id = &self.by_id;
            self.order.retain(|id| by_id.contains_key(id));
        }
        while self.by_id.len() >= self.capacity {
            let Some(oldest) = self.order.pop_front() else { break };
            self.by_id.remove(&oldest);
        }
        let issued = Issued {
            secret_id: format!("AKID{}", self.random_hex(16)?),
            secret_key: self.random_hex(20)?,
            token: self.random_hex(48)?,
        };
        let temporary =
            Temporary { secret_key: issued.secret_key.clone(), token: issued.token.clone(), expires };
        self.order.push_back(issued.secret_id.clone());
        self.by_id.insert(issued.secret_id.clone(), temporary);
        Ok(issued)
    }

    fn random_hex(&self, bytes: usize) -> Result<String, ApiError> {
        let mut buf = vec![0u8; bytes];
        self.random
            .fill(&mut buf)
            .map_err(|_| ApiError::new("InternalError.SystemError", "No randomness is available."))?;
        Ok(auth::hex(&buf))
    }
}

fn required<'p>(value: &'p Option<String>, name: &str) -> Result<&'p str, ApiError> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::new("MissingParameter", format!("The parameter `{name}` is missing.")))
}

/// Shows an untrusted value: at most 64 characters, escaped.
fn shown(value: &str) -> String {
    format!("{:?}", value.chars().take(64).collect::<String>())
}

/// Runs the STS action `name` at `now` (the emulator's clock).
pub(crate) fn apply(
    shared: &Shared,
    name: &str,
    params: &Params,
    now: i64,
) -> Result<Map<String, Value>, ApiError> {
    let config = &shared.config;
    if name == WEB_IDENTITY {
        required(&params.provider_id, "ProviderId")?;
        let sent = params.web_identity_token.as_ref().map(|t| t.0.as_str()).filter(|t| !t.is_empty());
        let sent = sent.ok_or_else(|| {
            ApiError::new("MissingParameter", "The parameter `WebIdentityToken` is missing.")
        })?;
        let Some(accepted) = &config.web_identity_token else {
            return Err(ApiError::new(
                "UnsupportedOperation",
                "This emulator takes no web identity (it was started without a web identity token).",
            ));
        };
        if !auth::constant_time_eq(accepted.as_bytes(), sent.as_bytes()) {
            return Err(ApiError::new(
                "InvalidParameter.WebIdentityTokenError",
                "The WebIdentityToken is not valid.",
            ));
        }
    } else if params.policy.as_ref().is_some_and(|p| p.len() > MAX_POLICY_BYTES) {
        return Err(ApiError::new(
            "InvalidParameter.PolicyTooLong",
            format!("The Policy is longer than {MAX_POLICY_BYTES} bytes."),
        ));
    }
    let lifetime = lifetime(params, config.roles.as_slice(), config.sts_duration_cap)?;
    let expires = now.saturating_add(lifetime);
    let issued = shared.temporaries().issue(now, expires)?;
    let mut response = Map::new();
    response.insert(
        "Credentials".into(),
        json!({"Token": issued.token, "TmpSecretId": issued.secret_id, "TmpSecretKey": issued.secret_key}),
    );
    response.insert("ExpiredTime".into(), json!(expires));
    response.insert("Expiration".into(), Value::String(iso_time(expires)));
    Ok(response)
}

/// Checks the role, the session name and the duration both actions take; the lifetime of the
/// credentials to issue, in seconds: `DurationSeconds`, at most `cap`.
fn lifetime(params: &Params, roles: &[String], cap: Option<u64>) -> Result<i64, ApiError> {
    let role = required(&params.role_arn, "RoleArn")?;
    let session = required(&params.role_session_name, "RoleSessionName")?;
    if !roles.iter().any(|r| r == role) {
        return Err(ApiError::new(
            "ResourceNotFound.RoleNotFound",
            format!("The role {} does not exist.", shown(role)),
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    if !(2..=128).contains(&session.chars().count()) || !session.chars().all(allowed) {
        return Err(ApiError::new(
            "InvalidParameter.ParamError",
            format!(
                "The RoleSessionName {} must be 2 to 128 of letters, digits and `_+=,.@-`.",
                shown(session)
            ),
        ));
    }
    let duration = params.duration_seconds.unwrap_or(DEFAULT_DURATION);
    if duration > MAX_DURATION {
        return Err(ApiError::new(
            "InvalidParameter.OverTimeError",
            format!("DurationSeconds is at most {MAX_DURATION}."),
        ));
    }
    if duration < 1 {
        return Err(ApiError::new("InvalidParameter.ParamError", "DurationSeconds must be at least 1."));
    }
    let cap = cap.map_or(duration, |cap| i64::try_from(cap).unwrap_or(i64::MAX));
    Ok(duration.min(cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_never_holds_more_than_its_capacity_forgetting_expired_then_oldest() {
        let mut store = Temporaries::new(MAX_LIVE_CREDENTIALS);
        let first = store.issue(1_000, 1_010).unwrap().secret_id;
        let second = store.issue(1_000, 1_000_000).unwrap().secret_id;
        for _ in 2..MAX_LIVE_CREDENTIALS {
            store.issue(1_000, 1_000_000).unwrap();
        }
        assert_eq!(store.len(), MAX_LIVE_CREDENTIALS);
        // Full: the expired one goes first, though it is not the oldest live one.
        let newest = store.issue(2_000, 1_000_000).unwrap().secret_id;
        assert_eq!(store.len(), MAX_LIVE_CREDENTIALS);
        assert!(store.signer(&first).is_none() && store.signer(&second).is_some());
        // Full, nothing expired: the oldest goes.
        store.issue(2_000, 1_000_000).unwrap();
        assert_eq!(store.len(), MAX_LIVE_CREDENTIALS);
        assert!(store.signer(&second).is_none() && store.signer(&newest).is_some());
        assert_eq!(store.order.len(), MAX_LIVE_CREDENTIALS);
    }

    #[test]
    fn issued_credentials_are_fresh_and_their_secrets_stay_out_of_debug() {
        let mut store = Temporaries::new(4);
        let a = store.issue(0, 10).unwrap();
        let b = store.issue(0, 10).unwrap();
        assert!(a.secret_id.starts_with("AKID") && a.secret_id.len() == 36);
        assert_ne!((&a.secret_id, &a.secret_key, &a.token), (&b.secret_id, &b.secret_key, &b.token));
        let signer = store.signer(&a.secret_id).unwrap();
        assert_eq!((signer.token.as_deref(), signer.expires), (Some(a.token.as_str()), Some(10)));
        let shown = format!("{store:?} {signer:?}");
        for secret in [&a.secret_key, &a.token, &b.secret_key, &b.token] {
            assert!(!shown.contains(secret.as_str()), "{shown}");
        }
        let params = Params {
            web_identity_token: Some(crate::params::Secret("web-identity-secret".into())),
            ..Params::default()
        };
        assert!(!format!("{params:?}").contains("web-identity-secret"));
    }
}
