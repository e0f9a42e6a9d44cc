//! Disks: the system and data disks of instances and the pay-as-you-go data disks of
//! CreateDisk, with DescribeDisks and DeleteDisk. A disk made with its instance goes with it
//! (`DeleteWithInstance`); the others are detached when it is released.
//!
//! Must not: know about HTTP or ClientTokens (the dispatcher replays those).

use super::super::clock::stamp;
use super::creation::{order_id, zone_not_on_sale};
use super::network::{check_name, RESOURCE_GROUP};
use super::params::Params;
use super::{dry_run_passed, new_id, not_found, paging, tags, SimError, World};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

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
    /// An attach or detach in progress (issue 15, `disk_attach`).
    #[serde(default)]
    pub moving: Option<super::disk_attach::Move>,
}

pub fn create_disk(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let zone = p.need("ZoneId")?.to_string();
    if w.catalog.zone(&region, &zone).is_none() {
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
    let spec = w.catalog.disk(category).ok_or_else(|| {
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
            moving: None,
        },
    );
    Ok(json!({ "DiskId": id, "OrderId": order_id() }))
}

pub fn describe_disks(w: &mut World, p: &Params) -> Result<Value, SimError> {
    super::disk_attach::settle(w);
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
            let st = super::disk_attach::status(d);
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
                "Status": super::disk_attach::status(d),
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
    super::disk_attach::settle(w);
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
