//! The command line's ergonomics, through the real binary against the embedded simulator:
//! which flags each `--help` offers, both placements of shared flags, `run`'s one rule for
//! script arguments, aliyun-cli's parameter spelling, `--query` and `--output cols=`, `-v`,
//! `help`, completions, `check`'s findings, and the errors a script gets at run time.

use crate::support::{ecsh, text};
use std::io::Write;
use std::process::{Command, Stdio};

/// Instant simulated transitions: nothing here waits for a state change.
const FAST: &[(&str, &str)] = &[("ECSH_SIM_TIME_SCALE", "0"), ("COLUMNS", "100")];

fn script(dir: &tempfile::TempDir, name: &str, body: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, body).expect("script");
    path.display().to_string()
}

/// The `--flag` words a help text offers.
fn offered(help: &str) -> Vec<String> {
    help.split_whitespace()
        .filter(|w| w.starts_with("--"))
        .map(|w| {
            w.trim_end_matches([',', '.'])
                .split('=')
                .next()
                .unwrap_or(w)
                .to_string()
        })
        .collect()
}

#[test]
fn each_help_offers_exactly_the_flags_that_affect_its_command() {
    let help = |args: &[&str]| {
        let out = ecsh(args, &[]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        offered(&text(&out.stdout))
    };
    let top = help(&["--help"]);
    for flag in [
        "--region",
        "--endpoint",
        "--yes",
        "--max-cost",
        "--output",
        "--query",
        "--verbose",
        "--journal-dir",
    ] {
        assert!(
            top.iter().any(|f| f == flag),
            "ecsh --help lacks {flag}: {top:?}"
        );
    }
    let sim = help(&["sim", "--help"]);
    for flag in [
        "--yes",
        "--max-cost",
        "--output",
        "--endpoint",
        "--query",
        "--journal-dir",
    ] {
        assert!(
            !sim.iter().any(|f| f == flag),
            "ecsh sim --help offers {flag}"
        );
    }
    assert!(sim.iter().any(|f| f == "--listen"), "{sim:?}");
    let check = help(&["check", "--help"]);
    assert!(
        !check.iter().any(|f| f == "--endpoint" || f == "--yes"),
        "{check:?}"
    );
    let run = help(&["run", "--help"]);
    for flag in [
        "--yes",
        "--max-cost",
        "--endpoint",
        "--region",
        "--journal-dir",
        "--output",
        "--quiet",
        "--verbose",
    ] {
        assert!(
            run.iter().any(|f| f == flag),
            "ecsh run --help lacks {flag}: {run:?}"
        );
    }
    for flag in ["--listen", "--dry-run", "--method"] {
        assert!(
            !run.iter().any(|f| f == flag),
            "ecsh run --help offers {flag}"
        );
    }
    let ledger = help(&["ledger", "--help"]);
    assert!(
        !ledger.iter().any(|f| f == "--yes" || f == "--endpoint"),
        "{ledger:?}"
    );
}

#[test]
fn shared_flags_work_before_and_after_the_command_and_say_when_they_do_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let s = script(
        &dir,
        "r.rhai",
        "print(describe_zones().Zones.Zone[0].ZoneId);",
    );
    let before = ecsh(&["--region", "cn-shanghai", "run", &s], FAST);
    let after = ecsh(&["run", "--region", "cn-shanghai", &s], FAST);
    for out in [&before, &after] {
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).starts_with("cn-shanghai-"),
            "{}",
            text(&out.stdout)
        );
    }
    let misplaced = ecsh(&["--yes", "check", &s], FAST);
    assert!(misplaced.status.success(), "{}", text(&misplaced.stderr));
    let stderr = text(&misplaced.stderr);
    assert!(
        stderr.contains("warning: --yes does not apply to `ecsh check` and is ignored; it is a flag of ecsh run, ecsh cleanup, ecsh call, ecsh release, ecsh repl"),
        "{stderr}"
    );
}

#[test]
fn everything_after_the_script_is_the_scripts_with_a_warning_for_ecsh_flags() {
    let dir = tempfile::tempdir().expect("dir");
    let s = script(&dir, "q.rhai", "print(ARGS);");
    let out = ecsh(&["run", &s, "uname -a", "--yes"], FAST);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), r#"["uname -a", "--yes"]"#);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("warning: '--yes' comes after the script, so it went to the script"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("ecsh run --yes {s}")), "{stderr}");

    let out = ecsh(&["run", &s, "--region", "x"], FAST);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), r#"["--region", "x"]"#);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("region cn-hangzhou"),
        "ecsh did not take it: {stderr}"
    );
    assert!(
        stderr.contains(&format!("ecsh run --region x {s}")),
        "{stderr}"
    );

    let quiet = ecsh(&["run", &s, "plain", "words"], FAST);
    assert!(
        !text(&quiet.stderr).contains("warning"),
        "{}",
        text(&quiet.stderr)
    );
}

#[test]
fn run_dash_reads_the_script_from_stdin() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecsh"))
        .args(["run", "-", "one"])
        .env("HOME", "/nonexistent-ecsh-test-home")
        .env("ECSH_SIM_TIME_SCALE", "0")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .env_remove("ALIBABA_CLOUD_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ecsh");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"print(`from stdin ${ARGS[0]}`);\n")
        .expect("write");
    let out = child.wait_with_output().expect("ecsh ends");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "from stdin one\n");
}

#[test]
fn call_takes_aliyun_cli_spelling_and_its_own_flags_after_it() {
    let kv = ecsh(
        &[
            "call",
            "ecs",
            "DescribeInstances",
            "RegionId=cn-hangzhou",
            r#"InstanceIds=["i-1"]"#,
            "--output",
            "json",
        ],
        FAST,
    );
    let aliyun = ecsh(
        &[
            "call",
            "ecs",
            "DescribeInstances",
            "--RegionId",
            "cn-hangzhou",
            "--InstanceIds",
            r#"["i-1"]"#,
            "--output",
            "json",
        ],
        FAST,
    );
    for out in [&kv, &aliyun] {
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let strip = |out: &std::process::Output| {
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        v.as_object_mut().expect("object").remove("RequestId");
        v
    };
    assert_eq!(strip(&kv), strip(&aliyun));
    assert_eq!(strip(&aliyun)["TotalCount"], 0);

    let dry = ecsh(
        &[
            "call",
            "ecs",
            "DescribeRegions",
            "--AcceptLanguage",
            "en-US",
            "--dry-run",
        ],
        FAST,
    );
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    assert!(
        text(&dry.stdout).contains("AcceptLanguage=en-US"),
        "{}",
        text(&dry.stdout)
    );

    let bad = ecsh(&["call", "ecs", "DescribeRegions", "--regionid", "x"], FAST);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("neither a flag of `ecsh call`"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn query_and_column_output_choose_what_is_shown() {
    let out = ecsh(
        &[
            "call",
            "ecs",
            "DescribeRegions",
            "--output",
            "json",
            "--query",
            "Regions.Region[].RegionId",
        ],
        FAST,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ids: Vec<String> = serde_json::from_slice(&out.stdout).expect("a JSON list");
    assert!(ids.contains(&"cn-hangzhou".to_string()), "{ids:?}");

    // aliyun-cli writes the rows as a second word after --output.
    let cols = ecsh(
        &[
            "call",
            "ecs",
            "DescribeRegions",
            "--output",
            "cols=RegionId,Status",
            "rows=Regions.Region[]",
        ],
        FAST,
    );
    assert!(cols.status.success(), "{}", text(&cols.stderr));
    let table = text(&cols.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["RegionId", "Status"]
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("cn-hangzhou") && l.ends_with("available")),
        "{table}"
    );

    let typo = ecsh(
        &[
            "call",
            "ecs",
            "DescribeRegions",
            "--output",
            "cols=RegionID",
        ],
        FAST,
    );
    assert_ne!(typo.status.code(), Some(0));
    assert!(
        text(&typo.stderr).contains("did you mean 'RegionId'?"),
        "{}",
        text(&typo.stderr)
    );

    let bad = ecsh(
        &[
            "call",
            "ecs",
            "DescribeRegions",
            "--output",
            "json",
            "--query",
            "Regions.[",
        ],
        FAST,
    );
    assert_ne!(bad.status.code(), Some(0));
    assert!(
        text(&bad.stderr).contains("is not a JMESPath expression"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn tables_show_key_columns_whole_and_name_what_they_leave_out() {
    let out = ecsh(
        &[
            "call",
            "ecs",
            "DescribeInstanceTypes",
            "--output",
            "table",
            "--query",
            "InstanceTypes.InstanceType",
        ],
        &[("ECSH_SIM_TIME_SCALE", "0"), ("COLUMNS", "80")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("InstanceTypeId "), "{table}");
    assert!(
        lines[2].starts_with("ecs."),
        "the id column is whole: {table}"
    );
    assert!(
        !table.contains("Basel…") && !table.contains("CpuAr…"),
        "{table}"
    );
    assert!(table.contains("more columns not shown: "), "{table}");
    for line in &lines[..lines.len() - 1] {
        assert!(
            unicode_width::UnicodeWidthStr::width(*line) <= 80,
            "{line:?}"
        );
    }
}

#[test]
fn verbose_logs_one_line_per_api_call_and_no_secret() {
    // A simulator in this process, so the test knows the secret that must not show.
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let sim = runtime
        .block_on(ecsh::sim::server::start(
            ecsh::sim::server::SimConfig::embedded(),
        ))
        .expect("simulator starts");
    let secret = sim.access_key_secret().expose().to_string();
    let endpoint = sim.endpoint();
    let creds = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", sim.access_key_id()),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret.as_str()),
    ];
    let out = ecsh(
        &[
            "call",
            "--endpoint",
            &endpoint,
            "ecs",
            "DescribeRegions",
            "-v",
            "--output",
            "json",
        ],
        &creds,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("ecsh::api")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    let line = lines[0];
    for part in [
        "ecs DescribeRegions",
        "region=cn-hangzhou",
        "status=200",
        "duration=",
        "request_id=",
        "retries=0",
    ] {
        assert!(line.contains(part), "{line}");
    }
    let request_id = serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")
        ["RequestId"]
        .as_str()
        .expect("a request id")
        .to_string();
    assert!(line.contains(&request_id), "{line} vs {request_id}");
    assert!(
        !stderr.contains("verbose-test-token-value") && !stderr.contains("Signature"),
        "{stderr}"
    );

    let failing = ecsh(
        &[
            "call",
            "ecs",
            "DescribeSecurityGroupAttribute",
            "SecurityGroupId=sg-nope",
        ],
        &[("ECSH_LOG", "ecsh::api=info"), ("ECSH_SIM_TIME_SCALE", "0")],
    );
    let stderr = text(&failing.stderr);
    assert!(
        stderr.contains("ecs DescribeSecurityGroupAttribute") && stderr.contains("status=4"),
        "{stderr}"
    );

    let silent = ecsh(&["call", "ecs", "DescribeRegions"], FAST);
    assert!(
        !text(&silent.stderr).contains("ecsh::api"),
        "{}",
        text(&silent.stderr)
    );
}

#[test]
fn completions_load_in_bash_and_exist_for_every_shell() {
    let bin = env!("CARGO_BIN_EXE_ecsh");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source <('{bin}' completions bash) && complete -p ecsh"
        ))
        .output()
        .expect("bash");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("ecsh"), "{}", text(&out.stdout));
    for shell in ["zsh", "fish", "powershell"] {
        let out = ecsh(&["completions", shell], &[]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("max-cost"), "{shell}");
    }
    let bad = ecsh(&["completions", "tcsh"], &[]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn help_names_functions_in_rhai_words_and_suggests_near_misses() {
    let out = ecsh(&["help", "keep"], &[("COLUMNS", "100")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let keep = text(&out.stdout);
    assert!(
        keep.starts_with("keep(id: string, [options: map]) -> array\n"),
        "{keep}"
    );
    assert!(!keep.contains("core::") && !keep.contains("&str"), "{keep}");
    let all = text(&ecsh(&["help"], &[("COLUMNS", "100")]).stdout);
    for name in [
        "keep",
        "scope",
        "ledger",
        "call_api",
        "doc_search",
        "describe_price",
    ] {
        assert!(
            all.contains(&format!("  {name} ")),
            "help lists {name}: {all}"
        );
    }
    let miss = ecsh(&["help", "describe_zone"], &[]);
    assert_eq!(miss.status.code(), Some(2));
    assert!(
        text(&miss.stderr).contains("did you mean `describe_zones`?"),
        "{}",
        text(&miss.stderr)
    );
    let command = ecsh(&["help", "run"], &[]);
    assert!(
        text(&command.stdout).contains("Usage: ecsh run"),
        "{}",
        text(&command.stdout)
    );
}

#[test]
fn check_finds_typos_before_anything_runs() {
    let dir = tempfile::tempdir().expect("dir");
    let s = script(
        &dir,
        "typos.rhai",
        "let z = describe_zone(#{});\nlet s = find_available_instance_type(#{ cores: 2, memroy: 4 });\ndescribe_zones(\"cn-hangzhou\");\nkeep();\n",
    );
    let out = ecsh(&["check", &s], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 4, "{stderr}");
    assert!(
        lines[0].starts_with(&format!(
            "error: {s}:1:9: unknown function `describe_zone`; did you mean `describe_zones`?"
        )),
        "{stderr}"
    );
    assert!(lines[1].starts_with(&format!("error: {s}:2:51: unknown option 'memroy' for find_available_instance_type; did you mean 'memory'?")), "{stderr}");
    assert!(
        lines[2].contains(":3:16: `describe_zones` takes an options map, not a string"),
        "{stderr}"
    );
    assert!(
        lines[3].contains(":4:1: `keep` takes 1 or 2 argument(s), not 0"),
        "{stderr}"
    );
}

#[test]
fn run_time_mistakes_say_what_exists_and_how_to_call_it() {
    let dir = tempfile::tempdir().expect("dir");
    let wrong_type = script(&dir, "t.rhai", "describe_zones(\"cn-hangzhou\");");
    let out = ecsh(&["run", &wrong_type], FAST);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "`describe_zones` cannot be called with (string); call it as describe_zones(#{"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("ImmutableString"), "{stderr}");

    let property = script(
        &dir,
        "p.rhai",
        "let x = describe_regions();\nif !x.contains(\"Foo\") { print(\"no Foo\"); }\nlet u = ();\nprint(u?.Foo);\nprint(x.Regions.Regoin);\n",
    );
    let out = ecsh(&["run", &property], FAST);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "no Foo\n\n",
        "optional fields stay testable"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            ":5:17: no property 'Regoin' in this map; did you mean 'Region'? it has: Region."
        ),
        "{stderr}"
    );
}

#[test]
fn whoami_and_ledger_speak_json_with_second_precision_times() {
    let out = ecsh(&["whoami", "--output", "json"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let who: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        who["target"],
        "the embedded simulator (no credentials configured)"
    );
    let region = ecsh(&["--query", "settings.region", "whoami"], &[]);
    assert_eq!(
        text(&region.stdout).trim(),
        "\"cn-hangzhou (from default)\""
    );

    let dir = tempfile::tempdir().expect("dir");
    let journal = dir.path().join("runs");
    let s = script(
        &dir,
        "v.rhai",
        "call_api(\"vpc\", \"CreateVpc\", #{ CidrBlock: \"10.0.0.0/16\" });",
    );
    let run = ecsh(
        &["run", "--journal-dir", journal.to_str().unwrap(), &s],
        FAST,
    );
    assert!(run.status.success(), "{}", text(&run.stderr));
    let listed = ecsh(
        &[
            "ledger",
            "--journal-dir",
            journal.to_str().unwrap(),
            "--output",
            "json",
        ],
        &[],
    );
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let runs: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("json");
    let started = runs[0]["started"].as_str().expect("started");
    assert_eq!(started.len(), "2026-12-01T09:53:17Z".len(), "{started}");
    assert!(
        started.ends_with('Z') && !started.contains('.'),
        "{started}"
    );
    assert_eq!(runs[0]["status"], "ended");

    // On `run`, --query selects from the JSON summary (stderr), and cols= is refused.
    let summary = ecsh(&["run", "--query", "length(resources)", &s], FAST);
    assert!(summary.status.success(), "{}", text(&summary.stderr));
    assert_eq!(
        text(&summary.stderr).lines().last(),
        Some("1"),
        "{}",
        text(&summary.stderr)
    );
    let cols = ecsh(&["run", "--output", "cols=Id", &s], FAST);
    assert_eq!(cols.status.code(), Some(2));
}

#[test]
fn no_color_turns_off_the_colours_of_usage_errors_on_a_terminal() {
    let on_terminal = |no_color: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecsh"));
        cmd.arg("--bogus")
            .env("TERM", "xterm")
            .env_remove("CLICOLOR_FORCE");
        if no_color {
            cmd.env("NO_COLOR", "1");
        } else {
            cmd.env_remove("NO_COLOR");
        }
        let mut pty = expectrl::Session::spawn(cmd).expect("ecsh on a pty");
        pty.set_expect_timeout(Some(std::time::Duration::from_secs(60)));
        let found = pty.expect("Usage:").expect("a usage error");
        String::from_utf8_lossy(found.before()).into_owned()
    };
    assert!(
        on_terminal(false).contains('\u{1b}'),
        "colours by default on a terminal"
    );
    let plain = on_terminal(true);
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
    assert!(plain.contains("unexpected argument '--bogus'"), "{plain:?}");
}

#[test]
fn cleanup_speaks_json_too() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let sim = runtime
        .block_on(ecsh::sim::server::start(
            ecsh::sim::server::SimConfig::embedded(),
        ))
        .expect("simulator starts");
    let secret = sim.access_key_secret().expose().to_string();
    let dir = tempfile::tempdir().expect("dir");
    let journal = dir.path().display().to_string();
    let out = ecsh(
        &[
            "--endpoint",
            &sim.endpoint(),
            "cleanup",
            "--journal-dir",
            &journal,
            "--output",
            "json",
        ],
        &[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", sim.access_key_id()),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret.as_str()),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report, serde_json::json!({"clean": true, "runs": []}));
}
