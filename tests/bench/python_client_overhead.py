#!/usr/bin/env python3
"""Client overhead of the official legacy Python SDK (aliyun-python-sdk-core + aliyun-python-sdk-ecs):
CPU time and wall time per DescribeRegions call against a simulator on loopback.

The comparison figure for ecsh's own client in BENCHMARKS.md ("Client overhead per API call"). The
SDK is used as its users use it: one AcsClient, the generated DescribeRegionsRequest, sent with
do_action_with_exception and the answer parsed as JSON. The only setting is where to send it
(set_endpoint + set_protocol_type("http")), since the simulator listens on plain-HTTP loopback.

CPU time is time.process_time() (user + system of this process), so the simulator's own work,
in its separate process, is not counted. Credentials come from the environment, never argv:

    ECSH_BENCH_ACCESS_KEY_ID=ID ECSH_BENCH_ACCESS_KEY_SECRET=SECRET \\
        tests/sdk/.venv/bin/python tests/bench/python_client_overhead.py --endpoint 127.0.0.1:PORT

Prints one JSON object: {"sdk", "calls", "cpu_us_per_call", "wall_us_per_call"}.
"""

import argparse
import json
import os
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint", required=True, help="host:port of the simulator, e.g. 127.0.0.1:8080")
    p.add_argument("--region", default="cn-hangzhou")
    p.add_argument("--calls", type=int, default=1000, help="measured calls (default 1000)")
    p.add_argument("--warmup", type=int, default=50, help="unmeasured calls first (default 50)")
    args = p.parse_args()
    if args.calls < 1 or args.warmup < 0:
        p.error("--calls must be at least 1 and --warmup at least 0")
    if args.endpoint.startswith("http"):
        p.error("--endpoint is host:port, without http://")
    return args


def credentials():
    key_id = os.environ.get("ECSH_BENCH_ACCESS_KEY_ID")
    secret = os.environ.get("ECSH_BENCH_ACCESS_KEY_SECRET")
    if not key_id or not secret:
        sys.exit("python_client_overhead.py: set ECSH_BENCH_ACCESS_KEY_ID and ECSH_BENCH_ACCESS_KEY_SECRET "
                 "to the credentials `ecsh sim` printed")
    return key_id, secret


def main():
    args = parse_args()
    try:
        from aliyunsdkcore.client import AcsClient
        from aliyunsdkecs.request.v20140526.DescribeRegionsRequest import DescribeRegionsRequest
    except ImportError as err:
        sys.exit(f"python_client_overhead.py: {err}; install the SDKs with `bash tests/sdk/install.sh` "
                 "and run this script with tests/sdk/.venv/bin/python")
    key_id, secret = credentials()
    client = AcsClient(key_id, secret, args.region, timeout=30, connect_timeout=5)

    def one_call():
        request = DescribeRegionsRequest()
        request.set_endpoint(args.endpoint)
        request.set_protocol_type("http")
        answer = json.loads(client.do_action_with_exception(request))
        if not answer.get("Regions", {}).get("Region"):
            sys.exit(f"python_client_overhead.py: unexpected answer: {answer}")

    for _ in range(args.warmup):
        one_call()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(args.calls):
        one_call()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    import aliyunsdkcore
    print(json.dumps({
        "sdk": f"aliyun-python-sdk-core {getattr(aliyunsdkcore, '__version__', '?')}",
        "calls": args.calls,
        "cpu_us_per_call": cpu / args.calls * 1e6,
        "wall_us_per_call": wall / args.calls * 1e6,
    }))


if __name__ == "__main__":
    main()
