//! The RPC client: the one code path to Alibaba Cloud and to the simulator.
//!
//! `sign` (pure signature functions) ← `request` (common parameters, flattening, ClientToken)
//! ← `transport` (HTTP, retry with jittered backoff) → `error` (ApiError with the seed's
//! advice). `credentials` and `endpoint` resolve where to send and as whom.

pub mod sign;
pub mod sign_v3;
