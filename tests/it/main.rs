//! The one integration-test binary: one module per area. Every test talks only to 127.0.0.1.

mod chain;
mod cli;
mod cli_ux;
mod conformance;
mod failures;
mod flows;
mod guard;
mod host;
mod instances;
mod ledger;
mod ops;
mod pg_cluster;
mod plan;
mod progress;
mod repl;
mod resources;
mod rpc;
mod scripts;
mod sdk;
mod sim;
mod support;
mod team_ledger;
