//! Request parameters: the flat `Key=Value` list the RPC protocol sends, and the flattening of
//! JSON-shaped arguments into it.
//!
//! The wire forms (rpc-protocol.md §4): a list of scalars is `Name.1`, `Name.2` (1-based); a
//! list of objects is `Name.1.Field`; an object is `Name.Field`; lists inside objects go one
//! level deeper (`TagFilter.1.TagValues.1`); a parameter the registry marks as a JSON parameter
//! (`ops::Action::json_params`, e.g. DescribeInstances `InstanceIds`) whose value is a list or
//! object travels as one JSON text. Scalars become strings (`true`/`false`, decimal numbers,
//! integral floats without `.0`); `null` means "not given" and is left out.
//!
//! This module only reshapes values: it knows nothing of signing, HTTP or which parameters an
//! action requires.

use serde_json::{Map, Number, Value};

/// The flat parameters of one request, in the order given (order does not matter on the wire).
pub type Params = Vec<(String, String)>;

/// Why arguments could not be turned into request parameters.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("parameter `{path}` is a list directly inside a list, which the API cannot express; wrap each inner list in an object (e.g. `[{{\"Values\": [...]}}]`) or pass the JSON text as a string")]
    ListInList { path: String },
    #[error("parameter `{path}` holds null inside a list; remove the null (a list cannot skip positions)")]
    NullInList { path: String },
    #[error("parameter name is empty inside `{parent}`; every key needs a name")]
    EmptyName { parent: String },
    #[error(
        "parameter `{name}` is given twice (once directly, once through flattening); give it once"
    )]
    Duplicate { name: String },
    #[error("parameter `{name}` is set by the client itself (signing and common parameters); remove it from the call")]
    Reserved { name: String },
    #[error("the action name is empty; give an API action such as `DescribeInstances`")]
    EmptyAction,
    #[error("parameter `{key}` is malformed: {why}")]
    MalformedKey { key: String, why: &'static str },
}

/// Common parameters the client sets itself; a caller may not pass them.
/// (`RegionId` and `ClientToken` are common too, but a caller may choose them.)
pub const RESERVED: &[&str] = &[
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "SignatureType",
    "Signature",
    "Timestamp",
    "SecurityToken",
];

/// Flattens a JSON object of arguments into wire parameters. `json_params` names the top-level
/// keys whose list or object value is sent as one JSON text.
pub fn flatten(obj: &Map<String, Value>, json_params: &[&str]) -> Result<Params, ParamError> {
    let mut out = Params::new();
    for (key, value) in obj {
        if key.is_empty() {
            return Err(ParamError::EmptyName {
                parent: "the arguments".into(),
            });
        }
        if json_params.contains(&key.as_str()) && (value.is_array() || value.is_object()) {
            out.push((key.clone(), value.to_string()));
        } else {
            flatten_value(key, value, &mut out)?;
        }
    }
    check_unique(&out)?;
    for (key, _) in &out {
        check_key(key)?;
    }
    Ok(out)
}

/// Fails on a name the service could read differently from the guard: every dotted segment is
/// either a name (`[A-Za-z][A-Za-z0-9_]*`) or a list index written canonically (`1`, `17`;
/// never `01`, `+1`, `0`), so `DataDisk.01.Size` cannot be one disk to the guard and another
/// to the service.
pub fn check_key(key: &str) -> Result<(), ParamError> {
    let bad = |why| {
        Err(ParamError::MalformedKey {
            key: key.to_string(),
            why,
        })
    };
    for (i, segment) in key.split('.').enumerate() {
        let Some(first) = segment.chars().next() else {
            return bad("it has an empty part between dots");
        };
        if first.is_ascii_digit() || first == '+' || first == '-' {
            if i == 0 {
                return bad("a parameter name starts with a letter");
            }
            if !segment.chars().all(|c| c.is_ascii_digit()) {
                return bad("a list index is digits only (`DataDisk.2.Size`)");
            }
            if first == '0' {
                return bad("a list index starts at 1 and has no leading zeros (`DataDisk.1.Size`, not `DataDisk.01.Size`)");
            }
            if segment.len() > 6 {
                return bad("a list index this large cannot be meant");
            }
        } else if !first.is_ascii_alphabetic()
            || !segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return bad(
                "names are letters, digits and `_`, with list indexes between dots (`Tag.1.Key`)",
            );
        }
    }
    Ok(())
}

/// Fails on a key that occurs twice, naming the first repeat (in the given order).
pub fn check_unique(params: &[(String, String)]) -> Result<(), ParamError> {
    match first_repeat(params.len(), |a, b| params[a].0.cmp(&params[b].0)) {
        Some((_, repeat)) => Err(ParamError::Duplicate {
            name: params[repeat].0.clone(),
        }),
        None => Ok(()),
    }
}

/// The first of `len` items, in order, that equals an earlier one under `cmp` (a total order on
/// indexes), with the earliest such earlier item: `(earlier, repeat)`. Every call checks its
/// parameters (usually fewer than a dozen) several times on its way out, so a short list is
/// compared pair by pair, without hashing or allocating; a long one is sorted by index.
pub(crate) fn first_repeat(
    len: usize,
    cmp: impl Fn(usize, usize) -> std::cmp::Ordering,
) -> Option<(usize, usize)> {
    const PAIRWISE_UP_TO: usize = 24;
    if len <= PAIRWISE_UP_TO {
        return (1..len).find_map(|j| (0..j).find(|&i| cmp(i, j).is_eq()).map(|i| (i, j)));
    }
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| cmp(a, b).then(a.cmp(&b)));
    // Each run of equal items is in index order: its first two are the earliest and its first
    // repeat, and the answer is the run whose repeat comes first.
    order
        .chunk_by(|&a, &b| cmp(a, b).is_eq())
        .filter(|run| run.len() > 1)
        .map(|run| (run[0], run[1]))
        .min_by_key(|&(_, repeat)| repeat)
}

fn flatten_value(path: &str, value: &Value, out: &mut Params) -> Result<(), ParamError> {
    match value {
        Value::Null => Ok(()),
        Value::Bool(b) => {
            out.push((path.to_string(), b.to_string()));
            Ok(())
        }
        Value::Number(n) => {
            out.push((path.to_string(), number_text(n)));
            Ok(())
        }
        Value::String(s) => {
            out.push((path.to_string(), s.clone()));
            Ok(())
        }
        Value::Array(items) => flatten_list(path, items, out),
        Value::Object(fields) => {
            for (field, v) in fields {
                if field.is_empty() {
                    return Err(ParamError::EmptyName {
                        parent: path.to_string(),
                    });
                }
                flatten_value(&format!("{path}.{field}"), v, out)?;
            }
            Ok(())
        }
    }
}

fn flatten_list(path: &str, items: &[Value], out: &mut Params) -> Result<(), ParamError> {
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}.{}", i + 1);
        match item {
            Value::Array(_) => return Err(ParamError::ListInList { path: item_path }),
            Value::Null => return Err(ParamError::NullInList { path: item_path }),
            _ => flatten_value(&item_path, item, out)?,
        }
    }
    Ok(())
}

/// Decimal text of a JSON number; integral floats lose their `.0` (`2.0` → `2`), because the
/// API parses integers strictly.
pub fn number_text(n: &Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => {
            format!("{}", f as i64)
        }
        Some(f) => format!("{f}"),
        None => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flat(v: Value, json_params: &[&str]) -> Result<Params, ParamError> {
        match v {
            Value::Object(m) => flatten(&m, json_params),
            _ => panic!("test input must be an object"),
        }
    }

    fn pairs(p: &[(&str, &str)]) -> Params {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    proptest::proptest! {
        /// Short lists (compared pair by pair) and long ones (sorted) name the same duplicate
        /// as a scan with a set would: the first name, in order, that was seen before.
        #[test]
        fn check_unique_names_the_first_repeat(names in proptest::collection::vec("[a-d]{1,2}", 0..60)) {
            let params: Params = names.iter().map(|n| (n.clone(), String::new())).collect();
            let mut seen = std::collections::HashSet::new();
            let want = names.iter().find(|n| !seen.insert(n.as_str())).cloned();
            let got = match check_unique(&params) {
                Ok(()) => None,
                Err(ParamError::Duplicate { name }) => Some(name),
                Err(other) => panic!("{other}"),
            };
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn scalars_become_strings() {
        let p = flat(
            json!({"A": true, "B": false, "C": 42, "D": -7, "E": 2.0, "F": 0.5, "G": "x y", "H": null}),
            &[],
        )
        .unwrap();
        assert_eq!(
            p,
            pairs(&[
                ("A", "true"),
                ("B", "false"),
                ("C", "42"),
                ("D", "-7"),
                ("E", "2"),
                ("F", "0.5"),
                ("G", "x y")
            ])
        );
    }

    #[test]
    fn lists_objects_and_nesting() {
        let p = flat(
            json!({
                "InstanceId": ["i-a", "i-b"],
                "Tag": [{"Key": "env", "Value": "prod"}, {"Key": "team"}],
                "SystemDisk": {"Category": "cloud_essd", "Size": 40},
                "TagFilter": [{"TagKey": "env", "TagValues": ["a", "b"]}],
            }),
            &[],
        )
        .unwrap();
        assert_eq!(
            p,
            pairs(&[
                ("InstanceId.1", "i-a"),
                ("InstanceId.2", "i-b"),
                ("Tag.1.Key", "env"),
                ("Tag.1.Value", "prod"),
                ("Tag.2.Key", "team"),
                ("SystemDisk.Category", "cloud_essd"),
                ("SystemDisk.Size", "40"),
                ("TagFilter.1.TagKey", "env"),
                ("TagFilter.1.TagValues.1", "a"),
                ("TagFilter.1.TagValues.2", "b"),
            ])
        );
    }

    #[test]
    fn json_params_travel_as_one_json_text() {
        let p = flat(
            json!({"InstanceIds": ["i-a", "i-b"], "PageSize": 10, "Other": ["x"]}),
            &["InstanceIds"],
        )
        .unwrap();
        assert_eq!(
            p,
            pairs(&[
                ("InstanceIds", r#"["i-a","i-b"]"#),
                ("PageSize", "10"),
                ("Other.1", "x")
            ])
        );
        // A JSON parameter already given as text is passed through unchanged.
        let p = flat(json!({"InstanceIds": r#"["i-a"]"#}), &["InstanceIds"]).unwrap();
        assert_eq!(p, pairs(&[("InstanceIds", r#"["i-a"]"#)]));
    }

    #[test]
    fn unsupported_shapes_are_named() {
        let e = flat(json!({"X": [["a"]]}), &[]).unwrap_err();
        assert_eq!(e, ParamError::ListInList { path: "X.1".into() });
        assert!(e.to_string().contains("`X.1`"));
        let e = flat(json!({"Tag": [{"Key": "a"}, null]}), &[]).unwrap_err();
        assert_eq!(
            e,
            ParamError::NullInList {
                path: "Tag.2".into()
            }
        );
        let e = flat(json!({"Tag.1.Key": "a", "Tag": [{"Key": "b"}]}), &[]).unwrap_err();
        assert_eq!(
            e,
            ParamError::Duplicate {
                name: "Tag.1.Key".into()
            }
        );
        let e = flat(json!({"S": {"": 1}}), &[]).unwrap_err();
        assert!(matches!(e, ParamError::EmptyName { .. }));
    }

    #[test]
    fn indexes_have_one_spelling() {
        for bad in [
            "DataDisk.01.Size",
            "DataDisk.+16.Size",
            "DataDisk.-1.Size",
            "DataDisk.0.Size",
            "DataDisk.1a.Size",
            "DataDisk..Size",
            "1.Size",
            "Data Disk.1.Size",
            "Amount\u{0}",
        ] {
            let e = flat(json!({ bad: "1" }), &[]).unwrap_err();
            assert!(matches!(e, ParamError::MalformedKey { .. }), "{bad}: {e}");
        }
        assert!(flat(json!({"DataDisk.17.Size": "40", "Tag_x": "1"}), &[]).is_ok());
    }
}
