//! An existing instance's attributes: DescribeInstanceAttribute (one instance, as
//! DescribeInstances shows it), ModifyInstanceAttribute (name, description, host name,
//! security groups, deletion protection) and ModifyInstanceSpec (a pay-as-you-go instance's
//! type, only while it is Stopped; its bandwidth at any time).
//!
//! Must not: know about HTTP or ClientTokens (the dispatcher replays those).

use super::creation::{check_group_in_vpc, resolve_type};
use super::describe::instance_json;
use super::instances::{incorrect_status, Status};
use super::network::check_name;
use super::params::Params;
use super::{dry_run_passed, SimError, World};
use serde_json::{json, Value};

/// Most security groups an instance can be in.
const MAX_GROUPS: usize = 5;

pub fn describe_instance_attribute(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let id = p.need("InstanceId")?;
    let i = w.instance_in(p, id)?;
    Ok(instance_json(p.catalog, i))
}

pub fn modify_instance_attribute(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let id = p.need("InstanceId")?;
    let name = p.str("InstanceName");
    if let Some(n) = name {
        check_name("InstanceName", n)?;
    }
    let description = p.str("Description");
    if description.is_some_and(|d| d.chars().count() > 256) {
        return Err(SimError::invalid("Description", "at most 256 characters"));
    }
    let host_name = p.str("HostName");
    if let Some(h) = host_name {
        let ok = (2..=64).contains(&h.len())
            && !h.starts_with(['.', '-'])
            && !h.ends_with(['.', '-'])
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !ok {
            return Err(SimError::invalid(
                "HostName",
                "2 to 64 characters: letters, digits, periods and hyphens, not starting or \
                 ending with a period or hyphen",
            ));
        }
    }
    let protection = p.bool("DeletionProtection")?;
    let groups = p.list("SecurityGroupIds")?;
    if groups.len() > MAX_GROUPS {
        return Err(SimError::invalid(
            "SecurityGroupIds.N",
            format!("an instance is in at most {MAX_GROUPS} security groups"),
        ));
    }
    let (region, vpc) = {
        let i = w.instance_in(p, id)?;
        (i.region.clone(), i.vpc_id.clone())
    };
    for sg in &groups {
        check_group_in_vpc(w, p, sg, &region, &vpc, &format!("the instance {id}"))?;
    }
    let i = w.instance_in(p, id)?;
    if let Some(n) = name {
        i.name = n.to_string();
    }
    if let Some(d) = description {
        i.description = d.to_string();
    }
    if let Some(h) = host_name {
        // Takes effect at the next start on the real service; shown at once here.
        i.host_name = h.to_string();
    }
    if let Some(on) = protection {
        i.deletion_protection = on;
    }
    if !groups.is_empty() {
        i.sg_ids = groups.iter().map(|s| s.to_string()).collect();
    }
    Ok(json!({}))
}

pub fn modify_instance_spec(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let id = p.need("InstanceId")?;
    let dry = p.dry_run()?;
    let new_type = match p.str("InstanceType") {
        Some(_) => Some(resolve_type(p)?),
        None => None,
    };
    let bandwidth_out = p.int("InternetMaxBandwidthOut", 0, 100)?;
    let bandwidth_in = p.int("InternetMaxBandwidthIn", 1, 200)?;
    if new_type.is_none() && bandwidth_out.is_none() && bandwidth_in.is_none() {
        return Err(SimError::missing("InstanceType"));
    }
    let i = w.instance_in(p, id)?;
    if i.charge_type == "PrePaid" {
        return Err(SimError::new(
            403,
            "InvalidInstanceChargeType.NotSupported",
            format!(
                "The instance {id} is a subscription (PrePaid); ModifyInstanceSpec changes only \
                 pay-as-you-go instances (use ModifyPrepayInstanceSpec)."
            ),
        ));
    }
    let (region, zone) = (i.region.clone(), i.zone.clone());
    if let Some(t) = new_type {
        if i.status != Status::Stopped {
            return Err(incorrect_status(i, p.action.name, "Stopped"));
        }
        if t.id == i.instance_type {
            return Err(SimError::new(
                400,
                "InvalidInstanceType.ValueUnauthorized",
                format!("The instance {id} already has the instance type {}.", t.id),
            ));
        }
        if w.stock_left(&region, &zone, &t.id) == 0 {
            return Err(SimError::new(
                403,
                "OperationDenied.NoStock",
                format!(
                    "The instance type {} is out of stock in {zone}; try another type or zone.",
                    t.id
                ),
            ));
        }
    }
    if dry {
        return Err(dry_run_passed(p.action.name));
    }
    let i = w.instance_in(p, id)?;
    if let Some(t) = new_type {
        i.instance_type = t.id.clone();
    }
    if let Some(b) = bandwidth_out {
        i.bandwidth_out = b as u32;
    }
    if let Some(b) = bandwidth_in {
        i.bandwidth_in = b as u32;
    }
    Ok(json!({}))
}
