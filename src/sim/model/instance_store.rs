//! Where the account's instances live: the instances by id (what the `--state` file holds),
//! plus the indexes that keep a request from walking all of them (issue 19): every instance of
//! a region in creation order, the instances that may still be in a transition, and the
//! AutoReleaseTime deadlines in time order. The indexes are derived, rebuilt when a state file
//! is loaded, and kept true by the store itself: every way to change an instance (`get_mut`)
//! records the id, and the next query brings the indexes up to date for it.
//!
//! Why "may still be in a transition" is enough: [`Instance::settle`] leaves a *steady* instance
//! (not released; Stopped, or Running with its agent online) untouched, so settling only the
//! unsteady ones is the same observation as settling every one, and a listing need not visit
//! the rest to know they are visible.
//!
//! Must not: decide anything about an instance's lifecycle (that is `instances.rs`'s; the store
//! only calls [`Instance::settle`] for the listings that observe), or be bypassed: the map
//! stays private, so no code changes an instance without the store knowing.

use super::super::clock::Clock;
use super::instances::{Instance, Status};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use time::OffsetDateTime;

/// The account's instances and their indexes.
#[derive(Default)]
pub struct InstanceStore {
    by_id: BTreeMap<String, Instance>,
    /// Every instance of `by_id`, per region, by creation order (`seq`).
    by_region: HashMap<String, BTreeMap<u64, String>>,
    /// Ids of instances that may not be steady: created, handed out mutably, or found in a
    /// transition since they were last found steady. Every other instance is steady.
    unsteady: BTreeSet<String>,
    /// Ids handed out mutably since [`InstanceStore::refresh`] last ran.
    touched: BTreeSet<String>,
    /// Live instances' AutoReleaseTimes, the next one first, and each instance's entry.
    deadlines: BTreeSet<(OffsetDateTime, String)>,
    deadline_of: HashMap<String, OffsetDateTime>,
}

/// A whole-region listing as [`InstanceStore::settle_region`] leaves it: what it found gone for
/// good (still in the store, for the caller to remove once it is done with the list) and what
/// is hidden (released, past the time it stays listed).
pub struct Settled {
    gone: BTreeSet<u64>,
    hidden: BTreeSet<u64>,
    pub gone_ids: Vec<String>,
}

impl Settled {
    fn listed(&self, seq: u64) -> bool {
        !self.gone.contains(&seq) && !self.hidden.contains(&seq)
    }
}

/// True when settling `i` changes nothing and it is listed: not released, and Stopped or
/// Running with its agent online (the states [`Instance::settle`] returns from at once).
fn steady(i: &Instance) -> bool {
    i.released.is_none()
        && (i.status == Status::Stopped || (i.status == Status::Running && i.agent_online))
}

/// When a live instance is to be released by itself, if it has a valid AutoReleaseTime.
fn deadline(i: &Instance) -> Option<OffsetDateTime> {
    if i.released.is_some() || i.auto_release_time.is_empty() {
        return None;
    }
    OffsetDateTime::parse(
        &i.auto_release_time,
        &time::format_description::well_known::Rfc3339,
    )
    .ok()
}

impl InstanceStore {
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn get(&self, id: &str) -> Option<&Instance> {
        self.by_id.get(id)
    }

    /// The instance, to change: the store brings its indexes up to date for it at the next query.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut Instance> {
        let inst = self.by_id.get_mut(id)?;
        if !self.touched.contains(id) {
            self.touched.insert(id.to_string());
        }
        Some(inst)
    }

    /// Every instance of the account, by id.
    pub fn values(&self) -> impl Iterator<Item = &Instance> {
        self.by_id.values()
    }

    /// Every instance of a region, oldest first.
    pub fn in_region<'s>(&'s self, region: &str) -> impl Iterator<Item = &'s Instance> + 's {
        self.by_region
            .get(region)
            .into_iter()
            .flat_map(|seqs| seqs.values())
            .filter_map(|id| self.by_id.get(id))
    }

    pub fn insert(&mut self, inst: Instance) {
        let id = inst.id.clone();
        self.by_region
            .entry(inst.region.clone())
            .or_default()
            .insert(inst.seq, id.clone());
        if let Some(old) = self.by_id.insert(id.clone(), inst) {
            self.forget_region(&old);
        }
        self.touched.insert(id);
    }

    pub fn remove(&mut self, id: &str) -> Option<Instance> {
        let inst = self.by_id.remove(id)?;
        self.forget_region(&inst);
        self.unsteady.remove(id);
        self.touched.remove(id);
        if let Some(at) = self.deadline_of.remove(id) {
            self.deadlines.remove(&(at, id.to_string()));
        }
        Some(inst)
    }

    fn forget_region(&mut self, inst: &Instance) {
        if let Some(seqs) = self.by_region.get_mut(&inst.region) {
            if seqs.get(&inst.seq) == Some(&inst.id) {
                seqs.remove(&inst.seq);
            }
            if seqs.is_empty() {
                self.by_region.remove(&inst.region);
            }
        }
    }

    /// Brings the indexes up to date for the instances changed since the last query: their
    /// deadlines are read again, and they count as unsteady until a listing finds them steady.
    fn refresh(&mut self) {
        for id in std::mem::take(&mut self.touched) {
            let Some(inst) = self.by_id.get(&id) else {
                continue;
            };
            debug_assert!(
                self.by_region
                    .get(&inst.region)
                    .and_then(|seqs| seqs.get(&inst.seq))
                    == Some(&inst.id),
                "an instance's region and creation order never change"
            );
            let now = deadline(inst);
            let before = self.deadline_of.get(&id).copied();
            if now != before {
                if let Some(at) = before {
                    self.deadlines.remove(&(at, id.clone()));
                    self.deadline_of.remove(&id);
                }
                if let Some(at) = now {
                    self.deadlines.insert((at, id.clone()));
                    self.deadline_of.insert(id.clone(), at);
                }
            }
            self.unsteady.insert(id);
        }
    }

    /// The live instances whose AutoReleaseTime is at or before `now`, in time order (then by
    /// id); their deadlines are taken out, as releasing them is what the caller does next.
    pub fn take_due(&mut self, now: OffsetDateTime) -> Vec<String> {
        self.refresh();
        let mut due = Vec::new();
        while let Some((at, _)) = self.deadlines.first() {
            if *at > now {
                break;
            }
            if let Some((_, id)) = self.deadlines.pop_first() {
                self.deadline_of.remove(&id);
                due.push(id);
            }
        }
        due
    }

    /// Settles (observes) the visible instances of `region` that `keep` selects: only the
    /// unsteady ones, as a steady one would not change. Says which are gone for good (left in
    /// the store for the caller to remove) and which are hidden; the ones found steady leave
    /// the unsteady set.
    pub fn settle_region(
        &mut self,
        clock: &Clock,
        region: &str,
        keep: &impl Fn(&Instance) -> bool,
    ) -> Settled {
        self.refresh();
        let mut settled = Settled {
            gone: BTreeSet::new(),
            hidden: BTreeSet::new(),
            gone_ids: Vec::new(),
        };
        let mut now_steady = Vec::new();
        for id in &self.unsteady {
            let Some(inst) = self.by_id.get_mut(id) else {
                continue;
            };
            if inst.region != region {
                continue;
            }
            if inst.visible() && keep(inst) && !inst.settle(clock) {
                settled.gone.insert(inst.seq);
                settled.gone_ids.push(id.clone());
            } else if !inst.visible() {
                settled.hidden.insert(inst.seq);
            } else if steady(inst) {
                now_steady.push(id.clone());
            }
        }
        for id in now_steady {
            self.unsteady.remove(&id);
        }
        settled
    }

    /// How many instances of the region a whole-region listing shows, after
    /// [`InstanceStore::settle_region`] (with a `keep` that keeps everything).
    pub fn listed_count(&self, region: &str, settled: &Settled) -> usize {
        let all = self.by_region.get(region).map_or(0, BTreeMap::len);
        all - settled.gone.len() - settled.hidden.len()
    }

    /// The listed instances of the region at positions `window` (oldest first), after
    /// [`InstanceStore::settle_region`]: reads only those, and steps over the ones before.
    pub fn listed_window(
        &self,
        region: &str,
        settled: &Settled,
        window: &Range<usize>,
    ) -> Vec<&Instance> {
        let Some(seqs) = self.by_region.get(region) else {
            return Vec::new();
        };
        seqs.iter()
            .filter(|(seq, _)| settled.listed(**seq))
            .skip(window.start)
            .take(window.len())
            .filter_map(|(_, id)| self.by_id.get(id))
            .collect()
    }

    /// Checks the indexes against a walk of every instance (the model's tests call it after
    /// each step of a random sequence): panics, naming the difference, when they disagree.
    #[cfg(test)]
    pub fn check_indexes(&mut self) {
        self.refresh();
        let mut regions: HashMap<String, BTreeMap<u64, String>> = HashMap::new();
        for i in self.by_id.values() {
            regions
                .entry(i.region.clone())
                .or_default()
                .insert(i.seq, i.id.clone());
            assert!(
                steady(i) || self.unsteady.contains(&i.id),
                "{} is not steady but not in the unsteady set",
                i.id
            );
            assert_eq!(
                self.deadline_of.get(&i.id).copied(),
                deadline(i),
                "the deadline of {}",
                i.id
            );
        }
        assert_eq!(regions, self.by_region, "the per-region index");
        assert_eq!(self.deadlines.len(), self.deadline_of.len());
        for (at, id) in &self.deadlines {
            assert_eq!(self.deadline_of.get(id), Some(at));
        }
    }
}

impl Serialize for InstanceStore {
    /// As the map by id, which is what state files always held.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.by_id.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for InstanceStore {
    /// From the map by id, the indexes built anew (every instance counts as unsteady once).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let by_id = BTreeMap::<String, Instance>::deserialize(deserializer)?;
        let mut store = InstanceStore::default();
        for (_, inst) in by_id {
            store.insert(inst);
        }
        Ok(store)
    }
}
