//! When to try a call again, and how long to wait first.
//!
//! A `Throttling*` refusal is retried for every action, mutating, deleting and unknown ones
//! included: flow control rejects a request before it runs, so sending it again cannot do
//! anything twice. Any other failure is retried only when the action is safe to repeat
//! (`ops::Action::is_retry_safe`: reads, and creates that carry a ClientToken; unknown actions
//! never) and the failure is transient: `ServiceUnavailable` / `InternalError` /
//! `UnknownError` / `IdempotentProcessing`, any HTTP 5xx, a transport error or a timeout (the
//! service may have acted before it failed to answer). The wait is jittered
//! exponential backoff (`d = min(cap, base·2ⁿ)`, sleep `d/2 + rand(0..=d/2)`), unless the
//! server sent `x-acs-retry-after` (milliseconds), which wins (up to `MAX_SERVER_WAIT`).
//! `SignatureNonceUsed` is separate: the request was rejected before it ran, so any action is
//! re-sent once, at once, with a fresh nonce. This module decides; it neither sleeps nor sends.

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
            // Six: under sustained throttling (20% of requests) and server errors (10%), four
            // left about one call in 160 failing, which fails a 40-call script one time in 4.
            max_attempts: 6,
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

/// The longest `x-acs-retry-after` honoured, so a confused server cannot stall a script.
pub const MAX_SERVER_WAIT: Duration = Duration::from_secs(120);

/// The retry state of one call.
#[derive(Debug)]
pub struct Retries {
    policy: RetryPolicy,
    retry_safe: bool,
    attempts: u32,
    nonce_resent: bool,
}

impl Retries {
    /// `retry_safe`: the action may be repeated after an unknown outcome.
    pub fn new(policy: RetryPolicy, retry_safe: bool) -> Retries {
        Retries {
            policy,
            retry_safe,
            attempts: 1,
            nonce_resent: false,
        }
    }

    /// After a failed attempt: how long to wait before the next one, or `None` to give up.
    pub fn next_wait(
        &mut self,
        error: &CallError,
        server_wait: Option<Duration>,
        rng: &mut impl Rng,
    ) -> Option<Duration> {
        if is_nonce_replay(error) && !self.nonce_resent {
            self.nonce_resent = true;
            return Some(Duration::ZERO);
        }
        let repeatable = is_throttled(error) || (self.retry_safe && is_transient(error));
        if !(repeatable && self.attempts < self.policy.max_attempts) {
            return None;
        }
        let retry = self.attempts - 1;
        self.attempts += 1;
        Some(match server_wait {
            Some(d) => d.min(MAX_SERVER_WAIT),
            None => self.policy.backoff(retry, rng),
        })
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
        CallError::Config(_) | CallError::Params(_) | CallError::Credentials(_) => false,
    }
}

/// True when flow control refused the request: it was not executed.
pub fn is_throttled(e: &CallError) -> bool {
    matches!(e, CallError::Api(api) if api.is_throttling())
}

/// True when the failed attempt may still have been carried out: no answer, or a server
/// error (the service may fail to answer after it acted). A definite refusal (throttling, a
/// 4xx error code, a nonce replay) did nothing.
pub fn may_have_acted(e: &CallError) -> bool {
    match e {
        CallError::Api(api) => !api.is_throttling() && api.http_status >= 500,
        CallError::Transport { .. } | CallError::Timeout => true,
        CallError::InvalidResponse { status, .. } => *status >= 500 || *status < 400,
        CallError::Config(_) | CallError::Params(_) | CallError::Credentials(_) => false,
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
        CallError::from(ApiError {
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
    fn retries_stop_at_max_attempts_and_honour_the_server_wait() {
        let p = RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(100),
        };
        let mut rng = StepRng::new(0, 0);
        let mut r = Retries::new(p, true);
        let throttled = api("Throttling", 400);
        assert_eq!(
            r.next_wait(&throttled, None, &mut rng),
            Some(Duration::from_millis(50))
        );
        assert_eq!(
            r.next_wait(&throttled, Some(Duration::from_secs(3)), &mut rng),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            r.next_wait(&throttled, None, &mut rng),
            None,
            "3 attempts made"
        );

        // A throttled request never ran: even a delete or an unknown action is sent again,
        // after the server's wait; a 5xx on it may have acted, so it is not.
        let mut unsafe_action = Retries::new(p, false);
        assert_eq!(
            unsafe_action.next_wait(&throttled, Some(Duration::from_secs(2)), &mut rng),
            Some(Duration::from_secs(2))
        );
        let mut unsafe_action = Retries::new(p, false);
        assert_eq!(
            unsafe_action.next_wait(&api("ServiceUnavailable", 503), None, &mut rng),
            None
        );
        let replay = api("SignatureNonceUsed", 400);
        assert_eq!(
            unsafe_action.next_wait(&replay, None, &mut rng),
            Some(Duration::ZERO)
        );
        assert_eq!(unsafe_action.next_wait(&replay, None, &mut rng), None);

        let mut r = Retries::new(p, true);
        assert_eq!(
            r.next_wait(&throttled, Some(Duration::from_secs(3600)), &mut rng),
            Some(MAX_SERVER_WAIT)
        );
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
