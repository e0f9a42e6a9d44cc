//! THE table of seed functions: for each one its name (as the seed names it), seed section,
//! API action, options (seed keyword → API parameter, type, default, required, doc), result
//! and example. The engine registers the Rust-implemented ones from it in one loop; the Rhai
//! stdlib checks its options against it (`check_options`); help and `doc_search` read it.
//!
//! Handlers for the functions that are more than one API call (wait for Running, retry a
//! delete, decode output) live here too. Composite flows are in `stdlib/*.rhai`.

use super::assistant;
use super::errors::HostError;
use super::options::{api, def, local, req, Checked, Default as D, Kind, Opt};
use super::paging::{self, get_path, Limits};
use super::security_groups;
use super::tags;
use super::wait::{self, object, NetKind};
use super::Host;
use crate::ops::{self, Product, ResourceKind};
use base64::Engine as _;
use serde_json::{json, Value};
use std::time::Duration;

/// How a function does its work.
#[derive(Clone, Copy)]
pub enum Handler {
    /// One API call of the function's action (every page when it pages), then `Post`.
    Api(Post),
    /// Rust code for functions that do more than one call.
    Custom(fn(&Host, &Checked) -> Result<Value, HostError>),
    /// Written in Rhai in `stdlib/`.
    Stdlib,
    /// Positional `(query [, product])`: doc_search and search_and_format.
    Search,
    /// Registered by the module that owns it (`call_api`, `warn`, `check_options` by the engine;
    /// `keep`, `ledger`, `scope` by the ledger); the row documents its positional parameters
    /// (its `options`, in order) for help, `check` and docs/functions.md.
    Builtin,
}

/// What an `Api` function returns from the response.
#[derive(Clone, Copy)]
pub enum Post {
    Whole,
    /// Adds `MemoryGB` to each recommended type.
    MemoryGb,
    /// One field of the response (an id).
    Field(&'static str),
    /// Adds `DecodedOutput` to each invocation result.
    DecodedOutput,
}

/// A rule between options, checked after their types.
pub type Rule = fn(&Checked) -> Result<(), HostError>;

pub struct HostFn {
    pub name: &'static str,
    /// Where the seed describes it (`"1. Spec Recommendation / Lookup"`), or `ecsh`.
    pub section: &'static str,
    pub action: Option<(Product, &'static str)>,
    pub doc: &'static str,
    pub options: &'static [Opt],
    /// Parameters always sent.
    pub fixed: &'static [(&'static str, &'static str)],
    /// Keys a policy refuses, with the reason.
    pub refused: &'static [(&'static str, &'static str)],
    /// Rules between options that the types alone cannot say.
    pub validate: Option<Rule>,
    /// Rhai return type, for signatures.
    pub returns: &'static str,
    pub result: &'static str,
    pub example: &'static str,
    pub handler: Handler,
}

impl HostFn {
    /// True when the function takes positional parameters (its `options`, in order) rather
    /// than one options map.
    pub fn positional(&self) -> bool {
        matches!(self.handler, Handler::Search | Handler::Builtin)
    }

    /// The positional parameters as signatures show them: `id: string`, `[params: map]`.
    pub fn positional_params(&self) -> Vec<String> {
        self.options
            .iter()
            .map(|o| {
                let p = format!("{}: {}", o.name, o.kind.name());
                if o.required {
                    p
                } else {
                    format!("[{p}]")
                }
            })
            .collect()
    }

    /// True when the function's action pages, so it takes `page_size` / `max_items`.
    pub fn paged(&self) -> bool {
        self.action().is_some_and(|a| a.paging != ops::Paging::None)
    }

    pub fn action(&self) -> Option<&'static ops::Action> {
        self.action.and_then(|(p, n)| ops::find(p, n))
    }

    /// The doc comment lines (`/// …`) shown by help and the metadata.
    pub fn doc_lines(&self) -> Vec<String> {
        let mut lines = vec![format!("/// {}", self.doc), "///".into()];
        if let Some((p, a)) = self.action {
            lines.push(format!("/// API: {p} {a}. Seed section: {}.", self.section));
        }
        for o in self.options {
            lines.push(format!("/// - {}", describe_option(o)));
        }
        if !self.positional() {
            lines
                .push("/// - region (string): region id; defaults to the session's region.".into());
        }
        if self.paged() {
            lines.push("/// - page_size (integer), max_items (integer): paging limits; every page is returned by default.".into());
        }
        lines.push(format!("/// Returns: {}", self.result));
        lines.push(format!("/// Example: {}", self.example));
        lines
    }
}

pub fn describe_option(o: &Opt) -> String {
    let mut s = format!("{} ({}", o.name, o.kind.name());
    if o.required {
        s.push_str(", required");
    }
    if let Some(d) = o.default {
        s.push_str(&format!(", default {}", d.show()));
    }
    s.push_str(&format!("): {}", o.doc));
    s
}

/// Looks a function up by name.
pub fn find(name: &str) -> Option<&'static HostFn> {
    TABLE.iter().find(|f| f.name == name)
}

/// One table row with no fixed parameters, refusals or rules (set those by struct update).
#[allow(clippy::too_many_arguments)]
const fn f(
    name: &'static str,
    section: &'static str,
    action: Option<(Product, &'static str)>,
    doc: &'static str,
    options: &'static [Opt],
    result: &'static str,
    example: &'static str,
    handler: Handler,
) -> HostFn {
    HostFn {
        name,
        section,
        action,
        doc,
        options,
        fixed: &[],
        refused: &[],
        validate: None,
        returns: "map",
        result,
        example,
        handler,
    }
}

const S1: &str = "1. Spec Recommendation / Lookup";
const S2: &str = "2. Inventory Check";
const S3: &str = "3. Price Quote and Cost Confirmation";
const S4: &str = "4. Network Preparation";
const S5: &str = "5. Security Group";
const S6: &str = "6. Image Lookup";
const S7: &str = "7. Create Instance";
const S8: &str = "8. Run Script";
const S9: &str = "9. Resource Cleanup";
const SD: &str = "Documentation Search";
const SX: &str = "ecsh";

const ECS: Product = Product::Ecs;
const VPC: Product = Product::Vpc;

const CHARGE: Opt = def(
    api(
        "instance_charge_type",
        Kind::Str,
        "InstanceChargeType",
        "PostPaid | PrePaid.",
    ),
    D::Str("PostPaid"),
);
const DISK_CATEGORY: Opt = def(
    api(
        "system_disk_category",
        Kind::Str,
        "SystemDisk.Category",
        "System disk type.",
    ),
    D::Str("cloud_essd"),
);
const DISK_SIZE: Opt = def(
    api(
        "system_disk_size",
        Kind::Int,
        "SystemDisk.Size",
        "System disk size (GB).",
    ),
    D::Int(40),
);
const BANDWIDTH: Opt = def(
    api(
        "internet_max_bandwidth_out",
        Kind::Int,
        "InternetMaxBandwidthOut",
        "Public bandwidth (Mbps); 0 = no public IP, >0 = allocate a public IP.",
    ),
    D::Int(0),
);
const AMOUNT: Opt = def(
    api("amount", Kind::Int, "Amount", "Number of instances."),
    D::Int(1),
);
const ZONE: Opt = api(
    "zone_id",
    Kind::Str,
    "ZoneId",
    "Restrict to a zone, e.g. \"cn-hangzhou-h\".",
);
const TIMEOUT: Opt = local("timeout", Kind::Int, "Time limit in seconds.");
const RETRY: Opt = def(
    local(
        "retry_seconds",
        Kind::Int,
        "Retry DependencyViolation (members still being released) for this long; 0 fails at once.",
    ),
    D::Int(120),
);
const COMMAND_OPTS: &[Opt] = &[
    req(local("instance_id", Kind::Str, "The instance to run on.")),
    local(
        "command_content",
        Kind::Str,
        "The script text (or give script_path).",
    ),
    local(
        "script_path",
        Kind::Str,
        "A local script file to send instead of command_content.",
    ),
    def(
        local(
            "command_type",
            Kind::Str,
            "RunShellScript | RunPowerShellScript | RunBatScript.",
        ),
        D::Str("RunShellScript"),
    ),
    def(
        local(
            "timeout",
            Kind::Int,
            "Seconds the command may run (killed after).",
        ),
        D::Int(600),
    ),
];
// --- Spot (issue 15) ---
const SPOT_STRATEGY: Opt = api(
    "spot_strategy",
    Kind::Str,
    "SpotStrategy",
    "NoSpot (default) | SpotAsPriceGo (the market price, at most pay-as-you-go) | SpotWithPriceLimit (at most spot_price_limit); PostPaid only.",
);
const SPOT_PRICE_LIMIT: Opt = api(
    "spot_price_limit",
    Kind::Float,
    "SpotPriceLimit",
    "With SpotWithPriceLimit: the most paid per instance-hour (the guard quotes it as the worst case).",
);
const SPOT_FALLBACK: Opt = def(
    local(
        "spot_fallback",
        Kind::Bool,
        "When spot is sold out (OperationDenied.NoStock), create it pay-as-you-go instead (quoted and asked again).",
    ),
    D::Bool(false),
);

/// `reuse_network`: whether an Available VPC/vswitch already in the zone may be reused.
const REUSE_NETWORK: Opt = def(
    local(
        "reuse_network",
        Kind::Bool,
        "Reuse an Available VPC and vswitch already in the zone (false: always create new ones).",
    ),
    D::Bool(true),
);

const NO_USER_DATA: (&str, &str) = (
    "user_data",
    "UserData is forbidden; create the instance first, then use run_command() or run_command_and_wait() so script execution is observable and retriable",
);
const NO_USER_DATA_API: (&str, &str) = ("UserData", NO_USER_DATA.1);

pub static TABLE: &[HostFn] = &[
    HostFn {
        fixed: &[("NetworkType", "vpc")],
        validate: Some(type_or_cores),
        ..f("describe_recommend_instance_type", S1, Some((ECS, "DescribeRecommendInstanceType")),
        "Recommends instance specs for a vCPU/memory requirement, sorted by inventory, price or newest products. Adds MemoryGB (Memory is in MB).",
        &[
            api("cores", Kind::Int, "Cores", "vCPU count (used together with memory)."),
            api("memory", Kind::Float, "Memory", "Memory in GiB (used together with cores)."),
            api("instance_type", Kind::Str, "InstanceType", "Find alternatives to this spec (exclusive with cores/memory)."),
            api("instance_family_level", Kind::Str, "InstanceFamilyLevel", "EntryLevel | EnterpriseLevel | CreditEntryLevel."),
            CHARGE,
            def(api("priority_strategy", Kind::Str, "PriorityStrategy", "InventoryFirst | PriceFirst | NewProductFirst."), D::Str("InventoryFirst")),
            ZONE,
            def(api("system_disk_category", Kind::Str, "SystemDiskCategory", "Disk type filter."), D::Str("cloud_essd")),
            api("max_price", Kind::Float, "MaxPrice", "Maximum hourly unit price (spot only)."),
            api("instance_type_family", Kind::StrList, "InstanceTypeFamily", "Restrict to families, e.g. [\"ecs.g7\", \"ecs.c7\"]."),
        ],
        "the API map; Data.RecommendInstanceType[] = #{InstanceType: #{InstanceType, Cores, Memory, MemoryGB, …}, ZoneId, Priority, …}",
        "let r = describe_recommend_instance_type(#{ cores: 2, memory: 4.0 }); print(r.Data.RecommendInstanceType[0].InstanceType.MemoryGB);",
        Handler::Api(Post::MemoryGb))
    },
    f("describe_instance_types", S1, Some((ECS, "DescribeInstanceTypes")),
        "Filters instance spec details by CPU, memory and GPU.",
        &[
            api("instance_type_family", Kind::Str, "InstanceTypeFamily", "Instance family, e.g. \"ecs.g7\"."),
            api("instance_types", Kind::StrList, "InstanceTypes", "Exact spec list, e.g. [\"ecs.g7.xlarge\"]."),
            api("min_cpu", Kind::Int, "MinimumCpuCoreCount", "Minimum vCPU."),
            api("max_cpu", Kind::Int, "MaximumCpuCoreCount", "Maximum vCPU."),
            api("min_memory", Kind::Float, "MinimumMemorySize", "Minimum memory (GB)."),
            api("max_memory", Kind::Float, "MaximumMemorySize", "Maximum memory (GB)."),
            api("gpu_amount", Kind::Int, "MinimumGPUAmount", "Minimum number of GPU cards, e.g. 1."),
        ],
        "the API map; InstanceTypes.InstanceType[] = #{InstanceTypeId, CpuCoreCount, MemorySize, GPUAmount, …}",
        "let t = describe_instance_types(#{ instance_types: [\"ecs.g7.large\"] }); print(t.InstanceTypes.InstanceType[0].MemorySize);",
        Handler::Api(Post::Whole)),
    f("describe_instance_type_families", S1, Some((ECS, "DescribeInstanceTypeFamilies")),
        "Lists instance families (e.g. ecs.g7 general-purpose, ecs.c7 compute-optimized).",
        &[api("generation", Kind::Str, "Generation", "Generation filter, e.g. \"ecs-6\".")],
        "the API map; InstanceTypeFamilies.InstanceTypeFamily[] = #{InstanceTypeFamilyId, Generation}",
        "describe_instance_type_families(#{ generation: \"ecs-6\" })",
        Handler::Api(Post::Whole)),
    f("describe_regions", S2, Some((ECS, "DescribeRegions")),
        "Returns the list of all available regions.",
        &[],
        "the API map; Regions.Region[] = #{RegionId, LocalName, RegionEndpoint, Status}",
        "for r in describe_regions().Regions.Region { print(r.RegionId); }",
        Handler::Api(Post::Whole)),
    f("describe_zones", S2, Some((ECS, "DescribeZones")),
        "Returns the list of all available zones in the region.",
        &[api("instance_charge_type", Kind::Str, "InstanceChargeType", "PostPaid | PrePaid.")],
        "the API map; Zones.Zone[] = #{ZoneId, LocalName, AvailableInstanceTypes, …}",
        "describe_zones(#{ region: \"cn-shanghai\" }).Zones.Zone.len()",
        Handler::Api(Post::Whole)),
    f("describe_available_resource", S2, Some((ECS, "DescribeAvailableResource")),
        "Queries purchasable resources (specs, disk types) in zones. After picking a spec, call this to confirm inventory.",
        &[
            def(api("destination_resource", Kind::Str, "DestinationResource", "InstanceType | SystemDisk | DataDisk | Network."), D::Str("InstanceType")),
            ZONE,
            api("instance_type", Kind::Str, "InstanceType", "Filter a specific spec."),
            CHARGE,
            def(api("io_optimized", Kind::Str, "IoOptimized", "optimized | none."), D::Str("optimized")),
            api("spot_strategy", Kind::Str, "SpotStrategy", "NoSpot | SpotAsPriceGo | SpotWithPriceLimit: the stock of that kind of capacity."),
        ],
        "the API map; AvailableZones.AvailableZone[] = #{ZoneId, Status, StatusCategory, AvailableResources.AvailableResource[].SupportedResources.SupportedResource[] = #{Value, Status, StatusCategory}}",
        "describe_available_resource(#{ instance_type: \"ecs.g7.large\" }).AvailableZones.AvailableZone",
        Handler::Api(Post::Whole)),
    HostFn {
        validate: Some(price_unit_matches_charge),
        ..f("describe_price", S3, Some((ECS, "DescribePrice")),
        "Queries the real-time price of an instance configuration. Call before creating an instance; show the cost and get confirmation.",
        &[
            req(api("instance_type", Kind::Str, "InstanceType", "The spec to quote, e.g. \"ecs.g7.2xlarge\".")),
            def(api("period", Kind::Int, "Period", "Billing period (in price_unit)."), D::Int(1)),
            def(api("price_unit", Kind::Str, "PriceUnit", "Hour | Week | Month | Year."), D::Str("Hour")),
            def(local("instance_charge_type", Kind::Str, "PostPaid (quoted per Hour) | PrePaid (per Week/Month/Year)."), D::Str("PostPaid")),
            DISK_CATEGORY,
            DISK_SIZE,
            BANDWIDTH,
            AMOUNT,
            api("zone_id", Kind::Str, "ZoneId", "Zone to quote in."),
            api("spot_strategy", Kind::Str, "SpotStrategy", "SpotAsPriceGo | SpotWithPriceLimit: quote the spot price (PostPaid only)."),
        ],
        "the API map; PriceInfo.Price = #{TradePrice, OriginalPrice, DiscountPrice, Currency}",
        "let p = describe_price(#{ instance_type: \"ecs.g7.large\", period: 1 }); print(p.PriceInfo.Price.TradePrice);",
        Handler::Api(Post::Whole))
    },
    f("ensure_vpc_and_vswitch", S4, None,
        "Returns a VPC and a vswitch in the zone: reuses an Available pair that is already there, or creates a new VPC and vswitch and waits until both are Available.",
        &[
            req(local("zone_id", Kind::Str, "The zone the vswitch must be in.")),
            def(local("vpc_cidr", Kind::Str, "CIDR of a new VPC."), D::Str("172.16.0.0/12")),
            def(local("vswitch_cidr", Kind::Str, "CIDR of a new vswitch (inside vpc_cidr)."), D::Str("172.16.0.0/24")),
            def(local("vpc_name", Kind::Str, "Name of a new VPC."), D::Str("ecsh-vpc")),
            def(local("vswitch_name", Kind::Str, "Name of a new vswitch."), D::Str("ecsh-vsw")),
            REUSE_NETWORK,
        ],
        "#{vpc_id, vswitch_id, zone_id, region, vpc_is_new, vswitch_is_new}",
        "let net = ensure_vpc_and_vswitch(#{ region: \"ap-southeast-1\", zone_id: \"ap-southeast-1a\" });",
        Handler::Stdlib),
    HostFn {
        returns: "string",
        ..f("setup_security_group", S5, None,
        "Creates a security group, opens the inbound ports given (only what the application needs), and applies a full-egress rule. Returns the security group id.",
        &[
            req(local("vpc_id", Kind::Str, "The VPC of the group.")),
            def(local("sg_name", Kind::Str, "Group name."), D::Str("ecsh-sg")),
            local("ingress_rules", Kind::MapList, "Rules #{port_range (required, \"80/80\"), source_cidr_ip (default 0.0.0.0/0), ip_protocol (default tcp)}; () or [] for none."),
        ],
        "the security group id (string)",
        "let sg = setup_security_group(#{ vpc_id: net.vpc_id, ingress_rules: [#{ port_range: \"80/80\" }] });",
        Handler::Stdlib)
    },
    HostFn {
        returns: "string",
        ..f("create_security_group", S5, Some((ECS, "CreateSecurityGroup")),
        "Creates a security group in a VPC. Returns its id.",
        &[
            req(api("vpc_id", Kind::Str, "VpcId", "The VPC of the group.")),
            def(api("sg_name", Kind::Str, "SecurityGroupName", "Group name."), D::Str("ecsh-sg")),
            api("description", Kind::Str, "Description", "Description."),
        ],
        "the security group id (string)",
        "let sg = create_security_group(#{ vpc_id: \"vpc-xxx\" });",
        Handler::Api(Post::Field("SecurityGroupId")))
    },
    f("authorize_security_group", S5, Some((ECS, "AuthorizeSecurityGroup")),
        "Adds an inbound rule to a security group.",
        &[
            req(api("sg_id", Kind::Str, "SecurityGroupId", "The security group.")),
            def(api("ip_protocol", Kind::Str, "Permissions.1.IpProtocol", "tcp | udp | icmp | all."), D::Str("tcp")),
            req(api("port_range", Kind::Str, "Permissions.1.PortRange", "Ports, e.g. \"80/80\"; -1/-1 for all.")),
            def(api("source_cidr_ip", Kind::Str, "Permissions.1.SourceCidrIp", "Who may connect; restrict SSH to your own IP (\"1.2.3.4/32\")."), D::Str("0.0.0.0/0")),
            api("allow_public_admin", Kind::Bool, "Permissions.1.allow_public_admin", "true to open SSH (22) or RDP (3389) to 0.0.0.0/0 on purpose; otherwise ecsh refuses it. Never sent to the API."),
        ],
        "the API map (RequestId)",
        "authorize_security_group(#{ sg_id: sg, port_range: \"443/443\" });",
        Handler::Api(Post::Whole)),
    f("authorize_security_group_egress", S5, Some((ECS, "AuthorizeSecurityGroupEgress")),
        "Adds an outbound rule to a security group (default: everything to everywhere).",
        &[
            req(api("sg_id", Kind::Str, "SecurityGroupId", "The security group.")),
            def(api("ip_protocol", Kind::Str, "Permissions.1.IpProtocol", "tcp | udp | icmp | all."), D::Str("all")),
            def(api("port_range", Kind::Str, "Permissions.1.PortRange", "Ports, e.g. \"443/443\"; -1/-1 for all."), D::Str("-1/-1")),
            def(api("dest_cidr_ip", Kind::Str, "Permissions.1.DestCidrIp", "Destination."), D::Str("0.0.0.0/0")),
        ],
        "the API map (RequestId)",
        "authorize_security_group_egress(#{ sg_id: sg });",
        Handler::Api(Post::Whole)),
    f("describe_images", S6, Some((ECS, "DescribeImages")),
        "Looks up images. Prefer image_family: it returns the latest image of that family.",
        &[
            api("image_name", Kind::Str, "ImageName", "Exact image name."),
            api("os_type", Kind::Str, "OSType", "linux | windows."),
            api("image_family", Kind::Str, "ImageFamily", "e.g. \"acs:ubuntu_24_04_x64\"."),
            api("instance_type", Kind::Str, "InstanceType", "Only images compatible with this spec."),
            api("image_owner_alias", Kind::Str, "ImageOwnerAlias", "system | self | others | marketplace."),
        ],
        "the API map; Images.Image[] = #{ImageId, ImageName, OSName, …}",
        "let img = describe_images(#{ image_family: \"acs:ubuntu_24_04_x64\" }).Images.Image[0].ImageId;",
        Handler::Api(Post::Whole)),
    f("find_available_instance_type", S7, None,
        "Searches regions and zones for an instance type with stock (a given one, or the ones recommended for cores/memory) and returns it with its hourly price. Call before the cost confirmation.",
        &[
            local("cores", Kind::Int, "vCPU count."),
            local("memory", Kind::Float, "Memory in GiB."),
            local("regions", Kind::StrList, "Regions to search, in order of preference; default: the session's region."),
            local("instance_type", Kind::Str, "Check this spec only."),
            CHARGE,
            DISK_CATEGORY,
            local("spot_strategy", Kind::Str, "SpotAsPriceGo | SpotWithPriceLimit: look for spot stock and quote the spot price (default: pay-as-you-go)."),
            def(local("spot_fallback", Kind::Bool, "With spot_strategy: when no zone has spot stock, look for pay-as-you-go stock instead."), D::Bool(false)),
        ],
        "#{instance_type, region, zone_id, cores, memory, price_per_hour, currency, spot_strategy (NoSpot, or the spot strategy whose stock and price these are)}",
        "let spec = find_available_instance_type(#{ cores: 2, memory: 4, regions: [\"cn-hangzhou\", \"cn-shanghai\"] });",
        Handler::Stdlib),
    HostFn {
        refused: &[NO_USER_DATA, NO_USER_DATA_API,
            ("image_id", "the image is chosen internally; use image_family to select the OS"),
            ("ImageId", "the image is chosen internally; use image_family to select the OS")],
        validate: Some(super::spot::options_agree),
        ..f("create_instance_with_infra", S7, None,
        "Finds the image and the network to reuse (if any), quotes the instance and asks for the approval before creating anything (the block names a reused VPC/vswitch), then creates (or reuses) the VPC and vswitch, a security group and the instance, and waits until it is Running. A refusal sends no creating call. On failure it releases what it created for the instance.",
        &[
            req(local("instance_type", Kind::Str, "The spec, from find_available_instance_type.")),
            req(local("zone_id", Kind::Str, "The zone, from find_available_instance_type.")),
            def(local("image_family", Kind::Str, "The OS image family."), D::Str("acs:alibaba_cloud_linux_3_2104_lts_x64")),
            BANDWIDTH,
            local("instance_name", Kind::Str, "Instance name."),
            DISK_CATEGORY,
            DISK_SIZE,
            def(local("sg_name", Kind::Str, "Security group name."), D::Str("ecsh-sg")),
            local("ingress_rules", Kind::MapList, "Inbound rules, as for setup_security_group; none by default."),
            local("estimated_runtime", Kind::Str, "How long it will run, for the cost estimate (\"5m\", \"2h\")."),
            local("task_type", Kind::Str, "shell | data_processing | training | service: the estimated runtime by the seed's table."),
            REUSE_NETWORK,
            SPOT_STRATEGY,
            SPOT_PRICE_LIMIT,
            SPOT_FALLBACK,
        ],
        "#{instance_id, region, zone_id, instance_type, vpc_id, vswitch_id, security_group_id, image_id, vpc_is_new, vswitch_is_new, spot_strategy (what ran: NoSpot after a fallback)}",
        "let infra = create_instance_with_infra(#{ instance_type: spec.instance_type, zone_id: spec.zone_id, region: spec.region });",
        Handler::Stdlib)
    },
    HostFn {
        refused: &[NO_USER_DATA, NO_USER_DATA_API],
        validate: Some(super::spot::options_agree),
        ..f("run_instances", S7, Some((ECS, "RunInstances")),
        "Creates instances and waits until they are Running (low level: needs a vswitch, a security group and an image). UserData is refused.",
        &[
            req(api("instance_type", Kind::Str, "InstanceType", "The spec.")),
            req(api("vswitch_id", Kind::Str, "VSwitchId", "The vswitch (its zone is the instance's zone).")),
            req(api("security_group_id", Kind::Str, "SecurityGroupId", "The security group (same VPC as the vswitch).")),
            api("image_id", Kind::Str, "ImageId", "The image (or give image_family)."),
            api("image_family", Kind::Str, "ImageFamily", "Use the latest image of this family instead of image_id."),
            api("instance_name", Kind::Str, "InstanceName", "Instance name."),
            DISK_CATEGORY,
            DISK_SIZE,
            BANDWIDTH,
            CHARGE,
            AMOUNT,
            api("zone_id", Kind::Str, "ZoneId", "Zone (must match the vswitch's)."),
            api("estimated_runtime", Kind::Str, "estimated_runtime", "How long it will run, for the cost estimate (\"90s\", \"5m\", \"2h\", \"1d\"); never sent to the API."),
            api("task_type", Kind::Str, "task_type", "shell | data_processing | training | service: the estimated runtime by the seed's table; never sent to the API."),
            local("extra_params", Kind::Map, "Any other RunInstances parameters by API name (except UserData)."),
            TIMEOUT,
            SPOT_STRATEGY,
            SPOT_PRICE_LIMIT,
            SPOT_FALLBACK,
        ],
        "the API map; InstanceIdSets.InstanceIdSet[] = [\"i-…\"] (all Running); SpotFallback: true when spot was sold out and it ran pay-as-you-go",
        "let r = run_instances(#{ instance_type: \"ecs.g7.large\", vswitch_id: vsw, security_group_id: sg, image_id: img });",
        Handler::Custom(run_instances))
    },
    f("describe_instances", S7, Some((ECS, "DescribeInstances")),
        "Queries instances.",
        &[
            api("instance_ids", Kind::StrList, "InstanceIds", "Instance ids."),
            api("instance_name", Kind::Str, "InstanceName", "Instance name."),
            api("status", Kind::Str, "Status", "Pending | Starting | Running | Stopping | Stopped."),
        ],
        "the API map; Instances.Instance[] = #{InstanceId, Status, InstanceType, ZoneId, …}",
        "for i in describe_instances(#{ status: \"Running\" }).Instances.Instance { print(i.InstanceId); }",
        Handler::Api(Post::Whole)),
    HostFn {
        validate: Some(no_stray_cleanup_ids),
        ..f("run_command_and_cleanup", S8, None,
        "For one-shot tasks: runs the script, collects the output, then releases the instance and security group, and the vswitch and VPC only if they were newly created. Cleanup errors are reported (Cleanup.errors) but do not raise.",
        &[
            req(local("instance_id", Kind::Str, "The instance to run on.")),
            local("command_content", Kind::Str, "The script text (or give script_path)."),
            local("script_path", Kind::Str, "A local script file to send instead of command_content."),
            def(local("command_type", Kind::Str, "RunShellScript | RunPowerShellScript | RunBatScript."), D::Str("RunShellScript")),
            def(local("timeout", Kind::Int, "Seconds the command may run."), D::Int(600)),
            local("infra", Kind::Map, "The map create_instance_with_infra returned; decides the cleanup scope."),
            local("security_group_id", Kind::Str, "Without infra: a security group to delete."),
            local("vswitch_id", Kind::Str, "Without infra: a vswitch to delete."),
            local("vpc_id", Kind::Str, "Without infra: a VPC to delete."),
        ],
        "#{ExitCode, DecodedOutput, Output, InvocationStatus, ErrorInfo, …, Cleanup: #{released: [..], retained: [..], errors: [..]}}",
        "let out = run_command_and_cleanup(#{ instance_id: infra.instance_id, command_content: \"echo hello\", infra: infra });",
        Handler::Stdlib)
    },
    HostFn {
        validate: Some(content_or_path),
        ..f("run_command_and_wait", S8, None,
        "For long-running services: runs the script and returns its output without releasing the instance.",
        COMMAND_OPTS,
        "#{ExitCode, Output (Base64), DecodedOutput, ErrorInfo, InvocationStatus, …}",
        "let r = run_command_and_wait(#{ instance_id: id, command_content: \"systemctl status nginx\" });",
        Handler::Stdlib)
    },
    HostFn {
        validate: Some(content_or_path),
        returns: "string",
        ..f("run_command", S8, Some((ECS, "RunCommand")),
        "Starts a script on an instance through Cloud Assistant and returns the invoke id (asynchronous; see describe_invocations).",
        COMMAND_OPTS,
        "the invoke id (string)",
        "let invoke = run_command(#{ instance_id: id, command_content: \"uptime\" });",
        Handler::Custom(run_command))
    },
    f("describe_invocations", S8, Some((ECS, "DescribeInvocations")),
        "Queries the execution status of command invocations.",
        &[
            api("invoke_id", Kind::Str, "InvokeId", "The invoke id from run_command."),
            api("instance_id", Kind::Str, "InstanceId", "Only invocations on this instance."),
        ],
        "the API map; Invocations.Invocation[] = #{InvokeId, InvocationStatus, InvokeInstances, …}",
        "describe_invocations(#{ invoke_id: invoke }).Invocations.Invocation[0].InvocationStatus",
        Handler::Api(Post::Whole)),
    f("describe_invocation_results", S8, Some((ECS, "DescribeInvocationResults")),
        "Retrieves the per-instance output of an invocation (adds DecodedOutput).",
        &[
            api("invoke_id", Kind::Str, "InvokeId", "The invoke id from run_command."),
            api("instance_id", Kind::Str, "InstanceId", "Only this instance's result."),
        ],
        "the API map; Invocation.InvocationResults.InvocationResult[] = #{InstanceId, InvocationStatus, ExitCode, Output, DecodedOutput, …}",
        "describe_invocation_results(#{ invoke_id: invoke }).Invocation.InvocationResults.InvocationResult[0].DecodedOutput",
        Handler::Api(Post::DecodedOutput)),
    f("delete_instances", S9, Some((ECS, "DeleteInstances")),
        "Releases instances, retrying while they are still initializing; by default waits until they are gone.",
        &[
            req(api("instance_ids", Kind::StrList, "InstanceId", "Instance ids.")),
            def(api("force", Kind::Bool, "Force", "Release Running instances too."), D::Bool(false)),
            def(local("wait", Kind::Bool, "Wait until the release completed."), D::Bool(true)),
            TIMEOUT,
        ],
        "the API map (RequestId)",
        "delete_instances(#{ instance_ids: [\"i-xxx\"], force: true });",
        Handler::Custom(delete_instances)),
    f("delete_security_group", S9, Some((ECS, "DeleteSecurityGroup")),
        "Deletes a security group, retrying while just-released instances still hold it.",
        &[req(api("security_group_id", Kind::Str, "SecurityGroupId", "The security group.")), RETRY],
        "the API map (RequestId)",
        "delete_security_group(#{ security_group_id: \"sg-xxx\" });",
        Handler::Custom(delete_security_group)),
    f("delete_vswitch", S9, Some((VPC, "DeleteVSwitch")),
        "Deletes an empty vswitch; by default waits until it is gone.",
        &[
            req(api("vswitch_id", Kind::Str, "VSwitchId", "The vswitch.")),
            def(local("wait", Kind::Bool, "Wait until the deletion completed."), D::Bool(true)),
            TIMEOUT,
            RETRY,
        ],
        "the API map (RequestId)",
        "delete_vswitch(#{ vswitch_id: \"vsw-xxx\" });",
        Handler::Custom(delete_vswitch)),
    f("delete_vpc", S9, Some((VPC, "DeleteVpc")),
        "Deletes an empty VPC (no vswitches or security groups left); by default waits until it is gone.",
        &[
            req(api("vpc_id", Kind::Str, "VpcId", "The VPC.")),
            def(local("wait", Kind::Bool, "Wait until the deletion completed."), D::Bool(true)),
            TIMEOUT,
            RETRY,
        ],
        "the API map (RequestId)",
        "delete_vpc(#{ vpc_id: \"vpc-xxx\" });",
        Handler::Custom(delete_vpc)),
    HostFn {
        returns: "string",
        ..f("search_and_format", SD, None,
        "Searches the offline documentation (functions, API actions, error codes) and returns the hits as text: title, summary, link.",
        &[
            req(local("query", Kind::Str, "Keywords, an action name or an error code.")),
            local("product", Kind::Str, "ecs | vpc | ecsh (functions)."),
        ],
        "text: numbered hits with title, summary and link",
        "print(search_and_format(\"OperationDenied.NoStock\", \"ecs\"));",
        Handler::Search)
    },
    HostFn {
        returns: "array",
        ..f("doc_search", SD, None,
        "Searches the offline documentation (functions, API actions, error codes), best match first.",
        &[
            req(local("query", Kind::Str, "Keywords, an action name or an error code.")),
            local("product", Kind::Str, "ecs | vpc | ecsh (functions)."),
        ],
        "[#{title, kind, product, summary, link}]",
        "for hit in doc_search(\"RunInstances parameter\") { print(hit.title); }",
        Handler::Search)
    },
    HostFn { returns: "array", ..f("wait_instances", SX, None,
        "Waits until instances reach a status (adaptive polling); fails fast on a status that cannot lead there.",
        &[
            req(local("instance_ids", Kind::StrList, "Instance ids.")),
            def(local("status", Kind::Str, "The status to wait for."), D::Str("Running")),
            TIMEOUT,
        ],
        "the instances (array of maps, as in DescribeInstances)",
        "wait_instances(#{ instance_ids: [id], status: \"Running\" });",
        Handler::Custom(wait_instances)) },
    HostFn { returns: "()", ..f("wait_cloud_assistant", SX, None,
        "Waits until the Cloud Assistant agent is online on instances (it comes up a little after Running; run_command_and_wait does this itself).",
        &[req(local("instance_ids", Kind::StrList, "Instance ids.")), TIMEOUT],
        "() once every agent is online",
        "wait_cloud_assistant(#{ instance_ids: [id] });",
        Handler::Custom(wait_cloud_assistant)) },
    f("wait_vpc", SX, None,
        "Waits until a VPC is Available.",
        &[req(local("vpc_id", Kind::Str, "The VPC.")), TIMEOUT],
        "the VPC (map, as in DescribeVpcs)",
        "wait_vpc(#{ vpc_id: vpc });",
        Handler::Custom(wait_vpc)),
    f("wait_vswitch", SX, None,
        "Waits until a vswitch is Available.",
        &[req(local("vswitch_id", Kind::Str, "The vswitch.")), TIMEOUT],
        "the vswitch (map, as in DescribeVSwitches)",
        "wait_vswitch(#{ vswitch_id: vsw });",
        Handler::Custom(wait_vswitch)),
    f("wait_invocation", SX, None,
        "Waits until a command invocation finished on an instance and returns its result with DecodedOutput. A non-zero exit (Failed) is a result; Aborted, Invalid, Timeout and similar raise UnexpectedState.",
        &[
            req(local("invoke_id", Kind::Str, "The invoke id from run_command.")),
            req(local("instance_id", Kind::Str, "The instance.")),
            TIMEOUT,
        ],
        "#{InstanceId, InvocationStatus, ExitCode, Output, DecodedOutput, ErrorCode, ErrorInfo, …}",
        "let r = wait_invocation(#{ invoke_id: invoke, instance_id: id });",
        Handler::Custom(wait_invocation)),
    HostFn { returns: "map", ..f("call_api", SX, None,
        "Calls any ECS or VPC API action directly, through the same guard and ledger as every function. Parameters use the API's names; arrays and maps are flattened as the API expects (Tag.1.Key); RegionId defaults to the session's region.",
        &[
            req(local("product", Kind::Str, "ecs or vpc.")),
            req(local("action", Kind::Str, "The API action, e.g. DescribeInstances.")),
            local("params", Kind::Map, "The action's parameters, by their API names."),
        ],
        "the API's JSON answer as a map",
        "call_api(\"ecs\", \"DescribeInstances\", #{ InstanceIds: [\"i-1\"] })",
        Handler::Builtin) },
    HostFn { returns: "array", ..f("keep", SX, None,
        "Keeps a resource this run created (and what depends on it) when the run ends, instead of releasing it: for a long-running service. Keeping costs money, so the guard quotes it hourly and asks (under --max-cost give #{ \"for\": \"24h\" }); the instances' AutoReleaseTime lease becomes the kept duration, or is cleared without one.",
        &[req(local("id", Kind::Str, "The id of a resource the run created.")),
          local("options", Kind::Map, "#{ \"for\": \"24h\" }: how long it is kept running (counted against --max-cost; sets the lease).")],
        "the ids kept (array of strings)",
        "keep(infra.instance_id, #{ \"for\": \"24h\" });",
        Handler::Builtin) },
    HostFn { returns: "array", ..f("release", SX, None,
        "Releases now a resource this run created or kept (and what depends on it), in dependency order, verified; `ecsh release ID` does the same after the run.",
        &[req(local("id", Kind::Str, "The id of a resource the run created."))],
        "the ids released (array of strings)",
        "release(disk_id);",
        Handler::Builtin) },
    HostFn { returns: "()", ..f("preapprove_run_instances", SX, None,
        "Quotes a run_instances call and asks for its approval now, before anything is created; `network` is shown in the cost block. The next run_instances with the same priced options is then admitted without asking again (create_instance_with_infra uses it so that a \"no\" sends no creating call). It can only ask earlier, never approve.",
        &[req(local("opts", Kind::Map, "The run_instances options to quote.")),
          req(local("network", Kind::Str, "What the cost block says about the network (reused or new)."))],
        "()",
        "preapprove_run_instances(#{ instance_type: \"ecs.g7.large\", zone_id: \"cn-hangzhou-k\" }, \"new VPC and vswitch\");",
        Handler::Builtin) },
    HostFn { returns: "array", ..f("ledger", SX, None,
        "What this run created so far, in creation order, and whether each is held, kept or released.",
        &[],
        "[#{id, kind, region, action, scope, status}]",
        "for r in ledger() { print(`${r.kind} ${r.id} ${r.status}`); }",
        Handler::Builtin) },
    HostFn { returns: "?", ..f("scope", SX, None,
        "Runs a block and releases what it created when the block ends: normally, by an error, or by Ctrl-C.",
        &[req(local("body", Kind::Closure, "The block, as a closure: || { … }."))],
        "the block's value",
        "scope(|| { let vpc = create_vpc(#{ cidr_block: \"10.0.0.0/8\" }); print(vpc); });",
        Handler::Builtin) },
    HostFn { returns: "()", ..f("warn", SX, None,
        "Writes a warning to the session's diagnostics (stderr), not to the script's output.",
        &[req(local("message", Kind::Str, "The warning."))],
        "()",
        "warn(\"no stock in cn-hangzhou-k, trying the next zone\");",
        Handler::Builtin) },
    HostFn { returns: "map", ..f("check_options", SX, None,
        "Checks an options map against a function's declared options (as the Rust functions do) and returns every option with its default filled in (() when not given). The stdlib uses it.",
        &[
            req(local("func", Kind::Str, "The function whose options these are.")),
            req(local("opts", Kind::Map, "The options map.")),
        ],
        "the options with defaults filled in (map)",
        "let o = check_options(\"create_vpc\", #{ cidr_block: \"10.0.0.0/8\" });",
        Handler::Builtin) },
    // --- Security groups (issue 15) ---
    HostFn {
        validate: Some(security_groups::rule_ids_or_fields),
        ..f("revoke_security_group", S5, Some((ECS, "RevokeSecurityGroup")),
        "Removes inbound rules from a security group: the rules given by id, or the one rule with these fields.",
        &[
            req(api("security_group_id", Kind::Str, "SecurityGroupId", "The security group.")),
            api("security_group_rule_ids", Kind::StrList, "SecurityGroupRuleId", "Rule ids (SecurityGroupRuleId, from DescribeSecurityGroupAttribute)."),
            api("ip_protocol", Kind::Str, "Permissions.1.IpProtocol", "tcp | udp | icmp | all (with port_range: the rule by its fields)."),
            api("port_range", Kind::Str, "Permissions.1.PortRange", "Ports, e.g. \"80/80\"."),
            api("source_cidr_ip", Kind::Str, "Permissions.1.SourceCidrIp", "The rule's source."),
            api("policy", Kind::Str, "Permissions.1.Policy", "accept | drop (the rule's policy; default accept)."),
        ],
        "the API map (RequestId)",
        "revoke_security_group(#{ security_group_id: sg, ip_protocol: \"tcp\", port_range: \"80/80\", source_cidr_ip: \"0.0.0.0/0\" });",
        Handler::Api(Post::Whole))
    },
    HostFn {
        validate: Some(security_groups::rule_ids_or_fields),
        ..f("revoke_security_group_egress", S5, Some((ECS, "RevokeSecurityGroupEgress")),
        "Removes outbound rules from a security group: the rules given by id, or the one rule with these fields.",
        &[
            req(api("security_group_id", Kind::Str, "SecurityGroupId", "The security group.")),
            api("security_group_rule_ids", Kind::StrList, "SecurityGroupRuleId", "Rule ids (SecurityGroupRuleId, from DescribeSecurityGroupAttribute)."),
            api("ip_protocol", Kind::Str, "Permissions.1.IpProtocol", "tcp | udp | icmp | all (with port_range: the rule by its fields)."),
            api("port_range", Kind::Str, "Permissions.1.PortRange", "Ports, e.g. \"443/443\"; -1/-1 for all."),
            api("dest_cidr_ip", Kind::Str, "Permissions.1.DestCidrIp", "The rule's destination."),
            api("policy", Kind::Str, "Permissions.1.Policy", "accept | drop (the rule's policy; default accept)."),
        ],
        "the API map (RequestId)",
        "revoke_security_group_egress(#{ security_group_id: sg, ip_protocol: \"all\", port_range: \"-1/-1\", dest_cidr_ip: \"0.0.0.0/0\" });",
        Handler::Api(Post::Whole))
    },
    HostFn {
        validate: Some(security_groups::rule_id_or_identity),
        ..f("modify_security_group_rule", S5, Some((ECS, "ModifySecurityGroupRule")),
        "Changes an inbound rule in place. By security_group_rule_id, every field given changes and the rest stay; the public-port policy judges the rule as it will be (a change that opens 22, 3389 or a database port to 0.0.0.0/0 is refused like a new rule).",
        &[
            req(api("security_group_id", Kind::Str, "SecurityGroupId", "The security group.")),
            api("security_group_rule_id", Kind::Str, "SecurityGroupRuleId", "The rule (from DescribeSecurityGroupAttribute)."),
            api("ip_protocol", Kind::Str, "IpProtocol", "tcp | udp | icmp | all."),
            api("port_range", Kind::Str, "PortRange", "Ports, e.g. \"8080/8080\"."),
            api("source_cidr_ip", Kind::Str, "SourceCidrIp", "Who may connect, e.g. \"203.0.113.5/32\"."),
            api("source_group_id", Kind::Str, "SourceGroupId", "A security group whose members may connect (instead of source_cidr_ip)."),
            api("policy", Kind::Str, "Policy", "accept | drop."),
            api("priority", Kind::Int, "Priority", "1 (first) to 100."),
            api("description", Kind::Str, "Description", "The rule's description."),
            api("allow_public_admin", Kind::Bool, "allow_public_admin", "true to open SSH (22) or RDP (3389) to 0.0.0.0/0 on purpose; otherwise ecsh refuses it. Never sent to the API."),
        ],
        "the API map (RequestId)",
        "modify_security_group_rule(#{ security_group_id: sg, security_group_rule_id: rule, source_cidr_ip: \"198.51.100.7/32\" });",
        Handler::Api(Post::Whole))
    },
    f("describe_security_groups", S5, Some((ECS, "DescribeSecurityGroups")),
        "Lists security groups (without their rules: see DescribeSecurityGroupAttribute through call_api), with EcsCount, the instances in each.",
        &[
            api("vpc_id", Kind::Str, "VpcId", "Only groups of this VPC."),
            api("security_group_ids", Kind::StrList, "SecurityGroupIds", "Only these groups (up to 100)."),
            api("security_group_id", Kind::Str, "SecurityGroupId", "Only this group."),
            api("security_group_name", Kind::Str, "SecurityGroupName", "Only groups with this name."),
            api("security_group_type", Kind::Str, "SecurityGroupType", "normal | enterprise."),
        ],
        "the API map; SecurityGroups.SecurityGroup[] = #{SecurityGroupId, SecurityGroupName, VpcId, EcsCount, RuleCount, Tags, …}",
        "for g in describe_security_groups(#{ vpc_id: net.vpc_id }).SecurityGroups.SecurityGroup { print(`${g.SecurityGroupId} ${g.EcsCount}`); }",
        Handler::Api(Post::Whole)),
    f("join_security_group", S5, Some((ECS, "JoinSecurityGroup")),
        "Adds a Stopped or Running instance to one more security group of its VPC (at most 5 per instance).",
        &[
            req(api("security_group_id", Kind::Str, "SecurityGroupId", "The group to join.")),
            req(api("instance_id", Kind::Str, "InstanceId", "The instance.")),
        ],
        "the API map (RequestId)",
        "join_security_group(#{ security_group_id: monitoring_sg, instance_id: infra.instance_id });",
        Handler::Api(Post::Whole)),
    f("leave_security_group", S5, Some((ECS, "LeaveSecurityGroup")),
        "Removes an instance from a security group. An instance keeps at least one group: leaving its last one fails with InstanceLastSecurityGroup (join another first).",
        &[
            req(api("security_group_id", Kind::Str, "SecurityGroupId", "The group to leave.")),
            req(api("instance_id", Kind::Str, "InstanceId", "The instance.")),
        ],
        "the API map (RequestId)",
        "leave_security_group(#{ security_group_id: monitoring_sg, instance_id: infra.instance_id });",
        Handler::Api(Post::Whole)),
    // --- Cloud Assistant (issue 15) ---
    HostFn {
        validate: Some(assistant::path_or_content),
        ..f("send_file", S8, Some((ECS, "SendFile")),
        "Sends a file to an instance through Cloud Assistant (at most 32 KB once Base64-encoded, checked before sending) and, by default, waits until it is delivered. A file already there is kept unless overwrite: true (the delivery then fails with FileAlreadyExists). On the simulator the file is recorded; with --sim-exec local it is also written, inside the instance's scratch folder only.",
        &[
            req(local("instance_id", Kind::Str, "The instance (Running, agent online).")),
            local("local_path", Kind::Str, "A file on this machine to send (or give content)."),
            local("content", Kind::Str, "The file's text (or give local_path)."),
            local("name", Kind::Str, "The file name on the instance; default: local_path's name (required with content)."),
            req(api("target_dir", Kind::Str, "TargetDir", "The folder on the instance, absolute (created if missing), e.g. \"/etc/myapp\".")),
            def(api("file_mode", Kind::Str, "FileMode", "Permissions as chmod takes them."), D::Str("0644")),
            def(api("file_owner", Kind::Str, "FileOwner", "The file's owner (Linux)."), D::Str("root")),
            def(api("file_group", Kind::Str, "FileGroup", "The file's group (Linux)."), D::Str("root")),
            def(api("overwrite", Kind::Bool, "Overwrite", "Replace a file of the same name."), D::Bool(false)),
            api("description", Kind::Str, "Description", "Description."),
            def(local("wait", Kind::Bool, "Wait until the file is delivered (a failed delivery raises UnexpectedState)."), D::Bool(true)),
            TIMEOUT,
        ],
        "#{InvokeId, InstanceId, Name, TargetDir, InvocationStatus (Success), ErrorCode, ErrorInfo}; with wait: false #{InvokeId, InstanceId, Name}",
        "send_file(#{ instance_id: infra.instance_id, local_path: \"nginx.conf\", target_dir: \"/etc/nginx\", overwrite: true });",
        Handler::Custom(assistant::send_file))
    },
    HostFn {
        returns: "string",
        ..f("create_command", S8, Some((ECS, "CreateCommand")),
        "Saves a Cloud Assistant command to invoke later (invoke_command). The run deletes it when it ends, like everything it created.",
        &[
            req(api("name", Kind::Str, "Name", "The command's name.")),
            req(local("command_content", Kind::Str, "The script text (sent Base64-encoded); {{name}} placeholders with enable_parameter.")),
            def(api("command_type", Kind::Str, "Type", "RunShellScript | RunPowerShellScript | RunBatScript."), D::Str("RunShellScript")),
            api("description", Kind::Str, "Description", "Description."),
            def(api("timeout", Kind::Int, "Timeout", "Seconds an invocation may run."), D::Int(60)),
            api("working_dir", Kind::Str, "WorkingDir", "The folder it runs in."),
            def(api("enable_parameter", Kind::Bool, "EnableParameter", "Fill {{name}} placeholders from invoke_command's parameters."), D::Bool(false)),
        ],
        "the command id (string, c-…)",
        "let cmd = create_command(#{ name: \"disk-usage\", command_content: \"df -h {{path}}\", enable_parameter: true });",
        Handler::Custom(assistant::create_command))
    },
    HostFn {
        returns: "string",
        ..f("invoke_command", S8, Some((ECS, "InvokeCommand")),
        "Runs a saved command on instances; returns the invoke id (wait_invocation waits for one instance's result).",
        &[
            req(api("command_id", Kind::Str, "CommandId", "The command, from create_command.")),
            req(api("instance_ids", Kind::StrList, "InstanceId", "The instances (Running).")),
            local("parameters", Kind::Map, "Values of the command's {{name}} placeholders, e.g. #{ path: \"/\" }."),
            api("timeout", Kind::Int, "Timeout", "Seconds it may run (default: the command's)."),
            api("username", Kind::Str, "Username", "The user it runs as (default root)."),
            api("working_dir", Kind::Str, "WorkingDir", "The folder it runs in (default: the command's)."),
        ],
        "the invoke id (string, t-…)",
        "let invoke = invoke_command(#{ command_id: cmd, instance_ids: [id], parameters: #{ path: \"/\" } });",
        Handler::Custom(assistant::invoke_command))
    },
    f("describe_commands", S8, Some((ECS, "DescribeCommands")),
        "Lists saved Cloud Assistant commands (CommandContent is Base64).",
        &[
            api("command_id", Kind::Str, "CommandId", "Only this command."),
            api("name", Kind::Str, "Name", "Only commands with this name."),
            api("command_type", Kind::Str, "Type", "Only this type."),
        ],
        "the API map; Commands.Command[] = #{CommandId, Name, Type, CommandContent, Timeout, EnableParameter, ParameterNames, InvokeTimes, …}",
        "for c in describe_commands(#{ name: \"disk-usage\" }).Commands.Command { print(c.InvokeTimes); }",
        Handler::Api(Post::Whole)),
    f("delete_command", S8, Some((ECS, "DeleteCommand")),
        "Deletes a saved Cloud Assistant command.",
        &[req(api("command_id", Kind::Str, "CommandId", "The command."))],
        "the API map (RequestId)",
        "delete_command(#{ command_id: cmd });",
        Handler::Api(Post::Whole)),
    f("stop_invocation", S8, Some((ECS, "StopInvocation")),
        "Stops an invocation still pending or running, on every instance or the ones given; those runs end Terminated.",
        &[
            req(api("invoke_id", Kind::Str, "InvokeId", "The invocation.")),
            api("instance_ids", Kind::StrList, "InstanceId", "Only on these instances."),
        ],
        "the API map (RequestId)",
        "stop_invocation(#{ invoke_id: invoke });",
        Handler::Api(Post::Whole)),
    // --- Spot (issue 15) ---
    f("describe_spot_price_history", S3, Some((ECS, "DescribeSpotPriceHistory")),
        "Shows the spot price of an instance type per zone, hour by hour (SpotPrice beside OriginPrice, the pay-as-you-go price); the last point is the current price.",
        &[
            req(api("instance_type", Kind::Str, "InstanceType", "The spec, e.g. \"ecs.g7.large\".")),
            api("zone_id", Kind::Str, "ZoneId", "Only this zone (default: every zone that sells it)."),
            def(api("network_type", Kind::Str, "NetworkType", "vpc | classic."), D::Str("vpc")),
            api("os_type", Kind::Str, "OSType", "linux | windows."),
            api("start_time", Kind::Str, "StartTime", "UTC, e.g. \"2026-12-01T08:00:00Z\" (default: 3 hours before end_time)."),
            api("end_time", Kind::Str, "EndTime", "UTC (default: now)."),
        ],
        "the API map; SpotPrices.SpotPriceType[] = #{ZoneId, InstanceType, Timestamp, SpotPrice, OriginPrice, …}, Currency",
        "let p = describe_spot_price_history(#{ instance_type: \"ecs.g7.large\", zone_id: \"cn-hangzhou-j\" }).SpotPrices.SpotPriceType;",
        Handler::Api(Post::Whole)),
    // --- Tags (issue 15) ---
    f("tag_resources", SX, Some((ECS, "TagResources")),
        "Adds or overwrites tags on resources of one type. The run's own ecsh:run tag cannot be set or changed (Refused.RunTag): the run's cleanup finds what it made by it.",
        &[
            req(api("resource_type", Kind::Str, "ResourceType", "instance | disk | securitygroup | command | …")),
            req(api("resource_ids", Kind::StrList, "ResourceId", "Up to 50 ids.")),
            req(local("tags", Kind::Map, "Tags to set, key to value, e.g. #{ team: \"web\", env: \"staging\" } (at most 20).")),
        ],
        "the API map (RequestId)",
        "tag_resources(#{ resource_type: \"instance\", resource_ids: [id], tags: #{ team: \"web\" } });",
        Handler::Custom(tags::tag_resources)),
    f("untag_resources", SX, Some((ECS, "UntagResources")),
        "Removes tags from resources of one type. Removing ecsh:run, or every tag at once (all: true), is refused (Refused.RunTag): the run's tag must stay.",
        &[
            req(api("resource_type", Kind::Str, "ResourceType", "instance | disk | securitygroup | command | …")),
            req(api("resource_ids", Kind::StrList, "ResourceId", "Up to 50 ids.")),
            api("tag_keys", Kind::StrList, "TagKey", "The keys to remove."),
            api("all", Kind::Bool, "All", "Remove every tag (refused: it would remove ecsh:run)."),
        ],
        "the API map (RequestId)",
        "untag_resources(#{ resource_type: \"instance\", resource_ids: [id], tag_keys: [\"team\"] });",
        Handler::Api(Post::Whole)),
    f("list_tag_resources", SX, Some((ECS, "ListTagResources")),
        "Lists the tags of resources, or the resources carrying given tags (every page).",
        &[
            req(api("resource_type", Kind::Str, "ResourceType", "instance | disk | securitygroup | command | …")),
            api("resource_ids", Kind::StrList, "ResourceId", "Only these resources."),
            local("tags", Kind::Map, "Only resources with these tags, key to value."),
        ],
        "the API map; TagResources.TagResource[] = #{ResourceId, ResourceType, TagKey, TagValue}",
        "for t in list_tag_resources(#{ resource_type: \"instance\", tags: #{ team: \"web\" } }).TagResources.TagResource { print(t.ResourceId); }",
        Handler::Custom(tags::list_tag_resources)),
];

// --- cross-option rules --------------------------------------------------------------------

fn type_or_cores(c: &Checked) -> Result<(), HostError> {
    let by_size = c.get("cores").is_some() || c.get("memory").is_some();
    if by_size && c.get("instance_type").is_some() {
        return Err(HostError::InvalidOption(
            "describe_recommend_instance_type takes either instance_type or cores/memory, not both"
                .into(),
        ));
    }
    Ok(())
}

fn price_unit_matches_charge(c: &Checked) -> Result<(), HostError> {
    let unit = c.str("price_unit").unwrap_or("Hour");
    match (c.str("instance_charge_type").unwrap_or("PostPaid"), unit) {
        ("PostPaid", "Hour") | ("PrePaid", "Week" | "Month" | "Year") => Ok(()),
        ("PostPaid", u) => Err(HostError::InvalidOption(format!(
            "describe_price: PostPaid is quoted per Hour, not per {u}; use price_unit: \"Hour\" or instance_charge_type: \"PrePaid\""
        ))),
        ("PrePaid", u) => Err(HostError::InvalidOption(format!(
            "describe_price: PrePaid is quoted per Week, Month or Year, not per {u}"
        ))),
        (other, _) => Err(HostError::InvalidOption(format!(
            "describe_price: instance_charge_type must be PostPaid or PrePaid, got '{other}'"
        ))),
    }
}

fn content_or_path(c: &Checked) -> Result<(), HostError> {
    match (c.get("command_content"), c.get("script_path")) {
        (Some(_), Some(_)) => Err(HostError::InvalidOption(format!(
            "{}: give command_content or script_path, not both",
            c.func
        ))),
        (None, None) => Err(HostError::InvalidOption(format!(
            "{}: missing the script: give command_content (text) or script_path (a local file)",
            c.func
        ))),
        _ => Ok(()),
    }
}

fn no_stray_cleanup_ids(c: &Checked) -> Result<(), HostError> {
    content_or_path(c)?;
    let manual = ["security_group_id", "vswitch_id", "vpc_id"]
        .into_iter()
        .find(|k| c.get(k).is_some());
    match (c.get("infra"), manual) {
        (Some(_), Some(k)) => Err(HostError::InvalidOption(format!(
            "run_command_and_cleanup: give infra or {k}, not both (infra already names what to release)"
        ))),
        _ => Ok(()),
    }
}

// --- handlers ------------------------------------------------------------------------------

/// Runs an `Api` function: one action, every page, then the post-processing.
pub fn call_api(host: &Host, spec: &HostFn, c: &Checked, post: Post) -> Result<Value, HostError> {
    let action = spec.action().ok_or_else(|| {
        HostError::UnknownAction(format!("{} names no registered action", spec.name))
    })?;
    let mut params = c.api_params();
    for (k, v) in spec.fixed {
        params.insert((*k).into(), (*v).into());
    }
    let limits = Limits {
        page_size: c.int("page_size"),
        max_items: c.int("max_items"),
    };
    let mut resp = paging::call_all(&host.gateway, action, params, limits)?;
    match post {
        Post::Whole => {}
        Post::MemoryGb => add_memory_gb(&mut resp),
        Post::DecodedOutput => {
            if let Some(Value::Array(items)) =
                resp.pointer_mut("/Invocation/InvocationResults/InvocationResult")
            {
                for item in items.iter_mut() {
                    host.gateway.note_result(item);
                    add_decoded_output(item);
                }
            }
        }
        Post::Field(name) => {
            return resp
                .get(name)
                .cloned()
                .ok_or_else(|| HostError::Transport(format!("{} returned no {name}", action.name)))
        }
    }
    Ok(resp)
}

fn add_memory_gb(resp: &mut Value) {
    if let Some(Value::Array(items)) = resp.pointer_mut("/Data/RecommendInstanceType") {
        for it in items {
            if let Some(t) = it.get_mut("InstanceType").and_then(Value::as_object_mut) {
                if let Some(mb) = t.get("Memory").and_then(Value::as_f64) {
                    t.insert("MemoryGB".into(), json!(mb / 1024.0));
                }
            }
        }
    }
}

/// Adds `DecodedOutput` (the Base64 `Output` decoded, lossy UTF-8) to an invocation result.
pub fn add_decoded_output(result: &mut Value) {
    let Some(obj) = result.as_object_mut() else {
        return;
    };
    let raw = obj.get("Output").and_then(Value::as_str).unwrap_or("");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|_| raw.to_string());
    obj.insert("DecodedOutput".into(), Value::String(decoded));
}

/// The `timeout` option, else the session's wait timeout.
pub(super) fn timeout(host: &Host, c: &Checked) -> Duration {
    c.int("timeout")
        .filter(|s| *s > 0)
        .map(|s| Duration::from_secs(s as u64))
        .unwrap_or(host.wait.timeout)
}

fn run_instances(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let params = run_instances_params(c)?;
    let resp = super::spot::run_instances(host, c, params)?;
    run_instances_wait(host, c, resp)
}

/// The RunInstances request of checked `run_instances` options (what `preapprove_run_instances`
/// quotes ahead, so both price the same request).
pub fn run_instances_params(c: &Checked) -> Result<serde_json::Map<String, Value>, HostError> {
    if c.get("image_id").is_none() && c.get("image_family").is_none() {
        return Err(HostError::InvalidOption(
            "run_instances needs image_id or image_family".into(),
        ));
    }
    let mut params = c.api_params();
    if let Some(Value::Object(extra)) = c.get("extra_params") {
        for (k, v) in extra {
            if k.eq_ignore_ascii_case("UserData") {
                return Err(HostError::Refused {
                    code: crate::guard::policy::PolicyRule::UserData.code(),
                    message: format!(
                        "run_instances does not accept 'UserData' in extra_params: {}",
                        NO_USER_DATA.1
                    ),
                });
            }
            params.insert(k.clone(), v.clone());
        }
    }
    Ok(params)
}

fn run_instances_wait(host: &Host, c: &Checked, resp: Value) -> Result<Value, HostError> {
    let ids: Vec<String> = get_path(&resp, "InstanceIdSets.InstanceIdSet")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        return Err(HostError::Transport(
            "RunInstances returned no instance ids".into(),
        ));
    }
    wait::instances_status(
        &host.gateway,
        &host.wait,
        &host.pace,
        true,
        timeout(host, c),
        c.region(),
        &ids,
        "Running",
    )
    .map_err(|e| e.context("run_instances created the instances but they did not start"))?;
    Ok(resp)
}

fn read_script(c: &Checked) -> Result<String, HostError> {
    if let Some(text) = c.str("command_content") {
        return Ok(text.to_string());
    }
    let path = c.str("script_path").unwrap_or_default();
    std::fs::read_to_string(path)
        .map_err(|e| HostError::Local(format!("cannot read script_path '{path}': {e}")))
}

/// Cloud Assistant's limit on Base64 command content.
const MAX_COMMAND_BASE64: usize = 24 * 1024;

fn run_command(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let script = read_script(c)?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(script.as_bytes());
    if encoded.len() > MAX_COMMAND_BASE64 {
        return Err(HostError::InvalidOption(format!(
            "the script is {} bytes; Cloud Assistant accepts at most {MAX_COMMAND_BASE64} bytes of Base64 (about 18 KB of text)",
            script.len()
        )));
    }
    let params = object(json!({
        "RegionId": c.region(),
        "Type": c.str("command_type").unwrap_or("RunShellScript"),
        "CommandContent": encoded,
        "ContentEncoding": "Base64",
        "InstanceId": [c.str("instance_id").unwrap_or_default()],
        "Timeout": c.int("timeout").unwrap_or(600),
    }));
    let resp = host.gateway.call(ECS, "RunCommand", params)?;
    resp.get("InvokeId")
        .cloned()
        .ok_or_else(|| HostError::Transport("RunCommand returned no InvokeId".into()))
}

fn delete_instances(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let ids = c.str_list("instance_ids");
    if ids.is_empty() {
        return Err(HostError::InvalidOption(
            "delete_instances: instance_ids is empty".into(),
        ));
    }
    let params = c.api_params();
    let what = format!("instances {} to accept the release", ids.join(", "));
    let resp = wait::until(
        &host.gateway,
        &host.wait,
        &host.pace,
        None,
        false,
        timeout(host, c),
        &what,
        || match host.gateway.call(ECS, "DeleteInstances", params.clone()) {
            Ok(v) => Ok(wait::Poll::Done(v)),
            Err(HostError::Api(e)) if e.code == "IncorrectInstanceStatus.Initializing" => {
                Ok(wait::Poll::Pending("still initializing".into()))
            }
            Err(e) => Err(e),
        },
    )?;
    if c.bool("wait").unwrap_or(true) {
        wait::gone(
            &host.gateway,
            &host.wait,
            &host.pace,
            true,
            timeout(host, c),
            c.region(),
            ResourceKind::Instance,
            &ids,
        )?;
    }
    Ok(resp)
}

/// Codes that mean "something being released still holds this"; they clear by themselves.
fn is_transient_dependency(code: &str) -> bool {
    code.starts_with("DependencyViolation")
        || code.starts_with("IncorrectVpcStatus")
        || code.starts_with("IncorrectVSwitchStatus")
        || matches!(
            code,
            "OperationConflict" | "OperationDenied.OtherSubnetProcessing" | "TaskConflict"
        )
}

/// Sends a delete, retrying transient dependency errors for `retry_seconds`; after that the
/// service's own error is returned (it says best what still depends on the resource).
fn delete_retrying(
    host: &Host,
    c: &Checked,
    product: Product,
    action: &str,
) -> Result<Value, HostError> {
    let limit = Duration::from_secs(c.int("retry_seconds").unwrap_or(0).max(0) as u64);
    let start = std::time::Instant::now();
    let params = c.api_params();
    let mut intervals = host.wait.intervals();
    loop {
        match host.gateway.call(product, action, params.clone()) {
            Err(HostError::Api(e))
                if is_transient_dependency(&e.code) && start.elapsed() < limit =>
            {
                host.gateway
                    .sleep(intervals.next().unwrap_or(host.wait.max_interval))?;
            }
            other => return other,
        }
    }
}

fn delete_security_group(host: &Host, c: &Checked) -> Result<Value, HostError> {
    delete_retrying(host, c, ECS, "DeleteSecurityGroup")
}

fn delete_network(
    host: &Host,
    c: &Checked,
    kind: ResourceKind,
    id_opt: &str,
) -> Result<Value, HostError> {
    let id = c.str(id_opt).unwrap_or_default().to_string();
    let action = kind.release().map(|r| r.action).unwrap_or_default();
    let resp = delete_retrying(host, c, VPC, action)?;
    if c.bool("wait").unwrap_or(true) {
        wait::gone(
            &host.gateway,
            &host.wait,
            &host.pace,
            true,
            timeout(host, c),
            c.region(),
            kind,
            &[id],
        )?;
    }
    Ok(resp)
}

fn delete_vswitch(host: &Host, c: &Checked) -> Result<Value, HostError> {
    delete_network(host, c, ResourceKind::VSwitch, "vswitch_id")
}

fn delete_vpc(host: &Host, c: &Checked) -> Result<Value, HostError> {
    delete_network(host, c, ResourceKind::Vpc, "vpc_id")
}

fn wait_instances(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let ids = c.str_list("instance_ids");
    let status = c.str("status").unwrap_or("Running");
    wait::instances_status(
        &host.gateway,
        &host.wait,
        &host.pace,
        false,
        timeout(host, c),
        c.region(),
        &ids,
        status,
    )
    .map(Value::Array)
}

fn wait_cloud_assistant(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let ids = c.str_list("instance_ids");
    wait::cloud_assistant(
        &host.gateway,
        &host.wait,
        &host.pace,
        timeout(host, c),
        c.region(),
        &ids,
    )
    .map(|()| Value::Null)
}

fn wait_vpc(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let id = c.str("vpc_id").unwrap_or_default();
    wait::network_available(
        &host.gateway,
        &host.wait,
        &host.pace,
        timeout(host, c),
        c.region(),
        NetKind::Vpc,
        id,
    )
}

fn wait_vswitch(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let id = c.str("vswitch_id").unwrap_or_default();
    wait::network_available(
        &host.gateway,
        &host.wait,
        &host.pace,
        timeout(host, c),
        c.region(),
        NetKind::VSwitch,
        id,
    )
}

fn wait_invocation(host: &Host, c: &Checked) -> Result<Value, HostError> {
    let invoke = c.str("invoke_id").unwrap_or_default();
    let instance = c.str("instance_id").unwrap_or_default();
    wait::invocation(
        &host.gateway,
        &host.wait,
        &host.pace,
        timeout(host, c),
        c.region(),
        invoke,
        instance,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_actions_are_registered() {
        let mut seen = HashSet::new();
        for f in TABLE {
            assert!(seen.insert(f.name), "duplicate {}", f.name);
            if let Some((p, a)) = f.action {
                assert!(
                    ops::find(p, a).is_some(),
                    "{}: {a} not in ops::ACTIONS",
                    f.name
                );
            }
            assert!(
                !f.doc.is_empty() && !f.example.is_empty(),
                "{} lacks docs",
                f.name
            );
            assert!(
                f.example.contains(f.name),
                "{}: example does not call it",
                f.name
            );
        }
    }

    #[test]
    fn every_seed_operation_is_in_the_table() {
        for name in [
            "describe_recommend_instance_type",
            "describe_instance_types",
            "describe_instance_type_families",
            "describe_regions",
            "describe_zones",
            "describe_available_resource",
            "describe_price",
            "ensure_vpc_and_vswitch",
            "setup_security_group",
            "create_security_group",
            "authorize_security_group",
            "authorize_security_group_egress",
            "describe_images",
            "find_available_instance_type",
            "create_instance_with_infra",
            "run_instances",
            "describe_instances",
            "run_command_and_cleanup",
            "run_command_and_wait",
            "run_command",
            "describe_invocations",
            "describe_invocation_results",
            "delete_instances",
            "delete_security_group",
            "delete_vswitch",
            "delete_vpc",
            "search_and_format",
            "doc_search",
        ] {
            assert!(find(name).is_some(), "{name} missing");
        }
    }

    #[test]
    fn option_api_params_are_unique_per_function() {
        for f in TABLE {
            let mut seen = HashSet::new();
            for o in f.options {
                assert!(seen.insert(o.name), "{}: option {} twice", f.name, o.name);
            }
        }
    }

    #[test]
    fn decoded_output_and_memory_gb_are_added() {
        let mut r = json!({"Output": "aGVsbG8K"});
        add_decoded_output(&mut r);
        assert_eq!(r["DecodedOutput"], "hello\n");
        let mut resp =
            json!({"Data": {"RecommendInstanceType": [{"InstanceType": {"Memory": 8192}}]}});
        add_memory_gb(&mut resp);
        assert_eq!(
            resp["Data"]["RecommendInstanceType"][0]["InstanceType"]["MemoryGB"],
            8.0
        );
    }
}
