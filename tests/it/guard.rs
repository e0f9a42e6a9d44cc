//! The guard as a user meets it: the terminal prompt through a real pseudo-terminal, quotes
//! against the simulator's own DescribePrice, the guard behind the host's gateway, and
//! `ecsh run` with its approval flags.

mod cli;
mod pty;
mod quotes;
mod through_host;
