//! The RPC client against loopback HTTP servers: signing on the wire, retries and backoff,
//! error parsing, credential resolution, redaction.

mod against_sim;
mod credentials;
mod errors;
mod redaction;
mod retries;
mod server;
mod vectors;
mod wire;
