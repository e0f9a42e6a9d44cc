//! Handlers of the Cloud Assistant functions that are more than one plain call (issue 15):
//! `send_file` (a local file or text, Base64-encoded, size-checked before sending, then
//! waited on until delivered), `create_command` (the script as text, sent as Base64) and
//! `invoke_command` (its `parameters` map sent as the JSON object the API takes). Their rows
//! are in [`super::functions::TABLE`].

use super::errors::HostError;
use super::options::Checked;
use super::paging::get_path;
use super::wait::{self, object, Poll};
use super::Host;
use crate::ops::A;
use base64::Engine as _;
use serde_json::{json, Value};

/// SendFile's limit on the Base64 content.
pub const MAX_FILE_BASE64: usize = 32 * 1024;
/// CreateCommand's limit on the Base64 script (as RunCommand's).
const MAX_COMMAND_BASE64: usize = 24 * 1024;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// `local_path` or `content`, exactly one; with `content`, `name` is needed.
pub fn path_or_content(c: &Checked) -> Result<(), HostError> {
    match (c.get("local_path"), c.get("content")) {
        (Some(_), Some(_)) => Err(HostError::InvalidOption(
            "send_file: give local_path or content, not both".into(),
        )),
        (None, None) => Err(HostError::InvalidOption(
            "send_file: missing the file: give local_path (a file on this machine) or content \
             (its text)"
                .into(),
        )),
        (None, Some(_)) if c.get("name").is_none() => Err(HostError::InvalidOption(
            "send_file: with content, give the file's name too (name: \"app.conf\")".into(),
        )),
        _ => Ok(()),
    }
}

/// The file's bytes and name: read from `local_path` (its name by default) or `content`.
fn file_of(c: &Checked) -> Result<(Vec<u8>, String), HostError> {
    if let Some(text) = c.str("content") {
        return Ok((
            text.as_bytes().to_vec(),
            c.str("name").unwrap_or_default().into(),
        ));
    }
    let path = std::path::Path::new(c.str("local_path").unwrap_or_default());
    let bytes = std::fs::read(path).map_err(|e| {
        HostError::Local(format!(
            "send_file: cannot read local_path '{}': {e}",
            path.display()
        ))
    })?;
    let name = match c.str("name") {
        Some(n) => n.to_string(),
        None => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                HostError::InvalidOption(format!(
                    "send_file: local_path '{}' names no file; give name",
                    path.display()
                ))
            })?,
    };
    Ok((bytes, name))
}

pub fn send_file(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let (bytes, name) = file_of(c)?;
    let encoded = B64.encode(&bytes);
    if encoded.len() > MAX_FILE_BASE64 {
        return Err(HostError::InvalidOption(format!(
            "send_file: the file is {} bytes ({} once Base64-encoded); Cloud Assistant sends at \
             most {MAX_FILE_BASE64} bytes of Base64 (about 24 KB of file). Send a smaller file, or \
             let the instance fetch a big one (run_command with curl or ossutil)",
            bytes.len(),
            encoded.len()
        )));
    }
    let instance = c.str("instance_id").unwrap_or_default().to_string();
    let mut params = c.api_params();
    params.insert("Name".into(), Value::String(name.clone()));
    params.insert("Content".into(), Value::String(encoded));
    params.insert("ContentType".into(), "Base64".into());
    params.insert("InstanceId".into(), json!([instance]));
    let resp = host.gateway.send(&A::SEND_FILE, params)?;
    let invoke = resp
        .get("InvokeId")
        .and_then(Value::as_str)
        .ok_or_else(|| HostError::Transport("SendFile returned no InvokeId".into()))?
        .to_string();
    if !c.bool("wait").unwrap_or(true) {
        return Ok(json!({ "InvokeId": invoke, "InstanceId": instance, "Name": name }));
    }
    let region = c.region().to_string();
    let what = format!("file {name} to reach {instance}");
    wait::until(
        &host.gateway,
        &host.wait,
        &host.pace,
        None,
        false,
        super::handlers::timeout(host, c),
        &what,
        || {
            let q =
                object(json!({ "RegionId": region, "InvokeId": invoke, "InstanceId": instance }));
            let resp = host.gateway.send(&A::DESCRIBE_SEND_FILE_RESULTS, q)?;
            let Some(file) = get_path(&resp, "Invocations.Invocation")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
            else {
                return Ok(Poll::Pending("no result yet".into()));
            };
            let Some(mine) = get_path(file, "InvokeInstances.InvokeInstance")
                .and_then(Value::as_array)
                .and_then(|a| a.iter().find(|r| r["InstanceId"] == instance.as_str()))
            else {
                return Ok(Poll::Pending("no result for the instance yet".into()));
            };
            let status = mine["InvocationStatus"].as_str().unwrap_or("");
            let result = json!({
                "InvokeId": invoke,
                "InstanceId": instance,
                "Name": name,
                "TargetDir": file["TargetDir"],
                "InvocationStatus": status,
                "ErrorCode": mine["ErrorCode"],
                "ErrorInfo": mine["ErrorInfo"],
            });
            Ok(match status {
                "Success" => Poll::Done(result),
                "Pending" | "Running" => Poll::Pending(format!("InvocationStatus={status}")),
                _ => Poll::Failed(HostError::UnexpectedState(format!(
                    "send_file: {name} was not delivered to {instance} ({status}): {} {}",
                    mine["ErrorCode"].as_str().unwrap_or(""),
                    mine["ErrorInfo"].as_str().unwrap_or("")
                ))),
            })
        },
    )
}

pub fn create_command(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let script = c.str("command_content").unwrap_or_default();
    let encoded = B64.encode(script.as_bytes());
    if encoded.len() > MAX_COMMAND_BASE64 {
        return Err(HostError::InvalidOption(format!(
            "create_command: the script is {} bytes; Cloud Assistant keeps at most \
             {MAX_COMMAND_BASE64} bytes of Base64 (about 18 KB of text)",
            script.len()
        )));
    }
    let mut params = c.api_params();
    params.insert("CommandContent".into(), Value::String(encoded));
    params.insert("ContentEncoding".into(), "Base64".into());
    let resp = host.gateway.send(&A::CREATE_COMMAND, params)?;
    resp.get("CommandId")
        .cloned()
        .ok_or_else(|| HostError::Transport("CreateCommand returned no CommandId".into()))
}

pub fn invoke_command(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let mut params = c.api_params();
    if let Some(values) = c.get("parameters") {
        // The API takes Parameters as one JSON object, not as flattened keys.
        params.insert("Parameters".into(), Value::String(values.to_string()));
    }
    let resp = host.gateway.send(&A::INVOKE_COMMAND, params)?;
    resp.get("InvokeId")
        .cloned()
        .ok_or_else(|| HostError::Transport("InvokeCommand returned no InvokeId".into()))
}
