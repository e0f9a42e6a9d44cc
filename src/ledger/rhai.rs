//! The ledger's script functions: `keep(id)`, `ledger()` and `scope(|| { ... })`.
//!
//! The host calls [`register`] once while building its engine. `scope` releases its block's
//! resources on every way out of the block (value, `throw`, uncatchable termination such as
//! Ctrl-C); only a panic skips it, and then the journal is left for `ecsh cleanup`.
//! Nothing here talks to the cloud except through [`Ledger::close_scope`].

use super::state::Holding;
use super::Ledger;
use ::rhai::{Array, Dynamic, Engine, EvalAltResult, FnPtr, Map, NativeCallContext, Position};

type RResult<T> = Result<T, Box<EvalAltResult>>;

/// Registers `keep`, `ledger` and `scope` on `engine`. `rt` runs the releases; the engine must
/// run on a thread that is not a worker of that runtime (block_on would panic there).
pub fn register(engine: &mut Engine, ledger: Ledger, rt: tokio::runtime::Handle) {
    let l = ledger.clone();
    engine.register_fn("keep", move |id: &str| -> RResult<Array> {
        l.keep(id)
            .map(|ids| ids.into_iter().map(Dynamic::from).collect())
            .map_err(|e| script_error("NotTracked", e.to_string(), Position::NONE))
    });

    let l = ledger.clone();
    engine.register_fn("ledger", move || -> Array { listing(&l) });

    engine.register_fn(
        "scope",
        move |ctx: NativeCallContext, body: FnPtr| -> RResult<Dynamic> {
            let id = ledger
                .open_scope("scope")
                .map_err(|e| script_error("LedgerError", e.to_string(), ctx.call_position()))?;
            let result = body.call_within_context::<Dynamic>(&ctx, ());
            let released = rt.block_on(ledger.close_scope(id));
            match (result, released) {
                (Err(e), _) => Err(e),
                (Ok(_), Err(e)) => Err(script_error("LedgerError", e.to_string(), ctx.call_position())),
                (Ok(_), Ok(report)) if !report.failed.is_empty() => {
                    let what: Vec<String> = report
                        .failed
                        .iter()
                        .map(|f| format!("{} {}: {}: {}", f.kind.label(), f.id, f.code, f.message))
                        .collect();
                    Err(script_error(
                        "ReleaseFailed",
                        format!(
                            "the scope ended but some of its resources could not be released (the run will retry at its end): {}",
                            what.join("; ")
                        ),
                        ctx.call_position(),
                    ))
                }
                (Ok(v), Ok(_)) => Ok(v),
            }
        },
    );
}

/// `ledger()`: one map per resource the run created, in creation order.
fn listing(ledger: &Ledger) -> Array {
    ledger
        .snapshot()
        .resources
        .iter()
        .map(|t| {
            let mut m = Map::new();
            m.insert("id".into(), t.id.clone().into());
            m.insert("kind".into(), t.kind.label().into());
            m.insert("region".into(), t.region.clone().into());
            m.insert("action".into(), t.action.clone().into());
            m.insert("scope".into(), (t.scope as i64).into());
            let status = match t.status {
                Holding::Held => "held",
                Holding::Deleting => "deleting",
                Holding::Released => "released",
                Holding::Kept => "kept",
            };
            m.insert("status".into(), status.into());
            Dynamic::from_map(m)
        })
        .collect()
}

/// A catchable error whose value is a map with `code` and `message`, like API errors.
fn script_error(code: &str, message: String, pos: Position) -> Box<EvalAltResult> {
    let mut m = Map::new();
    m.insert("code".into(), code.into());
    m.insert("message".into(), message.into());
    EvalAltResult::ErrorRuntime(m.into(), pos).into()
}
