//! Shared helpers for the integration tests: start a simulator on loopback, and sign raw
//! requests to it (v1 and v3) without going through ecsh's client, so protocol tests can
//! send exactly the bytes they mean to.
#![allow(dead_code)]

use ecsh::ops::Product;
use ecsh::rpc::{sign, sign_v3};
use ecsh::sim::clock::TimeMode;
use ecsh::sim::{RunningSim, SimConfig};
use time::OffsetDateTime;

/// An embedded simulator (ephemeral port, random credentials) in deterministic time: each
/// transition happens after one describe call has seen the resource in its current state
/// (`TimeMode::Steps(1)`), so tests are exact and never sleep.
pub async fn start_sim() -> RunningSim {
    start_sim_with(|_| {}).await
}

/// Like [`start_sim`], after `configure` adjusted the config (faults, state file, world
/// options such as `cfg.world.time`, extra credentials).
pub async fn start_sim_with(configure: impl FnOnce(&mut SimConfig)) -> RunningSim {
    let mut cfg = SimConfig::embedded();
    cfg.world.time = TimeMode::Steps(1);
    configure(&mut cfg);
    ecsh::sim::start(cfg).await.expect("the simulator starts")
}

/// `YYYY-MM-DDThh:mm:ssZ` for now + `offset_secs`.
pub fn timestamp(offset_secs: i64) -> String {
    let t = OffsetDateTime::now_utc() + time::Duration::seconds(offset_secs);
    t.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .expect("formats")
}

/// A fresh random nonce.
pub fn nonce() -> String {
    use rand::Rng;
    hex::encode(rand::thread_rng().gen::<[u8; 16]>())
}

/// The common v1 parameters (unsigned) of `action` for `product`, with `extra` added.
pub fn v1_params(
    access_key_id: &str,
    product: Product,
    action: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = [
        ("Action", action),
        ("Version", product.version()),
        ("Format", "JSON"),
        ("AccessKeyId", access_key_id),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    p.push(("SignatureNonce".into(), nonce()));
    p.push(("Timestamp".into(), timestamp(0)));
    p.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    p
}

/// Adds the v1 `Signature` for `method` with `secret`.
pub fn sign_v1(
    method: &str,
    mut params: Vec<(String, String)>,
    secret: &str,
) -> Vec<(String, String)> {
    params.retain(|(k, _)| k != "Signature");
    let signature = sign::sign_v1(method, &params, secret);
    params.push(("Signature".into(), signature));
    params
}

/// `k=v&...` with the RPC percent-encoding.
pub fn encode(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", sign::percent_encode(k), sign::percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A signed v1 GET of `action` with the simulator's own credentials.
pub async fn get_v1(
    sim: &RunningSim,
    product: Product,
    action: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let params = v1_params(sim.access_key_id(), product, action, extra);
    let signed = sign_v1("GET", params, sim.access_key_secret().expose());
    send_query(sim, "GET", &encode(&signed)).await
}

/// Sends `query` (already encoded) with `method` and no body.
pub async fn send_query(sim: &RunningSim, method: &str, query: &str) -> Reply {
    let url = format!("{}/?{query}", sim.endpoint());
    let req = reqwest::Client::new().request(method.parse().expect("method"), url);
    Reply::from(req.send().await.expect("the simulator answers")).await
}

/// A v3 (`ACS3-HMAC-SHA256`) request signed like the Tea SDK signs it: query in the URL,
/// `body` as a form body, action and version in headers.
pub struct V3Request<'a> {
    pub product: Product,
    pub action: &'a str,
    pub query: Vec<(String, String)>,
    pub body: Vec<(String, String)>,
    pub access_key_id: &'a str,
    pub secret: &'a str,
    pub extra_headers: Vec<(String, String)>,
}

impl V3Request<'_> {
    /// The URL query string, body and headers (Authorization included).
    pub fn build(&self, host: &str) -> (String, String, Vec<(String, String)>) {
        let body = encode(&self.body);
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), host.into()),
            ("x-acs-action".into(), self.action.into()),
            ("x-acs-version".into(), self.product.version().into()),
            ("x-acs-date".into(), timestamp(0)),
            ("x-acs-signature-nonce".into(), nonce()),
            (
                "x-acs-content-sha256".into(),
                sign_v3::hex_sha256(body.as_bytes()),
            ),
            ("accept".into(), "application/json".into()),
        ];
        if !body.is_empty() {
            headers.push((
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
        }
        headers.extend(self.extra_headers.iter().cloned());
        let payload = headers[5].1.clone();
        let auth = sign_v3::sign_v3(
            "POST",
            "/",
            &self.query,
            &headers,
            &payload,
            self.access_key_id,
            self.secret,
        );
        headers.push(("authorization".into(), auth));
        (encode(&self.query), body, headers)
    }
}

/// Sends a built v3 request (as POST).
pub async fn send_v3(
    sim: &RunningSim,
    query: &str,
    body: String,
    headers: &[(String, String)],
) -> Reply {
    let mut req = reqwest::Client::new()
        .post(format!("{}/?{query}", sim.endpoint()))
        .body(body);
    for (k, v) in headers.iter().filter(|(k, _)| k != "host") {
        req = req.header(k, v);
    }
    Reply::from(req.send().await.expect("the simulator answers")).await
}

/// What came back: status, JSON body and the headers tests look at.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
    pub retry_after: Option<String>,
}

impl Reply {
    async fn from(resp: reqwest::Response) -> Reply {
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("x-acs-retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = resp.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
        Reply {
            status,
            body,
            retry_after,
        }
    }

    pub fn code(&self) -> &str {
        self.body["Code"].as_str().unwrap_or("")
    }

    pub fn message(&self) -> &str {
        self.body["Message"].as_str().unwrap_or("")
    }

    /// Asserts an error with this status and code, carrying every field of the real error body.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "{:#}",
            self.body
        );
        for field in ["RequestId", "HostId", "Code", "Message", "Recommend"] {
            assert!(
                self.body[field].as_str().is_some_and(|s| !s.is_empty()),
                "missing {field}: {:#}",
                self.body
            );
        }
    }
}

/// The `ecsh` binary as a test runs it: none of the developer's credentials or profile, a
/// home without `~/.aliyun`, `env` applied, and no controlling terminal (a new session), so a
/// confirmation prompt can never reach the developer's terminal.
pub fn ecsh(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    ecsh_with_input(args, env, b"")
}

/// [`ecsh`] with `stdin` written to its standard input (then closed): piped answers.
pub fn ecsh_with_input(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut cmd = ecsh_command(args, env);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("ecsh runs");
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin);
    }
    child.wait_with_output().expect("ecsh finishes")
}

/// The command [`ecsh`] runs, for tests that spawn it and signal it while it runs.
pub fn ecsh_command(args: &[&str], env: &[(&str, &str)]) -> std::process::Command {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ecsh"));
    cmd.args(args).env("HOME", "/nonexistent-ecsh-test-home");
    for var in [
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
        "ALIBABA_CLOUD_PROFILE",
        "ALIBABA_CLOUD_REGION_ID",
        "ALIBABA_CLOUD_ENDPOINT",
        "ALICLOUD_ACCESS_KEY",
        "ALICLOUD_SECRET_KEY",
        "ALICLOUD_SECURITY_TOKEN",
        "ALIBABACLOUD_ACCESS_KEY_ID",
        "ALIBABACLOUD_ACCESS_KEY_SECRET",
        // The rest of the credential chain (issue 13).
        "ALIBABA_CLOUD_ROLE_ARN",
        "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
        "ALIBABA_CLOUD_ROLE_SESSION_NAME",
        "ALIBABA_CLOUD_STS_REGION",
        "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED",
        "ALIBABA_CLOUD_CREDENTIALS_URI",
        "ALIBABA_CLOUD_ECS_METADATA",
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED",
        "ALIBABA_CLOUD_IMDSV1_DISABLED",
        "ALIBABA_CLOUD_CONFIG_FILE",
        "ALIBABA_CLOUD_CLI_PROFILE_DISABLED",
        "ALIBABA_CLOUD_CREDENTIALS_FILE",
        "ECSH_METADATA_ENDPOINT",
        "ECSH_CREDENTIAL_PROCESS_TIMEOUT",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every instance, security group, vswitch and VPC the simulator lists in `region`: its own
/// view, not the ledger's.
pub async fn inventory(client: &ecsh::rpc::Client, region: &str) -> Vec<String> {
    let lists = [
        (
            Product::Ecs,
            "DescribeInstances",
            "Instances.Instance",
            "InstanceId",
            ("MaxResults", "100"),
        ),
        (
            Product::Ecs,
            "DescribeSecurityGroups",
            "SecurityGroups.SecurityGroup",
            "SecurityGroupId",
            ("MaxResults", "100"),
        ),
        (
            Product::Vpc,
            "DescribeVSwitches",
            "VSwitches.VSwitch",
            "VSwitchId",
            ("PageSize", "50"),
        ),
        (
            Product::Vpc,
            "DescribeVpcs",
            "Vpcs.Vpc",
            "VpcId",
            ("PageSize", "50"),
        ),
    ];
    let mut ids = Vec::new();
    for (product, action, list, field, size) in lists {
        let params = vec![
            ("RegionId".to_string(), region.to_string()),
            (size.0.to_string(), size.1.to_string()),
        ];
        let answer = client
            .call(product, action, params)
            .await
            .expect("describe");
        let entries = list.split('.').fold(&answer, |v, k| &v[k]);
        for e in entries.as_array().cloned().unwrap_or_default() {
            ids.push(e[field].as_str().unwrap_or_default().to_string());
        }
    }
    ids.sort();
    ids
}

/// Reads a standalone `ecsh sim`'s banner from its stdout up to the `endpoint:` line and
/// returns that endpoint; the rest of stdout is drained on a thread, so the simulator never
/// writes to a closed pipe. `None` when it exited without printing one.
pub fn sim_endpoint(stdout: std::process::ChildStdout) -> Option<String> {
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok);
    let endpoint = lines
        .by_ref()
        .find_map(|l| l.strip_prefix("endpoint:").map(|e| e.trim().to_string()));
    std::thread::spawn(move || lines.for_each(drop));
    endpoint
}

/// A background `ecsh` (a run, a REPL fed nothing): its stdout lines delivered as they come,
/// its stderr collected for the end.
pub struct Running {
    pub child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Running {
    /// Spawns `cmd` with stdout and stderr piped.
    pub fn spawn(mut cmd: std::process::Command) -> Running {
        use std::io::BufRead;
        use std::process::Stdio;
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ecsh starts");
        let (tx, lines) = std::sync::mpsc::channel();
        let out = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        let err = child.stderr.take().expect("stderr");
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut std::io::BufReader::new(err), &mut s);
            s
        });
        Running {
            child,
            lines,
            stderr: Some(stderr),
        }
    }

    /// Waits for a stdout line containing `what`.
    pub fn wait_for(&self, what: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) if l.contains(what) => return l,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        panic!("the run never printed {what}");
    }

    pub fn signal(&self, sig: libc::c_int) {
        let pid = i32::try_from(self.child.id()).expect("pid");
        // SAFETY: signals our own child process.
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "signal {sig} delivered");
    }

    /// Waits for the exit: (exit code, or the killing signal as 1000 + n; stderr).
    pub fn finish(mut self) -> (i32, String) {
        use std::os::unix::process::ExitStatusExt;
        let status = self.child.wait().expect("ecsh ends");
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        let code = status
            .code()
            .unwrap_or_else(|| 1000 + status.signal().unwrap_or(0));
        (code, stderr)
    }
}
