#!/usr/bin/env python3
"""Generate signature-v1 test vectors with the official Alibaba Cloud Python SDK core.

Usage:
    pip install aliyun-python-sdk-core==2.16.1
    python3 tests/data/gen_signature_vectors.py > tests/data/signature_vectors.json

Each vector is produced by `aliyunsdkcore.auth.composer.rpc_signature_composer.get_signed_url`
(the code path the SDK's AcsClient uses for RPC requests) with the nonce and timestamp pinned,
and its signature is recomputed with `aliyunsdkcore.auth.algorithm.sha_hmac1.get_sign_string`
as a cross-check. The legacy composer always adds `SignatureType=` (empty) and signs it; the
vectors record every parameter that was signed, split into query and body as the SDK split them.
The Rust test (tests/it/rpc/vectors.rs) recomputes string-to-sign and signature for each vector
with `ecsh::rpc::sign` and must agree byte for byte.
"""

import json
import sys

import aliyunsdkcore
from aliyunsdkcore.auth.algorithm import sha_hmac1
from aliyunsdkcore.auth.composer import rpc_signature_composer as composer
from aliyunsdkcore.utils import parameter_helper

ECS = "2014-05-26"
VPC = "2016-04-28"


def common(action, version, region="cn-hangzhou"):
    params = {"Action": action, "Version": version}
    if region is not None:
        params["RegionId"] = region
    return params


# (name, method, access key id, secret, nonce, timestamp, query params, body params)
CASES = [
    ("describe_regions_get", "GET", "testid", "testsecret", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
     "2016-02-23T12:46:24Z", common("DescribeRegions", ECS, None), {}),
    ("describe_regions_post", "POST", "testid", "testsecret", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
     "2016-02-23T12:46:24Z", common("DescribeRegions", ECS, None), {}),
    ("space_in_value", "GET", "LTAI5tExampleKeyId01", "exampleSecret/With+Chars=", "nonce-0001",
     "2024-05-06T07:08:09Z", dict(common("DescribeInstances", ECS), InstanceName="web server 1"), {}),
    ("star_tilde_slash_plus_equals", "GET", "LTAI5tExampleKeyId01", "s3cr3t", "nonce-0002",
     "2024-05-06T07:08:10Z", dict(common("DescribeInstances", ECS), InstanceName="a*b~c/d+e=f"), {}),
    ("non_ascii_value", "POST", "LTAI5tExampleKeyId01", "s3cr3t", "nonce-0003",
     "2024-05-06T07:08:11Z", dict(common("DescribeInstances", ECS), InstanceName="测试-ünïcødé-😀"), {}),
    ("instance_id_list", "POST", "LTAI5tExampleKeyId01", "s3cr3t", "nonce-0004",
     "2024-05-06T07:08:12Z", common("DescribeInstanceStatus", ECS),
     {"InstanceId.1": "i-bp1aaaaaaaaaaaaaaaa", "InstanceId.2": "i-bp1bbbbbbbbbbbbbbbb",
      "InstanceId.10": "i-bp1cccccccccccccccc"}),
    ("json_array_param", "GET", "LTAI5tExampleKeyId01", "s3cr3t", "nonce-0005",
     "2024-05-06T07:08:13Z", dict(common("DescribeInstances", ECS),
                                  InstanceIds=json.dumps(["i-bp1a", "i-bp1b"], separators=(",", ":"))), {}),
    ("json_array_param_post_body", "POST", "LTAI5tExampleKeyId01", "s3cr3t", "nonce-0006",
     "2024-05-06T07:08:14Z", common("DescribeSecurityGroups", ECS),
     {"SecurityGroupIds": json.dumps(["sg-1", "sg-2", "sg-3"], separators=(",", ":"))}),
    ("tag_n_key_value", "POST", "LTAI5tExampleKeyId01", "s3cr3t", "nonce-0007",
     "2024-05-06T07:08:15Z", common("TagResources", ECS),
     {"ResourceType": "instance", "ResourceId.1": "i-bp1a", "Tag.1.Key": "env name",
      "Tag.1.Value": "prod/blue", "Tag.2.Key": "owner", "Tag.2.Value": "ops*team"}),
    ("empty_values", "GET", "LTAI5tExampleKeyId01", "s3cr3t", "nonce-0008",
     "2024-05-06T07:08:16Z", dict(common("DescribeInstances", ECS), InstanceName="", NextToken=""), {}),
    ("security_token_get", "GET", "STS.NTexampleStsKeyId", "stsSecret+/=", "nonce-0009",
     "2024-05-06T07:08:17Z",
     dict(common("DescribeZones", ECS), SecurityToken="CAIS+token/with=special*chars~and spaces"), {}),
    ("security_token_post", "POST", "STS.NTexampleStsKeyId", "stsSecret+/=", "nonce-0010",
     "2024-05-06T07:08:18Z", dict(common("RunInstances", ECS), SecurityToken="CAIStoken0123456789"),
     {"InstanceType": "ecs.g7.large", "ImageId": "ubuntu_24_04_x64_20G_alibase_20240101.vhd",
      "ClientToken": "ecsh-0123456789abcdef0123456789abcdef", "SystemDisk.Category": "cloud_essd",
      "SystemDisk.Size": "40", "DataDisk.1.Size": "100", "DataDisk.1.Category": "cloud_essd",
      "Amount": "1", "DryRun": "false"}),
    ("vpc_create_vswitch", "POST", "LTAI5tExampleKeyId01", "s3cr3t", "nonce-0011",
     "2024-05-06T07:08:19Z", common("CreateVSwitch", VPC, "ap-southeast-1"),
     {"VpcId": "vpc-t4nexample", "ZoneId": "ap-southeast-1a", "CidrBlock": "192.168.1.0/24",
      "VSwitchName": "ecsh vsw"}),
    ("nested_tag_filter", "GET", "LTAI5tExampleKeyId01", "s3cr3t", "nonce-0012",
     "2024-05-06T07:08:20Z", dict(common("ListTagResources", ECS), ResourceType="instance",
                                  **{"TagFilter.1.TagKey": "env", "TagFilter.1.TagValues.1": "prod",
                                     "TagFilter.1.TagValues.2": "dev test"}), {}),
    ("run_command_script", "POST", "LTAI5tExampleKeyId01", "s3cr3t", "nonce-0013",
     "2024-05-06T07:08:21Z", common("RunCommand", ECS),
     {"Type": "RunShellScript", "CommandContent": "#!/bin/bash\necho 'hello world' && date +%s > /tmp/x",
      "InstanceId.1": "i-bp1a", "Timeout": "600",
      "Parameters": json.dumps({"name": "a b", "n": 1}, separators=(",", ":"))}),
    ("authorize_security_group_permissions", "POST", "LTAI5tExampleKeyId01", "s3cr3t", "nonce-0014",
     "2024-05-06T07:08:22Z", common("AuthorizeSecurityGroup", ECS),
     {"SecurityGroupId": "sg-bp1example", "Permissions.1.IpProtocol": "tcp",
      "Permissions.1.PortRange": "22/22", "Permissions.1.SourceCidrIp": "203.0.113.0/24",
      "Permissions.1.Description": "ssh from office; 100% (ok) [x] {y} <z> | ^ ` \\ \" '"}),
    ("reserved_chars_everywhere", "GET", "LTAI5tExampleKeyId01", "key with space & amp", "nonce-0015",
     "2024-05-06T07:08:23Z", dict(common("DescribeImages", ECS, "cn-shanghai"),
                                  ImageFamily="acs:ubuntu_24_04_x64", ImageName="a&b=c?d#e%f,g;h:i@j$k!l'm(n)o"), {}),
    ("uppercase_lowercase_sorting", "GET", "LTAI5tExampleKeyId01", "s3cr3t", "nonce-0016",
     "2024-05-06T07:08:24Z", dict(common("DescribeInstances", ECS),
                                  **{"Tag.2.Key": "b", "Tag.10.Key": "a", "Tag.1.Key": "c", "PageSize": "100",
                                     "PageNumber": "2"}), {}),
    ("delete_instances_force", "POST", "LTAI5tExampleKeyId01", "s3cr3t", "nonce-0017",
     "2024-05-06T07:08:25Z", common("DeleteInstances", ECS, "eu-central-1"),
     {"InstanceId.1": "i-gw8a", "InstanceId.2": "i-gw8b", "Force": "true"}),
]


def make_vector(name, method, ak, secret, nonce, timestamp, query, body):
    saved = (parameter_helper.get_uuid, parameter_helper.get_iso_8061_date)
    parameter_helper.get_uuid = lambda: nonce
    parameter_helper.get_iso_8061_date = lambda: timestamp
    try:
        url, string_to_sign = composer.get_signed_url(dict(query), ak, secret, "JSON", method, dict(body))
    finally:
        parameter_helper.get_uuid, parameter_helper.get_iso_8061_date = saved
    signature = sha_hmac1.get_sign_string(string_to_sign, secret + "&")
    signed_query = dict(query)
    signed_query.update({
        "Timestamp": timestamp, "SignatureMethod": "HMAC-SHA1", "SignatureType": "",
        "SignatureVersion": "1.0", "SignatureNonce": nonce, "AccessKeyId": ak, "Format": "JSON",
    })
    assert ("Signature=" + __import__("urllib.parse").parse.quote(signature, safe="")) in url, url
    return {
        "name": name,
        "method": method,
        "access_key_id": ak,
        "secret": secret,
        "query": sorted([k, v] for k, v in signed_query.items()),
        "body": sorted([k, v] for k, v in body.items()),
        "string_to_sign": string_to_sign,
        "signature": signature,
        "signed_url": url,
    }


def main():
    vectors = [make_vector(*case) for case in CASES]
    json.dump({
        "generator": "tests/data/gen_signature_vectors.py",
        "sdk": "aliyun-python-sdk-core " + aliyunsdkcore.__version__,
        "vectors": vectors,
    }, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
