//! Plans: what a script would create and what it would cost, found by running it against a
//! shadow of the target (`ecsh plan FILE`, `ecsh run --plan FILE`).
//!
//! The shadow is an in-process simulator (`crate::sim`, strict, instant time, commands
//! simulated) reached through the same `rpc::Client`, gateway, guard and ledger as a real run.
//! Its [`forward::Forwarder`] sends the registry's catalogue reads to the real target (so
//! stock and prices are the target's) and imports the account's state of a region (VPCs,
//! vswitches, security groups and rules, instances, disks, EIPs, key pairs, tags) and its
//! stock the first time the script names it (so reuse decisions match the account); nothing
//! but reads ever reaches the target.
//! While the script runs, the [`Recorder`] collects, in order and with the script line that
//! caused each: every cost block the guard built (through [`PlanPrompter`], which approves
//! everything, since nothing real is bought), every resource the shadow created, every account
//! resource a creating request used (reused), and every release. [`Recorder::plan`] turns that
//! into a [`Plan`]; [`bound::Bound`] holds a real run to it.
//!
//! Nothing here prints; `cli/plan.rs` renders a plan as a table or as JSON.

pub mod bound;
pub mod forward;

use crate::guard::{CostBlock, Money, Prompter, Verdict, Via};
use crate::ops::{self, Effect, ResourceKind};
use crate::sim::upstream::Account;
use crate::sim::{SimError, SimRequest};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The line of the script being run (0: not known yet), updated as the script steps.
#[derive(Clone, Default)]
pub struct Site(Arc<AtomicUsize>);

impl Site {
    pub fn set(&self, line: usize) {
        self.0.store(line, Ordering::Relaxed);
    }
    pub fn line(&self) -> Option<usize> {
        Some(self.0.load(Ordering::Relaxed)).filter(|l| *l > 0)
    }
}

/// A resource the plan creates or reuses.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannedResource {
    /// `ECS`, `VPC`, `VSwitch`, `SecurityGroup`, `Disk`, `EIP`, `PublicIp`.
    pub kind: String,
    /// `new` (the run would create it), `reused` (the account already has it and the run
    /// uses it), or `deleted` (the account has it and the run would delete it).
    pub status: &'static str,
    /// The id of a reused or deleted resource (a new one has no id until it is created).
    pub id: Option<String>,
    pub name: String,
    pub region: String,
    pub zone: Option<String>,
    /// What is bought or made: instance type and count, CIDR block, disk category and size.
    pub spec: String,
    /// The action that creates it (new), or that uses it (reused).
    pub action: String,
    pub line: Option<usize>,
    /// When a new resource is released: `by line N` (the script released it, e.g. after a
    /// failed attempt), `at the end of the run` (the ledger), or `None` (kept).
    pub released: Option<String>,
    /// Its id in the shadow (meaningless on the target), to follow its release.
    #[serde(skip)]
    shadow_ids: Vec<String>,
}

/// A chargeable request of the plan, with the guard's own quote.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannedCharge {
    pub action: String,
    /// The guard's one-line summary (`ecs.g7.large x 1, ~5 minutes`).
    pub summary: String,
    /// The cost block's lines (`Spec`, `Image`, `System disk`, ...).
    pub details: Vec<(String, String)>,
    pub unit_price: String,
    pub estimate: Option<Money>,
    pub hourly: Option<Money>,
    /// `created`, `failed: CODE` (the shadow's answer, e.g. OperationDenied.NoStock), or
    /// `not sent` (approved but the script never sent it).
    pub outcome: String,
    pub line: Option<usize>,
    /// The block as the guard renders it (without its question), for `run --plan`'s block.
    #[serde(skip)]
    pub block: CostBlock,
}

impl PlannedCharge {
    pub fn created(&self) -> bool {
        self.outcome == "created"
    }
}

/// Everything a plan found. Its JSON form is `ecsh plan --output json` (docs/plan.md).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    pub script: String,
    pub target: String,
    pub resources: Vec<PlannedResource>,
    pub charges: Vec<PlannedCharge>,
    /// The sum of the estimates of the charges that created something.
    pub total: Option<Money>,
    /// The most the resources alive at one moment cost per hour.
    pub peak_hourly: Option<Money>,
    /// Where the script's path depends on what the shadow cannot know.
    pub unknowns: Vec<String>,
    /// How many reads were sent to the target.
    pub reads_sent: usize,
    /// The error the script ended with in the shadow, if it did.
    pub error: Option<String>,
}

enum Event {
    Charge(Box<PlannedCharge>),
    Resource(PlannedResource),
    /// Resources a charge created, each with its share of the charge's hourly cost.
    Alive(Vec<(String, Money)>),
    /// Ids a delete released, and by what (`by line N`, `at the end of the run`).
    Released(Vec<String>, String),
}

#[derive(Default)]
struct Log {
    events: Vec<Event>,
    /// Account resources imported into the shadow: id → (kind, name).
    imported: BTreeMap<String, (ResourceKind, String)>,
    reused: std::collections::BTreeSet<String>,
}

/// Collects what the shadow run did (see the module doc).
#[derive(Clone, Default)]
pub struct Recorder {
    log: Arc<Mutex<Log>>,
    reads: Arc<AtomicUsize>,
    ended: Arc<std::sync::atomic::AtomicBool>,
    pub site: Site,
}

impl Recorder {
    fn with<R>(&self, f: impl FnOnce(&mut Log) -> R) -> R {
        f(&mut self.log.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The script has ended: what is released from now on is the ledger's end-of-run release.
    pub fn script_ended(&self) {
        self.ended.store(true, Ordering::Relaxed);
    }

    /// Counts one read sent to the target.
    fn read_sent(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }

    /// Notes the account resources the shadow imported (to tell reuse later).
    pub fn imported(&self, account: &Account) {
        let lists = [
            (ResourceKind::Vpc, &account.vpcs, "VpcId", "VpcName"),
            (
                ResourceKind::VSwitch,
                &account.vswitches,
                "VSwitchId",
                "VSwitchName",
            ),
            (
                ResourceKind::SecurityGroup,
                &account.security_groups,
                "SecurityGroupId",
                "SecurityGroupName",
            ),
            (
                ResourceKind::Instance,
                &account.instances,
                "InstanceId",
                "InstanceName",
            ),
            (ResourceKind::Disk, &account.disks, "DiskId", "DiskName"),
            (ResourceKind::Eip, &account.eips, "AllocationId", "Name"),
            // A key pair is named, not numbered: requests name it by KeyPairName.
            (
                ResourceKind::KeyPair,
                &account.key_pairs,
                "KeyPairName",
                "KeyPairName",
            ),
        ];
        self.with(|log| {
            for (kind, list, id, name) in lists {
                for entry in list {
                    if let Some(id) = entry[id].as_str() {
                        let name = entry[name].as_str().unwrap_or_default().to_string();
                        log.imported.insert(id.to_string(), (kind, name));
                    }
                }
            }
        });
    }

    /// A cost block the guard built (the plan approves it: nothing real is bought).
    fn quoted(&self, block: &CostBlock) {
        let charge = PlannedCharge {
            action: block.action.clone(),
            summary: block.summary.clone(),
            details: block.details.clone(),
            unit_price: block.unit_price.clone(),
            estimate: block.estimate.clone(),
            hourly: block.hourly.clone(),
            outcome: "not sent".into(),
            line: self.site.line(),
            block: block.clone(),
        };
        self.with(|log| log.events.push(Event::Charge(Box::new(charge))));
    }

    /// A request that is not a read, as the shadow answered it.
    pub fn observe(&self, request: &SimRequest, answer: &Result<Value, SimError>) {
        let Some(action) = ops::find(request.product, &request.action) else {
            return;
        };
        let line = self.site.line();
        let region = request.get("RegionId").unwrap_or_default().to_string();
        self.with(|log| {
            // Account resources this request names are reused, or deleted by a delete.
            let deletes = matches!(action.effect, Effect::Delete(_));
            for value in request.params.values() {
                if let Some((kind, name)) = log.imported.get(value).cloned() {
                    if answer.is_ok() && (deletes || log.reused.insert(value.clone())) {
                        log.events.push(Event::Resource(PlannedResource {
                            kind: kind.label().into(),
                            status: if deletes { "deleted" } else { "reused" },
                            id: Some(value.clone()),
                            name,
                            region: region.clone(),
                            zone: None,
                            spec: String::new(),
                            action: request.action.clone(),
                            line,
                            released: None,
                            shadow_ids: Vec::new(),
                        }));
                    }
                }
            }
            match (action.effect, answer) {
                (Effect::Create { kind, id_path }, _) => {
                    let pending = log.events.iter_mut().rev().find_map(|e| match e {
                        Event::Charge(c)
                            if c.action == request.action && c.outcome == "not sent" =>
                        {
                            Some(c)
                        }
                        _ => None,
                    });
                    let ids = match answer {
                        Ok(body) => ids_at(body, id_path),
                        Err(_) => Vec::new(),
                    };
                    let mut alive = Vec::new();
                    if let (true, Some(charge)) = (action.chargeable, pending) {
                        charge.outcome = match answer {
                            Ok(_) => "created".into(),
                            Err(e) => format!("failed: {}", e.code),
                        };
                        if let Some(h) = &charge.hourly {
                            let per = h.amount / ids.len().max(1) as f64;
                            alive = ids
                                .iter()
                                .map(|id| {
                                    let m = Money {
                                        amount: per,
                                        currency: h.currency.clone(),
                                    };
                                    (id.clone(), m)
                                })
                                .collect();
                        }
                    }
                    if !alive.is_empty() {
                        log.events.push(Event::Alive(alive));
                    }
                    if answer.is_ok() {
                        log.events.push(Event::Resource(PlannedResource {
                            kind: kind.label().into(),
                            status: "new",
                            id: None,
                            name: name_of(request),
                            region,
                            zone: request.get("ZoneId").map(str::to_string),
                            spec: spec_of(request),
                            action: request.action.clone(),
                            line,
                            released: None,
                            shadow_ids: ids,
                        }));
                    }
                }
                (Effect::Delete(_), Ok(_)) => {
                    let ids = request
                        .params
                        .values()
                        .flat_map(|v| v.split([',', '"', '[', ']']))
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(str::to_string)
                        .collect();
                    let by = match (self.ended.load(Ordering::Relaxed), line) {
                        (false, Some(l)) => format!("by line {l}"),
                        (false, None) => "by the script".into(),
                        (true, _) => "at the end of the run".into(),
                    };
                    log.events.push(Event::Released(ids, by));
                }
                _ => {}
            }
        });
    }

    /// The plan of what was recorded. `reads_sent`, `unknowns` and `error` come from the run.
    pub fn plan(&self, script: &str, target: &str) -> Plan {
        self.with(|log| {
            let mut plan = Plan {
                script: script.into(),
                target: target.into(),
                resources: Vec::new(),
                charges: Vec::new(),
                total: None,
                peak_hourly: None,
                unknowns: Vec::new(),
                reads_sent: self.reads.load(Ordering::Relaxed),
                error: None,
            };
            let mut alive: BTreeMap<String, Money> = BTreeMap::new();
            let mut peak: Option<Money> = None;
            for event in &log.events {
                match event {
                    Event::Charge(c) => {
                        if let (true, Some(e)) = (c.created(), &c.estimate) {
                            add(&mut plan.total, e);
                        }
                        plan.charges.push((**c).clone());
                    }
                    Event::Resource(r) => plan.resources.push(r.clone()),
                    Event::Alive(ids) => alive.extend(ids.iter().cloned()),
                    Event::Released(ids, by) => {
                        for id in ids {
                            alive.remove(id);
                        }
                        for r in plan.resources.iter_mut().filter(|r| r.released.is_none()) {
                            if r.shadow_ids.iter().any(|s| ids.contains(s)) {
                                r.released = Some(by.clone());
                            }
                        }
                    }
                }
                let mut now = None;
                for m in alive.values() {
                    add(&mut now, m);
                }
                if let Some(now) = now {
                    if peak.as_ref().map_or(true, |p| now.amount > p.amount) {
                        peak = Some(now);
                    }
                }
            }
            plan.peak_hourly = peak;
            plan
        })
    }
}

fn add(sum: &mut Option<Money>, m: &Money) {
    match sum {
        Some(s) if s.currency == m.currency => s.amount += m.amount,
        Some(_) => {}
        None => *sum = Some(m.clone()),
    }
}

/// The ids at a dotted path of an answer: one string or a list of strings.
fn ids_at(answer: &Value, path: &str) -> Vec<String> {
    match path.split('.').fold(answer, |v, k| &v[k]) {
        Value::String(s) if !s.is_empty() => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// The name the request gives what it creates.
fn name_of(request: &SimRequest) -> String {
    [
        "InstanceName",
        "VpcName",
        "VSwitchName",
        "SecurityGroupName",
        "DiskName",
        "Name",
    ]
    .iter()
    .find_map(|k| request.get(k))
    .unwrap_or_default()
    .to_string()
}

/// What the request buys or makes, from its parameters.
fn spec_of(request: &SimRequest) -> String {
    let mut parts = Vec::new();
    if let Some(t) = request.get("InstanceType") {
        let n = request.get("Amount").unwrap_or("1");
        parts.push(format!("{t} x {n}"));
    }
    if let Some(c) = request.get("CidrBlock") {
        parts.push(c.to_string());
    }
    if let Some(c) = request.get("Category") {
        parts.push(format!("{c} {} GiB", request.get("Size").unwrap_or("?")));
    }
    if let Some(b) = request.get("Bandwidth") {
        parts.push(format!("{b} Mbps"));
    }
    parts.join(", ")
}

/// The guard's prompter during a plan: records every block and approves it, since nothing is
/// bought in the shadow; the plan's total is what the real run's approval is asked for.
pub struct PlanPrompter(pub Recorder);

impl Prompter for PlanPrompter {
    fn confirm(&mut self, block: &CostBlock) -> Verdict {
        self.0.quoted(block);
        Verdict {
            approved: true,
            via: Via::Plan,
            reason: "planned; nothing is created on the target".into(),
            interrupted: false,
        }
    }
}
