//! The one integration-test binary: one module per area. Every test talks only to 127.0.0.1.

mod chain;
mod cli;
mod cli_ux;
mod conformance;
mod failures;
mod guard;
mod host;
mod instances;
mod ledger;
mod progress;
mod repl;
mod rpc;
mod scripts;
mod sdk;
mod sim;
mod support;
