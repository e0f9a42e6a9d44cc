#!/usr/bin/env python3
"""The seed's ECS workflow through the current official SDK (alibabacloud-ecs20140526 and
alibabacloud-vpc20160428 on alibabacloud-tea-openapi), with its default signature v3.

By default this SDK signs with ACS3-HMAC-SHA256: a POST to `/` whose query holds only the
action's own parameters, with Action and Version in `x-acs-action` / `x-acs-version`, the time
and nonce in `x-acs-date` / `x-acs-signature-nonce`, the body's SHA-256 in
`x-acs-content-sha256`, and the signature in the `Authorization` header over a canonical request
of method, path, query, every signed header and the payload hash. The clients are used exactly
as their users use them; the only settings are the endpoint and `protocol="http"`. Responses go
through the SDK's typed models and back to wire names with `to_map()`, so a field the model does
not know would be missing and fail the check. An extra check repeats a call with
`signature_algorithm="v2"`, this SDK's way of asking for signature v1.

    tests/sdk/.venv/bin/python tests/sdk/tea_workflow.py \
        --endpoint 127.0.0.1:8080 --access-key-id ID --access-key-secret SECRET
"""

import base64
import json

from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_tea_openapi import models as openapi
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_vpc20160428 import models as vpc
from alibabacloud_vpc20160428.client import Client as VpcClient

import sdk_workflow
from sdk_workflow import ApiError, expect, items, with_request_id


class TeaApi:
    # Tea reports the server's code as it is: no rewriting of a wrong secret.
    BAD_SECRET_CODE = "SignatureDoesNotMatch"

    def __init__(self, args, access_key_id, access_key_secret, signature_algorithm=None):
        self.args = args
        config = openapi.Config(access_key_id=access_key_id, access_key_secret=access_key_secret,
                                region_id=args.region, endpoint=args.host, protocol="http",
                                read_timeout=30000, connect_timeout=5000)
        if signature_algorithm:
            config.signature_algorithm = signature_algorithm
        self.ecs = EcsClient(config)
        self.vpc = VpcClient(config)

    def with_credentials(self, access_key_id, access_key_secret):
        return TeaApi(self.args, access_key_id, access_key_secret)

    def call(self, method, request):
        """Calls a generated client method and returns its typed body back as wire-shaped JSON."""
        try:
            return with_request_id(method(request).body.to_map(), method.__name__)
        except AlibabaCloudException as err:
            raise ApiError(err.code, err.status_code, err.message, err.request_id) from None

    # Discovery, stock and price
    def describe_regions(self):
        return self.call(self.ecs.describe_regions, ecs.DescribeRegionsRequest())

    def describe_recommend_instance_type(self, cores, memory):
        return self.call(self.ecs.describe_recommend_instance_type, ecs.DescribeRecommendInstanceTypeRequest(
            region_id=self.args.region, cores=cores, memory=memory, network_type="vpc",
            instance_charge_type="PostPaid", priority_strategy="InventoryFirst"))

    def describe_instance_types(self, instance_types):
        return self.call(self.ecs.describe_instance_types,
                         ecs.DescribeInstanceTypesRequest(instance_types=instance_types))

    def describe_available_resource(self, zone_id, instance_type):
        return self.call(self.ecs.describe_available_resource, ecs.DescribeAvailableResourceRequest(
            region_id=self.args.region, destination_resource="InstanceType", zone_id=zone_id,
            instance_type=instance_type, instance_charge_type="PostPaid"))

    def describe_price(self, instance_type, zone_id):
        return self.call(self.ecs.describe_price, ecs.DescribePriceRequest(
            region_id=self.args.region, instance_type=instance_type, zone_id=zone_id,
            system_disk=ecs.DescribePriceRequestSystemDisk(category="cloud_essd", size=40),
            price_unit="Hour", period=1))

    # Network
    def create_vpc(self, cidr, name, client_token):
        return self.call(self.vpc.create_vpc, vpc.CreateVpcRequest(
            region_id=self.args.region, cidr_block=cidr, vpc_name=name, client_token=client_token))

    def describe_vpcs(self, vpc_id):
        return self.call(self.vpc.describe_vpcs, vpc.DescribeVpcsRequest(region_id=self.args.region, vpc_id=vpc_id))

    def delete_vpc(self, vpc_id):
        return self.call(self.vpc.delete_vpc, vpc.DeleteVpcRequest(region_id=self.args.region, vpc_id=vpc_id))

    def create_vswitch(self, vpc_id, zone_id, cidr, name):
        return self.call(self.vpc.create_vswitch, vpc.CreateVSwitchRequest(
            region_id=self.args.region, vpc_id=vpc_id, zone_id=zone_id, cidr_block=cidr, v_switch_name=name))

    def describe_vswitches(self, vswitch_id):
        return self.call(self.vpc.describe_vswitches,
                         vpc.DescribeVSwitchesRequest(region_id=self.args.region, v_switch_id=vswitch_id))

    def delete_vswitch(self, vswitch_id):
        return self.call(self.vpc.delete_vswitch,
                         vpc.DeleteVSwitchRequest(region_id=self.args.region, v_switch_id=vswitch_id))

    # Security groups
    def create_security_group(self, vpc_id, name):
        return self.call(self.ecs.create_security_group, ecs.CreateSecurityGroupRequest(
            region_id=self.args.region, vpc_id=vpc_id, security_group_name=name))

    def authorize_security_group(self, sg_id, protocol, port_range, source_cidr):
        rule = ecs.AuthorizeSecurityGroupRequestPermissions(ip_protocol=protocol, port_range=port_range,
                                                            source_cidr_ip=source_cidr)
        return self.call(self.ecs.authorize_security_group, ecs.AuthorizeSecurityGroupRequest(
            region_id=self.args.region, security_group_id=sg_id, permissions=[rule]))

    def describe_security_group_attribute(self, sg_id):
        return self.call(self.ecs.describe_security_group_attribute, ecs.DescribeSecurityGroupAttributeRequest(
            region_id=self.args.region, security_group_id=sg_id))

    def describe_security_groups(self, sg_ids):
        return self.call(self.ecs.describe_security_groups, ecs.DescribeSecurityGroupsRequest(
            region_id=self.args.region, security_group_ids=json.dumps(sg_ids)))

    def delete_security_group(self, sg_id):
        return self.call(self.ecs.delete_security_group, ecs.DeleteSecurityGroupRequest(
            region_id=self.args.region, security_group_id=sg_id))

    # Images and instances
    def describe_images(self, image_family):
        return self.call(self.ecs.describe_images,
                         ecs.DescribeImagesRequest(region_id=self.args.region, image_family=image_family))

    def run_instances(self, instance_type, zone_id, image_id, vswitch_id, security_group_id,
                      client_token, tag_value, instance_name, dry_run=False):
        return self.call(self.ecs.run_instances, ecs.RunInstancesRequest(
            region_id=self.args.region, dry_run=dry_run or None, instance_type=instance_type, zone_id=zone_id, image_id=image_id,
            v_switch_id=vswitch_id, security_group_id=security_group_id, instance_name=instance_name,
            system_disk=ecs.RunInstancesRequestSystemDisk(category="cloud_essd", size="40"),
            internet_max_bandwidth_out=0, instance_charge_type="PostPaid", amount=1, client_token=client_token,
            tag=[ecs.RunInstancesRequestTag(key="ecsh-sdk-run", value=tag_value)]))

    def describe_instances(self, instance_ids=None, tag=None):
        request = ecs.DescribeInstancesRequest(region_id=self.args.region)
        if instance_ids is not None:
            request.instance_ids = json.dumps(instance_ids)
        if tag is not None:
            request.tag = [ecs.DescribeInstancesRequestTag(key=tag[0], value=tag[1])]
        return self.call(self.ecs.describe_instances, request)

    def stop_instance(self, instance_id):
        return self.call(self.ecs.stop_instance, ecs.StopInstanceRequest(instance_id=instance_id))

    def stop_instances(self, instance_ids, stopped_mode):
        return self.call(self.ecs.stop_instances, ecs.StopInstancesRequest(
            region_id=self.args.region, instance_id=instance_ids, stopped_mode=stopped_mode))

    def start_instances(self, instance_ids):
        return self.call(self.ecs.start_instances, ecs.StartInstancesRequest(
            region_id=self.args.region, instance_id=instance_ids))

    def describe_instance_attribute(self, instance_id):
        return self.call(self.ecs.describe_instance_attribute,
                         ecs.DescribeInstanceAttributeRequest(instance_id=instance_id))

    def delete_instances(self, instance_ids, force):
        return self.call(self.ecs.delete_instances, ecs.DeleteInstancesRequest(
            region_id=self.args.region, instance_id=instance_ids, force=force))

    # Cloud Assistant
    def describe_cloud_assistant_status(self, instance_ids):
        return self.call(self.ecs.describe_cloud_assistant_status, ecs.DescribeCloudAssistantStatusRequest(
            region_id=self.args.region, instance_id=instance_ids))

    def run_command(self, instance_id, script):
        """Sends the script Base64-encoded (ContentEncoding=Base64), the other accepted form."""
        encoded = base64.b64encode(script.encode("utf-8")).decode("ascii")
        return self.call(self.ecs.run_command, ecs.RunCommandRequest(
            region_id=self.args.region, instance_id=[instance_id], type="RunShellScript",
            command_content=encoded, content_encoding="Base64", timeout=60))

    def describe_invocation_results(self, invoke_id):
        return self.call(self.ecs.describe_invocation_results, ecs.DescribeInvocationResultsRequest(
            region_id=self.args.region, invoke_id=invoke_id))

    def describe_invocations(self, invoke_id):
        return self.call(self.ecs.describe_invocations, ecs.DescribeInvocationsRequest(
            region_id=self.args.region, invoke_id=invoke_id, include_output=True))

    def extra_checks(self, log):
        """The same SDK asked for signature v1 (`signature_algorithm="v2"` in its naming)."""
        v1 = TeaApi(self.args, self.args.access_key_id, self.args.access_key_secret, signature_algorithm="v2")
        images = items(v1.describe_images(sdk_workflow.IMAGE_FAMILY), "Images", "Image")
        expect(images, "DescribeImages through the Tea SDK's signature v1 path found nothing")
        log("the Tea SDK's signature v1 path (signature_algorithm='v2') is accepted too")


if __name__ == "__main__":
    sdk_workflow.main("Tea Python SDK (signature v3 ACS3-HMAC-SHA256)",
                      lambda args: TeaApi(args, args.access_key_id, args.access_key_secret))
