//! `ecsh run` with the approval flags, as a user runs it (the embedded simulator, no
//! credentials): `--max-cost` over a run, no terminal and no flag, and conflicting flags.

use crate::support::text;
use std::process::Output;

/// Runs `ecsh` in a new session, so it has no controlling terminal (as in CI or cron).
fn ecsh_without_terminal(args: &[&str]) -> Output {
    crate::support::ecsh(args, &[("ECSH_SIM_TIME_SCALE", "0")])
}

/// A script that tries three RunInstances (1 hour each) and reports how many were made.
const THREE_INSTANCES: &str = r#"
let net = ensure_vpc_and_vswitch(#{ zone_id: "cn-hangzhou-i" });
let sg = create_security_group(#{ vpc_id: net.vpc_id });
let img = describe_images(#{ image_family: "acs:ubuntu_24_04_x64" }).Images.Image[0].ImageId;
let made = 0;
for i in 0..3 {
    try {
        call_api("ecs", "RunInstances", #{ ZoneId: "cn-hangzhou-i", InstanceType: "ecs.c6.large",
                 ImageId: img, VSwitchId: net.vswitch_id, SecurityGroupId: sg,
                 estimated_runtime: "1h" });
        made += 1;
    } catch (e) {
        print(`refused: ${e.code}`);
    }
}
print(`made ${made}`);
print(describe_instances(#{}).Instances.Instance.len());
"#;

fn script(dir: &tempfile::TempDir, body: &str) -> String {
    let path = dir.path().join("three.rhai");
    std::fs::write(&path, body).expect("write script");
    path.display().to_string()
}

/// The catalogue's hourly price of the instance the script asks for, from a run of its own.
fn one_instance_hour() -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = script(
        &dir,
        r#"print(call_api("ecs", "DescribePrice", #{ ZoneId: "cn-hangzhou-i", InstanceType: "ecs.c6.large",
               ImageId: describe_images(#{ image_family: "acs:ubuntu_24_04_x64" }).Images.Image[0].ImageId,
               PriceUnit: "Hour", Period: 1, Amount: 1 }).PriceInfo.Price.TradePrice);"#,
    );
    let out = ecsh_without_terminal(&["run", &path]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout).trim().parse().expect("a price")
}

#[test]
fn max_cost_approves_two_instances_and_refuses_the_third() {
    let price = one_instance_hour();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = script(&dir, THREE_INSTANCES);
    let budget = format!("{:.6}", price * 2.5);
    let out = ecsh_without_terminal(&["run", "--max-cost", &budget, &path]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout, "refused: Refused.Budget\nmade 2\n2\n", "{stderr}");
    assert!(stderr.contains("Cost decisions:"), "{stderr}");
    assert_eq!(
        stderr
            .matches("- approved (--max-cost): RunInstances")
            .count(),
        2,
        "{stderr}"
    );
    assert_eq!(
        stderr
            .matches("- refused (--max-cost): RunInstances")
            .count(),
        1,
        "{stderr}"
    );
    let total = ecsh::guard::block::format_estimate(price * 2.0);
    assert!(
        stderr.contains(&format!("Approved estimate: CNY {total}")),
        "{stderr}"
    );
}

#[test]
fn without_a_terminal_or_a_flag_nothing_is_created() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = script(&dir, THREE_INSTANCES);
    let out = ecsh_without_terminal(&["run", &path]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "refused: Refused.NoApprover\nrefused: Refused.NoApprover\nrefused: Refused.NoApprover\nmade 0\n0\n",
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("refused (no terminal)").count(),
        3,
        "{stderr}"
    );
    assert!(
        stderr.contains("--yes") && stderr.contains("--max-cost"),
        "{stderr}"
    );
}

#[test]
fn yes_and_max_cost_together_are_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = script(&dir, "print(1);");
    let out = ecsh_without_terminal(&["run", "--yes", "--max-cost", "5", &path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--yes and --max-cost"),
        "{}",
        text(&out.stderr)
    );
    let out = ecsh_without_terminal(&["run", "--max-cost", "lots", &path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not an amount"),
        "{}",
        text(&out.stderr)
    );
}
