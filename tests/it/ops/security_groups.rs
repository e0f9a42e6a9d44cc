//! Security groups (issue 15): scripts/sg_maintenance.rhai end to end; the public-port policy on
//! every rule-adding path (AuthorizeSecurityGroup, ModifySecurityGroupRule by id and by its
//! fields) through `call_api`, the typed function and `ecsh call`; and the simulator's rules for
//! revoking by id, joining and leaving.

use super::{line, script, Sim};
use ecsh::ops::Product::Ecs;
use serde_json::Value;

fn inbound(sim: &Sim, sg: &str) -> Vec<Value> {
    sim.ok(
        Ecs,
        "DescribeSecurityGroupAttribute",
        &[("SecurityGroupId", sg), ("Direction", "ingress")],
    )["Permissions"]["Permission"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn ports(rules: &[Value]) -> Vec<String> {
    rules
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["PortRange"].as_str().unwrap_or_default(),
                r["SourceCidrIp"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn sg_maintenance_rotates_revokes_is_refused_joins_leaves_and_releases_everything() {
    let sim = Sim::start(&[]);
    let out = sim.run_ok(
        &script("sg_maintenance.rhai"),
        &["203.0.113.5", "198.51.100.9"],
    );
    assert!(
        line(&out, "ssh rule sgr-").ends_with("now from 198.51.100.9/32"),
        "{out:#?}"
    );
    assert_eq!(
        line(&out, "inbound: "),
        "inbound: [\"TCP 80/80 0.0.0.0/0\", \"TCP 22/22 198.51.100.9/32\"]"
    );
    assert_eq!(
        line(&out, "refused: "),
        "refused: Refused.Policy.PublicAdminPort"
    );
    assert_eq!(line(&out, "instance in "), "instance in 2 groups");
    assert_eq!(
        line(&out, "group monitoring: "),
        "group monitoring: 1 instance(s)"
    );
    assert_eq!(
        line(&out, "last group: "),
        "last group: InstanceLastSecurityGroup"
    );
    assert!(
        !out.iter().any(|l| l.contains("should not happen")),
        "{out:#?}"
    );
    assert_eq!(
        sim.inventory(),
        Vec::<String>::new(),
        "the run left resources"
    );
}

#[test]
fn a_rule_modified_by_id_to_a_public_admin_or_database_port_is_refused_through_ecsh_call() {
    let sim = Sim::start(&[]);
    let (_, _, sg) = sim.network();
    sim.ok(
        Ecs,
        "AuthorizeSecurityGroup",
        &[
            ("SecurityGroupId", &sg),
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "80/80"),
            ("Permissions.1.SourceCidrIp", "0.0.0.0/0"),
        ],
    );
    let rule = inbound(&sim, &sg)[0]["SecurityGroupRuleId"]
        .as_str()
        .expect("rule id")
        .to_string();
    let group = format!("SecurityGroupId={sg}");
    let rule_arg = format!("SecurityGroupRuleId={rule}");
    // Only the port changes: the source 0.0.0.0/0 comes from the rule as it is.
    for (port, code) in [
        ("PortRange=22/22", "Refused.Policy.PublicAdminPort"),
        ("PortRange=3300/3310", "Refused.Policy.PublicDatabasePort"),
    ] {
        let out = sim.ecsh(&[
            "--yes",
            "call",
            "ecs",
            "ModifySecurityGroupRule",
            &group,
            &rule_arg,
            port,
        ]);
        let stderr = crate::support::text(&out.stderr);
        assert!(!out.status.success(), "{port} was sent");
        assert!(stderr.contains(code), "{port}: {stderr}");
    }
    // The old form (the rule named by its fields) is judged by its fields.
    let out = sim.ecsh(&[
        "--yes",
        "call",
        "ecs",
        "ModifySecurityGroupRule",
        &group,
        "IpProtocol=tcp",
        "PortRange=6379/6379",
        "SourceCidrIp=0.0.0.0/0",
        "Description=cache",
    ]);
    assert!(
        crate::support::text(&out.stderr).contains("Refused.Policy.PublicDatabasePort"),
        "{}",
        crate::support::text(&out.stderr)
    );
    assert_eq!(
        ports(&inbound(&sim, &sg)),
        ["80/80 0.0.0.0/0"],
        "a refused change reached the group"
    );

    // A harmless change by id goes through, and so does SSH opened on purpose.
    let out = sim.ecsh(&[
        "--yes",
        "call",
        "ecs",
        "ModifySecurityGroupRule",
        &group,
        &rule_arg,
        "PortRange=8080/8080",
    ]);
    assert!(
        out.status.success(),
        "{}",
        crate::support::text(&out.stderr)
    );
    // SSH opened on purpose: `allow_public_admin` is a script option (`ecsh call` takes API
    // names only), never sent.
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("open.rhai");
    std::fs::write(
        &file,
        format!(
            "modify_security_group_rule(#{{ security_group_id: \"{sg}\", security_group_rule_id: \"{rule}\", port_range: \"22/22\", allow_public_admin: true }}); print(\"opened\");"
        ),
    )
    .expect("script written");
    assert_eq!(sim.run_ok(&file, &[]), ["opened"]);
    let rules = inbound(&sim, &sg);
    assert_eq!(ports(&rules), ["22/22 0.0.0.0/0"]);
    assert_eq!(
        rules[0]["SecurityGroupRuleId"],
        rule.as_str(),
        "modified in place"
    );
}

#[test]
fn every_rule_adding_path_from_a_script_is_refused_for_public_sensitive_ports() {
    let sim = Sim::start(&[]);
    let (_, _, sg) = sim.network();
    sim.ok(
        Ecs,
        "AuthorizeSecurityGroup",
        &[
            ("SecurityGroupId", &sg),
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "5432/5432"),
            ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
        ],
    );
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("paths.rhai");
    std::fs::write(
        &file,
        format!(
            r#"
let sg = "{sg}";
let rule = call_api("ecs", "DescribeSecurityGroupAttribute", #{{ SecurityGroupId: sg }}).Permissions.Permission[0].SecurityGroupRuleId;
let attempts = [
    || call_api("ecs", "AuthorizeSecurityGroup", #{{ SecurityGroupId: sg, Permissions: [#{{ IpProtocol: "tcp", PortRange: "3389/3389", SourceCidrIp: "0.0.0.0/0" }}] }}),
    || authorize_security_group(#{{ sg_id: sg, port_range: "27017/27017" }}),
    || call_api("ecs", "ModifySecurityGroupRule", #{{ SecurityGroupId: sg, SecurityGroupRuleId: rule, SourceCidrIp: "0.0.0.0/0" }}),
    || modify_security_group_rule(#{{ security_group_id: sg, security_group_rule_id: rule, source_cidr_ip: "::/0" }}),
    || call_api("ecs", "ModifySecurityGroupRule", #{{ SecurityGroupId: sg, IpProtocol: "all", PortRange: "-1/-1", SourceCidrIp: "0.0.0.0/0" }}),
];
for a in attempts {{
    try {{ a.call(); print("sent"); }} catch (e) {{ print(e.code); }}
}}
"#
        ),
    )
    .expect("script written");
    let out = sim.run_ok(&file, &[]);
    assert_eq!(
        out.iter()
            .filter(|l| !l.is_empty())
            .cloned()
            .collect::<Vec<_>>(),
        [
            "Refused.Policy.PublicAdminPort",
            "Refused.Policy.PublicDatabasePort",
            "Refused.Policy.PublicDatabasePort",
            "Refused.Policy.PublicDatabasePort",
            "Refused.Policy.PublicDatabasePort",
        ]
    );
    assert_eq!(ports(&inbound(&sim, &sg)), ["5432/5432 10.0.0.0/8"]);
}

#[test]
fn the_simulator_keeps_the_services_rules_for_revoke_join_and_leave() {
    let sim = Sim::start(&[]);
    let (_, vsw, sg) = sim.network();
    let id = sim.instance(&vsw, &sg);
    // Revoking an egress rule by its id; an unknown id is an error.
    sim.ok(
        Ecs,
        "AuthorizeSecurityGroupEgress",
        &[
            ("SecurityGroupId", &sg),
            ("Permissions.1.IpProtocol", "tcp"),
            ("Permissions.1.PortRange", "443/443"),
            ("Permissions.1.DestCidrIp", "0.0.0.0/0"),
        ],
    );
    let egress = sim.ok(
        Ecs,
        "DescribeSecurityGroupAttribute",
        &[("SecurityGroupId", &sg), ("Direction", "egress")],
    );
    let rule = egress["Permissions"]["Permission"][0]["SecurityGroupRuleId"]
        .as_str()
        .expect("egress rule")
        .to_string();
    assert_eq!(
        sim.code(
            Ecs,
            "RevokeSecurityGroup",
            &[("SecurityGroupId", &sg), ("SecurityGroupRuleId.1", &rule)]
        ),
        "InvalidSecurityGroupRuleId.NotFound",
        "an egress rule is not revoked as an inbound one"
    );
    sim.ok(
        Ecs,
        "RevokeSecurityGroupEgress",
        &[("SecurityGroupId", &sg), ("SecurityGroupRuleId.1", &rule)],
    );
    let egress = sim.ok(
        Ecs,
        "DescribeSecurityGroupAttribute",
        &[("SecurityGroupId", &sg), ("Direction", "egress")],
    );
    assert_eq!(egress["Permissions"]["Permission"], serde_json::json!([]));

    // Joining: a group of another VPC is refused; five groups at most.
    let other_vpc = sim.ok(Ecs, "CreateVpc", &[("CidrBlock", "10.0.0.0/8")])["VpcId"]
        .as_str()
        .expect("vpc")
        .to_string();
    sim.until(
        ecsh::ops::Product::Vpc,
        "DescribeVpcs",
        &[("VpcId", &other_vpc)],
        "/Vpcs/Vpc/0/Status",
        "Available",
    );
    let foreign = sim.ok(Ecs, "CreateSecurityGroup", &[("VpcId", &other_vpc)])["SecurityGroupId"]
        .as_str()
        .expect("sg")
        .to_string();
    let join = |g: &str| {
        sim.call(
            Ecs,
            "JoinSecurityGroup",
            &[("SecurityGroupId", g), ("InstanceId", &id)],
        )
    };
    assert_eq!(
        sim.code(
            Ecs,
            "JoinSecurityGroup",
            &[("SecurityGroupId", &foreign), ("InstanceId", &id)]
        ),
        "InvalidInstanceId.Mismatch"
    );
    let vpc_of_sg = sim.ok(Ecs, "DescribeSecurityGroups", &[("SecurityGroupId", &sg)])
        ["SecurityGroups"]["SecurityGroup"][0]["VpcId"]
        .as_str()
        .expect("vpc")
        .to_string();
    let mut extra = Vec::new();
    for _ in 0..5 {
        let g = sim.ok(Ecs, "CreateSecurityGroup", &[("VpcId", &vpc_of_sg)])["SecurityGroupId"]
            .as_str()
            .expect("sg")
            .to_string();
        extra.push(g);
    }
    for g in &extra[..4] {
        join(g).expect("joins up to five groups");
    }
    assert_eq!(
        sim.code(
            Ecs,
            "JoinSecurityGroup",
            &[("SecurityGroupId", &extra[4]), ("InstanceId", &id)]
        ),
        "InstanceSecurityGroupLimitExceeded"
    );
    // Leaving: not a member, then down to the last group.
    assert_eq!(
        sim.code(
            Ecs,
            "LeaveSecurityGroup",
            &[("SecurityGroupId", &extra[4]), ("InstanceId", &id)]
        ),
        "InvalidSecurityGroupAssociation.NotFound"
    );
    for g in &extra[..4] {
        sim.ok(
            Ecs,
            "LeaveSecurityGroup",
            &[("SecurityGroupId", g), ("InstanceId", &id)],
        );
    }
    assert_eq!(
        sim.code(
            Ecs,
            "LeaveSecurityGroup",
            &[("SecurityGroupId", &sg), ("InstanceId", &id)]
        ),
        "InstanceLastSecurityGroup"
    );
    let ids = format!("[\"{id}\"]");
    let groups = sim.ok(Ecs, "DescribeInstances", &[("InstanceIds", &ids)])["Instances"]
        ["Instance"][0]["SecurityGroupIds"]["SecurityGroupId"]
        .clone();
    assert_eq!(groups, serde_json::json!([sg]));
}
