//! What `ecsh check` finds beyond syntax, before anything runs, from the compiled AST: calls of
//! functions that do not exist (with a did-you-mean), unknown keys in literal option maps
//! (`memroy`), and wrong argument counts or literal argument types for the documented
//! functions. The same words explain a call that fails at run time
//! ([`explain_missing_function`]), so `check` and `run` teach alike.
//!
//! Pure: no I/O; it reads the functions table, the stdlib's definitions and the engine's names.

use super::engine::{bare_engine, EngineLimits, STDLIB};
use super::functions::{self, HostFn};
use super::options::{Kind, Opt, MAX_ITEMS, PAGE_SIZE, REGION};
use rhai::{ASTNode, Engine, Expr, Position, Stmt, AST};
use std::collections::{BTreeMap, BTreeSet};

/// One finding: where (1-based line and column) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Rhai's functions that are keywords rather than registered functions. (`help` is not a
/// script's: only the REPL has it.)
const KEYWORD_FUNCTIONS: &[&str] = &[
    "print",
    "debug",
    "type_of",
    "Fn",
    "call",
    "curry",
    "is_shared",
    "is_def_var",
    "is_def_fn",
    "eval",
];

/// Every function name a script can call, with the arities it can be called with (`None`: any).
struct Known {
    arities: BTreeMap<String, Option<BTreeSet<usize>>>,
}

impl Known {
    fn new(engine: &Engine, ast: &AST) -> Known {
        let mut arities: BTreeMap<String, Option<BTreeSet<usize>>> = BTreeMap::new();
        for sig in engine.gen_fn_signatures(true) {
            let Some(name) = sig.split('(').next().map(str::trim) else {
                continue;
            };
            let name = name.rsplit("::").next().unwrap_or(name);
            arities.insert(name.to_string(), None);
        }
        for name in KEYWORD_FUNCTIONS {
            arities.insert((*name).to_string(), None);
        }
        let mut defined = |name: &str, arity: usize| {
            let entry = arities
                .entry(name.to_string())
                .or_insert_with(|| Some(BTreeSet::new()));
            if let Some(set) = entry {
                set.insert(arity);
            }
        };
        for (_, src) in STDLIB {
            if let Ok(lib) = engine.compile(src) {
                for f in lib.iter_functions() {
                    defined(f.name, f.params.len());
                }
            }
        }
        for f in ast.iter_functions() {
            defined(f.name, f.params.len());
        }
        for f in functions::TABLE {
            arities.insert(f.name.to_string(), Some(table_arities(f)));
        }
        Known { arities }
    }

    fn near(&self, name: &str) -> Option<&str> {
        crate::ops::closest(name, self.arities.keys().map(String::as_str))
    }
}

/// How many arguments a table function takes.
fn table_arities(f: &HostFn) -> BTreeSet<usize> {
    if f.positional() {
        let required = f.options.iter().filter(|o| o.required).count();
        return (required..=f.options.len()).collect();
    }
    match f.handler {
        // The Rust functions are registered with and without the options map.
        functions::Handler::Api(_) | functions::Handler::Custom(_) => [0, 1].into(),
        _ => [1].into(),
    }
}

/// How to call a table function, for messages: `describe_zones(#{ region, … })`.
pub fn how_to_call(f: &HostFn) -> String {
    if f.positional() {
        return format!("{}({})", f.name, f.positional_params().join(", "));
    }
    let mut keys: Vec<String> = f
        .options
        .iter()
        .filter(|o| o.required)
        .map(|o| format!("{}: …", o.name))
        .collect();
    keys.push("…".into());
    format!(
        "{}(#{{ {} }}) (options: {}; `ecsh help {}` explains them)",
        f.name,
        keys.join(", "),
        option_names(f).join(", "),
        f.name
    )
}

/// The option keys a table function accepts, the common ones included.
fn option_names(f: &HostFn) -> Vec<&'static str> {
    allowed_options(f).iter().map(|o| o.name).collect()
}

fn allowed_options(f: &HostFn) -> Vec<&'static Opt> {
    let mut all: Vec<&Opt> = f.options.iter().collect();
    all.push(&REGION);
    if f.paged() {
        all.extend([&PAGE_SIZE, &MAX_ITEMS]);
    }
    all
}

/// Everything `check` reports about `ast` (compiled without optimisation, so literal option
/// maps are still maps), in source order.
pub fn lint(ast: &AST) -> Vec<Finding> {
    let engine = bare_engine(&EngineLimits::default());
    let known = Known::new(&engine, ast);
    let mut variables: BTreeSet<String> = BTreeSet::new();
    for f in ast.iter_functions() {
        variables.extend(f.params.iter().map(|p| p.to_string()));
    }
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Stmt(Stmt::Var(v, ..))) = path.last() {
            variables.insert(v.0.name.to_string());
        }
        true
    });
    let mut findings = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Expr(Expr::FnCall(call, pos))) = path.last() {
            if call.is_operator_call() || !call.namespace.is_empty() {
                return true;
            }
            let name = call.name.as_str();
            if variables.contains(name) {
                return true;
            }
            findings.extend(check_call(&known, name, &call.args, *pos));
        }
        true
    });
    findings.sort_by_key(|f| (f.line, f.column));
    findings.dedup();
    findings
}

fn finding(pos: Position, message: String) -> Finding {
    Finding {
        line: pos.line().unwrap_or(0),
        column: pos.position().unwrap_or(0),
        message,
    }
}

fn check_call(known: &Known, name: &str, args: &[Expr], pos: Position) -> Vec<Finding> {
    if name == "help" && !known.arities.contains_key(name) {
        return vec![finding(
            pos,
            "help() exists only in the REPL; on the command line, `ecsh help NAME` prints it"
                .into(),
        )];
    }
    let Some(arities) = known.arities.get(name) else {
        let hint = match known.near(name) {
            Some(near) => match functions::find(near) {
                Some(f) => format!("; did you mean `{near}`? {}", how_to_call(f)),
                None => format!("; did you mean `{near}`?"),
            },
            None => "; `ecsh help` lists the functions".into(),
        };
        return vec![finding(pos, format!("unknown function `{name}`{hint}"))];
    };
    let Some(f) = functions::find(name) else {
        return match arities {
            Some(set) if !set.contains(&args.len()) => vec![finding(
                pos,
                format!(
                    "`{name}` takes {} argument(s), not {}",
                    show_counts(set),
                    args.len()
                ),
            )],
            _ => Vec::new(),
        };
    };
    let counts = table_arities(f);
    if !counts.contains(&args.len()) {
        return vec![finding(
            pos,
            format!(
                "`{name}` takes {} argument(s), not {}: {}",
                show_counts(&counts),
                args.len(),
                how_to_call(f)
            ),
        )];
    }
    if f.positional() {
        return f
            .options
            .iter()
            .zip(args)
            .filter_map(|(o, arg)| {
                literal_kind_mismatch(o.kind, arg).map(|got| {
                    finding(
                        arg.position(),
                        format!(
                            "argument `{}` of `{name}` must be {}, not {got}: {}",
                            o.name,
                            o.kind.with_article(),
                            how_to_call(f)
                        ),
                    )
                })
            })
            .collect();
    }
    let Some(arg) = args.first() else {
        return Vec::new();
    };
    if let Some(got) = literal_kind_mismatch(Kind::Map, arg) {
        return vec![finding(
            arg.position(),
            format!(
                "`{name}` takes an options map, not {got}: {}",
                how_to_call(f)
            ),
        )];
    }
    let Expr::Map(map, _) = arg else {
        return Vec::new();
    };
    let allowed = allowed_options(f);
    let mut out = Vec::new();
    for (key, value) in &map.0 {
        match allowed.iter().find(|o| o.name == key.name.as_str()) {
            None => {
                let names: Vec<&str> = allowed.iter().map(|o| o.name).collect();
                let near = crate::ops::closest(&key.name, names.iter().copied())
                    .map(|n| format!("did you mean '{n}'? "))
                    .unwrap_or_default();
                out.push(finding(
                    key.pos,
                    format!(
                        "unknown option '{}' for {name}; {near}valid: {}",
                        key.name,
                        names.join(", ")
                    ),
                ));
            }
            Some(o) => {
                if let Some(got) = literal_kind_mismatch(o.kind, value) {
                    out.push(finding(
                        value.position(),
                        format!(
                            "option '{}' of {name} must be {}, not {got}",
                            o.name,
                            o.kind.with_article()
                        ),
                    ));
                }
            }
        }
    }
    out
}

fn show_counts(set: &BTreeSet<usize>) -> String {
    let v: Vec<String> = set.iter().map(usize::to_string).collect();
    v.join(" or ")
}

/// What a literal argument is, when it cannot be of `kind` (`None` for anything not literal).
fn literal_kind_mismatch(kind: Kind, e: &Expr) -> Option<&'static str> {
    let got = match e {
        Expr::StringConstant(..) | Expr::InterpolatedString(..) => "a string",
        Expr::IntegerConstant(..) => "an integer",
        Expr::FloatConstant(..) => "a number",
        Expr::BoolConstant(..) => "a bool",
        Expr::Array(..) => "an array",
        Expr::Map(..) => "a map",
        Expr::Unit(..) => "()",
        _ => return None,
    };
    let fits = match kind {
        Kind::Str => got == "a string",
        Kind::Int => got == "an integer",
        Kind::Float => got == "an integer" || got == "a number",
        Kind::Bool => got == "a bool",
        Kind::StrList | Kind::MapList => got == "an array",
        Kind::Map => got == "a map",
        Kind::Closure => false,
    };
    (!fits && got != "()").then_some(got)
}

/// A runtime `Function not found: describe_zones (&str | ImmutableString | String)` in words
/// that say what exists and how to call it; `None` when `signature` names no known function
/// and nothing is close.
pub fn explain_missing_function(signature: &str) -> Option<String> {
    let (name, args) = match signature.split_once(" (") {
        Some((n, a)) => (n.trim(), a.trim_end_matches(')')),
        None => (signature.trim(), ""),
    };
    let given = describe_arg_types(args);
    if let Some(f) = functions::find(name) {
        return Some(format!(
            "`{name}` cannot be called with {given}; call it as {}",
            how_to_call(f)
        ));
    }
    let engine = bare_engine(&EngineLimits::default());
    let known = Known::new(&engine, &AST::empty());
    if known.arities.contains_key(name) {
        return None;
    }
    let near = known.near(name)?;
    let how = functions::find(near).map_or(String::new(), |f| format!(": {}", how_to_call(f)));
    Some(format!("no function `{name}`; did you mean `{near}`{how}"))
}

/// `&str | ImmutableString | String, i64` → `(string, integer)`.
fn describe_arg_types(args: &str) -> String {
    if args.trim().is_empty() {
        return "no arguments".into();
    }
    let words: Vec<&str> = args
        .split(',')
        .map(|a| {
            let a = a.trim();
            let first = a.split('|').next().unwrap_or(a).trim();
            match first {
                "&str" | "ImmutableString" | "String" | "char" => "string",
                "i64" | "INT" => "integer",
                "f64" | "FLOAT" => "number",
                "bool" => "bool",
                "()" => "()",
                t if t.ends_with("Array") => "array",
                t if t.ends_with("Map") => "map",
                t if t.ends_with("FnPtr") => "function",
                _ => "a value",
            }
        })
        .collect();
    format!("({})", words.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint_src(src: &str) -> Vec<Finding> {
        let mut engine = bare_engine(&EngineLimits::default());
        engine.set_optimization_level(rhai::OptimizationLevel::None);
        lint(&engine.compile(src).expect("parses"))
    }

    #[test]
    fn unknown_functions_and_option_keys_are_found_with_positions() {
        let f = lint_src("let z = describe_zone(#{});\nlet s = find_available_instance_type(#{ cores: 2, memroy: 4 });\n");
        assert_eq!(f.len(), 2, "{f:#?}");
        assert_eq!((f[0].line, f[0].column), (1, 9));
        assert!(
            f[0].message.contains("did you mean `describe_zones`"),
            "{}",
            f[0].message
        );
        assert_eq!(f[1].line, 2);
        assert!(
            f[1].message.contains("unknown option 'memroy'"),
            "{}",
            f[1].message
        );
        assert!(
            f[1].message.contains("did you mean 'memory'?"),
            "{}",
            f[1].message
        );
    }

    #[test]
    fn wrong_counts_and_literal_types_are_found() {
        let f = lint_src(
            "describe_zones(\"cn-hangzhou\");\nkeep();\ndescribe_price(#{ instance_type: 5 });\n",
        );
        assert_eq!(f.len(), 3, "{f:#?}");
        assert!(
            f[0].message.contains("takes an options map, not a string"),
            "{}",
            f[0].message
        );
        assert!(
            f[1].message
                .contains("`keep` takes 1 or 2 argument(s), not 0"),
            "{}",
            f[1].message
        );
        assert!(
            f[2].message.contains("must be a string, not an integer"),
            "{}",
            f[2].message
        );
    }

    #[test]
    fn what_exists_is_not_reported() {
        let src = "fn mine(a) { a }\nlet f = |x| x + 1;\nlet r = describe_regions();\nprint(mine(1) + f.call(1));\nlet n = len([1]);\nlet v = r?.Regions;\n";
        assert_eq!(lint_src(src), Vec::new());
    }

    #[test]
    fn runtime_errors_say_how_to_call() {
        let m =
            explain_missing_function("describe_zones (&str | ImmutableString | String)").unwrap();
        assert!(
            m.starts_with(
                "`describe_zones` cannot be called with (string); call it as describe_zones(#{"
            ),
            "{m}"
        );
        let m = explain_missing_function("describe_zone (map)").unwrap();
        assert!(m.contains("did you mean `describe_zones`"), "{m}");
        assert_eq!(explain_missing_function("zzzzzzzzzz ()"), None);
    }
}
