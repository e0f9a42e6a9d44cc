//! How instances look to DescribeInstances and DescribeInstanceStatus: the instance's JSON with
//! the documented defaults, the filters, and a released instance shown Stopping until it
//! vanishes.
//!
//! Must not: change an instance (observing one only moves it along its lifecycle).

use super::super::catalog::Catalog;
use super::instances::{Instance, Status};
use super::params::Params;
use super::render::{self, Answer};
use super::{paging, tags, SimError, World};
use serde_json::{json, Map, Value};
/// One DescribeInstances entry as a tree (DescribeInstanceAttribute's answer): the same typed
/// view that [`render`] writes straight to bytes for listings, so the two cannot drift apart.
pub(super) fn instance_json(catalog: &Catalog, i: &Instance) -> Value {
    // A struct of strings, numbers and booleans always converts.
    serde_json::to_value(render::InstanceView::of(catalog, i)).unwrap_or(Value::Null)
}

pub(super) fn md5ish(s: &str) -> u128 {
    s.bytes().fold(0xcbf29ce484222325u128, |h, b| {
        (h ^ u128::from(b)).wrapping_mul(0x100000001b3)
    })
}

pub(super) fn mac(id: &str) -> String {
    let h = md5ish(id).to_be_bytes();
    format!("00:16:3e:{:02x}:{:02x}:{:02x}", h[0], h[1], h[2])
}

/// Observes (moves along) the visible instances of a region that `keep` selects. Criteria
/// that depend on the state (Status) belong in [`matching`], so that polling with a status
/// filter still observes the instances it waits for. `scope`, when given, lists the only ids
/// to consider (a lookup instead of a scan of the whole account).
pub(super) fn observe(
    w: &mut World,
    region: &str,
    scope: Option<&[&str]>,
    keep: &impl Fn(&Instance) -> bool,
) {
    let clock = &w.clock;
    let mut gone = Vec::new();
    let mut visit = |inst: &mut Instance| {
        if inst.region == region && inst.visible() && keep(inst) && !inst.settle(clock) {
            gone.push(inst.id.clone());
        }
    };
    match scope {
        Some(ids) => {
            let mut ids = ids.to_vec();
            ids.sort_unstable();
            ids.dedup();
            for id in ids {
                if let Some(inst) = w.instances.get_mut(id) {
                    visit(inst);
                }
            }
        }
        None => w.instances.values_mut().for_each(visit),
    }
    for id in gone {
        w.instances.remove(&id);
    }
}

/// The visible instances of a region that `keep` selects (within `scope`), oldest first.
pub(super) fn matching<'w>(
    w: &'w World,
    region: &str,
    scope: Option<&[&str]>,
    keep: &impl Fn(&Instance) -> bool,
) -> Vec<&'w Instance> {
    let wanted = |i: &&Instance| i.region == region && i.visible() && keep(i);
    let mut list: Vec<&Instance> = match scope {
        Some(ids) => ids
            .iter()
            .filter_map(|id| w.instances.get(*id))
            .filter(wanted)
            .collect(),
        None => w.instances.values().filter(wanted).collect(),
    };
    list.sort_unstable_by_key(|i| i.seq);
    list.dedup_by_key(|i| i.seq);
    list
}

/// [`observe`] then [`matching`] (`show` on top of `keep`) in one walk of the account, for a
/// listing of the whole region, in no particular order (a page orders only what it shows:
/// [`paging::order_window`]). Also the ids of the instances that walk found gone for good,
/// already hidden, for the caller to remove once it is done with the list.
fn observe_listing<'w>(
    w: &'w mut World,
    region: &str,
    keep: &impl Fn(&Instance) -> bool,
    show: &impl Fn(&Instance) -> bool,
) -> (Vec<&'w Instance>, Vec<String>) {
    let clock = &w.clock;
    let mut list = Vec::new();
    let mut gone = Vec::new();
    for inst in w.instances.values_mut() {
        if inst.region != region || !inst.visible() || !keep(inst) {
            continue;
        }
        if !inst.settle(clock) {
            gone.push(inst.id.clone());
            continue;
        }
        let inst: &'w Instance = inst;
        if inst.visible() && show(inst) {
            list.push(inst);
        }
    }
    (list, gone)
}

/// The status an instance shows (a released one is `Stopping` until it vanishes).
pub(super) fn shown_status(i: &Instance) -> Status {
    if i.released.is_some() {
        Status::Stopping
    } else {
        i.status
    }
}

/// Glob match with `*` (InstanceName filters), linear-time with single-star backtracking so a
/// pattern of many stars cannot blow up.
fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// DescribeInstances as a tree (the handler table's row; the server uses
/// [`describe_instances_bytes`]).
pub fn describe_instances(w: &mut World, p: &Params) -> Result<Value, SimError> {
    describe_instances_bytes(w, p)?.into_value()
}

/// DescribeInstances, its answer written straight to bytes ([`render::instances_page`]).
pub fn describe_instances_bytes(w: &mut World, p: &Params) -> Result<Answer, SimError> {
    let region = p.region()?.to_string();
    let ids = p.json_list("InstanceIds", 100)?;
    let status = p
        .choice(
            "Status",
            &["Pending", "Starting", "Running", "Stopping", "Stopped"],
        )
        .map_err(|e| {
            if p.strict() {
                // The code the API reference lists for a Status that is not a status.
                SimError::new(400, "InvalidStatus.NotFound", e.message)
            } else {
                e
            }
        })?;
    let private = p.json_list("PrivateIpAddresses", 100)?;
    let public = p.json_list("PublicIpAddresses", 100)?;
    let filter = p.tags()?;
    let f = |k: &str| p.str(k);
    let (vpc, vsw, zone, sg, name, itype, family, image, charge, net) = (
        f("VpcId"),
        f("VSwitchId"),
        f("ZoneId"),
        f("SecurityGroupId"),
        f("InstanceName"),
        f("InstanceType"),
        f("InstanceTypeFamily"),
        f("ImageId"),
        f("InstanceChargeType"),
        f("InternetChargeType"),
    );
    let keep = |i: &Instance| {
        ids.as_ref().map_or(true, |ids| ids.contains(&i.id))
            && vpc.map_or(true, |v| v == i.vpc_id)
            && vsw.map_or(true, |v| v == i.vswitch_id)
            && zone.map_or(true, |z| z == i.zone)
            && sg.map_or(true, |s| i.sg_ids.iter().any(|x| x == s))
            && name.map_or(true, |n| wildcard(n, &i.name))
            && itype.map_or(true, |t| t == i.instance_type)
            && family.map_or(true, |fam| {
                i.instance_type.starts_with(&format!("{fam}."))
                    || i.instance_type.starts_with(&format!("{fam}-"))
            })
            && image.map_or(true, |m| m == i.image_id)
            && charge.map_or(true, |c| c == i.charge_type)
            && net.map_or(true, |n| n == i.internet_charge_type)
            && private
                .as_ref()
                .map_or(true, |ips| ips.contains(&i.private_ip))
            && public.as_ref().map_or(true, |ips| {
                i.public_ip.as_ref().is_some_and(|ip| ips.contains(ip))
            })
            && tags::matches(&i.tags, &filter)
    };
    let scope: Option<Vec<&str>> = ids
        .as_ref()
        .map(|ids| ids.iter().map(String::as_str).collect());
    let with_status =
        |i: &Instance| keep(i) && status.map_or(true, |s| s == shown_status(i).as_str());
    // An instance with an EIP bound shows it (issue 15's `eips`): such a page takes the tree
    // path, the rare case; every other page is written straight to bytes.
    let eip_holders: Vec<String> = w
        .eips
        .values()
        .map(super::eips::instance_of)
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .collect();
    let (mut list, gone) = match scope.as_deref() {
        Some(ids) => {
            observe(w, &region, Some(ids), &keep);
            (matching(w, &region, Some(ids), &with_status), Vec::new())
        }
        None => observe_listing(w, &region, &keep, &with_status),
    };
    let (body, window) = paging::frame(p, list.len(), Map::new(), Some((10, 100)))?;
    paging::order_window(&mut list, &window, |i| i.seq);
    let with_eip = list[window.clone()]
        .iter()
        .any(|i| eip_holders.contains(&i.id));
    let answer = render::instances_page(p, body, &list[window]);
    for id in gone {
        w.instances.remove(&id);
    }
    if !with_eip {
        return answer;
    }
    let mut tree = answer?.into_value()?;
    super::eips::show_on_instances(w, &mut tree);
    Ok(Answer::Tree(tree))
}

pub fn describe_instance_status(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let ids = p.list("InstanceId")?;
    if ids.len() > 100 {
        return Err(SimError::invalid(
            "InstanceId.N",
            "at most 100 instance ids",
        ));
    }
    let zone = p.str("ZoneId");
    let keep = |i: &Instance| {
        (ids.is_empty() || ids.contains(&i.id.as_str())) && zone.map_or(true, |z| z == i.zone)
    };
    let scope = (!ids.is_empty()).then_some(ids.as_slice());
    observe(w, &region, scope, &keep);
    paging::page(
        p,
        matching(w, &region, scope, &keep),
        |i| json!({ "InstanceId": i.id, "Status": shown_status(i).as_str() }),
        Map::new(),
    )
}
