//! The REPL through a pseudo-terminal: the real `ecsh` binary, driven as a user would — typing,
//! Tab, Ctrl-D — against the simulator (embedded with `--cloud sim`, or in-process on loopback
//! when the test must look at the simulator's state afterwards).

use ecsh::ops::Product;
use ecsh::rpc::{Client, ClientConfig, Credentials};
use ecsh::sim::server::{start, RunningSim, SimConfig};
use expectrl::{ControlCode, Regex, Session};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Generous: a failing expectation should fail the test, not hang it; passing runs take far less.
const PATIENCE: Duration = Duration::from_secs(60);
const PROMPT: &str = "ecsh> ";

struct Repl {
    pty: Session,
    _home: tempfile::TempDir,
}

/// The environment every REPL under test gets: its own HOME (no real profile or journal), the
/// given history file, no credentials from the surroundings.
fn command(history: &Path, home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecsh"));
    cmd.args(args)
        .env("ECSH_HISTORY", history)
        .env("HOME", home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("TERM", "xterm")
        .env("COLUMNS", "160");
    for var in [
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
        "ALIBABA_CLOUD_PROFILE",
        "ALIBABA_CLOUD_ENDPOINT",
        "ALICLOUD_ACCESS_KEY",
        "ALICLOUD_SECRET_KEY",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn spawn(cmd: Command, home: tempfile::TempDir) -> Repl {
    let mut pty = Session::spawn(cmd).expect("spawn ecsh in a pty");
    pty.set_expect_timeout(Some(PATIENCE));
    // Wide enough that typed lines never wrap (wrapping makes the editor redraw the prompt).
    pty.get_process_mut()
        .set_window_size(250, 60)
        .expect("set the terminal size");
    let mut repl = Repl { pty, _home: home };
    repl.expect(PROMPT);
    repl
}

/// A REPL on the embedded simulator.
fn repl_on_embedded_sim(history: &Path) -> Repl {
    let home = tempfile::tempdir().expect("temp home");
    let cmd = command(history, home.path(), &["--cloud", "sim"]);
    spawn(cmd, home)
}

impl Repl {
    /// Waits for `text`; returns what came before it. The editor redraws the prompt while a line
    /// is typed, so tests wait for what an entry prints, never for the prompt alone.
    fn expect(&mut self, text: &str) -> String {
        match self.pty.expect(text) {
            Ok(found) => String::from_utf8_lossy(found.before()).into_owned(),
            Err(e) => panic!("expected {text:?} from the REPL: {e}"),
        }
    }

    /// Waits for a match of `re`; returns the match.
    fn expect_regex(&mut self, re: &str) -> String {
        match self.pty.expect(Regex(re)) {
            Ok(found) => String::from_utf8_lossy(&found[0]).into_owned(),
            Err(e) => panic!("expected /{re}/ from the REPL: {e}"),
        }
    }

    fn line(&mut self, text: &str) {
        self.pty.send_line(text).expect("type a line");
    }

    fn keys(&mut self, text: &str) {
        self.pty.send(text).expect("type keys");
    }

    /// Types `text` + Enter, waits for output matching `re` and then for the next prompt.
    /// Returns the match.
    fn enter(&mut self, text: &str, re: &str) -> String {
        self.line(text);
        let found = self.expect_regex(re);
        self.expect(PROMPT);
        found
    }

    fn ctrl_c(&mut self) {
        self.pty.send(ControlCode::EndOfText).expect("Ctrl-C");
    }

    fn ctrl_d(&mut self) {
        self.pty
            .send(ControlCode::EndOfTransmission)
            .expect("Ctrl-D");
    }

    fn wait_exit(mut self) {
        self.pty.expect(expectrl::Eof).expect("ecsh exits");
    }
}

fn history_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("history");
    (dir, path)
}

#[test]
fn history_is_kept_across_sessions_without_secrets() {
    let (_dir, history) = history_file();
    let mut first = repl_on_embedded_sim(&history);
    first.enter(
        "let greeting = \"hello from the first session\"; greeting.len()",
        r"\r\n28\r\n",
    );
    first.enter(
        "let access_key_secret = \"not-for-the-file\"",
        "not saved in history",
    );
    first.ctrl_d();
    first.wait_exit();

    let saved = std::fs::read_to_string(&history).expect("history written");
    assert!(saved.contains("hello from the first session"), "{saved}");
    assert!(
        !saved.contains("not-for-the-file"),
        "a secret reached the history file"
    );

    let mut second = repl_on_embedded_sim(&history);
    second.keys("\x1b[A"); // ↑ recalls the last entry the first session saved
    second.keys("\r");
    second.expect_regex(r"\r\n28\r\n");
    second.expect(PROMPT);
    second.enter("greeting", "hello from the first session");
    second.ctrl_d();
    second.wait_exit();
}

#[test]
fn a_closure_typed_over_several_lines() {
    let (_dir, history) = history_file();
    let mut repl = repl_on_embedded_sim(&history);
    repl.line("let triple = |x| {");
    repl.line("  x * 3");
    repl.line("}; triple.call(14)");
    repl.expect_regex(r"\r\n42\r\n");
    repl.expect(PROMPT);
    repl.enter("triple.call(5) + 1", r"\r\n16\r\n");
    repl.line(":quit");
    repl.wait_exit();
}

#[test]
fn tab_completes_a_function_name_and_an_option_key() {
    let (_dir, history) = history_file();
    let mut repl = repl_on_embedded_sim(&history);
    // `describe_regi` + Tab must become `describe_regions`, or the call below fails.
    repl.keys("describe_regi\t");
    repl.keys("().Regions.Region.len() > 0\r");
    repl.expect_regex(r"\r\ntrue\r\n");
    repl.expect(PROMPT);
    // `instance_ty` + Tab inside the map must become `instance_type: `.
    repl.keys("type_of(describe_price(#{ instance_ty\t");
    repl.keys("\"ecs.g7.large\" }).PriceInfo)\r");
    repl.expect_regex(r"\r\nmap\r\n");
    repl.expect(PROMPT);
    repl.line(":quit");
    repl.wait_exit();
}

#[test]
fn help_for_a_function_shows_options_and_an_example() {
    let (_dir, history) = history_file();
    let mut repl = repl_on_embedded_sim(&history);
    repl.line("help(\"describe_price\")");
    repl.expect("Options:");
    repl.expect_regex(r"instance_type +string +required");
    repl.expect("Example:");
    repl.expect(PROMPT);
    repl.enter(
        "help()",
        r"3\. Price Quote and Cost Confirmation\r\n +describe_price",
    );
    repl.line(":quit");
    repl.wait_exit();
}

#[test]
fn arrays_of_maps_print_as_tables() {
    let (_dir, history) = history_file();
    let mut repl = repl_on_embedded_sim(&history);
    repl.line("describe_regions().Regions.Region");
    // Key columns first: the id, the name, the status; the rest after them.
    repl.expect_regex(r"RegionId +LocalName +Status +RegionEndpoint\r\n─+  ─+  ─+  ─+\r\n");
    repl.expect_regex(r"cn-hangzhou +\S+ +available +ecs\.cn-hangzhou\.aliyuncs\.com\r\n");
    repl.expect(PROMPT);
    repl.line(":quit");
    repl.wait_exit();
}

#[test]
fn an_api_error_is_shown_and_the_session_goes_on() {
    let (_dir, history) = history_file();
    let mut repl = repl_on_embedded_sim(&history);
    repl.enter("let kept = 7; kept", r"\r\n7\r\n");
    repl.enter(
        "call_api(\"vpc\", \"DeleteVpc\", #{ VpcId: \"vpc-doesnotexist\" })",
        r"error: repl:1:1: InvalidVpcId\.NotFound: [^\r]*\r\n +request id: ",
    );
    repl.enter(
        "describe_instance_types(#{ instance_typ: \"ecs.g7.large\" })",
        r"unknown option 'instance_typ'",
    );
    repl.enter("kept * 6", r"\r\n42\r\n");
    repl.line(":quit");
    repl.wait_exit();
}

#[test]
fn ctrl_c_cancels_the_line_or_the_running_entry_not_the_session() {
    let (_dir, history) = history_file();
    let mut repl = repl_on_embedded_sim(&history);
    repl.keys("this line is abandoned");
    repl.expect("abandoned");
    repl.ctrl_c();
    repl.expect(PROMPT);
    repl.enter("let n = 0; 5", r"\r\n5\r\n");
    // The entry announces itself (in words its echo does not contain), so Ctrl-C arrives
    // while it runs.
    repl.line("print(\"looping\" + \" now\"); loop { n += 1; }");
    repl.expect("looping now");
    repl.ctrl_c();
    repl.expect("interrupted (Ctrl-C or a stop signal)");
    repl.expect(PROMPT);
    repl.enter("n > 0", r"\r\ntrue\r\n");
    repl.line(":quit");
    repl.wait_exit();
}

/// A simulator in this process, so the test can check what is left after the REPL exits.
struct LocalSim {
    runtime: tokio::runtime::Runtime,
    sim: RunningSim,
}

impl LocalSim {
    fn start() -> LocalSim {
        let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
        let sim = runtime
            .block_on(start(SimConfig::embedded()))
            .expect("simulator starts");
        LocalSim { runtime, sim }
    }

    fn repl(&self, history: &Path, extra: &[&str]) -> Repl {
        let home = tempfile::tempdir().expect("temp home");
        let endpoint = self.sim.endpoint();
        let mut args = vec!["--cloud", "aliyun", "--endpoint", &endpoint];
        args.extend_from_slice(&["--region", "cn-hangzhou"]);
        args.extend_from_slice(extra);
        let mut cmd = command(history, home.path(), &args);
        cmd.env("ALIBABA_CLOUD_ACCESS_KEY_ID", self.sim.access_key_id())
            .env(
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                self.sim.access_key_secret().expose(),
            );
        spawn(cmd, home)
    }

    fn call(&self, product: Product, action: &str, params: &[(&str, &str)]) -> serde_json::Value {
        let credentials = Credentials::new(
            self.sim.access_key_id(),
            self.sim.access_key_secret().expose(),
        );
        let mut config = ClientConfig::new(credentials, "cn-hangzhou");
        config.endpoint_override = Some(self.sim.endpoint());
        let client = Client::new(config).expect("client");
        let params = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.runtime
            .block_on(client.call(product, action, params))
            .unwrap_or_else(|e| panic!("{action} failed: {e}"))
    }

    fn vpc_ids(&self) -> Vec<String> {
        let r = self.call(Product::Vpc, "DescribeVpcs", &[("RegionId", "cn-hangzhou")]);
        r["Vpcs"]["Vpc"]
            .as_array()
            .map(|vpcs| {
                vpcs.iter()
                    .filter_map(|v| v["VpcId"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[test]
fn a_chargeable_call_asks_for_confirmation_first() {
    let sim = LocalSim::start();
    let (_dir, history) = history_file();
    let mut repl = sim.repl(&history, &[]);
    repl.line(
        "let r = run_instances(#{ instance_type: \"ecs.g7.large\", image_id: \"ubuntu_24_04_x64\", \
         security_group_id: \"sg-none\", vswitch_id: \"vsw-none\" })",
    );
    repl.expect("Estimated total cost: CNY");
    repl.expect("Proceed with creation? [y/N]");
    repl.line("n");
    repl.expect_regex(r"RunInstances was not approved, nothing was sent");
    repl.expect(PROMPT);
    let instances = sim.call(
        Product::Ecs,
        "DescribeInstances",
        &[("RegionId", "cn-hangzhou")],
    );
    assert_eq!(
        instances["TotalCount"], 0,
        "nothing was created: {instances}"
    );
    repl.enter("40 + 2", r"\r\n42\r\n");
    repl.line(":quit");
    repl.wait_exit();
}

#[test]
fn leaving_asks_and_releases_what_the_session_created() {
    let sim = LocalSim::start();
    let before = sim.vpc_ids();
    let (_dir, history) = history_file();
    let mut repl = sim.repl(&history, &[]);
    let vpc_id = repl.enter(
        "call_api(\"vpc\", \"CreateVpc\", #{ CidrBlock: \"10.0.0.0/16\" }).VpcId",
        r"vpc-[0-9a-z]+",
    );
    assert!(sim.vpc_ids().contains(&vpc_id), "created in the simulator");

    repl.ctrl_d();
    repl.expect("Release them (r), keep them (k), or cancel and stay (c)?");
    repl.line("c");
    repl.expect(PROMPT);
    assert!(
        sim.vpc_ids().contains(&vpc_id),
        "cancel keeps the session and the VPC"
    );

    repl.line(":quit");
    repl.expect("Release them (r)");
    repl.line("r");
    repl.expect_regex(&format!("released: VPC {vpc_id}"));
    repl.wait_exit();
    assert_eq!(sim.vpc_ids(), before, "the session's VPC was released");
}

#[test]
fn help_in_the_repl_is_what_ecsh_help_prints() {
    let cli = Command::new(env!("CARGO_BIN_EXE_ecsh"))
        .args(["help", "keep"])
        .env("COLUMNS", "250")
        .output()
        .expect("ecsh help");
    let expected = String::from_utf8_lossy(&cli.stdout).trim_end().to_string();
    assert!(
        expected.starts_with("keep(id: string, [options: map]) -> array"),
        "{expected}"
    );
    let last = expected.lines().last().expect("a last line").to_string();
    let (_dir, history) = history_file();
    let mut repl = repl_on_embedded_sim(&history);
    repl.line(r#"help("keep")"#);
    let shown = format!("{}{last}", repl.expect(&last)).replace("\r\n", "\n");
    assert!(
        shown.ends_with(&expected),
        "REPL:\n{shown}\nCLI:\n{expected}"
    );
    repl.expect(PROMPT);
    repl.line("help()");
    let listing = repl.expect("Rhai's standard library").replace("\r\n", "\n");
    for name in ["keep", "scope", "ledger", "call_api", "doc_search"] {
        assert!(
            listing.contains(&format!("\n  {name} ")),
            "{name}: {listing}"
        );
    }
    assert!(!listing.contains("core::"), "{listing}");
    repl.expect(PROMPT);
    repl.line(":quit");
    repl.wait_exit();
}

#[test]
fn the_repl_names_missing_properties_and_how_to_call_functions() {
    let (_dir, history) = history_file();
    let mut repl = repl_on_embedded_sim(&history);
    repl.enter(
        "describe_regions().Regions.Regoin",
        r"no property 'Regoin' in this map",
    );
    repl.enter("let x = describe_regions(); x.len()", r"\r\n2\r\n");
    repl.enter(
        "x.Regions.Regoin",
        r"no property 'Regoin' in this map; did you mean 'Region'\? it has: Region\.",
    );
    repl.enter(
        r#"describe_zones("cn-hangzhou")"#,
        r"`describe_zones` cannot be called with \(string\); call it as describe_zones\(#\{",
    );
    repl.enter("describe_zone(#{})", r"did you mean `describe_zones`");
    repl.line(":quit");
    repl.wait_exit();
}
