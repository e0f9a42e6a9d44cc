//! What the REPL needs to know about the text being typed, without running it: whether an entry
//! is unfinished (so the editor keeps reading lines), and where the cursor sits (inside which
//! call, inside which `#{ … }` map, after which key) for completion and hints.
//!
//! Incompleteness follows the parser, not bracket counting (see notes §8): an entry is unfinished
//! only when Rhai's own parse error says the input ended too early. A real syntax error (`let x =
//! 1 1`) is reported at once instead of waiting for more input forever. Pure functions, no I/O.

use rhai::{LexError, ParseError, ParseErrorType};

/// Whether `err`, from compiling `src`, means the user has not finished typing: the script ended
/// in the middle of an expression (`foo(1,`), a token is missing after the last non-blank
/// character (`fn f() {`, `#{a: 1,`, `[1, 2`), or a backtick string spans lines.
pub fn is_incomplete(src: &str, err: &ParseError) -> bool {
    match err.err_type() {
        ParseErrorType::UnexpectedEOF => true,
        ParseErrorType::MissingToken(..) => match offset_of(src, err.position()) {
            None => true,
            Some(at) => at >= last_non_blank(src),
        },
        ParseErrorType::BadInput(LexError::UnterminatedString) => {
            let opened = offset_of(src, err.position()).and_then(|at| src[at..].chars().next());
            opened == Some('`') || (opened.is_none() && unclosed_backtick(src))
        }
        _ => false,
    }
}

/// Byte offset of a Rhai position (1-based line and column, columns counted in chars), or
/// `None` when the position is "none"/end of input or lies past the text.
fn offset_of(src: &str, pos: rhai::Position) -> Option<usize> {
    let (line, col) = (pos.line()?, pos.position().unwrap_or(1));
    let mut start = 0;
    for _ in 1..line {
        start += src[start..].find('\n')? + 1;
    }
    let rest = &src[start..];
    let in_line = rest.find('\n').map_or(rest, |end| &rest[..end]);
    in_line
        .char_indices()
        .nth(col.saturating_sub(1))
        .map(|(i, _)| start + i)
}

/// Byte offset just past the last non-blank character (0 for blank input).
fn last_non_blank(src: &str) -> usize {
    src.trim_end().len()
}

/// Whether the text has an odd number of backticks outside other strings and comments.
fn unclosed_backtick(src: &str) -> bool {
    let mut scan = Scanner::new(src);
    scan.run(src.len());
    scan.in_backtick
}

/// An open bracket at the cursor, innermost last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    pub kind: Bracket,
    /// Byte offset of the bracket (of `#` for `#{`).
    pub at: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bracket {
    Paren,
    Square,
    Brace,
    MapLiteral,
}

/// A small lexer that tracks open brackets, skipping strings and comments, so completion knows
/// what the cursor is inside of. It is deliberately forgiving: it reads unfinished input.
struct Scanner<'a> {
    src: &'a str,
    stack: Vec<Open>,
    in_backtick: bool,
    /// Inside a string, char literal or comment at the end of the scan.
    in_literal: bool,
    /// Where the unclosed string literal the scan ended in opened.
    literal_start: Option<usize>,
}

impl<'a> Scanner<'a> {
    fn new(src: &'a str) -> Self {
        Scanner {
            src,
            stack: Vec::new(),
            in_backtick: false,
            in_literal: false,
            literal_start: None,
        }
    }

    /// Scans `src[..end]`.
    fn run(&mut self, end: usize) {
        let bytes = &self.src.as_bytes()[..end];
        let mut i = 0;
        self.in_literal = false;
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                b'"' | b'\'' | b'`' => match skip_quoted(bytes, i) {
                    Some(next) => i = next,
                    None => {
                        self.in_literal = true;
                        self.in_backtick = b == b'`';
                        self.literal_start = Some(i);
                        return;
                    }
                },
                b'/' if bytes.get(i + 1) == Some(&b'/') => match find_byte(bytes, i, b'\n') {
                    Some(nl) => i = nl + 1,
                    None => {
                        self.in_literal = true;
                        return;
                    }
                },
                b'/' if bytes.get(i + 1) == Some(&b'*') => match find_seq(bytes, i + 2, b"*/") {
                    Some(close) => i = close + 2,
                    None => {
                        self.in_literal = true;
                        return;
                    }
                },
                b'#' if bytes.get(i + 1) == Some(&b'{') => {
                    self.push(Bracket::MapLiteral, i);
                    i += 2;
                }
                b'(' | b'[' | b'{' => {
                    let kind = match b {
                        b'(' => Bracket::Paren,
                        b'[' => Bracket::Square,
                        _ => Bracket::Brace,
                    };
                    self.push(kind, i);
                    i += 1;
                }
                b')' | b']' | b'}' => {
                    self.stack.pop();
                    i += 1;
                }
                _ => i += 1,
            }
        }
    }

    fn push(&mut self, kind: Bracket, at: usize) {
        self.stack.push(Open { kind, at });
    }
}

/// Index just past the closing quote of the literal opening at `start`, or `None` if it is not
/// closed. Backslash escapes count in `"` and `'` literals, not in backtick strings.
fn skip_quoted(bytes: &[u8], start: usize) -> Option<usize> {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote != b'`' => i += 2,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn find_byte(bytes: &[u8], from: usize, b: u8) -> Option<usize> {
    bytes[from..].iter().position(|&x| x == b).map(|p| from + p)
}

fn find_seq(bytes: &[u8], from: usize, seq: &[u8]) -> Option<usize> {
    if from > bytes.len() {
        return None;
    }
    bytes[from..]
        .windows(seq.len())
        .position(|w| w == seq)
        .map(|p| from + p)
}

/// Where the cursor is, as far as completion and hints care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Context {
    /// Inside a string or comment: nothing to complete.
    Literal,
    /// Inside the string argument of `help("…`: a function name starting at `start`.
    HelpTopic { start: usize },
    /// Typing an identifier (possibly empty) that may name a function or variable.
    Name { start: usize },
    /// Typing a key of a `#{ … }` map passed to `function`; `present` lists keys already written.
    OptionKey {
        start: usize,
        function: String,
        present: Vec<String>,
    },
}

/// The context of the cursor at byte `pos` of `line`.
pub fn context_at(line: &str, pos: usize) -> Context {
    let pos = floor_char_boundary(line, pos);
    let mut scan = Scanner::new(line);
    scan.run(pos);
    if scan.in_literal {
        return match scan.literal_start {
            Some(open)
                if line[open..].starts_with('"')
                    && ident_before_paren(line, open) == Some("help") =>
            {
                Context::HelpTopic { start: open + 1 }
            }
            _ => Context::Literal,
        };
    }
    let start = word_start(line, pos);
    if let Some(open) = scan.stack.last() {
        if open.kind == Bracket::MapLiteral && at_key_position(&line[open.at + 2..start]) {
            if let Some(function) = callee_of_map(line, open.at, &scan.stack) {
                let present = keys_written(&line[open.at + 2..start]);
                return Context::OptionKey {
                    start,
                    function,
                    present,
                };
            }
        }
    }
    Context::Name { start }
}

/// The function whose call's arguments the cursor is in (`describe_price(#{ … ` → `describe_price`),
/// with the index of the argument, for signature hints.
pub fn enclosing_call(line: &str, pos: usize) -> Option<(String, usize)> {
    let pos = floor_char_boundary(line, pos);
    let mut scan = Scanner::new(line);
    scan.run(pos);
    if scan.in_literal {
        return None;
    }
    let paren = scan.stack.iter().rposition(|o| o.kind == Bracket::Paren)?;
    let open = &scan.stack[paren];
    let name = ident_before(line, open.at)?;
    let args = &line[open.at + 1..pos];
    Some((name.to_string(), top_level_commas(args)))
}

/// Whether the text after `#{` (up to the word being typed) leaves the cursor where a key goes:
/// at the start, or after a top-level comma — not after a `:` (a value).
fn at_key_position(inside: &str) -> bool {
    let mut depth = 0usize;
    let mut expecting_key = true;
    let bytes = inside.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' | b'`' => {
                i = skip_quoted(bytes, i).unwrap_or(bytes.len());
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => expecting_key = true,
            b':' if depth == 0 => expecting_key = false,
            _ => {}
        }
        i += 1;
    }
    expecting_key
}

/// Keys already written at the top level of a map literal's text.
fn keys_written(inside: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut depth = 0usize;
    let mut segment_start = 0;
    let bytes = inside.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' | b'`' => {
                i = skip_quoted(bytes, i).unwrap_or(bytes.len());
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => segment_start = i + 1,
            b':' if depth == 0 => {
                let key = inside[segment_start..i].trim().trim_matches('"');
                if !key.is_empty() {
                    keys.push(key.to_string());
                }
            }
            _ => {}
        }
        i += 1;
    }
    keys
}

/// The function called with the map literal opening at `map_at` as an argument: the map must be
/// directly inside the call's parentheses (`f(#{`, `f(x, #{`).
fn callee_of_map(line: &str, map_at: usize, stack: &[Open]) -> Option<String> {
    let idx = stack.iter().rposition(|o| o.at == map_at)?;
    let paren = stack[..idx].last()?;
    if paren.kind != Bracket::Paren {
        return None;
    }
    let between = &line[paren.at + 1..map_at];
    let last_arg = between.rsplit(',').next().unwrap_or("");
    if !last_arg.trim().is_empty() {
        return None;
    }
    ident_before(line, paren.at).map(str::to_string)
}

/// The function whose `(` comes right before byte `at` (`help(` for `help("`).
fn ident_before_paren(line: &str, at: usize) -> Option<&str> {
    let head = line[..at].trim_end();
    let paren = head.strip_suffix('(')?;
    ident_before(paren, paren.len())
}

/// The identifier ending right before byte `at` (spaces allowed between), if any.
fn ident_before(line: &str, at: usize) -> Option<&str> {
    let head = line[..at].trim_end();
    let start = word_start(head, head.len());
    let name = &head[start..];
    let first = name.chars().next()?;
    (first.is_ascii_alphabetic() || first == '_').then_some(name)
}

/// Start of the identifier that ends at `pos`.
pub fn word_start(line: &str, pos: usize) -> usize {
    line[..pos]
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
        .last()
        .map_or(pos, |(i, _)| i)
}

fn top_level_commas(args: &str) -> usize {
    let mut depth = 0usize;
    let mut commas = 0;
    let bytes = args.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' | b'`' => {
                i = skip_quoted(bytes, i).unwrap_or(bytes.len());
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => commas += 1,
            _ => {}
        }
        i += 1;
    }
    commas
}

fn floor_char_boundary(s: &str, pos: usize) -> usize {
    let mut p = pos.min(s.len());
    while !s.is_char_boundary(p) {
        p -= 1;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incomplete(src: &str) -> bool {
        let engine = rhai::Engine::new_raw();
        match engine.compile(src) {
            Ok(_) => false,
            Err(e) => is_incomplete(src, &e),
        }
    }

    #[test]
    fn unfinished_input_continues() {
        for src in [
            "foo(1,",
            "1 +",
            "fn f() {",
            "#{a: 1,",
            "[1, 2",
            "(1",
            "let f = |x| {\n  x + 1",
            "let s = `multi\nline",
            "if true {\n print(1);\n",
            "describe_price(#{ instance_type: \"ecs.g7.large\",\n",
        ] {
            assert!(incomplete(src), "{src:?} should be incomplete");
        }
    }

    #[test]
    fn real_errors_and_complete_input_do_not_wait() {
        for src in [
            "let x = 1 1",
            "1 + 2",
            "fn f() { 1 }",
            "let s = \"abc",
            "#{a: 1}",
            "foo(1))",
            "/* open comment",
            "let = 3",
        ] {
            assert!(!incomplete(src), "{src:?} should not wait for more input");
        }
    }

    #[test]
    fn names_and_option_keys() {
        assert_eq!(context_at("descr", 5), Context::Name { start: 0 });
        assert_eq!(
            context_at("let r = describe_p", 18),
            Context::Name { start: 8 }
        );
        let line = "describe_price(#{ instance_type: \"x\", per";
        assert_eq!(
            context_at(line, line.len()),
            Context::OptionKey {
                start: line.len() - 3,
                function: "describe_price".into(),
                present: vec!["instance_type".into()],
            }
        );
        let line = "describe_price(#{";
        assert!(matches!(
            context_at(line, line.len()),
            Context::OptionKey { ref function, .. } if function == "describe_price"
        ));
    }

    #[test]
    fn values_strings_and_plain_maps_are_not_option_keys() {
        let value = "describe_price(#{ instance_type: ecs";
        assert_eq!(
            context_at(value, value.len()),
            Context::Name {
                start: value.len() - 3
            }
        );
        let in_string = "describe_price(#{ instance_type: \"ecs";
        assert_eq!(context_at(in_string, in_string.len()), Context::Literal);
        let plain = "let m = #{ a";
        assert_eq!(
            context_at(plain, plain.len()),
            Context::Name {
                start: plain.len() - 1
            }
        );
        let nested = "f(#{ a: [1, 2], b: #{ c";
        assert!(matches!(
            context_at(nested, nested.len()),
            Context::Name { .. }
        ));
    }

    #[test]
    fn help_topics_inside_the_help_string() {
        assert_eq!(
            context_at("help(\"descr", 11),
            Context::HelpTopic { start: 6 }
        );
        assert_eq!(context_at("print(\"descr", 12), Context::Literal);
        assert_eq!(context_at("help(\"a\") + \"b", 14), Context::Literal);
    }

    #[test]
    fn enclosing_call_counts_arguments() {
        assert_eq!(
            enclosing_call("call(\"ecs\", ", 12),
            Some(("call".into(), 1))
        );
        assert_eq!(
            enclosing_call("describe_price(#{ a: [1, 2", 26),
            Some(("describe_price".into(), 0))
        );
        assert_eq!(enclosing_call("1 + (2", 6), None);
        assert_eq!(enclosing_call("f(\"(", 4), None);
    }
}
