//! What a run holds, folded from its journal records. The live ledger applies each record right
//! after journalling it, and recovery replays a journal through the same [`RunState::apply`], so
//! both always agree on what is held.
//!
//! Pure data: no I/O, no cloud.

use super::journal::{EndedBy, Record};
use super::HourlyCost;
use crate::ops::ResourceKind;
use std::collections::{BTreeMap, HashSet};

/// Where a tracked resource stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holding {
    /// Created and not released: a scope end or `ecsh cleanup` will release it.
    Held,
    /// The script deleted it; its disappearance is not verified yet.
    Deleting,
    /// Deleted and verified gone.
    Released,
    /// `keep(id)`: retained on purpose, never released.
    Kept,
}

/// One resource the run created.
#[derive(Clone, Debug)]
pub struct Tracked {
    pub kind: ResourceKind,
    pub id: String,
    pub region: String,
    /// The scope that created it.
    pub scope: u32,
    /// The intent that created it.
    pub seq: u64,
    pub action: String,
    pub status: Holding,
    /// Shown in the summary next to the id (instance type and charge type for instances).
    pub detail: Option<String>,
    pub cost: Option<HourlyCost>,
    /// The last release failure (code, message), while it is still held.
    pub last_error: Option<(String, String)>,
    /// Retained because this kept resource needs it.
    pub needed_by: Option<String>,
}

impl Tracked {
    /// Held or being deleted: a release still has work to do.
    pub fn needs_release(&self) -> bool {
        matches!(self.status, Holding::Held | Holding::Deleting)
    }
}

/// What became of a creating request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntentOutcome {
    /// Journalled, no answer recorded (the process died, or the call is in flight).
    Pending,
    Created,
    Refused(String),
    /// The call failed without a definite answer.
    Unknown(String),
    /// An unknown outcome settled by a search by the run tag.
    Resolved,
}

/// A journalled creating request.
#[derive(Clone, Debug)]
pub struct IntentInfo {
    pub seq: u64,
    pub scope: u32,
    pub action: String,
    pub region: String,
    pub kind: ResourceKind,
    pub tagged: bool,
    pub params: serde_json::Map<String, serde_json::Value>,
    pub cost: Option<HourlyCost>,
    pub outcome: IntentOutcome,
}

impl IntentInfo {
    /// True when the request may have created something no record names yet, and the run tag
    /// can find it.
    pub fn is_unresolved(&self) -> bool {
        matches!(
            self.outcome,
            IntentOutcome::Pending | IntentOutcome::Unknown(_)
        ) && self.tagged
            && self.kind.release().is_some()
    }
}

/// A scope as the journal recorded it.
#[derive(Clone, Debug)]
pub struct ScopeInfo {
    pub id: u32,
    pub parent: Option<u32>,
    pub label: String,
    pub open: bool,
}

/// The state of one run.
#[derive(Clone, Debug, Default)]
pub struct RunState {
    pub run: String,
    pub started: String,
    pub pid: u32,
    pub target: Option<String>,
    /// Where its resources live (journals written before this was recorded have none).
    pub home: Option<super::target::RunTarget>,
    pub scopes: Vec<ScopeInfo>,
    pub intents: BTreeMap<u64, IntentInfo>,
    /// In creation order.
    pub resources: Vec<Tracked>,
    /// Set by the last `end` record.
    pub ended: Option<EndedBy>,
}

impl RunState {
    pub fn from_records(records: &[Record]) -> RunState {
        let mut s = RunState::default();
        for r in records {
            s.apply(r);
        }
        s
    }

    pub fn apply(&mut self, record: &Record) {
        match record {
            Record::Run {
                run,
                started,
                pid,
                target,
                home,
                ..
            } => {
                self.run = run.clone();
                self.started = started.clone();
                self.pid = *pid;
                self.target = target.clone();
                self.home = home.clone();
            }
            Record::ScopeOpen {
                scope,
                parent,
                label,
            } => self.scopes.push(ScopeInfo {
                id: *scope,
                parent: *parent,
                label: label.clone(),
                open: true,
            }),
            Record::ScopeClose { scope } => {
                if let Some(s) = self.scopes.iter_mut().find(|s| s.id == *scope) {
                    s.open = false;
                }
            }
            Record::Intent {
                seq,
                scope,
                action,
                region,
                kind,
                tagged,
                params,
                cost,
                ..
            } => {
                self.intents.insert(
                    *seq,
                    IntentInfo {
                        seq: *seq,
                        scope: *scope,
                        action: action.clone(),
                        region: region.clone(),
                        kind: *kind,
                        tagged: *tagged,
                        params: params.clone(),
                        cost: cost.clone(),
                        outcome: IntentOutcome::Pending,
                    },
                );
            }
            Record::Created { seq, ids } => self.created(*seq, ids),
            Record::Refused { seq, code } => {
                self.set_outcome(*seq, IntentOutcome::Refused(code.clone()))
            }
            Record::Unknown { seq, error } => {
                self.set_outcome(*seq, IntentOutcome::Unknown(error.clone()))
            }
            Record::Found {
                kind,
                region,
                ids,
                seqs,
            } => self.found(*kind, region, ids, seqs),
            Record::Keep { id, needed_by } => {
                if let Some(t) = self.find_mut(id) {
                    t.status = Holding::Kept;
                    t.needed_by = needed_by.clone();
                }
            }
            Record::DeleteSent { ids } => {
                for id in ids {
                    if let Some(t) = self.find_mut(id) {
                        if t.status == Holding::Held {
                            t.status = Holding::Deleting;
                        }
                    }
                }
            }
            Record::Released { ids } => {
                for id in ids {
                    if let Some(t) = self.find_mut(id) {
                        t.status = Holding::Released;
                        t.last_error = None;
                    }
                }
            }
            Record::ReleaseFailed { id, code, message } => {
                if let Some(t) = self.find_mut(id) {
                    t.last_error = Some((code.clone(), message.clone()));
                }
            }
            Record::End { by, .. } => self.ended = Some(*by),
        }
    }

    fn created(&mut self, seq: u64, ids: &[String]) {
        let Some(intent) = self.intents.get_mut(&seq) else {
            return;
        };
        intent.outcome = IntentOutcome::Created;
        let intent = intent.clone();
        let cost = intent.cost.as_ref().map(|c| HourlyCost {
            amount: c.amount / ids.len().max(1) as f64,
            currency: c.currency.clone(),
        });
        for id in ids {
            self.track(&intent, id, cost.clone());
        }
    }

    fn found(&mut self, kind: ResourceKind, region: &str, ids: &[String], seqs: &[u64]) {
        for seq in seqs {
            self.set_outcome(*seq, IntentOutcome::Resolved);
        }
        let template = seqs.iter().find_map(|s| self.intents.get(s)).cloned();
        for id in ids {
            match &template {
                Some(intent) => self.track(intent, id, None),
                None => self.resources.push(Tracked {
                    kind,
                    id: id.clone(),
                    region: region.to_string(),
                    scope: 0,
                    seq: 0,
                    action: String::new(),
                    status: Holding::Held,
                    detail: None,
                    cost: None,
                    last_error: None,
                    needed_by: None,
                }),
            }
        }
    }

    fn track(&mut self, intent: &IntentInfo, id: &str, cost: Option<HourlyCost>) {
        if self.find_mut(id).is_some() {
            return;
        }
        self.resources.push(Tracked {
            kind: intent.kind,
            id: id.to_string(),
            region: intent.region.clone(),
            scope: intent.scope,
            seq: intent.seq,
            action: intent.action.clone(),
            status: Holding::Held,
            detail: detail(intent),
            cost,
            last_error: None,
            needed_by: None,
        });
    }

    fn set_outcome(&mut self, seq: u64, outcome: IntentOutcome) {
        if let Some(i) = self.intents.get_mut(&seq) {
            i.outcome = outcome;
        }
    }

    pub fn find(&self, id: &str) -> Option<&Tracked> {
        self.resources.iter().find(|t| t.id == id)
    }

    fn find_mut(&mut self, id: &str) -> Option<&mut Tracked> {
        self.resources.iter_mut().find(|t| t.id == id)
    }

    /// Every id the run knows it created, whatever became of it.
    pub fn known_ids(&self) -> HashSet<String> {
        self.resources.iter().map(|t| t.id.clone()).collect()
    }

    /// Resources a release still has to deal with.
    pub fn held(&self) -> impl Iterator<Item = &Tracked> {
        self.resources.iter().filter(|t| t.needs_release())
    }

    pub fn kept(&self) -> impl Iterator<Item = &Tracked> {
        self.resources.iter().filter(|t| t.status == Holding::Kept)
    }

    pub fn unresolved(&self) -> impl Iterator<Item = &IntentInfo> {
        self.intents.values().filter(|i| i.is_unresolved())
    }

    /// The run's resources that `id` depends on, transitively: those its creating request
    /// named (an instance names its vswitch and security group, a vswitch its VPC). Keeping
    /// a resource keeps these too, or their release would fail on it.
    pub fn dependencies(&self, id: &str) -> Vec<String> {
        let mut deps: Vec<String> = Vec::new();
        let mut todo = vec![id.to_string()];
        while let Some(next) = todo.pop() {
            let Some(intent) = self.find(&next).and_then(|t| self.intents.get(&t.seq)) else {
                continue;
            };
            let mut named = Vec::new();
            strings_in(
                &serde_json::Value::Object(intent.params.clone()),
                &mut named,
            );
            for s in named {
                if s != id && !deps.contains(&s) && self.find(&s).is_some() {
                    deps.push(s.clone());
                    todo.push(s);
                }
            }
        }
        deps
    }

    /// The run's resources that cannot be released on their own and were made for `id` (a
    /// public IP allocated to a kept instance): they stay with it.
    pub fn attached_to(&self, id: &str) -> Vec<String> {
        self.resources
            .iter()
            .filter(|t| t.kind.release().is_none() && t.id != id)
            .filter(|t| {
                self.intents.get(&t.seq).is_some_and(|i| {
                    let mut named = Vec::new();
                    strings_in(&serde_json::Value::Object(i.params.clone()), &mut named);
                    named.iter().any(|s| s == id)
                })
            })
            .map(|t| t.id.clone())
            .collect()
    }
}

fn strings_in(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|v| strings_in(v, out)),
        serde_json::Value::Object(m) => m.values().for_each(|v| strings_in(v, out)),
        _ => {}
    }
}

/// The summary's detail for a resource, from its request: `ecs.t6-c1m2.large, PostPaid` for
/// instances; nothing for the rest.
fn detail(intent: &IntentInfo) -> Option<String> {
    if intent.kind != ResourceKind::Instance {
        return None;
    }
    let ty = intent.params.get("InstanceType")?.as_str()?;
    let charge = intent
        .params
        .get("InstanceChargeType")
        .and_then(|v| v.as_str())
        .unwrap_or("PostPaid");
    Some(format!("{ty}, {charge}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn intent(seq: u64, kind: ResourceKind, cost: Option<f64>) -> Record {
        Record::Intent {
            seq,
            scope: 0,
            product: "ecs".into(),
            action: "RunInstances".into(),
            region: "cn-hangzhou".into(),
            kind,
            client_token: None,
            tagged: true,
            params: json!({"InstanceType": "ecs.t6-c1m2.large"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            cost: cost.map(|amount| HourlyCost {
                amount,
                currency: "CNY".into(),
            }),
        }
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn created_ids_are_held_until_released_or_kept() {
        let s = RunState::from_records(&[
            intent(1, ResourceKind::Instance, Some(0.04)),
            Record::Created {
                seq: 1,
                ids: ids(&["i-1", "i-2"]),
            },
            Record::Keep {
                id: "i-2".into(),
                needed_by: None,
            },
        ]);
        let held: Vec<_> = s.held().map(|t| t.id.as_str()).collect();
        assert_eq!(held, ["i-1"]);
        assert_eq!(s.kept().count(), 1);
        let t = s.find("i-1").unwrap();
        assert_eq!(t.detail.as_deref(), Some("ecs.t6-c1m2.large, PostPaid"));
        assert_eq!(t.cost.as_ref().map(|c| c.amount), Some(0.02));
        let s2 = {
            let mut s2 = s.clone();
            s2.apply(&Record::Released { ids: ids(&["i-1"]) });
            s2
        };
        assert_eq!(s2.held().count(), 0);
    }

    #[test]
    fn intents_without_answer_are_unresolved_until_found_by_tag() {
        let mut s = RunState::from_records(&[
            intent(1, ResourceKind::Instance, None),
            intent(2, ResourceKind::SecurityGroup, None),
            Record::Refused {
                seq: 2,
                code: "OperationDenied.NoStock".into(),
            },
        ]);
        let open: Vec<u64> = s.unresolved().map(|i| i.seq).collect();
        assert_eq!(open, [1]);
        s.apply(&Record::Found {
            kind: ResourceKind::Instance,
            region: "cn-hangzhou".into(),
            ids: ids(&["i-9"]),
            seqs: vec![1],
        });
        assert_eq!(s.unresolved().count(), 0);
        assert_eq!(s.held().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["i-9"]);
    }

    #[test]
    fn dependencies_are_what_the_creating_requests_named() {
        let mut vsw = intent(2, ResourceKind::VSwitch, None);
        if let Record::Intent { params, .. } = &mut vsw {
            *params = json!({"VpcId": "vpc-1"})
                .as_object()
                .cloned()
                .unwrap_or_default();
        }
        let mut inst = intent(3, ResourceKind::Instance, None);
        if let Record::Intent { params, .. } = &mut inst {
            *params = json!({"VSwitchId": "vsw-1", "Tag": [{"Key": "k", "Value": "reused-sg"}]})
                .as_object()
                .cloned()
                .unwrap_or_default();
        }
        let s = RunState::from_records(&[
            intent(1, ResourceKind::Vpc, None),
            Record::Created {
                seq: 1,
                ids: ids(&["vpc-1"]),
            },
            vsw,
            Record::Created {
                seq: 2,
                ids: ids(&["vsw-1"]),
            },
            inst,
            Record::Created {
                seq: 3,
                ids: ids(&["i-1"]),
            },
        ]);
        assert_eq!(s.dependencies("i-1"), ["vsw-1", "vpc-1"]);
        assert!(s.dependencies("vpc-1").is_empty());
        let mut ip = intent(4, ResourceKind::PublicIp, None);
        if let Record::Intent { params, .. } = &mut ip {
            *params = json!({"InstanceId": "i-1"})
                .as_object()
                .cloned()
                .unwrap_or_default();
        }
        let mut s = s;
        s.apply(&ip);
        s.apply(&Record::Created {
            seq: 4,
            ids: ids(&["47.1.2.3"]),
        });
        assert_eq!(s.attached_to("i-1"), ["47.1.2.3"]);
        assert!(s.attached_to("vsw-1").is_empty());
    }

    #[test]
    fn a_script_delete_still_needs_verifying() {
        let s = RunState::from_records(&[
            intent(1, ResourceKind::Instance, None),
            Record::Created {
                seq: 1,
                ids: ids(&["i-1"]),
            },
            Record::DeleteSent {
                ids: ids(&["i-1", "i-unrelated"]),
            },
        ]);
        assert_eq!(s.find("i-1").map(|t| &t.status), Some(&Holding::Deleting));
        assert_eq!(s.held().count(), 1);
    }
}
