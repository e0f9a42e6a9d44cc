//! VPC product resources: VPCs, vswitches and elastic IPs, with their CIDR rules, their
//! Pending → Available lifecycles, asynchronous deletion and the DependencyViolation rules
//! (HTTP 400 on the VPC side). VPC responses carry tags as `Tags.Tag[].{Key, Value}`.
//!
//! Must not: touch instances or security groups except to ask whether they still hold a
//! vswitch or VPC.

use super::super::clock::{self, stamp, Clock, Timer};
use super::params::Params;
use super::{dry_run_passed, new_id, not_found, paging, tags, SimError, World};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NetStatus {
    Pending,
    Available,
    /// Being deleted (shown as `Deleting` for a VPC, `Pending` for a vswitch).
    Deleting,
}

#[derive(Serialize, Deserialize)]
pub struct Vpc {
    pub id: String,
    pub seq: u64,
    pub region: String,
    pub name: String,
    pub description: String,
    pub cidr: Cidr,
    pub status: NetStatus,
    pub timer: Timer,
    pub creation_time: String,
    pub vrouter_id: String,
    pub route_table_id: String,
    pub tags: Vec<(String, String)>,
}

#[derive(Serialize, Deserialize)]
pub struct VSwitch {
    pub id: String,
    pub seq: u64,
    pub region: String,
    pub vpc_id: String,
    pub zone_id: String,
    pub cidr: Cidr,
    pub name: String,
    pub description: String,
    pub status: NetStatus,
    pub timer: Timer,
    pub creation_time: String,
    pub tags: Vec<(String, String)>,
    /// Host offsets handed out so far (private IPs are never reused within a vswitch).
    pub next_host: u32,
    pub used_ips: u32,
    /// Host offsets given out by `PrivateIpAddress`, which the sequential allocator skips.
    #[serde(default)]
    pub taken: std::collections::BTreeSet<u32>,
}

#[derive(Serialize, Deserialize)]
pub struct Eip {
    pub id: String,
    pub seq: u64,
    pub region: String,
    pub ip: String,
    pub bandwidth: u32,
    pub internet_charge_type: String,
    pub charge_type: String,
    pub name: String,
    pub allocation_time: String,
    pub tags: Vec<(String, String)>,
    /// The instance it is bound to (issue 15, `eips`).
    #[serde(default)]
    pub bound: Option<super::eips::Binding>,
}

/// An IPv4 CIDR block whose host bits are zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cidr {
    pub base: u32,
    pub len: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (addr, len) = s.trim().split_once('/')?;
        let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
        let octets: Vec<u8> = addr
            .split('.')
            .map(|o| o.parse::<u8>().ok())
            .collect::<Option<Vec<u8>>>()?;
        let [a, b, c, d] = octets[..] else {
            return None;
        };
        let base = u32::from_be_bytes([a, b, c, d]);
        let cidr = Cidr { base, len };
        (base & !cidr.mask() == 0).then_some(cidr)
    }
    fn mask(&self) -> u32 {
        if self.len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.len))
        }
    }
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.len))
    }
    fn last(&self) -> u32 {
        self.base | !self.mask()
    }
    pub fn contains(&self, other: &Cidr) -> bool {
        other.len >= self.len && other.base & self.mask() == self.base
    }
    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.base <= other.last() && other.base <= self.last()
    }
    pub fn host(&self, offset: u32) -> String {
        std::net::Ipv4Addr::from(self.base.wrapping_add(offset)).to_string()
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", std::net::Ipv4Addr::from(self.base), self.len)
    }
}

/// The private ranges a VPC may use (RFC 1918).
const PRIVATE: [&str; 3] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
/// VPCs per region (the real default quota).
const VPC_QUOTA: usize = 10;
/// Vswitches per VPC.
const VSWITCH_QUOTA: usize = 150;

impl Vpc {
    /// Moves the VPC along; false once its deletion has completed.
    fn settle(&mut self, clock: &Clock) -> bool {
        match self.status {
            NetStatus::Pending if clock.due(&mut self.timer, clock::VPC_CREATING) => {
                self.status = NetStatus::Available;
                true
            }
            NetStatus::Deleting => !clock.due(&mut self.timer, clock::NETWORK_DELETING),
            _ => true,
        }
    }
    fn status_str(&self) -> &'static str {
        match self.status {
            NetStatus::Pending => "Pending",
            NetStatus::Available => "Available",
            NetStatus::Deleting => "Deleting",
        }
    }
}

impl VSwitch {
    fn settle(&mut self, clock: &Clock) -> bool {
        match self.status {
            NetStatus::Pending if clock.due(&mut self.timer, clock::VSWITCH_CREATING) => {
                self.status = NetStatus::Available;
                true
            }
            NetStatus::Deleting => !clock.due(&mut self.timer, clock::NETWORK_DELETING),
            _ => true,
        }
    }
    fn status_str(&self) -> &'static str {
        match self.status {
            NetStatus::Available => "Available",
            NetStatus::Pending | NetStatus::Deleting => "Pending",
        }
    }
    /// The next free private IP (the first and last three addresses are reserved), skipping
    /// those taken by `PrivateIpAddress`.
    pub fn allocate_ip(&mut self) -> Result<String, SimError> {
        let usable = self.cidr.size().saturating_sub(6);
        loop {
            if u64::from(self.next_host) >= usable {
                return Err(SimError::new(
                    403,
                    "InvalidVSwitchId.IpNotEnough",
                    format!(
                        "The vswitch {} ({}) has no free private IP address left.",
                        self.id, self.cidr
                    ),
                ));
            }
            let offset = 3 + self.next_host;
            self.next_host += 1;
            if !self.taken.contains(&offset) {
                self.used_ips += 1;
                return Ok(self.cidr.host(offset));
            }
        }
    }

    /// True when the address at `offset` was handed out (sequentially or by request).
    pub fn is_taken(&self, offset: u32) -> bool {
        self.taken.contains(&offset) || (3..3 + self.next_host).contains(&offset)
    }

    /// Takes the address at host offset `offset` (checked by `launch::private_ip`).
    pub fn take_ip(&mut self, offset: u32) -> String {
        self.taken.insert(offset);
        self.used_ips += 1;
        self.cidr.host(offset)
    }
    fn available_ips(&self) -> u64 {
        self.cidr
            .size()
            .saturating_sub(6)
            .saturating_sub(u64::from(self.used_ips))
    }
}

impl World {
    /// The VPC, moved along by this observation; None when it does not exist (any more).
    pub(super) fn vpc(&mut self, id: &str) -> Option<&mut Vpc> {
        let alive = self.vpcs.get_mut(id)?.settle(&self.clock);
        if !alive {
            self.vpcs.remove(id);
            return None;
        }
        self.vpcs.get_mut(id)
    }

    pub(super) fn vswitch(&mut self, id: &str) -> Option<&mut VSwitch> {
        let alive = self.vswitches.get_mut(id)?.settle(&self.clock);
        if !alive {
            self.vswitches.remove(id);
            return None;
        }
        self.vswitches.get_mut(id)
    }

    /// The VPC in the request's region (when one is given), or the API's not-found error.
    fn vpc_in(&mut self, p: &Params, id: &str) -> Result<&mut Vpc, SimError> {
        let region = p.str("RegionId");
        match self.vpc(id) {
            Some(v) if region.map_or(true, |r| r == v.region) => Ok(v),
            _ => Err(not_found("InvalidVpcId.NotFound", "VpcId", id)),
        }
    }

    fn vswitch_in(&mut self, p: &Params, id: &str) -> Result<&mut VSwitch, SimError> {
        let region = p.str("RegionId");
        match self.vswitch(id) {
            Some(v) if region.map_or(true, |r| r == v.region) => Ok(v),
            _ => Err(not_found("InvalidVSwitchId.NotFound", "VSwitchId", id)),
        }
    }

    /// Ids of the VPCs/vswitches matching `keep`, each settled (observed) once.
    fn settled_ids<T>(
        map: &mut std::collections::BTreeMap<String, T>,
        clock: &Clock,
        settle: fn(&mut T, &Clock) -> bool,
        seq: fn(&T) -> u64,
        keep: impl Fn(&T) -> bool,
    ) -> Vec<String> {
        let mut ids: Vec<(u64, String)> = map
            .iter()
            .filter(|(_, v)| keep(v))
            .map(|(k, v)| (seq(v), k.clone()))
            .collect();
        ids.sort();
        ids.into_iter()
            .filter_map(|(_, id)| {
                let alive = map.get_mut(&id).is_some_and(|v| settle(v, clock));
                if alive {
                    Some(id)
                } else {
                    map.remove(&id);
                    None
                }
            })
            .collect()
    }
}

// ---- VPC -------------------------------------------------------------------------------------

pub fn create_vpc(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let cidr_text = p.str("CidrBlock").unwrap_or("172.16.0.0/12");
    let cidr = Cidr::parse(cidr_text).ok_or_else(|| malformed_cidr(cidr_text))?;
    let private = PRIVATE
        .iter()
        .filter_map(|c| Cidr::parse(c))
        .any(|range| range.contains(&cidr));
    if !private || !(8..=28).contains(&cidr.len) {
        return Err(SimError::new(
            400,
            "InvalidCidrBlock.Illegal",
            format!(
                "The VPC CidrBlock {cidr_text} is not allowed: use 10.0.0.0/8, 172.16.0.0/12, \
                 192.168.0.0/16 or a subnet of them, with a mask between /8 and /28."
            ),
        ));
    }
    let name = p.str("VpcName").unwrap_or("").to_string();
    check_name("VpcName", &name)?;
    let tags = p.tags()?;
    let in_region = w.vpcs.values().filter(|v| v.region == region).count();
    if in_region >= VPC_QUOTA {
        return Err(SimError::new(
            400,
            "QuotaExceeded.Vpc",
            format!(
                "The region {region} already has {VPC_QUOTA} VPCs, the quota. Delete one first."
            ),
        ));
    }
    if p.dry_run()? {
        return Err(dry_run_passed(p.action.name));
    }
    let vpc = Vpc {
        id: new_id("vpc", &region),
        seq: w.seq(),
        vrouter_id: new_id("vrt", &region),
        route_table_id: new_id("vtb", &region),
        region,
        name,
        description: p.str("Description").unwrap_or("").to_string(),
        cidr,
        status: NetStatus::Pending,
        timer: w.clock.start(),
        creation_time: stamp::seconds(),
        tags,
    };
    let body = json!({
        "VpcId": vpc.id,
        "VRouterId": vpc.vrouter_id,
        "RouteTableId": vpc.route_table_id,
        "ResourceGroupId": RESOURCE_GROUP,
    });
    w.vpcs.insert(vpc.id.clone(), vpc);
    Ok(body)
}

/// The default resource group every resource lands in.
pub const RESOURCE_GROUP: &str = "rg-acfmzw2jz2z7sxa";

fn malformed_cidr(text: &str) -> SimError {
    SimError::new(
        400,
        "InvalidCidrBlock.Malformed",
        format!(
            "The CidrBlock \"{text}\" is malformed: write an IPv4 network such as 192.168.0.0/16 \
             (the host bits must be zero)."
        ),
    )
}

pub(super) fn check_name(param: &str, name: &str) -> Result<(), SimError> {
    if name.is_empty() {
        return Ok(());
    }
    let lower = name.to_ascii_lowercase();
    if name.chars().count() > 128 || lower.starts_with("http://") || lower.starts_with("https://") {
        return Err(SimError::invalid(
            param,
            "a name is 1 to 128 characters and cannot start with http:// or https://",
        ));
    }
    Ok(())
}

fn vpc_json(w: &World, v: &Vpc) -> Map<String, Value> {
    let vsw: Vec<&str> = w
        .vswitches
        .values()
        .filter(|s| s.vpc_id == v.id)
        .map(|s| s.id.as_str())
        .collect();
    let mut m = Map::new();
    m.insert("VpcId".into(), v.id.clone().into());
    m.insert("VpcName".into(), v.name.clone().into());
    m.insert("Status".into(), v.status_str().into());
    m.insert("CidrBlock".into(), v.cidr.to_string().into());
    m.insert("RegionId".into(), v.region.clone().into());
    m.insert("CreationTime".into(), v.creation_time.clone().into());
    m.insert("Description".into(), v.description.clone().into());
    m.insert("VRouterId".into(), v.vrouter_id.clone().into());
    m.insert("VSwitchIds".into(), json!({ "VSwitchId": vsw }));
    m.insert(
        "RouterTableIds".into(),
        json!({ "RouterTableIds": [v.route_table_id] }),
    );
    m.insert("NatGatewayIds".into(), json!({ "NatGatewayIds": [] }));
    m.insert("IsDefault".into(), false.into());
    m.insert("Ipv6CidrBlock".into(), "".into());
    m.insert(
        "SecondaryCidrBlocks".into(),
        json!({ "SecondaryCidrBlock": [] }),
    );
    m.insert("UserCidrs".into(), json!({ "UserCidr": [] }));
    m.insert("ResourceGroupId".into(), RESOURCE_GROUP.into());
    m.insert("Tags".into(), tags::vpc_style(&v.tags));
    m
}

pub fn describe_vpcs(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let ids = p.comma_list("VpcId", 20)?;
    let name = p.str("VpcName");
    let filter = p.tags()?;
    let is_default = p.bool("IsDefault")?;
    let ids = World::settled_ids(
        &mut w.vpcs,
        &w.clock,
        Vpc::settle,
        |v| v.seq,
        |v| {
            v.region == region
                && ids
                    .as_ref()
                    .map_or(true, |ids| ids.contains(&v.id.as_str()))
                && name.map_or(true, |n| n == v.name)
                && is_default != Some(true)
                && tags::matches(&v.tags, &filter)
        },
    );
    let w = &*w;
    paging::page(
        p,
        ids,
        |id| {
            w.vpcs
                .get(&id)
                .map_or(Value::Null, |v| Value::Object(vpc_json(w, v)))
        },
        Map::new(),
    )
}

pub fn describe_vpc_attribute(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let id = p.need("VpcId")?;
    w.vpc_in(p, id)?;
    let w = &*w;
    let Some(v) = w.vpcs.get(id) else {
        return Err(not_found("InvalidVpcId.NotFound", "VpcId", id));
    };
    let mut m = vpc_json(w, v);
    let vswitches = w.vswitches.values().filter(|s| s.vpc_id == id).count();
    let groups = w.groups.values().filter(|g| g.vpc_id == id).count();
    let instances = w
        .instances
        .values()
        .filter(|i| i.vpc_id == id && i.released.is_none())
        .count();
    let mut resources = Vec::new();
    for (kind, count) in [
        ("VSwitch", vswitches),
        ("SecurityGroup", groups),
        ("ECS", instances),
        ("VRouter", 1),
        ("RouteTable", 1),
    ] {
        if count > 0 {
            resources.push(json!({ "ResourceType": kind, "ResourceCount": count }));
        }
    }
    m.insert(
        "CloudResources".into(),
        json!({ "CloudResourceSetType": resources }),
    );
    m.insert("ClassicLinkEnabled".into(), false.into());
    Ok(Value::Object(m))
}

pub fn delete_vpc(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let id = p.need("VpcId")?.to_string();
    let status = w.vpc_in(p, &id)?.status;
    if status != NetStatus::Available {
        return Err(SimError::new(
            400,
            "IncorrectVpcStatus",
            format!(
                "The VPC {id} is {} and cannot be deleted now; wait until it is Available.",
                if status == NetStatus::Pending {
                    "Pending"
                } else {
                    "already being deleted"
                }
            ),
        ));
    }
    let clock = &w.clock;
    let vswitches = World::settled_ids(
        &mut w.vswitches,
        clock,
        VSwitch::settle,
        |v| v.seq,
        |v| v.vpc_id == id,
    );
    if let Some(first) = vswitches.first() {
        return Err(dependency(
            "DependencyViolation.VSwitch",
            format!(
                "The VPC {id} still contains {} vswitch(es) (e.g. {first}); delete them first.",
                vswitches.len()
            ),
        ));
    }
    let holders = w.instances_holding(|i| i.vpc_id == id);
    if let Some(first) = holders.first() {
        return Err(dependency(
            "DependencyViolation.Instance",
            format!("The VPC {id} still contains instance {first}; release it first."),
        ));
    }
    if let Some(g) = w.groups.values().find(|g| g.vpc_id == id) {
        return Err(dependency(
            "DependencyViolation.SecurityGroup",
            format!(
                "The VPC {id} still contains security group {}; delete its security groups first.",
                g.id
            ),
        ));
    }
    if p.dry_run()? {
        return Err(dry_run_passed(p.action.name));
    }
    let timer = w.clock.start();
    if let Some(v) = w.vpcs.get_mut(&id) {
        v.status = NetStatus::Deleting;
        v.timer = timer;
    }
    Ok(json!({}))
}

fn dependency(code: &str, message: String) -> SimError {
    SimError::new(400, code, message)
}

// ---- VSwitch ---------------------------------------------------------------------------------

pub fn create_vswitch(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let vpc_id = p.need("VpcId")?.to_string();
    let zone_id = p.need("ZoneId")?.to_string();
    let cidr_text = p.need("CidrBlock")?;
    let cidr = Cidr::parse(cidr_text).ok_or_else(|| malformed_cidr(cidr_text))?;
    let name = p.str("VSwitchName").unwrap_or("").to_string();
    check_name("VSwitchName", &name)?;
    let tags = p.tags()?;
    if w.catalog.zone(&region, &zone_id).is_none() {
        return Err(SimError::new(
            400,
            "InvalidZoneId.NotFound",
            format!(
                "The zone {zone_id} does not exist in {region}; DescribeZones lists the valid zones."
            ),
        ));
    }
    let vpc = w.vpc_in(p, &vpc_id)?;
    if vpc.status != NetStatus::Available {
        return Err(SimError::new(
            400,
            "IncorrectVpcStatus",
            format!(
                "The VPC {vpc_id} is {} and cannot take a vswitch yet; wait until DescribeVpcs shows it Available.",
                vpc.status_str()
            ),
        ));
    }
    let vpc_cidr = vpc.cidr;
    if !(16..=29).contains(&cidr.len) || !vpc_cidr.contains(&cidr) {
        return Err(SimError::new(
            400,
            "InvalidCidrBlock.Illegal",
            format!(
                "The vswitch CidrBlock {cidr} must lie inside the VPC's {vpc_cidr} with a mask between /16 and /29."
            ),
        ));
    }
    if p.strict() {
        // "Only one VSwitch or route operation at a time per VPC": a sibling still being
        // created (or deleted) makes the service answer IncorrectVSwitchStatus.
        let ids: Vec<String> = w
            .vswitches
            .values()
            .filter(|s| s.vpc_id == vpc_id)
            .map(|s| s.id.clone())
            .collect();
        for id in ids {
            if let Some(busy) = w.vswitch(&id).filter(|s| s.status != NetStatus::Available) {
                return Err(SimError::new(
                    400,
                    "IncorrectVSwitchStatus",
                    format!(
                        "The vswitch {} of VPC {vpc_id} is still {}; the VPC takes one vswitch \
                         operation at a time, so wait until it is Available and retry.",
                        busy.id,
                        busy.status_str()
                    ),
                ));
            }
        }
    }
    let siblings: Vec<&VSwitch> = w
        .vswitches
        .values()
        .filter(|s| s.vpc_id == vpc_id)
        .collect();
    if let Some(s) = siblings.iter().find(|s| s.cidr.overlaps(&cidr)) {
        return Err(SimError::new(
            400,
            "InvalidCidrBlock.Overlapped",
            format!(
                "The CidrBlock {cidr} overlaps {} of vswitch {} in the same VPC; pick a free block.",
                s.cidr, s.id
            ),
        ));
    }
    if siblings.len() >= VSWITCH_QUOTA {
        return Err(SimError::new(
            400,
            "QuotaExceeded.VSwitch",
            format!("The VPC {vpc_id} already has {VSWITCH_QUOTA} vswitches, the quota."),
        ));
    }
    if p.dry_run()? {
        return Err(dry_run_passed(p.action.name));
    }
    let vsw = VSwitch {
        id: new_id("vsw", &region),
        seq: w.seq(),
        region,
        vpc_id,
        zone_id,
        cidr,
        name,
        description: p.str("Description").unwrap_or("").to_string(),
        status: NetStatus::Pending,
        timer: w.clock.start(),
        creation_time: stamp::seconds(),
        tags,
        next_host: 0,
        used_ips: 0,
        taken: Default::default(),
    };
    let body = json!({ "VSwitchId": vsw.id });
    w.vswitches.insert(vsw.id.clone(), vsw);
    Ok(body)
}

fn vswitch_json(w: &World, s: &VSwitch) -> Map<String, Value> {
    let route_table = w
        .vpcs
        .get(&s.vpc_id)
        .map_or(String::new(), |v| v.route_table_id.clone());
    let mut m = Map::new();
    m.insert("VSwitchId".into(), s.id.clone().into());
    m.insert("VSwitchName".into(), s.name.clone().into());
    m.insert("VpcId".into(), s.vpc_id.clone().into());
    m.insert("ZoneId".into(), s.zone_id.clone().into());
    m.insert("RegionId".into(), s.region.clone().into());
    m.insert("CidrBlock".into(), s.cidr.to_string().into());
    m.insert("Status".into(), s.status_str().into());
    m.insert("AvailableIpAddressCount".into(), s.available_ips().into());
    m.insert("CreationTime".into(), s.creation_time.clone().into());
    m.insert("Description".into(), s.description.clone().into());
    m.insert("IsDefault".into(), false.into());
    m.insert("NetworkAclId".into(), "".into());
    m.insert("Ipv6CidrBlock".into(), "".into());
    m.insert("ResourceGroupId".into(), RESOURCE_GROUP.into());
    m.insert(
        "RouteTable".into(),
        json!({ "RouteTableId": route_table, "RouteTableType": "System" }),
    );
    m.insert("Tags".into(), tags::vpc_style(&s.tags));
    m
}

pub fn describe_vswitches(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let vpc_id = p.str("VpcId");
    let region = match (p.str("RegionId"), vpc_id) {
        (Some(r), _) => r.to_string(),
        (None, Some(v)) => w
            .vpc(v)
            .map(|v| v.region.clone())
            .ok_or_else(|| not_found("InvalidVpcId.NotFound", "VpcId", v))?,
        (None, None) => return Err(SimError::missing("RegionId")),
    };
    let id = p.str("VSwitchId");
    let zone = p.str("ZoneId");
    let name = p.str("VSwitchName");
    let filter = p.tags()?;
    let is_default = p.bool("IsDefault")?;
    let ids = World::settled_ids(
        &mut w.vswitches,
        &w.clock,
        VSwitch::settle,
        |v| v.seq,
        |s| {
            s.region == region
                && vpc_id.map_or(true, |v| v == s.vpc_id)
                && id.map_or(true, |i| i == s.id)
                && zone.map_or(true, |z| z == s.zone_id)
                && name.map_or(true, |n| n == s.name)
                && is_default != Some(true)
                && tags::matches(&s.tags, &filter)
        },
    );
    let w = &*w;
    paging::page(
        p,
        ids,
        |id| {
            w.vswitches
                .get(&id)
                .map_or(Value::Null, |s| Value::Object(vswitch_json(w, s)))
        },
        Map::new(),
    )
}

pub fn describe_vswitch_attributes(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let id = p.need("VSwitchId")?;
    w.vswitch_in(p, id)?;
    let w = &*w;
    let s = w
        .vswitches
        .get(id)
        .ok_or_else(|| not_found("InvalidVSwitchId.NotFound", "VSwitchId", id))?;
    Ok(Value::Object(vswitch_json(w, s)))
}

pub fn delete_vswitch(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let id = p.need("VSwitchId")?.to_string();
    let status = w.vswitch_in(p, &id)?.status;
    if status != NetStatus::Available {
        return Err(SimError::new(
            400,
            "IncorrectVSwitchStatus",
            format!(
                "The vswitch {id} is not Available (it is being created or deleted); retry later."
            ),
        ));
    }
    let holders = w.instances_holding(|i| i.vswitch_id == id);
    if let Some(first) = holders.first() {
        return Err(dependency(
            "DependencyViolation",
            format!(
                "The vswitch {id} still has {} instance(s) (e.g. {first}); release them first. \
                 Instance release is asynchronous: retry for a few seconds.",
                holders.len()
            ),
        ));
    }
    if p.dry_run()? {
        return Err(dry_run_passed(p.action.name));
    }
    let timer = w.clock.start();
    if let Some(s) = w.vswitches.get_mut(&id) {
        s.status = NetStatus::Deleting;
        s.timer = timer;
    }
    Ok(json!({}))
}

// ---- EIP -------------------------------------------------------------------------------------

pub fn allocate_eip(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let bandwidth = p.int("Bandwidth", 1, 500)?.unwrap_or(5) as u32;
    let internet = p
        .choice("InternetChargeType", &["PayByTraffic", "PayByBandwidth"])?
        .unwrap_or("PayByTraffic");
    let charge = p
        .choice("InstanceChargeType", &["PostPaid", "PrePaid"])?
        .unwrap_or("PostPaid");
    let name = p.str("Name").unwrap_or("").to_string();
    check_name("Name", &name)?;
    let eip = Eip {
        id: new_id("eip", &region),
        seq: w.seq(),
        ip: public_ip(&region),
        region,
        bandwidth,
        internet_charge_type: internet.to_string(),
        charge_type: charge.to_string(),
        name,
        allocation_time: stamp::seconds(),
        tags: p.tags()?,
        bound: None,
    };
    let body = json!({
        "AllocationId": eip.id,
        "EipAddress": eip.ip,
        "ResourceGroupId": RESOURCE_GROUP,
    });
    w.eips.insert(eip.id.clone(), eip);
    Ok(body)
}

pub fn describe_eips(w: &mut World, p: &Params) -> Result<Value, SimError> {
    super::eips::settle(w);
    let region = p.region()?;
    let ids = p.comma_list("AllocationId", 50)?;
    let address = p.str("EipAddress");
    let status = p.str("Status");
    let mut list: Vec<&Eip> = w
        .eips
        .values()
        .filter(|e| {
            e.region == region
                && ids
                    .as_ref()
                    .map_or(true, |ids| ids.contains(&e.id.as_str()))
                && address.map_or(true, |a| a == e.ip)
                && status.map_or(true, |s| s == super::eips::status(e))
        })
        .collect();
    list.sort_by_key(|e| e.seq);
    paging::page(
        p,
        list,
        |e| {
            json!({
                "AllocationId": e.id,
                "IpAddress": e.ip,
                "Status": super::eips::status(e),
                "RegionId": e.region,
                "Bandwidth": e.bandwidth.to_string(),
                "InternetChargeType": e.internet_charge_type,
                "ChargeType": e.charge_type,
                "AllocationTime": e.allocation_time,
                "InstanceId": super::eips::instance_of(e),
                "InstanceType": if e.bound.is_some() { "EcsInstance" } else { "" },
                "Name": e.name,
                "ResourceGroupId": RESOURCE_GROUP,
                "Tags": tags::vpc_style(&e.tags),
            })
        },
        Map::new(),
    )
}

pub fn release_eip(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let id = p.need("AllocationId")?;
    let region = p.str("RegionId");
    super::eips::settle(w);
    match w.eips.get(id) {
        Some(e) if region.map_or(true, |r| r == e.region) => {
            super::eips::check_releasable(e)?;
            w.eips.remove(id);
            Ok(json!({}))
        }
        _ => Err(not_found(
            "InvalidAllocationId.NotFound",
            "AllocationId",
            id,
        )),
    }
}

/// A random public IPv4 address from a block used by the region.
pub fn public_ip(region: &str) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let (a, b) = match region {
        "ap-southeast-1" => (8, 219),
        "us-west-1" => (47, 88),
        "eu-central-1" => (8, 209),
        "cn-shanghai" => (47, 100),
        "cn-beijing" => (39, 105),
        _ => (47, 96),
    };
    format!(
        "{a}.{b}.{}.{}",
        rng.gen_range(0..=255),
        rng.gen_range(1..=254)
    )
}
