//! Auto-paging: a describe function returns every page by default, so a user never writes a
//! paging loop. The registry says how an action pages (`PageNumber` or `NextToken`) and where its
//! list is; `page_size` sets the request size and `max_items` stops early.
//!
//! The result is the first response with the list replaced by all the items gathered. This module
//! knows paging only; the gateway does the calls.

use super::errors::HostError;
use super::gateway::Gateway;
use crate::ops::Action;
use serde_json::{Map, Value};

/// A server that keeps answering with pages is stopped here rather than looping forever.
const MAX_PAGES: usize = 10_000;

/// Limits the caller gave.
#[derive(Clone, Copy, Debug, std::default::Default)]
pub struct Limits {
    pub page_size: Option<i64>,
    pub max_items: Option<i64>,
}

/// Calls `action` once, or page after page when it pages, and gathers the list.
pub fn call_all(
    gw: &Gateway,
    action: &Action,
    params: Map<String, Value>,
    limits: Limits,
) -> Result<Value, HostError> {
    let Some((max_size, default_size, token)) = action.paging.sizes() else {
        return gw.call(action.product, action.name, params);
    };
    let list_path = action.list_path.unwrap_or_default();
    let max_items = check_limits(action, limits, max_size)?;
    let size = limits.page_size.unwrap_or(default_size as i64);
    let size = match max_items {
        Some(m) if limits.page_size.is_none() => size.max(m.min(max_size as i64)),
        _ => size,
    };
    let mut first: Option<Value> = None;
    let mut items: Vec<Value> = Vec::new();
    let mut next = String::new();
    for page in 1..=MAX_PAGES {
        let mut p = params.clone();
        if token {
            p.insert("MaxResults".into(), size.into());
            if !next.is_empty() {
                p.insert("NextToken".into(), next.clone().into());
            }
        } else {
            p.insert("PageNumber".into(), (page as i64).into());
            p.insert("PageSize".into(), size.into());
        }
        let resp = gw.call(action.product, action.name, p)?;
        let got: Vec<Value> = get_path(&resp, list_path)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let root = paging_root(&resp, action);
        let done = if token {
            let t = root.get("NextToken").and_then(Value::as_str).unwrap_or("");
            let repeated = !t.is_empty() && t == next;
            next = t.to_string();
            t.is_empty() || repeated
        } else {
            let total = root.get("TotalCount").and_then(Value::as_i64);
            (got.len() as i64) < size
                || total.is_some_and(|t| (items.len() + got.len()) as i64 >= t)
        };
        let empty = got.is_empty();
        items.extend(got);
        first.get_or_insert(resp);
        let full = max_items.is_some_and(|m| items.len() as i64 >= m);
        if done || empty || full {
            break;
        }
    }
    if let Some(m) = max_items {
        items.truncate(m as usize);
    }
    let mut out = first.unwrap_or(Value::Null);
    set_path(&mut out, list_path, Value::Array(items));
    Ok(out)
}

fn check_limits(action: &Action, limits: Limits, max_size: u32) -> Result<Option<i64>, HostError> {
    if let Some(s) = limits.page_size {
        if s < 1 || s > max_size as i64 {
            return Err(HostError::InvalidOption(format!(
                "page_size must be between 1 and {max_size} for {}, got {s}",
                action.name
            )));
        }
    }
    match limits.max_items {
        Some(m) if m < 1 => Err(HostError::InvalidOption(format!(
            "max_items must be at least 1, got {m}"
        ))),
        other => Ok(other),
    }
}

fn paging_root<'a>(resp: &'a Value, action: &Action) -> &'a Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    let root = match action.paging_root {
        Some(p) => get_path(resp, p),
        None => Some(resp),
    };
    root.and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

/// The value at a dotted path (`Instances.Instance`).
pub fn get_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .try_fold(v, |cur, key| cur.get(key))
}

/// Sets the value at a dotted path, creating objects on the way.
pub fn set_path(v: &mut Value, path: &str, new: Value) {
    let mut cur = v;
    let keys: Vec<&str> = path.split('.').filter(|s| !s.is_empty()).collect();
    for (i, key) in keys.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(obj) = cur else { return };
        if i + 1 == keys.len() {
            obj.insert((*key).to_string(), new);
            return;
        }
        cur = obj
            .entry((*key).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_read_and_write_nested_lists() {
        let mut v = json!({"Invocation": {"TotalCount": 3}});
        set_path(
            &mut v,
            "Invocation.InvocationResults.InvocationResult",
            json!([1]),
        );
        assert_eq!(
            get_path(&v, "Invocation.InvocationResults.InvocationResult"),
            Some(&json!([1]))
        );
        assert_eq!(get_path(&v, "Invocation.TotalCount"), Some(&json!(3)));
        assert_eq!(get_path(&v, "Nope.Nothing"), None);
    }
}
