//! The RPC client: the one code path to Alibaba Cloud and to the simulator.
//!
//! Pipeline of one call ([`Client::call`]):
//! 1. [`params`]: arguments are flattened to `Key=Value` pairs (`InstanceId.N`, `Tag.N.Key`,
//!    JSON-text parameters); the client checks them, adds `RegionId` and, for creating
//!    actions, a `ClientToken` kept for every retry.
//! 2. [`sign`] (pure): common parameters with a fresh nonce ([`clock`]) and timestamp are
//!    added and the request is signed (v1, HMAC-SHA1) — on every attempt.
//! 3. `transport`: GET (query) or POST (form body) to the [`endpoint`] of the product and
//!    region, or the override; the answer is JSON (parsed by `answer`, maps sized once) or an
//!    [`error::ApiError`].
//! 4. [`retry`]: safe actions are retried on throttling, 5xx and timeouts with jittered
//!    backoff, honouring `x-acs-retry-after`.
//!
//! [`credentials`] resolves who to be, in which region, at which endpoint (one documented
//! order): the config file (`aliyun_config`), the INI file (`ini`) and the environment give a
//! [`CredentialSource`]; [`provider`] turns it into keys and refreshes them, through [`sts`]
//! (AssumeRole, AssumeRoleWithOIDC), [`metadata`] (the instance RAM role), [`process`]
//! (`process_command`) and [`credentials_uri`]. Nothing in this module prints; the secret and the token never appear in Debug
//! output or errors.

mod aliyun_config;
mod answer;
pub mod client;
pub mod clock;
pub mod credentials;
pub mod credentials_uri;
pub mod endpoint;
pub mod error;
mod ini;
pub mod metadata;
pub mod params;
pub mod process;
pub mod provider;
pub mod retry;
pub mod sign;
pub mod sign_v3;
pub mod sts;
mod transport;

pub use crate::ops::Product;
pub use client::{CallStats, Client, ClientConfig, Method, PreparedRequest};
pub use clock::{
    format_timestamp, Clock, CountingNonce, FixedClock, FixedNonce, NonceSource, RandomNonce,
    ServerClock, SystemClock, HTTP_DATE,
};
pub use credentials::{
    mask_key_id, resolve, resolve_default, whoami_report, Credentials, Env, Overrides, ProcessEnv,
    Resolved, Sources,
};
pub use endpoint::endpoint;
pub use error::{advice_entries, advice_for, ApiError, CallError, ConfigError, CredentialError};
pub use params::{flatten, ParamError, Params};
pub use provider::{CredentialSource, FetchContext, Refresher, SourceKind};
pub use retry::RetryPolicy;
