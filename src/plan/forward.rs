//! The shadow's upstream: the real target, read-only. Catalogue reads are forwarded (and
//! cached for the plan); the account's state of a region (VPCs, vswitches, security groups and
//! their rules, instances, disks, EIPs, key pairs, with their tags) and its stock are read once,
//! every page, when the script first names the region, and the details of instance types
//! the shadow learned a zone sells (DescribeInstanceTypes) when it asks.
//!
//! [`Forwarder::read`] is the one place a request leaves for the target, and it refuses
//! anything the registry does not mark `Effect::Read`: whatever the script does in the shadow,
//! the target only ever receives reads (`tests/it/plan.rs` checks its request log).

use super::Recorder;
use crate::ops::{self, actions as A, Action, Effect};
use crate::rpc::{params::RESERVED, CallError, Client, Params};
use crate::sim::upstream::{Account, Pending, Upstream};
use crate::sim::{SimError, SimRequest};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Most pages read of one account list (50 × 50 VPCs is more than any quota allows).
const MAX_PAGES: usize = 50;

/// Most names one DescribeInstanceTypes takes (`InstanceTypes.N`).
const MAX_TYPES_NAMED: usize = 10;

pub struct Forwarder {
    target: Client,
    cache: Mutex<BTreeMap<String, Result<Value, SimError>>>,
    recorder: Recorder,
}

impl Forwarder {
    /// Forwards to `target`; `recorder` is told what was imported and every non-read the
    /// shadow answered.
    pub fn new(target: Client, recorder: Recorder) -> Forwarder {
        Forwarder {
            target,
            cache: Mutex::new(BTreeMap::new()),
            recorder,
        }
    }

    /// Sends one read to the target. Anything the registry does not mark as a read is refused
    /// here, before it could be sent.
    async fn read(&self, action: &Action, params: Params) -> Result<Value, SimError> {
        let name = action.name;
        if action.effect != Effect::Read {
            return Err(SimError::new(
                400,
                "Plan.NotARead",
                format!(
                    "a plan sends only reads to the target, and {name} is not one; this is a \
                     bug in ecsh"
                ),
            ));
        }
        self.recorder.read_sent();
        self.target
            .call(action.product, name, params)
            .await
            .map_err(|e| as_sim_error(name, &e))
    }

    /// Every entry of a registered, paged list action, page after page.
    async fn all(&self, a: &Action, region: &str) -> Result<Vec<Value>, SimError> {
        let list = a.list_path.unwrap_or_default();
        let (max, token) = match a.paging.sizes() {
            Some((max, _, token)) => (max, token),
            None => (0, false),
        };
        let mut out = Vec::new();
        let mut next = String::new();
        for page in 1..=MAX_PAGES {
            let mut params: Params = vec![("RegionId".into(), region.into())];
            if token {
                params.push(("MaxResults".into(), max.to_string()));
                if !next.is_empty() {
                    params.push(("NextToken".into(), next.clone()));
                }
            } else if max > 0 {
                params.push(("PageNumber".into(), page.to_string()));
                params.push(("PageSize".into(), max.to_string()));
            }
            let answer = self.read(a, params).await?;
            let got = list
                .split('.')
                .fold(&answer, |v, k| &v[k])
                .as_array()
                .cloned()
                .unwrap_or_default();
            let full = got.len() as u32 >= max && max > 0;
            out.extend(got);
            next = answer["NextToken"].as_str().unwrap_or_default().to_string();
            let more = if token { !next.is_empty() } else { full };
            if !more {
                return Ok(out);
            }
        }
        // Never a silently partial account: the plan would miss what the script may reuse.
        Err(SimError::new(
            503,
            "Plan.TooManyPages",
            format!(
                "the account lists more than {MAX_PAGES} pages of {} in {region} ({} read so \
                 far); a plan imports a region's whole account, so plan against a region with \
                 fewer, or run without --plan",
                a.name,
                out.len()
            ),
        ))
    }

    async fn fetch_account(&self, region: &str) -> Result<Account, SimError> {
        let stock = self
            .read(
                &A::DESCRIBE_AVAILABLE_RESOURCE,
                vec![
                    ("RegionId".into(), region.into()),
                    ("DestinationResource".into(), "InstanceType".into()),
                ],
            )
            .await?;
        let security_groups = self.all(&A::DESCRIBE_SECURITY_GROUPS, region).await?;
        let mut rules = Vec::new();
        for group in &security_groups {
            let Some(id) = group["SecurityGroupId"].as_str() else {
                continue;
            };
            let answer = self
                .read(
                    &A::DESCRIBE_SECURITY_GROUP_ATTRIBUTE,
                    vec![
                        ("RegionId".into(), region.into()),
                        ("SecurityGroupId".into(), id.into()),
                    ],
                )
                .await?;
            let list = answer["Permissions"]["Permission"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            rules.push((id.to_string(), list));
        }
        let account = Account {
            vpcs: self.all(&A::DESCRIBE_VPCS, region).await?,
            vswitches: self.all(&A::DESCRIBE_VSWITCHES, region).await?,
            security_groups,
            rules,
            instances: self.all(&A::DESCRIBE_INSTANCES, region).await?,
            disks: self.all(&A::DESCRIBE_DISKS, region).await?,
            eips: self.all(&A::DESCRIBE_EIP_ADDRESSES, region).await?,
            key_pairs: self.all(&A::DESCRIBE_KEY_PAIRS, region).await?,
            stock,
        };
        self.recorder.imported(&account);
        Ok(account)
    }
}

impl Upstream for Forwarder {
    fn catalogue<'a>(&'a self, request: &'a SimRequest) -> Pending<'a, Value> {
        Box::pin(async move {
            let params: Params = request
                .params
                .iter()
                .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let key = format!("{} {} {params:?}", request.product.code(), request.action);
            if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
                return hit;
            }
            let answer = match ops::find(request.product, &request.action) {
                Some(action) => self.read(action, params).await,
                None => Err(SimError::new(
                    400,
                    "Plan.NotARead",
                    format!(
                        "{} is not in the registry, so a plan does not send it",
                        request.action
                    ),
                )),
            };
            if let Ok(mut cache) = self.cache.lock() {
                cache.insert(key, answer.clone());
            }
            answer
        })
    }

    fn account<'a>(&'a self, region: &'a str) -> Pending<'a, Account> {
        Box::pin(self.fetch_account(region))
    }

    fn instance_types<'a>(&'a self, region: &'a str, names: &'a [String]) -> Pending<'a, Value> {
        Box::pin(async move {
            // DescribeInstanceTypes takes at most 10 names; more are read as the whole list.
            let types = if names.len() <= MAX_TYPES_NAMED {
                let mut params: Params = vec![("RegionId".into(), region.into())];
                for (i, name) in names.iter().enumerate() {
                    params.push((format!("InstanceTypes.{}", i + 1), name.clone()));
                }
                let answer = self.read(&A::DESCRIBE_INSTANCE_TYPES, params).await?;
                answer["InstanceTypes"]["InstanceType"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            } else {
                self.all(&A::DESCRIBE_INSTANCE_TYPES, region).await?
            };
            Ok(serde_json::json!({ "InstanceTypes": { "InstanceType": types } }))
        })
    }

    fn observe(&self, request: &SimRequest, answer: &Result<Value, SimError>) {
        self.recorder.observe(request, answer)
    }
}

/// The target's error, as the shadow answers it to the script (same code, status, message).
fn as_sim_error(action: &str, e: &CallError) -> SimError {
    match e {
        CallError::Api(api) => {
            SimError::new(api.http_status, api.code.clone(), api.message.clone())
        }
        other => SimError::new(
            503,
            "Plan.TargetUnreachable",
            format!("the plan could not read {action} from the target: {other}"),
        ),
    }
}
