//! `create_snapshot` and `create_image` (issue 15): one creating call, then by default a wait
//! on the new resource's own describe until it is ready (a snapshot `accomplished`, an image
//! `Available`), so the next step (an image from the snapshot, a disk released) can use it.

use super::errors::HostError;
use super::options::Checked;
use super::wait::{self, Poll};
use super::Host;
use crate::ops::{Action, ResourceKind, A};
use serde_json::Value;
use std::time::Duration;

/// One creation: its action, where the answer has the id, the kind whose describe shows it,
/// the status it must reach, and the statuses on the way there.
struct Creation {
    action: &'static Action,
    id_field: &'static str,
    kind: ResourceKind,
    ready: &'static str,
    on_the_way: &'static [&'static str],
}

const SNAPSHOT: Creation = Creation {
    action: &A::CREATE_SNAPSHOT,
    id_field: "SnapshotId",
    kind: ResourceKind::Snapshot,
    ready: "accomplished",
    on_the_way: &["progressing"],
};
const IMAGE: Creation = Creation {
    action: &A::CREATE_IMAGE,
    id_field: "ImageId",
    kind: ResourceKind::Image,
    ready: "Available",
    on_the_way: &["Creating", "Waiting"],
};

pub fn create_snapshot(host: &Host, c: &Checked) -> Result<Value, HostError> {
    create(host, c, &SNAPSHOT)
}

pub fn create_image(host: &Host, c: &Checked) -> Result<Value, HostError> {
    create(host, c, &IMAGE)
}

fn create(host: &Host, c: &Checked, what: &Creation) -> Result<Value, HostError> {
    let resp = host.gateway.send(what.action, c.api_params())?;
    let id = resp
        .get(what.id_field)
        .and_then(Value::as_str)
        .ok_or_else(|| {
            HostError::Transport(format!(
                "{} returned no {}",
                what.action.name, what.id_field
            ))
        })?
        .to_string();
    if !c.bool("wait").unwrap_or(true) {
        return Ok(Value::from(id));
    }
    let Some(rel) = what.kind.release() else {
        return Ok(Value::from(id));
    };
    let timeout = c
        .int("timeout")
        .filter(|s| *s > 0)
        .map_or(host.wait.timeout, |s| Duration::from_secs(s as u64));
    let json_filter = rel.verify_action.json_params.contains(&rel.verify_param);
    let label = format!("{} {id} to be {}", what.kind.label(), what.ready);
    wait::until(
        &host.gateway,
        &host.wait,
        &host.pace,
        Some(what.action.name),
        true,
        timeout,
        &label,
        || {
            let mut params = serde_json::Map::new();
            params.insert("RegionId".into(), Value::from(c.region()));
            let filter = if json_filter {
                Value::from(serde_json::to_string(&[&id]).unwrap_or_default())
            } else {
                Value::from(id.clone())
            };
            params.insert(rel.verify_param.into(), filter);
            if what.kind == ResourceKind::Image {
                // DescribeImages shows Available images only, unless asked for every status.
                params.insert(
                    "Status".into(),
                    Value::from("Creating,Waiting,Available,CreateFailed,UnAvailable"),
                );
            }
            let found = host.gateway.send(rel.verify_action, params)?;
            let entry = super::paging::get_path(&found, rel.verify_list)
                .and_then(Value::as_array)
                .and_then(|a| a.iter().find(|e| e.to_string().contains(&id)).cloned());
            let Some(entry) = entry else {
                return Ok(Poll::Pending("not listed yet".into()));
            };
            let status = entry["Status"].as_str().unwrap_or("").to_string();
            Ok(if status == what.ready {
                Poll::Done(Value::from(id.clone()))
            } else if what.on_the_way.contains(&status.as_str()) {
                Poll::Pending(status)
            } else {
                Poll::Failed(HostError::UnexpectedState(format!(
                    "{} {id} is {status}, which does not lead to {}",
                    what.kind.label(),
                    what.ready
                )))
            })
        },
    )
}
