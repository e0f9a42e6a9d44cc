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
use std::ops::Range;
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

/// An instance's MAC address, `00:16:3e:xx:xx:xx` (derived from its id); shown with `Display`,
/// so an answer writes it without a `String` of its own.
pub(super) struct Mac([u8; 3]);

pub(super) fn mac(id: &str) -> Mac {
    let h = md5ish(id).to_be_bytes();
    Mac([h[0], h[1], h[2]])
}

impl std::fmt::Display for Mac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c] = self.0;
        write!(f, "00:16:3e:{a:02x}:{b:02x}:{c:02x}")
    }
}

/// Observes (moves along) the visible instances of a region that `keep` selects. Criteria
/// that depend on the state (Status) belong in [`matching`], so that polling with a status
/// filter still observes the instances it waits for. `scope`, when given, lists the only ids
/// to consider (a lookup instead of the region's unsteady instances).
pub(super) fn observe(
    w: &mut World,
    region: &str,
    scope: Option<&[&str]>,
    keep: &impl Fn(&Instance) -> bool,
) {
    let gone = match scope {
        Some(ids) => {
            let clock = &w.clock;
            let mut ids = ids.to_vec();
            ids.sort_unstable();
            ids.dedup();
            let mut gone = Vec::new();
            for id in ids {
                if let Some(inst) = w.instances.get_mut(id) {
                    if inst.region == region && inst.visible() && keep(inst) && !inst.settle(clock)
                    {
                        gone.push(inst.id.clone());
                    }
                }
            }
            gone
        }
        None => w.instances.settle_region(&w.clock, region, keep).gone_ids,
    };
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
    match scope {
        Some(ids) => {
            let mut list: Vec<&Instance> = ids
                .iter()
                .filter_map(|id| w.instances.get(id))
                .filter(wanted)
                .collect();
            list.sort_unstable_by_key(|i| i.seq);
            list.dedup_by_key(|i| i.seq);
            list
        }
        // The region's index is already in creation order.
        None => w.instances.in_region(region).filter(wanted).collect(),
    }
}

/// One page of a whole-region listing (no `InstanceIds`): [`observe`] then [`matching`]
/// (`show` on top of `keep`), with the paging fields of `frame` for the total. When neither
/// selects anything (`everything`), only the unsteady instances are settled and only the page
/// is read: the rest are counted (issue 19). Also the ids of the instances found gone for good,
/// already hidden, for the caller to remove once it is done with the page.
fn listing_page<'w, B>(
    w: &'w mut World,
    region: &str,
    everything: bool,
    keep: &impl Fn(&Instance) -> bool,
    show: &impl Fn(&Instance) -> bool,
    frame: impl FnOnce(usize) -> Result<(B, Range<usize>), SimError>,
) -> Result<(B, Vec<&'w Instance>, Vec<String>), SimError> {
    let settled = w.instances.settle_region(&w.clock, region, keep);
    let w = &*w;
    if everything {
        let (body, window) = frame(w.instances.listed_count(region, &settled))?;
        let page = w.instances.listed_window(region, &settled, &window);
        return Ok((body, page, settled.gone_ids));
    }
    let list: Vec<&Instance> = w
        .instances
        .in_region(region)
        .filter(|i| i.visible() && keep(i) && show(i))
        .collect();
    let (body, window) = frame(list.len())?;
    Ok((body, list[window].to_vec(), settled.gone_ids))
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

/// DescribeInstances' filters, each `None` (or empty) when the request does not give it.
struct Filters<'p> {
    ids: Option<Vec<String>>,
    vpc: Option<&'p str>,
    vswitch: Option<&'p str>,
    zone: Option<&'p str>,
    group: Option<&'p str>,
    name: Option<&'p str>,
    instance_type: Option<&'p str>,
    family: Option<&'p str>,
    image: Option<&'p str>,
    charge: Option<&'p str>,
    internet_charge: Option<&'p str>,
    private_ips: Option<Vec<String>>,
    public_ips: Option<Vec<String>>,
    tags: tags::Tags,
    /// Compared with the status shown ([`shown_status`]), after the instance is observed.
    status: Option<&'p str>,
}

impl<'p> Filters<'p> {
    /// The request's filters, checked in the order the answers' errors always came in.
    fn of(p: &'p Params) -> Result<Filters<'p>, SimError> {
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
        let private_ips = p.json_list("PrivateIpAddresses", 100)?;
        let public_ips = p.json_list("PublicIpAddresses", 100)?;
        let tags = p.tags()?;
        let f = |k: &str| p.str(k);
        Ok(Filters {
            ids,
            vpc: f("VpcId"),
            vswitch: f("VSwitchId"),
            zone: f("ZoneId"),
            group: f("SecurityGroupId"),
            name: f("InstanceName"),
            instance_type: f("InstanceType"),
            family: f("InstanceTypeFamily"),
            image: f("ImageId"),
            charge: f("InstanceChargeType"),
            internet_charge: f("InternetChargeType"),
            private_ips,
            public_ips,
            tags,
            status,
        })
    }

    /// True when no filter is given: the listing is the whole region (every field is named
    /// here, so a new filter cannot be forgotten).
    fn none(&self) -> bool {
        let Filters {
            ids,
            vpc,
            vswitch,
            zone,
            group,
            name,
            instance_type,
            family,
            image,
            charge,
            internet_charge,
            private_ips,
            public_ips,
            tags,
            status,
        } = self;
        ids.is_none()
            && [
                vpc,
                vswitch,
                zone,
                group,
                name,
                instance_type,
                family,
                image,
                charge,
                internet_charge,
                status,
            ]
            .iter()
            .all(|f| f.is_none())
            && private_ips.is_none()
            && public_ips.is_none()
            && tags.is_empty()
    }

    /// The filters that do not depend on the instance's state (all but Status): what decides
    /// whether an instance is observed.
    fn keeps(&self, i: &Instance) -> bool {
        self.ids.as_ref().map_or(true, |ids| ids.contains(&i.id))
            && self.vpc.map_or(true, |v| v == i.vpc_id)
            && self.vswitch.map_or(true, |v| v == i.vswitch_id)
            && self.zone.map_or(true, |z| z == i.zone)
            && self.group.map_or(true, |s| i.sg_ids.iter().any(|x| x == s))
            && self.name.map_or(true, |n| wildcard(n, &i.name))
            && self.instance_type.map_or(true, |t| t == i.instance_type)
            && self.family.map_or(true, |fam| {
                i.instance_type.starts_with(&format!("{fam}."))
                    || i.instance_type.starts_with(&format!("{fam}-"))
            })
            && self.image.map_or(true, |m| m == i.image_id)
            && self.charge.map_or(true, |c| c == i.charge_type)
            && self
                .internet_charge
                .map_or(true, |n| n == i.internet_charge_type)
            && self
                .private_ips
                .as_ref()
                .map_or(true, |ips| ips.contains(&i.private_ip))
            && self.public_ips.as_ref().map_or(true, |ips| {
                i.public_ip.as_ref().is_some_and(|ip| ips.contains(ip))
            })
            && tags::matches(&i.tags, &self.tags)
    }

    /// [`Filters::keeps`] and the Status filter.
    fn shows(&self, i: &Instance) -> bool {
        self.keeps(i) && self.status.map_or(true, |s| s == shown_status(i).as_str())
    }
}

/// DescribeInstances, its answer written straight to bytes ([`render::instances_page`]).
pub fn describe_instances_bytes(w: &mut World, p: &Params) -> Result<Answer, SimError> {
    let region = p.region()?.to_string();
    let filters = Filters::of(p)?;
    let keep = |i: &Instance| filters.keeps(i);
    let show = |i: &Instance| filters.shows(i);
    // An instance with an EIP bound shows it (issue 15's `eips`): such a page takes the tree
    // path, the rare case; every other page is written straight to bytes.
    let eip_holders: Vec<String> = w
        .eips
        .values()
        .map(super::eips::instance_of)
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .collect();
    let frame = |total| paging::frame(p, total, Map::new(), Some((10, 100)));
    let (body, page, gone) = match filters.ids.as_ref() {
        Some(ids) => {
            let scope: Vec<&str> = ids.iter().map(String::as_str).collect();
            observe(w, &region, Some(&scope), &keep);
            let list = matching(w, &region, Some(&scope), &show);
            let (body, window) = frame(list.len())?;
            (body, list[window].to_vec(), Vec::new())
        }
        None => listing_page(w, &region, filters.none(), &keep, &show, frame)?,
    };
    let with_eip = page.iter().any(|i| eip_holders.contains(&i.id));
    let answer = render::instances_page(p, body, &page);
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
