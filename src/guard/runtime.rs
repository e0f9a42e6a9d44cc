//! How long a pay-as-you-go resource is expected to run, for the estimated total.
//!
//! From the ecsh-only options of the request (see [`super::params`]):
//! - `estimated_runtime`: a number of minutes (`5`, `2.5`) or a number with a unit: `s`/`sec`,
//!   `m`/`min`, `h`/`hr`/`hour`, `d`/`day` (plural forms too), e.g. `"90s"`, `"5m"`, `"2h"`,
//!   `"1.5 hours"`, `"1d"`. It must be more than zero and at most 366 days.
//! - otherwise `task_type`, the seed's table, taking the upper end of each range so the estimate
//!   does not understate:
//!   `shell` (simple shell commands, "< 1 minute") → 1 minute; `data_processing` (data processing
//!   or compilation, "5–30 minutes") → 30 minutes; `training` (model training, "1–24 hours") →
//!   24 hours; `service` (long-running web/API service, "quoted hourly") → the price of one hour,
//!   shown as "per hour".
//! - neither: 1 hour, and the block says it assumed that.
//!
//! `estimated_runtime` wins when both are given. A runtime shorter than the billing minimum
//! ([`BILLING_MINIMUM_MINUTES`]) is counted as the minimum, so `estimated_runtime: "1s"` cannot
//! make a request look free; the quote also never estimates less than the service's minimum
//! charge per resource ([`MINIMUM_CHARGE`]). Pure: parses and describes, nothing else.

use super::params::Flat;

/// The runtime the estimate uses.
#[derive(Clone, Debug, PartialEq)]
pub enum Runtime {
    /// `estimated_runtime` (minutes).
    Given { minutes: f64 },
    /// From `task_type` (minutes).
    Task { task: &'static str, minutes: f64 },
    /// A long-running service: quoted per hour; the budget counts one hour.
    Service,
    /// Nothing given: one hour assumed.
    Assumed,
}

/// The `task_type` values, with the minutes each assumes and how the seed describes it.
pub const TASK_TYPES: [(&str, f64, &str); 3] = [
    ("shell", 1.0, "simple shell commands"),
    ("data_processing", 30.0, "data processing / compilation"),
    ("training", 24.0 * 60.0, "model training"),
];

/// The shortest time a pay-as-you-go resource is billed for, in minutes: billing is per
/// second but never less than this per resource, whatever `estimated_runtime` says.
pub const BILLING_MINIMUM_MINUTES: f64 = 1.0;

/// The least a pay-as-you-go resource costs over its life, per resource (Alibaba Cloud
/// charges 0.01 in the account's currency when the metered fee is lower).
pub const MINIMUM_CHARGE: f64 = 0.01;

const SERVICE: &str = "service";
const MAX_MINUTES: f64 = 366.0 * 24.0 * 60.0;

impl Runtime {
    /// Reads `estimated_runtime` / `task_type` from the options taken out of a request.
    pub fn from_options(options: &Flat) -> Result<Runtime, String> {
        if let Some(text) = options.get("estimated_runtime") {
            return parse_duration(text).map(|minutes| Runtime::Given { minutes });
        }
        match options.get("task_type") {
            None => Ok(Runtime::Assumed),
            Some(t) => task(t.trim()),
        }
    }

    /// The hours the estimate multiplies the hourly price by.
    pub fn hours(&self) -> f64 {
        match self {
            Runtime::Given { minutes } | Runtime::Task { minutes, .. } => {
                minutes.max(BILLING_MINIMUM_MINUTES) / 60.0
            }
            Runtime::Service | Runtime::Assumed => 1.0,
        }
    }

    /// The `Estimated runtime:` line of the block.
    pub fn describe(&self) -> String {
        match self {
            Runtime::Given { minutes } if *minutes < BILLING_MINIMUM_MINUTES => format!(
                "~{} (billed as at least {})",
                human(*minutes),
                human(BILLING_MINIMUM_MINUTES)
            ),
            Runtime::Given { minutes } => format!("~{}", human(*minutes)),
            Runtime::Task { task, minutes } => {
                let what = TASK_TYPES
                    .iter()
                    .find(|(name, _, _)| name == task)
                    .map_or("", |(_, _, what)| what);
                format!("~{} ({what}, task_type {task})", human(*minutes))
            }
            Runtime::Service => "runs continuously (long-running service, quoted per hour)".into(),
            Runtime::Assumed => "~1 hour (assumed)".into(),
        }
    }

    /// A note explaining an assumption, when there is one.
    pub fn note(&self) -> Option<String> {
        matches!(self, Runtime::Assumed).then(|| {
            "no estimated_runtime or task_type was given, so the estimate assumes 1 hour; \
             pass estimated_runtime (\"5m\", \"2h\") or task_type (shell, data_processing, \
             training, service) for a better one"
                .to_string()
        })
    }

    pub fn is_service(&self) -> bool {
        matches!(self, Runtime::Service)
    }
}

fn task(name: &str) -> Result<Runtime, String> {
    if name.eq_ignore_ascii_case(SERVICE) {
        return Ok(Runtime::Service);
    }
    if let Some((task, minutes, _)) = TASK_TYPES
        .iter()
        .find(|(t, _, _)| t.eq_ignore_ascii_case(name))
    {
        return Ok(Runtime::Task {
            task,
            minutes: *minutes,
        });
    }
    let names: Vec<&str> = TASK_TYPES
        .iter()
        .map(|(t, _, _)| *t)
        .chain([SERVICE])
        .collect();
    let near = names
        .iter()
        .map(|n| (crate::ops::edit_distance(n, &name.to_ascii_lowercase()), *n))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, n)| format!("; did you mean `{n}`?"))
        .unwrap_or_default();
    Err(format!(
        "unknown task_type `{}`: expected one of {}{near}",
        super::block::escape(name),
        names.join(", ")
    ))
}

/// Parses `estimated_runtime` into minutes.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let bad = || {
        format!(
            "estimated_runtime `{}` is not a duration: give minutes (5) or a number with a \
             unit: \"90s\", \"5m\", \"2h\", \"1d\"",
            super::block::escape(text)
        )
    };
    let value: f64 = number.parse().map_err(|_| bad())?;
    let per_unit = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "m" | "min" | "mins" | "minute" | "minutes" => 1.0,
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0 / 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 60.0,
        "d" | "day" | "days" => 24.0 * 60.0,
        _ => return Err(bad()),
    };
    let minutes = value * per_unit;
    if !(minutes > 0.0 && minutes <= MAX_MINUTES) {
        return Err(format!(
            "estimated_runtime `{}` must be more than zero and at most 366 days",
            super::block::escape(text)
        ));
    }
    Ok(minutes)
}

/// `5 minutes`, `1 hour`, `1.5 hours`, `30 seconds`, `2 days`.
pub fn human(minutes: f64) -> String {
    let (value, unit) = if minutes < 1.0 {
        (minutes * 60.0, "second")
    } else if minutes < 60.0 {
        (minutes, "minute")
    } else if minutes < 48.0 * 60.0 {
        (minutes / 60.0, "hour")
    } else {
        (minutes / 1440.0, "day")
    };
    let rounded = (value * 10.0).round() / 10.0;
    let plural = if rounded == 1.0 { "" } else { "s" };
    if rounded.fract() == 0.0 {
        format!("{rounded:.0} {unit}{plural}")
    } else {
        format!("{rounded:.1} {unit}{plural}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts(v: serde_json::Value) -> Flat {
        match v {
            serde_json::Value::Object(m) => Flat::of(&m).unwrap(),
            _ => unreachable!("test literal is an object"),
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5"), Ok(5.0));
        assert_eq!(parse_duration("5m"), Ok(5.0));
        assert_eq!(parse_duration("90s"), Ok(1.5));
        assert_eq!(parse_duration("2h"), Ok(120.0));
        assert_eq!(parse_duration(" 1.5 hours "), Ok(90.0));
        assert_eq!(parse_duration("1d"), Ok(1440.0));
        for bad in ["", "0", "-5m", "5 parsecs", "h", "1e3", "400d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn options_choose_the_runtime() {
        let r = Runtime::from_options(&opts(json!({"estimated_runtime": 5}))).unwrap();
        assert_eq!(r.describe(), "~5 minutes");
        assert!((r.hours() - 5.0 / 60.0).abs() < 1e-12);
        let r = Runtime::from_options(&opts(json!({"task_type": "training"}))).unwrap();
        assert_eq!(r.hours(), 24.0);
        assert_eq!(
            r.describe(),
            "~24 hours (model training, task_type training)"
        );
        let r = Runtime::from_options(&opts(json!({"task_type": "Service"}))).unwrap();
        assert!(r.is_service());
        assert_eq!(r.hours(), 1.0);
        let r = Runtime::from_options(&opts(json!({}))).unwrap();
        assert_eq!(r, Runtime::Assumed);
        assert!(r.note().unwrap().contains("assumes 1 hour"));
        let both = json!({"estimated_runtime": "2h", "task_type": "shell"});
        assert_eq!(Runtime::from_options(&opts(both)).unwrap().hours(), 2.0);
        let err = Runtime::from_options(&opts(json!({"task_type": "trainig"}))).unwrap_err();
        assert!(err.contains("did you mean `training`"), "{err}");
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(5.0), "5 minutes");
        assert_eq!(human(1.0), "1 minute");
        assert_eq!(human(0.5), "30 seconds");
        assert_eq!(human(90.0), "1.5 hours");
        assert_eq!(human(1440.0), "24 hours");
        assert_eq!(human(4320.0), "3 days");
    }
}
