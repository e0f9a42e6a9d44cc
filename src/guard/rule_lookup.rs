//! The inbound rule a `ModifySecurityGroupRule` request changes, completed from the rule as it
//! is now, so the public-port policy judges what the rule will be after the change.
//!
//! A modification by `SecurityGroupRuleId` names only what changes: `PortRange=22/22` alone,
//! on a rule already open to `0.0.0.0/0`, opens SSH to the internet without the request ever
//! saying so. The guard reads the rule (DescribeSecurityGroupAttribute, a free read through the
//! quote's [`Reader`]) and fills in the fields the request leaves unchanged before
//! [`super::policy`] looks. A rule that cannot be read is not judged blind: the request is
//! refused as unreadable.
//!
//! This module only reads; it sends nothing else and prints nothing.

use super::params::Flat;
use super::policy::{canonical, PolicyRule, PolicyViolation};
use super::quote::Reader;
use crate::ops::Product;
use serde_json::{Map, Value};

/// Fields of the rule as DescribeSecurityGroupAttribute reports them, which keep their value
/// when the request does not give them.
const KEPT: &[&str] = &["IpProtocol", "PortRange", "Policy"];

/// The fields naming the peer; a request that gives one replaces the rule's old peer.
const PEERS: &[&str] = &[
    "SourceCidrIp",
    "Ipv6SourceCidrIp",
    "SourceGroupId",
    "SourcePrefixListId",
];

/// The request as the policy should judge it: for a modification by rule id, the request
/// completed with the rule's unchanged fields; otherwise `None` (judge the request as given).
pub fn completed(
    action: &str,
    flat: &Flat,
    reader: &mut dyn Reader,
) -> Result<Option<Flat>, PolicyViolation> {
    if canonical(action) != "modifysecuritygrouprule" {
        return Ok(None);
    }
    let (Some(rule_id), Some(group)) =
        (flat.get("SecurityGroupRuleId"), flat.get("SecurityGroupId"))
    else {
        return Ok(None);
    };
    let unreadable = |why: String| PolicyViolation {
        rule: PolicyRule::UnreadableRule,
        message: format!(
            "refused: {action} changes rule {} of {}, and ecsh could not read that rule to judge \
             the change ({why}). Give the rule's IpProtocol, PortRange and SourceCidrIp in the \
             request, or retry when DescribeSecurityGroupAttribute answers.",
            super::block::escape(rule_id),
            super::block::escape(group)
        ),
    };
    let mut query = Map::new();
    query.insert("SecurityGroupId".into(), group.into());
    query.insert("Direction".into(), "ingress".into());
    if let Some(region) = flat.get("RegionId") {
        query.insert("RegionId".into(), region.into());
    }
    let answer = reader
        .read(Product::Ecs, "DescribeSecurityGroupAttribute", query)
        .map_err(unreadable)?;
    let rules = answer
        .pointer("/Permissions/Permission")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let Some(rule) = rules
        .iter()
        .find(|r| r.get("SecurityGroupRuleId").and_then(Value::as_str) == Some(rule_id))
    else {
        // Not an inbound rule of that group: the service refuses the request itself.
        return Ok(None);
    };
    let mut merged: Map<String, Value> = flat
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    let field = |name: &str| {
        rule.get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let keep = |merged: &mut Map<String, Value>, name: &str| {
        if flat.get(name).is_none() {
            if let Some(v) = field(name) {
                merged.insert(name.to_string(), Value::String(v));
            }
        }
    };
    for name in KEPT {
        keep(&mut merged, name);
    }
    if !PEERS.iter().any(|p| flat.get(p).is_some()) {
        for name in PEERS {
            keep(&mut merged, name);
        }
    }
    Flat::of(&merged).map(Some).map_err(|e| PolicyViolation {
        rule: PolicyRule::InvalidParams,
        message: e.to_string(),
    })
}
