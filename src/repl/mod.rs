//! The interactive shell: `ecsh` with no subcommand. One Rhai scope for the whole session
//! (variables and functions stay from line to line), rustyline editing with completion, hints and
//! multi-line entries, history without secrets, readable results, and meta-commands.
//!
//! The REPL runs code on the engine the host builds for scripts — same functions, limits,
//! confirmation guard and ledger — through the [`Backend`] trait; it adds only the session's
//! persistence, `help`, printing and the exit question. It never talks to the cloud itself and
//! never decides about money: the guard asks before a chargeable call exactly as in scripts, and
//! the session is a ledger scope, so on exit the user chooses to release, keep, or stay.
//!
//! Submodules: [`syntax`] (unfinished input, cursor context), [`catalog`] (what can be called),
//! [`editor`] (the rustyline helper), [`commands`] (the meta-command table), [`history`] (the
//! file and the secret rule), [`print`] (tables, maps, JSON), [`help`] (help texts),
//! [`host_backend`] (the real host behind it). Ctrl-C while code runs is a signal, routed to
//! the session's cancel flag by the CLI (`cli/repl.rs`, through `ledger::cancel`).

pub mod catalog;
pub mod commands;
pub mod editor;
pub mod help;
pub mod history;
pub mod host_backend;
pub mod print;
pub mod syntax;

use catalog::{Catalog, FunctionDoc};
use editor::EcshHelper;
use rhai::{Dynamic, EvalAltResult, Scope, AST};
use rustyline::config::{CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::Editor;
use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What the REPL needs from the host: the script engine and the session's ledger. The host's
/// session implements it, so the REPL runs code exactly as scripts run.
pub trait Backend {
    /// The engine, built as for scripts (functions, stdlib, limits, guard, ledger hooks).
    fn engine(&self) -> &rhai::Engine;
    /// The same engine, so the REPL can add `help`.
    fn engine_mut(&mut self) -> &mut rhai::Engine;
    /// Script-defined functions every script starts with (the stdlib flows), if the host keeps
    /// them as an AST rather than in the engine. Run once at the start of the session.
    fn prelude(&self) -> AST;
    /// Refuses an entry the script runner would refuse before running it (a `fn` that shadows a
    /// host function). The message says what to do instead.
    fn check(&self, _entry: &AST) -> Result<(), String> {
        Ok(())
    }
    /// The documented functions, from the host's table.
    fn documented(&self) -> Vec<FunctionDoc>;
    /// An error as the script runner prints it (`source` is the entry that failed).
    fn render_error(&self, err: &EvalAltResult, source: &str) -> String;
    /// The flag that cancels a running call or wait; the REPL sets it on Ctrl-C and clears it
    /// before the next entry.
    fn cancel_flag(&self) -> Arc<AtomicBool>;
    /// The credential values of the session (AccessKey secret, STS token): a line holding one
    /// never reaches the history file, whatever it is named.
    fn secret_values(&self) -> Vec<crate::secret::Secret> {
        Vec::new()
    }
    /// How many resources the session's ledger still holds (created, not released or kept).
    fn held(&self) -> usize;
    /// `:ledger`: what the session created and still holds, with its running cost.
    fn ledger_report(&self) -> String;
    /// `:cost`: the running cost and the approvals given.
    fn cost_report(&self) -> String;
    /// Releases everything the session holds now (the session goes on); returns what to show.
    fn release_all(&mut self) -> String;
    /// Marks everything the session holds as kept, so ending the session leaves it running;
    /// returns what to show.
    fn keep_all(&mut self) -> String;
    /// Ends the session's ledger scope (releasing whatever is neither released nor kept) and
    /// returns the resource summary, or an empty string when the session created nothing.
    fn finish(&mut self) -> String;
}

/// What the loop does after an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// An answer to a question the session asks (exit, cleanup).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Line(String),
    /// Ctrl-C.
    Interrupted,
    /// Ctrl-D or end of input.
    Eof,
}

/// The state of one REPL session, independent of the terminal: tests drive it directly.
pub struct Session {
    pub backend: Box<dyn Backend>,
    scope: Scope<'static>,
    ast: AST,
    last: Option<Dynamic>,
    json: bool,
    catalog: Rc<RefCell<Catalog>>,
    /// Text `help()` produced during the current entry, shown after it.
    pending: Rc<RefCell<String>>,
    out: Box<dyn Write>,
    err: Box<dyn Write>,
    asker: Box<dyn FnMut(&str) -> Answer>,
    width: Box<dyn Fn() -> usize>,
}

impl Session {
    /// A session writing results to `out`, errors to `err`, asking questions with `asker`.
    pub fn new(
        mut backend: Box<dyn Backend>,
        out: Box<dyn Write>,
        err: Box<dyn Write>,
        asker: Box<dyn FnMut(&str) -> Answer>,
    ) -> Session {
        let catalog = Rc::new(RefCell::new(Catalog::new(
            backend.documented(),
            backend.engine(),
        )));
        let pending = Rc::new(RefCell::new(String::new()));
        register_help(backend.engine_mut(), &catalog, &pending);
        catalog.borrow_mut().add_names(["help".to_string()]);
        let ast = backend.prelude();
        let mut session = Session {
            backend,
            scope: Scope::new(),
            ast,
            last: None,
            json: false,
            catalog,
            pending,
            out,
            err,
            asker,
            width: Box::new(print::terminal_width),
        };
        session.run_prelude();
        session
    }

    /// Fixes the width tables are fitted to (tests; the terminal's width otherwise).
    pub fn set_width(&mut self, width: usize) {
        self.width = Box::new(move || width);
    }

    fn run_prelude(&mut self) {
        let result = self
            .backend
            .engine()
            .eval_ast_with_scope::<Dynamic>(&mut self.scope, &self.ast);
        self.ast.clear_statements();
        if let Err(e) = result {
            let text = self.backend.render_error(&e, "<stdlib>");
            self.warn(&text);
        }
        self.catalog.borrow_mut().add_script_functions(&self.ast);
    }

    /// The catalog as it stands (documented functions plus everything defined so far).
    pub fn catalog(&self) -> Catalog {
        self.catalog.borrow().clone()
    }

    /// Handles one entry: a `:command` or Rhai code.
    pub fn entry(&mut self, input: &str) -> Flow {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Flow::Continue;
        }
        if let Some(cmd) = trimmed.strip_prefix(':') {
            return self.command(cmd);
        }
        self.eval(input);
        Flow::Continue
    }

    fn command(&mut self, text: &str) -> Flow {
        let (name, arg) = text
            .split_once(char::is_whitespace)
            .map_or((text, ""), |(n, a)| (n, a.trim()));
        match commands::lookup(name) {
            Ok(cmd) => (cmd.run)(self, arg),
            Err(msg) => {
                self.warn(&msg);
                Flow::Continue
            }
        }
    }

    /// Runs `src` and shows the result or the error; the session goes on either way. A Ctrl-C
    /// that came after the entry was typed cancels it; the flag is cleared once it has.
    fn eval(&mut self, src: &str) {
        let result = self.run_entry(src);
        self.backend.cancel_flag().store(false, Ordering::SeqCst);
        self.refresh_catalog();
        let helped = std::mem::take(&mut *self.pending.borrow_mut());
        if !helped.is_empty() {
            self.say(&helped);
        }
        match result {
            Ok(value) => self.show(value),
            Err(e) => {
                let mut text = self.backend.render_error(&e, src);
                // `x.Regions.Regoin` with `x` a session variable: name the keys it does have.
                let engine = self.backend.engine();
                if let Some((property, keys)) =
                    crate::host::runner::missing_property_keys(engine, &mut self.scope, src, &e)
                {
                    use crate::host::runner::missing_property_message as message;
                    text =
                        text.replace(&message(&property, None), &message(&property, Some(&keys)));
                }
                self.warn(text.trim_end());
            }
        }
    }

    /// Compiles `src` against the session's scope, adds its functions to the session, and runs
    /// it. Statements are cleared afterwards so earlier lines never run again (notes §8).
    fn run_entry(&mut self, src: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        let ast = self.backend.engine().compile_with_scope(&self.scope, src)?;
        self.backend
            .check(&ast)
            .map_err(|why| EvalAltResult::ErrorRuntime(why.into(), rhai::Position::NONE))?;
        self.ast += ast;
        let result = self
            .backend
            .engine()
            .eval_ast_with_scope::<Dynamic>(&mut self.scope, &self.ast);
        self.ast.clear_statements();
        result
    }

    fn refresh_catalog(&mut self) {
        let mut cat = self.catalog.borrow_mut();
        cat.add_script_functions(&self.ast);
        cat.add_names(self.scope.iter_raw().map(|(name, ..)| name.to_string()));
    }

    fn show(&mut self, value: Dynamic) {
        if value.is_unit() {
            return;
        }
        let text = if self.json {
            Some(print::render_json(&value))
        } else {
            print::render(&value, (self.width)())
        };
        if let Some(text) = text {
            self.say(&text);
        }
        self.last = Some(value);
    }

    /// `:json`, `:json on`, `:json off`.
    fn json_command(&mut self, arg: &str) {
        match arg {
            "" => match &self.last {
                Some(v) => {
                    let text = print::render_json(v);
                    self.say(&text);
                }
                None => {
                    self.say("no result yet: run something first, then :json prints it as JSON")
                }
            },
            "on" => {
                self.json = true;
                self.say("results are printed as JSON (:json off to go back to tables)");
            }
            "off" => {
                self.json = false;
                self.say("results are printed as tables and key/value lists");
            }
            other => self.warn(&format!(
                "`:json {other}` is not understood; use :json, :json on or :json off"
            )),
        }
    }

    /// `:cleanup`: releases what the session holds after a yes.
    fn cleanup_now(&mut self) {
        let held = self.backend.held();
        if held == 0 {
            self.say("this session holds no resources; nothing to release");
            return;
        }
        let report = self.backend.ledger_report();
        self.say(&report);
        let question = format!("Release {} now? [y/N] ", plural(held, "resource"));
        match (self.asker)(&question) {
            Answer::Line(a) if is_yes(&a) => {
                let summary = self.backend.release_all();
                self.say(&summary);
            }
            _ => self.say("nothing released"),
        }
    }

    /// Asks what to do with held resources before leaving. `true` means leave.
    pub fn confirm_exit(&mut self) -> bool {
        let held = self.backend.held();
        if held == 0 {
            return true;
        }
        let report = self.backend.ledger_report();
        self.say(&format!(
            "This session still holds {}:\n{report}",
            plural(held, "resource")
        ));
        loop {
            let answer = (self.asker)("Release them (r), keep them (k), or cancel and stay (c)? ");
            match answer {
                Answer::Line(a) => match a.trim().to_ascii_lowercase().as_str() {
                    "r" | "release" => {
                        let summary = self.backend.release_all();
                        self.say(&summary);
                        return true;
                    }
                    "k" | "keep" => {
                        let summary = self.backend.keep_all();
                        self.say(&summary);
                        return true;
                    }
                    "c" | "cancel" | "stay" => return false,
                    other => self.warn(&format!(
                        "`{other}` is not an answer; type r to release, k to keep, c to stay"
                    )),
                },
                // Ctrl-C backs out of leaving; end of input cannot answer, so the session
                // ends as any scope does: releasing what it created.
                Answer::Interrupted => return false,
                Answer::Eof => {
                    let summary = self.backend.release_all();
                    self.say(&summary);
                    return true;
                }
            }
        }
    }

    /// Ends the session: the ledger scope closes and its summary is shown.
    pub fn finish(&mut self) {
        let summary = self.backend.finish();
        if !summary.trim().is_empty() {
            self.say(summary.trim_end());
        }
    }

    fn say(&mut self, text: &str) {
        // A closed stdout cannot be reported anywhere better; the session goes on.
        let _ = writeln!(self.out, "{}", text.trim_end_matches('\n'));
        let _ = self.out.flush();
    }

    fn warn(&mut self, text: &str) {
        let _ = writeln!(self.err, "{}", text.trim_end_matches('\n'));
        let _ = self.err.flush();
    }
}

fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Registers `help()` and `help(name)`. Their text is queued in `pending` and shown after the
/// entry, like a result, so `help` works in any expression position.
fn register_help(
    engine: &mut rhai::Engine,
    catalog: &Rc<RefCell<Catalog>>,
    pending: &Rc<RefCell<String>>,
) {
    let (cat, out) = (catalog.clone(), pending.clone());
    engine.register_fn("help", move || {
        let text = help::overview(&cat.borrow(), print::terminal_width());
        out.borrow_mut().push_str(&text);
    });
    let (cat, out) = (catalog.clone(), pending.clone());
    engine.register_fn(
        "help",
        move |name: &str| -> Result<(), Box<EvalAltResult>> {
            let text = help::about(&cat.borrow(), name, print::terminal_width())?;
            out.borrow_mut().push_str(&text);
            Ok(())
        },
    );
}

/// Runs the REPL on the terminal until the user leaves; returns the process exit code.
pub fn run_with(backend: Box<dyn Backend>) -> anyhow::Result<i32> {
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .history_ignore_space(true)
        .max_history_size(1000)?
        .build();
    let questions = Rc::new(RefCell::new(Editor::<(), FileHistory>::with_config(
        Config::builder().auto_add_history(false).build(),
    )?));
    let asker = {
        let q = questions.clone();
        Box::new(move |prompt: &str| match q.borrow_mut().readline(prompt) {
            Ok(line) => Answer::Line(line),
            Err(ReadlineError::Interrupted) => Answer::Interrupted,
            Err(_) => Answer::Eof,
        })
    };
    let mut session = Session::new(
        backend,
        Box::new(std::io::stdout()),
        Box::new(std::io::stderr()),
        asker,
    );
    let mut rl: Editor<EcshHelper, FileHistory> = Editor::with_config(config)?;
    rl.set_helper(Some(EcshHelper::new(session.catalog(), commands::names())));
    let history = History::open(&mut rl);
    session.say("ecsh — :help for commands, help() for functions, Ctrl-D to leave.");
    // While a line is edited Ctrl-C is a key (rustyline's raw mode); at any other moment it is
    // SIGINT, which the CLI's signal watcher (`cli/repl.rs`) turns into this cancel flag.
    let cancel = session.backend.cancel_flag();
    loop {
        cancel.store(false, Ordering::SeqCst);
        match rl.readline("ecsh> ") {
            Ok(line) => {
                history.record(&mut rl, &line, &mut session);
                let flow = session.entry(&line);
                if let Some(h) = rl.helper_mut() {
                    h.catalog = session.catalog();
                }
                if flow == Flow::Quit && session.confirm_exit() {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => {
                if session.confirm_exit() {
                    break;
                }
            }
            Err(e) => {
                session.finish();
                return Err(e.into());
            }
        }
    }
    session.finish();
    Ok(0)
}

/// The history file of the session, if there is one.
struct History {
    path: Option<PathBuf>,
}

impl History {
    fn open(rl: &mut Editor<EcshHelper, FileHistory>) -> History {
        let path = history::history_path();
        if let Some(p) = &path {
            if let Some(dir) = p.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            // A missing file is the first session; anything else unreadable starts empty too.
            let _ = rl.load_history(p);
        }
        History { path }
    }

    /// Adds `line` to the history (and its file) unless it holds a secret.
    fn record(&self, rl: &mut Editor<EcshHelper, FileHistory>, line: &str, session: &mut Session) {
        if line.trim().is_empty() {
            return;
        }
        let secrets = session.backend.secret_values();
        let reason = history::secret_reason(line).or_else(|| {
            history::holds_value(line, &secrets)
                .then_some("it holds a credential value of this session")
        });
        if let Some(reason) = reason {
            session.warn(&format!("(not saved in history: {reason})"));
            return;
        }
        if !matches!(rl.add_history_entry(line), Ok(true)) {
            return;
        }
        if let Some(p) = &self.path {
            if let Err(e) = append(rl, p) {
                session.warn(&format!("could not write history to {}: {e}", p.display()));
            }
        }
    }
}

fn append(rl: &mut Editor<EcshHelper, FileHistory>, path: &Path) -> rustyline::Result<()> {
    rl.append_history(path)
}

#[cfg(test)]
mod tests;

/// Runs the REPL on the session the CLI built for this target — the same [`Session`] a script
/// run gets (client, region, runtime, output sinks, cancel flag, guard, and `ledger`: pass one
/// started with the label `repl`, so the session is a ledger scope). Returns the exit code.
///
/// The caller routes signals: SIGINT must set `session.cancel` (which cancels the running
/// entry), not end the process; `cli/repl.rs` does so through `ledger::cancel`.
///
/// [`Session`]: crate::host::Session
pub fn run(session: crate::host::Session) -> anyhow::Result<i32> {
    run_with(Box::new(host_backend::HostBackend::new(session)?))
}
