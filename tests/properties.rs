//! Property tests: the signer, the serde query flattener and `KeyId` hold their rules for
//! generated inputs, not only for the shipped vectors.
//!
//! Case counts are bounded (128 to 256 per property) so `cargo test` stays fast. Generated
//! secret keys hold no control characters: HMAC pads its key with zero bytes, so two keys that
//! differ only by trailing NULs sign alike, and `Credentials` rejects control characters anyway.

use cvm_keypairs::testing::{self, Signature, Signer};
use cvm_keypairs::{
    Action, Credentials, DeleteKeyPairs, Endpoint, Error, HttpRequest, KeyId, Language, Method, RequestConfig,
};
use proptest::prelude::*;
use serde::ser::Serializer;
use serde::Serialize;
use serde_json::Value;

#[path = "support/check.rs"]
mod check;
use check::SignCase;

/// The latest second whose UTC date has a four-digit year.
const LAST_SIGNABLE: i64 = 253_402_300_799;
/// The first such second (0000-01-01T00:00:00Z).
const FIRST_SIGNABLE: i64 = -62_167_219_200;

// ---------------------------------------------------------------------------------------------
// The signer, on generated `SignCase`s.

impl SignCase {
    fn sign(&self) -> Result<Signature, Error> {
        self.with(testing::sign_uncached)
    }
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}"
}

fn header_value() -> impl Strategy<Value = String> {
    // Any printable text, ASCII or not; only CR, LF and NUL are refused.
    "\\PC{0,24}"
}

fn timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![1_600_000_000i64..1_900_000_000, FIRST_SIGNABLE..=LAST_SIGNABLE]
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let fixed = (header_value(), header_value(), header_value()).prop_map(|(ct, host, action)| {
        vec![("Content-Type".to_owned(), ct), ("Host".to_owned(), host), ("X-TC-Action".to_owned(), action)]
    });
    let extra = proptest::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,12}", header_value()), 0..4);
    (fixed, extra).prop_map(|(mut all, extra)| {
        for (name, value) in extra {
            if !all.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                all.push((name, value));
            }
        }
        all
    })
}

fn payload() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        1 => Just(None),
        4 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(Some),
    ]
}

fn inputs() -> impl Strategy<Value = SignCase> {
    (
        "[A-Za-z0-9]{1,36}",
        "\\PC{1,40}",
        "[a-z]{1,8}",
        timestamp(),
        prop_oneof![Just("GET".to_owned()), Just("POST".to_owned()), token()],
        "[!-~]{0,48}",
        headers(),
        payload(),
    )
        .prop_map(|(secret_id, secret_key, service, timestamp, method, query, headers, payload)| {
            SignCase { secret_id, secret_key, service, timestamp, method, query, headers, payload }
        })
}

/// One change to one signed input.
#[derive(Debug, Clone)]
enum Change {
    Method(String),
    Query(String),
    /// Index into the headers (modulo their count) and the new value.
    HeaderValue(usize, String),
    Payload(Option<Vec<u8>>),
    /// Seconds added: within the day, or across one or many days.
    TimestampBy(i64),
    SecretKey(String),
    Service(String),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        token().prop_map(Change::Method),
        "[!-~]{0,48}".prop_map(Change::Query),
        (any::<usize>(), header_value()).prop_map(|(i, v)| Change::HeaderValue(i, v)),
        payload().prop_map(Change::Payload),
        prop_oneof![1i64..86_400, 86_400i64..400 * 86_400, -400 * 86_400..0i64].prop_map(Change::TimestampBy),
        "\\PC{1,40}".prop_map(Change::SecretKey),
        "[a-z]{1,8}".prop_map(Change::Service),
    ]
}

/// The value as it appears in the canonical request: trimmed, ASCII letters lower-cased.
fn canonical_value(v: &str) -> String {
    v.trim().to_ascii_lowercase()
}

fn hashed_payload(p: &Option<Vec<u8>>) -> &[u8] {
    p.as_deref().unwrap_or(check::UNSIGNED_PAYLOAD.as_bytes())
}

/// Applies `change`; `None` when it would not change what is signed (a no-op, or an
/// unrepresentable timestamp).
fn apply(base: &SignCase, change: &Change) -> Option<SignCase> {
    let mut out = base.clone();
    let replace = |slot: &mut String, new: &String| (*slot != *new).then(|| slot.clone_from(new));
    match change {
        Change::Method(m) => replace(&mut out.method, m)?,
        Change::Query(q) => replace(&mut out.query, q)?,
        Change::SecretKey(k) => replace(&mut out.secret_key, k)?,
        Change::Service(s) => replace(&mut out.service, s)?,
        Change::HeaderValue(i, v) => {
            let slot = &mut out.headers[i % base.headers.len()].1;
            if canonical_value(slot) == canonical_value(v) {
                return None;
            }
            slot.clone_from(v);
        }
        Change::Payload(p) => {
            if hashed_payload(p) == hashed_payload(&base.payload) {
                return None;
            }
            out.payload.clone_from(p);
        }
        Change::TimestampBy(d) => {
            out.timestamp =
                base.timestamp.checked_add(*d).filter(|t| (FIRST_SIGNABLE..=LAST_SIGNABLE).contains(t))?
        }
    }
    Some(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn changing_any_signed_input_changes_the_signature(base in inputs(), change in change()) {
        let changed = apply(&base, &change);
        prop_assume!(changed.is_some());
        let changed = changed.unwrap();
        let (a, b) = (base.sign().unwrap(), changed.sign().unwrap());
        prop_assert_ne!(&a.signature, &b.signature, "{:?}", change);
        prop_assert_ne!(&a.authorization, &b.authorization);
        // One signer asked for both must notice the change too (new day, secret or service).
        let signer = Signer::new();
        prop_assert_eq!(&base.with(|i| signer.sign(i)).unwrap(), &a);
        prop_assert_eq!(&changed.with(|i| signer.sign(i)).unwrap(), &b);
    }

    #[test]
    fn header_order_and_name_case_do_not_change_the_signature(
        base in inputs(),
        rotate in any::<usize>(),
        upper in proptest::collection::vec(any::<bool>(), 8),
    ) {
        let mut shuffled = base.clone();
        let n = shuffled.headers.len();
        shuffled.headers.rotate_left(rotate % n);
        shuffled.headers.reverse();
        for ((name, _), up) in shuffled.headers.iter_mut().zip(upper) {
            *name = if up { name.to_ascii_uppercase() } else { name.to_ascii_lowercase() };
        }
        prop_assert_eq!(base.sign().unwrap(), shuffled.sign().unwrap());
    }

    #[test]
    fn the_secret_id_is_named_but_not_signed(base in inputs(), other_id in "[A-Za-z0-9]{1,36}") {
        prop_assume!(other_id != base.secret_id);
        let renamed = SignCase { secret_id: other_id.clone(), ..base.clone() };
        let (a, b) = (base.sign().unwrap(), renamed.sign().unwrap());
        prop_assert_eq!(&a.signature, &b.signature);
        let credential = |id: &str| format!("Credential={id}/");
        prop_assert_eq!(a.authorization.replacen(&credential(&base.secret_id), &credential(&other_id), 1), b.authorization);
    }

    #[test]
    fn the_canonical_request_splits_back_into_its_parts(input in inputs()) {
        let sig = input.sign().unwrap();
        let checked = input.with(|i| check::check_signature(i, &sig));
        prop_assert!(checked.is_ok(), "{:?}", checked);
    }

    #[test]
    fn headers_sign_exactly_when_well_formed(
        base in inputs(),
        headers in proptest::collection::vec(
            (prop_oneof!["\\PC{0,6}", "[A-Za-z-]{1,6}"], prop_oneof![".{0,6}", "[a-z \\r\\n\\x00]{0,4}"]),
            0..5,
        ),
    ) {
        let input = SignCase { headers, ..base };
        prop_assert_eq!(input.sign().is_ok(), input.with(check::signable), "{:?}", input.headers);
    }

    #[test]
    fn line_breaks_in_header_values_and_repeated_names_are_refused(
        base in inputs(),
        at in any::<usize>(),
        bad in prop_oneof![Just("\r"), Just("\n"), Just("\0")],
    ) {
        let mut broken = base.clone();
        let n = broken.headers.len();
        broken.headers[at % n].1.push_str(bad);
        let refused = matches!(broken.sign(), Err(Error::InvalidInput { .. }));
        prop_assert!(refused, "{:?}", broken.headers);
        let mut repeated = base.clone();
        let name = repeated.headers[at % n].0.to_ascii_uppercase();
        repeated.headers.push((name, "v".to_owned()));
        let refused = matches!(repeated.sign(), Err(Error::InvalidInput { .. }));
        prop_assert!(refused, "{:?}", repeated.headers);
    }

    #[test]
    fn cached_and_uncached_signing_always_agree(
        steps in proptest::collection::vec(
            (
                prop::sample::select(vec!["k1", "k2", "密钥"]),
                prop::sample::select(vec!["cvm", "cbs"]),
                prop_oneof![
                    4 => 1_704_067_190i64..1_704_067_210,
                    1 => timestamp(),
                    1 => any::<i64>(),
                ],
                payload(),
            ),
            1..24,
        ),
        base in inputs(),
    ) {
        let signer = Signer::new();
        for (key, service, timestamp, payload) in steps {
            let input = SignCase {
                secret_key: key.to_owned(),
                service: service.to_owned(),
                timestamp,
                payload,
                ..base.clone()
            };
            let cached = input.with(|i| signer.sign(i));
            let uncached = input.sign();
            match (&cached, &uncached) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                (Err(Error::InvalidInput { 0: a, .. }), Err(Error::InvalidInput { 0: b, .. })) => prop_assert_eq!(a, b),
                _ => prop_assert!(false, "cached {:?} vs uncached {:?}", cached, uncached),
            }
            prop_assert_eq!(uncached.is_ok(), (FIRST_SIGNABLE..=LAST_SIGNABLE).contains(&timestamp));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The whole request through `RequestConfig::build`.

#[derive(Debug, Clone)]
struct Build {
    secret_id: String,
    secret_key: String,
    token: Option<String>,
    endpoint: String,
    region: String,
    method: Method,
    language: Option<Language>,
    sign_action_header: bool,
    unsigned_payload: bool,
    action: String,
    version: String,
    ids: Vec<String>,
    timestamp: i64,
}

/// An action whose name and version can be changed, writing `DeleteKeyPairs` parameters.
struct Named {
    name: &'static str,
    version: &'static str,
    inner: DeleteKeyPairs,
}

impl Serialize for Named {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.inner.serialize(s)
    }
}

impl Action for Named {
    type Output = serde::de::IgnoredAny;

    fn name(&self) -> &'static str {
        self.name
    }
    fn version(&self) -> &'static str {
        self.version
    }
}

impl Build {
    fn request(&self) -> HttpRequest<'static> {
        let mut config = RequestConfig::default();
        config.endpoint = Endpoint::parse(&self.endpoint).unwrap();
        config.region.clone_from(&self.region);
        config.method = self.method;
        config.language = self.language;
        config.sign_action_header = self.sign_action_header;
        config.unsigned_payload = self.unsigned_payload;
        let mut credentials = Credentials::new(&self.secret_id, &self.secret_key).unwrap();
        if let Some(token) = &self.token {
            credentials = credentials.with_token(token).unwrap();
        }
        // Action names are static in the library; the few generated here are leaked.
        let action = Named {
            name: Box::leak(self.action.clone().into_boxed_str()),
            version: Box::leak(self.version.clone().into_boxed_str()),
            inner: DeleteKeyPairs::new(&self.ids).unwrap(),
        };
        config.build(&credentials, &action, self.timestamp).unwrap().into_owned()
    }

    fn authorization(&self) -> String {
        self.request().header("Authorization").unwrap().to_owned()
    }
}

fn build() -> impl Strategy<Value = Build> {
    let who = ("[A-Za-z0-9]{1,36}", "[!-~é中🔑]{1,40}", proptest::option::of("[!-~]{1,40}"));
    let how = (
        "[a-z][a-z0-9]{0,9}(\\.[a-z][a-z0-9]{0,9}){0,2}(:[1-9][0-9]{0,3})?",
        "[a-z0-9-]{0,16}",
        prop_oneof![Just(Method::Get), Just(Method::Post)],
        prop_oneof![Just(None), Just(Some(Language::ZhCn)), Just(Some(Language::EnUs))],
        any::<bool>(),
        any::<bool>(),
    );
    let what = ("[A-Za-z]{1,20}", "[0-9]{4}-[0-9]{2}-[0-9]{2}", key_ids(), timestamp());
    (who, how, what).prop_map(
        |(
            (secret_id, secret_key, token),
            (endpoint, region, method, language, sign_action_header, unsigned_payload),
            (action, version, ids, timestamp),
        )| Build {
            secret_id,
            secret_key,
            token,
            endpoint,
            region,
            method,
            language,
            sign_action_header,
            unsigned_payload,
            action,
            version,
            ids,
            timestamp,
        },
    )
}

fn key_ids() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec("skey-[0-9a-z]{8}", 1..6)
}

/// A change to something `RequestConfig::build` signs.
#[derive(Debug, Clone)]
enum SignedChange {
    Endpoint(String),
    Method,
    Ids(Vec<String>),
    TimestampBy(i64),
    SecretKey(String),
    UnsignedPayload,
    SignActionHeader,
    /// Signed only with `sign_action_header`.
    Action(String),
}

/// A change to something sent but not signed.
#[derive(Debug, Clone)]
enum UnsignedChange {
    Region(String),
    Language(Option<Language>),
    Token(Option<String>),
    Version(String),
    /// Unsigned without `sign_action_header`.
    Action(String),
}

fn signed_change() -> impl Strategy<Value = SignedChange> {
    prop_oneof![
        "[a-z][a-z0-9]{0,9}(\\.[a-z][a-z0-9]{0,9}){0,2}(:[1-9][0-9]{0,3})?".prop_map(SignedChange::Endpoint),
        Just(SignedChange::Method),
        key_ids().prop_map(SignedChange::Ids),
        prop_oneof![1i64..86_400, 86_400i64..400 * 86_400].prop_map(SignedChange::TimestampBy),
        "[!-~é中🔑]{1,40}".prop_map(SignedChange::SecretKey),
        Just(SignedChange::UnsignedPayload),
        Just(SignedChange::SignActionHeader),
        "[A-Za-z]{1,20}".prop_map(SignedChange::Action),
    ]
}

fn unsigned_change() -> impl Strategy<Value = UnsignedChange> {
    prop_oneof![
        "[a-z0-9-]{0,16}".prop_map(UnsignedChange::Region),
        prop_oneof![Just(None), Just(Some(Language::ZhCn)), Just(Some(Language::EnUs))]
            .prop_map(UnsignedChange::Language),
        proptest::option::of("[!-~]{1,40}").prop_map(UnsignedChange::Token),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(UnsignedChange::Version),
        "[A-Za-z]{1,20}".prop_map(UnsignedChange::Action),
    ]
}

fn distinct_ids(ids: &[String]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for id in ids {
        if !out.contains(&id.as_str()) {
            out.push(id);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn built_requests_change_signature_with_any_signed_input(base in build(), change in signed_change()) {
        let mut base = base;
        if matches!(change, SignedChange::Action(_)) {
            base.sign_action_header = true;
        }
        let mut changed = base.clone();
        let effective = match &change {
            SignedChange::Endpoint(e) => {
                changed.endpoint.clone_from(e);
                // Only the `Host` header of the endpoint is signed.
                changed.request().header("Host") != base.request().header("Host")
            }
            SignedChange::Method => {
                changed.method = if base.method == Method::Get { Method::Post } else { Method::Get };
                true
            }
            SignedChange::Ids(ids) => {
                changed.ids.clone_from(ids);
                // With an unsigned POST body the ids are not signed at all.
                distinct_ids(ids) != distinct_ids(&base.ids)
                    && !(base.unsigned_payload && base.method == Method::Post)
            }
            SignedChange::TimestampBy(d) => {
                changed.timestamp = base.timestamp.saturating_add(*d);
                changed.timestamp <= LAST_SIGNABLE
            }
            SignedChange::SecretKey(k) => {
                changed.secret_key.clone_from(k);
                *k != base.secret_key
            }
            SignedChange::UnsignedPayload => {
                changed.unsigned_payload = !base.unsigned_payload;
                true
            }
            SignedChange::SignActionHeader => {
                changed.sign_action_header = !base.sign_action_header;
                true
            }
            SignedChange::Action(a) => {
                changed.action.clone_from(a);
                // Signed header values are lower-cased, so only a change beyond case counts.
                !a.eq_ignore_ascii_case(&base.action)
            }
        };
        prop_assume!(effective);
        prop_assert_ne!(base.authorization(), changed.authorization(), "{:?}", change);
    }

    #[test]
    fn built_requests_keep_the_signature_when_unsigned_headers_change(
        base in build(),
        change in unsigned_change(),
    ) {
        let mut base = base;
        if matches!(change, UnsignedChange::Action(_)) {
            base.sign_action_header = false;
        }
        let mut changed = base.clone();
        let header = match &change {
            UnsignedChange::Region(r) => {
                changed.region.clone_from(r);
                "X-TC-Region"
            }
            UnsignedChange::Language(l) => {
                changed.language = *l;
                "X-TC-Language"
            }
            UnsignedChange::Token(t) => {
                changed.token.clone_from(t);
                "X-TC-Token"
            }
            UnsignedChange::Version(v) => {
                changed.version.clone_from(v);
                "X-TC-Version"
            }
            UnsignedChange::Action(a) => {
                changed.action.clone_from(a);
                "X-TC-Action"
            }
        };
        let (a, b) = (base.request(), changed.request());
        prop_assert_eq!(a.header("Authorization"), b.header("Authorization"));
        // The change is real: the header as sent differs whenever its value does.
        let differs = a.header(header) != b.header(header);
        let expected_differs = match &change {
            UnsignedChange::Region(r) => *r != base.region,
            UnsignedChange::Language(l) => *l != base.language,
            UnsignedChange::Token(t) => *t != base.token,
            UnsignedChange::Version(v) => *v != base.version,
            UnsignedChange::Action(x) => *x != base.action,
        };
        prop_assert_eq!(differs, expected_differs);
    }

    #[test]
    fn built_authorization_has_the_documented_shape(b in build()) {
        let request = b.request();
        let names = if b.sign_action_header { "content-type;host;x-tc-action" } else { "content-type;host" };
        let auth = request.header("Authorization").unwrap();
        let date = check::utc_date(b.timestamp).unwrap();
        let shape = check::check_authorization(auth, &b.secret_id, &date, "cvm", names);
        prop_assert!(shape.is_ok(), "{:?}: {}", shape, auth);
    }
}

// ---------------------------------------------------------------------------------------------
// The query encoder.

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "skey-[0-9a-z]{8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((any::<String>(), inner), 0..5)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// Parameter names: any text but empty (a parameter always has a name; the flattener refuses
/// a value without one).
fn name() -> impl Strategy<Value = String> {
    any::<String>().prop_filter("named", |s| !s.is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn form_encoding_uses_only_allowed_bytes_and_decodes_back(s in any::<String>()) {
        let query = testing::query(&check::Ordered(&[("N".to_owned(), Value::String(s.clone()))])).unwrap();
        let out = query.strip_prefix("N=").unwrap();
        prop_assert!(out.bytes().all(|b| check::allowed_in_query(b) && b != b'=' && b != b'&'), "{:?}", out);
        prop_assert_eq!(check::form_decode(out), Some(s));
    }

    #[test]
    fn encoded_params_decode_to_the_flattened_params(
        params in proptest::collection::vec((name(), json_value()), 0..5),
    ) {
        let query = testing::query(&check::Ordered(&params)).unwrap();
        prop_assert!(query.bytes().all(check::allowed_in_query), "{:?}", query);
        let mut expected = Vec::new();
        for (name, value) in &params {
            check::flatten(name, value, &mut expected);
        }
        prop_assert_eq!(check::parse_form(&query), Some(expected));
    }

    #[test]
    fn an_encoded_object_decodes_to_its_flattened_members(object in json_value()) {
        let Value::Object(map) = object else { return Ok(()) };
        prop_assume!(map.keys().all(|k| !k.is_empty()));
        let query = testing::query(&map).unwrap();
        let mut expected = Vec::new();
        for (name, value) in &map {
            check::flatten(name, value, &mut expected);
        }
        prop_assert_eq!(check::parse_form(&query), Some(expected));
    }
}

// ---------------------------------------------------------------------------------------------
// `KeyId`.

/// A valid id changed in one way: near misses, mostly.
fn near_miss() -> impl Strategy<Value = String> {
    let edit = prop_oneof![
        (any::<usize>(), any::<char>()).prop_map(|(i, c)| (0, i, c)),
        (any::<usize>(), any::<char>()).prop_map(|(i, c)| (1, i, c)),
        any::<usize>().prop_map(|i| (2, i, 'x')),
        any::<usize>().prop_map(|i| (3, i, 'x')),
        (
            any::<usize>(),
            prop::sample::select(vec!['A', 'Z', '_', ' ', '\n', '\0', 'é', 'ſ', 'K', '-', '0', 'z'])
        )
            .prop_map(|(i, c)| (1, i, c)),
    ];
    ("skey-[0-9a-z]{8}", edit).prop_map(|(id, (kind, at, c))| {
        let mut chars: Vec<char> = id.chars().collect();
        let (gap, at) = (at % (chars.len() + 1), at % chars.len());
        match kind {
            0 => chars.insert(gap, c),
            1 => chars[at] = c,
            2 => {
                chars.remove(at);
            }
            _ => chars[at] = chars[at].to_ascii_uppercase(),
        }
        chars.into_iter().collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn key_ids_round_trip(s in "skey-[0-9a-z]{8}") {
        let id: KeyId = s.parse().unwrap();
        prop_assert_eq!(id.as_ref(), s.as_str());
        prop_assert_eq!(id.to_string(), s.clone());
        prop_assert_eq!(id.to_string().parse::<KeyId>().unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        prop_assert_eq!(serde_json::from_str::<KeyId>(&json).unwrap(), id);
    }

    #[test]
    fn only_the_documented_shape_parses(
        s in prop_oneof![any::<String>(), near_miss(), "skey-.{0,10}", "[a-z-]{0,14}"],
    ) {
        match s.parse::<KeyId>() {
            Ok(id) => {
                prop_assert!(check::is_key_id(&s), "accepted {:?}", s);
                prop_assert_eq!(id.as_ref(), s.as_str());
            }
            Err(e) => {
                prop_assert!(!check::is_key_id(&s), "rejected {:?}", s);
                prop_assert_eq!(e.id, s.chars().take(64).collect::<String>());
            }
        }
    }
}
