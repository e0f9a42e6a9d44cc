//! The rustyline helper of the REPL: when an entry is unfinished (Validator), what Tab offers
//! (Completer: function names, `:commands`, option keys inside `#{ … }`), and the grey hint
//! after the cursor (Hinter: the rest of a function name with its signature, or the options still
//! unwritten). It reads the [`Catalog`] and the meta-command table; it never runs code.

use super::catalog::Catalog;
use super::syntax::{self, Context as Cursor};
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::{Hint, Hinter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};
use std::borrow::Cow;
use unicode_width::UnicodeWidthStr;

/// The editor helper. `catalog` is refreshed by the REPL after every entry, so functions and
/// variables the user defines become completable.
pub struct EcshHelper {
    /// Compiles entries to decide whether they are finished; never evaluates.
    parser: rhai::Engine,
    pub catalog: Catalog,
    commands: Vec<&'static str>,
}

impl EcshHelper {
    pub fn new(catalog: Catalog, commands: Vec<&'static str>) -> EcshHelper {
        EcshHelper {
            parser: rhai::Engine::new_raw(),
            catalog,
            commands,
        }
    }

    /// Whether `input` is a whole entry (or a meta-command), rather than one that needs more
    /// lines.
    pub fn is_complete(&self, input: &str) -> bool {
        if input.trim_start().starts_with(':') || input.trim().is_empty() {
            return true;
        }
        match self.parser.compile(input) {
            Ok(_) => true,
            Err(e) => !syntax::is_incomplete(input, &e),
        }
    }

    /// Candidates for the text before `pos`: where the replaced word starts, and the pairs.
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<Pair>) {
        let head = &line[..pos];
        if let Some(cmd) = head.trim_start().strip_prefix(':') {
            if cmd.contains(char::is_whitespace) {
                return (pos, Vec::new());
            }
            let start = pos - cmd.len() - 1;
            let pairs = self
                .commands
                .iter()
                .filter(|c| c.starts_with(cmd))
                .map(|c| pair(&format!(":{c}"), &format!(":{c}")))
                .collect();
            return (start, pairs);
        }
        match syntax::context_at(line, pos) {
            Cursor::Literal => (pos, Vec::new()),
            Cursor::HelpTopic { start } => {
                let word = &line[start..pos];
                let pairs = self
                    .catalog
                    .names_starting_with(word)
                    .map(|n| pair(n, n))
                    .collect();
                (start, pairs)
            }
            Cursor::OptionKey {
                start,
                function,
                present,
            } => {
                let word = &line[start..pos];
                let pairs = self
                    .catalog
                    .find(&function)
                    .map(|f| {
                        f.options
                            .iter()
                            .filter(|o| o.name.starts_with(word) && !present.contains(&o.name))
                            .map(|o| pair(&o.name, &format!("{}: ", o.name)))
                            .collect()
                    })
                    .unwrap_or_default();
                (start, pairs)
            }
            Cursor::Name { start } => {
                let word = &line[start..pos];
                if word.is_empty() || word.starts_with(|c: char| c.is_ascii_digit()) {
                    return (pos, Vec::new());
                }
                let pairs = self
                    .catalog
                    .names_starting_with(word)
                    .map(|n| pair(n, n))
                    .collect();
                (start, pairs)
            }
        }
    }

    /// The hint for the cursor at the end of `line`.
    pub fn hint_for(&self, line: &str, pos: usize) -> Option<SignatureHint> {
        if pos < line.len() || line.trim_start().starts_with(':') {
            return None;
        }
        match syntax::context_at(line, pos) {
            Cursor::Literal | Cursor::HelpTopic { .. } => None,
            Cursor::Name { start } if pos > start => self.name_hint(&line[start..pos]),
            Cursor::OptionKey {
                function, present, ..
            } => {
                let f = self.catalog.find(&function)?;
                let left: Vec<&str> = f
                    .options
                    .iter()
                    .map(|o| o.name.as_str())
                    .filter(|n| !present.iter().any(|p| p == n))
                    .collect();
                (!left.is_empty()).then(|| {
                    SignatureHint::display_only(format!("   options: {}", left.join(", ")))
                })
            }
            Cursor::Name { .. } => {
                let (function, _) = syntax::enclosing_call(line, pos)?;
                let f = self.catalog.find(&function)?;
                Some(SignatureHint::display_only(format!("   {}", f.signature())))
            }
        }
    }

    /// A word that begins exactly one documented function: the rest of its name, then its
    /// signature (only the name is inserted when the hint is accepted).
    fn name_hint(&self, word: &str) -> Option<SignatureHint> {
        let mut matches = self
            .catalog
            .documented
            .iter()
            .filter(|f| f.name.starts_with(word));
        let f = matches.next()?;
        if matches.next().is_some() {
            return None;
        }
        let rest = &f.name[word.len()..];
        let args = &f.signature()[f.name.len()..];
        Some(SignatureHint {
            display: format!("{rest}{args}"),
            completion: rest.to_string(),
        })
    }
}

fn pair(display: &str, replacement: &str) -> Pair {
    Pair {
        display: display.to_string(),
        replacement: replacement.to_string(),
    }
}

/// A hint whose displayed text (name rest + signature) differs from what → inserts (name rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHint {
    pub display: String,
    pub completion: String,
}

/// Width of the `ecsh> ` prompt, which precedes the first line of an entry.
const PROMPT_WIDTH: usize = 6;

impl SignatureHint {
    /// The hint cut to `room` display columns (ending in `…` when cut); the completion part is
    /// kept whole only if it still shows in full.
    fn fitted(mut self, room: usize) -> SignatureHint {
        if self.display.width() <= room {
            return self;
        }
        self.display = super::print::cut(&self.display, room);
        if self.display.len() < self.completion.len() + '…'.len_utf8() {
            self.completion.clear();
        }
        self
    }

    fn display_only(display: String) -> SignatureHint {
        SignatureHint {
            display,
            completion: String::new(),
        }
    }
}

impl Hint for SignatureHint {
    fn display(&self) -> &str {
        &self.display
    }

    fn completion(&self) -> Option<&str> {
        (!self.completion.is_empty()).then_some(self.completion.as_str())
    }
}

impl Completer for EcshHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        Ok(self.candidates(line, pos))
    }
}

impl Hinter for EcshHelper {
    type Hint = SignatureHint;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<SignatureHint> {
        let hint = self.hint_for(line, pos)?;
        // A hint that wraps pushes the screen around; cut it to what is left of the row.
        let typed = line.rsplit('\n').next().unwrap_or(line).width() + PROMPT_WIDTH;
        let room = super::print::terminal_width().saturating_sub(typed + 1);
        Some(hint.fitted(room))
    }
}

impl Highlighter for EcshHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        false
    }
}

impl Validator for EcshHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if self.is_complete(ctx.input()) {
            ValidationResult::Valid(None)
        } else {
            ValidationResult::Incomplete
        })
    }
}

impl Helper for EcshHelper {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repl::catalog::tests::sample;

    fn helper() -> EcshHelper {
        let catalog = Catalog::new(sample(), &rhai::Engine::new());
        EcshHelper::new(catalog, vec!["help", "ledger", "json", "quit"])
    }

    fn replacements(line: &str) -> (usize, Vec<String>) {
        let (start, pairs) = helper().candidates(line, line.len());
        (start, pairs.into_iter().map(|p| p.replacement).collect())
    }

    #[test]
    fn completes_function_names_from_table_and_stdlib() {
        assert_eq!(
            replacements("let p = describe_pr"),
            (8, vec!["describe_price".to_string()])
        );
        let (_, stdlib) = replacements("x.to_up");
        assert!(stdlib.contains(&"to_upper".to_string()), "{stdlib:?}");
    }

    #[test]
    fn completes_option_keys_of_the_called_function() {
        let line = "describe_price(#{ instance_type: \"ecs.g7.large\", p";
        let (start, keys) = replacements(line);
        assert_eq!(start, line.len() - 1);
        assert_eq!(keys, ["period: ", "price_unit: "]);
        let (_, keys) = replacements("describe_price(#{ ");
        assert_eq!(keys, ["instance_type: ", "period: ", "price_unit: "]);
    }

    #[test]
    fn completes_meta_commands() {
        assert_eq!(replacements(":le"), (0, vec![":ledger".to_string()]));
        assert_eq!(replacements(":json o").1, Vec::<String>::new());
    }

    #[test]
    fn nothing_inside_strings_but_help_topics() {
        assert!(replacements("print(\"descr").1.is_empty());
        assert_eq!(
            replacements("help(\"describe_pr"),
            (6, vec!["describe_price".to_string()])
        );
    }

    #[test]
    fn hints_signature_for_a_unique_prefix() {
        let h = helper().hint_for("describe_pr", 11).expect("a hint");
        assert_eq!(h.completion, "ice");
        assert!(h
            .display
            .starts_with("ice(#{instance_type: string (required)"));
        assert!(helper().hint_for("describe_", 9).is_none(), "ambiguous");
        let inside = helper()
            .hint_for("describe_price(#{ period: 2, ", 29)
            .expect("a hint");
        assert_eq!(inside.display, "   options: instance_type, price_unit");
        assert_eq!(Hint::completion(&inside), None);
    }

    #[test]
    fn long_hints_are_cut_to_the_row() {
        let h = helper().hint_for("describe_pr", 11).expect("a hint");
        let cut = h.clone().fitted(10);
        assert_eq!(cut.display, "ice(#{ins…");
        assert_eq!(cut.completion, "ice");
        assert_eq!(
            h.clone().fitted(2).completion,
            "",
            "too narrow to show the name"
        );
        assert_eq!(h.clone().fitted(500), h);
    }

    #[test]
    fn validator_uses_the_parser_not_bracket_counting() {
        let h = helper();
        assert!(!h.is_complete("let f = |x| {"));
        assert!(h.is_complete("let f = |x| { x }"));
        assert!(
            h.is_complete("let x = 1 1"),
            "a real error is reported, not continued"
        );
        assert!(h.is_complete(":help"));
        assert!(h.is_complete("print(\"{\")"));
    }
}
