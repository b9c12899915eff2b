//! From one received request to the API's answer: common headers, authentication, the rate
//! limit, then the action itself.
//!
//! Checks run in the order a client can act on: a request that cannot be attributed to the
//! emulator's credentials learns nothing else; rate limiting applies only to authenticated
//! requests of a known action; parameters are checked last, so a rejected request changes no
//! state.

use std::time::Instant;

use serde_json::{json, Map, Value};

use super::auth;
use super::params::Params;
use super::server::Shared;
use super::wire::ParsedRequest;

/// The API version of the actions emulated.
const VERSION: &str = "2017-03-12";

/// The actions the emulator implements.
pub(crate) const ACTIONS: [&str; 2] = ["DeleteKeyPairs", "DescribeKeyPairs"];

/// An API error: a documented code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into() }
    }
}

/// What one request led to.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The `Response` members on success (without `RequestId`), or the error.
    pub(crate) result: Result<Map<String, Value>, ApiError>,
    /// How many `KeyIds` the request named, once its parameters were read.
    pub(crate) key_ids: usize,
    /// How many key pairs it deleted.
    pub(crate) deleted: usize,
}

/// Answers `request`, received at `now` by the emulator's clock; applies a delete.
pub(crate) fn answer(shared: &Shared, request: &ParsedRequest, now: i64) -> Outcome {
    let mut outcome = Outcome { result: Ok(Map::new()), key_ids: 0, deleted: 0 };
    outcome.result = run(shared, request, now, &mut outcome);
    outcome
}

fn missing(what: &str) -> ApiError {
    ApiError::new("MissingParameter", format!("The request is missing the required header `{what}`."))
}

fn run(
    shared: &Shared,
    request: &ParsedRequest,
    now: i64,
    outcome: &mut Outcome,
) -> Result<Map<String, Value>, ApiError> {
    let action = request.header("X-TC-Action").ok_or_else(|| missing("X-TC-Action"))?;
    let version = request.header("X-TC-Version").ok_or_else(|| missing("X-TC-Version"))?;
    auth::verify(request, &shared.config, now)?;
    if version != VERSION {
        return Err(ApiError::new("NoSuchVersion", format!("The API version must be {VERSION}.")));
    }
    if !ACTIONS.contains(&action) {
        return Err(ApiError::new("InvalidAction", "The requested action does not exist."));
    }
    let is_json = request.header("Content-Type").is_some_and(|t| {
        t.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    });
    if request.method == "POST" && !is_json {
        return Err(ApiError::new(
            "InvalidParameter",
            "A POST request must be Content-Type: application/json.",
        ));
    }
    if action == "DeleteKeyPairs" && request.header("X-TC-Region").is_none_or(str::is_empty) {
        return Err(missing("X-TC-Region"));
    }
    if !shared.limiter().admit(action, Instant::now()) {
        return Err(ApiError::new(
            "RequestLimitExceeded",
            format!("{action} allows {} requests per second.", shared.config.rate_limit),
        ));
    }

    let params = if request.method == "GET" {
        Params::from_query(request.query())
    } else {
        Params::from_json(&request.body)
    }?;
    outcome.key_ids = params.key_ids.as_ref().map_or(0, Vec::len);
    let mut response = Map::new();
    if action == "DeleteKeyPairs" {
        for (given, name) in [
            (params.filters.is_some(), "Filters"),
            (params.offset.is_some(), "Offset"),
            (params.limit.is_some(), "Limit"),
        ] {
            if given {
                return Err(ApiError::new(
                    "UnknownParameter",
                    format!("The parameter `{name}` is not recognized."),
                ));
            }
        }
        outcome.deleted = shared.store().delete(params.key_ids.as_deref())?.len();
    } else {
        let (total, page) = shared.store().describe(&params)?;
        response.insert("TotalCount".into(), json!(total));
        response.insert("KeyPairSet".into(), Value::Array(page));
    }
    Ok(response)
}
