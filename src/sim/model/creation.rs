//! Creating instances: RunInstances and CreateInstance. The request's spec with the real
//! validations (image, type, zone, vswitch, security groups in the same VPC, disks, bandwidth,
//! stock, AutoReleaseTime, password, DryRun), and spawning the instances with their system and
//! data disks. The launch rules themselves are `launch.rs`'s; the lifecycle is `instances.rs`'s.
//!
//! Must not: know about HTTP or ClientTokens (the dispatcher replays those).

use super::super::catalog::{Catalog, Image, InstanceType, Stock};
use super::super::clock::stamp;
use super::disks::Disk;
use super::instances::{Instance, Status};
use super::launch::{self, NamePattern, Period};
use super::network::{public_ip, NetStatus};
use super::params::Params;
use super::{dry_run_passed, new_id, not_found, tags, SimError, World};
use base64::Engine;
use serde_json::{json, Value};
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
    let catalog = p.catalog;
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

/// The security group `sg` exists in `region` and is in `vpc_id`, the VPC of `holder` (the
/// vswitch of a new instance, an existing instance), or the service's error.
pub(super) fn check_group_in_vpc(
    w: &World,
    p: &Params,
    sg: &str,
    region: &str,
    vpc_id: &str,
    holder: &str,
) -> Result<(), SimError> {
    match w.groups.get(sg) {
        Some(g) if g.region == region && g.vpc_id == vpc_id => Ok(()),
        Some(g) if g.region == region => Err(SimError::new(
            400,
            if p.strict() {
                "InvalidParameter.Mismatch"
            } else {
                "InvalidSecurityGroup.NotInSameVpc"
            },
            format!(
                "The security group {sg} is in {} but {holder} is in {vpc_id}; they must be in \
                 the same VPC.",
                g.vpc_id
            ),
        )),
        _ => Err(not_found(
            "InvalidSecurityGroupId.NotFound",
            "SecurityGroupId",
            sg,
        )),
    }
}

pub(super) fn resolve_type(p: &Params) -> Result<&'static InstanceType, SimError> {
    let name = p.need("InstanceType")?;
    p.catalog.instance_type(name).ok_or_else(|| {
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
        check_group_in_vpc(
            w,
            p,
            sg,
            &region,
            &vpc_id,
            &format!("the vswitch {vswitch_id}"),
        )?;
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
    // --- Spot (issue 15) ---
    super::spot::check_launch(w, p, &region, &zone, &itype.id, spot_strategy, charge_type)?;
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
        key_pair: super::keypairs::for_launch(w, p, image)?,
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
pub(super) fn check_auto_release_time(
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

fn default_category(itype: &InstanceType) -> String {
    let c = &itype.disk_categories;
    if c.is_empty() {
        // A learned type that does not list its categories: today's default, ESSD.
        return "cloud_essd".into();
    }
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
    if !itype.takes_disk(&category) {
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
    let catalog = p.catalog;
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
                .filter(|_| itype.takes_disk(&category))
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
pub(super) fn zone_not_on_sale(zone: &str) -> SimError {
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

pub(super) fn order_id() -> String {
    use rand::Rng;
    rand::thread_rng()
        .gen_range(200_000_000_000_000u64..299_999_999_999_999)
        .to_string()
}

fn trade_price(catalog: &Catalog, s: &Spec, count: u32) -> f64 {
    let price = catalog.price(&s.region, &s.itype.id);
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
        w.instances.insert(inst);
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
            moving: None,
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
        "TradePrice": trade_price(p.catalog, &s, count),
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
        "TradePrice": trade_price(p.catalog, &s, 1),
    }))
}
