//! The guard's quotes against the simulator's real DescribePrice over loopback: the requests the
//! guard builds are accepted, the amounts match a direct quote of the same configuration, and
//! the block shows the catalogue's facts. The guard's reader here is the RPC client itself.

use ecsh::guard::prompt::{Budget, Scripted};
use ecsh::guard::{Admission, Guard, Reader, Via};
use ecsh::ops::{self, Product};
use ecsh::rpc::{self, Client, ClientConfig, Credentials, RetryPolicy};
use ecsh::sim::{self, RunningSim, SimConfig};
use serde_json::{json, Map, Value};
use std::time::Duration;

const REGION: &str = "cn-hangzhou";
const ZONE: &str = "cn-hangzhou-i";

struct Sim {
    rt: tokio::runtime::Runtime,
    _sim: RunningSim,
    client: Client,
}

impl Sim {
    fn start() -> Sim {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let sim = rt
            .block_on(sim::start(SimConfig::embedded()))
            .expect("simulator");
        let mut cfg = ClientConfig::new(
            Credentials::new(sim.access_key_id(), sim.access_key_secret().expose()),
            REGION,
        );
        cfg.endpoint_override = Some(sim.endpoint());
        cfg.retry = RetryPolicy {
            max_attempts: 2,
            base: Duration::from_millis(1),
            cap: Duration::from_millis(2),
        };
        let client = Client::new(cfg).expect("client");
        Sim {
            rt,
            _sim: sim,
            client,
        }
    }

    fn call(
        &self,
        product: Product,
        action: &str,
        params: Map<String, Value>,
    ) -> Result<Value, String> {
        let json_params = ops::find(product, action).map_or(&[][..], |a| a.json_params);
        let flat = rpc::flatten(&params, json_params).map_err(|e| e.to_string())?;
        self.rt
            .block_on(self.client.call(product, action, flat))
            .map_err(|e| e.to_string())
    }
}

impl Reader for &Sim {
    fn read(
        &mut self,
        product: Product,
        action: &str,
        params: Map<String, Value>,
    ) -> Result<Value, String> {
        self.call(product, action, params)
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("test literal is an object"),
    }
}

fn trade_price(sim: &Sim, params: Value) -> f64 {
    let answer = sim
        .call(Product::Ecs, "DescribePrice", obj(params))
        .expect("direct quote");
    answer["PriceInfo"]["Price"]["TradePrice"]
        .as_f64()
        .expect("TradePrice")
}

fn image(sim: &Sim) -> String {
    let images = sim
        .call(
            Product::Ecs,
            "DescribeImages",
            obj(json!({"RegionId": REGION, "ImageFamily": "acs:ubuntu_24_04_x64"})),
        )
        .expect("images");
    images["Images"]["Image"][0]["ImageId"]
        .as_str()
        .expect("ImageId")
        .to_string()
}

#[test]
fn an_instance_quote_is_the_simulators_price_for_the_exact_request() {
    let sim = Sim::start();
    let img = image(&sim);
    let prompter = Scripted::new(&[true]);
    let guard = Guard::new(Box::new(prompter.clone()));
    let mut request = obj(json!({
        "RegionId": REGION, "ZoneId": ZONE, "InstanceType": "ecs.c6.large", "ImageId": img,
        "SystemDisk": {"Category": "cloud_essd", "Size": 60},
        "DataDisk": [{"Category": "cloud_essd", "Size": 100}],
        "InternetMaxBandwidthOut": 10, "InternetChargeType": "PayByBandwidth", "Amount": 3,
        "VSwitchId": "vsw-x", "SecurityGroupId": "sg-x", "estimated_runtime": "2h"
    }));
    let admitted = guard
        .admit(Product::Ecs, "RunInstances", &mut request, &mut &sim)
        .expect("approved");
    let Admission::Approved(decision) = admitted else {
        panic!("a chargeable action was admitted without a decision");
    };
    let direct = trade_price(
        &sim,
        json!({"RegionId": REGION, "ZoneId": ZONE, "InstanceType": "ecs.c6.large", "ImageId": img,
               "SystemDisk.Category": "cloud_essd", "SystemDisk.Size": 60,
               "DataDisk.1.Category": "cloud_essd", "DataDisk.1.Size": 100,
               "InternetMaxBandwidthOut": 10, "InternetChargeType": "PayByBandwidth", "Amount": 3,
               "PriceUnit": "Hour", "Period": 1}),
    );
    assert_eq!(decision.hourly, Some(direct));
    let amount = decision.amount.expect("quoted");
    assert!(
        (amount - direct * 2.0).abs() < 1e-9,
        "{amount} vs {direct} x 2h"
    );
    assert_eq!(decision.currency.as_deref(), Some("CNY"));

    let text = prompter.shown()[0].render();
    for line in [
        "Spec: ecs.c6.large (2 vCPU, 4 GB) x 3 instances",
        "System disk: cloud_essd 60 GB",
        "Data disks: cloud_essd 100 GB",
        "Public bandwidth: 10 Mbps (PayByBandwidth)",
        "Estimated runtime: ~2 hours",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("Image: Ubuntu") && l.contains(&img)),
        "{text}"
    );
}

#[test]
fn subscriptions_are_quoted_for_their_period() {
    let sim = Sim::start();
    let guard = Guard::new(Box::new(Budget::parse("100000").unwrap()));
    let mut request = obj(json!({
        "RegionId": REGION, "ZoneId": ZONE, "InstanceType": "ecs.c6.large",
        "InstanceChargeType": "PrePaid", "Period": 3, "PeriodUnit": "Month"
    }));
    let Ok(Admission::Approved(d)) =
        guard.admit(Product::Ecs, "CreateInstance", &mut request, &mut &sim)
    else {
        panic!("refused: {:?}", guard.decisions());
    };
    let direct = trade_price(
        &sim,
        json!({"RegionId": REGION, "ZoneId": ZONE, "InstanceType": "ecs.c6.large",
               "PriceUnit": "Month", "Period": 3, "Amount": 1}),
    );
    assert_eq!(d.amount, Some(direct));
    assert_eq!(d.hourly, None);
}

#[test]
fn disks_and_elastic_ips_are_quoted_by_the_simulator() {
    let sim = Sim::start();
    let prompter = Scripted::new(&[true, true]);
    let guard = Guard::new(Box::new(prompter.clone()));
    let mut disk = obj(
        json!({"RegionId": REGION, "ZoneId": ZONE, "DiskCategory": "cloud_essd",
                              "Size": 200, "estimated_runtime": "1h"}),
    );
    guard
        .admit(Product::Ecs, "CreateDisk", &mut disk, &mut &sim)
        .expect("disk approved");
    let direct = trade_price(
        &sim,
        json!({"RegionId": REGION, "ZoneId": ZONE, "ResourceType": "disk",
               "DataDisk.1.Category": "cloud_essd", "DataDisk.1.Size": 200,
               "PriceUnit": "Hour", "Period": 1}),
    );
    assert!(direct > 0.0);
    let mut eip =
        obj(json!({"RegionId": REGION, "Bandwidth": 8, "InternetChargeType": "PayByBandwidth"}));
    guard
        .admit(Product::Vpc, "AllocateEipAddress", &mut eip, &mut &sim)
        .expect("eip approved");
    let bandwidth = trade_price(
        &sim,
        json!({"RegionId": REGION, "ResourceType": "bandwidth", "InternetMaxBandwidthOut": 8,
               "InternetChargeType": "PayByBandwidth", "PriceUnit": "Hour", "Period": 1}),
    );
    let d = guard.decisions();
    assert_eq!(d[0].amount, Some(direct));
    assert_eq!(d[1].amount, Some(bandwidth));
    assert!(d.iter().all(|d| d.approved && d.via == Via::Prompt));
    let shown = prompter.shown();
    assert_eq!(shown[0].details[0].1, "cloud_essd 200 GB data disk");
    assert_eq!(shown[1].details[0].1, "8 Mbps, PayByBandwidth");
}

#[test]
fn the_simulators_refusal_to_quote_refuses_the_action() {
    let sim = Sim::start();
    let prompter = Scripted::new(&[true]);
    let guard = Guard::new(Box::new(prompter.clone()));
    let mut request =
        obj(json!({"RegionId": REGION, "ZoneId": ZONE, "InstanceType": "ecs.nope.large"}));
    let err = guard
        .admit(Product::Ecs, "RunInstances", &mut request, &mut &sim)
        .unwrap_err();
    assert_eq!(err.code(), "Refused.QuoteFailed");
    assert!(err.to_string().contains("DescribePrice"), "{err}");
    assert!(prompter.shown().is_empty());
}
