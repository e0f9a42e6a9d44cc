//! The Rust handlers of the functions table (`Handler::Custom` and `Handler::Api` rows):
//! one API call with its paging and post-processing ([`call_api`]), and the functions that
//! are more than one call (wait for Running, retry a delete, encode a script, wait).

use super::errors::HostError;
use super::functions::NO_USER_DATA;
use super::host_fn::{HostFn, Post};
use super::options::Checked;
use super::paging::{self, get_path, Limits};
use super::wait::{self, object, NetKind};
use super::Host;
use crate::ops::{ResourceKind, A};
use base64::Engine as _;
use serde_json::{json, Value};
use std::time::Duration;

/// Runs an `Api` function: one action, every page, then the post-processing.
pub fn call_api(host: &Host, spec: &HostFn, c: &Checked, post: Post) -> Result<Value, HostError> {
    let action = spec.action().ok_or_else(|| {
        HostError::UnknownAction(format!("{} names no registered action", spec.name))
    })?;
    let mut params = c.api_params();
    for (k, v) in spec.fixed {
        params.insert((*k).into(), (*v).into());
    }
    let limits = Limits {
        page_size: c.int("page_size"),
        max_items: c.int("max_items"),
    };
    let mut resp = paging::call_all(&host.gateway, action, params, limits)?;
    match post {
        Post::Whole => {}
        Post::MemoryGb => add_memory_gb(&mut resp),
        Post::DecodedOutput => {
            if let Some(Value::Array(items)) =
                resp.pointer_mut("/Invocation/InvocationResults/InvocationResult")
            {
                for item in items.iter_mut() {
                    host.gateway.note_result(item);
                    add_decoded_output(item);
                }
            }
        }
        Post::Field(name) => {
            return resp
                .get(name)
                .cloned()
                .ok_or_else(|| HostError::Transport(format!("{} returned no {name}", action.name)))
        }
    }
    Ok(resp)
}

pub(super) fn add_memory_gb(resp: &mut Value) {
    if let Some(Value::Array(items)) = resp.pointer_mut("/Data/RecommendInstanceType") {
        for it in items {
            if let Some(t) = it.get_mut("InstanceType").and_then(Value::as_object_mut) {
                if let Some(mb) = t.get("Memory").and_then(Value::as_f64) {
                    t.insert("MemoryGB".into(), json!(mb / 1024.0));
                }
            }
        }
    }
}

/// Adds `DecodedOutput` (the Base64 `Output` decoded, lossy UTF-8) to an invocation result.
pub fn add_decoded_output(result: &mut Value) {
    let Some(obj) = result.as_object_mut() else {
        return;
    };
    let raw = obj.get("Output").and_then(Value::as_str).unwrap_or("");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|_| raw.to_string());
    obj.insert("DecodedOutput".into(), Value::String(decoded));
}

fn timeout(host: &Host, c: &Checked) -> Duration {
    c.int("timeout")
        .filter(|s| *s > 0)
        .map(|s| Duration::from_secs(s as u64))
        .unwrap_or(host.wait.timeout)
}

pub(super) fn run_instances(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let params = run_instances_params(c)?;
    let resp = host.gateway.send(&A::RUN_INSTANCES, params)?;
    run_instances_wait(host, c, resp)
}

/// The RunInstances request of checked `run_instances` options (what `preapprove_run_instances`
/// quotes ahead, so both price the same request).
pub fn run_instances_params(c: &Checked) -> Result<serde_json::Map<String, Value>, HostError> {
    if c.get("image_id").is_none() && c.get("image_family").is_none() {
        return Err(HostError::InvalidOption(
            "run_instances needs image_id or image_family".into(),
        ));
    }
    let mut params = c.api_params();
    if let Some(Value::Object(extra)) = c.get("extra_params") {
        for (k, v) in extra {
            if k.eq_ignore_ascii_case("UserData") {
                return Err(HostError::Refused {
                    code: crate::guard::policy::PolicyRule::UserData.code(),
                    message: format!(
                        "run_instances does not accept 'UserData' in extra_params: {}",
                        NO_USER_DATA.1
                    ),
                });
            }
            params.insert(k.clone(), v.clone());
        }
    }
    Ok(params)
}

fn run_instances_wait(host: &Host, c: &Checked, resp: Value) -> Result<Value, HostError> {
    let ids: Vec<String> = get_path(&resp, "InstanceIdSets.InstanceIdSet")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        return Err(HostError::Transport(
            "RunInstances returned no instance ids".into(),
        ));
    }
    wait::instances_status(
        &host.gateway,
        &host.wait,
        &host.pace,
        true,
        timeout(host, c),
        c.region(),
        &ids,
        "Running",
    )
    .map_err(|e| e.context("run_instances created the instances but they did not start"))?;
    Ok(resp)
}

fn read_script(c: &Checked) -> Result<String, HostError> {
    if let Some(text) = c.str("command_content") {
        return Ok(text.to_string());
    }
    let path = c.str("script_path").unwrap_or_default();
    std::fs::read_to_string(path)
        .map_err(|e| HostError::Local(format!("cannot read script_path '{path}': {e}")))
}

/// Cloud Assistant's limit on Base64 command content.
const MAX_COMMAND_BASE64: usize = 24 * 1024;

pub(super) fn run_command(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let script = read_script(c)?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(script.as_bytes());
    if encoded.len() > MAX_COMMAND_BASE64 {
        return Err(HostError::InvalidOption(format!(
            "the script is {} bytes; Cloud Assistant accepts at most {MAX_COMMAND_BASE64} bytes of Base64 (about 18 KB of text)",
            script.len()
        )));
    }
    let params = object(json!({
        "RegionId": c.region(),
        "Type": c.str("command_type").unwrap_or("RunShellScript"),
        "CommandContent": encoded,
        "ContentEncoding": "Base64",
        "InstanceId": [c.str("instance_id").unwrap_or_default()],
        "Timeout": c.int("timeout").unwrap_or(600),
    }));
    let resp = host.gateway.send(&A::RUN_COMMAND, params)?;
    resp.get("InvokeId")
        .cloned()
        .ok_or_else(|| HostError::Transport("RunCommand returned no InvokeId".into()))
}

pub(super) fn delete_instances(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let ids = c.str_list("instance_ids");
    if ids.is_empty() {
        return Err(HostError::InvalidOption(
            "delete_instances: instance_ids is empty".into(),
        ));
    }
    let params = c.api_params();
    let what = format!("instances {} to accept the release", ids.join(", "));
    let resp = wait::until(
        &host.gateway,
        &host.wait,
        &host.pace,
        None,
        false,
        timeout(host, c),
        &what,
        || match host.gateway.send(&A::DELETE_INSTANCES, params.clone()) {
            Ok(v) => Ok(wait::Poll::Done(v)),
            Err(HostError::Api(e)) if e.code == "IncorrectInstanceStatus.Initializing" => {
                Ok(wait::Poll::Pending("still initializing".into()))
            }
            Err(e) => Err(e),
        },
    )?;
    if c.bool("wait").unwrap_or(true) {
        wait::gone(
            &host.gateway,
            &host.wait,
            &host.pace,
            true,
            timeout(host, c),
            c.region(),
            ResourceKind::Instance,
            &ids,
        )?;
    }
    Ok(resp)
}

/// Codes that mean "something being released still holds this"; they clear by themselves.
fn is_transient_dependency(code: &str) -> bool {
    code.starts_with("DependencyViolation")
        || code.starts_with("IncorrectVpcStatus")
        || code.starts_with("IncorrectVSwitchStatus")
        || matches!(
            code,
            "OperationConflict" | "OperationDenied.OtherSubnetProcessing" | "TaskConflict"
        )
}

/// Sends a delete, retrying transient dependency errors for `retry_seconds`; after that the
/// service's own error is returned (it says best what still depends on the resource).
fn delete_retrying(
    host: &Host,
    c: &Checked,
    action: &crate::ops::Action,
) -> Result<Value, HostError> {
    let limit = Duration::from_secs(c.int("retry_seconds").unwrap_or(0).max(0) as u64);
    let start = std::time::Instant::now();
    let params = c.api_params();
    let mut intervals = host.wait.intervals();
    loop {
        match host.gateway.send(action, params.clone()) {
            Err(HostError::Api(e))
                if is_transient_dependency(&e.code) && start.elapsed() < limit =>
            {
                host.gateway
                    .sleep(intervals.next().unwrap_or(host.wait.max_interval))?;
            }
            other => return other,
        }
    }
}

pub(super) fn delete_security_group(host: &Host, c: &Checked) -> Result<Value, HostError> {
    delete_retrying(host, c, &A::DELETE_SECURITY_GROUP)
}

fn delete_network(
    host: &Host,
    c: &Checked,
    kind: ResourceKind,
    id_opt: &str,
) -> Result<Value, HostError> {
    let id = c.str(id_opt).unwrap_or_default().to_string();
    let action = kind.release().map(|r| r.action).ok_or_else(|| {
        HostError::UnknownAction(format!("{} has no delete action", kind.label()))
    })?;
    let resp = delete_retrying(host, c, action)?;
    if c.bool("wait").unwrap_or(true) {
        wait::gone(
            &host.gateway,
            &host.wait,
            &host.pace,
            true,
            timeout(host, c),
            c.region(),
            kind,
            &[id],
        )?;
    }
    Ok(resp)
}

pub(super) fn delete_vswitch(host: &Host, c: &Checked) -> Result<Value, HostError> {
    delete_network(host, c, ResourceKind::VSwitch, "vswitch_id")
}

pub(super) fn delete_vpc(host: &Host, c: &Checked) -> Result<Value, HostError> {
    delete_network(host, c, ResourceKind::Vpc, "vpc_id")
}

pub(super) fn wait_instances(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let ids = c.str_list("instance_ids");
    let status = c.str("status").unwrap_or("Running");
    wait::instances_status(
        &host.gateway,
        &host.wait,
        &host.pace,
        false,
        timeout(host, c),
        c.region(),
        &ids,
        status,
    )
    .map(Value::Array)
}

pub(super) fn wait_cloud_assistant(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let ids = c.str_list("instance_ids");
    wait::cloud_assistant(
        &host.gateway,
        &host.wait,
        &host.pace,
        timeout(host, c),
        c.region(),
        &ids,
    )
    .map(|()| Value::Null)
}

pub(super) fn wait_vpc(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let id = c.str("vpc_id").unwrap_or_default();
    wait::network_available(
        &host.gateway,
        &host.wait,
        &host.pace,
        timeout(host, c),
        c.region(),
        NetKind::Vpc,
        id,
    )
}

pub(super) fn wait_vswitch(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let id = c.str("vswitch_id").unwrap_or_default();
    wait::network_available(
        &host.gateway,
        &host.wait,
        &host.pace,
        timeout(host, c),
        c.region(),
        NetKind::VSwitch,
        id,
    )
}

pub(super) fn wait_invocation(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let invoke = c.str("invoke_id").unwrap_or_default();
    let instance = c.str("instance_id").unwrap_or_default();
    wait::invocation(
        &host.gateway,
        &host.wait,
        &host.pace,
        timeout(host, c),
        c.region(),
        invoke,
        instance,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_output_and_memory_gb_are_added() {
        let mut r = json!({"Output": "aGVsbG8K"});
        add_decoded_output(&mut r);
        assert_eq!(r["DecodedOutput"], "hello\n");
        let mut resp =
            json!({"Data": {"RecommendInstanceType": [{"InstanceType": {"Memory": 8192}}]}});
        add_memory_gb(&mut resp);
        assert_eq!(
            resp["Data"]["RecommendInstanceType"][0]["InstanceType"]["MemoryGB"],
            8.0
        );
    }
}
