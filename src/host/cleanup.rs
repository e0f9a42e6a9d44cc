//! `release_created`: the stdlib's cleanup of what a flow created, through the ledger's
//! release planner instead of a fixed instance → security group → vswitch → VPC sequence in
//! Rhai. The planner orders by `ResourceKind::level()`, batches, retries transient refusals
//! (`DependencyViolation` while members are still going) and verifies each deletion.
//!
//! With a run ledger (every `ecsh run`, the REPL, `ecsh call`) only what the run created is
//! released, and the release is journalled; an id the run did not create is left alone and
//! reported. A session without a ledger (an embedding that keeps no journal) releases the named
//! resources through the same planner, on the session's client.

use super::errors::HostError;
use super::options::Checked;
use super::Host;
use crate::ledger::release::{self, ReleasePolicy, ReleaseReport, Target};
use crate::ops::ResourceKind;
use serde_json::{json, Value};
use std::sync::Arc;

/// `release_created(#{ resources: [#{ kind: "ECS", id }, …] })` →
/// `#{ released: ["ECS i-…", …], errors: ["VPC vpc-…: Code: message", …] }`. Never raises for
/// a resource that could not be released: the flows that call it are already failing.
pub fn release_created(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let region = c.region().to_string();
    let wanted = resources(c)?;
    let ids: Vec<String> = wanted.iter().map(|(_, id)| id.clone()).collect();
    let rt = host.gateway.runtime().clone();
    let (report, untracked) = match host.gateway.ledger() {
        Some(ledger) => match rt.block_on(ledger.release_set(&ids)) {
            Ok(done) => done,
            // The journal could not record the release: say so; `ecsh cleanup` verifies later.
            Err(e) => {
                let error = format!("the release could not be journalled: {e}");
                return Ok(json!({ "released": [], "errors": [error] }));
            }
        },
        None => {
            let targets = wanted
                .iter()
                .map(|(kind, id)| Target {
                    kind: *kind,
                    id: id.clone(),
                    region: region.clone(),
                    already_deleting: false,
                })
                .collect();
            let cloud: Arc<dyn crate::ledger::Cloud> = Arc::new(host.gateway.client().clone());
            let silent: release::Observer = Arc::new(|_| {});
            let report = rt.block_on(release::release(
                cloud,
                targets,
                &ReleasePolicy::default(),
                silent,
            ));
            (report, Vec::new())
        }
    };
    Ok(summary(&report, &untracked, &wanted))
}

/// The `resources` option: each `#{ kind, id }`, the kind by its summary label (`ECS`,
/// `SecurityGroup`, `VSwitch`, `VPC`, …, as `ledger()` shows it).
fn resources(c: &Checked) -> Result<Vec<(ResourceKind, String)>, HostError> {
    let Some(list) = c.get("resources").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    list.iter()
        .map(|r| {
            let kind = r.get("kind").and_then(Value::as_str).unwrap_or_default();
            let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
            let kind = ResourceKind::ALL
                .into_iter()
                .find(|k| k.label().eq_ignore_ascii_case(kind))
                .ok_or_else(|| {
                    let labels: Vec<&str> = ResourceKind::ALL.iter().map(|k| k.label()).collect();
                    HostError::InvalidOption(format!(
                        "release_created: `{kind}` is not a kind of resource; kinds are {}",
                        labels.join(", ")
                    ))
                })?;
            if id.is_empty() {
                return Err(HostError::InvalidOption(
                    "release_created: each resource needs an `id` (string)".into(),
                ));
            }
            Ok((kind, id.to_string()))
        })
        .collect()
}

fn summary(
    report: &ReleaseReport,
    untracked: &[String],
    wanted: &[(ResourceKind, String)],
) -> Value {
    let label = |id: &str| {
        wanted
            .iter()
            .find(|(_, w)| w == id)
            .map_or("resource", |(k, _)| k.label())
    };
    let released: Vec<String> = report
        .released
        .iter()
        .map(|(kind, id)| format!("{} {id}", kind.label()))
        .collect();
    let errors: Vec<String> = report
        .failed
        .iter()
        .map(|f| format!("{} {}: {}: {}", f.kind.label(), f.id, f.code, f.message))
        .chain(untracked.iter().map(|id| {
            format!(
                "{} {id}: not created by this run, so it is left alone",
                label(id)
            )
        }))
        .collect();
    json!({ "released": released, "errors": errors })
}
