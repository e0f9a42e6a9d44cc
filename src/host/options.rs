//! Checked options: the object map a seed function takes (`describe_price(#{ instance_type:
//! "ecs.g7.large", period: 1 })`), validated against the function's declared options.
//!
//! An unknown key is an error naming the near miss and the valid keys; a value of the wrong
//! type names the expected type; a missing required option says so; `()` means "not given"
//! (Python's `None`). Defaults are filled in here, so handlers and the stdlib see one complete
//! set of values. Every function also takes `region` (defaulting to the session's region), and
//! paged functions take `page_size` and `max_items`.
//!
//! This module knows the option declarations, not what the functions do with them.

use super::convert::to_json;
use super::errors::HostError;
use crate::ops::edit_distance;
use rhai::{Dynamic, Map};
use serde_json::Value;

/// The type an option accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Str,
    Int,
    /// A number; integers are accepted (`memory: 4`).
    Float,
    Bool,
    /// An array of strings (`instance_ids: ["i-1", "i-2"]`).
    StrList,
    /// An object map (`infra`, `extra_params`).
    Map,
    /// An array of object maps (`ingress_rules`).
    MapList,
    /// A closure (`|| { … }`): only as a positional parameter (`scope`), never an option.
    Closure,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Str => "string",
            Kind::Int => "integer",
            Kind::Float => "number",
            Kind::Bool => "bool",
            Kind::StrList => "array of strings",
            Kind::Map => "map",
            Kind::MapList => "array of maps",
            Kind::Closure => "function",
        }
    }

    /// The name with its article, for messages ("an integer").
    pub fn with_article(self) -> String {
        let n = self.name();
        let article = if n.starts_with(['a', 'i']) { "an" } else { "a" };
        format!("{article} {n}")
    }
}

/// A default value, applied when the option is absent or `()`.
#[derive(Clone, Copy, Debug)]
pub enum Default {
    Str(&'static str),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Default {
    fn to_json(self) -> Value {
        match self {
            Default::Str(s) => Value::from(s),
            Default::Int(i) => Value::from(i),
            Default::Float(f) => Value::from(f),
            Default::Bool(b) => Value::from(b),
        }
    }

    pub fn show(self) -> String {
        match self {
            Default::Str(s) => format!("\"{s}\""),
            Default::Int(i) => i.to_string(),
            Default::Float(f) => f.to_string(),
            Default::Bool(b) => b.to_string(),
        }
    }
}

/// One option of a function.
#[derive(Clone, Copy, Debug)]
pub struct Opt {
    /// The seed's keyword name (`instance_type`).
    pub name: &'static str,
    pub kind: Kind,
    /// The API parameter it becomes (`InstanceType`, `SystemDisk.Category`), or `None` when
    /// the function uses it itself (`script_path`, `infra`).
    pub param: Option<&'static str>,
    pub default: Option<Default>,
    pub required: bool,
    pub doc: &'static str,
}

/// An option sent as API parameter `param`.
/// The code of a refusal of an option a host function never accepts (`image_id` in
/// `create_instance_with_infra`); `UserData` has the guard's own `Refused.Policy.UserData`.
pub const REFUSED_OPTION: &str = "Refused.Policy.Option";

pub const fn api(name: &'static str, kind: Kind, param: &'static str, doc: &'static str) -> Opt {
    Opt {
        name,
        kind,
        param: Some(param),
        default: None,
        required: false,
        doc,
    }
}

/// An option the function uses itself.
pub const fn local(name: &'static str, kind: Kind, doc: &'static str) -> Opt {
    Opt {
        name,
        kind,
        param: None,
        default: None,
        required: false,
        doc,
    }
}

pub const fn req(mut o: Opt) -> Opt {
    o.required = true;
    o
}

pub const fn def(mut o: Opt, d: Default) -> Opt {
    o.default = Some(d);
    o
}

/// `region`, taken by every function.
pub const REGION: Opt = api(
    "region",
    Kind::Str,
    "RegionId",
    "Region id (e.g. \"cn-hangzhou\"); defaults to the session's region.",
);
/// Paged functions: the page size of each request.
pub const PAGE_SIZE: Opt = local(
    "page_size",
    Kind::Int,
    "Items per request; every page is fetched unless max_items is set.",
);
/// Paged functions: stop after this many items.
pub const MAX_ITEMS: Opt = local("max_items", Kind::Int, "Return at most this many items.");

/// Options after checking: every declared option, with defaults applied (`Null` = not given).
#[derive(Clone, Debug)]
pub struct Checked {
    pub func: &'static str,
    /// Sorted by name, one entry per name. A short list, not a map: a function has a handful
    /// of options, and a `BTreeMap` node of these entries was a 2 KB allocation on every call
    /// (BENCHMARKS.md, client overhead, stop 23).
    values: Vec<(Opt, Value)>,
}

impl Checked {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(o, _)| o.name == name)
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(Value::as_i64)
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(Value::as_bool)
    }

    pub fn region(&self) -> &str {
        self.str("region").unwrap_or_default()
    }

    pub fn str_list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The API parameters: every given option that maps to a parameter.
    pub fn api_params(&self) -> serde_json::Map<String, Value> {
        self.values
            .iter()
            .filter(|(_, v)| !v.is_null())
            .filter_map(|(o, v)| o.param.map(|p| (p.to_string(), v.clone())))
            .collect()
    }

    /// Every option by name, `()` for the ones not given: what the stdlib's `check_options`
    /// returns to Rhai.
    pub fn to_rhai_map(&self) -> Map {
        self.values
            .iter()
            .map(|(o, v)| (o.name.into(), super::convert::to_dynamic(v)))
            .collect()
    }
}

/// Checks `given` against `opts` (plus `region` and, when `paged`, the paging options).
/// `refused` lists keys a policy forbids, with the reason.
pub fn check(
    func: &'static str,
    opts: &[Opt],
    paged: bool,
    refused: &[(&str, &str)],
    given: &Map,
    session_region: &str,
) -> Result<Checked, HostError> {
    let all: Vec<Opt> = opts
        .iter()
        .copied()
        .chain([REGION])
        .chain(
            paged
                .then_some([PAGE_SIZE, MAX_ITEMS])
                .into_iter()
                .flatten(),
        )
        .collect();
    for key in given.keys() {
        if let Some((_, why)) = refused
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key.as_str()))
        {
            let user_data = key.replace('_', "").eq_ignore_ascii_case("userdata");
            return Err(HostError::Refused {
                code: if user_data {
                    crate::guard::policy::PolicyRule::UserData.code()
                } else {
                    REFUSED_OPTION
                },
                message: format!("{func} does not accept '{key}': {why}"),
            });
        }
        if !all.iter().any(|o| o.name == key.as_str()) {
            return Err(unknown_key(func, key, &all));
        }
    }
    let mut values: Vec<(Opt, Value)> = Vec::with_capacity(all.len());
    for o in &all {
        let v = match given.get(o.name).filter(|v| !v.is_unit()) {
            Some(v) => typed(func, o, v)?,
            None => o.default.map_or(Value::Null, Default::to_json),
        };
        if v.is_null() && o.required {
            return Err(HostError::InvalidOption(format!(
                "missing required option '{}' for {func} ({}: {})",
                o.name,
                o.kind.name(),
                o.doc
            )));
        }
        // A later declaration of a name replaces an earlier one (as a map's insert would).
        match values.iter_mut().find(|(x, _)| x.name == o.name) {
            Some(slot) => *slot = (*o, v),
            None => values.push((*o, v)),
        }
    }
    if let Some(slot) = values
        .iter_mut()
        .find(|(o, v)| o.name == "region" && v.is_null())
    {
        *slot = (REGION, Value::from(session_region));
    }
    values.sort_by_key(|(o, _)| o.name);
    Ok(Checked { func, values })
}

fn unknown_key(func: &str, key: &str, all: &[Opt]) -> HostError {
    let near = all
        .iter()
        .map(|o| {
            // A truncated name (`destination` for `destination_resource`) is a near miss too.
            let prefix = key.len() >= 4 && (o.name.starts_with(key) || key.starts_with(o.name));
            let d = if prefix {
                1
            } else {
                edit_distance(o.name, key)
            };
            (d, o.name)
        })
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, n)| format!("; did you mean '{n}'?"))
        .unwrap_or_default();
    let valid: Vec<&str> = all.iter().map(|o| o.name).collect();
    HostError::InvalidOption(format!(
        "unknown option '{key}' for {func}{near} valid: {}",
        valid.join(", ")
    ))
}

fn typed(func: &str, o: &Opt, v: &Dynamic) -> Result<Value, HostError> {
    let wrong = || {
        HostError::InvalidOption(format!(
            "option '{}' of {func} must be {}, got {} ({v})",
            o.name,
            o.kind.with_article(),
            friendly_type(v)
        ))
    };
    let ok = match o.kind {
        Kind::Str => v.is_string() || v.is_char(),
        Kind::Int => v.is_int(),
        Kind::Float => v.is_int() || v.is_float(),
        Kind::Bool => v.is_bool(),
        Kind::Map => v.is_map(),
        Kind::Closure => v.is_fnptr(),
        Kind::StrList | Kind::MapList => {
            let want_map = o.kind == Kind::MapList;
            v.read_lock::<rhai::Array>().is_some_and(|a| {
                a.iter()
                    .all(|x| if want_map { x.is_map() } else { x.is_string() })
            })
        }
    };
    if !ok {
        return Err(wrong());
    }
    to_json(v, &format!("option '{}'", o.name))
}

/// Rhai's type names are Rust's (`i64`, `f64`); users know them as integer and number.
pub fn friendly_type(v: &Dynamic) -> &'static str {
    if v.is_int() {
        "integer"
    } else if v.is_float() {
        "number"
    } else if v.is_string() || v.is_char() {
        "string"
    } else if v.is_bool() {
        "bool"
    } else if v.is_array() {
        "array"
    } else if v.is_map() {
        "map"
    } else if v.is_unit() {
        "()"
    } else {
        "value of another type"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTS: &[Opt] = &[
        req(api("instance_type", Kind::Str, "InstanceType", "Type.")),
        def(
            api("period", Kind::Int, "Period", "Period."),
            Default::Int(1),
        ),
        api("memory", Kind::Float, "Memory", "GiB."),
        api("ids", Kind::StrList, "Ids", "Ids."),
    ];

    fn map(pairs: &[(&str, Dynamic)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), v.clone()))
            .collect()
    }

    fn run(given: Map) -> Result<Checked, HostError> {
        check(
            "describe_price",
            OPTS,
            false,
            &[("UserData", "no")],
            &given,
            "cn-hangzhou",
        )
    }

    #[test]
    fn defaults_and_region_are_filled_in() {
        let c = run(map(&[("instance_type", "ecs.g7.large".into())])).unwrap();
        assert_eq!(c.int("period"), Some(1));
        assert_eq!(c.region(), "cn-hangzhou");
        let p = c.api_params();
        assert_eq!(p["InstanceType"], "ecs.g7.large");
        assert_eq!(p["RegionId"], "cn-hangzhou");
        assert!(!p.contains_key("Memory"));
    }

    #[test]
    fn a_typo_names_the_near_miss_and_the_valid_keys() {
        let e = run(map(&[("instance_typ", "x".into())]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "unknown option 'instance_typ' for describe_price; did you mean 'instance_type'?"
            ),
            "{e}"
        );
        assert!(
            e.contains("valid: instance_type, period, memory, ids, region"),
            "{e}"
        );
    }

    #[test]
    fn wrong_types_name_the_expected_type() {
        let e = run(map(&[
            ("instance_type", "x".into()),
            ("period", Dynamic::from(1.5)),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("'period' of describe_price must be an integer, got number"),
            "{e}"
        );
        let e = run(map(&[
            ("instance_type", "x".into()),
            ("ids", Dynamic::from("i-1")),
        ]))
        .unwrap_err()
        .to_string();
        assert!(e.contains("must be an array of strings, got string"), "{e}");
    }

    #[test]
    fn integers_are_numbers_and_unit_means_not_given() {
        let c = run(map(&[
            ("instance_type", "x".into()),
            ("memory", Dynamic::from(4_i64)),
            ("period", Dynamic::UNIT),
        ]))
        .unwrap();
        assert_eq!(c.get("memory"), Some(&Value::from(4)));
        assert_eq!(c.int("period"), Some(1));
    }

    #[test]
    fn missing_required_and_refused_keys_are_errors() {
        let e = run(Map::new()).unwrap_err().to_string();
        assert!(
            e.contains("missing required option 'instance_type' for describe_price"),
            "{e}"
        );
        let e = run(map(&[("userdata", "x".into())])).unwrap_err();
        assert_eq!(e.code(), "Refused.Policy.UserData");
    }
}
