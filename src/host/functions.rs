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
        ],
        "#{instance_type, region, zone_id, cores, memory, price_per_hour, currency}",
        "let spec = find_available_instance_type(#{ cores: 2, memory: 4, regions: [\"cn-hangzhou\", \"cn-shanghai\"] });",
        Handler::Stdlib),
    HostFn {
        refused: &[NO_USER_DATA, NO_USER_DATA_API,
            ("image_id", "the image is chosen internally; use image_family to select the OS"),
            ("ImageId", "the image is chosen internally; use image_family to select the OS")],
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
        ],
        "#{instance_id, region, zone_id, instance_type, vpc_id, vswitch_id, security_group_id, image_id, vpc_is_new, vswitch_is_new}",
        "let infra = create_instance_with_infra(#{ instance_type: spec.instance_type, zone_id: spec.zone_id, region: spec.region });",
        Handler::Stdlib)
    },
    HostFn {
        refused: &[NO_USER_DATA, NO_USER_DATA_API],
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
            api("estimated_runtime", Kind::Str, "estimated_runtime", "How long it will run, for the cost estimate (\"90s\", \"5m\", \"2h\", \"1d\"); never sent to the API."),
            api("task_type", Kind::Str, "task_type", "shell | data_processing | training | service: the estimated runtime by the seed's table; never sent to the API."),
            local("extra_params", Kind::Map, "Any other RunInstances parameters by API name (except UserData)."),
            TIMEOUT,
        ],
        "the API map; InstanceIdSets.InstanceIdSet[] = [\"i-…\"] (all Running)",
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
            &A::REVOKE_SECURITY_GROUP,
            "security groups: issue 15's ops15 part",
        ),
        (
            &A::DESCRIBE_SECURITY_GROUPS,
            "security groups: issue 15's ops15 part",
        ),
        (
            &A::DESCRIBE_SECURITY_GROUP_ATTRIBUTE,
            "security groups: issue 15's ops15 part",
        ),
        (&A::TAG_RESOURCES, "tags: issue 15's ops15 part"),
        (&A::UNTAG_RESOURCES, "tags: issue 15's ops15 part"),
        (&A::LIST_TAG_RESOURCES, "tags: issue 15's ops15 part"),
        (&A::CREATE_DISK, "disks: issue 15's res15 part"),
        (&A::DESCRIBE_DISKS, "disks: issue 15's res15 part"),
        (&A::DELETE_DISK, "disks: issue 15's res15 part"),
        (&A::ALLOCATE_EIP_ADDRESS, "EIPs: issue 15's res15 part"),
        (&A::DESCRIBE_EIP_ADDRESSES, "EIPs: issue 15's res15 part"),
        (&A::RELEASE_EIP_ADDRESS, "EIPs: issue 15's res15 part"),
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
