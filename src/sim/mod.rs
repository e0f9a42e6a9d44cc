//! The simulator: a local Alibaba Cloud ECS and VPC that speaks the real RPC protocol.
//!
//! Pipeline, one file per stage (mini-redis style), each readable alone:
//! `server` (HTTP, axum) → `protocol` (parse query + form into a [`SimRequest`]) → `auth`
//! (signature v1/v3, nonce, timestamp) → `faults` (injected throttling, 5xx, latency) →
//! `model` (the state: dispatch to per-resource handlers; never sees HTTP) → back out as JSON,
//! or as XML in the real element layout (`xml`) when the request asks for it.
//! `catalog` holds the embedded data (regions, zones, instance types, prices, images, stock);
//! `catalog_ext` what a world adds to it (`ecsh sim --catalogue FILE`, or what a shadow learns).
//! `sts` is the Security Token Service (AssumeRole, AssumeRoleWithOIDC, GetCallerIdentity;
//! temporary keys that expire in simulated time) and `metadata` the ECS instance metadata
//! service that hands out an instance role's keys, both for the credential chain's tests.
//! `upstream` is what turns a simulator into the shadow of a real target (`ecsh plan`).
//!
//! The model is deterministic given its clock, so tests can be exact; `persist` keeps a JSON
//! snapshot of the model in the `--state` file. Start one with [`start`] (embedded, tests) or
//! [`serve_until_signal`] (`ecsh sim`), configured by a [`SimConfig`].

pub mod auth;
pub mod catalog;
pub mod catalog_ext;
pub mod clock;
pub mod faults;
pub mod metadata;
pub mod model;
pub mod persist;
pub mod protocol;
pub mod request_log;
pub mod server;
pub mod sts;
pub mod upstream;
pub mod xml;

pub use server::{serve_until_signal, start, RunningSim, SimConfig};

use crate::ops::Product;
use std::collections::BTreeMap;

/// A parsed, authenticated request, as the model sees it: no HTTP left.
#[derive(Clone, Debug)]
pub struct SimRequest {
    pub product: Product,
    pub action: String,
    /// Every parameter of the query and the form body, common ones included.
    pub params: BTreeMap<String, String>,
    /// The AccessKeyId that signed it (the model is single-tenant; kept for logs).
    pub access_key_id: String,
    /// The endpoint host the client called, echoed as `HostId` in errors.
    pub host: String,
}

impl SimRequest {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }
}

/// An error as the real service returns it: a code, an HTTP status and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl SimError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> SimError {
        SimError {
            status,
            code: code.into(),
            message: message.into(),
        }
    }
    pub fn missing(param: &str) -> SimError {
        SimError::new(400, "MissingParameter", format!("The input parameter \"{param}\" that is mandatory for processing this request is not supplied."))
    }
    pub fn invalid(param: &str, why: impl std::fmt::Display) -> SimError {
        SimError::new(
            400,
            "InvalidParameter",
            format!("The specified parameter \"{param}\" is not valid: {why}"),
        )
    }
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for SimError {}
