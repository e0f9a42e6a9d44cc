//! The cost block: what the user is shown before a chargeable action, in the seed's shape.
//!
//! ```text
//! ECS Cost Estimate:
//! Spec: ecs.t6-c1m2.large (2 vCPU, 4 GB)
//! Image: Ubuntu 24.04
//! System disk: cloud_essd 40 GB
//! Unit price: CNY 0.017/hour (trade price)
//! Estimated runtime: ~5 minutes
//! Estimated total cost: CNY 0.002
//! Billing: pay-as-you-go (PostPaid), released when the run ends unless kept with keep()
//! Proceed with creation?
//! ```
//!
//! Every value that came from a script or a service is escaped when rendered ([`escape`]):
//! control characters and bidirectional-override characters are shown as `\x1b` / `\u{202e}`,
//! so a hostile name cannot repaint the terminal or fake an answer. This module only builds
//! text; it writes nothing anywhere.

use std::fmt::Write as _;

/// An amount of money in one currency, as the budget counts it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Money {
    pub amount: f64,
    pub currency: String,
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}",
            escape(&self.currency),
            format_estimate(self.amount)
        )
    }
}

/// The block for one chargeable request.
#[derive(Clone, Debug, PartialEq)]
pub struct CostBlock {
    /// The action as the script named it (`RunInstances`).
    pub action: String,
    /// First line, e.g. `ECS Cost Estimate:`.
    pub title: String,
    /// What is being bought, label → value (`Spec`, `Image`, `System disk`, ...).
    pub details: Vec<(String, String)>,
    pub unit_price: String,
    pub runtime: String,
    pub total: String,
    pub billing: String,
    /// Extra lines shown before the question (assumptions, warnings).
    pub notes: Vec<String>,
    /// The estimated total the budget counts; `None` when the action could not be quoted.
    pub estimate: Option<Money>,
    /// The pay-as-you-go price per hour of the whole request (all instances), for the ledger's
    /// resource summary; `None` for subscriptions and unquoted actions.
    pub hourly: Option<Money>,
    /// One line for the decision log (`ecs.g7.large x 2, ~1 hour`).
    pub summary: String,
    /// Set when the block asks to keep resources running past the run (`keep(id)`), not to
    /// create them.
    pub keep: Option<KeepTerms>,
}

/// What a `keep(id)` decision is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeepTerms {
    /// No duration was given (`keep(id)` rather than `keep(id, #{ "for": "24h" })`): the cost
    /// has no end, so a budget cannot approve it.
    pub open_ended: bool,
}

/// The question that ends every block.
pub const QUESTION: &str = "Proceed with creation?";

/// The question that ends a `keep(id)` block.
pub const KEEP_QUESTION: &str = "Keep it running after the run ends?";

impl CostBlock {
    /// The block as text, every line escaped, ending with the question (no newline after it).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", escape(&self.title));
        for (label, value) in &self.details {
            let _ = writeln!(out, "{}: {}", escape(label), escape(value));
        }
        let _ = writeln!(out, "Unit price: {}", escape(&self.unit_price));
        let _ = writeln!(out, "Estimated runtime: {}", escape(&self.runtime));
        let _ = writeln!(out, "Estimated total cost: {}", escape(&self.total));
        let _ = writeln!(out, "Billing: {}", escape(&self.billing));
        for note in &self.notes {
            let _ = writeln!(out, "Note: {}", escape(note));
        }
        out.push_str(if self.keep.is_some() {
            KEEP_QUESTION
        } else {
            QUESTION
        });
        out
    }
}

/// Shows `text` with every character that could act on a terminal written out instead:
/// C0/C1 controls and DEL as `\xNN`, bidirectional and zero-width format characters as
/// `\u{NNNN}`, and the backslash itself doubled so an escape cannot be forged.
pub fn escape(text: &str) -> String {
    escape_with(text, true)
}

/// Shows `text` so that it cannot act on a terminal, for script output and error lines:
/// like [`escape`], but newlines and tabs stay as they are and backslashes are not doubled
/// (this text is not a cost block, so a forged `\x1b` in it fools no one, while a real one
/// could hide what follows: `ESC[8m` makes text invisible).
pub fn escape_terminal(text: &str) -> String {
    escape_with(text, false)
}

/// The one escaping rule: controls as `\xNN`, invisible format characters as `\u{NNNN}`;
/// in a `block`, newlines and tabs too, and backslashes doubled so no escape can be forged.
fn escape_with(text: &str, block: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' if block => out.push_str("\\\\"),
            '\n' | '\t' if !block => out.push(c),
            c if (c as u32) < 0x100 && c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_invisible_format(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// What the prompt writes before its block: a soft terminal reset (DECSTR: attributes such as
/// hidden or same-colour text, scroll margins, cursor visibility) and an explicit attribute
/// reset for terminals without DECSTR, so nothing a script printed before can hide or repaint
/// the block; then a rule that sets the block apart from the script's output.
pub const PROMPT_PREAMBLE: &str =
    "\x1b[!p\x1b[0m\x1b[?25h\r\n---- ecsh: confirmation (written by ecsh, not by the script) ----\n";

/// Characters that reorder or hide text (Trojan Source style) without being controls.
fn is_invisible_format(c: char) -> bool {
    matches!(c as u32,
        0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x2069 | 0xFEFF | 0x061C)
}

/// An estimate, rounded *up* to 3 decimals so it never understates (the seed shows 5 minutes at
/// 0.017/hour as 0.002), with at least 2 decimals: `0.002`, `1.50`, `285.06`.
pub fn format_estimate(amount: f64) -> String {
    let up = ((amount * 1000.0 - 1e-9).ceil() / 1000.0).max(0.0) + 0.0;
    trim_decimals(&format!("{up:.3}"))
}

/// A price as quoted, to 4 decimals at most and 2 at least: `0.017`, `0.0005`, `285.06`.
pub fn format_price(amount: f64) -> String {
    trim_decimals(&format!("{amount:.4}"))
}

fn trim_decimals(text: &str) -> String {
    let mut s = text.to_string();
    while s.ends_with('0') && s.len() - s.find('.').unwrap_or(s.len()) > 3 {
        s.pop();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn seed_block() -> CostBlock {
        CostBlock {
            action: "RunInstances".into(),
            title: "ECS Cost Estimate:".into(),
            details: vec![
                ("Spec".into(), "ecs.t6-c1m2.large (2 vCPU, 4 GB)".into()),
                ("Image".into(), "Ubuntu 24.04".into()),
                ("System disk".into(), "cloud_essd 40 GB".into()),
            ],
            unit_price: "CNY 0.017/hour (trade price)".into(),
            runtime: "~5 minutes".into(),
            total: "CNY 0.002".into(),
            billing: "pay-as-you-go (PostPaid), released after completion".into(),
            notes: vec![],
            estimate: Some(Money {
                amount: 0.017 * 5.0 / 60.0,
                currency: "CNY".into(),
            }),
            hourly: Some(Money {
                amount: 0.017,
                currency: "CNY".into(),
            }),
            summary: "ecs.t6-c1m2.large x 1".into(),
            keep: None,
        }
    }

    #[test]
    fn renders_the_seed_block_exactly() {
        let expected = "ECS Cost Estimate:\n\
Spec: ecs.t6-c1m2.large (2 vCPU, 4 GB)\n\
Image: Ubuntu 24.04\n\
System disk: cloud_essd 40 GB\n\
Unit price: CNY 0.017/hour (trade price)\n\
Estimated runtime: ~5 minutes\n\
Estimated total cost: CNY 0.002\n\
Billing: pay-as-you-go (PostPaid), released after completion\n\
Proceed with creation?";
        assert_eq!(seed_block().render(), expected);
    }

    #[test]
    fn hostile_values_cannot_reach_the_terminal_raw() {
        let mut b = seed_block();
        b.details[1].1 = "Ubuntu\x1b[2J\x1b[HProceed? y\r\n\u{202e}evil\u{7f}\u{9b}".into();
        let text = b.render();
        assert!(
            text.contains(r"Ubuntu\x1b[2J\x1b[HProceed? y\x0d\x0a\u{202e}evil\x7f\x9b"),
            "{text}"
        );
        assert!(
            !text.chars().any(|c| c != '\n' && c.is_control()),
            "{text:?}"
        );
        assert_eq!(escape(r"a\x1b"), r"a\\x1b");
    }

    #[test]
    fn terminal_text_loses_its_controls_but_keeps_its_lines() {
        assert_eq!(
            escape_terminal("ok\x1b[8m hidden\tcol\nnext \\ \u{202e}"),
            "ok\\x1b[8m hidden\tcol\nnext \\ \\u{202e}"
        );
    }

    #[test]
    fn money_formats_like_the_seed() {
        assert_eq!(format_estimate(0.017 * 5.0 / 60.0), "0.002");
        assert_eq!(format_estimate(1.5), "1.50");
        assert_eq!(format_estimate(285.06), "285.06");
        assert_eq!(format_estimate(0.0), "0.00");
        assert_eq!(format_estimate(0.71 * 2.0), "1.42");
        assert_eq!(format_price(0.017), "0.017");
        assert_eq!(format_price(0.0005), "0.0005");
        assert_eq!(format_price(0.71), "0.71");
    }
}
