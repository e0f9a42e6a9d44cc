//! Security groups and their rules: create in a VPC, authorize/revoke ingress and egress rules
//! (revoking by rule id too)
//! (the `Permissions.N.*` form and the older flat form), describe, and delete with the 403
//! DependencyViolation rules — including the window after an instance's release during which
//! the group is still referenced.
//!
//! Must not: decide instance lifecycles (it asks `instances_holding`).

use super::super::clock::stamp;
use super::network::{check_name, NetStatus, RESOURCE_GROUP};
use super::params::Params;
use super::{dry_run_passed, new_id, not_found, paging, tags, SimError, World};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

#[derive(Serialize, Deserialize)]
pub struct SecurityGroup {
    pub id: String,
    pub seq: u64,
    pub region: String,
    pub vpc_id: String,
    pub name: String,
    pub description: String,
    pub group_type: String,
    pub creation_time: String,
    pub tags: Vec<(String, String)>,
    pub rules: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    /// `ingress` or `egress`.
    pub direction: String,
    pub protocol: String,
    pub port_range: String,
    pub source_cidr: String,
    pub source_group: String,
    pub dest_cidr: String,
    pub dest_group: String,
    pub policy: String,
    pub priority: u32,
    pub nic_type: String,
    pub description: String,
    pub create_time: String,
}

impl Rule {
    /// Two rules are the same rule when everything but the id, time, description and priority
    /// agree (adding it again is a no-op; revoking names it this way).
    pub(super) fn same_as(&self, o: &Rule) -> bool {
        self.direction == o.direction
            && self.protocol == o.protocol
            && self.port_range == o.port_range
            && self.source_cidr == o.source_cidr
            && self.source_group == o.source_group
            && self.dest_cidr == o.dest_cidr
            && self.dest_group == o.dest_group
            && self.policy == o.policy
            && self.nic_type == o.nic_type
    }
}

/// Rules a group may hold.
pub(super) const RULE_QUOTA: usize = 200;

pub fn create(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let vpc_id = p.str("VpcId").ok_or_else(|| {
        SimError::new(
            400,
            "MissingParameter",
            "The input parameter \"VpcId\" that is mandatory for processing this request is not \
             supplied: security groups are created in a VPC (CreateVpc first).",
        )
    })?;
    match w.vpc(vpc_id) {
        Some(v) if v.region == region && v.status != NetStatus::Deleting => {}
        _ => return Err(not_found("InvalidVpcId.NotFound", "VpcId", vpc_id)),
    }
    let name = p.str("SecurityGroupName").unwrap_or("").to_string();
    check_name("SecurityGroupName", &name)?;
    let group_type = p
        .choice("SecurityGroupType", &["normal", "enterprise"])?
        .unwrap_or("normal");
    let tags = p.tags()?;
    if p.dry_run()? {
        return Err(dry_run_passed(p.action.name));
    }
    let g = SecurityGroup {
        id: new_id("sg", &region),
        seq: w.seq(),
        region,
        vpc_id: vpc_id.to_string(),
        name,
        description: p.str("Description").unwrap_or("").to_string(),
        group_type: group_type.to_string(),
        creation_time: stamp::seconds(),
        tags,
        rules: Vec::new(),
    };
    let body = json!({ "SecurityGroupId": g.id });
    w.groups.insert(g.id.clone(), g);
    Ok(body)
}

pub(super) fn group_in<'w>(
    w: &'w mut World,
    p: &Params,
    id: &str,
) -> Result<&'w mut SecurityGroup, SimError> {
    let region = p.str("RegionId");
    match w.groups.get_mut(id) {
        Some(g) if region.map_or(true, |r| r == g.region) => Ok(g),
        _ => Err(not_found(
            "InvalidSecurityGroupId.NotFound",
            "SecurityGroupId",
            id,
        )),
    }
}

pub fn authorize_ingress(w: &mut World, p: &Params) -> Result<Value, SimError> {
    authorize(w, p, "ingress")
}

pub fn authorize_egress(w: &mut World, p: &Params) -> Result<Value, SimError> {
    authorize(w, p, "egress")
}

fn authorize(w: &mut World, p: &Params, direction: &str) -> Result<Value, SimError> {
    let id = p.need("SecurityGroupId")?;
    let rules = parse_rules(w, p, direction)?;
    let g = group_in(w, p, id)?;
    for rule in rules {
        if g.rules.iter().any(|r| r.same_as(&rule)) {
            continue;
        }
        if g.rules.len() >= RULE_QUOTA {
            return Err(SimError::new(
                403,
                "QuotaExceed.AuthorizationRule",
                format!("The security group {id} already has {RULE_QUOTA} rules, the quota."),
            ));
        }
        g.rules.push(rule);
    }
    Ok(json!({}))
}

pub fn revoke_ingress(w: &mut World, p: &Params) -> Result<Value, SimError> {
    revoke(w, p, "ingress")
}

pub fn revoke_egress(w: &mut World, p: &Params) -> Result<Value, SimError> {
    revoke(w, p, "egress")
}

/// Removes the rules a request names: by `SecurityGroupRuleId.N`, by their fields
/// (`Permissions.N.*` or the flat form), or both. A rule id the group (in this direction)
/// does not hold is an error; a described rule that is not there is a no-op, as on the service.
fn revoke(w: &mut World, p: &Params, direction: &str) -> Result<Value, SimError> {
    let id = p.need("SecurityGroupId")?;
    let rule_ids = p.list("SecurityGroupRuleId")?;
    let by_fields = !p.structs("Permissions")?.is_empty() || p.str("IpProtocol").is_some();
    let rules = if by_fields || rule_ids.is_empty() {
        parse_rules(w, p, direction)?
    } else {
        Vec::new()
    };
    let g = group_in(w, p, id)?;
    if let Some(missing) = rule_ids.iter().find(|rid| {
        !g.rules
            .iter()
            .any(|r| r.id == **rid && r.direction == direction)
    }) {
        return Err(not_found(
            "InvalidSecurityGroupRuleId.NotFound",
            "SecurityGroupRuleId",
            missing,
        ));
    }
    g.rules.retain(|r| {
        !rules.iter().any(|gone| gone.same_as(r)) && !rule_ids.contains(&r.id.as_str())
    });
    Ok(json!({}))
}

/// The rules of a request: `Permissions.N.*` when present, else the flat form.
fn parse_rules(w: &World, p: &Params, direction: &str) -> Result<Vec<Rule>, SimError> {
    let permissions = p.structs("Permissions")?;
    let forms: Vec<(String, BTreeMap<&str, &str>)> = if permissions.is_empty() {
        let flat: BTreeMap<&str, &str> = p
            .all()
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        vec![(String::new(), flat)]
    } else {
        permissions
            .into_iter()
            .enumerate()
            .map(|(i, m)| (format!("Permissions.{}.", i + 1), m))
            .collect()
    };
    if forms.len() > 100 {
        return Err(SimError::invalid(
            "Permissions",
            "at most 100 rules per request",
        ));
    }
    forms
        .into_iter()
        .map(|(prefix, m)| parse_rule(w, p, direction, &prefix, &m))
        .collect()
}

pub(super) fn parse_rule(
    w: &World,
    p: &Params,
    direction: &str,
    prefix: &str,
    m: &BTreeMap<&str, &str>,
) -> Result<Rule, SimError> {
    let field = |name: &str| m.get(name).copied().filter(|v| !v.is_empty());
    let key = |name: &str| format!("{prefix}{name}");
    let protocol_raw = field("IpProtocol").ok_or_else(|| SimError::missing(&key("IpProtocol")))?;
    let protocol = ["TCP", "UDP", "ICMP", "ICMPv6", "GRE", "ALL"]
        .into_iter()
        .find(|c| c.eq_ignore_ascii_case(protocol_raw))
        .ok_or_else(|| {
            SimError::invalid(
                &key("IpProtocol"),
                format!(
                    "\"{protocol_raw}\" is not supported; use TCP, UDP, ICMP, ICMPv6, GRE or ALL"
                ),
            )
        })?;
    let port_range = field("PortRange").ok_or_else(|| SimError::missing(&key("PortRange")))?;
    check_port_range(protocol, port_range, &key("PortRange"))?;
    let policy = match field("Policy") {
        None => "Accept",
        Some(v) if v.eq_ignore_ascii_case("accept") => "Accept",
        Some(v) if v.eq_ignore_ascii_case("drop") => "Drop",
        Some(v) => {
            return Err(SimError::invalid(
                &key("Policy"),
                format!("\"{v}\" is not supported; use accept or drop"),
            ))
        }
    };
    let priority = match field("Priority") {
        None => 1,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                SimError::invalid(&key("Priority"), "it must be an integer from 1 to 100")
            })?,
    };
    let cidr = |name: &str| -> Result<String, SimError> {
        match field(name) {
            None => Ok(String::new()),
            Some(v) => {
                let with_mask = if v.contains('/') {
                    v.to_string()
                } else {
                    format!("{v}/32")
                };
                let valid = with_mask
                    .split_once('/')
                    .and_then(|(ip, len)| {
                        let ip: std::net::Ipv4Addr = ip.parse().ok()?;
                        let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
                        Some((ip, len))
                    })
                    .is_some();
                if !valid {
                    return Err(SimError::invalid(
                        &key(name),
                        format!(
                            "\"{v}\" is not an IPv4 address or CIDR block such as 203.0.113.5/32"
                        ),
                    ));
                }
                Ok(v.to_string())
            }
        }
    };
    let group = |name: &str| -> Result<String, SimError> {
        match field(name) {
            None => Ok(String::new()),
            Some(id) if w.groups.contains_key(id) => Ok(id.to_string()),
            Some(id) => Err(not_found("InvalidSecurityGroupId.NotFound", &key(name), id)),
        }
    };
    let rule = Rule {
        id: new_id("sgr", p.str("RegionId").unwrap_or("")),
        direction: direction.to_string(),
        protocol: protocol.to_string(),
        port_range: port_range.to_string(),
        source_cidr: cidr("SourceCidrIp")?,
        source_group: group("SourceGroupId")?,
        dest_cidr: cidr("DestCidrIp")?,
        dest_group: group("DestGroupId")?,
        policy: policy.to_string(),
        priority,
        nic_type: field("NicType").unwrap_or("intranet").to_string(),
        description: field("Description").unwrap_or("").to_string(),
        create_time: stamp::seconds(),
    };
    let peer_given = if direction == "ingress" {
        !rule.source_cidr.is_empty()
            || !rule.source_group.is_empty()
            || field("Ipv6SourceCidrIp").is_some()
            || field("SourcePrefixListId").is_some()
    } else {
        !rule.dest_cidr.is_empty()
            || !rule.dest_group.is_empty()
            || field("Ipv6DestCidrIp").is_some()
            || field("DestPrefixListId").is_some()
    };
    if !peer_given {
        let which = if direction == "ingress" {
            "SourceCidrIp"
        } else {
            "DestCidrIp"
        };
        return Err(SimError::new(
            400,
            "MissingParameter",
            format!(
                "The {direction} rule needs a peer: give {} (for example 0.0.0.0/0) or a group id.",
                key(which)
            ),
        ));
    }
    Ok(rule)
}

fn check_port_range(protocol: &str, range: &str, key: &str) -> Result<(), SimError> {
    let parsed = range
        .split_once('/')
        .and_then(|(a, b)| Some((a.trim().parse::<i32>().ok()?, b.trim().parse::<i32>().ok()?)));
    let ok = match (protocol, parsed) {
        ("TCP" | "UDP", Some((a, b))) => (1..=65535).contains(&a) && (a..=65535).contains(&b),
        (_, Some((-1, -1))) => true,
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let hint = if matches!(protocol, "TCP" | "UDP") {
        "use start/end with ports 1-65535, for example 22/22 or 1/65535"
    } else {
        "use -1/-1 for this protocol"
    };
    Err(SimError::new(
        400,
        "InvalidPortRange.Malformed",
        format!("The {key} \"{range}\" is not valid for {protocol}: {hint}."),
    ))
}

pub fn describe(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let ids = p.json_list("SecurityGroupIds", 100)?;
    let id = p.str("SecurityGroupId");
    let vpc = p.str("VpcId");
    let name = p.str("SecurityGroupName");
    let group_type = p.str("SecurityGroupType");
    let filter = p.tags()?;
    let mut list: Vec<String> = {
        let mut v: Vec<&SecurityGroup> = w
            .groups
            .values()
            .filter(|g| {
                g.region == region
                    && ids.as_ref().map_or(true, |ids| ids.contains(&g.id))
                    && id.map_or(true, |i| i == g.id)
                    && vpc.map_or(true, |v| v == g.vpc_id)
                    && name.map_or(true, |n| n == g.name)
                    && group_type.map_or(true, |t| t == g.group_type)
                    && tags::matches(&g.tags, &filter)
            })
            .collect();
        v.sort_by_key(|g| g.seq);
        v.into_iter().map(|g| g.id.clone()).collect()
    };
    list.dedup();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for i in w.instances.values().filter(|i| i.released.is_none()) {
        for sg in &i.sg_ids {
            *counts.entry(sg.clone()).or_default() += 1;
        }
    }
    let mut body = Map::new();
    body.insert("RegionId".into(), region.into());
    let w = &*w;
    paging::page(
        p,
        list,
        |id| {
            let Some(g) = w.groups.get(&id) else {
                return Value::Null;
            };
            let ecs = counts.get(&g.id).copied().unwrap_or(0);
            json!({
                "SecurityGroupId": g.id,
                "SecurityGroupName": g.name,
                "Description": g.description,
                "VpcId": g.vpc_id,
                "SecurityGroupType": g.group_type,
                "CreationTime": g.creation_time,
                "EcsCount": ecs,
                "AvailableInstanceAmount": 2000usize.saturating_sub(ecs),
                "RuleCount": g.rules.len(),
                "ResourceGroupId": RESOURCE_GROUP,
                "ServiceManaged": false,
                "Tags": tags::ecs_style(&g.tags),
            })
        },
        body,
    )
}

pub fn describe_attribute(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let id = p.need("SecurityGroupId")?;
    let direction = p
        .choice("Direction", &["ingress", "egress", "all"])?
        .unwrap_or("all");
    let g = group_in(w, p, id)?;
    let permissions: Vec<Value> = g
        .rules
        .iter()
        .filter(|r| direction == "all" || r.direction == direction)
        .map(rule_json)
        .collect();
    Ok(json!({
        "SecurityGroupId": g.id,
        "SecurityGroupName": g.name,
        "Description": g.description,
        "VpcId": g.vpc_id,
        "RegionId": g.region,
        "InnerAccessPolicy": "Accept",
        "Permissions": { "Permission": permissions },
    }))
}

fn rule_json(r: &Rule) -> Value {
    json!({
        "SecurityGroupRuleId": r.id,
        "Direction": r.direction,
        "IpProtocol": r.protocol,
        "PortRange": r.port_range,
        "SourceCidrIp": r.source_cidr,
        "SourceGroupId": r.source_group,
        "SourceGroupName": "",
        "SourceGroupOwnerAccount": "",
        "SourcePortRange": "",
        "SourcePrefixListId": "",
        "DestCidrIp": r.dest_cidr,
        "DestGroupId": r.dest_group,
        "DestGroupName": "",
        "DestGroupOwnerAccount": "",
        "DestPrefixListId": "",
        "Ipv6SourceCidrIp": "",
        "Ipv6DestCidrIp": "",
        "Policy": r.policy,
        "Priority": r.priority.to_string(),
        "NicType": r.nic_type,
        "Description": r.description,
        "CreateTime": r.create_time,
    })
}

pub fn delete(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let id = p.need("SecurityGroupId")?.to_string();
    group_in(w, p, &id)?;
    let members = w.instances_holding(|i| i.sg_ids.contains(&id));
    if let Some(first) = members.first() {
        return Err(SimError::new(
            403,
            "DependencyViolation",
            format!(
                "There are still instances in the security group {id} (e.g. {first}). Release \
                 them first; instance release is asynchronous, so retry for a few seconds."
            ),
        ));
    }
    if let Some(other) = w.groups.values().find(|g| {
        g.id != id
            && g.rules
                .iter()
                .any(|r| r.source_group == id || r.dest_group == id)
    }) {
        return Err(SimError::new(
            403,
            "DependencyViolation",
            format!(
                "The security group {id} is authorized in another security group ({}); revoke \
                 that rule first.",
                other.id
            ),
        ));
    }
    if p.dry_run()? {
        return Err(dry_run_passed(p.action.name));
    }
    w.groups.remove(&id);
    Ok(json!({}))
}
