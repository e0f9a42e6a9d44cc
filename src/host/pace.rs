//! How long each kind of transition takes, as the waits of [`super::wait`] guess it: what this
//! run has learned, else what earlier runs against the same target remembered
//! ([`super::pace_file`]), else a first guess from a table ([`first_guesses`]).
//!
//! Kinds are named by what a wait waits for ([`kind`]); they key the remembered durations in
//! `pace.json`, so a kind's name is part of that file's format.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The kinds of transition the host's own waits learn (attach/detach and snapshot/image waits
/// use their action's registry name as their kind).
pub mod kind {
    pub const VPC_AVAILABLE: &str = "VPC to be Available";
    pub const VSWITCH_AVAILABLE: &str = "vswitch to be Available";
    pub const AGENTS_ONLINE: &str = "Cloud Assistant agents to be online";
    /// Deleting a vswitch and a VPC take alike.
    pub const NETWORK_RELEASED: &str = "network parts to be released";
    pub const INSTANCES_RELEASED: &str = "instances to be released";
    pub const OTHERS_RELEASED: &str = "other resources to be released";
    /// A Cloud Assistant command from RunCommand to its end. Commands differ, so this is only a
    /// hint: a much quicker one is still seen by the early polls, a much longer one by the
    /// widening polls after the fine ones.
    pub const COMMANDS_FINISHED: &str = "commands to finish";
    /// A security group held by the instance released before it, until it lets go.
    pub const SECURITY_GROUPS_FREED: &str = "security groups to be freed by released instances";

    /// Instances reaching `status` (`Running`, `Stopped`, …).
    pub fn instances_to_be(status: &str) -> String {
        format!("instances to be {status}")
    }
}

/// What a session knows about its target's pace: the guesses it started with (remembered or
/// from a table; fixed for the session) and what its waits learned since. Clones share what
/// is learned, so the CLI keeps one in the [`super::Session`] and writes it back after the run.
#[derive(Clone, Debug, Default)]
pub struct Pace {
    prior: Arc<HashMap<String, Duration>>,
    learned: Arc<Mutex<HashMap<String, Duration>>>,
}

impl Pace {
    /// A pace that starts from `prior` (per kind; see [`first_guesses`] and
    /// [`super::pace_file::PaceFile::load`]).
    pub fn with_prior(prior: HashMap<String, Duration>) -> Pace {
        Pace {
            prior: Arc::new(prior),
            learned: Arc::default(),
        }
    }

    /// The best guess of how long a `kind` transition takes: the last one this session saw,
    /// else the prior.
    pub fn guess(&self, kind: &str) -> Option<Duration> {
        self.learned()
            .get(kind)
            .or_else(|| self.prior.get(kind))
            .copied()
    }

    /// Records how long a `kind` transition took.
    pub fn learn(&self, kind: &str, took: Duration) {
        if let Ok(mut map) = self.learned.lock() {
            map.insert(kind.to_string(), took);
        }
    }

    /// The release planner's expectations from these guesses: how long instances and network
    /// parts take to go once deleted, how long a released instance holds its security group.
    pub fn release_policy(&self) -> crate::ledger::ReleasePolicy {
        use crate::ops::ResourceKind as R;
        let mut policy = crate::ledger::ReleasePolicy::default();
        let gone = [
            (R::Instance, kind::INSTANCES_RELEASED),
            (R::VSwitch, kind::NETWORK_RELEASED),
            (R::Vpc, kind::NETWORK_RELEASED),
        ];
        for (of, k) in gone {
            if let Some(d) = self.guess(k) {
                policy.gone_after.insert(of, d);
            }
        }
        if let Some(d) = self.guess(kind::SECURITY_GROUPS_FREED) {
            policy.free_after.insert(R::SecurityGroup, d);
        }
        policy
    }

    /// What this session learned (the last duration of each kind it waited for).
    pub fn learned(&self) -> HashMap<String, Duration> {
        self.learned.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

/// What the host knows about its target before anything was remembered.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Known {
    /// The embedded simulator, which the host itself started with this `TimeMode`.
    Embedded(crate::sim::clock::TimeMode),
    /// Alibaba Cloud, or an endpoint the host did not start (a standalone `ecsh sim` may run
    /// at any speed, so only the service's typical durations apply).
    Service,
}

/// First guesses per kind, before any run against the target was remembered.
///
/// For the embedded simulator these are its own transition table (`sim::clock`) times its
/// time scale. That is honest, not a peek at a test double: the host started that simulator
/// itself at a time scale it chose, so these durations are known facts about its target, just
/// as a user of the real service knows its typical durations. In `Steps` mode (and at scale
/// 0) time does not flow, so there is nothing to guess.
///
/// For the service, the reference's "Typical timings" (`reference/lifecycles-and-errors.md`):
/// Pending → Running about 10–60 s, a stop 10–30 s, the Cloud Assistant agent a few seconds to
/// a minute after Running. The guesses take the low end: a guess that is too short costs a few
/// fine polls, one that is too long costs up to half of it in wall time (the waits keep their
/// own quick polls only until half the guess). It names no duration for networks or releases,
/// so there is no guess for those until a run has seen one.
pub fn first_guesses(known: Known) -> HashMap<String, Duration> {
    use crate::sim::clock::{self as c, TimeMode};
    let secs = |s: f64| Duration::from_secs_f64(s);
    let table: Vec<(String, f64)> = match known {
        Known::Embedded(TimeMode::Scaled(f)) if f.is_finite() && f > 0.0 => vec![
            (kind::VPC_AVAILABLE.into(), c::VPC_CREATING * f),
            (kind::VSWITCH_AVAILABLE.into(), c::VSWITCH_CREATING * f),
            (
                kind::instances_to_be("Running"),
                (c::INSTANCE_PENDING + c::INSTANCE_STARTING) * f,
            ),
            (kind::instances_to_be("Stopped"), c::INSTANCE_STOPPING * f),
            (kind::AGENTS_ONLINE.into(), c::AGENT_ONLINE * f),
            (kind::INSTANCES_RELEASED.into(), c::INSTANCE_VANISHING * f),
            (kind::NETWORK_RELEASED.into(), c::NETWORK_DELETING * f),
            (kind::SECURITY_GROUPS_FREED.into(), c::RELEASE_WINDOW * f),
            // A simulated command's dispatch and run (one run locally takes its own time).
            (
                kind::COMMANDS_FINISHED.into(),
                (c::COMMAND_DISPATCH + c::COMMAND_RUN) * f,
            ),
        ],
        Known::Embedded(_) => Vec::new(),
        Known::Service => vec![
            (kind::instances_to_be("Running"), 10.0),
            (kind::instances_to_be("Stopped"), 10.0),
            (kind::AGENTS_ONLINE.into(), 3.0),
        ],
    };
    table.into_iter().map(|(k, s)| (k, secs(s))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::clock::TimeMode;

    #[test]
    fn the_pace_keeps_the_last_duration_of_each_kind_over_its_prior() {
        let prior = HashMap::from([(kind::VPC_AVAILABLE.to_string(), Duration::from_secs(5))]);
        let pace = Pace::with_prior(prior);
        assert_eq!(
            pace.guess(kind::VPC_AVAILABLE),
            Some(Duration::from_secs(5))
        );
        let shared = pace.clone();
        shared.learn(kind::VPC_AVAILABLE, Duration::from_secs(3));
        shared.learn(kind::VPC_AVAILABLE, Duration::from_secs(2));
        assert_eq!(
            pace.guess(kind::VPC_AVAILABLE),
            Some(Duration::from_secs(2))
        );
        assert_eq!(pace.guess(kind::AGENTS_ONLINE), None);
        assert_eq!(pace.learned().len(), 1, "clones share what is learned");
    }

    #[test]
    fn first_guesses_follow_the_embedded_simulators_scale_or_the_services_typical_times() {
        let at = |f| first_guesses(Known::Embedded(TimeMode::Scaled(f)));
        assert_eq!(
            at(0.1)[&kind::instances_to_be("Running")],
            Duration::from_secs(3)
        );
        assert_eq!(at(1.0)[kind::VPC_AVAILABLE], Duration::from_secs(3));
        assert!(at(0.0).is_empty(), "no time flows at scale 0");
        assert!(first_guesses(Known::Embedded(TimeMode::Steps(2))).is_empty());
        let service = first_guesses(Known::Service);
        assert_eq!(
            service[&kind::instances_to_be("Running")],
            Duration::from_secs(10)
        );
        assert!(!service.contains_key(kind::VPC_AVAILABLE));
    }
}
