//! Disks on the move (issue 15): AttachDisk (Available → Attaching → In_use), DetachDisk
//! (In_use → Detaching → Available) and ResizeDisk (grow only), with the service's rules:
//! the disk and the instance in the same zone, the instance Running or Stopped, at most 16
//! data disks per instance, no detaching a system disk, nothing while a disk is moving.
//!
//! A disk's `instance_id` names its instance from the attach until the detach completes, so
//! DeleteDisk (which refuses an attached disk) and the instance's release (which frees or
//! deletes its disks, `DeleteWithInstance`) need no knowledge of the transitions.
//!
//! Must not: know about HTTP or ClientTokens.

use super::super::clock::Timer;
use super::disks::Disk;
use super::instances::Status;
use super::params::Params;
use super::{not_found, SimError, World};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// How long an attach or a detach takes on the service (seconds).
const ATTACHING: f64 = 4.0;
const DETACHING: f64 = 4.0;
/// Data disks one instance can hold.
const MAX_DATA_DISKS: usize = 16;

/// A disk's transition in progress.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Move {
    pub attaching: bool,
    pub timer: Timer,
}

/// The `Status` DescribeDisks shows.
pub fn status(d: &Disk) -> &'static str {
    match (&d.moving, d.instance_id.is_empty()) {
        (_, true) => "Available",
        (Some(m), false) if m.attaching => "Attaching",
        (Some(_), false) => "Detaching",
        (None, false) => "In_use",
    }
}

/// Moves every disk in transition along (one observation each).
pub fn settle(w: &mut World) {
    let clock = &w.clock;
    for d in w.disks.values_mut() {
        let Some(m) = d.moving.as_mut() else {
            continue;
        };
        let duration = if m.attaching { ATTACHING } else { DETACHING };
        if clock.due(&mut m.timer, duration) {
            if !m.attaching {
                d.instance_id.clear();
                d.device.clear();
            }
            d.moving = None;
        }
    }
}

/// The disk `DiskId` names, in the request's region when it gives one.
fn disk_of<'w>(w: &'w mut World, p: &Params) -> Result<&'w mut Disk, SimError> {
    let id = p.need("DiskId")?;
    let region = p.str("RegionId");
    w.disks
        .get_mut(id)
        .filter(|d| region.map_or(true, |r| r == d.region))
        .ok_or_else(|| not_found("InvalidDiskId.NotFound", "DiskId", id))
}

fn incorrect_status(id: &str, status: &str, wanted: &str) -> SimError {
    SimError::new(
        403,
        "IncorrectDiskStatus",
        format!("The disk {id} is {status}; this operation needs it {wanted}."),
    )
}

pub fn attach_disk(w: &mut World, p: &Params) -> Result<Value, SimError> {
    settle(w);
    let instance_id = p.need("InstanceId")?.to_string();
    let delete_with = p.bool("DeleteWithInstance")?;
    let disk = disk_of(w, p)?;
    let (id, zone, region) = (disk.id.clone(), disk.zone.clone(), disk.region.clone());
    if disk.disk_type != "data" {
        return Err(SimError::new(
            403,
            "InvalidDiskId.NotPortable",
            format!(
                "The disk {id} is a system disk; only data disks are attached with AttachDisk."
            ),
        ));
    }
    let current = status(disk);
    if current != "Available" {
        return Err(incorrect_status(
            &id,
            current,
            "Available (detach it first)",
        ));
    }
    let inst = bindable_instance(w, &instance_id, &region, "disks attach")?;
    if inst.zone != zone {
        return Err(SimError::new(
            403,
            "OperationDenied.ZoneMismatch",
            format!(
                "The disk {id} is in {zone} and the instance {instance_id} in {}: a disk attaches \
                 only to an instance of its own zone.",
                inst.zone
            ),
        ));
    }
    let held: Vec<&str> = w
        .disks
        .values()
        .filter(|d| d.instance_id == instance_id)
        .map(|d| d.device.as_str())
        .collect();
    if held.len() > MAX_DATA_DISKS {
        return Err(SimError::new(
            403,
            "InstanceDiskNumber.LimitExceed",
            format!("The instance {instance_id} already holds {MAX_DATA_DISKS} data disks."),
        ));
    }
    let device = (b'b'..=b'z')
        .map(|c| format!("/dev/xvd{}", c as char))
        .find(|dev| !held.contains(&dev.as_str()))
        .unwrap_or_default();
    let timer = w.clock.start();
    if let Some(d) = w.disks.get_mut(&id) {
        d.instance_id = instance_id;
        d.device = device;
        d.moving = Some(Move {
            attaching: true,
            timer,
        });
        if let Some(del) = delete_with {
            d.delete_with_instance = del;
        }
    }
    Ok(json!({}))
}

/// The live instance `id` of `region` that something may be bound to (a disk attached, an EIP
/// associated): it must be Running or Stopped. `what` completes "… to a Running or Stopped
/// instance" in the error.
pub(super) fn bindable_instance<'w>(
    w: &'w mut World,
    id: &str,
    region: &str,
    what: &str,
) -> Result<&'w mut super::instances::Instance, SimError> {
    let inst = match w.instance(id) {
        Some(i) if i.region == region => i,
        _ => return Err(not_found("InvalidInstanceId.NotFound", "InstanceId", id)),
    };
    if !matches!(inst.status, Status::Running | Status::Stopped) {
        return Err(SimError::new(
            403,
            "IncorrectInstanceStatus",
            format!(
                "The instance {id} is {}; {what} to a Running or Stopped instance.",
                inst.status.as_str()
            ),
        ));
    }
    Ok(inst)
}

pub fn detach_disk(w: &mut World, p: &Params) -> Result<Value, SimError> {
    settle(w);
    let instance_id = p.need("InstanceId")?.to_string();
    let delete_with = p.bool("DeleteWithInstance")?;
    let timer = w.clock.start();
    let disk = disk_of(w, p)?;
    let id = disk.id.clone();
    if disk.instance_id != instance_id {
        let now = if disk.instance_id.is_empty() {
            "not attached".to_string()
        } else {
            format!("attached to {}", disk.instance_id)
        };
        return Err(SimError::new(
            403,
            "IncorrectDiskStatus",
            format!("The disk {id} is {now}, not to {instance_id}."),
        ));
    }
    if disk.disk_type != "data" {
        return Err(SimError::new(
            403,
            "OperationDenied.SystemDisk",
            format!(
                "The disk {id} is the system disk of {instance_id}; it stays with the instance."
            ),
        ));
    }
    let current = status(disk);
    if current != "In_use" {
        return Err(incorrect_status(&id, current, "In_use"));
    }
    disk.moving = Some(Move {
        attaching: false,
        timer,
    });
    if let Some(del) = delete_with {
        disk.delete_with_instance = del;
    }
    Ok(json!({}))
}

pub fn resize_disk(w: &mut World, p: &Params) -> Result<Value, SimError> {
    settle(w);
    let new_size = p
        .int("NewSize", 1, 65_536)?
        .ok_or_else(|| SimError::missing("NewSize"))? as u32;
    p.choice("Type", &["offline", "online"])?;
    let disk = disk_of(w, p)?;
    let id = disk.id.clone();
    let current = status(disk);
    if !matches!(current, "Available" | "In_use") {
        return Err(incorrect_status(&id, current, "Available or In_use"));
    }
    if new_size <= disk.size {
        return Err(SimError::new(
            400,
            "InvalidDiskSize.TooSmall",
            format!(
                "NewSize {new_size} GiB is not larger than the disk's {} GiB: a disk only grows.",
                disk.size
            ),
        ));
    }
    let max = if disk.disk_type == "system" {
        2048
    } else {
        p.catalog.disk(&disk.category).map_or(32_768, |c| c.max)
    };
    if new_size > max {
        return Err(SimError::new(
            400,
            "InvalidDiskSize.ValueNotSupported",
            format!(
                "NewSize {new_size} GiB is more than a {} {} disk can be ({max} GiB).",
                disk.category, disk.disk_type
            ),
        ));
    }
    disk.size = new_size;
    Ok(json!({}))
}
