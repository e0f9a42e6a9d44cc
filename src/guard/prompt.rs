//! Approval: who says yes to a chargeable request. The host (CLI flags, REPL) chooses the
//! prompter once, before any script runs; scripts never see or replace it.
//!
//! - [`TerminalPrompter`]: asks on the controlling terminal (`/dev/tty`, not the script's stdin).
//!   Hardened like Deno's permission prompt: input already waiting is flushed before asking, so
//!   nothing typed or piped earlier can answer; the block is escaped (see [`super::block`]); the
//!   answer must be typed `y` or `yes` and Enter — anything else, end of input (Ctrl-D) or
//!   Ctrl-C is "no" (Ctrl-C also marks the verdict `interrupted`, so the run stops). The terminal is read a byte at a time with echo and signals off, and
//!   restored afterwards.
//! - [`AutoApprove`] (`--yes`): approves everything.
//! - [`Budget`] (`--max-cost AMOUNT`): approves while the run's approved estimates plus this one
//!   stay within the budget; refuses past it, and refuses what cannot be quoted.
//! - [`Refuse`]: no terminal and no flag; refuses and names the flags.
//! - [`Scripted`]: answers from a list, for tests; records the blocks it was shown.
//!
//! This module writes only to the terminal it opened, never to stdout.

use super::block::{escape, format_estimate, CostBlock};
use super::decision::Via;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};

/// A prompter's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub approved: bool,
    pub via: Via,
    /// Why it was refused, or how it was approved (one line, for the error and the summary).
    pub reason: String,
    /// The user pressed Ctrl-C at the prompt: refused, and the run should stop.
    pub interrupted: bool,
}

impl Verdict {
    fn yes(via: Via, reason: impl Into<String>) -> Verdict {
        Verdict {
            approved: true,
            via,
            reason: reason.into(),
            interrupted: false,
        }
    }
    fn no(via: Via, reason: impl Into<String>) -> Verdict {
        Verdict {
            approved: false,
            via,
            reason: reason.into(),
            interrupted: false,
        }
    }
}

/// Decides whether a chargeable request may be sent, having been shown its cost block.
pub trait Prompter: Send {
    fn confirm(&mut self, block: &CostBlock) -> Verdict;
}

/// Chooses the prompter from the command-line flags: `--yes` → [`AutoApprove`]; `--max-cost`
/// → [`Budget`]; otherwise the terminal if there is one, else [`Refuse`].
/// `--yes` together with `--max-cost` is an error (one would silently override the other).
pub fn from_flags(yes: bool, max_cost: Option<&str>) -> Result<Box<dyn Prompter>, String> {
    match (yes, max_cost) {
        (true, Some(_)) => Err(
            "--yes and --max-cost cannot be used together: --yes approves every \
                                charge, --max-cost approves up to a budget; pick one"
                .into(),
        ),
        (true, None) => Ok(Box::new(AutoApprove)),
        (false, Some(text)) => Ok(Box::new(Budget::parse(text)?)),
        (false, None) => Ok(match TerminalPrompter::open() {
            Ok(t) => Box::new(t),
            Err(_) => Box::new(Refuse),
        }),
    }
}

/// `--yes`: approves everything, quoted or not.
pub struct AutoApprove;

impl Prompter for AutoApprove {
    fn confirm(&mut self, _block: &CostBlock) -> Verdict {
        Verdict::yes(Via::Yes, "approved by --yes")
    }
}

/// No terminal and no flag: nothing chargeable can be approved.
pub struct Refuse;

/// The refusal message when nobody can be asked.
pub const NO_TERMINAL: &str = "there is no terminal to ask for confirmation on: run with --yes to \
approve every charge, or --max-cost AMOUNT to approve charges up to a budget for the whole run";

impl Prompter for Refuse {
    fn confirm(&mut self, _block: &CostBlock) -> Verdict {
        Verdict::no(Via::NoTerminal, NO_TERMINAL)
    }
}

/// `--max-cost AMOUNT [CURRENCY]`: a budget for the whole run (or REPL session).
#[derive(Clone, Debug, PartialEq)]
pub struct Budget {
    limit: f64,
    /// Fixed by the flag (`--max-cost "5 CNY"`) or by the first quote.
    currency: Option<String>,
    approved: f64,
}

/// Tolerance for comparing sums of floating-point prices with the budget.
const EPSILON: f64 = 1e-9;

impl Budget {
    pub fn new(limit: f64, currency: Option<String>) -> Budget {
        Budget {
            limit,
            currency,
            approved: 0.0,
        }
    }

    /// Parses `5`, `5.50`, `5 CNY`, `5CNY`, `USD 5`.
    pub fn parse(text: &str) -> Result<Budget, String> {
        let t = text.trim();
        let bad = || {
            format!(
                "--max-cost `{}` is not an amount: give a number, optionally with a currency \
                 (`5`, `2.50`, `10 CNY`)",
                escape(text)
            )
        };
        let is_num = |c: char| c.is_ascii_digit() || c == '.';
        let (number, currency) = if t.starts_with(is_num) {
            let end = t.find(|c: char| !is_num(c)).unwrap_or(t.len());
            (&t[..end], t[end..].trim())
        } else {
            let start = t.find(is_num).ok_or_else(bad)?;
            (t[start..].trim(), t[..start].trim())
        };
        let limit: f64 = number.parse().map_err(|_| bad())?;
        if !limit.is_finite() || limit < 0.0 {
            return Err(bad());
        }
        let currency = match currency {
            "" => None,
            c if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_alphabetic()) => {
                Some(c.to_ascii_uppercase())
            }
            _ => return Err(bad()),
        };
        Ok(Budget::new(limit, currency))
    }

    /// What the budget has approved so far.
    pub fn approved(&self) -> f64 {
        self.approved
    }

    fn limit_text(&self) -> String {
        match &self.currency {
            Some(c) => format!("{c} {}", format_estimate(self.limit)),
            None => format_estimate(self.limit),
        }
    }
}

/// Why a budget cannot approve `keep(id)` without a duration.
pub const KEEP_NEEDS_DURATION: &str = "keep(id) without a duration keeps costing money with no \
end, so --max-cost cannot count it; give the duration to count: keep(id, #{ \"for\": \"24h\" }) (Rhai reserves `for`, so \
the key is quoted), or \
approve it at a terminal or with --yes";

impl Prompter for Budget {
    fn confirm(&mut self, block: &CostBlock) -> Verdict {
        if block.keep.as_ref().is_some_and(|k| k.open_ended) {
            return Verdict::no(Via::Budget, KEEP_NEEDS_DURATION);
        }
        let Some(cost) = &block.estimate else {
            return Verdict::no(
                Via::Budget,
                format!(
                    "{} cannot be quoted, so --max-cost cannot approve it; run with --yes, or at \
                     a terminal without --max-cost, to approve it yourself",
                    escape(&block.action)
                ),
            );
        };
        if let Some(c) = &self.currency {
            if !c.eq_ignore_ascii_case(&cost.currency) {
                return Verdict::no(
                    Via::Budget,
                    format!(
                        "the quote is in {} but --max-cost is {}; give the budget in {}",
                        escape(&cost.currency),
                        self.limit_text(),
                        escape(&cost.currency)
                    ),
                );
            }
        }
        let after = self.approved + cost.amount;
        if after > self.limit + EPSILON {
            return Verdict::no(
                Via::Budget,
                format!(
                    "this would bring the run's estimated cost to {} {}, over --max-cost {} \
                     ({} {} approved so far); raise --max-cost or approve interactively",
                    escape(&cost.currency),
                    format_estimate(after),
                    self.limit_text(),
                    escape(&cost.currency),
                    format_estimate(self.approved)
                ),
            );
        }
        self.currency.get_or_insert_with(|| cost.currency.clone());
        self.approved = after;
        Verdict::yes(
            Via::Budget,
            format!(
                "within --max-cost {} ({} approved so far)",
                self.limit_text(),
                format_estimate(after)
            ),
        )
    }
}

/// Answers from a fixed list (then refuses), recording every block it was shown. For tests.
#[derive(Clone, Default)]
pub struct Scripted {
    answers: Arc<Mutex<Vec<bool>>>,
    shown: Arc<Mutex<Vec<CostBlock>>>,
}

impl Scripted {
    pub fn new(answers: &[bool]) -> Scripted {
        let mut a = answers.to_vec();
        a.reverse();
        Scripted {
            answers: Arc::new(Mutex::new(a)),
            shown: Arc::default(),
        }
    }

    /// The blocks shown so far (the handle stays valid after the prompter is boxed).
    pub fn shown(&self) -> Vec<CostBlock> {
        self.shown.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Prompter for Scripted {
    fn confirm(&mut self, block: &CostBlock) -> Verdict {
        if let Ok(mut shown) = self.shown.lock() {
            shown.push(block.clone());
        }
        let answer = self.answers.lock().ok().and_then(|mut a| a.pop());
        match answer {
            Some(true) => Verdict::yes(Via::Prompt, "approved at the prompt"),
            Some(false) => Verdict::no(Via::Prompt, "declined at the prompt"),
            None => Verdict::no(Via::Prompt, "no answer (end of input)"),
        }
    }
}

/// Asks on the controlling terminal.
pub struct TerminalPrompter {
    tty: File,
}

/// The longest answer kept; anything longer is not `y`/`yes` anyway.
const MAX_ANSWER: usize = 16;

impl TerminalPrompter {
    /// Opens the controlling terminal (`/dev/tty`). Fails when the process has none (CI, cron,
    /// a detached service), which is when the host falls back to [`Refuse`].
    pub fn open() -> io::Result<TerminalPrompter> {
        let tty = OpenOptions::new().read(true).write(true).open("/dev/tty")?;
        // SAFETY: isatty only inspects the descriptor we own.
        if unsafe { libc::isatty(tty.as_raw_fd()) } != 1 {
            return Err(io::Error::other("/dev/tty is not a terminal"));
        }
        Ok(TerminalPrompter { tty })
    }

    fn ask(&mut self, block: &CostBlock) -> io::Result<Answer> {
        let raw = RawMode::enter(&self.tty)?;
        let mut out = format!("{}{} [y/N] ", super::block::PROMPT_PREAMBLE, block.render());
        self.tty.write_all(out.as_bytes())?;
        self.tty.flush()?;
        let answer = self.read_answer();
        drop(raw);
        out = match &answer {
            Ok(Answer::Typed(_)) | Ok(Answer::EndOfInput) | Err(_) => "\n".into(),
            Ok(Answer::Interrupted) => "^C\n".into(),
        };
        self.tty.write_all(out.as_bytes())?;
        answer
    }

    fn read_answer(&mut self) -> io::Result<Answer> {
        let mut line: Vec<u8> = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            match self.tty.read(&mut byte) {
                Ok(0) => return Ok(Answer::EndOfInput),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            match byte[0] {
                0x03 => return Ok(Answer::Interrupted),
                0x04 => return Ok(Answer::EndOfInput),
                b'\r' | b'\n' => return Ok(Answer::Typed(String::from_utf8_lossy(&line).into())),
                0x7f | 0x08 if line.pop().is_some() => self.tty.write_all(b"\x08 \x08")?,
                0x7f | 0x08 => {}
                0x15 => {
                    for _ in 0..line.len() {
                        self.tty.write_all(b"\x08 \x08")?;
                    }
                    line.clear();
                }
                b @ 0x20..=0x7e if line.len() < MAX_ANSWER => {
                    line.push(b);
                    self.tty.write_all(&[b])?;
                }
                // Escape sequences, other controls, non-ASCII: kept as a mark that makes the
                // answer "no", never echoed raw.
                _ if line.len() < MAX_ANSWER => line.push(b'?'),
                _ => {}
            }
        }
    }
}

enum Answer {
    Typed(String),
    EndOfInput,
    Interrupted,
}

impl Prompter for TerminalPrompter {
    fn confirm(&mut self, block: &CostBlock) -> Verdict {
        match self.ask(block) {
            Ok(Answer::Typed(t)) if is_yes(&t) => {
                Verdict::yes(Via::Prompt, "approved at the prompt")
            }
            Ok(Answer::Typed(t)) => Verdict::no(
                Via::Prompt,
                format!(
                    "declined at the prompt (answer `{}`; type y or yes to approve)",
                    escape(t.trim())
                ),
            ),
            Ok(Answer::EndOfInput) => Verdict::no(Via::Prompt, "no answer (end of input)"),
            Ok(Answer::Interrupted) => Verdict {
                interrupted: true,
                ..Verdict::no(Via::Prompt, "interrupted at the prompt (Ctrl-C)")
            },
            Err(e) => Verdict::no(
                Via::Prompt,
                format!("the terminal could not be used to ask: {e}"),
            ),
        }
    }
}

/// Only a typed `y` or `yes` (any case, surrounding spaces ignored) approves.
pub fn is_yes(answer: &str) -> bool {
    let a = answer.trim();
    a.eq_ignore_ascii_case("y") || a.eq_ignore_ascii_case("yes")
}

/// The terminal switched to byte-at-a-time input with echo and signal keys off; the previous
/// settings come back when it is dropped. Entering it discards input already waiting.
struct RawMode {
    fd: i32,
    saved: libc::termios,
}

impl RawMode {
    fn enter(tty: &File) -> io::Result<RawMode> {
        let fd = tty.as_raw_fd();
        // SAFETY: termios is plain data; tcgetattr fills it for a descriptor we own.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut raw = saved;
        raw.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG | libc::IEXTEN);
        raw.c_cc[libc::VMIN] = 1;
        raw.c_cc[libc::VTIME] = 0;
        // TCSAFLUSH discards pending input as it switches; the explicit flush below also
        // catches input that arrived while switching.
        // SAFETY: fd is an open terminal; raw is a valid termios derived from the current one.
        if unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &raw) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let mode = RawMode { fd, saved };
        // SAFETY: as above.
        if unsafe { libc::tcflush(fd, libc::TCIFLUSH) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(mode)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restores the settings read from the same descriptor, which outlives self
        // (the prompter owns the File).
        unsafe {
            libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::block::Money;

    fn block(amount: Option<f64>) -> CostBlock {
        CostBlock {
            action: "RunInstances".into(),
            title: "ECS Cost Estimate:".into(),
            details: vec![],
            unit_price: String::new(),
            runtime: String::new(),
            total: String::new(),
            billing: String::new(),
            notes: vec![],
            estimate: amount.map(|amount| Money {
                amount,
                currency: "CNY".into(),
            }),
            hourly: None,
            summary: String::new(),
            keep: None,
        }
    }

    #[test]
    fn budget_approves_until_the_cumulative_estimate_exceeds_it() {
        let mut b = Budget::parse("1.5").unwrap();
        assert!(b.confirm(&block(Some(0.71))).approved);
        assert!(b.confirm(&block(Some(0.71))).approved);
        let third = b.confirm(&block(Some(0.71)));
        assert!(!third.approved);
        assert!(
            third.reason.contains("CNY 2.13") && third.reason.contains("1.42"),
            "{}",
            third.reason
        );
        // A cheaper one still fits.
        assert!(b.confirm(&block(Some(0.05))).approved);
        assert!((b.approved() - 1.47).abs() < 1e-9);
    }

    #[test]
    fn budget_is_exact_at_the_edge() {
        let mut b = Budget::parse("0.3").unwrap();
        assert!(b.confirm(&block(Some(0.1))).approved);
        assert!(b.confirm(&block(Some(0.2))).approved, "0.1 + 0.2 fits 0.3");
    }

    #[test]
    fn budget_never_approves_what_cannot_be_quoted_nor_other_currencies() {
        let mut b = Budget::parse("1000").unwrap();
        let v = b.confirm(&block(None));
        assert!(!v.approved && v.reason.contains("--yes"), "{}", v.reason);
        let mut usd = Budget::parse("10 USD").unwrap();
        assert!(!usd.confirm(&block(Some(1.0))).approved);
    }

    #[test]
    fn budget_flag_parsing() {
        assert_eq!(Budget::parse("5").unwrap(), Budget::new(5.0, None));
        assert_eq!(
            Budget::parse("2.5 cny").unwrap(),
            Budget::new(2.5, Some("CNY".into()))
        );
        assert_eq!(
            Budget::parse("USD 3").unwrap(),
            Budget::new(3.0, Some("USD".into()))
        );
        for bad in ["", "abc", "-1", "5 dollars", "1.2.3", "NaN"] {
            assert!(Budget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn flags_choose_the_prompter() {
        let both = from_flags(true, Some("5")).err().unwrap_or_default();
        assert!(both.contains("--yes and --max-cost"), "{both}");
        let mut yes = from_flags(true, None).unwrap();
        assert_eq!(yes.confirm(&block(None)).via, Via::Yes);
        let mut budget = from_flags(false, Some("1")).unwrap();
        assert_eq!(budget.confirm(&block(Some(2.0))).via, Via::Budget);
    }

    #[test]
    fn refuse_names_both_flags() {
        let v = Refuse.confirm(&block(Some(1.0)));
        assert!(!v.approved && v.reason.contains("--yes") && v.reason.contains("--max-cost"));
    }

    #[test]
    fn only_a_typed_yes_approves() {
        for a in ["y", "Y", "yes", " YES "] {
            assert!(is_yes(a), "{a}");
        }
        for a in ["", "n", "no", "ye", "yess", "y y", "?"] {
            assert!(!is_yes(a), "{a}");
        }
    }

    #[test]
    fn scripted_answers_then_refuses() {
        let s = Scripted::new(&[true, false]);
        let mut p: Box<dyn Prompter> = Box::new(s.clone());
        assert!(p.confirm(&block(Some(1.0))).approved);
        assert!(!p.confirm(&block(Some(1.0))).approved);
        assert!(!p.confirm(&block(Some(1.0))).approved);
        assert_eq!(s.shown().len(), 3);
    }
}
