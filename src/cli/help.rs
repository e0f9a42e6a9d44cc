//! `ecsh help [NAME]`: a script function's help exactly as `help("NAME")` prints it in the REPL
//! (no NAME: the list `help()` prints), from the same catalog. A NAME that is one of ecsh's
//! commands shows that command's `--help`, as `cargo help build` does.

use super::exit;
use crate::repl::catalog::Catalog;
use crate::repl::{help, host_backend, print};
use clap::{Args, CommandFactory};

#[derive(Debug, Args)]
pub struct HelpArgs {
    /// A script function (describe_price, keep, …) or an ecsh command (run, call, …).
    pub name: Option<String>,
}

pub fn run(args: HelpArgs) -> anyhow::Result<i32> {
    let mut cli = super::Cli::command();
    if let Some(command) = args
        .name
        .as_deref()
        .and_then(|n| cli.find_subcommand_mut(n))
    {
        let mut command = command
            .clone()
            .bin_name(format!("ecsh {}", command.get_name()));
        command.print_long_help()?;
        return Ok(exit::OK);
    }
    let engine = crate::host::engine::bare_engine(&Default::default());
    let catalog = Catalog::new(host_backend::documented_functions(), &engine);
    let width = print::terminal_width();
    match args.name {
        None => println!("{}", help::overview(&catalog, width)),
        Some(name) => match help::about(&catalog, &name, width) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("ecsh help: {e}");
                return Ok(exit::USAGE);
            }
        },
    }
    Ok(exit::OK)
}
