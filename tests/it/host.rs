//! The Rhai host against the real simulator over loopback: every seed function with its
//! bad-input errors, the raw `call`, waits, paging, catchable errors, limits, and the runner's
//! error reports with positions.

use ecsh::host::runner::{self, FailureKind, ScriptFailure};
use ecsh::host::{EngineLimits, Output, Session, WaitPolicy};
use ecsh::ops::Product;
use ecsh::rpc::{Client, ClientConfig, Credentials, RetryPolicy};
use ecsh::sim::clock::TimeMode;
use ecsh::sim::{RunningSim, SimConfig};
use serde_json::{json, Value};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A simulator on loopback (deterministic time: transitions after two observations), a client
/// for it, and captured script output.
pub struct Harness {
    pub rt: tokio::runtime::Runtime,
    /// Kept alive for the test: dropping it stops the simulator.
    _sim: RunningSim,
    pub client: Client,
    pub printed: Arc<Mutex<Vec<String>>>,
    pub warned: Arc<Mutex<Vec<String>>>,
    output: Output,
    pub cancel: Arc<AtomicBool>,
    pub limits: EngineLimits,
    /// Approves every charge (as `--yes`); guard tests put their own prompter here.
    pub guard: Arc<ecsh::guard::Guard>,
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with_sim(|_| {})
    }

    pub fn with_sim(configure: impl FnOnce(&mut SimConfig)) -> Harness {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let sim = rt.block_on(super::support::start_sim_with(|cfg| {
            cfg.world.time = TimeMode::Steps(2);
            configure(cfg);
        }));
        let mut config = ClientConfig::new(
            Credentials::new(sim.access_key_id(), sim.access_key_secret().expose()),
            "cn-hangzhou",
        );
        config.endpoint_override = Some(sim.endpoint());
        config.retry = RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(1),
            cap: Duration::from_millis(5),
        };
        let client = Client::new(config).expect("client");
        let (output, printed, warned) = Output::capture();
        Harness {
            rt,
            _sim: sim,
            client,
            printed,
            warned,
            output,
            cancel: Arc::new(AtomicBool::new(false)),
            limits: EngineLimits::default(),
            guard: Arc::new(ecsh::guard::Guard::new(Box::new(
                ecsh::guard::prompt::AutoApprove,
            ))),
        }
    }

    pub fn session(&self) -> Session {
        Session {
            client: self.client.clone(),
            region: "cn-hangzhou".into(),
            runtime: self.rt.handle().clone(),
            output: self.output.clone(),
            cancel: self.cancel.clone(),
            wait: WaitPolicy {
                first_interval: Duration::from_millis(1),
                factor: 2.0,
                max_interval: Duration::from_millis(10),
                timeout: Duration::from_secs(30),
            },
            limits: self.limits,
            guard: self.guard.clone(),
            ledger: None,
            simulated: Default::default(),
            on_line: None,
            pace: Default::default(),
        }
    }

    /// Runs a script; returns what it printed.
    pub fn run(&self, src: &str) -> Result<Vec<String>, Box<ScriptFailure>> {
        self.run_args("test.rhai", src, vec![])
    }

    pub fn run_args(
        &self,
        name: &str,
        src: &str,
        args: Vec<String>,
    ) -> Result<Vec<String>, Box<ScriptFailure>> {
        self.printed.lock().unwrap().clear();
        runner::run_source(name, src, args, self.session())?;
        Ok(self.printed.lock().unwrap().clone())
    }

    /// Runs a script that must succeed and returns its printed lines.
    pub fn ok(&self, src: &str) -> Vec<String> {
        match self.run(src) {
            Ok(lines) => lines,
            Err(f) => panic!("script failed:\n{}", runner::render_error(&f)),
        }
    }

    /// Runs a script that must fail and returns the failure.
    pub fn fails(&self, src: &str) -> ScriptFailure {
        match self.run(src) {
            Ok(lines) => panic!("script succeeded but should fail; printed {lines:?}\n{src}"),
            Err(f) => *f,
        }
    }

    /// Asks the simulator through its own API (not through the host).
    pub fn api(&self, product: Product, action: &str, params: Value) -> Value {
        let obj = params.as_object().cloned().unwrap_or_default();
        let mut obj = obj;
        obj.entry("RegionId").or_insert(json!("cn-hangzhou"));
        let flat = ecsh::rpc::flatten(
            &obj,
            ecsh::ops::find(product, action).map_or(&[], |a| a.json_params),
        )
        .expect("flatten");
        self.rt
            .block_on(self.client.call(product, action, flat))
            .unwrap_or_else(|e| panic!("{action}: {e}"))
    }

    pub fn instances(&self, region: &str) -> Vec<Value> {
        list(
            &self.api(
                Product::Ecs,
                "DescribeInstances",
                json!({"RegionId": region, "MaxResults": 100}),
            ),
            "Instances",
            "Instance",
        )
    }

    pub fn security_groups(&self, region: &str) -> Vec<Value> {
        list(
            &self.api(
                Product::Ecs,
                "DescribeSecurityGroups",
                json!({"RegionId": region, "MaxResults": 100}),
            ),
            "SecurityGroups",
            "SecurityGroup",
        )
    }

    pub fn vpcs(&self, region: &str) -> Vec<Value> {
        list(
            &self.api(
                Product::Vpc,
                "DescribeVpcs",
                json!({"RegionId": region, "PageSize": 50}),
            ),
            "Vpcs",
            "Vpc",
        )
    }

    pub fn vswitches(&self, region: &str) -> Vec<Value> {
        list(
            &self.api(
                Product::Vpc,
                "DescribeVSwitches",
                json!({"RegionId": region, "PageSize": 50}),
            ),
            "VSwitches",
            "VSwitch",
        )
    }
}

pub fn list(v: &Value, outer: &str, inner: &str) -> Vec<Value> {
    v[outer][inner].as_array().cloned().unwrap_or_default()
}

/// Asserts the failure is a host or API error with `code` whose message contains `text`.
#[track_caller]
pub fn assert_code(f: &ScriptFailure, code: &str, text: &str) {
    assert_eq!(f.code.as_deref(), Some(code), "{}", runner::render_error(f));
    assert!(
        f.message.contains(text),
        "message {:?} lacks {text:?}",
        f.message
    );
}

// --- discovery -------------------------------------------------------------------------------

#[test]
fn describe_regions_and_zones_return_api_shaped_maps() {
    let h = Harness::new();
    let out = h.ok(r#"
        let regions = describe_regions().Regions.Region;
        print(regions.len() > 3);
        let ids = []; for r in regions { ids.push(r.RegionId); }
        print(ids.contains("ap-southeast-1"));
        let zones = describe_zones(#{ region: "cn-shanghai" }).Zones.Zone;
        print(zones[0].ZoneId.starts_with("cn-shanghai-"));
    "#);
    assert_eq!(out, ["true", "true", "true"]);
    let f = h.fails(r#"describe_regions(#{ accept_language: "en-US" })"#);
    assert_code(
        &f,
        "InvalidOption",
        "unknown option 'accept_language' for describe_regions valid: region",
    );
    let f = h.fails(r#"describe_zones(#{ region: "xx-nowhere-1" })"#);
    assert!(
        f.code
            .as_deref()
            .is_some_and(|c| c.starts_with("InvalidRegionId")),
        "{}",
        runner::render_error(&f)
    );
    let f = h.fails(r#"describe_zones(#{ regoin: "cn-shanghai" })"#);
    assert_code(
        &f,
        "InvalidOption",
        "unknown option 'regoin' for describe_zones; did you mean 'region'?",
    );
    assert_eq!((f.line, f.column), (Some(1), Some(1)));
}

#[test]
fn describe_recommend_instance_type_adds_memory_gb_and_checks_exclusive_options() {
    let h = Harness::new();
    let out = h.ok(r#"
        let r = describe_recommend_instance_type(#{ cores: 2, memory: 4.0 });
        let first = r.Data.RecommendInstanceType[0].InstanceType;
        print(first.Cores);
        print(first.MemoryGB);
        print(first.MemoryGB * 1024.0 == first.Memory.to_float());
    "#);
    assert_eq!(out, ["2", "4.0", "true"]);
    let f = h
        .fails(r#"describe_recommend_instance_type(#{ cores: 2, instance_type: "ecs.g7.large" })"#);
    assert_code(&f, "InvalidOption", "either instance_type or cores/memory");
    let f = h.fails(r#"describe_recommend_instance_type(#{ cores: "2" })"#);
    assert_code(
        &f,
        "InvalidOption",
        "'cores' of describe_recommend_instance_type must be an integer, got string",
    );
}

#[test]
fn describe_instance_types_filters_and_pages_with_max_items() {
    let h = Harness::new();
    let out = h.ok(r#"
        let t = describe_instance_types(#{ instance_types: ["ecs.g7.large", "ecs.c7.large"] }).InstanceTypes.InstanceType;
        print(t.len());
        for x in t { if x.InstanceTypeId == "ecs.g7.large" { print(x.MemorySize); } }
        print(describe_instance_types(#{ max_items: 3, page_size: 2 }).InstanceTypes.InstanceType.len());
        let all = describe_instance_types(#{ page_size: 2 }).InstanceTypes.InstanceType.len();
        let one_call = describe_instance_types().InstanceTypes.InstanceType.len();
        print(all == one_call && all > 4);
    "#);
    assert_eq!(out, ["2", "8.0", "3", "true"]);
    let f = h.fails(r#"describe_instance_types(#{ instance_types: "ecs.g7.large" })"#);
    assert_code(
        &f,
        "InvalidOption",
        "must be an array of strings, got string",
    );
    let f = h.fails(r#"describe_instance_types(#{ page_size: 0 })"#);
    assert_code(&f, "InvalidOption", "page_size must be between 1 and 1600");
}

#[test]
fn describe_instance_type_families_lists_families() {
    let h = Harness::new();
    let out = h.ok(r#"
        let f = describe_instance_type_families().InstanceTypeFamilies.InstanceTypeFamily;
        let ids = []; for x in f { ids.push(x.InstanceTypeFamilyId); }
        print(ids.contains("ecs.g7"));
    "#);
    assert_eq!(out, ["true"]);
    let f = h.fails(r#"describe_instance_type_families(#{ generation: 6 })"#);
    assert_code(
        &f,
        "InvalidOption",
        "'generation' of describe_instance_type_families must be a string, got integer",
    );
}

#[test]
fn describe_available_resource_shows_sold_out_zones() {
    let h = Harness::new();
    let out = h.ok(r#"
        let zones = describe_available_resource(#{ instance_type: "ecs.g7.large" }).AvailableZones.AvailableZone;
        for z in zones {
            for r in z.AvailableResources.AvailableResource {
                for s in r.SupportedResources.SupportedResource {
                    if s.Value == "ecs.g7.large" { print(`${z.ZoneId}=${s.Status}`); }
                }
            }
        }
    "#);
    assert!(
        out.contains(&"cn-hangzhou-h=SoldOut".to_string()),
        "{out:?}"
    );
    assert!(
        out.contains(&"cn-hangzhou-i=Available".to_string()),
        "{out:?}"
    );
    let f = h.fails(r#"describe_available_resource(#{ destination: "InstanceType" })"#);
    assert_code(&f, "InvalidOption", "did you mean 'destination_resource'?");
}

#[test]
fn describe_price_quotes_and_rejects_typos_and_mismatched_units() {
    let h = Harness::new();
    let out = h.ok(r#"
        let p = describe_price(#{ instance_type: "ecs.g7.large", period: 1 }).PriceInfo.Price;
        print(p.Currency);
        print(p.TradePrice > 0.0 && p.TradePrice <= p.OriginalPrice);
        let two = describe_price(#{ instance_type: "ecs.g7.large", amount: 2 }).PriceInfo.Price;
        print(two.TradePrice > p.TradePrice);
    "#);
    assert_eq!(out, ["CNY", "true", "true"]);
    let f = h.fails(r#"describe_price(#{ instance_typ: "ecs.g7.large" })"#);
    assert_code(
        &f,
        "InvalidOption",
        "unknown option 'instance_typ' for describe_price; did you mean 'instance_type'?",
    );
    assert!(
        f.message
            .contains("valid: instance_type, period, price_unit"),
        "{}",
        f.message
    );
    let f = h.fails("describe_price()");
    assert_code(
        &f,
        "InvalidOption",
        "missing required option 'instance_type' for describe_price",
    );
    let f = h.fails(r#"describe_price(#{ instance_type: "ecs.g7.large", price_unit: "Month" })"#);
    assert_code(&f, "InvalidOption", "PostPaid is quoted per Hour");
    let f = h.fails(r#"describe_price(#{ instance_type: "ecs.g7.large", period: 1.5 })"#);
    assert_code(&f, "InvalidOption", "must be an integer, got number");
}

#[test]
fn describe_images_by_family_returns_the_latest_image() {
    let h = Harness::new();
    let out = h.ok(r#"
        let imgs = describe_images(#{ image_family: "acs:alibaba_cloud_linux_3_2104_lts_x64" }).Images.Image;
        print(imgs[0].ImageId);
    "#);
    assert_eq!(out, ["aliyun_3_x64_20G_alibase_20250629.vhd"]);
    let f = h.fails(r#"describe_images(#{ image_family: ["acs:ubuntu_24_04_x64"] })"#);
    assert_code(
        &f,
        "InvalidOption",
        "'image_family' of describe_images must be a string, got array",
    );
}

// --- network, security groups ----------------------------------------------------------------

#[test]
fn ensure_vpc_and_vswitch_creates_then_reuses_and_deletes_wait_until_gone() {
    let h = Harness::new();
    let out = h.ok(r#"
        let a = ensure_vpc_and_vswitch(#{ zone_id: "cn-hangzhou-i" });
        print(a.vpc_is_new && a.vswitch_is_new);
        let b = ensure_vpc_and_vswitch(#{ zone_id: "cn-hangzhou-i" });
        print(!b.vpc_is_new && !b.vswitch_is_new && b.vpc_id == a.vpc_id && b.vswitch_id == a.vswitch_id);
        print(a.vpc_id);
    "#);
    assert_eq!(out[..2], ["true", "true"]);
    let vpcs = h.vpcs("cn-hangzhou");
    assert_eq!(vpcs.len(), 1);
    assert_eq!(vpcs[0]["VpcId"], out[2].as_str());
    assert_eq!(vpcs[0]["Status"], "Available");
    h.ok(&format!(
        r#"let v = ensure_vpc_and_vswitch(#{{ zone_id: "cn-hangzhou-i" }});
           delete_vswitch(#{{ vswitch_id: v.vswitch_id }}); delete_vpc(#{{ vpc_id: "{}" }});"#,
        out[2]
    ));
    assert!(h.vpcs("cn-hangzhou").is_empty());
    assert!(h.vswitches("cn-hangzhou").is_empty());
    let f = h.fails("ensure_vpc_and_vswitch()");
    assert_code(
        &f,
        "InvalidOption",
        "missing required option 'zone_id' for ensure_vpc_and_vswitch",
    );
    let f = h.fails(r#"delete_vswitch(#{ vswitch_id: "vsw-1", wait: "yes" })"#);
    assert_code(
        &f,
        "InvalidOption",
        "'wait' of delete_vswitch must be a bool, got string",
    );
    let f = h.fails("delete_vswitch()");
    assert_code(
        &f,
        "InvalidOption",
        "missing required option 'vswitch_id' for delete_vswitch",
    );
    let f = h.fails(r#"delete_vpc(#{ vpc_id: "vpc-nothere" })"#);
    assert!(
        f.code.as_deref().is_some_and(|c| c.contains("NotFound")),
        "{}",
        runner::render_error(&f)
    );
    assert!(f.request_id.is_some());
}

#[test]
fn security_group_functions_create_authorize_and_delete() {
    let h = Harness::new();
    let out = h.ok(r#"
        let net = ensure_vpc_and_vswitch(#{ zone_id: "cn-hangzhou-i" });
        let sg = setup_security_group(#{ vpc_id: net.vpc_id, ingress_rules: [
            #{ port_range: "80/80" }, #{ port_range: "22/22", source_cidr_ip: "203.0.113.5/32" } ] });
        print(type_of(sg));
        let rules = call_api("ecs", "DescribeSecurityGroupAttribute", #{ SecurityGroupId: sg }).Permissions.Permission;
        for r in rules { print(`${r.Direction} ${r.PortRange} ${r.SourceCidrIp}${r.DestCidrIp}`); }
        let sg2 = create_security_group(#{ vpc_id: net.vpc_id, sg_name: "plain", description: "d" });
        authorize_security_group(#{ sg_id: sg2, port_range: "443/443" });
        authorize_security_group_egress(#{ sg_id: sg2 });
        delete_security_group(#{ security_group_id: sg2 });
        print(sg);
    "#);
    assert_eq!(out[0], "string");
    let rules: Vec<&str> = out[1..out.len() - 1].iter().map(String::as_str).collect();
    assert!(rules.contains(&"ingress 80/80 0.0.0.0/0"), "{rules:?}");
    assert!(rules.contains(&"ingress 22/22 203.0.113.5/32"), "{rules:?}");
    assert!(rules.iter().any(|r| r.starts_with("egress ")), "{rules:?}");
    let groups = h.security_groups("cn-hangzhou");
    assert_eq!(groups.len(), 1, "only the setup group is left");
    assert_eq!(groups[0]["SecurityGroupId"], out.last().unwrap().as_str());

    // A typo inside a rule is caught by the rule's own check, and the new group is removed.
    let f = h.fails(
        r#"
        let net = ensure_vpc_and_vswitch(#{ zone_id: "cn-hangzhou-i" });
        setup_security_group(#{ vpc_id: net.vpc_id, ingress_rules: [#{ port: "80/80" }] });
    "#,
    );
    assert_code(
        &f,
        "InvalidOption",
        "unknown option 'port' for authorize_security_group",
    );
    assert_eq!(h.security_groups("cn-hangzhou").len(), 1);
    let f = h.fails(r#"create_security_group(#{ sg_name: "x" })"#);
    assert_code(&f, "InvalidOption", "missing required option 'vpc_id'");
    let f = h.fails(r#"authorize_security_group(#{ sg_id: "sg-x" })"#);
    assert_code(&f, "InvalidOption", "missing required option 'port_range'");
    let f = h.fails(r#"authorize_security_group_egress(#{ sg_id: 5 })"#);
    assert_code(&f, "InvalidOption", "must be a string, got integer");
    let f = h.fails(r#"delete_security_group(#{ security_group: "sg-x" })"#);
    assert_code(&f, "InvalidOption", "did you mean 'security_group_id'?");
    let f = h.fails(r#"setup_security_group(#{ vpc_id: "vpc-x", ingress_rules: "80/80" })"#);
    assert_code(&f, "InvalidOption", "must be an array of maps, got string");
}

// --- instances -------------------------------------------------------------------------------

const NETWORK: &str = r#"
    let net = ensure_vpc_and_vswitch(#{ zone_id: "cn-hangzhou-i" });
    let sg = setup_security_group(#{ vpc_id: net.vpc_id });
    let img = describe_images(#{ image_family: "acs:ubuntu_24_04_x64" }).Images.Image[0].ImageId;
"#;

#[test]
fn run_instances_waits_for_running_and_delete_instances_waits_until_gone() {
    let h = Harness::new();
    let out = h.ok(&format!(
        r#"{NETWORK}
        let r = run_instances(#{{ instance_type: "ecs.c6.large", vswitch_id: net.vswitch_id,
                                  security_group_id: sg, image_id: img, amount: 2 }});
        let ids = r.InstanceIdSets.InstanceIdSet;
        print(ids.len());
        for i in describe_instances(#{{ instance_ids: ids }}).Instances.Instance {{ print(i.Status); }}
        delete_instances(#{{ instance_ids: ids, force: true }});
        print(describe_instances(#{{ instance_ids: ids }}).Instances.Instance.len());
    "#
    ));
    assert_eq!(out, ["2", "Running", "Running", "0"]);
    assert!(h.instances("cn-hangzhou").is_empty());
}

#[test]
fn run_instances_refuses_user_data_in_rust_and_needs_an_image() {
    let h = Harness::new();
    let f = h.fails(r#"run_instances(#{ instance_type: "t", vswitch_id: "v", security_group_id: "s", image_id: "i", user_data: "x" })"#);
    assert_code(&f, "Refused.Policy.UserData", "UserData is forbidden");
    let f = h.fails(r#"run_instances(#{ instance_type: "t", vswitch_id: "v", security_group_id: "s", image_id: "i", extra_params: #{ UserData: "eA==" } })"#);
    assert_code(&f, "Refused.Policy.UserData", "extra_params");
    let f = h.fails(
        r#"run_instances(#{ instance_type: "t", vswitch_id: "v", security_group_id: "s" })"#,
    );
    assert_code(&f, "InvalidOption", "needs image_id or image_family");
    let f = h.fails(r#"run_instances(#{ instance_type: "t" })"#);
    assert_code(&f, "InvalidOption", "missing required option 'vswitch_id'");
    assert!(h.instances("cn-hangzhou").is_empty(), "nothing was sent");
}

#[test]
fn delete_instances_retries_while_initializing() {
    let h = Harness::new();
    let out = h.ok(&format!(
        r#"{NETWORK}
        // The raw call returns at once, while the instance is still Pending.
        let id = call_api("ecs", "RunInstances", #{{ InstanceType: "ecs.c6.large", VSwitchId: net.vswitch_id,
                                                 SecurityGroupId: sg, ImageId: img }}).InstanceIdSets.InstanceIdSet[0];
        try {{
            call_api("ecs", "DeleteInstances", #{{ InstanceId: [id], Force: true }});
            print("deleted at once");
        }} catch (e) {{ print(e.code); }}
        delete_instances(#{{ instance_ids: [id], force: true }});
        print(describe_instances(#{{ instance_ids: [id] }}).Instances.Instance.len());
    "#
    ));
    assert_eq!(out, ["IncorrectInstanceStatus.Initializing", "0"]);
    let f = h.fails("delete_instances(#{ instance_ids: [] })");
    assert_code(&f, "InvalidOption", "instance_ids is empty");
    let f = h.fails("delete_instances(#{ instance_ids: [\"i-1\"], force: \"yes\" })");
    assert_code(
        &f,
        "InvalidOption",
        "'force' of delete_instances must be a bool, got string",
    );
}

#[test]
fn describe_instances_filters_by_status_and_name() {
    let h = Harness::new();
    let out = h.ok(&format!(
        r#"{NETWORK}
        run_instances(#{{ instance_type: "ecs.c6.large", vswitch_id: net.vswitch_id, security_group_id: sg,
                          image_id: img, instance_name: "alpha" }});
        print(describe_instances(#{{ instance_name: "alpha" }}).Instances.Instance.len());
        print(describe_instances(#{{ status: "Stopped" }}).Instances.Instance.len());
        print(describe_instances(#{{ status: "Running", page_size: 1 }}).Instances.Instance[0].InstanceName);
    "#
    ));
    assert_eq!(out, ["1", "0", "alpha"]);
    let f = h.fails("describe_instances(#{ instance_ids: \"i-1\" })");
    assert_code(&f, "InvalidOption", "must be an array of strings");
}

#[test]
fn find_available_instance_type_skips_sold_out_zones_and_prices_the_hit() {
    let h = Harness::new();
    let out = h.ok(r#"
        let s = find_available_instance_type(#{ instance_type: "ecs.g7.large", regions: ["ap-southeast-1", "cn-hangzhou"] });
        print(`${s.instance_type} ${s.region} ${s.zone_id} ${s.cores} ${s.memory} ${s.currency}`);
        print(s.price_per_hour > 0.0);
        let t = find_available_instance_type(#{ cores: 2, memory: 4 });
        print(t.region == "cn-hangzhou" && t.cores == 2);
    "#);
    // ecs.g7.large is sold out in ap-southeast-1-a, so the first zone with stock wins.
    assert_eq!(
        out[0],
        "ecs.g7.large ap-southeast-1 ap-southeast-1-b 2 8.0 CNY"
    );
    assert_eq!(out[1..], ["true", "true"]);
    let f = h.fails("find_available_instance_type(#{ cores: 2 })");
    assert_code(
        &f,
        "InvalidOption",
        "needs instance_type, or cores and memory",
    );
    let f = h.fails(r#"find_available_instance_type(#{ instance_type: "ecs.g8y.large", regions: ["eu-central-1"] })"#);
    assert_code(
        &f,
        "NoStockFound",
        "tried [\"ecs.g8y.large in eu-central-1\"]",
    );
    let f = h.fails(r#"find_available_instance_type(#{ cores: 2, memory: 4, region: ["x"] })"#);
    assert_code(
        &f,
        "InvalidOption",
        "'region' of find_available_instance_type must be a string, got array",
    );
}

#[test]
fn create_instance_with_infra_reports_flags_and_refuses_image_id_and_user_data() {
    let h = Harness::new();
    let out = h.ok(r#"
        let infra = create_instance_with_infra(#{ instance_type: "ecs.c6.large", zone_id: "cn-hangzhou-i",
                                                  internet_max_bandwidth_out: 5 });
        let keys = infra.keys(); keys.sort();
        print(keys);
        print(infra.vpc_is_new && infra.vswitch_is_new);
        print(infra.image_id);
        let again = create_instance_with_infra(#{ instance_type: "ecs.c6.large", zone_id: "cn-hangzhou-i" });
        print(!again.vpc_is_new && again.vpc_id == infra.vpc_id);
    "#);
    assert_eq!(
        out[0],
        r#"["image_id", "instance_id", "instance_type", "region", "security_group_id", "spot_strategy", "vpc_id", "vpc_is_new", "vswitch_id", "vswitch_is_new", "zone_id"]"#
    );
    assert_eq!(
        out[1..],
        ["true", "aliyun_3_x64_20G_alibase_20250629.vhd", "true"]
    );
    let running: Vec<Value> = h.instances("cn-hangzhou");
    assert_eq!(running.len(), 2);
    assert!(running.iter().all(|i| i["Status"] == "Running"));
    for bad in ["image_id", "ImageId", "user_data", "UserData"] {
        let f = h.fails(&format!(r#"create_instance_with_infra(#{{ instance_type: "ecs.c6.large", zone_id: "cn-hangzhou-i", {bad}: "x" }})"#));
        let code = if bad.to_ascii_lowercase().contains("user") {
            "Refused.Policy.UserData"
        } else {
            "Refused.Policy.Option"
        };
        assert_code(&f, code, &format!("does not accept '{bad}'"));
    }
    assert_eq!(
        h.instances("cn-hangzhou").len(),
        2,
        "refusals create nothing"
    );
}

#[test]
fn a_failed_create_releases_what_it_made_and_nostock_is_catchable() {
    let h = Harness::new();
    let out = h.ok(r#"
        try {
            create_instance_with_infra(#{ instance_type: "ecs.g7.large", zone_id: "cn-hangzhou-h" });
        } catch (e) {
            print(e.code);
            print(e.request_id != ());
            print(e.http_status);
            print(e.advice.contains("another zone"));
        }
    "#);
    assert_eq!(out, ["OperationDenied.NoStock", "true", "403", "true"]);
    assert!(h.instances("cn-hangzhou").is_empty());
    assert!(
        h.security_groups("cn-hangzhou").is_empty(),
        "the security group was released"
    );
    assert!(h.vpcs("cn-hangzhou").is_empty(), "the new VPC was released");
    assert!(
        h.vswitches("cn-hangzhou").is_empty(),
        "the new vswitch was released"
    );
}

// --- commands --------------------------------------------------------------------------------

const INSTANCE: &str = r#"
    let infra = create_instance_with_infra(#{ instance_type: "ecs.c6.large", zone_id: "cn-hangzhou-i" });
    let id = infra.instance_id;
"#;

#[test]
fn the_agent_wait_sees_more_agents_than_one_default_page_holds() {
    let h = Harness::new();
    // 12 instances: more than the 10 rows of DescribeCloudAssistantStatus's default page.
    let out = h.ok(&format!(
        r#"{INSTANCE}
        let r = call_api("ecs", "RunInstances", #{{ InstanceType: "ecs.c6.large",
            VSwitchId: infra.vswitch_id, SecurityGroupId: infra.security_group_id,
            ImageId: infra.image_id, Amount: 11 }});
        let ids = r.InstanceIdSets.InstanceIdSet;
        ids.push(id);
        wait_instances(#{{ instance_ids: ids, status: "Running" }});
        wait_cloud_assistant(#{{ instance_ids: ids, timeout: 5 }});
        print(`${{ids.len()}} agents online`);
    "#
    ));
    assert_eq!(out, ["12 agents online"]);
}

#[test]
fn run_command_and_the_invocation_queries() {
    let h = Harness::new();
    let out = h.ok(&format!(
        r#"{INSTANCE}
        wait_cloud_assistant(#{{ instance_ids: [id] }});
        let invoke = run_command(#{{ instance_id: id, command_content: "echo hi" }});
        print(invoke.starts_with("t-"));
        let r = wait_invocation(#{{ invoke_id: invoke, instance_id: id }});
        print(r.InvocationStatus);
        print(r.DecodedOutput.contains("simulator"));
        print(describe_invocations(#{{ invoke_id: invoke }}).Invocations.Invocation[0].InvocationStatus);
        let res = describe_invocation_results(#{{ invoke_id: invoke, instance_id: id }}).Invocation.InvocationResults.InvocationResult[0];
        print(res.DecodedOutput == r.DecodedOutput);
    "#
    ));
    assert_eq!(out, ["true", "Success", "true", "Success", "true"]);
    let f = h.fails(r#"run_command(#{ instance_id: "i-1" })"#);
    assert_code(
        &f,
        "InvalidOption",
        "give command_content (text) or script_path",
    );
    let f = h.fails(
        r#"run_command(#{ instance_id: "i-1", command_content: "x", script_path: "/tmp/x" })"#,
    );
    assert_code(&f, "InvalidOption", "not both");
    let f = h
        .fails(r#"run_command(#{ instance_id: "i-1", script_path: "/nonexistent/ecsh-test.sh" })"#);
    assert_code(
        &f,
        "LocalFile",
        "cannot read script_path '/nonexistent/ecsh-test.sh'",
    );
    let f = h.fails(r#"describe_invocations(#{ invoke: "t-1" })"#);
    assert_code(&f, "InvalidOption", "did you mean 'invoke_id'?");
    let f = h.fails(r#"describe_invocation_results(#{ invoke_id: 1 })"#);
    assert_code(&f, "InvalidOption", "must be a string, got integer");
}

#[test]
fn run_command_on_an_instance_whose_agent_is_not_up_fails_fast() {
    let h = Harness::new();
    let f = h.fails(&format!(
        r#"{INSTANCE}
        let invoke = run_command(#{{ instance_id: id, command_content: "echo hi" }});
        wait_invocation(#{{ invoke_id: invoke, instance_id: id }});
    "#
    ));
    assert_code(&f, "UnexpectedState", "ended Aborted: ClientNotRunning");
}

#[test]
fn run_command_and_wait_keeps_the_instance_and_cleanup_releases_only_new_resources() {
    let h = Harness::new();
    let out = h.ok(&format!(
        r#"{INSTANCE}
        let r = run_command_and_wait(#{{ instance_id: id, command_content: "uptime" }});
        print(r.ExitCode);
        print(describe_instances(#{{ instance_ids: [id] }}).Instances.Instance[0].Status);
        // A second instance in the same (now reused) network, cleaned up with its infra map.
        let second = create_instance_with_infra(#{{ instance_type: "ecs.c6.large", zone_id: "cn-hangzhou-i" }});
        let out = run_command_and_cleanup(#{{ instance_id: second.instance_id, command_content: "uptime", infra: second }});
        print(out.ExitCode);
        print(out.Cleanup.released.len());
        print(out.Cleanup.retained);
    "#
    ));
    assert_eq!(out[..4], ["0", "Running", "0", "2"]);
    assert!(out[4].contains("(reused)"), "{}", out[4]);
    let instances = h.instances("cn-hangzhou");
    assert_eq!(instances.len(), 1, "only the first instance is left");
    assert_eq!(h.security_groups("cn-hangzhou").len(), 1);
    assert_eq!(h.vpcs("cn-hangzhou").len(), 1, "the reused VPC is kept");
    let f = h.fails(r#"run_command_and_wait(#{ command_content: "x" })"#);
    assert_code(
        &f,
        "InvalidOption",
        "missing required option 'instance_id' for run_command_and_wait",
    );
    let f = h.fails(r#"run_command_and_cleanup(#{ instance_id: "i-1", command_content: "x", infra: #{}, vpc_id: "vpc-1" })"#);
    assert_code(&f, "InvalidOption", "give infra or vpc_id, not both");
    let f = h.fails(
        r#"run_command_and_cleanup(#{ instance_id: "i-1", command_content: "x", infra: "i-1" })"#,
    );
    assert_code(
        &f,
        "InvalidOption",
        "'infra' of run_command_and_cleanup must be a map, got string",
    );
}

#[test]
fn run_command_and_cleanup_releases_everything_new() {
    let h = Harness::new();
    let out = h.ok(&format!(
        r#"{INSTANCE}
        let out = run_command_and_cleanup(#{{ instance_id: id, command_content: "echo done", infra: infra }});
        print(out.InvocationStatus);
        print(out.Cleanup.released.len());
        print(out.Cleanup.errors.len());
    "#
    ));
    assert_eq!(out, ["Success", "4", "0"]);
    assert!(h.warned.lock().unwrap().is_empty());
    assert!(h.instances("cn-hangzhou").is_empty());
    assert!(h.security_groups("cn-hangzhou").is_empty());
    assert!(h.vswitches("cn-hangzhou").is_empty());
    assert!(h.vpcs("cn-hangzhou").is_empty());
}

// --- raw call, docs, errors, limits ------------------------------------------------------------

#[test]
fn raw_call_reaches_any_action_and_names_bad_products_and_actions() {
    let h = Harness::new();
    let out = h.ok(r#"
        print(call_api("vpc", "DescribeVpcs").Vpcs.Vpc.len());
        print(call_api("ECS", "DescribeRegions", #{}).Regions.Region.len() > 0);
    "#);
    assert_eq!(out, ["0", "true"]);
    let f = h.fails(r#"call_api("ecz", "DescribeRegions")"#);
    assert_code(
        &f,
        "UnknownAction",
        "unknown product 'ecz'; valid: ecs, vpc",
    );
    let f = h.fails(r#"call_api("ecs", "describe instances")"#);
    assert_code(&f, "UnknownAction", "did you mean 'DescribeInstances'?");
    // (CreateVpc is also served by ECS 2014-05-26; DescribeVpcAttribute is VPC's alone.)
    let f = h.fails(r#"call_api("ecs", "DescribeVpcAttribute")"#);
    assert_code(&f, "UnknownAction", "is a vpc action");
    let f = h.fails(r#"call_api("ecs", "DescribeDedicatedHosts")"#);
    assert!(
        f.code
            .as_deref()
            .is_some_and(|c| c.starts_with("InvalidAction")),
        "{}",
        runner::render_error(&f)
    );
}

#[test]
fn doc_search_and_search_and_format_answer_offline() {
    let h = Harness::new();
    let out = h.ok(r#"
        let hits = doc_search("RunInstances parameter reference", "ecs");
        print(hits[0].title);
        print(doc_search("OperationDenied.NoStock")[0].summary.contains("another zone"));
        let text = search_and_format("DescribeImages ImageFamily", "ecs");
        print(text.contains("DescribeImages"));
        print(doc_search("create_instance_with_infra")[0].kind);
    "#);
    assert_eq!(out, ["RunInstances", "true", "true", "function"]);
    let f = h.fails(r#"doc_search("x", "rds")"#);
    assert_code(&f, "InvalidOption", "valid: ecs, vpc, ecsh");
    let f = h.fails(r#"search_and_format("")"#);
    assert_code(&f, "InvalidOption", "the query is empty");
}

#[test]
fn uncaught_api_errors_render_with_position_code_request_and_advice() {
    let h = Harness::new();
    let src = "let a = 1;\nlet net = ensure_vpc_and_vswitch(#{ zone_id: \"cn-hangzhou-h\" });\n  create_instance_with_infra(#{ instance_type: \"ecs.g7.large\", zone_id: \"cn-hangzhou-h\" });\n";
    let f = h.fails(src);
    assert_eq!(f.kind, FailureKind::Runtime);
    assert_eq!(
        (f.line, f.column),
        (Some(3), Some(3)),
        "position of the call in the user's file"
    );
    let text = runner::render_error(&f);
    assert!(
        text.starts_with("error: test.rhai:3:3: OperationDenied.NoStock: "),
        "{text}"
    );
    assert!(text.contains("request id: "), "{text}");
    assert!(text.contains("advice: "), "{text}");
    assert!(text.contains("in create_instance_with_infra"), "{text}");
    assert_eq!(f.exit_code(), 1);
}

#[test]
fn script_errors_keep_positions_and_thrown_values() {
    let h = Harness::new();
    let f = h.fails("let x = [1];\nfn g(a) { a[5] }\ng(x);\n");
    assert_eq!(
        (f.line, f.column),
        (Some(2), Some(13)),
        "{}",
        runner::render_error(&f)
    );
    assert!(f.message.contains("out of bounds"), "{}", f.message);
    let f = h.fails("\n\nthrow #{ code: \"Mine\", message: \"bad\" };");
    assert_eq!(
        (f.code.as_deref(), f.message.as_str(), f.line),
        (Some("Mine"), "bad", Some(3))
    );
    let f = h.fails("throw \"plain\";");
    assert_eq!((f.code.as_deref(), f.message.as_str()), (None, "plain"));
    let f = h.fails("let y = ;");
    assert_eq!(
        (f.kind, f.exit_code(), f.line),
        (FailureKind::Parse, 2, Some(1))
    );
    let f = h.fails("fn run_command(o) { 1 }\nrun_command(#{});");
    assert_eq!(f.kind, FailureKind::Parse);
    assert!(
        f.message
            .contains("fn run_command, which is a host function"),
        "{}",
        f.message
    );
}

#[test]
fn scripts_see_their_args() {
    let h = Harness::new();
    let out = h
        .run_args(
            "a.rhai",
            "print(ARGS.len()); print(ARGS[1]);",
            vec!["x".into(), "y z".into()],
        )
        .expect("runs");
    assert_eq!(out, ["2", "y z"]);
}

#[test]
fn engine_limits_stop_runaway_scripts_and_lockdown_holds() {
    let mut h = Harness::new();
    h.limits.max_operations = 100_000;
    let f = h.fails("loop { }");
    assert_eq!(f.kind, FailureKind::Limit, "{}", runner::render_error(&f));
    let f = h.fails("fn r(n) { r(n + 1) } r(0);");
    assert_eq!(f.kind, FailureKind::Limit);
    assert!(f.message.contains("Stack overflow"), "{}", f.message);
    h.limits.max_call_levels = 16;
    let f = h.fails("fn r(n) { if n == 0 { 0 } else { 1 + r(n - 1) } } print(r(40));");
    assert_eq!(f.kind, FailureKind::Limit, "{}", runner::render_error(&f));
    h.limits.max_call_levels = 64;
    assert_eq!(
        h.ok("fn r(n) { if n == 0 { 0 } else { 1 + r(n - 1) } } print(r(40));"),
        ["40"]
    );
    let f = h.fails("let s = \"x\"; loop { s += s; }");
    assert_eq!(f.kind, FailureKind::Limit);
    let f = h.fails("eval(\"1\")");
    assert_eq!(f.kind, FailureKind::Parse);
    let f = h.fails("import \"stdlib/network\" as n;");
    assert_eq!(f.kind, FailureKind::Runtime);
    assert!(f.message.starts_with("import is disabled"), "{}", f.message);
}

#[test]
fn the_cancel_flag_interrupts_a_wait_and_cannot_be_caught() {
    let h = Harness::new();
    let mut session = h.session();
    let cancel = h.cancel.clone();
    let printed = h.printed.clone();
    // When the script says it is about to wait, set the flag a little later (as Ctrl-C would).
    session.output.print = Arc::new(move |line: &str| {
        printed.lock().unwrap().push(line.to_string());
        if line == "waiting" {
            let cancel = cancel.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            });
        }
    });
    // A Running instance never becomes Stopped by itself: only the flag ends this wait.
    let src = format!(
        r#"{INSTANCE}
        print("waiting");
        try {{ wait_instances(#{{ instance_ids: [id], status: "Stopped" }}); }} catch (e) {{ print("caught"); }}"#
    );
    let f = runner::run_source("cancel.rhai", &src, vec![], session).expect_err("interrupted");
    assert_eq!(
        f.kind,
        FailureKind::Interrupted,
        "{}",
        runner::render_error(&f)
    );
    assert_eq!(
        f.line,
        Some(6),
        "the wait's line; {}",
        runner::render_error(&f)
    );
    assert_eq!(
        *h.printed.lock().unwrap(),
        ["waiting"],
        "the interrupt was not catchable"
    );
}

#[test]
fn wait_functions_check_their_options_and_time_out_clearly() {
    let h = Harness::new();
    let f = h.fails(&format!(
        r#"{INSTANCE}
        wait_instances(#{{ instance_ids: [id], status: "Stopped", timeout: 1 }});"#
    ));
    assert_code(&f, "WaitTimeout", "to be Stopped after 1.0s; last seen: i-");
    let f = h.fails(r#"wait_instances(#{ instance_ids: ["i-1"], state: "Running" })"#);
    assert_code(&f, "InvalidOption", "did you mean 'status'?");
    let f = h.fails("wait_vswitch()");
    assert_code(&f, "InvalidOption", "missing required option 'vswitch_id'");
    let f = h.fails(r#"wait_invocation(#{ invoke_id: "t-1" })"#);
    assert_code(&f, "InvalidOption", "missing required option 'instance_id'");
    let f = h.fails("wait_cloud_assistant(#{ instance_ids: [1] })");
    assert_code(&f, "InvalidOption", "must be an array of strings");
}

#[test]
fn check_reports_syntax_errors_without_running() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.rhai");
    std::fs::write(&path, "let a = 1;\nlet b = (a + ;\n").unwrap();
    let diags = runner::check_file(&path).unwrap_err();
    assert_eq!(diags[0].line, 2);
    assert!(
        runner::render_diagnostics(&diags).starts_with(&format!("error: {}:2:", path.display()))
    );
    let good = dir.path().join("good.rhai");
    std::fs::write(&good, "describe_regions();").unwrap();
    assert!(runner::check_file(&good).is_ok());
    assert!(runner::check_file(&dir.path().join("missing.rhai")).is_err());
}

#[test]
fn waiting_for_running_fails_fast_when_the_instance_settles_stopped() {
    let h = Harness::new();
    // CreateInstance (unlike RunInstances) ends Stopped: waiting for Running must not time out.
    let f = h.fails(&format!(
        r#"{NETWORK}
        let id = call_api("ecs", "CreateInstance", #{{ InstanceType: "ecs.c6.large", VSwitchId: net.vswitch_id,
                                                       SecurityGroupId: sg, ImageId: img }}).InstanceId;
        wait_instances(#{{ instance_ids: [id], status: "Running", timeout: 600 }});
    "#
    ));
    assert_code(
        &f,
        "UnexpectedState",
        "is Stopped while waiting for it to be Running",
    );
}

#[test]
fn page_number_paging_gathers_every_page_and_honours_max_items() {
    let h = Harness::new();
    let out = h.ok(r#"
        let all = describe_images(#{ page_size: 100 }).Images.Image.len();
        print(all > 3);
        print(describe_images(#{ page_size: 2 }).Images.Image.len() == all);
        print(describe_images(#{ page_size: 2, max_items: 3 }).Images.Image.len());
    "#);
    assert_eq!(out, ["true", "true", "3"]);
    let f = h.fails("describe_images(#{ page_size: 101 })");
    assert_code(
        &f,
        "InvalidOption",
        "page_size must be between 1 and 100 for DescribeImages, got 101",
    );
    let f = h.fails("describe_images(#{ max_items: 0 })");
    assert_code(&f, "InvalidOption", "max_items must be at least 1");
}

#[test]
fn a_script_file_runs_and_a_non_zero_exit_is_a_result_not_an_error() {
    let h = Harness::with_sim(|cfg| cfg.world.exec = ecsh::sim::model::ExecMode::Local);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("task.sh");
    std::fs::write(&path, "echo from-file\nexit 3\n").unwrap();
    let out = h.ok(&format!(
        r#"{INSTANCE}
        let r = run_command_and_wait(#{{ instance_id: id, script_path: "{}" }});
        print(r.InvocationStatus);
        print(r.ExitCode);
        print(r.DecodedOutput);
    "#,
        path.display()
    ));
    assert_eq!(out, ["Failed", "3", "from-file\n"]);
}

#[test]
fn cleanup_errors_are_reported_and_warned_but_do_not_raise() {
    // With a run ledger, as `ecsh run` has: the cleanup goes through the ledger's planner, which
    // releases what the run created and leaves alone (and reports) what it did not.
    let h = Harness::new();
    let journal = tempfile::tempdir().unwrap();
    let mut session = h.session();
    session.ledger = Some(
        ecsh::ledger::start_run(
            &h.client,
            Some(journal.path()),
            "test",
            "sim",
            Default::default(),
            None,
        )
        .unwrap(),
    );
    h.printed.lock().unwrap().clear();
    let script = format!(
        r#"{INSTANCE}
        let out = run_command_and_cleanup(#{{ instance_id: id, command_content: "true",
                                              security_group_id: infra.security_group_id, vpc_id: "vpc-nothere" }});
        print(out.ExitCode);
        print(out.Cleanup.released);
        print(out.Cleanup.errors.len());
    "#
    );
    if let Err(f) = runner::run_source("test.rhai", &script, vec![], session) {
        panic!("script failed:\n{}", runner::render_error(&f));
    }
    let out = h.printed.lock().unwrap().clone();
    assert_eq!(out[0], "0");
    assert!(
        out[1].contains("ECS i-") && out[1].contains("SecurityGroup sg-"),
        "{}",
        out[1]
    );
    assert_eq!(out[2], "1");
    let warned = h.warned.lock().unwrap().clone();
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(
        warned[0].starts_with("cleanup failed: VPC vpc-nothere: not created by this run"),
        "{warned:?}"
    );
}
