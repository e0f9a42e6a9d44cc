//! Waiting for the cloud: adaptive polling (quick first polls, then backoff up to a cap) that
//! stops early on a terminal state it was not waiting for and ends a timeout with a clear error.
//!
//! [`until`] is the primitive; the instance, VPC, vswitch and invocation waits build on it. The
//! intervals come from the session's [`WaitPolicy`], so tests against a sped-up simulator use
//! short ones. Every sleep goes through the gateway and so stops at once on Ctrl-C.
//!
//! Waits learn ([`Pace`]): how long a transition of a kind (a VPC becoming Available,
//! instances reaching a status, an agent coming online, …) took this run, else on an earlier
//! run against the same target (`pace.json`, [`super::pace_file`]), else a first guess from a
//! table ([`super::pace::first_guesses`]). With a guess a wait polls at it and then in fine
//! steps, instead of on intervals growing from 200 ms: fewer calls, and a poll lands close to
//! the change.

use super::errors::HostError;
use super::gateway::Gateway;
use super::pace::{kind, Pace};
use super::paging::get_path;
use super::Progress;
use crate::ops::{ResourceKind, A};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// How to poll.
#[derive(Clone, Copy, Debug)]
pub struct WaitPolicy {
    /// The first interval; each next one is `factor` times longer, up to `max_interval`.
    pub first_interval: Duration,
    pub factor: f64,
    pub max_interval: Duration,
    /// Default time limit of a wait when the caller gives none.
    pub timeout: Duration,
}

impl std::default::Default for WaitPolicy {
    /// Gentle growth with a low cap: a poll lands at most ~25% (and at most 2 s) after the
    /// state changed, so a flow of many waits stays within ~10% of the least time the service
    /// allows (BENCHMARKS.md, "One-shot flow"); doubling up to 5 s overshot by up to 100%.
    fn default() -> Self {
        WaitPolicy {
            first_interval: Duration::from_millis(200),
            factor: 1.25,
            max_interval: Duration::from_secs(2),
            timeout: Duration::from_secs(600),
        }
    }
}

impl WaitPolicy {
    /// The intervals between polls: first, first×factor, … capped.
    pub fn intervals(&self) -> impl Iterator<Item = Duration> + '_ {
        std::iter::successors(Some(self.first_interval), move |d| {
            Some(d.mul_f64(self.factor).min(self.max_interval))
        })
    }
}

/// What one poll saw.
pub enum Poll<T> {
    Done(T),
    /// Not there yet; the text describes the current state for the timeout message.
    Pending(String),
    /// A terminal state other than the wanted one.
    Failed(HostError),
}

/// With a guess, the policy's own (growing) polls go on only while they come before this share
/// of it, so a transition that got much quicker is still seen soon.
const EARLY_SHARE: f64 = 0.5;
/// From the guess on, polls follow in fine steps of this share of it…
const FINE_SHARE: f64 = 0.04;
/// …at least this long (below it a poll costs more than the time it saves)…
const FINE_MIN: Duration = Duration::from_millis(20);
/// …and at most this long, so a long transition is still seen within 0.2 s of its end.
const FINE_MAX: Duration = Duration::from_millis(200);
/// The fine steps go on for this share of the guess (and at least [`FINE_POLLS`] of them),
/// then the intervals widen by the policy's factor up to its cap: the guess was too short.
const FINE_WINDOW: f64 = 0.25;
const FINE_POLLS: u32 = 5;

/// Where a [`Schedule`] is.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    /// The policy's intervals, until the poll at `guess`.
    Early { guess: Duration },
    /// Steps of `step` until `until` (time since the wait began).
    Fine { step: Duration, until: Duration },
    /// The policy's growing intervals (from `Schedule::next`), up to its cap.
    Wide,
}

/// When to poll. Without a guess: the policy's growing intervals. With one (see
/// [`super::pace::Pace`]): those only while they stay under half the guess, then one poll at
/// the guess, then fine steps (≤ 0.2 s) for a while, then widening intervals again.
struct Schedule<'a> {
    policy: &'a WaitPolicy,
    /// The policy's next interval.
    next: Duration,
    /// Time since the wait began at the next poll so far.
    at: Duration,
    phase: Phase,
    /// The fine step of this wait's guess, if it has one.
    step: Option<Duration>,
    /// The interval just given was the jump to the guess.
    at_guess: bool,
}

impl<'a> Schedule<'a> {
    fn new(policy: &'a WaitPolicy, guess: Option<Duration>) -> Schedule<'a> {
        Schedule {
            policy,
            next: policy.first_interval,
            at: Duration::ZERO,
            phase: guess.map_or(Phase::Wide, |guess| Phase::Early { guess }),
            step: guess.map(fine_step),
            at_guess: false,
        }
    }

    fn next_interval(&mut self) -> Duration {
        self.at_guess = false;
        let d = match self.phase {
            Phase::Early { guess } if self.at + self.next > guess.mul_f64(EARLY_SHARE) => {
                let step = fine_step(guess);
                let window = guess.mul_f64(FINE_WINDOW).max(step * FINE_POLLS);
                self.phase = Phase::Fine {
                    step,
                    until: guess + window,
                };
                self.at_guess = true;
                guess.saturating_sub(self.at).max(FINE_MIN)
            }
            Phase::Fine { step, until } if self.at + step <= until => step,
            Phase::Fine { step, .. } => {
                // The guess was too short: widen from the fine step.
                self.phase = Phase::Wide;
                let d = step
                    .mul_f64(self.policy.factor)
                    .min(self.policy.max_interval);
                self.next = d.mul_f64(self.policy.factor).min(self.policy.max_interval);
                d
            }
            Phase::Early { .. } | Phase::Wide => {
                let d = self.next;
                self.next = d.mul_f64(self.policy.factor).min(self.policy.max_interval);
                d
            }
        };
        self.at += d;
        d
    }
}

/// The fine step after a guess: a share of it, within [`FINE_MIN`]..[`FINE_MAX`].
fn fine_step(guess: Duration) -> Duration {
    guess.mul_f64(FINE_SHARE).clamp(FINE_MIN, FINE_MAX)
}

/// How long the transition took, from the polls that saw it: the last one that still saw the
/// old state (`last_pending`, zero if none did) and the one that saw it done (`sent`), both
/// since the wait began.
fn estimate(
    schedule: &Schedule,
    pending_seen: bool,
    last_pending: Duration,
    sent: Duration,
) -> Duration {
    match (schedule.at_guess, schedule.step, pending_seen) {
        // Seen at the guessed poll: it took at most that, maybe a little less. Learning half a
        // fine step less lets a guess that is too long shrink run by run, while one that is
        // right costs at most one early poll the next time.
        (true, Some(step), _) => sent.saturating_sub(step / 2).max(last_pending),
        // Done at the first poll of the schedule: at most this long.
        (_, _, false) => sent,
        // The change happened between the last pending poll and this one. Far apart (the
        // policy's growing polls), the next run's guess leans to the later end: from there one
        // fine step or two find it (and learn it closely), where the middle would cost fine
        // steps across half the gap.
        (_, _, true) => {
            let step = fine_step(sent);
            match sent.saturating_sub(last_pending) > step * 2 {
                true => sent.saturating_sub(step),
                false => (last_pending + sent) / 2,
            }
        }
    }
}

/// Polls until `poll` is `Done`, fails, or `timeout` passes. The first poll is immediate (the
/// state may already be there); the next ones follow the policy, or the run's last duration of
/// a `kind` transition when there is one (see [`Pace`]), which this wait then updates. `None`
/// for a wait whose length says nothing about the next one (a delete accepted once an instance
/// stops initializing). `fresh`: the
/// caller's own request just started the transition, so the immediate poll is skipped.
#[allow(clippy::too_many_arguments)]
pub fn until<T>(
    gw: &Gateway,
    policy: &WaitPolicy,
    pace: &Pace,
    kind: Option<&str>,
    fresh: bool,
    timeout: Duration,
    what: &str,
    mut poll: impl FnMut() -> Result<Poll<T>, HostError>,
) -> Result<T, HostError> {
    let start = Instant::now();
    let result = poll_until(
        gw, policy, pace, kind, fresh, timeout, what, start, &mut poll,
    );
    gw.report(&Progress::Finished {
        what: what.to_string(),
        ok: result.is_ok(),
        elapsed: start.elapsed(),
    });
    result
}

#[allow(clippy::too_many_arguments)]
fn poll_until<T>(
    gw: &Gateway,
    policy: &WaitPolicy,
    pace: &Pace,
    kind: Option<&str>,
    fresh: bool,
    timeout: Duration,
    what: &str,
    start: Instant,
    poll: &mut impl FnMut() -> Result<Poll<T>, HostError>,
) -> Result<T, HostError> {
    let guess = kind.and_then(|k| pace.guess(k));
    let mut schedule = Schedule::new(policy, guess);
    // When the last poll that still saw the old state was sent, and how many polls went out.
    let mut last_pending = Duration::ZERO;
    let mut pending_seen = false;
    let mut polls = 0u32;
    if fresh {
        // The host's own call started this transition a moment ago: an immediate poll could
        // not see it done, so the schedule's first interval comes first.
        gw.sleep(schedule.next_interval().min(timeout))?;
        polls = 1;
    }
    loop {
        let sent = start.elapsed();
        polls += 1;
        let last = match poll()? {
            Poll::Done(v) => {
                match (kind, polls) {
                    // Done at once: it says nothing about how long the transition takes.
                    (None, _) | (_, 1) => {}
                    (Some(k), _) => {
                        pace.learn(k, estimate(&schedule, pending_seen, last_pending, sent))
                    }
                }
                return Ok(v);
            }
            Poll::Failed(e) => return Err(e),
            Poll::Pending(state) => state,
        };
        pending_seen = polls > 1;
        last_pending = sent;
        let elapsed = start.elapsed();
        if elapsed >= timeout {
            return Err(HostError::WaitTimeout(format!(
                "gave up waiting for {what} after {:.1}s; last seen: {last}",
                elapsed.as_secs_f64()
            )));
        }
        gw.report(&Progress::Waiting {
            what: what.to_string(),
            state: last,
            elapsed,
        });
        let next = schedule.next_interval();
        gw.sleep(next.min(timeout - elapsed))?;
    }
}

/// Waits until every instance in `ids` has `status` (e.g. `Running`). Fails fast when one
/// reaches a stable status that cannot lead there (Stopped while waiting for Running).
#[allow(clippy::too_many_arguments)]
pub fn instances_status(
    gw: &Gateway,
    policy: &WaitPolicy,
    pace: &Pace,
    fresh: bool,
    timeout: Duration,
    region: &str,
    ids: &[String],
    status: &str,
) -> Result<Vec<Value>, HostError> {
    let what = format!("instances {} to be {status}", ids.join(", "));
    let kind = kind::instances_to_be(status);
    until(gw, policy, pace, Some(&kind), fresh, timeout, &what, || {
        let listed = describe_instances(gw, region, ids)?;
        let mut states = Vec::new();
        for id in ids {
            let st = listed
                .iter()
                .find(|i| i["InstanceId"] == id.as_str())
                .and_then(|i| i["Status"].as_str())
                .unwrap_or("not listed yet");
            if st != status && is_dead_end(st, status) {
                return Ok(Poll::Failed(HostError::UnexpectedState(format!(
                    "instance {id} is {st} while waiting for it to be {status}"
                ))));
            }
            states.push(format!("{id}={st}"));
        }
        if listed.len() >= ids.len() && listed.iter().all(|i| i["Status"].as_str() == Some(status))
        {
            Ok(Poll::Done(listed))
        } else {
            Ok(Poll::Pending(states.join(", ")))
        }
    })
}

/// Waits until none of `ids` (of `kind`) is listed any more: the release completed. Uses the
/// registry's verify action for the kind.
#[allow(clippy::too_many_arguments)]
pub fn gone(
    gw: &Gateway,
    policy: &WaitPolicy,
    pace: &Pace,
    fresh: bool,
    timeout: Duration,
    region: &str,
    kind: ResourceKind,
    ids: &[String],
) -> Result<(), HostError> {
    let Some(rel) = kind.release() else {
        return Ok(());
    };
    let json_list = rel.verify_action.json_params.contains(&rel.verify_param);
    let id_value = if json_list {
        json!(ids)
    } else {
        json!(ids.join(","))
    };
    let what = format!("{} {} to be released", kind.label(), ids.join(", "));
    until(
        gw,
        policy,
        pace,
        Some(released_kind(kind)),
        fresh,
        timeout,
        &what,
        || {
            let params = json!({ "RegionId": region, rel.verify_param: id_value.clone() });
            let resp = match gw.send(rel.verify_action, object(params)) {
                Ok(r) => r,
                Err(HostError::Api(e)) if e.code.contains("NotFound") => return Ok(Poll::Done(())),
                Err(e) => return Err(e),
            };
            let left = get_path(&resp, rel.verify_list)
                .and_then(Value::as_array)
                .map_or(0, |a| {
                    a.iter()
                        .filter(|x| {
                            x.as_object().is_some_and(|o| {
                                o.values()
                                    .any(|v| v.as_str().is_some_and(|s| ids.iter().any(|i| i == s)))
                            })
                        })
                        .count()
                });
            Ok(match left {
                0 => Poll::Done(()),
                n => Poll::Pending(format!("{n} still listed")),
            })
        },
    )
}

/// The [`Pace`] kind of releasing `kind`: deleting a vswitch and a VPC take alike.
fn released_kind(of: ResourceKind) -> &'static str {
    match of {
        ResourceKind::VSwitch | ResourceKind::Vpc => kind::NETWORK_RELEASED,
        ResourceKind::Instance => kind::INSTANCES_RELEASED,
        _ => kind::OTHERS_RELEASED,
    }
}

/// A stable instance status from which `want` cannot be reached without another call.
fn is_dead_end(status: &str, want: &str) -> bool {
    match want {
        // Not Stopping: a reboot goes Running -> Stopping -> Starting -> Running, and DescribeInstances
        // cannot tell it from a stop; a stop that really ends is caught at Stopped.
        "Running" => status == "Stopped",
        "Stopped" => false,
        _ => false,
    }
}

fn describe_instances(gw: &Gateway, region: &str, ids: &[String]) -> Result<Vec<Value>, HostError> {
    let params = json!({ "RegionId": region, "InstanceIds": ids, "MaxResults": 100 });
    let resp = gw.send(&A::DESCRIBE_INSTANCES, object(params))?;
    Ok(get_path(&resp, "Instances.Instance")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

/// Waits until a VPC (`net` = `Vpc`) or vswitch (`VSwitch`) is `Available`.
pub fn network_available(
    gw: &Gateway,
    policy: &WaitPolicy,
    pace: &Pace,
    timeout: Duration,
    region: &str,
    net: NetKind,
    id: &str,
) -> Result<Value, HostError> {
    let (action, id_param, list, learned) = match net {
        NetKind::Vpc => (&A::DESCRIBE_VPCS, "VpcId", "Vpcs.Vpc", kind::VPC_AVAILABLE),
        NetKind::VSwitch => (
            &A::DESCRIBE_VSWITCHES,
            "VSwitchId",
            "VSwitches.VSwitch",
            kind::VSWITCH_AVAILABLE,
        ),
    };
    let what = format!("{id} to be Available");
    until(
        gw,
        policy,
        pace,
        Some(learned),
        false,
        timeout,
        &what,
        || {
            let params = json!({ "RegionId": region, id_param: id });
            let resp = gw.send(action, object(params))?;
            let item = get_path(&resp, list)
                .and_then(Value::as_array)
                .and_then(|a| a.iter().find(|x| x[id_param] == id))
                .cloned();
            Ok(match item {
                Some(x) if x["Status"] == "Available" => Poll::Done(x),
                Some(x) => Poll::Pending(format!("Status={}", x["Status"])),
                None => Poll::Pending("not listed yet".into()),
            })
        },
    )
}

#[derive(Clone, Copy, Debug)]
pub enum NetKind {
    Vpc,
    VSwitch,
}

/// Waits until the Cloud Assistant agent is online on every instance in `ids` (a freshly
/// started instance reports it a little after Running; a command sent earlier is Aborted).
pub fn cloud_assistant(
    gw: &Gateway,
    policy: &WaitPolicy,
    pace: &Pace,
    timeout: Duration,
    region: &str,
    ids: &[String],
) -> Result<(), HostError> {
    let what = format!("the Cloud Assistant agent on {}", ids.join(", "));
    until(
        gw,
        policy,
        pace,
        Some(kind::AGENTS_ONLINE),
        false,
        timeout,
        &what,
        || {
            // One page holds every id the action accepts (50): on the default page (10) a
            // wait for more than 10 agents would never see them all and last until its timeout.
            let params = json!({ "RegionId": region, "InstanceId": ids, "MaxResults": 50 });
            let resp = gw.send(&A::DESCRIBE_CLOUD_ASSISTANT_STATUS, object(params))?;
            let online = get_path(
                &resp,
                "InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus",
            )
            .and_then(Value::as_array)
            .map_or(0, |a| {
                a.iter()
                    .filter(|s| s["CloudAssistantStatus"] == "true")
                    .count()
            });
            Ok(match online >= ids.len() {
                true => Poll::Done(()),
                false => Poll::Pending(format!("{online} of {} agents online", ids.len())),
            })
        },
    )
}

/// Per-instance invocation statuses after which the command did not run to its end.
const INVOCATION_BROKEN: &[&str] = &[
    "Invalid",
    "Aborted",
    "Error",
    "Timeout",
    "Cancelled",
    "Terminated",
    "Stopped",
];

/// Waits until the invocation `invoke_id` on `instance_id` finished, and returns its result
/// (with `DecodedOutput`). A command that ran and exited non-zero (`Failed`) is a result, not an
/// error: its ExitCode and output are what the caller needs. An invocation that could not run
/// to its end (Aborted, Invalid, Timeout, …) fails fast with its ErrorCode and ErrorInfo.
pub fn invocation(
    gw: &Gateway,
    policy: &WaitPolicy,
    pace: &Pace,
    timeout: Duration,
    region: &str,
    invoke_id: &str,
    instance_id: &str,
) -> Result<Value, HostError> {
    let what = format!("invocation {invoke_id} on {instance_id} to finish");
    let finished = Some(kind::COMMANDS_FINISHED);
    until(gw, policy, pace, finished, false, timeout, &what, || {
        let params =
            json!({ "RegionId": region, "InvokeId": invoke_id, "InstanceId": instance_id });
        let resp = gw.send(&A::DESCRIBE_INVOCATION_RESULTS, object(params))?;
        let Some(mut result) = get_path(&resp, "Invocation.InvocationResults.InvocationResult")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|r| r["InstanceId"] == instance_id))
            .cloned()
        else {
            return Ok(Poll::Pending("no result yet".into()));
        };
        let status = result["InvocationStatus"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if INVOCATION_BROKEN.contains(&status.as_str()) {
            return Ok(Poll::Failed(HostError::UnexpectedState(format!(
                "invocation {invoke_id} on {instance_id} ended {status}: {} {}",
                result["ErrorCode"].as_str().unwrap_or(""),
                result["ErrorInfo"].as_str().unwrap_or("")
            ))));
        }
        Ok(match status.as_str() {
            "Success" | "Failed" => {
                gw.note_result(&result);
                super::handlers::add_decoded_output(&mut result);
                Poll::Done(result)
            }
            other => Poll::Pending(format!("InvocationStatus={other}")),
        })
    })
}

pub fn object(v: Value) -> serde_json::Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_start_quick_and_back_off_to_the_cap() {
        let p = WaitPolicy::default();
        let ms: Vec<u128> = p.intervals().take(14).map(|d| d.as_millis()).collect();
        assert_eq!(
            ms,
            [200, 250, 312, 390, 488, 610, 762, 953, 1192, 1490, 1862, 2000, 2000, 2000]
        );
    }

    /// The times (since the wait began) of the next `n` polls.
    fn poll_times(s: &mut Schedule, n: usize) -> Vec<u128> {
        let mut at = Duration::ZERO;
        (0..n)
            .map(|_| {
                at += s.next_interval();
                at.as_millis()
            })
            .collect()
    }

    #[test]
    fn with_a_guess_it_polls_at_the_guess_then_finely_then_wider() {
        let p = WaitPolicy::default();
        // A short guess (a VPC at time scale 0.1): straight to it, then 20 ms steps (4% of it,
        // at least 20 ms) for at least five polls, then widening by the policy's factor.
        let mut short = Schedule::new(&p, Some(Duration::from_millis(300)));
        let times = poll_times(&mut short, 9);
        assert_eq!(times, [300, 320, 340, 360, 380, 400, 425, 456, 495]);
        // A long one (a boot at real speed): the policy's own polls while under half of it
        // (so a transition that got much quicker is still seen soon), then the guess, then
        // 200 ms steps (4% capped at 0.2 s) for a quarter of it, then wider up to the cap.
        let mut long = Schedule::new(&p, Some(Duration::from_secs(30)));
        let times = poll_times(&mut long, 80);
        let before: Vec<u128> = times.iter().copied().filter(|t| *t < 30_000).collect();
        assert_eq!(before[..3], [200, 450, 762]);
        assert!(before.iter().all(|t| *t <= 15_000), "{before:?}");
        assert!(times.contains(&30_000), "{times:?}");
        let fine: Vec<u128> = times
            .iter()
            .copied()
            .filter(|t| *t > 30_000 && *t <= 37_500)
            .collect();
        assert_eq!(fine.len(), 37, "{fine:?}");
        assert!(fine.windows(2).all(|w| w[1] - w[0] == 200), "{fine:?}");
        let wide: Vec<u128> = times.iter().copied().filter(|t| *t > 37_500).collect();
        assert_eq!(wide[..3], [37_650, 37_962, 38_353], "{wide:?}");
        let mut none = Schedule::new(&p, None);
        assert_eq!(none.next_interval(), p.first_interval);
    }

    #[test]
    fn what_a_wait_learns_from_its_polls() {
        let p = WaitPolicy::default();
        let ms = Duration::from_millis;
        // Seen at the guessed poll: half a fine step less than it, so a long guess shrinks.
        let mut s = Schedule::new(&p, Some(ms(300)));
        s.next_interval();
        assert_eq!(estimate(&s, false, ms(0), ms(302)), ms(292));
        // Seen by a fine step: the middle of it.
        s.next_interval();
        assert_eq!(estimate(&s, true, ms(302), ms(322)), ms(312));
        // Without a guess, done at the first scheduled poll: at most that long.
        let mut s = Schedule::new(&p, None);
        s.next_interval();
        assert_eq!(estimate(&s, false, ms(0), ms(200)), ms(200));
        // Between two polls far apart: one fine step (4%) before the later one.
        assert_eq!(estimate(&s, true, ms(2250), ms(3000)), ms(2880));
    }

    #[test]
    fn dead_ends_are_only_states_that_cannot_reach_the_target() {
        assert!(is_dead_end("Stopped", "Running"));
        assert!(
            !is_dead_end("Stopping", "Running"),
            "a reboot passes through Stopping"
        );
        assert!(!is_dead_end("Starting", "Running"));
        assert!(!is_dead_end("Pending", "Running"));
    }
}
