//! Answers written straight to JSON bytes from typed views of the model, for the listings whose
//! size made building a `serde_json::Value` tree per answer the simulator's main cost
//! (DescribeInstances: ~70 fields per instance, each an `IndexMap` insert with a hash and a
//! `String` key before being serialised; see BENCHMARKS.md). Owns [`Answer`] (a handler's body,
//! either a tree or those bytes) and the views, whose field order is the order the answers
//! always had, so clients see the same bytes.
//!
//! Must not: decide anything about resources (the handlers filter, order and page), or know the
//! wire beyond JSON (the server adds `RequestId` and turns an answer into XML when asked).

use super::super::catalog::{Catalog, InstanceType};
use super::super::SimError;
use super::describe::{self, describe_instances_bytes};
use super::discovery;
use super::instances::Instance;
use super::json;
use super::network::RESOURCE_GROUP;
use super::paging;
use super::params::Params;
use super::World;
use crate::ops::{Action, A};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// A handler's answer body (without `RequestId`).
#[derive(Debug)]
pub enum Answer {
    /// Built as a tree (most handlers).
    Tree(Value),
    /// Already serialised: the bytes of one JSON object.
    Json(JsonObject),
}

/// The bytes of one JSON object, written behind [`HEADROOM`] spare bytes so that the server can
/// put `{"RequestId":"…",` in front of its fields in the same buffer instead of copying a
/// ~30 KB page once more (the copy was 4% of the simulator's DescribeInstances profile).
#[derive(Debug)]
pub struct JsonObject {
    buf: Vec<u8>,
    start: usize,
}

/// Room for `{"RequestId":"` + a 36-character request id + `",` (52 bytes), with some to spare.
const HEADROOM: usize = 64;

impl JsonObject {
    /// The object's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// `head` followed by the object's bytes without their opening `{`, as a buffer and the
    /// offset at which they begin in it. Written into the headroom, so the object is not
    /// copied; a `head` longer than the headroom gets a new buffer (correct, just slower).
    pub fn behind(self, head: &[u8]) -> (Vec<u8>, usize) {
        let JsonObject { mut buf, start } = self;
        let open = start + 1; // the object begins with `{`, which `head` replaces
        match open.checked_sub(head.len()) {
            Some(begin) => {
                buf[begin..open].copy_from_slice(head);
                (buf, begin)
            }
            None => {
                let mut out = Vec::with_capacity(head.len() + buf.len() - open);
                out.extend_from_slice(head);
                out.extend_from_slice(&buf[open..]);
                (out, 0)
            }
        }
    }
}

impl Answer {
    /// The answer as a tree (for XML, the idempotency record and the model's tests).
    pub fn into_value(self) -> Result<Value, SimError> {
        match self {
            Answer::Tree(v) => Ok(v),
            Answer::Json(object) => serde_json::from_slice(object.as_bytes()).map_err(|e| {
                SimError::new(
                    500,
                    "InternalError",
                    format!("the simulator rendered an answer that is not JSON ({e})"),
                )
            }),
        }
    }
}

/// A handler that renders its own answer.
pub type Handler = fn(&mut World, &Params) -> Result<Answer, SimError>;

/// The actions whose answers are rendered here, and their handlers; each also has a row in the
/// model's table (its answer as a tree), which these take over for the server.
static RENDERED: &[(&Action, Handler)] = &[
    (&A::DESCRIBE_INSTANCES, describe_instances_bytes),
    (&A::DESCRIBE_REGIONS, discovery::describe_regions_bytes),
];

/// The handler of an action whose answer is rendered here, or None (the model's table then).
pub fn handler(action: &Action) -> Option<Handler> {
    RENDERED.iter().find(|(a, _)| a.is(action)).map(|(_, h)| *h)
}

/// A DescribeInstances body: `body` (from [`paging::frame`], with the paging fields and an
/// empty list) with the page's instances written from [`InstanceView`]s into the list's place.
pub fn instances_page(
    p: &Params,
    body: Map<String, Value>,
    page: &[&Instance],
) -> Result<Answer, SimError> {
    let page = InstancePage(p.catalog, page);
    let path: Vec<&str> = paging::list_path(p.action).split('.').collect();
    let spliced = Spliced {
        node: &body,
        path: &path,
        items: &page,
    };
    let object = object(&spliced, PAGE_FRAME + INSTANCE_BYTES.estimate(page.1.len()))?;
    INSTANCE_BYTES.learn(object.as_bytes().len(), page.1.len());
    Ok(Answer::Json(object))
}

/// `value` (which serialises as a JSON object) written behind [`HEADROOM`] spare bytes into a
/// reused buffer with room for about `size` bytes.
pub(super) fn object<T: Serialize>(value: &T, size: usize) -> Result<JsonObject, SimError> {
    let mut out = PAGE_BUFFERS.take(HEADROOM + size);
    out.resize(HEADROOM, b' ');
    json::write(&mut out, value).map_err(cannot_render)?;
    Ok(JsonObject {
        buf: out,
        start: HEADROOM,
    })
}

/// The simulator's own failure to write an answer (a view that does not serialise): a 500, as
/// the service answers its internal errors.
pub(super) fn cannot_render(e: impl std::fmt::Display) -> SimError {
    SimError::new(
        500,
        "InternalError",
        format!("the simulator could not render its answer ({e})"),
    )
}

/// Page buffers given back once their answer was sent ([`recycle`]), so that the next page is
/// written into memory already allocated: a ~30 KB allocation per page went through glibc's
/// large-chunk path (`_int_malloc`, `malloc_consolidate`: 10% of the simulator's profile with
/// 16 clients, BENCHMARKS.md). Shared by every simulator in the process; bounded in count and
/// in the size of a buffer kept, so a huge page's memory goes back to the allocator.
static PAGE_BUFFERS: BufferPool = BufferPool(Mutex::new(Vec::new()));

/// At most this many buffers wait for reuse (one per concurrent page is enough).
const POOLED_BUFFERS: usize = 32;
/// A buffer larger than this (a page of many heavily tagged instances) is freed, not kept.
const POOLED_CAPACITY: usize = 1 << 20;

struct BufferPool(Mutex<Vec<Vec<u8>>>);

impl BufferPool {
    /// An empty buffer with room for `capacity` bytes, reused when one is waiting.
    fn take(&self, capacity: usize) -> Vec<u8> {
        let reused = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        match reused {
            Some(mut buf) => {
                buf.reserve(capacity);
                buf
            }
            None => Vec::with_capacity(capacity),
        }
    }

    fn give(&self, mut buf: Vec<u8>) {
        if buf.capacity() > POOLED_CAPACITY {
            return;
        }
        buf.clear();
        let mut pool = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if pool.len() < POOLED_BUFFERS {
            pool.push(buf);
        }
    }
}

/// Gives a rendered answer's buffer (from [`JsonObject::behind`]) back for the next page, once
/// its bytes were sent.
pub fn recycle(buf: Vec<u8>) {
    PAGE_BUFFERS.give(buf);
}

/// Bytes of a page beyond its instances (the paging fields and the wrappers), at most.
const PAGE_FRAME: usize = 512;

/// What the last page took per instance (its frame shared out among them), so that the next page's buffer is allocated
/// once at about its final size (no regrowth, which copies it, when instances carry many tags;
/// no 3 KiB per instance when they carry none). A hint only: shared by every simulator in the
/// process, and a wrong guess costs a regrowth or some slack, never a wrong answer.
static INSTANCE_BYTES: SizeHint = SizeHint(AtomicUsize::new(3072));

struct SizeHint(AtomicUsize);

impl SizeHint {
    /// Room for `n` instances: the last page's size per instance, and an eighth more.
    fn estimate(&self, n: usize) -> usize {
        let per = self.0.load(Ordering::Relaxed);
        n * (per + per / 8)
    }

    /// Remembers `bytes` written for `n` instances (an empty page teaches nothing).
    fn learn(&self, bytes: usize, n: usize) {
        if n > 0 {
            self.0.store(bytes.div_ceil(n), Ordering::Relaxed);
        }
    }
}

/// A body whose value at `path` (an empty placeholder in the tree) is written from `items`.
struct Spliced<'a, T: Serialize> {
    node: &'a Map<String, Value>,
    path: &'a [&'a str],
    items: &'a T,
}

impl<T: Serialize> Serialize for Spliced<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.node.len()))?;
        for (key, value) in self.node {
            match (self.path, value) {
                ([step], _) if step == key => map.serialize_entry(key, self.items)?,
                ([step, rest @ ..], Value::Object(inner)) if step == key => map.serialize_entry(
                    key,
                    &Spliced {
                        node: inner,
                        path: rest,
                        items: self.items,
                    },
                )?,
                _ => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

struct InstancePage<'a>(&'a Catalog, &'a [&'a Instance]);

impl Serialize for InstancePage<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.1.iter().map(|i| InstanceView::of(self.0, i)))
    }
}

/// `{"IpAddress": …}`, the wrapper of every IP list in the answer.
#[derive(Serialize)]
struct IpAddress<T: Serialize> {
    #[serde(rename = "IpAddress")]
    ip_address: T,
}

const NONE: [&str; 0] = [];

/// One DescribeInstances entry, in the answer's field order.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct InstanceView<'a> {
    instance_id: &'a str,
    instance_name: &'a str,
    host_name: &'a str,
    description: &'a str,
    status: &'static str,
    region_id: &'a str,
    zone_id: &'a str,
    instance_type: &'a str,
    instance_type_family: &'a str,
    cpu: u32,
    memory: u64,
    #[serde(rename = "GPUAmount")]
    gpu_amount: u32,
    #[serde(rename = "GPUSpec")]
    gpu_spec: &'a str,
    image_id: &'a str,
    #[serde(rename = "OSType")]
    os_type: &'a str,
    #[serde(rename = "OSName")]
    os_name: &'a str,
    #[serde(rename = "OSNameEn")]
    os_name_en: &'a str,
    instance_charge_type: &'a str,
    spot_strategy: &'a str,
    internet_charge_type: &'a str,
    internet_max_bandwidth_out: u32,
    internet_max_bandwidth_in: u32,
    instance_network_type: &'static str,
    io_optimized: bool,
    creation_time: &'a str,
    start_time: &'a str,
    expired_time: &'a str,
    auto_release_time: &'a str,
    // The network part.
    public_ip_address: IpAddress<&'a [String]>,
    eip_address: EipAddress,
    inner_ip_address: IpAddress<[&'static str; 0]>,
    vpc_attributes: VpcAttributes<'a>,
    security_group_ids: SecurityGroupIds<'a>,
    tags: Tags<'a>,
    operation_locks: OperationLocks,
    stopped_mode: &'a str,
    deletion_protection: bool,
    key_pair_name: &'a str,
    resource_group_id: &'static str,
    serial_number: Shown<SerialNumber>,
    device_available: bool,
    recyclable: bool,
    // The documented fields the simulator has no feature behind, each with the value a plain
    // pay-as-you-go VPC instance shows (DescribeInstancesResponseBody in the Tea SDK model).
    network_interfaces: NetworkInterfaces<'a>,
    spot_price_limit: f64,
    spot_duration: u32,
    spot_interruption_behavior: &'static str,
    metadata_options: MetadataOptions,
    cpu_options: CpuOptions,
    deployment_set_id: &'static str,
    deployment_set_group_no: u32,
    hpc_cluster_id: &'static str,
    vlan_id: &'static str,
    cluster_id: &'static str,
    credit_specification: &'static str,
    local_storage_amount: u32,
    local_storage_capacity: u32,
    sale_cycle: &'static str,
    #[serde(rename = "ISP")]
    isp: &'static str,
    rdma_ip_address: IpAddress<[&'static str; 0]>,
    hibernation_options: HibernationOptions,
    dedicated_host_attribute: DedicatedHostAttribute,
    dedicated_instance_attribute: DedicatedInstanceAttribute,
    ecs_capacity_reservation_attr: EcsCapacityReservationAttr,
    private_dns_name_options: PrivateDnsNameOptions,
}

impl<'a> InstanceView<'a> {
    pub(super) fn of(catalog: &'a Catalog, i: &'a Instance) -> InstanceView<'a> {
        let itype = catalog.instance_type(&i.instance_type);
        let image = catalog.image(&i.image_id);
        InstanceView {
            instance_id: &i.id,
            instance_name: &i.name,
            host_name: &i.host_name,
            description: &i.description,
            status: describe::shown_status(i).as_str(),
            region_id: &i.region,
            zone_id: &i.zone,
            instance_type: &i.instance_type,
            instance_type_family: itype.map_or("", |t| t.family.as_str()),
            cpu: itype.map_or(0, |t| t.cores),
            memory: itype.map_or(0, |t| (t.memory * 1024.0).round() as u64),
            gpu_amount: itype.map_or(0, |t| t.gpu_amount),
            gpu_spec: itype.map_or("", |t| t.gpu_spec.as_str()),
            image_id: &i.image_id,
            os_type: image.map_or("linux", |m| m.os_type.as_str()),
            os_name: image.map_or("", |m| m.os_name.as_str()),
            os_name_en: image.map_or("", |m| m.os_name_en.as_str()),
            instance_charge_type: &i.charge_type,
            spot_strategy: &i.spot_strategy,
            internet_charge_type: &i.internet_charge_type,
            internet_max_bandwidth_out: i.bandwidth_out,
            internet_max_bandwidth_in: i.bandwidth_in,
            instance_network_type: "vpc",
            io_optimized: true,
            creation_time: &i.creation_time,
            start_time: &i.start_time,
            expired_time: &i.expired_time,
            auto_release_time: &i.auto_release_time,
            public_ip_address: IpAddress {
                ip_address: i.public_ip.as_slice(),
            },
            eip_address: EipAddress::default(),
            inner_ip_address: IpAddress { ip_address: NONE },
            vpc_attributes: VpcAttributes {
                vpc_id: &i.vpc_id,
                v_switch_id: &i.vswitch_id,
                private_ip_address: IpAddress {
                    ip_address: [&i.private_ip],
                },
                nat_ip_address: "",
            },
            security_group_ids: SecurityGroupIds {
                security_group_id: &i.sg_ids,
            },
            tags: Tags { tag: &i.tags },
            operation_locks: OperationLocks::default(),
            stopped_mode: &i.stopped_mode,
            deletion_protection: i.deletion_protection,
            key_pair_name: &i.key_pair,
            resource_group_id: RESOURCE_GROUP,
            serial_number: Shown(SerialNumber(describe::md5ish(&i.id))),
            device_available: true,
            recyclable: false,
            network_interfaces: NetworkInterfaces {
                network_interface: [NetworkInterface::primary(i)],
            },
            spot_price_limit: 0.0,
            spot_duration: 0,
            spot_interruption_behavior: "Terminate",
            metadata_options: MetadataOptions::default(),
            cpu_options: CpuOptions::of(itype),
            deployment_set_id: "",
            deployment_set_group_no: 0,
            hpc_cluster_id: "",
            vlan_id: "",
            cluster_id: "",
            credit_specification: "",
            local_storage_amount: 0,
            local_storage_capacity: 0,
            sale_cycle: "",
            isp: "",
            rdma_ip_address: IpAddress { ip_address: NONE },
            hibernation_options: HibernationOptions::default(),
            dedicated_host_attribute: DedicatedHostAttribute::default(),
            dedicated_instance_attribute: DedicatedInstanceAttribute::default(),
            ecs_capacity_reservation_attr: EcsCapacityReservationAttr::default(),
            private_dns_name_options: PrivateDnsNameOptions::default(),
        }
    }
}

#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct EipAddress {
    ip_address: &'static str,
    allocation_id: &'static str,
    bandwidth: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct VpcAttributes<'a> {
    vpc_id: &'a str,
    v_switch_id: &'a str,
    private_ip_address: IpAddress<[&'a String; 1]>,
    nat_ip_address: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SecurityGroupIds<'a> {
    security_group_id: &'a [String],
}

/// ECS-style tags: `{"Tag": [{"TagKey": …, "TagValue": …}]}`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Tags<'a> {
    #[serde(serialize_with = "ecs_tags")]
    tag: &'a [(String, String)],
}

fn ecs_tags<S: Serializer>(tags: &&[(String, String)], serializer: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Tag<'a> {
        tag_key: &'a str,
        tag_value: &'a str,
    }
    serializer.collect_seq(tags.iter().map(|(k, v)| Tag {
        tag_key: k,
        tag_value: v,
    }))
}

#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct OperationLocks {
    lock_reason: [&'static str; 0],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct NetworkInterfaces<'a> {
    network_interface: [NetworkInterface<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct NetworkInterface<'a> {
    network_interface_id: Shown<EniId<'a>>,
    primary_ip_address: &'a str,
    mac_address: Shown<describe::Mac>,
    #[serde(rename = "Type")]
    kind: &'static str,
    private_ip_sets: PrivateIpSets<'a>,
    ipv6_sets: Ipv6Sets,
    ipv4_prefix_sets: Ipv4PrefixSets,
    ipv6_prefix_sets: Ipv6PrefixSets,
}

impl<'a> NetworkInterface<'a> {
    fn primary(i: &'a Instance) -> NetworkInterface<'a> {
        NetworkInterface {
            network_interface_id: Shown(EniId(&i.id)),
            primary_ip_address: &i.private_ip,
            mac_address: Shown(describe::mac(&i.id)),
            kind: "Primary",
            private_ip_sets: PrivateIpSets {
                private_ip_set: [PrivateIpSet {
                    private_ip_address: &i.private_ip,
                    primary: true,
                }],
            },
            ipv6_sets: Ipv6Sets::default(),
            ipv4_prefix_sets: Ipv4PrefixSets::default(),
            ipv6_prefix_sets: Ipv6PrefixSets::default(),
        }
    }
}

/// A value written as a JSON string from its `Display`: the simulator's writer formats it in
/// place (no `String` per field per instance); `serde_json::to_value` builds the same string.
struct Shown<T: fmt::Display>(T);

impl<T: fmt::Display> Serialize for Shown<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// An instance's serial number: its id's hash in lower-case hex.
struct SerialNumber(u128);

impl fmt::Display for SerialNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:x}", self.0)
    }
}

/// The primary network interface's id, `eni-` and the instance id's tail.
struct EniId<'a>(&'a str);

impl fmt::Display for EniId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "eni-{}", self.0.trim_start_matches("i-"))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PrivateIpSets<'a> {
    private_ip_set: [PrivateIpSet<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PrivateIpSet<'a> {
    private_ip_address: &'a str,
    primary: bool,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Ipv6Sets {
    ipv6_set: [&'static str; 0],
}

#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Ipv4PrefixSets {
    ipv4_prefix_set: [&'static str; 0],
}

#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Ipv6PrefixSets {
    ipv6_prefix_set: [&'static str; 0],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetadataOptions {
    http_endpoint: &'static str,
    http_tokens: &'static str,
    http_put_response_hop_limit: u32,
}

impl Default for MetadataOptions {
    fn default() -> MetadataOptions {
        MetadataOptions {
            http_endpoint: "enabled",
            http_tokens: "optional",
            http_put_response_hop_limit: 1,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CpuOptions {
    core_count: u32,
    threads_per_core: u32,
    numa: &'static str,
    topology_type: &'static str,
}

impl CpuOptions {
    fn of(itype: Option<&InstanceType>) -> CpuOptions {
        let cores = itype.map_or(1, |t| t.cores);
        let threads = if cores >= 2 { 2 } else { 1 };
        CpuOptions {
            core_count: (cores / threads).max(1),
            threads_per_core: threads,
            numa: "",
            topology_type: "",
        }
    }
}

#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct HibernationOptions {
    configured: bool,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct DedicatedHostAttribute {
    dedicated_host_id: &'static str,
    dedicated_host_name: &'static str,
    dedicated_host_cluster_id: &'static str,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct DedicatedInstanceAttribute {
    affinity: &'static str,
    tenancy: &'static str,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct EcsCapacityReservationAttr {
    capacity_reservation_id: &'static str,
    capacity_reservation_preference: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PrivateDnsNameOptions {
    enable_instance_id_dns_a_record: bool,
    #[serde(rename = "EnableInstanceIdDnsAAAARecord")]
    enable_instance_id_dns_aaaa_record: bool,
    enable_ip_dns_a_record: bool,
    enable_ip_dns_ptr_record: bool,
    hostname_type: &'static str,
}

impl Default for PrivateDnsNameOptions {
    fn default() -> PrivateDnsNameOptions {
        PrivateDnsNameOptions {
            enable_instance_id_dns_a_record: false,
            enable_instance_id_dns_aaaa_record: false,
            enable_ip_dns_a_record: false,
            enable_ip_dns_ptr_record: false,
            hostname_type: "Custom",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(json: &str) -> JsonObject {
        let mut buf = vec![b' '; HEADROOM];
        buf.extend_from_slice(json.as_bytes());
        JsonObject {
            buf,
            start: HEADROOM,
        }
    }

    fn text((buf, begin): (Vec<u8>, usize)) -> String {
        String::from_utf8(buf[begin..].to_vec()).unwrap()
    }

    #[test]
    fn a_head_goes_into_the_headroom_without_moving_the_object() {
        let id = "0123ABCD-0123-0123-0123-0123456789AB";
        let head = format!("{{\"RequestId\":\"{id}\",");
        let o = object(r#"{"TotalCount":2,"Instances":{"Instance":[]}}"#);
        let before = o.buf.as_ptr();
        let (buf, begin) = o.behind(head.as_bytes());
        assert_eq!(buf.as_ptr(), before, "the buffer was reallocated");
        assert_eq!(
            text((buf, begin)),
            format!(r#"{{"RequestId":"{id}","TotalCount":2,"Instances":{{"Instance":[]}}}}"#)
        );
    }

    #[test]
    fn a_head_longer_than_the_headroom_is_copied_and_still_right() {
        let head = format!("{{\"RequestId\":\"{}\",", "R".repeat(HEADROOM * 2));
        let got = text(object(r#"{"A":1}"#).behind(head.as_bytes()));
        assert_eq!(got, format!("{head}\"A\":1}}"));
        assert_eq!(
            text(object("{}").behind(b"{\"RequestId\":\"R\"")),
            r#"{"RequestId":"R"}"#
        );
    }
}
