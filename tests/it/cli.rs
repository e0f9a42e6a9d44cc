//! The `ecsh` binary as a user runs it: `call` (raw calls, dry run, bad input), `whoami`,
//! and `sim` standalone.

use crate::support::{ecsh, text};
use ecsh::rpc::sign;

const CREDS: &[(&str, &str)] = &[
    ("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid"),
    ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "cli-test-secret-value"),
    ("ALIBABA_CLOUD_SECURITY_TOKEN", "cli-test-token-value"),
];

/// Splits `a=b&c=d` into decoded pairs.
fn pairs(encoded: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(encoded.as_bytes())
        .into_owned()
        .collect()
}

#[test]
fn dry_run_prints_a_correctly_signed_request_without_secrets() {
    let out = ecsh(
        &[
            "call",
            "ecs",
            "DescribeRegions",
            "--dry-run",
            "--endpoint",
            "http://127.0.0.1:9",
        ],
        CREDS,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("cli-test-secret-value"), "{stdout}");
    assert!(!stdout.contains("cli-test-token-value"), "{stdout}");
    assert!(stdout.contains("SecurityToken=<redacted>"), "{stdout}");

    // Re-sign what was printed (token restored) and compare with the printed signature.
    let first = stdout.lines().next().expect("a request line");
    let (method, url) = first.split_once(' ').expect("METHOD URL");
    let query = url.split_once("/?").expect("a query").1;
    let body = stdout.split("\n\n").nth(1).unwrap_or("").trim();
    let mut params: Vec<(String, String)> = pairs(query).into_iter().chain(pairs(body)).collect();
    let signature = params
        .iter()
        .find(|(k, _)| k == "Signature")
        .map(|(_, v)| v.clone())
        .expect("a Signature");
    for (k, v) in params.iter_mut() {
        if k == "SecurityToken" {
            *v = "cli-test-token-value".into();
        }
    }
    assert_eq!(
        sign::sign_v1(method, &params, "cli-test-secret-value"),
        signature
    );
    assert!(params
        .iter()
        .any(|(k, v)| k == "Action" && v == "DescribeRegions"));
    assert!(params
        .iter()
        .any(|(k, v)| k == "RegionId" && v == "cn-hangzhou"));
}

#[test]
fn bad_call_input_is_a_usage_error_with_exit_code_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["call", "oss", "ListBuckets"],
            "unknown product 'oss'; valid products: ecs, vpc",
        ),
        (
            &["call", "ecs", "DescribeRegions", "RegionId"],
            "is not Key=Value",
        ),
        (
            // A registered name in another case (call_api refuses it the same way).
            &["call", "ecs", "DESCRIBEINSTANCES"],
            "did you mean 'DescribeInstances'",
        ),
        (
            &["call", "ecs", "describe regions"],
            "is not a valid ecs action name",
        ),
        (
            &["call", "ecs", "DescribeRegions", "=x"],
            "is not an API parameter name",
        ),
        (&["call", "ecs"], "ACTION"),
        (&["--cloud", "moon", "whoami"], "moon"),
    ];
    for (args, expected) in cases {
        let out = ecsh(args, &[]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(expected),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn call_against_the_embedded_simulator_prints_json_and_a_banner() {
    let out = ecsh(&["call", "ecs", "DescribeRegions"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let regions = body["Regions"]["Region"].as_array().expect("a region list");
    assert!(regions.iter().any(|r| r["RegionId"] == "ap-southeast-1"));
    assert!(
        text(&out.stderr).contains("embedded simulator"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_api_error_from_call_exits_1_with_code_and_advice() {
    let out = ecsh(
        &["call", "ecs", "DescribeInstances", "RegionId=mars-north-1"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("InvalidRegionId"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn call_goes_through_the_cost_guard_and_its_policies() {
    // No terminal (the test has none) and no flag: refused, with the flags named.
    let out = ecsh(
        &["call", "ecs", "RunInstances", "InstanceType=ecs.g7.large"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--yes") && stderr.contains("--max-cost"),
        "{stderr}"
    );

    // Policies apply to raw calls too: UserData is refused before anything is sent.
    let out = ecsh(
        &[
            "call",
            "--yes",
            "ecs",
            "RunInstances",
            "InstanceType=ecs.g7.large",
            "UserData=ZWNobw==",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("UserData"),
        "{}",
        text(&out.stderr)
    );

    // A duplicated parameter is a usage error.
    let out = ecsh(&["call", "ecs", "DescribeRegions", "A=1", "A=2"], &[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn whoami_names_sources_and_never_the_secret() {
    let out = ecsh(&["whoami", "--region", "ap-southeast-1"], CREDS);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("env ALIBABA_CLOUD_ACCESS_KEY_ID"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ap-southeast-1 (from flag --region)"),
        "{stdout}"
    );
    assert!(!stdout.contains("cli-test-secret-value") && !stdout.contains("cli-test-token-value"));
    assert!(stdout.contains("Alibaba Cloud"), "{stdout}");
}

fn script(dir: &tempfile::TempDir, name: &str, body: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, body).expect("write script");
    path.display().to_string()
}

#[test]
fn run_exit_codes_follow_the_outcome() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ok = script(
        &dir,
        "ok.rhai",
        "print(`args: ${ARGS}`);\nprint(describe_regions().Regions.Region.len() > 4);",
    );
    let out = ecsh(&["run", &ok, "a", "--b"], &[("ECSH_SIM_TIME_SCALE", "0")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "args: [\"a\", \"--b\"]\ntrue\n");

    let throws = script(
        &dir,
        "throws.rhai",
        "let x = 1;\ndescribe_instances(#{ region: \"mars-north-1\" });\n",
    );
    let out = ecsh(&["run", &throws], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("throws.rhai:2:"), "{stderr}");
    assert!(stderr.contains("InvalidRegionId"), "{stderr}");

    let broken = script(&dir, "broken.rhai", "let x = ;\n");
    let out = ecsh(&["run", &broken], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("broken.rhai:1:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_reports_syntax_errors_with_positions_and_runs_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = script(&dir, "good.rhai", "print(\"never printed\");");
    let out = ecsh(&["check", &good], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "check must not run the script");

    let bad = script(&dir, "bad.rhai", "let a = 1;\nlet b = [1, 2;\n");
    let out = ecsh(&["check", &bad], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("bad.rhai:2:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn output_json_makes_the_run_summary_one_parsable_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = script(
        &dir,
        "vpc.rhai",
        r#"let vpc = call_api("vpc", "CreateVpc", #{ CidrBlock: "10.0.0.0/16" }).VpcId; print(vpc);"#,
    );
    let out = ecsh(
        &["--output", "json", "run", &path],
        &[("ECSH_SIM_TIME_SCALE", "0")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let vpc = text(&out.stdout).trim().to_string();
    let stderr = text(&out.stderr);
    let last = stderr.lines().last().expect("a summary line");
    let summary: serde_json::Value = serde_json::from_str(last).expect("the summary is JSON");
    assert!(
        summary["run"].as_str().is_some_and(|r| r.starts_with("r-")),
        "{summary}"
    );
    let resources = summary["resources"].as_array().expect("resources");
    assert_eq!(resources.len(), 1, "{summary}");
    assert_eq!(resources[0]["kind"], "VPC");
    assert_eq!(resources[0]["id"], vpc.as_str());
    assert_eq!(resources[0]["status"], "released");
    assert_eq!(summary["decisions"], serde_json::json!([]));
}

#[test]
fn call_output_table_shows_lists_as_aligned_tables() {
    let out = ecsh(
        &["--output", "table", "call", "ecs", "DescribeRegions"],
        &[("COLUMNS", "120")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let header = stdout
        .lines()
        .find(|l| l.contains("RegionEndpoint"))
        .unwrap_or_else(|| panic!("a table header in {stdout}"));
    assert!(
        header.contains("RegionId") && header.contains("Status"),
        "{stdout}"
    );
    let row = stdout
        .lines()
        .find(|l| l.contains("ap-southeast-1"))
        .expect("a row per region");
    // Aligned: the endpoint column starts at the same display column in the header and the
    // row (Chinese region names take two columns per character).
    use unicode_width::UnicodeWidthStr;
    assert_eq!(
        header.find("RegionEndpoint").map(|i| header[..i].width()),
        row.find("ecs.ap-southeast-1").map(|i| row[..i].width()),
        "{stdout}"
    );
    assert!(
        serde_json::from_str::<serde_json::Value>(&stdout).is_err(),
        "not JSON"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dry_run_url_is_accepted_by_the_simulator_as_printed() {
    let sim = crate::support::start_sim().await;
    let secret = sim.access_key_secret().expose().to_string();
    let endpoint = sim.endpoint();
    let key_id = sim.access_key_id().to_string();
    let out = tokio::task::spawn_blocking(move || {
        ecsh(
            &[
                "call",
                "ecs",
                "DescribeRegions",
                "--dry-run",
                "--endpoint",
                &endpoint,
            ],
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", &key_id),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &secret),
            ],
        )
    })
    .await
    .expect("ecsh ran");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let url = stdout
        .trim()
        .strip_prefix("GET ")
        .unwrap_or_else(|| panic!("one GET line: {stdout}"));
    // Nothing was sent by the dry run: the nonce is still fresh, so the printed URL works once.
    let answer = reqwest::get(url).await.expect("the simulator answers");
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value =
        serde_json::from_str(&answer.text().await.expect("a body")).expect("JSON");
    assert!(
        body["Regions"]["Region"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "{body}"
    );
}

#[test]
fn ctrl_c_releases_what_the_run_created_then_exits_130() {
    use std::io::{BufRead, Read};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = script(
        &dir,
        "loop.rhai",
        "let vpc = call_api(\"vpc\", \"CreateVpc\", #{ CidrBlock: \"10.0.0.0/16\" }).VpcId;\n\
         print(`created ${vpc}`);\nloop { describe_regions(); }\n",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecsh"))
        .args(["run", &path])
        .env("HOME", dir.path())
        .env("ECSH_SIM_TIME_SCALE", "0")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        .env_remove("ALIBABA_CLOUD_PROFILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ecsh run starts");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("the script prints");
    let vpc = line
        .trim()
        .strip_prefix("created ")
        .expect("created VPC")
        .to_string();
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let status = child.wait().expect("ecsh exits");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr");
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains(&format!("- VPC: {vpc} [released]")),
        "{stderr}"
    );
}

#[test]
fn a_malformed_simulator_time_scale_is_an_error_not_a_silent_default() {
    let out = ecsh(
        &["call", "ecs", "DescribeRegions"],
        &[("ECSH_SIM_TIME_SCALE", "fast")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("ECSH_SIM_TIME_SCALE is 'fast'"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}
