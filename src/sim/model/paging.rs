//! Paging, derived from the registry: an action's `Paging` (style, maximum and default size),
//! `list_path` (where the list goes) and `paging_root` (where the paging fields go). Handlers
//! filter and sort, then hand the whole list here; only the requested page is rendered, so a
//! large state stays cheap to page through.
//!
//! Both styles are accepted on every paged action, as the real API does for most of them:
//! `NextToken`/`MaxResults` wins when given, else `PageNumber`/`PageSize`, else the registry's
//! own style with its default size.

use super::super::SimError;
use super::params::Params;
use crate::ops::Action;
use serde_json::{Map, Value};
use std::ops::Range;

enum Style {
    Pages { number: usize },
    Token,
}

/// Puts one page of `items` at the action's `list_path` inside `body`, with the paging fields.
pub fn page<T>(
    p: &Params,
    items: Vec<T>,
    render: impl FnMut(T) -> Value,
    body: Map<String, Value>,
) -> Result<Value, SimError> {
    page_clamped(p, items, render, body, None)
}

/// Like [`page`], for an action whose `MaxResults` the service clamps into `(min, max)`
/// instead of refusing (DescribeInstances: "a value less than 10 ... is 10 ... greater than
/// 100 ... is 100"); lenient mode refuses out-of-range sizes as before.
pub fn page_clamped<T>(
    p: &Params,
    items: Vec<T>,
    render: impl FnMut(T) -> Value,
    body: Map<String, Value>,
    clamp: Option<(u32, u32)>,
) -> Result<Value, SimError> {
    let (mut body, window) = frame(p, items.len(), body, clamp)?;
    let rendered: Vec<Value> = items
        .into_iter()
        .skip(window.start)
        .take(window.len())
        .map(render)
        .collect();
    put(&mut body, list_path(p.action), Value::Array(rendered));
    Ok(Value::Object(body))
}

/// Where an action's list goes in its answer (a dotted path).
pub fn list_path(action: &Action) -> &'static str {
    action.list_path.unwrap_or("Items.Item")
}

/// The page of `total` items the request asks for, and `body` with the paging fields and an
/// empty list at [`list_path`] (a placeholder that keeps the list's place ahead of the paging
/// fields): what [`page_clamped`] fills with rendered items, and `render` writes straight to
/// bytes.
pub fn frame(
    p: &Params,
    total: usize,
    mut body: Map<String, Value>,
    clamp: Option<(u32, u32)>,
) -> Result<(Map<String, Value>, Range<usize>), SimError> {
    let action = p.action;
    let (max, default, registry_token) =
        action.paging.sizes().unwrap_or((u32::MAX, u32::MAX, false));
    let token_asked = p.str("NextToken").is_some() || p.str("MaxResults").is_some();
    let pages_asked = p.str("PageNumber").is_some() || p.str("PageSize").is_some();
    let style = if token_asked || (registry_token && !pages_asked) {
        Style::Token
    } else {
        Style::Pages {
            number: p.int("PageNumber", 1, i64::from(u32::MAX))?.unwrap_or(1) as usize,
        }
    };
    let size_key = match style {
        Style::Token => "MaxResults",
        Style::Pages { .. } => "PageSize",
    };
    let size = match (clamp, &style) {
        (Some((lo, hi)), Style::Token) if p.strict() => p
            .int(size_key, i64::MIN, i64::MAX)?
            .map_or(default as usize, |n| {
                n.clamp(i64::from(lo), i64::from(hi)) as usize
            }),
        _ => p
            .int(size_key, 1, i64::from(max))?
            .map_or(default as usize, |n| n as usize),
    };
    let offset = match style {
        Style::Token => match p.str("NextToken") {
            Some(t) => parse_token(t)?,
            None => 0,
        },
        Style::Pages { number } => (number - 1).saturating_mul(size),
    };
    let end = offset.saturating_add(size).min(total);

    put(&mut body, list_path(action), Value::Array(Vec::new()));
    let root = match action.paging_root {
        Some(r) => object_at(&mut body, r),
        None => &mut body,
    };
    root.insert("TotalCount".into(), total.into());
    match style {
        Style::Pages { number } => {
            root.insert("PageNumber".into(), number.into());
            root.insert("PageSize".into(), size.into());
            if registry_token {
                root.insert("NextToken".into(), next_token(end, total).into());
            }
        }
        Style::Token => {
            root.insert("NextToken".into(), next_token(end, total).into());
            root.insert("MaxResults".into(), size.into());
            if !token_asked {
                // Asked nothing: the real service also reports the first page's number and size.
                root.insert("PageNumber".into(), 1.into());
                root.insert("PageSize".into(), size.into());
            }
        }
    }
    Ok((body, offset.min(end)..end))
}

fn next_token(end: usize, total: usize) -> String {
    if end < total {
        format!("ecsh{end:08x}")
    } else {
        String::new()
    }
}

fn parse_token(t: &str) -> Result<usize, SimError> {
    t.strip_prefix("ecsh")
        .and_then(|hex| usize::from_str_radix(hex, 16).ok())
        .ok_or_else(|| {
            SimError::invalid(
                "NextToken",
                "it is not a token this service returned; pass the NextToken of the previous page, or none for the first",
            )
        })
}

/// The object at a dotted path, created as needed.
fn object_at<'a>(body: &'a mut Map<String, Value>, path: &str) -> &'a mut Map<String, Value> {
    let mut cur = body;
    for key in path.split('.') {
        let slot = cur
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        cur = match slot {
            Value::Object(m) => m,
            _ => unreachable!("just made an object"),
        };
    }
    cur
}

/// Sets the value at a dotted path, creating the objects on the way.
fn put(body: &mut Map<String, Value>, path: &str, value: Value) {
    match path.rsplit_once('.') {
        Some((parent, last)) => {
            object_at(body, parent).insert(last.to_string(), value);
        }
        None => {
            body.insert(path.to_string(), value);
        }
    }
}
