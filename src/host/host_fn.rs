//! What a row of the functions table is: [`HostFn`] (a script function's name, action,
//! options, docs and [`Handler`]), with the doc lines help and `docs/functions.md` show for it.
//! The rows themselves are in `functions.rs`; the Rust handlers in `handlers.rs`.

use super::errors::HostError;
use super::options::{Checked, Opt};
use super::Host;
use crate::ops;
use serde_json::Value;

/// How a function does its work.
#[derive(Clone, Copy)]
pub enum Handler {
    /// One API call of the function's action (every page when it pages), then `Post`.
    Api(Post),
    /// Rust code for functions that do more than one call.
    Custom(fn(&Host, &Checked) -> Result<Value, HostError>),
    /// Written in Rhai in `stdlib/`.
    Stdlib,
    /// Positional `(query [, product])`: doc_search and search_and_format.
    Search,
    /// Registered by the module that owns it (`call_api`, `warn`, `check_options` by the engine;
    /// `keep`, `ledger`, `scope` by the ledger); the row documents its positional parameters
    /// (its `options`, in order) for help, `check` and docs/functions.md.
    Builtin,
}

/// What an `Api` function returns from the response.
#[derive(Clone, Copy)]
pub enum Post {
    Whole,
    /// Adds `MemoryGB` to each recommended type.
    MemoryGb,
    /// One field of the response (an id).
    Field(&'static str),
    /// Adds `DecodedOutput` to each invocation result.
    DecodedOutput,
}

/// A rule between options, checked after their types.
pub type Rule = fn(&Checked) -> Result<(), HostError>;

pub struct HostFn {
    pub name: &'static str,
    /// Where the seed describes it (`"1. Spec Recommendation / Lookup"`), or `ecsh`.
    pub section: &'static str,
    /// The registry entry it calls (`Some(&A::RUN_INSTANCES)`), or `None` for a flow.
    pub action: Option<&'static ops::Action>,
    pub doc: &'static str,
    pub options: &'static [Opt],
    /// Parameters always sent.
    pub fixed: &'static [(&'static str, &'static str)],
    /// Keys a policy refuses, with the reason.
    pub refused: &'static [(&'static str, &'static str)],
    /// Rules between options that the types alone cannot say.
    pub validate: Option<Rule>,
    /// Rhai return type, for signatures.
    pub returns: &'static str,
    pub result: &'static str,
    pub example: &'static str,
    pub handler: Handler,
}

impl HostFn {
    /// True when the function takes positional parameters (its `options`, in order) rather
    /// than one options map.
    pub fn positional(&self) -> bool {
        matches!(self.handler, Handler::Search | Handler::Builtin)
    }

    /// The positional parameters as signatures show them: `id: string`, `[params: map]`.
    pub fn positional_params(&self) -> Vec<String> {
        self.options
            .iter()
            .map(|o| {
                let p = format!("{}: {}", o.name, o.kind.name());
                if o.required {
                    p
                } else {
                    format!("[{p}]")
                }
            })
            .collect()
    }

    /// True when the function's action pages, so it takes `page_size` / `max_items`.
    pub fn paged(&self) -> bool {
        self.action().is_some_and(|a| a.paging != ops::Paging::None)
    }

    pub fn action(&self) -> Option<&'static ops::Action> {
        self.action
    }
}

pub fn describe_option(o: &Opt) -> String {
    let mut s = format!("{} ({}", o.name, o.kind.name());
    if o.required {
        s.push_str(", required");
    }
    if let Some(d) = o.default {
        s.push_str(&format!(", default {}", d.show()));
    }
    s.push_str(&format!("): {}", o.doc));
    s
}

/// One table row with no fixed parameters, refusals or rules (set those by struct update).
#[allow(clippy::too_many_arguments)]
pub(super) const fn f(
    name: &'static str,
    section: &'static str,
    action: Option<&'static ops::Action>,
    doc: &'static str,
    options: &'static [Opt],
    result: &'static str,
    example: &'static str,
    handler: Handler,
) -> HostFn {
    HostFn {
        name,
        section,
        action,
        doc,
        options,
        fixed: &[],
        refused: &[],
        validate: None,
        returns: "map",
        result,
        example,
        handler,
    }
}
