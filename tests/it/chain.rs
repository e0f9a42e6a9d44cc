//! The credential chain end to end: for every source and `~/.aliyun/config.json` mode, the real
//! `ecsh` binary, from a fresh HOME, makes a DescribeRegions call against a standalone `ecsh sim`
//! on loopback, getting its keys the way it would from Alibaba Cloud (STS AssumeRole and
//! AssumeRoleWithOIDC, the ECS metadata service with IMDSv2 or the v1 fallback, a process, a
//! credentials URI). Each misconfiguration's error names the source and the fix; an STS key
//! that expires in simulated time is replaced mid-run; and no secret shows anywhere.

use crate::support::{ecsh, text};
use base64::Engine;
use ecsh::ops::Product;
use ecsh::rpc::{Client, ClientConfig, Credentials};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const ACCOUNT: &str = ecsh::sim::sts::ACCOUNT_ID;

/// A standalone `ecsh sim` process on a free loopback port, with known root keys.
struct Sim {
    child: Child,
    stdout: tempfile::NamedTempFile,
    endpoint: String,
    metadata: Option<String>,
    id: String,
    secret: String,
}

impl Sim {
    fn start(extra: &[&str]) -> Sim {
        let id = format!("LTAI{}", &crate::support::nonce()[..20]);
        let secret = format!("rootSECRET{}", &crate::support::nonce()[..20]);
        let stdout = tempfile::NamedTempFile::new().expect("a file for stdout");
        let child = Command::new(env!("CARGO_BIN_EXE_ecsh"))
            .args(["sim", "--listen", "127.0.0.1:0"])
            .args(if extra.contains(&"--time-scale") {
                &[][..]
            } else {
                &["--time-scale", "0"][..]
            })
            .args(["--access-key-id", &id, "--access-key-secret", &secret])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(stdout.reopen().expect("stdout"))
            .stderr(Stdio::null())
            .spawn()
            .expect("`ecsh sim` starts");
        let mut sim = Sim {
            child,
            stdout,
            endpoint: String::new(),
            metadata: None,
            id,
            secret,
        };
        let started = Instant::now();
        loop {
            let banner = std::fs::read_to_string(sim.stdout.path()).unwrap_or_default();
            if banner.contains("serving ECS") {
                let field = |name: &str| {
                    banner
                        .lines()
                        .find_map(|l| l.strip_prefix(name))
                        .map(|v| v.trim().to_owned())
                };
                sim.endpoint = field("endpoint:").expect("an endpoint line");
                sim.metadata = field("metadata service:");
                return sim;
            }
            assert!(
                sim.child.try_wait().expect("status").is_none(),
                "`ecsh sim` exited"
            );
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no banner: {banner}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn with_metadata(tokens: &str) -> Sim {
        Sim::start(&[
            "--metadata-listen",
            "127.0.0.1:0",
            "--metadata-role",
            "EcsWorker",
            "--metadata-tokens",
            tokens,
        ])
    }

    /// Temporary keys of `role`, got from the simulator's STS with the root keys (the shape a
    /// credentials URI or an StsToken profile hands out).
    fn assume(&self, role: &str) -> serde_json::Value {
        let mut config = ClientConfig::new(Credentials::new(&self.id, &self.secret), "cn-hangzhou");
        config.endpoint_override = Some(self.endpoint.clone());
        let client = Client::new(config).expect("a client");
        let params = vec![
            ("RoleArn".to_string(), role_arn(role)),
            ("RoleSessionName".to_string(), "test-setup".to_string()),
            // The shortest STS lifetime, so scaled-time tests see keys expire soon.
            ("DurationSeconds".to_string(), "900".to_string()),
        ];
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let answer = rt
            .block_on(client.call(Product::Sts, "AssumeRole", params))
            .expect("AssumeRole");
        answer["Credentials"].clone()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn role_arn(name: &str) -> String {
    format!("acs:ram::{ACCOUNT}:role/{name}")
}

fn provider_arn() -> String {
    format!("acs:ram::{ACCOUNT}:oidc-provider/ci")
}

/// A fresh HOME with `~/.aliyun/config.json` holding `profiles` (current: the first).
fn home_with_profiles(profiles: serde_json::Value) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("a home");
    let current = profiles[0]["name"]
        .as_str()
        .unwrap_or("default")
        .to_string();
    write(
        &home.path().join(".aliyun/config.json"),
        &json!({"current": current, "profiles": profiles}).to_string(),
    );
    home
}

fn write(path: &Path, content: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, content).expect("write");
}

/// A JWT-shaped OIDC token (unsigned: the simulator checks the claims' shape).
fn oidc_token() -> String {
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let exp = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    format!(
        "{}.{}.oidcSIGNATUREzz73",
        b64(json!({"alg": "RS256", "typ": "JWT"})),
        b64(
            json!({"iss": "https://oidc.example", "sub": "repo:ecsh", "aud": "sts.aliyuncs.com", "exp": exp})
        )
    )
}

/// `ecsh call ecs DescribeRegions` against the simulator, HOME = `home`.
fn describe_regions(sim: &Sim, home: &Path, env: &[(&str, &str)]) -> Output {
    let home = home.to_str().expect("utf-8 home");
    let mut all = vec![("HOME", home)];
    all.extend_from_slice(env);
    ecsh(
        &[
            "--endpoint",
            &sim.endpoint,
            "call",
            "ecs",
            "DescribeRegions",
        ],
        &all,
    )
}

#[track_caller]
fn assert_works(out: &Output) {
    assert!(
        out.status.success() && text(&out.stdout).contains("cn-hangzhou"),
        "DescribeRegions failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Fails with an error on stderr that contains every one of `needles`.
#[track_caller]
fn assert_fails_saying(out: &Output, needles: &[&str]) {
    let err = text(&out.stderr);
    assert!(!out.status.success(), "expected a failure, got: {err}");
    for n in needles {
        assert!(err.contains(n), "the error does not say `{n}`:\n{err}");
    }
}

fn ak_profile(name: &str, sim: &Sim) -> serde_json::Value {
    json!({"name": name, "mode": "AK", "access_key_id": sim.id, "access_key_secret": sim.secret})
}

// ---- every mode of ~/.aliyun/config.json ---------------------------------------------------

#[test]
fn ak_and_sts_token_profiles() {
    let sim = Sim::start(&[]);
    let home = home_with_profiles(json!([ak_profile("default", &sim)]));
    assert_works(&describe_regions(&sim, home.path(), &[]));

    let keys = sim.assume("Deployer");
    let home = home_with_profiles(json!([{"name": "sts", "mode": "StsToken",
        "access_key_id": keys["AccessKeyId"], "access_key_secret": keys["AccessKeySecret"],
        "sts_token": keys["SecurityToken"]}]));
    assert_works(&describe_regions(&sim, home.path(), &[]));
}

#[test]
fn ram_role_arn_profile_assumes_the_role() {
    let sim = Sim::start(&[]);
    let home = home_with_profiles(json!([{"name": "role", "mode": "RamRoleArn",
        "access_key_id": sim.id, "access_key_secret": sim.secret,
        "ram_role_arn": role_arn("Deployer"), "ram_session_name": "ci-run",
        "expired_seconds": 900, "policy": "{\"Version\":\"1\",\"Statement\":[]}",
        "external_id": "ext-1234"}]));
    assert_works(&describe_regions(&sim, home.path(), &[]));
    // whoami --check: the assumed role, through GetCallerIdentity.
    let out = ecsh(
        &[
            "--endpoint",
            &sim.endpoint,
            "--output",
            "json",
            "whoami",
            "--check",
        ],
        &[("HOME", home.path().to_str().unwrap())],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["identity"]["IdentityType"], "AssumedRoleUser", "{v:#}");
    assert_eq!(
        v["identity"]["Arn"],
        format!("acs:ram::{ACCOUNT}:assumed-role/Deployer/ci-run")
    );
    assert_eq!(v["sources"][2]["status"], "used", "{v:#}");
}

#[test]
fn chainable_ram_role_arn_two_hops_and_cycles_refused() {
    let sim = Sim::start(&[]);
    let home = home_with_profiles(json!([
        {"name": "top", "mode": "ChainableRamRoleArn", "source_profile": "middle",
         "ram_role_arn": role_arn("Admin"), "ram_session_name": "hop2"},
        {"name": "middle", "mode": "ChainableRamRoleArn", "source_profile": "base",
         "ram_role_arn": role_arn("Jump"), "ram_session_name": "hop1"},
        ak_profile("base", &sim),
        {"name": "loop-a", "mode": "ChainableRamRoleArn", "source_profile": "loop-b",
         "ram_role_arn": role_arn("A")},
        {"name": "loop-b", "mode": "ChainableRamRoleArn", "source_profile": "loop-a",
         "ram_role_arn": role_arn("B")},
    ]));
    assert_works(&describe_regions(&sim, home.path(), &[]));
    let out = ecsh(
        &["--endpoint", &sim.endpoint, "whoami", "--check"],
        &[("HOME", home.path().to_str().unwrap())],
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("assumed-role/Admin/hop2"),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("AssumeRole") && stdout.contains("Jump"),
        "{stdout}"
    );

    let out = describe_regions(&sim, home.path(), &[("ALIBABA_CLOUD_PROFILE", "loop-a")]);
    assert_fails_saying(
        &out,
        &["cycle", "loop-a -> loop-b -> loop-a", "source_profile"],
    );
}

#[test]
fn ecs_ram_role_profile_uses_imdsv2_tokens() {
    // `required`: a GET without a session token is refused, so success shows IMDSv2 was used.
    let sim = Sim::with_metadata("required");
    let home = home_with_profiles(
        json!([{"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "EcsWorker"}]),
    );
    let md = sim.metadata.clone().expect("a metadata service");
    assert_works(&describe_regions(
        &sim,
        home.path(),
        &[("ECSH_METADATA_ENDPOINT", &md)],
    ));
    // The role name discovered when the profile does not give it.
    let home = home_with_profiles(json!([{"name": "ecs", "mode": "EcsRamRole"}]));
    assert_works(&describe_regions(
        &sim,
        home.path(),
        &[("ECSH_METADATA_ENDPOINT", &md)],
    ));
}

#[test]
fn instance_role_from_env_falls_back_to_imdsv1_unless_disabled() {
    let sim = Sim::with_metadata("unsupported");
    let home = tempfile::tempdir().unwrap();
    let md = sim.metadata.clone().expect("a metadata service");
    let env = [
        ("ECSH_METADATA_ENDPOINT", md.as_str()),
        ("ALIBABA_CLOUD_ECS_METADATA", "EcsWorker"),
    ];
    assert_works(&describe_regions(&sim, home.path(), &env));

    let mut disabled = env.to_vec();
    disabled.push(("ALIBABA_CLOUD_IMDSV1_DISABLED", "true"));
    let out = describe_regions(&sim, home.path(), &disabled);
    assert_fails_saying(
        &out,
        &[
            "ECS instance RAM role",
            "IMDSv2",
            "ALIBABA_CLOUD_IMDSV1_DISABLED",
        ],
    );
}

#[test]
fn oidc_from_env_and_from_a_profile() {
    let sim = Sim::start(&[]);
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("oidc-token");
    write(&token_file, &oidc_token());
    let tf = token_file.to_str().unwrap();
    let arn = role_arn("CiRole");
    let pa = provider_arn();
    let env = [
        ("ALIBABA_CLOUD_ROLE_ARN", arn.as_str()),
        ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", pa.as_str()),
        ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", tf),
        ("ALIBABA_CLOUD_ROLE_SESSION_NAME", "github-run-7"),
        ("ALIBABA_CLOUD_STS_REGION", "cn-shanghai"),
    ];
    assert_works(&describe_regions(&sim, home.path(), &env));

    let home = home_with_profiles(json!([{"name": "ci", "mode": "OIDC",
        "ram_role_arn": arn, "oidc_provider_arn": pa, "oidc_token_file": tf}]));
    assert_works(&describe_regions(&sim, home.path(), &[]));
}

#[test]
fn external_process_command() {
    let sim = Sim::start(&[]);
    let printed = json!({"mode": "AK", "access_key_id": sim.id, "access_key_secret": sim.secret});
    let home = tempfile::tempdir().unwrap();
    let script = home.path().join("print-keys.sh");
    write(
        &script,
        &format!("#!/bin/sh\ncat <<'EOF'\n{printed}\nEOF\n"),
    );
    let profiles = json!([{"name": "ext", "mode": "External",
        "process_command": format!("sh {}", script.display())}]);
    write(
        &home.path().join(".aliyun/config.json"),
        &json!({"current": "ext", "profiles": profiles}).to_string(),
    );
    assert_works(&describe_regions(&sim, home.path(), &[]));
}

/// A one-shot-per-request HTTP server on loopback answering every GET with `body`.
fn serve_json(body: String) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/credentials", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        listener.set_nonblocking(false).ok();
        // Serve a few requests, then stop (the test needs one or two).
        for stream in listener.incoming().take(4) {
            let Ok(mut s) = stream else { return };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(reply.as_bytes());
        }
    });
    (url, handle)
}

#[test]
fn credentials_uri_from_env_and_from_a_profile() {
    let sim = Sim::start(&[]);
    let keys = sim.assume("UriRole");
    let body = json!({"Code": "Success", "AccessKeyId": keys["AccessKeyId"],
        "AccessKeySecret": keys["AccessKeySecret"], "SecurityToken": keys["SecurityToken"],
        "Expiration": keys["Expiration"]})
    .to_string();
    let (url, _server) = serve_json(body);
    let home = tempfile::tempdir().unwrap();
    assert_works(&describe_regions(
        &sim,
        home.path(),
        &[("ALIBABA_CLOUD_CREDENTIALS_URI", &url)],
    ));
    let home = home_with_profiles(
        json!([{"name": "uri", "mode": "CredentialsURI", "credentials_uri": url}]),
    );
    assert_works(&describe_regions(&sim, home.path(), &[]));
}

#[test]
fn ini_file_access_key_and_ram_role_arn() {
    let sim = Sim::start(&[]);
    let home = tempfile::tempdir().unwrap();
    write(
        &home.path().join(".alibabacloud/credentials"),
        &format!(
            "[default]\ntype = access_key\naccess_key_id = {}\naccess_key_secret = {}\n\n\
             [deploy]\ntype = ram_role_arn\naccess_key_id = {}\naccess_key_secret = {}\n\
             role_arn = {}\nrole_session_name = ini-session\n",
            sim.id,
            sim.secret,
            sim.id,
            sim.secret,
            role_arn("Deployer")
        ),
    );
    assert_works(&describe_regions(&sim, home.path(), &[]));
    assert_works(&describe_regions(
        &sim,
        home.path(),
        &[("ALIBABA_CLOUD_PROFILE", "deploy")],
    ));
    // credentials.ini (the Python and Java libraries' name) through ALIBABA_CLOUD_CREDENTIALS_FILE.
    let other = tempfile::tempdir().unwrap();
    let ini = other.path().join("credentials.ini");
    write(
        &ini,
        &format!(
            "[default]\ntype = access_key\naccess_key_id = {}\naccess_key_secret = {}\n",
            sim.id, sim.secret
        ),
    );
    assert_works(&describe_regions(
        &sim,
        home.path(),
        &[("ALIBABA_CLOUD_CREDENTIALS_FILE", ini.to_str().unwrap())],
    ));
}

// ---- misconfigurations: the error names the source and the fix ----------------------------

#[test]
fn misconfigurations_name_the_source_and_the_fix() {
    let sim = Sim::start(&[]);
    let home = home_with_profiles(json!([
        {"name": "no-arn", "mode": "RamRoleArn", "access_key_id": sim.id, "access_key_secret": sim.secret},
        {"name": "typo", "mode": "RamRoleARN"},
        {"name": "sso", "mode": "CloudSSO"},
        {"name": "bad-token", "mode": "OIDC", "ram_role_arn": role_arn("CiRole"),
         "oidc_provider_arn": provider_arn(), "oidc_token_file": "/nonexistent/ecsh-token"},
        {"name": "fails", "mode": "External", "process_command": "echo partial; exit 3"},
        {"name": "hangs", "mode": "External", "process_command": "sleep 30"},
        {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "EcsWorker"},
        {"name": "not-my-role", "mode": "RamRoleArn", "access_key_id": sim.id,
         "access_key_secret": sim.secret, "ram_role_arn": "acs:ram::999:role/x"},
    ]));
    let profile = |name: &str, extra: &[(&str, &str)]| {
        let mut env = vec![("ALIBABA_CLOUD_PROFILE", name)];
        env.extend_from_slice(extra);
        describe_regions(&sim, home.path(), &env)
    };
    assert_fails_saying(
        &profile("no-arn", &[]),
        &[
            "profile 'no-arn'",
            "ram_role_arn",
            "aliyun configure --profile no-arn",
        ],
    );
    assert_fails_saying(
        &profile("typo", &[]),
        &["profile 'typo'", "RamRoleARN", "did you mean RamRoleArn?"],
    );
    assert_fails_saying(
        &profile("sso", &[]),
        &["profile 'sso'", "CloudSSO", "browser", "External"],
    );
    assert_fails_saying(
        &profile("bad-token", &[]),
        &[
            "profile 'bad-token' (mode OIDC)",
            "/nonexistent/ecsh-token",
            "cannot be read",
            "token file",
        ],
    );
    assert_fails_saying(
        &profile("fails", &[]),
        &[
            "profile 'fails' (mode External)",
            "exited with status 3",
            "run the command yourself",
        ],
    );
    assert_fails_saying(
        &profile("hangs", &[("ECSH_CREDENTIAL_PROCESS_TIMEOUT", "0.5")]),
        &[
            "profile 'hangs' (mode External)",
            "did not finish within",
            "ECSH_CREDENTIAL_PROCESS_TIMEOUT",
        ],
    );
    // Nothing listens on port 1 of loopback: the metadata service is unreachable.
    assert_fails_saying(
        &profile("ecs", &[("ECSH_METADATA_ENDPOINT", "http://127.0.0.1:1")]),
        &[
            "profile 'ecs' (mode EcsRamRole)",
            "did not answer",
            "ECSH_METADATA_ENDPOINT",
        ],
    );
    assert_fails_saying(
        &profile("not-my-role", &[]),
        &["profile 'not-my-role'", "EntityNotExist.Role", "role ARN"],
    );
    // OIDC variables half set.
    let out = describe_regions(
        &sim,
        home.path(),
        &[("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/x")],
    );
    assert_fails_saying(
        &out,
        &[
            "ALIBABA_CLOUD_ROLE_ARN is set without",
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
        ],
    );
}

// ---- refresh mid-run -------------------------------------------------------------------------

#[test]
fn an_expired_sts_key_is_replaced_mid_run() {
    // At 0.001, the 900-second key lasts 0.9 wall seconds; the script runs for 3, so it
    // outlives at least three keys. Without refreshing, a call fails with
    // InvalidSecurityToken.Expired.
    let sim = Sim::start(&["--time-scale", "0.001"]);
    let home = home_with_profiles(json!([{"name": "role", "mode": "RamRoleArn",
        "access_key_id": sim.id, "access_key_secret": sim.secret,
        "ram_role_arn": role_arn("LongJob"), "expired_seconds": 900}]));
    let script = home.path().join("long.rhai");
    write(
        &script,
        "let t = timestamp(); let n = 0;\n\
         while t.elapsed < 3.0 { let r = call_api(\"ecs\", \"DescribeRegions\", #{}); n += 1; }\n\
         print(`calls: ${n}`);\n",
    );
    let out = ecsh(
        &["--endpoint", &sim.endpoint, "run", script.to_str().unwrap()],
        &[("HOME", home.path().to_str().unwrap())],
    );
    assert!(
        out.status.success() && text(&out.stdout).contains("calls: "),
        "the run did not outlive its STS key:\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

// ---- secrets ------------------------------------------------------------------------------------

/// Every file under `dir`, except `skip`.
fn files(dir: &Path, skip: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if !skip.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn no_secret_in_output_home_or_journal() {
    let sim = Sim::with_metadata("optional");
    let home = tempfile::tempdir().unwrap();
    let token = oidc_token();
    let token_file = home.path().join("oidc-token");
    write(&token_file, &token);
    let printed = json!({"mode": "AK", "access_key_id": sim.id, "access_key_secret": sim.secret});
    let config = home.path().join(".aliyun/config.json");
    write(
        &config,
        &json!({"current": "role", "profiles": [
            {"name": "role", "mode": "RamRoleArn", "access_key_id": sim.id,
             "access_key_secret": sim.secret, "ram_role_arn": role_arn("Deployer")},
            {"name": "ci", "mode": "OIDC", "ram_role_arn": role_arn("CiRole"),
             "oidc_provider_arn": provider_arn(), "oidc_token_file": token_file},
            {"name": "ext", "mode": "External", "process_command": format!("echo '{printed}'")},
            {"name": "ext-broken", "mode": "External", "process_command": format!("echo '{{\"mode\":\"AK\",\"access_key_secret\":\"{}\"}}'", sim.secret)},
            {"name": "ecs", "mode": "EcsRamRole"},
        ]})
        .to_string(),
    );
    let script = home.path().join("s.rhai");
    write(
        &script,
        "let r = call_api(\"ecs\", \"DescribeRegions\", #{}); print(r.Regions.Region.len());\n",
    );
    let md = sim.metadata.clone().unwrap();
    let h = home.path().to_str().unwrap();
    let mut outputs = Vec::new();
    for profile in ["role", "ci", "ext", "ext-broken", "ecs"] {
        let env = [
            ("HOME", h),
            ("ALIBABA_CLOUD_PROFILE", profile),
            ("ECSH_METADATA_ENDPOINT", md.as_str()),
        ];
        for args in [
            vec![
                "--endpoint",
                sim.endpoint.as_str(),
                "run",
                script.to_str().unwrap(),
            ],
            vec!["--endpoint", sim.endpoint.as_str(), "whoami", "--check"],
            vec![
                "--endpoint",
                sim.endpoint.as_str(),
                "--output",
                "json",
                "whoami",
                "--check",
            ],
            vec![
                "--endpoint",
                sim.endpoint.as_str(),
                "call",
                "ecs",
                "DescribeRegions",
                "--dry-run",
            ],
        ] {
            let out = ecsh(&args, &env);
            outputs.push(format!("{}\n{}", text(&out.stdout), text(&out.stderr)));
        }
    }
    assert!(
        outputs
            .iter()
            .any(|o| o.contains("calls") || o.contains("AssumedRoleUser")),
        "nothing ran: {outputs:#?}"
    );
    let mut haystacks = outputs;
    let written = [config.clone(), token_file.clone(), script.clone()];
    let scanned = files(home.path(), &written);
    assert!(
        scanned.iter().any(|p| p.to_string_lossy().contains("ecsh")),
        "no journal was written under HOME: {scanned:?}"
    );
    for p in scanned {
        haystacks.push(String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned());
    }
    // The root secret, the OIDC token (and its signature part), and the simulator's STS
    // tokens (they start with CAIS, like the real service's).
    let signature = token.rsplit('.').next().unwrap().to_string();
    for hay in &haystacks {
        for secret in [
            sim.secret.as_str(),
            token.as_str(),
            signature.as_str(),
            "CAIS",
        ] {
            assert!(!hay.contains(secret), "a secret ({secret}) leaked:\n{hay}");
        }
    }
}

// ---- whoami and the simulator's STS ------------------------------------------------------

#[test]
fn whoami_shows_each_source_used_or_skipped_and_why() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path().to_str().unwrap();
    let out = ecsh(
        &["whoami"],
        &[("HOME", h), ("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for line in [
        "1. profile named explicitly       skipped: neither --profile nor ALIBABA_CLOUD_PROFILE is set",
        "3. config file's current profile  skipped: ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true",
        "5. ECS instance RAM role          skipped: ALIBABA_CLOUD_ECS_METADATA (the role name) is not set",
        "6. credentials URI                skipped: ALIBABA_CLOUD_CREDENTIALS_URI is not set",
    ] {
        assert!(stdout.contains(line), "no `{line}` in:\n{stdout}");
    }
    assert!(
        stdout.contains("the embedded simulator (no credentials configured)"),
        "{stdout}"
    );

    let out = ecsh(
        &["--output", "json", "whoami"],
        &[
            ("HOME", h),
            ("ALIBABA_CLOUD_CREDENTIALS_URI", "http://127.0.0.1:9/creds"),
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let statuses: Vec<&str> = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["skipped", "skipped", "skipped", "skipped", "skipped", "used"],
        "{v:#}"
    );
    assert_eq!(
        v["settings"]["obtained by"], "GET http://127.0.0.1:9/creds",
        "{v:#}"
    );

    // An explicit endpoint without credentials: whoami says what to set; --check refuses.
    let out = ecsh(
        &["--endpoint", "http://127.0.0.1:9", "whoami"],
        &[("HOME", h)],
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("none: http://127.0.0.1:9 is given as the endpoint but no credentials")
            && stdout.contains("ALIBABA_CLOUD_ACCESS_KEY_ID"),
        "{stdout}"
    );
    let out = ecsh(
        &["--endpoint", "http://127.0.0.1:9", "whoami", "--check"],
        &[("HOME", h)],
    );
    assert_fails_saying(
        &out,
        &[
            "no Alibaba Cloud credentials found",
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_simulators_sts_keys_expire_in_simulated_time() {
    let sim = crate::support::start_sim().await;
    let root = Credentials::new(sim.access_key_id(), sim.access_key_secret().expose());
    let client = |creds: Credentials| {
        let mut c = ClientConfig::new(creds, "cn-hangzhou");
        c.endpoint_override = Some(sim.endpoint());
        c.retry.max_attempts = 1;
        Client::new(c).unwrap()
    };
    let params = vec![
        ("RoleArn".to_string(), role_arn("Ops")),
        ("RoleSessionName".to_string(), "s-1".to_string()),
        ("DurationSeconds".to_string(), "900".to_string()),
    ];
    let answer = client(root.clone())
        .call(Product::Sts, "AssumeRole", params)
        .await
        .unwrap();
    let k = &answer["Credentials"];
    let temp = Credentials::new(
        k["AccessKeyId"].as_str().unwrap(),
        k["AccessKeySecret"].as_str().unwrap(),
    )
    .with_security_token(k["SecurityToken"].as_str().unwrap());
    let who = client(temp.clone())
        .call(Product::Sts, "GetCallerIdentity", vec![])
        .await
        .unwrap();
    assert_eq!(
        who["Arn"],
        format!("acs:ram::{ACCOUNT}:assumed-role/Ops/s-1")
    );
    client(temp.clone())
        .call(Product::Ecs, "DescribeRegions", vec![])
        .await
        .unwrap();
    sim.sts().advance(900.0);
    let e = client(temp)
        .call(Product::Ecs, "DescribeRegions", vec![])
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidSecurityToken.Expired"), "{e}");
    // Out-of-range durations and other accounts' roles are refused with the service's codes.
    let bad = vec![
        ("RoleArn".to_string(), role_arn("Ops")),
        ("RoleSessionName".to_string(), "s-1".to_string()),
        ("DurationSeconds".to_string(), "60".to_string()),
    ];
    let e = client(root)
        .call(Product::Sts, "AssumeRole", bad)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameter.DurationSeconds"), "{e}");
}

#[test]
fn a_failing_refresh_is_an_error_naming_the_source_never_another_source() {
    // The process gives STS keys that last 0.9 wall seconds the first time and fails after
    // that; the environment holds valid root keys, which ecsh must not fall back to.
    let sim = Sim::start(&["--time-scale", "0.001"]);
    let keys = sim.assume("Short");
    let home = tempfile::tempdir().unwrap();
    let printed = json!({"mode": "StsToken", "access_key_id": keys["AccessKeyId"],
        "access_key_secret": keys["AccessKeySecret"], "sts_token": keys["SecurityToken"]});
    let once = home.path().join("once.sh");
    let marker = home.path().join("ran");
    write(
        &once,
        &format!(
            "#!/bin/sh\nif [ -e {m} ]; then exit 7; fi\ntouch {m}\ncat <<'EOF'\n{printed}\nEOF\n",
            m = marker.display()
        ),
    );
    write(
        &home.path().join(".aliyun/config.json"),
        &json!({"current": "ext", "profiles": [{"name": "ext", "mode": "External",
            "process_command": format!("sh {}", once.display())}]})
        .to_string(),
    );
    let script = home.path().join("long.rhai");
    write(
        &script,
        "let t = timestamp();\n\
         while t.elapsed < 3.0 { call_api(\"ecs\", \"DescribeRegions\", #{}); }\n",
    );
    let out = ecsh(
        &["--endpoint", &sim.endpoint, "run", script.to_str().unwrap()],
        &[
            ("HOME", home.path().to_str().unwrap()),
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", sim.id.as_str()),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", sim.secret.as_str()),
            ("ALIBABA_CLOUD_PROFILE", "ext"),
        ],
    );
    assert_fails_saying(
        &out,
        &["profile 'ext' (mode External)", "exited with status 7"],
    );
}
