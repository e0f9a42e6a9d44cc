//! The guard behind the host's gateway, against the simulator: every way a script can reach a
//! chargeable action is quoted and asked about, refusals send nothing (checked in the
//! simulator's own state, through a client that does not go through the guard), budgets add
//! up over a run, and policies refuse before anything is sent.

use crate::host::{list, Harness};
use ecsh::guard::prompt::{AutoApprove, Budget, Refuse, Scripted};
use ecsh::guard::{decision, Guard, Prompter, Via};
use ecsh::host::runner;
use ecsh::ops::Product;
use serde_json::{json, Value};
use std::sync::Arc;

const REGION: &str = "cn-hangzhou";
const ZONE: &str = "cn-hangzhou-i";
const TYPE: &str = "ecs.c6.large";

fn harness(prompter: impl Prompter + 'static) -> Harness {
    let mut h = Harness::new();
    h.guard = Arc::new(Guard::new(Box::new(prompter)));
    h
}

/// A VPC, vswitch, security group and image, made by the stdlib (free actions: the guard lets
/// them through without asking).
struct Net {
    vswitch: String,
    sg: String,
    image: String,
}

fn network(h: &Harness) -> Net {
    let out = h.ok(&format!(
        r#"let net = ensure_vpc_and_vswitch(#{{ zone_id: "{ZONE}" }});
           let sg = create_security_group(#{{ vpc_id: net.vpc_id }});
           let img = describe_images(#{{ image_family: "acs:ubuntu_24_04_x64" }}).Images.Image[0].ImageId;
           print(net.vswitch_id); print(sg); print(img);"#
    ));
    assert_eq!(out.len(), 3, "{out:?}");
    Net {
        vswitch: out[0].clone(),
        sg: out[1].clone(),
        image: out[2].clone(),
    }
}

/// A raw RunInstances call for `net`, as Rhai source, with `extra` map entries.
fn run_call(action: &str, net: &Net, extra: &str) -> String {
    format!(
        r#"call_api("ecs", "{action}", #{{ ZoneId: "{ZONE}", InstanceType: "{TYPE}", ImageId: "{}",
              VSwitchId: "{}", SecurityGroupId: "{}" {extra} }})"#,
        net.image, net.vswitch, net.sg
    )
}

fn instance_count(h: &Harness) -> usize {
    h.instances(REGION).len()
}

fn rules(h: &Harness, sg: &str) -> Vec<Value> {
    let attr = h.api(
        Product::Ecs,
        "DescribeSecurityGroupAttribute",
        json!({"SecurityGroupId": sg}),
    );
    list(&attr, "Permissions", "Permission")
        .into_iter()
        .filter(|r| r["Direction"] == "ingress")
        .collect()
}

/// What the simulator quotes for one `TYPE` instance for one hour, asked directly.
fn hourly_price(h: &Harness, image: &str) -> f64 {
    let p = h.api(
        Product::Ecs,
        "DescribePrice",
        json!({"ResourceType": "instance", "InstanceType": TYPE, "ZoneId": ZONE, "ImageId": image,
               "Amount": "1", "PriceUnit": "Hour", "Period": "1"}),
    );
    p["PriceInfo"]["Price"]["TradePrice"]
        .as_f64()
        .expect("TradePrice")
}

#[test]
fn budget_run_approves_until_the_third_instance_would_exceed_it() {
    let probe = Harness::new();
    let price = hourly_price(&probe, &network(&probe).image);
    assert!(price > 0.0);
    let budget = Budget::parse(&format!("{}", price * 2.5)).unwrap();
    let h = harness(budget);
    let net = network(&h);
    let script = format!(
        r#"let made = 0;
        for i in 0..3 {{
            try {{ {}; made += 1; }}
            catch (e) {{ print(`${{e.code}}: ${{e.message}}`); }}
        }}
        print(`made ${{made}}`);"#,
        run_call("RunInstances", &net, r#", estimated_runtime: "1h""#)
    );
    let out = h.ok(&script);
    assert_eq!(out.last().map(String::as_str), Some("made 2"), "{out:?}");
    assert!(
        out[0].starts_with("Refused.Budget: RunInstances was not approved"),
        "{out:?}"
    );
    assert!(out[0].contains("over --max-cost"), "{out:?}");
    assert_eq!(
        instance_count(&h),
        2,
        "the refused third sent no RunInstances"
    );

    let decisions = h.guard.decisions();
    let approved: Vec<bool> = decisions.iter().map(|d| d.approved).collect();
    assert_eq!(approved, [true, true, false]);
    for d in &decisions {
        assert_eq!(d.via, Via::Budget);
        assert_eq!(d.currency.as_deref(), Some("CNY"));
        let amount = d.amount.expect("quoted");
        assert!(
            (amount - price).abs() < 1e-9,
            "quote {amount} != direct {price}"
        );
        assert_eq!(d.hourly, Some(amount), "one hour at the hourly price");
    }
    let summary = decision::summary(&decisions);
    let total = ecsh::guard::block::format_estimate(price * 2.0);
    assert!(
        summary.contains(&format!("Approved estimate: CNY {total}")),
        "{summary}"
    );
    assert_eq!(
        summary.matches("approved (--max-cost)").count(),
        2,
        "{summary}"
    );
    assert_eq!(
        summary.matches("refused (--max-cost)").count(),
        1,
        "{summary}"
    );
}

#[test]
fn with_no_terminal_and_no_flag_nothing_is_created_and_the_error_names_the_flags() {
    let h = harness(Refuse);
    let net = network(&h);
    let f = h.fails(&format!(
        r#"run_instances(#{{ instance_type: "{TYPE}", vswitch_id: "{}", security_group_id: "{}", image_id: "{}" }})"#,
        net.vswitch, net.sg, net.image
    ));
    assert_eq!(
        f.code.as_deref(),
        Some("Refused.NoApprover"),
        "{}",
        runner::render_error(&f)
    );
    assert!(
        f.message.contains("--yes") && f.message.contains("--max-cost"),
        "{}",
        f.message
    );
    assert_eq!(instance_count(&h), 0);
    let d = h.guard.decisions();
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].approved, d[0].via), (false, Via::NoTerminal));
    assert!(d[0].amount.is_some(), "it was quoted before asking");
}

#[test]
fn approval_at_the_prompt_shows_the_seed_block_with_the_simulators_facts() {
    let prompter = Scripted::new(&[true]);
    let h = harness(prompter.clone());
    let net = network(&h);
    h.ok(&format!(
        r#"run_instances(#{{ instance_type: "{TYPE}", vswitch_id: "{}", security_group_id: "{}",
                              image_id: "{}", system_disk_category: "cloud_essd", system_disk_size: 40,
                              extra_params: #{{ estimated_runtime: "5m" }} }});"#,
        net.vswitch, net.sg, net.image
    ));
    assert_eq!(instance_count(&h), 1);
    let shown = prompter.shown();
    assert_eq!(shown.len(), 1);
    let text = shown[0].render();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "ECS Cost Estimate:");
    assert_eq!(lines[1], format!("Spec: {TYPE} (2 vCPU, 4 GB)"));
    assert!(lines[2].starts_with("Image: Ubuntu"), "{text}");
    assert_eq!(lines[3], "System disk: cloud_essd 40 GB");
    assert!(
        lines[4].starts_with("Unit price: CNY ") && lines[4].ends_with("/hour (trade price)"),
        "{text}"
    );
    assert_eq!(lines[5], "Estimated runtime: ~5 minutes");
    assert!(lines[6].starts_with("Estimated total cost: CNY "), "{text}");
    assert!(
        lines[7].starts_with("Billing: pay-as-you-go (PostPaid)"),
        "{text}"
    );
    assert_eq!(*lines.last().unwrap(), "Proceed with creation?");
    assert_eq!(h.guard.decisions()[0].via, Via::Prompt);
}

#[test]
fn declining_at_the_prompt_sends_nothing() {
    let h = harness(Scripted::new(&[false]));
    let net = network(&h);
    let f = h.fails(&run_call("RunInstances", &net, ""));
    assert!(f.message.contains("declined"), "{}", f.message);
    assert_eq!(instance_count(&h), 0);
}

/// Every route a script has to RunInstances reaches the prompter, which refuses; nothing is
/// created by any of them.
#[test]
fn no_route_around_the_guard() {
    let prompter = Scripted::new(&[]);
    let h = harness(prompter.clone());
    let net = network(&h);
    let raw = run_call("RunInstances", &net, "");
    let attempts = [
        ("raw call", raw.clone()),
        ("closure", format!("let f = || {raw}; f.call()")),
        (
            "function pointer",
            format!(
                r#"let f = Fn("call_api"); f.call("ecs", "RunInstances", #{{ ZoneId: "{ZONE}", InstanceType: "{TYPE}", ImageId: "{}", VSwitchId: "{}", SecurityGroupId: "{}" }})"#,
                net.image, net.vswitch, net.sg
            ),
        ),
        (
            "typed function",
            format!(
                r#"run_instances(#{{ instance_type: "{TYPE}", vswitch_id: "{}", security_group_id: "{}", image_id: "{}" }})"#,
                net.vswitch, net.sg, net.image
            ),
        ),
        (
            "stdlib flow",
            format!(
                r#"create_instance_with_infra(#{{ instance_type: "{TYPE}", zone_id: "{ZONE}", region: "{REGION}",
                                                 image_family: "acs:ubuntu_24_04_x64" }})"#
            ),
        ),
    ];
    for (i, (what, src)) in attempts.iter().enumerate() {
        let result = h.run(src);
        let Err(failure) = result else {
            panic!("{what}: succeeded");
        };
        assert_eq!(instance_count(&h), 0, "{what}: an instance was created");
        let shown = prompter.shown();
        assert_eq!(
            shown.len(),
            i + 1,
            "{what}: the prompter was not asked: {}",
            failure.message
        );
        let estimate = shown[i].estimate.as_ref().expect("quoted");
        assert!(estimate.amount > 0.0, "{what}: quote was {estimate:?}");
    }
    // An odd spelling of the action is not another action: refused before anything is asked
    // or sent, with the real name.
    let asked = prompter.shown().len();
    for odd in ["Runinstances", "RUNINSTANCES"] {
        let f = h.fails(&run_call(odd, &net, ""));
        assert_eq!(
            f.code.as_deref(),
            Some("UnknownAction"),
            "{odd}: {}",
            f.message
        );
        assert!(
            f.message.contains("did you mean 'RunInstances'"),
            "{}",
            f.message
        );
    }
    assert_eq!(prompter.shown().len(), asked);
    assert_eq!(instance_count(&h), 0);
}

#[test]
fn scripts_cannot_reach_rpc_through_eval_or_a_shadowed_call() {
    let prompter = Scripted::new(&[]);
    let h = harness(prompter.clone());
    let net = network(&h);
    let raw = run_call("RunInstances", &net, "");
    let f = h.fails(&format!("eval({:?})", raw));
    assert!(
        f.message.to_lowercase().contains("eval"),
        "{}",
        runner::render_error(&f)
    );
    // Shadowing a host function (the quote, the raw call, the creating call) is rejected
    // before the script runs.
    for shadow in [
        r#"fn describe_price(o) { #{ PriceInfo: #{ Price: #{ TradePrice: 0.0, Currency: "CNY" } } } }"#,
        "fn call_api(p, a, m) { #{} }",
        "fn run_instances(o) { #{} }",
    ] {
        let f = h.fails(&format!("{shadow}\n{raw}"));
        assert!(
            f.message.contains("host function"),
            "{shadow}: {}",
            f.message
        );
    }
    // An action name the host cannot send as written is refused before the guard.
    let f = h.fails(&run_call("runinstances", &net, ""));
    assert_eq!(f.code.as_deref(), Some("UnknownAction"), "{}", f.message);
    assert_eq!(instance_count(&h), 0);
    assert!(prompter.shown().is_empty(), "nothing got as far as a quote");
}

#[test]
fn an_unquotable_action_needs_an_explicit_yes_not_a_budget() {
    let h = harness(Budget::parse("1000").unwrap());
    let f = h.fails(r#"call_api("vpc", "CreateNatGateway", #{ VpcId: "vpc-x" })"#);
    assert!(
        f.message.contains("cannot be quoted") && f.message.contains("--yes"),
        "{}",
        f.message
    );
    let d = h.guard.decisions();
    assert_eq!((d[0].approved, d[0].amount), (false, None));

    // With --yes it is sent (and the simulator, which has no NAT gateways, says so).
    let h = harness(AutoApprove);
    let f = h.fails(r#"call_api("vpc", "CreateNatGateway", #{ VpcId: "vpc-x" })"#);
    assert!(
        !f.code.as_deref().unwrap_or("").starts_with("Refused"),
        "{}",
        f.message
    );
    assert_eq!(h.guard.decisions()[0].via, Via::Yes);
}

#[test]
fn a_failed_quote_refuses_without_asking() {
    let prompter = Scripted::new(&[true]);
    let h = harness(prompter.clone());
    let net = network(&h);
    let src = run_call("RunInstances", &net, "").replace(TYPE, "ecs.no-such-type");
    let f = h.fails(&src);
    assert!(
        f.message.contains("price could not be quoted"),
        "{}",
        f.message
    );
    assert!(
        prompter.shown().is_empty(),
        "asked about an unquoted action"
    );
    assert_eq!(instance_count(&h), 0);
    assert_eq!(h.guard.decisions()[0].via, Via::QuoteFailed);
}

#[test]
fn user_data_is_refused_by_policy_before_any_quote() {
    let prompter = Scripted::new(&[true]);
    let h = harness(prompter.clone());
    let net = network(&h);
    let f = h.fails(&run_call(
        "RunInstances",
        &net,
        r#", UserData: "ZWNobyBoaQ==""#,
    ));
    assert!(f.message.contains("run_command"), "{}", f.message);
    assert!(prompter.shown().is_empty());
    assert_eq!(instance_count(&h), 0);
    assert_eq!(h.guard.decisions()[0].via, Via::Policy);
}

#[test]
fn ingress_policies_through_functions_and_raw_calls() {
    let h = harness(AutoApprove);
    let net = network(&h);
    let sg = &net.sg;
    // The typed function defaults the source to 0.0.0.0/0, so a database port is refused...
    let f = h.fails(&format!(
        r#"authorize_security_group(#{{ sg_id: "{sg}", port_range: "3306/3306" }})"#
    ));
    assert!(f.message.contains("MySQL"), "{}", f.message);
    // ...in the list form of the raw call, and the old flat form, and as ALL -1/-1.
    for params in [
        r#"Permissions: [#{ IpProtocol: "tcp", PortRange: "6379/6379", SourceCidrIp: "0.0.0.0/0" }]"#,
        r#"IpProtocol: "tcp", PortRange: "5432/5432", SourceCidrIp: "0.0.0.0/0""#,
        r#"Permissions: [#{ IpProtocol: "all", PortRange: "-1/-1", SourceCidrIp: "0.0.0.0/0" }]"#,
    ] {
        let f = h.fails(&format!(
            r#"call_api("ecs", "AuthorizeSecurityGroup", #{{ SecurityGroupId: "{sg}", {params} }})"#
        ));
        assert_eq!(
            f.code.as_deref(),
            Some("Refused.Policy.PublicDatabasePort"),
            "{params}: {}",
            f.message
        );
    }
    // SSH to the world needs the rule to say so; from one address it does not.
    let f = h.fails(&format!(
        r#"authorize_security_group(#{{ sg_id: "{sg}", port_range: "22/22" }})"#
    ));
    assert!(f.message.contains("allow_public_admin"), "{}", f.message);
    assert!(rules(&h, sg).is_empty(), "a refused rule was added");
    h.ok(&format!(
        r#"authorize_security_group(#{{ sg_id: "{sg}", port_range: "22/22", source_cidr_ip: "203.0.113.5/32" }});
           call_api("ecs", "AuthorizeSecurityGroup", #{{ SecurityGroupId: "{sg}",
                Permissions: [#{{ IpProtocol: "tcp", PortRange: "3389/3389", SourceCidrIp: "0.0.0.0/0",
                                  allow_public_admin: true }}] }});
           authorize_security_group(#{{ sg_id: "{sg}", port_range: "443/443" }});
           authorize_security_group(#{{ sg_id: "{sg}", port_range: "2222/2222" }});
           authorize_security_group(#{{ sg_id: "{sg}", port_range: "22/22", allow_public_admin: true }});"#
    ));
    let ports: Vec<String> = rules(&h, sg)
        .iter()
        .map(|r| r["PortRange"].as_str().unwrap_or_default().to_string())
        .collect();
    for p in ["22/22", "3389/3389", "443/443"] {
        assert!(ports.iter().any(|x| x == p), "{p} missing from {ports:?}");
    }
}

#[test]
fn a_public_ip_is_quoted_from_the_instances_own_bandwidth() {
    let h = harness(AutoApprove);
    let net = network(&h);
    h.ok(&format!(
        r#"let id = {}.InstanceId;
           wait_instances(#{{ instance_ids: [id], status: "Stopped" }});
           print(call_api("ecs", "AllocatePublicIpAddress", #{{ InstanceId: id }}).IpAddress);"#,
        run_call(
            "CreateInstance",
            &net,
            r#", InternetMaxBandwidthOut: 5, InternetChargeType: "PayByBandwidth""#
        )
    ));
    let bandwidth = h.api(
        Product::Ecs,
        "DescribePrice",
        json!({"ResourceType": "bandwidth", "InternetMaxBandwidthOut": "5",
               "InternetChargeType": "PayByBandwidth", "PriceUnit": "Hour", "Period": "1"}),
    )["PriceInfo"]["Price"]["TradePrice"]
        .as_f64()
        .expect("TradePrice");
    let d = h.guard.decisions();
    let actions: Vec<&str> = d.iter().map(|d| d.action.as_str()).collect();
    assert_eq!(actions, ["CreateInstance", "AllocatePublicIpAddress"]);
    assert_eq!(d[1].hourly, Some(bandwidth));
    assert!(
        d[1].detail.contains("5 Mbps, PayByBandwidth"),
        "{}",
        d[1].detail
    );
}
