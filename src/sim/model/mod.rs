//! The simulator's state model: every region's resources, their lifecycles, idempotency and
//! the dispatch of each registered action to its handler. Never sees HTTP.
//!
//! `World::handle` takes an authenticated [`SimRequest`] and returns the response body
//! (without `RequestId`, which the protocol layer adds) or a [`SimError`]. Before a handler
//! runs, the dispatcher checks what the registry ([`crate::ops::ACTIONS`]) says about the
//! action: its required parameters, the region, and the ClientToken (replayed from
//! `idempotency`). Paged answers go through `paging`. One file per resource holds the handlers.
//!
//! Must not: know about the wire (signatures, encodings, RequestId), print, or panic on input.

mod commands;
mod discovery;
mod exec;
mod idempotency;
mod instances;
mod launch;
mod network;
mod paging;
mod params;
mod render;
mod security;
mod tags;

#[cfg(test)]
mod tests;

pub use super::clock::TimeMode;
pub use exec::ExecMode;
pub use render::Answer;

use super::catalog::Catalog;
use super::clock::Clock;
use super::{SimError, SimRequest};
use crate::ops::{self, Action, Product};
use params::Params;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// How closely the model holds requests to the real service's rules.
///
/// `Strict` (the default) refuses what Alibaba Cloud refuses and ignores what it ignores (a
/// `DryRun` on an action that has none creates the resource), so a script that passes here
/// passes there. `Lenient` (`ecsh sim --lenient`) keeps the simulator's earlier, forgiving
/// behaviour for users whose scripts relied on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fidelity {
    #[default]
    Strict,
    Lenient,
}

/// How a [`World`] behaves: how time passes and whether Cloud Assistant commands really run.
#[derive(Clone, Debug, PartialEq)]
pub struct WorldOptions {
    pub time: TimeMode,
    pub exec: ExecMode,
}

impl Default for WorldOptions {
    /// Real-speed time, commands simulated (never executed).
    fn default() -> WorldOptions {
        WorldOptions {
            time: TimeMode::default(),
            exec: ExecMode::Simulated,
        }
    }
}

/// The whole simulated account: every region's resources and the state needed to replay
/// ClientTokens. A JSON snapshot of it is the simulator's `--state` file.
#[derive(Serialize, Deserialize)]
pub struct World {
    clock: Clock,
    exec: ExecMode,
    /// Extra out-of-stock (instance type, zone) pairs, on top of the catalogue's.
    no_stock: BTreeSet<(String, String)>,
    /// Creation order, shared by every kind so listings come out oldest first.
    next_seq: u64,
    instances: BTreeMap<String, instances::Instance>,
    disks: BTreeMap<String, instances::Disk>,
    vpcs: BTreeMap<String, network::Vpc>,
    vswitches: BTreeMap<String, network::VSwitch>,
    eips: BTreeMap<String, network::Eip>,
    groups: BTreeMap<String, security::SecurityGroup>,
    invocations: BTreeMap<String, commands::Invocation>,
    tokens: idempotency::Tokens,
    /// Chosen at start (`--lenient`), never taken from a snapshot.
    #[serde(skip)]
    fidelity: Fidelity,
    /// Processes started by `ExecMode::Local`; live handles do not survive a snapshot.
    #[serde(skip)]
    runs: exec::Runs,
}

impl Default for World {
    fn default() -> World {
        World::new(WorldOptions::default())
    }
}

/// One action's handler.
type Handler = fn(&mut World, &Params) -> Result<Value, SimError>;

/// Who answers an action: a handler of the table below, or one that renders its own bytes.
enum Route {
    Tree(Handler),
    Rendered(render::Handler),
}

impl World {
    pub fn new(opts: WorldOptions) -> World {
        World {
            clock: Clock::new(opts.time),
            exec: opts.exec,
            no_stock: BTreeSet::new(),
            next_seq: 0,
            instances: BTreeMap::new(),
            disks: BTreeMap::new(),
            vpcs: BTreeMap::new(),
            vswitches: BTreeMap::new(),
            eips: BTreeMap::new(),
            groups: BTreeMap::new(),
            invocations: BTreeMap::new(),
            tokens: idempotency::Tokens::default(),
            fidelity: Fidelity::Strict,
            runs: exec::Runs::default(),
        }
    }

    /// Replaces the time and exec modes, keeping the state (after restoring a snapshot, the
    /// command line wins over what the snapshot recorded). Virtual time carries on.
    pub fn set_options(&mut self, opts: WorldOptions) {
        self.clock = self.clock.with_mode(opts.time);
        self.exec = opts.exec;
    }

    /// The simulated wall clock (what the server's `Date` header says).
    pub fn wall_now(&self) -> time::OffsetDateTime {
        self.clock.wall_now()
    }

    pub fn options(&self) -> WorldOptions {
        WorldOptions {
            time: self.clock.mode,
            exec: self.exec.clone(),
        }
    }

    /// Strict (the default) or lenient; see [`Fidelity`].
    pub fn set_fidelity(&mut self, fidelity: Fidelity) {
        self.fidelity = fidelity;
    }

    pub fn fidelity(&self) -> Fidelity {
        self.fidelity
    }

    /// Marks an instance type as out of stock in a zone (the `--fault no-stock` flag): RunInstances
    /// fails with OperationDenied.NoStock there, DescribeAvailableResource says SoldOut.
    pub fn add_no_stock(&mut self, instance_type: &str, zone_id: &str) {
        self.no_stock
            .insert((instance_type.to_string(), zone_id.to_string()));
    }

    /// Checks a `--fault no-stock TYPE@ZONE` pair against the catalogue, so a typo is an error
    /// rather than a fault that never fires.
    pub fn check_stock_pair(instance_type: &str, zone_id: &str) -> Result<(), String> {
        let catalog = Catalog::get();
        if catalog.instance_type(instance_type).is_none() {
            let near = catalog
                .instance_types
                .iter()
                .map(|t| (ops::edit_distance(&t.id, instance_type), t.id.as_str()))
                .min()
                .map(|(_, n)| format!("; did you mean {n}?"))
                .unwrap_or_default();
            return Err(format!("unknown instance type `{instance_type}`{near}"));
        }
        if catalog.region_of_zone(zone_id).is_none() {
            return Err(format!(
                "unknown zone `{zone_id}`; zones look like cn-hangzhou-j (DescribeZones lists them)"
            ));
        }
        Ok(())
    }

    /// The JSON snapshot that `--state` stores (the clock is saved as elapsed virtual time;
    /// running local commands are not).
    pub fn snapshot(&self) -> serde_json::Result<String> {
        serde_json::to_string(self)
    }

    /// A world restored from a snapshot, with the given options replacing the saved ones.
    pub fn restore(json: &str, opts: WorldOptions) -> Result<World, String> {
        let mut world: World = serde_json::from_str(json)
            .map_err(|e| format!("the simulator state is not a valid snapshot: {e}"))?;
        world.set_options(opts);
        Ok(world)
    }

    /// Serves one request. Every parameter (common ones included) is in `req.params`.
    pub fn handle(&mut self, req: &SimRequest) -> Result<Value, SimError> {
        self.answer(req)?.into_value()
    }

    /// Serves one request like [`World::handle`], with the body as the handler made it: a tree,
    /// or the bytes of the listings [`render`] writes directly (what the server sends).
    pub fn answer(&mut self, req: &SimRequest) -> Result<Answer, SimError> {
        let action = ops::find(req.product, &req.action).ok_or_else(|| unknown_action(req))?;
        let route = route(action).ok_or_else(|| unknown_action(req))?;
        // The service releases instances whose AutoReleaseTime has passed on its own; here,
        // before any request can see them.
        instances::release_expired(self);
        let p = Params::new(req, action, self.fidelity);
        check_required(action, &p)?;
        if let Some(region) = p.str("RegionId") {
            check_region(region)?;
        }
        if action.effect == ops::Effect::Read && p.dry_run()? {
            // A read's dry run only checks the request (permissions, parameters): it passes.
            return Err(dry_run_passed(action.name));
        }
        let token = idempotency::token(&p)?;
        if let Some(token) = &token {
            if let Some(replay) = self.tokens.replay(action.name, token, &p)? {
                return Ok(Answer::Tree(replay));
            }
        }
        let body = match route {
            Route::Rendered(render) => render(self, &p)?,
            Route::Tree(handler) => Answer::Tree(handler(self, &p)?),
        };
        match token {
            Some(token) => {
                let body = body.into_value()?;
                self.tokens.remember(action.name, &token, &p, &body);
                Ok(Answer::Tree(body))
            }
            None => Ok(body),
        }
    }

    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }
}

/// Who answers an action of the registry, or None when the model has no handler for it.
fn route(action: &Action) -> Option<Route> {
    match render::handler(action) {
        Some(render) => Some(Route::Rendered(render)),
        None => handler(action).map(Route::Tree),
    }
}

/// The handler for an action of the registry, or None when the model has none.
fn handler(action: &Action) -> Option<Handler> {
    let h: Handler = match (action.product, action.name) {
        (Product::Ecs, "DescribeRegions") => discovery::describe_regions,
        (Product::Ecs, "DescribeZones") => discovery::describe_zones,
        (Product::Ecs, "DescribeRecommendInstanceType") => discovery::recommend_instance_type,
        (Product::Ecs, "DescribeInstanceTypes") => discovery::describe_instance_types,
        (Product::Ecs, "DescribeInstanceTypeFamilies") => discovery::describe_families,
        (Product::Ecs, "DescribeAvailableResource") => discovery::describe_available_resource,
        (Product::Ecs, "DescribePrice") => discovery::describe_price,
        (Product::Ecs, "DescribeImages") => discovery::describe_images,
        (Product::Ecs, "CreateSecurityGroup") => security::create,
        (Product::Ecs, "AuthorizeSecurityGroup") => security::authorize_ingress,
        (Product::Ecs, "AuthorizeSecurityGroupEgress") => security::authorize_egress,
        (Product::Ecs, "RevokeSecurityGroup") => security::revoke_ingress,
        (Product::Ecs, "DescribeSecurityGroups") => security::describe,
        (Product::Ecs, "DescribeSecurityGroupAttribute") => security::describe_attribute,
        (Product::Ecs, "DeleteSecurityGroup") => security::delete,
        (Product::Ecs, "RunInstances") => instances::run_instances,
        (Product::Ecs, "CreateInstance") => instances::create_instance,
        (Product::Ecs, "DescribeInstanceStatus") => instances::describe_instance_status,
        (Product::Ecs, "StartInstance") => instances::start_instance,
        (Product::Ecs, "StopInstance") => instances::stop_instance,
        (Product::Ecs, "RebootInstance") => instances::reboot_instance,
        (Product::Ecs, "DeleteInstance") => instances::delete_instance,
        (Product::Ecs, "DeleteInstances") => instances::delete_instances,
        (Product::Ecs, "ModifyInstanceAutoReleaseTime") => instances::modify_auto_release_time,
        (Product::Ecs, "AllocatePublicIpAddress") => instances::allocate_public_ip,
        (Product::Ecs, "CreateDisk") => instances::create_disk,
        (Product::Ecs, "DescribeDisks") => instances::describe_disks,
        (Product::Ecs, "DeleteDisk") => instances::delete_disk,
        (Product::Ecs, "RunCommand") => commands::run_command,
        (Product::Ecs, "DescribeInvocations") => commands::describe_invocations,
        (Product::Ecs, "DescribeInvocationResults") => commands::describe_invocation_results,
        (Product::Ecs, "DescribeCloudAssistantStatus") => commands::describe_agent_status,
        (Product::Ecs, "TagResources") => tags::tag_resources,
        (Product::Ecs, "UntagResources") => tags::untag_resources,
        (Product::Ecs, "ListTagResources") => tags::list_tag_resources,
        (Product::Vpc, "CreateVpc") => network::create_vpc,
        (Product::Vpc, "CreateVSwitch") => network::create_vswitch,
        (Product::Vpc, "DescribeVpcs") => network::describe_vpcs,
        (Product::Vpc, "DescribeVpcAttribute") => network::describe_vpc_attribute,
        (Product::Vpc, "DescribeVSwitches") => network::describe_vswitches,
        (Product::Vpc, "DescribeVSwitchAttributes") => network::describe_vswitch_attributes,
        (Product::Vpc, "DeleteVSwitch") => network::delete_vswitch,
        (Product::Vpc, "DeleteVpc") => network::delete_vpc,
        (Product::Vpc, "AllocateEipAddress") => network::allocate_eip,
        (Product::Vpc, "DescribeEipAddresses") => network::describe_eips,
        (Product::Vpc, "ReleaseEipAddress") => network::release_eip,
        // ECS 2014-05-26 still serves these VPC actions for old SDKs: same handlers.
        (Product::Ecs, "CreateVpc") => network::create_vpc,
        (Product::Ecs, "CreateVSwitch") => network::create_vswitch,
        (Product::Ecs, "DescribeVpcs") => network::describe_vpcs,
        (Product::Ecs, "DescribeVSwitches") => network::describe_vswitches,
        (Product::Ecs, "DeleteVSwitch") => network::delete_vswitch,
        (Product::Ecs, "DeleteVpc") => network::delete_vpc,
        _ => return None,
    };
    Some(h)
}

fn unknown_action(req: &SimRequest) -> SimError {
    let hint = ops::suggest(Some(req.product), &req.action)
        .map(|s| format!(" Did you mean {s}?"))
        .unwrap_or_default();
    SimError::new(
        404,
        "InvalidAction.NotFound",
        format!(
            "The specified action \"{}\" is not found in {} {}.{hint}",
            req.action,
            req.product.code().to_uppercase(),
            req.product.version()
        ),
    )
}

/// Checks the registry's required parameters. A `Name.N` entry needs `Name.1`; `Tag.N.Key`
/// needs `Tag.1.Key`.
fn check_required(action: &Action, p: &Params) -> Result<(), SimError> {
    for name in action.required {
        let probe = name.replace(".N", ".1");
        if p.str(&probe).is_none() {
            return Err(SimError::missing(&probe));
        }
    }
    Ok(())
}

fn check_region(region: &str) -> Result<(), SimError> {
    if Catalog::get().region(region).is_some() {
        return Ok(());
    }
    let known: Vec<&str> = Catalog::get()
        .regions
        .iter()
        .map(|r| r.region_id.as_str())
        .collect();
    Err(SimError::new(
        404,
        "InvalidRegionId.NotFound",
        format!(
            "The specified RegionId \"{region}\" does not exist. Valid regions: {}.",
            known.join(", ")
        ),
    ))
}

/// A new resource id: `prefix-` + the region's 3-character stem + random base36, 22 characters
/// in all after the prefix like the real ones (`i-bp1g6zv0ce8oghu7k3a`).
fn new_id(prefix: &str, region: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let stem = match region {
        "cn-hangzhou" => "bp1",
        "cn-shanghai" => "uf6",
        "cn-beijing" => "2ze",
        "ap-southeast-1" => "t4n",
        "us-west-1" => "rj9",
        "eu-central-1" => "gw8",
        _ => "0xa",
    };
    let mut rng = rand::thread_rng();
    let tail: String = (0..17)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}-{stem}{tail}")
}

/// A 404 "not found" in the style of the API (`InvalidInstanceId.NotFound`).
fn not_found(code: &str, what: &str, id: &str) -> SimError {
    SimError::new(
        404,
        code,
        format!("The specified {what} \"{id}\" does not exist."),
    )
}

/// The response of a successful dry run of `action`.
fn dry_run_passed(action: &str) -> SimError {
    let code = if action == "DeleteInstances" {
        "DRYRUN.SUCCESS"
    } else {
        "DryRunOperation"
    };
    SimError::new(
        400,
        code,
        "Request validation has been passed with DryRun flag set.",
    )
}
