//! The live ledger of a run: journals every creating request before it is sent and its ids
//! after, keeps the scope stack (the run, `scope(|| ...)` blocks nested inside it), and
//! releases a scope's resources when it ends.
//!
//! The host's gateway calls [`Ledger::before_send`] and [`Ledger::after_send`] around every
//! cloud call; nothing else creates resources. The ledger decides from the registry alone
//! which calls create (and what), and which delete. It does not print and does not ask.

use super::journal::{EndedBy, Record, RUN_TAG_KEY};
use super::lease::{self, LeasePolicy};
use super::release::{self, Failure, Observer, ReleaseEvent, ReleasePolicy, ReleaseReport, Target};
use super::state::{Holding, RunState};
use super::store::{FileStore, JournalWriter, Journals};
use super::summary::Summary;
use super::{now_rfc3339, Cloud, HourlyCost, LedgerError, RunId};
use crate::ops::{self, Effect, Product, ResourceKind};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// A scope's number in the journal. The run's own scope is 0.
pub type ScopeId = u32;

/// The test-only hook: when this environment variable names an action, the process kills
/// itself (SIGKILL) right after that creating request was answered and before its ids are
/// journalled, the worst moment for a crash. It exists only in builds with the `test-hooks`
/// cargo feature, which `cargo test` enables and `cargo build --release` does not.
pub const CRASH_AFTER_SEND_ENV: &str = "ECSH_TEST_CRASH_AFTER_SEND";

/// How to start a run's ledger.
#[derive(Clone, Debug)]
pub struct LedgerOptions {
    /// Where run journals live (see [`super::journal::default_dir`]).
    pub journal_dir: PathBuf,
    /// The region of requests that name none.
    pub default_region: String,
    /// What the run talks to, shown by `ecsh ledger` (`sim`, `aliyun cn-hangzhou`).
    pub target: Option<String>,
    /// The label of the run's own scope (`script deploy.rhai`, `repl`).
    pub label: String,
    pub policy: ReleasePolicy,
    /// The endpoint and account the run's resources will live in, for the journal.
    pub home: Option<super::target::RunTarget>,
    /// The AutoReleaseTime lease of the instances the run creates (`--auto-release`).
    pub lease: LeasePolicy,
    /// Where the journal is kept: the team ledger (`--ledger`), or the files in
    /// `journal_dir` when `None`.
    pub store: Option<Journals>,
}

impl LedgerOptions {
    /// Options for a run: `journal_dir` is `--journal-dir` (the default directory when
    /// `None`), `label` names the run's scope (`script deploy.rhai`, `repl`), `target` what it
    /// talks to (shown by `ecsh ledger`); the default release policy.
    pub fn for_run(
        journal_dir: Option<&Path>,
        default_region: &str,
        label: &str,
        target: Option<String>,
    ) -> Result<LedgerOptions, LedgerError> {
        let journal_dir = match journal_dir {
            Some(d) => d.to_path_buf(),
            None => super::journal::default_dir()?,
        };
        Ok(LedgerOptions {
            journal_dir,
            default_region: default_region.to_string(),
            target,
            label: label.to_string(),
            policy: ReleasePolicy::default(),
            home: None,
            lease: LeasePolicy::default(),
            store: None,
        })
    }
}

/// A journalled request, handed back to [`Ledger::after_send`] with its outcome.
#[derive(Debug)]
#[must_use = "pass the intent to Ledger::after_send once the call returns"]
pub struct Intent(IntentKind);

#[derive(Debug)]
enum IntentKind {
    Create {
        seq: u64,
        action: &'static str,
        id_path: &'static str,
        /// The AutoReleaseTime lease the host set on the request: (region, expiry).
        lease: Option<(String, time::OffsetDateTime)>,
    },
    Delete {
        ids: Vec<String>,
    },
}

/// How a call ended, as the gateway saw it.
#[derive(Debug)]
pub enum Outcome<'a> {
    /// The API answered with success.
    Answer(&'a Value),
    /// The API answered with an error: the request did nothing.
    Refused { code: &'a str },
    /// No answer: the request may or may not have taken effect.
    NoAnswer { error: String },
}

impl<'a> Outcome<'a> {
    /// The outcome of an RPC client call.
    pub fn of_call(result: &'a Result<Value, crate::rpc::CallError>) -> Outcome<'a> {
        use crate::rpc::CallError as E;
        match result {
            Ok(v) => Outcome::Answer(v),
            // A server error may come after the service acted: unknown, not refused.
            Err(e @ E::Api(_)) if crate::rpc::retry::may_have_acted(e) => Outcome::NoAnswer {
                error: e.to_string(),
            },
            Err(E::Api(api)) => Outcome::Refused { code: &api.code },
            Err(E::Config(_) | E::Params(_)) => Outcome::Refused { code: "NotSent" },
            Err(e) => Outcome::NoAnswer {
                error: e.to_string(),
            },
        }
    }
}

/// The ledger of one live run. Cheap to clone; clones share the run.
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

struct Inner {
    run: RunId,
    journal_dir: PathBuf,
    cloud: Arc<dyn Cloud>,
    policy: ReleasePolicy,
    default_region: String,
    crash_after_send: Option<String>,
    lease: LeasePolicy,
    live: Mutex<Live>,
}

/// An instance under a host-set lease: its region and when the lease ends (service clock).
#[derive(Clone, Debug)]
struct Leased {
    region: String,
    expires: time::OffsetDateTime,
}

struct Live {
    /// `None` once the run has ended: the journal is closed and its lock released.
    journal: Option<Box<dyn JournalWriter>>,
    journal_path: PathBuf,
    state: RunState,
    next_seq: u64,
    next_scope: ScopeId,
    /// Open scopes, innermost last; the run's scope 0 is at the bottom until `finish`.
    stack: Vec<ScopeId>,
    /// A journal write that failed while releasing, reported when the release ends.
    journal_error: Option<LedgerError>,
    /// Instances whose AutoReleaseTime the host set and renews, by id.
    leases: BTreeMap<String, Leased>,
}

impl Live {
    fn append(&mut self, record: Record) -> Result<(), LedgerError> {
        let Some(journal) = self.journal.as_mut() else {
            return Err(LedgerError::Refused {
                action: "journal".into(),
                why: format!("run {} has already ended; start a new run", self.state.run),
            });
        };
        journal.append(&record)?;
        self.state.apply(&record);
        Ok(())
    }
}

impl Ledger {
    /// Starts a run: creates and locks its journal and opens the run's scope.
    pub fn start(cloud: Arc<dyn Cloud>, opts: LedgerOptions) -> Result<Ledger, LedgerError> {
        let run = RunId::new();
        let store = match &opts.store {
            Some(s) => s.clone(),
            None => Arc::new(FileStore::at(Some(&opts.journal_dir))?),
        };
        let journal = store.create(&run)?;
        let mut live = Live {
            journal_path: journal.location(),
            journal: Some(journal),
            state: RunState::default(),
            next_seq: 1,
            next_scope: 1,
            stack: vec![0],
            journal_error: None,
            leases: BTreeMap::new(),
        };
        live.append(Record::Run {
            v: super::journal::FORMAT_VERSION,
            run: run.to_string(),
            started: now_rfc3339(),
            pid: std::process::id(),
            tag_key: RUN_TAG_KEY.into(),
            target: opts.target.clone(),
            home: opts.home.clone(),
        })?;
        live.append(Record::ScopeOpen {
            scope: 0,
            parent: None,
            label: opts.label.clone(),
        })?;
        Ok(Ledger {
            inner: Arc::new(Inner {
                run,
                journal_dir: opts.journal_dir,
                cloud,
                policy: opts.policy,
                default_region: opts.default_region,
                crash_after_send: crash_hook(),
                lease: opts.lease,
                live: Mutex::new(live),
            }),
        })
    }

    pub fn run_id(&self) -> &RunId {
        &self.inner.run
    }

    pub fn journal_dir(&self) -> &Path {
        &self.inner.journal_dir
    }

    pub fn journal_path(&self) -> PathBuf {
        self.live().journal_path.clone()
    }

    fn live(&self) -> MutexGuard<'_, Live> {
        // A panic while holding the lock leaves the state as journalled so far, which is
        // exactly what recovery would read back: keep going with it.
        self.inner
            .live
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Call before sending any request. For a creating action, sets its ClientToken and run
    /// tag in `params` and journals the intent (fsynced) before returning; for a deleting
    /// action, notes which tracked ids it names. Returns `None` for other actions.
    /// `cost` is the guard's hourly quote for the whole request, when it made one.
    pub fn before_send(
        &self,
        product: Product,
        action: &str,
        params: &mut Map<String, Value>,
        cost: Option<HourlyCost>,
    ) -> Result<Option<Intent>, LedgerError> {
        let Some(op) = ops::find(product, action) else {
            return Ok(None);
        };
        match op.effect {
            Effect::Create { kind, id_path } => {
                let mut live = self.live();
                let seq = live.next_seq;
                let scope = live.stack.last().copied().unwrap_or(0);
                let client_token = op
                    .client_token
                    .then(|| ensure_client_token(params, &self.inner.run, seq));
                let tagged = kind.release().is_some();
                if tagged {
                    set_tag(params, RUN_TAG_KEY, self.inner.run.as_str());
                }
                let region = params
                    .get("RegionId")
                    .and_then(Value::as_str)
                    .unwrap_or(&self.inner.default_region)
                    .to_string();
                let lease = (kind == ResourceKind::Instance)
                    .then(|| self.set_lease(params))
                    .flatten()
                    .map(|expires| (region.clone(), expires));
                live.append(Record::Intent {
                    seq,
                    scope,
                    product: product.code().into(),
                    action: op.name.into(),
                    region,
                    kind,
                    client_token,
                    tagged,
                    params: redacted(params),
                    cost,
                })?;
                live.next_seq += 1;
                Ok(Some(Intent(IntentKind::Create {
                    seq,
                    action: op.name,
                    id_path,
                    lease,
                })))
            }
            Effect::Delete(kind) => {
                let named = ids_named(params, kind);
                let live = self.live();
                let ids: Vec<String> = named
                    .into_iter()
                    .filter(|id| live.state.find(id).is_some())
                    .collect();
                Ok((!ids.is_empty()).then_some(Intent(IntentKind::Delete { ids })))
            }
            Effect::Mutate if names_tag(params, RUN_TAG_KEY) || removes_all_tags(params) => {
                Err(LedgerError::Refused {
                    action: op.name.into(),
                    why: format!(
                        "the `{RUN_TAG_KEY}` tag is set by ecsh on what a run creates, so that \
                     `ecsh cleanup` can find it; a script cannot set, change or remove it \
                     (use another tag key for your own labels)"
                    ),
                })
            }
            Effect::Read | Effect::Mutate => Ok(None),
        }
    }

    /// Call when the request of `intent` has returned. Journals the created ids (or that the
    /// request was refused, or that its outcome is unknown) and returns the created ids.
    pub fn after_send(
        &self,
        intent: Intent,
        outcome: Outcome<'_>,
    ) -> Result<Vec<String>, LedgerError> {
        match intent.0 {
            IntentKind::Create {
                seq,
                action,
                id_path,
                lease,
            } => {
                if self.inner.crash_after_send.as_deref() == Some(action) {
                    crash_now();
                }
                let record = match outcome {
                    Outcome::Answer(answer) => {
                        let ids = ids_at(answer, id_path);
                        if ids.is_empty() {
                            Record::Unknown {
                                seq,
                                error: format!("the answer names no id at {id_path}"),
                            }
                        } else {
                            Record::Created { seq, ids }
                        }
                    }
                    Outcome::Refused { code } => Record::Refused {
                        seq,
                        code: code.to_string(),
                    },
                    Outcome::NoAnswer { error } => Record::Unknown { seq, error },
                };
                let ids = match &record {
                    Record::Created { ids, .. } => ids.clone(),
                    _ => Vec::new(),
                };
                let mut live = self.live();
                live.append(record)?;
                if let Some((region, expires)) = lease {
                    for id in &ids {
                        let leased = Leased {
                            region: region.clone(),
                            expires,
                        };
                        live.leases.insert(id.clone(), leased);
                    }
                }
                Ok(ids)
            }
            IntentKind::Delete { ids } => {
                if matches!(outcome, Outcome::Answer(_)) {
                    self.live().append(Record::DeleteSent { ids })?;
                }
                Ok(Vec::new())
            }
        }
    }

    /// Sets the lease on a creating request for instances: `AutoReleaseTime` = now on the
    /// service's clock + the lease length, unless the lease is off, the request is not
    /// pay-as-you-go (the service refuses AutoReleaseTime there), or the script chose its
    /// own AutoReleaseTime (then that is the script's, and not renewed).
    fn set_lease(&self, params: &mut Map<String, Value>) -> Option<time::OffsetDateTime> {
        let length = self.inner.lease.length?;
        let charge = params.get("InstanceChargeType").and_then(Value::as_str);
        if !matches!(charge, None | Some("PostPaid")) || params.contains_key("AutoReleaseTime") {
            return None;
        }
        let expires = lease::expiry(self.inner.cloud.server_now(), length);
        params.insert(
            "AutoReleaseTime".into(),
            Value::String(lease::format(expires)),
        );
        Some(expires)
    }

    /// Keeps the run's leases alive until the run ends: checks the service's clock (one
    /// describe of the leased instances, whose `Date` shows it) and renews every lease that
    /// has less than half its length left. Runs on `rt` until [`Ledger::finish`]. A renewal
    /// that fails is told to `warn` (the ledger does not print), with the time the lease then
    /// ends; the next check tries again.
    pub fn renew_leases(
        &self,
        rt: &tokio::runtime::Handle,
        warn: std::sync::Arc<dyn Fn(&str) + Send + Sync>,
    ) {
        let Some(length) = self.inner.lease.length else {
            return;
        };
        let ledger = self.clone();
        rt.spawn(async move {
            let mut last: Option<(std::time::Instant, time::OffsetDateTime)> = None;
            let mut rate = 1.0_f64;
            let mut pause = std::time::Duration::from_secs(1);
            loop {
                tokio::time::sleep(pause).await;
                let leases = {
                    let live = ledger.live();
                    if live.journal.is_none() {
                        return;
                    }
                    live.leases
                        .iter()
                        .filter(|(id, _)| {
                            live.state
                                .find(id)
                                .is_some_and(|t| t.status == Holding::Held)
                        })
                        .map(|(id, l)| (id.clone(), l.clone()))
                        .collect::<Vec<_>>()
                };
                if leases.is_empty() {
                    pause = std::time::Duration::from_secs(1);
                    continue;
                }
                // Any answer refreshes the service's clock; this one is cheap and bounded.
                let probe = vec![
                    ("RegionId".to_string(), leases[0].1.region.clone()),
                    (
                        "InstanceIds".to_string(),
                        serde_json::json!([leases[0].0]).to_string(),
                    ),
                ];
                let _ = ledger
                    .inner
                    .cloud
                    .call(LEASE_PROBE.product, LEASE_PROBE.name, probe)
                    .await;
                let now = ledger.inner.cloud.server_now();
                let local = std::time::Instant::now();
                // Until two looks at the service's clock tell how fast it runs, look again
                // in a second (a simulator's clock may run hundreds of times faster).
                let measured = last.is_some();
                if let Some((then_local, then_server)) = last {
                    let dl = (local - then_local).as_secs_f64();
                    let ds = (now - then_server).as_seconds_f64();
                    if dl >= 0.5 && ds > 0.0 {
                        rate = (ds / dl).max(1.0);
                    }
                }
                last = Some((local, now));
                let mut soonest = None::<time::OffsetDateTime>;
                for (id, l) in leases {
                    let mut expires = l.expires;
                    if lease::needs_renewal(now, l.expires, length) {
                        let next = lease::expiry(now, length);
                        match ledger.modify_lease(&id, &l.region, Some(next)).await {
                            Ok(()) => {
                                expires = next;
                                if let Some(entry) = ledger.live().leases.get_mut(&id) {
                                    entry.expires = next;
                                }
                            }
                            Err(e) => warn(&format!(
                                "ecsh: warning: could not renew the AutoReleaseTime lease of {id} ({e}); \
                                 unless a later renewal succeeds, the cloud releases it at {}",
                                lease::format(l.expires)
                            )),
                        }
                    }
                    soonest =
                        Some(soonest.map_or(expires, |s: time::OffsetDateTime| s.min(expires)));
                }
                pause = match soonest {
                    Some(e) if measured => lease::next_check(now, e, length, rate),
                    _ => std::time::Duration::from_secs(1),
                };
            }
        });
    }

    /// Sets (`Some`) or clears (`None`) an instance's AutoReleaseTime.
    async fn modify_lease(
        &self,
        id: &str,
        region: &str,
        until: Option<time::OffsetDateTime>,
    ) -> Result<(), super::CloudError> {
        let mut params = vec![
            ("RegionId".to_string(), region.to_string()),
            ("InstanceId".to_string(), id.to_string()),
        ];
        if let Some(t) = until {
            params.push(("AutoReleaseTime".into(), lease::format(t)));
        }
        self.inner
            .cloud
            .call(LEASE_MODIFY.product, LEASE_MODIFY.name, params)
            .await
            .map(|_| ())
    }

    /// `keep(id)` with a lease: keeps `id` (and what it needs), then sets the AutoReleaseTime
    /// of every kept instance the host had leased to `for_` from now, or clears it when kept
    /// without a duration, so a kept service is neither cut short by its lease nor renewed
    /// past what was asked. Returns the kept ids and one sentence per lease change.
    pub async fn keep_for(
        &self,
        id: &str,
        for_: Option<std::time::Duration>,
    ) -> Result<(Vec<String>, Vec<String>), LedgerError> {
        let kept = self.keep(id)?;
        let notes = self.settle_leases(&kept, for_).await?;
        Ok((kept, notes))
    }

    /// After `kept` were kept: stops renewing their leases and sets or clears them.
    pub async fn settle_leases(
        &self,
        kept: &[String],
        for_: Option<std::time::Duration>,
    ) -> Result<Vec<String>, LedgerError> {
        let leased: Vec<(String, Leased)> = {
            let mut live = self.live();
            kept.iter()
                .filter_map(|id| live.leases.remove(id).map(|l| (id.clone(), l)))
                .collect()
        };
        let mut notes = Vec::new();
        for (id, l) in leased {
            let until = match for_ {
                Some(d) => {
                    let d = d.max(lease::MIN_LEASE).min(lease::MAX_LEASE);
                    Some(lease::expiry(self.inner.cloud.server_now(), d))
                }
                None => None,
            };
            match self.modify_lease(&id, &l.region, until).await {
                Ok(()) => notes.push(match until {
                    Some(t) => format!(
                        "{id}: AutoReleaseTime set to {} (the kept duration; at least 30 minutes, the service's minimum): the cloud releases it then",
                        lease::format(t)
                    ),
                    None => format!("{id}: AutoReleaseTime cleared: it runs until you release it (`ecsh release {id}`)"),
                }),
                Err(e) => {
                    // Still leased: put it back, so the run goes on renewing it.
                    self.live().leases.insert(id.clone(), l);
                    return Err(LedgerError::Refused {
                        action: "keep".into(),
                        why: format!(
                            "{id} is kept, but its AutoReleaseTime lease could not be changed ({e}); it would be released by the cloud when the lease ends, so keep() failed"
                        ),
                    });
                }
            }
        }
        Ok(notes)
    }

    /// Retains a resource the run created: it is listed as retained and never released. What
    /// it needs (the run's resources its creating request named, transitively: an instance's
    /// vswitch, security group and VPC) and what only goes away with it (its public IP) are
    /// retained with it. Returns every id now retained.
    pub fn keep(&self, id: &str) -> Result<Vec<String>, LedgerError> {
        let mut live = self.live();
        match live.state.find(id).map(|t| t.status.clone()) {
            None => return Err(LedgerError::NotTracked(id.to_string())),
            Some(Holding::Released | Holding::Deleting) => {
                return Err(LedgerError::Refused {
                    action: "keep".into(),
                    why: format!("`{id}` is already released or being deleted"),
                })
            }
            Some(Holding::Kept) => {}
            Some(Holding::Held) => live.append(Record::Keep {
                id: id.to_string(),
                needed_by: None,
            })?,
        }
        let mut kept = vec![id.to_string()];
        let mut needed = live.state.dependencies(id);
        needed.extend(live.state.attached_to(id));
        for dep in needed {
            if live
                .state
                .find(&dep)
                .is_some_and(|t| t.status == Holding::Held)
            {
                live.append(Record::Keep {
                    id: dep.clone(),
                    needed_by: Some(id.to_string()),
                })?;
                kept.push(dep);
            }
        }
        Ok(kept)
    }

    /// Releases what the run created among `ids`, all at once, in the planner's dependency
    /// order (the stdlib's cleanup of a failed flow: `release_created`). An id the run did not
    /// create is not touched: it comes back in the second list. Ids already released are
    /// skipped.
    pub async fn release_set(
        &self,
        ids: &[String],
    ) -> Result<(ReleaseReport, Vec<String>), LedgerError> {
        let untracked: Vec<String> = {
            let live = self.live();
            ids.iter()
                .filter(|id| live.state.find(id).is_none())
                .cloned()
                .collect()
        };
        Ok((self.release_unreleased(ids).await?, untracked))
    }

    /// `release(id)`: releases one resource the run created, now, whether held or kept,
    /// verified like a scope's release (with what was kept only for it). Errors when the run
    /// did not create `id` or already released it.
    pub async fn release_now(&self, id: &str) -> Result<ReleaseReport, LedgerError> {
        let ids = {
            let live = self.live();
            match live.state.find(id).map(|t| t.status.clone()) {
                None => return Err(LedgerError::NotTracked(id.to_string())),
                Some(Holding::Released) => {
                    return Err(LedgerError::Refused {
                        action: "release".into(),
                        why: format!("`{id}` is already released"),
                    })
                }
                Some(_) => {}
            }
            let mut ids = vec![id.to_string()];
            ids.extend(
                live.state
                    .kept()
                    .filter(|t| t.needed_by.as_deref() == Some(id))
                    .map(|t| t.id.clone()),
            );
            ids
        };
        self.release_unreleased(&ids).await
    }

    /// Releases, through the planner, those of `ids` the run created and has not released yet.
    async fn release_unreleased(&self, ids: &[String]) -> Result<ReleaseReport, LedgerError> {
        let targets = {
            let live = self.live();
            live.state
                .resources
                .iter()
                .filter(|t| ids.contains(&t.id) && t.status != Holding::Released)
                .map(|t| Target {
                    kind: t.kind,
                    id: t.id.clone(),
                    region: t.region.clone(),
                    already_deleting: t.status == Holding::Deleting,
                })
                .collect::<Vec<_>>()
        };
        let report = release::release(
            self.inner.cloud.clone(),
            targets,
            &self.inner.policy,
            self.observer(),
        )
        .await;
        if let Some(e) = self.live().journal_error.take() {
            return Err(e);
        }
        Ok(report)
    }

    /// Retains everything still held (the REPL's "keep them" answer on exit). Returns the ids.
    pub fn keep_all(&self) -> Result<Vec<String>, LedgerError> {
        let mut live = self.live();
        let held: Vec<String> = live
            .state
            .resources
            .iter()
            .filter(|t| t.status == Holding::Held)
            .map(|t| t.id.clone())
            .collect();
        for id in &held {
            live.append(Record::Keep {
                id: id.clone(),
                needed_by: None,
            })?;
        }
        Ok(held)
    }

    /// Opens a scope nested in the current one.
    pub fn open_scope(&self, label: &str) -> Result<ScopeId, LedgerError> {
        let mut live = self.live();
        let scope = live.next_scope;
        let parent = live.stack.last().copied();
        live.append(Record::ScopeOpen {
            scope,
            parent,
            label: label.to_string(),
        })?;
        live.next_scope += 1;
        live.stack.push(scope);
        Ok(scope)
    }

    /// Ends `scope` (and any scope still open inside it): releases everything they created
    /// and did not keep, in reverse dependency order, and journals each release.
    pub async fn close_scope(&self, scope: ScopeId) -> Result<ReleaseReport, LedgerError> {
        let (targets, unresolved) = {
            let mut live = self.live();
            let Some(pos) = live.stack.iter().position(|s| *s == scope) else {
                return Ok(ReleaseReport::default());
            };
            live.stack.truncate(pos);
            // Scopes are numbered in opening order, so everything opened since `scope` is
            // nested in it.
            let targets = targets_from(&live.state, |s| s >= scope);
            let unresolved = unresolved_from(&live.state, |s| s >= scope);
            (targets, unresolved)
        };
        let mut report = ReleaseReport::default();
        let mut targets = targets;
        targets.extend(self.find_orphans(unresolved, &mut report).await?);
        let observer = self.observer();
        report.merge(
            release::release(
                self.inner.cloud.clone(),
                targets,
                &self.inner.policy,
                observer,
            )
            .await,
        );
        let mut live = self.live();
        if let Some(e) = live.journal_error.take() {
            return Err(e);
        }
        live.append(Record::ScopeClose { scope })?;
        Ok(report)
    }

    /// Ends the run: closes its scope (releasing everything not kept) and journals the end.
    /// Finishing an ended run only returns its summary again.
    pub async fn finish(&self) -> Result<(ReleaseReport, Summary), LedgerError> {
        if self.live().journal.is_none() {
            return Ok((ReleaseReport::default(), self.summary()));
        }
        let report = self.close_scope(0).await?;
        let mut live = self.live();
        live.append(Record::End {
            by: EndedBy::Run,
            at: now_rfc3339(),
        })?;
        // Closing the file releases its lock: the run is over.
        live.journal = None;
        let summary = Summary::of(&live.state, &self.inner.journal_dir);
        Ok((report, summary))
    }

    /// What the run has created so far and where each resource stands.
    pub fn snapshot(&self) -> RunState {
        self.live().state.clone()
    }

    /// The resource summary as things stand now.
    pub fn summary(&self) -> Summary {
        Summary::of(&self.live().state, &self.inner.journal_dir)
    }

    /// Looks for what unanswered creating requests made, by the run tag, and journals it.
    async fn find_orphans(
        &self,
        unresolved: BTreeMap<(ResourceKind, String), Vec<u64>>,
        report: &mut ReleaseReport,
    ) -> Result<Vec<Target>, LedgerError> {
        let mut targets = Vec::new();
        for ((kind, region), seqs) in unresolved {
            match release::find_tagged(
                &self.inner.cloud,
                kind,
                &region,
                RUN_TAG_KEY,
                self.inner.run.as_str(),
            )
            .await
            {
                Ok(found) => {
                    let mut live = self.live();
                    let known = live.state.known_ids();
                    let ids: Vec<String> =
                        found.into_iter().filter(|id| !known.contains(id)).collect();
                    targets.extend(ids.iter().map(|id| Target {
                        kind,
                        id: id.clone(),
                        region: region.clone(),
                        already_deleting: false,
                    }));
                    live.append(Record::Found {
                        kind,
                        region,
                        ids,
                        seqs,
                    })?;
                }
                Err(e) => report.failed.push(Failure {
                    kind,
                    id: format!("(unanswered requests #{seqs:?})"),
                    region,
                    code: e.code().to_string(),
                    message: format!("cannot search by the run tag: {}", e.message()),
                }),
            }
        }
        Ok(targets)
    }

    /// Journals release progress as it happens.
    fn observer(&self) -> Observer {
        let ledger = self.clone();
        Arc::new(move |event: &ReleaseEvent| {
            let record = event.record();
            let mut live = ledger.live();
            if let Err(e) = live.append(record) {
                live.journal_error.get_or_insert(e);
            }
        })
    }
}

/// What a release of the scopes selected by `in_scope` has to deal with.
pub(crate) fn targets_from(state: &RunState, in_scope: impl Fn(ScopeId) -> bool) -> Vec<Target> {
    state
        .held()
        .filter(|t| in_scope(t.scope))
        .map(|t| Target {
            kind: t.kind,
            id: t.id.clone(),
            region: t.region.clone(),
            already_deleting: t.status == Holding::Deleting,
        })
        .collect()
}

/// Unanswered tagged intents of the selected scopes, grouped by what a tag search covers.
pub(crate) fn unresolved_from(
    state: &RunState,
    in_scope: impl Fn(ScopeId) -> bool,
) -> BTreeMap<(ResourceKind, String), Vec<u64>> {
    let mut out: BTreeMap<(ResourceKind, String), Vec<u64>> = BTreeMap::new();
    for i in state.unresolved().filter(|i| in_scope(i.scope)) {
        out.entry((i.kind, i.region.clone()))
            .or_default()
            .push(i.seq);
    }
    out
}

/// The action named by [`CRASH_AFTER_SEND_ENV`], in builds with the `test-hooks` feature.
#[cfg(feature = "test-hooks")]
fn crash_hook() -> Option<String> {
    std::env::var(CRASH_AFTER_SEND_ENV).ok()
}

/// Shipped builds have no crash switch, whatever the environment says.
#[cfg(not(feature = "test-hooks"))]
fn crash_hook() -> Option<String> {
    None
}

#[cfg(unix)]
fn crash_now() -> ! {
    // SAFETY: sending SIGKILL to ourselves; nothing after it runs.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    std::process::abort()
}

#[cfg(not(unix))]
fn crash_now() -> ! {
    std::process::abort()
}

/// The action that sets or clears AutoReleaseTime.
const LEASE_MODIFY: &ops::Action = &ops::A::MODIFY_INSTANCE_AUTO_RELEASE_TIME;

/// The describe that probes the service's clock (the instances' verify action).
const LEASE_PROBE: &ops::Action = &ops::A::DESCRIBE_INSTANCES;

/// Uses the caller's ClientToken or sets one (`<run>-<seq>`, unique and traceable to the intent).
fn ensure_client_token(params: &mut Map<String, Value>, run: &RunId, seq: u64) -> String {
    if let Some(t) = params.get("ClientToken").and_then(Value::as_str) {
        if !t.is_empty() {
            return t.to_string();
        }
    }
    let token = format!("{run}-{seq}");
    params.insert("ClientToken".into(), Value::String(token.clone()));
    token
}

/// Sets `key=value` among the request's tags, in whichever form the request already uses: a
/// `Tag` list of `{Key, Value}` maps, or flat `Tag.N.Key` parameters. A value the caller gave
/// for `key` is overwritten: the run tag is the host's, and a script that could choose it
/// could hide its resources from the tag search that finds what a crash left.
fn set_tag(params: &mut Map<String, Value>, key: &str, value: &str) {
    let pair = serde_json::json!({ "Key": key, "Value": value });
    if let Some(Value::Array(tags)) = params.get_mut("Tag") {
        tags.retain(|t| t.get("Key").and_then(Value::as_str) != Some(key));
        tags.push(pair);
        return;
    }
    let numbers: Vec<u32> = params
        .keys()
        .filter_map(|k| {
            k.strip_prefix("Tag.")?
                .split('.')
                .next()?
                .parse::<u32>()
                .ok()
        })
        .collect();
    let own = numbers
        .iter()
        .copied()
        .find(|n| params.get(&format!("Tag.{n}.Key")).and_then(Value::as_str) == Some(key));
    let n = own.unwrap_or_else(|| numbers.iter().max().copied().unwrap_or(0) + 1);
    params.insert(format!("Tag.{n}.Key"), Value::String(key.into()));
    params.insert(format!("Tag.{n}.Value"), Value::String(value.into()));
}

/// True when a (non-creating) request names the tag `key` in any form the tag APIs take
/// (`Tag.N.Key`, a `Tag` list, `TagKey.N`, a `TagKey` list).
fn names_tag(params: &Map<String, Value>, key: &str) -> bool {
    params.iter().any(|(k, v)| {
        let tag_param =
            k == "Tag" || k == "TagKey" || k.starts_with("Tag.") || k.starts_with("TagKey.");
        tag_param && value_names(v, key)
    })
}

/// True for an untag request that removes every tag (`All=true` without `TagKey`), the run
/// tag with them (issue 15).
fn removes_all_tags(params: &Map<String, Value>) -> bool {
    let all = params.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("All")
            && (v.as_bool() == Some(true)
                || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true")))
    });
    let keys = params
        .keys()
        .any(|k| k == "TagKey" || k.starts_with("TagKey."));
    all && !keys
}

fn value_names(v: &Value, key: &str) -> bool {
    match v {
        Value::String(s) => s == key,
        Value::Array(a) => a.iter().any(|x| value_names(x, key)),
        Value::Object(m) => m
            .iter()
            .any(|(k, x)| (k == "Key" || k == "TagKey") && x.as_str() == Some(key)),
        _ => false,
    }
}

/// The ids of `kind` a delete request names: its id parameter (`InstanceId`) as a string or a
/// list, or flattened (`InstanceId.1`, `InstanceId.2`).
fn ids_named(params: &Map<String, Value>, kind: ResourceKind) -> Vec<String> {
    let Some(rel) = kind.release() else {
        return Vec::new();
    };
    let base = rel.id_param.trim_end_matches(".N");
    let mut ids = Vec::new();
    for (k, v) in params {
        let numbered = k
            .strip_prefix(base)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|n| n.parse::<u32>().is_ok());
        if k == base || numbered {
            match v {
                Value::String(s) => ids.push(s.clone()),
                Value::Array(a) => {
                    ids.extend(a.iter().filter_map(Value::as_str).map(str::to_string))
                }
                _ => {}
            }
        }
    }
    ids
}

/// The ids at a dotted path of an answer: one string or a list of strings.
fn ids_at(answer: &Value, path: &str) -> Vec<String> {
    match release::lookup(answer, path) {
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// The request's parameters as journalled: secrets replaced, long values cut.
fn redacted(params: &Map<String, Value>) -> Map<String, Value> {
    params
        .iter()
        .filter(|(k, _)| k.as_str() != "ClientToken")
        .map(|(k, v)| {
            let v = if is_secret_name(k) {
                Value::String("<redacted>".into())
            } else {
                redact_value(v)
            };
            (k.clone(), v)
        })
        .collect()
}

fn redact_value(v: &Value) -> Value {
    const MAX: usize = 200;
    match v {
        Value::String(s) if s.len() > MAX => {
            let cut: String = s.chars().take(MAX).collect();
            Value::String(format!("{cut}…"))
        }
        Value::Object(m) => Value::Object(redacted(m)),
        Value::Array(a) => Value::Array(a.iter().map(redact_value).collect()),
        other => other.clone(),
    }
}

/// Parameter names whose values must never reach the journal.
fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "password",
        "secret",
        "token",
        "userdata",
        "signature",
        "credential",
        "privatekey",
    ]
    .iter()
    .any(|s| n.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn the_run_tag_joins_whichever_tag_form_the_request_uses() {
        let mut flat = map(json!({"Tag.1.Key": "team", "Tag.1.Value": "web"}));
        set_tag(&mut flat, "ecsh:run", "r-1");
        assert_eq!(flat["Tag.2.Key"], "ecsh:run");
        assert_eq!(flat["Tag.2.Value"], "r-1");
        let mut list = map(json!({"Tag": [{"Key": "team", "Value": "web"}]}));
        set_tag(&mut list, "ecsh:run", "r-1");
        assert_eq!(list["Tag"][1], json!({"Key": "ecsh:run", "Value": "r-1"}));
        let mut none = Map::new();
        set_tag(&mut none, "ecsh:run", "r-1");
        assert_eq!(none["Tag.1.Key"], "ecsh:run");
    }

    #[test]
    fn a_server_error_leaves_a_creating_request_unknown_and_only_a_client_error_refuses_it() {
        let api = |code: &str, status: u16| -> Result<Value, crate::rpc::CallError> {
            Err(crate::rpc::CallError::from(crate::rpc::ApiError {
                code: code.into(),
                message: String::new(),
                request_id: None,
                http_status: status,
                recommend: None,
                host_id: None,
            }))
        };
        let lost = api("ServiceUnavailable", 503);
        assert!(matches!(Outcome::of_call(&lost), Outcome::NoAnswer { .. }));
        let internal = api("InternalError", 500);
        assert!(matches!(
            Outcome::of_call(&internal),
            Outcome::NoAnswer { .. }
        ));
        let throttled = api("Throttling.User", 400);
        assert!(matches!(
            Outcome::of_call(&throttled),
            Outcome::Refused {
                code: "Throttling.User"
            }
        ));
        let no_stock = api("OperationDenied.NoStock", 403);
        assert!(matches!(
            Outcome::of_call(&no_stock),
            Outcome::Refused { .. }
        ));
    }

    #[test]
    fn a_scripts_own_run_tag_is_overwritten_in_every_form() {
        let mut flat = map(json!({"Tag.1.Key": "ecsh:run", "Tag.1.Value": "r-spoof"}));
        set_tag(&mut flat, "ecsh:run", "r-1");
        assert_eq!(flat["Tag.1.Value"], "r-1");
        assert!(
            !flat.contains_key("Tag.2.Key"),
            "one tag, not two: {flat:?}"
        );
        let mut list = map(json!({"Tag": [{"Key": "ecsh:run", "Value": "r-spoof"}]}));
        set_tag(&mut list, "ecsh:run", "r-1");
        assert_eq!(list["Tag"], json!([{"Key": "ecsh:run", "Value": "r-1"}]));
        assert!(names_tag(
            &map(json!({"Tag.1.Key": "ecsh:run"})),
            "ecsh:run"
        ));
        assert!(names_tag(&map(json!({"TagKey.1": "ecsh:run"})), "ecsh:run"));
        assert!(names_tag(
            &map(json!({"Tag": [{"Key": "ecsh:run"}]})),
            "ecsh:run"
        ));
        assert!(!names_tag(&map(json!({"Tag.1.Key": "team"})), "ecsh:run"));
    }

    #[test]
    fn secrets_never_reach_the_journal() {
        let p = map(json!({
            "Password": "hunter2", "UserData": "c2VjcmV0", "ClientToken": "t",
            "InstanceType": "ecs.g7.large", "Nested": {"KeyPairPrivateKey": "x"},
            "Long": "a".repeat(500)
        }));
        let r = redacted(&p);
        let text = serde_json::to_string(&r).unwrap();
        assert!(
            !text.contains("hunter2") && !text.contains("c2VjcmV0"),
            "{text}"
        );
        assert!(!r.contains_key("ClientToken"));
        assert_eq!(r["InstanceType"], "ecs.g7.large");
        assert!(r["Long"].as_str().unwrap().chars().count() <= 201);
    }

    #[test]
    fn delete_requests_name_ids_in_every_form() {
        let k = ResourceKind::Instance;
        assert_eq!(ids_named(&map(json!({"InstanceId": "i-1"})), k), ["i-1"]);
        assert_eq!(
            ids_named(&map(json!({"InstanceId": ["i-1", "i-2"]})), k),
            ["i-1", "i-2"]
        );
        assert_eq!(
            ids_named(&map(json!({"InstanceId.1": "i-3", "InstanceIdX": "no"})), k),
            ["i-3"]
        );
        assert_eq!(
            ids_named(&map(json!({"VpcId": "vpc-1"})), ResourceKind::Vpc),
            ["vpc-1"]
        );
    }

    #[test]
    fn ids_are_read_from_strings_and_lists() {
        let a = json!({"InstanceIdSets": {"InstanceIdSet": ["i-1", "i-2"]}, "VpcId": "vpc-1"});
        assert_eq!(ids_at(&a, "InstanceIdSets.InstanceIdSet"), ["i-1", "i-2"]);
        assert_eq!(ids_at(&a, "VpcId"), ["vpc-1"]);
        assert!(ids_at(&a, "Missing").is_empty());
    }

    #[test]
    fn a_callers_client_token_is_kept() {
        let run = RunId::new();
        let mut p = map(json!({"ClientToken": "mine"}));
        assert_eq!(ensure_client_token(&mut p, &run, 3), "mine");
        let mut p = Map::new();
        assert_eq!(ensure_client_token(&mut p, &run, 3), format!("{run}-3"));
        assert_eq!(p["ClientToken"], Value::String(format!("{run}-3")));
    }
}
