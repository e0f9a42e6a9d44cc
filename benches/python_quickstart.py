#!/usr/bin/env python3
"""The one-shot flow of scripts/quickstart.rhai written as a user of the official legacy Python SDK
(aliyun-python-sdk-core + -ecs + -vpc) writes it: every wait polls at a fixed 0.2 s.

The baseline for ecsh's own flow in BENCHMARKS.md ("One-shot flow end to end"): the bench
(`cargo bench --bench ecsh -- quickstart`) runs it against a fresh simulator with the same time
scale and compares wall time and API calls. The SDK is called through the adapter of the SDK
conformance tests (tests/sdk/legacy_workflow.py: an AcsClient and the generated request classes),
so no request is built by hand here.

Steps as the seed orders them: spec and stock, price, VPC and vswitch (each waited Available),
security group, image, RunInstances (waited Running), Cloud Assistant online, RunCommand (waited
finished), then release in reverse order, each release waited until the describe no longer lists it.
Credentials come from the environment, never argv:

    ECSH_BENCH_ACCESS_KEY_ID=ID ECSH_BENCH_ACCESS_KEY_SECRET=SECRET \\
        tests/sdk/.venv/bin/python benches/python_quickstart.py --endpoint 127.0.0.1:PORT

Prints one JSON object: {"wall_s", "calls", "exit_code"}.
"""

import argparse
import os
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "sdk"))

POLL_SECONDS = 0.2
WAIT_LIMIT_SECONDS = 600.0


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint", required=True, help="host:port of the simulator, e.g. 127.0.0.1:8080")
    p.add_argument("--region", default="cn-hangzhou")
    p.add_argument("--command", default="echo hello && date")
    args = p.parse_args()
    if args.endpoint.startswith("http"):
        p.error("--endpoint is host:port, without http://")
    return args


class Counting:
    """The SDK adapter with every request counted (retried deletes and polls included)."""

    def __init__(self, api):
        self.api, self.calls = api, 0
        send = api.send

        def counted(request):
            self.calls += 1
            return send(request)
        api.send = counted


def wait_until(what, probe):
    """Calls `probe` every POLL_SECONDS until it returns something other than None."""
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while True:
        seen = probe()
        if seen is not None:
            return seen
        if time.monotonic() > deadline:
            sys.exit(f"python_quickstart.py: gave up waiting for {what}")
        time.sleep(POLL_SECONDS)


def retry_while(codes, call):
    """Runs `call`, again every POLL_SECONDS while it fails with one of `codes` (still in use)."""
    from sdk_workflow import ApiError

    def attempt():
        try:
            call()
            return True
        except ApiError as err:
            if any(err.code.startswith(c) for c in codes):
                return None
            raise
    wait_until("a release", attempt)


def listed(items, key, resource_id):
    return [x for x in items if x.get(key) == resource_id]


def flow(api, args):
    from sdk_workflow import items, new_client_token, decode_output, IMAGE_FAMILY

    # Spec and stock: the first recommended (type, zone) in stock; then the price.
    candidates = items(api.describe_recommend_instance_type(cores=2, memory=4.0), "Data",
                       "RecommendInstanceType")
    instance_type = zone_id = None
    for c in candidates:
        t, z = c["InstanceType"]["InstanceType"], c["ZoneId"]
        zones = items(api.describe_available_resource(zone_id=z, instance_type=t), "AvailableZones",
                      "AvailableZone")
        if any(s.get("Status") == "Available" and s.get("Value") == t
               for zone in zones for r in items(zone, "AvailableResources", "AvailableResource")
               for s in items(r, "SupportedResources", "SupportedResource")):
            instance_type, zone_id = t, z
            break
    if instance_type is None:
        sys.exit("python_quickstart.py: nothing in stock")
    api.describe_price(instance_type, zone_id)

    # Network, each part waited Available.
    vpc_id = api.create_vpc("192.168.0.0/16", "py-quickstart", new_client_token())["VpcId"]
    wait_until("the VPC", lambda: True if any(
        v.get("Status") == "Available" for v in listed(items(api.describe_vpcs(vpc_id), "Vpcs", "Vpc"),
                                                       "VpcId", vpc_id)) else None)
    vsw_id = api.create_vswitch(vpc_id, zone_id, "192.168.1.0/24", "py-quickstart")["VSwitchId"]
    wait_until("the vswitch", lambda: True if any(
        v.get("Status") == "Available" for v in listed(items(api.describe_vswitches(vsw_id), "VSwitches",
                                                             "VSwitch"), "VSwitchId", vsw_id)) else None)
    sg_id = api.create_security_group(vpc_id, "py-quickstart")["SecurityGroupId"]
    image_id = items(api.describe_images(IMAGE_FAMILY), "Images", "Image")[0]["ImageId"]

    # Instance, agent, command.
    instance_id = items(api.run_instances(instance_type, zone_id, image_id, vsw_id, sg_id, new_client_token(),
                                          "py-quickstart", "py-quickstart"), "InstanceIdSets",
                        "InstanceIdSet")[0]

    def status():
        found = items(api.describe_instances(instance_ids=[instance_id]), "Instances", "Instance")
        return found[0].get("Status") if found else None
    wait_until("Running", lambda: True if status() == "Running" else None)
    wait_until("the agent", lambda: True if any(
        s.get("CloudAssistantStatus") == "true" for s in items(
            api.describe_cloud_assistant_status([instance_id]), "InstanceCloudAssistantStatusSet",
            "InstanceCloudAssistantStatus")) else None)
    invoke_id = api.run_command(instance_id, args.command)["InvokeId"]

    def finished():
        results = items(api.describe_invocation_results(invoke_id)["Invocation"], "InvocationResults",
                        "InvocationResult")
        done = [r for r in results if r.get("InvocationStatus") in ("Success", "Failed")]
        return done[0] if done else None
    result = wait_until("the command", finished)
    decode_output(result.get("Output"), invoke_id)

    # Release in reverse order, each waited until no longer listed.
    api.delete_instances([instance_id], force=True)
    wait_until("the instance gone", lambda: True if status() is None else None)
    retry_while(["DependencyViolation"], lambda: api.delete_security_group(sg_id))
    retry_while(["DependencyViolation", "IncorrectVSwitchStatus", "OperationConflict"],
                lambda: api.delete_vswitch(vsw_id))
    wait_until("the vswitch gone", lambda: True if not listed(
        items(api.describe_vswitches(vsw_id), "VSwitches", "VSwitch"), "VSwitchId", vsw_id) else None)
    retry_while(["DependencyViolation", "IncorrectVpcStatus", "OperationConflict"], lambda: api.delete_vpc(vpc_id))
    wait_until("the VPC gone", lambda: True if not listed(
        items(api.describe_vpcs(vpc_id), "Vpcs", "Vpc"), "VpcId", vpc_id) else None)
    return result.get("ExitCode")


def main():
    args = parse_args()
    key_id = os.environ.get("ECSH_BENCH_ACCESS_KEY_ID")
    secret = os.environ.get("ECSH_BENCH_ACCESS_KEY_SECRET")
    if not key_id or not secret:
        sys.exit("python_quickstart.py: set ECSH_BENCH_ACCESS_KEY_ID and ECSH_BENCH_ACCESS_KEY_SECRET")
    try:
        from legacy_workflow import LegacyApi
    except ImportError as err:
        sys.exit(f"python_quickstart.py: {err}; install the SDKs with `bash tests/sdk/install.sh` "
                 "and run this script with tests/sdk/.venv/bin/python")
    sdk_args = types.SimpleNamespace(host=args.endpoint, region=args.region)
    counting = Counting(LegacyApi(sdk_args, key_id, secret))
    start = time.perf_counter()
    exit_code = flow(counting.api, args)
    wall = time.perf_counter() - start
    import json
    print(json.dumps({"wall_s": wall, "calls": counting.calls, "exit_code": exit_code}))


if __name__ == "__main__":
    main()
