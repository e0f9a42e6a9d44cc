//! The one integration-test binary: one module per area. Every test talks only to 127.0.0.1.

mod chain;
mod cli;
mod conformance;
mod cli_ux;
mod guard;
mod host;
mod ledger;
mod progress;
mod repl;
mod rpc;
mod scripts;
mod sdk;
mod sim;
mod support;
