//! How instances look to DescribeInstances and DescribeInstanceStatus: the instance's JSON with
//! the documented defaults, the filters, and a released instance shown Stopping until it
//! vanishes.
//!
//! Must not: change an instance (observing one only moves it along its lifecycle).

use super::super::catalog::{Catalog, InstanceType};
use super::instances::{Instance, Status};
use super::network::RESOURCE_GROUP;
use super::params::Params;
use super::{paging, tags, SimError, World};
use serde_json::{json, Map, Value};
pub(super) fn instance_json(i: &Instance) -> Value {
    let catalog = Catalog::get();
    let itype = catalog.instance_type(&i.instance_type);
    let image = catalog.image(&i.image_id);
    let status = shown_status(i);
    let base = json!({
        "InstanceId": i.id,
        "InstanceName": i.name,
        "HostName": i.host_name,
        "Description": i.description,
        "Status": status.as_str(),
        "RegionId": i.region,
        "ZoneId": i.zone,
        "InstanceType": i.instance_type,
        "InstanceTypeFamily": itype.map_or("", |t| t.family.as_str()),
        "Cpu": itype.map_or(0, |t| t.cores),
        "Memory": itype.map_or(0, |t| (t.memory * 1024.0).round() as u64),
        "GPUAmount": itype.map_or(0, |t| t.gpu_amount),
        "GPUSpec": itype.map_or("", |t| t.gpu_spec.as_str()),
        "ImageId": i.image_id,
        "OSType": image.map_or("linux", |m| m.os_type.as_str()),
        "OSName": image.map_or("", |m| m.os_name.as_str()),
        "OSNameEn": image.map_or("", |m| m.os_name_en.as_str()),
        "InstanceChargeType": i.charge_type,
        "SpotStrategy": i.spot_strategy,
        "InternetChargeType": i.internet_charge_type,
        "InternetMaxBandwidthOut": i.bandwidth_out,
        "InternetMaxBandwidthIn": i.bandwidth_in,
        "InstanceNetworkType": "vpc",
        "IoOptimized": true,
        "CreationTime": i.creation_time,
        "StartTime": i.start_time,
        "ExpiredTime": i.expired_time,
        "AutoReleaseTime": i.auto_release_time,
    });
    let network = json!({
        "PublicIpAddress": { "IpAddress": i.public_ip.iter().collect::<Vec<_>>() },
        "EipAddress": { "IpAddress": "", "AllocationId": "", "Bandwidth": 0 },
        "InnerIpAddress": { "IpAddress": [] },
        "VpcAttributes": {
            "VpcId": i.vpc_id,
            "VSwitchId": i.vswitch_id,
            "PrivateIpAddress": { "IpAddress": [i.private_ip] },
            "NatIpAddress": "",
        },
        "SecurityGroupIds": { "SecurityGroupId": i.sg_ids },
        "Tags": tags::ecs_style(&i.tags),
        "OperationLocks": { "LockReason": [] },
        "StoppedMode": i.stopped_mode,
        "DeletionProtection": i.deletion_protection,
        "KeyPairName": i.key_pair,
        "ResourceGroupId": RESOURCE_GROUP,
        "SerialNumber": format!("{:x}", md5ish(&i.id)),
        "DeviceAvailable": true,
        "Recyclable": false,
    });
    if let (Value::Object(mut a), Value::Object(b), Value::Object(c)) =
        (base, network, documented_defaults(i, itype))
    {
        a.extend(b);
        a.extend(c);
        return Value::Object(a);
    }
    Value::Null
}

/// The documented DescribeInstances fields the simulator has no feature behind, each with the
/// value a plain pay-as-you-go VPC instance shows (DescribeInstancesResponseBody in the Tea SDK
/// model): spot settings, metadata and CPU options, the primary interface's IP sets, and the
/// empty dedicated-host, deployment-set and capacity-reservation attributes.
fn documented_defaults(i: &Instance, itype: Option<&InstanceType>) -> Value {
    let cores = itype.map_or(1, |t| t.cores);
    let threads = if cores >= 2 { 2 } else { 1 };
    let interfaces = json!([{
        "NetworkInterfaceId": format!("eni-{}", i.id.trim_start_matches("i-")),
        "PrimaryIpAddress": i.private_ip,
        "MacAddress": mac(&i.id),
        "Type": "Primary",
        "PrivateIpSets": { "PrivateIpSet": [{ "PrivateIpAddress": i.private_ip, "Primary": true }] },
        "Ipv6Sets": { "Ipv6Set": [] },
        "Ipv4PrefixSets": { "Ipv4PrefixSet": [] },
        "Ipv6PrefixSets": { "Ipv6PrefixSet": [] },
    }]);
    json!({
        "NetworkInterfaces": { "NetworkInterface": interfaces },
        "SpotPriceLimit": 0.0,
        "SpotDuration": 0,
        "SpotInterruptionBehavior": "Terminate",
        "MetadataOptions": {
            "HttpEndpoint": "enabled",
            "HttpTokens": "optional",
            "HttpPutResponseHopLimit": 1,
        },
        "CpuOptions": {
            "CoreCount": (cores / threads).max(1),
            "ThreadsPerCore": threads,
            "Numa": "",
            "TopologyType": "",
        },
        "DeploymentSetId": "",
        "DeploymentSetGroupNo": 0,
        "HpcClusterId": "",
        "VlanId": "",
        "ClusterId": "",
        "CreditSpecification": "",
        "LocalStorageAmount": 0,
        "LocalStorageCapacity": 0,
        "SaleCycle": "",
        "ISP": "",
        "RdmaIpAddress": { "IpAddress": [] },
        "HibernationOptions": { "Configured": false },
        "DedicatedHostAttribute": {
            "DedicatedHostId": "",
            "DedicatedHostName": "",
            "DedicatedHostClusterId": "",
        },
        "DedicatedInstanceAttribute": { "Affinity": "", "Tenancy": "" },
        "EcsCapacityReservationAttr": {
            "CapacityReservationId": "",
            "CapacityReservationPreference": "",
        },
        "PrivateDnsNameOptions": {
            "EnableInstanceIdDnsARecord": false,
            "EnableInstanceIdDnsAAAARecord": false,
            "EnableIpDnsARecord": false,
            "EnableIpDnsPtrRecord": false,
            "HostnameType": "Custom",
        },
    })
}

fn md5ish(s: &str) -> u128 {
    s.bytes().fold(0xcbf29ce484222325u128, |h, b| {
        (h ^ u128::from(b)).wrapping_mul(0x100000001b3)
    })
}

fn mac(id: &str) -> String {
    let h = md5ish(id).to_be_bytes();
    format!("00:16:3e:{:02x}:{:02x}:{:02x}", h[0], h[1], h[2])
}

/// Observes (moves along) the visible instances of a region that `keep` selects. Criteria
/// that depend on the state (Status) belong in [`matching`], so that polling with a status
/// filter still observes the instances it waits for. `scope`, when given, lists the only ids
/// to consider (a lookup instead of a scan of the whole account).
pub(super) fn observe(
    w: &mut World,
    region: &str,
    scope: Option<&[&str]>,
    keep: &impl Fn(&Instance) -> bool,
) {
    let clock = &w.clock;
    let mut gone = Vec::new();
    let mut visit = |inst: &mut Instance| {
        if inst.region == region && inst.visible() && keep(inst) && !inst.settle(clock) {
            gone.push(inst.id.clone());
        }
    };
    match scope {
        Some(ids) => {
            let mut ids = ids.to_vec();
            ids.sort_unstable();
            ids.dedup();
            for id in ids {
                if let Some(inst) = w.instances.get_mut(id) {
                    visit(inst);
                }
            }
        }
        None => w.instances.values_mut().for_each(visit),
    }
    for id in gone {
        w.instances.remove(&id);
    }
}

/// The visible instances of a region that `keep` selects (within `scope`), oldest first.
pub(super) fn matching<'w>(
    w: &'w World,
    region: &str,
    scope: Option<&[&str]>,
    keep: &impl Fn(&Instance) -> bool,
) -> Vec<&'w Instance> {
    let wanted = |i: &&Instance| i.region == region && i.visible() && keep(i);
    let mut list: Vec<&Instance> = match scope {
        Some(ids) => ids
            .iter()
            .filter_map(|id| w.instances.get(*id))
            .filter(wanted)
            .collect(),
        None => w.instances.values().filter(wanted).collect(),
    };
    list.sort_unstable_by_key(|i| i.seq);
    list.dedup_by_key(|i| i.seq);
    list
}

/// The status an instance shows (a released one is `Stopping` until it vanishes).
fn shown_status(i: &Instance) -> Status {
    if i.released.is_some() {
        Status::Stopping
    } else {
        i.status
    }
}

/// Glob match with `*` (InstanceName filters), linear-time with single-star backtracking so a
/// pattern of many stars cannot blow up.
fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

pub fn describe_instances(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let ids = p.json_list("InstanceIds", 100)?;
    let status = p
        .choice(
            "Status",
            &["Pending", "Starting", "Running", "Stopping", "Stopped"],
        )
        .map_err(|e| {
            if p.strict() {
                // The code the API reference lists for a Status that is not a status.
                SimError::new(400, "InvalidStatus.NotFound", e.message)
            } else {
                e
            }
        })?;
    let private = p.json_list("PrivateIpAddresses", 100)?;
    let public = p.json_list("PublicIpAddresses", 100)?;
    let filter = p.tags()?;
    let f = |k: &str| p.str(k);
    let (vpc, vsw, zone, sg, name, itype, family, image, charge, net) = (
        f("VpcId"),
        f("VSwitchId"),
        f("ZoneId"),
        f("SecurityGroupId"),
        f("InstanceName"),
        f("InstanceType"),
        f("InstanceTypeFamily"),
        f("ImageId"),
        f("InstanceChargeType"),
        f("InternetChargeType"),
    );
    let keep = |i: &Instance| {
        ids.as_ref().map_or(true, |ids| ids.contains(&i.id))
            && vpc.map_or(true, |v| v == i.vpc_id)
            && vsw.map_or(true, |v| v == i.vswitch_id)
            && zone.map_or(true, |z| z == i.zone)
            && sg.map_or(true, |s| i.sg_ids.iter().any(|x| x == s))
            && name.map_or(true, |n| wildcard(n, &i.name))
            && itype.map_or(true, |t| t == i.instance_type)
            && family.map_or(true, |fam| {
                i.instance_type.starts_with(&format!("{fam}."))
                    || i.instance_type.starts_with(&format!("{fam}-"))
            })
            && image.map_or(true, |m| m == i.image_id)
            && charge.map_or(true, |c| c == i.charge_type)
            && net.map_or(true, |n| n == i.internet_charge_type)
            && private
                .as_ref()
                .map_or(true, |ips| ips.contains(&i.private_ip))
            && public.as_ref().map_or(true, |ips| {
                i.public_ip.as_ref().is_some_and(|ip| ips.contains(ip))
            })
            && tags::matches(&i.tags, &filter)
    };
    let scope: Option<Vec<&str>> = ids
        .as_ref()
        .map(|ids| ids.iter().map(String::as_str).collect());
    observe(w, &region, scope.as_deref(), &keep);
    let with_status =
        |i: &Instance| keep(i) && status.map_or(true, |s| s == shown_status(i).as_str());
    let list = matching(w, &region, scope.as_deref(), &with_status);
    paging::page_clamped(p, list, instance_json, Map::new(), Some((10, 100)))
}

pub fn describe_instance_status(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let ids = p.list("InstanceId")?;
    if ids.len() > 100 {
        return Err(SimError::invalid(
            "InstanceId.N",
            "at most 100 instance ids",
        ));
    }
    let zone = p.str("ZoneId");
    let keep = |i: &Instance| {
        (ids.is_empty() || ids.contains(&i.id.as_str())) && zone.map_or(true, |z| z == i.zone)
    };
    let scope = (!ids.is_empty()).then_some(ids.as_slice());
    observe(w, &region, scope, &keep);
    paging::page(
        p,
        matching(w, &region, scope, &keep),
        |i| json!({ "InstanceId": i.id, "Status": shown_status(i).as_str() }),
        Map::new(),
    )
}
