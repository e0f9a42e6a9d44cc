//! The REPL's meta-commands (`:help`, `:ledger`, …), declared in ONE table, [`COMMANDS`], which
//! both dispatch and `:help` read — so the help cannot drift from what runs, and completion offers
//! exactly these names.
//!
//! Handlers act on the [`Session`](super::Session) they are given and write to its output; they
//! never read the terminal themselves (questions go through the session's asker).

use super::{Flow, Session};

/// One meta-command.
pub struct Command {
    pub name: &'static str,
    /// Argument synopsis shown in `:help` (empty when it takes none).
    pub args: &'static str,
    pub help: &'static str,
    pub run: fn(&mut Session, &str) -> Flow,
}

/// Every meta-command, in the order `:help` lists them.
pub const COMMANDS: &[Command] = &[
    Command {
        name: "help",
        args: "",
        help: "show these commands; help() lists the functions, help(\"name\") explains one",
        run: |s, _| {
            s.say(&help_text());
            Flow::Continue
        },
    },
    Command {
        name: "ledger",
        args: "",
        help: "what this session has created and still holds, with its running cost",
        run: |s, _| {
            let text = s.backend.ledger_report();
            s.say(&text);
            Flow::Continue
        },
    },
    Command {
        name: "cost",
        args: "",
        help: "the running cost of what this session holds, and what was approved",
        run: |s, _| {
            let text = s.backend.cost_report();
            s.say(&text);
            Flow::Continue
        },
    },
    Command {
        name: "cleanup",
        args: "",
        help: "release everything this session holds now (asks first)",
        run: |s, _| {
            s.cleanup_now();
            Flow::Continue
        },
    },
    Command {
        name: "json",
        args: "[on|off]",
        help: "print the last result as JSON; `on`/`off` switches JSON output for every result",
        run: |s, arg| {
            s.json_command(arg);
            Flow::Continue
        },
    },
    Command {
        name: "quit",
        args: "",
        help: "leave the REPL (asks what to do with resources still held); Ctrl-D does the same",
        run: |_, _| Flow::Quit,
    },
];

/// The names, for completion.
pub fn names() -> Vec<&'static str> {
    COMMANDS.iter().map(|c| c.name).collect()
}

/// The command a `:name args` entry names: an exact name, or an unambiguous prefix (`:l`).
pub fn lookup(name: &str) -> Result<&'static Command, String> {
    if let Some(c) = COMMANDS.iter().find(|c| c.name == name) {
        return Ok(c);
    }
    let matches: Vec<&Command> = COMMANDS
        .iter()
        .filter(|c| !name.is_empty() && c.name.starts_with(name))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "unknown command `:{name}`; the commands are {}",
            list_names()
        )),
        many => Err(format!(
            "`:{name}` could be {}",
            many.iter()
                .map(|c| format!(":{}", c.name))
                .collect::<Vec<_>>()
                .join(" or ")
        )),
    }
}

fn list_names() -> String {
    COMMANDS
        .iter()
        .map(|c| format!(":{}", c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `:help` text, from the table.
pub fn help_text() -> String {
    let usage: Vec<String> = COMMANDS
        .iter()
        .map(|c| match c.args {
            "" => format!(":{}", c.name),
            a => format!(":{} {a}", c.name),
        })
        .collect();
    let width = usage.iter().map(String::len).max().unwrap_or(0);
    let mut out = String::from("Commands:\n");
    for (u, c) in usage.iter().zip(COMMANDS) {
        out.push_str(&format!("  {u:width$}  {}\n", c.help));
    }
    out.push_str(
        "\nEnter Rhai code to run it; variables and functions stay for later lines.\n\
         Tab completes names and option keys; an unfinished line continues on the next.\n\
         Ctrl-C cancels the line being typed or the call that is running.",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_every_command_from_the_table() {
        let help = help_text();
        for c in COMMANDS {
            assert!(help.contains(&format!(":{}", c.name)), "{} missing", c.name);
            assert!(help.contains(c.help));
        }
        assert!(help.contains(":json [on|off]"));
    }

    #[test]
    fn lookup_by_name_and_prefix() {
        assert_eq!(lookup("ledger").map(|c| c.name), Ok("ledger"));
        assert_eq!(lookup("q").map(|c| c.name), Ok("quit"));
        let unknown = lookup("exit").err().unwrap_or_default();
        assert!(unknown.contains("unknown command `:exit`") && unknown.contains(":quit"));
        let ambiguous = lookup("c").err().unwrap_or_default();
        assert!(ambiguous.contains(":cost or :cleanup"), "{ambiguous}");
    }

    #[test]
    fn names_are_unique() {
        let mut n = names();
        n.sort_unstable();
        n.dedup();
        assert_eq!(n.len(), COMMANDS.len());
    }
}
