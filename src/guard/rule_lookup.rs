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
use crate::ops::A;
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
        .read(
            A::DESCRIBE_SECURITY_GROUP_ATTRIBUTE.product,
            A::DESCRIBE_SECURITY_GROUP_ATTRIBUTE.name,
            query,
        )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::policy::check_flat;
    use crate::ops::Product;
    use serde_json::json;

    fn flat(v: Value) -> Flat {
        Flat::of(v.as_object().expect("object")).expect("flat")
    }

    /// A reader whose group holds one inbound rule (80/80 from the internet).
    fn group(product: Product, action: &str, params: Map<String, Value>) -> Result<Value, String> {
        assert_eq!(
            (product, action),
            (Product::Ecs, "DescribeSecurityGroupAttribute")
        );
        assert_eq!(params["Direction"], "ingress");
        Ok(json!({ "Permissions": { "Permission": [{
            "SecurityGroupRuleId": "sgr-1", "IpProtocol": "TCP", "PortRange": "80/80",
            "SourceCidrIp": "0.0.0.0/0", "Policy": "Accept"
        }]}}))
    }

    fn judged(request: Value, reader: &mut dyn Reader) -> Result<(), PolicyRule> {
        let f = flat(request);
        let completed = completed("ModifySecurityGroupRule", &f, reader).map_err(|v| v.rule)?;
        check_flat(
            "ModifySecurityGroupRule",
            completed.as_ref().unwrap_or(&f),
            &Flat::of(&Map::new()).expect("empty"),
        )
        .map_err(|v| v.rule)
    }

    #[test]
    fn a_port_change_alone_is_judged_with_the_rules_public_source() {
        let req = |port: &str| json!({ "SecurityGroupId": "sg-1", "SecurityGroupRuleId": "sgr-1", "PortRange": port });
        assert_eq!(
            judged(req("22/22"), &mut group),
            Err(PolicyRule::PublicAdminPort)
        );
        assert_eq!(
            judged(req("3306/3306"), &mut group),
            Err(PolicyRule::PublicDatabasePort)
        );
        assert_eq!(judged(req("8080/8080"), &mut group), Ok(()));
    }

    #[test]
    fn a_new_source_replaces_the_old_one_and_a_drop_rule_never_opens() {
        let narrowed = json!({ "SecurityGroupId": "sg-1", "SecurityGroupRuleId": "sgr-1",
                               "PortRange": "22/22", "SourceCidrIp": "203.0.113.5/32" });
        assert_eq!(judged(narrowed, &mut group), Ok(()));
        let dropped = json!({ "SecurityGroupId": "sg-1", "SecurityGroupRuleId": "sgr-1",
                              "PortRange": "22/22", "Policy": "drop" });
        assert_eq!(judged(dropped, &mut group), Ok(()));
    }

    #[test]
    fn a_rule_that_cannot_be_read_is_refused_and_an_unknown_one_is_left_to_the_service() {
        let req = json!({ "SecurityGroupId": "sg-1", "SecurityGroupRuleId": "sgr-1", "PortRange": "22/22" });
        let mut failing = |_: Product, _: &str, _: Map<String, Value>| -> Result<Value, String> {
            Err("throttled".into())
        };
        assert_eq!(
            judged(req.clone(), &mut failing),
            Err(PolicyRule::UnreadableRule)
        );
        let other = json!({ "SecurityGroupId": "sg-1", "SecurityGroupRuleId": "sgr-9", "PortRange": "8080/8080" });
        assert_eq!(judged(other, &mut group), Ok(()));
        // Not a modification by id: nothing is read.
        let mut never = |_: Product, a: &str, _: Map<String, Value>| -> Result<Value, String> {
            panic!("read {a}")
        };
        let f = flat(json!({ "SecurityGroupId": "sg-1", "PortRange": "22/22" }));
        assert!(completed("ModifySecurityGroupRule", &f, &mut never)
            .unwrap()
            .is_none());
        assert!(completed("AuthorizeSecurityGroup", &f, &mut never)
            .unwrap()
            .is_none());
    }
}
