//! The table of actions. Add an action here and the client, host, guard, ledger, help and
//! simulator all learn of it; the simulator's tests fail until it has a handler.

use super::Product::{Ecs, Sts, Vpc};
use super::ResourceKind as K;
use super::{Action, Effect, Paging, Product};

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

const fn charged(mut a: Action) -> Action {
    a.chargeable = true;
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

pub static ACTIONS: &[Action] = &[
    // --- Discovery -------------------------------------------------------------------------
    read(Ecs, "DescribeRegions", &[], "Lists the regions, with their endpoints and status."),
    read(Ecs, "DescribeZones", R, "Lists the zones of a region with the instance types and disk categories each offers."),
    read(Ecs, "DescribeRecommendInstanceType", &["RegionId", "NetworkType"],
        "Recommends instance types for a vCPU/memory requirement, sorted by stock, price or newness."),
    tokens(read(Ecs, "DescribeInstanceTypes", &[], "Lists instance types with vCPU, memory (GiB) and GPU details."),
        "InstanceTypes.InstanceType", 1600, 1600),
    read(Ecs, "DescribeInstanceTypeFamilies", R, "Lists the instance families of a region, by generation."),
    read(Ecs, "DescribeAvailableResource", &["RegionId", "DestinationResource"],
        "Shows what can be bought in each zone: instance types, disk categories, with their stock status."),
    read(Ecs, "DescribePrice", R, "Quotes the price of a configuration (instance type, disks, bandwidth, amount, period)."),
    pages(read(Ecs, "DescribeImages", R, "Lists images; ImageFamily returns the latest image of a family."),
        "Images.Image", 100),
    // --- Security groups -------------------------------------------------------------------
    create(Ecs, "CreateSecurityGroup", K::SecurityGroup, "SecurityGroupId", R, "Creates a security group in a VPC."),
    repeatable(mutate(Ecs, "AuthorizeSecurityGroup", &["RegionId", "SecurityGroupId"], "Adds inbound rules to a security group.")),
    repeatable(mutate(Ecs, "AuthorizeSecurityGroupEgress", &["RegionId", "SecurityGroupId"], "Adds outbound rules to a security group.")),
    repeatable(mutate(Ecs, "RevokeSecurityGroup", &["RegionId", "SecurityGroupId"], "Removes inbound rules from a security group.")),
    tokens(json(read(Ecs, "DescribeSecurityGroups", R, "Lists security groups (no rules; see DescribeSecurityGroupAttribute)."),
        &["SecurityGroupIds"]), "SecurityGroups.SecurityGroup", 100, 10),
    read(Ecs, "DescribeSecurityGroupAttribute", &["RegionId", "SecurityGroupId"], "Shows a security group with its rules."),
    delete(Ecs, "DeleteSecurityGroup", K::SecurityGroup, &["RegionId", "SecurityGroupId"],
        "Deletes a security group; fails with DependencyViolation while instances are still in it."),
    // --- Instances ---------------------------------------------------------------------------
    charged(create(Ecs, "RunInstances", K::Instance, "InstanceIdSets.InstanceIdSet", R,
        "Creates and starts instances (Pending -> Starting -> Running). Costs money.")),
    charged(create(Ecs, "CreateInstance", K::Instance, "InstanceId", &["RegionId", "InstanceType"],
        "Creates one instance in the Stopped state (legacy; prefer RunInstances). Costs money.")),
    tokens(json(read(Ecs, "DescribeInstances", R, "Lists instances with their status, network and tags."),
        &["InstanceIds", "PrivateIpAddresses", "PublicIpAddresses", "EipAddresses"]), "Instances.Instance", 100, 10),
    pages(read(Ecs, "DescribeInstanceStatus", R, "Lists the status of instances; lighter than DescribeInstances."),
        "InstanceStatuses.InstanceStatus", 50),
    resumes(mutate(Ecs, "StartInstance", &["InstanceId"],
        "Starts a Stopped instance; one stopped in StopCharging mode is billed again (quoted and asked).")),
    mutate(Ecs, "StopInstance", &["InstanceId"], "Stops a Running instance."),
    mutate(Ecs, "RebootInstance", &["InstanceId"], "Reboots a Running instance."),
    delete(Ecs, "DeleteInstance", K::Instance, &["InstanceId"],
        "Releases one instance; Force=true releases a Running one."),
    delete(Ecs, "DeleteInstances", K::Instance, &["RegionId", "InstanceId.N"],
        "Releases up to 100 instances; Force=true releases Running ones."),
    repeatable(mutate(Ecs, "ModifyInstanceAutoReleaseTime", &["RegionId", "InstanceId"], "Sets (AutoReleaseTime, UTC yyyy-MM-ddTHH:mm:ssZ, 30 minutes to 3 years ahead) or clears (no AutoReleaseTime) when a pay-as-you-go instance is released automatically.")),
    charged(no_token(create(Ecs, "AllocatePublicIpAddress", K::PublicIp, "IpAddress", &["InstanceId"],
        "Gives an instance a public IP (needs InternetMaxBandwidthOut > 0). Costs money."))),
    // --- Disks -------------------------------------------------------------------------------
    charged(create(Ecs, "CreateDisk", K::Disk, "DiskId", R, "Creates a pay-as-you-go data disk. Costs money.")),
    tokens(json(read(Ecs, "DescribeDisks", R, "Lists disks."), &["DiskIds"]), "Disks.Disk", 100, 10),
    delete(Ecs, "DeleteDisk", K::Disk, &["DiskId"], "Releases a data disk that is not attached."),
    // --- Cloud Assistant ---------------------------------------------------------------------
    tokened(mutate(Ecs, "RunCommand", &["RegionId", "Type", "CommandContent", "InstanceId.N"],
        "Runs a shell or PowerShell script on instances through Cloud Assistant; returns an InvokeId.")),
    pages(read(Ecs, "DescribeInvocations", R, "Shows the status of command invocations (one row per invoke)."),
        "Invocations.Invocation", 50),
    Action {
        paging_root: Some("Invocation"),
        ..pages(read(Ecs, "DescribeInvocationResults", R, "Shows per-instance results: status, exit code, Base64 output."),
            "Invocation.InvocationResults.InvocationResult", 50)
    },
    pages(read(Ecs, "DescribeCloudAssistantStatus", R, "Shows whether the Cloud Assistant agent is online on instances."),
        "InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus", 50),
    // --- Tags --------------------------------------------------------------------------------
    repeatable(mutate(Ecs, "TagResources", &["RegionId", "ResourceType", "ResourceId.N", "Tag.N.Key"], "Adds or overwrites tags on resources.")),
    repeatable(mutate(Ecs, "UntagResources", &["RegionId", "ResourceType", "ResourceId.N"], "Removes tags from resources.")),
    tokens(read(Ecs, "ListTagResources", &["RegionId", "ResourceType"], "Lists the tags of resources, or the resources with given tags."),
        "TagResources.TagResource", 50, 50),
    // --- VPC ---------------------------------------------------------------------------------
    create(Vpc, "CreateVpc", K::Vpc, "VpcId", R, "Creates a VPC (Pending -> Available)."),
    create(Vpc, "CreateVSwitch", K::VSwitch, "VSwitchId", &["RegionId", "VpcId", "ZoneId", "CidrBlock"],
        "Creates a vswitch in a VPC and zone; its CIDR must be inside the VPC's and not overlap another."),
    pages(read(Vpc, "DescribeVpcs", R, "Lists VPCs; VpcId takes up to 20 comma-separated ids."), "Vpcs.Vpc", 50),
    read(Vpc, "DescribeVpcAttribute", &["VpcId"], "Shows one VPC, with what it still contains."),
    pages(read(Vpc, "DescribeVSwitches", &[], "Lists vswitches."), "VSwitches.VSwitch", 50),
    read(Vpc, "DescribeVSwitchAttributes", &["VSwitchId"], "Shows one vswitch."),
    delete(Vpc, "DeleteVSwitch", K::VSwitch, &["VSwitchId"], "Deletes an empty vswitch."),
    delete(Vpc, "DeleteVpc", K::Vpc, &["VpcId"], "Deletes an empty VPC (no vswitches or security groups left)."),
    charged(create(Vpc, "AllocateEipAddress", K::Eip, "AllocationId", R, "Allocates an elastic IP address. Costs money.")),
    pages(read(Vpc, "DescribeEipAddresses", R, "Lists elastic IP addresses."), "EipAddresses.EipAddress", 100),
    delete(Vpc, "ReleaseEipAddress", K::Eip, &["AllocationId"], "Releases an elastic IP address."),
    // --- STS (the credential chain and `ecsh whoami --check`; not reachable from scripts) ----
    read(Sts, "AssumeRole", &["RoleArn", "RoleSessionName"],
        "Returns temporary credentials of a RAM role, signed with the caller's keys (DurationSeconds, Policy, ExternalId)."),
    read(Sts, "AssumeRoleWithOIDC", &["RoleArn", "OIDCProviderArn", "OIDCToken", "RoleSessionName"],
        "Returns temporary credentials of a RAM role for an OIDC token (RRSA, CI); unsigned, the token is the proof."),
    read(Sts, "GetCallerIdentity", &[], "Shows who the credentials belong to: account, principal, identity type."),
    // --- VPC actions that ECS's own version (2014-05-26) still serves ------------------------
    // Old SDKs (aliyun-python-sdk-ecs' CreateVpcRequest and friends) send these with
    // Version=2014-05-26; the resources are the same VPCs and vswitches as VPC's.
    on_ecs(create(Vpc, "CreateVpc", K::Vpc, "VpcId", R, "Creates a VPC (ECS 2014-05-26 form of VPC's CreateVpc).")),
    on_ecs(create(Vpc, "CreateVSwitch", K::VSwitch, "VSwitchId", &["RegionId", "VpcId", "ZoneId", "CidrBlock"],
        "Creates a vswitch (ECS 2014-05-26 form of VPC's CreateVSwitch).")),
    on_ecs(pages(read(Vpc, "DescribeVpcs", R, "Lists VPCs (ECS 2014-05-26 form of VPC's DescribeVpcs)."), "Vpcs.Vpc", 50)),
    on_ecs(pages(read(Vpc, "DescribeVSwitches", &[], "Lists vswitches (ECS 2014-05-26 form of VPC's DescribeVSwitches)."),
        "VSwitches.VSwitch", 50)),
    on_ecs(delete(Vpc, "DeleteVSwitch", K::VSwitch, &["VSwitchId"], "Deletes a vswitch (ECS 2014-05-26 form of VPC's DeleteVSwitch).")),
    on_ecs(delete(Vpc, "DeleteVpc", K::Vpc, &["VpcId"], "Deletes a VPC (ECS 2014-05-26 form of VPC's DeleteVpc).")),
];

/// Moves an action to ECS's API version (the legacy VPC actions above).
const fn on_ecs(mut a: Action) -> Action {
    a.product = Ecs;
    a
}

/// The actions whose API defines a `DryRun` parameter (per the Tea SDK models
/// alibabacloud-ecs20140526 7.11.8 and alibabacloud-vpc20160428 7.2.2: the `*Request` class
/// has a `dry_run` field). Elsewhere the real service ignores `DryRun` and does the work.
pub static DRY_RUN: &[(Product, &str)] = &[
    (Ecs, "DescribeImages"),
    (Ecs, "DescribeSecurityGroups"),
    (Ecs, "RunInstances"),
    (Ecs, "CreateInstance"),
    (Ecs, "DescribeInstances"),
    (Ecs, "StartInstance"),
    (Ecs, "StopInstance"),
    (Ecs, "RebootInstance"),
    (Ecs, "DeleteInstance"),
    (Ecs, "DeleteInstances"),
    (Ecs, "DescribeDisks"),
    (Vpc, "CreateVpc"),
    (Vpc, "DescribeVpcs"),
    (Vpc, "DescribeVpcAttribute"),
    (Vpc, "DescribeVSwitches"),
    (Vpc, "DescribeVSwitchAttributes"),
    (Vpc, "DeleteVSwitch"),
    (Vpc, "DeleteVpc"),
    (Vpc, "DescribeEipAddresses"),
];

/// The reads that answer from the provider's catalogue (what exists, what it costs, what is in
/// stock), not from the account: `ecsh plan` forwards exactly these to the target, read-only,
/// and answers every other read from its shadow of the account (`crate::plan`).
pub static CATALOGUE: &[(Product, &str)] = &[
    (Ecs, "DescribeRegions"),
    (Ecs, "DescribeZones"),
    (Ecs, "DescribeRecommendInstanceType"),
    (Ecs, "DescribeInstanceTypes"),
    (Ecs, "DescribeInstanceTypeFamilies"),
    (Ecs, "DescribeAvailableResource"),
    (Ecs, "DescribePrice"),
    (Ecs, "DescribeImages"),
];
