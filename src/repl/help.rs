//! The text of `help()` and `help("name")`, from the host's documented table (via the
//! [`Catalog`]) and, for anything else callable, the engine's signatures. Formatting only.

use super::catalog::{Catalog, FunctionDoc};
use super::print::cut;
use unicode_width::UnicodeWidthStr;

/// `help()`: the documented functions grouped by seed section.
pub fn overview(catalog: &Catalog, width: usize) -> String {
    let groups = catalog.by_section();
    let name_w = catalog
        .documented
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(0);
    let mut out =
        String::from("Functions by section (help(\"name\") shows options and an example):\n");
    for (section, functions) in groups {
        out.push_str(&format!("\n{section}\n"));
        for f in functions {
            let line = format!("  {:name_w$}  {}", f.name, f.summary);
            out.push_str(&cut(&line, width));
            out.push('\n');
        }
    }
    out.push_str(
        "\nRhai's standard library (len, push, keys, to_upper, …) is available too; \
         Tab completes every name. :help lists the REPL's commands.",
    );
    out
}

/// `help("name")`: a documented function in full, or the signatures of any other callable
/// name, or an error naming the near miss.
pub fn about(catalog: &Catalog, name: &str, width: usize) -> Result<String, String> {
    if let Some(f) = catalog.find(name) {
        return Ok(function(f, width));
    }
    let sigs: Vec<&String> = catalog
        .signatures
        .iter()
        .filter(|s| signature_is_for(s, name))
        .collect();
    if !sigs.is_empty() {
        let lines: Vec<String> = sigs
            .iter()
            .map(|s| format!("  {}", rhai_signature(s)))
            .collect();
        return Ok(format!(
            "{name} (not one of ecsh's documented functions):\n{}",
            lines.join("\n")
        ));
    }
    Err(match catalog.near_miss(name) {
        Some(near) => format!("no function named `{name}`; did you mean `{near}`?"),
        None => format!("no function named `{name}`; help() lists the functions"),
    })
}

/// An engine signature in Rhai's words: Rhai's metadata speaks Rust (`&str`, `i64`,
/// `ImmutableString`, `core::result::Result<…>`), which a script writer never sees.
pub fn rhai_signature(sig: &str) -> String {
    const WORDS: &[(&str, &str)] = &[
        ("&mut ", ""),
        ("&str", "string"),
        ("ImmutableString", "string"),
        ("String", "string"),
        ("INT", "int"),
        ("i64", "int"),
        ("FLOAT", "float"),
        ("f64", "float"),
        ("Array", "array"),
        ("Map", "map"),
        ("Dynamic", "?"),
        ("FnPtr", "function"),
        ("char", "char"),
        ("Blob", "blob"),
        ("Instant", "timestamp"),
    ];
    let sig = strip_paths(sig);
    // `-> Result<T, Box<EvalAltResult>>`: the T is what a script gets.
    let mut out = match sig.split_once(" -> ") {
        Some((head, ret)) => {
            let ret = ret.trim();
            let ret = ["Result<", "RhaiResultOf<"]
                .iter()
                .find_map(|p| ret.strip_prefix(p))
                .map_or(ret, |rest| &rest[..generic_end(rest)]);
            format!("{head} -> {}", ret.trim())
        }
        None => sig.clone(),
    };
    while let Some(at) = out.find("Vec<") {
        let end = at + 4 + generic_end(&out[at + 4..]);
        let close = if out[end..].starts_with('>') { 1 } else { 0 };
        out.replace_range(at..end + close, "array");
    }
    for (rust, rhai) in WORDS {
        out = replace_word(&out, rust, rhai);
    }
    out
}

/// `a::b::C<d::E>` → `C<E>`.
fn strip_paths(sig: &str) -> String {
    let mut out = String::with_capacity(sig.len());
    let mut ident = String::new();
    let mut chars = sig.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_alphanumeric() || c == '_' {
            ident.push(c);
        } else if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            ident.clear();
        } else {
            out.push_str(&std::mem::take(&mut ident));
            out.push(c);
        }
    }
    out.push_str(&ident);
    out
}

/// Where the first generic argument of `rest` (the text after a `<`) ends: at a top-level `,`
/// or at the closing `>`.
fn generic_end(rest: &str) -> usize {
    let mut depth = 0i32;
    for (i, c) in rest.char_indices() {
        match c {
            '<' => depth += 1,
            '>' if depth == 0 => return i,
            '>' => depth -= 1,
            ',' if depth == 0 => return i,
            _ => {}
        }
    }
    rest.len()
}

/// Replaces `word` where it is not part of a longer identifier.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + word.len()..].chars().next();
        let starts_ident = word.starts_with(is_ident);
        let bounded =
            !starts_ident || (!before.is_some_and(is_ident) && !after.is_some_and(is_ident));
        out.push_str(&rest[..at]);
        out.push_str(if bounded { with } else { word });
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

fn signature_is_for(sig: &str, name: &str) -> bool {
    let head = sig.split('(').next().unwrap_or("");
    head == name || head.rsplit("::").next() == Some(name) || head == format!("fn {name}")
}

fn function(f: &FunctionDoc, width: usize) -> String {
    let mut signature = f.signature();
    if signature.width() > width {
        let mut args = f.params.clone();
        if !f.options.is_empty() && !f.positional {
            args.push("#{ options below }".into());
        }
        signature = format!("{}({}) -> {}", f.name, args.join(", "), f.returns);
    }
    let mut out = format!("{signature}\n  [{}]\n", f.section);
    for line in wrap(&f.doc, width.saturating_sub(2).max(40)) {
        out.push_str(&format!("  {line}\n"));
    }
    if !f.options.is_empty() {
        out.push_str(if f.positional {
            "\nParameters:\n"
        } else {
            "\nOptions:\n"
        });
        let name_w = f.options.iter().map(|o| o.name.len()).max().unwrap_or(0);
        let ty_w = f.options.iter().map(|o| o.ty.len()).max().unwrap_or(0);
        let notes: Vec<String> = f
            .options
            .iter()
            .map(|o| match (&o.default, o.required) {
                (_, true) => "required".to_string(),
                (Some(d), false) => format!("default {d}"),
                (None, false) => "optional".to_string(),
            })
            .collect();
        let note_w = notes.iter().map(String::len).max().unwrap_or(0);
        for (o, note) in f.options.iter().zip(&notes) {
            out.push_str(&format!(
                "  {:name_w$}  {:ty_w$}  {:note_w$}  {}\n",
                o.name, o.ty, note, o.doc
            ));
        }
    }
    if !f.result.is_empty() {
        out.push_str(&format!("\nResult:\n  {}\n", f.result));
    }
    if !f.example.is_empty() {
        out.push_str("\nExample:\n");
        for line in f.example.lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out.trim_end().to_string()
}

/// docs/functions.md: every documented function, by section, as Markdown. Generated from the
/// same table as `help()`; a test keeps the file equal to this.
pub fn reference_markdown(catalog: &Catalog) -> String {
    let mut out = String::from(
        "# Script functions\n\n\
         Generated from ecsh's functions table (`src/host/functions.rs`) by the test \
         `repl::help::tests::docs_functions_md_is_in_sync`; do not edit by hand: \
         `ECSH_UPDATE_DOCS=1 cargo test --lib docs_functions_md` rewrites it. \
         In the REPL, `help(\"name\")` prints the same; on the command line, `ecsh help name`.\n",
    );
    for (section, functions) in catalog.by_section() {
        out.push_str(&format!("\n## {section}\n"));
        for f in functions {
            out.push_str(&format!(
                "\n### `{}`\n\n```rhai\n{}\n```\n\n{}\n",
                f.name,
                f.signature(),
                f.doc
            ));
            if !f.options.is_empty() {
                let heading = if f.positional { "parameter" } else { "option" };
                out.push_str(&format!(
                    "\n| {heading} | type | default | |\n|---|---|---|---|\n"
                ));
                for o in &f.options {
                    let note = match (&o.default, o.required) {
                        (_, true) => "required".to_string(),
                        (Some(d), false) => format!("`{d}`"),
                        (None, false) => "optional".to_string(),
                    };
                    let doc = o.doc.replace('|', "\\|");
                    out.push_str(&format!("| `{}` | {} | {note} | {doc} |\n", o.name, o.ty));
                }
            }
            if !f.result.is_empty() {
                out.push_str(&format!("\nResult: `{}`\n", f.result.replace('`', "'")));
            }
            if !f.example.is_empty() {
                out.push_str(&format!("\n```rhai\n{}\n```\n", f.example));
            }
        }
    }
    out
}

/// `text` in lines of at most `width` characters, broken at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repl::catalog::tests::sample;

    fn catalog() -> Catalog {
        Catalog::new(sample(), &rhai::Engine::new())
    }

    #[test]
    fn overview_groups_by_section() {
        let text = overview(&catalog(), 200);
        let price = text.find("\nPrice\n").expect("Price section");
        let regions = text.find("\nRegions and zones\n").expect("Regions section");
        assert!(price < regions, "sections in table order");
        assert!(text.contains("  describe_price    Quote the price"));
        let narrow = overview(&catalog(), 30);
        assert!(
            narrow.contains("  describe_price    Quote the…\n"),
            "{narrow}"
        );
    }

    #[test]
    fn about_a_documented_function() {
        let text = about(&catalog(), "describe_price", 120).expect("documented");
        assert!(text.starts_with("describe_price(#{instance_type: string (required)"));
        assert!(text.contains("}) -> map\n"), "{text}");
        assert!(text.contains(
            "\n  [Price]\n  Quote the price of an instance configuration. Prices are per hour.\n"
        ));
        assert!(text.contains("  period         int     default 1       Billing periods."));
        assert!(text.contains("  instance_type  string  required        The instance type"));
        assert!(text.contains("  price_unit     string  default \"Hour\"  Hour, Week"));
        assert!(text.contains("Result:\n  #{ PriceInfo"));
        assert!(text.contains("Example:\n  describe_price(#{ instance_type: \"ecs.g7.large\" })"));
    }

    #[test]
    fn a_long_signature_is_shortened() {
        let text = about(&catalog(), "describe_price", 40).expect("documented");
        assert!(
            text.starts_with("describe_price(#{ options below }) -> map\n"),
            "{text}"
        );
    }

    /// docs/functions.md is what the table generates: regenerate and compare.
    #[test]
    fn docs_functions_md_is_in_sync() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/functions.md");
        let engine = rhai::Engine::new_raw();
        let generated = reference_markdown(&Catalog::new(
            crate::repl::host_backend::documented_functions(),
            &engine,
        ));
        if std::env::var_os("ECSH_UPDATE_DOCS").is_some() {
            std::fs::write(&path, &generated).expect("write docs/functions.md");
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "docs/functions.md is not what the functions table generates; run \
             `ECSH_UPDATE_DOCS=1 cargo test --lib docs_functions_md` and commit the file"
        );
    }

    #[test]
    fn the_reference_has_every_function() {
        let engine = rhai::Engine::new_raw();
        let docs = crate::repl::host_backend::documented_functions();
        let text = reference_markdown(&Catalog::new(docs.clone(), &engine));
        for f in &docs {
            assert!(text.contains(&format!("### `{}`", f.name)), "{}", f.name);
        }
        assert!(
            !text.contains("&str") && !text.contains("core::"),
            "no Rust type names"
        );
    }

    #[test]
    fn engine_signatures_speak_rhai() {
        assert_eq!(
            rhai_signature("keep(id: &str) -> core::result::Result<alloc::vec::Vec<rhai::Dynamic>, alloc::boxed::Box<rhai::EvalAltResult>>"),
            "keep(id: string) -> array"
        );
        assert_eq!(
            rhai_signature("len(string: &mut ImmutableString) -> i64"),
            "len(string: string) -> int"
        );
    }

    #[test]
    fn about_stdlib_and_unknown_names() {
        let len = about(&catalog(), "len", 100).expect("stdlib");
        assert!(len.contains("len("), "{len}");
        assert!(!len.contains("&str") && !len.contains("i64"), "{len}");
        let miss = about(&catalog(), "describe_prise", 100).unwrap_err();
        assert_eq!(
            miss,
            "no function named `describe_prise`; did you mean `describe_price`?"
        );
    }
}
