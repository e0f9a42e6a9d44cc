//! Decision records: what the guard decided about each chargeable (or policy-refused) request,
//! kept for the run's summary and handed to the ledger.
//!
//! A [`Decision`] is plain data (serde), so the ledger can journal it as is. [`summary`] renders
//! the decisions of a run as text for the runner to print; nothing here prints.

use super::block::{escape, format_estimate};
use std::fmt;

/// How a decision was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    /// The user answered the prompt on the terminal.
    Prompt,
    /// `--yes` approved it.
    Yes,
    /// `--max-cost` approved it (within budget) or refused it (over budget, or not quotable).
    Budget,
    /// No terminal to ask on and neither `--yes` nor `--max-cost`: refused.
    NoTerminal,
    /// A host policy refused it before anything was asked.
    Policy,
    /// Its price quote failed, so it was refused without asking.
    QuoteFailed,
    /// `ecsh run --plan`: approved as part of the plan approved at the start, or refused
    /// because it goes beyond that plan and nobody could be asked (`Refused.BeyondPlan`).
    Plan,
}

impl Via {
    pub fn label(self) -> &'static str {
        match self {
            Via::Prompt => "prompt",
            Via::Yes => "--yes",
            Via::Budget => "--max-cost",
            Via::NoTerminal => "no terminal",
            Via::Policy => "policy",
            Via::QuoteFailed => "quote failed",
            Via::Plan => "the plan",
        }
    }
}

/// One decision.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Decision {
    /// `ecs` or `vpc`.
    pub product: String,
    /// The action as the script named it.
    pub action: String,
    pub approved: bool,
    pub via: Via,
    /// The estimated total, when the request was quoted.
    pub amount: Option<f64>,
    pub currency: Option<String>,
    /// The pay-as-you-go price per hour of the whole request, same currency (the ledger's
    /// `HourlyCost`); `None` for subscriptions and unquoted actions.
    pub hourly: Option<f64>,
    /// When it was decided, RFC 3339 UTC.
    pub at: String,
    /// What was asked about, one line (`ecs.g7.large x 2, ~1 hour`).
    pub detail: String,
    /// Why it was refused, or how it was approved.
    pub reason: String,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.approved { "approved" } else { "refused" };
        write!(
            f,
            "{verdict} ({}): {} {}",
            self.via.label(),
            escape(&self.action),
            escape(&self.detail)
        )?;
        if let (Some(a), Some(c)) = (self.amount, &self.currency) {
            write!(f, ", est. {} {}", escape(c), format_estimate(a))?;
        }
        if !self.approved && !self.reason.is_empty() {
            write!(f, " — {}", escape(&self.reason))?;
        }
        Ok(())
    }
}

/// The run's decisions as text: one line each, then the approved estimate per currency.
/// Empty when nothing chargeable was attempted.
pub fn summary(decisions: &[Decision]) -> String {
    if decisions.is_empty() {
        return String::new();
    }
    let mut out = String::from("Cost decisions:\n");
    for d in decisions {
        out.push_str(&format!("- {d}\n"));
    }
    for (currency, total) in approved_totals(decisions) {
        out.push_str(&format!(
            "Approved estimate: {} {}\n",
            escape(&currency),
            format_estimate(total)
        ));
    }
    out
}

/// The sum of approved estimates, per currency, in first-seen order.
pub fn approved_totals(decisions: &[Decision]) -> Vec<(String, f64)> {
    let mut totals: Vec<(String, f64)> = Vec::new();
    for d in decisions.iter().filter(|d| d.approved) {
        if let (Some(a), Some(c)) = (d.amount, &d.currency) {
            match totals.iter_mut().find(|(cur, _)| cur == c) {
                Some((_, t)) => *t += a,
                None => totals.push((c.clone(), a)),
            }
        }
    }
    totals
}

/// Now, as RFC 3339 UTC to the second.
pub(crate) fn now() -> String {
    crate::rpc::format_timestamp(time::OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(approved: bool, via: Via, amount: Option<f64>) -> Decision {
        Decision {
            product: "ecs".into(),
            action: "RunInstances".into(),
            approved,
            via,
            amount,
            currency: amount.map(|_| "CNY".into()),
            hourly: amount,
            at: now(),
            detail: "ecs.g7.large x 1, ~1 hour".into(),
            reason: if approved {
                "".into()
            } else {
                "over budget".into()
            },
        }
    }

    #[test]
    fn summary_lists_each_decision_and_the_approved_total() {
        let s = summary(&[
            d(true, Via::Budget, Some(0.71)),
            d(true, Via::Budget, Some(0.71)),
            d(false, Via::Budget, Some(0.71)),
        ]);
        assert_eq!(
            s,
            "Cost decisions:\n\
- approved (--max-cost): RunInstances ecs.g7.large x 1, ~1 hour, est. CNY 0.71\n\
- approved (--max-cost): RunInstances ecs.g7.large x 1, ~1 hour, est. CNY 0.71\n\
- refused (--max-cost): RunInstances ecs.g7.large x 1, ~1 hour, est. CNY 0.71 — over budget\n\
Approved estimate: CNY 1.42\n"
        );
        assert_eq!(summary(&[]), "");
    }

    #[test]
    fn decisions_serialize_for_the_ledger() {
        let json = serde_json::to_value(d(true, Via::NoTerminal, None)).unwrap();
        assert_eq!(json["via"], "no-terminal");
        assert!(json["at"].as_str().unwrap().ends_with('Z'));
    }
}
