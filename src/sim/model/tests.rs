//! Unit tests of the model, driving `World::handle` with `SimRequest`s (no HTTP). Time runs in
//! the deterministic Steps mode, so every assertion about a lifecycle is exact.

use super::*;
use crate::ops::Product;
use base64::Engine;
use serde_json::Value;

fn world(steps: u32) -> World {
    World::new(WorldOptions {
        time: TimeMode::Steps(steps),
        exec: ExecMode::Simulated,
    })
}

fn request(action: &str, params: &[(&str, &str)]) -> SimRequest {
    let product = ops::find_any(action).map_or(Product::Ecs, |a| a.product);
    SimRequest {
        product,
        action: action.to_string(),
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        access_key_id: "test".into(),
        host: "127.0.0.1".into(),
    }
}

fn call(w: &mut World, action: &str, params: &[(&str, &str)]) -> Result<Value, SimError> {
    w.handle(&request(action, params))
}

#[track_caller]
fn ok(w: &mut World, action: &str, params: &[(&str, &str)]) -> Value {
    match call(w, action, params) {
        Ok(v) => v,
        Err(e) => panic!("{action} failed: {e}"),
    }
}

#[track_caller]
fn err(w: &mut World, action: &str, params: &[(&str, &str)]) -> SimError {
    match call(w, action, params) {
        Ok(v) => panic!("{action} unexpectedly succeeded: {v}"),
        Err(e) => e,
    }
}

fn s(v: &Value, path: &str) -> String {
    let mut cur = v;
    for k in path.split('.') {
        cur = match k.parse::<usize>() {
            Ok(i) => &cur[i],
            Err(_) => &cur[k],
        };
    }
    match cur {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

const HZ: (&str, &str) = ("RegionId", "cn-hangzhou");

/// A VPC (Available), a vswitch in cn-hangzhou-j (Available) and a security group.
fn network(w: &mut World) -> (String, String, String) {
    let vpc = s(
        &ok(w, "CreateVpc", &[HZ, ("CidrBlock", "192.168.0.0/16")]),
        "VpcId",
    );
    while s(
        &ok(w, "DescribeVpcs", &[HZ, ("VpcId", &vpc)]),
        "Vpcs.Vpc.0.Status",
    ) != "Available"
    {}
    let vsw = s(
        &ok(
            w,
            "CreateVSwitch",
            &[
                HZ,
                ("VpcId", &vpc),
                ("ZoneId", "cn-hangzhou-j"),
                ("CidrBlock", "192.168.1.0/24"),
            ],
        ),
        "VSwitchId",
    );
    while s(
        &ok(w, "DescribeVSwitches", &[HZ, ("VSwitchId", &vsw)]),
        "VSwitches.VSwitch.0.Status",
    ) != "Available"
    {}
    let sg = s(
        &ok(w, "CreateSecurityGroup", &[HZ, ("VpcId", &vpc)]),
        "SecurityGroupId",
    );
    (vpc, vsw, sg)
}

fn run(
    w: &mut World,
    vsw: &str,
    sg: &str,
    extra: &[(&str, &str)],
) -> Result<Vec<String>, SimError> {
    let mut params = vec![
        HZ,
        ("ImageFamily", "acs:ubuntu_24_04_x64"),
        ("InstanceType", "ecs.t6-c1m2.large"),
        ("VSwitchId", vsw),
        ("SecurityGroupId", sg),
    ];
    params.extend_from_slice(extra);
    let v = call(w, "RunInstances", &params)?;
    Ok(v["InstanceIdSets"]["InstanceIdSet"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default())
}

fn status(w: &mut World, id: &str) -> String {
    let ids = format!("[\"{id}\"]");
    s(
        &ok(w, "DescribeInstances", &[HZ, ("InstanceIds", &ids)]),
        "Instances.Instance.0.Status",
    )
}

fn wait_running(w: &mut World, id: &str) {
    for _ in 0..50 {
        if status(w, id) == "Running" {
            return;
        }
    }
    panic!("{id} never reached Running");
}

// ---- dispatch and the registry ------------------------------------------------------------

#[test]
fn handlers_are_the_registry() {
    // Both directions: every ECS/VPC entry has exactly one handler row, and every row is a
    // registered ECS/VPC entry (STS is `sim::sts`'s, beside the model).
    let registry: Vec<(Product, &str)> = ops::ACTIONS
        .iter()
        .filter(|a| a.product != Product::Sts)
        .map(|a| (a.product, a.name))
        .collect();
    let table: Vec<(Product, &str)> = super::HANDLERS
        .iter()
        .map(|(a, _)| (a.product, a.name))
        .collect();
    for key in &registry {
        let rows = table.iter().filter(|k| *k == key).count();
        assert_eq!(rows, 1, "{key:?}: {rows} handler rows (want exactly 1)");
    }
    for key in &table {
        assert!(
            registry.contains(key),
            "{key:?} has a handler but is not a registered ECS/VPC action"
        );
    }
}

#[test]
fn every_registered_action_has_a_handler() {
    let mut w = world(0);
    // STS is served by `sim::sts`, beside the model (its tests cover every STS action).
    for a in ops::ACTIONS.iter().filter(|a| a.product != Product::Sts) {
        assert!(route(a).is_some(), "{} has no handler", a.name);
        if let Err(e) = call(&mut w, a.name, &[HZ]) {
            assert_ne!(e.code, "InvalidAction.NotFound", "{}", a.name);
        }
    }
}

#[test]
fn required_parameters_come_from_the_registry() {
    let mut w = world(0);
    // STS is `sim::sts`'s, beside the model.
    for a in ops::ACTIONS
        .iter()
        .filter(|a| !a.required.is_empty() && a.product != Product::Sts)
    {
        let e = err(&mut w, a.name, &[]);
        assert_eq!(e.code, "MissingParameter", "{}", a.name);
        assert_eq!(e.status, 400);
    }
}

#[test]
fn every_paged_action_pages_where_the_registry_says() {
    let mut w = world(0);
    let params = [
        HZ,
        ("ResourceType", "instance"),
        ("Tag.1.Key", "k"),
        ("PageSize", "1"),
    ];
    for a in ops::ACTIONS
        .iter()
        .filter(|a| a.paging != ops::Paging::None)
    {
        let body = ok(&mut w, a.name, &params);
        let mut list = &body;
        for key in a.list_path.unwrap_or_default().split('.') {
            list = &list[key];
        }
        assert!(
            list.is_array(),
            "{}: no list at {:?}: {body}",
            a.name,
            a.list_path
        );
        let root = a.paging_root.map_or(&body, |r| &body[r]);
        assert!(
            root["TotalCount"].is_number(),
            "{}: no TotalCount: {body}",
            a.name
        );
        assert!(
            root["PageSize"].is_number(),
            "{}: no PageSize: {body}",
            a.name
        );
    }
}

#[test]
fn unknown_actions_and_regions_are_refused() {
    let mut w = world(0);
    let e = err(&mut w, "DescribeInstance", &[HZ]);
    assert_eq!((e.status, e.code.as_str()), (404, "InvalidAction.NotFound"));
    assert!(e.message.contains("DescribeInstances"), "{}", e.message);
    let e = err(&mut w, "DescribeInstances", &[("RegionId", "mars-1")]);
    assert_eq!(
        (e.status, e.code.as_str()),
        (404, "InvalidRegionId.NotFound")
    );
}

#[test]
fn garbage_never_panics() {
    let junk = [
        "",
        "-1",
        "0",
        "1e400",
        "99999999999999999999",
        "[",
        "[\"x\"",
        "{}",
        "\u{0}ü",
        "NaN",
        "true",
    ];
    let keys = [
        "InstanceId",
        "InstanceIds",
        "InstanceId.1",
        "InstanceId.999999",
        "Amount",
        "MinAmount",
        "PageSize",
        "PageNumber",
        "MaxResults",
        "NextToken",
        "Cores",
        "Memory",
        "InstanceType",
        "CidrBlock",
        "VpcId",
        "VSwitchId",
        "ZoneId",
        "SecurityGroupId",
        "SecurityGroupIds",
        "Permissions.1.PortRange",
        "Permissions.1.IpProtocol",
        "PortRange",
        "IpProtocol",
        "Tag.1.Key",
        "Tag.1.Value",
        "CommandContent",
        "ContentEncoding",
        "Timeout",
        "Type",
        "DataDisk.1.Size",
        "SystemDisk.Size",
        "Period",
        "PriceUnit",
        "InternetMaxBandwidthOut",
        "DestinationResource",
        "ResourceType",
        "ResourceId.1",
        "ImageId",
        "ImageFamily",
        "DryRun",
        "Force",
        "UserData",
        "Parameters",
        "EnableParameter",
        "DiskIds",
        "AllocationId",
        "Size",
    ];
    let mut w = world(0);
    let (_, vsw, sg) = network(&mut w);
    for a in ops::ACTIONS {
        for j in junk {
            let mut params: Vec<(&str, &str)> = keys.iter().map(|k| (*k, j)).collect();
            params.push(HZ);
            let _ = call(&mut w, a.name, &params);
            let _ = call(
                &mut w,
                a.name,
                &[
                    HZ,
                    ("VSwitchId", &vsw),
                    ("SecurityGroupId", &sg),
                    ("InstanceType", j),
                ],
            );
        }
    }
}

// ---- the seed's workflow ------------------------------------------------------------------

#[test]
fn the_seed_workflow_end_to_end() {
    let mut w = world(1);
    let rec = ok(
        &mut w,
        "DescribeRecommendInstanceType",
        &[HZ, ("NetworkType", "vpc"), ("Cores", "2"), ("Memory", "4")],
    );
    let first = &rec["Data"]["RecommendInstanceType"][0];
    assert_eq!(first["InstanceType"]["Memory"], 4096);
    let (itype, zone) = (s(first, "InstanceType.InstanceType"), s(first, "ZoneId"));
    let avail = ok(
        &mut w,
        "DescribeAvailableResource",
        &[
            HZ,
            ("DestinationResource", "InstanceType"),
            ("ZoneId", &zone),
            ("InstanceType", &itype),
        ],
    );
    assert_eq!(
        s(&avail, "AvailableZones.AvailableZone.0.AvailableResources.AvailableResource.0.SupportedResources.SupportedResource.0.StatusCategory"),
        "WithStock"
    );
    let price = ok(
        &mut w,
        "DescribePrice",
        &[
            HZ,
            ("InstanceType", &itype),
            ("SystemDisk.Category", "cloud_essd"),
            ("SystemDisk.Size", "40"),
        ],
    );
    assert!(
        price["PriceInfo"]["Price"]["TradePrice"]
            .as_f64()
            .unwrap_or(0.0)
            > 0.0
    );
    assert_eq!(price["PriceInfo"]["Price"]["Currency"], "CNY");

    let vpc = s(
        &ok(&mut w, "CreateVpc", &[HZ, ("CidrBlock", "10.0.0.0/16")]),
        "VpcId",
    );
    let e = err(
        &mut w,
        "CreateVSwitch",
        &[
            HZ,
            ("VpcId", &vpc),
            ("ZoneId", &zone),
            ("CidrBlock", "10.0.1.0/24"),
        ],
    );
    assert_eq!(e.code, "IncorrectVpcStatus");
    while s(
        &ok(&mut w, "DescribeVpcAttribute", &[("VpcId", &vpc)]),
        "Status",
    ) != "Available"
    {}
    let vsw = s(
        &ok(
            &mut w,
            "CreateVSwitch",
            &[
                HZ,
                ("VpcId", &vpc),
                ("ZoneId", &zone),
                ("CidrBlock", "10.0.1.0/24"),
            ],
        ),
        "VSwitchId",
    );
    while s(
        &ok(&mut w, "DescribeVSwitchAttributes", &[("VSwitchId", &vsw)]),
        "Status",
    ) != "Available"
    {}
    let sg = s(
        &ok(&mut w, "CreateSecurityGroup", &[HZ, ("VpcId", &vpc)]),
        "SecurityGroupId",
    );
    ok(
        &mut w,
        "AuthorizeSecurityGroup",
        &[
            HZ,
            ("SecurityGroupId", &sg),
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "80/80"),
            ("Permissions.1.SourceCidrIp", "0.0.0.0/0"),
        ],
    );
    let image = ok(
        &mut w,
        "DescribeImages",
        &[HZ, ("ImageFamily", "acs:ubuntu_24_04_x64")],
    );
    assert_eq!(image["Images"]["Image"].as_array().map(Vec::len), Some(1));
    let image_id = s(&image, "Images.Image.0.ImageId");
    let ids = run(
        &mut w,
        &vsw,
        &sg,
        &[
            ("ImageId", &image_id),
            ("InstanceType", &itype),
            ("InternetMaxBandwidthOut", "5"),
        ],
    )
    .unwrap();
    let id = ids[0].clone();
    wait_running(&mut w, &id);
    let desc = ok(&mut w, "DescribeInstances", &[HZ, ("VpcId", &vpc)]);
    let inst = &desc["Instances"]["Instance"][0];
    assert_eq!(
        inst["PublicIpAddress"]["IpAddress"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(inst["VpcAttributes"]["VSwitchId"], vsw.as_str());
    assert_eq!(inst["SecurityGroupIds"]["SecurityGroupId"][0], sg.as_str());

    let agent =
        |w: &mut World| {
            s(
            &ok(w, "DescribeCloudAssistantStatus", &[HZ, ("InstanceId.1", &id)]),
            "InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus.0.CloudAssistantStatus",
        )
        };
    while agent(&mut w) != "true" {}
    let invoke = ok(
        &mut w,
        "RunCommand",
        &[
            HZ,
            ("Type", "RunShellScript"),
            ("CommandContent", "echo hello && date"),
            ("InstanceId.1", &id),
        ],
    );
    let invoke_id = s(&invoke, "InvokeId");
    assert!(invoke_id.starts_with("t-"));
    let result = loop {
        let r = ok(
            &mut w,
            "DescribeInvocationResults",
            &[HZ, ("InvokeId", &invoke_id)],
        );
        let row = r["Invocation"]["InvocationResults"]["InvocationResult"][0].clone();
        assert_eq!(r["Invocation"]["TotalCount"], 1);
        if row["InvocationStatus"] == "Success" {
            break row;
        }
    };
    let out = base64::engine::general_purpose::STANDARD
        .decode(s(&result, "Output"))
        .unwrap();
    assert!(String::from_utf8_lossy(&out).contains("not executed (simulated run)"));
    assert_eq!(result["ExitCode"], 0);

    // Cleanup in reverse order, each deletion verified.
    ok(
        &mut w,
        "DeleteInstances",
        &[HZ, ("InstanceId.1", &id), ("Force", "true")],
    );
    let mut refused = 0;
    while let Err(e) = call(
        &mut w,
        "DeleteSecurityGroup",
        &[HZ, ("SecurityGroupId", &sg)],
    ) {
        assert_eq!((e.status, e.code.as_str()), (403, "DependencyViolation"));
        refused += 1;
        assert!(refused < 20);
    }
    assert!(
        refused > 0,
        "the release window must hold the group for a while"
    );
    assert_eq!(
        status(&mut w, &id),
        "null",
        "released instance still listed"
    );
    while call(&mut w, "DeleteVSwitch", &[HZ, ("VSwitchId", &vsw)]).is_err() {}
    while call(&mut w, "DeleteVpc", &[HZ, ("VpcId", &vpc)]).is_err() {}
    while ok(&mut w, "DescribeVpcs", &[HZ])["TotalCount"] != 0 {}
    let e = err(&mut w, "DescribeVpcAttribute", &[HZ, ("VpcId", &vpc)]);
    assert_eq!(e.code, "InvalidVpcId.NotFound");
}

// ---- lifecycles ------------------------------------------------------------------------------

#[test]
fn steps_mode_is_exact() {
    let mut w = world(2);
    let (_, vsw, sg) = network(&mut w);
    let id = run(&mut w, &vsw, &sg, &[]).unwrap().remove(0);
    let seen: Vec<String> = (0..7).map(|_| status(&mut w, &id)).collect();
    assert_eq!(
        seen,
        ["Pending", "Pending", "Starting", "Starting", "Running", "Running", "Running"]
    );
}

#[test]
fn delete_follows_the_legal_from_table() {
    let mut w = world(1);
    let (_, vsw, sg) = network(&mut w);
    let id = run(&mut w, &vsw, &sg, &[]).unwrap().remove(0);
    let e = err(
        &mut w,
        "DeleteInstance",
        &[("InstanceId", &id), ("Force", "true")],
    );
    assert_eq!(
        (e.status, e.code.as_str()),
        (403, "IncorrectInstanceStatus.Initializing")
    );
    wait_running(&mut w, &id);
    let e = err(&mut w, "DeleteInstance", &[("InstanceId", &id)]);
    assert_eq!(
        (e.status, e.code.as_str()),
        (403, "IncorrectInstanceStatus")
    );
    let e = err(&mut w, "StartInstance", &[("InstanceId", &id)]);
    assert_eq!(e.code, "IncorrectInstanceStatus");
    ok(&mut w, "StopInstance", &[("InstanceId", &id)]);
    assert_eq!(status(&mut w, &id), "Stopping");
    let e = err(&mut w, "StopInstance", &[("InstanceId", &id)]);
    assert_eq!(e.code, "IncorrectInstanceStatus");
    while status(&mut w, &id) != "Stopped" {}
    ok(&mut w, "DeleteInstance", &[("InstanceId", &id)]);
    let e = err(&mut w, "StartInstance", &[("InstanceId", &id)]);
    assert_eq!(
        (e.status, e.code.as_str()),
        (404, "InvalidInstanceId.NotFound")
    );
}

#[test]
fn create_instance_ends_stopped_without_public_ip() {
    let mut w = world(0);
    let (_, vsw, sg) = network(&mut w);
    let v = ok(
        &mut w,
        "CreateInstance",
        &[
            HZ,
            ("ImageFamily", "acs:debian_12_x64"),
            ("InstanceType", "ecs.c7.large"),
            ("VSwitchId", &vsw),
            ("SecurityGroupId", &sg),
            ("InternetMaxBandwidthOut", "10"),
        ],
    );
    let id = s(&v, "InstanceId");
    assert_eq!(status(&mut w, &id), "Stopped");
    let ip = s(
        &ok(&mut w, "AllocatePublicIpAddress", &[("InstanceId", &id)]),
        "IpAddress",
    );
    assert_eq!(ip.split('.').count(), 4);
    let e = err(&mut w, "AllocatePublicIpAddress", &[("InstanceId", &id)]);
    assert_eq!(e.code, "AllocatedAlready");
    ok(&mut w, "StartInstance", &[("InstanceId", &id)]);
    assert_eq!(status(&mut w, &id), "Running");
}

#[test]
fn run_instances_validates_like_the_service() {
    let mut w = world(0);
    let (_, vsw, sg) = network(&mut w);
    let other_vpc = s(&ok(&mut w, "CreateVpc", &[HZ]), "VpcId");
    let other_sg = s(
        &ok(&mut w, "CreateSecurityGroup", &[HZ, ("VpcId", &other_vpc)]),
        "SecurityGroupId",
    );
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("SecurityGroupId", &other_sg)],
            "InvalidParameter.Mismatch",
        ),
        (
            vec![("ImageId", "nope.vhd"), ("ImageFamily", "")],
            "InvalidImageId.NotFound",
        ),
        (
            vec![("InstanceType", "ecs.g99.large")],
            "InvalidInstanceType.ValueNotSupported",
        ),
        (
            vec![("InstanceType", "ecs.g8y.large")],
            "InvalidImageId.NotSupported",
        ),
        (
            vec![("SystemDisk.Category", "cloud")],
            "InvalidSystemDiskCategory.ValueNotSupported",
        ),
        (
            vec![("SystemDisk.Size", "10")],
            "InvalidSystemDiskSize.ValueNotSupported",
        ),
        (vec![("InternetMaxBandwidthOut", "101")], "InvalidParameter"),
        (vec![("Amount", "0")], "InvalidParameter"),
        (
            vec![("ZoneId", "cn-hangzhou-k")],
            "InvalidParameter.Mismatch",
        ),
        (
            vec![("UserData", "not base64!")],
            "InvalidUserData.NotBase64",
        ),
        (
            vec![("VSwitchId", "vsw-missing")],
            "InvalidVSwitchId.NotFound",
        ),
        (vec![("DryRun", "true")], "DryRunOperation"),
        (
            vec![("AutoReleaseTime", "tomorrow")],
            "InvalidAutoReleaseTime.Malformed",
        ),
        (
            vec![("AutoReleaseTime", "2020-01-01T00:00:00Z")],
            "InvalidAutoReleaseTime",
        ),
    ];
    for (extra, code) in cases {
        let e = run(&mut w, &vsw, &sg, &extra).unwrap_err();
        assert_eq!(e.code, code, "{extra:?}: {}", e.message);
    }
    assert_eq!(
        ok(&mut w, "DescribeInstances", &[HZ])["TotalCount"],
        0,
        "nothing was created"
    );
    let ud = base64::engine::general_purpose::STANDARD.encode("#!/bin/sh\necho hi\n");
    assert_eq!(
        run(&mut w, &vsw, &sg, &[("UserData", &ud)]).unwrap().len(),
        1
    );
}

#[test]
fn stock_rules_no_stock_and_min_amount() {
    let mut w = world(0);
    let vpc = s(
        &ok(
            &mut w,
            "CreateVpc",
            &[("RegionId", "cn-beijing"), ("CidrBlock", "10.0.0.0/8")],
        ),
        "VpcId",
    );
    let vsw = |w: &mut World, zone: &str, cidr: &str| {
        s(
            &ok(
                w,
                "CreateVSwitch",
                &[
                    ("RegionId", "cn-beijing"),
                    ("VpcId", &vpc),
                    ("ZoneId", zone),
                    ("CidrBlock", cidr),
                ],
            ),
            "VSwitchId",
        )
    };
    let h = vsw(&mut w, "cn-beijing-h", "10.1.0.0/16");
    let g = vsw(&mut w, "cn-beijing-g", "10.2.0.0/16");
    let sg = s(
        &ok(
            &mut w,
            "CreateSecurityGroup",
            &[("RegionId", "cn-beijing"), ("VpcId", &vpc)],
        ),
        "SecurityGroupId",
    );
    let go = |w: &mut World, vsw: &str, extra: &[(&str, &str)]| {
        let mut p = vec![
            ("RegionId", "cn-beijing"),
            ("ImageFamily", "acs:alibaba_cloud_linux_3_2104_lts_x64"),
            ("InstanceType", "ecs.g8i.large"),
            ("VSwitchId", vsw),
            ("SecurityGroupId", sg.as_str()),
        ];
        p.extend_from_slice(extra);
        call(w, "RunInstances", &p)
    };
    let e = go(&mut w, &g, &[]).unwrap_err();
    assert_eq!(
        (e.status, e.code.as_str()),
        (403, "OperationDenied.NoStock")
    );
    // cn-beijing-h holds only 3 g8i.large.
    assert_eq!(
        go(&mut w, &h, &[("Amount", "5")]).unwrap_err().code,
        "OperationDenied.NoStock"
    );
    let v = go(&mut w, &h, &[("Amount", "5"), ("MinAmount", "2")]).unwrap();
    assert_eq!(
        v["InstanceIdSets"]["InstanceIdSet"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    assert_eq!(
        go(&mut w, &h, &[]).unwrap_err().code,
        "OperationDenied.NoStock"
    );
    // The --fault flag marks more pairs sold out.
    w.add_no_stock("ecs.g8i.xlarge", "cn-beijing-h");
    let e = go(&mut w, &h, &[("InstanceType", "ecs.g8i.xlarge")]);
    assert!(e.is_err());
    let avail = ok(
        &mut w,
        "DescribeAvailableResource",
        &[
            ("RegionId", "cn-beijing"),
            ("DestinationResource", "InstanceType"),
            ("ZoneId", "cn-beijing-h"),
            ("InstanceType", "ecs.g8i.xlarge"),
        ],
    );
    assert_eq!(
        s(&avail, "AvailableZones.AvailableZone.0.Status"),
        "SoldOut"
    );
}

// ---- idempotency ---------------------------------------------------------------------------

#[test]
fn client_token_replays_and_detects_mismatch() {
    let mut w = world(0);
    let (_, vsw, sg) = network(&mut w);
    let first = run(
        &mut w,
        &vsw,
        &sg,
        &[
            ("ClientToken", "tok-1"),
            ("SignatureNonce", "a"),
            ("Timestamp", "t1"),
        ],
    )
    .unwrap();
    let again = run(
        &mut w,
        &vsw,
        &sg,
        &[
            ("ClientToken", "tok-1"),
            ("SignatureNonce", "b"),
            ("Timestamp", "t2"),
        ],
    )
    .unwrap();
    assert_eq!(first, again);
    assert_eq!(ok(&mut w, "DescribeInstances", &[HZ])["TotalCount"], 1);
    let e = run(
        &mut w,
        &vsw,
        &sg,
        &[("ClientToken", "tok-1"), ("Amount", "2")],
    )
    .unwrap_err();
    assert_eq!(
        (e.status, e.code.as_str()),
        (400, "IdempotentParameterMismatch")
    );
    let vpc1 = ok(&mut w, "CreateVpc", &[HZ, ("ClientToken", "v")]);
    let vpc2 = ok(&mut w, "CreateVpc", &[HZ, ("ClientToken", "v")]);
    assert_eq!(vpc1, vpc2);
}

// ---- paging ----------------------------------------------------------------------------------

/// The instance ids of one DescribeInstances page, in the answer's order.
fn page_ids(v: &Value) -> Vec<String> {
    v["Instances"]["Instance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| s(i, "InstanceId"))
        .collect()
}

/// Every instance id of the region, page after page by NextToken with `size` per page.
fn ids_by_token(w: &mut World, size: &str) -> Vec<String> {
    let mut token = String::new();
    let mut seen = Vec::new();
    loop {
        let mut p = vec![HZ, ("MaxResults", size)];
        if !token.is_empty() {
            p.push(("NextToken", &token));
        }
        let v = ok(w, "DescribeInstances", &p);
        seen.extend(page_ids(&v));
        token = s(&v, "NextToken");
        if token.is_empty() {
            return seen;
        }
    }
}

#[test]
fn paging_follows_the_registry() {
    let mut w = world(0);
    let (_, vsw, sg) = network(&mut w);
    run(&mut w, &vsw, &sg, &[("Amount", "25")]).unwrap();
    let mut seen = ids_by_token(&mut w, "10");
    seen.dedup();
    assert_eq!(seen.len(), 25);
    let v = ok(
        &mut w,
        "DescribeInstances",
        &[HZ, ("PageNumber", "3"), ("PageSize", "10")],
    );
    assert_eq!(v["Instances"]["Instance"].as_array().map(Vec::len), Some(5));
    assert_eq!(
        (v["TotalCount"].clone(), v["PageNumber"].clone()),
        (25.into(), 3.into())
    );
    // Strict: DescribeInstances clamps MaxResults into 10..=100 as documented.
    assert_eq!(
        ok(&mut w, "DescribeInstances", &[HZ, ("MaxResults", "101")])["MaxResults"],
        100
    );
    assert_eq!(
        err(&mut w, "DescribeInstances", &[HZ, ("PageSize", "101")]).code,
        "InvalidParameter"
    );
    assert_eq!(
        err(&mut w, "DescribeInstances", &[HZ, ("NextToken", "garbage")]).code,
        "InvalidParameter"
    );
    assert_eq!(
        err(&mut w, "DescribeVpcs", &[HZ, ("PageSize", "51")]).code,
        "InvalidParameter"
    );
    let v = ok(&mut w, "DescribeImages", &[HZ, ("PageSize", "5")]);
    assert_eq!(v["Images"]["Image"].as_array().map(Vec::len), Some(5));
    assert!(v["TotalCount"].as_u64().unwrap_or(0) > 5);
}

#[test]
fn every_page_lists_instances_oldest_first() {
    // Ids are random, so the account's map holds them in no useful order; each page must still
    // be the next slice of the creation order, whichever paging style asks for it.
    let mut w = world(0);
    let (_, vsw, sg) = network(&mut w);
    let mut created = Vec::new();
    for amount in ["9", "1", "13"] {
        created.extend(run(&mut w, &vsw, &sg, &[("Amount", amount)]).unwrap());
    }
    assert_eq!(ids_by_token(&mut w, "10"), created);
    let mut by_number = Vec::new();
    for n in ["1", "2", "3", "4"] {
        let v = ok(
            &mut w,
            "DescribeInstances",
            &[HZ, ("PageNumber", n), ("PageSize", "7")],
        );
        assert_eq!(v["TotalCount"], 23);
        by_number.extend(page_ids(&v));
    }
    assert_eq!(by_number, created);
    let past = ok(
        &mut w,
        "DescribeInstances",
        &[HZ, ("PageNumber", "9"), ("PageSize", "7")],
    );
    assert_eq!(
        (page_ids(&past).len(), past["TotalCount"].clone()),
        (0, 23.into())
    );
}

// ---- network -------------------------------------------------------------------------------

#[test]
fn vswitch_cidr_and_dependency_rules() {
    let mut w = world(0);
    let (vpc, vsw, sg) = network(&mut w);
    let mk = |w: &mut World, zone: &str, cidr: &str| {
        call(
            w,
            "CreateVSwitch",
            &[HZ, ("VpcId", &vpc), ("ZoneId", zone), ("CidrBlock", cidr)],
        )
    };
    assert_eq!(
        mk(&mut w, "cn-hangzhou-j", "10.0.0.0/24").unwrap_err().code,
        "InvalidCidrBlock.Illegal"
    );
    assert_eq!(
        mk(&mut w, "cn-hangzhou-j", "192.168.1.128/25")
            .unwrap_err()
            .code,
        "InvalidCidrBlock.Overlapped"
    );
    assert_eq!(
        mk(&mut w, "cn-hangzhou-j", "192.168.2.1/24")
            .unwrap_err()
            .code,
        "InvalidCidrBlock.Malformed"
    );
    assert_eq!(
        mk(&mut w, "cn-shanghai-e", "192.168.2.0/24")
            .unwrap_err()
            .code,
        "InvalidZoneId.NotFound"
    );
    let e = err(&mut w, "CreateVpc", &[HZ, ("CidrBlock", "8.8.0.0/16")]);
    assert_eq!(e.code, "InvalidCidrBlock.Illegal");
    let e = err(&mut w, "DeleteVpc", &[HZ, ("VpcId", &vpc)]);
    assert_eq!(
        (e.status, e.code.as_str()),
        (400, "DependencyViolation.VSwitch")
    );
    run(&mut w, &vsw, &sg, &[]).unwrap();
    let e = err(&mut w, "DeleteVSwitch", &[HZ, ("VSwitchId", &vsw)]);
    assert_eq!((e.status, e.code.as_str()), (400, "DependencyViolation"));
    let attr = ok(&mut w, "DescribeVpcAttribute", &[("VpcId", &vpc)]);
    let kinds: Vec<String> = attr["CloudResources"]["CloudResourceSetType"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| s(r, "ResourceType"))
        .collect();
    assert!(kinds.contains(&"VSwitch".to_string()) && kinds.contains(&"ECS".to_string()));
    let many = format!("{vpc},vpc-nope");
    assert_eq!(
        ok(&mut w, "DescribeVpcs", &[HZ, ("VpcId", &many)])["TotalCount"],
        1
    );
}

#[test]
fn eips_allocate_describe_release() {
    let mut w = world(0);
    let v = ok(&mut w, "AllocateEipAddress", &[HZ, ("Bandwidth", "10")]);
    let id = s(&v, "AllocationId");
    assert!(id.starts_with("eip-"));
    let d = ok(&mut w, "DescribeEipAddresses", &[HZ, ("AllocationId", &id)]);
    assert_eq!(s(&d, "EipAddresses.EipAddress.0.Bandwidth"), "10");
    ok(&mut w, "ReleaseEipAddress", &[HZ, ("AllocationId", &id)]);
    assert_eq!(
        err(&mut w, "ReleaseEipAddress", &[HZ, ("AllocationId", &id)]).status,
        404
    );
}

// ---- security groups -----------------------------------------------------------------------

#[test]
fn security_group_rules() {
    let mut w = world(0);
    let (_, _, sg) = network(&mut w);
    let rule = [
        HZ,
        ("SecurityGroupId", sg.as_str()),
        ("IpProtocol", "TCP"),
        ("PortRange", "22/22"),
        ("SourceCidrIp", "203.0.113.5/32"),
    ];
    ok(&mut w, "AuthorizeSecurityGroup", &rule);
    ok(&mut w, "AuthorizeSecurityGroup", &rule);
    ok(
        &mut w,
        "AuthorizeSecurityGroupEgress",
        &[
            HZ,
            ("SecurityGroupId", &sg),
            ("Permissions.1.IpProtocol", "ALL"),
            ("Permissions.1.PortRange", "-1/-1"),
            ("Permissions.1.DestCidrIp", "0.0.0.0/0"),
        ],
    );
    let attr = ok(
        &mut w,
        "DescribeSecurityGroupAttribute",
        &[HZ, ("SecurityGroupId", &sg)],
    );
    let perms = attr["Permissions"]["Permission"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(perms.len(), 2, "a duplicate rule is a no-op");
    assert_eq!(perms[0]["PortRange"], "22/22");
    assert_eq!(perms[1]["Direction"], "egress");
    let bad = err(
        &mut w,
        "AuthorizeSecurityGroup",
        &[
            HZ,
            ("SecurityGroupId", &sg),
            ("IpProtocol", "TCP"),
            ("PortRange", "0/99999"),
            ("SourceCidrIp", "0.0.0.0/0"),
        ],
    );
    assert_eq!(bad.code, "InvalidPortRange.Malformed");
    ok(&mut w, "RevokeSecurityGroup", &rule);
    let attr = ok(
        &mut w,
        "DescribeSecurityGroupAttribute",
        &[HZ, ("SecurityGroupId", &sg), ("Direction", "ingress")],
    );
    assert_eq!(
        attr["Permissions"]["Permission"].as_array().map(Vec::len),
        Some(0)
    );
    let ids = format!("[\"{sg}\"]");
    let d = ok(
        &mut w,
        "DescribeSecurityGroups",
        &[HZ, ("SecurityGroupIds", &ids)],
    );
    assert_eq!(d["SecurityGroups"]["SecurityGroup"][0]["RuleCount"], 1);
    assert_eq!(
        err(&mut w, "CreateSecurityGroup", &[HZ]).code,
        "MissingParameter"
    );
    assert_eq!(
        err(&mut w, "CreateSecurityGroup", &[HZ, ("VpcId", "vpc-nope")]).status,
        404
    );
}

// ---- tags ------------------------------------------------------------------------------------

#[test]
fn tags_on_create_filters_and_tag_apis() {
    let mut w = world(0);
    let (vpc, vsw, sg) = network(&mut w);
    let ids = run(
        &mut w,
        &vsw,
        &sg,
        &[("Tag.1.Key", "ecsh-run"), ("Tag.1.Value", "r1")],
    )
    .unwrap();
    run(&mut w, &vsw, &sg, &[]).unwrap();
    let d = ok(
        &mut w,
        "DescribeInstances",
        &[HZ, ("Tag.1.Key", "ecsh-run"), ("Tag.1.Value", "r1")],
    );
    assert_eq!(d["TotalCount"], 1);
    assert_eq!(
        d["Instances"]["Instance"][0]["Tags"]["Tag"][0]["TagKey"],
        "ecsh-run"
    );
    ok(
        &mut w,
        "TagResources",
        &[
            HZ,
            ("ResourceType", "vpc"),
            ("ResourceId.1", &vpc),
            ("Tag.1.Key", "team"),
            ("Tag.1.Value", "a"),
        ],
    );
    let v = ok(&mut w, "DescribeVpcs", &[HZ, ("Tag.1.Key", "team")]);
    assert_eq!(v["Vpcs"]["Vpc"][0]["Tags"]["Tag"][0]["Key"], "team");
    let l = ok(
        &mut w,
        "ListTagResources",
        &[HZ, ("ResourceType", "instance"), ("ResourceId.1", &ids[0])],
    );
    assert_eq!(s(&l, "TagResources.TagResource.0.TagValue"), "r1");
    ok(
        &mut w,
        "UntagResources",
        &[
            HZ,
            ("ResourceType", "instance"),
            ("ResourceId.1", &ids[0]),
            ("TagKey.1", "ecsh-run"),
        ],
    );
    let d = ok(
        &mut w,
        "DescribeInstances",
        &[HZ, ("Tag.1.Key", "ecsh-run")],
    );
    assert_eq!(d["TotalCount"], 0);
    assert_eq!(
        err(
            &mut w,
            "TagResources",
            &[
                HZ,
                ("ResourceType", "instance"),
                ("ResourceId.1", "i-nope"),
                ("Tag.1.Key", "k")
            ]
        )
        .status,
        404
    );
    assert_eq!(
        err(
            &mut w,
            "TagResources",
            &[
                HZ,
                ("ResourceType", "vpc"),
                ("ResourceId.1", &vpc),
                ("Tag.1.Key", "acs:x")
            ]
        )
        .code,
        "InvalidTagKey.Malformed"
    );
}

// ---- discovery -----------------------------------------------------------------------------

#[test]
fn recommendations_skip_sold_out_and_sort() {
    let mut w = world(0);
    let base = [
        HZ,
        ("NetworkType", "vpc"),
        ("Cores", "2"),
        ("Memory", "4.0"),
    ];
    let v = ok(&mut w, "DescribeRecommendInstanceType", &base);
    let rows = v["Data"]["RecommendInstanceType"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!rows.is_empty());
    for r in &rows {
        let pair = (s(r, "InstanceType.InstanceType"), s(r, "ZoneId"));
        assert_ne!(
            pair,
            ("ecs.t6-c1m2.large".to_string(), "cn-hangzhou-h".to_string())
        );
        assert_eq!(r["InstanceType"]["Cores"], 2);
    }
    let mut p = base.to_vec();
    p.push(("PriorityStrategy", "PriceFirst"));
    let v = ok(&mut w, "DescribeRecommendInstanceType", &p);
    assert_eq!(
        s(&v, "Data.RecommendInstanceType.0.InstanceType.InstanceType"),
        "ecs.t6-c1m2.large"
    );
    p.pop();
    p.push(("PriorityStrategy", "NewProductFirst"));
    let v = ok(&mut w, "DescribeRecommendInstanceType", &p);
    assert_eq!(
        s(
            &v,
            "Data.RecommendInstanceType.0.InstanceType.InstanceTypeFamily"
        ),
        "ecs.c8i"
    );
}

#[test]
fn catalog_queries_have_the_real_shapes() {
    let mut w = world(0);
    let r = ok(&mut w, "DescribeRegions", &[("AcceptLanguage", "en-US")]);
    assert!(r["Regions"]["Region"].as_array().unwrap().len() >= 5);
    let z = ok(&mut w, "DescribeZones", &[("RegionId", "ap-southeast-1")]);
    let types = &z["Zones"]["Zone"][0]["AvailableResources"]["ResourcesInfo"][0]["InstanceTypes"]
        ["supportedInstanceType"];
    assert!(types.as_array().is_some_and(|t| !t.is_empty()));
    let t = ok(
        &mut w,
        "DescribeInstanceTypes",
        &[("InstanceTypes.1", "ecs.gn7i-c8g1.2xlarge")],
    );
    let gn = &t["InstanceTypes"]["InstanceType"][0];
    assert_eq!(
        (
            gn["GPUAmount"].clone(),
            gn["GPUSpec"].clone(),
            gn["MemorySize"].clone()
        ),
        (1.into(), "NVIDIA A10".into(), 30.0.into())
    );
    let f = ok(
        &mut w,
        "DescribeInstanceTypeFamilies",
        &[HZ, ("Generation", "ecs-6")],
    );
    assert!(f["InstanceTypeFamilies"]["InstanceTypeFamily"]
        .as_array()
        .is_some_and(|a| a.len() >= 3));
    let a = ok(
        &mut w,
        "DescribeAvailableResource",
        &[
            HZ,
            ("DestinationResource", "InstanceType"),
            ("InstanceType", "ecs.t6-c1m2.large"),
        ],
    );
    let zones = a["AvailableZones"]["AvailableZone"].as_array().unwrap();
    let h = zones
        .iter()
        .find(|z| z["ZoneId"] == "cn-hangzhou-h")
        .unwrap();
    assert_eq!(
        (h["Status"].clone(), h["StatusCategory"].clone()),
        ("SoldOut".into(), "WithoutStock".into())
    );
    let d = ok(
        &mut w,
        "DescribeAvailableResource",
        &[
            HZ,
            ("DestinationResource", "SystemDisk"),
            ("InstanceType", "ecs.g8i.large"),
        ],
    );
    let disks = &d["AvailableZones"]["AvailableZone"][0]["AvailableResources"]["AvailableResource"]
        [0]["SupportedResources"]["SupportedResource"];
    assert!(disks
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["Value"] != "cloud_efficiency"));
    let arm = ok(
        &mut w,
        "DescribeImages",
        &[HZ, ("InstanceType", "ecs.g8y.large"), ("PageSize", "100")],
    );
    assert!(arm["Images"]["Image"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["Architecture"] == "arm64"));
}

#[test]
fn prices_scale_with_unit_period_and_amount() {
    let mut w = world(0);
    let price = |w: &mut World, extra: &[(&str, &str)]| {
        let mut p = vec![
            HZ,
            ("InstanceType", "ecs.g7.large"),
            ("SystemDisk.Category", "cloud_essd"),
            ("SystemDisk.Size", "40"),
        ];
        p.extend_from_slice(extra);
        ok(w, "DescribePrice", &p)["PriceInfo"]["Price"].clone()
    };
    let hour = price(&mut w, &[]);
    let two = price(&mut w, &[("Amount", "2")]);
    let ht = hour["TradePrice"].as_f64().unwrap();
    assert!((two["TradePrice"].as_f64().unwrap() - 2.0 * ht).abs() < 0.002);
    let month = price(&mut w, &[("PriceUnit", "Month")])["TradePrice"]
        .as_f64()
        .unwrap();
    assert!(
        month > 100.0 * ht && month < 730.0 * ht,
        "subscription is cheaper than 730 hours"
    );
    let year = price(&mut w, &[("PriceUnit", "Year")]);
    assert!(year["DiscountPrice"].as_f64().unwrap() > 0.0);
    let details = hour["DetailInfos"]["DetailInfo"].as_array().unwrap();
    assert!(details.iter().any(|d| d["Resource"] == "systemDisk"));
    let bw = price(
        &mut w,
        &[
            ("InternetChargeType", "PayByBandwidth"),
            ("InternetMaxBandwidthOut", "10"),
        ],
    );
    assert!(bw["TradePrice"].as_f64().unwrap() > ht);
    assert_eq!(err(&mut w, "DescribePrice", &[HZ]).code, "MissingParameter");
    let sg = ok(
        &mut w,
        "DescribePrice",
        &[
            ("RegionId", "ap-southeast-1"),
            ("InstanceType", "ecs.g7.large"),
        ],
    );
    assert!(sg["PriceInfo"]["Price"]["TradePrice"].as_f64().unwrap() > ht);
}

#[test]
fn image_family_returns_only_the_latest() {
    let mut w = world(0);
    let v = ok(
        &mut w,
        "DescribeImages",
        &[
            HZ,
            ("ImageFamily", "acs:alibaba_cloud_linux_3_2104_lts_x64"),
        ],
    );
    assert_eq!(v["TotalCount"], 1);
    assert_eq!(
        s(&v, "Images.Image.0.ImageId"),
        "aliyun_3_x64_20G_alibase_20250629.vhd"
    );
    let v = ok(&mut w, "DescribeImages", &[HZ, ("OSType", "windows")]);
    assert!(v["Images"]["Image"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["OSType"] == "windows"));
}

// ---- Cloud Assistant -----------------------------------------------------------------------

#[test]
fn commands_need_running_instances_and_online_agents() {
    let mut w = world(3);
    let (_, vsw, sg) = network(&mut w);
    let id = run(&mut w, &vsw, &sg, &[]).unwrap().remove(0);
    let cmd = |w: &mut World, extra: &[(&str, &str)]| {
        let mut p = vec![
            HZ,
            ("Type", "RunShellScript"),
            ("CommandContent", "ZWNobyBoaQ=="),
            ("ContentEncoding", "Base64"),
            ("InstanceId.1", id.as_str()),
        ];
        p.extend_from_slice(extra);
        call(w, "RunCommand", &p)
    };
    let e = cmd(&mut w, &[]).unwrap_err();
    assert_eq!(
        (e.status, e.code.as_str()),
        (403, "InvalidInstance.NotRunning")
    );
    while status(&mut w, &id) != "Running" {}
    // Running, but the agent is not online yet: the run is Aborted per instance.
    let invoke = s(&cmd(&mut w, &[]).unwrap(), "InvokeId");
    let r = ok(
        &mut w,
        "DescribeInvocations",
        &[
            HZ,
            ("InvokeId", &invoke),
            ("IncludeOutput", "true"),
            ("ContentEncoding", "PlainText"),
        ],
    );
    let inv = &r["Invocations"]["Invocation"][0];
    assert_eq!(inv["InvocationStatus"], "Failed");
    assert_eq!(inv["CommandContent"], "echo hi");
    assert_eq!(
        inv["InvokeInstances"]["InvokeInstance"][0]["ErrorCode"],
        "ClientNotRunning"
    );
    let e = cmd(&mut w, &[("Timeout", "5")]).unwrap_err();
    assert_eq!(e.code, "InvalidParameter");
    let e = cmd(&mut w, &[("CommandContent", "%%%")]).unwrap_err();
    assert_eq!(e.code, "InvalidParameter");
}

#[test]
fn local_exec_runs_the_script_and_reports_exit_codes() {
    let mut w = World::new(WorldOptions {
        time: TimeMode::Steps(0),
        exec: ExecMode::Local,
    });
    let (_, vsw, sg) = network(&mut w);
    let id = run(&mut w, &vsw, &sg, &[]).unwrap().remove(0);
    wait_running(&mut w, &id);
    ok(&mut w, "DescribeCloudAssistantStatus", &[HZ]);
    let invoke = s(
        &ok(
            &mut w,
            "RunCommand",
            &[
                HZ,
                ("Type", "RunShellScript"),
                ("CommandContent", "echo out; echo err >&2; pwd; exit 3"),
                ("InstanceId.1", &id),
            ],
        ),
        "InvokeId",
    );
    let row = loop {
        let r = ok(
            &mut w,
            "DescribeInvocationResults",
            &[HZ, ("InvokeId", &invoke), ("ContentEncoding", "PlainText")],
        );
        let row = r["Invocation"]["InvocationResults"]["InvocationResult"][0].clone();
        if row["InvocationStatus"] != "Running" && row["InvocationStatus"] != "Pending" {
            break row;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    assert_eq!(row["InvocationStatus"], "Failed");
    assert_eq!(row["ExitCode"], 3);
    assert_eq!(row["ErrorCode"], "ExitCodeNonzero");
    let out = s(&row, "Output");
    assert!(out.starts_with("out\nerr\n"), "{out}");
    assert!(
        out.contains(&id),
        "runs in the instance's scratch folder: {out}"
    );
    let _ = std::fs::remove_dir_all(exec::scratch_dir(&id));
}

// ---- persistence ---------------------------------------------------------------------------

#[test]
fn a_snapshot_restores_the_world() {
    let mut w = world(1);
    let (vpc, vsw, sg) = network(&mut w);
    let id = run(&mut w, &vsw, &sg, &[("ClientToken", "keep")])
        .unwrap()
        .remove(0);
    let json = serde_json::to_string(&w).unwrap();
    let mut back: World = serde_json::from_str(&json).unwrap();
    assert_eq!(back.options().time, TimeMode::Steps(1));
    wait_running(&mut back, &id);
    let again = run(&mut back, &vsw, &sg, &[("ClientToken", "keep")]).unwrap();
    assert_eq!(again, vec![id]);
    assert_eq!(
        s(
            &ok(&mut back, "DescribeVpcAttribute", &[("VpcId", &vpc)]),
            "Status"
        ),
        "Available"
    );
    back.set_options(WorldOptions {
        time: TimeMode::Scaled(0.0),
        exec: ExecMode::Simulated,
    });
    assert_eq!(back.options().time, TimeMode::Scaled(0.0));
    let restored = World::restore(&back.snapshot().unwrap(), WorldOptions::default()).unwrap();
    assert_eq!(restored.instances.len(), 1);
    assert!(World::restore("{\"nope\": 1}", WorldOptions::default()).is_err());
}

#[test]
fn stock_pairs_are_checked() {
    assert!(World::default()
        .check_stock_pair("ecs.g7.large", "cn-hangzhou-j")
        .is_ok());
    let e = World::default()
        .check_stock_pair("ecs.g7.larg", "cn-hangzhou-j")
        .unwrap_err();
    assert!(e.contains("did you mean ecs.g7.large"), "{e}");
    assert!(World::default()
        .check_stock_pair("ecs.g7.large", "cn-hangzhou-z")
        .is_err());
}

#[test]
fn zero_time_scale_makes_every_transition_immediate() {
    let mut w = World::new(WorldOptions {
        time: TimeMode::Scaled(0.0),
        exec: ExecMode::Simulated,
    });
    let (_, vsw, sg) = network(&mut w);
    let id = run(&mut w, &vsw, &sg, &[]).unwrap().remove(0);
    assert_eq!(status(&mut w, &id), "Running");
    ok(
        &mut w,
        "DeleteInstance",
        &[("InstanceId", &id), ("Force", "true")],
    );
    ok(
        &mut w,
        "DeleteSecurityGroup",
        &[HZ, ("SecurityGroupId", &sg)],
    );
}

#[test]
fn polling_with_a_status_filter_still_observes() {
    let mut w = world(1);
    let (_, vsw, sg) = network(&mut w);
    run(&mut w, &vsw, &sg, &[]).unwrap();
    let mut polls = 0;
    while ok(&mut w, "DescribeInstances", &[HZ, ("Status", "Running")])["TotalCount"] == 0 {
        polls += 1;
        assert!(
            polls < 10,
            "a Status=Running poll never saw the instance start"
        );
    }
    assert_eq!(
        polls, 2,
        "one poll sees Pending, one Starting, the third Running"
    );
}

#[test]
fn disks_create_describe_delete() {
    let mut w = world(0);
    let (_, vsw, sg) = network(&mut w);
    let id = run(
        &mut w,
        &vsw,
        &sg,
        &[
            ("DataDisk.1.Category", "cloud_essd"),
            ("DataDisk.1.Size", "100"),
            ("DataDisk.1.DeleteWithInstance", "false"),
        ],
    )
    .unwrap()
    .remove(0);
    let d = ok(&mut w, "DescribeDisks", &[HZ, ("InstanceId", &id)]);
    assert_eq!(d["TotalCount"], 2);
    let data = s(
        &ok(
            &mut w,
            "DescribeDisks",
            &[HZ, ("InstanceId", &id), ("DiskType", "data")],
        ),
        "Disks.Disk.0.DiskId",
    );
    let e = err(&mut w, "DeleteDisk", &[("DiskId", &data)]);
    assert_eq!((e.status, e.code.as_str()), (403, "IncorrectDiskStatus"));
    ok(
        &mut w,
        "DeleteInstance",
        &[("InstanceId", &id), ("Force", "true")],
    );
    let ids = format!("[\"{data}\"]");
    let d = ok(&mut w, "DescribeDisks", &[HZ, ("DiskIds", &ids)]);
    assert_eq!(
        s(&d, "Disks.Disk.0.Status"),
        "Available",
        "kept: DeleteWithInstance=false"
    );
    ok(&mut w, "DeleteDisk", &[("DiskId", &data)]);
    let fresh = s(
        &ok(
            &mut w,
            "CreateDisk",
            &[
                HZ,
                ("ZoneId", "cn-hangzhou-j"),
                ("Size", "20"),
                ("DiskCategory", "cloud_auto"),
            ],
        ),
        "DiskId",
    );
    assert!(fresh.starts_with("d-"));
    assert_eq!(
        err(
            &mut w,
            "CreateDisk",
            &[
                HZ,
                ("ZoneId", "cn-hangzhou-j"),
                ("Size", "1"),
                ("DiskCategory", "cloud_essd")
            ]
        )
        .code,
        "InvalidParameter"
    );
    assert_eq!(
        ok(&mut w, "DescribeDisks", &[HZ])["TotalCount"],
        1,
        "the system disk went with its instance"
    );
}

#[test]
fn instance_name_wildcards_are_linear() {
    let mut w = world(0);
    let (_, vsw, sg) = network(&mut w);
    run(&mut w, &vsw, &sg, &[("InstanceName", "web-01")]).unwrap();
    for (pattern, hits) in [
        ("web-*", 1),
        ("*-01", 1),
        ("w*b*1", 1),
        ("db-*", 0),
        ("*", 1),
    ] {
        assert_eq!(
            ok(
                &mut w,
                "DescribeInstances",
                &[HZ, ("InstanceName", pattern)]
            )["TotalCount"],
            hits,
            "{pattern}"
        );
    }
    let stars = "*a".repeat(200);
    assert_eq!(
        ok(&mut w, "DescribeInstances", &[HZ, ("InstanceName", &stars)])["TotalCount"],
        0
    );
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const KEYS: &[&str] = &[
        "RegionId",
        "InstanceId",
        "InstanceIds",
        "InstanceId.1",
        "InstanceId.2",
        "Amount",
        "MinAmount",
        "PageSize",
        "PageNumber",
        "MaxResults",
        "NextToken",
        "Cores",
        "Memory",
        "InstanceType",
        "CidrBlock",
        "VpcId",
        "VSwitchId",
        "ZoneId",
        "SecurityGroupId",
        "SecurityGroupIds",
        "Permissions.1.PortRange",
        "Permissions.1.IpProtocol",
        "Permissions.1.SourceCidrIp",
        "PortRange",
        "IpProtocol",
        "SourceCidrIp",
        "Tag.1.Key",
        "Tag.1.Value",
        "CommandContent",
        "ContentEncoding",
        "Timeout",
        "Type",
        "DataDisk.1.Size",
        "DataDisk.1.Category",
        "SystemDisk.Size",
        "SystemDisk.Category",
        "Period",
        "PriceUnit",
        "InternetMaxBandwidthOut",
        "DestinationResource",
        "ResourceType",
        "ResourceId.1",
        "ImageId",
        "ImageFamily",
        "DryRun",
        "Force",
        "UserData",
        "Parameters",
        "EnableParameter",
        "DiskIds",
        "AllocationId",
        "Size",
        "ClientToken",
        "PriorityStrategy",
        "NetworkType",
        "InstanceName",
        "Status",
        "AutoReleaseTime",
        "TagKey.1",
        "All",
        "Direction",
    ];
    const VALUES: &[&str] = &[
        "cn-hangzhou",
        "ap-southeast-1",
        "ecs.g7.large",
        "ecs.t6-c1m2.large",
        "cn-hangzhou-j",
        "10.0.0.0/8",
        "192.168.1.0/24",
        "0.0.0.0/0",
        "22/22",
        "-1/-1",
        "tcp",
        "ALL",
        "true",
        "false",
        "1",
        "0",
        "100",
        "101",
        "-5",
        "4.0",
        "[\"i-x\"]",
        "[",
        "Base64",
        "PlainText",
        "RunShellScript",
        "InstanceType",
        "SystemDisk",
        "instance",
        "vpc",
        "Hour",
        "Year",
        "acs:ubuntu_24_04_x64",
        "*",
        "a*b*c",
        "echo hi",
        "{{x}}",
        "{\"x\":1}",
        "ecsh00000005",
        "",
        "\u{0}",
        "ü🎉",
        "99999999999999999999999",
    ];

    fn action() -> impl Strategy<Value = &'static ops::Action> {
        // The model's actions (STS is served beside it, by `sim::sts`).
        let model: Vec<&'static ops::Action> = ops::ACTIONS
            .iter()
            .filter(|a| a.product != Product::Sts)
            .collect();
        (0..model.len()).prop_map(move |i| model[i])
    }

    fn params() -> impl Strategy<Value = Vec<(&'static str, String)>> {
        let value = prop_oneof![
            3 => (0..VALUES.len()).prop_map(|i| VALUES[i].to_string()),
            1 => "[ -~]{0,24}",
        ];
        proptest::collection::vec(((0..KEYS.len()).prop_map(|i| KEYS[i]), value), 0..12)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Any sequence of requests with any parameters gets an answer or an API error:
        /// never a panic, never a 5xx, never an unknown-action error for a registered action.
        #[test]
        fn arbitrary_requests_get_api_answers(calls in proptest::collection::vec((action(), params()), 1..8)) {
            let mut w = world(1);
            for (a, ps) in calls {
                let refs: Vec<(&str, &str)> = ps.iter().map(|(k, v)| (*k, v.as_str())).collect();
                if let Err(e) = call(&mut w, a.name, &refs) {
                    prop_assert!(e.status >= 400 && e.status < 500, "{}: {e}", a.name);
                    prop_assert_ne!(e.code.as_str(), "InvalidAction.NotFound");
                    prop_assert!(!e.message.is_empty());
                }
            }
            prop_assert!(w.snapshot().is_ok());
        }
    }
}

#[test]
fn auto_release_time_follows_the_services_rules_and_expires_in_simulated_time() {
    // 1 real ms = 1 simulated s.
    let mut w = World::new(WorldOptions {
        time: TimeMode::Scaled(0.001),
        ..WorldOptions::default()
    });
    let (_, vsw, sg) = network(&mut w);
    let at = |mins: i64| crate::rpc::format_timestamp(w_now() + time::Duration::minutes(mins));
    fn w_now() -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
    }
    // Too soon, too far, prepaid: refused with the service's codes.
    for (extra, code) in [
        (vec![("AutoReleaseTime", at(10))], "InvalidAutoReleaseTime"),
        (
            vec![("AutoReleaseTime", at(4 * 365 * 24 * 60))],
            "InvalidAutoReleaseTime",
        ),
    ] {
        let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let e = run(&mut w, &vsw, &sg, &extra).unwrap_err();
        assert_eq!(e.code, code, "{extra:?}: {}", e.message);
    }
    let lease = at(60);
    let ids = run(&mut w, &vsw, &sg, &[("AutoReleaseTime", &lease)]).unwrap();
    let id = ids[0].clone();
    let ids_json = format!("[\"{id}\"]");
    let shown = ok(
        &mut w,
        "DescribeInstances",
        &[HZ, ("InstanceIds", &ids_json)],
    );
    assert_eq!(
        s(&shown, "Instances.Instance.0.AutoReleaseTime"),
        {
            let mut l = lease.clone();
            l.replace_range(17..19, "00");
            l
        },
        "kept to the minute"
    );
    // Cleared: never released by time.
    ok(
        &mut w,
        "ModifyInstanceAutoReleaseTime",
        &[HZ, ("InstanceId", &id)],
    );
    let shown = ok(
        &mut w,
        "DescribeInstances",
        &[HZ, ("InstanceIds", &ids_json)],
    );
    assert_eq!(s(&shown, "Instances.Instance.0.AutoReleaseTime"), "");
    // Set 31 simulated minutes ahead on the simulated clock, then let 40 pass (2.4 s real).
    let soon = crate::rpc::format_timestamp(w.wall_now() + time::Duration::minutes(31));
    ok(
        &mut w,
        "ModifyInstanceAutoReleaseTime",
        &[HZ, ("InstanceId", &id), ("AutoReleaseTime", &soon)],
    );
    std::thread::sleep(std::time::Duration::from_millis(2400));
    let mut gone = false;
    for _ in 0..50 {
        let v = ok(
            &mut w,
            "DescribeInstances",
            &[HZ, ("InstanceIds", &ids_json)],
        );
        if v["TotalCount"] == 0 {
            gone = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(gone, "released by its AutoReleaseTime");
    let e = err(
        &mut w,
        "ModifyInstanceAutoReleaseTime",
        &[HZ, ("InstanceId", "i-missing"), ("AutoReleaseTime", &soon)],
    );
    assert_eq!(e.code, "InvalidInstanceId.NotFound");
}

// ---- Instances group (issue 15) ------------------------------------------------------------

/// Two Running instances in one network.
fn two_running(w: &mut World) -> (String, String, String) {
    let (_, vsw, sg) = network(w);
    let ids = run(w, &vsw, &sg, &[("Amount", "2")]).expect("RunInstances");
    for id in &ids {
        wait_running(w, id);
    }
    (ids[0].clone(), ids[1].clone(), sg)
}

fn stopped(w: &mut World, id: &str) {
    ok(w, "StopInstance", &[HZ, ("InstanceId", id)]);
    while status(w, id) != "Stopped" {}
}

#[test]
fn stop_instances_all_together_changes_none_when_one_cannot() {
    let mut w = world(1);
    let (a, b, _) = two_running(&mut w);
    stopped(&mut w, &b);
    let e = err(
        &mut w,
        "StopInstances",
        &[HZ, ("InstanceId.1", &a), ("InstanceId.2", &b)],
    );
    assert_eq!(
        (e.status, e.code.as_str()),
        (403, "IncorrectInstanceStatus")
    );
    assert!(e.message.contains(&b), "{}", e.message);
    assert_eq!(
        status(&mut w, &a),
        "Running",
        "AllTogether stopped one anyway"
    );
    // A dry run checks the same and answers as DeleteInstances does.
    let e = err(
        &mut w,
        "StopInstances",
        &[HZ, ("InstanceId.1", &a), ("DryRun", "true")],
    );
    assert_eq!(e.code, "DRYRUN.SUCCESS");
    assert_eq!(status(&mut w, &a), "Running");
}

#[test]
fn stop_instances_success_first_stops_what_it_can_and_reports_the_rest() {
    let mut w = world(1);
    let (a, b, _) = two_running(&mut w);
    stopped(&mut w, &b);
    let v = ok(
        &mut w,
        "StopInstances",
        &[
            HZ,
            ("InstanceId.1", &a),
            ("InstanceId.2", &b),
            ("BatchOptimization", "SuccessFirst"),
            ("StoppedMode", "StopCharging"),
        ],
    );
    let rows = &v["InstanceResponses"]["InstanceResponse"];
    assert_eq!(rows[0]["Code"], "200", "{v}");
    assert_eq!(rows[0]["PreviousStatus"], "Running", "{v}");
    assert_eq!(rows[0]["CurrentStatus"], "Stopping", "{v}");
    assert_eq!(rows[1]["Code"], "IncorrectInstanceStatus", "{v}");
    assert_eq!(rows[1]["CurrentStatus"], "Stopped", "{v}");
    while status(&mut w, &a) != "Stopped" {}
    let attr = ok(
        &mut w,
        "DescribeInstanceAttribute",
        &[HZ, ("InstanceId", &a)],
    );
    assert_eq!(attr["StoppedMode"], "StopCharging", "{attr}");
    // The batch start brings both back; a repeated id is refused.
    let e = err(
        &mut w,
        "StartInstances",
        &[HZ, ("InstanceId.1", &a), ("InstanceId.2", &a)],
    );
    assert_eq!(e.code, "InvalidParameter");
    ok(
        &mut w,
        "StartInstances",
        &[HZ, ("InstanceId.1", &a), ("InstanceId.2", &b)],
    );
    wait_running(&mut w, &a);
    wait_running(&mut w, &b);
}

#[test]
fn reboot_instances_goes_through_stopping_and_starting_back_to_running() {
    let mut w = world(1);
    let (a, _, _) = two_running(&mut w);
    ok(&mut w, "RebootInstances", &[HZ, ("InstanceId.1", &a)]);
    let mut seen = vec![];
    while seen.last().map(String::as_str) != Some("Running") {
        let st = status(&mut w, &a);
        if seen.last() != Some(&st) {
            seen.push(st);
        }
        assert!(seen.len() < 5, "{seen:?}");
    }
    assert_eq!(seen, ["Stopping", "Starting", "Running"]);
}

#[test]
fn modify_instance_spec_changes_a_stopped_instances_type_only() {
    let mut w = world(1);
    let (a, _, _) = two_running(&mut w);
    fn spec<'a>(id: &'a str, t: &'a str) -> [(&'a str, &'a str); 3] {
        [HZ, ("InstanceId", id), ("InstanceType", t)]
    }
    let e = err(&mut w, "ModifyInstanceSpec", &spec(&a, "ecs.g7.large"));
    assert_eq!(e.code, "IncorrectInstanceStatus", "{}", e.message);
    stopped(&mut w, &a);
    let e = err(&mut w, "ModifyInstanceSpec", &spec(&a, "ecs.nosuch.large"));
    assert_eq!(e.code, "InvalidInstanceType.ValueNotSupported");
    let e = err(&mut w, "ModifyInstanceSpec", &spec(&a, "ecs.t6-c1m2.large"));
    assert_eq!(e.code, "InvalidInstanceType.ValueUnauthorized", "same type");
    ok(&mut w, "ModifyInstanceSpec", &spec(&a, "ecs.g7.large"));
    let attr = ok(
        &mut w,
        "DescribeInstanceAttribute",
        &[HZ, ("InstanceId", &a)],
    );
    assert_eq!(attr["InstanceType"], "ecs.g7.large", "{attr}");
    let e = err(&mut w, "ModifyInstanceSpec", &[HZ, ("InstanceId", &a)]);
    assert_eq!(e.code, "MissingParameter", "nothing to change");
}

#[test]
fn modify_instance_attribute_changes_what_is_given_and_checks_groups() {
    let mut w = world(1);
    let (a, _, sg) = two_running(&mut w);
    ok(
        &mut w,
        "ModifyInstanceAttribute",
        &[
            HZ,
            ("InstanceId", &a),
            ("InstanceName", "web-1"),
            ("DeletionProtection", "true"),
        ],
    );
    let attr = ok(
        &mut w,
        "DescribeInstanceAttribute",
        &[HZ, ("InstanceId", &a)],
    );
    assert_eq!(attr["InstanceName"], "web-1", "{attr}");
    assert_eq!(
        s(&attr, "SecurityGroupIds.SecurityGroupId.0"),
        sg,
        "untouched: {attr}"
    );
    // A group of another VPC is refused with RunInstances' code; an unknown one is not found.
    let (_, _, other) = network(&mut w);
    let e = err(
        &mut w,
        "ModifyInstanceAttribute",
        &[HZ, ("InstanceId", &a), ("SecurityGroupIds.1", &other)],
    );
    assert_eq!(e.code, "InvalidParameter.Mismatch", "{}", e.message);
    let e = err(
        &mut w,
        "ModifyInstanceAttribute",
        &[
            HZ,
            ("InstanceId", &a),
            ("SecurityGroupIds.1", "sg-bp1nosuchgroup00000"),
        ],
    );
    assert_eq!(e.code, "InvalidSecurityGroupId.NotFound");
    let e = err(
        &mut w,
        "ModifyInstanceAttribute",
        &[HZ, ("InstanceId", &a), ("HostName", "-bad")],
    );
    assert_eq!(e.code, "InvalidParameter");
}

// ---- the instance store's indexes (issue 19) -------------------------------------------------

/// What a whole-region page was before the indexes: settle every visible instance of the region
/// (in the account's id order), then order them all by creation. Returns the total and the ids
/// of the page `offset..offset + size`.
fn walked_page(w: &mut World, region: &str, offset: usize, size: usize) -> (usize, Vec<String>) {
    let ids: Vec<String> = w.instances.values().map(|i| i.id.clone()).collect();
    let clock = &w.clock;
    let mut gone = Vec::new();
    let mut listed = Vec::new();
    for id in ids {
        let Some(inst) = w.instances.get_mut(&id) else {
            continue;
        };
        if inst.region != region || !inst.visible() {
            continue;
        }
        if !inst.settle(clock) {
            gone.push(id);
        } else if inst.visible() {
            listed.push((inst.seq, id));
        }
    }
    for id in gone {
        w.instances.remove(&id);
    }
    listed.sort();
    let total = listed.len();
    let page = listed
        .into_iter()
        .skip(offset)
        .take(size)
        .map(|(_, id)| id)
        .collect();
    (total, page)
}

#[test]
fn indexed_pages_answer_what_a_walk_of_every_instance_answers() {
    use rand::{rngs::StdRng, Rng, SeedableRng};
    for seed in 0..3u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut w = world(2);
        let (_, vsw, sg) = network(&mut w);
        let mut ids: Vec<String> = Vec::new();
        let later = crate::rpc::format_timestamp(w.wall_now() + time::Duration::hours(2));
        for step in 0..120 {
            let pick = |rng: &mut StdRng, ids: &[String]| {
                ids.get(rng.gen_range(0..ids.len().max(1)))
                    .cloned()
                    .unwrap_or_default()
            };
            let id = pick(&mut rng, &ids);
            // A change, a partial observation, or nothing; errors (a wrong status) are fine.
            let _ = match rng.gen_range(0..10) {
                0 | 1 => {
                    let amount = rng.gen_range(1..6).to_string();
                    run(&mut w, &vsw, &sg, &[("Amount", &amount)]).map(|made| {
                        ids.extend(made);
                        Value::Null
                    })
                }
                2 => call(&mut w, "StopInstance", &[HZ, ("InstanceId", &id)]),
                3 => call(&mut w, "StartInstance", &[HZ, ("InstanceId", &id)]),
                4 => call(&mut w, "RebootInstance", &[HZ, ("InstanceId", &id)]),
                5 => call(
                    &mut w,
                    "DeleteInstance",
                    &[HZ, ("InstanceId", &id), ("Force", "true")],
                ),
                6 => call(
                    &mut w,
                    "ModifyInstanceAutoReleaseTime",
                    &[HZ, ("InstanceId", &id), ("AutoReleaseTime", &later)],
                ),
                7 => call(&mut w, "DescribeInstanceStatus", &[HZ]),
                8 => call(
                    &mut w,
                    "DescribeInstances",
                    &[HZ, ("InstanceIds", &format!("[\"{id}\"]"))],
                ),
                _ => Ok(Value::Null),
            };
            let mut walked = World::restore(&w.snapshot().unwrap(), w.options()).unwrap();
            let (size, offset) = (rng.gen_range(10..=100), rng.gen_range(0..30));
            let (total, expected) = walked_page(&mut walked, "cn-hangzhou", offset, size);
            let (size_s, token) = (size.to_string(), format!("ecsh{offset:08x}"));
            let mut params = vec![HZ, ("MaxResults", size_s.as_str())];
            if offset > 0 {
                params.push(("NextToken", &token));
            }
            let v = ok(&mut w, "DescribeInstances", &params);
            let context = format!("seed {seed}, step {step}");
            assert_eq!(v["TotalCount"], total, "{context}");
            assert_eq!(page_ids(&v), expected, "{context}");
            assert_eq!(
                w.snapshot().unwrap(),
                walked.snapshot().unwrap(),
                "{context}: the state after the page"
            );
            w.instances.check_indexes();
        }
    }
}

/// A DescribeInstances page written by the simulator's own JSON writer (`json::write`) is the
/// bytes serde_json writes for the same values: read back and written again by serde_json
/// (which keeps the field order), nothing changes, with quotes, backslashes, control characters
/// and non-ASCII text in descriptions and tags.
#[test]
fn rendered_pages_are_the_bytes_serde_json_writes() {
    let mut w = world(1);
    let (_, vsw, sg) = network(&mut w);
    for (name, text) in [
        ("名前-ü", "quote\" back\\slash </tag> &amp;"),
        ("tab", "tab\tnew\nline\r\u{1}\u{1f}\u{7f} é€ 名"),
        ("plain", ""),
    ] {
        run(
            &mut w,
            &vsw,
            &sg,
            &[
                ("InstanceName", name),
                ("Description", text),
                ("Tag.1.Key", "k\"ey"),
                ("Tag.1.Value", text),
            ],
        )
        .unwrap();
    }
    for params in [
        vec![HZ],
        vec![HZ, ("MaxResults", "2")],
        vec![HZ, ("InstanceName", "nothing-here")],
    ] {
        let Answer::Json(object) = w.answer(&request("DescribeInstances", &params)).unwrap() else {
            panic!("DescribeInstances is written straight to bytes");
        };
        let tree: Value = serde_json::from_slice(object.as_bytes()).unwrap();
        let written = String::from_utf8(object.as_bytes().to_vec()).unwrap();
        assert_eq!(written, serde_json::to_string(&tree).unwrap(), "{params:?}");
    }
}
