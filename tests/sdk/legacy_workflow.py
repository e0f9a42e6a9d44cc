#!/usr/bin/env python3
"""The seed's ECS workflow through the legacy official SDK (aliyun-python-sdk-core + -ecs + -vpc).

This SDK signs with signature v1 (HMAC-SHA1) and puts every parameter, the signature included,
in the URL query of a POST with an empty body. It is used exactly as its users use it: an
`AcsClient` and the generated request classes; the only setting is where to send the request
(`set_endpoint` + `set_protocol_type("http")`), since the simulator listens on plain-HTTP
loopback. Extra checks send a `CommonRequest` whose parameters are split between the query and
a form body, which v1 signs together; read answers through the SDK's XML path
(`set_accept_format("XML")`, the raw body parsed with ElementTree) and compare them with the
JSON ones; and create and delete a VPC with the ECS-versioned VPC requests of aliyunsdkecs.

    tests/sdk/.venv/bin/python tests/sdk/legacy_workflow.py \
        --endpoint 127.0.0.1:8080 --access-key-id ID --access-key-secret SECRET
"""

import json
import warnings
import xml.etree.ElementTree as ElementTree

from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest
from aliyunsdkecs.request.v20140526 import (
    AuthorizeSecurityGroupRequest, CreateSecurityGroupRequest, DeleteInstancesRequest,
    DeleteSecurityGroupRequest, DescribeAvailableResourceRequest, DescribeCloudAssistantStatusRequest,
    DescribeImagesRequest, DescribeInstancesRequest, DescribeInstanceTypesRequest,
    DescribeInvocationResultsRequest, DescribeInvocationsRequest, DescribePriceRequest,
    DescribeRecommendInstanceTypeRequest, DescribeRegionsRequest, DescribeSecurityGroupAttributeRequest,
    DescribeSecurityGroupsRequest, RunCommandRequest, RunInstancesRequest, StopInstanceRequest,
    DescribeInstanceAttributeRequest, StartInstancesRequest, StopInstancesRequest,
)
# The same VPC actions under ECS's version 2014-05-26, as old scripts still send them.
from aliyunsdkecs.request.v20140526 import CreateVpcRequest as EcsCreateVpcRequest
from aliyunsdkecs.request.v20140526 import DeleteVpcRequest as EcsDeleteVpcRequest
from aliyunsdkecs.request.v20140526 import DescribeVpcsRequest as EcsDescribeVpcsRequest
from aliyunsdkvpc.request.v20160428 import (
    CreateVpcRequest, CreateVSwitchRequest, DeleteVpcRequest, DeleteVSwitchRequest,
    DescribeVpcsRequest, DescribeVSwitchesRequest,
)

import sdk_workflow
from sdk_workflow import ApiError, expect, items, with_request_id


class LegacyApi:
    # The legacy SDK compares the server's string-to-sign (after the first ':' of the message)
    # with its own and, when equal, reports the wrong secret by this friendlier code.
    BAD_SECRET_CODE = "InvalidAccessKeySecret"

    def __init__(self, args, access_key_id, access_key_secret):
        self.args = args
        self.client = AcsClient(access_key_id, access_key_secret, args.region, timeout=30, connect_timeout=5)

    def with_credentials(self, access_key_id, access_key_secret):
        return LegacyApi(self.args, access_key_id, access_key_secret)

    def call(self, request_module, **setters):
        """Sends the module's generated request class with `set_<Name>(value)` for each setter."""
        request = getattr(request_module, request_module.__name__.rsplit(".", 1)[-1])()
        request.set_endpoint(self.args.host)
        request.set_protocol_type("http")
        for name, value in setters.items():
            getattr(request, "set_" + name)(value)
        return self.send(request)

    def send(self, request):
        try:
            body = json.loads(self.client.do_action_with_exception(request))
            return with_request_id(body, request.get_action_name())
        except ServerException as err:
            raise ApiError(err.get_error_code(), err.get_http_status(), err.get_error_msg(),
                           err.get_request_id()) from None

    # Discovery, stock and price
    def describe_regions(self):
        return self.call(DescribeRegionsRequest)

    def describe_recommend_instance_type(self, cores, memory):
        return self.call(DescribeRecommendInstanceTypeRequest, Cores=cores, Memory=memory, NetworkType="vpc",
                         InstanceChargeType="PostPaid", PriorityStrategy="InventoryFirst")

    def describe_instance_types(self, instance_types):
        return self.call(DescribeInstanceTypesRequest, InstanceTypess=instance_types)

    def describe_available_resource(self, zone_id, instance_type):
        return self.call(DescribeAvailableResourceRequest, DestinationResource="InstanceType", ZoneId=zone_id,
                         InstanceType=instance_type, InstanceChargeType="PostPaid")

    def describe_price(self, instance_type, zone_id):
        return self.call(DescribePriceRequest, InstanceType=instance_type, ZoneId=zone_id,
                         SystemDiskCategory="cloud_essd", SystemDiskSize=40, PriceUnit="Hour", Period=1)

    # Network
    def create_vpc(self, cidr, name, client_token):
        return self.call(CreateVpcRequest, CidrBlock=cidr, VpcName=name, ClientToken=client_token)

    def describe_vpcs(self, vpc_id):
        return self.call(DescribeVpcsRequest, VpcId=vpc_id)

    def delete_vpc(self, vpc_id):
        return self.call(DeleteVpcRequest, VpcId=vpc_id)

    def create_vswitch(self, vpc_id, zone_id, cidr, name):
        return self.call(CreateVSwitchRequest, VpcId=vpc_id, ZoneId=zone_id, CidrBlock=cidr, VSwitchName=name)

    def describe_vswitches(self, vswitch_id):
        return self.call(DescribeVSwitchesRequest, VSwitchId=vswitch_id)

    def delete_vswitch(self, vswitch_id):
        return self.call(DeleteVSwitchRequest, VSwitchId=vswitch_id)

    # Security groups
    def create_security_group(self, vpc_id, name):
        return self.call(CreateSecurityGroupRequest, VpcId=vpc_id, SecurityGroupName=name)

    def authorize_security_group(self, sg_id, protocol, port_range, source_cidr):
        return self.call(AuthorizeSecurityGroupRequest, SecurityGroupId=sg_id, Permissions=[
            {"IpProtocol": protocol, "PortRange": port_range, "SourceCidrIp": source_cidr}])

    def describe_security_group_attribute(self, sg_id):
        return self.call(DescribeSecurityGroupAttributeRequest, SecurityGroupId=sg_id)

    def describe_security_groups(self, sg_ids):
        return self.call(DescribeSecurityGroupsRequest, SecurityGroupIds=json.dumps(sg_ids))

    def delete_security_group(self, sg_id):
        return self.call(DeleteSecurityGroupRequest, SecurityGroupId=sg_id)

    # Images and instances
    def describe_images(self, image_family):
        return self.call(DescribeImagesRequest, ImageFamily=image_family)

    def run_instances(self, instance_type, zone_id, image_id, vswitch_id, security_group_id,
                      client_token, tag_value, instance_name, dry_run=False):
        setters = {"DryRun": True} if dry_run else {}
        return self.call(RunInstancesRequest, InstanceType=instance_type, ZoneId=zone_id, ImageId=image_id,
                         VSwitchId=vswitch_id, SecurityGroupId=security_group_id, InstanceName=instance_name,
                         SystemDiskCategory="cloud_essd", SystemDiskSize=40, InternetMaxBandwidthOut=0,
                         InstanceChargeType="PostPaid", Amount=1, ClientToken=client_token,
                         Tags=[{"Key": "ecsh-sdk-run", "Value": tag_value}], **setters)

    def describe_instances(self, instance_ids=None, tag=None):
        setters = {}
        if instance_ids is not None:
            setters["InstanceIds"] = json.dumps(instance_ids)
        if tag is not None:
            setters["Tags"] = [{"Key": tag[0], "Value": tag[1]}]
        return self.call(DescribeInstancesRequest, **setters)

    def stop_instance(self, instance_id):
        return self.call(StopInstanceRequest, InstanceId=instance_id)

    def delete_instances(self, instance_ids, force):
        return self.call(DeleteInstancesRequest, InstanceIds=instance_ids, Force=force)

    def stop_instances(self, instance_ids, stopped_mode):
        return self.call(StopInstancesRequest, InstanceIds=instance_ids, StoppedMode=stopped_mode)

    def start_instances(self, instance_ids):
        return self.call(StartInstancesRequest, InstanceIds=instance_ids)

    def describe_instance_attribute(self, instance_id):
        return self.call(DescribeInstanceAttributeRequest, InstanceId=instance_id)

    # Cloud Assistant
    def describe_cloud_assistant_status(self, instance_ids):
        return self.call(DescribeCloudAssistantStatusRequest, InstanceIds=instance_ids)

    def run_command(self, instance_id, script):
        return self.call(RunCommandRequest, InstanceIds=[instance_id], Type="RunShellScript",
                         CommandContent=script, Timeout=60)

    def describe_invocation_results(self, invoke_id):
        return self.call(DescribeInvocationResultsRequest, InvokeId=invoke_id)

    def describe_invocations(self, invoke_id):
        return self.call(DescribeInvocationsRequest, InvokeId=invoke_id, IncludeOutput=True)

    def extra_checks(self, log):
        """A CommonRequest with parameters in both the query and a form body, signed together."""
        request = CommonRequest(domain=self.args.host, version="2014-05-26", action_name="DescribeImages")
        request.set_protocol_type("http")
        request.set_method("POST")
        request.add_query_param("RegionId", self.args.region)
        request.add_body_params("ImageFamily", sdk_workflow.IMAGE_FAMILY)
        images = items(self.send(request), "Images", "Image")
        expect(images and all(i.get("ImageFamily") == sdk_workflow.IMAGE_FAMILY for i in images),
               f"DescribeImages with ImageFamily in a form body returned {images}")
        log("a POST with parameters split between query and form body is verified and honoured")
        self.xml_checks(log)
        self.ecs_versioned_vpc(log)

    def xml(self, request_module, **setters):
        """(HTTP status, parsed document) of a request sent with Format=XML through the SDK's XML
        path: `get_response` keeps the accept format (`do_action_with_exception` forces JSON)."""
        request = getattr(request_module, request_module.__name__.rsplit(".", 1)[-1])()
        request.set_endpoint(self.args.host)
        request.set_protocol_type("http")
        request.set_accept_format("XML")
        for name, value in setters.items():
            getattr(request, "set_" + name)(value)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            status, headers, body = self.client.get_response(request)
        content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        expect("xml" in content_type, f"{request.get_action_name()} with Format=XML came as {content_type}")
        return status, ElementTree.fromstring(body)

    def xml_checks(self, log):
        status, root = self.xml(DescribeRegionsRequest)
        expect(status == 200 and root.tag == "DescribeRegionsResponse" and root.findtext("RequestId"),
               f"DescribeRegions in XML: HTTP {status}, root {root.tag}, RequestId {root.findtext('RequestId')!r}")
        regions = [r["RegionId"] for r in items(self.describe_regions(), "Regions", "Region")]
        xml_regions = [r.findtext("RegionId") for r in root.findall("./Regions/Region")]
        expect(xml_regions == regions, f"DescribeRegions XML lists {xml_regions}, JSON lists {regions}")
        _, root = self.xml(DescribeInstancesRequest)
        listed = items(self.describe_instances(), "Instances", "Instance")
        xml_ids = [i.findtext("InstanceId") for i in root.findall("./Instances/Instance")]
        expect(xml_ids and xml_ids == [i["InstanceId"] for i in listed],
               f"DescribeInstances XML lists {xml_ids}, JSON lists {[i['InstanceId'] for i in listed]}")
        expect(root.findtext("TotalCount") == str(len(listed)), "DescribeInstances XML TotalCount differs")
        groups = [g.text for g in root.findall("./Instances/Instance/SecurityGroupIds/SecurityGroupId")]
        expect(groups == [g for i in listed for g in i["SecurityGroupIds"]["SecurityGroupId"]],
               f"DescribeInstances XML security groups {groups} differ from JSON")
        status, error = self.xml(DescribeInstancesRequest, InstanceIds="not a JSON list")
        expect(status == 400 and error.tag == "Error" and error.findtext("Code") == "InvalidParameter"
               and error.findtext("RequestId") and error.findtext("Recommend"),
               f"a malformed InstanceIds in XML: HTTP {status}, {ElementTree.tostring(error)[:300]}")
        log("Format=XML answers parse with the SDK's XML path and match the JSON ones (lists, errors)")

    def ecs_versioned_vpc(self, log):
        vpc_id = self.call(EcsCreateVpcRequest, CidrBlock="172.16.0.0/12")["VpcId"]
        try:
            def available():
                vpcs = items(self.call(EcsDescribeVpcsRequest, VpcId=vpc_id), "Vpcs", "Vpc")
                return bool(vpcs) and vpcs[0].get("Status") == "Available", vpcs
            sdk_workflow.poll(f"VPC {vpc_id} (ECS 2014-05-26) becoming Available", available, self.args.wait_seconds)
        finally:
            self.call(EcsDeleteVpcRequest, VpcId=vpc_id)

        def gone():
            vpcs = items(self.call(EcsDescribeVpcsRequest, VpcId=vpc_id), "Vpcs", "Vpc")
            return not vpcs, vpcs
        sdk_workflow.poll(f"VPC {vpc_id} (ECS 2014-05-26) being deleted", gone, self.args.wait_seconds)
        log("CreateVpc, DescribeVpcs and DeleteVpc under ECS's version 2014-05-26 work as under VPC's")


if __name__ == "__main__":
    sdk_workflow.main("legacy Python SDK (signature v1)",
                      lambda args: LegacyApi(args, args.access_key_id, args.access_key_secret))
