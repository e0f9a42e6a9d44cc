//! Parses an answer's JSON into a [`serde_json::Value`], the same value `serde_json::from_slice`
//! gives (key order, number types, duplicate keys keeping their first place and last value), for
//! less CPU: every call's answer is parsed on the hot path (BENCHMARKS.md, client overhead), and
//! the simulator figure's load generator parses a 10-instance DescribeInstances page per request.
//!
//! `serde_json`'s own visitor grows each object's map insert by insert (with
//! `preserve_order` an `IndexMap`: its entries and its hash table reallocated and rehashed at 4,
//! 8, 16, … keys; an instance has about 40) and each array element by element. Here the entries
//! and elements of every open object and array wait on two stacks shared by the whole parse, and
//! each map or vector is allocated once at its final size when it closes. The tokenizer, the
//! number and string rules and the nesting limit stay `serde_json`'s.

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Number, Value};
use std::fmt;

/// `bytes` as one JSON value (trailing whitespace allowed, anything else after it refused);
/// bytes that are not UTF-8 read as U+FFFD, as the client always read answers.
pub fn from_slice(bytes: &[u8]) -> serde_json::Result<Value> {
    match std::str::from_utf8(bytes) {
        // Checked once, whole: serde_json's reader of a `&str` does not check each string again
        // (its byte reader does, at a cost per string: a tenth of a page's parse).
        Ok(text) => from_str(text),
        Err(_) => from_str(&String::from_utf8_lossy(bytes)),
    }
}

fn from_str(text: &str) -> serde_json::Result<Value> {
    let mut stacks = Stacks::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Seed(&mut stacks).deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// The entries of the objects and the elements of the arrays still open, innermost last.
#[derive(Default)]
struct Stacks {
    entries: Vec<(String, Value)>,
    elements: Vec<Value>,
}

/// One value, with the stacks to park what its children hold until it closes.
struct Seed<'s>(&'s mut Stacks);

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<Value, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Value, E> {
        Number::deserialize(serde::de::value::I128Deserializer::<E>::new(v)).map(Value::Number)
    }

    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Value, E> {
        Number::deserialize(serde::de::value::U128Deserializer::<E>::new(v)).map(Value::Number)
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // As serde_json: a float JSON cannot hold (never produced by its parser) is null.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, de: D) -> Result<Value, D::Error> {
        de.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let stacks = self.0;
        let start = stacks.elements.len();
        while let Some(element) = seq.next_element_seed(Seed(&mut *stacks))? {
            stacks.elements.push(element);
        }
        // Exactly as long as it holds (collecting a drain of known length allocates once).
        let items: Vec<Value> = stacks.elements.drain(start..).collect();
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let stacks = self.0;
        let start = stacks.entries.len();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Seed(&mut *stacks))?;
            stacks.entries.push((key, value));
        }
        let entries = stacks.entries.drain(start..);
        let mut object = Map::with_capacity(entries.len());
        for (key, value) in entries {
            // A key given twice keeps its first place and its last value, as serde_json's map.
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same_as_serde_json(text: &str) {
        let ours = from_slice(text.as_bytes());
        let theirs: serde_json::Result<Value> = serde_json::from_str(text);
        match (ours, theirs) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b, "{text}");
                // Equal maps may still differ in order: the printed forms must match too.
                assert_eq!(a.to_string(), b.to_string(), "{text}");
            }
            (Err(_), Err(_)) => {}
            (a, b) => panic!("{text}: ours {a:?}, serde_json {b:?}"),
        }
    }

    #[test]
    fn answers_keep_their_key_order_nesting_and_number_types() {
        let text = r#"{"RequestId":"r-1","TotalCount":1000,"PageNumber":1,
            "Instances":{"Instance":[{"Zeta":1,"Alpha":-2,"Mid":0.5,"Big":18446744073709551615,
            "Bigger":18446744073709551616,"Exp":1e3,"Tags":{"Tag":[]},"Empty":{},"N":null,
            "T":true,"S":"a\"b\u00e9\ud83d\ude00"}]}}"#;
        same_as_serde_json(text);
        let v = from_slice(text.as_bytes()).unwrap();
        let instance = &v["Instances"]["Instance"][0];
        let keys: Vec<&str> = instance
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys[..3], ["Zeta", "Alpha", "Mid"]);
        assert!(instance["Zeta"].is_u64() && instance["Alpha"].is_i64());
        assert!(
            instance["Mid"].is_f64() && instance["Bigger"].is_f64() && instance["Exp"].is_f64()
        );
        assert_eq!(instance["Big"].as_u64(), Some(u64::MAX));
    }

    #[test]
    fn a_key_given_twice_keeps_its_first_place_and_last_value() {
        same_as_serde_json(r#"{"A":1,"B":2,"A":3}"#);
        let v = from_slice(br#"{"A":1,"B":2,"A":3}"#).unwrap();
        assert_eq!(v.to_string(), r#"{"A":3,"B":2}"#);
    }

    #[test]
    fn what_serde_json_refuses_is_refused() {
        for bad in [
            "",
            "{",
            r#"{"A":1,}"#,
            "[1,2",
            "{} x",
            "01",
            "1e400",
            "\"\\x\"",
            &"[".repeat(200),
        ] {
            assert!(from_slice(bad.as_bytes()).is_err(), "{bad}");
            same_as_serde_json(bad);
        }
        assert!(from_slice(b"\xff").is_err());
        // Not UTF-8 inside a string: replaced, as `String::from_utf8_lossy` then parsing did.
        assert_eq!(
            from_slice(b"{\"A\":\"x\xffy\"}").unwrap()["A"],
            serde_json::json!("x\u{fffd}y")
        );
        assert_eq!(from_slice(b" [1] \n").unwrap(), serde_json::json!([1]));
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
            ".{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec(("[A-Da-d]{1,3}", inner), 0..10)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_json_parses_as_serde_json_parses_it(v in json_value()) {
            same_as_serde_json(&v.to_string());
            same_as_serde_json(&serde_json::to_string_pretty(&v).unwrap());
        }
    }
}
