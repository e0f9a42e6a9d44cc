//! `ecsh cleanup --orphans`: every resource tagged `ecsh:run=*` in a region, whether or not
//! this machine has the run's journal (the laptop was lost, the CI runner destroyed, the
//! journal directory deleted). Lists run id, age and hourly cost; releases in dependency
//! order, verified. Untagged resources are never looked at twice: only an entry that shows
//! the tag itself counts, and a run still in progress on this machine is left alone.
//!
//! No printing: the CLI lists the orphans, asks, and prints the report.

use super::journal::{self, Journal, RUN_TAG_KEY};
use super::release::{self, ReleasePolicy, ReleaseReport, Target};
use super::{Cloud, CloudError, HourlyCost, RunId};
use crate::ops::{ResourceKind, A};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// One resource carrying a run tag.
#[derive(Clone, Debug)]
pub struct Orphan {
    pub kind: ResourceKind,
    pub id: String,
    pub region: String,
    /// The run tag's value.
    pub run: String,
    /// Since the run started (from its id), when the tag is a run id.
    pub age: Option<Duration>,
    /// The instance type, for instances.
    pub detail: Option<String>,
    pub cost: Option<HourlyCost>,
    /// This machine has the run's journal.
    pub journalled: bool,
}

impl Orphan {
    pub fn target(&self) -> Target {
        Target {
            kind: self.kind,
            id: self.id.clone(),
            region: self.region.clone(),
            already_deleting: false,
        }
    }
}

/// Lists what carries a run tag in `regions`, older than `older_than` when given. Resources
/// of runs still in progress on this machine (their journal is locked) are left out.
pub async fn find(
    cloud: &Arc<dyn Cloud>,
    regions: &[String],
    older_than: Option<Duration>,
    journal_dir: Option<&Path>,
) -> Result<Vec<Orphan>, CloudError> {
    let mut out = Vec::new();
    let now = time::OffsetDateTime::now_utc();
    for region in regions {
        for kind in ResourceKind::ALL
            .into_iter()
            .filter(|k| k.release().is_some())
        {
            for (id, run, entry) in release::find_tag_key(cloud, kind, region, RUN_TAG_KEY).await? {
                let age = run_started(&run).map(|t| (now - t).try_into().unwrap_or_default());
                if let Some(min) = older_than {
                    // A tag that is not a run id has no age: never old enough to be sure.
                    if !age.is_some_and(|a| a >= min) {
                        continue;
                    }
                }
                let journal = journal_dir.map(|d| journal::journal_path(d, &run));
                if journal.as_deref().is_some_and(journal::is_locked) {
                    continue;
                }
                let detail = entry
                    .get("InstanceType")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                out.push(Orphan {
                    kind,
                    id,
                    region: region.clone(),
                    run,
                    age,
                    detail,
                    cost: None,
                    journalled: journal.is_some_and(|p| p.exists()),
                });
            }
        }
    }
    price(cloud, &mut out).await;
    Ok(out)
}

/// The hourly price of each instance, one DescribePrice per region and type (a failed quote
/// leaves it unpriced; listing never fails on a price).
async fn price(cloud: &Arc<dyn Cloud>, orphans: &mut [Orphan]) {
    let mut quoted: std::collections::BTreeMap<(String, String), Option<HourlyCost>> =
        Default::default();
    for o in orphans
        .iter_mut()
        .filter(|o| o.kind == ResourceKind::Instance)
    {
        let Some(itype) = o.detail.clone() else {
            continue;
        };
        let key = (o.region.clone(), itype.clone());
        if !quoted.contains_key(&key) {
            let params = vec![
                ("RegionId".to_string(), o.region.clone()),
                ("ResourceType".to_string(), "instance".to_string()),
                ("InstanceType".to_string(), itype),
            ];
            let cost = cloud
                .call(A::DESCRIBE_PRICE.product, A::DESCRIBE_PRICE.name, params)
                .await
                .ok()
                .and_then(|v| crate::guard::quote::trade_price(&v).ok())
                .map(|m| HourlyCost {
                    amount: m.amount,
                    currency: m.currency,
                });
            quoted.insert(key.clone(), cost);
        }
        o.cost = quoted.get(&key).cloned().flatten();
    }
}

/// The start time a run id encodes (`r-YYYYMMDD-HHMMSS-xxxx`).
fn run_started(run: &str) -> Option<time::OffsetDateTime> {
    let id = RunId::parse(run).ok()?;
    let fmt = time::macros::format_description!("[year][month][day]-[hour][minute][second]");
    time::PrimitiveDateTime::parse(&id.as_str()[2..17], fmt)
        .ok()
        .map(|t| t.assume_utc())
}

/// Releases `orphans` in dependency order, verified; a run whose journal this machine has
/// gets the releases journalled too.
pub async fn release_all(
    cloud: Arc<dyn Cloud>,
    orphans: &[Orphan],
    policy: &ReleasePolicy,
    journal_dir: Option<&Path>,
) -> ReleaseReport {
    let targets = orphans.iter().map(Orphan::target).collect();
    let report = release::release(cloud, targets, policy, Arc::new(|_| {})).await;
    if let Some(dir) = journal_dir {
        for o in orphans.iter().filter(|o| o.journalled) {
            if report.released.iter().any(|(_, id)| *id == o.id) {
                if let Ok(mut j) = Journal::open_existing(&journal::journal_path(dir, &o.run)) {
                    let _ = j.append(&journal::Record::Released {
                        ids: vec![o.id.clone()],
                    });
                }
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_id_says_when_the_run_started() {
        let t = run_started("r-20261201-101500-ab12").unwrap();
        assert_eq!(crate::rpc::format_timestamp(t), "2026-12-01T10:15:00Z");
        assert!(run_started("not-a-run").is_none());
    }
}
