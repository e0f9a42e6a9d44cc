//! The operation registry: every ECS and VPC action ecsh knows, declared once.
//!
//! Everything that needs to know about an action reads it from here: the RPC client (which
//! product and version, whether a retry is safe, whether a ClientToken is needed), the Rhai host
//! (paging, JSON-string parameters), the guard (which actions cost money), the ledger (what an
//! action creates, where the id is in the response, which action deletes it), `doc_search`, and
//! the simulator's dispatch (which actions exist, their required parameters and their paging).
//! An action's name is therefore written once: each entry is a named constant of
//! [`actions`] (`actions::RUN_INSTANCES`), listed in [`ACTIONS`]; every other layer refers to
//! the constant, never to the name (the tidy test `action_names_live_in_the_registry` keeps it
//! so).
//!
//! This module is pure data plus lookups: it does no I/O and knows nothing of HTTP or Rhai.

#[rustfmt::skip]
pub mod actions;
#[cfg(test)]
mod tidy;

/// The registry's entries by name, for the rest of the crate: `A::RUN_INSTANCES`.
pub use actions as A;
pub use actions::ACTIONS;

use std::fmt;

/// An Alibaba Cloud product that ecsh speaks to. The RPC wire format is the same for both; they
/// differ in API version and endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Product {
    Ecs,
    Vpc,
    /// Security Token Service: temporary credentials (AssumeRole, AssumeRoleWithOIDC) and
    /// GetCallerIdentity. Used by the credential chain and `ecsh whoami --check`; not in
    /// [`Product::ALL`], so scripts and `ecsh call` cannot reach it and no script ever holds a
    /// temporary secret.
    Sts,
}

impl Product {
    /// The products scripts, the REPL and `ecsh call` reach.
    pub const ALL: [Product; 2] = [Product::Ecs, Product::Vpc];
    /// Every product on the wire (what the simulator serves).
    pub const WIRE: [Product; 3] = [Product::Ecs, Product::Vpc, Product::Sts];

    /// The product code used in endpoints and on the command line (`ecs`, `vpc`).
    pub fn code(self) -> &'static str {
        match self {
            Product::Ecs => "ecs",
            Product::Vpc => "vpc",
            Product::Sts => "sts",
        }
    }

    /// The API version sent as the `Version` parameter.
    pub fn version(self) -> &'static str {
        match self {
            Product::Ecs => "2014-05-26",
            Product::Vpc => "2016-04-28",
            Product::Sts => "2015-04-01",
        }
    }

    /// Parses a product code case-insensitively (`ecs`, `VPC`).
    pub fn from_code(code: &str) -> Option<Product> {
        Product::ALL
            .into_iter()
            .find(|p| p.code().eq_ignore_ascii_case(code))
    }

    /// Finds the product whose API version is `version`.
    pub fn from_version(version: &str) -> Option<Product> {
        Product::WIRE.into_iter().find(|p| p.version() == version)
    }
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A kind of resource that ecsh can create, track in the ledger and release.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum ResourceKind {
    Instance,
    Disk,
    PublicIp,
    Eip,
    SecurityGroup,
    VSwitch,
    Vpc,
}

/// How a resource of a kind is released and how its release is verified.
#[derive(Clone, Copy, Debug)]
pub struct Release {
    /// The action that deletes it.
    pub action: &'static Action,
    /// The request parameter that names the resource in `action`. A name ending in `.N` takes a
    /// 1-based list, so one call can release many resources at once.
    pub id_param: &'static str,
    /// Most ids one call accepts (the batch size).
    pub batch: usize,
    /// Extra fixed parameters of the delete call (for example `Force=true`).
    pub extra: &'static [(&'static str, &'static str)],
    /// The describe action that shows whether it still exists, and its id filter parameter.
    pub verify_action: &'static Action,
    pub verify_param: &'static str,
    /// Where the describe response lists the resources that still exist.
    pub verify_list: &'static str,
    /// The error code this kind's own delete answers when the resource no longer exists. Only
    /// this code counts as "already gone": `InvalidAccessKeyId.NotFound` also contains
    /// `NotFound` and means the opposite (nothing was looked at).
    pub gone_code: &'static str,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 7] = [
        ResourceKind::Instance,
        ResourceKind::Disk,
        ResourceKind::PublicIp,
        ResourceKind::Eip,
        ResourceKind::SecurityGroup,
        ResourceKind::VSwitch,
        ResourceKind::Vpc,
    ];

    /// Release order: lower levels are released first, and everything at one level may be
    /// released in parallel. Instances go before the security groups and vswitches they sit in,
    /// vswitches before their VPC.
    pub fn level(self) -> u8 {
        match self {
            ResourceKind::Instance => 0,
            ResourceKind::Disk | ResourceKind::PublicIp | ResourceKind::Eip => 1,
            ResourceKind::SecurityGroup => 2,
            ResourceKind::VSwitch => 3,
            ResourceKind::Vpc => 4,
        }
    }

    /// The name used in summaries and the journal (as in the seed's resource summary).
    pub fn label(self) -> &'static str {
        match self {
            ResourceKind::Instance => "ECS",
            ResourceKind::Disk => "Disk",
            ResourceKind::PublicIp => "PublicIp",
            ResourceKind::Eip => "EIP",
            ResourceKind::SecurityGroup => "SecurityGroup",
            ResourceKind::VSwitch => "VSwitch",
            ResourceKind::Vpc => "VPC",
        }
    }

    /// The product whose API manages this kind.
    pub fn product(self) -> Product {
        match self {
            ResourceKind::Eip | ResourceKind::VSwitch | ResourceKind::Vpc => Product::Vpc,
            _ => Product::Ecs,
        }
    }

    /// The resource type name used by the ECS tag APIs (`TagResources`, `ListTagResources`).
    pub fn tag_resource_type(self) -> &'static str {
        match self {
            ResourceKind::Instance => "instance",
            ResourceKind::Disk => "disk",
            ResourceKind::PublicIp => "instance",
            ResourceKind::Eip => "EIP",
            ResourceKind::SecurityGroup => "securitygroup",
            ResourceKind::VSwitch => "VSWITCH",
            ResourceKind::Vpc => "VPC",
        }
    }

    /// How to release this kind, or `None` when it goes away with its owner (a public IP is
    /// released with its instance).
    pub fn release(self) -> Option<Release> {
        let r = match self {
            ResourceKind::Instance => Release {
                action: &actions::DELETE_INSTANCES,
                id_param: "InstanceId.N",
                batch: 100,
                extra: &[("Force", "true")],
                verify_action: &actions::DESCRIBE_INSTANCES,
                verify_param: "InstanceIds",
                verify_list: "Instances.Instance",
                gone_code: "InvalidInstanceId.NotFound",
            },
            ResourceKind::Disk => Release {
                action: &actions::DELETE_DISK,
                id_param: "DiskId",
                batch: 1,
                extra: &[],
                verify_action: &actions::DESCRIBE_DISKS,
                verify_param: "DiskIds",
                verify_list: "Disks.Disk",
                gone_code: "InvalidDiskId.NotFound",
            },
            ResourceKind::Eip => Release {
                action: &actions::RELEASE_EIP_ADDRESS,
                id_param: "AllocationId",
                batch: 1,
                extra: &[],
                verify_action: &actions::DESCRIBE_EIP_ADDRESSES,
                verify_param: "AllocationId",
                verify_list: "EipAddresses.EipAddress",
                gone_code: "InvalidAllocationId.NotFound",
            },
            ResourceKind::SecurityGroup => Release {
                action: &actions::DELETE_SECURITY_GROUP,
                id_param: "SecurityGroupId",
                batch: 1,
                extra: &[],
                verify_action: &actions::DESCRIBE_SECURITY_GROUPS,
                verify_param: "SecurityGroupIds",
                verify_list: "SecurityGroups.SecurityGroup",
                gone_code: "InvalidSecurityGroupId.NotFound",
            },
            ResourceKind::VSwitch => Release {
                action: &actions::DELETE_VSWITCH,
                id_param: "VSwitchId",
                batch: 1,
                extra: &[],
                verify_action: &actions::DESCRIBE_VSWITCHES,
                verify_param: "VSwitchId",
                verify_list: "VSwitches.VSwitch",
                gone_code: "InvalidVSwitchId.NotFound",
            },
            ResourceKind::Vpc => Release {
                action: &actions::DELETE_VPC,
                id_param: "VpcId",
                batch: 1,
                extra: &[],
                verify_action: &actions::DESCRIBE_VPCS,
                verify_param: "VpcId",
                verify_list: "Vpcs.Vpc",
                gone_code: "InvalidVpcId.NotFound",
            },
            ResourceKind::PublicIp => return None,
        };
        Some(r)
    }
}

/// What an action does to the world. The client, ledger and guard decide from this alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Reads only. Always safe to retry.
    Read,
    /// Creates resources of `kind`; their ids are at `id_path` in the response (a dotted path
    /// to a string or to an array of strings).
    Create {
        kind: ResourceKind,
        id_path: &'static str,
    },
    /// Deletes resources of a kind.
    Delete(ResourceKind),
    /// Any other change (start, stop, authorize a rule, run a command, tag).
    Mutate,
}

/// How a describe action pages its results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paging {
    /// Returns everything at once.
    None,
    /// `PageNumber` (1-based) + `PageSize`; responses carry `TotalCount`.
    Pages { max_size: u32, default_size: u32 },
    /// `NextToken` + `MaxResults`; an empty or missing `NextToken` ends the list.
    Token { max_size: u32, default_size: u32 },
}

impl Paging {
    /// `(max page size, default page size, token style)`, or `None` for an unpaged action.
    pub fn sizes(self) -> Option<(u32, u32, bool)> {
        match self {
            Paging::None => None,
            Paging::Pages {
                max_size,
                default_size,
            } => Some((max_size, default_size, false)),
            Paging::Token {
                max_size,
                default_size,
            } => Some((max_size, default_size, true)),
        }
    }
}

/// One API action.
#[derive(Debug)]
pub struct Action {
    pub product: Product,
    /// The API name, e.g. `RunInstances`.
    pub name: &'static str,
    pub effect: Effect,
    /// Costs money when it succeeds: the guard quotes and asks before it is sent.
    pub chargeable: bool,
    /// Can make an existing resource cost money again (starting an instance stopped in
    /// `StopCharging` mode resumes its billing): the guard looks, and quotes and asks if so.
    pub resumes_billing: bool,
    /// Accepts a `ClientToken`; the client always sends one for creating actions, which makes
    /// their retries safe.
    pub client_token: bool,
    /// Parameters that must be present (`RegionId` is implied for most and listed explicitly).
    pub required: &'static [&'static str],
    /// Parameters whose value is a JSON array in one string (`InstanceIds=["i-a","i-b"]`).
    pub json_params: &'static [&'static str],
    pub paging: Paging,
    /// Dotted path of the list a describe returns (`Instances.Instance`), for paging.
    pub list_path: Option<&'static str>,
    /// Dotted path of the object that holds the paging fields, when it is not the top level
    /// (DescribeInvocationResults keeps them inside `Invocation`).
    pub paging_root: Option<&'static str>,
    /// A mutation that is a no-op when repeated (re-adding an existing rule or tag): safe to
    /// retry after a server error, like a read.
    pub repeatable: bool,
    /// How the guard prices it when it costs money (the quote it builds).
    pub pricing: Pricing,
    /// Parameters that make this otherwise free action cost money (ModifyInstanceAttribute's
    /// `CreditSpecification`: an unlimited burstable instance bills its surplus CPU): when the
    /// request carries one, the guard asks as for an unpriced chargeable action.
    pub charged_by: &'static [&'static str],
    /// Its parameters describe inbound security-group rules: the guard's public-port policy
    /// (database ports, SSH/RDP to 0.0.0.0/0) applies to it.
    pub ingress: bool,
    /// One-line description, for help and `doc_search`.
    pub doc: &'static str,
}

/// How the guard quotes an action that costs money: which DescribePrice request it builds
/// (see `guard::quote`). Unregistered chargeable actions are `Unpriced`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pricing {
    /// Cannot be quoted: the cost block says so and carries no estimate.
    Unpriced,
    /// Instances of the request's type; `one` when the action creates exactly one
    /// (CreateInstance) rather than `Amount` (RunInstances).
    Instances { one: bool },
    /// A data disk of the request's category and size.
    Disk,
    /// An elastic IP's bandwidth.
    Eip,
    /// The public IP of an existing instance, at that instance's bandwidth.
    PublicIp,
    /// A change of an existing instance's type: the new type's hourly price against the old.
    InstanceSpec,
}

impl Action {
    /// True when a retry after an unknown outcome cannot do anything twice: reads, creating
    /// and mutating actions that carry a ClientToken, and repeatable mutations.
    pub fn is_retry_safe(&self) -> bool {
        match self.effect {
            Effect::Read => true,
            Effect::Create { .. } => self.client_token,
            Effect::Mutate => self.repeatable || self.client_token,
            Effect::Delete(_) => false,
        }
    }

    /// True when the API defines `DryRun` for this action ([`actions::DRY_RUN`]).
    pub fn accepts_dry_run(&self) -> bool {
        actions::DRY_RUN.iter().any(|a| a.is(self))
    }

    /// True when `other` is this action (same product and name): registry entries are
    /// constants, so they are compared by what they name, not by address.
    pub fn is(&self, other: &Action) -> bool {
        self.product == other.product && self.name == other.name
    }

    pub fn creates(&self) -> Option<(ResourceKind, &'static str)> {
        match self.effect {
            Effect::Create { kind, id_path } => Some((kind, id_path)),
            _ => None,
        }
    }
}

/// Looks an action up by product and name (exact, case-sensitive, as on the wire).
pub fn find(product: Product, name: &str) -> Option<&'static Action> {
    ACTIONS
        .iter()
        .find(|a| a.product == product && a.name == name)
}

/// Looks an action up by name in any product.
pub fn find_any(name: &str) -> Option<&'static Action> {
    ACTIONS.iter().find(|a| a.name == name)
}

/// True for an action name that is not in the registry but, by its verb, may cost money:
/// `Create*`, `Run*`, `Allocate*`, `Purchase*`, `Renew*`. The guard treats such actions
/// reaching the raw `call` as chargeable.
pub fn looks_chargeable(name: &str) -> bool {
    ["Create", "Run", "Allocate", "Purchase", "Renew"]
        .iter()
        .any(|verb| name.starts_with(verb))
        || CHANGES_THE_BILL
            .iter()
            .any(|a| a.eq_ignore_ascii_case(name))
}

/// Actions outside the registry that do not create anything but change what an existing
/// resource costs (a bigger spec, a bigger disk, more bandwidth, pay-as-you-go to
/// subscription); the guard asks before them too.
const CHANGES_THE_BILL: &[&str] = &[
    "ModifyPrepayInstanceSpec",
    "ModifyInstanceChargeType",
    "ModifyInstanceNetworkSpec",
    "ModifyDiskChargeType",
    "ModifyDiskSpec",
    "ResizeDisk",
    "ModifyEipAddressAttribute",
];

/// The closest known action name to `name`, for "did you mean" messages.
pub fn suggest(product: Option<Product>, name: &str) -> Option<&'static str> {
    ACTIONS
        .iter()
        .filter(|a| product.map_or(true, |p| a.product == p))
        .map(|a| {
            (
                edit_distance(&a.name.to_ascii_lowercase(), &name.to_ascii_lowercase()),
                a.name,
            )
        })
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, n)| n)
}

/// Levenshtein distance, used for near-miss suggestions across the crate.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate closest to `name` (case-insensitive), when it is close enough to be a typo of
/// it (at most 2 edits, more for long names): the one rule of every "did you mean".
pub fn closest<'a, I: IntoIterator<Item = &'a str>>(name: &str, candidates: I) -> Option<&'a str> {
    let wanted = name.to_ascii_lowercase();
    let limit = 2.max(name.len() / 4);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(&c.to_ascii_lowercase(), &wanted), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_per_product() {
        let mut seen = HashSet::new();
        for a in ACTIONS {
            assert!(
                seen.insert((a.product, a.name)),
                "duplicate action {}",
                a.name
            );
        }
    }

    #[test]
    fn every_created_kind_can_be_released_by_a_registered_action() {
        for a in ACTIONS {
            if let Some((kind, _)) = a.creates() {
                if let Some(r) = kind.release() {
                    let del = find(r.action.product, r.action.name).unwrap_or_else(|| {
                        panic!(
                            "{} creates {kind:?} but {} is not registered",
                            a.name, r.action.name
                        )
                    });
                    assert_eq!(del.effect, Effect::Delete(kind), "{}", r.action.name);
                    assert_eq!(del.product, kind.product(), "{}", r.action.name);
                    let verify = find(r.verify_action.product, r.verify_action.name)
                        .unwrap_or_else(|| panic!("{} is not registered", r.verify_action.name));
                    assert_eq!(verify.effect, Effect::Read, "{}", verify.name);
                    assert_eq!(verify.list_path, Some(r.verify_list), "{}", verify.name);
                }
            }
        }
    }

    #[test]
    fn chargeable_actions_create_something_and_look_chargeable() {
        for a in ACTIONS.iter().filter(|a| a.chargeable) {
            // A spec change creates nothing but changes what an existing instance costs.
            assert!(
                a.creates().is_some() || a.pricing == Pricing::InstanceSpec,
                "{} is chargeable but creates nothing and changes no price",
                a.name
            );
            assert!(
                a.creates().is_none() || looks_chargeable(a.name),
                "{}",
                a.name
            );
        }
    }

    #[test]
    fn paged_actions_name_their_list() {
        for a in ACTIONS {
            if a.paging != Paging::None {
                assert!(
                    a.list_path.is_some(),
                    "{} pages but has no list_path",
                    a.name
                );
            }
        }
    }

    #[test]
    fn every_dry_run_entry_is_a_registered_action() {
        for a in actions::DRY_RUN {
            assert!(
                find(a.product, a.name).is_some(),
                "{} is not registered",
                a.name
            );
        }
        assert!(actions::RUN_INSTANCES.accepts_dry_run());
        assert!(!actions::CREATE_DISK.accepts_dry_run());
    }

    #[test]
    fn every_action_has_a_doc() {
        for a in ACTIONS {
            assert!(!a.doc.is_empty(), "{} has no doc", a.name);
        }
    }

    #[test]
    fn cost_changing_modifications_look_chargeable() {
        assert!(looks_chargeable("ModifyPrepayInstanceSpec"));
        assert!(looks_chargeable("ResizeDisk"));
        assert!(looks_chargeable("Modifyprepayinstancespec"));
        assert!(!looks_chargeable("ModifyInstanceAttribute"));
        assert!(!looks_chargeable("DescribeInstances"));
    }

    #[test]
    fn suggestions_find_near_misses() {
        assert_eq!(
            suggest(Some(Product::Ecs), "DescribeInstance"),
            Some("DescribeInstances")
        );
        assert_eq!(suggest(None, "Completely"), None);
    }
}
