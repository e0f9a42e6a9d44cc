//! The tidy test that keeps an action's name in one place: no string literal in `src/` outside
//! the registry (`ops/actions.rs`) equals a registered action's name. Other layers refer to
//! the registry's constants (`&A::RUN_INSTANCES`) instead. Test code is not scanned: tests
//! send actions by name, as a user does.

use super::ACTIONS;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Files allowed to spell action names, with why. Keep it short: each entry is a second place
/// an action's name lives.
const EXCEPTIONS: &[(&str, &str)] = &[
    ("src/ops/actions.rs", "the registry itself"),
    ("src/ops/tidy.rs", "this test"),
];

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its test module (by convention the last item, opened by
/// `#[cfg(test)]` at the start of a line) and without the test-only files (`tests.rs`).
fn non_test_code(path: &Path, text: &str) -> Option<String> {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return None;
    }
    let end = text.find("\n#[cfg(test)]").unwrap_or(text.len());
    Some(text[..end].to_string())
}

/// The string literals of Rust source, with the line each starts on. Comments, char literals
/// and lifetimes are skipped; raw strings (`r#"…"#`) are read whole.
fn string_literals(code: &str) -> Vec<(usize, String)> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < b.len() {
        match b[i] {
            b'\n' => line += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    line += usize::from(b[i] == b'\n');
                    i += 1;
                }
                i += 2;
                continue;
            }
            b'\'' => {
                // A char literal ('x', '\'', '"') or a lifetime ('a): skip the literal only.
                if b.get(i + 1) == Some(&b'\\') {
                    i += 2;
                    while i < b.len() && b[i] != b'\'' {
                        i += 1;
                    }
                } else if b.get(i + 2) == Some(&b'\'') {
                    i += 2;
                }
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) == Some(&b'"') {
                    let close: String = format!("\"{}", "#".repeat(hashes));
                    let start = j + 1;
                    let end = code[start..].find(&close).map_or(b.len(), |e| start + e);
                    out.push((line, code[start..end].to_string()));
                    line += code[start..end].matches('\n').count();
                    i = end + close.len();
                    continue;
                }
            }
            b'"' => {
                let start = i + 1;
                let mut j = start;
                let at = line;
                while j < b.len() && b[j] != b'"' {
                    if b[j] == b'\\' {
                        j += 1;
                    }
                    line += usize::from(b.get(j) == Some(&b'\n'));
                    j += 1;
                }
                out.push((at, code[start..j.min(b.len())].to_string()));
                i = j + 1;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

#[test]
fn action_names_live_in_the_registry() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let names: BTreeSet<&str> = ACTIONS.iter().map(|a| a.name).collect();
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(
        files.len() > 50,
        "found only {} files under src/",
        files.len()
    );
    let mut found = Vec::new();
    for path in files {
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        if EXCEPTIONS.iter().any(|(f, _)| *f == rel) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let Some(code) = non_test_code(&path, &text) else {
            continue;
        };
        for (line, lit) in string_literals(&code) {
            if names.contains(lit.as_str()) {
                found.push(format!("{rel}:{line}: \"{lit}\""));
            }
        }
    }
    assert!(
        found.is_empty(),
        "action names written outside the registry (refer to the entry instead, e.g. \
         `&A::RUN_INSTANCES` or `A::RUN_INSTANCES.name`):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scanner_reads_literals_and_skips_comments_chars_and_raw_strings() {
    let code = "let a = \"RunInstances\"; // \"DeleteVpc\"\n/* \"CreateVpc\" */ let c = '\"';\n\
                let l: &'static str = r#\"Describe\"Zones\"#; let e = \"a\\\"b\";";
    let lits: Vec<String> = string_literals(code).into_iter().map(|(_, s)| s).collect();
    assert_eq!(lits, ["RunInstances", "Describe\"Zones", "a\\\"b"]);
    assert_eq!(string_literals("\n\n\"X\"")[0].0, 3);
}
