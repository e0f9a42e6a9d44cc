//! `keep(id)` as a spend decision: the cost block for keeping resources running after the run
//! ends, from the hourly price they were approved at.
//!
//! A kept instance is not released when the run ends, so it goes on costing what it costs per
//! hour until someone releases it. The block shows that price and, with a duration
//! (`keep(id, #{ "for": "24h" })`; Rhai reserves `for`, so the key is quoted), the total for it, which is what a `--max-cost` budget counts;
//! without one the cost has no end ([`KeepTerms::open_ended`]) and only a person or `--yes` can
//! approve it. Pure: builds the block, asks nothing.

use super::block::{format_estimate, format_price, CostBlock, KeepTerms, Money};
use super::runtime::{human, parse_duration};
use crate::ops::Product;

/// What a script asked to keep, as the host found it in the run's ledger.
#[derive(Clone, Debug, PartialEq)]
pub struct KeepRequest {
    /// The product of the resource named (for the decision log).
    pub product: Product,
    /// The id the script named.
    pub id: String,
    /// Everything that would be kept with it (`ECS i-abc`, `VSwitch vsw-1`), for the block.
    pub resources: Vec<String>,
    /// What they cost per hour together, as quoted when they were created; `None` when
    /// nothing of it costs anything by the hour.
    pub hourly: Option<Money>,
    /// The `for` option, as given (`"24h"`); `None` for a keep without a duration.
    pub duration: Option<String>,
}

impl KeepRequest {
    /// The `for` duration in minutes; an error names the bad value and the accepted forms.
    pub fn minutes(&self) -> Result<Option<f64>, String> {
        self.duration
            .as_deref()
            .map(|d| parse_duration(d).map_err(|e| e.replace("estimated_runtime", "keep's `for`")))
            .transpose()
    }
}

/// The block for `request`, or `None` when keeping costs nothing per hour. `request.duration`
/// must parse (see [`KeepRequest::minutes`]); one that does not is treated as none.
pub fn block(request: &KeepRequest) -> Option<CostBlock> {
    let hourly = request.hourly.clone().filter(|m| m.amount > 0.0)?;
    let minutes = request.minutes().ok().flatten();
    let cur = hourly.currency.clone();
    let (runtime, total, estimate) = match minutes {
        Some(m) => {
            let amount = hourly.amount * m / 60.0;
            (
                format!(
                    "~{} after the run ends (for: {})",
                    human(m),
                    request.duration.as_deref().unwrap_or("")
                ),
                format!("{cur} {}", format_estimate(amount)),
                Some(Money {
                    amount,
                    currency: cur.clone(),
                }),
            )
        }
        None => (
            "until released: no duration was given".to_string(),
            format!(
                "{cur} {} per hour, with no end",
                format_estimate(hourly.amount)
            ),
            None,
        ),
    };
    Some(CostBlock {
        action: "keep".into(),
        title: "Keep Cost Estimate:".into(),
        details: vec![
            ("Keep".into(), request.id.clone()),
            ("With it".into(), request.resources.join(", ")),
        ],
        unit_price: format!(
            "{cur} {}/hour (as quoted when created)",
            format_price(hourly.amount)
        ),
        runtime,
        total,
        billing: "pay-as-you-go (PostPaid): not released when the run ends; it costs money \
                  until you release it (`ecsh cleanup RUN`)"
            .into(),
        notes: Vec::new(),
        estimate,
        hourly: Some(hourly),
        summary: request.id.clone(),
        keep: Some(KeepTerms {
            open_ended: minutes.is_none(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(duration: Option<&str>, hourly: Option<f64>) -> KeepRequest {
        KeepRequest {
            product: Product::Ecs,
            id: "i-1".into(),
            resources: vec!["ECS i-1".into()],
            hourly: hourly.map(|amount| Money {
                amount,
                currency: "CNY".into(),
            }),
            duration: duration.map(str::to_string),
        }
    }

    #[test]
    fn a_keep_for_a_duration_costs_the_hourly_price_times_it() {
        let b = block(&request(Some("24h"), Some(0.5))).unwrap();
        assert!((b.estimate.as_ref().unwrap().amount - 12.0).abs() < 1e-9);
        assert!(b.render().ends_with("Keep it running after the run ends?"));
        assert!(!b.keep.unwrap().open_ended);
    }

    #[test]
    fn a_keep_without_a_duration_has_no_estimate_and_says_so() {
        let b = block(&request(None, Some(0.5))).unwrap();
        assert_eq!(b.estimate, None);
        assert!(b.total.contains("per hour, with no end"), "{}", b.total);
        assert!(b.keep.unwrap().open_ended);
    }

    #[test]
    fn free_resources_need_no_decision_and_bad_durations_are_named() {
        assert_eq!(block(&request(None, None)), None);
        let e = request(Some("forever"), Some(1.0)).minutes().unwrap_err();
        assert!(e.contains("keep's `for`"), "{e}");
    }
}
