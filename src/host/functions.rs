//! THE table of seed functions: for each one its name (as the seed names it), seed section,
//! API action, options (seed keyword → API parameter, type, default, required, doc), result
//! and example. The engine registers the Rust-implemented ones from it in one loop; the Rhai
//! stdlib checks its options against it (`check_options`); help and `doc_search` read it.
//!
//! A row names its action by the registry's entry (`Some(&A::RUN_INSTANCES)`), never by a
//! name. What a row is: `host_fn.rs`; the Rust handlers: `handlers.rs`; composite flows:
//! `stdlib/*.rhai`.

use super::errors::HostError;
use super::handlers::*;
use super::host_fn::f;
pub use super::host_fn::{describe_option, Handler, HostFn, Post, Rule};
use super::options::{api, def, local, req, Checked, Default as D, Kind, Opt};
use crate::ops::A;

/// Looks a function up by name.
pub fn find(name: &str) -> Option<&'static HostFn> {
    TABLE.iter().find(|f| f.name == name)
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
const SK: &str = "Key pairs";
const SDK: &str = "Disks";
const SSI: &str = "Snapshots and images";
const SE: &str = "Elastic IPs";

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
/// The instances of a batch action (`InstanceId.N`).
const INSTANCE_IDS: Opt = req(api(
    "instance_ids",
    Kind::StrList,
    "InstanceId",
    "Instance ids (at most 100).",
));
const BATCH: Opt = def(
    api(
        "batch_optimization",
        Kind::Str,
        "BatchOptimization",
        "AllTogether (all or none: one that cannot change fails the call) | SuccessFirst (each that can; the others are reported in InstanceResponses).",
    ),
    D::Str("AllTogether"),
);
const DRY_RUN: Opt = api(
    "dry_run",
    Kind::Bool,
    "DryRun",
    "true: only check the request; the call then fails with DRYRUN.SUCCESS (or DryRunOperation) when it would pass.",
);
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

pub(super) const NO_USER_DATA: (&str, &str) = (
    "user_data",
    "UserData is forbidden; create the instance first, then use run_command() or run_command_and_wait() so script execution is observable and retriable",
);
const NO_USER_DATA_API: (&str, &str) = ("UserData", NO_USER_DATA.1);

pub static TABLE: &[HostFn] = &[
    HostFn {
        fixed: &[("NetworkType", "vpc")],
        validate: Some(type_or_cores),
        ..f("describe_recommend_instance_type", S1, Some(&A::DESCRIBE_RECOMMEND_INSTANCE_TYPE),
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
    f("describe_instance_types", S1, Some(&A::DESCRIBE_INSTANCE_TYPES),
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
    f("describe_instance_type_families", S1, Some(&A::DESCRIBE_INSTANCE_TYPE_FAMILIES),
        "Lists instance families (e.g. ecs.g7 general-purpose, ecs.c7 compute-optimized).",
        &[api("generation", Kind::Str, "Generation", "Generation filter, e.g. \"ecs-6\".")],
        "the API map; InstanceTypeFamilies.InstanceTypeFamily[] = #{InstanceTypeFamilyId, Generation}",
        "describe_instance_type_families(#{ generation: \"ecs-6\" })",
        Handler::Api(Post::Whole)),
    f("describe_regions", S2, Some(&A::DESCRIBE_REGIONS),
        "Returns the list of all available regions.",
        &[],
        "the API map; Regions.Region[] = #{RegionId, LocalName, RegionEndpoint, Status}",
        "for r in describe_regions().Regions.Region { print(r.RegionId); }",
        Handler::Api(Post::Whole)),
    f("describe_zones", S2, Some(&A::DESCRIBE_ZONES),
        "Returns the list of all available zones in the region.",
        &[api("instance_charge_type", Kind::Str, "InstanceChargeType", "PostPaid | PrePaid.")],
        "the API map; Zones.Zone[] = #{ZoneId, LocalName, AvailableInstanceTypes, …}",
        "describe_zones(#{ region: \"cn-shanghai\" }).Zones.Zone.len()",
        Handler::Api(Post::Whole)),
    f("describe_available_resource", S2, Some(&A::DESCRIBE_AVAILABLE_RESOURCE),
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
        ..f("describe_price", S3, Some(&A::DESCRIBE_PRICE),
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
        ..f("create_security_group", S5, Some(&A::CREATE_SECURITY_GROUP),
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
    f("authorize_security_group", S5, Some(&A::AUTHORIZE_SECURITY_GROUP),
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
    f("authorize_security_group_egress", S5, Some(&A::AUTHORIZE_SECURITY_GROUP_EGRESS),
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
    f("describe_images", S6, Some(&A::DESCRIBE_IMAGES),
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
            local("key_pair_name", Kind::Str, "An SSH key pair for the instance (create_key_pair or import_key_pair)."),
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
        ..f("run_instances", S7, Some(&A::RUN_INSTANCES),
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
            api("key_pair_name", Kind::Str, "KeyPairName", "An SSH key pair to log in with (create_key_pair or import_key_pair; Linux images only)."),
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
    f("describe_instances", S7, Some(&A::DESCRIBE_INSTANCES),
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
        ..f("run_command", S8, Some(&A::RUN_COMMAND),
        "Starts a script on an instance through Cloud Assistant and returns the invoke id (asynchronous; see describe_invocations).",
        COMMAND_OPTS,
        "the invoke id (string)",
        "let invoke = run_command(#{ instance_id: id, command_content: \"uptime\" });",
        Handler::Custom(run_command))
    },
    f("describe_invocations", S8, Some(&A::DESCRIBE_INVOCATIONS),
        "Queries the execution status of command invocations.",
        &[
            api("invoke_id", Kind::Str, "InvokeId", "The invoke id from run_command."),
            api("instance_id", Kind::Str, "InstanceId", "Only invocations on this instance."),
        ],
        "the API map; Invocations.Invocation[] = #{InvokeId, InvocationStatus, InvokeInstances, …}",
        "describe_invocations(#{ invoke_id: invoke }).Invocations.Invocation[0].InvocationStatus",
        Handler::Api(Post::Whole)),
    f("describe_invocation_results", S8, Some(&A::DESCRIBE_INVOCATION_RESULTS),
        "Retrieves the per-instance output of an invocation (adds DecodedOutput).",
        &[
            api("invoke_id", Kind::Str, "InvokeId", "The invoke id from run_command."),
            api("instance_id", Kind::Str, "InstanceId", "Only this instance's result."),
        ],
        "the API map; Invocation.InvocationResults.InvocationResult[] = #{InstanceId, InvocationStatus, ExitCode, Output, DecodedOutput, …}",
        "describe_invocation_results(#{ invoke_id: invoke }).Invocation.InvocationResults.InvocationResult[0].DecodedOutput",
        Handler::Api(Post::DecodedOutput)),
    f("delete_instances", S9, Some(&A::DELETE_INSTANCES),
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
    f("delete_security_group", S9, Some(&A::DELETE_SECURITY_GROUP),
        "Deletes a security group, retrying while just-released instances still hold it.",
        &[req(api("security_group_id", Kind::Str, "SecurityGroupId", "The security group.")), RETRY],
        "the API map (RequestId)",
        "delete_security_group(#{ security_group_id: \"sg-xxx\" });",
        Handler::Custom(delete_security_group)),
    f("delete_vswitch", S9, Some(&A::DELETE_VSWITCH),
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
    f("delete_vpc", S9, Some(&A::DELETE_VPC),
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
    f("release_created", SX, None,
        "Releases resources the run created, all at once, through the ledger's release planner: dependency order (instances before their security groups, vswitches before their VPC), retries while members are still going, each deletion verified. What the run did not create is left alone and reported. Never raises: the flows' cleanup on failure uses it.",
        &[req(local("resources", Kind::MapList, "#{kind, id} each; kind as ledger() shows it: ECS, SecurityGroup, VSwitch, VPC, Disk, EIP, …"))],
        "#{released: [\"ECS i-…\", …], errors: [\"VPC vpc-…: Code: message\", …]}",
        "let r = release_created(#{ resources: [#{ kind: \"SecurityGroup\", id: sg }, #{ kind: \"VPC\", id: vpc }] });",
        Handler::Custom(super::cleanup::release_created)),
    // --- Instances (issue 15) ---
    f("start_instances", SX, Some(&A::START_INSTANCES),
        "Starts Stopped instances (up to 100). One stopped in StopCharging mode is billed again, so the guard quotes it and asks first. Returns at once; wait with wait_instances(#{ instance_ids, status: \"Running\" }).",
        &[
            INSTANCE_IDS,
            BATCH,
            DRY_RUN,
            api("estimated_runtime", Kind::Str, "estimated_runtime", "How long they will run once started, for the estimate when billing resumes (\"5m\", \"2h\"); never sent to the API."),
        ],
        "the API map; InstanceResponses.InstanceResponse[] = #{InstanceId, Code, Message, PreviousStatus, CurrentStatus}",
        "start_instances(#{ instance_ids: [id] }); wait_instances(#{ instance_ids: [id], status: \"Running\" });",
        Handler::Api(Post::Whole)),
    f("stop_instances", SX, Some(&A::STOP_INSTANCES),
        "Stops Running instances (up to 100). stopped_mode: \"StopCharging\" keeps a pay-as-you-go instance (disks, private IP) but stops billing its vCPU and memory, and gives back its static public IP. Returns at once; wait with wait_instances(#{ instance_ids, status: \"Stopped\" }).",
        &[
            INSTANCE_IDS,
            def(api("stopped_mode", Kind::Str, "StoppedMode", "KeepCharging (billed while stopped) | StopCharging (economical mode)."), D::Str("KeepCharging")),
            api("force_stop", Kind::Bool, "ForceStop", "true: like pulling the power (unsaved data is lost)."),
            BATCH,
            DRY_RUN,
        ],
        "the API map; InstanceResponses.InstanceResponse[] = #{InstanceId, Code, Message, PreviousStatus, CurrentStatus}",
        "stop_instances(#{ instance_ids: [id], stopped_mode: \"StopCharging\" }); wait_instances(#{ instance_ids: [id], status: \"Stopped\" });",
        Handler::Api(Post::Whole)),
    f("reboot_instances", SX, Some(&A::REBOOT_INSTANCES),
        "Reboots Running instances (up to 100). Returns at once; wait with wait_instances(#{ instance_ids, status: \"Running\" }).",
        &[
            INSTANCE_IDS,
            api("force_reboot", Kind::Bool, "ForceReboot", "true: like pulling the power (unsaved data is lost)."),
            BATCH,
            DRY_RUN,
        ],
        "the API map; InstanceResponses.InstanceResponse[] = #{InstanceId, Code, Message, PreviousStatus, CurrentStatus}",
        "reboot_instances(#{ instance_ids: [id] });",
        Handler::Api(Post::Whole)),
    f("modify_instance_attribute", SX, Some(&A::MODIFY_INSTANCE_ATTRIBUTE),
        "Changes an instance's name, description, host name, security groups or deletion protection (only what is given). Passwords and UserData are not offered: use key pairs and run_command.",
        &[
            req(api("instance_id", Kind::Str, "InstanceId", "The instance.")),
            api("instance_name", Kind::Str, "InstanceName", "New name (2-128 characters)."),
            api("description", Kind::Str, "Description", "New description (at most 256 characters)."),
            api("host_name", Kind::Str, "HostName", "New host name (takes effect at the next start)."),
            api("security_group_ids", Kind::StrList, "SecurityGroupIds", "Replace its security groups (same VPC, at most 5)."),
            api("deletion_protection", Kind::Bool, "DeletionProtection", "true: DeleteInstance(s) refuse it until set back to false."),
        ],
        "the API map (RequestId)",
        "modify_instance_attribute(#{ instance_id: id, instance_name: \"web-1\" });",
        Handler::Api(Post::Whole)),
    f("describe_instance_attribute", SX, Some(&A::DESCRIBE_INSTANCE_ATTRIBUTE),
        "Shows one instance: type, status, StoppedMode, charge type, network, security groups.",
        &[req(api("instance_id", Kind::Str, "InstanceId", "The instance."))],
        "#{InstanceId, InstanceName, InstanceType, Status, StoppedMode, InstanceChargeType, VpcAttributes, SecurityGroupIds, …}",
        "let a = describe_instance_attribute(#{ instance_id: id }); print(a.StoppedMode);",
        Handler::Api(Post::Whole)),
    f("modify_instance_spec", SX, Some(&A::MODIFY_INSTANCE_SPEC),
        "Changes a pay-as-you-go instance's type (it must be Stopped) or its bandwidth. A new type changes what the instance costs: the guard quotes the new type's hourly price against the current one and asks.",
        &[
            req(api("instance_id", Kind::Str, "InstanceId", "The instance (Stopped, to change its type).")),
            api("instance_type", Kind::Str, "InstanceType", "The new type, e.g. \"ecs.g7.xlarge\"."),
            api("internet_max_bandwidth_out", Kind::Int, "InternetMaxBandwidthOut", "New outbound public bandwidth (Mbps)."),
            api("internet_max_bandwidth_in", Kind::Int, "InternetMaxBandwidthIn", "New inbound public bandwidth (Mbps)."),
            api("estimated_runtime", Kind::Str, "estimated_runtime", "How long it will run on the new type, for the cost estimate (\"5m\", \"2h\"); never sent to the API."),
            api("task_type", Kind::Str, "task_type", "shell | data_processing | training | service: the estimated runtime by the seed's table; never sent to the API."),
            DRY_RUN,
        ],
        "the API map (RequestId)",
        "modify_instance_spec(#{ instance_id: id, instance_type: \"ecs.g7.xlarge\" });",
        Handler::Api(Post::Whole)),
    f("modify_instance_auto_release_time", SX, Some(&A::MODIFY_INSTANCE_AUTO_RELEASE_TIME),
        "Sets when a pay-as-you-go instance is released by the service itself, or clears it (no auto_release_time). ecsh sets one on every instance a run creates as a lease; a kept instance keeps what keep() set.",
        &[
            req(api("instance_id", Kind::Str, "InstanceId", "The instance.")),
            api("auto_release_time", Kind::Str, "AutoReleaseTime", "UTC yyyy-MM-ddTHH:mm:ssZ, 30 minutes to 3 years ahead; absent: clear it."),
        ],
        "the API map (RequestId)",
        "modify_instance_auto_release_time(#{ instance_id: id, auto_release_time: \"2030-01-01T00:00:00Z\" });",
        Handler::Api(Post::Whole)),
    f("describe_instance_status", SX, Some(&A::DESCRIBE_INSTANCE_STATUS),
        "Lists instances' status (lighter than describe_instances, for polling).",
        &[
            api("instance_ids", Kind::StrList, "InstanceId", "Only these instances (InstanceId.N, at most 100)."),
            api("zone_id", Kind::Str, "ZoneId", "Only this zone."),
        ],
        "the API map; InstanceStatuses.InstanceStatus[] = #{InstanceId, Status}",
        "for s in describe_instance_status(#{ instance_ids: [id] }).InstanceStatuses.InstanceStatus { print(`${s.InstanceId} ${s.Status}`); }",
        Handler::Api(Post::Whole)),
    // --- Key pairs (issue 15) ---
    f("create_key_pair", SK, Some(&A::CREATE_KEY_PAIR),
        "Creates an SSH key pair. Its private key is answered once and never shown: the map carries a placeholder, and write_private_key saves the key to a file (mode 0600) — do it before the script ends, the service keeps no copy.",
        &[req(api("key_pair_name", Kind::Str, "KeyPairName", "2 to 128 characters, starting with a letter; letters, digits, : _ -."))],
        "#{KeyPairName, KeyPairId, KeyPairFingerPrint, PrivateKeyBody: \"<redacted: …>\"}",
        "let kp = create_key_pair(#{ key_pair_name: \"ecsh-ssh\" }); write_private_key(#{ key_pair_name: kp.KeyPairName, path: \"ecsh-ssh.pem\" });",
        Handler::Api(Post::Whole)),
    HostFn { returns: "string", ..f("write_private_key", SK, None,
        "Writes the private key of a key pair this session created to a new file readable by its owner only (0600; an existing file is never overwritten), once. The only way a private key leaves ecsh.",
        &[
            req(local("key_pair_name", Kind::Str, "The key pair create_key_pair made.")),
            req(local("path", Kind::Str, "A file that does not exist yet, e.g. \"ecsh-ssh.pem\".")),
        ],
        "the path written (string)",
        "write_private_key(#{ key_pair_name: \"ecsh-ssh\", path: \"ecsh-ssh.pem\" });",
        Handler::Custom(super::keys::write_private_key)) },
    f("import_key_pair", SK, Some(&A::IMPORT_KEY_PAIR),
        "Imports the public key of a key pair made elsewhere (ssh-keygen); the private key never leaves your machine.",
        &[
            req(api("key_pair_name", Kind::Str, "KeyPairName", "The key pair's name.")),
            req(api("public_key_body", Kind::Str, "PublicKeyBody", "The one line of the .pub file (ssh-ed25519 AAAA… user@host).")),
        ],
        "#{KeyPairName, KeyPairFingerPrint}",
        "import_key_pair(#{ key_pair_name: \"laptop\", public_key_body: \"ssh-ed25519 AAAAC3Nz... me@laptop\" });",
        Handler::Api(Post::Whole)),
    f("describe_key_pairs", SK, Some(&A::DESCRIBE_KEY_PAIRS),
        "Lists key pairs with their fingerprints.",
        &[
            api("key_pair_name", Kind::Str, "KeyPairName", "A name; * is a wildcard (\"web-*\")."),
            api("key_pair_finger_print", Kind::Str, "KeyPairFingerPrint", "Only the key pair with this fingerprint."),
            api("include_public_key", Kind::Bool, "IncludePublicKey", "Add each PublicKey."),
        ],
        "the API map; KeyPairs.KeyPair[] = #{KeyPairName, KeyPairFingerPrint, CreationTime, Tags, …}",
        "for k in describe_key_pairs().KeyPairs.KeyPair { print(k.KeyPairName); }",
        Handler::Api(Post::Whole)),
    f("delete_key_pairs", SK, Some(&A::DELETE_KEY_PAIRS),
        "Deletes key pairs; instances bound to one keep its public key.",
        &[req(api("key_pair_names", Kind::StrList, "KeyPairNames", "Names, at most 100."))],
        "the API map (RequestId)",
        "delete_key_pairs(#{ key_pair_names: [\"ecsh-ssh\"] });",
        Handler::Api(Post::Whole)),
    f("attach_key_pair", SK, Some(&A::ATTACH_KEY_PAIR),
        "Binds a key pair to Linux instances (effective at their next start). A batch answers per instance: check FailCount.",
        &[
            req(api("key_pair_name", Kind::Str, "KeyPairName", "The key pair.")),
            req(api("instance_ids", Kind::StrList, "InstanceIds", "Instance ids, at most 50.")),
        ],
        "the API map; #{TotalCount, FailCount, Results.Result[] = #{InstanceId, Success, Code, Message}}",
        "let r = attach_key_pair(#{ key_pair_name: \"ecsh-ssh\", instance_ids: [id] }); if r.FailCount != \"0\" { throw r.Results.Result; }",
        Handler::Api(Post::Whole)),
    f("detach_key_pair", SK, Some(&A::DETACH_KEY_PAIR),
        "Unbinds a key pair from instances. A batch answers per instance: check FailCount.",
        &[
            req(api("key_pair_name", Kind::Str, "KeyPairName", "The key pair.")),
            req(api("instance_ids", Kind::StrList, "InstanceIds", "Instance ids, at most 50.")),
        ],
        "the API map; #{TotalCount, FailCount, Results.Result[] = #{InstanceId, Success, Code, Message}}",
        "detach_key_pair(#{ key_pair_name: \"ecsh-ssh\", instance_ids: [id] });",
        Handler::Api(Post::Whole)),
    // --- Disks (issue 15) ---
    HostFn { returns: "string", ..f("create_disk", SDK, Some(&A::CREATE_DISK),
        "Creates a pay-as-you-go data disk (Available); the guard quotes it and asks. Attach it with attach_disk; the run releases it at its end unless kept.",
        &[
            req(api("zone_id", Kind::Str, "ZoneId", "The zone: the one of the instance it will be attached to.")),
            req(api("size", Kind::Int, "Size", "Size in GiB (cloud_essd 20 to 65536).")),
            def(api("disk_category", Kind::Str, "DiskCategory", "cloud_essd | cloud_ssd | cloud_efficiency | cloud_auto | cloud_essd_entry."), D::Str("cloud_essd")),
            api("performance_level", Kind::Str, "PerformanceLevel", "ESSD level: PL0 | PL1 | PL2 | PL3."),
            api("disk_name", Kind::Str, "DiskName", "Disk name."),
            api("description", Kind::Str, "Description", "Description."),
        ],
        "the disk id (string)",
        "let disk = create_disk(#{ zone_id: infra.zone_id, size: 40 });",
        Handler::Api(Post::Field("DiskId"))) },
    f("attach_disk", SDK, Some(&A::ATTACH_DISK),
        "Attaches an Available data disk to a Running or Stopped instance of the same zone and, by default, waits until it is In_use.",
        &[
            req(api("disk_id", Kind::Str, "DiskId", "The data disk.")),
            req(api("instance_id", Kind::Str, "InstanceId", "The instance.")),
            api("delete_with_instance", Kind::Bool, "DeleteWithInstance", "Release the disk with the instance (default false: it outlives it)."),
            def(local("wait", Kind::Bool, "Wait until the disk is In_use."), D::Bool(true)),
            TIMEOUT,
        ],
        "the disk (map, as in DescribeDisks) once In_use; the API map when wait is false",
        "attach_disk(#{ disk_id: disk, instance_id: infra.instance_id });",
        Handler::Custom(super::bind::attach_disk)),
    f("detach_disk", SDK, Some(&A::DETACH_DISK),
        "Detaches a data disk from its instance and, by default, waits until it is Available.",
        &[
            req(api("disk_id", Kind::Str, "DiskId", "The data disk.")),
            req(api("instance_id", Kind::Str, "InstanceId", "The instance it is attached to.")),
            def(local("wait", Kind::Bool, "Wait until the disk is Available."), D::Bool(true)),
            TIMEOUT,
        ],
        "the disk (map, as in DescribeDisks) once Available; the API map when wait is false",
        "detach_disk(#{ disk_id: disk, instance_id: infra.instance_id });",
        Handler::Custom(super::bind::detach_disk)),
    f("resize_disk", SDK, Some(&A::RESIZE_DISK),
        "Grows a disk to new_size GiB (never shrinks). The bigger disk costs more: the guard quotes the hourly difference and asks.",
        &[
            req(api("disk_id", Kind::Str, "DiskId", "The disk.")),
            req(api("new_size", Kind::Int, "NewSize", "The new size in GiB, larger than the current one.")),
            api("type", Kind::Str, "Type", "offline (default: effective after a restart) | online."),
        ],
        "the API map (RequestId)",
        "resize_disk(#{ disk_id: disk, new_size: 80 });",
        Handler::Api(Post::Whole)),
    f("delete_disk", SDK, Some(&A::DELETE_DISK),
        "Releases a data disk that is not attached (detach_disk it first).",
        &[req(api("disk_id", Kind::Str, "DiskId", "The disk."))],
        "the API map (RequestId)",
        "delete_disk(#{ disk_id: disk });",
        Handler::Api(Post::Whole)),
    f("describe_disks", SDK, Some(&A::DESCRIBE_DISKS),
        "Lists disks with their status (Available, Attaching, In_use, Detaching), size and instance.",
        &[
            api("disk_ids", Kind::StrList, "DiskIds", "Disk ids."),
            api("instance_id", Kind::Str, "InstanceId", "Only the disks of this instance."),
            api("zone_id", Kind::Str, "ZoneId", "Only this zone."),
            api("disk_type", Kind::Str, "DiskType", "all | system | data."),
            api("status", Kind::Str, "Status", "Available | In_use | Attaching | Detaching | All."),
        ],
        "the API map; Disks.Disk[] = #{DiskId, Status, Size, Category, InstanceId, Device, DeleteWithInstance, …}",
        "for d in describe_disks(#{ instance_id: id }).Disks.Disk { print(`${d.DiskId} ${d.Size} GiB`); }",
        Handler::Api(Post::Whole)),
    // --- Snapshots and images (issue 15) ---
    HostFn { returns: "string", ..f("create_snapshot", SSI, Some(&A::CREATE_SNAPSHOT),
        "Snapshots a disk and, by default, waits until the snapshot is accomplished. Snapshot storage is billed per GB-month: the guard quotes it (the disk's size, an upper bound) and asks.",
        &[
            req(api("disk_id", Kind::Str, "DiskId", "The disk (system or data).")),
            api("snapshot_name", Kind::Str, "SnapshotName", "2 to 128 characters; not starting with auto."),
            api("description", Kind::Str, "Description", "Description."),
            api("retention_days", Kind::Int, "RetentionDays", "Days until the service deletes it by itself (default: kept)."),
            def(local("wait", Kind::Bool, "Wait until it is accomplished."), D::Bool(true)),
            TIMEOUT,
        ],
        "the snapshot id (string)",
        "let snap = create_snapshot(#{ disk_id: disk, snapshot_name: \"before-upgrade\" });",
        Handler::Custom(super::storage::create_snapshot)) },
    f("describe_snapshots", SSI, Some(&A::DESCRIBE_SNAPSHOTS),
        "Lists snapshots with their status (progressing, accomplished), source disk and usage (image: an image uses it).",
        &[
            api("snapshot_ids", Kind::StrList, "SnapshotIds", "Snapshot ids."),
            api("disk_id", Kind::Str, "DiskId", "Only the snapshots of this disk."),
            api("instance_id", Kind::Str, "InstanceId", "Only the snapshots of this instance's disks."),
            api("status", Kind::Str, "Status", "progressing | accomplished | failed | all."),
            api("snapshot_name", Kind::Str, "SnapshotName", "Exact name."),
            api("usage", Kind::Str, "Usage", "image | disk | image_disk | none."),
        ],
        "the API map; Snapshots.Snapshot[] = #{SnapshotId, Status, Progress, SourceDiskId, SourceDiskSize, Usage, …}",
        "for s in describe_snapshots(#{ disk_id: disk }).Snapshots.Snapshot { print(`${s.SnapshotId} ${s.Status}`); }",
        Handler::Api(Post::Whole)),
    f("delete_snapshot", SSI, Some(&A::DELETE_SNAPSHOT),
        "Deletes a snapshot; refused (SnapshotCreatedImage) while an image uses it: delete the image first.",
        &[req(api("snapshot_id", Kind::Str, "SnapshotId", "The snapshot."))],
        "the API map (RequestId)",
        "delete_snapshot(#{ snapshot_id: snap });",
        Handler::Api(Post::Whole)),
    HostFn { returns: "string", ..f("create_image", SSI, Some(&A::CREATE_IMAGE),
        "Makes a custom image from a system-disk snapshot and, by default, waits until it is Available. Its storage is billed: the guard quotes it per GB-month and asks. (From an instance, CreateImage snapshots its disks itself; those snapshots are not the run's, so use snapshot_id.)",
        &[
            req(api("snapshot_id", Kind::Str, "SnapshotId", "A system-disk snapshot (create_snapshot of the instance's system disk).")),
            api("image_name", Kind::Str, "ImageName", "2 to 128 characters, unique in the region."),
            api("image_family", Kind::Str, "ImageFamily", "A family, so describe_images(#{ image_family }) finds the latest."),
            api("description", Kind::Str, "Description", "Description."),
            def(local("wait", Kind::Bool, "Wait until it is Available."), D::Bool(true)),
            TIMEOUT,
        ],
        "the image id (string)",
        "let image = create_image(#{ snapshot_id: snap, image_name: \"web-golden\" });",
        Handler::Custom(super::storage::create_image)) },
    f("delete_image", SSI, Some(&A::DELETE_IMAGE),
        "Deletes a custom image (the snapshots it was made from stay until deleted).",
        &[req(api("image_id", Kind::Str, "ImageId", "The custom image."))],
        "the API map (RequestId)",
        "delete_image(#{ image_id: image });",
        Handler::Api(Post::Whole)),
    // --- Elastic IPs (issue 15) ---
    f("allocate_eip_address", SE, Some(&A::ALLOCATE_EIP_ADDRESS),
        "Allocates a pay-as-you-go elastic IP (Available); the guard quotes its bandwidth and asks. Bind it with associate_eip_address; the run releases it at its end unless kept.",
        &[
            def(api("bandwidth", Kind::Int, "Bandwidth", "Peak bandwidth in Mbps."), D::Int(5)),
            def(api("internet_charge_type", Kind::Str, "InternetChargeType", "PayByTraffic | PayByBandwidth."), D::Str("PayByTraffic")),
            api("name", Kind::Str, "Name", "EIP name."),
        ],
        "#{AllocationId, EipAddress}",
        "let eip = allocate_eip_address(#{ bandwidth: 5 }); print(eip.EipAddress);",
        Handler::Api(Post::Whole)),
    f("associate_eip_address", SE, Some(&A::ASSOCIATE_EIP_ADDRESS),
        "Binds an Available EIP to a Running or Stopped instance without a public IP and, by default, waits until it is InUse.",
        &[
            req(api("allocation_id", Kind::Str, "AllocationId", "The EIP.")),
            req(api("instance_id", Kind::Str, "InstanceId", "The instance.")),
            def(local("wait", Kind::Bool, "Wait until the EIP is InUse."), D::Bool(true)),
            TIMEOUT,
        ],
        "the EIP (map, as in DescribeEipAddresses) once InUse; the API map when wait is false",
        "associate_eip_address(#{ allocation_id: eip.AllocationId, instance_id: id });",
        Handler::Custom(super::bind::associate_eip_address)),
    f("unassociate_eip_address", SE, Some(&A::UNASSOCIATE_EIP_ADDRESS),
        "Unbinds an EIP from its instance and, by default, waits until it is Available.",
        &[
            req(api("allocation_id", Kind::Str, "AllocationId", "The EIP.")),
            api("instance_id", Kind::Str, "InstanceId", "The instance it is bound to (checked)."),
            def(local("wait", Kind::Bool, "Wait until the EIP is Available."), D::Bool(true)),
            TIMEOUT,
        ],
        "the EIP (map, as in DescribeEipAddresses) once Available; the API map when wait is false",
        "unassociate_eip_address(#{ allocation_id: eip.AllocationId, instance_id: id });",
        Handler::Custom(super::bind::unassociate_eip_address)),
    f("release_eip_address", SE, Some(&A::RELEASE_EIP_ADDRESS),
        "Releases an Available EIP (unassociate_eip_address it first).",
        &[req(api("allocation_id", Kind::Str, "AllocationId", "The EIP."))],
        "the API map (RequestId)",
        "release_eip_address(#{ allocation_id: eip.AllocationId });",
        Handler::Api(Post::Whole)),
    f("describe_eip_addresses", SE, Some(&A::DESCRIBE_EIP_ADDRESSES),
        "Lists elastic IPs with their status (Available, Associating, InUse, Unassociating) and instance.",
        &[
            api("allocation_id", Kind::Str, "AllocationId", "EIP ids, comma-separated (at most 50)."),
            api("eip_address", Kind::Str, "EipAddress", "The IP address."),
            api("status", Kind::Str, "Status", "Available | Associating | InUse | Unassociating."),
        ],
        "the API map; EipAddresses.EipAddress[] = #{AllocationId, IpAddress, Status, InstanceId, Bandwidth, …}",
        "for e in describe_eip_addresses().EipAddresses.EipAddress { print(`${e.IpAddress} ${e.Status}`); }",
        Handler::Api(Post::Whole)),
    // --- Security groups (issue 15) ---
    HostFn {
        validate: Some(super::security_groups::rule_ids_or_fields),
        ..f("revoke_security_group", S5, Some(&A::REVOKE_SECURITY_GROUP),
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
        validate: Some(super::security_groups::rule_ids_or_fields),
        ..f("revoke_security_group_egress", S5, Some(&A::REVOKE_SECURITY_GROUP_EGRESS),
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
        validate: Some(super::security_groups::rule_id_or_identity),
        ..f("modify_security_group_rule", S5, Some(&A::MODIFY_SECURITY_GROUP_RULE),
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
    f("describe_security_groups", S5, Some(&A::DESCRIBE_SECURITY_GROUPS),
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
    f("join_security_group", S5, Some(&A::JOIN_SECURITY_GROUP),
        "Adds a Stopped or Running instance to one more security group of its VPC (at most 5 per instance).",
        &[
            req(api("security_group_id", Kind::Str, "SecurityGroupId", "The group to join.")),
            req(api("instance_id", Kind::Str, "InstanceId", "The instance.")),
        ],
        "the API map (RequestId)",
        "join_security_group(#{ security_group_id: monitoring_sg, instance_id: infra.instance_id });",
        Handler::Api(Post::Whole)),
    f("leave_security_group", S5, Some(&A::LEAVE_SECURITY_GROUP),
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
        validate: Some(super::assistant::path_or_content),
        ..f("send_file", S8, Some(&A::SEND_FILE),
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
        Handler::Custom(super::assistant::send_file))
    },
    HostFn {
        returns: "string",
        ..f("create_command", S8, Some(&A::CREATE_COMMAND),
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
        Handler::Custom(super::assistant::create_command))
    },
    HostFn {
        returns: "string",
        ..f("invoke_command", S8, Some(&A::INVOKE_COMMAND),
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
        Handler::Custom(super::assistant::invoke_command))
    },
    f("describe_commands", S8, Some(&A::DESCRIBE_COMMANDS),
        "Lists saved Cloud Assistant commands (CommandContent is Base64).",
        &[
            api("command_id", Kind::Str, "CommandId", "Only this command."),
            api("name", Kind::Str, "Name", "Only commands with this name."),
            api("command_type", Kind::Str, "Type", "Only this type."),
        ],
        "the API map; Commands.Command[] = #{CommandId, Name, Type, CommandContent, Timeout, EnableParameter, ParameterNames, InvokeTimes, …}",
        "for c in describe_commands(#{ name: \"disk-usage\" }).Commands.Command { print(c.InvokeTimes); }",
        Handler::Api(Post::Whole)),
    f("delete_command", S8, Some(&A::DELETE_COMMAND),
        "Deletes a saved Cloud Assistant command.",
        &[req(api("command_id", Kind::Str, "CommandId", "The command."))],
        "the API map (RequestId)",
        "delete_command(#{ command_id: cmd });",
        Handler::Api(Post::Whole)),
    f("stop_invocation", S8, Some(&A::STOP_INVOCATION),
        "Stops an invocation still pending or running, on every instance or the ones given; those runs end Terminated.",
        &[
            req(api("invoke_id", Kind::Str, "InvokeId", "The invocation.")),
            api("instance_ids", Kind::StrList, "InstanceId", "Only on these instances."),
        ],
        "the API map (RequestId)",
        "stop_invocation(#{ invoke_id: invoke });",
        Handler::Api(Post::Whole)),
    // --- Spot (issue 15) ---
    f("describe_spot_price_history", S3, Some(&A::DESCRIBE_SPOT_PRICE_HISTORY),
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
    f("tag_resources", SX, Some(&A::TAG_RESOURCES),
        "Adds or overwrites tags on resources of one type. The run's own ecsh:run tag cannot be set or changed (Refused.RunTag): the run's cleanup finds what it made by it.",
        &[
            req(api("resource_type", Kind::Str, "ResourceType", "instance | disk | securitygroup | command | …")),
            req(api("resource_ids", Kind::StrList, "ResourceId", "Up to 50 ids.")),
            req(local("tags", Kind::Map, "Tags to set, key to value, e.g. #{ team: \"web\", env: \"staging\" } (at most 20).")),
        ],
        "the API map (RequestId)",
        "tag_resources(#{ resource_type: \"instance\", resource_ids: [id], tags: #{ team: \"web\" } });",
        Handler::Custom(super::tags::tag_resources)),
    f("untag_resources", SX, Some(&A::UNTAG_RESOURCES),
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
    f("list_tag_resources", SX, Some(&A::LIST_TAG_RESOURCES),
        "Lists the tags of resources, or the resources carrying given tags (every page).",
        &[
            req(api("resource_type", Kind::Str, "ResourceType", "instance | disk | securitygroup | command | …")),
            api("resource_ids", Kind::StrList, "ResourceId", "Only these resources."),
            local("tags", Kind::Map, "Only resources with these tags, key to value."),
        ],
        "the API map; TagResources.TagResource[] = #{ResourceId, ResourceType, TagKey, TagValue}",
        "for t in list_tag_resources(#{ resource_type: \"instance\", tags: #{ team: \"web\" } }).TagResources.TagResource { print(t.ResourceId); }",
        Handler::Custom(super::tags::list_tag_resources)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_actions_are_registered() {
        let mut seen = HashSet::new();
        for f in TABLE {
            assert!(seen.insert(f.name), "duplicate {}", f.name);
            if let Some(a) = f.action {
                assert!(
                    crate::ops::find(a.product, a.name).is_some(),
                    "{}: {} not in ops::ACTIONS",
                    f.name,
                    a.name
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

    /// Registered actions without a function of their own, and why: reachable through
    /// `call_api` only. Every ECS/VPC action is in the table or here, never both.
    const RAW_ONLY: &[(&crate::ops::Action, &str)] = &[
        (&A::START_INSTANCE, "start_instances is the batch form"),
        (&A::STOP_INSTANCE, "stop_instances is the batch form"),
        (&A::REBOOT_INSTANCE, "reboot_instances is the batch form"),
        (&A::DELETE_INSTANCE, "delete_instances is the batch form"),
        (
            &A::CREATE_INSTANCE,
            "legacy; run_instances creates and starts",
        ),
        (
            &A::ALLOCATE_PUBLIC_IP_ADDRESS,
            "internet_max_bandwidth_out > 0 in run_instances",
        ),
        (
            &A::DESCRIBE_CLOUD_ASSISTANT_STATUS,
            "wait_cloud_assistant reads it",
        ),
        (
            &A::DESCRIBE_SECURITY_GROUP_ATTRIBUTE,
            "call_api for a group's rules; the guard reads it for ModifySecurityGroupRule",
        ),
        (&A::DESCRIBE_SEND_FILE_RESULTS, "send_file waits on it"),
        (&A::CREATE_VPC, "ensure_vpc_and_vswitch creates and waits"),
        (
            &A::CREATE_VSWITCH,
            "ensure_vpc_and_vswitch creates and waits",
        ),
        (
            &A::DESCRIBE_VPCS,
            "ensure_vpc_and_vswitch and wait_vpc read it",
        ),
        (&A::DESCRIBE_VPC_ATTRIBUTE, "call_api for a VPC's contents"),
        (
            &A::DESCRIBE_VSWITCHES,
            "ensure_vpc_and_vswitch and wait_vswitch read it",
        ),
        (&A::DESCRIBE_VSWITCH_ATTRIBUTES, "call_api for one vswitch"),
        (&A::ECS_CREATE_VPC, "old SDKs' wire form; scripts use VPC's"),
        (
            &A::ECS_CREATE_VSWITCH,
            "old SDKs' wire form; scripts use VPC's",
        ),
        (
            &A::ECS_DESCRIBE_VPCS,
            "old SDKs' wire form; scripts use VPC's",
        ),
        (
            &A::ECS_DESCRIBE_VSWITCHES,
            "old SDKs' wire form; scripts use VPC's",
        ),
        (
            &A::ECS_DELETE_VSWITCH,
            "old SDKs' wire form; scripts use VPC's",
        ),
        (&A::ECS_DELETE_VPC, "old SDKs' wire form; scripts use VPC's"),
    ];

    #[test]
    fn every_action_has_a_function_or_is_documented_raw_only() {
        for a in crate::ops::ACTIONS
            .iter()
            .filter(|a| crate::ops::Product::ALL.contains(&a.product))
        {
            let rows = TABLE
                .iter()
                .filter(|f| f.action.is_some_and(|x| x.is(a)))
                .count();
            let raw = RAW_ONLY.iter().filter(|(x, _)| x.is(a)).count();
            assert!(
                (rows > 0) != (raw > 0) && raw <= 1,
                "{} {}: {rows} function rows and {raw} raw-only entries; give it a function \
                 (a row with Some(&A::…)) or one RAW_ONLY entry saying why, not both",
                a.product,
                a.name
            );
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
}
