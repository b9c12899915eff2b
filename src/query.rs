//! The GET query string of an action: its parameters flattened by serde and form-encoded, pure.
//!
//! API 3.0 takes nested parameters as flat names: sequences become `Name.N` (zero-based) and
//! structs or maps `Name.Field`, so `Filters: [{Name, Values: ["a"]}]` is sent as
//! `Filters.0.Name=…&Filters.0.Values.0=a`, in the order the fields are declared, as the
//! official SDKs send them. The encoding is the one they send and sign
//! (`application/x-www-form-urlencoded`): `A-Z a-z 0-9 - _ . ~` unchanged, space as `+`, every
//! other UTF-8 byte as `%XX` upper-case. Booleans are `true`/`false`; `None` and unit values
//! are left out.

use std::fmt::{self, Display};

use serde::ser::{self, Impossible, Serialize};

use crate::error::Error;
use crate::tc3::Decimal;

/// Appends the parameters `params` (a struct or a map, or unit for none) to `out` as a query,
/// joined to what is there with `&`.
pub(crate) fn write(out: &mut String, params: &(impl Serialize + ?Sized)) -> Result<(), Error> {
    let mut name = String::new();
    params.serialize(Flatten { out, name: &mut name }).map_err(|e| Error::unencodable(e.0))
}

/// Appends `s` form-encoded to `out`.
fn form_encode(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    // Runs of unreserved bytes are copied whole; they are ASCII, so they start and end on
    // character boundaries. Ids and names are usually one run.
    let mut run_start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if UNRESERVED[usize::from(b)] {
            continue;
        }
        if run_start < i {
            out.push_str(&s[run_start..i]);
        }
        run_start = i + 1;
        if b == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    if run_start < s.len() {
        out.push_str(&s[run_start..]);
    }
}

/// `A-Z a-z 0-9 - _ . ~`, as a table: looked up for every byte of every name and value.
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~');
        b += 1;
    }
    table
};

/// Why parameters cannot be a query.
#[derive(Debug)]
struct Unencodable(String);

impl Display for Unencodable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unencodable {}

impl ser::Error for Unencodable {
    fn custom<T: Display>(msg: T) -> Self {
        Unencodable(msg.to_string())
    }
}

fn unsupported(what: &str) -> Unencodable {
    Unencodable(format!("{what} cannot be a query parameter"))
}

/// Serialises a value under the parameter name `name`, kept form-encoded so that each pair
/// copies it as it is (empty at the top, where only structs, maps and unit are taken).
struct Flatten<'a> {
    out: &'a mut String,
    name: &'a mut String,
}

impl Flatten<'_> {
    /// A float as the JSON body writes it (`1.0`, `1e+300`), which is how the official SDKs
    /// write one in a query too; the API has no spelling for NaN or infinity.
    fn float(self, finite: bool, v: &impl Serialize) -> Result<(), Unencodable> {
        if !finite {
            return Err(unsupported("a non-finite number"));
        }
        let text = serde_json::to_string(v).map_err(|e| Unencodable(e.to_string()))?;
        self.pair(&text)
    }

    fn pair(self, value: &str) -> Result<(), Unencodable> {
        if self.name.is_empty() {
            return Err(unsupported("a bare value"));
        }
        if !self.out.is_empty() {
            self.out.push('&');
        }
        self.out.push_str(self.name);
        self.out.push('=');
        form_encode(self.out, value);
        Ok(())
    }

    /// Serialises `value` under `self.name` `.` the part `write_part` appends, encoded (or the
    /// part alone at the top).
    fn nested(
        &mut self,
        write_part: impl FnOnce(&mut String),
        value: &(impl Serialize + ?Sized),
    ) -> Result<(), Unencodable> {
        let base = self.name.len();
        if base > 0 {
            self.name.push('.');
        }
        write_part(self.name);
        let result = value.serialize(Flatten { out: self.out, name: self.name });
        self.name.truncate(base);
        result
    }
}

macro_rules! display_values {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(fn $method(self, v: $ty) -> Result<(), Unencodable> {
            self.pair(&v.to_string())
        })*
    };
}

impl<'a> ser::Serializer for Flatten<'a> {
    type Ok = ();
    type Error = Unencodable;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Impossible<(), Unencodable>;
    type SerializeMap = Map<'a>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), Unencodable>;

    display_values!(
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_char(char),
    );

    fn serialize_f32(self, v: f32) -> Result<(), Unencodable> {
        self.float(v.is_finite(), &v)
    }

    fn serialize_f64(self, v: f64) -> Result<(), Unencodable> {
        self.float(v.is_finite(), &v)
    }

    fn serialize_bool(self, v: bool) -> Result<(), Unencodable> {
        self.pair(if v { "true" } else { "false" })
    }

    fn serialize_str(self, v: &str) -> Result<(), Unencodable> {
        self.pair(v)
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<(), Unencodable> {
        Err(unsupported("bytes"))
    }

    fn serialize_none(self) -> Result<(), Unencodable> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Unencodable> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Unencodable> {
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Unencodable> {
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Unencodable> {
        self.pair(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Unencodable> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Unencodable> {
        Err(unsupported("an enum with data"))
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Seq<'a>, Unencodable> {
        if self.name.is_empty() {
            return Err(unsupported("a bare sequence"));
        }
        Ok(Seq { inner: self, index: 0 })
    }

    fn serialize_tuple(self, len: usize) -> Result<Seq<'a>, Unencodable> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq<'a>, Unencodable> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Unencodable> {
        Err(unsupported("an enum with data"))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Map<'a>, Unencodable> {
        Ok(Map { inner: self, key: String::new() })
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Unencodable> {
        Ok(self)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Unencodable> {
        Err(unsupported("an enum with data"))
    }
}

impl ser::SerializeStruct for Flatten<'_> {
    type Ok = ();
    type Error = Unencodable;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Unencodable> {
        self.nested(|name| form_encode(name, key), value)
    }

    fn end(self) -> Result<(), Unencodable> {
        Ok(())
    }
}

/// The items of a sequence, named `Name.0`, `Name.1`, …
struct Seq<'a> {
    inner: Flatten<'a>,
    index: i64,
}

impl Seq<'_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unencodable> {
        let index = Decimal::new(self.index);
        self.index += 1;
        self.inner.nested(|name| index.push_to(name), value)
    }
}

macro_rules! seq_impl {
    ($($trait:ident, $method:ident;)*) => {
        $(impl ser::$trait for Seq<'_> {
            type Ok = ();
            type Error = Unencodable;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unencodable> {
                self.item(value)
            }

            fn end(self) -> Result<(), Unencodable> {
                Ok(())
            }
        })*
    };
}

seq_impl! {
    SerializeSeq, serialize_element;
    SerializeTuple, serialize_element;
    SerializeTupleStruct, serialize_field;
}

/// The entries of a map, named `Name.Key`; keys must be strings.
struct Map<'a> {
    inner: Flatten<'a>,
    key: String,
}

impl ser::SerializeMap for Map<'_> {
    type Ok = ();
    type Error = Unencodable;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unencodable> {
        self.key = key.serialize(KeyName)?;
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unencodable> {
        let key = std::mem::take(&mut self.key);
        self.inner.nested(|name| form_encode(name, &key), value)
    }

    fn end(self) -> Result<(), Unencodable> {
        Ok(())
    }
}

/// Takes a map key, which must be a string.
struct KeyName;

macro_rules! not_a_key {
    ($($method:ident($($ty:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $ty),*) -> Result<String, Unencodable> {
            Err(unsupported("a map key that is not a string"))
        })*
    };
}

impl ser::Serializer for KeyName {
    type Ok = String;
    type Error = Unencodable;
    type SerializeSeq = Impossible<String, Unencodable>;
    type SerializeTuple = Impossible<String, Unencodable>;
    type SerializeTupleStruct = Impossible<String, Unencodable>;
    type SerializeTupleVariant = Impossible<String, Unencodable>;
    type SerializeMap = Impossible<String, Unencodable>;
    type SerializeStruct = Impossible<String, Unencodable>;
    type SerializeStructVariant = Impossible<String, Unencodable>;

    fn serialize_str(self, v: &str) -> Result<String, Unencodable> {
        Ok(v.to_owned())
    }

    not_a_key!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, Unencodable> {
        Err(unsupported("a map key that is not a string"))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, Unencodable> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, Unencodable> {
        Err(unsupported("a map key that is not a string"))
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Unencodable> {
        Err(unsupported("a map key that is not a string"))
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Unencodable> {
        Err(unsupported("a map key that is not a string"))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Unencodable> {
        Err(unsupported("a map key that is not a string"))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Unencodable> {
        Err(unsupported("a map key that is not a string"))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Unencodable> {
        Err(unsupported("a map key that is not a string"))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Unencodable> {
        Err(unsupported("a map key that is not a string"))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Unencodable> {
        Err(unsupported("a map key that is not a string"))
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use serde_json::{json, Value};

    use super::*;

    fn query(params: &impl Serialize) -> String {
        let mut out = String::new();
        write(&mut out, params).unwrap();
        out
    }

    #[derive(Serialize)]
    struct Filter<'a> {
        #[serde(rename = "Name")]
        name: &'a str,
        #[serde(rename = "Values")]
        values: Vec<&'a str>,
    }

    #[derive(Serialize)]
    struct Params<'a> {
        #[serde(rename = "KeyIds", skip_serializing_if = "Vec::is_empty")]
        key_ids: Vec<&'a str>,
        #[serde(rename = "Filters")]
        filters: Vec<Filter<'a>>,
        #[serde(rename = "Offset")]
        offset: Option<u64>,
        #[serde(rename = "ForceStop")]
        force_stop: bool,
    }

    #[test]
    fn structs_flatten_in_field_order_with_nested_names() {
        let params = Params {
            key_ids: vec![],
            filters: vec![Filter { name: "key-name", values: vec!["my key", "k/2"] }],
            offset: None,
            force_stop: true,
        };
        assert_eq!(
            query(&params),
            "Filters.0.Name=key-name&Filters.0.Values.0=my+key&Filters.0.Values.1=k%2F2&ForceStop=true"
        );
    }

    #[test]
    fn sequences_past_ten_keep_counting() {
        let ids: Vec<String> = (0..12).map(|i| format!("skey-{i:08}")).collect();
        let q = query(&json!({"KeyIds": ids}));
        assert!(q.ends_with("&KeyIds.10=skey-00000010&KeyIds.11=skey-00000011"), "{q}");
    }

    #[test]
    fn maps_and_unit_are_taken_and_bare_values_refused() {
        assert_eq!(
            query(&json!({"Zone": "ap-guangzhou-3", "N": 1.5, "Null": null})),
            "N=1.5&Zone=ap-guangzhou-3"
        );
        assert_eq!(query(&()), "");
        let one = |name: &'static str, v| std::collections::BTreeMap::from([(name, v)]);
        assert_eq!(query(&one("A", 1.0_f64)), "A=1.0", "a float keeps its point, as in JSON");
        assert_eq!(query(&one("C", 1e300_f64)), "C=1e%2B300", "1e+300, as Python writes it");
        assert_eq!(query(&std::collections::BTreeMap::from([("B", 0.1_f32)])), "B=0.1", "f32 as f32");
        assert!(write(&mut String::new(), &one("D", f64::NAN)).is_err());
        let mut out = String::from("A=1");
        write(&mut out, &json!({"B": 2})).unwrap();
        assert_eq!(out, "A=1&B=2", "joined to what is there");
        for bad in [json!([1, 2]), json!("text"), json!(3)] {
            assert!(matches!(write(&mut String::new(), &bad), Err(Error::InvalidInput(_))), "{bad}");
        }
        let bad_key = std::collections::BTreeMap::from([(1, "x")]);
        assert!(write(&mut String::new(), &bad_key).is_err());
    }

    #[test]
    fn every_byte_outside_the_unreserved_set_is_escaped() {
        let mut out = String::new();
        form_encode(&mut out, "aZ09-_.~ +/%&=é\u{1}");
        assert_eq!(out, "aZ09-_.~+%2B%2F%25%26%3D%C3%A9%01");
        let nested: Value = json!({"A": [{"B": [[1, 2]]}]});
        assert_eq!(query(&nested), "A.0.B.0.0=1&A.0.B.0.1=2");
        let names: Value = json!({"a b": {"c/d": ["é"]}});
        assert_eq!(query(&names), "a+b.c%2Fd.0=%C3%A9", "names are encoded as values are");
    }
}
