//! ClientToken idempotency: the same token with the same business parameters replays the first
//! successful response (same ids, nothing created twice); the same token with other parameters
//! is `IdempotentParameterMismatch`. Only business parameters are compared: signature, nonce,
//! timestamp, credentials and other protocol parameters change on every retry.
//!
//! Must not: remember failed requests (a failure can be retried with the same token).

use super::super::SimError;
use super::params::Params;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Parameters that belong to the protocol, not to the request's meaning.
pub(super) const PROTOCOL_PARAMS: &[&str] = &[
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "SignatureType",
    "Timestamp",
    "SecurityToken",
    "BearerToken",
    "ClientToken",
    "OwnerId",
    "OwnerAccount",
    "ResourceOwnerId",
    "ResourceOwnerAccount",
    "CallerParentId",
    "CallerType",
    "RequestId",
];

#[derive(Default, Serialize, Deserialize)]
pub struct Tokens {
    /// `Action/token` → what the first request asked and what it got.
    seen: BTreeMap<String, Record>,
}

#[derive(Serialize, Deserialize)]
struct Record {
    params: BTreeMap<String, String>,
    response: Value,
}

/// The request's ClientToken, checked (at most 64 ASCII characters).
pub fn token(p: &Params) -> Result<Option<String>, SimError> {
    let Some(t) = p.str("ClientToken") else {
        return Ok(None);
    };
    if t.len() > 64 || !t.is_ascii() {
        let why = "it must be at most 64 ASCII characters";
        if !p.strict() {
            return Err(SimError::invalid("ClientToken", why));
        }
        // The code the API reference lists for a malformed ClientToken (RunInstances errors).
        return Err(SimError::new(
            400,
            "InvalidClientToken.ValueNotSupported",
            format!("The specified ClientToken \"{t}\" is not valid: {why}."),
        ));
    }
    Ok(Some(t.to_string()))
}

fn business(p: &Params) -> BTreeMap<String, String> {
    p.all()
        .iter()
        .filter(|(k, _)| !PROTOCOL_PARAMS.contains(&k.as_str()) && !k.starts_with("x-acs-"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

impl Tokens {
    /// The remembered response for this token, if the parameters match.
    pub fn replay(&self, action: &str, token: &str, p: &Params) -> Result<Option<Value>, SimError> {
        let Some(rec) = self.seen.get(&format!("{action}/{token}")) else {
            return Ok(None);
        };
        if rec.params != business(p) {
            return Err(SimError::new(
                400,
                "IdempotentParameterMismatch",
                format!(
                    "The ClientToken \"{token}\" was already used by a {action} request with \
                     different parameters. Use a new ClientToken for a new request."
                ),
            ));
        }
        Ok(Some(rec.response.clone()))
    }

    pub fn remember(&mut self, action: &str, token: &str, p: &Params, response: &Value) {
        self.seen.insert(
            format!("{action}/{token}"),
            Record {
                params: business(p),
                response: response.clone(),
            },
        );
    }
}
