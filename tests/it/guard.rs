//! The guard as a user meets it: the terminal prompt through a real pseudo-terminal, quotes
//! against the simulator's own DescribePrice, and the guard behind the host's gateway.

mod pty;
mod quotes;
mod through_host;
