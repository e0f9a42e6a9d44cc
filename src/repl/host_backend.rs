//! The REPL's [`Backend`] on the real host: the engine `host::engine::build` makes for scripts
//! (same functions, stdlib, limits and cancel flag), the runner's error rendering and its rule
//! against shadowing host functions, and the host's function table for help and completion.
//!
//! The session is a ledger scope: `:ledger`, `:cost` and the exit question read the run's
//! ledger; `:cleanup` closes the session's scope (releasing what it holds) and opens a fresh one.
//!
//! It adds nothing to what a script can do; it only adapts the host to the REPL's needs.

use super::catalog::{FunctionDoc, OptionDoc};
use super::Backend;
use crate::guard::decision;
use crate::host::engine::{self, HostEngine};
use crate::host::functions::{HostFn, TABLE};
use crate::host::options::{Opt, MAX_ITEMS, PAGE_SIZE, REGION};
use crate::host::runner;
use crate::host::{Host, Session};
use crate::ledger::summary::Line as SummaryLine;
use crate::ledger::{Ledger, ReleaseReport, ScopeId, Summary};
use rhai::{EvalAltResult, AST};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// The name errors give the REPL's entries (`repl:1:9: …`).
const SOURCE_NAME: &str = "repl";

/// The label of the REPL's own scope in the journal.
const SCOPE_LABEL: &str = "repl session";

pub struct HostBackend {
    built: HostEngine,
    session: Session,
    /// The session's ledger and the scope its resources are created in (replaced by
    /// `:cleanup`); `None` when the session tracks nothing.
    ledger: Option<(Ledger, ScopeId)>,
}

impl HostBackend {
    /// Builds the session's engine exactly as the script runner does, and opens the session's
    /// scope in its ledger.
    pub fn new(session: Session) -> anyhow::Result<HostBackend> {
        let host = Rc::new(Host::new(&session));
        let built = engine::build(host, session.cancel.clone(), &session.limits)
            .map_err(|e| anyhow::anyhow!("the stdlib failed to load: {e}"))?;
        let ledger = match session.ledger.clone() {
            Some(ledger) => {
                let scope = ledger
                    .open_scope(SCOPE_LABEL)
                    .map_err(|e| anyhow::anyhow!("cannot open the session's ledger scope: {e}"))?;
                Some((ledger, scope))
            }
            None => None,
        };
        Ok(HostBackend {
            built,
            session,
            ledger,
        })
    }

    fn summary(&self) -> Option<Summary> {
        self.ledger.as_ref().map(|(l, _)| l.summary())
    }
}

/// What `:ledger` and friends say when the session has no ledger.
const UNTRACKED: &str = "this session has no ledger: nothing it creates is tracked or released";

impl Backend for HostBackend {
    fn engine(&self) -> &rhai::Engine {
        &self.built.engine
    }

    fn engine_mut(&mut self) -> &mut rhai::Engine {
        &mut self.built.engine
    }

    fn prelude(&self) -> AST {
        // The stdlib is a global module of the engine: nothing to run first.
        AST::empty()
    }

    fn check(&self, entry: &AST) -> Result<(), String> {
        self.built.check_names(entry).map_err(|names| {
            names
                .iter()
                .map(|n| {
                    format!(
                        "fn {n} would replace the host function {n} everywhere (the stdlib included); rename yours (e.g. my_{n})"
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    fn documented(&self) -> Vec<FunctionDoc> {
        documented_functions()
    }

    fn render_error(&self, err: &EvalAltResult, _source: &str) -> String {
        runner::render_error(&runner::runtime_failure(SOURCE_NAME, err))
    }

    fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.session.cancel.clone()
    }

    fn secret_values(&self) -> Vec<crate::secret::Secret> {
        self.session.client.secret_values()
    }

    fn held(&self) -> usize {
        self.summary().map_or(0, |s| s.left().count())
    }

    fn ledger_report(&self) -> String {
        let Some(summary) = self.summary() else {
            return UNTRACKED.into();
        };
        if summary.lines.is_empty() {
            return format!("run {}: this session has created nothing yet", summary.run);
        }
        let mut out = format!("run {}:\n", summary.run);
        for line in &summary.lines {
            out.push_str(&format!("{line}\n"));
        }
        out.push_str(&running_cost(&summary));
        out
    }

    fn cost_report(&self) -> String {
        let decisions = decision::summary(&self.session.guard.decisions());
        let decisions = if decisions.is_empty() {
            "Cost decisions: none yet (nothing chargeable was attempted)\n".to_string()
        } else {
            decisions
        };
        let running = self
            .summary()
            .map_or_else(|| format!("{UNTRACKED}\n"), |s| running_cost(&s));
        format!("{running}{decisions}")
    }

    fn release_all(&mut self) -> String {
        let Some((ledger, scope)) = self.ledger.as_mut() else {
            return UNTRACKED.into();
        };
        let closed = self.session.runtime.block_on(ledger.close_scope(*scope));
        let reopened = ledger.open_scope(SCOPE_LABEL);
        let after = ledger.summary();
        let mut out = match closed {
            Ok(report) => release_text(&report, &after),
            Err(e) => format!("release failed: {e}\nretry with: {}", after.retry_command()),
        };
        match reopened {
            Ok(fresh) => *scope = fresh,
            Err(e) => out.push_str(&format!(
                "\nwarning: the session could not open a new ledger scope ({e}); what it creates from now on is released when it ends"
            )),
        }
        out
    }

    fn keep_all(&mut self) -> String {
        let Some((ledger, _)) = self.ledger.as_ref() else {
            return UNTRACKED.into();
        };
        let kept = ledger.keep_all().and_then(|ids| {
            let notes = self
                .session
                .runtime
                .block_on(ledger.settle_leases(&ids, None))?;
            Ok((ids, notes))
        });
        match kept {
            Ok((ids, _)) if ids.is_empty() => "nothing to keep".into(),
            Ok((ids, notes)) => format!(
                "kept (still running, and still costing money): {}{}",
                ids.join(", "),
                notes.iter().map(|n| format!("\n  {n}")).collect::<String>()
            ),
            Err(e) => format!("could not mark the resources as kept: {e}"),
        }
    }

    fn finish(&mut self) -> String {
        let Some((ledger, _)) = self.ledger.as_ref() else {
            return String::new();
        };
        match self.session.runtime.block_on(ledger.finish()) {
            Ok((_, summary)) if summary.lines.is_empty() => String::new(),
            Ok((_, summary)) => summary.to_string(),
            Err(e) => format!(
                "the session's ledger could not finish: {e}\nrelease what is left with: {}",
                ledger.summary().retry_command()
            ),
        }
    }
}

/// The hourly rate of what is still held and of what is kept, per currency.
fn running_cost(summary: &Summary) -> String {
    let mut out = format!("held: {}\n", rate(summary.left().collect()));
    let kept: Vec<&SummaryLine> = summary.retained().collect();
    if !kept.is_empty() {
        out.push_str(&format!("kept: {}\n", rate(kept)));
    }
    out
}

/// `2 resources, ~CNY 0.8360/h (1 not priced)`, or `nothing`.
fn rate(lines: Vec<&SummaryLine>) -> String {
    if lines.is_empty() {
        return "nothing".into();
    }
    let mut by_currency: BTreeMap<&str, f64> = BTreeMap::new();
    let mut unpriced = 0;
    for line in &lines {
        match &line.cost {
            Some(c) => *by_currency.entry(c.currency.as_str()).or_default() += c.amount,
            None => unpriced += 1,
        }
    }
    let mut text = if lines.len() == 1 {
        "1 resource".to_string()
    } else {
        format!("{} resources", lines.len())
    };
    for (currency, amount) in &by_currency {
        text.push_str(&format!(", ~{currency} {amount:.4}/h"));
    }
    if unpriced > 0 {
        text.push_str(&format!(" ({unpriced} not priced: free, or not quoted)"));
    }
    text
}

/// What a release did, one line per resource that could not be released.
fn release_text(report: &ReleaseReport, after: &Summary) -> String {
    let mut out = String::new();
    if report.released.is_empty() && report.failed.is_empty() {
        out.push_str("nothing to release\n");
    }
    if !report.released.is_empty() {
        let ids: Vec<String> = report
            .released
            .iter()
            .map(|(kind, id)| format!("{} {id}", kind.label()))
            .collect();
        out.push_str(&format!("released: {}\n", ids.join(", ")));
    }
    for f in &report.failed {
        out.push_str(&format!(
            "NOT released: {} {} ({}): {}: {}\n",
            f.kind.label(),
            f.id,
            f.region,
            f.code,
            f.message
        ));
    }
    if !report.failed.is_empty() {
        out.push_str(&format!("retry with: {}\n", after.retry_command()));
    }
    out.trim_end().to_string()
}

/// Every documented script function as help shows it: the REPL's `help()`, `ecsh help` and
/// docs/functions.md all read this.
pub fn documented_functions() -> Vec<FunctionDoc> {
    TABLE.iter().map(function_doc).collect()
}

/// A table entry as the REPL shows it.
fn function_doc(f: &HostFn) -> FunctionDoc {
    let positional = f.positional();
    let mut options: Vec<OptionDoc> = f.options.iter().map(option_doc).collect();
    if !positional {
        options.push(option_doc(&REGION));
    }
    if f.paged() {
        options.extend([option_doc(&PAGE_SIZE), option_doc(&MAX_ITEMS)]);
    }
    FunctionDoc {
        name: f.name.to_string(),
        section: f.section.to_string(),
        summary: first_sentence(f.doc),
        doc: f.doc.to_string(),
        params: if positional {
            f.positional_params()
        } else {
            Vec::new()
        },
        positional,
        options,
        returns: f.returns.to_string(),
        result: f.result.to_string(),
        example: f.example.to_string(),
    }
}

fn option_doc(o: &Opt) -> OptionDoc {
    OptionDoc {
        name: o.name.to_string(),
        ty: o.kind.name().to_string(),
        default: o.default.map(|d| d.show()),
        required: o.required,
        doc: o.doc.to_string(),
    }
}

/// The first sentence: up to a ". " followed by a capital, not counting "e.g." and "i.e.".
fn first_sentence(doc: &str) -> String {
    let end = doc.match_indices(". ").map(|(i, _)| i).find(|&i| {
        let next_is_capital = doc[i + 2..].starts_with(|c: char| c.is_uppercase());
        let abbreviation = ["e.g", "i.e", "etc"].iter().any(|a| doc[..i].ends_with(a));
        next_is_capital && !abbreviation
    });
    match end {
        Some(i) => doc[..=i].to_string(),
        None => doc.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(cost: Option<f64>) -> SummaryLine {
        SummaryLine {
            kind: crate::ops::ResourceKind::Instance,
            id: "i-1".into(),
            region: "cn-hangzhou".into(),
            detail: None,
            cost: cost.map(|amount| crate::ledger::HourlyCost {
                amount,
                currency: "CNY".into(),
            }),
            fate: crate::ledger::summary::Fate::Held { error: None },
        }
    }

    #[test]
    fn rates_add_up_per_currency() {
        let (a, b, free) = (line(Some(0.5)), line(Some(0.336)), line(None));
        assert_eq!(rate(vec![]), "nothing");
        assert_eq!(
            rate(vec![&free]),
            "1 resource (1 not priced: free, or not quoted)"
        );
        assert_eq!(
            rate(vec![&a, &b, &free]),
            "3 resources, ~CNY 0.8360/h (1 not priced: free, or not quoted)"
        );
    }

    #[test]
    fn summaries_are_first_sentences() {
        assert_eq!(
            first_sentence("Lists families (e.g. ecs.g7). Pages. More."),
            "Lists families (e.g. ecs.g7)."
        );
        assert_eq!(first_sentence("One only"), "One only");
    }

    #[test]
    fn every_table_function_is_documented_for_the_repl() {
        for f in TABLE {
            let d = function_doc(f);
            assert!(!d.summary.is_empty(), "{} has no summary", f.name);
            assert!(!d.section.is_empty(), "{} has no section", f.name);
            for o in f.options {
                assert!(d.option(o.name).is_some(), "{}: {} missing", f.name, o.name);
            }
        }
        let price = TABLE
            .iter()
            .find(|f| f.name == "describe_price")
            .map(function_doc)
            .expect("describe_price is in the table");
        assert!(price.option("instance_type").is_some());
        assert!(price.option("region").is_some());
    }
}
