//! Spot (issue 15): scripts/spot_batch.rhai on spot capacity and, with spot sold out, falling
//! back to pay-as-you-go; run_instances' own fallback; and the guard's spot quote (a price
//! limit is the worst case) with refusals, through `ecsh call`.

use super::{line, script, Sim, ZONE};
use ecsh::ops::Product::Ecs;

fn stderr(out: &std::process::Output) -> String {
    crate::support::text(&out.stderr)
}

#[test]
fn spot_batch_runs_on_spot_capacity_with_the_price_capped_and_releases_everything() {
    let sim = Sim::start(&[]);
    let out = sim.run_ok(&script("spot_batch.rhai"), &[]);
    assert!(
        line(&out, "found ").contains(": SpotAsPriceGo at CNY "),
        "{out:#?}"
    );
    assert!(line(&out, "spot ").ends_with("% off"), "{out:#?}");
    assert!(
        line(&out, "instance i-").ends_with("runs as SpotWithPriceLimit"),
        "{out:#?}"
    );
    assert_eq!(line(&out, "job: "), "job: Success, exit 0");
    assert_eq!(sim.inventory(), Vec::<String>::new());
}

#[test]
fn spot_batch_falls_back_to_pay_as_you_go_when_spot_is_sold_out_everywhere() {
    let sim = Sim::start(&["--fault", "spotnostock=*@*"]);
    let file = script("spot_batch.rhai").to_string_lossy().to_string();
    let out = sim.ecsh(&["--yes", "run", &file]);
    let stdout = crate::support::text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", stderr(&out));
    let lines: Vec<String> = stdout.lines().map(str::to_string).collect();
    assert!(
        line(&lines, "found ").contains(": NoSpot at CNY "),
        "{lines:#?}"
    );
    assert!(
        line(&lines, "instance i-").ends_with("runs as NoSpot"),
        "{lines:#?}"
    );
    assert!(
        stderr(&out).contains("no spot capacity"),
        "the fallback was silent: {}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("(spot)"),
        "a spot request was approved: {}",
        stderr(&out)
    );
    assert_eq!(sim.inventory(), Vec::<String>::new());
}

#[test]
fn run_instances_falls_back_only_when_asked_and_each_request_is_approved() {
    let sim = Sim::start(&["--fault", &format!("spotnostock=ecs.g7.large@{ZONE}")]);
    let (_, vsw, sg) = sim.network();
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("fallback.rhai");
    std::fs::write(
        &file,
        format!(
            r#"
let o = #{{ instance_type: "ecs.g7.large", vswitch_id: "{vsw}", security_group_id: "{sg}",
           image_family: "acs:ubuntu_24_04_x64", spot_strategy: "SpotAsPriceGo", estimated_runtime: "10m" }};
try {{ run_instances(o); print("spot ran"); }} catch (e) {{ print(`without fallback: ${{e.code}}`); }}
o.spot_fallback = true;
let r = run_instances(o);
let id = r.InstanceIdSets.InstanceIdSet[0];
print(`fallback: ${{r.SpotFallback}}, runs as ${{describe_instances(#{{ instance_ids: [id] }}).Instances.Instance[0].SpotStrategy}}`);
"#
        ),
    )
    .expect("script written");
    let path = file.to_string_lossy().to_string();
    let out = sim.ecsh(&["--yes", "run", &path]);
    let stdout = crate::support::text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", stderr(&out));
    let lines: Vec<String> = stdout.lines().map(str::to_string).collect();
    assert_eq!(
        line(&lines, "without fallback: "),
        "without fallback: OperationDenied.NoStock"
    );
    assert_eq!(line(&lines, "fallback: "), "fallback: true, runs as NoSpot");
    // Two spot requests approved and sent (both sold out), then the pay-as-you-go one.
    let decisions = stderr(&out);
    let approvals: Vec<&str> = decisions
        .lines()
        .filter(|l| l.starts_with("- approved"))
        .collect();
    assert_eq!(approvals.len(), 3, "{decisions}");
    assert!(
        approvals[..2].iter().all(|l| l.contains("(spot)")),
        "{decisions}"
    );
    assert!(!approvals[2].contains("(spot)"), "{decisions}");
    // The run released its instance; the network was made by the test, not the run.
    let left: Vec<String> = sim
        .inventory()
        .into_iter()
        .filter(|id| id.starts_with("i-"))
        .collect();
    assert_eq!(left, Vec::<String>::new());
}

#[test]
fn the_guard_quotes_a_spot_price_limit_as_the_worst_case_and_refuses_without_approval() {
    let sim = Sim::start(&[]);
    let (_, vsw, sg) = sim.network();
    let base = [
        "call".to_string(),
        "ecs".into(),
        "RunInstances".into(),
        "InstanceType=ecs.g7.large".into(),
        format!("VSwitchId={vsw}"),
        format!("SecurityGroupId={sg}"),
        "ImageFamily=acs:ubuntu_24_04_x64".into(),
    ];
    let call = |flags: &[&str], extra: &[&str]| {
        let mut args: Vec<&str> = flags.to_vec();
        args.extend(base.iter().map(String::as_str));
        args.extend_from_slice(extra);
        sim.ecsh(&args)
    };
    // No terminal, no --yes, no budget: refused, nothing created.
    let out = call(
        &[],
        &["SpotStrategy=SpotWithPriceLimit", "SpotPriceLimit=5"],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("Refused.NoApprover"),
        "{}",
        stderr(&out)
    );
    // A limit of 5/hour is what it may cost: over a budget of 1.
    let out = call(
        &["--max-cost", "1"],
        &["SpotStrategy=SpotWithPriceLimit", "SpotPriceLimit=5"],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("Refused.Budget"), "{}", stderr(&out));
    // The same instance at the market price fits.
    let out = call(&["--max-cost", "1"], &["SpotStrategy=SpotAsPriceGo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let made = crate::support::text(&out.stdout);
    let id = made
        .split('"')
        .find(|s| s.starts_with("i-"))
        .unwrap_or_else(|| panic!("no instance id in {made}"))
        .to_string();
    let ids = format!("[\"{id}\"]");
    let inst = sim.ok(Ecs, "DescribeInstances", &[("InstanceIds", &ids)]);
    assert_eq!(
        inst["Instances"]["Instance"][0]["SpotStrategy"],
        "SpotAsPriceGo"
    );
    // A limit below the market is the service's error, after the approval.
    let out = call(
        &["--yes"],
        &["SpotStrategy=SpotWithPriceLimit", "SpotPriceLimit=0.0001"],
    );
    assert!(
        stderr(&out).contains("InvalidSpotPriceLimit.LowerThanPublicPrice"),
        "{}",
        stderr(&out)
    );
    // Spot is pay-as-you-go only: a PrePaid spot request cannot be quoted, so it is not sent.
    let out = call(
        &["--yes"],
        &[
            "SpotStrategy=SpotAsPriceGo",
            "InstanceChargeType=PrePaid",
            "Period=1",
        ],
    );
    assert!(
        stderr(&out).contains("Refused.QuoteFailed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn spot_prices_are_a_fixed_discount_and_the_history_says_so() {
    let sim = Sim::start(&[]);
    let h = sim.ok(
        Ecs,
        "DescribeSpotPriceHistory",
        &[
            ("NetworkType", "vpc"),
            ("InstanceType", "ecs.g7.large"),
            ("ZoneId", ZONE),
        ],
    );
    let points = h["SpotPrices"]["SpotPriceType"]
        .as_array()
        .expect("points")
        .clone();
    assert!(points.len() >= 3, "{h}");
    let spot = points[0]["SpotPrice"].as_f64().expect("spot price");
    let payg = points[0]["OriginPrice"].as_f64().expect("origin price");
    assert!(
        spot >= payg * 0.1 - 1e-4 && spot <= payg * 0.3 + 1e-4,
        "{spot} of {payg}"
    );
    assert!(points.iter().all(|p| p["SpotPrice"].as_f64() == Some(spot)));
    // DescribePrice quotes the same spot price for the instance part.
    let quote = sim.ok(
        Ecs,
        "DescribePrice",
        &[
            ("InstanceType", "ecs.g7.large"),
            ("ZoneId", ZONE),
            ("SpotStrategy", "SpotAsPriceGo"),
        ],
    );
    let detail = quote["PriceInfo"]["Price"]["DetailInfos"]["DetailInfo"]
        .as_array()
        .expect("details")
        .iter()
        .find(|d| d["Resource"] == "instanceType")
        .cloned()
        .expect("instance part");
    // DescribePrice rounds hourly prices to 3 decimals.
    let quoted = detail["TradePrice"].as_f64().expect("instance price");
    assert!((quoted - spot).abs() < 0.001, "{quoted} vs {spot}");
    assert_eq!(
        sim.code(
            Ecs,
            "DescribeSpotPriceHistory",
            &[("NetworkType", "vpc"), ("InstanceType", "ecs.nope")]
        ),
        "InvalidInstanceType.ValueNotSupported"
    );
}
