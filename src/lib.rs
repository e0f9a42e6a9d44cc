//! ecsh: drive Alibaba Cloud ECS from Rhai scripts and a REPL, safely.
//!
//! Layers look only down (see ARCHITECTURE.md):
//! - [`ops`]: the registry of every ECS/VPC action; everything else derives from it.
//! - [`secret`]: the redacted `Secret` type for AccessKeySecrets and tokens.
//! - [`rpc`]: the client: signing, transport, retries, errors, credentials, endpoints.
//! - [`sim`]: the embedded simulator of the ECS and VPC APIs.
//! - [`guard`]: host policies and cost confirmation in front of every chargeable call.
//! - [`host`]: the Rhai host: seed functions, stdlib flows, script runner, doc search.
//! - [`ledger`]: the scope ledger: tracks what a run creates, releases it, survives crashes.
//! - [`plan`]: `ecsh plan`: a script run against a shadow of the target, and the plan a real
//!   run is held to.
//! - [`repl`]: the interactive shell (`ecsh` with no subcommand).

pub mod cli;
pub mod connect;
pub mod guard;
pub mod host;
pub mod ledger;
pub mod ops;
pub mod plan;
pub mod repl;
pub mod rpc;
pub mod secret;
pub mod sim;
