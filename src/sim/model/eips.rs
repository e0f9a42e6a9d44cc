//! Elastic IPs bound to instances (issue 15): AssociateEipAddress (Available → Associating →
//! InUse, on the instance's primary NIC), UnassociateEipAddress (InUse → Unassociating →
//! Available), the EIP's status and instance in DescribeEipAddresses, the instance's
//! `EipAddress` in DescribeInstances, and ReleaseEipAddress refusing a bound EIP. An instance
//! that is released frees its EIP (the EIP itself stays, and is still billed).
//!
//! Must not: know about HTTP or ClientTokens.

use super::super::clock::Timer;
use super::network::Eip;
use super::params::Params;
use super::{not_found, SimError, World};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// How long the service takes to associate or unassociate (seconds).
const ASSOCIATING: f64 = 3.0;
const UNASSOCIATING: f64 = 3.0;

/// An EIP's instance, and the transition in progress, if any.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Binding {
    pub instance_id: String,
    /// `Some(true)` while associating, `Some(false)` while unassociating.
    pub moving: Option<bool>,
    pub timer: Timer,
}

/// The `Status` DescribeEipAddresses shows.
pub fn status(e: &Eip) -> &'static str {
    match e.bound.as_ref().map(|b| b.moving) {
        None => "Available",
        Some(Some(true)) => "Associating",
        Some(Some(false)) => "Unassociating",
        Some(None) => "InUse",
    }
}

/// The instance an EIP is bound to (also while its binding moves), or "".
pub fn instance_of(e: &Eip) -> &str {
    e.bound.as_ref().map_or("", |b| b.instance_id.as_str())
}

/// Moves bindings along; an EIP whose instance is gone (released) becomes Available.
pub fn settle(w: &mut World) {
    let live: Vec<String> = w
        .instances
        .values()
        .filter(|i| i.released.is_none())
        .map(|i| i.id.clone())
        .collect();
    let clock = &w.clock;
    for e in w.eips.values_mut() {
        let Some(b) = e.bound.as_mut() else {
            continue;
        };
        if !live.contains(&b.instance_id) {
            e.bound = None;
            continue;
        }
        match b.moving {
            Some(true) if clock.due(&mut b.timer, ASSOCIATING) => b.moving = None,
            Some(false) if clock.due(&mut b.timer, UNASSOCIATING) => e.bound = None,
            _ => {}
        }
    }
}

fn eip_of<'w>(w: &'w mut World, p: &Params) -> Result<&'w mut Eip, SimError> {
    let id = p.need("AllocationId")?;
    let region = p.str("RegionId");
    w.eips
        .get_mut(id)
        .filter(|e| region.map_or(true, |r| r == e.region))
        .ok_or_else(|| not_found("InvalidAllocationId.NotFound", "AllocationId", id))
}

fn incorrect(id: &str, status: &str, wanted: &str) -> SimError {
    SimError::new(
        403,
        "IncorrectEipStatus",
        format!("The EIP {id} is {status}; this operation needs it {wanted}."),
    )
}

pub fn associate(w: &mut World, p: &Params) -> Result<Value, SimError> {
    settle(w);
    let instance_id = p.need("InstanceId")?.to_string();
    let kind = p.str("InstanceType").unwrap_or("EcsInstance");
    if kind != "EcsInstance" {
        return Err(SimError::new(
            400,
            "InvalidParameter",
            format!(
                "InstanceType \"{kind}\" is not modelled by the simulator: it binds EIPs to ECS \
                 instances (EcsInstance) only; run `ecsh sim --lenient`, or use Alibaba Cloud."
            ),
        ));
    }
    let eip = eip_of(w, p)?;
    let (id, region) = (eip.id.clone(), eip.region.clone());
    let now = status(eip);
    if now != "Available" {
        return Err(incorrect(&id, now, "Available (unassociate it first)"));
    }
    let inst = super::disk_attach::bindable_instance(w, &instance_id, &region, "an EIP binds")?;
    if inst.public_ip.is_some() {
        return Err(SimError::new(
            403,
            "OperationDenied.InstanceHasPublicIp",
            format!(
                "The instance {instance_id} already has a public IP (InternetMaxBandwidthOut > 0); \
                 an EIP binds to an instance without one."
            ),
        ));
    }
    if w.eips.values().any(|e| instance_of(e) == instance_id) {
        return Err(SimError::new(
            403,
            "InvalidAssociation.Duplicated",
            format!("The instance {instance_id} already has an EIP; unassociate it first."),
        ));
    }
    let timer = w.clock.start();
    if let Some(e) = w.eips.get_mut(&id) {
        e.bound = Some(Binding {
            instance_id,
            moving: Some(true),
            timer,
        });
    }
    Ok(json!({}))
}

pub fn unassociate(w: &mut World, p: &Params) -> Result<Value, SimError> {
    settle(w);
    let given = p.str("InstanceId").map(str::to_string);
    let timer = w.clock.start();
    let eip = eip_of(w, p)?;
    let id = eip.id.clone();
    let now = status(eip);
    if now != "InUse" {
        return Err(incorrect(&id, now, "InUse"));
    }
    let bound = instance_of(eip).to_string();
    if given.as_ref().is_some_and(|g| *g != bound) {
        return Err(SimError::new(
            400,
            "InvalidInstanceId.NotMatch",
            format!(
                "The EIP {id} is bound to {bound}, not to {}.",
                given.unwrap_or_default()
            ),
        ));
    }
    if let Some(b) = eip.bound.as_mut() {
        b.moving = Some(false);
        b.timer = timer;
    }
    Ok(json!({}))
}

/// ReleaseEipAddress's rule: only an Available (unbound) EIP is released.
pub fn check_releasable(e: &Eip) -> Result<(), SimError> {
    match status(e) {
        "Available" => Ok(()),
        now => Err(SimError::new(
            403,
            "IncorrectEipStatus",
            format!(
                "The EIP {} is {now} (bound to {}); unassociate it (UnassociateEipAddress) before releasing it.",
                e.id,
                instance_of(e)
            ),
        )),
    }
}

/// Fills `EipAddress` of each instance of a DescribeInstances answer from the EIPs bound to it.
pub fn show_on_instances(w: &World, body: &mut Value) {
    let Some(list) = body
        .pointer_mut("/Instances/Instance")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for inst in list {
        let id = inst["InstanceId"].as_str().unwrap_or("").to_string();
        if let Some(e) = w.eips.values().find(|e| instance_of(e) == id) {
            inst["EipAddress"] = json!({
                "IpAddress": e.ip,
                "AllocationId": e.id,
                "Bandwidth": e.bandwidth,
                "InternetChargeType": e.internet_charge_type,
                "IsSupportUnassociate": true,
            });
        }
    }
}
