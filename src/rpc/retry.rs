//! When to try a call again, and how long to wait first.
//!
//! A failure is retried only when the action is safe to repeat (`ops::Action::is_retry_safe`:
//! reads, and creates that carry a ClientToken; unknown actions never) and the failure is
//! transient: a `Throttling*` code, `ServiceUnavailable` / `InternalError` / `UnknownError` /
//! `IdempotentProcessing`, any HTTP 5xx, a transport error or a timeout. The wait is jittered
//! exponential backoff (`d = min(cap, base·2ⁿ)`, sleep `d/2 + rand(0..=d/2)`), unless the
//! server sent `x-acs-retry-after` (milliseconds), which wins. `SignatureNonceUsed` is
//! separate: the request was rejected before it ran, so any action is re-sent once, at once,
//! with a fresh nonce. This module decides; it neither sleeps nor sends.

use super::error::CallError;
use rand::Rng;
use std::time::Duration;

/// How many times to try and how long to wait between tries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The backoff before the first retry, doubled for each further one.
    pub base: Duration,
    /// The longest backoff.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The wait before retry number `retry` (0 for the first retry): equal jitter over an
    /// exponential, capped.
    pub fn backoff(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        let full = self.base.saturating_mul(factor).min(self.cap);
        let half = full / 2;
        let jitter_ms = rng.gen_range(0..=half.as_millis().min(u64::MAX as u128) as u64);
        half + Duration::from_millis(jitter_ms).min(full - half)
    }
}

/// Codes that mean "try again later" without saying the request did anything.
const TRANSIENT_CODES: &[&str] = &[
    "ServiceUnavailable",
    "InternalError",
    "UnknownError",
    "IdempotentProcessing",
];

/// True when the failure is worth repeating for an action that is safe to repeat.
pub fn is_transient(e: &CallError) -> bool {
    match e {
        CallError::Api(api) => {
            api.is_throttling()
                || TRANSIENT_CODES.contains(&api.code.as_str())
                || api.http_status >= 500
        }
        CallError::Transport { .. } | CallError::Timeout => true,
        CallError::InvalidResponse { status, .. } => *status >= 500,
        CallError::Config(_) | CallError::Params(_) => false,
    }
}

/// True when the server refused the nonce (the request never ran).
pub fn is_nonce_replay(e: &CallError) -> bool {
    e.code() == Some("SignatureNonceUsed")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::error::ApiError;
    use rand::rngs::mock::StepRng;

    fn api(code: &str, status: u16) -> CallError {
        CallError::Api(ApiError {
            code: code.into(),
            message: String::new(),
            request_id: None,
            http_status: status,
            recommend: None,
            host_id: None,
        })
    }

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(1000),
        };
        let mut rng = rand::thread_rng();
        for retry in 0..12 {
            let full = Duration::from_millis((100u64 << retry.min(20)).min(1000));
            let d = p.backoff(retry, &mut rng);
            assert!(d >= full / 2 && d <= full, "retry {retry}: {d:?}");
        }
        let mut zero = StepRng::new(0, 0);
        assert_eq!(p.backoff(0, &mut zero), Duration::from_millis(50));
        assert_eq!(p.backoff(40, &mut zero), Duration::from_millis(500));
    }

    #[test]
    fn transient_failures() {
        for (code, status) in [
            ("Throttling", 400),
            ("Throttling.User", 400),
            ("ServiceUnavailable", 503),
            ("InternalError", 500),
            ("SomethingElse", 502),
        ] {
            assert!(is_transient(&api(code, status)), "{code}");
        }
        for (code, status) in [
            ("InvalidParameter", 400),
            ("IncorrectInstanceStatus", 403),
            ("SignatureNonceUsed", 400),
        ] {
            assert!(!is_transient(&api(code, status)), "{code}");
        }
        assert!(is_transient(&CallError::Timeout));
        assert!(is_nonce_replay(&api("SignatureNonceUsed", 400)));
    }
}
