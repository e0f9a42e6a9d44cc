//! JSON ⇄ Rhai values. API responses become maps and arrays shaped exactly like the JSON
//! (`r.Data.RecommendInstanceType[0].InstanceType.InstanceType` works); script values become
//! JSON for request parameters.
//!
//! Conversions only: no option checking (options.rs) and no API knowledge.

use super::errors::HostError;
use rhai::{Dynamic, Map};
use serde_json::Value;

/// A JSON value as a Rhai value: null → `()`, numbers → INT when integral and in range,
/// otherwise FLOAT.
pub fn to_dynamic(v: &Value) -> Dynamic {
    into_dynamic(v.clone())
}

/// [`to_dynamic`] of an answer the caller owns: its strings and keys move into the Rhai value
/// instead of being copied (every API answer a script sees comes through here).
pub fn into_dynamic(v: Value) -> Dynamic {
    match v {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => b.into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64().unwrap_or(f64::NAN).into(),
        },
        Value::String(s) => s.into(),
        // `from_array`/`from_map`, not `.into()`: rhai's generic `From<Vec<T>>` and
        // `From<BTreeMap<K, T>>` rebuild the whole vector or map, element by element, to
        // convert each element (BENCHMARKS.md, client overhead, stop 23).
        Value::Array(items) => {
            Dynamic::from_array(items.into_iter().map(into_dynamic).collect::<rhai::Array>())
        }
        Value::Object(obj) => Dynamic::from_map(into_map(obj)),
    }
}

/// A JSON object as a Rhai map.
pub fn to_map(obj: &serde_json::Map<String, Value>) -> Map {
    into_map(obj.clone())
}

/// [`to_map`] of an object the caller owns (moved, not copied). Inserted one by one: an
/// answer's objects have a few keys each, and collecting into a `BTreeMap` first gathers and
/// sorts them in a vector of their own (an allocation per object: BENCHMARKS.md, client
/// overhead, stop 23). A JSON object has no duplicate keys, so the result is the same.
pub fn into_map(obj: serde_json::Map<String, Value>) -> Map {
    let mut map = Map::new();
    for (k, v) in obj {
        map.insert(k.into(), into_dynamic(v));
    }
    map
}

/// A Rhai value as JSON, or an error naming `what` when it holds something JSON cannot
/// (a function pointer, a timestamp, a custom type).
pub fn to_json(v: &Dynamic, what: &str) -> Result<Value, HostError> {
    to_json_at(v, what, 0)
}

/// The deepest nesting a value sent to the API may have. No API parameter nests more than a
/// few levels; the limit keeps a runaway value from costing a walk (and a clone) per level.
pub const MAX_NESTING: usize = 32;

fn to_json_at(v: &Dynamic, what: &str, depth: usize) -> Result<Value, HostError> {
    if depth > MAX_NESTING {
        return Err(HostError::InvalidOption(format!(
            "{what} is nested more than {MAX_NESTING} levels deep; no API parameter is, so \
             flatten the value before passing it"
        )));
    }
    if v.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(b) = v.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Ok(i) = v.as_int() {
        return Ok(Value::from(i));
    }
    if let Ok(f) = v.as_float() {
        return serde_json::Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| HostError::InvalidOption(format!("{what} is not a finite number")));
    }
    if v.is_string() || v.is_char() {
        return Ok(Value::String(v.to_string()));
    }
    if v.is_array() {
        let arr = v
            .read_lock::<rhai::Array>()
            .map(|a| a.clone())
            .unwrap_or_default();
        return arr
            .iter()
            .enumerate()
            .map(|(i, x)| to_json_at(x, &format!("{what}[{i}]"), depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if v.is_map() {
        let map = v.read_lock::<Map>().map(|m| m.clone()).unwrap_or_default();
        return map
            .iter()
            .map(|(k, x)| {
                Ok((
                    k.to_string(),
                    to_json_at(x, &format!("{what}.{k}"), depth + 1)?,
                ))
            })
            .collect::<Result<serde_json::Map<_, _>, _>>()
            .map(Value::Object);
    }
    Err(HostError::InvalidOption(format!(
        "{what} is a {}, which cannot be sent to the API (use a string, number, bool, array or map)",
        v.type_name()
    )))
}

/// A Rhai map as a JSON object.
pub fn map_to_json(map: &Map, what: &str) -> Result<serde_json::Map<String, Value>, HostError> {
    map.iter()
        .map(|(k, v)| Ok((k.to_string(), to_json(v, &format!("{what}.{k}"))?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_round_trips_through_rhai_values() {
        let v = json!({"A": [1, 2.5, "x", true, null], "B": {"C": -3}});
        let d = to_dynamic(&v);
        assert_eq!(to_json(&d, "v").unwrap(), v);
    }

    #[test]
    fn owned_and_borrowed_conversions_agree() {
        let v = json!({"Z": [1, -2, 2.5, u64::MAX, "a long string that is not inlined", true, null],
                       "A": {"B": {}}, "S": "é"});
        let (borrowed, owned) = (to_dynamic(&v), into_dynamic(v.clone()));
        assert_eq!(borrowed.to_string(), owned.to_string());
        assert_eq!(
            to_json(&owned, "v").unwrap(),
            to_json(&borrowed, "v").unwrap()
        );
        assert!(owned.read_lock::<Map>().unwrap()["Z"]
            .read_lock::<rhai::Array>()
            .unwrap()[3]
            .is_float());
    }

    #[test]
    fn integers_stay_integers_and_big_ones_become_floats() {
        assert!(to_dynamic(&json!(8192)).is_int());
        assert!(to_dynamic(&json!(u64::MAX)).is_float());
        assert!(to_dynamic(&json!(0.5)).is_float());
    }

    #[test]
    fn values_nested_too_deep_are_refused_with_their_path() {
        let mut v = Dynamic::from(1_i64);
        for _ in 0..(MAX_NESTING + 5) {
            v = Dynamic::from_array(vec![v]);
        }
        let e = to_json(&v, "opts").unwrap_err().to_string();
        assert!(e.contains("nested more than 32 levels"), "{e}");
        assert!(e.contains("opts[0][0]"), "{e}");
    }

    #[test]
    fn values_json_cannot_hold_are_named_in_the_error() {
        let f = Dynamic::from(rhai::FnPtr::new("f").unwrap());
        let err = to_json(&f, "opts.x").unwrap_err().to_string();
        assert!(err.contains("opts.x"), "{err}");
        assert!(err.contains("Fn"), "{err}");
    }
}
