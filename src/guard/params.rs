//! How the guard reads a request: a flat view of its parameters as the wire will carry them,
//! and the ecsh-only options that ride along in the same map and are removed before sending.
//!
//! The host hands the guard a JSON object whose values may be nested (`SystemDisk: #{Category}`,
//! `DataDisk: [#{Size}]`, `Permissions: [#{PortRange}]`) or already flat (`SystemDisk.Category`).
//! [`Flat`] presents both the same way (`Name.Field`, `Name.N.Field`, 1-based) by flattening
//! with the RPC client's own [`crate::rpc::params::flatten`], so the guard judges exactly what
//! the wire will carry; and it looks names up case-insensitively so that an oddly-cased
//! parameter cannot slip past a check. It is a view for judging a request: it never produces
//! what is sent.
//!
//! ## ecsh-only options (stripped before sending)
//! | key | where | meaning |
//! |---|---|---|
//! | `estimated_runtime` | top level | how long the resource will run: minutes as a number, or a string such as `"90s"`, `"5m"`, `"2h"`, `"1d"` |
//! | `task_type` | top level | the seed's runtime table: `shell`, `data_processing`, `training`, `service` |
//! | `allow_public_admin` | top level (every rule of the request) or inside one `Permissions` element (that rule) | `true` lets SSH (22) / RDP (3389) be opened to the whole internet |
//!
//! Keys are matched case-insensitively and may also arrive flattened (`Permissions.1.allow_public_admin`).

use crate::rpc::params::{first_repeat, flatten, ParamError};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The snake_case keys that belong to ecsh and must never reach the service.
pub const ECSH_KEYS: [&str; 3] = ["estimated_runtime", "task_type", "allow_public_admin"];

/// Removes the ecsh-only options from `params` (at the top level, inside list elements and
/// inside structs, nested or already flattened) and returns them in a flat view, keyed as they
/// were found (`allow_public_admin`, `Permissions.1.allow_public_admin`).
pub fn take_ecsh_options(params: &mut Map<String, Value>) -> Result<Flat, ParamError> {
    let mut taken = Map::new();
    strip_into(params, "", &mut taken);
    Flat::of(&taken)
}

fn strip_into(obj: &mut Map<String, Value>, prefix: &str, taken: &mut Map<String, Value>) {
    // Most objects (every read's arguments) hold neither an ecsh option nor anything nested:
    // they are left without copying a name (this runs on every call).
    if !obj
        .iter()
        .any(|(k, v)| is_ecsh_key(k) || v.is_object() || v.is_array())
    {
        return;
    }
    let keys: Vec<String> = obj.keys().cloned().collect();
    for key in keys {
        let path = join(prefix, &key);
        if is_ecsh_key(&key) {
            if let Some(v) = obj.remove(&key) {
                taken.insert(path, v);
            }
            continue;
        }
        match obj.get_mut(&key) {
            Some(Value::Object(inner)) => strip_into(inner, &path, taken),
            Some(Value::Array(items)) => {
                for (i, item) in items.iter_mut().enumerate() {
                    if let Value::Object(inner) = item {
                        strip_into(inner, &format!("{path}.{}", i + 1), taken);
                    }
                }
            }
            _ => {}
        }
    }
}

/// True when the last dotted segment of `key` is an ecsh-only option.
fn is_ecsh_key(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    ECSH_KEYS.iter().any(|k| k.eq_ignore_ascii_case(last))
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Request parameters flattened to `Name.N.Field = text`, with case-insensitive lookups.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flat(BTreeMap<String, String>);

impl Flat {
    /// Flattens `params` as the RPC client will; fails where the client would (a list inside
    /// a list, a parameter given twice, ...).
    pub fn of(params: &Map<String, Value>) -> Result<Flat, ParamError> {
        Ok(Flat(flatten(params, &[])?.into_iter().collect()))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every value whose key equals `key` ignoring ASCII case. More than one means the script
    /// sent the same parameter under differently-cased names; checks must consider all of them.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Two keys that differ only in letter case (`Amount`, `amount`), if any. Which one a
    /// service honours is not knowable, so the guard refuses such requests outright.
    pub fn case_duplicate(&self) -> Option<(&str, &str)> {
        // Every call passes here: the names are compared in place, without a lower-case copy of
        // each; the answer is the first name, in key order, whose lower-case form came before,
        // with that earlier name.
        let keys: Vec<&str> = self.0.keys().map(String::as_str).collect();
        let lower = |i: usize| keys[i].bytes().map(|b| b.to_ascii_lowercase());
        first_repeat(keys.len(), |a, b| lower(a).cmp(lower(b)))
            .map(|(first, repeat)| (keys[first], keys[repeat]))
    }

    /// A key with a part that differs from a parameter name the guard or the registry knows
    /// only by letter case (`amount`, `Datadisk.1.Size`), with that name. The service's names
    /// are case-sensitive, so such a key would be judged as one thing and mean another (or
    /// nothing); the guard refuses it and names the spelling.
    pub fn case_near_miss(&self) -> Option<(&str, &'static str)> {
        let index = known_names_by_case();
        self.0.keys().find_map(|key| {
            key.split('.').find_map(|part| {
                let at = index
                    .binary_search_by(|(lower, _)| cmp_ignoring_case(lower, part))
                    .ok()?;
                index[at]
                    .1
                    .iter()
                    .find(|n| **n != part)
                    .map(|n| (key.as_str(), *n))
            })
        })
    }

    /// The value of `key` (ignoring case); when differently-cased copies disagree, the first
    /// in key order. Use [`Flat::all`] where a disagreement could hide something.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.all(key).into_iter().next()
    }

    /// The indices N present for a list `Name.N.*` or `Name.N` (ignoring case), ascending.
    pub fn indices(&self, list: &str) -> Vec<u32> {
        let mut found: Vec<u32> = self
            .0
            .keys()
            .filter_map(|k| {
                let mut parts = k.splitn(3, '.');
                let head = parts.next()?;
                let n = parts.next()?;
                head.eq_ignore_ascii_case(list)
                    .then(|| n.parse::<u32>().ok())
                    .flatten()
            })
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// The fields of element `n` of list `list`, as a flat view of their own (`Field = text`).
    pub fn element(&self, list: &str, n: u32) -> Flat {
        let n = n.to_string();
        let mut out = BTreeMap::new();
        for (k, v) in &self.0 {
            let mut parts = k.splitn(3, '.');
            let (Some(head), Some(idx), Some(rest)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if head.eq_ignore_ascii_case(list) && idx == n {
                out.insert(rest.to_string(), v.clone());
            }
        }
        Flat(out)
    }

    /// The keys whose last dotted segment equals `name` ignoring case, with their values.
    pub fn anywhere(&self, name: &str) -> Vec<(&str, &str)> {
        self.0
            .iter()
            .filter(|(k, _)| {
                k.rsplit('.')
                    .next()
                    .is_some_and(|last| last.eq_ignore_ascii_case(name))
            })
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

/// Parameter names the guard reads to judge or price a request (besides the registry's
/// required ones): a differently-cased copy of one of these could change the verdict.
const GUARD_READS: &[&str] = &[
    "Amount",
    "Bandwidth",
    "Category",
    "CreditSpecification",
    "DataDisk",
    "DiskCategory",
    "ImageFamily",
    "ImageId",
    "InstanceChargeType",
    "InstanceType",
    "InternetChargeType",
    "InternetMaxBandwidthOut",
    "IoOptimized",
    "IpProtocol",
    "Ipv6SourceCidrIp",
    "Period",
    "PeriodUnit",
    "PerformanceLevel",
    "Permissions",
    "Policy",
    "PortRange",
    "RegionId",
    "SecurityGroupRuleId",
    "Size",
    "SourceCidrIp",
    "SpotDuration",
    "SpotPriceLimit",
    "SpotStrategy",
    "SystemDisk",
    "UserData",
    "ZoneId",
];

/// [`known_names`] grouped by their lower-case form, sorted by it, each group's spellings in
/// [`known_names`] order: every request's guard check looks its parts up here (a scan of the
/// registry per part was a sixth of a script's read call: BENCHMARKS.md, client overhead,
/// stop 23).
fn known_names_by_case() -> &'static [(String, Vec<&'static str>)] {
    static INDEX: std::sync::OnceLock<Vec<(String, Vec<&'static str>)>> =
        std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut groups: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
        for name in known_names() {
            let spellings = groups.entry(name.to_ascii_lowercase()).or_default();
            if !spellings.contains(&name) {
                spellings.push(name);
            }
        }
        groups.into_iter().collect()
    })
}

/// `lower` (already lower case) against `part` lower-cased, without building the latter.
fn cmp_ignoring_case(lower: &str, part: &str) -> std::cmp::Ordering {
    lower
        .bytes()
        .cmp(part.bytes().map(|b| b.to_ascii_lowercase()))
}

/// Every parameter name the guard or the registry knows (one dotted part each).
fn known_names() -> impl Iterator<Item = &'static str> {
    GUARD_READS.iter().copied().chain(
        crate::ops::ACTIONS
            .iter()
            .flat_map(|a| a.required.iter())
            .flat_map(|r| r.split('.'))
            .filter(|part| *part != "N"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test literal is an object"),
        }
    }

    /// Short lists (pairwise) and long ones (sorted) find the pair a map of lower-case names finds.
    #[test]
    fn case_duplicate_finds_the_first_pair_at_any_length() {
        for n in [2, 5, 24, 25, 60] {
            let mut keys: Vec<String> = (0..n).map(|i| format!("Name{i}")).collect();
            keys.push(format!("NAME{}", n / 2));
            keys.push(format!("name{}", n - 1));
            let flat = Flat(keys.iter().map(|k| (k.clone(), String::new())).collect());
            let mut seen: BTreeMap<String, &str> = BTreeMap::new();
            let want = flat.0.keys().find_map(|k| {
                seen.insert(k.to_ascii_lowercase(), k)
                    .map(|first| (first, k.as_str()))
            });
            assert_eq!(flat.case_duplicate(), want, "{n} names");
            assert!(want.is_some());
            let clean = Flat(
                keys[..n]
                    .iter()
                    .map(|k| (k.clone(), String::new()))
                    .collect(),
            );
            assert_eq!(clean.case_duplicate(), None);
        }
    }

    /// The index finds what a scan of every known name finds: the first spelling that
    /// differs from the part, for every known name in other letter cases and for other parts.
    #[test]
    fn case_near_miss_agrees_with_a_scan_of_the_known_names() {
        let scan = |flat: &Flat| -> Option<(String, &'static str)> {
            flat.0.keys().find_map(|key| {
                key.split('.').find_map(|part| {
                    known_names()
                        .find(|n| n.eq_ignore_ascii_case(part) && *n != part)
                        .map(|n| (key.clone(), n))
                })
            })
        };
        let mut keys: Vec<String> = Vec::new();
        for n in known_names() {
            keys.push(n.to_string());
            keys.push(n.to_ascii_lowercase());
            keys.push(n.to_ascii_uppercase());
            keys.push(format!("Tag.1.{}", n.to_ascii_lowercase()));
            keys.push(format!("{n}x"));
        }
        keys.extend(["", "N", "n", "1", "Tag..Key", "ÄRegionId"].map(String::from));
        for key in &keys {
            let flat = Flat([(key.clone(), String::new())].into_iter().collect());
            let got = flat.case_near_miss().map(|(k, n)| (k.to_string(), n));
            assert_eq!(got, scan(&flat), "{key:?}");
        }
    }

    #[test]
    fn nested_and_flat_forms_read_the_same() {
        let nested = Flat::of(&obj(json!({
            "SystemDisk": {"Category": "cloud_essd", "Size": 40},
            "DataDisk": [{"Size": 100}, {"Size": 200, "Category": "cloud_ssd"}],
            "Amount": 2, "DryRun": false, "Gone": null
        })))
        .unwrap();
        let flat = Flat::of(&obj(json!({
            "SystemDisk.Category": "cloud_essd", "SystemDisk.Size": "40",
            "DataDisk.1.Size": "100", "DataDisk.2.Size": "200", "DataDisk.2.Category": "cloud_ssd",
            "Amount": "2", "DryRun": "false"
        })))
        .unwrap();
        assert_eq!(nested, flat);
        assert_eq!(nested.indices("datadisk"), vec![1, 2]);
        assert_eq!(
            nested.element("DataDisk", 2).get("category"),
            Some("cloud_ssd")
        );
    }

    #[test]
    fn lookups_ignore_case_and_see_every_copy() {
        let f = Flat::of(&obj(
            json!({"PortRange": "80/80", "portrange": "3306/3306"}),
        ))
        .unwrap();
        assert_eq!(f.case_duplicate(), Some(("PortRange", "portrange")));
        let mut all = f.all("PORTRANGE");
        all.sort_unstable();
        assert_eq!(all, vec!["3306/3306", "80/80"]);
    }

    #[test]
    fn case_variants_of_known_names_are_found() {
        let f = Flat::of(&obj(json!({"amount": "100", "InstanceType": "t"}))).unwrap();
        assert_eq!(f.case_near_miss(), Some(("amount", "Amount")));
        let f = Flat::of(&obj(json!({"Datadisk.1.size": "40"}))).unwrap();
        assert_eq!(f.case_near_miss(), Some(("Datadisk.1.size", "DataDisk")));
        let f = Flat::of(&obj(json!({"DataDisk.1.Size": "40", "Tag.1.Key": "k"}))).unwrap();
        assert_eq!(f.case_near_miss(), None);
    }

    #[test]
    fn ecsh_options_are_removed_wherever_they_are() {
        let mut p = obj(json!({
            "InstanceType": "ecs.g7.large",
            "estimated_runtime": "5m",
            "Task_Type": "shell",
            "Permissions": [{"PortRange": "22/22", "allow_public_admin": true}],
            "Permissions.2.allow_public_admin": "true",
        }));
        let taken = take_ecsh_options(&mut p).unwrap();
        assert_eq!(
            Value::Object(p),
            json!({"InstanceType": "ecs.g7.large", "Permissions": [{"PortRange": "22/22"}]})
        );
        assert_eq!(taken.get("estimated_runtime"), Some("5m"));
        assert_eq!(taken.get("task_type"), Some("shell"));
        assert_eq!(taken.get("Permissions.1.allow_public_admin"), Some("true"));
        assert_eq!(taken.get("Permissions.2.allow_public_admin"), Some("true"));
    }
}
