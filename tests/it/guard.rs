//! The guard as a user meets it: the bypass suite (every hole of issue 11, against a
//! standalone simulator's request log), the terminal prompt through a real pseudo-terminal, quotes
//! against the simulator's own DescribePrice, the guard behind the host's gateway, and
//! `ecsh run` with its approval flags.

pub(crate) mod bypass;
mod cli;
mod pty;
mod quotes;
mod through_host;
