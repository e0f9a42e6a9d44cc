//! Cloud Assistant beyond RunCommand (issue 15): saved commands (CreateCommand,
//! DescribeCommands, InvokeCommand, DeleteCommand), stopping an invocation (StopInvocation),
//! and files sent to instances (SendFile, DescribeSendFileResults).
//!
//! An invoked command becomes an ordinary [`Invocation`] of `commands`, so it is described,
//! settled and (with `--sim-exec local`) run exactly like a RunCommand. A sent file is
//! recorded per instance (name, folder, mode, owner, group, content) and delivered after the
//! dispatch delay; a file already there is refused unless `Overwrite=true`. With
//! `--sim-exec local` the file is also written, but only inside the instance's scratch folder
//! ([`exec::scratch_dir`]): `TargetDir=/etc` lands in `<scratch>/etc/`, never in `/etc`.
//! Owner and group are recorded, not applied (the simulator runs as one user).
//!
//! Must not: write anywhere but an instance's scratch folder, or run anything itself.

use super::super::clock::{self, stamp, Clock, Timer};
use super::commands::{command_id, results_for, running_instance, substitute_with, Invocation};
use super::exec::{self, ExecMode};
use super::instance_store::InstanceStore;
use super::instances::Status;
use super::params::Params;
use super::{not_found, paging, tags, SimError, World};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

/// A saved command (CreateCommand).
#[derive(Serialize, Deserialize)]
pub struct Command {
    pub id: String,
    pub seq: u64,
    pub region: String,
    pub name: String,
    pub description: String,
    pub command_type: String,
    pub content_b64: String,
    pub working_dir: String,
    pub timeout: u64,
    pub enable_parameter: bool,
    pub parameter_names: Vec<String>,
    pub creation_time: String,
    pub invoke_times: u64,
    pub tags: tags::Tags,
}

/// One SendFile request and its delivery to each instance.
#[derive(Serialize, Deserialize)]
pub struct SentFile {
    pub invoke_id: String,
    pub seq: u64,
    pub region: String,
    pub name: String,
    pub description: String,
    pub target_dir: String,
    pub content_b64: String,
    pub content_type: String,
    pub file_mode: String,
    pub file_owner: String,
    pub file_group: String,
    pub overwrite: bool,
    pub creation_time: String,
    pub tags: tags::Tags,
    pub results: Vec<Delivery>,
}

#[derive(Serialize, Deserialize)]
pub struct Delivery {
    pub instance_id: String,
    /// Pending | Running | Success | Failed | Timeout | Invalid | Aborted.
    pub status: String,
    pub timer: Timer,
    pub error_code: String,
    pub error_info: String,
    pub start_time: String,
    pub finish_time: String,
}

/// The files on each instance, by path (what SendFile's Overwrite checks).
pub type Files = BTreeMap<String, BTreeSet<String>>;

/// SendFile's limit: the content, Base64-encoded.
const MAX_FILE_BASE64: usize = 32 * 1024;
/// CreateCommand's limit on the Base64 content (as RunCommand's).
const MAX_COMMAND_BASE64: usize = exec::OUTPUT_CAP;

fn command_type(p: &Params) -> Result<String, SimError> {
    p.choice(
        "Type",
        &["RunShellScript", "RunPowerShellScript", "RunBatScript"],
    )?
    .map(str::to_string)
    .ok_or_else(|| SimError::missing("Type"))
}

/// The `{{name}}` placeholders of a script, in order of first use.
fn parameter_names(content: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut rest = content;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let name = rest[start + 2..start + len].trim().to_string();
        if !names.contains(&name) {
            names.push(name);
        }
        rest = &rest[start + len + 2..];
    }
    names
}

pub fn create_command(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let name = p.need("Name")?.to_string();
    if name.chars().count() > 128 {
        return Err(SimError::invalid("Name", "at most 128 characters"));
    }
    let command_type = command_type(p)?;
    let raw = p.need("CommandContent")?;
    // CreateCommand's content is Base64 unless ContentEncoding=PlainText.
    let plain = p
        .choice("ContentEncoding", &["PlainText", "Base64"])?
        .is_some_and(|e| e == "PlainText");
    let content = if plain {
        raw.to_string()
    } else {
        let bytes = B64.decode(raw.trim()).map_err(|_| {
            SimError::invalid(
                "CommandContent",
                "the content is not valid Base64 (or say ContentEncoding=PlainText)",
            )
        })?;
        String::from_utf8(bytes).map_err(|_| {
            SimError::invalid("CommandContent", "the decoded content is not UTF-8 text")
        })?
    };
    let content_b64 = B64.encode(content.as_bytes());
    if content_b64.len() > MAX_COMMAND_BASE64 {
        return Err(SimError::invalid(
            "CommandContent",
            "the content exceeds 24 KB once Base64-encoded",
        ));
    }
    let enable_parameter = p.flag("EnableParameter")?;
    let command = Command {
        id: command_id("c", &region),
        seq: w.seq(),
        region,
        name,
        description: p.str("Description").unwrap_or("").to_string(),
        command_type,
        parameter_names: if enable_parameter {
            parameter_names(&content)
        } else {
            Vec::new()
        },
        content_b64,
        working_dir: p.str("WorkingDir").unwrap_or("").to_string(),
        timeout: p.int("Timeout", 10, 86_400)?.unwrap_or(60) as u64,
        enable_parameter,
        creation_time: stamp::seconds(),
        invoke_times: 0,
        tags: p.tags()?,
    };
    let body = json!({ "CommandId": command.id });
    w.commands.insert(command.id.clone(), command);
    Ok(body)
}

fn command_in<'w>(w: &'w mut World, p: &Params) -> Result<&'w mut Command, SimError> {
    let region = p.region()?.to_string();
    let id = p.need("CommandId")?;
    match w.commands.get_mut(id) {
        Some(c) if c.region == region => Ok(c),
        _ => Err(not_found("InvalidCommandId.NotFound", "CommandId", id)),
    }
}

pub fn invoke_command(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let (command_id, name, description, command_type, content, timeout, working_dir, enabled) = {
        let c = command_in(w, p)?;
        let content = B64
            .decode(&c.content_b64)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        (
            c.id.clone(),
            c.name.clone(),
            c.description.clone(),
            c.command_type.clone(),
            content,
            c.timeout,
            c.working_dir.clone(),
            c.enable_parameter,
        )
    };
    let parameters =
        match p.str("Parameters") {
            Some(raw) if !enabled && raw.trim() != "{}" => return Err(SimError::invalid(
                "Parameters",
                "the command was created without EnableParameter=true, so it takes no parameters",
            )),
            other => other,
        };
    let (content, parameters) = substitute_with(&content, enabled, parameters)?;
    let repeat = p
        .choice(
            "RepeatMode",
            &["Once", "Period", "NextRebootOnly", "EveryReboot"],
        )?
        .unwrap_or("Once");
    if repeat != "Once" {
        return Err(SimError::invalid(
            "RepeatMode",
            format!("the simulator runs commands Once; {repeat} is not simulated"),
        ));
    }
    let timeout = p.int("Timeout", 10, 86_400)?.map_or(timeout, |t| t as u64);
    let ids = p.list("InstanceId")?;
    let results = results_for(w, &region, &ids, &command_type)?;
    let seq = w.seq();
    let inv = Invocation {
        invoke_id: command_id_for_invoke(&region),
        command_id: command_id.clone(),
        seq,
        region,
        name,
        description,
        command_type,
        content_b64: B64.encode(content.as_bytes()),
        timeout,
        working_dir: p.str("WorkingDir").unwrap_or(&working_dir).to_string(),
        username: p.str("Username").unwrap_or("root").to_string(),
        repeat_mode: repeat.to_string(),
        parameters,
        creation_time: stamp::seconds(),
        tags: p.tags()?,
        results,
    };
    let body = json!({ "InvokeId": inv.invoke_id });
    w.invocations.insert(inv.invoke_id.clone(), inv);
    if let Some(c) = w.commands.get_mut(&command_id) {
        c.invoke_times += 1;
    }
    Ok(body)
}

fn command_id_for_invoke(region: &str) -> String {
    command_id("t", region)
}

pub fn describe_commands(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let plain = p
        .choice("ContentEncoding", &["PlainText", "Base64"])?
        .is_some_and(|e| e == "PlainText");
    let id = p.str("CommandId");
    let name = p.str("Name");
    let ctype = p.str("Type");
    let filter = p.tags()?;
    let mut list: Vec<&Command> = w
        .commands
        .values()
        .filter(|c| {
            c.region == region
                && id.map_or(true, |v| v == c.id)
                && name.map_or(true, |v| v == c.name)
                && ctype.map_or(true, |v| v == c.command_type)
                && tags::matches(&c.tags, &filter)
        })
        .collect();
    list.sort_by_key(|c| std::cmp::Reverse(c.seq));
    paging::page(
        p,
        list,
        |c| {
            let content = if plain {
                B64.decode(&c.content_b64)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default()
            } else {
                c.content_b64.clone()
            };
            json!({
                "CommandId": c.id,
                "Name": c.name,
                "Description": c.description,
                "Type": c.command_type,
                "CommandContent": content,
                "WorkingDir": c.working_dir,
                "Timeout": c.timeout,
                "EnableParameter": c.enable_parameter,
                "ParameterNames": { "ParameterName": c.parameter_names },
                "ParameterDefinitions": { "ParameterDefinition": [] },
                "InvokeTimes": c.invoke_times,
                "CreationTime": c.creation_time,
                "Provider": "",
                "Category": "",
                "Version": 1,
                "Latest": true,
                "Launcher": "",
                "ResourceGroupId": "",
                "Tags": { "Tag": c.tags.iter().map(|(k, v)| json!({ "TagKey": k, "TagValue": v })).collect::<Vec<_>>() },
            })
        },
        Map::new(),
    )
}

pub fn delete_command(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let id = command_in(w, p)?.id.clone();
    w.commands.remove(&id);
    Ok(json!({}))
}

pub fn stop_invocation(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let invoke = p.need("InvokeId")?.to_string();
    let only = p.list("InstanceId")?;
    // Settle first, so a run that already finished keeps its result.
    w.settle_invocations(std::slice::from_ref(&invoke));
    let inv = match w.invocations.get_mut(&invoke) {
        Some(i) if i.region == region => i,
        _ => return Err(not_found("InvalidInvokeId.NotFound", "InvokeId", &invoke)),
    };
    if let Some(stranger) = only
        .iter()
        .find(|id| !inv.results.iter().any(|r| r.instance_id == **id))
    {
        return Err(not_found(
            "InvalidInstance.NotFound",
            "InstanceId",
            stranger,
        ));
    }
    for r in inv
        .results
        .iter_mut()
        .filter(|r| only.is_empty() || only.contains(&r.instance_id.as_str()))
        .filter(|r| matches!(r.status.as_str(), "Pending" | "Running"))
    {
        if r.local {
            w.runs.stop(&invoke, &r.instance_id);
        }
        r.status = "Terminated".into();
        r.error_code = "InvocationStopped".into();
        r.error_info = "the invocation was stopped (StopInvocation)".into();
        r.finish_time = stamp::seconds();
    }
    Ok(json!({}))
}

/// `TargetDir` as a relative path inside the scratch folder: absolute, no `..`, at most 255
/// characters.
fn target_dir(raw: &str) -> Result<PathBuf, SimError> {
    if raw.chars().count() > 255 {
        return Err(SimError::invalid("TargetDir", "at most 255 characters"));
    }
    let path = Path::new(raw);
    if !path.is_absolute() {
        return Err(SimError::invalid(
            "TargetDir",
            format!("\"{raw}\" is not an absolute folder such as /tmp or /opt/app"),
        ));
    }
    let mut inside = PathBuf::new();
    for part in path.components() {
        match part {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(p) => inside.push(p),
            Component::ParentDir | Component::Prefix(_) => {
                return Err(SimError::invalid(
                    "TargetDir",
                    format!("\"{raw}\" must not contain `..`; give the folder itself"),
                ))
            }
        }
    }
    Ok(inside)
}

fn file_name(raw: &str) -> Result<&str, SimError> {
    if raw.chars().count() > 255 {
        return Err(SimError::invalid("Name", "at most 255 characters"));
    }
    if raw.contains('/') || raw.contains('\0') || raw == "." || raw == ".." {
        return Err(SimError::invalid(
            "Name",
            format!("\"{raw}\" is a path, not a file name; put the folder in TargetDir"),
        ));
    }
    Ok(raw)
}

fn file_mode(raw: &str) -> Result<&str, SimError> {
    let ok = (3..=4).contains(&raw.len()) && raw.chars().all(|c| ('0'..='7').contains(&c));
    if !ok {
        return Err(SimError::invalid(
            "FileMode",
            format!("\"{raw}\" is not a mode as chmod takes it, such as 0644 or 0755"),
        ));
    }
    Ok(raw)
}

fn account_name<'a>(key: &str, raw: Option<&'a str>) -> Result<&'a str, SimError> {
    let v = raw.unwrap_or("root");
    if v.is_empty() || v.chars().count() > 64 {
        return Err(SimError::invalid(key, "1 to 64 characters"));
    }
    Ok(v)
}

pub fn send_file(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let name = file_name(p.need("Name")?)?.to_string();
    let dir_raw = p.need("TargetDir")?.to_string();
    target_dir(&dir_raw)?;
    let content = p.need("Content")?;
    let content_type = p
        .choice("ContentType", &["PlainText", "Base64"])?
        .unwrap_or("PlainText");
    let bytes = if content_type == "Base64" {
        B64.decode(content.trim()).map_err(|_| {
            SimError::invalid(
                "Content",
                "ContentType is Base64 but the content is not valid Base64",
            )
        })?
    } else {
        content.as_bytes().to_vec()
    };
    let content_b64 = B64.encode(&bytes);
    if content_b64.len() > MAX_FILE_BASE64 {
        return Err(SimError::invalid(
            "Content",
            format!(
                "the file is {} bytes, {} once Base64-encoded; SendFile takes at most 32 KB \
                 (Base64): send a smaller file, or fetch a big one from the instance (RunCommand \
                 with curl/ossutil)",
                bytes.len(),
                content_b64.len()
            ),
        ));
    }
    let file_mode = file_mode(p.str("FileMode").unwrap_or("0644"))?.to_string();
    let file_owner = account_name("FileOwner", p.str("FileOwner"))?.to_string();
    let file_group = account_name("FileGroup", p.str("FileGroup"))?.to_string();
    let overwrite = p.flag("Overwrite")?;
    p.int("Timeout", 1, 86_400)?;
    let ids = p.list("InstanceId")?;
    if ids.is_empty() {
        return Err(SimError::missing("InstanceId.1"));
    }
    if ids.len() > 50 {
        return Err(SimError::invalid(
            "InstanceId.N",
            "at most 50 instances per call",
        ));
    }
    let timer = w.clock.start();
    let mut results = Vec::new();
    for id in &ids {
        let inst = running_instance(w, &region, id, "sends files")?;
        let mut d = Delivery {
            instance_id: id.to_string(),
            status: "Pending".into(),
            timer,
            error_code: String::new(),
            error_info: String::new(),
            start_time: String::new(),
            finish_time: String::new(),
        };
        if !inst.agent_online {
            d.status = "Aborted".into();
            d.error_code = "ClientNotRunning".into();
            d.error_info = "the Cloud Assistant agent is not online yet; wait until \
                            DescribeCloudAssistantStatus shows true"
                .into();
            d.finish_time = stamp::seconds();
        }
        results.push(d);
    }
    let file = SentFile {
        invoke_id: command_id("t", &region),
        seq: w.seq(),
        region,
        name,
        description: p.str("Description").unwrap_or("").to_string(),
        target_dir: dir_raw,
        content_b64,
        content_type: content_type.to_string(),
        file_mode,
        file_owner,
        file_group,
        overwrite,
        creation_time: stamp::seconds(),
        tags: p.tags()?,
        results,
    };
    let body = json!({ "InvokeId": file.invoke_id });
    w.sent_files.insert(file.invoke_id.clone(), file);
    Ok(body)
}

/// Delivers the due files of one SendFile (recording them, and in local mode writing them
/// into the scratch folder).
fn deliver(
    file: &mut SentFile,
    clock: &Clock,
    exec: &ExecMode,
    instances: &InstanceStore,
    files: &mut Files,
) {
    let path = format!("{}/{}", file.target_dir.trim_end_matches('/'), file.name);
    let what = Written {
        target_dir: &file.target_dir,
        name: &file.name,
        content_b64: &file.content_b64,
        file_mode: &file.file_mode,
    };
    for d in file.results.iter_mut().filter(|d| d.status == "Pending") {
        if !clock.due(&mut d.timer, clock::COMMAND_DISPATCH) {
            continue;
        }
        d.start_time = stamp::seconds();
        d.finish_time = stamp::seconds();
        let running = instances
            .get(&d.instance_id)
            .is_some_and(|i| i.released.is_none() && i.status == Status::Running);
        let on_instance = files.entry(d.instance_id.clone()).or_default();
        let (status, code, info) = if !running {
            (
                "Aborted",
                "InstanceNotRunning",
                "the instance stopped or was released before the file was delivered".to_string(),
            )
        } else if on_instance.contains(&path) && !file.overwrite {
            (
                "Failed",
                "FileAlreadyExists",
                format!("{path} already exists on the instance; send it with Overwrite=true to replace it"),
            )
        } else {
            match write_local(exec, &d.instance_id, &what) {
                Ok(()) => {
                    on_instance.insert(path.clone());
                    ("Success", "", String::new())
                }
                Err(why) => ("Failed", "FileWriteFailed", why),
            }
        };
        d.status = status.into();
        d.error_code = code.into();
        d.error_info = info;
    }
}

/// What [`write_local`] writes: the parts of a [`SentFile`] that are the file.
struct Written<'a> {
    target_dir: &'a str,
    name: &'a str,
    content_b64: &'a str,
    file_mode: &'a str,
}

/// In `ExecMode::Local`, writes the file under the instance's scratch folder with its mode;
/// elsewhere nothing is written.
fn write_local(exec: &ExecMode, instance_id: &str, file: &Written) -> Result<(), String> {
    if *exec != ExecMode::Local {
        return Ok(());
    }
    let inside = target_dir(file.target_dir).map_err(|e| e.message.clone())?;
    let scratch = exec::scratch_dir(instance_id);
    let dir = scratch.join(inside);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // The folder must really be inside the scratch folder (a local script may have made a
    // symlink there): compare the resolved paths.
    let real_dir = dir.canonicalize().map_err(|e| e.to_string())?;
    let real_scratch = scratch.canonicalize().map_err(|e| e.to_string())?;
    if !real_dir.starts_with(&real_scratch) {
        return Err(format!(
            "{} leads out of the instance's scratch folder; not written",
            file.target_dir
        ));
    }
    let target = real_dir.join(file.name);
    if std::fs::symlink_metadata(&target).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(format!("{} is a symlink; not written", target.display()));
    }
    let bytes = B64.decode(file.content_b64).map_err(|e| e.to_string())?;
    std::fs::write(&target, bytes)
        .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = u32::from_str_radix(file.file_mode, 8).unwrap_or(0o644);
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn overall(file: &SentFile) -> &'static str {
    let any = |s: &str| file.results.iter().any(|d| d.status == s);
    if any("Pending") {
        "Pending"
    } else if any("Running") {
        "Running"
    } else if file.results.iter().all(|d| d.status == "Success") {
        "Success"
    } else if any("Success") {
        "PartialFailed"
    } else {
        "Failed"
    }
}

pub fn describe_send_file_results(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let invoke = p.str("InvokeId");
    let instance = p.str("InstanceId");
    let name = p.str("Name");
    let status = p.str("InvocationStatus");
    let mut ids: Vec<(u64, String)> = w
        .sent_files
        .values()
        .filter(|f| {
            f.region == region
                && invoke.map_or(true, |v| v == f.invoke_id)
                && name.map_or(true, |v| v == f.name)
                && instance.map_or(true, |v| f.results.iter().any(|d| d.instance_id == v))
        })
        .map(|f| (f.seq, f.invoke_id.clone()))
        .collect();
    ids.sort_by_key(|(seq, _)| std::cmp::Reverse(*seq));
    for (_, id) in &ids {
        if let Some(f) = w.sent_files.get_mut(id) {
            deliver(f, &w.clock, &w.exec, &w.instances, &mut w.instance_files);
        }
    }
    let w = &*w;
    let list: Vec<&SentFile> = ids
        .iter()
        .filter_map(|(_, id)| w.sent_files.get(id))
        .filter(|f| status.map_or(true, |s| s == overall(f)))
        .collect();
    paging::page(
        p,
        list,
        |f| {
            let instances: Vec<Value> = f
                .results
                .iter()
                .map(|d| {
                    json!({
                        "InstanceId": d.instance_id,
                        "InvocationStatus": d.status,
                        "ErrorCode": d.error_code,
                        "ErrorInfo": d.error_info,
                        "StartTime": d.start_time,
                        "FinishTime": d.finish_time,
                        "CreationTime": f.creation_time,
                        "UpdateTime": if d.finish_time.is_empty() { &f.creation_time } else { &d.finish_time },
                    })
                })
                .collect();
            json!({
                "InvokeId": f.invoke_id,
                "Name": f.name,
                "Description": f.description,
                "Content": f.content_b64,
                "ContentType": "Base64",
                "TargetDir": f.target_dir,
                "FileMode": f.file_mode,
                "FileOwner": f.file_owner,
                "FileGroup": f.file_group,
                "Overwrite": f.overwrite.to_string(),
                "CreationTime": f.creation_time,
                "InvocationStatus": overall(f),
                "VmCount": f.results.len(),
                "Tags": { "Tag": f.tags.iter().map(|(k, v)| json!({ "TagKey": k, "TagValue": v })).collect::<Vec<_>>() },
                "InvokeInstances": { "InvokeInstance": instances },
            })
        },
        Map::new(),
    )
}
