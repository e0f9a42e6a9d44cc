//! The server-side net: every pay-as-you-go instance a run creates carries `AutoReleaseTime`
//! as a **lease** (now + the lease length on the service's clock), renewed with
//! `ModifyInstanceAutoReleaseTime` while the run or REPL session lives. A run that dies with
//! its machine (a lost laptop, a destroyed CI runner) has its instances released by the cloud
//! within one lease, journal or not.
//!
//! This module owns the lease arithmetic (the service's rules: at least 30 minutes ahead, at
//! most 3 years, UTC, minute precision), parsing `--auto-release DURATION|off`, and the
//! renewal schedule. The live ledger applies the lease in `before_send` and runs the renewal
//! loop; `keep(id)` turns a lease into the kept duration or clears it.

use std::time::Duration;
use time::OffsetDateTime;

/// The service's minimum distance of an AutoReleaseTime from now.
pub const MIN_LEASE: Duration = Duration::from_secs(30 * 60);
/// The service's maximum distance (3 years).
pub const MAX_LEASE: Duration = Duration::from_secs(3 * 365 * 24 * 3600);
/// The lease when `--auto-release` is not given.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(3600);

/// `--auto-release`: a lease length, or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeasePolicy {
    pub length: Option<Duration>,
}

impl Default for LeasePolicy {
    fn default() -> Self {
        LeasePolicy {
            length: Some(DEFAULT_LEASE),
        }
    }
}

impl LeasePolicy {
    /// Parses `off` or a duration (`90m`, `2h`, `1d`) of 30 minutes to 3 years.
    pub fn parse(text: &str) -> Result<LeasePolicy, String> {
        let t = text.trim();
        if ["off", "none", "no"].contains(&t.to_ascii_lowercase().as_str()) {
            return Ok(LeasePolicy { length: None });
        }
        let bad = || {
            format!(
                "--auto-release `{t}` is not a duration or `off`: give e.g. 90m, 2h, 1d (at \
                 least 30m, the service's minimum), or off to create instances without a lease"
            )
        };
        let minutes = crate::guard::runtime::parse_duration(t).map_err(|_| bad())?;
        let length = Duration::from_secs_f64(minutes * 60.0);
        check_length(length).map_err(|why| format!("--auto-release `{t}`: {why}"))?;
        Ok(LeasePolicy {
            length: Some(length),
        })
    }
}

/// A lease length the service accepts.
pub fn check_length(length: Duration) -> Result<(), String> {
    if length < MIN_LEASE {
        return Err(
            "an AutoReleaseTime must be at least 30 minutes ahead (the service's rule)".into(),
        );
    }
    if length > MAX_LEASE {
        return Err("an AutoReleaseTime can be at most 3 years ahead (the service's rule)".into());
    }
    Ok(())
}

/// Added to every lease: the request reaches the service a little after `now` was read
/// (and the service's clock is only known to the second), and a lease of exactly the 30-minute
/// minimum must still be 30 minutes ahead when it arrives.
pub const MARGIN: Duration = Duration::from_secs(120);

/// The AutoReleaseTime `length` (plus [`MARGIN`]) after `now`, rounded up to the next whole
/// minute (the service keeps minutes, so rounding down could fall short of its minimum).
pub fn expiry(now: OffsetDateTime, length: Duration) -> OffsetDateTime {
    let t = now + length + MARGIN;
    let whole = t
        .replace_second(0)
        .and_then(|t| t.replace_nanosecond(0))
        .unwrap_or(t);
    if whole < t {
        whole + time::Duration::minutes(1)
    } else {
        whole
    }
}

/// The wire form: `yyyy-MM-ddTHH:mm:ssZ`.
pub fn format(t: OffsetDateTime) -> String {
    crate::rpc::format_timestamp(t)
}

/// Renew when less than half of the lease is left, so a renewal that fails (throttled, a
/// network blip) is retried many times before anything expires.
pub fn needs_renewal(now: OffsetDateTime, expires: OffsetDateTime, length: Duration) -> bool {
    expires - now < length / 2
}

/// How long (on this machine's clock) to sleep before the next check: a quarter of the time
/// left before renewal is due, converted at `rate` (server seconds per local second: above 1
/// against a simulator whose time runs faster), between 200 ms and a minute.
pub fn next_check(
    now: OffsetDateTime,
    expires: OffsetDateTime,
    length: Duration,
    rate: f64,
) -> Duration {
    let due = expires - time::Duration::try_from(length / 2).unwrap_or(time::Duration::ZERO);
    let left = (due - now).as_seconds_f64().max(0.0);
    let local = left / rate.max(1.0) / 4.0;
    Duration::from_secs_f64(local.clamp(0.2, 60.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_release_flags_parse_with_the_services_bounds() {
        assert_eq!(LeasePolicy::parse("off").unwrap().length, None);
        assert_eq!(
            LeasePolicy::parse("2h").unwrap().length,
            Some(Duration::from_secs(7200))
        );
        assert_eq!(LeasePolicy::default().length, Some(DEFAULT_LEASE));
        let e = LeasePolicy::parse("10m").unwrap_err();
        assert!(e.contains("at least 30 minutes"), "{e}");
        let e = LeasePolicy::parse("soon").unwrap_err();
        assert!(
            e.contains("--auto-release `soon`") && e.contains("off"),
            "{e}"
        );
    }

    #[test]
    fn expiry_is_rounded_up_to_the_minute_and_renewal_comes_at_half_time() {
        let now = time::macros::datetime!(2026-12-01 10:00:30 UTC);
        let e = expiry(now, DEFAULT_LEASE);
        assert_eq!(format(e), "2026-12-01T11:03:00Z");
        assert!(!needs_renewal(now, e, DEFAULT_LEASE));
        let later = time::macros::datetime!(2026-12-01 10:33:30 UTC);
        assert!(needs_renewal(later, e, DEFAULT_LEASE));
        // 30 minutes before renewal is due, at real speed: check again in 7.5 minutes at most
        // (capped at one); 20x faster: 22.5 s.
        let d = next_check(now, e, DEFAULT_LEASE, 20.0);
        assert!((d.as_secs_f64() - 24.375).abs() < 0.5, "{d:?}");
        assert_eq!(
            next_check(now, e, DEFAULT_LEASE, 1.0),
            Duration::from_secs(60)
        );
        assert_eq!(
            next_check(later, e, DEFAULT_LEASE, 1.0),
            Duration::from_millis(200)
        );
    }
}
