//! Time and nonces for signing, behind traits so tests can pin them.
//!
//! The client asks a [`Clock`] for the `Timestamp` and a [`NonceSource`] for the
//! `SignatureNonce` of every attempt. The system versions are the defaults; the fixed and
//! counting versions make signed requests reproducible in tests. Nothing here does I/O.

use rand::RngCore as _;
use std::sync::atomic::{AtomicU64, Ordering};
use time::OffsetDateTime;

/// Where the client reads the current time from.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The machine's clock (UTC).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Always the same instant: signed requests become reproducible.
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// Where the client gets a `SignatureNonce` from. Each call must return a value not returned
/// before (within the server's replay window), or the server answers `SignatureNonceUsed`.
pub trait NonceSource: Send + Sync {
    fn nonce(&self) -> String;
}

/// 128 random bits as 32 lower-case hex characters, like the official SDKs send.
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomNonce;

impl NonceSource for RandomNonce {
    fn nonce(&self) -> String {
        random_hex(16)
    }
}

/// `prefix-1`, `prefix-2`, …: distinct and predictable, for tests.
#[derive(Debug)]
pub struct CountingNonce {
    prefix: String,
    next: AtomicU64,
}

impl CountingNonce {
    pub fn new(prefix: impl Into<String>) -> CountingNonce {
        CountingNonce {
            prefix: prefix.into(),
            next: AtomicU64::new(1),
        }
    }
}

impl NonceSource for CountingNonce {
    fn nonce(&self) -> String {
        format!(
            "{}-{}",
            self.prefix,
            self.next.fetch_add(1, Ordering::Relaxed)
        )
    }
}

/// Always the same nonce: only for reproducing one signed request (a second request with it
/// would be a replay).
#[derive(Clone, Debug)]
pub struct FixedNonce(pub String);

impl NonceSource for FixedNonce {
    fn nonce(&self) -> String {
        self.0.clone()
    }
}

/// `bytes` random bytes as lower-case hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    // Written straight into the one `String` (every attempt draws a nonce).
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut rng = rand::thread_rng();
    let mut out = String::with_capacity(bytes * 2);
    let mut chunk = [0u8; 16];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len());
        rng.fill_bytes(&mut chunk[..n]);
        for b in &chunk[..n] {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
        left -= n;
    }
    out
}

/// The HTTP `Date` header format (IMF-fixdate: `Tue, 01 Dec 2026 10:09:09 GMT`).
pub const HTTP_DATE: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// The service's clock as its `Date` headers show it: the offset from ours, learned from the
/// latest answer. Wall-clock deadlines the service enforces (AutoReleaseTime) are set on its
/// clock, not the machine's, which may be skewed (or, against a simulator whose time runs
/// faster, far behind).
#[derive(Debug, Default)]
pub struct ServerClock {
    seen: std::sync::Mutex<Observed>,
}

/// What the answers' `Date` headers showed so far.
#[derive(Debug, Default)]
struct Observed {
    /// The first and the latest `Date` seen, with when they arrived.
    span: Option<(Seen, Seen)>,
    /// The latest header as received: a `Date` has whole seconds, so nearly every answer
    /// repeats the one before it, and only a changed one is parsed again (parsing it cost
    /// more than the rest of the bookkeeping of a call's answer).
    raw: String,
}

#[derive(Clone, Copy, Debug)]
struct Seen {
    server: OffsetDateTime,
    local: std::time::Instant,
}

impl ServerClock {
    /// Records a `Date` header value received now.
    pub fn observe(&self, date: &str) {
        let local = std::time::Instant::now();
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        let server = match seen.span {
            // The same header as the latest: the same server time, received now.
            Some((_, last)) if seen.raw == date => last.server,
            _ => {
                let Ok(t) = time::PrimitiveDateTime::parse(date.trim(), HTTP_DATE) else {
                    return;
                };
                seen.raw.clear();
                seen.raw.push_str(date);
                t.assume_utc()
            }
        };
        let now = Seen { server, local };
        let first = seen.span.map_or(now, |(first, _)| first);
        seen.span = Some((first, now));
    }

    /// Now on the server's clock (the machine's until an answer said otherwise), carried
    /// forward from the latest `Date` at the rate the server's clock has been seen to run
    /// (faster than ours against a simulator in scaled time).
    pub fn now(&self) -> OffsetDateTime {
        let Some((first, last)) = self.seen.lock().ok().and_then(|s| s.span) else {
            return OffsetDateTime::now_utc();
        };
        let local_span = (last.local - first.local).as_secs_f64();
        let server_span = (last.server - first.server).as_seconds_f64();
        // Dates have whole seconds: measure a rate only over a span that makes them precise.
        let rate = if local_span >= 2.0 && server_span > 0.0 {
            (server_span / local_span).max(1.0)
        } else {
            1.0
        };
        let since = last.local.elapsed().as_secs_f64() * rate;
        last.server + time::Duration::seconds_f64(since)
    }
}

/// The RPC `Timestamp` format: UTC, seconds, `Z` suffix (`2024-01-02T03:04:05Z`).
pub fn format_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let year = t.year();
    if !(0..=9999).contains(&year) {
        // Not a time any service accepts; written out in full rather than cut to 4 digits.
        return format!(
            "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
    }
    // Digit by digit into one buffer: every attempt signs a fresh timestamp, and `format!`
    // was a tenth of the signing (BENCHMARKS.md, client overhead, stop 23).
    let mut out = String::with_capacity(20);
    let year = year.unsigned_abs();
    push_two(&mut out, year / 100);
    push_two(&mut out, year % 100);
    for (separator, field) in [
        ('-', u8::from(t.month())),
        ('-', t.day()),
        ('T', t.hour()),
        (':', t.minute()),
        (':', t.second()),
    ] {
        out.push(separator);
        push_two(&mut out, u32::from(field));
    }
    out.push('Z');
    out
}

/// `n` (below 100) as two decimal digits.
fn push_two(out: &mut String, n: u32) {
    for digit in [n / 10 % 10, n % 10] {
        out.push(char::from_digit(digit, 10).unwrap_or('0'));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_clock_follows_the_date_header() {
        let c = ServerClock::default();
        assert!((c.now() - OffsetDateTime::now_utc()).whole_seconds().abs() <= 1);
        let ahead = OffsetDateTime::now_utc() + time::Duration::hours(3);
        c.observe(&ahead.format(HTTP_DATE).unwrap());
        let d = (c.now() - ahead).whole_seconds();
        assert!(d.abs() <= 1, "{d}");
        c.observe("not a date");
        assert!(
            (c.now() - ahead).whole_seconds().abs() <= 1,
            "junk is ignored"
        );
    }

    #[test]
    fn a_repeated_date_keeps_its_time_and_a_changed_one_is_parsed_again() {
        let c = ServerClock::default();
        let at = |t: OffsetDateTime| t.format(HTTP_DATE).unwrap();
        let near = |c: &ServerClock, t: OffsetDateTime| (c.now() - t).whole_seconds().abs() <= 1;
        let a = OffsetDateTime::now_utc() + time::Duration::hours(3);
        c.observe(&at(a));
        c.observe(&at(a));
        assert!(near(&c, a), "the same header twice is the same time");
        let b = a + time::Duration::hours(2);
        c.observe(&at(b));
        assert!(near(&c, b), "a changed header is parsed again");
        c.observe(&at(a));
        assert!(near(&c, a), "and so is one going back to an earlier value");
        c.observe("junk");
        c.observe(&at(a));
        assert!(
            near(&c, a),
            "junk between two equal headers changes nothing"
        );
    }
    use time::macros::datetime;

    #[test]
    fn timestamp_is_utc_with_z() {
        assert_eq!(
            format_timestamp(datetime!(2024-01-02 03:04:05.678 UTC)),
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(
            format_timestamp(datetime!(2024-01-02 11:04:05 +08:00)),
            "2024-01-02T03:04:05Z"
        );
    }

    #[test]
    fn timestamps_are_what_format_gives() {
        let start = datetime!(0999-12-31 23:59:59 UTC);
        for step in [0, 1, 59, 3_601, 86_399, 7_777_777, 31_536_000, 987_654_321] {
            let t = start + time::Duration::seconds(step * 37);
            let want = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            );
            assert_eq!(format_timestamp(t), want);
        }
        assert_eq!(
            format_timestamp(datetime!(-0005-01-02 03:04:05 UTC)),
            "-005-01-02T03:04:05Z"
        );
    }

    #[test]
    fn nonces_are_distinct() {
        assert_ne!(RandomNonce.nonce(), RandomNonce.nonce());
        assert_eq!(RandomNonce.nonce().len(), 32);
        for n in [0, 1, 16, 17, 40] {
            let h = random_hex(n);
            assert_eq!(h.len(), n * 2);
            assert!(
                h.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
                "{h}"
            );
        }
        let c = CountingNonce::new("t");
        assert_eq!((c.nonce(), c.nonce()), ("t-1".into(), "t-2".into()));
    }
}
