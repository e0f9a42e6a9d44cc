//! Instances and disks: RunInstances / CreateInstance with the real validations (image, type,
//! zone, vswitch, security groups in the same VPC, disks, bandwidth, stock, DryRun), the
//! status machine (Pending → Starting → Running, Stopping → Stopped, reboot), the legal-from
//! table of start/stop/reboot/delete, asynchronous release (visible briefly, then hidden while
//! it still holds its security groups and vswitch), public IPs and data disks.
//!
//! Must not: know about HTTP or ClientTokens (the dispatcher replays those).

use super::super::catalog::{Catalog, Image, InstanceType, Stock, PLENTY};
use super::super::clock::{self, stamp, Clock, Timer};
use super::launch::{self, NamePattern, Period};
use super::network::{check_name, public_ip, NetStatus, RESOURCE_GROUP};
use super::params::Params;
use super::render::{self, Answer};
use super::{dry_run_passed, new_id, not_found, paging, tags, SimError, World};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Live instances per (instance type, zone).
pub struct Usage(HashMap<(String, String), u32>);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Pending,
    Starting,
    Running,
    Stopping,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "Pending",
            Status::Starting => "Starting",
            Status::Running => "Running",
            Status::Stopping => "Stopping",
            Status::Stopped => "Stopped",
        }
    }
}

#[derive(Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub seq: u64,
    pub region: String,
    pub zone: String,
    pub name: String,
    pub host_name: String,
    pub description: String,
    pub instance_type: String,
    pub image_id: String,
    pub vpc_id: String,
    pub vswitch_id: String,
    pub sg_ids: Vec<String>,
    pub private_ip: String,
    pub public_ip: Option<String>,
    pub bandwidth_out: u32,
    pub bandwidth_in: u32,
    pub internet_charge_type: String,
    pub charge_type: String,
    pub spot_strategy: String,
    pub status: Status,
    pub timer: Timer,
    /// Created by RunInstances (boots by itself) rather than CreateInstance (stays Stopped).
    pub from_run: bool,
    /// Still being created: deletion fails with IncorrectInstanceStatus.Initializing.
    pub initializing: bool,
    pub rebooting: bool,
    pub agent_online: bool,
    /// Set once released: the release's progress (visible, then hidden but still holding its
    /// security groups and vswitch, then gone).
    pub released: Option<Timer>,
    pub release_hidden: bool,
    pub creation_time: String,
    pub start_time: String,
    pub expired_time: String,
    pub auto_release_time: String,
    pub tags: tags::Tags,
    pub key_pair: String,
    pub user_data: Option<String>,
    pub deletion_protection: bool,
    pub stopped_mode: String,
    /// Stopped in economical mode with a static public IP: it gets a new one when started.
    #[serde(default)]
    pub public_ip_reclaimed: bool,
}

#[derive(Serialize, Deserialize)]
pub struct Disk {
    pub id: String,
    pub seq: u64,
    pub region: String,
    pub zone: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub performance_level: String,
    pub size: u32,
    /// `system` or `data`.
    pub disk_type: String,
    pub instance_id: String,
    pub device: String,
    pub image_id: String,
    pub delete_with_instance: bool,
    pub creation_time: String,
    pub tags: tags::Tags,
}

impl Instance {
    /// Moves the instance along its lifecycle; false once it is gone for good.
    fn settle(&mut self, clock: &Clock) -> bool {
        if let Some(mut t) = self.released {
            if !self.release_hidden {
                if !clock.due(&mut t, clock::INSTANCE_VANISHING) {
                    self.released = Some(t);
                    return true;
                }
                self.release_hidden = true;
                t = clock.next_timer(&t, clock::INSTANCE_VANISHING);
            }
            let alive = !clock.due(&mut t, clock::RELEASE_WINDOW);
            self.released = Some(t);
            return alive;
        }
        loop {
            let (next, duration) = match self.status {
                Status::Pending if self.from_run => (Status::Starting, clock::INSTANCE_PENDING),
                Status::Pending => (Status::Stopped, clock::INSTANCE_CREATING),
                Status::Starting => (Status::Running, clock::INSTANCE_STARTING),
                Status::Stopping if self.rebooting => (Status::Starting, clock::INSTANCE_STOPPING),
                Status::Stopping => (Status::Stopped, clock::INSTANCE_STOPPING),
                Status::Running if !self.agent_online => (Status::Running, clock::AGENT_ONLINE),
                Status::Running | Status::Stopped => return true,
            };
            if !clock.due(&mut self.timer, duration) {
                return true;
            }
            self.timer = clock.next_timer(&self.timer, duration);
            self.enter(next);
        }
    }

    fn enter(&mut self, next: Status) {
        match next {
            Status::Running if self.status == Status::Running => self.agent_online = true,
            Status::Running => {
                self.initializing = false;
                self.start_time = stamp::minutes();
            }
            Status::Stopped => {
                self.initializing = false;
                self.agent_online = false;
            }
            Status::Starting => self.rebooting = false,
            Status::Pending | Status::Stopping => {}
        }
        self.status = next;
    }

    pub fn visible(&self) -> bool {
        !self.release_hidden
    }
}

impl World {
    /// A live (not released) instance, moved along by this observation.
    pub(super) fn instance(&mut self, id: &str) -> Option<&mut Instance> {
        let alive = self.instances.get_mut(id)?.settle(&self.clock);
        if !alive {
            self.instances.remove(id);
            return None;
        }
        self.instances.get_mut(id).filter(|i| i.released.is_none())
    }

    /// The live instance in the request's region, or InvalidInstanceId.NotFound.
    fn instance_in(&mut self, p: &Params, id: &str) -> Result<&mut Instance, SimError> {
        let region = p.str("RegionId");
        match self.instance(id) {
            Some(i) if region.map_or(true, |r| r == i.region) => Ok(i),
            _ => Err(not_found("InvalidInstanceId.NotFound", "InstanceId", id)),
        }
    }

    /// Ids of instances matching `holds` that still exist in any form (running, stopped, or
    /// released but inside the release window), each observed once. Used for dependency checks.
    pub(super) fn instances_holding(&mut self, holds: impl Fn(&Instance) -> bool) -> Vec<String> {
        let ids: Vec<String> = self
            .instances
            .values()
            .filter(|i| holds(i))
            .map(|i| i.id.clone())
            .collect();
        ids.into_iter()
            .filter(|id| {
                let alive = self
                    .instances
                    .get_mut(id)
                    .is_some_and(|i| i.settle(&self.clock));
                if !alive {
                    self.instances.remove(id);
                }
                alive
            })
            .collect()
    }

    /// How many live instances of each (instance type, zone) there are: the stock they
    /// consume. Computed once per request by the catalogue queries.
    pub(super) fn usage(&self) -> Usage {
        let mut counts: HashMap<(String, String), u32> = HashMap::new();
        for i in self.instances.values().filter(|i| i.released.is_none()) {
            *counts
                .entry((i.instance_type.clone(), i.zone.clone()))
                .or_default() += 1;
        }
        Usage(counts)
    }

    /// How many more instances of a type the zone can take now.
    pub(super) fn stock_left(&self, region: &str, zone: &str, instance_type: &str) -> u32 {
        self.stock_left_with(&self.usage(), region, zone, instance_type)
    }

    pub(super) fn stock_left_with(
        &self,
        usage: &Usage,
        region: &str,
        zone: &str,
        instance_type: &str,
    ) -> u32 {
        let key = (instance_type.to_string(), zone.to_string());
        if self.no_stock.contains(&key) || self.closed(region, zone) {
            return 0;
        }
        let cap = match Catalog::get().stock(region, zone, instance_type) {
            Stock::NotOffered | Stock::SoldOut => 0,
            Stock::Limited(n) => n,
            Stock::Plenty => PLENTY,
        };
        cap.saturating_sub(usage.0.get(&key).copied().unwrap_or(0))
    }

    /// True for a zone closed to new purchases, in strict mode (lenient sells there as before).
    pub(super) fn closed(&self, region: &str, zone: &str) -> bool {
        self.fidelity == super::Fidelity::Strict
            && Catalog::get()
                .zone(region, zone)
                .is_some_and(|z| !z.on_sale)
    }

    /// The catalogue's stock, with the `--fault no-stock` pairs and closed zones applied.
    pub(super) fn stock(&self, region: &str, zone: &str, instance_type: &str) -> Stock {
        if self.closed(region, zone) {
            return Stock::NotOffered;
        }
        let s = Catalog::get().stock(region, zone, instance_type);
        if s != Stock::NotOffered
            && self
                .no_stock
                .contains(&(instance_type.to_string(), zone.to_string()))
        {
            Stock::SoldOut
        } else {
            s
        }
    }
}

// ---- creation ----------------------------------------------------------------------------------

/// Everything a validated RunInstances/CreateInstance request asks for.
struct Spec {
    region: String,
    zone: String,
    itype: &'static InstanceType,
    image: &'static Image,
    vpc_id: String,
    vswitch_id: String,
    sg_ids: Vec<String>,
    system_disk: (String, u32, String),
    data_disks: Vec<(String, u32, String, bool)>,
    bandwidth_out: u32,
    bandwidth_in: u32,
    internet_charge_type: &'static str,
    charge_type: &'static str,
    period: Option<Period>,
    spot_strategy: &'static str,
    name: Option<NamePattern>,
    host_name: Option<NamePattern>,
    /// `PrivateIpAddress` as a host offset in the vswitch's block (consecutive for Amount > 1).
    private_ip: Option<u32>,
    description: String,
    unique_suffix: bool,
    tags: tags::Tags,
    key_pair: String,
    user_data: Option<String>,
    deletion_protection: bool,
    auto_release_time: String,
}

/// The image a request names, by ImageId or ImageFamily (the latest of the family).
pub(super) fn resolve_image(p: &Params) -> Result<Option<&'static Image>, SimError> {
    let catalog = Catalog::get();
    if let Some(id) = p.str("ImageId") {
        return catalog
            .image(id)
            .map(Some)
            .ok_or_else(|| not_found("InvalidImageId.NotFound", "ImageId", id));
    }
    if let Some(family) = p.str("ImageFamily") {
        return catalog.latest_in_family(family).map(Some).ok_or_else(|| {
            SimError::new(
                404,
                "InvalidImageFamily.NotFound",
                format!(
                    "The image family \"{family}\" does not exist; DescribeImages lists the families \
                     (for example acs:ubuntu_24_04_x64)."
                ),
            )
        });
    }
    Ok(None)
}

pub(super) fn resolve_type(p: &Params) -> Result<&'static InstanceType, SimError> {
    let name = p.need("InstanceType")?;
    Catalog::get().instance_type(name).ok_or_else(|| {
        SimError::new(
            400,
            "InvalidInstanceType.ValueNotSupported",
            format!(
                "The instance type \"{name}\" does not exist; DescribeInstanceTypes lists the types \
                 (for example ecs.g7.large)."
            ),
        )
    })
}

fn spec(w: &mut World, p: &Params, many: bool) -> Result<Spec, SimError> {
    let region = p.region()?.to_string();
    let image = resolve_image(p)?.ok_or_else(|| SimError::missing("ImageId"))?;
    let itype = resolve_type(p)?;
    let vswitch_id = p.str("VSwitchId").ok_or_else(|| {
        SimError::new(
            400,
            "MissingParameter",
            "The input parameter \"VSwitchId\" that is mandatory for processing this request is not \
             supplied: instances are created in a VPC (CreateVpc, then CreateVSwitch).",
        )
    })?;
    let (zone, vpc_id) = match w.vswitch(vswitch_id) {
        Some(s) if s.region == region => {
            if s.status != NetStatus::Available {
                return Err(SimError::new(
                    400,
                    "IncorrectVSwitchStatus",
                    format!("The vswitch {vswitch_id} is not Available yet; wait for it."),
                ));
            }
            (s.zone_id.clone(), s.vpc_id.clone())
        }
        _ => {
            return Err(not_found(
                "InvalidVSwitchId.NotFound",
                "VSwitchId",
                vswitch_id,
            ))
        }
    };
    launch::refuse_unmodelled(p, super::idempotency::PROTOCOL_PARAMS)?;
    if let Some(z) = p.str("ZoneId") {
        if z != zone {
            return Err(SimError::new(
                400,
                if p.strict() {
                    "InvalidParameter.Mismatch"
                } else {
                    "InvalidZoneId.Mismatch"
                },
                format!("The ZoneId {z} does not match the zone {zone} of vswitch {vswitch_id}."),
            ));
        }
    }
    let mut sg_ids: Vec<String> = Vec::new();
    if let Some(sg) = p.str("SecurityGroupId") {
        sg_ids.push(sg.to_string());
    }
    if many {
        for sg in p.list("SecurityGroupIds")? {
            if !sg_ids.iter().any(|s| s == sg) {
                sg_ids.push(sg.to_string());
            }
        }
    }
    if sg_ids.is_empty() {
        return Err(SimError::missing("SecurityGroupId"));
    }
    if sg_ids.len() > 5 {
        return Err(SimError::invalid(
            "SecurityGroupIds.N",
            "at most 5 security groups",
        ));
    }
    for sg in &sg_ids {
        match w.groups.get(sg) {
            Some(g) if g.region == region => {
                if g.vpc_id != vpc_id {
                    return Err(SimError::new(
                        400,
                        if p.strict() {
                            "InvalidParameter.Mismatch"
                        } else {
                            "InvalidSecurityGroup.NotInSameVpc"
                        },
                        format!(
                            "The security group {sg} is in {} but the vswitch {vswitch_id} is in \
                             {vpc_id}; they must be in the same VPC.",
                            g.vpc_id
                        ),
                    ));
                }
            }
            _ => {
                return Err(not_found(
                    "InvalidSecurityGroupId.NotFound",
                    "SecurityGroupId",
                    sg,
                ))
            }
        }
    }
    if w.closed(&region, &zone) {
        return Err(zone_not_on_sale(&zone));
    }
    if w.stock(&region, &zone, &itype.id) == Stock::NotOffered {
        return Err(SimError::new(
            400,
            if p.strict() {
                "InvalidInstanceType.ZoneNotSupported"
            } else {
                "InvalidInstanceType.NotSupported"
            },
            format!(
                "The instance type {} is not offered in zone {zone}; DescribeAvailableResource \
                 lists the types each zone sells.",
                itype.id
            ),
        ));
    }
    if image.architecture != itype.image_arch() {
        return Err(SimError::new(
            400,
            "InvalidImageId.NotSupported",
            format!(
                "The image {} ({}) cannot boot instance type {} ({}); pick an image of the same \
                 architecture.",
                image.image_id, image.architecture, itype.id, itype.arch
            ),
        ));
    }
    let system_disk = system_disk(p, itype, image)?;
    let data_disks = data_disks(p, itype)?;
    let bandwidth_out = p.int("InternetMaxBandwidthOut", 0, 100)?.unwrap_or(0) as u32;
    let bandwidth_in = p.int("InternetMaxBandwidthIn", 1, 10240)?.unwrap_or(100) as u32;
    let internet_charge_type = p
        .choice("InternetChargeType", &["PayByTraffic", "PayByBandwidth"])?
        .unwrap_or("PayByTraffic");
    let charge_type = p
        .choice("InstanceChargeType", &["PostPaid", "PrePaid"])?
        .unwrap_or("PostPaid");
    let period = if charge_type == "PrePaid" {
        Some(launch::period(p)?)
    } else {
        None
    };
    let spot_strategy = p
        .choice(
            "SpotStrategy",
            &["NoSpot", "SpotWithPriceLimit", "SpotAsPriceGo"],
        )?
        .unwrap_or("NoSpot");
    let name = launch::instance_name(p)?;
    let host_name = launch::host_name(p, image.os_type.eq_ignore_ascii_case("windows"))?;
    let private_ip = match (p.str("PrivateIpAddress"), p.strict()) {
        (Some(ip), true) => {
            let vsw = w
                .vswitches
                .get(vswitch_id)
                .ok_or_else(|| not_found("InvalidVSwitchId.NotFound", "VSwitchId", vswitch_id))?;
            let first = launch::private_ip(ip, vsw.cidr, vswitch_id, |_| false)?;
            // Amount > 1 takes consecutive addresses from the first: each must be usable and free.
            let amount = if many {
                p.int("Amount", 1, 100)?.unwrap_or(1) as u32
            } else {
                1
            };
            for n in 0..amount {
                let next = vsw.cidr.host(first + n);
                launch::private_ip(&next, vsw.cidr, vswitch_id, |_| vsw.is_taken(first + n))?;
            }
            Some(first)
        }
        _ => None,
    };
    if let Some(pw) = p.str("Password") {
        check_password(pw)?;
    }
    let user_data = match p.str("UserData") {
        None => None,
        Some(ud) => Some(check_user_data(ud)?),
    };
    Ok(Spec {
        region,
        zone,
        itype,
        image,
        vpc_id,
        vswitch_id: vswitch_id.to_string(),
        sg_ids,
        system_disk,
        data_disks,
        bandwidth_out,
        bandwidth_in,
        internet_charge_type,
        charge_type,
        period,
        spot_strategy,
        name,
        host_name,
        private_ip,
        description: p.str("Description").unwrap_or("").to_string(),
        unique_suffix: p.flag("UniqueSuffix")?,
        tags: p.tags()?,
        key_pair: p.str("KeyPairName").unwrap_or("").to_string(),
        user_data,
        deletion_protection: p.flag("DeletionProtection")?,
        auto_release_time: auto_release_time(p, w.clock.wall_now(), charge_type)?,
    })
}

/// `AutoReleaseTime` of a new instance (see [`check_auto_release_time`]); empty when none.
fn auto_release_time(
    p: &Params,
    now: time::OffsetDateTime,
    charge_type: &str,
) -> Result<String, SimError> {
    match p.str("AutoReleaseTime") {
        None | Some("") => Ok(String::new()),
        Some(raw) => check_auto_release_time(raw, now, charge_type),
    }
}

/// The service's rules for `AutoReleaseTime`: UTC `yyyy-MM-ddTHH:mm:ssZ` (or without
/// seconds), pay-as-you-go instances only, at least 30 minutes and at most 3 years after `now`
/// (the simulated wall clock). Kept to the minute, as the service does; returned normalized.
fn check_auto_release_time(
    raw: &str,
    now: time::OffsetDateTime,
    charge_type: &str,
) -> Result<String, SimError> {
    let with_seconds =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let minutes = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]Z");
    let parsed = time::PrimitiveDateTime::parse(raw, with_seconds)
        .or_else(|_| time::PrimitiveDateTime::parse(raw, minutes))
        .map_err(|_| {
            SimError::new(
                400,
                "InvalidAutoReleaseTime.Malformed",
                format!("AutoReleaseTime \"{raw}\" is not UTC yyyy-MM-ddTHH:mm:ssZ."),
            )
        })?
        .assume_utc();
    if charge_type != "PostPaid" {
        return Err(SimError::new(
            403,
            "InvalidInstanceChargeType.NotSupport",
            "AutoReleaseTime applies to pay-as-you-go (PostPaid) instances only.".to_string(),
        ));
    }
    let parsed = parsed.replace_second(0).unwrap_or(parsed);
    if parsed < now + time::Duration::minutes(30) {
        return Err(SimError::new(
            400,
            "InvalidAutoReleaseTime",
            format!("AutoReleaseTime {raw} must be at least 30 minutes from now."),
        ));
    }
    if parsed > now + time::Duration::days(3 * 365) {
        return Err(SimError::new(
            400,
            "InvalidAutoReleaseTime",
            format!("AutoReleaseTime {raw} must be at most 3 years from now."),
        ));
    }
    Ok(crate::rpc::format_timestamp(parsed))
}

/// Releases every instance whose AutoReleaseTime has passed on the simulated wall clock, as
/// the service does by itself.
pub(super) fn release_expired(w: &mut World) {
    let now = w.clock.wall_now();
    let due: Vec<String> = w
        .instances
        .values()
        .filter(|i| i.released.is_none() && !i.auto_release_time.is_empty())
        .filter(|i| {
            time::OffsetDateTime::parse(
                &i.auto_release_time,
                &time::format_description::well_known::Rfc3339,
            )
            .is_ok_and(|t| t <= now)
        })
        .map(|i| i.id.clone())
        .collect();
    for id in due {
        release(w, &id);
    }
}

/// `ModifyInstanceAutoReleaseTime`: sets the instance's AutoReleaseTime, or clears it when
/// the parameter is absent or empty.
pub fn modify_auto_release_time(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let id = p.need("InstanceId")?;
    let now = w.clock.wall_now();
    let i = w.instance_in(p, id)?;
    let value = match p.str("AutoReleaseTime") {
        None | Some("") => String::new(),
        Some(raw) => check_auto_release_time(raw, now, &i.charge_type)?,
    };
    i.auto_release_time = value;
    Ok(json!({}))
}

fn default_category(itype: &InstanceType) -> String {
    let c = &itype.disk_categories;
    ["cloud_efficiency", "cloud_essd", "cloud_auto"]
        .iter()
        .find(|d| c.iter().any(|x| x == *d))
        .map_or_else(|| c.first().cloned().unwrap_or_default(), |d| d.to_string())
}

fn system_disk(
    p: &Params,
    itype: &InstanceType,
    image: &Image,
) -> Result<(String, u32, String), SimError> {
    let category = p
        .str("SystemDisk.Category")
        .map_or_else(|| default_category(itype), str::to_string);
    if !itype.disk_categories.contains(&category) {
        return Err(SimError::new(
            400,
            "InvalidSystemDiskCategory.ValueNotSupported",
            format!(
                "The system disk category \"{category}\" is not supported by {}; use one of {}.",
                itype.id,
                itype.disk_categories.join(", ")
            ),
        ));
    }
    let size = match p.str("SystemDisk.Size") {
        None => image.size.max(40),
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|s| (20..=2048).contains(s))
            .ok_or_else(|| {
                SimError::new(
                    400,
                    "InvalidSystemDiskSize.ValueNotSupported",
                    format!("The SystemDisk.Size \"{raw}\" is not supported: use 20 to 2048 GiB."),
                )
            })?,
    };
    if size < image.size {
        return Err(SimError::new(
            400,
            "InvalidSystemDiskSize.LessThanImageSize",
            format!(
                "The system disk ({size} GiB) is smaller than the image {} ({} GiB).",
                image.image_id, image.size
            ),
        ));
    }
    let pl = p
        .str("SystemDisk.PerformanceLevel")
        .unwrap_or(if category == "cloud_essd" { "PL1" } else { "" });
    Ok((category, size, pl.to_string()))
}

fn data_disks(
    p: &Params,
    itype: &InstanceType,
) -> Result<Vec<(String, u32, String, bool)>, SimError> {
    let disks = p.structs("DataDisk")?;
    if disks.len() > 16 {
        return Err(SimError::invalid("DataDisk.N", "at most 16 data disks"));
    }
    let catalog = Catalog::get();
    disks
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let n = i + 1;
            let category = d
                .get("Category")
                .map_or_else(|| default_category(itype), |c| c.to_string());
            let spec = catalog
                .disk(&category)
                .filter(|_| itype.disk_categories.contains(&category))
                .ok_or_else(|| {
                    SimError::new(
                        400,
                        "InvalidDataDiskCategory.ValueNotSupported",
                        format!(
                            "DataDisk.{n}.Category \"{category}\" is not supported by {}; use one of {}.",
                            itype.id,
                            itype.disk_categories.join(", ")
                        ),
                    )
                })?;
            let size = d
                .get("Size")
                .and_then(|s| s.parse::<u32>().ok())
                .filter(|s| (spec.min..=spec.max).contains(s))
                .ok_or_else(|| {
                    SimError::new(
                        400,
                        "InvalidDataDiskSize.ValueNotSupported",
                        format!(
                            "DataDisk.{n}.Size must be {} to {} GiB for {category}.",
                            spec.min, spec.max
                        ),
                    )
                })?;
            let pl = d.get("PerformanceLevel").copied().unwrap_or("").to_string();
            let delete_with = !d
                .get("DeleteWithInstance")
                .is_some_and(|v| v.eq_ignore_ascii_case("false"));
            Ok((category, size, pl, delete_with))
        })
        .collect()
}

fn check_password(pw: &str) -> Result<(), SimError> {
    let classes = [
        pw.chars().any(|c| c.is_ascii_lowercase()),
        pw.chars().any(|c| c.is_ascii_uppercase()),
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| c.is_ascii_punctuation()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if (8..=30).contains(&pw.len()) && pw.is_ascii() && classes >= 3 {
        return Ok(());
    }
    Err(SimError::new(
        400,
        "InvalidPassword.Malformed",
        "The password must be 8 to 30 characters with at least three of: lower case, upper case, digits, special characters.",
    ))
}

/// UserData is Base64 of at most 32 KB of script (the service stores it, never runs it here).
fn check_user_data(ud: &str) -> Result<String, SimError> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(ud.trim())
        .map_err(|_| {
            SimError::new(
                400,
                "InvalidUserData.NotBase64",
                "UserData must be Base64-encoded.",
            )
        })?;
    if decoded.len() > 32 * 1024 {
        return Err(SimError::new(
            400,
            "InvalidUserData.SizeExceeded",
            format!(
                "UserData is {} bytes once decoded; at most 32 KB is allowed.",
                decoded.len()
            ),
        ));
    }
    Ok(ud.trim().to_string())
}

/// How many instances the request gets, given the zone's stock (the MinAmount rules).
fn amount_for_stock(p: &Params, left: u32) -> Result<u32, SimError> {
    let amount = p.int("Amount", 1, 100)?.unwrap_or(1) as u32;
    let min = match p.int("MinAmount", 1, 100) {
        Ok(Some(m)) if m as u32 > amount => Err(SimError::invalid(
            "MinAmount",
            "it cannot be greater than Amount",
        )),
        Ok(m) => Ok(m.map(|m| m as u32)),
        Err(e) => Err(e),
    }
    .map_err(|e| {
        if p.strict() {
            // The code the API reference lists for a MinAmount out of 1..=Amount.
            SimError::new(400, "InvalidMinAmount.Malformed", e.message)
        } else {
            e
        }
    })?;
    let needed = min.unwrap_or(amount);
    if left < needed {
        return Err(no_stock());
    }
    Ok(amount.min(left))
}

/// A zone closed to new purchases.
fn zone_not_on_sale(zone: &str) -> SimError {
    SimError::new(
        403,
        "Zone.NotOnSale",
        format!(
            "The zone {zone} is not on sale: it takes no new instances or disks; pick another zone \
             (DescribeZones and DescribeAvailableResource show what each zone sells)."
        ),
    )
}

pub(super) fn no_stock() -> SimError {
    SimError::new(
        403,
        "OperationDenied.NoStock",
        "The requested resource is sold out in the specified zone; try other types of resources \
         or other regions and zones (DescribeAvailableResource shows what is in stock).",
    )
}

fn order_id() -> String {
    use rand::Rng;
    rand::thread_rng()
        .gen_range(200_000_000_000_000u64..299_999_999_999_999)
        .to_string()
}

fn trade_price(s: &Spec, count: u32) -> f64 {
    let price = Catalog::get().price(&s.region, &s.itype.id);
    let unit = match (price, s.charge_type) {
        (Some(pr), "PrePaid") => {
            pr.month * f64::from(s.period.map_or(1, Period::billed_months).max(1))
        }
        (Some(pr), _) => pr.hour,
        (None, _) => 0.0,
    };
    (unit * f64::from(count) * 1000.0).round() / 1000.0
}

fn spawn(w: &mut World, s: &Spec, count: u32, from_run: bool) -> Result<Vec<String>, SimError> {
    let mut ids = Vec::new();
    for n in 0..count {
        let id = new_id("i", &s.region);
        let private_ip = match w.vswitches.get_mut(&s.vswitch_id) {
            Some(v) => match s.private_ip {
                Some(first) => v.take_ip(first + n),
                None => v.allocate_ip()?,
            },
            None => {
                return Err(not_found(
                    "InvalidVSwitchId.NotFound",
                    "VSwitchId",
                    &s.vswitch_id,
                ))
            }
        };
        let name = s.name.as_ref().map_or_else(
            || id.clone(),
            |pat| pat.expand(&id, n, s.unique_suffix, count),
        );
        let host_name = s.host_name.as_ref().map_or_else(
            || format!("iZ{}Z", id.trim_start_matches("i-")),
            |pat| pat.expand(&id, n, s.unique_suffix, count),
        );
        let public = (from_run && s.bandwidth_out > 0).then(|| public_ip(&s.region));
        let seq = w.seq();
        let inst = Instance {
            id: id.clone(),
            seq,
            region: s.region.clone(),
            zone: s.zone.clone(),
            name,
            host_name,
            description: s.description.clone(),
            instance_type: s.itype.id.clone(),
            image_id: s.image.image_id.clone(),
            vpc_id: s.vpc_id.clone(),
            vswitch_id: s.vswitch_id.clone(),
            sg_ids: s.sg_ids.clone(),
            private_ip,
            public_ip: public,
            bandwidth_out: s.bandwidth_out,
            bandwidth_in: s.bandwidth_in,
            internet_charge_type: s.internet_charge_type.to_string(),
            charge_type: s.charge_type.to_string(),
            spot_strategy: s.spot_strategy.to_string(),
            status: Status::Pending,
            timer: w.clock.start(),
            from_run,
            initializing: true,
            rebooting: false,
            agent_online: false,
            released: None,
            release_hidden: false,
            creation_time: stamp::minutes(),
            start_time: String::new(),
            expired_time: if let Some(period) = s.period {
                expiry(period)
            } else {
                "2099-12-31T15:59Z".to_string()
            },
            auto_release_time: s.auto_release_time.clone(),
            tags: s.tags.clone(),
            key_pair: s.key_pair.clone(),
            user_data: s.user_data.clone(),
            deletion_protection: s.deletion_protection,
            stopped_mode: "Not-applicable".to_string(),
            public_ip_reclaimed: false,
        };
        w.instances.insert(id.clone(), inst);
        add_disk(
            w,
            s,
            &id,
            "system",
            &s.system_disk.0,
            s.system_disk.1,
            &s.system_disk.2,
            true,
            0,
        );
        for (i, (cat, size, pl, del)) in s.data_disks.iter().enumerate() {
            add_disk(w, s, &id, "data", cat, *size, pl, *del, i + 1);
        }
        ids.push(id);
    }
    Ok(ids)
}

fn expiry(period: Period) -> String {
    let now = time::OffsetDateTime::now_utc() + time::Duration::days(period.days());
    format!(
        "{:04}-{:02}-{:02}T16:00Z",
        now.year(),
        u8::from(now.month()),
        now.day()
    )
}

#[allow(clippy::too_many_arguments)]
fn add_disk(
    w: &mut World,
    s: &Spec,
    instance: &str,
    kind: &str,
    category: &str,
    size: u32,
    pl: &str,
    delete_with: bool,
    index: usize,
) {
    let seq = w.seq();
    let id = new_id("d", &s.region);
    let device = format!("/dev/xvd{}", (b'a' + (index as u8).min(25)) as char);
    w.disks.insert(
        id.clone(),
        Disk {
            id,
            seq,
            region: s.region.clone(),
            zone: s.zone.clone(),
            name: String::new(),
            description: String::new(),
            category: category.to_string(),
            performance_level: pl.to_string(),
            size,
            disk_type: kind.to_string(),
            instance_id: instance.to_string(),
            device,
            image_id: if kind == "system" {
                s.image.image_id.clone()
            } else {
                String::new()
            },
            delete_with_instance: delete_with,
            creation_time: stamp::seconds(),
            tags: Vec::new(),
        },
    );
}

pub fn run_instances(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let s = spec(w, p, true)?;
    let left = w.stock_left(&s.region, &s.zone, &s.itype.id);
    let count = amount_for_stock(p, left)?;
    let free_ips = w.vswitches.get(&s.vswitch_id).map_or(0, |v| {
        v.cidr.size().saturating_sub(6 + u64::from(v.next_host))
    });
    if u64::from(count) > free_ips {
        return Err(SimError::new(
            403,
            "InvalidVSwitchId.IpNotEnough",
            format!(
                "The vswitch {} has only {free_ips} free private IPs.",
                s.vswitch_id
            ),
        ));
    }
    if p.dry_run()? {
        return Err(dry_run_passed(p.action.name));
    }
    let ids = spawn(w, &s, count, true)?;
    Ok(json!({
        "InstanceIdSets": { "InstanceIdSet": ids },
        "OrderId": order_id(),
        "TradePrice": trade_price(&s, count),
    }))
}

pub fn create_instance(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let s = spec(w, p, false)?;
    if w.stock_left(&s.region, &s.zone, &s.itype.id) == 0 {
        return Err(no_stock());
    }
    if p.dry_run()? {
        return Err(dry_run_passed(p.action.name));
    }
    let ids = spawn(w, &s, 1, false)?;
    Ok(json!({
        "InstanceId": ids.first().cloned().unwrap_or_default(),
        "OrderId": order_id(),
        "TradePrice": trade_price(&s, 1),
    }))
}

// ---- describing ----------------------------------------------------------------------------

pub(super) fn md5ish(s: &str) -> u128 {
    s.bytes().fold(0xcbf29ce484222325u128, |h, b| {
        (h ^ u128::from(b)).wrapping_mul(0x100000001b3)
    })
}

pub(super) fn mac(id: &str) -> String {
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

/// [`observe`] then [`matching`] (`show` on top of `keep`) in one walk of the account, for a
/// listing of the whole region, in no particular order (a page orders only what it shows:
/// [`paging::order_window`]). Also the ids of the instances that walk found gone for good,
/// already hidden, for the caller to remove once it is done with the list.
fn observe_listing<'w>(
    w: &'w mut World,
    region: &str,
    keep: &impl Fn(&Instance) -> bool,
    show: &impl Fn(&Instance) -> bool,
) -> (Vec<&'w Instance>, Vec<String>) {
    let clock = &w.clock;
    let mut list = Vec::new();
    let mut gone = Vec::new();
    for inst in w.instances.values_mut() {
        if inst.region != region || !inst.visible() || !keep(inst) {
            continue;
        }
        if !inst.settle(clock) {
            gone.push(inst.id.clone());
            continue;
        }
        let inst: &'w Instance = inst;
        if inst.visible() && show(inst) {
            list.push(inst);
        }
    }
    (list, gone)
}

/// The status an instance shows (a released one is `Stopping` until it vanishes).
pub(super) fn shown_status(i: &Instance) -> Status {
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

/// DescribeInstances; its answer is written straight to bytes ([`render::instances_page`]).
pub fn describe_instances(w: &mut World, p: &Params) -> Result<Answer, SimError> {
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
    let with_status =
        |i: &Instance| keep(i) && status.map_or(true, |s| s == shown_status(i).as_str());
    let (mut list, gone) = match scope.as_deref() {
        Some(ids) => {
            observe(w, &region, Some(ids), &keep);
            (matching(w, &region, Some(ids), &with_status), Vec::new())
        }
        None => observe_listing(w, &region, &keep, &with_status),
    };
    let (body, window) = paging::frame(p, list.len(), Map::new(), Some((10, 100)))?;
    paging::order_window(&mut list, &window, |i| i.seq);
    let answer = render::instances_page(p, body, &list[window]);
    for id in gone {
        w.instances.remove(&id);
    }
    answer
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

// ---- state changes -------------------------------------------------------------------------

fn incorrect_status(i: &Instance, action: &str, legal: &str) -> SimError {
    SimError::new(
        403,
        "IncorrectInstanceStatus",
        format!(
            "The current status of the resource does not support this operation: {} is {}, and \
             {action} needs it {legal}.",
            i.id,
            i.status.as_str()
        ),
    )
}

pub fn start_instance(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let id = p.need("InstanceId")?;
    let dry = p.dry_run()?;
    let timer = w.clock.start();
    let i = w.instance_in(p, id)?;
    if i.status != Status::Stopped {
        return Err(incorrect_status(i, "StartInstance", "Stopped"));
    }
    if dry {
        return Err(dry_run_passed(p.action.name));
    }
    i.status = Status::Starting;
    i.timer = timer;
    if std::mem::take(&mut i.public_ip_reclaimed) {
        i.public_ip = Some(public_ip(&i.region));
    }
    Ok(json!({}))
}

pub fn stop_instance(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let id = p.need("InstanceId")?;
    let force = p.flag("ForceStop")?;
    let dry = p.dry_run()?;
    let mode = p
        .choice("StoppedMode", &["KeepCharging", "StopCharging"])?
        .unwrap_or("KeepCharging");
    let timer = w.clock.start();
    let i = w.instance_in(p, id)?;
    let legal =
        i.status == Status::Running || (force && i.status == Status::Starting && !i.initializing);
    if !legal {
        return Err(incorrect_status(i, "StopInstance", "Running"));
    }
    if dry {
        return Err(dry_run_passed(p.action.name));
    }
    i.status = Status::Stopping;
    i.rebooting = false;
    i.agent_online = false;
    i.timer = timer;
    i.stopped_mode = mode.to_string();
    if p.strict() && mode == "StopCharging" {
        if i.charge_type == "PrePaid" {
            // "Instance types that do not support economical mode include ... subscription
            // instances": no error, the instance just stops normally.
            i.stopped_mode = "KeepCharging".to_string();
        } else if i.public_ip.take().is_some() {
            // Economical mode reclaims the static public IP; StartInstance gives a new one.
            i.public_ip_reclaimed = true;
        }
    }
    Ok(json!({}))
}

pub fn reboot_instance(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let id = p.need("InstanceId")?;
    let dry = p.dry_run()?;
    let timer = w.clock.start();
    let i = w.instance_in(p, id)?;
    if i.status != Status::Running {
        return Err(incorrect_status(i, "RebootInstance", "Running"));
    }
    if dry {
        return Err(dry_run_passed(p.action.name));
    }
    i.status = Status::Stopping;
    i.rebooting = true;
    i.agent_online = false;
    i.timer = timer;
    Ok(json!({}))
}

/// Whether an instance may be released now (the legal-from table of DeleteInstance).
fn check_deletable(i: &Instance, force: bool, p: &Params) -> Result<(), SimError> {
    if i.initializing {
        return Err(SimError::new(
            403,
            "IncorrectInstanceStatus.Initializing",
            format!(
                "The instance {} is still being created ({}); retry the release once it is \
                 Running or Stopped.",
                i.id,
                i.status.as_str()
            ),
        ));
    }
    if i.deletion_protection {
        return Err(SimError::new(
            403,
            "InvalidOperation.DeletionProtection",
            format!("The instance {} has deletion protection enabled.", i.id),
        ));
    }
    if i.charge_type == "PrePaid" && p.strict() {
        // The model: TerminateSubscription "specifies whether to release an expired
        // subscription instance"; an unexpired one is never released by this call.
        let expired = expired(&i.expired_time);
        if !expired || !p.flag("TerminateSubscription")? {
            return Err(SimError::new(
                403,
                "ChargeTypeViolation",
                format!(
                    "The operation is not permitted due to charge type of the instance: {} is a subscription (PrePaid) instance{}; DeleteInstances releases it only once it has expired, with TerminateSubscription=true.",
                    i.id,
                    if expired { "" } else { " that has not expired" }
                ),
            ));
        }
    }
    if i.charge_type == "PrePaid" && !p.flag("TerminateSubscription")? {
        return Err(SimError::new(
            403,
            "InvalidInstanceChargeType.NotSupported",
            format!(
                "The instance {} is a subscription (PrePaid) instance and cannot be released before \
                 it expires (TerminateSubscription=true releases it).",
                i.id
            ),
        ));
    }
    let ok = match i.status {
        Status::Stopped => true,
        Status::Running | Status::Stopping | Status::Starting => force,
        Status::Pending => false,
    };
    if !ok {
        return Err(SimError::new(
            403,
            "IncorrectInstanceStatus",
            format!(
                "The instance {} is {}; release needs it Stopped, or Force=true to release it while \
                 running.",
                i.id,
                i.status.as_str()
            ),
        ));
    }
    Ok(())
}

/// True when an `ExpiredTime` (`yyyy-MM-ddTHH:mmZ`) is in the past.
fn expired(expired_time: &str) -> bool {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]Z");
    time::PrimitiveDateTime::parse(expired_time, format)
        .is_ok_and(|t| t.assume_utc() <= time::OffsetDateTime::now_utc())
}

fn release(w: &mut World, id: &str) {
    let timer = w.clock.start();
    if let Some(i) = w.instances.get_mut(id) {
        i.released = Some(timer);
        i.release_hidden = false;
        i.status = Status::Stopping;
        i.agent_online = false;
        i.public_ip = None;
    }
    w.disks
        .retain(|_, d| d.instance_id != id || !d.delete_with_instance);
    for d in w.disks.values_mut().filter(|d| d.instance_id == id) {
        d.instance_id.clear();
    }
}

pub fn delete_instance(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let id = p.need("InstanceId")?;
    let force = p.flag("Force")?;
    let dry = p.dry_run()?;
    let i = w.instance_in(p, id)?;
    check_deletable(i, force, p)?;
    if dry {
        return Err(dry_run_passed(p.action.name));
    }
    release(w, id);
    Ok(json!({}))
}

pub fn delete_instances(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let ids = p.list("InstanceId")?;
    if ids.len() > 100 {
        return Err(SimError::invalid(
            "InstanceId.N",
            "at most 100 instance ids",
        ));
    }
    let force = p.flag("Force")?;
    let dry = p.dry_run()?;
    for id in &ids {
        let i = w.instance_in(p, id)?;
        check_deletable(i, force, p)?;
    }
    if dry {
        return Err(dry_run_passed(p.action.name));
    }
    for id in ids {
        release(w, id);
    }
    Ok(json!({}))
}

pub fn allocate_public_ip(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let id = p.need("InstanceId")?;
    let i = w.instance_in(p, id)?;
    if !matches!(i.status, Status::Running | Status::Stopped) {
        return Err(incorrect_status(
            i,
            "AllocatePublicIpAddress",
            "Running or Stopped",
        ));
    }
    if i.bandwidth_out == 0 {
        return Err(SimError::new(
            403,
            "OperationDenied",
            format!(
                "The instance {id} has InternetMaxBandwidthOut 0, so it cannot have a public IP; \
                 create it with InternetMaxBandwidthOut > 0."
            ),
        ));
    }
    if i.public_ip.is_some() {
        return Err(SimError::new(
            403,
            "AllocatedAlready",
            format!("The instance {id} already has a public IP address."),
        ));
    }
    let ip = public_ip(&i.region);
    i.public_ip = Some(ip.clone());
    Ok(json!({ "IpAddress": ip }))
}

// ---- disks ---------------------------------------------------------------------------------

pub fn create_disk(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let zone = p.need("ZoneId")?.to_string();
    if Catalog::get().zone(&region, &zone).is_none() {
        return Err(SimError::new(
            400,
            "InvalidZoneId.NotFound",
            format!("The zone {zone} does not exist in {region}."),
        ));
    }
    if w.closed(&region, &zone) {
        return Err(zone_not_on_sale(&zone));
    }
    let category = p.str("DiskCategory").unwrap_or("cloud_efficiency");
    let spec = Catalog::get().disk(category).ok_or_else(|| {
        SimError::new(
            400,
            "InvalidDiskCategory.ValueNotSupported",
            format!(
                "The disk category \"{category}\" is not supported; use cloud_efficiency, cloud_ssd, cloud_essd, cloud_auto or cloud_essd_entry."
            ),
        )
    })?;
    let size = p
        .int("Size", i64::from(spec.min), i64::from(spec.max))?
        .ok_or_else(|| SimError::missing("Size"))? as u32;
    let name = p.str("DiskName").unwrap_or("").to_string();
    check_name("DiskName", &name)?;
    let tags = p.tags()?;
    if p.dry_run()? {
        return Err(dry_run_passed(p.action.name));
    }
    let seq = w.seq();
    let id = new_id("d", &region);
    w.disks.insert(
        id.clone(),
        Disk {
            id: id.clone(),
            seq,
            region,
            zone,
            name,
            description: p.str("Description").unwrap_or("").to_string(),
            category: category.to_string(),
            performance_level: p.str("PerformanceLevel").unwrap_or("").to_string(),
            size,
            disk_type: "data".to_string(),
            instance_id: String::new(),
            device: String::new(),
            image_id: String::new(),
            delete_with_instance: false,
            creation_time: stamp::seconds(),
            tags,
        },
    );
    Ok(json!({ "DiskId": id, "OrderId": order_id() }))
}

pub fn describe_disks(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?;
    let ids = p.json_list("DiskIds", 100)?;
    let instance = p.str("InstanceId");
    let zone = p.str("ZoneId");
    let kind = p
        .choice("DiskType", &["all", "system", "data"])?
        .unwrap_or("all");
    let category = p.str("Category");
    let status = p.str("Status");
    let filter = p.tags()?;
    let mut list: Vec<&Disk> = w
        .disks
        .values()
        .filter(|d| {
            let st = if d.instance_id.is_empty() {
                "Available"
            } else {
                "In_use"
            };
            d.region == region
                && ids.as_ref().map_or(true, |ids| ids.contains(&d.id))
                && instance.map_or(true, |i| i == d.instance_id)
                && zone.map_or(true, |z| z == d.zone)
                && (kind == "all" || kind == d.disk_type)
                && category.map_or(true, |c| c == d.category)
                && status.map_or(true, |s| s == "All" || s == st)
                && tags::matches(&d.tags, &filter)
        })
        .collect();
    list.sort_by_key(|d| d.seq);
    paging::page(
        p,
        list,
        |d| {
            json!({
                "DiskId": d.id,
                "DiskName": d.name,
                "Description": d.description,
                "RegionId": d.region,
                "ZoneId": d.zone,
                "Category": d.category,
                "PerformanceLevel": d.performance_level,
                "Size": d.size,
                "Type": d.disk_type,
                "Status": if d.instance_id.is_empty() { "Available" } else { "In_use" },
                "Attachments": { "Attachment": attachments(d) },
                "IOPS": iops(&d.category, &d.performance_level, d.size),
                "MultiAttach": "Disabled",
                "EnableAutoSnapshot": false,
                "DeleteAutoSnapshot": true,
                "BurstingEnabled": false,
                "KMSKeyId": "",
                "StorageSetId": "",
                "SerialNumber": d.id.trim_start_matches("d-"),
                "ExpiredTime": "2999-09-08T16:00Z",
                "InstanceId": d.instance_id,
                "Device": d.device,
                "ImageId": d.image_id,
                "DeleteWithInstance": d.delete_with_instance,
                "Portable": d.disk_type == "data",
                "DiskChargeType": "PostPaid",
                "Encrypted": false,
                "CreationTime": d.creation_time,
                "ResourceGroupId": RESOURCE_GROUP,
                "Tags": tags::ecs_style(&d.tags),
            })
        },
        Map::new(),
    )
}

/// `Attachments.Attachment[]` of DescribeDisks: the instance a disk is attached to, if any.
fn attachments(d: &Disk) -> Value {
    if d.instance_id.is_empty() {
        return json!([]);
    }
    json!([{ "InstanceId": d.instance_id, "Device": d.device, "AttachedTime": d.creation_time }])
}

/// The IOPS a disk of this category, level and size delivers, by the published formulas
/// (ESSD PL0/PL1 min(1800 + 50×size, 10000/50000); ESSD PL2/PL3 min(1800 + 50×size, 100000/
/// 1000000); ultra disk min(1800 + 8×size, 5000); standard SSD min(1800 + 30×size, 25000)).
fn iops(category: &str, level: &str, size: u32) -> u64 {
    let size = u64::from(size);
    match (category, level) {
        ("cloud_essd", "PL0") => (1800 + 12 * size).min(10_000),
        ("cloud_essd", "PL2") => (1800 + 50 * size).min(100_000),
        ("cloud_essd", "PL3") => (1800 + 50 * size).min(1_000_000),
        ("cloud_essd", _) => (1800 + 50 * size).min(50_000),
        ("cloud_ssd", _) => (1800 + 30 * size).min(25_000),
        ("cloud_auto", _) => (1800 + 50 * size).min(50_000),
        ("cloud_essd_entry", _) => (1800 + 8 * size).min(6_000),
        _ => (1800 + 8 * size).min(5_000),
    }
}

pub fn delete_disk(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let id = p.need("DiskId")?;
    let region = p.str("RegionId");
    let Some(d) = w
        .disks
        .get(id)
        .filter(|d| region.map_or(true, |r| r == d.region))
    else {
        return Err(not_found("InvalidDiskId.NotFound", "DiskId", id));
    };
    if !d.instance_id.is_empty() {
        return Err(SimError::new(
            403,
            "IncorrectDiskStatus",
            format!(
                "The disk {id} is attached to {} ({}); only an unattached (Available) disk can be deleted.",
                d.instance_id, d.disk_type
            ),
        ));
    }
    w.disks.remove(id);
    Ok(json!({}))
}
