//! Waiting for the cloud: adaptive polling (quick first polls, then backoff up to a cap) that
//! stops early on a terminal state it was not waiting for and ends a timeout with a clear error.
//!
//! [`until`] is the primitive; the instance, VPC, vswitch and invocation waits build on it. The
//! intervals come from the session's [`WaitPolicy`], so tests against a sped-up simulator use
//! short ones. Every sleep goes through the gateway and so stops at once on Ctrl-C.

use super::errors::HostError;
use super::gateway::Gateway;
use super::paging::get_path;
use super::Progress;
use crate::ops::{Product, ResourceKind};
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

/// Polls until `poll` is `Done`, fails, or `timeout` passes.
pub fn until<T>(
    gw: &Gateway,
    policy: &WaitPolicy,
    timeout: Duration,
    what: &str,
    mut poll: impl FnMut() -> Result<Poll<T>, HostError>,
) -> Result<T, HostError> {
    let start = Instant::now();
    let result = poll_until(gw, policy, timeout, what, start, &mut poll);
    gw.report(&Progress::Finished {
        what: what.to_string(),
        ok: result.is_ok(),
        elapsed: start.elapsed(),
    });
    result
}

fn poll_until<T>(
    gw: &Gateway,
    policy: &WaitPolicy,
    timeout: Duration,
    what: &str,
    start: Instant,
    poll: &mut impl FnMut() -> Result<Poll<T>, HostError>,
) -> Result<T, HostError> {
    let mut intervals = policy.intervals();
    loop {
        let last = match poll()? {
            Poll::Done(v) => return Ok(v),
            Poll::Failed(e) => return Err(e),
            Poll::Pending(state) => state,
        };
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
        let next = intervals.next().unwrap_or(policy.max_interval);
        gw.sleep(next.min(timeout - elapsed))?;
    }
}

/// Waits until every instance in `ids` has `status` (e.g. `Running`). Fails fast when one
/// reaches a stable status that cannot lead there (Stopped while waiting for Running).
pub fn instances_status(
    gw: &Gateway,
    policy: &WaitPolicy,
    timeout: Duration,
    region: &str,
    ids: &[String],
    status: &str,
) -> Result<Vec<Value>, HostError> {
    let what = format!("instances {} to be {status}", ids.join(", "));
    until(gw, policy, timeout, &what, || {
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
pub fn gone(
    gw: &Gateway,
    policy: &WaitPolicy,
    timeout: Duration,
    region: &str,
    kind: ResourceKind,
    ids: &[String],
) -> Result<(), HostError> {
    let Some(rel) = kind.release() else {
        return Ok(());
    };
    let product = kind.product();
    let json_list = crate::ops::find(product, rel.verify_action)
        .is_some_and(|a| a.json_params.contains(&rel.verify_param));
    let id_value = if json_list {
        json!(ids)
    } else {
        json!(ids.join(","))
    };
    let what = format!("{} {} to be released", kind.label(), ids.join(", "));
    until(gw, policy, timeout, &what, || {
        let params = json!({ "RegionId": region, rel.verify_param: id_value.clone() });
        let resp = match gw.call(product, rel.verify_action, object(params)) {
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
    })
}

/// A stable instance status from which `want` cannot be reached without another call.
fn is_dead_end(status: &str, want: &str) -> bool {
    match want {
        "Running" => matches!(status, "Stopped" | "Stopping"),
        "Stopped" => false,
        _ => false,
    }
}

fn describe_instances(gw: &Gateway, region: &str, ids: &[String]) -> Result<Vec<Value>, HostError> {
    let params = json!({ "RegionId": region, "InstanceIds": ids, "MaxResults": 100 });
    let resp = gw.call(Product::Ecs, "DescribeInstances", object(params))?;
    Ok(get_path(&resp, "Instances.Instance")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

/// Waits until a VPC (`kind` = `Vpc`) or vswitch (`VSwitch`) is `Available`.
pub fn network_available(
    gw: &Gateway,
    policy: &WaitPolicy,
    timeout: Duration,
    region: &str,
    kind: NetKind,
    id: &str,
) -> Result<Value, HostError> {
    let (action, id_param, list) = match kind {
        NetKind::Vpc => ("DescribeVpcs", "VpcId", "Vpcs.Vpc"),
        NetKind::VSwitch => ("DescribeVSwitches", "VSwitchId", "VSwitches.VSwitch"),
    };
    let what = format!("{id} to be Available");
    until(gw, policy, timeout, &what, || {
        let params = json!({ "RegionId": region, id_param: id });
        let resp = gw.call(Product::Vpc, action, object(params))?;
        let item = get_path(&resp, list)
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|x| x[id_param] == id))
            .cloned();
        Ok(match item {
            Some(x) if x["Status"] == "Available" => Poll::Done(x),
            Some(x) => Poll::Pending(format!("Status={}", x["Status"])),
            None => Poll::Pending("not listed yet".into()),
        })
    })
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
    timeout: Duration,
    region: &str,
    ids: &[String],
) -> Result<(), HostError> {
    let what = format!("the Cloud Assistant agent on {}", ids.join(", "));
    until(gw, policy, timeout, &what, || {
        let params = json!({ "RegionId": region, "InstanceId": ids });
        let resp = gw.call(Product::Ecs, "DescribeCloudAssistantStatus", object(params))?;
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
    })
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
    timeout: Duration,
    region: &str,
    invoke_id: &str,
    instance_id: &str,
) -> Result<Value, HostError> {
    let what = format!("invocation {invoke_id} on {instance_id} to finish");
    until(gw, policy, timeout, &what, || {
        let params =
            json!({ "RegionId": region, "InvokeId": invoke_id, "InstanceId": instance_id });
        let resp = gw.call(Product::Ecs, "DescribeInvocationResults", object(params))?;
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
                super::functions::add_decoded_output(&mut result);
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

    #[test]
    fn dead_ends_are_only_states_that_cannot_reach_the_target() {
        assert!(is_dead_end("Stopped", "Running"));
        assert!(!is_dead_end("Starting", "Running"));
        assert!(!is_dead_end("Pending", "Running"));
    }
}
