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

mod assistant;
mod attributes;
mod batch;
mod commands;
mod creation;
mod describe;
mod discovery;
mod disk_attach;
mod disks;
mod eips;
mod exec;
mod idempotency;
mod import;
mod instance_store;
mod instances;
mod json;
mod keypairs;
mod launch;
mod learn;
mod network;
mod paging;
mod params;
mod render;
mod security;
mod sg_changes;
mod snapshots;
mod spot;
mod tags;

#[cfg(test)]
mod tests;

pub use super::clock::TimeMode;
pub use exec::ExecMode;
pub use render::{recycle, Answer, JsonObject};

use super::catalog::Catalog;
use super::catalog_ext::{self, Extension};
use super::clock::Clock;
use super::{SimError, SimRequest};
use crate::ops::{self, Action, A};
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
    /// Serialised as the map by id; its indexes are rebuilt on restore.
    instances: instance_store::InstanceStore,
    disks: BTreeMap<String, disks::Disk>,
    vpcs: BTreeMap<String, network::Vpc>,
    vswitches: BTreeMap<String, network::VSwitch>,
    eips: BTreeMap<String, network::Eip>,
    groups: BTreeMap<String, security::SecurityGroup>,
    invocations: BTreeMap<String, commands::Invocation>,
    // --- issue 15 (absent from older state files) ---
    #[serde(default)]
    key_pairs: BTreeMap<String, keypairs::KeyPair>,
    #[serde(default)]
    snapshots: BTreeMap<String, snapshots::Snapshot>,
    #[serde(default)]
    images: BTreeMap<String, snapshots::OwnImage>,
    // --- Cloud Assistant (issue 15) ---
    #[serde(default)]
    commands: BTreeMap<String, assistant::Command>,
    #[serde(default)]
    sent_files: BTreeMap<String, assistant::SentFile>,
    /// The paths SendFile delivered, per instance.
    #[serde(default)]
    instance_files: assistant::Files,
    // --- Spot (issue 15) ---
    /// (instance type, zone) pairs whose spot capacity is sold out (`*` for any).
    #[serde(default)]
    spot_no_stock: BTreeSet<(String, String)>,
    tokens: idempotency::Tokens,
    /// Chosen at start (`--lenient`), never taken from a snapshot.
    #[serde(skip)]
    fidelity: Fidelity,
    /// Processes started by `ExecMode::Local`; live handles do not survive a snapshot.
    #[serde(skip)]
    runs: exec::Runs,
    /// The catalogue this world sells from: the embedded one, or that extended by
    /// `--catalogue` or by what a shadow learned (`extend_catalogue`); not in a snapshot.
    #[serde(skip, default = "Catalog::get")]
    catalog: &'static Catalog,
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
            instances: instance_store::InstanceStore::default(),
            disks: BTreeMap::new(),
            vpcs: BTreeMap::new(),
            vswitches: BTreeMap::new(),
            eips: BTreeMap::new(),
            groups: BTreeMap::new(),
            invocations: BTreeMap::new(),
            key_pairs: BTreeMap::new(),
            snapshots: BTreeMap::new(),
            images: BTreeMap::new(),
            commands: BTreeMap::new(),
            sent_files: BTreeMap::new(),
            instance_files: assistant::Files::new(),
            spot_no_stock: BTreeSet::new(),
            tokens: idempotency::Tokens::default(),
            fidelity: Fidelity::Strict,
            runs: exec::Runs::default(),
            catalog: Catalog::get(),
        }
    }

    /// The catalogue this world sells from.
    pub fn catalog(&self) -> &'static Catalog {
        self.catalog
    }

    /// Adds `ext`'s zones, types, prices and images to this world's catalogue (see
    /// `catalog_ext`); true if that changed anything.
    pub fn extend_catalogue(&mut self, ext: &Extension) -> bool {
        match self.catalog.extended(ext) {
            Some(extended) => {
                self.catalog = catalog_ext::leak(extended);
                true
            }
            None => false,
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
    pub fn check_stock_pair(&self, instance_type: &str, zone_id: &str) -> Result<(), String> {
        let catalog = self.catalog;
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
        let p = Params::new(req, action, self.fidelity, self.catalog);
        check_required(action, &p)?;
        if let Some(region) = p.str("RegionId") {
            check_region(self.catalog, region)?;
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

/// The model's handler of every action it serves, keyed by the registry's entries (STS is
/// served beside the model, by `sim::sts`). `handlers_are_the_registry` checks that the keys
/// are exactly the registry's ECS and VPC actions. Adding one: a row `(&A::NAME, module::fn)`.
static HANDLERS: &[(&Action, Handler)] = &[
    (&A::DESCRIBE_REGIONS, discovery::describe_regions),
    (&A::DESCRIBE_ZONES, discovery::describe_zones),
    (
        &A::DESCRIBE_RECOMMEND_INSTANCE_TYPE,
        discovery::recommend_instance_type,
    ),
    (
        &A::DESCRIBE_INSTANCE_TYPES,
        discovery::describe_instance_types,
    ),
    (
        &A::DESCRIBE_INSTANCE_TYPE_FAMILIES,
        discovery::describe_families,
    ),
    (
        &A::DESCRIBE_AVAILABLE_RESOURCE,
        discovery::describe_available_resource,
    ),
    (&A::DESCRIBE_PRICE, discovery::describe_price),
    (&A::DESCRIBE_IMAGES, discovery::describe_images),
    (&A::CREATE_SECURITY_GROUP, security::create),
    (&A::AUTHORIZE_SECURITY_GROUP, security::authorize_ingress),
    (
        &A::AUTHORIZE_SECURITY_GROUP_EGRESS,
        security::authorize_egress,
    ),
    (&A::REVOKE_SECURITY_GROUP, security::revoke_ingress),
    (&A::DESCRIBE_SECURITY_GROUPS, security::describe),
    (
        &A::DESCRIBE_SECURITY_GROUP_ATTRIBUTE,
        security::describe_attribute,
    ),
    (&A::DELETE_SECURITY_GROUP, security::delete),
    (&A::RUN_INSTANCES, creation::run_instances),
    (&A::CREATE_INSTANCE, creation::create_instance),
    (&A::DESCRIBE_INSTANCES, describe::describe_instances),
    (
        &A::DESCRIBE_INSTANCE_STATUS,
        describe::describe_instance_status,
    ),
    (&A::START_INSTANCE, instances::start_instance),
    (&A::STOP_INSTANCE, instances::stop_instance),
    (&A::REBOOT_INSTANCE, instances::reboot_instance),
    (&A::DELETE_INSTANCE, instances::delete_instance),
    (&A::DELETE_INSTANCES, instances::delete_instances),
    (
        &A::MODIFY_INSTANCE_AUTO_RELEASE_TIME,
        instances::modify_auto_release_time,
    ),
    (
        &A::ALLOCATE_PUBLIC_IP_ADDRESS,
        instances::allocate_public_ip,
    ),
    (&A::CREATE_DISK, disks::create_disk),
    (&A::DESCRIBE_DISKS, disks::describe_disks),
    (&A::DELETE_DISK, disks::delete_disk),
    (&A::RUN_COMMAND, commands::run_command),
    (&A::DESCRIBE_INVOCATIONS, commands::describe_invocations),
    (
        &A::DESCRIBE_INVOCATION_RESULTS,
        commands::describe_invocation_results,
    ),
    (
        &A::DESCRIBE_CLOUD_ASSISTANT_STATUS,
        commands::describe_agent_status,
    ),
    (&A::TAG_RESOURCES, tags::tag_resources),
    (&A::UNTAG_RESOURCES, tags::untag_resources),
    (&A::LIST_TAG_RESOURCES, tags::list_tag_resources),
    (&A::CREATE_VPC, network::create_vpc),
    (&A::CREATE_VSWITCH, network::create_vswitch),
    (&A::DESCRIBE_VPCS, network::describe_vpcs),
    (&A::DESCRIBE_VPC_ATTRIBUTE, network::describe_vpc_attribute),
    (&A::DESCRIBE_VSWITCHES, network::describe_vswitches),
    (
        &A::DESCRIBE_VSWITCH_ATTRIBUTES,
        network::describe_vswitch_attributes,
    ),
    (&A::DELETE_VSWITCH, network::delete_vswitch),
    (&A::DELETE_VPC, network::delete_vpc),
    (&A::ALLOCATE_EIP_ADDRESS, network::allocate_eip),
    (&A::DESCRIBE_EIP_ADDRESSES, network::describe_eips),
    (&A::RELEASE_EIP_ADDRESS, network::release_eip),
    // --- Instances (issue 15) ---
    (&A::START_INSTANCES, batch::start_instances),
    (&A::STOP_INSTANCES, batch::stop_instances),
    (&A::REBOOT_INSTANCES, batch::reboot_instances),
    (
        &A::MODIFY_INSTANCE_ATTRIBUTE,
        attributes::modify_instance_attribute,
    ),
    (
        &A::DESCRIBE_INSTANCE_ATTRIBUTE,
        attributes::describe_instance_attribute,
    ),
    (&A::MODIFY_INSTANCE_SPEC, attributes::modify_instance_spec),
    // --- Key pairs (issue 15) ---
    (&A::CREATE_KEY_PAIR, keypairs::create_key_pair),
    (&A::IMPORT_KEY_PAIR, keypairs::import_key_pair),
    (&A::DESCRIBE_KEY_PAIRS, keypairs::describe_key_pairs),
    (&A::DELETE_KEY_PAIRS, keypairs::delete_key_pairs),
    (&A::ATTACH_KEY_PAIR, keypairs::attach_key_pair),
    (&A::DETACH_KEY_PAIR, keypairs::detach_key_pair),
    // --- Disks (issue 15) ---
    (&A::ATTACH_DISK, disk_attach::attach_disk),
    (&A::DETACH_DISK, disk_attach::detach_disk),
    (&A::RESIZE_DISK, disk_attach::resize_disk),
    // --- Snapshots and images (issue 15) ---
    (&A::CREATE_SNAPSHOT, snapshots::create_snapshot),
    (&A::DESCRIBE_SNAPSHOTS, snapshots::describe_snapshots),
    (&A::DELETE_SNAPSHOT, snapshots::delete_snapshot),
    (&A::CREATE_IMAGE, snapshots::create_image),
    (&A::DELETE_IMAGE, snapshots::delete_image),
    // --- Elastic IPs (issue 15) ---
    (&A::ASSOCIATE_EIP_ADDRESS, eips::associate),
    (&A::UNASSOCIATE_EIP_ADDRESS, eips::unassociate),
    // --- Security groups (issue 15) ---
    (&A::REVOKE_SECURITY_GROUP_EGRESS, security::revoke_egress),
    (&A::MODIFY_SECURITY_GROUP_RULE, sg_changes::modify_rule),
    (&A::JOIN_SECURITY_GROUP, sg_changes::join),
    (&A::LEAVE_SECURITY_GROUP, sg_changes::leave),
    // --- Cloud Assistant (issue 15) ---
    (&A::SEND_FILE, assistant::send_file),
    (
        &A::DESCRIBE_SEND_FILE_RESULTS,
        assistant::describe_send_file_results,
    ),
    (&A::CREATE_COMMAND, assistant::create_command),
    (&A::INVOKE_COMMAND, assistant::invoke_command),
    (&A::DESCRIBE_COMMANDS, assistant::describe_commands),
    (&A::DELETE_COMMAND, assistant::delete_command),
    (&A::STOP_INVOCATION, assistant::stop_invocation),
    // --- Spot (issue 15) ---
    (
        &A::DESCRIBE_SPOT_PRICE_HISTORY,
        spot::describe_spot_price_history,
    ),
    // ECS 2014-05-26 still serves these VPC actions for old SDKs: same handlers.
    (&A::ECS_CREATE_VPC, network::create_vpc),
    (&A::ECS_CREATE_VSWITCH, network::create_vswitch),
    (&A::ECS_DESCRIBE_VPCS, network::describe_vpcs),
    (&A::ECS_DESCRIBE_VSWITCHES, network::describe_vswitches),
    (&A::ECS_DELETE_VSWITCH, network::delete_vswitch),
    (&A::ECS_DELETE_VPC, network::delete_vpc),
];

/// The handler for an action of the registry, or None when the model has none.
fn handler(action: &Action) -> Option<Handler> {
    HANDLERS.iter().find(|(a, _)| a.is(action)).map(|(_, h)| *h)
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

fn check_region(catalog: &Catalog, region: &str) -> Result<(), SimError> {
    if catalog.region(region).is_some() {
        return Ok(());
    }
    let known: Vec<&str> = catalog
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
    let code = if action == A::DELETE_INSTANCES.name {
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
