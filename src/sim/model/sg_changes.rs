//! Changes to existing security groups (issue 15): a rule modified in place
//! (ModifySecurityGroupRule, by rule id or by the rule's fields) and instances joining and
//! leaving groups (JoinSecurityGroup, LeaveSecurityGroup) with the service's rules: the same
//! VPC, at most five groups per instance, Stopped or Running only, and never the last group.
//!
//! Must not: decide instance lifecycles (it reads the instance's status as `instances` left it).

use super::instances::Status;
use super::params::Params;
use super::security::{group_in, parse_rule};
use super::{not_found, SimError, World};
use crate::ops::A;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The rule fields ModifySecurityGroupRule may change (NicType may not, by rule id).
const CHANGEABLE: &[&str] = &[
    "IpProtocol",
    "PortRange",
    "SourceCidrIp",
    "SourceGroupId",
    "Ipv6SourceCidrIp",
    "SourcePrefixListId",
    "DestCidrIp",
    "Policy",
    "Priority",
    "Description",
];

/// The fields that name who may connect: giving one replaces the rule's previous peer.
const PEERS: &[&str] = &[
    "SourceCidrIp",
    "SourceGroupId",
    "Ipv6SourceCidrIp",
    "SourcePrefixListId",
];

/// Most groups one instance may be in (the default quota).
const GROUPS_PER_INSTANCE: usize = 5;

pub fn modify_rule(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let sg = p.need("SecurityGroupId")?.to_string();
    let given: BTreeMap<&str, &str> = p
        .all()
        .iter()
        .filter(|(k, v)| !v.is_empty() && CHANGEABLE.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let rules = group_in(w, p, &sg)?.rules.clone();
    let (at, changed) = match p.str("SecurityGroupRuleId") {
        Some(rule_id) => {
            if p.str("NicType").is_some() {
                return Err(SimError::invalid(
                    "NicType",
                    "the NIC type of a rule cannot be modified by SecurityGroupRuleId; add a new \
                     rule and revoke this one",
                ));
            }
            let at = rules
                .iter()
                .position(|r| r.id == rule_id && r.direction == "ingress")
                .ok_or_else(|| {
                    not_found(
                        "InvalidSecurityGroupRuleId.NotFound",
                        "SecurityGroupRuleId",
                        rule_id,
                    )
                })?;
            let old = &rules[at];
            let priority = old.priority.to_string();
            let mut fields: BTreeMap<&str, &str> = [
                ("IpProtocol", old.protocol.as_str()),
                ("PortRange", old.port_range.as_str()),
                ("SourceCidrIp", old.source_cidr.as_str()),
                ("SourceGroupId", old.source_group.as_str()),
                ("Policy", old.policy.as_str()),
                ("Priority", priority.as_str()),
                ("NicType", old.nic_type.as_str()),
                ("Description", old.description.as_str()),
            ]
            .into_iter()
            .collect();
            if given.keys().any(|k| PEERS.contains(k)) {
                fields.retain(|k, _| !PEERS.contains(k));
            }
            fields.extend(given);
            let mut rule = parse_rule(w, p, "ingress", "", &fields)?;
            rule.id = old.id.clone();
            rule.create_time = old.create_time.clone();
            (at, rule)
        }
        None => {
            // The older form names the rule by its fields and changes what does not identify
            // it: the description and the priority.
            let probe = parse_rule(w, p, "ingress", "", &given)?;
            let at = rules
                .iter()
                .position(|r| r.same_as(&probe))
                .ok_or_else(|| {
                    SimError::new(
                        404,
                        "InvalidSecurityGroupRule.RuleNotExist",
                        format!(
                            "The security group {sg} has no inbound rule {} {} from {}; give its \
                             SecurityGroupRuleId (DescribeSecurityGroupAttribute lists them).",
                            probe.protocol,
                            probe.port_range,
                            if probe.source_cidr.is_empty() {
                                &probe.source_group
                            } else {
                                &probe.source_cidr
                            }
                        ),
                    )
                })?;
            let mut rule = rules[at].clone();
            if let Some(d) = given.get("Description") {
                rule.description = (*d).to_string();
            }
            if given.contains_key("Priority") {
                rule.priority = probe.priority;
            }
            (at, rule)
        }
    };
    if rules
        .iter()
        .enumerate()
        .any(|(i, r)| i != at && r.same_as(&changed))
    {
        return Err(SimError::new(
            400,
            "InvalidPermission.Duplicate",
            format!(
                "The security group {sg} already has the rule {} {} this change would make.",
                changed.protocol, changed.port_range
            ),
        ));
    }
    group_in(w, p, &sg)?.rules[at] = changed;
    Ok(json!({}))
}

/// The instance a Join/Leave request names; network interfaces are not simulated.
fn member<'p>(p: &'p Params) -> Result<&'p str, SimError> {
    match (p.str("InstanceId"), p.str("NetworkInterfaceId")) {
        (Some(_), Some(_)) => Err(SimError::invalid(
            "NetworkInterfaceId",
            "give InstanceId or NetworkInterfaceId, not both",
        )),
        (Some(i), None) => Ok(i),
        (None, Some(eni)) => Err(not_found(
            "InvalidNetworkInterfaceId.NotFound",
            "NetworkInterfaceId",
            eni,
        )),
        (None, None) => Err(SimError::missing("InstanceId")),
    }
}

/// The instance, Stopped or Running (the only states in which its groups can change).
fn settled_instance<'w>(
    w: &'w mut World,
    p: &Params,
    id: &str,
    action: &str,
) -> Result<&'w mut super::instances::Instance, SimError> {
    let region = p.str("RegionId");
    let inst = match w.instance(id) {
        Some(i) if region.map_or(true, |r| r == i.region) => i,
        _ => return Err(not_found("InvalidInstanceId.NotFound", "InstanceId", id)),
    };
    if !matches!(inst.status, Status::Running | Status::Stopped) {
        return Err(SimError::new(
            403,
            "IncorrectInstanceStatus",
            format!(
                "The instance {id} is {}; {action} needs it Stopped or Running. Wait for it to \
                 settle, then retry.",
                inst.status.as_str()
            ),
        ));
    }
    Ok(inst)
}

pub fn join(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let sg = p.need("SecurityGroupId")?.to_string();
    let id = member(p)?.to_string();
    let (group_vpc, group_region) = {
        let g = w
            .groups
            .get(&sg)
            .ok_or_else(|| not_found("InvalidSecurityGroupId.NotFound", "SecurityGroupId", &sg))?;
        (g.vpc_id.clone(), g.region.clone())
    };
    let inst = settled_instance(w, p, &id, A::JOIN_SECURITY_GROUP.name)?;
    if inst.region != group_region {
        return Err(not_found(
            "InvalidSecurityGroupId.NotFound",
            "SecurityGroupId",
            &sg,
        ));
    }
    if inst.vpc_id != group_vpc {
        return Err(SimError::new(
            400,
            "InvalidInstanceId.Mismatch",
            format!(
                "The instance {id} is in VPC {} and the security group {sg} in VPC {group_vpc}: \
                 an instance joins only groups of its own VPC.",
                inst.vpc_id
            ),
        ));
    }
    // Joining a group the instance is already in changes nothing [belief: the service's
    // answer to a repeated join is not documented; like re-adding a rule, a no-op].
    if inst.sg_ids.contains(&sg) {
        return Ok(json!({}));
    }
    if inst.sg_ids.len() >= GROUPS_PER_INSTANCE {
        return Err(SimError::new(
            400,
            "InstanceSecurityGroupLimitExceeded",
            format!(
                "The instance {id} is already in {GROUPS_PER_INSTANCE} security groups, the \
                 most an instance can be in; leave one first (LeaveSecurityGroup)."
            ),
        ));
    }
    inst.sg_ids.push(sg);
    Ok(json!({}))
}

pub fn leave(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let sg = p.need("SecurityGroupId")?.to_string();
    let id = member(p)?.to_string();
    if !w.groups.contains_key(&sg) {
        return Err(not_found(
            "InvalidSecurityGroupId.NotFound",
            "SecurityGroupId",
            &sg,
        ));
    }
    let inst = settled_instance(w, p, &id, A::LEAVE_SECURITY_GROUP.name)?;
    if !inst.sg_ids.contains(&sg) {
        return Err(SimError::new(
            404,
            "InvalidSecurityGroupAssociation.NotFound",
            format!("The instance {id} is not in the security group {sg}."),
        ));
    }
    if inst.sg_ids.len() == 1 {
        return Err(SimError::new(
            403,
            "InstanceLastSecurityGroup",
            format!(
                "The security group {sg} is the last security group of the instance {id}; an \
                 instance must stay in at least one. Join it to another group first \
                 (JoinSecurityGroup), then leave this one."
            ),
        ));
    }
    inst.sg_ids.retain(|s| *s != sg);
    Ok(json!({}))
}
