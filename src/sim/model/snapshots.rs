//! Snapshots and custom images (issue 15): CreateSnapshot (progressing → accomplished),
//! DescribeSnapshots, DeleteSnapshot (refused while an image uses the snapshot:
//! `SnapshotCreatedImage`), CreateImage from a system-disk snapshot or from an instance (which
//! snapshots each of its disks, as the service does; those snapshots outlive the image),
//! the account's own images in DescribeImages (`ImageOwnerAlias=self`), DeleteImage.
//!
//! Must not: know about HTTP or ClientTokens.

use super::super::clock::{stamp, Timer};
use super::network::RESOURCE_GROUP;
use super::params::Params;
use super::{dry_run_passed, new_id, not_found, paging, tags, SimError, World};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// How long the service takes to finish a snapshot or an image (seconds).
const SNAPSHOT_CREATING: f64 = 10.0;
const IMAGE_CREATING: f64 = 10.0;

#[derive(Serialize, Deserialize)]
pub struct Snapshot {
    pub id: String,
    pub seq: u64,
    pub region: String,
    pub name: String,
    pub description: String,
    pub disk_id: String,
    pub disk_size: u32,
    /// `System` or `Data`, as DescribeSnapshots spells SourceDiskType.
    pub disk_type: String,
    /// The image of the disk it was taken from (for an image made from it).
    pub source_image: String,
    pub done: bool,
    pub timer: Timer,
    pub retention_days: Option<i64>,
    pub creation_time: String,
    pub tags: tags::Tags,
}

#[derive(Serialize, Deserialize)]
pub struct OwnImage {
    pub id: String,
    pub seq: u64,
    pub region: String,
    pub name: String,
    pub family: String,
    pub description: String,
    pub snapshot_ids: Vec<String>,
    pub size: u32,
    /// The system image the snapshot's disk came from: OS and architecture.
    pub source_image: String,
    pub done: bool,
    pub timer: Timer,
    pub creation_time: String,
    pub tags: tags::Tags,
}

/// Moves snapshots and images along (one observation each).
pub fn settle(w: &mut World) {
    let clock = &w.clock;
    for s in w.snapshots.values_mut().filter(|s| !s.done) {
        s.done = clock.due(&mut s.timer, SNAPSHOT_CREATING);
    }
    for i in w.images.values_mut().filter(|i| !i.done) {
        i.done = clock.due(&mut i.timer, IMAGE_CREATING);
    }
}

fn check_name(param: &str, code: &str, name: &str) -> Result<(), SimError> {
    if name.is_empty() {
        return Ok(());
    }
    let lower = name.to_ascii_lowercase();
    let ok = (2..=128).contains(&name.chars().count())
        && name.chars().next().is_some_and(char::is_alphabetic)
        && !lower.starts_with("http://")
        && !lower.starts_with("https://")
        && !lower.starts_with("auto")
        && !lower.starts_with("acs:")
        && !lower.starts_with("aliyun");
    if ok {
        return Ok(());
    }
    Err(SimError::new(
        400,
        code,
        format!(
            "The {param} \"{name}\" is malformed: 2 to 128 characters starting with a letter, not \
             starting with auto, acs:, aliyun, http:// or https://."
        ),
    ))
}

pub fn create_snapshot(w: &mut World, p: &Params) -> Result<Value, SimError> {
    settle(w);
    super::disk_attach::settle(w);
    let disk_id = p.need("DiskId")?.to_string();
    let name = p.str("SnapshotName").unwrap_or("").to_string();
    check_name("SnapshotName", "InvalidSnapshotName.Malformed", &name)?;
    let retention_days = p.int("RetentionDays", 1, 65_536)?;
    let tags = p.tags()?;
    let disk = w
        .disks
        .get(&disk_id)
        .filter(|d| p.str("RegionId").map_or(true, |r| r == d.region))
        .ok_or_else(|| not_found("InvalidDiskId.NotFound", "DiskId", &disk_id))?;
    let status = super::disk_attach::status(disk);
    if !matches!(status, "Available" | "In_use") {
        return Err(SimError::new(
            403,
            "IncorrectDiskStatus",
            format!("The disk {disk_id} is {status}; snapshot it once it is Available or In_use."),
        ));
    }
    if w.snapshots
        .values()
        .any(|s| s.disk_id == disk_id && !s.done)
    {
        return Err(SimError::new(
            403,
            "IncorrectDiskStatus.CreatingSnapshot",
            format!(
                "A snapshot of {disk_id} is still being created; wait until it is accomplished."
            ),
        ));
    }
    let (region, size, kind, image) = (
        disk.region.clone(),
        disk.size,
        if disk.disk_type == "system" {
            "System"
        } else {
            "Data"
        },
        disk.image_id.clone(),
    );
    let id = snapshot(w, &region, &disk_id, size, kind, &image, name, tags);
    if let Some(s) = w.snapshots.get_mut(&id) {
        s.description = p.str("Description").unwrap_or("").to_string();
        s.retention_days = retention_days;
    }
    Ok(json!({ "SnapshotId": id }))
}

#[allow(clippy::too_many_arguments)]
fn snapshot(
    w: &mut World,
    region: &str,
    disk_id: &str,
    size: u32,
    kind: &str,
    image: &str,
    name: String,
    tags: tags::Tags,
) -> String {
    let id = new_id("s", region);
    let s = Snapshot {
        id: id.clone(),
        seq: w.seq(),
        region: region.to_string(),
        name,
        description: String::new(),
        disk_id: disk_id.to_string(),
        disk_size: size,
        disk_type: kind.to_string(),
        source_image: image.to_string(),
        done: false,
        timer: w.clock.start(),
        retention_days: None,
        creation_time: stamp::seconds(),
        tags,
    };
    w.snapshots.insert(id.clone(), s);
    id
}

/// The images (by id) that use snapshot `id`.
fn images_using<'w>(w: &'w World, id: &str) -> Vec<&'w str> {
    w.images
        .values()
        .filter(|i| i.snapshot_ids.iter().any(|s| s == id))
        .map(|i| i.id.as_str())
        .collect()
}

pub fn describe_snapshots(w: &mut World, p: &Params) -> Result<Value, SimError> {
    settle(w);
    let region = p.region()?;
    let ids = p.json_list("SnapshotIds", 100)?;
    let disk = p.str("DiskId");
    let instance = p.str("InstanceId");
    let name = p.str("SnapshotName");
    let status = p
        .choice("Status", &["progressing", "accomplished", "failed", "all"])?
        .unwrap_or("all");
    let usage = p.choice("Usage", &["image", "disk", "image_disk", "none"])?;
    let filter = p.tags()?;
    let on_instance: Vec<String> = instance.map_or_else(Vec::new, |i| {
        w.disks
            .values()
            .filter(|d| d.instance_id == i)
            .map(|d| d.id.clone())
            .collect()
    });
    let usage_of = |s: &Snapshot| {
        if images_using(w, &s.id).is_empty() {
            "none"
        } else {
            "image"
        }
    };
    let mut list: Vec<&Snapshot> = w
        .snapshots
        .values()
        .filter(|s| {
            let st = if s.done {
                "accomplished"
            } else {
                "progressing"
            };
            s.region == region
                && ids.as_ref().map_or(true, |ids| ids.contains(&s.id))
                && disk.map_or(true, |d| d == s.disk_id)
                && (instance.is_none() || on_instance.contains(&s.disk_id))
                && name.map_or(true, |n| n == s.name)
                && (status == "all" || status == st)
                && usage.map_or(true, |u| u == usage_of(s))
                && tags::matches(&s.tags, &filter)
        })
        .collect();
    list.sort_by_key(|s| std::cmp::Reverse(s.seq));
    paging::page(
        p,
        list,
        |s| {
            json!({
                "SnapshotId": s.id,
                "SnapshotName": s.name,
                "Description": s.description,
                "Status": if s.done { "accomplished" } else { "progressing" },
                "Progress": if s.done { "100%" } else { "50%" },
                "RemainTime": if s.done { 0 } else { 5 },
                "SourceDiskId": s.disk_id,
                "SourceDiskSize": s.disk_size.to_string(),
                "SourceDiskType": s.disk_type,
                "SourceStorageType": "disk",
                "Usage": usage_of(s),
                "Category": "standard",
                "SnapshotType": "user",
                "InstantAccess": false,
                "Encrypted": false,
                "Available": s.done,
                "RetentionDays": s.retention_days.unwrap_or(0),
                "CreationTime": s.creation_time,
                "LastModifiedTime": s.creation_time,
                "RegionId": s.region,
                "ResourceGroupId": RESOURCE_GROUP,
                "Tags": tags::ecs_style(&s.tags),
            })
        },
        Map::new(),
    )
}

pub fn delete_snapshot(w: &mut World, p: &Params) -> Result<Value, SimError> {
    settle(w);
    let id = p.need("SnapshotId")?.to_string();
    if !w
        .snapshots
        .get(&id)
        .is_some_and(|s| p.str("RegionId").map_or(true, |r| r == s.region))
    {
        return Err(not_found("InvalidSnapshotId.NotFound", "SnapshotId", &id));
    }
    let users = images_using(w, &id);
    if !users.is_empty() {
        return Err(SimError::new(
            403,
            "SnapshotCreatedImage",
            format!(
                "The snapshot {id} is used by image {}: delete the image first (DeleteImage).",
                users.join(", ")
            ),
        ));
    }
    w.snapshots.remove(&id);
    Ok(json!({}))
}

pub fn create_image(w: &mut World, p: &Params) -> Result<Value, SimError> {
    settle(w);
    let region = p.region()?.to_string();
    let name = p.str("ImageName").unwrap_or("").to_string();
    check_name("ImageName", "InvalidImageName.Malformed", &name)?;
    if !name.is_empty()
        && w.images
            .values()
            .any(|i| i.region == region && i.name == name)
    {
        return Err(SimError::new(
            400,
            "InvalidImageName.Duplicated",
            format!("An image named \"{name}\" already exists in {region}."),
        ));
    }
    let family = p.str("ImageFamily").unwrap_or("").to_string();
    let tags = p.tags()?;
    let (snapshot_ids, size, source_image) = match (p.str("SnapshotId"), p.str("InstanceId")) {
        (Some(_), Some(_)) => {
            return Err(SimError::new(
                400,
                "InvalidParameter.Conflict",
                "Give SnapshotId or InstanceId, not both.",
            ))
        }
        (None, None) => return Err(SimError::missing("SnapshotId")),
        (Some(sid), None) => {
            let s = w
                .snapshots
                .get(sid)
                .filter(|s| s.region == region)
                .ok_or_else(|| not_found("InvalidSnapshotId.NotFound", "SnapshotId", sid))?;
            if !s.done {
                return Err(SimError::new(
                    403,
                    "IncorrectSnapshotStatus",
                    format!("The snapshot {sid} is still progressing; make the image once it is accomplished."),
                ));
            }
            if s.disk_type != "System" {
                return Err(SimError::new(
                    400,
                    "InvalidSnapshotId.NotSystemDisk",
                    format!("The snapshot {sid} is of a data disk; an image is made from a system-disk snapshot."),
                ));
            }
            (vec![sid.to_string()], s.disk_size, s.source_image.clone())
        }
        (None, Some(iid)) => {
            let inst = w
                .instance(iid)
                .filter(|i| i.region == region)
                .ok_or_else(|| not_found("InvalidInstanceId.NotFound", "InstanceId", iid))?;
            let (iid, image) = (inst.id.clone(), inst.image_id.clone());
            if p.dry_run()? {
                return Err(dry_run_passed(p.action.name));
            }
            // The service snapshots every disk of the instance for the image.
            let disks: Vec<(String, u32, String, String)> = w
                .disks
                .values()
                .filter(|d| d.instance_id == iid)
                .map(|d| {
                    (
                        d.id.clone(),
                        d.size,
                        d.disk_type.clone(),
                        d.image_id.clone(),
                    )
                })
                .collect();
            let mut ids = Vec::new();
            let mut size = 0;
            for (disk, gb, kind, img) in disks {
                let kind = if kind == "system" { "System" } else { "Data" };
                if kind == "System" {
                    size = gb;
                }
                let s = snapshot(w, &region, &disk, gb, kind, &img, String::new(), Vec::new());
                if let Some(snap) = w.snapshots.get_mut(&s) {
                    snap.description = format!("Created for image {name}");
                }
                ids.push(s);
            }
            (ids, size, image)
        }
    };
    if p.dry_run()? {
        return Err(dry_run_passed(p.action.name));
    }
    let id = new_id("m", &region);
    let image = OwnImage {
        id: id.clone(),
        seq: w.seq(),
        region,
        name: if name.is_empty() { id.clone() } else { name },
        family,
        description: p.str("Description").unwrap_or("").to_string(),
        snapshot_ids,
        size,
        source_image,
        done: false,
        timer: w.clock.start(),
        creation_time: stamp::seconds(),
        tags,
    };
    w.images.insert(id.clone(), image);
    Ok(json!({ "ImageId": id }))
}

pub fn delete_image(w: &mut World, p: &Params) -> Result<Value, SimError> {
    settle(w);
    let region = p.region()?;
    let id = p.need("ImageId")?.to_string();
    if !w.images.get(&id).is_some_and(|i| i.region == region) {
        if w.catalog.image(&id).is_some() {
            return Err(SimError::new(
                403,
                "InvalidImageId.NotOwned",
                format!("The image {id} is a public image; only your own images can be deleted."),
            ));
        }
        return Err(not_found("InvalidImageId.NotFound", "ImageId", &id));
    }
    if p.dry_run()? {
        return Err(dry_run_passed(p.action.name));
    }
    w.images.remove(&id);
    Ok(json!({}))
}

/// The account's own images DescribeImages shows for `p` (newest first), rendered.
pub fn own_images(
    w: &mut World,
    p: &Params,
    region: &str,
    statuses: &[&str],
) -> Result<Vec<Value>, SimError> {
    settle(w);
    if p.str("ImageOwnerAlias").is_some_and(|o| o != "self") {
        return Ok(Vec::new());
    }
    let ids = p.comma_list("ImageId", 100)?;
    let name = p.str("ImageName");
    let family = p.str("ImageFamily");
    let filter = p.tags()?;
    let mut list: Vec<&OwnImage> = w
        .images
        .values()
        .filter(|i| {
            let st = if i.done { "Available" } else { "Creating" };
            i.region == region
                && ids
                    .as_ref()
                    .map_or(true, |ids| ids.contains(&i.id.as_str()))
                && name.map_or(true, |n| n == i.name)
                && family.map_or(true, |f| f == i.family)
                && tags::matches(&i.tags, &filter)
                && statuses
                    .iter()
                    .any(|s| *s == st || s.eq_ignore_ascii_case("ALL"))
        })
        .collect();
    list.sort_by_key(|i| std::cmp::Reverse(i.seq));
    let catalog = w.catalog;
    Ok(list
        .into_iter()
        .map(|i| {
            let base = catalog.image(&i.source_image);
            let field = |f: fn(&super::super::catalog::Image) -> &str, default: &'static str| {
                base.map_or(default.to_string(), |b| f(b).to_string())
            };
            json!({
                "ImageId": i.id,
                "ImageName": i.name,
                "ImageFamily": i.family,
                "ImageVersion": "",
                "ImageOwnerAlias": "self",
                "OSName": field(|b| &b.os_name, ""),
                "OSNameEn": field(|b| &b.os_name_en, ""),
                "OSType": field(|b| &b.os_type, "linux"),
                "Platform": field(|b| &b.platform, ""),
                "Architecture": field(|b| &b.architecture, "x86_64"),
                "Size": i.size,
                "Status": if i.done { "Available" } else { "Creating" },
                "Progress": if i.done { "100%" } else { "50%" },
                "Usage": "none",
                "Description": i.description,
                "IsSupportIoOptimized": true,
                "IsSupportCloudinit": true,
                "IsSubscribed": false,
                "IsCopied": false,
                "IsSelfShared": "",
                "ProductCode": "",
                "CreationTime": i.creation_time,
                "BootMode": "BIOS",
                "DiskDeviceMappings": { "DiskDeviceMapping": i.snapshot_ids.iter().enumerate().map(|(n, s)| json!({
                    "Type": if n == 0 { "system" } else { "data" }, "SnapshotId": s,
                    "Device": format!("/dev/xvd{}", (b'a' + n.min(25) as u8) as char),
                    "Size": i.size.to_string(), "Format": "",
                })).collect::<Vec<_>>() },
                "Features": { "NvmeSupport": "supported" },
                "ResourceGroupId": RESOURCE_GROUP,
                "Tags": tags::ecs_style(&i.tags),
            })
        })
        .collect())
}
