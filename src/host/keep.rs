//! `keep(id)` asks the guard: keeping resources running after the run is a spend decision.
//!
//! The gate finds what the keep would retain in the run's ledger (the resource, what it needs
//! and what goes with it, as `Ledger::keep` retains them), adds up what those cost per hour as
//! quoted when they were created, and hands that to [`crate::guard::Guard::admit_keep`]. A
//! refusal is the guard's own error (`Refused.KeepNeedsDuration` under `--max-cost` without a
//! `for`, `Refused.Budget`, `Refused.NoApprover`, ...), and nothing is retained.

use super::Host;
use crate::guard::keep::KeepRequest;
use crate::guard::Money;
use crate::ledger::rhai::KeepGate;
use crate::ledger::state::Holding;
use crate::ledger::Ledger;
use rhai::Position;
use std::rc::Rc;

/// The keep gate of `host`'s engine.
pub fn gate(host: Rc<Host>) -> KeepGate {
    Rc::new(move |ledger: &Ledger, id: &str, duration: Option<String>| {
        let refuse = |e: super::HostError| e.into_rhai(Position::NONE);
        let Some(request) = request(ledger, id, duration) else {
            return Ok(()); // not tracked: the ledger's own error says so
        };
        request
            .minutes()
            .map_err(|m| refuse(super::HostError::InvalidOption(m)))?;
        host.gateway
            .guard()
            .admit_keep(&request)
            .map(|_| ())
            .map_err(|e| refuse(super::gateway::guard_error(e)))
    })
}

/// What keeping `id` would retain and cost, or `None` when the run does not hold it.
fn request(ledger: &Ledger, id: &str, duration: Option<String>) -> Option<KeepRequest> {
    let state = ledger.snapshot();
    let named = state.find(id)?;
    let mut ids = vec![id.to_string()];
    ids.extend(state.dependencies(id));
    ids.extend(state.attached_to(id));
    let mut resources = Vec::new();
    let mut hourly: Option<Money> = None;
    for t in ids.iter().filter_map(|i| state.find(i)) {
        if t.status != Holding::Held {
            continue;
        }
        resources.push(format!("{} {}", t.kind.label(), t.id));
        if let Some(cost) = &t.cost {
            let sum = hourly.get_or_insert_with(|| Money {
                amount: 0.0,
                currency: cost.currency.clone(),
            });
            sum.amount += cost.amount;
        }
    }
    Some(KeepRequest {
        product: named.kind.product(),
        id: id.to_string(),
        resources,
        hourly,
        duration,
    })
}
