"""The seed's whole ECS workflow, written once, driven through an official SDK by an adapter.

Owns: reading the endpoint and credentials, the workflow's steps and what each must observe
(the real service's response shapes, codes and lifecycles), bounded polling, and releasing what
was created in reverse order with each deletion verified by a describe. It does not know how any
SDK is called: `legacy_workflow.py` and `tea_workflow.py` each pass an adapter whose methods call
the SDK's own generated request classes and return the response as wire-shaped JSON (a dict), or
raise `ApiError`. It never prints the AccessKeySecret.

Run a script with --help for its arguments; exit status 0 means every check passed.
"""

import argparse
import base64
import json
import os
import sys
import time
import traceback
import uuid

# Per-instance Cloud Assistant statuses after which nothing changes any more.
TERMINAL_INVOCATION_STATUSES = {
    "Success", "Failed", "Invalid", "Aborted", "Error", "Timeout", "Cancelled", "Terminated",
}
CORES, MEMORY_GIB = 2, 4.0
VPC_CIDR, VSWITCH_CIDR = "192.168.0.0/16", "192.168.1.0/24"
IMAGE_FAMILY = "acs:ubuntu_24_04_x64"
NOT_FOUND_INSTANCE = "i-ecshsdk0000notfound"
CLEANUP_WAIT_SECONDS = 60.0


class Mismatch(Exception):
    """The simulator answered, but not the way the real service does."""


class ApiError(Exception):
    """An error answer from the service, as the SDK under test reported it."""

    def __init__(self, code, status, message, request_id):
        super().__init__(f"{code} (HTTP {status}): {message} [RequestId {request_id}]")
        self.code = code
        self.status = status
        self.message = message
        self.request_id = request_id


def parse_args(description):
    """Endpoint and credentials from argv, falling back to the ECSH_SIM_* environment."""
    env = os.environ.get
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--endpoint", default=env("ECSH_SIM_ENDPOINT"),
                        help="simulator address, 127.0.0.1:PORT or http://127.0.0.1:PORT "
                             "(env ECSH_SIM_ENDPOINT)")
    parser.add_argument("--access-key-id", default=env("ECSH_SIM_ACCESS_KEY_ID"),
                        help="AccessKeyId the simulator accepts (env ECSH_SIM_ACCESS_KEY_ID)")
    parser.add_argument("--access-key-secret", default=env("ECSH_SIM_ACCESS_KEY_SECRET"),
                        help="its AccessKeySecret (env ECSH_SIM_ACCESS_KEY_SECRET)")
    parser.add_argument("--region", default=env("ECSH_SDK_REGION", "cn-hangzhou"),
                        help="region to work in (env ECSH_SDK_REGION, default cn-hangzhou)")
    parser.add_argument("--wait-seconds", type=float, default=float(env("ECSH_SDK_WAIT_SECONDS", "120")),
                        help="upper bound for each wait: instance Running, command finished, ... "
                             "(env ECSH_SDK_WAIT_SECONDS, default 120)")
    parser.add_argument("--require-execution", action="store_true",
                        default=env("ECSH_SDK_REQUIRE_EXECUTION", "") not in ("", "0"),
                        help="require RunCommand's output to be the command's real output, for a "
                             "simulator started with --sim-exec local (env ECSH_SDK_REQUIRE_EXECUTION=1)")
    args = parser.parse_args()
    missing = [flag for flag, value in (("--endpoint", args.endpoint),
                                        ("--access-key-id", args.access_key_id),
                                        ("--access-key-secret", args.access_key_secret)) if not value]
    if missing:
        parser.error("missing " + ", ".join(missing) +
                     " (`ecsh sim --listen 127.0.0.1:8080` prints all three)")
    args.host = args.endpoint.removeprefix("http://").rstrip("/")
    if "/" in args.host or ":" not in args.host:
        parser.error(f"--endpoint {args.endpoint!r} must look like 127.0.0.1:PORT or http://127.0.0.1:PORT")
    return args


# ---------------------------------------------------------------------------------------------
# Checking and waiting

def expect(condition, what):
    if not condition:
        raise Mismatch(what)


def with_request_id(response, action):
    """Every answer of the real service carries a RequestId; returns `response`."""
    expect(isinstance(response, dict) and response.get("RequestId"),
           f"{action} answered without a RequestId: {json.dumps(response)[:300]}")
    return response


def expect_error(code, call, what, status=None, prefix=False):
    """Runs `call`, which must fail with error `code` (or a `code.*` variant when `prefix`),
    and HTTP `status` when given."""
    try:
        result = call()
    except ApiError as err:
        matches = err.code == code or (prefix and err.code.startswith(code + "."))
        expect(matches, f"{what}: expected error {code}{'[.*]' if prefix else ''}, got {err}")
        expect(err.request_id and err.request_id != "None", f"{what}: the {code} error has no RequestId")
        expect(status is None or err.status == status,
               f"{what}: expected HTTP {status} with {code}, got HTTP {err.status}")
        return err
    raise Mismatch(f"{what}: expected error {code}, but the call succeeded with {result!r}")


def poll(what, probe, wait_seconds):
    """Calls `probe` until it reports done; fails after `wait_seconds`.

    `probe` returns `(done, seen)`: `seen` is the result when done, else what it observed, which
    goes in the failure message.
    """
    deadline = time.monotonic() + wait_seconds
    delay, calls = 0.05, 0
    while True:
        calls += 1
        done, seen = probe()
        if done:
            return seen
        if time.monotonic() >= deadline:
            raise Mismatch(f"{what}: still not done after {wait_seconds:.0f}s and {calls} calls "
                           f"(last seen: {seen})")
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


def retry_on(codes, call, what, wait_seconds):
    """Runs `call`, retrying while it fails with an error code that starts with one of `codes`."""
    def attempt():
        try:
            return True, call()
        except ApiError as err:
            if any(err.code.startswith(code) for code in codes):
                return False, str(err)
            raise
    return poll(what, attempt, wait_seconds)


def items(response, outer, inner):
    """The list at response[outer][inner], the real service's doubly wrapped list shape."""
    wrapper = response.get(outer)
    expect(isinstance(wrapper, dict) and isinstance(wrapper.get(inner), list),
           f"response has no list {outer}.{inner}: {json.dumps(response)[:400]}")
    return wrapper[inner]


def new_client_token():
    """A fresh idempotency token: ASCII, well under the 64-character limit."""
    return "ecsh-sdk-" + uuid.uuid4().hex


# ---------------------------------------------------------------------------------------------
# The workflow, step by step

def check_errors(api, args, log):
    """Errors come back as the SDK's own exceptions with the real codes and statuses."""
    regions = [r.get("RegionId") for r in items(api.describe_regions(), "Regions", "Region")]
    expect(args.region in regions, f"DescribeRegions does not list {args.region}: {regions}")
    log(f"DescribeRegions lists {len(regions)} regions including {args.region}")

    bad_secret = api.with_credentials(args.access_key_id, args.access_key_secret + "-wrong")
    expect_error(api.BAD_SECRET_CODE, bad_secret.describe_regions, "a wrong AccessKeySecret", 400)
    log(f"a wrong AccessKeySecret gives {api.BAD_SECRET_CODE} (HTTP 400)")

    unknown_key = api.with_credentials("LTAIecshsdkunknownkey", args.access_key_secret)
    expect_error("InvalidAccessKeyId.NotFound", unknown_key.describe_regions, "an unknown AccessKeyId", 404)
    log("an unknown AccessKeyId gives InvalidAccessKeyId.NotFound (HTTP 404)")

    expect_error("InvalidInstanceId.NotFound", lambda: api.stop_instance(NOT_FOUND_INSTANCE),
                 "StopInstance on an unknown instance", 404)
    log("StopInstance on an unknown id gives InvalidInstanceId.NotFound (HTTP 404)")
    found = items(api.describe_instances(instance_ids=[NOT_FOUND_INSTANCE]), "Instances", "Instance")
    expect(found == [], f"DescribeInstances of an unknown id should list nothing, got {found}")
    log("DescribeInstances of an unknown id lists nothing")


def in_stock(api, zone_id, instance_type):
    """Whether DescribeAvailableResource reports `instance_type` Available in `zone_id`."""
    response = api.describe_available_resource(zone_id=zone_id, instance_type=instance_type)
    for zone in items(response, "AvailableZones", "AvailableZone"):
        if zone.get("ZoneId") != zone_id:
            continue
        for resource in items(zone, "AvailableResources", "AvailableResource"):
            for supported in items(resource, "SupportedResources", "SupportedResource"):
                if supported.get("Value") == instance_type and supported.get("Status") == "Available":
                    return True
    return False


def pick_instance_type(api, log):
    """Spec lookup then stock check: the first recommended (type, zone) that is in stock."""
    data = api.describe_recommend_instance_type(cores=CORES, memory=MEMORY_GIB).get("Data")
    expect(isinstance(data, dict), "DescribeRecommendInstanceType has no Data object")
    candidates = items({"Data": data}, "Data", "RecommendInstanceType")
    expect(candidates, f"DescribeRecommendInstanceType recommends nothing for {CORES} vCPU / {MEMORY_GIB} GiB")
    log(f"DescribeRecommendInstanceType recommends {len(candidates)} (type, zone) pairs")
    for candidate in candidates:
        instance_type = (candidate.get("InstanceType") or {}).get("InstanceType")
        zone_id = candidate.get("ZoneId")
        expect(instance_type and zone_id, f"recommendation without InstanceType.InstanceType/ZoneId: {candidate}")
        if in_stock(api, zone_id, instance_type):
            log(f"DescribeAvailableResource: {instance_type} is in stock in {zone_id}")
            check_spec(api, instance_type, log)
            return instance_type, zone_id
        log(f"DescribeAvailableResource: {instance_type} is sold out in {zone_id}, trying the next")
    raise Mismatch("none of the recommended instance types is in stock anywhere")


def check_spec(api, instance_type, log):
    """DescribeInstanceTypes agrees that the recommended type has the requested size."""
    found = items(api.describe_instance_types([instance_type]), "InstanceTypes", "InstanceType")
    expect(len(found) == 1 and found[0].get("InstanceTypeId") == instance_type,
           f"DescribeInstanceTypes for {instance_type} returned {found}")
    cores, memory = found[0].get("CpuCoreCount"), found[0].get("MemorySize")
    expect(cores == CORES and float(memory) == MEMORY_GIB,
           f"{instance_type} was recommended for {CORES} vCPU / {MEMORY_GIB} GiB but has "
           f"CpuCoreCount={cores!r} MemorySize={memory!r}")
    log(f"DescribeInstanceTypes: {instance_type} has {cores} vCPU and {memory} GiB")


def quote(api, instance_type, zone_id, log):
    """DescribePrice gives a positive hourly price for the whole configuration."""
    price = (api.describe_price(instance_type, zone_id).get("PriceInfo") or {}).get("Price") or {}
    trade = price.get("TradePrice")
    expect(isinstance(trade, (int, float)) and trade > 0, f"DescribePrice has no positive TradePrice: {price}")
    expect(price.get("Currency") in ("CNY", "USD"), f"DescribePrice currency {price.get('Currency')!r}")
    log(f"DescribePrice: {instance_type} costs {trade} {price['Currency']}/hour")


def wait_status(what, describe, wanted, args, allowed):
    """Polls `describe()` (a status or None when gone) until it is `wanted`."""
    seen = []

    def probe():
        status = describe()
        if not seen or seen[-1] != status:
            seen.append(status)
        expect(status in allowed | {wanted}, f"{what} went through unexpected status {status!r} ({seen})")
        return status == wanted, seen
    return poll(f"{what} to become {wanted}", probe, args.wait_seconds)


def one_status(listing, id_key, resource_id):
    """The Status of `resource_id` in a describe listing, or None when it is not listed."""
    matches = [entry for entry in listing if entry.get(id_key) == resource_id]
    expect(len(matches) <= 1, f"{resource_id} is listed {len(matches)} times")
    return matches[0].get("Status") if matches else None


def create_network(api, args, resources, zone_id, log):
    """VPC then vswitch, each waited to Available, each released (verified) at the end."""
    vpc_id = api.create_vpc(VPC_CIDR, "ecsh-sdk-vpc", new_client_token()).get("VpcId")
    expect(vpc_id and vpc_id.startswith("vpc-"), f"CreateVpc returned VpcId {vpc_id!r}")
    resources.add("VPC", vpc_id, lambda: release_vpc(api, args, vpc_id))
    vpc_status = lambda: one_status(items(api.describe_vpcs(vpc_id), "Vpcs", "Vpc"), "VpcId", vpc_id)
    seen = wait_status(f"VPC {vpc_id}", vpc_status, "Available", args, {"Pending"})
    log(f"CreateVpc {vpc_id}: {' -> '.join(seen)}")

    vswitch_id = api.create_vswitch(vpc_id, zone_id, VSWITCH_CIDR, "ecsh-sdk-vsw").get("VSwitchId")
    expect(vswitch_id and vswitch_id.startswith("vsw-"), f"CreateVSwitch returned VSwitchId {vswitch_id!r}")
    resources.add("VSwitch", vswitch_id, lambda: release_vswitch(api, args, vswitch_id))
    vsw_status = lambda: one_status(items(api.describe_vswitches(vswitch_id), "VSwitches", "VSwitch"),
                                    "VSwitchId", vswitch_id)
    seen = wait_status(f"VSwitch {vswitch_id}", vsw_status, "Available", args, {"Pending"})
    log(f"CreateVSwitch {vswitch_id} in {zone_id}: {' -> '.join(seen)}")
    return vpc_id, vswitch_id


def create_security_group(api, args, resources, vpc_id, log):
    """A group in the VPC with one ingress rule, checked by DescribeSecurityGroupAttribute."""
    sg_id = api.create_security_group(vpc_id, "ecsh-sdk-sg").get("SecurityGroupId")
    expect(sg_id and sg_id.startswith("sg-"), f"CreateSecurityGroup returned {sg_id!r}")
    resources.add("security group", sg_id, lambda: release_security_group(api, args, sg_id))
    api.authorize_security_group(sg_id, "tcp", "80/80", "0.0.0.0/0")
    rules = items(api.describe_security_group_attribute(sg_id), "Permissions", "Permission")
    web = [r for r in rules if r.get("PortRange") == "80/80" and str(r.get("IpProtocol")).lower() == "tcp"
           and r.get("SourceCidrIp") == "0.0.0.0/0"]
    expect(web, f"AuthorizeSecurityGroup 80/80 from 0.0.0.0/0 is not in the group's rules: {rules}")
    log(f"CreateSecurityGroup {sg_id} + AuthorizeSecurityGroup tcp 80/80 (seen in its rules)")
    return sg_id


def find_image(api, log):
    images = items(api.describe_images(IMAGE_FAMILY), "Images", "Image")
    expect(images, f"DescribeImages finds no image in family {IMAGE_FAMILY}")
    image_id = images[0].get("ImageId")
    expect(image_id, f"image without ImageId: {images[0]}")
    log(f"DescribeImages ImageFamily={IMAGE_FAMILY}: {image_id}")
    return image_id


def launch(api, args, resources, spec, log):
    """RunInstances with a ClientToken; a replay returns the same id, a changed replay fails."""
    token, run_tag = new_client_token(), uuid.uuid4().hex[:12]
    spec = dict(spec, client_token=token, tag_value=run_tag, instance_name="ecsh-sdk-instance")
    first = items(api.run_instances(**spec), "InstanceIdSets", "InstanceIdSet")
    expect(len(first) == 1 and str(first[0]).startswith("i-"), f"RunInstances returned {first}")
    instance_id = first[0]
    resources.add("instance", instance_id, lambda: release_instance(api, args, instance_id))
    log(f"RunInstances (ClientToken {token}): {instance_id}")

    replay = items(api.run_instances(**spec), "InstanceIdSets", "InstanceIdSet")
    expect(replay == first, f"replaying RunInstances with the same ClientToken gave {replay}, not {first}")
    log("RunInstances replayed with the same ClientToken returns the same instance id")
    changed = dict(spec, instance_name="ecsh-sdk-other-name")
    expect_error("IdempotentParameterMismatch", lambda: api.run_instances(**changed),
                 "RunInstances with a used ClientToken and other parameters")
    log("the same ClientToken with other parameters gives IdempotentParameterMismatch")

    tagged = items(api.describe_instances(tag=("ecsh-sdk-run", run_tag)), "Instances", "Instance")
    expect([i.get("InstanceId") for i in tagged] == [instance_id],
           f"DescribeInstances by tag ecsh-sdk-run={run_tag} lists {tagged}")
    log("DescribeInstances filtered by the run's tag lists exactly that instance")
    return instance_id


def check_refusals(api, spec, ids, log):
    """What the real service refuses while the instance runs, with its codes and statuses."""
    dry = dict(spec, client_token=new_client_token(), tag_value="dry-run", instance_name="ecsh-sdk-dry-run",
               dry_run=True)
    expect_error("DryRunOperation", lambda: api.run_instances(**dry), "RunInstances with DryRun=true", 400)
    created = items(api.describe_instances(tag=("ecsh-sdk-run", "dry-run")), "Instances", "Instance")
    expect(created == [], f"RunInstances with DryRun=true created {created}")
    log("RunInstances with DryRun=true answers DryRunOperation (HTTP 400) and creates nothing")
    expect_error("IncorrectInstanceStatus", lambda: api.delete_instances([ids["instance"]], force=False),
                 "DeleteInstances without Force on a Running instance", 403)
    log("DeleteInstances without Force on a Running instance gives IncorrectInstanceStatus (HTTP 403)")
    expect_error("DependencyViolation", lambda: api.delete_security_group(ids["security_group"]),
                 "DeleteSecurityGroup while an instance is in it", 403)
    log("DeleteSecurityGroup while an instance is in it gives DependencyViolation (HTTP 403)")
    err = expect_error("DependencyViolation", lambda: api.delete_vpc(ids["vpc"]),
                       "DeleteVpc while it holds a vswitch", prefix=True)
    log(f"DeleteVpc while it holds a vswitch gives {err.code} (HTTP {err.status})")


def instance_record(api, instance_id):
    listing = items(api.describe_instances(instance_ids=[instance_id]), "Instances", "Instance")
    expect(len(listing) <= 1, f"DescribeInstances lists {instance_id} {len(listing)} times")
    return listing[0] if listing else None


def wait_running(api, args, instance_id, expected, log):
    """Pending -> Starting -> Running, then the record matches what was asked for."""
    status = lambda: (instance_record(api, instance_id) or {}).get("Status")
    # None: not listed yet, which the real service allows for a few seconds after RunInstances.
    seen = wait_status(f"instance {instance_id}", status, "Running", args, {None, "Pending", "Starting"})
    log(f"DescribeInstances {instance_id}: {' -> '.join(str(s) for s in seen)}")
    record = instance_record(api, instance_id)
    vpc = record.get("VpcAttributes") or {}
    groups = (record.get("SecurityGroupIds") or {}).get("SecurityGroupId") or []
    actual = {"InstanceType": record.get("InstanceType"), "ZoneId": record.get("ZoneId"),
              "ImageId": record.get("ImageId"), "VpcId": vpc.get("VpcId"),
              "VSwitchId": vpc.get("VSwitchId"), "SecurityGroupId": groups[0] if groups else None}
    expect(actual == expected, f"DescribeInstances shows {actual}, expected {expected}")
    log("the Running instance has the type, zone, image, VPC, vswitch and security group asked for")


def run_command(api, args, instance_id, log):
    """Cloud Assistant: agent online, RunCommand, results until terminal, Output decoded."""
    def agent_online():
        listing = items(api.describe_cloud_assistant_status([instance_id]),
                        "InstanceCloudAssistantStatusSet", "InstanceCloudAssistantStatus")
        online = [s.get("CloudAssistantStatus") for s in listing if s.get("InstanceId") == instance_id]
        return online == ["true"], online
    poll(f"Cloud Assistant on {instance_id} to come online", agent_online, args.wait_seconds)
    log("DescribeCloudAssistantStatus: the agent is online")

    marker = "ecsh-sdk-" + uuid.uuid4().hex[:12]
    started = api.run_command(instance_id, f"echo {marker}")
    invoke_id = started.get("InvokeId")
    expect(invoke_id and invoke_id.startswith("t-"), f"RunCommand returned {started}")
    result = poll(f"invocation {invoke_id} to finish", lambda: invocation_result(api, invoke_id, instance_id),
                  args.wait_seconds)
    expect(result.get("InvocationStatus") == "Success" and result.get("ExitCode") == 0,
           f"invocation {invoke_id} ended {result.get('InvocationStatus')} exit {result.get('ExitCode')}: "
           f"{result.get('ErrorCode')} {result.get('ErrorInfo')}")
    output = decode_output(result.get("Output"), invoke_id)
    expect(not args.require_execution or output.strip() == marker,
           f"decoded Output {output!r} is not the output of `echo {marker}`")
    log(f"RunCommand {invoke_id}: Success, exit 0, decoded Output {output.strip()[:80]!r}")

    summary = items(api.describe_invocations(invoke_id), "Invocations", "Invocation")
    expect(len(summary) == 1 and summary[0].get("InvocationStatus") == "Success",
           f"DescribeInvocations for {invoke_id}: {summary}")
    per_instance = items(summary[0], "InvokeInstances", "InvokeInstance")
    outputs = [decode_output(i.get("Output"), invoke_id) for i in per_instance if i.get("InstanceId") == instance_id]
    expect(outputs == [output], f"DescribeInvocations(IncludeOutput) output {outputs} differs from {output!r}")
    log("DescribeInvocations agrees: Success with the same output")


def stop_and_start(api, args, instance_id, log):
    """The Instances group (issue 15): StopInstances in economical mode, DescribeInstanceAttribute,
    StartInstances, each answer parsed by the SDK's own response model."""
    def responses(body, action):
        rows = items(body, "InstanceResponses", "InstanceResponse")
        expect([r.get("InstanceId") for r in rows] == [instance_id] and rows[0].get("Code") == "200",
               f"{action} answered {body}")
        return rows[0]
    row = responses(api.stop_instances([instance_id], "StopCharging"), "StopInstances")
    expect(row.get("PreviousStatus") == "Running", f"StopInstances: {row}")
    status = lambda: (instance_record(api, instance_id) or {}).get("Status")
    wait_status(f"instance {instance_id}", status, "Stopped", args, {"Running", "Stopping"})
    attr = api.describe_instance_attribute(instance_id)
    expect(attr.get("InstanceId") == instance_id and attr.get("Status") == "Stopped"
           and attr.get("StoppedMode") == "StopCharging", f"DescribeInstanceAttribute: {attr}")
    log(f"StopInstances {instance_id} (StopCharging): Stopped, StoppedMode StopCharging")
    responses(api.start_instances([instance_id]), "StartInstances")
    wait_status(f"instance {instance_id}", status, "Running", args, {"Stopped", "Starting"})
    log(f"StartInstances {instance_id}: Running again")


def invocation_result(api, invoke_id, instance_id):
    invocation = api.describe_invocation_results(invoke_id).get("Invocation") or {}
    results = items(invocation, "InvocationResults", "InvocationResult")
    mine = [r for r in results if r.get("InstanceId") == instance_id]
    expect(len(mine) <= 1, f"{len(mine)} results for {instance_id} in {invoke_id}")
    status = mine[0].get("InvocationStatus") if mine else None
    return status in TERMINAL_INVOCATION_STATUSES, (mine[0] if status in TERMINAL_INVOCATION_STATUSES else status)


def decode_output(encoded, invoke_id):
    expect(isinstance(encoded, str) and encoded, f"invocation {invoke_id} has no Output: {encoded!r}")
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as err:
        raise Mismatch(f"invocation {invoke_id} Output is not Base64 UTF-8 ({err}): {encoded[:80]!r}") from None


# ---------------------------------------------------------------------------------------------
# Releases, each verified by a describe (the seed's cleanup rule)

def release_instance(api, args, instance_id):
    def delete():
        try:
            return api.delete_instances([instance_id], force=True)
        except ApiError as err:
            if err.code == "InvalidInstanceId.NotFound":
                return None
            raise
    retry_on(["IncorrectInstanceStatus.Initializing"], delete, f"DeleteInstances {instance_id}", args.wait_seconds)
    poll(f"instance {instance_id} to disappear from DescribeInstances",
         lambda: gone(instance_record(api, instance_id)), args.wait_seconds)


def release_security_group(api, args, sg_id):
    retry_on(["DependencyViolation"], lambda: api.delete_security_group(sg_id),
             f"DeleteSecurityGroup {sg_id}", args.wait_seconds)
    listed = lambda: [g for g in items(api.describe_security_groups([sg_id]), "SecurityGroups", "SecurityGroup")
                      if g.get("SecurityGroupId") == sg_id]
    poll(f"security group {sg_id} to disappear", lambda: gone(listed() or None), args.wait_seconds)


def release_vswitch(api, args, vswitch_id):
    retry_on(["DependencyViolation", "IncorrectVSwitchStatus", "OperationConflict"],
             lambda: api.delete_vswitch(vswitch_id), f"DeleteVSwitch {vswitch_id}", args.wait_seconds)
    status = lambda: one_status(items(api.describe_vswitches(vswitch_id), "VSwitches", "VSwitch"),
                                "VSwitchId", vswitch_id)
    poll(f"vswitch {vswitch_id} to disappear", lambda: gone(status()), args.wait_seconds)


def release_vpc(api, args, vpc_id):
    retry_on(["DependencyViolation", "IncorrectVpcStatus", "OperationConflict"],
             lambda: api.delete_vpc(vpc_id), f"DeleteVpc {vpc_id}", args.wait_seconds)
    status = lambda: one_status(items(api.describe_vpcs(vpc_id), "Vpcs", "Vpc"), "VpcId", vpc_id)
    poll(f"VPC {vpc_id} to disappear", lambda: gone(status()), args.wait_seconds)


def gone(seen):
    return seen is None, seen


# ---------------------------------------------------------------------------------------------

class Resources:
    """What the workflow created, released newest first (instance, group, vswitch, VPC).

    On success every release must succeed and be verified; after a failure the releases are
    tried anyway, so a broken run leaves as little behind as it can, and what stays is named.
    """

    def __init__(self):
        self._stack = []

    def add(self, kind, resource_id, release):
        self._stack.append((kind, resource_id, release))

    def release_all(self, log, strict):
        while self._stack:
            kind, resource_id, release = self._stack.pop()
            try:
                release()
                log(f"released {kind} {resource_id}, verified gone by a describe")
            except Exception as err:  # noqa: BLE001 - best-effort cleanup names every leftover
                if strict:
                    raise
                print(f"cleanup: {kind} {resource_id} may be left behind: {err}", file=sys.stderr)


def workflow(api, args, log, resources):
    check_errors(api, args, log)
    instance_type, zone_id = pick_instance_type(api, log)
    quote(api, instance_type, zone_id, log)
    vpc_id, vswitch_id = create_network(api, args, resources, zone_id, log)
    sg_id = create_security_group(api, args, resources, vpc_id, log)
    image_id = find_image(api, log)
    spec = {"instance_type": instance_type, "zone_id": zone_id, "image_id": image_id,
            "vswitch_id": vswitch_id, "security_group_id": sg_id}
    instance_id = launch(api, args, resources, spec, log)
    wait_running(api, args, instance_id, {"InstanceType": instance_type, "ZoneId": zone_id, "ImageId": image_id,
                                          "VpcId": vpc_id, "VSwitchId": vswitch_id, "SecurityGroupId": sg_id}, log)
    check_refusals(api, spec, {"instance": instance_id, "security_group": sg_id, "vpc": vpc_id}, log)
    run_command(api, args, instance_id, log)
    stop_and_start(api, args, instance_id, log)
    api.extra_checks(log)
    resources.release_all(log, strict=True)


def main(sdk_name, make_api):
    """Parses arguments, runs the workflow through `make_api(args)`, exits 0 or 1 with the reason."""
    args = parse_args(f"Drive the ecsh simulator through the seed's whole ECS workflow with the "
                      f"{sdk_name}, unchanged.")
    checks = []

    def log(line):
        checks.append(line)
        print(f"  ok: {line}", flush=True)

    resources = Resources()
    print(f"{sdk_name}: workflow against http://{args.host} in {args.region}", flush=True)
    try:
        workflow(make_api(args), args, log, resources)
    except BaseException as err:  # noqa: BLE001 - every failure exits 1 after best-effort cleanup
        if isinstance(err, Mismatch):
            print(f"FAIL ({sdk_name}): {err}", file=sys.stderr, flush=True)
        else:
            print(f"FAIL ({sdk_name}): the SDK raised {type(err).__name__}: {err}", file=sys.stderr, flush=True)
            traceback.print_exc()
        # Cleanup deserves a fair wait even when a too-short --wait-seconds caused the failure.
        args.wait_seconds = max(args.wait_seconds, CLEANUP_WAIT_SECONDS)
        resources.release_all(log, strict=False)
        sys.exit(1)
    print(f"PASS ({sdk_name}): {len(checks)} checks passed; everything created was released "
          f"and verified gone", flush=True)
