//! Tags on every resource: `Tag.N` on creation, TagResources / UntagResources /
//! ListTagResources, the `Tag.N.Key/Value` filters of the Describe* actions, and the two
//! response shapes (ECS `Tags.Tag[].{TagKey, TagValue}`, VPC `Tags.Tag[].{Key, Value}`).
//!
//! Must not: create or delete resources.

use super::params::Params;
use super::{paging, SimError, World};
use serde_json::{json, Map, Value};

pub type Tags = Vec<(String, String)>;

pub fn ecs_style(tags: &Tags) -> Value {
    let list: Vec<Value> = tags
        .iter()
        .map(|(k, v)| json!({ "TagKey": k, "TagValue": v }))
        .collect();
    json!({ "Tag": list })
}

pub fn vpc_style(tags: &Tags) -> Value {
    let list: Vec<Value> = tags
        .iter()
        .map(|(k, v)| json!({ "Key": k, "Value": v }))
        .collect();
    json!({ "Tag": list })
}

/// True when the resource has every filter tag (an empty filter value matches any value).
pub fn matches(tags: &Tags, filter: &Tags) -> bool {
    filter.iter().all(|(fk, fv)| {
        tags.iter()
            .any(|(k, v)| k == fk && (fv.is_empty() || v == fv))
    })
}

/// Tags a resource may carry.
const MAX_TAGS: usize = 20;

const RESOURCE_TYPES: &[&str] = &[
    "instance",
    "disk",
    "securitygroup",
    "vpc",
    "vswitch",
    "eip",
    // --- issue 15 ---
    "command",
];

fn resource_type(p: &Params) -> Result<&'static str, SimError> {
    let raw = p.need("ResourceType")?;
    RESOURCE_TYPES
        .iter()
        .find(|t| t.eq_ignore_ascii_case(raw))
        .copied()
        .ok_or_else(|| {
            SimError::new(
                400,
                "InvalidResourceType.NotFound",
                format!(
                    "The ResourceType \"{raw}\" is not supported here; use one of {}.",
                    RESOURCE_TYPES.join(", ")
                ),
            )
        })
}

impl World {
    /// The tags of a live resource of `kind` in `region`.
    fn tags_of(&mut self, kind: &str, id: &str, region: &str) -> Option<&mut Tags> {
        match kind {
            "instance" => self
                .instances
                .get_mut(id)
                .filter(|i| i.region == region && i.released.is_none())
                .map(|i| &mut i.tags),
            "disk" => self
                .disks
                .get_mut(id)
                .filter(|d| d.region == region)
                .map(|d| &mut d.tags),
            "securitygroup" => self
                .groups
                .get_mut(id)
                .filter(|g| g.region == region)
                .map(|g| &mut g.tags),
            "vpc" => self
                .vpcs
                .get_mut(id)
                .filter(|v| v.region == region)
                .map(|v| &mut v.tags),
            "vswitch" => self
                .vswitches
                .get_mut(id)
                .filter(|v| v.region == region)
                .map(|v| &mut v.tags),
            "eip" => self
                .eips
                .get_mut(id)
                .filter(|e| e.region == region)
                .map(|e| &mut e.tags),
            "command" => self
                .commands
                .get_mut(id)
                .filter(|c| c.region == region)
                .map(|c| &mut c.tags),
            _ => None,
        }
    }

    /// Every live resource of `kind` in `region` with its tags, oldest first.
    fn tagged(&self, kind: &str, region: &str) -> Vec<(u64, String, Tags)> {
        fn collect<'a, T: 'a>(
            it: impl Iterator<Item = &'a T>,
            f: impl Fn(&T) -> Option<(u64, String, Tags)>,
        ) -> Vec<(u64, String, Tags)> {
            it.filter_map(f).collect()
        }
        let mut out = match kind {
            "instance" => collect(self.instances.values(), |i| {
                (i.region == region && i.released.is_none())
                    .then(|| (i.seq, i.id.clone(), i.tags.clone()))
            }),
            "disk" => collect(self.disks.values(), |d| {
                (d.region == region).then(|| (d.seq, d.id.clone(), d.tags.clone()))
            }),
            "securitygroup" => collect(self.groups.values(), |g| {
                (g.region == region).then(|| (g.seq, g.id.clone(), g.tags.clone()))
            }),
            "vpc" => collect(self.vpcs.values(), |v| {
                (v.region == region).then(|| (v.seq, v.id.clone(), v.tags.clone()))
            }),
            "vswitch" => collect(self.vswitches.values(), |v| {
                (v.region == region).then(|| (v.seq, v.id.clone(), v.tags.clone()))
            }),
            "eip" => collect(self.eips.values(), |e| {
                (e.region == region).then(|| (e.seq, e.id.clone(), e.tags.clone()))
            }),
            "command" => collect(self.commands.values(), |c| {
                (c.region == region).then(|| (c.seq, c.id.clone(), c.tags.clone()))
            }),
            _ => Vec::new(),
        };
        out.sort_by_key(|(seq, _, _)| *seq);
        out
    }
}

fn resource_ids<'a>(p: &Params<'a>) -> Result<Vec<&'a str>, SimError> {
    let ids = p.list("ResourceId")?;
    if ids.len() > 50 {
        return Err(SimError::invalid(
            "ResourceId.N",
            "at most 50 resources per call",
        ));
    }
    Ok(ids)
}

pub fn tag_resources(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?;
    let kind = resource_type(p)?;
    let ids = resource_ids(p)?;
    let new = p.tags()?;
    if new.is_empty() {
        return Err(SimError::missing("Tag.1.Key"));
    }
    for id in &ids {
        let tags = w
            .tags_of(kind, id, region)
            .ok_or_else(|| missing(kind, id))?;
        let mut merged = tags.clone();
        for (k, v) in &new {
            match merged.iter_mut().find(|(mk, _)| mk == k) {
                Some(slot) => slot.1 = v.clone(),
                None => merged.push((k.clone(), v.clone())),
            }
        }
        if merged.len() > MAX_TAGS {
            return Err(SimError::new(
                400,
                "InvalidTagCount",
                format!("The resource {id} would have more than {MAX_TAGS} tags."),
            ));
        }
    }
    for id in &ids {
        if let Some(tags) = w.tags_of(kind, id, region) {
            for (k, v) in &new {
                match tags.iter_mut().find(|(mk, _)| mk == k) {
                    Some(slot) => slot.1 = v.clone(),
                    None => tags.push((k.clone(), v.clone())),
                }
            }
        }
    }
    Ok(json!({}))
}

pub fn untag_resources(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?;
    let kind = resource_type(p)?;
    let ids = resource_ids(p)?;
    let keys = p.list("TagKey")?;
    let all = p.flag("All")?;
    if keys.is_empty() && !all {
        return Err(SimError::new(
            400,
            "MissingParameter",
            "Give TagKey.N (the keys to remove) or All=true.",
        ));
    }
    for id in &ids {
        if w.tags_of(kind, id, region).is_none() {
            return Err(missing(kind, id));
        }
    }
    for id in &ids {
        if let Some(tags) = w.tags_of(kind, id, region) {
            tags.retain(|(k, _)| !all && !keys.contains(&k.as_str()));
        }
    }
    Ok(json!({}))
}

pub fn list_tag_resources(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?;
    let kind = resource_type(p)?;
    let ids = resource_ids(p)?;
    let filter = p.tags()?;
    if ids.is_empty() && filter.is_empty() {
        return Err(SimError::new(
            400,
            "MissingParameter",
            "Give ResourceId.N or Tag.N.Key to say which resources to list.",
        ));
    }
    let mut rows = Vec::new();
    for (_, id, tags) in w.tagged(kind, region) {
        if (!ids.is_empty() && !ids.contains(&id.as_str())) || !matches(&tags, &filter) {
            continue;
        }
        for (k, v) in tags {
            rows.push(json!({
                "ResourceId": id,
                "ResourceType": kind,
                "TagKey": k,
                "TagValue": v,
            }));
        }
    }
    paging::page(p, rows, |v| v, Map::new())
}

fn missing(kind: &str, id: &str) -> SimError {
    SimError::new(
        404,
        "InvalidResourceId.NotFound",
        format!("The {kind} \"{id}\" does not exist in this region."),
    )
}
