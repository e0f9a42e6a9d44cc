//! Cloud Assistant: RunCommand, DescribeInvocations, DescribeInvocationResults and
//! DescribeCloudAssistantStatus. Invocations go Pending → Running → Success/Failed/Timeout per
//! instance; the overall status is derived from the per-instance ones. In `ExecMode::Simulated`
//! nothing runs and the output says so; in `ExecMode::Local` RunShellScript runs via `exec`.
//!
//! Must not: run anything itself (that is `exec`), or change instance states.

use super::super::clock::{self, stamp, Clock, Timer};
use super::exec::{ExecMode, Poll, Runs, OUTPUT_CAP};
use super::instance_store::InstanceStore;
use super::instances::{Instance, Status};
use super::params::Params;
use super::{new_id, paging, tags, SimError, World};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// What a simulated run prints, so nobody mistakes it for a real one.
pub const SIMULATED_OUTPUT: &str = "[ecsh simulator] command not executed (simulated run); start \
the simulator with --sim-exec local to run RunShellScript commands with /bin/sh\n";

#[derive(Serialize, Deserialize)]
pub struct Invocation {
    pub invoke_id: String,
    pub command_id: String,
    pub seq: u64,
    pub region: String,
    pub name: String,
    pub description: String,
    pub command_type: String,
    /// The script as run (after parameter substitution), Base64.
    pub content_b64: String,
    pub timeout: u64,
    pub working_dir: String,
    pub username: String,
    pub repeat_mode: String,
    pub parameters: String,
    pub creation_time: String,
    pub tags: tags::Tags,
    pub results: Vec<InvokeResult>,
}

#[derive(Serialize, Deserialize)]
pub struct InvokeResult {
    pub instance_id: String,
    /// Pending | Running | Success | Failed | Timeout | Aborted | Invalid | Error.
    pub status: String,
    pub timer: Timer,
    pub exit_code: Option<i64>,
    pub output_b64: String,
    pub dropped: u64,
    pub error_code: String,
    pub error_info: String,
    pub start_time: String,
    pub finish_time: String,
    pub local: bool,
}

fn terminal(status: &str) -> bool {
    !matches!(status, "Pending" | "Running" | "Stopping" | "Scheduled")
}

impl InvokeResult {
    fn finish(&mut self, status: &str, exit: Option<i64>, output: &[u8], dropped: u64) {
        self.status = status.to_string();
        self.exit_code = exit;
        self.output_b64 = B64.encode(output);
        self.dropped = dropped;
        self.finish_time = stamp::seconds();
    }
    fn fail(&mut self, status: &str, code: &str, info: &str) {
        self.finish(status, None, b"", 0);
        self.error_code = code.to_string();
        self.error_info = info.to_string();
    }
}

impl Invocation {
    /// The whole invoke's status, from the per-instance ones.
    fn overall(&self) -> &'static str {
        let any = |s: &str| self.results.iter().any(|r| r.status == s);
        if any("Pending") {
            "Pending"
        } else if any("Running") {
            "Running"
        } else if self.results.iter().all(|r| r.status == "Success") {
            "Success"
        } else if any("Success") {
            "PartialFailed"
        } else {
            "Failed"
        }
    }
}

/// Moves one invocation's per-instance runs along (dispatching, starting and polling local
/// processes). Takes the fields it needs so the caller can lend them separately.
fn settle(
    inv: &mut Invocation,
    clock: &Clock,
    exec: &ExecMode,
    runs: &mut Runs,
    instances: &InstanceStore,
) {
    for r in &mut inv.results {
        if r.status == "Pending" {
            if !clock.due(&mut r.timer, clock::COMMAND_DISPATCH) {
                continue;
            }
            r.timer = clock.next_timer(&r.timer, clock::COMMAND_DISPATCH);
            let running = instances
                .get(&r.instance_id)
                .is_some_and(|i| i.released.is_none() && i.status == Status::Running);
            if !running {
                r.fail(
                    "Aborted",
                    "InstanceNotRunning",
                    "the instance stopped or was released before the command was delivered",
                );
                continue;
            }
            r.status = "Running".to_string();
            r.start_time = stamp::seconds();
            if *exec == ExecMode::Local && inv.command_type == "RunShellScript" {
                r.local = true;
                let script = B64.decode(&inv.content_b64).unwrap_or_default();
                // Timeout is simulated seconds, like every other duration of the world.
                let timeout = clock.wall(inv.timeout as f64);
                runs.start(&inv.invoke_id, &r.instance_id, script, timeout);
            }
        }
        if r.status != "Running" {
            continue;
        }
        if r.local {
            match runs.poll(&inv.invoke_id, &r.instance_id) {
                Poll::Running => {}
                Poll::Lost => r.fail(
                    "Error",
                    "ExecutionInterrupted",
                    "the simulator restarted while the command ran; its result is lost",
                ),
                Poll::Done(o) => {
                    if let Some(why) = o.failed_to_start {
                        r.fail("Error", "ExecutionException", &why);
                    } else if o.timed_out {
                        r.finish("Timeout", None, &o.output, o.dropped);
                        r.error_code = "ExecutionTimeout".into();
                        r.error_info = format!(
                            "the command ran longer than its Timeout of {} s and was killed",
                            inv.timeout
                        );
                    } else if o.exit_code == 0 {
                        r.finish("Success", Some(0), &o.output, o.dropped);
                    } else {
                        r.finish("Failed", Some(o.exit_code), &o.output, o.dropped);
                        r.error_code = "ExitCodeNonzero".into();
                        r.error_info = format!("the command exited with code {}", o.exit_code);
                    }
                }
            }
        } else if clock.due(&mut r.timer, clock::COMMAND_RUN) {
            r.finish("Success", Some(0), SIMULATED_OUTPUT.as_bytes(), 0);
        }
    }
}

/// True when `inv` is not executed for real: every command unless the simulator runs with
/// `--sim-exec local` and it is a RunShellScript. Results carry it as `Simulated`, so a
/// simulated `pip install` that "succeeded" cannot pass for a real one.
fn simulated(w: &World, inv: &Invocation) -> bool {
    !(w.exec == ExecMode::Local && inv.command_type == "RunShellScript")
}

impl World {
    /// Settles the invocations with these ids (each observed once).
    pub(super) fn settle_invocations(&mut self, ids: &[String]) {
        for id in ids {
            if let Some(inv) = self.invocations.get_mut(id) {
                settle(
                    inv,
                    &self.clock,
                    &self.exec,
                    &mut self.runs,
                    &self.instances,
                );
            }
        }
    }
}

/// Replaces `{{name}}` placeholders with the values of the `Parameters` JSON object.
fn substitute(content: &str, p: &Params) -> Result<(String, String), SimError> {
    substitute_with(content, p.flag("EnableParameter")?, p.str("Parameters"))
}

/// [`substitute`] for a command whose parameters were enabled when it was created
/// (InvokeCommand of a CreateCommand's command).
pub(super) fn substitute_with(
    content: &str,
    enabled: bool,
    parameters: Option<&str>,
) -> Result<(String, String), SimError> {
    if !enabled {
        return Ok((content.to_string(), "{}".to_string()));
    }
    let raw = parameters.unwrap_or("{}");
    let values: BTreeMap<String, Value> = serde_json::from_str(raw).map_err(|_| {
        SimError::invalid(
            "Parameters",
            "expected a JSON object such as {\"name\":\"value\"}",
        )
    })?;
    let mut out = content.to_string();
    let mut rest = content;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let name = rest[start + 2..start + len].trim().to_string();
        let value = values.get(&name).ok_or_else(|| {
            SimError::new(
                400,
                "InvalidParameter.Parameters",
                format!("The command uses {{{{{name}}}}} but Parameters has no \"{name}\"."),
            )
        })?;
        let text = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_string);
        out = out.replace(&format!("{{{{{name}}}}}"), &text);
        rest = &rest[start + len + 2..];
    }
    Ok((out, raw.to_string()))
}

pub fn run_command(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let command_type = p
        .choice(
            "Type",
            &["RunShellScript", "RunPowerShellScript", "RunBatScript"],
        )?
        .ok_or_else(|| SimError::missing("Type"))?;
    let raw = p.need("CommandContent")?;
    let base64 = p
        .str("ContentEncoding")
        .is_some_and(|e| e.eq_ignore_ascii_case("Base64"));
    let content = if base64 {
        if raw.len() > OUTPUT_CAP {
            return Err(SimError::invalid(
                "CommandContent",
                "the Base64 content exceeds 24 KB",
            ));
        }
        let bytes = B64.decode(raw.trim()).map_err(|_| {
            SimError::invalid(
                "CommandContent",
                "ContentEncoding is Base64 but the content is not valid Base64",
            )
        })?;
        String::from_utf8(bytes).map_err(|_| {
            SimError::invalid("CommandContent", "the decoded content is not UTF-8 text")
        })?
    } else {
        raw.to_string()
    };
    if B64.encode(content.as_bytes()).len() > OUTPUT_CAP {
        return Err(SimError::invalid(
            "CommandContent",
            "the content exceeds 24 KB once Base64-encoded",
        ));
    }
    let (content, parameters) = substitute(&content, p)?;
    let timeout = p.int("Timeout", 10, 86_400)?.unwrap_or(60) as u64;
    let repeat = p
        .choice(
            "RepeatMode",
            &["Once", "Period", "NextRebootOnly", "EveryReboot", "DryRun"],
        )?
        .unwrap_or("Once");
    if repeat != "Once" {
        return Err(SimError::invalid(
            "RepeatMode",
            format!("the simulator runs commands Once; {repeat} is not simulated"),
        ));
    }
    let ids = p.list("InstanceId")?;
    let name = p.str("Name").unwrap_or("").to_string();
    let tags = p.tags()?;
    let results = results_for(w, &region, &ids, command_type)?;
    let seq = w.seq();
    let inv = Invocation {
        invoke_id: command_id("t", &region),
        command_id: command_id("c", &region),
        seq,
        region,
        name,
        description: p.str("Description").unwrap_or("").to_string(),
        command_type: command_type.to_string(),
        content_b64: B64.encode(content.as_bytes()),
        timeout,
        working_dir: p.str("WorkingDir").unwrap_or("").to_string(),
        username: p.str("Username").unwrap_or("root").to_string(),
        repeat_mode: repeat.to_string(),
        parameters,
        creation_time: stamp::seconds(),
        tags,
        results,
    };
    let body = json!({ "CommandId": inv.command_id, "InvokeId": inv.invoke_id });
    w.invocations.insert(inv.invoke_id.clone(), inv);
    Ok(body)
}

/// The Running instance `id` of `region` that Cloud Assistant is asked to reach (`what` it
/// does there: "runs commands", "sends files"), or the service's error.
pub(super) fn running_instance<'w>(
    w: &'w mut World,
    region: &str,
    id: &str,
    what: &str,
) -> Result<&'w mut Instance, SimError> {
    let inst = match w.instance(id) {
        Some(i) if i.region == region => i,
        _ => {
            return Err(SimError::new(
                404,
                "InvalidInstance.NotFound",
                format!("The specified instance \"{id}\" does not exist in {region}."),
            ))
        }
    };
    if inst.status != Status::Running {
        return Err(SimError::new(
            403,
            "InvalidInstance.NotRunning",
            format!(
                "The instance {id} is {}; Cloud Assistant {what} only on Running instances.",
                inst.status.as_str()
            ),
        ));
    }
    Ok(inst)
}

/// The per-instance runs of a new invocation on `ids` (1 to 100 Running instances of the
/// region): Pending, or already Invalid/Aborted when the type does not fit the OS or the agent
/// is not online. Shared by RunCommand and InvokeCommand.
pub(super) fn results_for(
    w: &mut World,
    region: &str,
    ids: &[&str],
    command_type: &str,
) -> Result<Vec<InvokeResult>, SimError> {
    let catalog = w.catalog;
    if ids.is_empty() {
        return Err(SimError::missing("InstanceId.1"));
    }
    if ids.len() > 100 {
        return Err(SimError::invalid(
            "InstanceId.N",
            "at most 100 instances per call",
        ));
    }
    let timer = w.clock.start();
    let mut results = Vec::new();
    for id in ids {
        let inst = running_instance(w, region, id, "runs commands")?;
        let os = catalog
            .image(&inst.image_id)
            .map_or("linux", |i| i.os_type.as_str());
        let mut r = InvokeResult {
            instance_id: id.to_string(),
            status: "Pending".into(),
            timer,
            exit_code: None,
            output_b64: String::new(),
            dropped: 0,
            error_code: String::new(),
            error_info: String::new(),
            start_time: String::new(),
            finish_time: String::new(),
            local: false,
        };
        let fits_os = (os == "windows") == (command_type != "RunShellScript");
        if !fits_os {
            r.fail(
                "Invalid",
                "CommandNotApplicable",
                &format!("{command_type} cannot run on a {os} instance"),
            );
        } else if !inst.agent_online {
            r.fail(
                "Aborted",
                "ClientNotRunning",
                "the Cloud Assistant agent is not online yet; wait until DescribeCloudAssistantStatus shows true",
            );
        }
        results.push(r);
    }
    Ok(results)
}

/// A Cloud Assistant id (`t-hz0…` for invocations, `c-hz0…` for commands): the prefix, a
/// two-letter region code and a 0, then random base36, like the real ones.
pub(super) fn command_id(prefix: &str, region: &str) -> String {
    let code = match region {
        "cn-hangzhou" => "hz",
        "cn-shanghai" => "sh",
        "cn-beijing" => "bj",
        "ap-southeast-1" => "sg",
        "us-west-1" => "us",
        "eu-central-1" => "eu",
        _ => "xx",
    };
    let random = new_id("x", region);
    let tail = random.get(5..).unwrap_or_default();
    format!("{prefix}-{code}0{tail}")
}

/// Output text in the asked encoding (Base64 by default, PlainText on request).
fn encode(b64: &str, plain: bool) -> String {
    if plain {
        B64.decode(b64)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    } else {
        b64.to_string()
    }
}

fn plain_text(p: &Params) -> Result<bool, SimError> {
    Ok(p.choice("ContentEncoding", &["PlainText", "Base64"])?
        .unwrap_or("Base64")
        == "PlainText")
}

fn old_status(overall: &str) -> &'static str {
    match overall {
        "Pending" => "Pending",
        "Running" => "Running",
        "Success" => "Finished",
        "PartialFailed" => "PartialFailed",
        _ => "Failed",
    }
}

/// The old-style record status of one instance's run. Strict: a run that timed out is
/// `Failed` (its InvocationStatus says `Timeout`), as the service reports it; lenient keeps
/// the earlier `Finished`.
fn record_status(status: &str, strict: bool) -> &'static str {
    match status {
        "Pending" => "Pending",
        "Running" => "Running",
        "Timeout" if strict => "Failed",
        _ => "Finished",
    }
}

fn matching_invocations(w: &World, p: &Params, region: &str) -> Vec<String> {
    let invoke = p.str("InvokeId");
    let command = p.str("CommandId");
    let instance = p.str("InstanceId");
    let ctype = p.str("CommandType");
    let mut list: Vec<(u64, String)> = w
        .invocations
        .values()
        .filter(|i| {
            i.region == region
                && invoke.map_or(true, |v| v == i.invoke_id)
                && command.map_or(true, |v| v == i.command_id)
                && ctype.map_or(true, |v| v == i.command_type)
                && instance.map_or(true, |v| i.results.iter().any(|r| r.instance_id == v))
        })
        .map(|i| (i.seq, i.invoke_id.clone()))
        .collect();
    list.sort_by_key(|(seq, _)| std::cmp::Reverse(*seq));
    list.into_iter().map(|(_, id)| id).collect()
}

pub fn describe_invocations(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let plain = plain_text(p)?;
    let include_output = p.flag("IncludeOutput")?;
    let status = p.str("InvokeStatus");
    let ids = matching_invocations(w, p, &region);
    w.settle_invocations(&ids);
    let w = &*w;
    let ids: Vec<&Invocation> = ids
        .iter()
        .filter_map(|id| w.invocations.get(id))
        .filter(|i| status.map_or(true, |s| s == i.overall() || s == old_status(i.overall())))
        .collect();
    paging::page(
        p,
        ids,
        |inv| {
            let overall = inv.overall();
            let instances: Vec<Value> = inv
                .results
                .iter()
                .map(|r| {
                    json!({
                        "InstanceId": r.instance_id,
                        "InvocationStatus": r.status,
                        "InstanceInvokeStatus": record_status(&r.status, p.strict()),
                        "ExitCode": r.exit_code.unwrap_or(0),
                        "Output": if include_output { encode(&r.output_b64, plain) } else { String::new() },
                        "Dropped": r.dropped,
                        // Not an API field: says the command is not executed (SIMULATED_OUTPUT).
                        "Simulated": simulated(w, inv),
                        "ErrorCode": r.error_code,
                        "ErrorInfo": r.error_info,
                        "StartTime": r.start_time,
                        "FinishTime": r.finish_time,
                        "StopTime": "",
                        "UpdateTime": if r.finish_time.is_empty() { &r.start_time } else { &r.finish_time },
                        "CreationTime": inv.creation_time,
                        "Repeats": u32::from(!r.start_time.is_empty()),
                        "Timed": false,
                    })
                })
                .collect();
            json!({
                "InvokeId": inv.invoke_id,
                "CommandId": inv.command_id,
                "CommandName": inv.name,
                "CommandDescription": inv.description,
                "CommandType": inv.command_type,
                "CommandContent": encode(&inv.content_b64, plain),
                "Timeout": inv.timeout,
                "RepeatMode": inv.repeat_mode,
                "Frequency": "",
                "Timed": false,
                "Parameters": inv.parameters,
                "Username": inv.username,
                "WorkingDir": inv.working_dir,
                "CreationTime": inv.creation_time,
                "InvocationStatus": overall,
                "InvokeStatus": old_status(overall),
                "Tags": tags::ecs_style(&inv.tags),
                "InvokeInstances": { "InvokeInstance": instances },
            })
        },
        Map::new(),
    )
}

pub fn describe_invocation_results(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let plain = plain_text(p)?;
    let instance = p.str("InstanceId");
    let record = p.str("InvokeRecordStatus");
    let ids = matching_invocations(w, p, &region);
    w.settle_invocations(&ids);
    let w = &*w;
    let rows: Vec<(&Invocation, &InvokeResult)> = ids
        .iter()
        .filter_map(|id| w.invocations.get(id))
        .flat_map(|inv| inv.results.iter().map(move |r| (inv, r)))
        .filter(|(_, r)| {
            instance.map_or(true, |i| i == r.instance_id)
                && record.map_or(true, |s| s == record_status(&r.status, p.strict()))
        })
        .collect();
    let mut body = Map::new();
    body.insert("Invocation".into(), json!({}));
    paging::page(
        p,
        rows,
        |(inv, r)| {
            json!({
                "InvokeId": inv.invoke_id,
                "CommandId": inv.command_id,
                "InstanceId": r.instance_id,
                "InvocationStatus": r.status,
                "InvokeRecordStatus": record_status(&r.status, p.strict()),
                "ExitCode": r.exit_code.unwrap_or(0),
                "Output": encode(&r.output_b64, plain),
                "Dropped": r.dropped,
                // Not an API field: says the command is not executed (SIMULATED_OUTPUT).
                "Simulated": simulated(w, inv),
                "ErrorCode": r.error_code,
                "ErrorInfo": r.error_info,
                "StartTime": r.start_time,
                "FinishedTime": r.finish_time,
                "StopTime": "",
                "Repeats": u32::from(!r.start_time.is_empty()),
                "Username": inv.username,
                "ContainerId": "",
                "ContainerName": "",
                "Tags": tags::ecs_style(&inv.tags),
            })
        },
        body,
    )
}

pub fn describe_agent_status(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let ids = p.list("InstanceId")?;
    if ids.len() > 50 {
        return Err(SimError::invalid("InstanceId.N", "at most 50 instance ids"));
    }
    let os = p.choice("OSType", &["Linux", "Windows", "FreeBSD"])?;
    let keep =
        |i: &Instance| i.released.is_none() && (ids.is_empty() || ids.contains(&i.id.as_str()));
    let scope = (!ids.is_empty()).then_some(ids.as_slice());
    super::describe::observe(w, &region, scope, &keep);
    let w = &*w;
    let rows: Vec<&Instance> = super::describe::matching(w, &region, scope, &keep)
        .into_iter()
        .filter(|i| {
            let image_os = w
                .catalog
                .image(&i.image_id)
                .map_or("linux", |m| m.os_type.as_str());
            os.map_or(true, |o| o.eq_ignore_ascii_case(image_os))
        })
        .collect();
    paging::page(
        p,
        rows,
        |i| {
            let invoked: Vec<&Invocation> = w
                .invocations
                .values()
                .filter(|inv| inv.results.iter().any(|r| r.instance_id == i.id))
                .collect();
            let active = invoked
                .iter()
                .flat_map(|inv| inv.results.iter())
                .filter(|r| r.instance_id == i.id && !terminal(&r.status))
                .count();
            let last = invoked
                .iter()
                .map(|inv| inv.creation_time.as_str())
                .max()
                .unwrap_or("");
            let os = w
                .catalog
                .image(&i.image_id)
                .map_or("linux", |m| m.os_type.as_str());
            json!({
                "InstanceId": i.id,
                "CloudAssistantStatus": if i.agent_online { "true" } else { "false" },
                "CloudAssistantVersion": if i.agent_online { "2.2.3.857" } else { "" },
                "LastHeartbeatTime": if i.agent_online { stamp::seconds() } else { String::new() },
                "LastInvokedTime": last,
                "ActiveTaskCount": active,
                "InvocationCount": invoked.len(),
                "OSType": if os == "windows" { "Windows" } else { "Linux" },
                "SupportSessionManager": true,
            })
        },
        Map::new(),
    )
}
