//! Session tests with a small in-process backend: a plain Rhai engine plus a counter standing in
//! for the ledger (`make()` "creates" one resource). The real host backend is exercised by the
//! pseudo-terminal tests in tests/it/repl.rs.

use super::catalog::tests::sample;
use super::*;
use std::cell::Cell;

struct TestBackend {
    engine: rhai::Engine,
    cancel: Arc<AtomicBool>,
    held: Rc<Cell<usize>>,
    released: Rc<Cell<usize>>,
}

impl TestBackend {
    fn new() -> (TestBackend, Rc<Cell<usize>>) {
        let mut engine = rhai::Engine::new();
        let held = Rc::new(Cell::new(0));
        let h = held.clone();
        engine.register_fn("make", move || h.set(h.get() + 1));
        let released = Rc::new(Cell::new(0));
        let backend = TestBackend {
            engine,
            cancel: Arc::new(AtomicBool::new(false)),
            held,
            released: released.clone(),
        };
        (backend, released)
    }
}

impl Backend for TestBackend {
    fn engine(&self) -> &rhai::Engine {
        &self.engine
    }
    fn engine_mut(&mut self) -> &mut rhai::Engine {
        &mut self.engine
    }
    fn prelude(&self) -> AST {
        self.engine
            .compile("fn twice(x) { x * 2 }")
            .unwrap_or_default()
    }
    fn check(&self, entry: &AST) -> Result<(), String> {
        match entry.iter_functions().find(|f| f.name == "make") {
            Some(_) => Err("make is a host function; rename yours".into()),
            None => Ok(()),
        }
    }
    fn documented(&self) -> Vec<FunctionDoc> {
        sample()
    }
    fn render_error(&self, err: &EvalAltResult, _source: &str) -> String {
        format!("error: {err}")
    }
    fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }
    fn held(&self) -> usize {
        self.held.get()
    }
    fn ledger_report(&self) -> String {
        format!("held: {}", self.held.get())
    }
    fn cost_report(&self) -> String {
        "cost: 0".into()
    }
    fn release_all(&mut self) -> String {
        self.released.set(self.released.get() + self.held.get());
        self.held.set(0);
        "released all".into()
    }
    fn keep_all(&mut self) -> String {
        self.held.set(0);
        "kept all".into()
    }
    fn finish(&mut self) -> String {
        self.released.set(self.released.get() + self.held.get());
        self.held.set(0);
        "summary".into()
    }
}

/// Shared buffer standing in for a terminal stream.
#[derive(Clone, Default)]
struct Buf(Rc<RefCell<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buf {
    fn take(&self) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut *self.0.borrow_mut())).into_owned()
    }
}

struct Harness {
    session: Session,
    out: Buf,
    err: Buf,
    released: Rc<Cell<usize>>,
    asked: Rc<RefCell<Vec<String>>>,
}

fn harness(answers: Vec<Answer>) -> Harness {
    let (backend, released) = TestBackend::new();
    let (out, err) = (Buf::default(), Buf::default());
    let asked = Rc::new(RefCell::new(Vec::new()));
    let mut answers = answers.into_iter();
    let log = asked.clone();
    let asker = Box::new(move |q: &str| {
        log.borrow_mut().push(q.to_string());
        answers.next().unwrap_or(Answer::Eof)
    });
    let mut session = Session::new(
        Box::new(backend),
        Box::new(out.clone()),
        Box::new(err.clone()),
        asker,
    );
    session.set_width(80);
    Harness {
        session,
        out,
        err,
        released,
        asked,
    }
}

#[test]
fn variables_and_functions_persist_and_lines_do_not_rerun() {
    let mut h = harness(vec![]);
    h.session.entry("let n = 40;");
    h.session.entry("fn add(a, b) { a + b }");
    h.session.entry("make();");
    h.session.entry("add(n, 2)");
    assert_eq!(h.out.take().trim(), "42");
    assert_eq!(h.session.backend.held(), 1, "make() ran once, not again");
    h.session.entry("twice(21)");
    assert_eq!(
        h.out.take().trim(),
        "42",
        "the prelude's functions are there"
    );
    assert!(h.session.catalog().names.iter().any(|n| n == "add"));
    assert!(h.session.catalog().names.iter().any(|n| n == "n"));
}

#[test]
fn errors_are_shown_and_the_session_goes_on() {
    let mut h = harness(vec![]);
    h.session.entry("let x = 1 1");
    assert!(h.err.take().starts_with("error: Syntax error"));
    h.session.entry("throw \"boom\"");
    assert!(h.err.take().contains("boom"));
    h.session.entry("undefined_fn()");
    assert!(h.err.take().contains("undefined_fn"));
    h.session.entry("fn make() { 0 }");
    assert!(h.err.take().contains("rename yours"));
    h.session.entry("make(); 1 + 1");
    assert_eq!(h.out.take().trim(), "2");
    assert_eq!(
        h.session.backend.held(),
        1,
        "the host's make() was not replaced"
    );
}

#[test]
fn help_prints_sections_and_function_details() {
    let mut h = harness(vec![]);
    h.session.entry("help()");
    let text = h.out.take();
    assert!(text.contains("\nPrice\n  describe_price"), "{text}");
    h.session.entry("help(\"describe_price\")");
    assert!(h.out.take().contains("Options:\n  instance_type"));
    h.session.entry("help(\"describe_prise\")");
    assert!(h.err.take().contains("did you mean `describe_price`"));
    h.session.entry("help(\"twice\")");
    assert!(h.out.take().contains("fn twice(x)"));
}

#[test]
fn tables_and_json() {
    let mut h = harness(vec![]);
    h.session
        .entry(r#"[#{ Id: "i-1", Status: "Running" }, #{ Id: "i-2", Status: "Stopped" }]"#);
    assert_eq!(
        h.out.take(),
        "Id   Status\n───  ───────\ni-1  Running\ni-2  Stopped\n"
    );
    h.session.entry(":json");
    let json: serde_json::Value = serde_json::from_str(&h.out.take()).expect("json");
    assert_eq!(json[1]["Status"], "Stopped");
    h.session.entry(":json on");
    h.out.take();
    h.session.entry("#{ a: 1 }");
    assert_eq!(h.out.take(), "{\n  \"a\": 1\n}\n");
    h.session.entry(":json sideways");
    assert!(h.err.take().contains(":json on or :json off"));
}

#[test]
fn meta_commands_dispatch_from_the_table() {
    let mut h = harness(vec![]);
    h.session.entry(":help");
    assert_eq!(h.out.take().trim_end(), commands::help_text());
    h.session.entry(":ledger");
    assert_eq!(h.out.take(), "held: 0\n");
    h.session.entry(":exit");
    assert!(h.err.take().contains("unknown command `:exit`"));
    assert_eq!(h.session.entry(":quit"), Flow::Quit);
}

#[test]
fn cleanup_asks_first() {
    let mut h = harness(vec![Answer::Line("n".into()), Answer::Line("yes".into())]);
    h.session.entry("make(); make();");
    h.session.entry(":cleanup");
    assert_eq!(h.session.backend.held(), 2, "declined");
    h.session.entry(":cleanup");
    assert_eq!(h.released.get(), 2);
    assert_eq!(h.asked.borrow()[0], "Release 2 resources now? [y/N] ");
}

#[test]
fn exit_asks_release_keep_or_stay() {
    let mut h = harness(vec![
        Answer::Line("c".into()),
        Answer::Line("maybe".into()),
        Answer::Line("r".into()),
    ]);
    h.session.entry("make();");
    assert!(!h.session.confirm_exit(), "c stays");
    assert!(h.session.confirm_exit(), "r leaves");
    assert_eq!(h.released.get(), 1);
    assert!(h.err.take().contains("`maybe` is not an answer"));

    let mut nothing = harness(vec![]);
    assert!(nothing.session.confirm_exit());
    assert!(
        nothing.asked.borrow().is_empty(),
        "no question when nothing is held"
    );

    let mut keep = harness(vec![Answer::Line("k".into())]);
    keep.session.entry("make();");
    assert!(keep.session.confirm_exit());
    keep.session.finish();
    assert_eq!(
        keep.released.get(),
        0,
        "kept resources survive the end of the session"
    );
    assert!(keep.out.take().ends_with("kept all\nsummary\n"));
}
