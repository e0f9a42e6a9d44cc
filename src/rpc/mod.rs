//! The RPC client: the one code path to Alibaba Cloud and to the simulator.
//!
//! Pipeline of one call ([`Client::call`]):
//! 1. [`params`]: arguments are flattened to `Key=Value` pairs (`InstanceId.N`, `Tag.N.Key`,
//!    JSON-text parameters); the client checks them, adds `RegionId` and, for creating
//!    actions, a `ClientToken` kept for every retry.
//! 2. [`sign`] (pure): common parameters with a fresh nonce ([`clock`]) and timestamp are
//!    added and the request is signed (v1, HMAC-SHA1) — on every attempt.
//! 3. `transport`: GET (query) or POST (form body) to the [`endpoint`] of the product and
//!    region, or the override; the answer is JSON or an [`error::ApiError`].
//! 4. [`retry`]: safe actions are retried on throttling, 5xx and timeouts with jittered
//!    backoff, honouring `x-acs-retry-after`.
//!
//! [`credentials`] resolves who to be, in which region, at which endpoint (one documented
//! order). Nothing in this module prints; the secret and the token never appear in Debug
//! output or errors.

mod aliyun_config;
pub mod client;
pub mod clock;
pub mod credentials;
pub mod endpoint;
pub mod error;
mod http1;
pub mod params;
pub mod retry;
pub mod sign;
pub mod sign_v3;
mod transport;

pub use crate::ops::Product;
pub use client::{CallStats, Client, ClientConfig, Method, PreparedRequest};
pub use clock::{
    format_timestamp, Clock, CountingNonce, FixedClock, FixedNonce, NonceSource, RandomNonce,
    SystemClock,
};
pub use credentials::{
    mask_key_id, resolve, resolve_default, whoami_report, Credentials, Env, Overrides, ProcessEnv,
    Resolved, Sources,
};
pub use endpoint::endpoint;
pub use error::{advice_entries, advice_for, ApiError, CallError, ConfigError};
pub use params::{flatten, ParamError, Params};
pub use retry::RetryPolicy;
