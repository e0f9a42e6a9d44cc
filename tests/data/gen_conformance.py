#!/usr/bin/env python3
"""The simulator's conformance table: one row per documented rule of the real service.

Usage (from the repository root): python3 tests/data/gen_conformance.py
writes tests/data/conformance.json, which tests/it/conformance.rs runs row by row against the
simulator over HTTP. Edit the rows here; every row names its `source` (the API reference
section or the Tea SDK model field it comes from, and what is belief where both are silent).
"""
import json
M="Tea SDK model alibabacloud-ecs20140526 7.11.8"
V="Tea SDK model alibabacloud-vpc20160428 7.2.2"
rows=[]
def row(id, rule, source, steps, given="none", lenient=False):
    r={"id":id,"rule":rule,"source":source,"given":given}
    if lenient: r["lenient"]=True
    r["steps"]=steps
    rows.append(r)
def st(action, params=None, product="ecs", **kw):
    s={"product":product,"action":action,"params":dict(params or {})}
    s["params"].setdefault("RegionId","cn-hangzhou")
    s.update(kw)
    return s
RUN={"ImageFamily":"acs:ubuntu_24_04_x64","InstanceType":"ecs.g7.large","VSwitchId":"{{vsw}}","SecurityGroupId":"{{sg}}"}
def run(**extra):
    p=dict(RUN); p.update(extra); return p
def err(status, code): return {"status":status,"code":code}

# --- Unsafe today
row("delete-unexpired-subscription","DeleteInstances with TerminateSubscription=true refuses an unexpired subscription instance and keeps it",
    M+": DeleteInstancesRequest.terminate_subscription 'Specifies whether to release an expired subscription instance'; API reference DeleteInstances error 403 ChargeTypeViolation",
    [st("DeleteInstances",{"InstanceId.1":"{{instance}}","TerminateSubscription":"true","Force":"true"},expect=err(403,"ChargeTypeViolation")),
     st("DescribeInstances",{"InstanceIds":'["{{instance}}"]'},expect={"fields":{"Instances.Instance.0.Status":"Running","Instances.Instance.0.InstanceChargeType":"PrePaid"}})],
    given="prepaid")
row("delete-unexpired-subscription-single","DeleteInstance on an unexpired subscription instance is refused the same way",
    "API reference DeleteInstance error 403 ChargeTypeViolation (same rule as DeleteInstances)",
    [st("DeleteInstance",{"InstanceId":"{{instance}}","Force":"true","TerminateSubscription":"true"},expect=err(403,"ChargeTypeViolation"))],given="prepaid")
row("lenient-releases-subscription","--lenient keeps the old behaviour: TerminateSubscription=true releases a subscription instance",
    "ecsh's own --lenient contract (issue 16: lenient keeps today's behaviour)",
    [st("DeleteInstances",{"InstanceId.1":"{{instance}}","TerminateSubscription":"true","Force":"true"})],given="prepaid",lenient=True)
row("dryrun-ignored-createdisk","CreateDisk has no DryRun parameter: DryRun=true is ignored and the disk is created",
    M+": CreateDiskRequest has no dry_run field (unknown parameters are ignored by the service)",
    [st("CreateDisk",{"ZoneId":"{{zone}}","Size":"20","DryRun":"true"},expect={"present":["DiskId"]}),
     st("DescribeDisks",{"DiskIds":'["{{disk}}"]'},expect={"fields":{"TotalCount":1}})][0:1]+[], )
rows[-1]["steps"][0]["save"]={"disk":"DiskId"}
rows[-1]["steps"].append(st("DescribeDisks",{"DiskIds":'["{{disk}}"]'},expect={"fields":{"TotalCount":1}}))
row("dryrun-ignored-createsecuritygroup","CreateSecurityGroup has no DryRun parameter: the group is created",
    M+": CreateSecurityGroupRequest has no dry_run field",
    [st("CreateSecurityGroup",{"VpcId":"{{vpc}}","DryRun":"true"},expect={"present":["SecurityGroupId"]})],given="network")
row("dryrun-ignored-createvswitch","CreateVSwitch has no DryRun parameter: the vswitch is created",
    V+": CreateVSwitchRequest has no dry_run field",
    [st("CreateVSwitch",{"VpcId":"{{vpc}}","ZoneId":"{{zone}}","CidrBlock":"192.168.2.0/24","DryRun":"true"},product="vpc",expect={"present":["VSwitchId"]})],given="network")
row("dryrun-describeinstances","DescribeInstances defines DryRun: a passing dry run answers DryRunOperation",
    M+": DescribeInstancesRequest.dry_run 'If the request passes the dry run, the DryRunOperation error code is returned'",
    [st("DescribeInstances",{"DryRun":"true"},expect=err(400,"DryRunOperation"))])
row("dryrun-describevpcs","DescribeVpcs defines DryRun: DryRunOperation",
    V+": DescribeVpcsRequest.dry_run",
    [st("DescribeVpcs",{"DryRun":"true"},product="vpc",expect=err(400,"DryRunOperation"))])
row("dryrun-runinstances","RunInstances defines DryRun: DryRunOperation and nothing created",
    M+": RunInstancesRequest.dry_run",
    [st("RunInstances",run(DryRun="true"),expect=err(400,"DryRunOperation")),
     st("DescribeInstances",{},expect={"fields":{"TotalCount":0}})],given="network")
row("dryrun-lenient-createdisk","--lenient honours DryRun everywhere, as before",
    "ecsh's own --lenient contract",
    [st("CreateDisk",{"ZoneId":"{{zone}}","Size":"20","DryRun":"true"},expect=err(400,"DryRunOperation"))],lenient=True)
row("xml-describeregions","Format=XML answers XML with the <ActionResponse> root and lists as repeated elements",
    "API reference 'Response formats' (XML is the default; root element <ActionNameResponse>); rpc-protocol.md §6",
    [st("DescribeRegions",{},format="XML",expect={"xml":["<?xml version=\"1.0\" encoding=\"UTF-8\"?>","<DescribeRegionsResponse><RequestId>","<Regions><Region><RegionId>","</Region><Region>","</Regions>"]})])
row("xml-error","An error asked for in XML comes as <Error> with Code, Message, RequestId, HostId and Recommend",
    "API reference 'Response formats' (error XML root <Error>)",
    [st("DescribeInstances",{"RegionId":"xx-nowhere-1"},format="XML",expect={"status":404,"code":"InvalidRegionId.NotFound","xml":["<Error><RequestId>","<HostId>","<Code>InvalidRegionId.NotFound</Code>","<Message>","<Recommend>"]})])
row("xml-is-the-v1-default","A signature-v1 request without Format is answered in XML, the documented default",
    "API reference common parameters: Format 'Default value: XML'; rpc-protocol.md §2",
    [st("DescribeZones",{},format="none",expect={"xml":["<DescribeZonesResponse>","<Zones><Zone><ZoneId>"]})])
row("xml-instances","DescribeInstances in XML: Instances/Instance, nested sets as repeated elements",
    "API reference DescribeInstances response (XML sample layout)",
    [st("DescribeInstances",{"InstanceIds":'["{{instance}}"]'},format="XML",expect={"xml":["<Instances><Instance><","<InstanceId>{{instance}}</InstanceId>","<SecurityGroupIds><SecurityGroupId>{{sg}}</SecurityGroupId></SecurityGroupIds>"]})],given="instance")
# --- Too lenient: RunInstances
row("hostname-malformed","HostName cannot start with a hyphen",
    M+": RunInstancesRequest.host_name 'cannot start or end with a period (.) or a hyphen (-)'",
    [st("RunInstances",run(HostName="-web"),expect=err(400,"InvalidHostName.Malformed"))],given="network")
row("hostname-double-period","HostName cannot contain consecutive periods",
    M+": RunInstancesRequest.host_name 'cannot contain consecutive periods (.) or hyphens (-)'",
    [st("RunInstances",run(HostName="web..a"),expect=err(400,"InvalidHostName.Malformed"))],given="network")
row("hostname-too-long","A Linux HostName is at most 64 characters",
    M+": RunInstancesRequest.host_name 'must be 2 to 64 characters in length'",
    [st("RunInstances",run(HostName="h"*65),expect=err(400,"InvalidHostName.Malformed"))],given="network")
WIN="acs:windows_server_2022_dtc_x64_en-us"
row("hostname-windows-too-long","A Windows HostName is at most 15 characters",
    M+": RunInstancesRequest.host_name 'For Windows instances: The hostname must be 2 to 15 characters in length'",
    [st("RunInstances",run(ImageFamily=WIN,HostName="win-host-name-16"),expect=err(400,"InvalidHostName.Malformed"))],given="network")
row("hostname-windows-no-period","A Windows HostName cannot contain periods",
    M+": RunInstancesRequest.host_name 'For Windows instances: … cannot contain periods (.)'",
    [st("RunInstances",run(ImageFamily=WIN,HostName="web.01"),expect=err(400,"InvalidHostName.Malformed"))],given="network")
row("hostname-windows-ok","A 15-character Windows HostName with a hyphen is accepted",
    M+": RunInstancesRequest.host_name (Windows: 2 to 15 characters, letters, digits and hyphens)",
    [st("RunInstances",run(ImageFamily=WIN,HostName="win-host-name15"),expect={"present":["InstanceIdSets"]})],given="network")
row("sequential-names","InstanceName/HostName name_prefix[begin,bits] expand per instance",
    M+": RunInstancesRequest.instance_name/unique_suffix (sequential names name_prefix[begin_number,bits]); help doc 196048",
    [st("RunInstances",run(Amount="2",InstanceName="node-[1,3]",HostName="node-[7,2]"),save={"a":"InstanceIdSets.InstanceIdSet.0","b":"InstanceIdSets.InstanceIdSet.1"}),
     st("DescribeInstances",{"InstanceIds":'["{{a}}"]'},expect={"fields":{"Instances.Instance.0.InstanceName":"node-001","Instances.Instance.0.HostName":"node-07"}}),
     st("DescribeInstances",{"InstanceIds":'["{{b}}"]'},expect={"fields":{"Instances.Instance.0.InstanceName":"node-002","Instances.Instance.0.HostName":"node-08"}})],given="network")
row("instance-id-placeholder","${instance_id} in HostName and InstanceName becomes the new instance's id",
    M+": RunInstancesRequest.host_name 'You can use the ${instance_id} placeholder'",
    [st("RunInstances",run(HostName="k8s-${instance_id}",InstanceName="web-${instance_id}"),save={"id":"InstanceIdSets.InstanceIdSet.0"}),
     st("DescribeInstances",{"InstanceIds":'["{{id}}"]'},expect={"fields":{"Instances.Instance.0.HostName":"k8s-{{id}}","Instances.Instance.0.InstanceName":"web-{{id}}"}})],given="network")
row("private-ip-honoured","PrivateIpAddress is the instance's private IP",
    M+": RunInstancesRequest.private_ip_address",
    [st("RunInstances",run(PrivateIpAddress="192.168.1.77"),save={"id":"InstanceIdSets.InstanceIdSet.0"}),
     st("DescribeInstances",{"InstanceIds":'["{{id}}"]'},expect={"fields":{"Instances.Instance.0.VpcAttributes.PrivateIpAddress.IpAddress.0":"192.168.1.77"}})],given="network")
row("private-ip-duplicated","A PrivateIpAddress already in use is InvalidPrivateIpAddress.Duplicated",
    "API reference RunInstances errors: InvalidPrivateIpAddress.Duplicated (HTTP status: belief, 400)",
    [st("RunInstances",run(PrivateIpAddress="192.168.1.3"),expect=err(400,"InvalidPrivateIpAddress.Duplicated"))],given="instance")
row("private-ip-reserved","The first and the last three addresses of the vswitch cannot be asked for",
    M+": RunInstancesRequest.private_ip_address 'The first and the last three IP addresses of each vSwitch are reserved'",
    [st("RunInstances",run(PrivateIpAddress="192.168.1.254"),expect=err(400,"InvalidPrivateIpAddress"))],given="network")
row("key-pair-not-found","KeyPairName naming a key pair the account does not have is refused, not ignored",
    "API reference RunInstances errors: InvalidKeyPairName.NotFound (HTTP 404 is belief); the simulated account has no key pairs",
    [st("RunInstances",run(KeyPairName="my-key"),expect=err(404,"InvalidKeyPairName.NotFound"))],given="network")
row("launch-template-not-found","LaunchTemplateId naming no template is refused, not ignored",
    "API reference RunInstances errors: InvalidLaunchTemplate.NotFound (HTTP 404 is belief)",
    [st("RunInstances",run(LaunchTemplateId="lt-bp1nothere"),expect=err(404,"InvalidLaunchTemplate.NotFound"))],given="network")
row("unmodelled-parameter-refused","A RunInstances parameter the simulator does not model is refused with a message naming --lenient",
    "issue 16: 'validated or refused, never silently ignored' (simulator rule; the reference is silent on what the simulator cannot model)",
    [st("RunInstances",run(Affinity="host"),expect={"status":400,"code":"InvalidParameter","message":"ecsh sim --lenient"}),
     st("RunInstances",run(InstanceNme="web"),expect={"status":400,"code":"InvalidParameter","message":"Did you mean InstanceName?"})],given="network")
row("period-month-invalid","Period 10 with PeriodUnit=Month is not a valid subscription length",
    M+": RunInstancesRequest.period 'When PeriodUnit is set to Month, valid values of Period are 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36, 48, and 60'; the code InvalidPeriod is belief (the reference lists it for CreateInstance)",
    [st("RunInstances",run(InstanceChargeType="PrePaid",Period="10",PeriodUnit="Month"),expect=err(400,"InvalidPeriod"))],given="network")
row("period-week-invalid","Period 5 with PeriodUnit=Week is not valid",
    M+": RunInstancesRequest.period 'When PeriodUnit is set to Week, valid values of Period are 1, 2, 3, and 4'",
    [st("RunInstances",run(InstanceChargeType="PrePaid",Period="5",PeriodUnit="Week"),expect=err(400,"InvalidPeriod"))],given="network")
row("instance-name-too-short","InstanceName is at least 2 characters",
    M+": RunInstancesRequest.instance_name 'The name must be 2 to 128 characters in length'",
    [st("RunInstances",run(InstanceName="a"),expect=err(400,"InvalidInstanceName.Malformed"))],given="network")
row("instance-name-too-long","InstanceName is at most 128 characters",
    M+": RunInstancesRequest.instance_name",
    [st("RunInstances",run(InstanceName="n"*129),expect=err(400,"InvalidInstanceName.Malformed"))],given="network")
row("zone-vswitch-mismatch","A ZoneId other than the vswitch's is InvalidParameter.Mismatch",
    "API reference RunInstances errors: InvalidParameter.Mismatch (HTTP 400)",
    [st("RunInstances",run(ZoneId="cn-hangzhou-k"),expect=err(400,"InvalidParameter.Mismatch"))],given="network")
row("zone-vswitch-mismatch-lenient","--lenient keeps the old code InvalidZoneId.Mismatch","ecsh's own --lenient contract",
    [st("RunInstances",run(ZoneId="cn-hangzhou-k"),expect=err(400,"InvalidZoneId.Mismatch"))],given="network",lenient=True)
row("sg-vswitch-vpc-mismatch","A security group of another VPC than the vswitch's is InvalidParameter.Mismatch",
    "API reference RunInstances errors: InvalidParameter.Mismatch 'Specified security group and vswitch are not in the same vpc'",
    [st("CreateVpc",{"CidrBlock":"10.0.0.0/8"},product="vpc",save={"vpc2":"VpcId"}),
     st("DescribeVpcs",{"VpcId":"{{vpc2}}"},product="vpc",poll=20,expect={"fields":{"Vpcs.Vpc.0.Status":"Available"}}),
     st("CreateSecurityGroup",{"VpcId":"{{vpc2}}"},save={"sg2":"SecurityGroupId"}),
     st("RunInstances",run(SecurityGroupId="{{sg2}}"),expect=err(400,"InvalidParameter.Mismatch"))],given="network")
row("min-amount-malformed","MinAmount above Amount is InvalidMinAmount.Malformed",
    M+": RunInstancesRequest.min_amount 'Valid values: 1 to 100'; API reference RunInstances errors: InvalidMinAmount.Malformed",
    [st("RunInstances",run(Amount="1",MinAmount="2"),expect=err(400,"InvalidMinAmount.Malformed"))],given="network")
row("client-token-too-long","A ClientToken over 64 characters is InvalidClientToken.ValueNotSupported",
    M+": RunInstancesRequest.client_token 'can contain only ASCII characters and cannot exceed 64 characters'; API reference errors: InvalidClientToken.ValueNotSupported",
    [st("RunInstances",run(ClientToken="t"*65),expect=err(400,"InvalidClientToken.ValueNotSupported"))],given="network")
row("stop-charging-releases-public-ip","StopInstance with StoppedMode=StopCharging reclaims the static public IP",
    M+": StopInstanceRequest.stopped_mode 'the static public IP address may change' (economical mode reclaims it)",
    [st("StopInstance",{"InstanceId":"{{instance}}","StoppedMode":"StopCharging"}),
     st("DescribeInstances",{"InstanceIds":'["{{instance}}"]'},poll=20,expect={"fields":{"Instances.Instance.0.Status":"Stopped","Instances.Instance.0.StoppedMode":"StopCharging","Instances.Instance.0.PublicIpAddress.IpAddress":[]}})],given="instance")
row("ecs-versioned-createvpc","Old SDKs send CreateVpc/DescribeVpcs with ECS's Version 2014-05-26; they work",
    "aliyun-python-sdk-ecs 4.24.83: aliyunsdkecs/request/v20140526/CreateVpcRequest.py, DescribeVpcsRequest.py, CreateVSwitchRequest.py",
    [st("CreateVpc",{"CidrBlock":"172.16.0.0/12"},save={"v":"VpcId"}),
     st("DescribeVpcs",{"VpcId":"{{v}}"},poll=20,expect={"fields":{"Vpcs.Vpc.0.Status":"Available","TotalCount":1}}),
     st("CreateVSwitch",{"VpcId":"{{v}}","ZoneId":"{{zone}}","CidrBlock":"172.16.1.0/24"},expect={"present":["VSwitchId"]})])
row("maxresults-clamped-low","DescribeInstances MaxResults below 10 is served as 10, not as a page of 2",
    M+": DescribeInstancesRequest.max_results 'If you do not set this parameter or set it to a value less than 10, the default value is 10'",
    [st("DescribeInstances",{"MaxResults":"2"},expect={"fields":{"MaxResults":10}})])
row("maxresults-clamped-high","DescribeInstances MaxResults above 100 is served as 100, not refused",
    M+": DescribeInstancesRequest.max_results 'If you set this parameter to a value greater than 100, the default value is 100'",
    [st("DescribeInstances",{"MaxResults":"101"},expect={"fields":{"MaxResults":100}})])
row("invalid-status-filter","DescribeInstances Status that is not a status is InvalidStatus.NotFound",
    M+": DescribeInstancesRequest.status valid values Pending, Running, Starting, Stopping, Stopped; the code is from the API reference error list (HTTP 400 is belief)",
    [st("DescribeInstances",{"Status":"Sleeping"},expect=err(400,"InvalidStatus.NotFound"))])
row("vswitch-one-at-a-time","A second CreateVSwitch while the VPC's first is still Pending is IncorrectVSwitchStatus",
    "lifecycles-and-errors.md §2 'Only one VSwitch or route operation at a time per VPC'; IncorrectVSwitchStatus [verified: Terraform retries it]",
    [st("CreateVSwitch",{"VpcId":"{{vpc}}","ZoneId":"{{zone}}","CidrBlock":"192.168.2.0/24"},product="vpc"),
     st("CreateVSwitch",{"VpcId":"{{vpc}}","ZoneId":"{{zone}}","CidrBlock":"192.168.3.0/24"},product="vpc",expect=err(400,"IncorrectVSwitchStatus"))],given="network")
row("zone-does-not-sell-type","A type the vswitch's zone does not sell is InvalidInstanceType.ZoneNotSupported (check DescribeAvailableResource first)",
    "API reference RunInstances errors: InvalidInstanceType.ZoneNotSupported 'The specified zone does not support this instance type' (HTTP 400 is belief); the catalogue's cn-hangzhou-j sells no gn6i",
    [st("RunInstances",run(InstanceType="ecs.gn6i-c4g1.xlarge"),expect=err(400,"InvalidInstanceType.ZoneNotSupported"))],given="network")
row("describeinstances-documented-fields","DescribeInstances carries the documented fields with their defaults",
    M+": DescribeInstancesResponseBody Instance fields SpotPriceLimit, SpotDuration, SpotInterruptionBehavior, MetadataOptions, CpuOptions, NetworkInterfaces.PrivateIpSets, DeploymentSetId",
    [st("DescribeInstances",{"InstanceIds":'["{{instance}}"]'},expect={"fields":{
        "Instances.Instance.0.SpotPriceLimit":0.0,"Instances.Instance.0.SpotDuration":0,"Instances.Instance.0.SpotInterruptionBehavior":"Terminate",
        "Instances.Instance.0.MetadataOptions.HttpEndpoint":"enabled","Instances.Instance.0.MetadataOptions.HttpTokens":"optional",
        "Instances.Instance.0.CpuOptions.CoreCount":1,"Instances.Instance.0.CpuOptions.ThreadsPerCore":2,
        "Instances.Instance.0.DeploymentSetId":"",
        "Instances.Instance.0.NetworkInterfaces.NetworkInterface.0.PrivateIpSets.PrivateIpSet.0.Primary":True},
        "present":["Instances.Instance.0.NetworkInterfaces.NetworkInterface.0.PrivateIpSets.PrivateIpSet.0.PrivateIpAddress",
                   "Instances.Instance.0.NetworkInterfaces.NetworkInterface.0.Ipv6Sets.Ipv6Set","Instances.Instance.0.DedicatedHostAttribute.DedicatedHostId"]})],given="instance")
row("describedisks-documented-fields","DescribeDisks carries Attachments, IOPS and NextToken",
    M+": DescribeDisksResponseBody (Attachments.Attachment, IOPS, NextToken); DescribeDisksRequest.next_token/max_results",
    [st("DescribeDisks",{"InstanceId":"{{instance}}"},expect={"fields":{"Disks.Disk.0.Attachments.Attachment.0.InstanceId":"{{instance}}","Disks.Disk.0.IOPS":2120,"NextToken":""},"present":["Disks.Disk.0.Attachments.Attachment.0.Device"]})],given="instance")
row("command-timeout-in-simulated-time","A one-time command past its Timeout (in simulated time, --sim-exec local) ends InvocationStatus=Timeout, InvokeRecordStatus=Failed",
    "lifecycles-and-errors.md §3 (Timeout: exceeded Timeout seconds and was killed; ErrorCode ExecutionTimeout); "+M+": DescribeInvocationResults InvokeRecordStatus values include Failed",
    [st("DescribeCloudAssistantStatus",{"InstanceId.1":"{{instance}}"},poll=400,expect={"fields":{"InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus.0.CloudAssistantStatus":"true"}}),
     st("RunCommand",{"Type":"RunShellScript","CommandContent":"c2xlZXAgMzA=","ContentEncoding":"Base64","Timeout":"10","InstanceId.1":"{{instance}}"},save={"inv":"InvokeId"}),
     st("DescribeInvocationResults",{"InvokeId":"{{inv}}"},poll=400,expect={"fields":{"Invocation.InvocationResults.InvocationResult.0.InvocationStatus":"Timeout","Invocation.InvocationResults.InvocationResult.0.InvokeRecordStatus":"Failed","Invocation.InvocationResults.InvocationResult.0.ErrorCode":"ExecutionTimeout"}})],given="instance")
rows[-1]["world"]="local"
row("zone-not-on-sale","A zone closed to new purchases answers Zone.NotOnSale (403) to RunInstances and CreateDisk, and DescribeZones shows it creates nothing",
    "API reference RunInstances and CreateDisk errors: Zone.NotOnSale 'The specified zone is not available for purchase' (HTTP 403 is belief); the catalogue's cn-hangzhou-b is closed",
    [st("CreateVSwitch",{"VpcId":"{{vpc}}","ZoneId":"cn-hangzhou-b","CidrBlock":"192.168.9.0/24"},product="vpc",save={"vswb":"VSwitchId"}),
     st("DescribeVSwitches",{"VSwitchId":"{{vswb}}"},product="vpc",poll=20,expect={"fields":{"VSwitches.VSwitch.0.Status":"Available"}}),
     st("RunInstances",run(VSwitchId="{{vswb}}"),expect=err(403,"Zone.NotOnSale")),
     st("CreateDisk",{"ZoneId":"cn-hangzhou-b","Size":"20"},expect=err(403,"Zone.NotOnSale")),
     st("DescribeZones",{},expect={"fields":{"Zones.Zone.4.ZoneId":"cn-hangzhou-b","Zones.Zone.4.AvailableResourceCreation.ResourceTypes":[],"Zones.Zone.4.AvailableInstanceTypes.InstanceTypes":[]}})],given="network")
row("subscription-weeks-expire-in-weeks","A subscription of 1 Week expires a week after creation, not a month",
    M+": RunInstancesRequest.period/period_unit (Week); the simulator's ExpiredTime is at 16:00 UTC, 7 days on",
    [st("RunInstances",run(InstanceChargeType="PrePaid",Period="1",PeriodUnit="Week"),save={"id":"InstanceIdSets.InstanceIdSet.0"}),
     st("DescribeInstances",{"InstanceIds":'["{{id}}"]'},expect={"fields":{"Instances.Instance.0.ExpiredTime":"{{in7days}}"}})],given="network")
# --- AutoReleaseTime (issue 12's lease; the rules as the reference states them)
AR="reference ecs-actions.md RunInstances: AutoReleaseTime is UTC yyyy-MM-ddTHH:mm:ssZ, at least 30 minutes ahead; API reference: at most 3 years ahead, pay-as-you-go only, kept to the minute (error codes: belief)"
row("autorelease-too-soon","AutoReleaseTime less than 30 minutes ahead is refused and nothing is created",AR,
    [st("RunInstances",run(AutoReleaseTime="{{in10min}}"),expect=err(400,"InvalidAutoReleaseTime")),
     st("DescribeInstances",{},expect={"fields":{"TotalCount":0}})],given="network")
row("autorelease-too-far","AutoReleaseTime more than 3 years ahead is refused",AR,
    [st("RunInstances",run(AutoReleaseTime="{{in4years}}"),expect=err(400,"InvalidAutoReleaseTime"))],given="network")
row("autorelease-malformed","AutoReleaseTime that is not UTC ISO-8601 is InvalidAutoReleaseTime.Malformed",AR,
    [st("RunInstances",run(AutoReleaseTime="tomorrow 10:00"),expect=err(400,"InvalidAutoReleaseTime.Malformed"))],given="network")
row("autorelease-postpaid-only","AutoReleaseTime on a subscription (PrePaid) instance is refused",AR,
    [st("RunInstances",run(InstanceChargeType="PrePaid",Period="1",PeriodUnit="Month",AutoReleaseTime="{{in2h}}"),expect=err(403,"InvalidInstanceChargeType.NotSupport"))],given="network")
row("autorelease-minute-precision","AutoReleaseTime is kept to the minute: DescribeInstances answers it with seconds 00",AR,
    [st("RunInstances",run(AutoReleaseTime="{{in2h}}"),save={"id":"InstanceIdSets.InstanceIdSet.0"}),
     st("DescribeInstances",{"InstanceIds":'["{{id}}"]'},expect={"fields":{"Instances.Instance.0.AutoReleaseTime":"{{in2h_minute}}"}})],given="network")
row("autorelease-modify-clears","ModifyInstanceAutoReleaseTime without AutoReleaseTime clears it",
    "API reference ModifyInstanceAutoReleaseTime: 'If you do not specify this parameter, the automatic release time is cancelled'",
    [st("ModifyInstanceAutoReleaseTime",{"InstanceId":"{{instance}}","AutoReleaseTime":"{{in2h}}"}),
     st("DescribeInstances",{"InstanceIds":'["{{instance}}"]'},expect={"fields":{"Instances.Instance.0.AutoReleaseTime":"{{in2h_minute}}"}}),
     st("ModifyInstanceAutoReleaseTime",{"InstanceId":"{{instance}}"}),
     st("DescribeInstances",{"InstanceIds":'["{{instance}}"]'},expect={"fields":{"Instances.Instance.0.AutoReleaseTime":""}})],given="instance")
json.dump(rows, open('tests/data/conformance.json','w'), indent=1, ensure_ascii=False)
