//! Typed reads of a request's string parameters, each failing with the API's error codes
//! (MissingParameter, InvalidParameter) and a message that names the parameter and the
//! accepted values. Owns the flattened-list conventions (`Name.N`, `Name.N.Field`, JSON-array
//! strings, comma lists). Must not decide anything about resources.

use super::super::catalog::Catalog;
use super::super::{SimError, SimRequest};
use super::Fidelity;
use crate::ops::Action;
use std::collections::BTreeMap;

/// One request's parameters plus the registry entry of its action.
pub struct Params<'a> {
    pub req: &'a SimRequest,
    pub action: &'static Action,
    pub fidelity: Fidelity,
    /// The world's catalogue (types, images, zones a request names are looked up there).
    pub catalog: &'static Catalog,
}

/// Most entries a `Name.N` list may have; protects against absurd indices.
const MAX_LIST: usize = 1000;

impl<'a> Params<'a> {
    pub fn new(
        req: &'a SimRequest,
        action: &'static Action,
        fidelity: Fidelity,
        catalog: &'static Catalog,
    ) -> Params<'a> {
        Params {
            req,
            action,
            fidelity,
            catalog,
        }
    }

    /// True unless the simulator runs `--lenient`.
    pub fn strict(&self) -> bool {
        self.fidelity == Fidelity::Strict
    }

    /// `DryRun=true`, read only where the API defines `DryRun` for this action (the registry's
    /// [`crate::ops::Action::accepts_dry_run`]); elsewhere the real service ignores the
    /// parameter and does the work, and so does a strict simulator.
    pub fn dry_run(&self) -> Result<bool, SimError> {
        if self.strict() && !self.action.accepts_dry_run() {
            return Ok(false);
        }
        self.flag("DryRun")
    }

    pub fn all(&self) -> &BTreeMap<String, String> {
        &self.req.params
    }

    /// A non-empty value (an empty string counts as absent, as on the real service).
    pub fn str(&self, key: &str) -> Option<&'a str> {
        self.req.get(key).filter(|v| !v.is_empty())
    }

    pub fn need(&self, key: &str) -> Result<&'a str, SimError> {
        self.str(key).ok_or_else(|| SimError::missing(key))
    }

    /// The request's region (checked against the catalogue by the dispatcher).
    pub fn region(&self) -> Result<&'a str, SimError> {
        self.need("RegionId")
    }

    /// A boolean, case-insensitive (`true`, `True`, `false`).
    pub fn bool(&self, key: &str) -> Result<Option<bool>, SimError> {
        match self.str(key) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(SimError::invalid(
                key,
                format!("\"{v}\" is not a boolean; use true or false"),
            )),
        }
    }

    pub fn flag(&self, key: &str) -> Result<bool, SimError> {
        Ok(self.bool(key)?.unwrap_or(false))
    }

    /// An integer within `[min, max]`.
    pub fn int(&self, key: &str, min: i64, max: i64) -> Result<Option<i64>, SimError> {
        let Some(v) = self.str(key) else {
            return Ok(None);
        };
        let n: i64 = v
            .trim()
            .parse()
            .map_err(|_| SimError::invalid(key, format!("\"{v}\" is not an integer")))?;
        if n < min || n > max {
            return Err(SimError::invalid(
                key,
                format!("{n} is out of range; it must be between {min} and {max}"),
            ));
        }
        Ok(Some(n))
    }

    /// A finite float within `[min, max]`.
    pub fn float(&self, key: &str, min: f64, max: f64) -> Result<Option<f64>, SimError> {
        let Some(v) = self.str(key) else {
            return Ok(None);
        };
        let n: f64 = v
            .trim()
            .parse()
            .ok()
            .filter(|n: &f64| n.is_finite())
            .ok_or_else(|| SimError::invalid(key, format!("\"{v}\" is not a number")))?;
        if n < min || n > max {
            return Err(SimError::invalid(
                key,
                format!("{n} is out of range; it must be between {min} and {max}"),
            ));
        }
        Ok(Some(n))
    }

    /// One of a fixed set of values (matched case-insensitively, returned as listed).
    pub fn choice(
        &self,
        key: &str,
        choices: &[&'static str],
    ) -> Result<Option<&'static str>, SimError> {
        let Some(v) = self.str(key) else {
            return Ok(None);
        };
        choices
            .iter()
            .find(|c| c.eq_ignore_ascii_case(v))
            .copied()
            .map(Some)
            .ok_or_else(|| {
                SimError::invalid(
                    key,
                    format!(
                        "\"{v}\" is not supported; use one of {}",
                        choices.join(", ")
                    ),
                )
            })
    }

    /// A repeat list `Name.1`, `Name.2`, … in index order. Gaps are allowed (some clients
    /// skip empty entries); indices above the limit are refused.
    pub fn list(&self, name: &str) -> Result<Vec<&'a str>, SimError> {
        let prefix = format!("{name}.");
        let mut found: Vec<(usize, &'a str)> = Vec::new();
        for (k, v) in self.req.params.range(prefix.clone()..) {
            let Some(rest) = k.strip_prefix(&prefix) else {
                break;
            };
            if rest.contains('.') {
                continue;
            }
            let idx = index(name, rest)?;
            if !v.is_empty() {
                found.push((idx, v.as_str()));
            }
        }
        found.sort_by_key(|(i, _)| *i);
        Ok(found.into_iter().map(|(_, v)| v).collect())
    }

    /// A repeat list of structs `Name.N.Field`: one map per index, in index order.
    pub fn structs(&self, name: &str) -> Result<Vec<BTreeMap<&'a str, &'a str>>, SimError> {
        let prefix = format!("{name}.");
        let mut by_index: BTreeMap<usize, BTreeMap<&'a str, &'a str>> = BTreeMap::new();
        for (k, v) in self.req.params.range(prefix.clone()..) {
            let Some(rest) = k.strip_prefix(&prefix) else {
                break;
            };
            let Some((i, field)) = rest.split_once('.') else {
                continue;
            };
            let idx = index(name, i)?;
            by_index.entry(idx).or_default().insert(field, v.as_str());
        }
        Ok(by_index.into_values().collect())
    }

    /// A parameter holding a JSON array of strings (`InstanceIds=["i-a","i-b"]`), at most
    /// `max` entries.
    pub fn json_list(&self, key: &str, max: usize) -> Result<Option<Vec<String>>, SimError> {
        let Some(v) = self.str(key) else {
            return Ok(None);
        };
        let ids: Vec<String> = serde_json::from_str(v).map_err(|_| {
            SimError::invalid(
                key,
                format!("expected a JSON array of strings such as [\"id-1\",\"id-2\"], got {v:?}"),
            )
        })?;
        if ids.len() > max {
            return Err(SimError::invalid(
                key,
                format!("at most {max} values are allowed, got {}", ids.len()),
            ));
        }
        Ok(Some(ids))
    }

    /// A comma-separated list (`VpcId=vpc-a,vpc-b`), at most `max` entries.
    pub fn comma_list(&self, key: &str, max: usize) -> Result<Option<Vec<&'a str>>, SimError> {
        let Some(v) = self.str(key) else {
            return Ok(None);
        };
        let items: Vec<&str> = v
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if items.len() > max {
            return Err(SimError::invalid(
                key,
                format!("at most {max} comma-separated values are allowed"),
            ));
        }
        Ok(Some(items))
    }

    /// `Tag.N.Key` / `Tag.N.Value` pairs (at most 20, keys non-empty and not reserved).
    pub fn tags(&self) -> Result<Vec<(String, String)>, SimError> {
        let mut out: Vec<(String, String)> = Vec::new();
        for t in self.structs("Tag")? {
            let Some(key) = t.get("Key").copied().filter(|k| !k.is_empty()) else {
                if t.contains_key("Value") {
                    return Err(SimError::missing("Tag.N.Key"));
                }
                continue;
            };
            check_tag_key(key)?;
            let value = t.get("Value").copied().unwrap_or("").to_string();
            out.retain(|(k, _)| k != key);
            out.push((key.to_string(), value));
        }
        if out.len() > 20 {
            return Err(SimError::new(
                400,
                "InvalidTagCount",
                "At most 20 tags can be given per resource.",
            ));
        }
        Ok(out)
    }
}

fn index(name: &str, raw: &str) -> Result<usize, SimError> {
    raw.parse::<usize>()
        .ok()
        .filter(|i| (1..=MAX_LIST).contains(i))
        .ok_or_else(|| {
            SimError::invalid(
                &format!("{name}.{raw}"),
                format!("list indices are 1-based integers up to {MAX_LIST}"),
            )
        })
}

fn check_tag_key(key: &str) -> Result<(), SimError> {
    let lower = key.to_ascii_lowercase();
    if lower.starts_with("aliyun") || lower.starts_with("acs:") {
        return Err(SimError::new(
            400,
            "InvalidTagKey.Malformed",
            format!("The tag key \"{key}\" is reserved: keys cannot start with aliyun or acs:."),
        ));
    }
    if lower.contains("http://") || lower.contains("https://") || key.len() > 128 {
        return Err(SimError::new(
            400,
            "InvalidTagKey.Malformed",
            format!("The tag key \"{key}\" is not valid: at most 128 characters, no http:// or https://."),
        ));
    }
    Ok(())
}
