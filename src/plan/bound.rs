//! `ecsh run --plan`: the real run's prompter, bound to the plan approved at the start.
//!
//! Each chargeable request the plan made (created or attempted: a fallback script's sold-out
//! attempt is part of its plan) admits one request at run time with the same action, the same
//! cost-block lines (spec, image, disks, bandwidth; not the network, whose ids differ between
//! the shadow and the target), the same unit price and the same estimated runtime (so the same
//! estimate: counts and total stay within the plan), without asking. Anything else goes
//! beyond the plan: it is asked on the terminal with a note that shows the difference, and
//! refused (`Refused.BeyondPlan`) when there is no terminal, whatever `--yes` or `--max-cost`
//! said, since those applied to the plan's total.

use super::Plan;
use crate::guard::block::escape;
use crate::guard::prompt::TerminalPrompter;
use crate::guard::{CostBlock, Prompter, Verdict, Via};
use std::sync::{Arc, Mutex};

/// What one planned charge admits.
#[derive(Clone, Debug, PartialEq)]
struct Slot {
    key: String,
    summary: String,
    line: Option<usize>,
}

/// The planned charges not used yet, shared between the CLI (which fills them once the plan
/// is approved) and the run's prompter.
#[derive(Clone, Default)]
pub struct Approved(Arc<Mutex<Vec<Slot>>>);

impl Approved {
    /// Binds the run to `plan` (call once the plan is approved).
    pub fn bind(&self, plan: &Plan) {
        let slots = plan
            .charges
            .iter()
            .map(|c| Slot {
                key: key(&c.block),
                summary: c.summary.clone(),
                line: c.line,
            })
            .collect();
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = slots;
    }

    /// Uses up the slot matching `block`, if one is left.
    fn take(&self, block: &CostBlock) -> Option<Slot> {
        let mut slots = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let k = key(block);
        let at = slots.iter().position(|s| s.key == k)?;
        Some(slots.remove(at))
    }

    /// What the plan still holds, for the difference shown when a request goes beyond it.
    fn left(&self) -> Vec<Slot> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// How a planned charge and a real request are matched.
fn key(block: &CostBlock) -> String {
    let lines: Vec<String> = block
        .details
        .iter()
        .filter(|(label, _)| label != "Network")
        .map(|(label, value)| format!("{label}={value}"))
        .collect();
    format!(
        "{}|{}|{}|{}",
        block.action,
        lines.join(";"),
        block.unit_price,
        block.runtime
    )
}

/// The prompter of a run bound to a plan.
pub struct Bound {
    approved: Approved,
    /// How something beyond the plan is asked: the terminal, when there is one.
    terminal: Option<TerminalPrompter>,
}

impl Bound {
    pub fn new(approved: Approved) -> Bound {
        Bound {
            approved,
            terminal: TerminalPrompter::open().ok(),
        }
    }

    /// Why `block` is not within the plan: what it is, and what the plan had left.
    fn difference(&self, block: &CostBlock) -> String {
        let left = self.approved.left();
        let planned = if left.is_empty() {
            "nothing more".to_string()
        } else {
            left.iter()
                .map(|s| match s.line {
                    Some(l) => format!("{} (line {l})", s.summary),
                    None => s.summary.clone(),
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        let spec = block
            .details
            .iter()
            .find(|(l, _)| l == "Spec")
            .map_or(block.summary.as_str(), |(_, v)| v.as_str());
        format!(
            "{} {} ({}) is beyond the approved plan, which had left: {planned}; the script \
             took another path than in the plan (run `ecsh plan` to see it)",
            escape(&block.action),
            escape(spec),
            escape(&block.unit_price)
        )
    }
}

impl Prompter for Bound {
    fn confirm(&mut self, block: &CostBlock) -> Verdict {
        if let Some(slot) = self.approved.take(block) {
            let at = slot
                .line
                .map(|l| format!(" (line {l})"))
                .unwrap_or_default();
            return Verdict {
                approved: true,
                via: Via::Plan,
                reason: format!("within the approved plan{at}"),
                interrupted: false,
            };
        }
        let difference = self.difference(block);
        match &mut self.terminal {
            Some(terminal) => {
                let mut asked = block.clone();
                asked.notes.push(difference);
                terminal.confirm(&asked)
            }
            None => Verdict {
                approved: false,
                via: Via::Plan,
                reason: difference,
                interrupted: false,
            },
        }
    }
}
