//! Builds the Rhai engine of a session: limits, lockdown, the seed functions from the table
//! (one registration loop), the raw `call_api`, and the Rhai stdlib as a global module.
//!
//! Lockdown: no `eval`, no module resolver that reads files, `print`/`debug` to the session's
//! output, every limit set explicitly (debug builds otherwise allow a call depth of 8), and the
//! cancel flag checked on every operation. A user script may not define a function whose name
//! is a host or stdlib name, because a script function would shadow it even for the stdlib's
//! own calls ([`HostEngine::check_names`]).

use super::convert::{into_dynamic, map_to_json};
use super::errors::HostError;
use super::functions::{self, Handler, HostFn, TABLE};
use super::gateway::parse_product;
use super::{docs, options, Host};
use rhai::module_resolvers::DummyModuleResolver;
use rhai::{
    Dynamic, Engine, EvalAltResult, FuncRegistration, Map, Module, NativeCallContext, Scope, AST,
};
use serde_json::Value;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

type RResult<T> = Result<T, Box<EvalAltResult>>;

/// The stdlib sources, embedded in the binary, in load order.
pub const STDLIB: &[(&str, &str)] = &[
    (
        "stdlib/network.rhai",
        include_str!("../../stdlib/network.rhai"),
    ),
    (
        "stdlib/instances.rhai",
        include_str!("../../stdlib/instances.rhai"),
    ),
    (
        "stdlib/commands.rhai",
        include_str!("../../stdlib/commands.rhai"),
    ),
];

/// The raw API function. (Not `call`: Rhai reserves `call(fn_ptr, …)` for function pointers.)
pub const RAW_CALL: &str = "call_api";

/// The source name of the stdlib's AST (errors inside a flow say `stdlib`).
const STDLIB_SOURCE: &str = "stdlib";

/// Resource limits of the engine, so a runaway script stops with an error.
#[derive(Clone, Copy, Debug)]
pub struct EngineLimits {
    pub max_operations: u64,
    pub max_call_levels: usize,
    pub max_expr_depth: usize,
    pub max_function_expr_depth: usize,
    pub max_string_size: usize,
    pub max_array_size: usize,
    pub max_map_size: usize,
}

impl std::default::Default for EngineLimits {
    fn default() -> Self {
        EngineLimits {
            max_operations: 50_000_000,
            max_call_levels: 64,
            max_expr_depth: 64,
            max_function_expr_depth: 32,
            max_string_size: 1 << 20,
            max_array_size: 100_000,
            max_map_size: 10_000,
        }
    }
}

/// An engine with the host registered, plus the names scripts must not redefine.
pub struct HostEngine {
    pub engine: Engine,
    reserved: BTreeSet<String>,
}

impl HostEngine {
    /// Rejects a script that defines a function named like a host or stdlib function.
    /// Returns the offending names.
    pub fn check_names(&self, ast: &AST) -> Result<(), Vec<String>> {
        check_names(&self.reserved, ast)
    }
}

pub fn check_names(reserved: &BTreeSet<String>, ast: &AST) -> Result<(), Vec<String>> {
    let clash: Vec<String> = ast
        .iter_functions()
        .map(|f| f.name.to_string())
        .filter(|n| reserved.contains(n))
        .collect();
    if clash.is_empty() {
        Ok(())
    } else {
        Err(clash)
    }
}

/// A locked-down engine with limits but no host functions: for `check` and for building.
pub fn bare_engine(limits: &EngineLimits) -> Engine {
    let mut engine = Engine::new();
    engine
        .set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_levels)
        .set_max_expr_depths(limits.max_expr_depth, limits.max_function_expr_depth)
        .set_max_string_size(limits.max_string_size)
        .set_max_array_size(limits.max_array_size)
        .set_max_map_size(limits.max_map_size)
        .set_max_modules(0)
        .set_module_resolver(DummyModuleResolver::new())
        // `x.Regions.Regoin` is an error naming the property, not a silent () that fails
        // three lines later; optional fields are tested with `x.contains("Foo")` or `?.`.
        .set_fail_on_invalid_map_property(true);
    engine.disable_symbol("eval");
    engine
}

/// Every name a script may not define: the table (builtins included), and every stdlib function
/// (private ones too: a script function would shadow them inside the stdlib). Computed once
/// per process.
pub fn reserved_names() -> BTreeSet<String> {
    static NAMES: std::sync::OnceLock<BTreeSet<String>> = std::sync::OnceLock::new();
    NAMES
        .get_or_init(|| {
            let mut names: BTreeSet<String> = TABLE.iter().map(|f| f.name.to_string()).collect();
            if let Ok(ast) = stdlib_ast(None) {
                names.extend(ast.iter_functions().map(|f| f.name.to_string()));
            }
            names
        })
        .clone()
}

thread_local! {
    /// The stdlib compiled once per thread (an AST is not `Send`): `ecsh run` needs it for the
    /// reserved names, for checking the script and for the engine, and compiled it each time
    /// (BENCHMARKS.md, start-up).
    static STDLIB_AST: std::cell::OnceCell<Result<AST, String>> =
        const { std::cell::OnceCell::new() };
}

/// The stdlib sources as one AST, so private helpers are shared by all the stdlib files;
/// compiled (the first time on this thread) by `engine`, or by a bare engine when none is
/// given (building one costs about as much as compiling the stdlib).
fn stdlib_ast(engine: Option<&Engine>) -> Result<AST, String> {
    STDLIB_AST.with(|cell| {
        cell.get_or_init(|| {
            let bare;
            let engine = match engine {
                Some(e) => e,
                None => {
                    bare = bare_engine(&EngineLimits::default());
                    &bare
                }
            };
            let mut ast = AST::empty();
            for (name, src) in STDLIB {
                let part = engine.compile(src).map_err(|e| format!("{name}: {e}"))?;
                ast = ast.merge(&part);
            }
            ast.set_source(STDLIB_SOURCE);
            Ok(ast)
        })
        .clone()
    })
}

/// Builds the engine of a session. The engine must be used on this thread only.
pub fn build(
    host: Rc<Host>,
    cancel: Arc<AtomicBool>,
    limits: &EngineLimits,
) -> Result<HostEngine, String> {
    let mut engine = bare_engine(limits);
    let stop = cancel;
    engine.on_progress(move |_| {
        stop.load(Ordering::Relaxed)
            .then(|| super::errors::INTERRUPTED.into())
    });
    let print = host.output.print.clone();
    engine.on_print(move |s| print(s));
    let warn = host.output.warn.clone();
    engine.on_debug(move |s, _, pos| warn(&format!("[debug {pos}] {s}")));

    for spec in TABLE {
        match spec.handler {
            Handler::Api(_) | Handler::Custom(_) => register_op(&mut engine, &host, spec),
            Handler::Search => register_search(&mut engine, spec),
            Handler::Stdlib | Handler::Builtin => {}
        }
    }
    register_call(&mut engine, &host);
    register_helpers(&mut engine, &host);
    if let Some(ledger) = host.gateway.ledger() {
        crate::ledger::rhai::register_with_keep_gate(
            &mut engine,
            ledger.clone(),
            host.gateway.runtime().clone(),
            super::keep::gate(host.clone()),
            host.output.warn.clone(),
        );
    }
    load_stdlib(&mut engine)?;
    Ok(HostEngine {
        engine,
        reserved: reserved_names(),
    })
}

/// The engine of a session (for the REPL, which keeps one engine for many inputs), with the
/// host state it shares (API call count: `host.gateway.call_count()`).
pub fn for_session(session: &super::Session) -> Result<(HostEngine, Rc<Host>), String> {
    let host = Rc::new(Host::new(session));
    let mut engine = build(host.clone(), session.cancel.clone(), &session.limits)?;
    if let Some(sink) = session.on_line.clone() {
        follow_lines(&mut engine.engine, sink);
    }
    Ok((engine, host))
}

/// Steps through the script with Rhai's debugger, telling `sink` the line of each statement of
/// the user's own code: not the stdlib's (a flow's calls belong to the line that called the
/// flow), and not expressions (a call's arguments spread over the lines after its statement).
#[allow(deprecated)] // Rhai marks its debugger API as volatile, not deprecated.
fn follow_lines(engine: &mut Engine, sink: super::LineSink) {
    engine.register_debugger(
        |_, debugger| debugger,
        move |_, _, node, source, pos| {
            // Rhai steps on no-op statements inside expressions (string interpolation).
            let statement =
                matches!(node, rhai::ASTNode::Stmt(s) if !matches!(s, rhai::Stmt::Noop(_)));
            if source != Some(STDLIB_SOURCE) && statement {
                if let Some(line) = pos.line() {
                    sink(line);
                }
            }
            Ok(rhai::debugger::DebuggerCommand::StepInto)
        },
    );
}

/// Checks options and runs one table function.
pub fn invoke(host: &Host, spec: &HostFn, opts: &Map) -> Result<Value, HostError> {
    let checked = check_spec(host, spec, opts)?;
    match spec.handler {
        Handler::Api(post) => super::handlers::call_api(host, spec, &checked, post),
        Handler::Custom(run) => run(host, &checked),
        Handler::Stdlib | Handler::Search | Handler::Builtin => Err(HostError::UnknownAction(
            format!("{} is not implemented in Rust", spec.name),
        )),
    }
}

fn check_spec(host: &Host, spec: &HostFn, opts: &Map) -> Result<options::Checked, HostError> {
    let checked = options::check(
        spec.name,
        spec.options,
        spec.paged(),
        spec.refused,
        opts,
        &host.region,
    )?;
    if let Some(rule) = spec.validate {
        rule(&checked)?;
    }
    Ok(checked)
}

/// Registers a table function with and without its options map. Its docs are the table's
/// (help, `docs/functions.md`); the engine gets none: nothing reads them from the engine's
/// metadata, and formatting them into every engine was a tenth of what `ecsh run` of an empty
/// script executed (BENCHMARKS.md, "Start-up").
fn register_op(engine: &mut Engine, host: &Rc<Host>, spec: &'static HostFn) {
    let h = host.clone();
    FuncRegistration::new(spec.name)
        .with_params_info(["opts: map", spec.returns])
        .with_volatility(true)
        .register_into_engine(
            engine,
            move |ctx: NativeCallContext, opts: Map| -> RResult<Dynamic> {
                invoke(&h, spec, &opts)
                    .map(into_dynamic)
                    .map_err(|e| e.into_rhai(ctx.call_position()))
            },
        );
    let h = host.clone();
    FuncRegistration::new(spec.name)
        .with_params_info([spec.returns])
        .with_volatility(true)
        .register_into_engine(engine, move |ctx: NativeCallContext| -> RResult<Dynamic> {
            invoke(&h, spec, &Map::new())
                .map(into_dynamic)
                .map_err(|e| e.into_rhai(ctx.call_position()))
        });
}

fn register_search(engine: &mut Engine, spec: &'static HostFn) {
    let formatted = spec.name == "search_and_format";
    let run = move |query: &str, product: Option<&str>| -> Result<Dynamic, HostError> {
        let hits = docs::search(query, product, docs::DEFAULT_LIMIT)?;
        Ok(if formatted {
            docs::format_hits(query, &hits).into()
        } else {
            hits.iter()
                .map(|h| Dynamic::from(h.to_map()))
                .collect::<rhai::Array>()
                .into()
        })
    };
    FuncRegistration::new(spec.name)
        .with_params_info(["query: string", spec.returns])
        .with_volatility(true)
        .register_into_engine(
            engine,
            move |ctx: NativeCallContext, q: &str| -> RResult<Dynamic> {
                run(q, None).map_err(|e| e.into_rhai(ctx.call_position()))
            },
        );
    FuncRegistration::new(spec.name)
        .with_params_info(["query: string", "product: string", spec.returns])
        .with_volatility(true)
        .register_into_engine(
            engine,
            move |ctx: NativeCallContext, q: &str, p: &str| -> RResult<Dynamic> {
                run(q, Some(p)).map_err(|e| e.into_rhai(ctx.call_position()))
            },
        );
}

fn raw_call(host: &Host, product: &str, action: &str, params: &Map) -> Result<Value, HostError> {
    let product = parse_product(product)?;
    let mut params = map_to_json(params, "params")?;
    params
        .entry("RegionId")
        .or_insert_with(|| Value::from(host.region.clone()));
    host.gateway.call(product, action, params)
}

fn register_call(engine: &mut Engine, host: &Rc<Host>) {
    let h = host.clone();
    FuncRegistration::new(RAW_CALL)
        .with_params_info(["product: string", "action: string", "params: map", "map"])
        .with_volatility(true)
        .register_into_engine(
            engine,
            move |ctx: NativeCallContext, p: &str, a: &str, params: Map| -> RResult<Dynamic> {
                raw_call(&h, p, a, &params)
                    .map(into_dynamic)
                    .map_err(|e| e.into_rhai(ctx.call_position()))
            },
        );
    let h = host.clone();
    FuncRegistration::new(RAW_CALL)
        .with_params_info(["product: string", "action: string", "map"])
        .with_volatility(true)
        .register_into_engine(
            engine,
            move |ctx: NativeCallContext, p: &str, a: &str| -> RResult<Dynamic> {
                raw_call(&h, p, a, &Map::new())
                    .map(into_dynamic)
                    .map_err(|e| e.into_rhai(ctx.call_position()))
            },
        );
}

fn register_helpers(engine: &mut Engine, host: &Rc<Host>) {
    let h = host.clone();
    // Checks an options map against a function's declared options (as the Rust functions do)
    // and returns every option with its default filled in (() when not given). The stdlib
    // uses it.
    FuncRegistration::new("check_options")
        .with_params_info(["func: string", "opts: map", "map"])
        .with_volatility(true)
        .register_into_engine(
            engine,
            move |ctx: NativeCallContext, func: &str, opts: Map| -> RResult<Dynamic> {
                let spec = functions::find(func).ok_or_else(|| {
                    HostError::UnknownAction(format!("check_options: no function named '{func}'"))
                        .into_rhai(ctx.call_position())
                })?;
                check_spec(&h, spec, &opts)
                    .map(|c| c.to_rhai_map().into())
                    .map_err(|e| e.into_rhai(ctx.call_position()))
            },
        );
    let h = host.clone();
    // Quotes a run_instances call and asks for its approval now, before anything is created;
    // `network` is shown in the cost block (which VPC/vswitch is reused, or that new ones are
    // made). The next run_instances with the same priced options is then admitted without
    // asking again. create_instance_with_infra uses it so that a "no" sends no creating call.
    FuncRegistration::new("preapprove_run_instances")
        .with_params_info(["opts: Map", "network: &str", "()"])
        .with_volatility(true)
        .register_into_engine(
            engine,
            move |ctx: NativeCallContext, opts: Map, network: &str| -> RResult<()> {
                let fail = |e: HostError| e.into_rhai(ctx.call_position());
                let spec = functions::find("run_instances").ok_or_else(|| {
                    fail(HostError::UnknownAction(
                        "run_instances is not in the table".into(),
                    ))
                })?;
                // The network is made after the approval; it does not change the price.
                let mut opts = opts;
                for key in ["vswitch_id", "security_group_id"] {
                    opts.entry(key.into())
                        .or_insert_with(|| "(created after the approval)".into());
                }
                let checked = check_spec(&h, spec, &opts).map_err(fail)?;
                let params = super::handlers::run_instances_params(&checked).map_err(fail)?;
                h.gateway
                    .preapprove(
                        crate::ops::A::RUN_INSTANCES.product,
                        crate::ops::A::RUN_INSTANCES.name,
                        params,
                        &[("Network".into(), network.into())],
                    )
                    .map_err(fail)
            },
        );
    let h = host.clone();
    // Writes a warning to the session's diagnostics (stderr), not to the script's output.
    FuncRegistration::new("warn")
        .with_params_info(["message: string", "()"])
        .with_volatility(true)
        .register_into_engine(engine, move |msg: &str| (h.output.warn)(msg));
}

fn load_stdlib(engine: &mut Engine) -> Result<(), String> {
    let ast = stdlib_ast(Some(engine))?;
    let module =
        Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(|e| format!("stdlib: {e}"))?;
    engine.register_global_module(module.into());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{Output, Session};
    use crate::rpc::{Client, ClientConfig, Credentials};

    /// An engine whose client is never used (nothing here calls the API).
    fn offline_engine() -> (HostEngine, tokio::runtime::Runtime) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let client = Client::new(ClientConfig::new(
            Credentials::new("id", "not-used"),
            "cn-hangzhou",
        ))
        .unwrap();
        let (output, _, _) = Output::capture();
        let session = Session::new(
            client,
            "cn-hangzhou",
            rt.handle().clone(),
            output,
            Arc::new(AtomicBool::new(false)),
            Arc::new(crate::guard::Guard::new(Box::new(
                crate::guard::prompt::Refuse,
            ))),
        );
        (for_session(&session).unwrap().0, rt)
    }

    #[test]
    fn every_table_function_is_registered_and_the_stdlib_loads() {
        let (he, _rt) = offline_engine();
        let json = he.engine.gen_fn_metadata_to_json(false).unwrap();
        let meta: serde_json::Value = serde_json::from_str(&json).unwrap();
        let names: Vec<&str> = meta["functions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["name"].as_str())
            .collect();
        // The ledger's own functions exist only in sessions with a ledger (not this one).
        let ledgered = ["keep", "release", "ledger", "scope"];
        for f in TABLE.iter().filter(|f| !ledgered.contains(&f.name)) {
            assert!(names.contains(&f.name), "{} is not registered", f.name);
        }
        assert!(names.contains(&RAW_CALL));
    }

    /// Every function a session's engine offers (the ledger's included) has a row in the
    /// table, so help, `check` and docs/functions.md know it: a new host function without one
    /// fails here.
    #[test]
    fn every_registered_host_function_has_a_table_row() {
        let (mut he, rt) = offline_engine();
        let dir = tempfile::tempdir().unwrap();
        let client = Client::new(ClientConfig::new(
            Credentials::new("id", "x"),
            "cn-hangzhou",
        ))
        .unwrap();
        let ledger = crate::ledger::start_run(
            &client,
            Some(dir.path()),
            "test",
            "nowhere",
            Default::default(),
            None,
        )
        .unwrap();
        crate::ledger::rhai::register(
            &mut he.engine,
            ledger,
            rt.handle().clone(),
            std::sync::Arc::new(|_: &str| {}),
        );
        let json = he.engine.gen_fn_metadata_to_json(false).unwrap();
        let meta: serde_json::Value = serde_json::from_str(&json).unwrap();
        let stdlib: BTreeSet<String> = STDLIB
            .iter()
            .flat_map(|(_, src)| {
                he.engine
                    .compile(src)
                    .unwrap()
                    .iter_functions()
                    .map(|f| f.name.to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        for f in meta["functions"].as_array().unwrap() {
            let name = f["name"].as_str().unwrap();
            if stdlib.contains(name) && functions::find(name).is_none() {
                continue; // a private stdlib helper
            }
            assert!(
                functions::find(name).is_some(),
                "{name} has no row in functions::TABLE"
            );
        }
    }

    #[test]
    fn options_are_checked_before_anything_is_sent() {
        let (he, _rt) = offline_engine();
        let err = he
            .engine
            .run(r#"describe_price(#{ instance_typ: "x" })"#)
            .unwrap_err();
        let EvalAltResult::ErrorRuntime(v, _) = *err else {
            panic!("{err}")
        };
        let m = v.read_lock::<Map>().unwrap().clone();
        assert_eq!(m["code"].to_string(), "InvalidOption");
        let checked = he
            .engine
            .eval::<Map>(r#"check_options("describe_price", #{ instance_type: "x" })"#)
            .unwrap();
        assert_eq!(checked["period"].as_int().unwrap(), 1);
        assert_eq!(checked["region"].to_string(), "cn-hangzhou");
    }

    #[test]
    fn reserved_names_include_stdlib_helpers() {
        let names = reserved_names();
        for n in [
            "create_instance_with_infra",
            "stdlib_release",
            "call_api",
            "describe_price",
        ] {
            assert!(names.contains(n), "{n}");
        }
    }
}
