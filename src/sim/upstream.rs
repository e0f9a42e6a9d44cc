//! The upstream of a shadow simulator: what `ecsh plan` plugs into an in-process simulator so
//! that it sees the real target's catalogue and account without changing anything there.
//!
//! A simulator started with an [`Upstream`] (`SimConfig::upstream`) answers catalogue reads
//! (the registry's `ops::actions::CATALOGUE`: regions, zones, types, stock, prices, images)
//! with what the upstream returns, imports the account's state of a region ([`Account`]) into
//! its model the first time a request names that region, learns the zones, types and images
//! the catalogue answers name (`model/learn.rs`), and tells the upstream about every
//! request that is not a read once the model has answered it (what the plan records). The
//! simulator knows nothing of where the upstream gets its answers; `crate::plan` does.

use super::{SimError, SimRequest};
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

/// An answer the upstream computes asynchronously (it talks to the target over the network).
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = Result<T, SimError>> + Send + 'a>>;

/// The account's state in one region, as the target's describe calls return it (their list
/// entries, unchanged), plus the target's stock of the region: its DescribeAvailableResource
/// answer for instance types (which zones sell which types, and what is sold out).
#[derive(Clone, Debug, Default)]
pub struct Account {
    pub vpcs: Vec<Value>,
    pub vswitches: Vec<Value>,
    pub security_groups: Vec<Value>,
    /// Each security group's rules: (group id, its DescribeSecurityGroupAttribute
    /// `Permissions.Permission` list).
    pub rules: Vec<(String, Vec<Value>)>,
    pub instances: Vec<Value>,
    pub disks: Vec<Value>,
    pub eips: Vec<Value>,
    /// DescribeKeyPairs' entries: names and fingerprints (never key material).
    pub key_pairs: Vec<Value>,
    pub stock: Value,
}

/// Where a shadow simulator gets what it cannot know itself.
pub trait Upstream: Send + Sync {
    /// The answer of the target to a catalogue read.
    fn catalogue<'a>(&'a self, request: &'a SimRequest) -> Pending<'a, Value>;
    /// The account's state in `region`, read from the target.
    fn account<'a>(&'a self, region: &'a str) -> Pending<'a, Account>;
    /// The target's DescribeInstanceTypes answer for `names` (what a shadow learned a zone
    /// sells but has no vCPUs or memory of).
    fn instance_types<'a>(&'a self, region: &'a str, names: &'a [String]) -> Pending<'a, Value>;
    /// Called after the model answered a request that is not a read.
    fn observe(&self, request: &SimRequest, answer: &Result<Value, SimError>);
}
