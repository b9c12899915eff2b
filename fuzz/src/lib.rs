//! What the fuzz targets share: the byte format of the signer's fuzz input, and the oracles of
//! `tests/support/check.rs`.
//!
//! The signer's input is a flat byte string so libFuzzer can mutate every field, and so the
//! seed generator (`examples/seed.rs`) can write the shipped signing vectors in the same format.

#[path = "../../tests/support/check.rs"]
pub mod check;

pub use check::SignCase;

/// Separates the fields of a [`SignCase`]; it never occurs in UTF-8.
const FIELD: u8 = 0xFF;
/// Separates headers inside the headers field; it never occurs in UTF-8.
const HEADER: u8 = 0xFE;

/// [`SignCase`] as bytes: a flags byte (bit 0: unsigned payload), the timestamp as 8
/// little-endian bytes, then `secret_id`, `secret_key`, `service`, `method`, `query`, headers
/// and the payload, separated by `0xFF`. Headers are `name:value` separated by `0xFE`. The
/// payload is the rest of the input, so it may hold any byte; the text fields are read as
/// UTF-8, lossily.
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
            timestamp: i64::from_le_bytes(*timestamp),
            secret_id,
            secret_key,
            service,
            method,
            query,
            headers,
            payload: (flags & 1 == 0).then(|| fields.next().unwrap_or_default().to_vec()),
        })
    }

    /// Writes a case so that [`SignCase::decode`] reads it back.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![u8::from(self.payload.is_none())];
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
        out.extend_from_slice(self.payload.as_deref().unwrap_or_default());
        out
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
