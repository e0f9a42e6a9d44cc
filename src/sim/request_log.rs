//! `ecsh sim --request-log FILE`: one JSON line per request the simulator received, so a test
//! (or a wary user) can see exactly what reached the "cloud": time, product, action, the
//! parameters without secrets, and the answer's code (`OK` or the error code).
//!
//! Every request is logged, also those the simulator refused (bad signature, unknown action),
//! because "nothing was sent" means nothing reached the endpoint at all. The parameters are read
//! from the query and the form body as sent; the signature is left out and a `SecurityToken`
//! shows as `<redacted>` (an AccessKeySecret is never part of a request). Lines are appended and
//! flushed one at a time under a lock, so concurrent requests never interleave. It never prints.

use super::protocol::RawRequest;
use crate::ops::Product;
use serde_json::{json, Map, Value};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Mutex;

/// Parameters that must not be written: the signature (replayable for 15 minutes) and the STS
/// token (a credential).
const HIDDEN: [&str; 2] = ["Signature", "SecurityToken"];

/// The open log file.
pub struct RequestLog {
    file: Mutex<File>,
}

impl RequestLog {
    /// Opens (creating or appending to) `path`.
    pub fn open(path: &Path) -> io::Result<RequestLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(RequestLog {
            file: Mutex::new(file),
        })
    }

    /// Appends the line for one request and its answer's `code`. A write failure is ignored:
    /// the log is evidence for a test, and a full disk must not change the simulator's answer.
    pub fn record(&self, raw: &RawRequest, product: Option<Product>, code: &str) {
        let line = entry(raw, product, code, &now());
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(file, "{line}");
        let _ = file.flush();
    }
}

/// The JSON line of one request.
fn entry(raw: &RawRequest, product: Option<Product>, code: &str, at: &str) -> Value {
    let mut params = Map::new();
    let form = raw
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let sources = [
        raw.query.as_deref().map(str::as_bytes),
        form.then_some(raw.body.as_slice()),
    ];
    for source in sources.into_iter().flatten() {
        for (k, v) in form_urlencoded::parse(source) {
            let value = if HIDDEN[1] == k {
                "<redacted>".to_string()
            } else {
                v.into_owned()
            };
            if HIDDEN[0] != k {
                params.insert(k.into_owned(), Value::String(value));
            }
        }
    }
    // Signature v3 names the action in a header, not a parameter.
    let action = params
        .get("Action")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| raw.header("x-acs-action"));
    json!({
        "time": at,
        "product": product.map(Product::code),
        "action": action,
        "params": params,
        "code": code,
    })
}

fn now() -> String {
    crate::rpc::format_timestamp(time::OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_the_action_and_hides_the_signature_and_token() {
        let raw = RawRequest {
            method: "POST".into(),
            path: "/".into(),
            query: Some("Action=RunInstances&Signature=abc%3D&SecurityToken=tok".into()),
            headers: vec![(
                "content-type".into(),
                b"application/x-www-form-urlencoded".to_vec(),
            )],
            body: b"InstanceType=ecs.g7.large&Amount=2".to_vec(),
        };
        let line = entry(&raw, Some(Product::Ecs), "OK", "2026-01-01T00:00:00Z");
        assert_eq!(line["action"], "RunInstances");
        assert_eq!(line["product"], "ecs");
        assert_eq!(line["params"]["Amount"], "2");
        assert_eq!(line["params"]["SecurityToken"], "<redacted>");
        assert!(line["params"].get("Signature").is_none());
        assert!(!line.to_string().contains("tok"));
    }
}
