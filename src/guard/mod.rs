//! The guard: host-enforced policies and cost confirmation in front of every cloud call.
//!
//! The host's gateway calls [`Guard::admit`] once for every request, before sending it, and
//! sends only if it returns `Ok`. In order, `admit`:
//! 1. takes the ecsh-only options (`estimated_runtime`, `task_type`, `allow_public_admin`) out
//!    of the parameters, so they never reach the service ([`params`]);
//! 2. applies the host policies ([`policy`]; a rule modified by id first completed from the
//!    rule as it is, [`rule_lookup`]) — UserData, database/SSH/RDP ports open to the
//!    internet — to every request, chargeable or not;
//! 3. if the action may cost money ([`needs_approval`]: the registry's `chargeable` flag, or
//!    any unregistered name that is not a read — default-deny), quotes the exact request with
//!    DescribePrice ([`quote`]; an action it cannot price gets a block that says so, which only
//!    a person or `--yes` can approve) and asks the prompter the host chose ([`prompt`]) with
//!    the seed's cost block ([`block`]);
//! 4. records the decision ([`decision`]) for the run's summary and hands it to the ledger's
//!    sink.
//!
//! Besides `admit`: a registered action that can resume billing (StartInstance of an instance
//! stopped in `StopCharging` mode) is quoted from the instance it names; [`Guard::admit_keep`]
//! makes `keep(id)` a spend decision of its own ([`keep`]); [`Guard::preapprove`] asks for an
//! instance creation before the free preparations of a flow, and that approval admits the one
//! matching request later. Every refusal carries its own code ([`GuardError::code`]).
//!
//! The guard's state (prompter, budget, decisions) lives here in Rust behind the gateway;
//! nothing of it is registered with Rhai, so a script can neither see nor replace nor disable
//! it. The prompt and the budget update happen under one lock, so concurrent calls cannot race
//! past the budget. The guard never sends the chargeable request and never prints.

pub mod block;
pub mod decision;
pub mod keep;
pub mod params;
pub mod policy;
pub mod prompt;
pub mod quote;
pub mod rule_lookup;
pub mod runtime;
pub mod spot;

pub use block::{CostBlock, Money};
pub use decision::{Decision, Via};
pub use policy::PolicyViolation;
pub use prompt::{Prompter, Verdict};
pub use quote::Reader;

use crate::ops::{self, Product};
use params::Flat;
use runtime::Runtime;
use serde_json::{Map, Value};
use std::fmt;
use std::sync::Mutex;

/// Why the guard stopped a request. Nothing was sent.
#[derive(Clone, Debug, PartialEq)]
pub enum GuardError {
    /// A host policy forbids it.
    Policy(PolicyViolation),
    /// An ecsh-only option (`estimated_runtime`, `task_type`) has a value it does not accept.
    InvalidOption(String),
    /// The parameters cannot be sent at all (a list inside a list, a name given twice, ...).
    InvalidParams(String),
    /// The price quote failed, so the action was not sent unquoted.
    QuoteFailed { action: String, reason: String },
    /// The user pressed Ctrl-C at the prompt: refused, and the run should stop (the gateway
    /// turns this into its uncatchable interrupt).
    Interrupted { action: String },
    /// The prompter did not approve it; `code` says who refused and why (see [`GuardError::code`]).
    Refused {
        action: String,
        via: Via,
        code: &'static str,
        reason: String,
    },
}

impl GuardError {
    /// A stable code a script can branch on (`e.code`); one per kind of refusal, listed in
    /// the README ("Refusal codes").
    pub fn code(&self) -> &'static str {
        match self {
            GuardError::Policy(v) => v.rule.code(),
            GuardError::InvalidOption(_) => "InvalidOption",
            GuardError::InvalidParams(_) => "Refused.MalformedRequest",
            GuardError::QuoteFailed { .. } => "Refused.QuoteFailed",
            GuardError::Interrupted { .. } => "Interrupted",
            GuardError::Refused { code, .. } => code,
        }
    }
}

/// The code of a refusal by a prompter: who refused, and what about the block made it so.
fn refusal_code(via: Via, block: &CostBlock) -> &'static str {
    let open_keep = block.keep.as_ref().is_some_and(|k| k.open_ended);
    match via {
        Via::Budget if open_keep => "Refused.KeepNeedsDuration",
        Via::Budget if block.estimate.is_none() => "Refused.Unpriced",
        Via::Budget => "Refused.Budget",
        Via::NoTerminal => "Refused.NoApprover",
        Via::Policy => "Refused.Policy",
        Via::QuoteFailed => "Refused.QuoteFailed",
        Via::Plan => "Refused.BeyondPlan",
        Via::Prompt | Via::Yes => "Refused.Declined",
    }
}

impl fmt::Display for GuardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuardError::Policy(v) => write!(f, "{v}"),
            GuardError::InvalidOption(m) | GuardError::InvalidParams(m) => f.write_str(m),
            GuardError::QuoteFailed { action, reason } => write!(
                f,
                "refused: {} was not sent because its price could not be quoted: {reason}",
                block::escape(action)
            ),
            GuardError::Interrupted { action } => write!(
                f,
                "interrupted at the confirmation of {}; nothing was sent",
                block::escape(action)
            ),
            GuardError::Refused { action, reason, .. } => write!(
                f,
                "refused: {} was not approved, nothing was sent: {reason}",
                block::escape(action)
            ),
        }
    }
}

impl std::error::Error for GuardError {}

/// What `admit` let through.
#[derive(Clone, Debug, PartialEq)]
pub enum Admission {
    /// Not chargeable and within policy: send it.
    Free,
    /// Chargeable and approved: send it.
    Approved(Decision),
}

/// Receives each decision as it is made (the ledger journals them).
pub type DecisionSink = Box<dyn Fn(&Decision) + Send + Sync>;

struct State {
    prompter: Box<dyn Prompter>,
    decisions: Vec<Decision>,
    /// Approvals given ahead ([`Guard::preapprove`]), by price key, each for one request.
    ahead: Vec<(String, Decision)>,
}

/// The guard of one run or REPL session.
pub struct Guard {
    state: Mutex<State>,
    sink: Option<DecisionSink>,
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard").finish_non_exhaustive()
    }
}

impl Guard {
    /// A guard that asks `prompter` (chosen by the host: see [`prompt::from_flags`]).
    pub fn new(prompter: Box<dyn Prompter>) -> Guard {
        Guard {
            state: Mutex::new(State {
                prompter,
                decisions: Vec::new(),
                ahead: Vec::new(),
            }),
            sink: None,
        }
    }

    /// The guard for the CLI flags `--yes` / `--max-cost AMOUNT` (see [`prompt::from_flags`]):
    /// the error names the conflict or the bad amount.
    pub fn from_flags(yes: bool, max_cost: Option<&str>) -> Result<Guard, String> {
        prompt::from_flags(yes, max_cost).map(Guard::new)
    }

    /// Also hands every decision to `sink` (the ledger), as it is made.
    pub fn with_sink(mut self, sink: DecisionSink) -> Guard {
        self.sink = Some(sink);
        self
    }

    /// The one hook: judges a request about to be sent. `params` loses its ecsh-only options
    /// either way; send it only on `Ok`. `reader` sends the read-only quote requests; it must
    /// send them directly (DescribePrice is a read, so it may also go back through the gateway,
    /// which admits reads without asking).
    pub fn admit(
        &self,
        product: Product,
        action: &str,
        params: &mut Map<String, Value>,
        reader: &mut dyn Reader,
    ) -> Result<Admission, GuardError> {
        let invalid = |e: crate::rpc::params::ParamError| GuardError::InvalidParams(e.to_string());
        let options = params::take_ecsh_options(params).map_err(invalid)?;
        let flat = Flat::of(params).map_err(invalid)?;
        if let Some((a, b)) = flat.case_duplicate() {
            return Err(GuardError::InvalidParams(format!(
                "parameters `{}` and `{}` differ only in letter case; give the parameter once, \
                 spelled as the API spells it",
                block::escape(a),
                block::escape(b)
            )));
        }
        if let Some((key, known)) = flat.case_near_miss() {
            return Err(GuardError::InvalidParams(format!(
                "parameter `{}` is not spelled as the API spells it (names are case-sensitive); \
                 write `{known}`",
                block::escape(key)
            )));
        }
        // A rule modified by id is judged as it will be after the change (issue 15).
        let judged = rule_lookup::completed(action, &flat, reader).and_then(|completed| {
            policy::check_flat(action, completed.as_ref().unwrap_or(&flat), &options)
        });
        if let Err(violation) = judged {
            self.record(refusal(product, action, Via::Policy, &violation.message));
            return Err(GuardError::Policy(violation));
        }
        if resumes_billing(product, action) {
            let runtime = Runtime::from_options(&options).map_err(GuardError::InvalidOption)?;
            return match quote::resumed(action, &flat, &runtime, reader) {
                // One question per instance whose billing resumes; a "no" to any refuses the
                // whole request (nothing is started).
                Ok(blocks) => {
                    let mut admission = Admission::Free;
                    for block in &blocks {
                        admission = self.ask(product, block)?;
                    }
                    Ok(admission)
                }
                Err(reason) => {
                    self.record(refusal(product, action, Via::QuoteFailed, &reason));
                    Err(GuardError::QuoteFailed {
                        action: action.into(),
                        reason,
                    })
                }
            };
        }
        if !needs_approval(action) && !charged_by_params(product, action, &flat) {
            return Ok(Admission::Free);
        }
        let runtime = Runtime::from_options(&options).map_err(GuardError::InvalidOption)?;
        if let Some(decision) = self.take_ahead(action, &flat, &runtime) {
            return Ok(Admission::Approved(decision));
        }
        self.quote_and_ask(product, action, &flat, &runtime, &[], reader)
    }

    /// Quotes and asks for a request that will be sent later, after free preparations (the
    /// network of `create_instance_with_infra`), so that a "no" leaves nothing to undo. The
    /// request is judged as [`Guard::admit`] would judge it (policies, quote, approval);
    /// `details` are extra lines for the block (which network is reused). An approval admits
    /// one later request with the same price ([`quote::price_key`]) without asking again.
    pub fn preapprove(
        &self,
        product: Product,
        action: &str,
        params: &mut Map<String, Value>,
        details: &[(String, String)],
        reader: &mut dyn Reader,
    ) -> Result<Admission, GuardError> {
        let invalid = |e: crate::rpc::params::ParamError| GuardError::InvalidParams(e.to_string());
        let options = params::take_ecsh_options(params).map_err(invalid)?;
        let flat = Flat::of(params).map_err(invalid)?;
        if let Err(violation) = policy::check_flat(action, &flat, &options) {
            self.record(refusal(product, action, Via::Policy, &violation.message));
            return Err(GuardError::Policy(violation));
        }
        let runtime = Runtime::from_options(&options).map_err(GuardError::InvalidOption)?;
        let key = quote::price_key(action, &flat, &runtime).ok_or_else(|| {
            GuardError::InvalidParams(format!(
                "only instance creations can be approved ahead, not {}",
                block::escape(action)
            ))
        })?;
        let admission = self.quote_and_ask(product, action, &flat, &runtime, details, reader)?;
        if let Admission::Approved(d) = &admission {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            state.ahead.push((key, d.clone()));
        }
        Ok(admission)
    }

    /// The approval given ahead for a request with this price, used up.
    fn take_ahead(&self, action: &str, flat: &Flat, runtime: &Runtime) -> Option<Decision> {
        let key = quote::price_key(action, flat, runtime)?;
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let at = state.ahead.iter().position(|(k, _)| *k == key)?;
        Some(state.ahead.remove(at).1)
    }

    fn quote_and_ask(
        &self,
        product: Product,
        action: &str,
        flat: &Flat,
        runtime: &Runtime,
        details: &[(String, String)],
        reader: &mut dyn Reader,
    ) -> Result<Admission, GuardError> {
        let block = match quote::quote(product, action, flat, runtime, reader) {
            Ok(b) => b,
            Err(reason) => {
                self.record(refusal(product, action, Via::QuoteFailed, &reason));
                return Err(GuardError::QuoteFailed {
                    action: action.into(),
                    reason,
                });
            }
        };
        let mut block = block;
        block.details.extend(details.iter().cloned());
        if let Some((_, network)) = details.iter().find(|(label, _)| label == "Network") {
            block.summary = format!("{}, network: {network}", block.summary);
        }
        self.ask(product, &block)
    }

    /// Asks the prompter and records the answer, under the lock (so budgets cannot be raced).
    fn ask(&self, product: Product, block: &CostBlock) -> Result<Admission, GuardError> {
        let (decision, interrupted) = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let verdict = state.prompter.confirm(block);
            let decision = Decision {
                product: product.code().into(),
                action: block.action.clone(),
                approved: verdict.approved,
                via: verdict.via,
                amount: block.estimate.as_ref().map(|m| m.amount),
                currency: block.estimate.as_ref().map(|m| m.currency.clone()),
                hourly: block.hourly.as_ref().map(|m| m.amount),
                at: decision::now(),
                detail: block.summary.clone(),
                reason: verdict.reason,
            };
            state.decisions.push(decision.clone());
            (decision, verdict.interrupted)
        };
        if let Some(sink) = &self.sink {
            sink(&decision);
        }
        if decision.approved {
            Ok(Admission::Approved(decision))
        } else if interrupted {
            Err(GuardError::Interrupted {
                action: decision.action,
            })
        } else {
            Err(GuardError::Refused {
                code: refusal_code(decision.via, block),
                action: decision.action,
                via: decision.via,
                reason: decision.reason,
            })
        }
    }

    /// `keep(id)`: keeping resources past the run is a spend decision of its own, quoted from
    /// what they cost per hour and asked like a creation (`--yes` approves; a budget counts
    /// `for` hours and refuses a keep without one). Resources that cost nothing pass unasked.
    pub fn admit_keep(&self, request: &keep::KeepRequest) -> Result<Admission, GuardError> {
        match keep::block(request) {
            None => Ok(Admission::Free),
            Some(block) => self.ask(request.product, &block),
        }
    }

    fn record(&self, decision: Decision) {
        if let Some(sink) = &self.sink {
            sink(&decision);
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.decisions.push(decision);
    }

    /// Every decision so far, in order (for the run's summary: see [`decision::summary`]).
    pub fn decisions(&self) -> Vec<Decision> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.decisions.clone()
    }
}

/// The record of a request refused before anyone was asked (policy, failed quote).
fn refusal(product: Product, action: &str, via: Via, reason: &str) -> Decision {
    Decision {
        product: product.code().into(),
        action: action.into(),
        approved: false,
        via,
        amount: None,
        currency: None,
        hourly: None,
        at: decision::now(),
        detail: "(not quoted)".into(),
        reason: reason.into(),
    }
}

/// True for a registered action that can make a resource cost money again (see
/// `ops::Action::resumes_billing`).
pub fn resumes_billing(product: Product, action: &str) -> bool {
    ops::find(product, action).is_some_and(|a| a.resumes_billing)
}

/// True when a registered free action carries a parameter that makes it cost money (the
/// registry's `charged_by`).
fn charged_by_params(product: Product, action: &str, flat: &Flat) -> bool {
    ops::find(product, action).is_some_and(|a| a.charged_by.iter().any(|p| flat.get(p).is_some()))
}

/// The verbs of actions that only read. An action outside the registry is sent without an
/// approval only when its name starts with one of them (default-deny: ecsh cannot know what an
/// unregistered `Modify*`, `Copy*`, `Import*` or `Start*` costs).
pub const READ_VERBS: [&str; 4] = ["Describe", "List", "Get", "Query"];

/// True when `action` needs an approval before it is sent: a registered action marked
/// chargeable, or any unregistered action that is not a read by its verb ([`READ_VERBS`]).
/// Letter case and stray characters are ignored (`runinstances`, `Run_Instances`), and a name
/// chargeable in any product counts.
pub fn needs_approval(action: &str) -> bool {
    let canon = policy::canonical(action);
    let index = chargeable_by_canonical_name();
    match index.binary_search_by(|(name, _)| name.as_str().cmp(&canon)) {
        Ok(at) => index[at].1,
        Err(_) => !READ_VERBS
            .iter()
            .any(|verb| canon.starts_with(&verb.to_ascii_lowercase())),
    }
}

/// Every registry name in its canonical form (`policy::canonical`), sorted, with whether any
/// entry of that form is chargeable: built once, looked up on every call (a scan of the registry
/// per call was 5% of a read call's instructions: BENCHMARKS.md, client overhead, stop 23).
fn chargeable_by_canonical_name() -> &'static [(String, bool)] {
    static INDEX: std::sync::OnceLock<Vec<(String, bool)>> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut by_name: std::collections::BTreeMap<String, bool> = Default::default();
        for a in ops::ACTIONS {
            *by_name.entry(policy::canonical(a.name)).or_default() |= a.chargeable;
        }
        by_name.into_iter().collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test literal is an object"),
        }
    }

    /// Answers DescribePrice at 0.5/hour per instance and records every read.
    fn prices(
        log: Arc<Mutex<Vec<String>>>,
    ) -> impl FnMut(Product, &str, Map<String, Value>) -> Result<Value, String> {
        move |_, action, params| {
            log.lock().unwrap().push(action.to_string());
            let amount: f64 = params
                .get("Amount")
                .and_then(Value::as_str)
                .unwrap_or("1")
                .parse()
                .unwrap_or(1.0);
            match action {
                "DescribePrice" => Ok(
                    json!({"PriceInfo": {"Price": {"TradePrice": 0.5 * amount, "Currency": "CNY"}}}),
                ),
                _ => Err(format!("{action} not available here")),
            }
        }
    }

    #[test]
    fn admit_strips_options_quotes_asks_and_records() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let sunk = Arc::new(Mutex::new(Vec::new()));
        let s2 = sunk.clone();
        let guard = Guard::new(Box::new(prompt::Budget::parse("1.0").unwrap())).with_sink(
            Box::new(move |d: &Decision| s2.lock().unwrap().push(d.clone())),
        );
        let mut reader = prices(log.clone());
        let mut req = obj(
            json!({"RegionId": "cn-hangzhou", "InstanceType": "ecs.g7.large",
                                 "Amount": 2, "estimated_runtime": "30m"}),
        );
        let admitted = guard
            .admit(Product::Ecs, "RunInstances", &mut req, &mut reader)
            .unwrap();
        assert!(
            !req.contains_key("estimated_runtime"),
            "the ecsh option would be sent"
        );
        let Admission::Approved(d) = admitted else {
            panic!("not approved")
        };
        assert_eq!(
            (d.amount, d.hourly, d.via),
            (Some(0.5), Some(1.0), Via::Budget)
        );
        // Reads pass without a quote; the same request again would exceed the budget.
        let mut read = obj(json!({"RegionId": "cn-hangzhou"}));
        assert_eq!(
            guard.admit(Product::Ecs, "DescribeInstances", &mut read, &mut reader),
            Ok(Admission::Free)
        );
        let mut again = obj(
            json!({"RegionId": "cn-hangzhou", "InstanceType": "ecs.g7.large",
                                   "Amount": 2, "estimated_runtime": "90m"}),
        );
        let err = guard
            .admit(Product::Ecs, "RunInstances", &mut again, &mut reader)
            .unwrap_err();
        assert_eq!(err.code(), "Refused.Budget");
        assert_eq!(
            log.lock()
                .unwrap()
                .iter()
                .filter(|a| *a == "DescribePrice")
                .count(),
            2
        );
        assert_eq!(guard.decisions().len(), 2);
        assert_eq!(*sunk.lock().unwrap(), guard.decisions());
    }

    #[test]
    fn admit_refuses_by_policy_without_quoting() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let guard = Guard::new(Box::new(prompt::AutoApprove));
        let mut reader = prices(log.clone());
        let mut req = obj(
            json!({"RegionId": "cn-hangzhou", "InstanceType": "ecs.g7.large",
                                 "UserData": "ZWNobw=="}),
        );
        let err = guard
            .admit(Product::Ecs, "RunInstances", &mut req, &mut reader)
            .unwrap_err();
        assert_eq!(err.code(), "Refused.Policy.UserData");
        assert!(log.lock().unwrap().is_empty());
        assert_eq!(guard.decisions()[0].via, Via::Policy);
        let mut bad =
            obj(json!({"RegionId": "cn-hangzhou", "InstanceType": "t", "task_type": "sleeping"}));
        let err = guard
            .admit(Product::Ecs, "RunInstances", &mut bad, &mut reader)
            .unwrap_err();
        assert_eq!(err.code(), "InvalidOption");
    }

    #[test]
    fn a_failed_quote_is_refused_and_recorded() {
        let guard = Guard::new(Box::new(prompt::AutoApprove));
        let mut failing = |_: Product, _: &str, _: Map<String, Value>| -> Result<Value, String> {
            Err("Throttling".into())
        };
        let mut req = obj(json!({"RegionId": "cn-hangzhou", "InstanceType": "ecs.g7.large"}));
        let err = guard
            .admit(Product::Ecs, "CreateInstance", &mut req, &mut failing)
            .unwrap_err();
        assert_eq!(err.code(), "Refused.QuoteFailed");
        assert!(err.to_string().contains("Throttling"), "{err}");
        assert_eq!(guard.decisions()[0].via, Via::QuoteFailed);
    }

    #[test]
    fn the_guard_can_be_shared_across_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Guard>();
    }

    /// The index answers what a scan of the registry answers, for every registered name in
    /// other spellings and for names outside it.
    #[test]
    fn needs_approval_agrees_with_a_scan_of_the_registry() {
        let scan = |action: &str| {
            let canon = policy::canonical(action);
            let known: Vec<_> = ops::ACTIONS
                .iter()
                .filter(|a| policy::canonical(a.name) == canon)
                .collect();
            if known.is_empty() {
                !READ_VERBS
                    .iter()
                    .any(|verb| canon.starts_with(&verb.to_ascii_lowercase()))
            } else {
                known.iter().any(|a| a.chargeable)
            }
        };
        let mut names: Vec<String> = Vec::new();
        for a in ops::ACTIONS {
            names.push(a.name.to_string());
            names.push(a.name.to_ascii_uppercase());
            names.push(format!(" {}_", a.name.to_ascii_lowercase()));
            names.push(format!("{}s", a.name));
            names.push(a.name[..a.name.len() - 1].to_string());
        }
        names.extend(
            ["", "_", "Describe", "describex", "Zzz", "CopyImage", "9Run"].map(String::from),
        );
        for name in &names {
            assert_eq!(needs_approval(name), scan(name), "{name:?}");
        }
    }

    #[test]
    fn chargeable_detection_ignores_case_and_covers_the_registry() {
        for a in ops::ACTIONS.iter().filter(|a| a.chargeable) {
            assert!(needs_approval(a.name), "{}", a.name);
            assert!(needs_approval(&a.name.to_ascii_lowercase()), "{}", a.name);
        }
        for name in [
            "runinstances",
            "RUNINSTANCES",
            " Run_Instances",
            "CreateNatGateway",
            "createnatgateway",
            "PurchaseReservedInstancesOffering",
            "RenewInstance",
            "AllocateDedicatedHosts",
            // Unregistered and not a read: default-deny.
            "ModifyAutoProvisioningGroup",
            "CopySnapshot",
            "ImportImage",
            "ReActivateInstances",
            "ReplaceSystemDisk",
            "ModifyInstanceVncPasswd",
            "StartImagePipelineExecution",
            "ModifyNatGatewaySpec",
            "ConvertNatPublicIpToEip",
        ] {
            assert!(needs_approval(name), "{name}");
        }
        for name in [
            "DescribeInstances",
            "describeprice",
            "RunCommand",
            "runcommand",
            "CreateSecurityGroup",
            "CreateVpc",
            "DeleteInstances",
            "StartInstance",
            // Registered, and free (a StopCharging start is asked by `resumes_billing`).
            "ModifyInstanceAttribute",
            "StartInstances",
            "StopInstances",
            "DescribeDedicatedHosts",
            "ListTagKeys",
            "GetInstanceScreenshot",
            "QueryOrders",
        ] {
            assert!(!needs_approval(name), "{name}");
        }
    }
}
