//! Injected faults, from `--fault SPEC` flags: throttling, server errors, added latency and
//! out-of-stock instance types, each shown the way the real service shows it.
//!
//! It owns parsing the specs (with errors that list every valid form) and rolling the dice for
//! each request (a seeded RNG makes a run reproducible). It must not touch HTTP or state:
//! no-stock specs are handed to the model through `World::add_no_stock` by the server at start.
//!
//! | spec | effect |
//! |---|---|
//! | `throttle=P` | with probability P, 400 `Throttling.User` ("Request was denied due to user flow control.") |
//! | `5xx=P` | with probability P, 503 `ServiceUnavailable` |
//! | `internal=P` | with probability P, 500 `InternalError` |
//! | `lost=P` | with probability P, a request that changes something is carried out and then answered 503 `ServiceUnavailable`: the answer is lost after the service acted |
//! | `latency=D` | every response is delayed by D (`50ms`, `2s`, or a plain number of ms) |
//! | `retry-after=D` | throttling responses carry `x-acs-retry-after: <ms>` (the Tea SDK then raises ThrottlingException) |
//! | `nostock=TYPE@ZONE` | RunInstances/CreateInstance of TYPE in ZONE fail with 403 `OperationDenied.NoStock`, and the zone shows the type as sold out |
//! | `spotnostock=TYPE@ZONE` | spot requests (SpotStrategy other than NoSpot) of TYPE in ZONE fail with 403 `OperationDenied.NoStock`; `*` matches any type or zone; pay-as-you-go still launches |
//! | `seed=N` | seeds the fault RNG, so which requests fail is reproducible |

use super::SimError;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

/// One `--fault` flag.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultSpec {
    Throttle(f64),
    ServiceUnavailable(f64),
    InternalError(f64),
    /// The request is carried out, then its answer is lost (503).
    LostAnswer(f64),
    Latency(Duration),
    RetryAfter(Duration),
    NoStock {
        instance_type: String,
        zone_id: String,
    },
    /// Spot capacity of a type in a zone is sold out (`*` for any); pay-as-you-go is not.
    SpotNoStock {
        instance_type: String,
        zone_id: String,
    },
    Seed(u64),
}

/// The forms `--fault` accepts, for error messages and help.
pub const VALID_FORMS: &str = "throttle=P, 5xx=P, internal=P, lost=P (P a probability 0..1), \
latency=D, retry-after=D (D like 50ms, 2s or a number of ms), nostock=TYPE@ZONE \
(e.g. nostock=ecs.g7.large@cn-hangzhou-h), spotnostock=TYPE@ZONE (spot only; * for any), seed=N";

impl FromStr for FaultSpec {
    type Err = String;

    fn from_str(spec: &str) -> Result<FaultSpec, String> {
        let (name, value) = spec.split_once('=').ok_or_else(|| {
            format!("fault `{spec}` is not NAME=VALUE; valid forms: {VALID_FORMS}")
        })?;
        let bad = |why: String| format!("fault `{spec}`: {why}; valid forms: {VALID_FORMS}");
        match name.trim() {
            "throttle" => probability(value).map(FaultSpec::Throttle).map_err(bad),
            "5xx" => probability(value)
                .map(FaultSpec::ServiceUnavailable)
                .map_err(bad),
            "internal" => probability(value)
                .map(FaultSpec::InternalError)
                .map_err(bad),
            "lost" => probability(value).map(FaultSpec::LostAnswer).map_err(bad),
            "latency" => duration(value).map(FaultSpec::Latency).map_err(bad),
            "retry-after" => duration(value).map(FaultSpec::RetryAfter).map_err(bad),
            "nostock" => no_stock(value).map_err(bad),
            "spotnostock" => match no_stock(value).map_err(bad)? {
                FaultSpec::NoStock {
                    instance_type,
                    zone_id,
                } => Ok(FaultSpec::SpotNoStock {
                    instance_type,
                    zone_id,
                }),
                other => Ok(other),
            },
            "seed" => value
                .trim()
                .parse()
                .map(FaultSpec::Seed)
                .map_err(|_| bad(format!("`{value}` is not a whole number"))),
            other => Err(format!(
                "unknown fault `{other}`{}; valid forms: {VALID_FORMS}",
                near_miss(other)
            )),
        }
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultSpec::Throttle(p) => write!(f, "throttle={p}"),
            FaultSpec::ServiceUnavailable(p) => write!(f, "5xx={p}"),
            FaultSpec::InternalError(p) => write!(f, "internal={p}"),
            FaultSpec::LostAnswer(p) => write!(f, "lost={p}"),
            FaultSpec::Latency(d) => write!(f, "latency={}ms", d.as_millis()),
            FaultSpec::RetryAfter(d) => write!(f, "retry-after={}ms", d.as_millis()),
            FaultSpec::NoStock {
                instance_type,
                zone_id,
            } => {
                write!(f, "nostock={instance_type}@{zone_id}")
            }
            FaultSpec::SpotNoStock {
                instance_type,
                zone_id,
            } => write!(f, "spotnostock={instance_type}@{zone_id}"),
            FaultSpec::Seed(n) => write!(f, "seed={n}"),
        }
    }
}

fn near_miss(name: &str) -> String {
    const NAMES: [&str; 9] = [
        "throttle",
        "5xx",
        "internal",
        "lost",
        "latency",
        "retry-after",
        "nostock",
        "spotnostock",
        "seed",
    ];
    NAMES
        .iter()
        .map(|n| (crate::ops::edit_distance(n, &name.to_ascii_lowercase()), *n))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, n)| format!("; did you mean `{n}`?"))
        .unwrap_or_default()
}

fn probability(text: &str) -> Result<f64, String> {
    let p: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("probability {p} is outside 0..1"))
    }
}

fn duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, scale_ms) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (t, 1.0)
    };
    let n: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration"))?;
    let ms = n * scale_ms;
    if !(0.0..=600_000.0).contains(&ms) {
        return Err(format!("duration `{text}` is outside 0..10 minutes"));
    }
    Ok(Duration::from_micros((ms * 1000.0) as u64))
}

fn no_stock(text: &str) -> Result<FaultSpec, String> {
    let (instance_type, zone_id) = text
        .split_once('@')
        .ok_or_else(|| format!("`{text}` is not TYPE@ZONE"))?;
    let (instance_type, zone_id) = (instance_type.trim(), zone_id.trim());
    if instance_type.is_empty() || zone_id.is_empty() {
        return Err(format!("`{text}` needs both an instance type and a zone"));
    }
    Ok(FaultSpec::NoStock {
        instance_type: instance_type.to_owned(),
        zone_id: zone_id.to_owned(),
    })
}

/// An injected failure for one request.
#[derive(Clone, Debug)]
pub struct Injected {
    pub error: SimError,
    /// For throttling: the `x-acs-retry-after` header value, in milliseconds.
    pub retry_after_ms: Option<u64>,
}

/// The faults of a running simulator.
pub struct Faults {
    throttle: f64,
    unavailable: f64,
    internal: f64,
    lost: f64,
    latency: Option<Duration>,
    retry_after: Option<Duration>,
    rng: Mutex<StdRng>,
}

impl Faults {
    /// Combines the specs; a later spec of the same kind replaces an earlier one.
    pub fn new(specs: &[FaultSpec]) -> Faults {
        let mut faults = Faults {
            throttle: 0.0,
            unavailable: 0.0,
            internal: 0.0,
            lost: 0.0,
            latency: None,
            retry_after: None,
            rng: Mutex::new(StdRng::from_entropy()),
        };
        for spec in specs {
            match spec {
                FaultSpec::Throttle(p) => faults.throttle = *p,
                FaultSpec::ServiceUnavailable(p) => faults.unavailable = *p,
                FaultSpec::InternalError(p) => faults.internal = *p,
                FaultSpec::LostAnswer(p) => faults.lost = *p,
                FaultSpec::Latency(d) => faults.latency = Some(*d),
                FaultSpec::RetryAfter(d) => faults.retry_after = Some(*d),
                FaultSpec::Seed(n) => faults.rng = Mutex::new(StdRng::seed_from_u64(*n)),
                FaultSpec::NoStock { .. } | FaultSpec::SpotNoStock { .. } => {}
            }
        }
        faults
    }

    /// After a change was carried out: whether its answer is lost (a 503 instead).
    pub fn lose_answer(&self) -> Option<SimError> {
        if self.lost == 0.0 {
            return None;
        }
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        rng.gen_bool(self.lost).then(|| {
            SimError::new(
                503,
                "ServiceUnavailable",
                "The request has failed due to a temporary failure of the server.",
            )
        })
    }

    /// The delay to add before answering, if any.
    pub fn latency(&self) -> Option<Duration> {
        self.latency.filter(|d| !d.is_zero())
    }

    /// Decides whether this request fails, and how.
    pub fn roll(&self) -> Option<Injected> {
        if self.throttle == 0.0 && self.unavailable == 0.0 && self.internal == 0.0 {
            return None;
        }
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if rng.gen_bool(self.throttle) {
            return Some(Injected {
                error: SimError::new(
                    400,
                    "Throttling.User",
                    "Request was denied due to user flow control.",
                ),
                retry_after_ms: self.retry_after.map(|d| d.as_millis().max(1) as u64),
            });
        }
        if rng.gen_bool(self.unavailable) {
            return Some(Injected {
                error: SimError::new(
                    503,
                    "ServiceUnavailable",
                    "The request has failed due to a temporary failure of the server.",
                ),
                retry_after_ms: None,
            });
        }
        if rng.gen_bool(self.internal) {
            return Some(Injected {
                error: SimError::new(
                    500,
                    "InternalError",
                    "The request processing has failed due to some unknown error, exception or failure.",
                ),
                retry_after_ms: None,
            });
        }
        None
    }
}

/// The `(instance_type, zone_id)` pairs of the spot no-stock specs (issue 15).
pub fn spot_no_stock_pairs(specs: &[FaultSpec]) -> impl Iterator<Item = (&str, &str)> {
    specs.iter().filter_map(|s| match s {
        FaultSpec::SpotNoStock {
            instance_type,
            zone_id,
        } => Some((instance_type.as_str(), zone_id.as_str())),
        _ => None,
    })
}

/// The `(instance_type, zone_id)` pairs of the no-stock specs.
pub fn no_stock_pairs(specs: &[FaultSpec]) -> impl Iterator<Item = (&str, &str)> {
    specs.iter().filter_map(|s| match s {
        FaultSpec::NoStock {
            instance_type,
            zone_id,
        } => Some((instance_type.as_str(), zone_id.as_str())),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_parses_and_prints_back() {
        for text in [
            "throttle=0.2",
            "5xx=0.1",
            "internal=1",
            "latency=50ms",
            "retry-after=2000ms",
            "nostock=ecs.g7.large@cn-hangzhou-h",
            "spotnostock=*@cn-hangzhou-j",
            "seed=7",
        ] {
            let spec: FaultSpec = text.parse().unwrap();
            let again: FaultSpec = spec.to_string().parse().unwrap();
            assert_eq!(spec, again, "{text}");
        }
        assert_eq!(
            "latency=2s".parse::<FaultSpec>().unwrap(),
            FaultSpec::Latency(Duration::from_secs(2))
        );
        assert_eq!(
            "latency=15".parse::<FaultSpec>().unwrap(),
            FaultSpec::Latency(Duration::from_millis(15))
        );
    }

    #[test]
    fn bad_specs_say_what_is_wrong_and_list_the_valid_forms() {
        for (text, says) in [
            ("throttle", "NAME=VALUE"),
            ("throttle=2", "outside 0..1"),
            ("throttle=x", "not a number"),
            ("latency=fast", "not a duration"),
            ("nostock=ecs.g7.large", "TYPE@ZONE"),
            ("nostock=@z", "both"),
            ("throtle=0.1", "did you mean `throttle`"),
            ("seed=-1", "whole number"),
        ] {
            let e = text.parse::<FaultSpec>().unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
            assert!(e.contains("nostock=TYPE@ZONE"), "{text}: {e}");
        }
    }

    #[test]
    fn certain_faults_always_fire_and_seeds_reproduce() {
        let always = Faults::new(&[
            FaultSpec::Throttle(1.0),
            FaultSpec::RetryAfter(Duration::from_millis(300)),
        ]);
        let hit = always.roll().unwrap();
        assert_eq!(
            (hit.error.status, hit.error.code.as_str()),
            (400, "Throttling.User")
        );
        assert_eq!(hit.retry_after_ms, Some(300));
        let unavailable = Faults::new(&[FaultSpec::ServiceUnavailable(1.0)]);
        assert_eq!(unavailable.roll().unwrap().error.status, 503);
        assert!(Faults::new(&[]).roll().is_none());
        let run = |seed| {
            let f = Faults::new(&[FaultSpec::Throttle(0.5), FaultSpec::Seed(seed)]);
            (0..64).map(|_| f.roll().is_some()).collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        assert!(run(42).contains(&true) && run(42).contains(&false));
    }
}
