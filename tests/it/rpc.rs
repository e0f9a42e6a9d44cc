//! The RPC client against loopback HTTP servers: signing on the wire, retries and backoff,
//! error parsing, credential resolution, redaction.
