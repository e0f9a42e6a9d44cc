//! Importing an account's resources into the model (a shadow simulator's [`Account`]), with
//! the ids, names and CIDRs the target gave them, so a script's reuse decisions (a VPC found by
//! name, its vswitch in a zone) come out as they would on the target.
//!
//! Imported resources are Available at once and never created by the shadow; entries it cannot
//! read (no id, a CIDR it cannot parse) are skipped, since the target's answer is the truth and
//! the shadow only mirrors what it understands.

use super::super::clock::stamp;
use super::super::upstream::Account;
use super::network::{Cidr, NetStatus, VSwitch, Vpc};
use super::security::SecurityGroup;
use super::World;
use crate::ops::A;
use serde_json::Value;

impl World {
    /// Adds `account`'s resources of `region` to the model, keeping anything already there,
    /// and learns the region's zones and stock. Returns the types the region sells that the
    /// catalogue has no details of (see [`World::learn_catalogue`]).
    pub fn import_account(&mut self, region: &str, account: &Account) -> Vec<String> {
        let lacking = self.learn_catalogue(
            &A::DESCRIBE_AVAILABLE_RESOURCE,
            Some(region),
            &account.stock,
        );
        for v in &account.vpcs {
            let (Some(id), Some(cidr)) = (
                text(v, "VpcId"),
                text(v, "CidrBlock").and_then(|c| Cidr::parse(&c)),
            ) else {
                continue;
            };
            let vpc = Vpc {
                seq: self.seq(),
                region: region.to_string(),
                name: text(v, "VpcName").unwrap_or_default(),
                description: text(v, "Description").unwrap_or_default(),
                cidr,
                status: NetStatus::Available,
                timer: self.clock.start(),
                creation_time: text(v, "CreationTime").unwrap_or_else(stamp::seconds),
                vrouter_id: text(v, "VRouterId").unwrap_or_default(),
                route_table_id: v["RouterTableIds"]["RouterTableIds"][0]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                tags: tags(v),
                id,
            };
            self.vpcs.entry(vpc.id.clone()).or_insert(vpc);
        }
        for s in &account.vswitches {
            let (Some(id), Some(vpc_id), Some(zone_id), Some(cidr)) = (
                text(s, "VSwitchId"),
                text(s, "VpcId"),
                text(s, "ZoneId"),
                text(s, "CidrBlock").and_then(|c| Cidr::parse(&c)),
            ) else {
                continue;
            };
            let vswitch = VSwitch {
                seq: self.seq(),
                region: region.to_string(),
                vpc_id,
                zone_id,
                cidr,
                name: text(s, "VSwitchName").unwrap_or_default(),
                description: text(s, "Description").unwrap_or_default(),
                status: NetStatus::Available,
                timer: self.clock.start(),
                creation_time: text(s, "CreationTime").unwrap_or_else(stamp::seconds),
                tags: tags(s),
                next_host: 0,
                used_ips: 0,
                taken: Default::default(),
                id,
            };
            self.vswitches.entry(vswitch.id.clone()).or_insert(vswitch);
        }
        for g in &account.security_groups {
            let Some(id) = text(g, "SecurityGroupId") else {
                continue;
            };
            let group = SecurityGroup {
                seq: self.seq(),
                region: region.to_string(),
                vpc_id: text(g, "VpcId").unwrap_or_default(),
                name: text(g, "SecurityGroupName").unwrap_or_default(),
                description: text(g, "Description").unwrap_or_default(),
                group_type: text(g, "SecurityGroupType").unwrap_or_else(|| "normal".into()),
                creation_time: text(g, "CreationTime").unwrap_or_else(stamp::seconds),
                tags: tags(g),
                rules: Vec::new(),
                id,
            };
            self.groups.entry(group.id.clone()).or_insert(group);
        }
        lacking
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `Tags.Tag[]` as (key, value) pairs; the field is spelled `Key`/`Value` by VPC and
/// `TagKey`/`TagValue` by ECS.
fn tags(v: &Value) -> Vec<(String, String)> {
    v["Tags"]["Tag"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .filter_map(|t| {
                    let key = t.get("Key").or_else(|| t.get("TagKey"))?.as_str()?;
                    let value = t.get("Value").or_else(|| t.get("TagValue"));
                    Some((
                        key.to_string(),
                        value.and_then(Value::as_str).unwrap_or("").to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}
