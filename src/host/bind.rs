//! Functions that bind a resource to an instance and wait until the binding settled (issue
//! 15): `attach_disk` / `detach_disk` (a disk In_use / Available) and `associate_eip_address` /
//! `unassociate_eip_address` (an EIP InUse / Available). One call, then one wait on the
//! resource's own describe, through the gateway like every call.

use super::errors::HostError;
use super::options::Checked;
use super::wait::{self, Poll};
use super::Host;
use crate::ops::{Action, ResourceKind, A};
use serde_json::{json, Value};
use std::time::Duration;

/// One binding: the action, the kind whose describe shows it, the option naming the resource
/// and the status it must reach; a status in `moving` is on its way there.
struct Binding {
    action: &'static Action,
    kind: ResourceKind,
    id_option: &'static str,
    wanted: &'static str,
    moving: &'static [&'static str],
}

const ATTACH: Binding = Binding {
    action: &A::ATTACH_DISK,
    kind: ResourceKind::Disk,
    id_option: "disk_id",
    wanted: "In_use",
    moving: &["Available", "Attaching"],
};
const DETACH: Binding = Binding {
    action: &A::DETACH_DISK,
    kind: ResourceKind::Disk,
    id_option: "disk_id",
    wanted: "Available",
    moving: &["In_use", "Detaching"],
};
const ASSOCIATE: Binding = Binding {
    action: &A::ASSOCIATE_EIP_ADDRESS,
    kind: ResourceKind::Eip,
    id_option: "allocation_id",
    wanted: "InUse",
    moving: &["Available", "Associating"],
};
const UNASSOCIATE: Binding = Binding {
    action: &A::UNASSOCIATE_EIP_ADDRESS,
    kind: ResourceKind::Eip,
    id_option: "allocation_id",
    wanted: "Available",
    moving: &["InUse", "Unassociating"],
};

pub fn attach_disk(host: &Host, c: &Checked) -> Result<Value, HostError> {
    bind(host, c, &ATTACH)
}

pub fn detach_disk(host: &Host, c: &Checked) -> Result<Value, HostError> {
    bind(host, c, &DETACH)
}

pub fn associate_eip_address(host: &Host, c: &Checked) -> Result<Value, HostError> {
    bind(host, c, &ASSOCIATE)
}

pub fn unassociate_eip_address(host: &Host, c: &Checked) -> Result<Value, HostError> {
    bind(host, c, &UNASSOCIATE)
}

fn bind(host: &Host, c: &Checked, b: &Binding) -> Result<Value, HostError> {
    let resp = host.gateway.send(b.action, c.api_params())?;
    if !c.bool("wait").unwrap_or(true) {
        return Ok(resp);
    }
    let id = c.str(b.id_option).unwrap_or_default().to_string();
    let timeout = c
        .int("timeout")
        .filter(|s| *s > 0)
        .map_or(host.wait.timeout, |s| Duration::from_secs(s as u64));
    let Some(rel) = b.kind.release() else {
        return Ok(resp);
    };
    let what = format!("{} {id} to be {}", b.kind.label(), b.wanted);
    wait::until(
        &host.gateway,
        &host.wait,
        &host.pace,
        Some(b.action.name),
        true,
        timeout,
        &what,
        || {
            let filter = if rel.verify_action.json_params.contains(&rel.verify_param) {
                json!([id])
            } else {
                json!(id)
            };
            let mut params = serde_json::Map::new();
            params.insert("RegionId".into(), Value::from(c.region()));
            params.insert(rel.verify_param.into(), filter);
            let found = host.gateway.send(rel.verify_action, params)?;
            let entry = super::paging::get_path(&found, rel.verify_list)
                .and_then(Value::as_array)
                .and_then(|a| a.first().cloned());
            let Some(entry) = entry else {
                return Ok(Poll::Failed(HostError::UnexpectedState(format!(
                    "{} {id} is gone while waiting for it to be {}",
                    b.kind.label(),
                    b.wanted
                ))));
            };
            let status = entry["Status"].as_str().unwrap_or("").to_string();
            Ok(if status == b.wanted {
                Poll::Done(entry)
            } else if b.moving.contains(&status.as_str()) {
                Poll::Pending(status)
            } else {
                Poll::Failed(HostError::UnexpectedState(format!(
                    "{} {id} is {status}, which does not lead to {}",
                    b.kind.label(),
                    b.wanted
                )))
            })
        },
    )
}
