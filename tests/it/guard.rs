//! The guard as a user meets it: the terminal prompt through a real pseudo-terminal, and quotes
//! against the simulator's own DescribePrice.

mod pty;
mod quotes;
