//! The one door from Rhai to the cloud. Every call a script makes — typed seed functions, the
//! stdlib flows, the raw `call_api` — goes through [`Gateway::call`], so the cost guard and the
//! scope ledger can hook in here and see everything.
//!
//! It flattens JSON parameters per the registry's `json_params`, runs the async client on a
//! current-thread runtime that the script's own (plain, non-runtime) thread drives — so a call
//! costs no hand-off between threads (BENCHMARKS.md, client overhead) — races every call and
//! every sleep against the cancel flag, and maps failures to [`HostError`]. It does not decide
//! anything about options, waiting or paging.

use super::errors::HostError;
use crate::guard::{block, Admission, Guard, GuardError};
use crate::ledger::{HourlyCost, Ledger, Outcome};
use crate::ops::{self, Product};
use crate::rpc::{self, CallError, Client};
use serde_json::Value;
use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Handle;

/// How often a blocked call looks at the cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(25);

pub struct Gateway {
    client: Client,
    /// The session's multi-thread runtime: the ledger's releases run there.
    runtime: Handle,
    /// Where this gateway's own calls and sleeps run (see the module doc); `None` only if a
    /// current-thread runtime could not be built, and then the session's runtime serves.
    local: Option<Local>,
    cancel: Arc<AtomicBool>,
    calls: Cell<u64>,
    guard: Arc<Guard>,
    /// Journals every creating call before it is sent (see `crate::ledger`).
    ledger: Option<Ledger>,
    progress: Option<super::ProgressSink>,
    simulated: super::SimulatedCommands,
    /// Private keys taken out of CreateKeyPair answers (see `host::keys`).
    keys: super::keys::PrivateKeys,
}

impl Gateway {
    /// `runtime` must be a handle to a multi-thread runtime, and the gateway must not be used
    /// from inside one of its workers (`block_on` would panic there).
    pub fn new(
        client: Client,
        runtime: Handle,
        cancel: Arc<AtomicBool>,
        guard: Arc<Guard>,
    ) -> Gateway {
        let local = Local::new(&client);
        Gateway {
            client,
            runtime,
            local,
            cancel,
            calls: Cell::new(0),
            guard,
            ledger: None,
            progress: None,
            simulated: super::SimulatedCommands::default(),
            keys: super::keys::PrivateKeys::default(),
        }
    }

    /// The private keys of the key pairs this session created, not yet written.
    pub fn private_keys(&self) -> &super::keys::PrivateKeys {
        &self.keys
    }

    /// Counts simulated commands into `set` (the session's, for the run's summary).
    pub fn with_simulated(mut self, set: super::SimulatedCommands) -> Gateway {
        self.simulated = set;
        self
    }

    /// Notes a finished invocation result: one whose `Simulated` is true never ran.
    pub fn note_result(&self, result: &Value) {
        if result.get("Simulated").and_then(Value::as_bool) == Some(true) {
            let key = format!(
                "{}/{}",
                result["InvokeId"].as_str().unwrap_or(""),
                result["InstanceId"].as_str().unwrap_or("")
            );
            if let Ok(mut set) = self.simulated.lock() {
                set.insert(key);
            }
        }
    }

    /// Reports waits to `progress` (a spinner on a terminal).
    pub fn with_progress(mut self, progress: Option<super::ProgressSink>) -> Gateway {
        self.progress = progress;
        self
    }

    /// Hands one step of a wait to the progress display, if there is one.
    pub fn report(&self, event: &super::Progress) {
        if let Some(progress) = &self.progress {
            progress(event);
        }
    }

    /// Tracks what calls create in `ledger`: intent journalled before sending, ids after.
    pub fn with_ledger(mut self, ledger: Option<Ledger>) -> Gateway {
        self.ledger = ledger;
        self
    }

    pub fn ledger(&self) -> Option<&Ledger> {
        self.ledger.as_ref()
    }

    pub fn runtime(&self) -> &Handle {
        &self.runtime
    }

    /// The client this gateway sends through (the stdlib's cleanup without a ledger releases
    /// through it: `host::cleanup`).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Calls `action` of `product` with `params` (a JSON object; arrays and objects are
    /// flattened as the API expects).
    ///
    /// The request is flattened once into its canonical wire form (malformed or duplicate
    /// keys refused); the guard judges that form, the ledger adds its ClientToken and run tag
    /// to it, and exactly that is sent — so what was approved is what the service receives.
    pub fn call(
        &self,
        product: Product,
        action: &str,
        params: serde_json::Map<String, Value>,
    ) -> Result<Value, HostError> {
        let json_params = validate_action(product, action)?;
        let mut request = canonical(action, &params, json_params)?;
        // The guard: policies, quote and approval; strips ecsh-only options. Nothing is sent
        // unless it admits the request.
        let admission = self.admit(product, action, &mut request)?;
        // Journalled (with its ClientToken and the run tag added) before it is sent.
        let ledger_error = journal_error;
        let intent = match &self.ledger {
            Some(l) => l
                .before_send(product, action, &mut request, hourly_cost(&admission))
                .map_err(ledger_error)?,
            None => None,
        };
        let flat = rpc::flatten(&request, &[]).map_err(|e| malformed(action, e))?;
        self.calls.set(self.calls.get() + 1);
        let client = self.local.as_ref().map_or(&self.client, |l| &l.client);
        let mut result = self.block_on(client.call(product, action, flat));
        // A private key goes into the store before anything (journal, script) sees the answer.
        if let Ok(Ok(answer)) = &mut result {
            self.keys.take(answer);
        }
        if let (Some(l), Some(intent)) = (&self.ledger, intent) {
            let outcome = match &result {
                Ok(r) => Outcome::of_call(r),
                Err(e) => Outcome::NoAnswer { error: e.message() },
            };
            l.after_send(intent, outcome).map_err(ledger_error)?;
        }
        result?.map_err(|e| match e {
            CallError::Api(api) => HostError::Api(api),
            other => HostError::Transport(format!("{product} {action}: {other}")),
        })
    }

    /// Calls a registry entry (`gateway.send(&A::DESCRIBE_INSTANCES, params)`): what the host's
    /// own code uses, so an action's name is written only in the registry.
    pub fn send(
        &self,
        action: &ops::Action,
        params: serde_json::Map<String, Value>,
    ) -> Result<Value, HostError> {
        self.call(action.product, action.name, params)
    }

    /// `ecsh call --dry-run=signed`: everything [`Gateway::call`] does before sending — the
    /// canonical request, the guard's approval, the journalled intent with ClientToken and run
    /// tag — then the signed request instead of the answer. Whoever sends it later creates
    /// what the intent describes, so the run stays unfinished for `ecsh cleanup` to find by tag.
    pub fn prepare_signed(
        &self,
        product: Product,
        action: &str,
        params: serde_json::Map<String, Value>,
    ) -> Result<rpc::PreparedRequest, HostError> {
        let json_params = validate_action(product, action)?;
        let mut request = canonical(action, &params, json_params)?;
        let admission = self.admit(product, action, &mut request)?;
        if let Some(l) = &self.ledger {
            l.before_send(product, action, &mut request, hourly_cost(&admission))
                .map_err(journal_error)?;
        }
        let flat = rpc::flatten(&request, &[]).map_err(|e| malformed(action, e))?;
        self.client
            .prepare(product, action, flat)
            .map_err(|e| HostError::Transport(format!("{product} {action}: {e}")))
    }

    /// The guard's verdict on `request` (its reads for the quote go back through this gateway,
    /// which admits reads without asking).
    fn admit(
        &self,
        product: Product,
        action: &str,
        request: &mut serde_json::Map<String, Value>,
    ) -> Result<Admission, HostError> {
        self.guard
            .admit(product, action, request, &mut |p: Product, a: &str, q| {
                self.call(p, a, q).map_err(|e| e.to_string())
            })
            .map_err(guard_error)
    }

    /// Quotes and asks now for a request to be sent later (see `Guard::preapprove`): the
    /// same canonical request and reads as [`Gateway::call`], nothing sent but the quote's reads.
    pub fn preapprove(
        &self,
        product: Product,
        action: &str,
        params: serde_json::Map<String, Value>,
        details: &[(String, String)],
    ) -> Result<(), HostError> {
        let json_params = validate_action(product, action)?;
        let mut request = canonical(action, &params, json_params)?;
        self.guard
            .preapprove(
                product,
                action,
                &mut request,
                details,
                &mut |p: Product, a: &str, q| self.call(p, a, q).map_err(|e| e.to_string()),
            )
            .map(|_| ())
            .map_err(guard_error)
    }

    /// The guard behind this gateway (the host asks it about `keep`).
    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    /// Sleeps for `d`, or less when the run is cancelled (then `Err(Interrupted)`).
    pub fn sleep(&self, d: Duration) -> Result<(), HostError> {
        // The timer is created inside the runtime (creating it outside panics).
        self.block_on(async move { tokio::time::sleep(d).await })
    }

    /// `Err(Interrupted)` once the cancel flag is set.
    pub fn check_cancel(&self) -> Result<(), HostError> {
        if self.cancel.load(Ordering::Relaxed) {
            Err(HostError::Interrupted)
        } else {
            Ok(())
        }
    }

    /// How many API calls went out through this gateway.
    pub fn call_count(&self) -> u64 {
        self.calls.get()
    }

    fn block_on<F: Future>(&self, fut: F) -> Result<F::Output, HostError> {
        self.check_cancel()?;
        let cancel = self.cancel.clone();
        let raced = async move {
            tokio::select! {
                out = fut => Ok(out),
                _ = cancelled(cancel) => Err(HostError::Interrupted),
            }
        };
        match &self.local {
            Some(local) => local.runtime.block_on(raced),
            None => self.runtime.block_on(raced),
        }
    }
}

/// A current-thread runtime and a client with its own connection pool (pooled connections
/// belong to the runtime that opened them, so the session's client is not shared with it).
struct Local {
    runtime: tokio::runtime::Runtime,
    client: Client,
}

impl Local {
    fn new(client: &Client) -> Option<Local> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        let client = client.detached().ok()?;
        Some(Local { runtime, client })
    }
}

/// The code of a request whose parameters cannot be sent (`DataDisk.01.Size`, a key given
/// twice, a list inside a list).
pub const MALFORMED: &str = "Refused.MalformedRequest";

/// The request in its one canonical wire form (`Name.N.Field` = text), as a JSON object of
/// strings for the guard and the ledger; keys the service could read differently are refused.
fn canonical(
    action: &str,
    params: &serde_json::Map<String, Value>,
    json_params: &[&str],
) -> Result<serde_json::Map<String, Value>, HostError> {
    Ok(rpc::flatten(params, json_params)
        .map_err(|e| malformed(action, e))?
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect())
}

fn malformed(action: &str, e: rpc::ParamError) -> HostError {
    HostError::Refused {
        code: MALFORMED,
        message: format!(
            "{} was not sent: its parameters cannot be sent as they are: {e}",
            block::escape(action)
        ),
    }
}

/// The journal could not be written, or the ledger refused the request (a script touching
/// the run tag: `Refused.RunTag`), so the request was not sent. A team ledger that cannot be
/// reached has its own code: a script (or a retry loop) can wait for the database to come back.
fn journal_error(e: crate::ledger::LedgerError) -> HostError {
    let code = match e {
        crate::ledger::LedgerError::Refused { .. } => "Refused.RunTag",
        crate::ledger::LedgerError::Unreachable { .. } => "Refused.LedgerUnreachable",
        _ => "Refused.Journal",
    };
    HostError::Refused {
        code,
        message: e.to_string(),
    }
}

/// A refusal by the guard as a script sees it: its own code, and the message once.
pub fn guard_error(e: GuardError) -> HostError {
    match e {
        GuardError::InvalidOption(m) => HostError::InvalidOption(m),
        GuardError::Interrupted { .. } => HostError::Interrupted,
        refused => {
            let code = refused.code();
            // The code already says "Refused"; don't say it twice.
            let text = refused.to_string();
            HostError::Refused {
                code,
                message: text.strip_prefix("refused: ").unwrap_or(&text).to_string(),
            }
        }
    }
}

/// The guard's hourly quote of an approved request, for the ledger's summary.
fn hourly_cost(admission: &Admission) -> Option<HourlyCost> {
    match admission {
        Admission::Approved(d) => d
            .hourly
            .zip(d.currency.clone())
            .map(|(amount, currency)| HourlyCost { amount, currency }),
        Admission::Free => None,
    }
}

async fn cancelled(flag: Arc<AtomicBool>) {
    while !flag.load(Ordering::Relaxed) {
        tokio::time::sleep(CANCEL_POLL).await;
    }
}

/// The JSON-string parameters of a known action; for an unknown one, checks that the name
/// could be an action at all (the guard decides later whether it may cost money).
pub fn validate_action(
    product: Product,
    action: &str,
) -> Result<&'static [&'static str], HostError> {
    if let Some(a) = ops::find(product, action) {
        return Ok(a.json_params);
    }
    if let Some(other) = ops::find_any(action) {
        return Err(HostError::UnknownAction(format!(
            "{action} is a {} action, not {product}; call_api(\"{}\", \"{action}\", …)",
            other.product, other.product
        )));
    }
    if let Some(known) = ops::ACTIONS
        .iter()
        .find(|a| a.product == product && a.name.eq_ignore_ascii_case(action))
    {
        // The service's names are case-sensitive; a variant is never what was meant, and
        // must not be judged as something else than the action it resembles.
        return Err(HostError::UnknownAction(format!(
            "'{}' is not a {product} action; action names are case-sensitive: did you mean '{}'?",
            block::escape(action),
            known.name
        )));
    }
    let well_formed = action.len() >= 3
        && action.len() <= 64
        && action.starts_with(|c: char| c.is_ascii_uppercase())
        && action.chars().all(|c| c.is_ascii_alphanumeric());
    if well_formed {
        return Ok(&[]);
    }
    let near = ops::suggest(Some(product), action)
        .map(|n| format!("; did you mean '{n}'?"))
        .unwrap_or_default();
    Err(HostError::UnknownAction(format!(
        "'{action}' is not a valid {product} action name (CamelCase letters and digits, e.g. DescribeInstances){near}"
    )))
}

/// Parses a product code for the raw `call_api`.
pub fn parse_product(code: &str) -> Result<Product, HostError> {
    Product::from_code(code).ok_or_else(|| {
        let valid: Vec<&str> = Product::ALL.iter().map(|p| p.code()).collect();
        HostError::UnknownAction(format!(
            "unknown product '{code}'; valid: {}",
            valid.join(", ")
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_actions_bring_their_json_params() {
        assert_eq!(
            validate_action(Product::Ecs, "DescribeInstances").unwrap()[0],
            "InstanceIds"
        );
    }

    #[test]
    fn unknown_but_well_formed_actions_pass_and_bad_names_do_not() {
        assert!(validate_action(Product::Ecs, "DescribeDedicatedHosts").is_ok());
        let e = validate_action(Product::Ecs, "describe instances").unwrap_err();
        assert_eq!(e.code(), "UnknownAction");
        assert!(
            e.to_string().contains("did you mean 'DescribeInstances'"),
            "{e}"
        );
    }

    #[test]
    fn a_registered_name_in_another_letter_case_is_refused() {
        for odd in ["RUNINSTANCES", "Runinstances", "runInstances"] {
            let e = validate_action(Product::Ecs, odd).unwrap_err().to_string();
            assert!(e.contains("did you mean 'RunInstances'"), "{e}");
        }
    }

    #[test]
    fn an_action_of_the_other_product_is_pointed_out() {
        // CreateVpc is also an ECS action (2014-05-26 still serves it); this one is VPC's alone.
        let e = validate_action(Product::Ecs, "DescribeVpcAttribute")
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a vpc action"), "{e}");
    }

    #[test]
    fn products_parse_case_insensitively_and_list_the_valid_ones() {
        assert_eq!(parse_product("VPC").unwrap(), Product::Vpc);
        let e = parse_product("ecz").unwrap_err().to_string();
        assert!(e.contains("valid: ecs, vpc"), "{e}");
    }
}
