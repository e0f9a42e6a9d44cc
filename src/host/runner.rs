//! Runs and checks script files for the CLI (`ecsh run FILE [ARGS…]`, `ecsh check FILE`).
//!
//! `run_file` compiles, rejects functions that would shadow host names, and evaluates the
//! script with its `ARGS` on the calling thread. An uncaught error becomes a [`ScriptFailure`]
//! with file:line:column (of the user's file, even when the error came from inside the stdlib),
//! and for API errors code, message, request id, recommendation and advice. [`render_error`]
//! turns it into the text the CLI prints. Exit codes stay the CLI's decision
//! ([`ScriptFailure::exit_code`] is the documented mapping: 1 runtime, 2 usage/parse).

use super::engine::{self, EngineLimits};
use super::errors::INTERRUPTED;
use super::Session;
use rhai::{Dynamic, EvalAltResult, Map, ParseError, Position, Scope, AST};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// What a successful run reports.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// API calls the script made (through the gateway).
    pub api_calls: u64,
    pub elapsed: Duration,
}

/// A problem found by `check` (or the parse phase of `run`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The file could not be read.
    Io,
    /// The script does not parse, or redefines a host function.
    Parse,
    /// An uncaught error while running.
    Runtime,
    /// Ctrl-C (the cancel flag).
    Interrupted,
    /// An engine limit stopped the script (operations, stack, sizes).
    Limit,
}

/// An uncaught error of a script.
#[derive(Debug, Clone)]
pub struct ScriptFailure {
    pub kind: FailureKind,
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// `e.code` of a host or API error.
    pub code: Option<String>,
    pub message: String,
    pub request_id: Option<String>,
    pub recommend: Option<String>,
    pub advice: Option<String>,
    /// Function calls the error passed through, innermost first: `name (file:line:col)`.
    pub trace: Vec<String>,
    /// More problems of the same run (e.g. several parse diagnostics).
    pub more: Vec<Diagnostic>,
}

impl ScriptFailure {
    /// The documented exit code: 2 for a file that cannot be read or parsed, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            FailureKind::Io | FailureKind::Parse => 2,
            _ => 1,
        }
    }

    fn plain(kind: FailureKind, file: &str, pos: Position, message: String) -> ScriptFailure {
        ScriptFailure {
            kind,
            file: file.to_string(),
            line: pos.line(),
            column: pos.position(),
            code: None,
            message,
            request_id: None,
            recommend: None,
            advice: None,
            trace: Vec::new(),
            more: Vec::new(),
        }
    }
}

/// Runs the script at `path` with `args` as its `ARGS`.
pub fn run_file(
    path: &Path,
    args: Vec<String>,
    session: Session,
) -> Result<RunReport, Box<ScriptFailure>> {
    let name = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|e| {
        ScriptFailure::plain(
            FailureKind::Io,
            &name,
            Position::NONE,
            format!("cannot read {name}: {e}"),
        )
    })?;
    run_source(&name, &source, args, session)
}

/// The script thread's stack. Rhai walks nested values recursively (size checks, printing,
/// dropping, JSON conversion); the engine's size limits bound how deep a value can get
/// (`max_array_size` + `max_map_size` elements in all, at every depth), and this stack holds
/// that depth with room to spare, so a deeply nested value ends in a limit error and a
/// release, never in a stack-overflow abort. Only the pages used are committed.
pub const SCRIPT_STACK: usize = 1 << 30;

/// Runs `source` (named `name` in errors) with `args` as its `ARGS`, on a thread of its own
/// with [`SCRIPT_STACK`]. Blocks the caller until the script ends.
pub fn run_source(
    name: &str,
    source: &str,
    args: Vec<String>,
    session: Session,
) -> Result<RunReport, Box<ScriptFailure>> {
    let (name, source) = (name.to_string(), source.to_string());
    let label = name.clone();
    let spawned = std::thread::Builder::new()
        .name("ecsh-script".into())
        .stack_size(SCRIPT_STACK)
        .spawn(move || run_source_here(&name, &source, args, session));
    let failed = |why: String| {
        Box::new(ScriptFailure::plain(
            FailureKind::Runtime,
            &label,
            Position::NONE,
            why,
        ))
    };
    match spawned {
        Ok(thread) => thread.join().unwrap_or_else(|_| {
            Err(failed(
                "the script thread panicked; this is a bug in ecsh".into(),
            ))
        }),
        Err(e) => Err(failed(format!("cannot start the script thread: {e}"))),
    }
}

/// [`run_source`] on the calling thread.
fn run_source_here(
    name: &str,
    source: &str,
    args: Vec<String>,
    session: Session,
) -> Result<RunReport, Box<ScriptFailure>> {
    let start = Instant::now();
    let (built, host) = engine::for_session(&session).map_err(|e| {
        ScriptFailure::plain(
            FailureKind::Runtime,
            "stdlib",
            Position::NONE,
            format!("the stdlib failed to load: {e}"),
        )
    })?;
    let ast = compile(&built.engine, name, source).map_err(|diags| parse_failure(name, diags))?;
    let mut scope = Scope::new();
    let argv: rhai::Array = args.into_iter().map(Dynamic::from).collect();
    scope.push_constant("ARGS", argv);
    built
        .engine
        .run_ast_with_scope(&mut scope, &ast)
        .map_err(|e| {
            let mut failure = runtime_failure(name, &e);
            if let Some((property, keys)) =
                missing_property_keys(&built.engine, &mut scope, source, &e)
            {
                failure.message = missing_property_message(&property, Some(&keys));
            }
            failure
        })?;
    Ok(RunReport {
        api_calls: host.gateway.call_count(),
        elapsed: start.elapsed(),
    })
}

/// Parses the script at `path` and reports every problem found without running anything.
pub fn check_file(path: &Path) -> Result<(), Vec<Diagnostic>> {
    let name = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic {
            file: name.clone(),
            line: 0,
            column: 0,
            message: format!("cannot read {name}: {e}"),
        }]
    })?;
    check_source(&name, &source)
}

/// Parses `source` and reports problems without running anything.
pub fn check_source(name: &str, source: &str) -> Result<(), Vec<Diagnostic>> {
    let mut engine = engine::bare_engine(&EngineLimits::default());
    // Unoptimised, so literal option maps stay maps for the lint to read.
    engine.set_optimization_level(rhai::OptimizationLevel::None);
    let ast = compile(&engine, name, source)?;
    let findings = super::lint::lint(&ast);
    if findings.is_empty() {
        return Ok(());
    }
    Err(findings
        .into_iter()
        .map(|f| Diagnostic {
            file: name.to_string(),
            line: f.line,
            column: f.column,
            message: f.message,
        })
        .collect())
}

fn compile(engine: &rhai::Engine, name: &str, source: &str) -> Result<AST, Vec<Diagnostic>> {
    let mut ast = engine
        .compile(source)
        .map_err(|e| vec![parse_diagnostic(name, &e)])?;
    ast.set_source(name);
    let reserved = engine::reserved_names();
    engine::check_names(&reserved, &ast).map_err(|clash| {
        clash
            .iter()
            .map(|fname| {
                let (line, column) = find_fn_definition(source, fname);
                Diagnostic {
                    file: name.to_string(),
                    line,
                    column,
                    message: format!(
                        "the script defines fn {fname}, which is a host function; a script function would replace it everywhere (the stdlib included). Rename yours (e.g. my_{fname})"
                    ),
                }
            })
            .collect::<Vec<_>>()
    })?;
    Ok(ast)
}

fn parse_diagnostic(name: &str, e: &ParseError) -> Diagnostic {
    let pos = e.position();
    Diagnostic {
        file: name.to_string(),
        line: pos.line().unwrap_or(0),
        column: pos.position().unwrap_or(0),
        message: format!("syntax error: {}", e.err_type()),
    }
}

/// Where `fn name(` is defined, for the shadowing diagnostic (1-based line and column).
fn find_fn_definition(source: &str, name: &str) -> (usize, usize) {
    for (i, line) in source.lines().enumerate() {
        let mut rest = line;
        let mut offset = 0;
        while let Some(at) = rest.find("fn ") {
            let after = rest[at + 3..].trim_start();
            if after.starts_with(name) && after[name.len()..].trim_start().starts_with('(') {
                return (i + 1, offset + at + 1);
            }
            offset += at + 3;
            rest = &rest[at + 3..];
        }
    }
    (0, 0)
}

fn parse_failure(name: &str, mut diags: Vec<Diagnostic>) -> ScriptFailure {
    let first = diags.remove(0);
    ScriptFailure {
        line: Some(first.line),
        column: Some(first.column),
        more: diags,
        ..ScriptFailure::plain(FailureKind::Parse, name, Position::NONE, first.message)
    }
}

/// Turns an uncaught Rhai error into a failure positioned in the user's file.
pub fn runtime_failure(file: &str, err: &EvalAltResult) -> ScriptFailure {
    let mut trace = Vec::new();
    let mut user_pos = err.position();
    let mut in_user = true;
    let mut cur = err;
    while let EvalAltResult::ErrorInFunctionCall(fname, src, inner, call_pos) = cur {
        if in_user {
            user_pos = *call_pos;
        }
        let where_ = if src.is_empty() { file } else { src.as_str() };
        trace.push(format!("{fname} ({where_}:{})", show_pos(inner.position())));
        in_user = in_user && (src.is_empty() || src == file);
        cur = inner;
    }
    if in_user {
        user_pos = cur.position();
    }
    trace.reverse();
    let kind = match cur {
        EvalAltResult::ErrorTerminated(v, _) if v.to_string() == INTERRUPTED => {
            FailureKind::Interrupted
        }
        EvalAltResult::ErrorTooManyOperations(_)
        | EvalAltResult::ErrorStackOverflow(_)
        | EvalAltResult::ErrorDataTooLarge(..)
        | EvalAltResult::ErrorTooManyVariables(_) => FailureKind::Limit,
        _ => FailureKind::Runtime,
    };
    let mut failure = ScriptFailure {
        trace,
        ..ScriptFailure::plain(kind, file, user_pos, message_of(cur))
    };
    if let EvalAltResult::ErrorRuntime(value, _) = cur {
        if let Some(map) = value.read_lock::<Map>() {
            fill_from_map(&mut failure, &map);
        }
    }
    if let EvalAltResult::ErrorFunctionNotFound(signature, _) = cur {
        if let Some(better) = super::lint::explain_missing_function(signature) {
            failure.message = better;
        }
    }
    if let EvalAltResult::ErrorPropertyNotFound(property, _) = cur {
        failure.message = missing_property_message(property, None);
    }
    if let EvalAltResult::ErrorTooManyModules(_) = cur {
        failure.message = "import is disabled: ecsh scripts cannot load modules, and every host and stdlib function is available without one".into();
    }
    if kind == FailureKind::Interrupted {
        failure.message = "interrupted (Ctrl-C or a stop signal)".into();
    }
    if kind == FailureKind::Limit {
        failure.message = format!(
            "{}: the script hit an engine limit (runaway loop, recursion or a huge value)",
            failure.message
        );
    }
    failure
}

/// For `x.Regions.Regoin` failing at top level: the keys `x.Regions` does have, read again
/// from the script's variables. Only a plain `name.field.field` chain is read (no calls, so
/// nothing runs twice); inside a function its locals are gone and this gives `None`.
pub fn missing_property_keys(
    engine: &rhai::Engine,
    scope: &mut Scope,
    source: &str,
    err: &EvalAltResult,
) -> Option<(String, Vec<String>)> {
    let mut cur = err;
    while let EvalAltResult::ErrorInFunctionCall(_, _, inner, _) = cur {
        cur = inner;
    }
    let EvalAltResult::ErrorPropertyNotFound(property, pos) = cur else {
        return None;
    };
    let line = source.lines().nth(pos.line()?.checked_sub(1)?)?;
    let column = pos.position()?.checked_sub(1)?;
    let before: String = line.chars().take(column).collect();
    let before = before.strip_suffix('.')?;
    let start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .map_or(0, |i| i + 1);
    let chain = &before[start..];
    let plain = !chain.is_empty()
        && chain.split('.').all(|part| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if !plain {
        return None;
    }
    let value = engine
        .eval_expression_with_scope::<Dynamic>(scope, chain)
        .ok()?;
    let map = value.read_lock::<Map>()?;
    Some((
        property.clone(),
        map.keys().map(|k| k.to_string()).collect(),
    ))
}

/// The error for reading a property a map does not have, with its keys when known.
pub fn missing_property_message(property: &str, keys: Option<&[String]>) -> String {
    let what = match keys {
        Some([]) => "the map is empty".to_string(),
        Some(keys) => {
            let near = crate::ops::closest(property, keys.iter().map(String::as_str))
                .map(|n| format!("did you mean '{n}'? "))
                .unwrap_or_default();
            format!("{near}it has: {}", keys.join(", "))
        }
        None => "print the map, or its .keys(), to see what it has".to_string(),
    };
    format!(
        "no property '{property}' in this map; {what}. A field that may be absent is tested \
         first: if x.contains(\"{property}\") {{ … }}"
    )
}

fn fill_from_map(f: &mut ScriptFailure, map: &Map) {
    let text = |k: &str| {
        map.get(k)
            .filter(|v| !v.is_unit())
            .map(|v| v.to_string())
            .filter(|s| !s.is_empty())
    };
    f.code = text("code");
    if let Some(m) = text("message") {
        f.message = m;
    }
    f.request_id = text("request_id");
    f.recommend = text("recommend");
    f.advice = text("advice");
}

/// The error's own text, without Rhai's position suffix (we print positions ourselves).
fn message_of(err: &EvalAltResult) -> String {
    let text = match err {
        EvalAltResult::ErrorRuntime(v, _) if v.is_string() => v.to_string(),
        other => other.to_string(),
    };
    match text.rfind(" (line ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    }
}

fn show_pos(pos: Position) -> String {
    match (pos.line(), pos.position()) {
        (Some(l), Some(c)) => format!("{l}:{c}"),
        (Some(l), None) => format!("{l}"),
        _ => "?".into(),
    }
}

/// The text the CLI prints for an uncaught error. Every part of it may come from the script
/// or the cloud (an `InstanceType` holding `ESC]0;…`), so it is escaped for the terminal.
pub fn render_error(f: &ScriptFailure) -> String {
    crate::guard::block::escape_terminal(&render_error_raw(f))
}

fn render_error_raw(f: &ScriptFailure) -> String {
    let mut out = String::new();
    let location = match (f.line, f.column) {
        (Some(l), Some(c)) if l > 0 => format!("{}:{l}:{c}", f.file),
        (Some(l), _) if l > 0 => format!("{}:{l}", f.file),
        _ => f.file.clone(),
    };
    let label = match f.kind {
        FailureKind::Io => "error",
        FailureKind::Parse => "error",
        FailureKind::Runtime => "error",
        FailureKind::Interrupted => "interrupted",
        FailureKind::Limit => "stopped",
    };
    let _ = match &f.code {
        Some(code) => writeln!(out, "{label}: {location}: {code}: {}", f.message),
        None => writeln!(out, "{label}: {location}: {}", f.message),
    };
    for d in &f.more {
        let _ = writeln!(out, "error: {d}");
    }
    if let Some(r) = &f.request_id {
        let _ = writeln!(out, "  request id: {r}");
    }
    if let Some(r) = &f.recommend {
        let _ = writeln!(out, "  recommend: {r}");
    }
    if let Some(a) = &f.advice {
        let _ = writeln!(out, "  advice: {a}");
    }
    for t in &f.trace {
        let _ = writeln!(out, "  in {t}");
    }
    out
}

/// Renders `check` diagnostics, one per line.
pub fn render_diagnostics(diags: &[Diagnostic]) -> String {
    diags.iter().map(|d| format!("error: {d}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_have_positions() {
        let d = check_source("bad.rhai", "let x = 1;\nlet y = ;\n").unwrap_err();
        assert_eq!((d[0].file.as_str(), d[0].line), ("bad.rhai", 2));
        assert!(d[0].column > 0);
        assert!(d[0].message.starts_with("syntax error"), "{}", d[0].message);
    }

    #[test]
    fn shadowing_a_host_function_is_refused_with_its_position() {
        let src = "let a = 1;\n  fn describe_price(o) { 1 }\nfn mine() { 2 }\n";
        let d = check_source("s.rhai", src).unwrap_err();
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].line, d[0].column), (2, 3));
        assert!(
            d[0].message.contains("fn describe_price"),
            "{}",
            d[0].message
        );
        assert!(check_source("ok.rhai", "fn mine() { 2 }\nmine();").is_ok());
    }

    #[test]
    fn rendering_shows_location_code_and_request() {
        let f = ScriptFailure {
            code: Some("OperationDenied.NoStock".into()),
            request_id: Some("REQ-1".into()),
            recommend: Some("https://r".into()),
            advice: Some("Switch zone".into()),
            trace: vec!["create_instance_with_infra (stdlib:3:4)".into()],
            ..ScriptFailure::plain(
                FailureKind::Runtime,
                "q.rhai",
                Position::new(7, 9),
                "sold out".into(),
            )
        };
        let text = render_error(&f);
        assert!(
            text.starts_with("error: q.rhai:7:9: OperationDenied.NoStock: sold out\n"),
            "{text}"
        );
        for want in [
            "request id: REQ-1",
            "recommend: https://r",
            "advice: Switch zone",
            "in create_instance_with_infra",
        ] {
            assert!(text.contains(want), "{text}");
        }
        assert_eq!(f.exit_code(), 1);
    }
}
