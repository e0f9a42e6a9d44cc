//! Handlers of the tag functions whose `tags` option is a map (`#{ team: "web" }`) and goes to
//! the API as its `Tag.N.Key` / `Tag.N.Value` list (issue 15): `tag_resources`,
//! `list_tag_resources`. The run's own `ecsh:run` tag is guarded by the ledger, which refuses
//! any mutation naming it, or removing every tag, with `Refused.RunTag`.

use super::errors::HostError;
use super::options::Checked;
use super::paging::{self, Limits};
use super::Host;
use crate::ops::A;
use serde_json::{json, Value};

/// The `tags` map as the API's `Tag` list, in key order; `()` gives an empty list.
fn tag_list(c: &Checked) -> Result<Vec<Value>, HostError> {
    let Some(map) = c.get("tags") else {
        return Ok(Vec::new());
    };
    let Some(map) = map.as_object() else {
        return Err(HostError::InvalidOption(format!(
            "{}: tags must be a map of key to value, e.g. #{{ team: \"web\" }}",
            c.func
        )));
    };
    if map.len() > 20 {
        return Err(HostError::InvalidOption(format!(
            "{}: at most 20 tags per call, not {}",
            c.func,
            map.len()
        )));
    }
    map.iter()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                Value::Number(_) | Value::Bool(_) => v.to_string(),
                _ => {
                    return Err(HostError::InvalidOption(format!(
                        "{}: the value of tag '{k}' must be a string (or a number), not a list or a map",
                        c.func
                    )))
                }
            };
            Ok(json!({ "Key": k, "Value": value }))
        })
        .collect()
}

pub fn tag_resources(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let tags = tag_list(c)?;
    if tags.is_empty() {
        return Err(HostError::InvalidOption(
            "tag_resources: give at least one tag, e.g. tags: #{ team: \"web\" }".into(),
        ));
    }
    let mut params = c.api_params();
    params.insert("Tag".into(), Value::Array(tags));
    host.gateway.send(&A::TAG_RESOURCES, params)
}

pub fn list_tag_resources(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let action = &A::LIST_TAG_RESOURCES;
    let mut params = c.api_params();
    let tags = tag_list(c)?;
    if !tags.is_empty() {
        params.insert("Tag".into(), Value::Array(tags));
    }
    let limits = Limits {
        page_size: c.int("page_size"),
        max_items: c.int("max_items"),
    };
    paging::call_all(&host.gateway, action, params, limits)
}
