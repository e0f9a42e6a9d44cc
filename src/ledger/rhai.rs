//! The ledger's script functions: `keep(id)`, `release(id)`, `ledger()` and `scope(|| { ... })`.
//!
//! The host calls [`register`] once while building its engine. `scope` releases its block's
//! resources on every way out of the block (value, `throw`, uncatchable termination such as
//! Ctrl-C); only a panic skips it, and then the journal is left for `ecsh cleanup`.
//! Nothing here talks to the cloud except through [`Ledger::close_scope`].

use super::state::Holding;
use super::Ledger;
use ::rhai::{Array, Dynamic, Engine, EvalAltResult, FnPtr, Map, NativeCallContext, Position};
use std::rc::Rc;

type RResult<T> = Result<T, Box<EvalAltResult>>;

/// Decides whether `keep(id)` (with its `for` duration, if given) may go ahead before anything
/// is retained: keeping resources running is a spend decision, and the host's guard makes it.
pub type KeepGate = Rc<dyn Fn(&Ledger, &str, Option<String>) -> RResult<()>>;

/// What the ledger tells the user (a lease set or cleared by `keep`).
pub type Say = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

/// Registers `keep`, `release`, `ledger` and `scope` on `engine`, keeping without asking anyone
/// (for engines without a guard). See [`register_with_keep_gate`].
pub fn register(engine: &mut Engine, ledger: Ledger, rt: tokio::runtime::Handle, say: Say) {
    register_with_keep_gate(engine, ledger, rt, Rc::new(|_, _, _| Ok(())), say);
}

/// Registers `keep(id)`, `keep(id, #{ "for": "24h" })`, `release`, `ledger` and `scope` on
/// `engine`; `gate` approves each keep first, then the ledger retains it and sets its lease.
/// `rt` runs the releases; the engine must run on a thread that is not a worker of that runtime
/// (block_on would panic there).
pub fn register_with_keep_gate(
    engine: &mut Engine,
    ledger: Ledger,
    rt: tokio::runtime::Handle,
    gate: KeepGate,
    say: Say,
) {
    let keep = {
        let (l, handle) = (ledger.clone(), rt.clone());
        Rc::new(
            move |id: &str, duration: Option<String>| -> RResult<Array> {
                gate(&l, id, duration.clone())?;
                let for_ = match duration {
                    None => None,
                    Some(text) => {
                        let minutes =
                            crate::guard::runtime::parse_duration(&text).map_err(|e| {
                                script_error(
                                    "InvalidOption",
                                    format!("keep `for`: {e}"),
                                    Position::NONE,
                                )
                            })?;
                        Some(std::time::Duration::from_secs_f64(minutes * 60.0))
                    }
                };
                let (ids, notes) = handle
                    .block_on(l.keep_for(id, for_))
                    .map_err(|e| script_error("NotTracked", e.to_string(), Position::NONE))?;
                for note in notes {
                    say(&format!("keep: {note}"));
                }
                Ok(ids.into_iter().map(Dynamic::from).collect())
            },
        )
    };
    let k = keep.clone();
    engine.register_fn("keep", move |id: &str| -> RResult<Array> { k(id, None) });
    engine.register_fn("keep", move |id: &str, options: Map| -> RResult<Array> {
        let mut duration = None;
        for (key, value) in options {
            if key.as_str() != "for" {
                return Err(script_error(
                    "InvalidOption",
                    format!("keep accepts only the option `for` (how long to keep it running, e.g. \"24h\"), not `{key}`"),
                    Position::NONE,
                ));
            }
            duration = Some(match value.clone().into_string() {
                Ok(text) => text,
                Err(_) if value.is_int() => value.to_string(),
                Err(_) => {
                    return Err(script_error(
                        "InvalidOption",
                        "keep's `for` is a duration such as \"30m\", \"24h\" or \"7d\"".into(),
                        Position::NONE,
                    ))
                }
            });
        }
        keep(id, duration)
    });

    let l = ledger.clone();
    engine.register_fn("ledger", move || -> Array { listing(&l) });

    let (l, handle) = (ledger.clone(), rt.clone());
    engine.register_fn(
        "release",
        move |ctx: NativeCallContext, id: &str| -> RResult<Array> {
            let report = handle
                .block_on(l.release_now(id))
                .map_err(|e| script_error("NotTracked", e.to_string(), ctx.call_position()))?;
            if let Some(f) = report.failed.first() {
                return Err(script_error(
                    "ReleaseFailed",
                    format!(
                        "{} {} was not released: {}: {} (the run retries at its end)",
                        f.kind.label(),
                        f.id,
                        f.code,
                        f.message
                    ),
                    ctx.call_position(),
                ));
            }
            Ok(report
                .released
                .into_iter()
                .map(|(_, id)| Dynamic::from(id))
                .collect())
        },
    );

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::journal::{self, Record};
    use crate::ledger::{Cloud, LedgerOptions, ReleasePolicy};
    use crate::rpc::{Client, ClientConfig, Credentials};
    use std::sync::Arc;

    /// A ledger whose scopes create nothing, so no release reaches the (unreachable) endpoint.
    fn setup() -> (Engine, Ledger, tokio::runtime::Runtime, tempfile::TempDir) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let mut config = ClientConfig::new(Credentials::new("LTAIunused", "unused"), "cn-hangzhou");
        config.endpoint_override = Some("http://127.0.0.1:9".into());
        let cloud: Arc<dyn Cloud> = Arc::new(Client::new(config).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::start(
            cloud,
            LedgerOptions {
                journal_dir: dir.path().to_path_buf(),
                default_region: "cn-hangzhou".into(),
                target: None,
                label: "test".into(),
                policy: ReleasePolicy::default(),
                home: None,
                lease: crate::ledger::lease::LeasePolicy { length: None },
                store: None,
            },
        )
        .unwrap();
        let mut engine = Engine::new();
        register(
            &mut engine,
            ledger.clone(),
            rt.handle().clone(),
            std::sync::Arc::new(|_: &str| {}),
        );
        (engine, ledger, rt, dir)
    }

    #[test]
    fn scope_returns_its_value_and_nests() {
        let (engine, ledger, _rt, _dir) = setup();
        let v: i64 = engine
            .eval("let x = 40; scope(|| { scope(|| x + 1) + 1 })")
            .unwrap();
        assert_eq!(v, 42);
        let records = journal::read(&ledger.journal_path()).unwrap();
        let opened: Vec<(u32, Option<u32>)> = records
            .iter()
            .filter_map(|r| match r {
                Record::ScopeOpen { scope, parent, .. } => Some((*scope, *parent)),
                _ => None,
            })
            .collect();
        assert_eq!(opened, [(0, None), (1, Some(0)), (2, Some(1))]);
        let closed = records
            .iter()
            .filter(|r| matches!(r, Record::ScopeClose { .. }))
            .count();
        assert_eq!(closed, 2);
    }

    #[test]
    fn a_throw_inside_a_scope_still_closes_it_and_can_be_caught() {
        let (engine, ledger, _rt, _dir) = setup();
        let v: String = engine
            .eval(r#"let r = "not caught"; try { scope(|| { throw "boom"; }); } catch (e) { r = e; } r"#)
            .unwrap();
        assert_eq!(v, "boom");
        let records = journal::read(&ledger.journal_path()).unwrap();
        assert!(records.contains(&Record::ScopeClose { scope: 1 }));
    }

    #[test]
    fn keeping_what_the_run_did_not_create_is_a_catchable_error() {
        let (engine, _ledger, _rt, _dir) = setup();
        let code: String = engine
            .eval(r#"let r = ""; try { keep("i-someone-elses"); } catch (e) { r = e.code; } r"#)
            .unwrap();
        assert_eq!(code, "NotTracked");
        let n: i64 = engine.eval("ledger().len()").unwrap();
        assert_eq!(n, 0);
    }
}
