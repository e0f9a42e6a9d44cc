//! The simulator's clock: how long the real service takes to do things, and how that maps onto
//! wall time (scaled) or onto calls (deterministic steps).
//!
//! Owns the durations table and the [`Timer`] each pending transition carries. It does not know
//! which resources exist or what their states are (that is the model's business); it only
//! answers "has this transition's time come?".
//!
//! | transition                                  | real service | constant              |
//! |---------------------------------------------|-------------:|-----------------------|
//! | instance Pending → Starting (RunInstances)  |        10 s  | `INSTANCE_PENDING`    |
//! | instance Starting → Running                 |        20 s  | `INSTANCE_STARTING`   |
//! | instance Pending → Stopped (CreateInstance) |        15 s  | `INSTANCE_CREATING`   |
//! | instance Running → Stopping → Stopped       |        10 s  | `INSTANCE_STOPPING`   |
//! | instance released, still listed             |         3 s  | `INSTANCE_VANISHING`  |
//! | released instance still holds its SG/vsw    |         5 s  | `RELEASE_WINDOW`      |
//! | Cloud Assistant agent online after Running  |         8 s  | `AGENT_ONLINE`        |
//! | VPC Pending → Available                     |         3 s  | `VPC_CREATING`        |
//! | vswitch Pending → Available                 |         2 s  | `VSWITCH_CREATING`    |
//! | VPC / vswitch deletion                      |         2 s  | `NETWORK_DELETING`    |
//! | invocation Pending → Running                |         1 s  | `COMMAND_DISPATCH`    |
//! | invocation Running → Success (simulated)    |         2 s  | `COMMAND_RUN`         |
//!
//! `TimeMode::Scaled(f)` runs a duration `d` in `d × f` wall seconds (f = 0.01 is 100× faster).
//! `TimeMode::Steps(n)` ignores durations: a transition happens once `n` calls have observed the
//! resource in its current state, so tests are exact without sleeping.

use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Real-service durations, in seconds (see the module table).
pub const INSTANCE_PENDING: f64 = 10.0;
pub const INSTANCE_STARTING: f64 = 20.0;
pub const INSTANCE_CREATING: f64 = 15.0;
pub const INSTANCE_STOPPING: f64 = 10.0;
pub const INSTANCE_VANISHING: f64 = 3.0;
pub const RELEASE_WINDOW: f64 = 5.0;
pub const AGENT_ONLINE: f64 = 8.0;
pub const VPC_CREATING: f64 = 3.0;
pub const VSWITCH_CREATING: f64 = 2.0;
pub const NETWORK_DELETING: f64 = 2.0;
pub const COMMAND_DISPATCH: f64 = 1.0;
pub const COMMAND_RUN: f64 = 2.0;

/// How simulated time passes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum TimeMode {
    /// Real durations multiplied by this factor (1.0 = real speed, 0.01 = 100× faster,
    /// 0.0 = every transition is immediate).
    Scaled(f64),
    /// Deterministic: each transition happens after this many observations.
    Steps(u32),
}

impl Default for TimeMode {
    fn default() -> TimeMode {
        TimeMode::Scaled(1.0)
    }
}

/// The start of a pending transition: when it began (virtual seconds) and how many calls
/// have observed it since.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timer {
    pub since: f64,
    pub seen: u32,
}

/// Virtual time. Serialises as the virtual seconds elapsed so far, so a restored world carries
/// on where it stopped.
#[derive(Debug)]
pub struct Clock {
    pub mode: TimeMode,
    base: f64,
    started: Instant,
    /// Unix seconds of virtual time 0: the simulated wall clock is this plus [`Clock::now`],
    /// so wall-clock deadlines (AutoReleaseTime) pass in simulated time.
    epoch: i64,
}

impl Clock {
    pub fn new(mode: TimeMode) -> Clock {
        Clock::resume(mode, 0.0)
    }

    /// A clock that carries on from `virtual_secs` (restoring a snapshot).
    pub fn resume(mode: TimeMode, virtual_secs: f64) -> Clock {
        Clock {
            mode,
            base: virtual_secs,
            started: Instant::now(),
            epoch: time::OffsetDateTime::now_utc().unix_timestamp() - virtual_secs as i64,
        }
    }

    /// The same virtual time and wall epoch, flowing at another speed.
    pub fn with_mode(&self, mode: TimeMode) -> Clock {
        Clock {
            epoch: self.epoch,
            ..Clock::resume(mode, self.now())
        }
    }

    /// The simulated wall clock (UTC): the real one while time flows at real speed, ahead of
    /// it when time is scaled faster. In Steps mode, and at scale 0, time does not flow on its
    /// own, so the real clock stands in (nothing then expires by the wall clock early).
    pub fn wall_now(&self) -> time::OffsetDateTime {
        match self.mode {
            TimeMode::Scaled(f) if f > 0.0 && f.is_finite() => {
                let secs = self.epoch as f64 + self.now();
                time::OffsetDateTime::from_unix_timestamp(secs as i64)
                    .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
            }
            TimeMode::Scaled(_) | TimeMode::Steps(_) => time::OffsetDateTime::now_utc(),
        }
    }

    /// Virtual seconds since the world began. In Steps mode time does not flow.
    pub fn now(&self) -> f64 {
        match self.mode {
            TimeMode::Scaled(f) if f > 0.0 => self.base + self.started.elapsed().as_secs_f64() / f,
            TimeMode::Scaled(_) | TimeMode::Steps(_) => self.base,
        }
    }

    /// The wall-clock time that `virtual_secs` of simulated time take: scaled in Scaled mode
    /// (a 60 s Cloud Assistant Timeout at 0.05 kills after 3 s), unscaled in Steps mode,
    /// where simulated time does not flow, and at scale 0, where it would allow no time at all.
    pub fn wall(&self, virtual_secs: f64) -> std::time::Duration {
        let secs = match self.mode {
            TimeMode::Scaled(f) if f.is_finite() && f > 0.0 => virtual_secs * f,
            TimeMode::Scaled(_) | TimeMode::Steps(_) => virtual_secs,
        };
        std::time::Duration::from_secs_f64(secs.max(0.0))
    }

    /// A timer for a transition that starts now.
    pub fn start(&self) -> Timer {
        Timer {
            since: self.now(),
            seen: 0,
        }
    }

    /// Records one observation of a pending transition and says whether its time has come.
    /// Call it once per call that reads the resource; when it returns true, the caller moves
    /// the resource on and starts a fresh timer for the next transition, if any.
    pub fn due(&self, timer: &mut Timer, duration: f64) -> bool {
        match self.mode {
            TimeMode::Scaled(f) if f.is_nan() || f <= 0.0 => true,
            TimeMode::Scaled(_) => self.now() - timer.since >= duration,
            TimeMode::Steps(n) => {
                if timer.seen >= n {
                    true
                } else {
                    timer.seen += 1;
                    false
                }
            }
        }
    }

    /// The moment (virtual seconds) a transition started by `timer` completes, for chaining
    /// transitions in Scaled mode without losing the time already elapsed.
    pub fn next_timer(&self, timer: &Timer, duration: f64) -> Timer {
        match self.mode {
            TimeMode::Scaled(_) => Timer {
                since: (timer.since + duration).min(self.now()),
                seen: 0,
            },
            TimeMode::Steps(_) => self.start(),
        }
    }
}

impl Serialize for Clock {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Snapshot {
            mode: TimeMode,
            virtual_secs: f64,
            epoch: i64,
        }
        Snapshot {
            mode: self.mode,
            virtual_secs: self.now(),
            epoch: self.epoch,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Clock {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Clock, D::Error> {
        #[derive(Deserialize)]
        struct Snapshot {
            mode: TimeMode,
            virtual_secs: f64,
            /// Absent in snapshots written before the simulated wall clock existed.
            #[serde(default)]
            epoch: Option<i64>,
        }
        let s = Snapshot::deserialize(d)?;
        let mut clock = Clock::resume(s.mode, s.virtual_secs);
        if let Some(epoch) = s.epoch {
            clock.epoch = epoch;
        }
        Ok(clock)
    }
}

/// Wall-clock UTC timestamps in the formats the API uses.
pub mod stamp {
    use time::OffsetDateTime;

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    /// `yyyy-MM-ddTHH:mm:ssZ` (VPC, security groups, invocations).
    pub fn seconds() -> String {
        // The same format as the RPC `Timestamp` parameter.
        crate::rpc::format_timestamp(now())
    }

    /// `yyyy-MM-ddTHH:mmZ` (instance CreationTime/StartTime: no seconds).
    pub fn minutes() -> String {
        let t = now();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_mode_transitions_after_n_observations() {
        let c = Clock::new(TimeMode::Steps(2));
        let mut t = c.start();
        assert!(!c.due(&mut t, 100.0));
        assert!(!c.due(&mut t, 100.0));
        assert!(c.due(&mut t, 100.0));
    }

    #[test]
    fn zero_scale_is_immediate_and_snapshots_stay_finite() {
        let c = Clock::new(TimeMode::Scaled(0.0));
        let mut t = c.start();
        assert!(c.due(&mut t, 1e6));
        let json = serde_json::to_string(&c).unwrap();
        let back: Clock = serde_json::from_str(&json).unwrap();
        assert_eq!(back.mode, TimeMode::Scaled(0.0));
    }

    #[test]
    fn the_wall_clock_runs_at_the_scaled_speed_and_survives_a_snapshot() {
        let c = Clock::resume(TimeMode::Scaled(0.001), 7200.0);
        let ahead = c.wall_now() - time::OffsetDateTime::now_utc();
        assert!(
            ahead.whole_seconds() >= 0 && ahead.whole_seconds() <= 2,
            "{ahead}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
        let later = c.wall_now() - time::OffsetDateTime::now_utc();
        assert!(
            later.whole_seconds() >= 15,
            "20 ms at 1000x is 20 s: {later}"
        );
        let back: Clock = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert!((back.wall_now() - c.wall_now()).whole_seconds().abs() <= 1);
        let steps = Clock::new(TimeMode::Steps(1));
        assert!(
            (steps.wall_now() - time::OffsetDateTime::now_utc())
                .whole_seconds()
                .abs()
                <= 1
        );
    }

    #[test]
    fn scaled_time_resumes_from_a_snapshot() {
        let c = Clock::resume(TimeMode::Scaled(1.0), 42.0);
        assert!(c.now() >= 42.0);
        let back: Clock = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert!(back.now() >= 42.0);
    }
}
