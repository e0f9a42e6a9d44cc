//! Importing an account's resources into the model (a shadow simulator's [`Account`]), with
//! the ids, names, CIDRs and tags the target gave them, so a script's reuse decisions (a VPC
//! found by name, its vswitch in a zone, an instance found by tag, a key pair by name, a rule
//! already in a group) come out as they would on the target.
//!
//! Imported resources are in the state the target showed (an instance Running or Stopped, a
//! disk attached, an EIP bound) and never created by the shadow; entries it cannot read (no id,
//! a CIDR it cannot parse) are skipped, since the target's answer is the truth and the shadow
//! only mirrors what it understands. A key pair comes with its name and fingerprint only: a
//! plan never reads key material.

use super::super::clock::stamp;
use super::super::upstream::Account;
use super::disks::Disk;
use super::eips::Binding;
use super::instances::{Instance, Status};
use super::keypairs::{self, KeyPair};
use super::network::{Cidr, Eip, NetStatus, VSwitch, Vpc};
use super::security::{Rule, SecurityGroup};
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
        for (group_id, permissions) in &account.rules {
            if let Some(group) = self.groups.get_mut(group_id) {
                if group.rules.is_empty() {
                    group.rules = permissions.iter().filter_map(rule).collect();
                }
            }
        }
        for i in &account.instances {
            if let Some(instance) = self.imported_instance(region, i) {
                if self.instances.get(&instance.id).is_none() {
                    self.instances.insert(instance);
                }
            }
        }
        for d in &account.disks {
            if let Some(disk) = self.imported_disk(region, d) {
                self.disks.entry(disk.id.clone()).or_insert(disk);
            }
        }
        for e in &account.eips {
            if let Some(eip) = self.imported_eip(region, e) {
                self.eips.entry(eip.id.clone()).or_insert(eip);
            }
        }
        for k in &account.key_pairs {
            let Some(name) = text(k, "KeyPairName") else {
                continue;
            };
            let pair = KeyPair {
                id: text(k, "KeyPairId").unwrap_or_else(|| name.clone()),
                seq: self.seq(),
                region: region.to_string(),
                fingerprint: text(k, "KeyPairFingerPrint").unwrap_or_default(),
                public_key: String::new(),
                creation_time: text(k, "CreationTime").unwrap_or_else(stamp::seconds),
                tags: tags(k),
                name,
            };
            self.key_pairs
                .entry(keypairs::key(region, &pair.name))
                .or_insert(pair);
        }
        lacking
    }

    fn imported_instance(&mut self, region: &str, i: &Value) -> Option<Instance> {
        let id = text(i, "InstanceId")?;
        let status = match i["Status"].as_str().unwrap_or_default() {
            "Pending" => Status::Pending,
            "Starting" => Status::Starting,
            "Stopping" => Status::Stopping,
            "Stopped" => Status::Stopped,
            _ => Status::Running,
        };
        let vpc = &i["VpcAttributes"];
        let first = |v: &Value| v.as_array()?.first()?.as_str().map(str::to_string);
        let public_ip = first(&i["PublicIpAddress"]["IpAddress"]);
        Some(Instance {
            seq: self.seq(),
            region: region.to_string(),
            zone: text(i, "ZoneId").unwrap_or_default(),
            name: text(i, "InstanceName").unwrap_or_else(|| id.clone()),
            host_name: text(i, "HostName").unwrap_or_default(),
            description: text(i, "Description").unwrap_or_default(),
            instance_type: text(i, "InstanceType").unwrap_or_default(),
            image_id: text(i, "ImageId").unwrap_or_default(),
            vpc_id: text(vpc, "VpcId").unwrap_or_default(),
            vswitch_id: text(vpc, "VSwitchId").unwrap_or_default(),
            sg_ids: i["SecurityGroupIds"]["SecurityGroupId"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect(),
            private_ip: first(&vpc["PrivateIpAddress"]["IpAddress"]).unwrap_or_default(),
            public_ip,
            bandwidth_out: number(i, "InternetMaxBandwidthOut"),
            bandwidth_in: number(i, "InternetMaxBandwidthIn"),
            internet_charge_type: text(i, "InternetChargeType")
                .unwrap_or_else(|| "PayByTraffic".into()),
            charge_type: text(i, "InstanceChargeType").unwrap_or_else(|| "PostPaid".into()),
            spot_strategy: text(i, "SpotStrategy").unwrap_or_else(|| "NoSpot".into()),
            status,
            timer: self.clock.start(),
            from_run: true,
            initializing: false,
            rebooting: false,
            // The target's agent state is not in DescribeInstances; a running instance of the
            // account is taken to have its Cloud Assistant agent online (what the shadow's
            // commands on it need); the run's binding catches a difference.
            agent_online: status == Status::Running,
            released: None,
            release_hidden: false,
            creation_time: text(i, "CreationTime").unwrap_or_else(stamp::seconds),
            start_time: text(i, "StartTime").unwrap_or_default(),
            expired_time: text(i, "ExpiredTime").unwrap_or_default(),
            auto_release_time: text(i, "AutoReleaseTime").unwrap_or_default(),
            tags: tags(i),
            key_pair: text(i, "KeyPairName").unwrap_or_default(),
            user_data: None,
            deletion_protection: i["DeletionProtection"].as_bool().unwrap_or(false),
            stopped_mode: text(i, "StoppedMode").unwrap_or_default(),
            public_ip_reclaimed: false,
            id,
        })
    }

    fn imported_disk(&mut self, region: &str, d: &Value) -> Option<Disk> {
        Some(Disk {
            id: text(d, "DiskId")?,
            seq: self.seq(),
            region: region.to_string(),
            zone: text(d, "ZoneId").unwrap_or_default(),
            name: text(d, "DiskName").unwrap_or_default(),
            description: text(d, "Description").unwrap_or_default(),
            category: text(d, "Category").unwrap_or_default(),
            performance_level: text(d, "PerformanceLevel").unwrap_or_default(),
            size: number(d, "Size"),
            disk_type: text(d, "Type").unwrap_or_else(|| "data".into()),
            instance_id: text(d, "InstanceId").unwrap_or_default(),
            device: text(d, "Device").unwrap_or_default(),
            image_id: text(d, "ImageId").unwrap_or_default(),
            delete_with_instance: d["DeleteWithInstance"].as_bool().unwrap_or(false),
            creation_time: text(d, "CreationTime").unwrap_or_else(stamp::seconds),
            tags: tags(d),
            moving: None,
        })
    }

    fn imported_eip(&mut self, region: &str, e: &Value) -> Option<Eip> {
        let bound = text(e, "InstanceId").map(|instance_id| Binding {
            instance_id,
            moving: None,
            timer: self.clock.start(),
        });
        Some(Eip {
            id: text(e, "AllocationId")?,
            seq: self.seq(),
            region: region.to_string(),
            ip: text(e, "IpAddress").unwrap_or_default(),
            bandwidth: number(e, "Bandwidth"),
            internet_charge_type: text(e, "InternetChargeType")
                .unwrap_or_else(|| "PayByTraffic".into()),
            charge_type: text(e, "ChargeType").unwrap_or_else(|| "PostPaid".into()),
            name: text(e, "Name").unwrap_or_default(),
            allocation_time: text(e, "AllocationTime").unwrap_or_else(stamp::seconds),
            tags: tags(e),
            bound,
        })
    }
}

/// A rule of DescribeSecurityGroupAttribute's `Permissions.Permission`.
fn rule(r: &Value) -> Option<Rule> {
    Some(Rule {
        id: text(r, "SecurityGroupRuleId")?,
        direction: text(r, "Direction").unwrap_or_else(|| "ingress".into()),
        protocol: text(r, "IpProtocol")?
            .to_ascii_uppercase()
            .replace("ICMPV6", "ICMPv6"),
        port_range: text(r, "PortRange")?,
        source_cidr: text(r, "SourceCidrIp").unwrap_or_default(),
        source_group: text(r, "SourceGroupId").unwrap_or_default(),
        dest_cidr: text(r, "DestCidrIp").unwrap_or_default(),
        dest_group: text(r, "DestGroupId").unwrap_or_default(),
        policy: text(r, "Policy").unwrap_or_else(|| "Accept".into()),
        priority: number(r, "Priority").max(1),
        nic_type: text(r, "NicType").unwrap_or_else(|| "intranet".into()),
        description: text(r, "Description").unwrap_or_default(),
        create_time: text(r, "CreateTime").unwrap_or_else(stamp::seconds),
    })
}

/// A number the service writes as a number or as a string (`"Priority": "1"`, `"Bandwidth": "5"`).
fn number(v: &Value, key: &str) -> u32 {
    match &v[key] {
        Value::Number(n) => n.as_u64().unwrap_or(0) as u32,
        Value::String(s) => s.trim().parse().unwrap_or(0),
        _ => 0,
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
