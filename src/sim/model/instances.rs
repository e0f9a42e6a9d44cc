//! The instance and its lifecycle: the status machine (Pending → Starting → Running, Stopping →
//! Stopped, reboot), the legal-from table of start/stop/reboot/delete, asynchronous release
//! (visible briefly, then hidden while it still holds its security groups and vswitch), public
//! IPs, and the stock instances use. Creating them is `creation.rs`'s, describing them
//! `describe.rs`'s, their disks `disks.rs`'s.
//!
//! Must not: know about HTTP or ClientTokens (the dispatcher replays those).

use super::super::catalog::{Stock, PLENTY};
use super::super::clock::{self, stamp, Clock, Timer};
use super::creation::check_auto_release_time;
use super::network::public_ip;
use super::params::Params;
use super::{dry_run_passed, not_found, tags, SimError, World};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
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

impl Instance {
    /// Moves the instance along its lifecycle; false once it is gone for good.
    pub(super) fn settle(&mut self, clock: &Clock) -> bool {
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
    pub(super) fn instance_in(&mut self, p: &Params, id: &str) -> Result<&mut Instance, SimError> {
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
        let cap = match self.catalog.stock(region, zone, instance_type) {
            Stock::NotOffered | Stock::SoldOut => 0,
            Stock::Limited(n) => n,
            Stock::Plenty => PLENTY,
        };
        cap.saturating_sub(usage.0.get(&key).copied().unwrap_or(0))
    }

    /// True for a zone closed to new purchases, in strict mode (lenient sells there as before).
    pub(super) fn closed(&self, region: &str, zone: &str) -> bool {
        self.fidelity == super::Fidelity::Strict
            && self.catalog.zone(region, zone).is_some_and(|z| !z.on_sale)
    }

    /// The catalogue's stock, with the `--fault no-stock` pairs and closed zones applied.
    pub(super) fn stock(&self, region: &str, zone: &str, instance_type: &str) -> Stock {
        if self.closed(region, zone) {
            return Stock::NotOffered;
        }
        let s = self.catalog.stock(region, zone, instance_type);
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

// ---- state changes -------------------------------------------------------------------------

pub(super) fn incorrect_status(i: &Instance, action: &str, legal: &str) -> SimError {
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

/// A start, stop or reboot of one instance: checked against the instance's status before
/// anything changes (a batch checks every instance first), then applied.
#[derive(Clone, Copy, Debug)]
pub(super) enum Change {
    Start,
    /// `force`: ForceStop, which also stops an instance still Starting (not one being created).
    Stop {
        force: bool,
        mode: &'static str,
    },
    Reboot,
}

impl Change {
    /// A stop as the request asks for it (`ForceStop`, `StoppedMode`), its parameters checked.
    pub(super) fn stop(p: &Params) -> Result<Change, SimError> {
        Ok(Change::Stop {
            force: p.flag("ForceStop")?,
            mode: p
                .choice("StoppedMode", &["KeepCharging", "StopCharging"])?
                .unwrap_or("KeepCharging"),
        })
    }

    /// A reboot. RebootInstance's `ForceStop` and RebootInstances' `ForceReboot` only say how
    /// the guest goes down (checked as booleans); both still need a Running instance.
    pub(super) fn reboot(p: &Params) -> Result<Change, SimError> {
        p.flag("ForceStop")?;
        p.flag("ForceReboot")?;
        Ok(Change::Reboot)
    }

    /// Refuses the change when the instance's status does not allow it.
    pub(super) fn check(self, i: &Instance, action: &str) -> Result<(), SimError> {
        let (legal, needs) = match self {
            Change::Start => (i.status == Status::Stopped, "Stopped"),
            Change::Stop { force, .. } => (
                i.status == Status::Running
                    || (force && i.status == Status::Starting && !i.initializing),
                "Running",
            ),
            Change::Reboot => (i.status == Status::Running, "Running"),
        };
        if legal {
            Ok(())
        } else {
            Err(incorrect_status(i, action, needs))
        }
    }

    /// Starts the transition (checked first with [`Change::check`]).
    pub(super) fn apply(self, i: &mut Instance, timer: Timer, strict: bool) {
        i.timer = timer;
        match self {
            Change::Start => {
                i.status = Status::Starting;
                if std::mem::take(&mut i.public_ip_reclaimed) {
                    i.public_ip = Some(public_ip(&i.region));
                }
            }
            Change::Stop { mode, .. } => {
                i.status = Status::Stopping;
                i.rebooting = false;
                i.agent_online = false;
                i.stopped_mode = mode.to_string();
                if strict && mode == "StopCharging" {
                    if i.charge_type == "PrePaid" {
                        // "Instance types that do not support economical mode include ...
                        // subscription instances": no error, the instance just stops normally.
                        i.stopped_mode = "KeepCharging".to_string();
                    } else if i.public_ip.take().is_some() {
                        // Economical mode reclaims the static public IP; a start gives a new one.
                        i.public_ip_reclaimed = true;
                    }
                }
            }
            Change::Reboot => {
                i.status = Status::Stopping;
                i.rebooting = true;
                i.agent_online = false;
            }
        }
    }
}

/// StartInstance, StopInstance, RebootInstance: one instance.
fn change_one(w: &mut World, p: &Params, change: Change) -> Result<Value, SimError> {
    let id = p.need("InstanceId")?;
    let dry = p.dry_run()?;
    let timer = w.clock.start();
    let strict = p.strict();
    let i = w.instance_in(p, id)?;
    change.check(i, p.action.name)?;
    if dry {
        return Err(dry_run_passed(p.action.name));
    }
    change.apply(i, timer, strict);
    Ok(json!({}))
}

pub fn start_instance(w: &mut World, p: &Params) -> Result<Value, SimError> {
    change_one(w, p, Change::Start)
}

pub fn stop_instance(w: &mut World, p: &Params) -> Result<Value, SimError> {
    change_one(w, p, Change::stop(p)?)
}

pub fn reboot_instance(w: &mut World, p: &Params) -> Result<Value, SimError> {
    change_one(w, p, Change::reboot(p)?)
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

pub(super) fn release(w: &mut World, id: &str) {
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
        return Err(incorrect_status(i, p.action.name, "Running or Stopped"));
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

// ---- AutoReleaseTime ------------------------------------------------------------------------

/// Releases every instance whose AutoReleaseTime has passed on the simulated wall clock, as
/// the service does by itself. Runs before every request, so it reads only the deadlines that
/// are due (the store keeps them in time order), not every instance.
pub(super) fn release_expired(w: &mut World) {
    let now = w.clock.wall_now();
    for id in w.instances.take_due(now) {
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
