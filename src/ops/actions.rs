//! The table of actions. Add an action here and the client, host, guard, ledger, help and
//! simulator all learn of it; the simulator's tests fail until it has a handler.
//!
//! Each action is a named constant (`RUN_INSTANCES`), listed in [`ACTIONS`]; the rest of the
//! crate refers to the constant (`&A::RUN_INSTANCES`, `A` being `ops::actions`), so the name is
//! written here only. Adding one: `pub const NAME: Action = <constructor>;` in its section, and
//! `NAME,` in [`ACTIONS`] at the same place. One entry a line or two, as a table: rustfmt
//! leaves this file alone (`#[rustfmt::skip]` on its `mod`).

use super::Product::{Ecs, Sts, Vpc};
use super::ResourceKind as K;
use super::{Action, Effect, Paging, Pricing, Product};

const fn read(
    product: Product,
    name: &'static str,
    required: &'static [&'static str],
    doc: &'static str,
) -> Action {
    Action {
        product,
        name,
        effect: Effect::Read,
        chargeable: false,
        resumes_billing: false,
        client_token: false,
        required,
        json_params: &[],
        paging: Paging::None,
        list_path: None,
        paging_root: None,
        repeatable: false,
        pricing: Pricing::Unpriced,
        charged_by: &[],
        ingress: false,
        doc,
    }
}

const fn pages(mut a: Action, list: &'static str, max_size: u32) -> Action {
    a.paging = Paging::Pages {
        max_size,
        default_size: 10,
    };
    a.list_path = Some(list);
    a
}

const fn tokens(mut a: Action, list: &'static str, max_size: u32, default_size: u32) -> Action {
    a.paging = Paging::Token {
        max_size,
        default_size,
    };
    a.list_path = Some(list);
    a
}

const fn json(mut a: Action, params: &'static [&'static str]) -> Action {
    a.json_params = params;
    a
}

const fn create(
    product: Product,
    name: &'static str,
    kind: K,
    id_path: &'static str,
    required: &'static [&'static str],
    doc: &'static str,
) -> Action {
    Action {
        effect: Effect::Create { kind, id_path },
        client_token: true,
        ..read(product, name, required, doc)
    }
}

/// Costs money: the guard asks before it is sent, with a block that says it cannot be priced
/// (give it a [`Pricing`] with [`priced`] when the guard knows how to quote it).
const fn charged(mut a: Action) -> Action {
    a.chargeable = true;
    a
}

/// Costs money and the guard quotes it as `pricing` says (`guard::quote`), then asks.
const fn priced(a: Action, pricing: Pricing) -> Action {
    let mut a = charged(a);
    a.pricing = pricing;
    a
}

/// Its parameters describe inbound rules: the guard's public-port policy applies.
const fn ingress(mut a: Action) -> Action {
    a.ingress = true;
    a
}

const fn resumes(mut a: Action) -> Action {
    a.resumes_billing = true;
    a
}

const fn no_token(mut a: Action) -> Action {
    a.client_token = false;
    a
}

const fn delete(
    product: Product,
    name: &'static str,
    kind: K,
    required: &'static [&'static str],
    doc: &'static str,
) -> Action {
    Action {
        effect: Effect::Delete(kind),
        ..read(product, name, required, doc)
    }
}

const fn mutate(
    product: Product,
    name: &'static str,
    required: &'static [&'static str],
    doc: &'static str,
) -> Action {
    Action {
        effect: Effect::Mutate,
        ..read(product, name, required, doc)
    }
}

/// Doing it twice is the same as doing it once (re-adding an existing rule or tag is a
/// no-op), so a retry after a server error cannot do anything twice.
const fn repeatable(mut a: Action) -> Action {
    a.repeatable = true;
    a
}

/// A mutation that takes a `ClientToken` (the service runs it once per token), so the
/// client sends one and a retry after a server error cannot run it twice.
const fn tokened(mut a: Action) -> Action {
    a.client_token = true;
    a
}

const R: &[&str] = &["RegionId"];

// --- Discovery -------------------------------------------------------------------------
pub const DESCRIBE_REGIONS: Action = read(Ecs, "DescribeRegions", &[], "Lists the regions, with their endpoints and status.");
pub const DESCRIBE_ZONES: Action = read(Ecs, "DescribeZones", R, "Lists the zones of a region with the instance types and disk categories each offers.");
pub const DESCRIBE_RECOMMEND_INSTANCE_TYPE: Action = read(Ecs, "DescribeRecommendInstanceType", &["RegionId", "NetworkType"],
    "Recommends instance types for a vCPU/memory requirement, sorted by stock, price or newness.");
pub const DESCRIBE_INSTANCE_TYPES: Action = tokens(read(Ecs, "DescribeInstanceTypes", &[], "Lists instance types with vCPU, memory (GiB) and GPU details."),
    "InstanceTypes.InstanceType", 1600, 1600);
pub const DESCRIBE_INSTANCE_TYPE_FAMILIES: Action = read(Ecs, "DescribeInstanceTypeFamilies", R, "Lists the instance families of a region, by generation.");
pub const DESCRIBE_AVAILABLE_RESOURCE: Action = read(Ecs, "DescribeAvailableResource", &["RegionId", "DestinationResource"],
    "Shows what can be bought in each zone: instance types, disk categories, with their stock status.");
pub const DESCRIBE_PRICE: Action = read(Ecs, "DescribePrice", R, "Quotes the price of a configuration (instance type, disks, bandwidth, amount, period).");
pub const DESCRIBE_IMAGES: Action = pages(read(Ecs, "DescribeImages", R, "Lists images; ImageFamily returns the latest image of a family."),
    "Images.Image", 100);

// --- Security groups -------------------------------------------------------------------
pub const CREATE_SECURITY_GROUP: Action = create(Ecs, "CreateSecurityGroup", K::SecurityGroup, "SecurityGroupId", R, "Creates a security group in a VPC.");
pub const AUTHORIZE_SECURITY_GROUP: Action = ingress(repeatable(mutate(Ecs, "AuthorizeSecurityGroup", &["RegionId", "SecurityGroupId"], "Adds inbound rules to a security group.")));
pub const AUTHORIZE_SECURITY_GROUP_EGRESS: Action = repeatable(mutate(Ecs, "AuthorizeSecurityGroupEgress", &["RegionId", "SecurityGroupId"], "Adds outbound rules to a security group."));
pub const REVOKE_SECURITY_GROUP: Action = repeatable(mutate(Ecs, "RevokeSecurityGroup", &["RegionId", "SecurityGroupId"], "Removes inbound rules from a security group."));
pub const DESCRIBE_SECURITY_GROUPS: Action = tokens(json(read(Ecs, "DescribeSecurityGroups", R, "Lists security groups (no rules; see DescribeSecurityGroupAttribute)."),
    &["SecurityGroupIds"]), "SecurityGroups.SecurityGroup", 100, 10);
pub const DESCRIBE_SECURITY_GROUP_ATTRIBUTE: Action = read(Ecs, "DescribeSecurityGroupAttribute", &["RegionId", "SecurityGroupId"], "Shows a security group with its rules.");
pub const DELETE_SECURITY_GROUP: Action = delete(Ecs, "DeleteSecurityGroup", K::SecurityGroup, &["RegionId", "SecurityGroupId"],
    "Deletes a security group; fails with DependencyViolation while instances are still in it.");

// --- Instances ---------------------------------------------------------------------------
pub const RUN_INSTANCES: Action = priced(create(Ecs, "RunInstances", K::Instance, "InstanceIdSets.InstanceIdSet", R,
    "Creates and starts instances (Pending -> Starting -> Running). Costs money."), Pricing::Instances { one: false });
pub const CREATE_INSTANCE: Action = priced(create(Ecs, "CreateInstance", K::Instance, "InstanceId", &["RegionId", "InstanceType"],
    "Creates one instance in the Stopped state (legacy; prefer RunInstances). Costs money."), Pricing::Instances { one: true });
pub const DESCRIBE_INSTANCES: Action = tokens(json(read(Ecs, "DescribeInstances", R, "Lists instances with their status, network and tags."),
    &["InstanceIds", "PrivateIpAddresses", "PublicIpAddresses", "EipAddresses"]), "Instances.Instance", 100, 10);
pub const DESCRIBE_INSTANCE_STATUS: Action = pages(read(Ecs, "DescribeInstanceStatus", R, "Lists the status of instances; lighter than DescribeInstances."),
    "InstanceStatuses.InstanceStatus", 50);
pub const START_INSTANCE: Action = resumes(mutate(Ecs, "StartInstance", &["InstanceId"],
    "Starts a Stopped instance; one stopped in StopCharging mode is billed again (quoted and asked)."));
pub const STOP_INSTANCE: Action = mutate(Ecs, "StopInstance", &["InstanceId"], "Stops a Running instance.");
pub const REBOOT_INSTANCE: Action = mutate(Ecs, "RebootInstance", &["InstanceId"], "Reboots a Running instance.");
pub const DELETE_INSTANCE: Action = delete(Ecs, "DeleteInstance", K::Instance, &["InstanceId"],
    "Releases one instance; Force=true releases a Running one.");
pub const DELETE_INSTANCES: Action = delete(Ecs, "DeleteInstances", K::Instance, &["RegionId", "InstanceId.N"],
    "Releases up to 100 instances; Force=true releases Running ones.");
pub const MODIFY_INSTANCE_AUTO_RELEASE_TIME: Action = repeatable(mutate(Ecs, "ModifyInstanceAutoReleaseTime", &["RegionId", "InstanceId"], "Sets (AutoReleaseTime, UTC yyyy-MM-ddTHH:mm:ssZ, 30 minutes to 3 years ahead) or clears (no AutoReleaseTime) when a pay-as-you-go instance is released automatically."));
pub const ALLOCATE_PUBLIC_IP_ADDRESS: Action = priced(no_token(create(Ecs, "AllocatePublicIpAddress", K::PublicIp, "IpAddress", &["InstanceId"],
    "Gives an instance a public IP (needs InternetMaxBandwidthOut > 0). Costs money.")), Pricing::PublicIp);

// --- Instances (issue 15) ----------------------------------------------------------------
pub const START_INSTANCES: Action = resumes(mutate(Ecs, "StartInstances", &["RegionId", "InstanceId.N"],
    "Starts up to 100 Stopped instances (BatchOptimization AllTogether | SuccessFirst); ones stopped in StopCharging mode are billed again (quoted and asked)."));
pub const STOP_INSTANCES: Action = mutate(Ecs, "StopInstances", &["RegionId", "InstanceId.N"],
    "Stops up to 100 Running instances; StoppedMode=StopCharging keeps them but stops billing their vCPU and memory (pay-as-you-go, VPC).");
pub const REBOOT_INSTANCES: Action = mutate(Ecs, "RebootInstances", &["RegionId", "InstanceId.N"],
    "Reboots up to 100 Running instances (ForceReboot: like pulling the power).");
pub const MODIFY_INSTANCE_ATTRIBUTE: Action = Action {
    charged_by: &["CreditSpecification"],
    ..repeatable(mutate(Ecs, "ModifyInstanceAttribute", &["InstanceId"],
        "Changes an instance's name, description, host name, security groups or deletion protection (CreditSpecification is asked: it can cost money)."))
};
pub const DESCRIBE_INSTANCE_ATTRIBUTE: Action = read(Ecs, "DescribeInstanceAttribute", &["InstanceId"],
    "Shows one instance's attributes: type, status, network, StoppedMode, charge type.");
pub const MODIFY_INSTANCE_SPEC: Action = tokened(priced(mutate(Ecs, "ModifyInstanceSpec", &["InstanceId"],
    "Changes a pay-as-you-go instance's type (it must be Stopped) or bandwidth. Changes what it costs: quoted against the old type and asked."),
    Pricing::InstanceSpec));

// --- Disks -------------------------------------------------------------------------------
pub const CREATE_DISK: Action = priced(create(Ecs, "CreateDisk", K::Disk, "DiskId", R, "Creates a pay-as-you-go data disk. Costs money."), Pricing::Disk);
pub const DESCRIBE_DISKS: Action = tokens(json(read(Ecs, "DescribeDisks", R, "Lists disks."), &["DiskIds"]), "Disks.Disk", 100, 10);
pub const DELETE_DISK: Action = delete(Ecs, "DeleteDisk", K::Disk, &["DiskId"], "Releases a data disk that is not attached.");

// --- Cloud Assistant ---------------------------------------------------------------------
pub const RUN_COMMAND: Action = tokened(mutate(Ecs, "RunCommand", &["RegionId", "Type", "CommandContent", "InstanceId.N"],
    "Runs a shell or PowerShell script on instances through Cloud Assistant; returns an InvokeId."));
pub const DESCRIBE_INVOCATIONS: Action = pages(read(Ecs, "DescribeInvocations", R, "Shows the status of command invocations (one row per invoke)."),
    "Invocations.Invocation", 50);
pub const DESCRIBE_INVOCATION_RESULTS: Action = Action {
    paging_root: Some("Invocation"),
    ..pages(read(Ecs, "DescribeInvocationResults", R, "Shows per-instance results: status, exit code, Base64 output."),
        "Invocation.InvocationResults.InvocationResult", 50)
};
pub const DESCRIBE_CLOUD_ASSISTANT_STATUS: Action = pages(read(Ecs, "DescribeCloudAssistantStatus", R, "Shows whether the Cloud Assistant agent is online on instances."),
    "InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus", 50);

// --- Tags --------------------------------------------------------------------------------
pub const TAG_RESOURCES: Action = repeatable(mutate(Ecs, "TagResources", &["RegionId", "ResourceType", "ResourceId.N", "Tag.N.Key"], "Adds or overwrites tags on resources."));
pub const UNTAG_RESOURCES: Action = repeatable(mutate(Ecs, "UntagResources", &["RegionId", "ResourceType", "ResourceId.N"], "Removes tags from resources."));
pub const LIST_TAG_RESOURCES: Action = tokens(read(Ecs, "ListTagResources", &["RegionId", "ResourceType"], "Lists the tags of resources, or the resources with given tags."),
    "TagResources.TagResource", 50, 50);

// --- VPC ---------------------------------------------------------------------------------
pub const CREATE_VPC: Action = create(Vpc, "CreateVpc", K::Vpc, "VpcId", R, "Creates a VPC (Pending -> Available).");
pub const CREATE_VSWITCH: Action = create(Vpc, "CreateVSwitch", K::VSwitch, "VSwitchId", &["RegionId", "VpcId", "ZoneId", "CidrBlock"],
    "Creates a vswitch in a VPC and zone; its CIDR must be inside the VPC's and not overlap another.");
pub const DESCRIBE_VPCS: Action = pages(read(Vpc, "DescribeVpcs", R, "Lists VPCs; VpcId takes up to 20 comma-separated ids."), "Vpcs.Vpc", 50);
pub const DESCRIBE_VPC_ATTRIBUTE: Action = read(Vpc, "DescribeVpcAttribute", &["VpcId"], "Shows one VPC, with what it still contains.");
pub const DESCRIBE_VSWITCHES: Action = pages(read(Vpc, "DescribeVSwitches", &[], "Lists vswitches."), "VSwitches.VSwitch", 50);
pub const DESCRIBE_VSWITCH_ATTRIBUTES: Action = read(Vpc, "DescribeVSwitchAttributes", &["VSwitchId"], "Shows one vswitch.");
pub const DELETE_VSWITCH: Action = delete(Vpc, "DeleteVSwitch", K::VSwitch, &["VSwitchId"], "Deletes an empty vswitch.");
pub const DELETE_VPC: Action = delete(Vpc, "DeleteVpc", K::Vpc, &["VpcId"], "Deletes an empty VPC (no vswitches or security groups left).");
pub const ALLOCATE_EIP_ADDRESS: Action = priced(create(Vpc, "AllocateEipAddress", K::Eip, "AllocationId", R, "Allocates an elastic IP address. Costs money."), Pricing::Eip);
pub const DESCRIBE_EIP_ADDRESSES: Action = pages(read(Vpc, "DescribeEipAddresses", R, "Lists elastic IP addresses."), "EipAddresses.EipAddress", 100);
pub const RELEASE_EIP_ADDRESS: Action = delete(Vpc, "ReleaseEipAddress", K::Eip, &["AllocationId"], "Releases an elastic IP address.");

// --- STS (the credential chain and `ecsh whoami --check`; not reachable from scripts) ----
pub const ASSUME_ROLE: Action = read(Sts, "AssumeRole", &["RoleArn", "RoleSessionName"],
    "Returns temporary credentials of a RAM role, signed with the caller's keys (DurationSeconds, Policy, ExternalId).");
pub const ASSUME_ROLE_WITH_OIDC: Action = read(Sts, "AssumeRoleWithOIDC", &["RoleArn", "OIDCProviderArn", "OIDCToken", "RoleSessionName"],
    "Returns temporary credentials of a RAM role for an OIDC token (RRSA, CI); unsigned, the token is the proof.");
pub const GET_CALLER_IDENTITY: Action = read(Sts, "GetCallerIdentity", &[], "Shows who the credentials belong to: account, principal, identity type.");

// --- VPC actions that ECS's own version (2014-05-26) still serves ------------------------
// Old SDKs (aliyun-python-sdk-ecs' CreateVpcRequest and friends) send these with
// Version=2014-05-26; the resources are the same VPCs and vswitches as VPC's.
pub const ECS_CREATE_VPC: Action = on_ecs(CREATE_VPC, "Creates a VPC (ECS 2014-05-26 form of VPC's CreateVpc).");
pub const ECS_CREATE_VSWITCH: Action = on_ecs(CREATE_VSWITCH, "Creates a vswitch (ECS 2014-05-26 form of VPC's CreateVSwitch).");
pub const ECS_DESCRIBE_VPCS: Action = on_ecs(DESCRIBE_VPCS, "Lists VPCs (ECS 2014-05-26 form of VPC's DescribeVpcs).");
pub const ECS_DESCRIBE_VSWITCHES: Action = on_ecs(DESCRIBE_VSWITCHES, "Lists vswitches (ECS 2014-05-26 form of VPC's DescribeVSwitches).");
pub const ECS_DELETE_VSWITCH: Action = on_ecs(DELETE_VSWITCH, "Deletes a vswitch (ECS 2014-05-26 form of VPC's DeleteVSwitch).");
pub const ECS_DELETE_VPC: Action = on_ecs(DELETE_VPC, "Deletes a VPC (ECS 2014-05-26 form of VPC's DeleteVpc).");

/// Every action, in the order of the sections above.
pub static ACTIONS: &[Action] = &[
    // --- Discovery -------------------------------------------------------------------------
    DESCRIBE_REGIONS,
    DESCRIBE_ZONES,
    DESCRIBE_RECOMMEND_INSTANCE_TYPE,
    DESCRIBE_INSTANCE_TYPES,
    DESCRIBE_INSTANCE_TYPE_FAMILIES,
    DESCRIBE_AVAILABLE_RESOURCE,
    DESCRIBE_PRICE,
    DESCRIBE_IMAGES,
    // --- Security groups -------------------------------------------------------------------
    CREATE_SECURITY_GROUP,
    AUTHORIZE_SECURITY_GROUP,
    AUTHORIZE_SECURITY_GROUP_EGRESS,
    REVOKE_SECURITY_GROUP,
    DESCRIBE_SECURITY_GROUPS,
    DESCRIBE_SECURITY_GROUP_ATTRIBUTE,
    DELETE_SECURITY_GROUP,
    // --- Instances ---------------------------------------------------------------------------
    RUN_INSTANCES,
    CREATE_INSTANCE,
    DESCRIBE_INSTANCES,
    DESCRIBE_INSTANCE_STATUS,
    START_INSTANCE,
    STOP_INSTANCE,
    REBOOT_INSTANCE,
    DELETE_INSTANCE,
    DELETE_INSTANCES,
    MODIFY_INSTANCE_AUTO_RELEASE_TIME,
    ALLOCATE_PUBLIC_IP_ADDRESS,
    // --- Instances (issue 15) ----------------------------------------------------------------
    START_INSTANCES,
    STOP_INSTANCES,
    REBOOT_INSTANCES,
    MODIFY_INSTANCE_ATTRIBUTE,
    DESCRIBE_INSTANCE_ATTRIBUTE,
    MODIFY_INSTANCE_SPEC,
    // --- Disks -------------------------------------------------------------------------------
    CREATE_DISK,
    DESCRIBE_DISKS,
    DELETE_DISK,
    // --- Cloud Assistant ---------------------------------------------------------------------
    RUN_COMMAND,
    DESCRIBE_INVOCATIONS,
    DESCRIBE_INVOCATION_RESULTS,
    DESCRIBE_CLOUD_ASSISTANT_STATUS,
    // --- Tags --------------------------------------------------------------------------------
    TAG_RESOURCES,
    UNTAG_RESOURCES,
    LIST_TAG_RESOURCES,
    // --- VPC ---------------------------------------------------------------------------------
    CREATE_VPC,
    CREATE_VSWITCH,
    DESCRIBE_VPCS,
    DESCRIBE_VPC_ATTRIBUTE,
    DESCRIBE_VSWITCHES,
    DESCRIBE_VSWITCH_ATTRIBUTES,
    DELETE_VSWITCH,
    DELETE_VPC,
    ALLOCATE_EIP_ADDRESS,
    DESCRIBE_EIP_ADDRESSES,
    RELEASE_EIP_ADDRESS,
    // --- STS (the credential chain and `ecsh whoami --check`; not reachable from scripts) ----
    ASSUME_ROLE,
    ASSUME_ROLE_WITH_OIDC,
    GET_CALLER_IDENTITY,
    // --- VPC actions that ECS's own version (2014-05-26) still serves ------------------------
    // Old SDKs (aliyun-python-sdk-ecs' CreateVpcRequest and friends) send these with
    // Version=2014-05-26; the resources are the same VPCs and vswitches as VPC's.
    ECS_CREATE_VPC,
    ECS_CREATE_VSWITCH,
    ECS_DESCRIBE_VPCS,
    ECS_DESCRIBE_VSWITCHES,
    ECS_DELETE_VSWITCH,
    ECS_DELETE_VPC,
];

/// A VPC action in ECS's API version (the legacy forms above), with its own doc.
const fn on_ecs(mut a: Action, doc: &'static str) -> Action {
    a.product = Ecs;
    a.doc = doc;
    a
}

/// The actions whose API defines a `DryRun` parameter (per the Tea SDK models
/// alibabacloud-ecs20140526 7.11.8 and alibabacloud-vpc20160428 7.2.2: the `*Request` class
/// has a `dry_run` field). Elsewhere the real service ignores `DryRun` and does the work.
pub static DRY_RUN: &[&Action] = &[
    &DESCRIBE_IMAGES,
    &DESCRIBE_SECURITY_GROUPS,
    &RUN_INSTANCES,
    &CREATE_INSTANCE,
    &DESCRIBE_INSTANCES,
    &START_INSTANCE,
    &STOP_INSTANCE,
    &REBOOT_INSTANCE,
    &DELETE_INSTANCE,
    &DELETE_INSTANCES,
    &START_INSTANCES,
    &STOP_INSTANCES,
    &REBOOT_INSTANCES,
    &MODIFY_INSTANCE_SPEC,
    &DESCRIBE_DISKS,
    &CREATE_VPC,
    &DESCRIBE_VPCS,
    &DESCRIBE_VPC_ATTRIBUTE,
    &DESCRIBE_VSWITCHES,
    &DESCRIBE_VSWITCH_ATTRIBUTES,
    &DELETE_VSWITCH,
    &DELETE_VPC,
    &DESCRIBE_EIP_ADDRESSES,
];
