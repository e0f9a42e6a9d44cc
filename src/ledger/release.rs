//! The release planner: deletes a set of resources in reverse dependency order and verifies each
//! deletion, as fast as the API allows.
//!
//! Levels come from [`ResourceKind::level`]; everything in one level is released in parallel
//! (one task per batch of [`Release::batch`] ids per kind and region), and the next level starts
//! only when every resource of this one is verified gone (a security group cannot be deleted
//! while its instances still exist). Transient refusals (an instance still initializing, a
//! dependency not yet gone, throttling) are retried with jittered backoff up to a deadline. A
//! failure to release one resource never stops the others: it is reported with its id. When
//! the caller knows how long a kind takes to go (or to be freed by what held it), the verify
//! and the dependency retries poll first at that time and finely after it
//! ([`ReleasePolicy::gone_after`], [`ReleasePolicy::free_after`]).
//!
//! This module only calls the cloud through [`Cloud`]; it reports progress through an observer
//! (the live ledger journals it) and never prints.

use super::{Cloud, CloudError, Params};
use crate::ops::{self, Paging, Product, Release, ResourceKind};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How hard to try. The defaults suit the real cloud (instances take up to a minute to go).
#[derive(Clone, Debug)]
pub struct ReleasePolicy {
    /// First retry delay; it doubles on each retry up to `max_delay`, with jitter.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// How long a delete refused with a transient error keeps being retried.
    pub delete_deadline: Duration,
    /// How long to wait for a deleted resource to disappear from its describe.
    pub verify_deadline: Duration,
    /// How long this target takes, per kind, until a deleted resource is no longer listed
    /// (the host's guesses, `host::pace`): the verify then polls first at it and finely after
    /// it, instead of at once and on the backoff. Empty: the backoff only.
    pub gone_after: BTreeMap<ResourceKind, Duration>,
    /// How long, per kind, a resource stays held by what was released before it (a security
    /// group by its released instance): a delete refused for a dependency is retried first at
    /// it and finely after it.
    pub free_after: BTreeMap<ResourceKind, Duration>,
}

impl Default for ReleasePolicy {
    fn default() -> Self {
        ReleasePolicy {
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            delete_deadline: Duration::from_secs(300),
            verify_deadline: Duration::from_secs(600),
            gone_after: BTreeMap::new(),
            free_after: BTreeMap::new(),
        }
    }
}

/// The fine polls after an expected duration: this many, each 4% of it (20 ms to 0.2 s), then
/// the policy's backoff: the expectation was too short.
const FINE_POLLS: u32 = 5;

/// The delays between the polls of one verify or one retried delete: with an expectation, it,
/// then fine steps, then the backoff; without, the backoff.
struct Delays<'a> {
    policy: &'a ReleasePolicy,
    expected: Option<Duration>,
    attempt: u32,
}

impl Delays<'_> {
    fn next(&mut self) -> Duration {
        let n = self.attempt;
        self.attempt += 1;
        match self.expected {
            Some(e) if n == 0 => e,
            Some(e) if n <= FINE_POLLS => e
                .mul_f64(0.04)
                .clamp(Duration::from_millis(20), Duration::from_millis(200)),
            Some(_) => self.policy.backoff(n - FINE_POLLS - 1),
            None => self.policy.backoff(n),
        }
    }
}

impl ReleasePolicy {
    fn delays(&self, expected: Option<&Duration>) -> Delays<'_> {
        Delays {
            policy: self,
            expected: expected.copied(),
            attempt: 0,
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_delay);
        exp.mul_f64(rand::random::<f64>() * 0.5 + 0.5)
    }
}

/// One resource to release.
#[derive(Clone, Debug)]
pub struct Target {
    pub kind: ResourceKind,
    pub id: String,
    pub region: String,
    /// The delete was already sent (by the script): only verify.
    pub already_deleting: bool,
}

/// A resource that could not be released.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub kind: ResourceKind,
    pub id: String,
    pub region: String,
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for Failure {
    /// `instance i-1 (cn-hangzhou): Code: message`, as cleanup, release and `--orphans` say it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} ({}): {}: {}",
            self.kind.label(),
            self.id,
            self.region,
            self.code,
            self.message
        )
    }
}

/// What a release did.
#[derive(Clone, Debug, Default)]
pub struct ReleaseReport {
    pub released: Vec<(ResourceKind, String)>,
    pub failed: Vec<Failure>,
    /// API calls made (deletes and verifying describes), for benchmarks.
    pub calls: usize,
    /// Transient refusals met and retried, by error code.
    pub retried: BTreeMap<String, usize>,
}

impl ReleaseReport {
    pub fn merge(&mut self, other: ReleaseReport) {
        self.released.extend(other.released);
        self.failed.extend(other.failed);
        self.calls += other.calls;
        for (code, n) in other.retried {
            *self.retried.entry(code).or_default() += n;
        }
    }
}

/// Progress, reported as it happens so a crash mid-release loses nothing.
#[derive(Clone, Debug)]
pub enum ReleaseEvent {
    Released(Vec<String>),
    Failed(Failure),
}

impl ReleaseEvent {
    /// The journal record of this event (one mapping for live runs and recovery alike).
    pub fn record(&self) -> super::journal::Record {
        use super::journal::Record;
        match self {
            ReleaseEvent::Released(ids) => Record::Released { ids: ids.clone() },
            ReleaseEvent::Failed(f) => Record::ReleaseFailed {
                id: f.id.clone(),
                code: f.code.clone(),
                message: f.message.clone(),
            },
        }
    }
}

pub type Observer = Arc<dyn Fn(&ReleaseEvent) + Send + Sync>;

/// Releases `targets` level by level, in parallel within a level, verifying every deletion.
pub async fn release(
    cloud: Arc<dyn Cloud>,
    targets: Vec<Target>,
    policy: &ReleasePolicy,
    observer: Observer,
) -> ReleaseReport {
    let calls = Arc::new(AtomicUsize::new(0));
    let retried = Arc::new(Mutex::new(BTreeMap::new()));
    let mut levels: BTreeMap<u8, Vec<Target>> = BTreeMap::new();
    for t in targets {
        levels.entry(t.kind.level()).or_default().push(t);
    }
    let mut report = ReleaseReport::default();
    for (_, level) in levels {
        let mut tasks = tokio::task::JoinSet::new();
        for batch in batches(level) {
            let job = Batch {
                cloud: cloud.clone(),
                policy: policy.clone(),
                calls: calls.clone(),
                retried: retried.clone(),
                observer: observer.clone(),
            };
            tasks.spawn(async move { job.run(batch).await });
        }
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(r) => report.merge(r),
                // A panicking task is a bug; its resources stay held and are reported by the
                // journal (`ecsh ledger`), so keep releasing the rest.
                Err(e) => report.failed.push(Failure {
                    kind: ResourceKind::Instance,
                    id: String::from("(unknown)"),
                    region: String::new(),
                    code: "InternalError".into(),
                    message: format!("a release task failed: {e}"),
                }),
            }
        }
    }
    report.calls = calls.load(Ordering::Relaxed);
    report.retried = std::mem::take(&mut *retried.lock().unwrap_or_else(|p| p.into_inner()));
    report
}

/// Groups one level's targets by kind and region, cut to the kind's batch size.
fn batches(level: Vec<Target>) -> Vec<Vec<Target>> {
    let mut groups: BTreeMap<(ResourceKind, String), Vec<Target>> = BTreeMap::new();
    for t in level {
        groups
            .entry((t.kind, t.region.clone()))
            .or_default()
            .push(t);
    }
    let mut out = Vec::new();
    for ((kind, _), targets) in groups {
        let size = kind
            .release()
            .map_or(targets.len().max(1), |r| r.batch.max(1));
        let mut targets = targets.into_iter().peekable();
        while targets.peek().is_some() {
            out.push(targets.by_ref().take(size).collect());
        }
    }
    out
}

/// Everything one batch task needs.
struct Batch {
    cloud: Arc<dyn Cloud>,
    policy: ReleasePolicy,
    calls: Arc<AtomicUsize>,
    retried: Arc<Mutex<BTreeMap<String, usize>>>,
    observer: Observer,
}

impl Batch {
    async fn run(&self, batch: Vec<Target>) -> ReleaseReport {
        let mut report = ReleaseReport::default();
        let Some(first) = batch.first() else {
            return report;
        };
        let (kind, region) = (first.kind, first.region.clone());
        let Some(rel) = kind.release() else {
            // Released together with its owner (a public IP goes with its instance).
            let ids: Vec<String> = batch.into_iter().map(|t| t.id).collect();
            self.settle(&mut report, kind, ids);
            return report;
        };
        let to_delete: Vec<String> = batch
            .iter()
            .filter(|t| !t.already_deleting)
            .map(|t| t.id.clone())
            .collect();
        // A disk still attached, an EIP still associated: unbound first (issue 15).
        let mut failed = match kind.unbind() {
            Some(unbind) => self.unbind(&rel, &unbind, kind, &region, &to_delete).await,
            None => Vec::new(),
        };
        let to_delete: Vec<String> = to_delete
            .into_iter()
            .filter(|id| !failed.iter().any(|f| &f.id == id))
            .collect();
        failed.extend(self.delete(&rel, kind, &region, &to_delete).await);
        let pending: Vec<String> = batch
            .iter()
            .map(|t| t.id.clone())
            .filter(|id| !failed.iter().any(|f| &f.id == id))
            .collect();
        let (gone, not_gone) = self.verify(&rel, kind, &region, pending).await;
        failed.extend(not_gone);
        self.settle(&mut report, kind, gone);
        for f in failed {
            (self.observer)(&ReleaseEvent::Failed(f.clone()));
            report.failed.push(f);
        }
        report
    }

    fn settle(&self, report: &mut ReleaseReport, kind: ResourceKind, ids: Vec<String>) {
        if ids.is_empty() {
            return;
        }
        (self.observer)(&ReleaseEvent::Released(ids.clone()));
        report.released.extend(ids.into_iter().map(|id| (kind, id)));
    }

    /// Deletes `ids` (one call per batch); when the batch call fails for good, retries each id
    /// alone so one bad id cannot keep the others. Returns the ids that could not be deleted.
    async fn delete(
        &self,
        rel: &Release,
        kind: ResourceKind,
        region: &str,
        ids: &[String],
    ) -> Vec<Failure> {
        if ids.is_empty() {
            return Vec::new();
        }
        match self.delete_with_retry(rel, kind, region, ids).await {
            Ok(()) => Vec::new(),
            Err(e) if ids.len() == 1 => vec![failure(kind, &ids[0], region, &e)],
            Err(_) => {
                let mut set = tokio::task::JoinSet::new();
                for id in ids {
                    let job = Batch {
                        cloud: self.cloud.clone(),
                        policy: self.policy.clone(),
                        calls: self.calls.clone(),
                        retried: self.retried.clone(),
                        observer: self.observer.clone(),
                    };
                    let (rel, id, region) = (*rel, id.clone(), region.to_string());
                    set.spawn(async move {
                        let one = [id.clone()];
                        job.delete_with_retry(&rel, kind, &region, &one)
                            .await
                            .err()
                            .map(|e| failure(kind, &id, &region, &e))
                    });
                }
                let mut out = Vec::new();
                while let Some(r) = set.join_next().await {
                    if let Ok(Some(f)) = r {
                        out.push(f);
                    }
                }
                out
            }
        }
    }

    async fn delete_with_retry(
        &self,
        rel: &Release,
        kind: ResourceKind,
        region: &str,
        ids: &[String],
    ) -> Result<(), CloudError> {
        let params = delete_params(rel, region, ids);
        let started = Instant::now();
        let mut attempt = 0;
        // A dependency refusal clears when what holds the resource is gone: at the expected
        // time, if the host knows it; anything else (throttling, a 5xx) on the backoff.
        let mut held = self.policy.delays(self.policy.free_after.get(&kind));
        loop {
            match self
                .call(rel.action.product, rel.action.name, params.clone())
                .await
            {
                Ok(_) => return Ok(()),
                // Already gone counts as deleted; the verification that follows has the last word.
                Err(CloudError::Api { code, .. }) if ids.len() == 1 && code == rel.gone_code => {
                    return Ok(())
                }
                Err(e) if is_transient(&e) && started.elapsed() < self.policy.delete_deadline => {
                    *self
                        .retried
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .entry(e.code().to_string())
                        .or_default() += 1;
                    let delay = if e.code().starts_with("DependencyViolation") {
                        held.next()
                    } else {
                        self.policy.backoff(attempt)
                    };
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits until none of `ids` is listed by the kind's describe. Returns (gone, still there).
    async fn verify(
        &self,
        rel: &Release,
        kind: ResourceKind,
        region: &str,
        mut ids: Vec<String>,
    ) -> (Vec<String>, Vec<Failure>) {
        let mut gone = Vec::new();
        let started = Instant::now();
        let expected = self.policy.gone_after.get(&kind);
        let mut delays = self.policy.delays(expected);
        let mut last = String::from("not checked");
        if !ids.is_empty() && expected.is_some() {
            // The host expects the deletion to take this long: a poll before it is wasted.
            tokio::time::sleep(delays.next()).await;
        }
        while !ids.is_empty() {
            match self.listed(rel, region, &ids).await {
                Ok(still) => {
                    let (remaining, done): (Vec<String>, Vec<String>) =
                        ids.into_iter().partition(|id| still.contains(id));
                    gone.extend(done);
                    ids = remaining;
                    last = format!("still listed by {}", rel.verify_action.name);
                }
                // Only a successful describe that no longer lists an id proves it gone: an
                // error (a wrong key, a wrong region) has looked at nothing.
                Err(e) => last = e.to_string(),
            }
            if ids.is_empty() || started.elapsed() >= self.policy.verify_deadline {
                break;
            }
            tokio::time::sleep(delays.next()).await;
        }
        let waited = started.elapsed().as_secs();
        let failed = ids
            .iter()
            .map(|id| Failure {
                kind,
                id: id.clone(),
                region: region.to_string(),
                code: "NotVerified".into(),
                message: format!("deletion not confirmed after {waited}s: {last}"),
            })
            .collect();
        (gone, failed)
    }

    /// The verify describe's entries for `ids`.
    async fn entries(
        &self,
        rel: &Release,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<Value>, CloudError> {
        let filter = id_filter(rel.verify_action, rel.verify_param, ids);
        let params = vec![
            ("RegionId".to_string(), region.to_string()),
            (rel.verify_param.to_string(), filter),
        ];
        describe_all(self, rel.verify_action, params).await
    }

    /// Unbinds those of `ids` that something holds (a disk's instance, an EIP's instance) and
    /// waits until each shows `free_status`; returns the ones that could not be freed, which
    /// are then not deleted. One that is already gone is left to the delete and its verify.
    async fn unbind(
        &self,
        rel: &Release,
        unbind: &ops::Unbind,
        kind: ResourceKind,
        region: &str,
        ids: &[String],
    ) -> Vec<Failure> {
        let (Some(id_field), false) = (id_field(kind), ids.is_empty()) else {
            return Vec::new();
        };
        let entries = match self.entries(rel, region, ids).await {
            Ok(entries) => entries,
            // The delete that follows answers for itself (its own error names the holder).
            Err(_) => return Vec::new(),
        };
        let mut failed = Vec::new();
        for entry in entries {
            let text = |k: &str| {
                entry
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let (id, holder) = (text(id_field), text(unbind.holder_field));
            if holder.is_empty() || !ids.contains(&id) {
                continue;
            }
            let params = vec![
                ("RegionId".to_string(), region.to_string()),
                (unbind.id_param.to_string(), id.clone()),
                (unbind.holder_param.to_string(), holder),
            ];
            if let Err(e) = self
                .call(unbind.action.product, unbind.action.name, params)
                .await
            {
                if e.code() != rel.gone_code {
                    failed.push(failure(kind, &id, region, &e));
                }
                continue;
            }
            if let Err(f) = self.until_free(rel, unbind, kind, region, &id).await {
                failed.push(f);
            }
        }
        failed
    }

    /// Polls the verify describe until `id` shows `free_status` (or is gone).
    async fn until_free(
        &self,
        rel: &Release,
        unbind: &ops::Unbind,
        kind: ResourceKind,
        region: &str,
        id: &str,
    ) -> Result<(), Failure> {
        let started = Instant::now();
        let mut attempt = 0;
        let mut last = String::from("not checked");
        let one = [id.to_string()];
        while started.elapsed() < self.policy.verify_deadline {
            match self.entries(rel, region, &one).await {
                Ok(entries) => match entries.iter().find(|e| mentions(e, id)) {
                    None => return Ok(()),
                    Some(e) => {
                        let status = e.get("Status").and_then(Value::as_str).unwrap_or("");
                        if status == unbind.free_status {
                            return Ok(());
                        }
                        last = format!("still {status} after {}", unbind.action.name);
                    }
                },
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(self.policy.backoff(attempt)).await;
            attempt += 1;
        }
        Err(Failure {
            kind,
            id: id.to_string(),
            region: region.to_string(),
            code: "NotVerified".into(),
            message: format!(
                "{} not confirmed after {}s: {last}",
                unbind.action.name,
                started.elapsed().as_secs()
            ),
        })
    }

    /// Which of `ids` the verify describe still lists.
    async fn listed(
        &self,
        rel: &Release,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<String>, CloudError> {
        let entries = self.entries(rel, region, ids).await?;
        Ok(ids
            .iter()
            .filter(|id| entries.iter().any(|e| mentions(e, id)))
            .cloned()
            .collect())
    }
}

impl Caller for Batch {
    async fn call(
        &self,
        product: Product,
        action: &str,
        params: Params,
    ) -> Result<Value, CloudError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.cloud.call(product, action, params).await
    }
}

/// Something that makes cloud calls (a counted batch, or a bare cloud).
pub(crate) trait Caller {
    async fn call(
        &self,
        product: Product,
        action: &str,
        params: Params,
    ) -> Result<Value, CloudError>;
}

impl Caller for Arc<dyn Cloud> {
    async fn call(
        &self,
        product: Product,
        action: &str,
        params: Params,
    ) -> Result<Value, CloudError> {
        self.as_ref().call(product, action, params).await
    }
}

fn failure(kind: ResourceKind, id: &str, region: &str, e: &CloudError) -> Failure {
    Failure {
        kind,
        id: id.to_string(),
        region: region.to_string(),
        code: e.code().to_string(),
        message: e.message().to_string(),
    }
}

fn delete_params(rel: &Release, region: &str, ids: &[String]) -> Params {
    let mut p = vec![("RegionId".to_string(), region.to_string())];
    // A delete whose id parameter is a JSON array (DeleteKeyPairs' KeyPairNames).
    let json = rel.action.json_params.contains(&rel.id_param);
    match rel.id_param.strip_suffix(".N") {
        _ if json => p.push((
            rel.id_param.to_string(),
            serde_json::to_string(ids).unwrap_or_default(),
        )),
        Some(base) => p.extend(
            ids.iter()
                .enumerate()
                .map(|(i, id)| (format!("{base}.{}", i + 1), id.clone())),
        ),
        None => p.extend(ids.iter().map(|id| (rel.id_param.to_string(), id.clone()))),
    }
    p.extend(
        rel.extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    p
}

/// The value of a describe's id filter: a JSON array where the registry says the parameter
/// takes one, otherwise comma-separated.
fn id_filter(action: &ops::Action, param: &str, ids: &[String]) -> String {
    let json = action.json_params.contains(&param);
    if json {
        serde_json::to_string(ids).unwrap_or_default()
    } else {
        ids.join(",")
    }
}

/// Lists every entry a describe returns, following its paging as the registry describes it.
pub(crate) async fn describe_all(
    caller: &impl Caller,
    op: &ops::Action,
    params: Params,
) -> Result<Vec<Value>, CloudError> {
    let list_path = op.list_path.unwrap_or("");
    let mut entries = Vec::new();
    let mut page: u32 = 1;
    let mut token: Option<String> = None;
    loop {
        let mut p = params.clone();
        match op.paging {
            Paging::None => {}
            Paging::Pages { max_size, .. } => {
                p.push(("PageSize".into(), max_size.to_string()));
                p.push(("PageNumber".into(), page.to_string()));
            }
            Paging::Token { max_size, .. } => {
                p.push(("MaxResults".into(), max_size.to_string()));
                if let Some(t) = &token {
                    p.push(("NextToken".into(), t.clone()));
                }
            }
        }
        let answer = caller.call(op.product, op.name, p).await?;
        let got = lookup(&answer, list_path)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let n = got.len();
        entries.extend(got);
        match op.paging {
            Paging::None => break,
            Paging::Pages { max_size, .. } => {
                let total = answer.get("TotalCount").and_then(Value::as_u64);
                let done = n == 0
                    || (n as u32) < max_size
                    || total.is_some_and(|t| entries.len() as u64 >= t);
                if done {
                    break;
                }
                page += 1;
            }
            Paging::Token { .. } => {
                token = answer
                    .get("NextToken")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string);
                if token.is_none() || n == 0 {
                    break;
                }
            }
        }
    }
    Ok(entries)
}

/// Finds the ids of resources of `kind` in `region` tagged `key=value`.
pub(crate) async fn find_tagged(
    caller: &impl Caller,
    kind: ResourceKind,
    region: &str,
    key: &str,
    value: &str,
) -> Result<Vec<String>, CloudError> {
    let (Some(rel), Some(id_field)) = (kind.release(), id_field(kind)) else {
        return Ok(Vec::new());
    };
    let params = vec![
        ("RegionId".to_string(), region.to_string()),
        ("Tag.1.Key".to_string(), key.to_string()),
        ("Tag.1.Value".to_string(), value.to_string()),
    ];
    let entries = describe_all(caller, rel.verify_action, params).await?;
    Ok(entries
        .iter()
        .filter(|e| carries_tag(e, key, value))
        .filter_map(|e| e.get(id_field).and_then(Value::as_str))
        .map(str::to_string)
        .collect())
}

/// The field that holds a resource's id in its describe entries: the id path of the creating
/// action that returns a single id (`InstanceId` from CreateInstance, `VpcId` from CreateVpc).
pub fn id_field(kind: ResourceKind) -> Option<&'static str> {
    ops::ACTIONS.iter().find_map(|a| match a.creates() {
        Some((k, path)) if k == kind && !path.contains('.') => Some(path),
        _ => None,
    })
}

/// True when a describe entry shows the tag itself. The describe was already filtered by the
/// tag, but a filter the service ignored must never make someone else's resource look like
/// the run's: an entry without its tags is not trusted (at worst it leaks, never deletes).
fn carries_tag(entry: &Value, key: &str, value: &str) -> bool {
    tag_value(entry, key).as_deref() == Some(value)
}

/// The value of tag `key` as a describe entry shows it (ECS `TagKey`/`TagValue` or VPC
/// `Key`/`Value`), or `None` when the entry shows no such tag.
pub(crate) fn tag_value(entry: &Value, key: &str) -> Option<String> {
    let tags = lookup(entry, "Tags.Tag").and_then(Value::as_array)?;
    tags.iter().find_map(|t| {
        let k = t
            .get("TagKey")
            .or_else(|| t.get("Key"))
            .and_then(Value::as_str);
        let v = t
            .get("TagValue")
            .or_else(|| t.get("Value"))
            .and_then(Value::as_str);
        (k == Some(key)).then(|| v.unwrap_or_default().to_string())
    })
}

/// Every resource of `kind` in `region` that shows the tag `key`, whatever its value:
/// (id, tag value, describe entry).
pub(crate) async fn find_tag_key(
    caller: &impl Caller,
    kind: ResourceKind,
    region: &str,
    key: &str,
) -> Result<Vec<(String, String, Value)>, CloudError> {
    let (Some(rel), Some(id_field)) = (kind.release(), id_field(kind)) else {
        return Ok(Vec::new());
    };
    let params = vec![
        ("RegionId".to_string(), region.to_string()),
        ("Tag.1.Key".to_string(), key.to_string()),
    ];
    let entries = describe_all(caller, rel.verify_action, params).await?;
    Ok(entries
        .into_iter()
        .filter_map(|e| {
            let value = tag_value(&e, key)?;
            let id = e.get(id_field).and_then(Value::as_str)?.to_string();
            Some((id, value, e))
        })
        .collect())
}

/// True when a describe entry is the resource `id` (one of its top-level fields is the id).
fn mentions(entry: &Value, id: &str) -> bool {
    entry
        .as_object()
        .is_some_and(|o| o.values().any(|v| v.as_str() == Some(id)))
}

/// Follows a dotted path into a JSON value.
pub(crate) fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return Some(v);
    }
    path.split('.').try_fold(v, |v, k| v.get(k))
}

/// Refusals that go away by themselves: creation still in progress, a dependency still being
/// released, a concurrent operation, throttling, a flaky service, no answer at all.
fn is_transient(e: &CloudError) -> bool {
    const PREFIXES: &[&str] = &[
        "IncorrectInstanceStatus",
        "DependencyViolation",
        "Throttling",
        "IncorrectVpcStatus",
        "IncorrectVSwitchStatus",
        "OperationConflict",
        "TaskConflict",
        "OperationDenied.OtherSubnetProcessing",
        "LastTokenProcessing",
        "IdempotentProcessing",
        "ServiceUnavailable",
        "InternalError",
        "UnknownError",
    ];
    match e {
        CloudError::Transport(_) => true,
        CloudError::NotSent(_) => false,
        CloudError::Api { code, .. } => PREFIXES.iter().any(|p| code.starts_with(p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target(kind: ResourceKind, n: usize, region: &str) -> Target {
        Target {
            kind,
            id: format!("{kind:?}-{n}"),
            region: region.into(),
            already_deleting: false,
        }
    }

    #[test]
    fn instances_go_in_batches_of_100_per_region() {
        let mut level: Vec<Target> = (0..250)
            .map(|n| target(ResourceKind::Instance, n, "cn-hangzhou"))
            .collect();
        level.push(target(ResourceKind::Instance, 999, "cn-shanghai"));
        let sizes: Vec<usize> = batches(level).iter().map(Vec::len).collect();
        assert_eq!(sizes, [100, 100, 50, 1]);
    }

    #[test]
    fn delete_params_follow_the_registry() {
        let ids = vec!["i-1".to_string(), "i-2".to_string()];
        let rel = ResourceKind::Instance.release().unwrap();
        let p = delete_params(&rel, "cn-hangzhou", &ids);
        assert!(p.contains(&("InstanceId.2".into(), "i-2".into())));
        assert!(p.contains(&("Force".into(), "true".into())));
        let rel = ResourceKind::SecurityGroup.release().unwrap();
        let p = delete_params(&rel, "cn-hangzhou", &ids[..1]);
        assert!(p.contains(&("SecurityGroupId".into(), "i-1".into())));
        // DeleteKeyPairs names its key pairs in a JSON array (the registry's json_params).
        let rel = ResourceKind::KeyPair.release().unwrap();
        let p = delete_params(&rel, "cn-hangzhou", &["kp-a".to_string()]);
        assert!(
            p.contains(&("KeyPairNames".into(), "[\"kp-a\"]".into())),
            "{p:?}"
        );
    }

    #[test]
    fn images_go_before_snapshots_and_bound_kinds_are_unbound_first() {
        assert!(ResourceKind::Image.level() < ResourceKind::Snapshot.level());
        assert!(ResourceKind::Instance.level() < ResourceKind::KeyPair.level());
        for kind in [ResourceKind::Disk, ResourceKind::Eip] {
            let unbind = kind.unbind().expect("bound kinds say how to unbind");
            let action = unbind.action;
            assert_eq!(action.product, kind.product(), "{}", action.name);
            assert_eq!(action.effect, ops::Effect::Mutate, "{}", action.name);
            assert!(
                action.required.contains(&unbind.id_param),
                "{}",
                action.name
            );
            assert_eq!(Some(unbind.holder_field), id_field(ResourceKind::Instance));
        }
    }

    #[test]
    fn verify_filters_use_json_arrays_where_the_registry_says_so() {
        let ids = vec!["i-1".to_string(), "i-2".to_string()];
        assert_eq!(
            id_filter(&ops::A::DESCRIBE_INSTANCES, "InstanceIds", &ids),
            r#"["i-1","i-2"]"#
        );
        assert_eq!(id_filter(&ops::A::DESCRIBE_VPCS, "VpcId", &ids), "i-1,i-2");
    }

    #[test]
    fn every_releasable_kind_has_an_id_field() {
        for k in ResourceKind::ALL
            .into_iter()
            .filter(|k| k.release().is_some())
        {
            assert!(id_field(k).is_some(), "{k:?}");
        }
        assert_eq!(id_field(ResourceKind::Instance), Some("InstanceId"));
    }

    #[test]
    fn transient_codes_are_retried_and_the_rest_are_not() {
        let api = |c: &str| CloudError::Api {
            code: c.into(),
            message: String::new(),
        };
        for c in [
            "IncorrectInstanceStatus.Initializing",
            "DependencyViolation",
            "DependencyViolation.VSwitch",
            "Throttling.User",
        ] {
            assert!(is_transient(&api(c)), "{c}");
        }
        assert!(!is_transient(&api("Forbidden.RAM")));
    }

    /// A cloud that refuses every call with one error code.
    struct Refusing(&'static str);

    impl Cloud for Refusing {
        fn call<'a>(&'a self, _: Product, _: &'a str, _: Params) -> super::super::CallFuture<'a> {
            let code = self.0.to_string();
            Box::pin(async move {
                Err(CloudError::Api {
                    code,
                    message: "refused".into(),
                })
            })
        }
    }

    #[tokio::test]
    async fn a_wrong_key_is_not_a_release() {
        let policy = ReleasePolicy {
            verify_deadline: Duration::from_millis(1),
            ..ReleasePolicy::default()
        };
        for kind in [ResourceKind::Instance, ResourceKind::SecurityGroup] {
            let cloud: Arc<dyn Cloud> = Arc::new(Refusing("InvalidAccessKeyId.NotFound"));
            let report = release(
                cloud,
                vec![target(kind, 1, "cn-hangzhou")],
                &policy,
                Arc::new(|_| {}),
            )
            .await;
            assert!(report.released.is_empty(), "{kind:?}: {report:?}");
            assert_eq!(report.failed.len(), 1, "{kind:?}");
            assert_eq!(report.failed[0].code, "InvalidAccessKeyId.NotFound");
        }
        // The kind's own not-found code on delete is "already gone"; the describe decides.
        let gone = ResourceKind::Instance.release().unwrap().gone_code;
        assert_eq!(gone, "InvalidInstanceId.NotFound");
    }

    #[test]
    fn only_entries_that_show_the_run_tag_count_as_the_runs() {
        let e = json!({"Tags": {"Tag": [{"TagKey": "ecsh:run", "TagValue": "r-1"}]}});
        assert!(carries_tag(&e, "ecsh:run", "r-1"));
        assert!(!carries_tag(&e, "ecsh:run", "r-2"));
        assert!(!carries_tag(
            &json!({"InstanceId": "i-1"}),
            "ecsh:run",
            "r-2"
        ));
    }
}
