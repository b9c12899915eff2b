//! What the fuzz targets share: the byte format of the signer's fuzz input, and the oracles of
//! `tests/support/check.rs`.
//!
//! The signer's input is a flat byte string so libFuzzer can mutate every field, and so the
//! seed generator (`examples/seed.rs`) can write the shipped signing vectors in the same format.

use cvm_keypairs::tc3::{Payload, SigningInput};

#[path = "../../tests/support/check.rs"]
pub mod check;

/// Separates the fields of a [`SignCase`]; it never occurs in UTF-8.
const FIELD: u8 = 0xFF;
/// Separates headers inside the headers field; it never occurs in UTF-8.
const HEADER: u8 = 0xFE;

/// One signer input, owned.
///
/// Bytes: a flags byte (bit 0: unsigned payload), the timestamp as 8 little-endian bytes, then
/// `secret_id`, `secret_key`, `service`, `method`, `query`, headers and the payload, separated
/// by `0xFF`. Headers are `name:value` separated by `0xFE`. The payload is the rest of the
/// input, so it may hold any byte; the text fields are read as UTF-8, lossily.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignCase {
    /// Sign `UNSIGNED-PAYLOAD` instead of `payload`.
    pub unsigned: bool,
    /// Unix seconds.
    pub timestamp: i64,
    /// The secret id.
    pub secret_id: String,
    /// The secret key.
    pub secret_key: String,
    /// The service.
    pub service: String,
    /// The HTTP method.
    pub method: String,
    /// The canonical query string.
    pub query: String,
    /// The headers to sign, `(name, value)`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub payload: Vec<u8>,
}

impl SignCase {
    /// Reads a case; `None` when there are not even the flags and the timestamp.
    pub fn decode(data: &[u8]) -> Option<Self> {
        let (&flags, rest) = data.split_first()?;
        let (timestamp, rest) = rest.split_first_chunk::<8>()?;
        let mut fields = rest.splitn(7, |&b| b == FIELD);
        let mut text = || fields.next().map(lossy).unwrap_or_default();
        let (secret_id, secret_key, service, method, query) = (text(), text(), text(), text(), text());
        let headers = fields
            .next()
            .filter(|h| !h.is_empty())
            .map(|h| {
                h.split(|&b| b == HEADER)
                    .map(|header| {
                        let header = lossy(header);
                        match header.split_once(':') {
                            Some((name, value)) => (name.to_owned(), value.to_owned()),
                            None => (header, String::new()),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(SignCase {
            unsigned: flags & 1 == 1,
            timestamp: i64::from_le_bytes(*timestamp),
            secret_id,
            secret_key,
            service,
            method,
            query,
            headers,
            payload: fields.next().unwrap_or_default().to_vec(),
        })
    }

    /// Writes a case so that [`SignCase::decode`] reads it back.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![u8::from(self.unsigned)];
        out.extend_from_slice(&self.timestamp.to_le_bytes());
        for field in [&self.secret_id, &self.secret_key, &self.service, &self.method, &self.query] {
            out.extend_from_slice(field.as_bytes());
            out.push(FIELD);
        }
        for (i, (name, value)) in self.headers.iter().enumerate() {
            if i > 0 {
                out.push(HEADER);
            }
            out.extend_from_slice(name.as_bytes());
            out.push(b':');
            out.extend_from_slice(value.as_bytes());
        }
        out.push(FIELD);
        out.extend_from_slice(&self.payload);
        out
    }

    /// Calls `f` with this case as a `SigningInput`.
    pub fn with<R>(&self, f: impl FnOnce(&SigningInput<'_>) -> R) -> R {
        let headers: Vec<(&str, &str)> = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        f(&SigningInput {
            secret_id: &self.secret_id,
            secret_key: &self.secret_key,
            service: &self.service,
            timestamp: self.timestamp,
            method: &self.method,
            query: &self.query,
            headers: &headers,
            payload: if self.unsigned { Payload::Unsigned } else { Payload::Bytes(&self.payload) },
        })
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
