//! The batch forms of start, stop and reboot: StartInstances, StopInstances, RebootInstances
//! (`InstanceId.N`, up to 100). `BatchOptimization=AllTogether` (the default) checks every
//! instance first and changes none when one cannot change; `SuccessFirst` changes each one it
//! can and reports the others in its answer. Each instance goes through the same
//! [`Change`](super::instances::Change) as the single forms.
//!
//! Must not: know about HTTP or ClientTokens (the dispatcher replays those).

use super::instances::{Change, Status};
use super::params::Params;
use super::{SimError, World};
use serde_json::{json, Value};

/// Most instances one batch call takes.
const MAX_IDS: usize = 100;

pub fn start_instances(w: &mut World, p: &Params) -> Result<Value, SimError> {
    batch(w, p, Change::Start)
}

pub fn stop_instances(w: &mut World, p: &Params) -> Result<Value, SimError> {
    batch(w, p, Change::stop(p)?)
}

pub fn reboot_instances(w: &mut World, p: &Params) -> Result<Value, SimError> {
    batch(w, p, Change::reboot(p)?)
}

fn batch(w: &mut World, p: &Params, change: Change) -> Result<Value, SimError> {
    let ids = p.list("InstanceId")?;
    if ids.len() > MAX_IDS {
        return Err(SimError::invalid(
            "InstanceId.N",
            format!("at most {MAX_IDS} instance ids"),
        ));
    }
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() != ids.len() {
        return Err(SimError::invalid(
            "InstanceId.N",
            "an instance id is given more than once",
        ));
    }
    let all_together = p
        .choice("BatchOptimization", &["AllTogether", "SuccessFirst"])?
        .unwrap_or("AllTogether")
        == "AllTogether";
    let dry = p.dry_run()?;
    let strict = p.strict();
    // Every instance is checked before any changes, so AllTogether changes all or none.
    let mut verdicts: Vec<(String, Option<Status>, Result<(), SimError>)> = Vec::new();
    for id in &ids {
        match w.instance_in(p, id) {
            Ok(i) => {
                let verdict = change.check(i, p.action.name);
                verdicts.push((id.to_string(), Some(i.status), verdict));
            }
            Err(e) if all_together => return Err(e),
            Err(e) => verdicts.push((id.to_string(), None, Err(e))),
        }
    }
    if all_together {
        if let Some((_, _, Err(e))) = verdicts.iter().find(|(_, _, v)| v.is_err()) {
            return Err(e.clone());
        }
    }
    if dry {
        // The batch actions answer a passed dry run as DeleteInstances does.
        return Err(SimError::new(
            400,
            "DRYRUN.SUCCESS",
            "Request validation has been passed with DryRun flag set.",
        ));
    }
    let timer = w.clock.start();
    let mut answers = Vec::new();
    for (id, previous, verdict) in verdicts {
        let previous = previous.map_or("", Status::as_str);
        let answer = match verdict {
            Ok(()) => {
                let i = w.instance_in(p, &id)?;
                change.apply(i, timer, strict);
                json!({
                    "InstanceId": id,
                    "Code": "200",
                    "Message": "success",
                    "PreviousStatus": previous,
                    "CurrentStatus": i.status.as_str(),
                })
            }
            Err(e) => json!({
                "InstanceId": id,
                "Code": e.code,
                "Message": e.message,
                "PreviousStatus": previous,
                "CurrentStatus": previous,
            }),
        };
        answers.push(answer);
    }
    Ok(json!({ "InstanceResponses": { "InstanceResponse": answers } }))
}
