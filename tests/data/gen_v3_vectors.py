"""Generates tests/data/v3_signature_vectors.json with the official Tea SDK's own signer.

Run with alibabacloud-tea-openapi 0.4.6 (and its darabonba-core) installed:
    python3 tests/data/gen_v3_vectors.py > tests/data/v3_signature_vectors.json
It calls the SDK's helpers directly (get_canonical_query_string, get_canonicalized_headers,
Utils.hash, Utils.get_authorization, Utils.to_form) with fixed inputs, so the vectors are what
the SDK would put on the wire; src/rpc/sign_v3.rs pins its pure functions to them.
"""
import hashlib
import json

from darabonba.request import DaraRequest
from alibabacloud_tea_openapi import utils as U
from alibabacloud_tea_openapi.utils import Utils

ALG = "ACS3-HMAC-SHA256"
AK, SECRET = "testid", "testsecret"


def vector(name, method, pathname, query, headers, body):
    form = Utils.to_form(body) if body else ""
    payload = Utils.hash(form.encode("utf-8"), ALG).hex()
    headers = dict(headers)
    if form:
        headers["content-type"] = "application/x-www-form-urlencoded"
    headers["x-acs-content-sha256"] = payload
    req = DaraRequest()
    req.method, req.pathname, req.query, req.headers = method, pathname, query, headers
    canon_headers, signed = U.get_canonicalized_headers(headers)
    canonical_request = "\n".join([method, pathname or "/", U.get_canonical_query_string(query),
                                   canon_headers, signed, payload])
    string_to_sign = ALG + "\n" + hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return {
        "name": name, "method": method, "pathname": pathname, "query": query,
        "headers": headers, "body": form, "secret": SECRET,
        "canonical_request": canonical_request, "string_to_sign": string_to_sign,
        "authorization": Utils.get_authorization(req, ALG, payload, AK, SECRET),
    }


common = {
    "host": "ecs.cn-hangzhou.aliyuncs.com",
    "x-acs-version": "2014-05-26",
    "x-acs-date": "2024-01-02T03:04:05Z",
    "x-acs-signature-nonce": "3ee8c1b883d344afa94f4e0ad82fd6cf",
    "user-agent": "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/3.0.0 TeaDSL/2",
    "accept": "application/json",
}
vectors = [
    vector("describe_regions_no_body", "POST", "/", {"RegionId": "cn-hangzhou"},
           {**common, "x-acs-action": "DescribeRegions"}, None),
    vector("describe_instances_special_chars_and_body", "POST", "/",
           {"RegionId": "cn-hangzhou", "InstanceIds": '["i-bp1a","i-bp1b"]',
            "InstanceName": "测试", "Tag.1.Key": "env name", "Tag.1.Value": "a*b~c/d+e",
            "Empty": ""},
           {**common, "x-acs-action": "DescribeInstances", "x-acs-security-token": "  tok+en/=  "},
           {"Description": "hello world & more", "PageSize": "50"}),
    vector("get_no_query", "GET", "/", {},
           {**common, "x-acs-action": "DescribeRegions"}, None),
]
print(json.dumps(vectors, ensure_ascii=False, indent=1))
