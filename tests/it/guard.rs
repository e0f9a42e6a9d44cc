//! The guard as a user meets it: the terminal prompt through a real pseudo-terminal, and (once
//! the host's gateway is wired) policies, quotes and approvals against the simulator.

mod pty;
