//! Every example in scripts/ runs against the simulator, and each test asserts what the user
//! would see: the script's output, and the resources created, kept or released as the
//! simulator's own API reports them.

use super::host::{list, Harness};
use ecsh::host::runner;
use ecsh::ops::Product;
use serde_json::json;
use std::path::PathBuf;

const TESTED: &[&str] = &[
    "nostock_fallback.rhai",
    "price_quote.rhai",
    "quickstart.rhai",
    "region_choice.rhai",
    "security_groups.rhai",
    "spec_lookup.rhai",
    "stop_start.rhai",
    "web_server.rhai",
];

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name)
}

/// Runs scripts/`name` with `args` through `run_file`, as `ecsh run` does: with a run ledger
/// whose scope ends (releasing what the script left) when the script ends. Returns its
/// printed lines.
fn run(h: &Harness, name: &str, args: &[&str]) -> Vec<String> {
    h.printed.lock().unwrap().clear();
    let args = args.iter().map(|s| s.to_string()).collect();
    let journal = tempfile::tempdir().expect("journal dir");
    let ledger = ecsh::ledger::start_run(
        &h.client,
        Some(journal.path()),
        name,
        "sim",
        ecsh::ledger::lease::LeasePolicy::default(),
    )
    .expect("the run ledger starts");
    let mut session = h.session();
    session.ledger = Some(ledger.clone());
    let outcome = runner::run_file(&script(name), args, session);
    h.rt.block_on(ledger.finish())
        .expect("the run's scope ends cleanly");
    if let Err(f) = outcome {
        panic!("{name} failed:\n{}", runner::render_error(&f));
    }
    h.printed.lock().unwrap().clone()
}

fn has(lines: &[String], prefix: &str) -> String {
    lines
        .iter()
        .find(|l| l.starts_with(prefix))
        .cloned()
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in {lines:#?}"))
}

fn assert_region_empty(h: &Harness, region: &str) {
    assert!(h.instances(region).is_empty(), "instances left in {region}");
    assert!(
        h.security_groups(region).is_empty(),
        "security groups left in {region}"
    );
    assert!(h.vswitches(region).is_empty(), "vswitches left in {region}");
    assert!(h.vpcs(region).is_empty(), "VPCs left in {region}");
}

#[test]
fn every_example_script_has_a_test_and_passes_check() {
    let mut found: Vec<String> = std::fs::read_dir(script(""))
        .expect("scripts/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".rhai"))
        .collect();
    found.sort();
    assert_eq!(
        found, TESTED,
        "a script without a test (or a test without its script)"
    );
    for name in TESTED {
        if let Err(d) = runner::check_file(&script(name)) {
            panic!("{}", runner::render_diagnostics(&d));
        }
    }
}

#[test]
fn quickstart_quotes_creates_runs_and_releases_everything() {
    let h = Harness::new();
    let out = run(&h, "quickstart.rhai", &[]);
    let found = has(&out, "Found ");
    assert!(found.contains("(2 vCPU, 4.0 GB)"), "{found}");
    assert!(
        found.contains("/hour; expected runtime ~5 minutes"),
        "{found}"
    );
    // The host's guard quoted the exact request and recorded the approval (the harness
    // approves like --yes), with the script's 5-minute estimate.
    let decisions = h.guard.decisions();
    assert_eq!(decisions.len(), 1, "{decisions:?}");
    assert!(decisions[0].approved && decisions[0].action == "RunInstances");
    assert!(
        decisions[0].amount.is_some_and(|a| a > 0.0),
        "{decisions:?}"
    );
    assert_eq!(has(&out, "Exit code: "), "Exit code: 0");
    // One resource summary per run, the host's: the script prints none of its own.
    assert!(
        !out.iter()
            .any(|l| l.contains("Created resources") || l.starts_with("- ECS")),
        "{out:#?}"
    );
    let region = if has(&out, "Instance ").contains("cn-hangzhou") {
        "cn-hangzhou"
    } else {
        "cn-shanghai"
    };
    assert_region_empty(&h, region);
}

#[test]
fn spec_lookup_recommends_inspects_and_checks_stock_without_creating() {
    let h = Harness::new();
    let out = run(&h, "spec_lookup.rhai", &["2", "8", "cn-hangzhou"]);
    assert_eq!(out[0], "Recommended for 2 vCPU / 8.0 GiB in cn-hangzhou:");
    assert!(
        out[1].contains("(2 vCPU, 8.0 GB) in cn-hangzhou-"),
        "{out:#?}"
    );
    let best = out[1].split_whitespace().next().unwrap().to_string();
    assert!(has(&out, &format!("{best}: family ")).contains("2 vCPU, 8.0 GiB"));
    let stock = has(&out, &format!("Zones with stock for {best}: "));
    assert!(stock.contains("cn-hangzhou-"), "{stock}");
    // Four zones on sale and cn-hangzhou-b, closed to new purchases (DescribeZones lists it).
    assert_eq!(
        has(&out, "Zones in cn-hangzhou: "),
        "Zones in cn-hangzhou: 5"
    );
    assert!(h.instances("cn-hangzhou").is_empty());
}

#[test]
fn price_quote_estimates_the_total_from_the_hourly_trade_price() {
    let h = Harness::new();
    let out = run(&h, "price_quote.rhai", &["ecs.g7.xlarge", "3", "2"]);
    assert_eq!(out[0], "ECS Cost Estimate:");
    assert_eq!(out[1], "Spec: ecs.g7.xlarge (4 vCPU, 16.0 GB) x 2");
    let unit: f64 = has(&out, "Unit price: CNY ")
        .trim_start_matches("Unit price: CNY ")
        .trim_end_matches("/hour (trade price)")
        .parse()
        .unwrap();
    let quoted = h.api(
        Product::Ecs,
        "DescribePrice",
        json!({"InstanceType": "ecs.g7.xlarge", "Amount": 2, "SystemDisk.Category": "cloud_essd", "SystemDisk.Size": 40}),
    );
    assert_eq!(
        unit,
        quoted["PriceInfo"]["Price"]["TradePrice"].as_f64().unwrap()
    );
    let total: f64 = has(&out, "Estimated total cost: CNY ")
        .trim_start_matches("Estimated total cost: CNY ")
        .parse()
        .unwrap();
    assert!((total - unit * 3.0).abs() < 0.001, "{total} vs {unit} x 3");
    assert!(has(&out, "For comparison, subscription (PrePaid): CNY ").ends_with("/month"));
    assert!(h.instances("cn-hangzhou").is_empty());
}

#[test]
fn web_server_keeps_its_instance_with_web_ports_open() {
    let h = Harness::new();
    let out = run(&h, "web_server.rhai", &[]);
    assert_eq!(
        has(&out, "Setup finished: "),
        "Setup finished: Success (exit code 0)"
    );
    let ip = has(&out, "Web server: http://");
    assert!(!ip.contains("(none)"), "the instance has a public IP: {ip}");
    // Neither a second cost block nor a second summary: both are the host's.
    assert!(
        !out.iter()
            .any(|l| l.contains("Cost Estimate") || l.contains("Created resources")),
        "{out:#?}"
    );
    let running = h.instances("ap-southeast-1");
    assert_eq!(running.len(), 1, "the web server is kept");
    assert_eq!(running[0]["Status"], "Running");
    assert_eq!(running[0]["InstanceName"], "ecsh-web");
    let sg = running[0]["SecurityGroupIds"]["SecurityGroupId"][0]
        .as_str()
        .unwrap()
        .to_string();
    let attr = h.api(
        Product::Ecs,
        "DescribeSecurityGroupAttribute",
        json!({"RegionId": "ap-southeast-1", "SecurityGroupId": sg}),
    );
    let ingress: Vec<String> = list(&attr, "Permissions", "Permission")
        .iter()
        .filter(|p| p["Direction"] == "ingress")
        .map(|p| p["PortRange"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(ingress, ["80/80", "443/443"]);
}

#[test]
fn security_groups_shows_each_pattern_and_deletes_them() {
    let h = Harness::new();
    let out = run(&h, "security_groups.rhai", &["198.51.100.7"]);
    let web = has(&out, "web (");
    assert!(
        web.contains("ingress TCP 80/80 0.0.0.0/0")
            && web.contains("ingress TCP 443/443 0.0.0.0/0"),
        "{web}"
    );
    assert!(!web.contains("22/22"), "{web}");
    let ssh = has(&out, "web-ssh (");
    assert!(ssh.contains("ingress TCP 22/22 198.51.100.7/32"), "{ssh}");
    let worker = has(&out, "worker (");
    assert!(!worker.contains("ingress"), "{worker}");
    assert!(worker.contains("egress"), "{worker}");
    let custom = has(&out, "custom (");
    assert!(
        custom.contains("ingress UDP 53/53 10.0.0.0/8")
            && custom.contains("egress TCP 443/443 0.0.0.0/0"),
        "{custom}"
    );
    assert_eq!(
        out.last().unwrap(),
        "Deleted the four security groups and the new VPC/vswitch"
    );
    assert_region_empty(&h, "cn-hangzhou");
}

#[test]
fn region_choice_goes_to_singapore_with_a_public_ip_when_dependencies_are_needed() {
    let h = Harness::new();
    let out = run(&h, "region_choice.rhai", &[]);
    assert_eq!(
        out[0],
        "External dependencies: true -> region ap-southeast-1, public bandwidth 5 Mbps"
    );
    let inst = has(&out, "Instance ");
    assert!(inst.contains(" in ap-southeast-1-"), "{inst}");
    assert!(!inst.ends_with("public IP: none"), "{inst}");
    assert!(has(&out, "Exit code 0; released: ").contains("ECS i-"));
    assert_region_empty(&h, "ap-southeast-1");

    let out = run(&h, "region_choice.rhai", &["no"]);
    assert_eq!(
        out[0],
        "External dependencies: false -> region cn-hangzhou, public bandwidth 0 Mbps"
    );
    assert!(has(&out, "Instance ").ends_with("public IP: none"));
    assert_region_empty(&h, "cn-hangzhou");
}

#[test]
fn nostock_fallback_catches_no_stock_and_uses_the_next_zone() {
    let h = Harness::new();
    let out = run(&h, "nostock_fallback.rhai", &[]);
    // The simulator's catalogue has ecs.g7.large sold out in cn-hangzhou-h.
    let skipped = has(&out, "No stock for ecs.g7.large in cn-hangzhou-h (request ");
    assert!(skipped.ends_with("); trying the next zone"), "{skipped}");
    assert!(
        has(&out, "Created i-").ends_with(" in cn-hangzhou-i"),
        "{out:#?}"
    );
    assert!(has(&out, "Ran in cn-hangzhou-i: exit code 0; released: ").contains("VPC vpc-"));
    assert_region_empty(&h, "cn-hangzhou");
}
