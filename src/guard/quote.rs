//! Quoting: for a chargeable request, the host builds the DescribePrice request for exactly that
//! request, sends it, and turns the answer into a [`CostBlock`].
//!
//! Which row applies is the registry's `pricing` of the action (`ops::Pricing`).
//!
//! | request | DescribePrice |
//! |---|---|
//! | RunInstances / CreateInstance | `ResourceType=instance`, InstanceType, ZoneId, ImageId, SystemDisk.*, DataDisk.N.*, InternetChargeType, InternetMaxBandwidthOut, SpotStrategy/SpotDuration, Amount (CreateInstance: 1); PostPaid → `PriceUnit=Hour, Period=1`; PrePaid → `PriceUnit=PeriodUnit` (default Month), `Period`; spot: the market price, or `SpotPriceLimit` as the worst case ([`super::spot`]) |
//! | CreateDisk | `ResourceType=disk`, `DataDisk.1.{Category,Size,PerformanceLevel}` from DiskCategory/Size/PerformanceLevel, ZoneId, hourly |
//! | AllocateEipAddress | `ResourceType=bandwidth`, InternetMaxBandwidthOut = Bandwidth (EIP default 5), InternetChargeType (EIP default PayByBandwidth), hourly |
//! | ResizeDisk, CreateSnapshot, CreateImage | see `quote/storage.rs` (issue 15) |
//! | AllocatePublicIpAddress | `ResourceType=bandwidth` with the instance's own InternetMaxBandwidthOut/InternetChargeType (read with DescribeInstances) |
//! | ModifyInstanceSpec | the instance (DescribeInstances) quoted as `ResourceType=instance` with the new InstanceType, hourly; the block also shows the current type's hourly price and the difference; a bandwidth-only change is unpriced |
//! | StartInstance / StartInstances (`resumes_billing`) | each named instance stopped in StopCharging mode (pay-as-you-go), quoted like the instance it is, one block each; none: no question |
//! | any other chargeable action | cannot be quoted: the block says so and carries no estimate |
//!
//! The price returned (`PriceInfo.Price.TradePrice`) is for the whole amount and one price unit.
//! Pay-as-you-go: total = hourly price × estimated hours ([`Runtime`]); subscription: total = the
//! price of the period. A quote that fails is an error: the caller refuses the action, it never
//! sends it unquoted. The instance type's vCPU/memory and the image's name are looked up for the
//! block; if those lookups fail, the block shows the raw names and says so (the price is what
//! decides).
//!
//! This module sends only read requests, through the [`Reader`] it is given; it never prompts
//! and never sends the chargeable request itself.

mod storage;

use super::block::{format_estimate, format_price, CostBlock, Money};
use super::params::Flat;
use super::policy::{canonical, canonical_eq};
use super::runtime::{Runtime, MINIMUM_CHARGE};
use crate::ops::{self, Pricing as Kind, Product, A};
use serde_json::{Map, Value};

/// Sends a read-only request (DescribePrice, DescribeInstanceTypes, DescribeImages,
/// DescribeInstances) and returns the response body, or why it failed. The gateway implements
/// it by sending through the RPC client directly.
pub trait Reader {
    fn read(
        &mut self,
        product: Product,
        action: &str,
        params: Map<String, Value>,
    ) -> Result<Value, String>;
}

impl<F> Reader for F
where
    F: FnMut(Product, &str, Map<String, Value>) -> Result<Value, String>,
{
    fn read(
        &mut self,
        product: Product,
        action: &str,
        params: Map<String, Value>,
    ) -> Result<Value, String> {
        self(product, action, params)
    }
}

/// How a chargeable request is quoted: the registry's `pricing` of the action it names
/// (compared as the guard compares names, so `runinstances` is RunInstances); `Unpriced` for
/// an action the registry does not price.
fn kind_of(action: &str) -> Kind {
    let canon = canonical(action);
    ops::ACTIONS
        .iter()
        .find(|a| a.chargeable && canonical_eq(a.name, &canon))
        .map_or(Kind::Unpriced, |a| a.pricing)
}

/// Sends one of the registry's read actions through `reader`.
fn read(
    reader: &mut dyn Reader,
    action: &ops::Action,
    params: Map<String, Value>,
) -> Result<Value, String> {
    reader.read(action.product, action.name, params)
}

/// Builds the cost block for a chargeable request, quoting it through `reader`.
/// `Err` carries why it could not be quoted; the action must then be refused.
pub fn quote(
    product: Product,
    action: &str,
    params: &Flat,
    runtime: &Runtime,
    reader: &mut dyn Reader,
) -> Result<CostBlock, String> {
    match kind_of(action) {
        Kind::Instances { one } => instances(action, params, one, runtime, reader),
        Kind::Disk => disk(action, params, runtime, reader),
        Kind::Eip => {
            let bandwidth = params.get("Bandwidth").unwrap_or("5");
            let charge = params.get("InternetChargeType").unwrap_or("PayByBandwidth");
            if let Some(c) = params.get("InstanceChargeType") {
                if !c.eq_ignore_ascii_case("PostPaid") {
                    return Err(format!(
                        "ecsh quotes only pay-as-you-go EIPs; InstanceChargeType `{c}` cannot be \
                         quoted (allocate a PostPaid EIP, or approve a subscription in the console)"
                    ));
                }
            }
            let line = format!("{bandwidth} Mbps, {charge}");
            bandwidth_block(action, params, &line, bandwidth, charge, runtime, reader)
        }
        Kind::PublicIp => public_ip(action, params, runtime, reader),
        Kind::InstanceSpec => spec_change(product, action, params, runtime, reader),
        Kind::ResizeDisk => storage::resize_disk(action, params, runtime, reader),
        Kind::Snapshot => storage::snapshot(action, params, runtime, reader),
        Kind::Image => storage::image(action, params, runtime, reader),
        Kind::Unpriced => Ok(unpriced(product, action, params)),
    }
}

/// Reads a field, or says which one is missing and why it matters.
fn need<'a>(params: &'a Flat, key: &str, action: &str) -> Result<&'a str, String> {
    params
        .get(key)
        .ok_or_else(|| format!("{action} has no {key}, so its price cannot be quoted; give {key}"))
}

fn positive_int(params: &Flat, key: &str, default: u64) -> Result<u64, String> {
    match params.get(key) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| format!("{key} `{}` is not a whole number of at least 1", esc(v))),
    }
}

fn esc(s: &str) -> String {
    super::block::escape(s)
}

fn put(m: &mut Map<String, Value>, key: &str, value: impl Into<String>) {
    m.insert(key.to_string(), Value::String(value.into()));
}

/// Copies `keys` that are present in `from` into `to`, under their canonical spelling.
fn copy(from: &Flat, to: &mut Map<String, Value>, keys: &[&str]) {
    for k in keys {
        if let Some(v) = from.get(k) {
            put(to, k, v);
        }
    }
}

/// How a request is billed: pay-as-you-go per hour, or a subscription of `period` units.
#[derive(Clone, Debug, PartialEq)]
enum Billing {
    Hourly,
    Subscription { period: u64, unit: &'static str },
}

fn billing_of(params: &Flat) -> Result<Billing, String> {
    let charge = params.get("InstanceChargeType").unwrap_or("PostPaid");
    if charge.eq_ignore_ascii_case("PostPaid") {
        return Ok(Billing::Hourly);
    }
    if !charge.eq_ignore_ascii_case("PrePaid") {
        return Err(format!(
            "InstanceChargeType `{}` is not PostPaid or PrePaid, so it cannot be quoted",
            esc(charge)
        ));
    }
    let period = params
        .get("Period")
        .ok_or("a PrePaid (subscription) request needs Period (and PeriodUnit) to be quoted")?;
    let period = period
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| {
            format!(
                "Period `{}` is not a whole number of at least 1",
                esc(period)
            )
        })?;
    let unit = match params.get("PeriodUnit").unwrap_or("Month") {
        u if u.eq_ignore_ascii_case("Week") => "Week",
        u if u.eq_ignore_ascii_case("Month") => "Month",
        u if u.eq_ignore_ascii_case("Year") => "Year",
        u => {
            return Err(format!(
                "PeriodUnit `{}` is not Week, Month or Year, so it cannot be quoted",
                esc(u)
            ))
        }
    };
    Ok(Billing::Subscription { period, unit })
}

impl Billing {
    fn apply(&self, m: &mut Map<String, Value>) {
        match self {
            Billing::Hourly => {
                put(m, "PriceUnit", "Hour");
                put(m, "Period", "1");
            }
            Billing::Subscription { period, unit } => {
                put(m, "PriceUnit", *unit);
                put(m, "Period", period.to_string());
            }
        }
    }
}

/// The DescribePrice request for RunInstances / CreateInstance.
pub fn instance_price_request(
    params: &Flat,
    action: &str,
    one: bool,
) -> Result<Map<String, Value>, String> {
    let mut m = Map::new();
    put(&mut m, "RegionId", need(params, "RegionId", action)?);
    put(&mut m, "ResourceType", "instance");
    put(
        &mut m,
        "InstanceType",
        need(params, "InstanceType", action)?,
    );
    copy(
        params,
        &mut m,
        &[
            "ZoneId",
            "ImageId",
            "SystemDisk.Category",
            "SystemDisk.Size",
            "SystemDisk.PerformanceLevel",
            "InternetChargeType",
            "InternetMaxBandwidthOut",
            "SpotStrategy",
            "SpotDuration",
            "IoOptimized",
        ],
    );
    for n in params.indices("DataDisk") {
        let disk = params.element("DataDisk", n);
        for field in ["Category", "Size", "PerformanceLevel"] {
            if let Some(v) = disk.get(field) {
                put(&mut m, &format!("DataDisk.{n}.{field}"), v);
            }
        }
    }
    let amount = if one {
        1
    } else {
        positive_int(params, "Amount", 1)?
    };
    put(&mut m, "Amount", amount.to_string());
    billing_of(params)?.apply(&mut m);
    Ok(m)
}

/// `PriceInfo.Price.{TradePrice, Currency}` of a DescribePrice answer.
pub fn trade_price(response: &Value) -> Result<Money, String> {
    let price = response
        .pointer("/PriceInfo/Price")
        .ok_or("DescribePrice answered without PriceInfo.Price")?;
    let amount = match price.get("TradePrice") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|a| a.is_finite() && *a >= 0.0)
    .ok_or("DescribePrice answered without a usable PriceInfo.Price.TradePrice")?;
    let currency = price
        .get("Currency")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .ok_or("DescribePrice answered without PriceInfo.Price.Currency")?;
    Ok(Money {
        amount,
        currency: currency.to_string(),
    })
}

fn describe_price(reader: &mut dyn Reader, request: Map<String, Value>) -> Result<Money, String> {
    let response = read(reader, &A::DESCRIBE_PRICE, request)
        .map_err(|e| format!("the price quote (DescribePrice) failed: {e}"))?;
    trade_price(&response)
}

/// The price line and total for a quote covering `amount` items.
struct Priced {
    unit_price: String,
    runtime: String,
    total: String,
    estimate: Money,
    hourly: Option<Money>,
    billing: String,
    per: &'static str,
}

fn price_lines(
    quote: Money,
    amount: u64,
    billing: &Billing,
    runtime: &Runtime,
    released: &str,
) -> Priced {
    let cur = quote.currency.clone();
    match billing {
        Billing::Hourly => {
            let unit = quote.amount / amount as f64;
            // Never below the service's minimum charge per resource, however short the run.
            let metered = quote.amount * runtime.hours();
            let minimum = MINIMUM_CHARGE * amount as f64;
            let estimate = metered.max(minimum);
            let total = if runtime.is_service() {
                format!("{cur} {} per hour", format_estimate(estimate))
            } else if metered < minimum {
                format!(
                    "{cur} {} (the minimum charge, {cur} {} per resource; metered {cur} {})",
                    format_estimate(estimate),
                    format_estimate(MINIMUM_CHARGE),
                    format_estimate(metered)
                )
            } else {
                format!("{cur} {}", format_estimate(estimate))
            };
            Priced {
                unit_price: format!("{cur} {}/hour (trade price)", format_price(unit)),
                runtime: runtime.describe(),
                total,
                estimate: Money {
                    amount: estimate,
                    currency: cur,
                },
                hourly: Some(quote),
                billing: format!("pay-as-you-go (PostPaid), {released}"),
                per: "hour",
            }
        }
        Billing::Subscription { period, unit } => {
            let each = quote.amount / amount as f64 / *period as f64;
            let plural = if *period == 1 { "" } else { "s" };
            Priced {
                unit_price: format!(
                    "{cur} {}/{} (trade price)",
                    format_price(each),
                    unit.to_ascii_lowercase()
                ),
                runtime: format!("subscription of {period} {unit}{plural}"),
                total: format!("{cur} {}", format_estimate(quote.amount)),
                estimate: quote,
                hourly: None,
                billing: format!(
                    "subscription (PrePaid), {period} {unit}{plural} paid up front; releasing early does not refund it"
                ),
                per: "period",
            }
        }
    }
}

const RELEASED: &str = "released when the run ends unless kept with keep()";

/// What decides the price of an instance request, as one comparable text: its DescribePrice
/// request and the runtime the estimate uses. Two requests with the same key cost the same, so
/// an approval given ahead for one (see `Guard::preapprove`) can admit the other. `None` for
/// requests that are not instance creations or cannot be quoted.
pub fn price_key(action: &str, params: &Flat, runtime: &Runtime) -> Option<String> {
    let Kind::Instances { one } = kind_of(action) else {
        return None;
    };
    let request = instance_price_request(params, action, one).ok()?;
    Some(format!(
        "{}|{}|{}|{}",
        canonical(action),
        Value::Object(request),
        runtime.hours(),
        // Not in DescribePrice's request, but it is the price of a limited spot instance.
        params.get("SpotPriceLimit").unwrap_or("")
    ))
}

fn instances(
    action: &str,
    params: &Flat,
    one: bool,
    runtime: &Runtime,
    reader: &mut dyn Reader,
) -> Result<CostBlock, String> {
    let request = instance_price_request(params, action, one)?;
    let billing = billing_of(params)?;
    let amount = if one {
        1
    } else {
        positive_int(params, "Amount", 1)?
    };
    // --- Spot (issue 15): the worst case of a price limit, the market price otherwise ---
    let spot = super::spot::Spot::of(params)?;
    let (quote, spot_quote) = if spot.is_spot() {
        let q = super::spot::quote(reader, request, spot, amount)?;
        (q.hourly.clone(), Some(q))
    } else {
        (describe_price(reader, request)?, None)
    };
    let itype = need(params, "InstanceType", action)?;
    let region = need(params, "RegionId", action)?;
    let mut notes = Vec::new();
    let spec = match instance_type_size(reader, region, itype) {
        Ok((cpu, mem)) => format!("{itype} ({cpu} vCPU, {mem} GB)"),
        Err(e) => {
            notes.push(format!("vCPU and memory of {itype} unknown: {e}"));
            itype.to_string()
        }
    };
    let spec = if amount > 1 {
        format!("{spec} x {amount} instances")
    } else {
        spec
    };
    let mut details = vec![
        ("Spec".to_string(), spec),
        (
            "Image".to_string(),
            image_line(reader, region, params, &mut notes),
        ),
        (
            "System disk".to_string(),
            disk_line(
                params.get("SystemDisk.Category"),
                params.get("SystemDisk.Size"),
            ),
        ),
    ];
    let data: Vec<String> = params
        .indices("DataDisk")
        .into_iter()
        .map(|n| {
            let d = params.element("DataDisk", n);
            disk_line(d.get("Category"), d.get("Size"))
        })
        .collect();
    if !data.is_empty() {
        details.push(("Data disks".to_string(), data.join(", ")));
    }
    if let Some(bw) = params
        .get("InternetMaxBandwidthOut")
        .filter(|b| b.trim() != "0")
    {
        let charge = params.get("InternetChargeType").unwrap_or("PayByTraffic");
        details.push(("Public bandwidth".to_string(), bandwidth_line(bw, charge)));
    }
    let mut priced = price_lines(quote, amount, &billing, runtime, RELEASED);
    notes.extend(runtime.note().filter(|_| priced.per == "hour"));
    let mut summary = format!("{itype} x {amount}, {}", priced.runtime);
    if let Some(q) = &spot_quote {
        let (billing_line, note) = super::spot::describe(spot, q, RELEASED);
        priced.billing = billing_line;
        notes.push(note);
        summary = format!("{itype} x {amount} (spot), {}", priced.runtime);
    }
    Ok(CostBlock {
        action: action.to_string(),
        title: "ECS Cost Estimate:".into(),
        details,
        unit_price: priced.unit_price,
        runtime: priced.runtime,
        total: priced.total,
        billing: priced.billing,
        notes,
        estimate: Some(priced.estimate),
        hourly: priced.hourly,
        summary,
        keep: None,
    })
}

fn disk_line(category: Option<&str>, size: Option<&str>) -> String {
    format!(
        "{} {}",
        category.unwrap_or("(default category)"),
        size.map_or("(default size)".to_string(), |s| format!("{s} GB"))
    )
}

fn bandwidth_line(bandwidth: &str, charge: &str) -> String {
    if charge.eq_ignore_ascii_case("PayByTraffic") {
        format!("{bandwidth} Mbps (PayByTraffic: traffic is billed per GB on top of this estimate)")
    } else {
        format!("{bandwidth} Mbps ({charge})")
    }
}

/// vCPU count and memory (GiB) of an instance type, from DescribeInstanceTypes.
fn instance_type_size(
    reader: &mut dyn Reader,
    region: &str,
    itype: &str,
) -> Result<(u64, String), String> {
    let mut m = Map::new();
    put(&mut m, "RegionId", region);
    put(&mut m, "InstanceTypes.1", itype);
    let response = read(reader, &A::DESCRIBE_INSTANCE_TYPES, m)?;
    let t = response
        .pointer("/InstanceTypes/InstanceType/0")
        .ok_or("DescribeInstanceTypes did not list it")?;
    let cpu = t
        .get("CpuCoreCount")
        .and_then(Value::as_u64)
        .ok_or("no CpuCoreCount")?;
    let mem = t
        .get("MemorySize")
        .and_then(Value::as_f64)
        .ok_or("no MemorySize")?;
    let mem = if mem.fract() == 0.0 {
        format!("{mem:.0}")
    } else {
        format!("{mem}")
    };
    Ok((cpu, mem))
}

/// The `Image:` line: the image's OS name when it can be looked up, else what the request says.
fn image_line(
    reader: &mut dyn Reader,
    region: &str,
    params: &Flat,
    notes: &mut Vec<String>,
) -> String {
    if let Some(id) = params.get("ImageId") {
        let mut m = Map::new();
        put(&mut m, "RegionId", region);
        put(&mut m, "ImageId", id);
        let looked = read(reader, &A::DESCRIBE_IMAGES, m).and_then(|r| {
            let img = r.pointer("/Images/Image/0").ok_or("no such image")?;
            ["OSNameEn", "OSName", "ImageName"]
                .iter()
                .find_map(|k| {
                    img.get(*k)
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                })
                .map(str::to_string)
                .ok_or_else(|| "the image has no name".to_string())
        });
        return match looked {
            Ok(name) => format!("{name} ({id})"),
            Err(e) => {
                notes.push(format!("image {id} could not be described: {e}"));
                id.to_string()
            }
        };
    }
    match params.get("ImageFamily") {
        Some(family) => format!("latest of family {family}"),
        None => "(none given)".into(),
    }
}

fn disk(
    action: &str,
    params: &Flat,
    runtime: &Runtime,
    reader: &mut dyn Reader,
) -> Result<CostBlock, String> {
    let mut m = Map::new();
    put(&mut m, "RegionId", need(params, "RegionId", action)?);
    put(&mut m, "ResourceType", "disk");
    copy(params, &mut m, &["ZoneId"]);
    let category = need(params, "DiskCategory", action)?;
    let size = need(params, "Size", action)?;
    put(&mut m, "DataDisk.1.Category", category);
    put(&mut m, "DataDisk.1.Size", size);
    if let Some(pl) = params.get("PerformanceLevel") {
        put(&mut m, "DataDisk.1.PerformanceLevel", pl);
    }
    Billing::Hourly.apply(&mut m);
    put(&mut m, "Amount", "1");
    let quote = describe_price(reader, m)?;
    let priced = price_lines(quote, 1, &Billing::Hourly, runtime, RELEASED);
    let line = disk_line(Some(category), Some(size));
    Ok(CostBlock {
        action: action.to_string(),
        title: "Disk Cost Estimate:".into(),
        details: vec![("Disk".into(), format!("{line} data disk"))],
        unit_price: priced.unit_price,
        runtime: priced.runtime.clone(),
        total: priced.total,
        billing: priced.billing,
        notes: runtime.note().into_iter().collect(),
        estimate: Some(priced.estimate),
        hourly: priced.hourly,
        summary: format!("{line} disk, {}", priced.runtime),
        keep: None,
    })
}

#[allow(clippy::too_many_arguments)]
fn bandwidth_block(
    action: &str,
    params: &Flat,
    line: &str,
    bandwidth: &str,
    charge: &str,
    runtime: &Runtime,
    reader: &mut dyn Reader,
) -> Result<CostBlock, String> {
    let mut m = Map::new();
    put(&mut m, "RegionId", need(params, "RegionId", action)?);
    put(&mut m, "ResourceType", "bandwidth");
    put(&mut m, "InternetMaxBandwidthOut", bandwidth);
    put(&mut m, "InternetChargeType", charge);
    Billing::Hourly.apply(&mut m);
    put(&mut m, "Amount", "1");
    let quote = describe_price(reader, m)?;
    let priced = price_lines(quote, 1, &Billing::Hourly, runtime, RELEASED);
    let mut notes: Vec<String> = runtime.note().into_iter().collect();
    if charge.eq_ignore_ascii_case("PayByTraffic") {
        notes
            .push("PayByTraffic: outbound traffic is billed per GB on top of this estimate".into());
    }
    Ok(CostBlock {
        action: action.to_string(),
        title: "Public IP Cost Estimate:".into(),
        details: vec![("Bandwidth".into(), line.to_string())],
        unit_price: priced.unit_price,
        runtime: priced.runtime.clone(),
        total: priced.total,
        billing: priced.billing,
        notes,
        estimate: Some(priced.estimate),
        hourly: priced.hourly,
        keep: None,
        summary: format!("{line}, {}", priced.runtime),
    })
}

fn public_ip(
    action: &str,
    params: &Flat,
    runtime: &Runtime,
    reader: &mut dyn Reader,
) -> Result<CostBlock, String> {
    let id = need(params, "InstanceId", action)?;
    let inst = read_instance(params, action, reader, "price its public IP")?
        .ok_or_else(|| format!("instance {id} was not found, so its public IP cannot be priced"))?;
    let bandwidth = match inst.get("InternetMaxBandwidthOut") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(format!(
                "instance {id} does not show its InternetMaxBandwidthOut"
            ))
        }
    };
    let charge = inst
        .get("InternetChargeType")
        .and_then(Value::as_str)
        .unwrap_or("PayByTraffic")
        .to_string();
    let line = format!("{bandwidth} Mbps, {charge}, for instance {id}");
    bandwidth_block(action, params, &line, &bandwidth, &charge, runtime, reader)
}

/// The instance the request names (`InstanceId`), read with DescribeInstances; `None` when the
/// service does not know it. `why` completes "could not read instance … to …".
fn read_instance(
    params: &Flat,
    action: &str,
    reader: &mut dyn Reader,
    why: &str,
) -> Result<Option<Value>, String> {
    let id = need(params, "InstanceId", action)?;
    let region = need(params, "RegionId", action)?;
    read_instance_by_id(id, region, reader, why)
}

fn read_instance_by_id(
    id: &str,
    region: &str,
    reader: &mut dyn Reader,
    why: &str,
) -> Result<Option<Value>, String> {
    let mut m = Map::new();
    put(&mut m, "RegionId", region);
    put(
        &mut m,
        "InstanceIds",
        serde_json::to_string(&[id]).map_err(|e| e.to_string())?,
    );
    let response = read(reader, &A::DESCRIBE_INSTANCES, m)
        .map_err(|e| format!("could not read instance {id} to {why}: {e}"))?;
    Ok(response.pointer("/Instances/Instance/0").cloned())
}

/// The ids a request names: `InstanceId` (StartInstance) or `InstanceId.N` (StartInstances).
fn named_instances(params: &Flat) -> Vec<String> {
    let listed: Vec<String> = params
        .indices("InstanceId")
        .into_iter()
        .filter_map(|n| params.get(&format!("InstanceId.{n}")).map(str::to_string))
        .collect();
    match params.get("InstanceId") {
        Some(one) if listed.is_empty() => vec![one.to_string()],
        _ => listed,
    }
}

/// A DescribePrice-shaped request for an existing instance (`inst`, as DescribeInstances shows
/// it), with its type replaced by `instance_type` when given.
fn like_instance(inst: &Value, region: &str, instance_type: Option<&str>) -> Result<Flat, String> {
    let mut like = Map::new();
    for key in ["RegionId", "InstanceType", "ZoneId", "ImageId"] {
        let v = inst.get(key).and_then(Value::as_str).unwrap_or("");
        let v = match key {
            "RegionId" if v.is_empty() => region,
            "InstanceType" => instance_type.unwrap_or(v),
            _ => v,
        };
        put(&mut like, key, v);
    }
    Flat::of(&like).map_err(|e| e.to_string())
}

/// For an action that can resume billing (the registry's `resumes_billing`: StartInstance and
/// StartInstances), one block per named instance whose start would cost again: stopped in
/// `StopCharging` mode and pay-as-you-go. Empty when it resumes nothing. Reads each instance.
pub fn resumed(
    action: &str,
    params: &Flat,
    runtime: &Runtime,
    reader: &mut dyn Reader,
) -> Result<Vec<CostBlock>, String> {
    let region = need(params, "RegionId", action)?;
    let ids = named_instances(params);
    if ids.is_empty() {
        return Err(format!(
            "{action} has no InstanceId, so ecsh cannot see whether it resumes billing; give \
             InstanceId"
        ));
    }
    let mut blocks = Vec::new();
    for id in ids {
        let Some(inst) = read_instance_by_id(
            &id,
            region,
            reader,
            "see whether starting it resumes billing",
        )?
        else {
            continue; // not found: the service answers the start itself
        };
        let text = |k: &str| inst.get(k).and_then(Value::as_str).unwrap_or("");
        let stopped_free = text("Status") == "Stopped" && text("StoppedMode") == "StopCharging";
        if !stopped_free || text("InstanceChargeType") == "PrePaid" {
            continue;
        }
        let flat = like_instance(&inst, region, None)?;
        let mut block = instances(action, &flat, true, runtime, reader)?;
        block.title = "ECS Cost Estimate (billing resumes):".into();
        block.notes.push(format!(
            "{id} is stopped in StopCharging mode, so it costs nothing now; starting it bills it \
             again"
        ));
        block.summary = format!("{id} resumes billing, {}", block.summary);
        blocks.push(block);
    }
    Ok(blocks)
}

/// ModifyInstanceSpec: the new type's price for the instance, against what it costs now. Only
/// a type change is priced; a bandwidth-only change gets the unpriced block.
fn spec_change(
    product: Product,
    action: &str,
    params: &Flat,
    runtime: &Runtime,
    reader: &mut dyn Reader,
) -> Result<CostBlock, String> {
    let id = need(params, "InstanceId", action)?;
    let region = need(params, "RegionId", action)?;
    let Some(new_type) = params.get("InstanceType") else {
        return Ok(unpriced(product, action, params));
    };
    let inst = read_instance_by_id(id, region, reader, "price its new instance type")?
        .ok_or_else(|| format!("instance {id} was not found, so its new type cannot be priced"))?;
    let old_type = inst
        .get("InstanceType")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if inst.get("InstanceChargeType").and_then(Value::as_str) == Some("PrePaid") {
        return Err(format!(
            "instance {id} is a subscription; ecsh quotes only pay-as-you-go spec changes \
             (ModifyPrepayInstanceSpec changes subscriptions, in the console)"
        ));
    }
    let old = describe_price(
        reader,
        instance_price_request(&like_instance(&inst, region, None)?, action, true)?,
    )?;
    let new_flat = like_instance(&inst, region, Some(new_type))?;
    let mut block = instances(action, &new_flat, true, runtime, reader)?;
    let new_hourly = block.hourly.as_ref().map_or(0.0, |m| m.amount);
    block.title = "ECS Spec Change Estimate:".into();
    block.details.insert(
        0,
        (
            "Current spec".to_string(),
            format!(
                "{old_type} at {} {}/hour",
                format_price(old.amount),
                old.currency
            ),
        ),
    );
    block.notes.push(format!(
        "{id} changes from {old_type} to {new_type}: {} {} per hour {} than now",
        format_price((new_hourly - old.amount).abs()),
        old.currency,
        if new_hourly >= old.amount {
            "more"
        } else {
            "less"
        }
    ));
    block.summary = format!("{id} {old_type} -> {}", block.summary);
    Ok(block)
}

/// The block for a chargeable action ecsh has no way to price.
fn unpriced(product: Product, action: &str, params: &Flat) -> CostBlock {
    const SHOWN: usize = 12;
    let mut shown: Vec<String> = params
        .iter()
        .take(SHOWN)
        .map(|(k, v)| format!("{k}={}", truncate(v, 60)))
        .collect();
    let total = params.iter().count();
    if total > SHOWN {
        shown.push(format!("... and {} more", total - SHOWN));
    }
    CostBlock {
        action: action.to_string(),
        title: "Cost Estimate (not available):".into(),
        details: vec![
            ("Action".into(), format!("{product}:{action}")),
            (
                "Parameters".into(),
                if shown.is_empty() {
                    "(none)".into()
                } else {
                    shown.join(", ")
                },
            ),
        ],
        unit_price: format!("unknown: ecsh cannot quote {action}"),
        runtime: "unknown".into(),
        total: "unknown".into(),
        billing: "unknown: check the product's pricing page before approving".into(),
        notes: vec![format!(
            "{action} may cost money and cannot be priced, so --max-cost cannot approve it; \
             approve it here, or with --yes"
        )],
        estimate: None,
        keep: None,
        hourly: None,
        summary: format!("{product}:{action} (not quoted)"),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flat(v: Value) -> Flat {
        match v {
            Value::Object(m) => Flat::of(&m).unwrap(),
            _ => unreachable!("test literal is an object"),
        }
    }

    /// A reader that answers like the service, from a fixed price list, and records requests.
    struct PriceList {
        seen: Vec<(String, Map<String, Value>)>,
        hourly: f64,
    }

    impl Reader for PriceList {
        fn read(
            &mut self,
            _p: Product,
            action: &str,
            params: Map<String, Value>,
        ) -> Result<Value, String> {
            self.seen.push((action.to_string(), params.clone()));
            match action {
                "DescribePrice" => {
                    let amount: f64 = params["Amount"]
                        .as_str()
                        .unwrap_or("1")
                        .parse()
                        .unwrap_or(1.0);
                    let period: f64 = params["Period"]
                        .as_str()
                        .unwrap_or("1")
                        .parse()
                        .unwrap_or(1.0);
                    let unit = if params["PriceUnit"] == "Month" {
                        720.0
                    } else {
                        1.0
                    };
                    Ok(json!({"PriceInfo": {"Price": {
                        "TradePrice": self.hourly * amount * period * unit, "Currency": "CNY"}}}))
                }
                "DescribeInstanceTypes" => Ok(json!({"InstanceTypes": {"InstanceType": [
                    {"InstanceTypeId": "ecs.t6-c1m2.large", "CpuCoreCount": 2, "MemorySize": 4.0}]}})),
                "DescribeImages" => {
                    Ok(json!({"Images": {"Image": [{"OSNameEn": "Ubuntu 24.04"}]}}))
                }
                other => Err(format!("unexpected {other}")),
            }
        }
    }

    fn run_request() -> Value {
        json!({"RegionId": "cn-hangzhou", "ZoneId": "cn-hangzhou-i", "InstanceType": "ecs.t6-c1m2.large",
               "ImageId": "ubuntu_24_04_x64", "SystemDisk": {"Category": "cloud_essd", "Size": 40},
               "DataDisk": [{"Category": "cloud_ssd", "Size": 100}],
               "InternetMaxBandwidthOut": 5, "InternetChargeType": "PayByTraffic", "Amount": 1,
               "VSwitchId": "vsw-1", "SecurityGroupId": "sg-1"})
    }

    #[test]
    fn the_price_request_mirrors_the_instance_request() {
        let m = instance_price_request(&flat(run_request()), "RunInstances", false).unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"RegionId": "cn-hangzhou", "ResourceType": "instance", "InstanceType": "ecs.t6-c1m2.large",
                   "ZoneId": "cn-hangzhou-i", "ImageId": "ubuntu_24_04_x64", "SystemDisk.Category": "cloud_essd",
                   "SystemDisk.Size": "40", "InternetChargeType": "PayByTraffic", "InternetMaxBandwidthOut": "5",
                   "DataDisk.1.Category": "cloud_ssd", "DataDisk.1.Size": "100", "Amount": "1",
                   "PriceUnit": "Hour", "Period": "1"})
        );
        let mut pre = run_request();
        pre["InstanceChargeType"] = json!("PrePaid");
        pre["Period"] = json!(3);
        let m = instance_price_request(&flat(pre.clone()), "RunInstances", false).unwrap();
        assert_eq!(
            (m["PriceUnit"].as_str(), m["Period"].as_str()),
            (Some("Month"), Some("3"))
        );
        pre["PeriodUnit"] = json!("Week");
        let m = instance_price_request(&flat(pre), "RunInstances", false).unwrap();
        assert_eq!(m["PriceUnit"], "Week");
    }

    #[test]
    fn requests_that_cannot_be_quoted_say_why() {
        let mut r = run_request();
        r.as_object_mut().unwrap().remove("InstanceType");
        let e = instance_price_request(&flat(r), "RunInstances", false).unwrap_err();
        assert!(e.contains("no InstanceType"), "{e}");
        let mut r = run_request();
        r["InstanceChargeType"] = json!("PrePaid");
        assert!(instance_price_request(&flat(r), "RunInstances", false)
            .unwrap_err()
            .contains("Period"));
        let mut r = run_request();
        r["Amount"] = json!("many");
        assert!(instance_price_request(&flat(r), "RunInstances", false)
            .unwrap_err()
            .contains("Amount"));
    }

    #[test]
    fn instance_block_matches_the_seed() {
        let mut r = run_request();
        let o = r.as_object_mut().unwrap();
        o.remove("DataDisk");
        o.remove("InternetMaxBandwidthOut");
        let mut prices = PriceList {
            seen: vec![],
            hourly: 0.017,
        };
        let runtime = Runtime::Given { minutes: 5.0 };
        let b = quote(
            Product::Ecs,
            "RunInstances",
            &flat(r),
            &runtime,
            &mut prices,
        )
        .unwrap();
        assert_eq!(
            b.render(),
            "ECS Cost Estimate:\n\
Spec: ecs.t6-c1m2.large (2 vCPU, 4 GB)\n\
Image: Ubuntu 24.04 (ubuntu_24_04_x64)\n\
System disk: cloud_essd 40 GB\n\
Unit price: CNY 0.017/hour (trade price)\n\
Estimated runtime: ~5 minutes\n\
Estimated total cost: CNY 0.01 (the minimum charge, CNY 0.01 per resource; metered CNY 0.002)\n\
Billing: pay-as-you-go (PostPaid), released when the run ends unless kept with keep()\n\
Proceed with creation?"
        );
        // The seed shows the metered CNY 0.002; the service charges at least 0.01 per instance.
        let est = b.estimate.unwrap();
        assert!((est.amount - 0.01).abs() < 1e-12);
        assert_eq!(prices.seen[0].0, "DescribePrice");
    }

    #[test]
    fn a_gamed_runtime_is_billed_at_least_the_minimum_per_instance() {
        let mut r = run_request();
        r["Amount"] = json!(100);
        let mut prices = PriceList {
            seen: vec![],
            hourly: 0.017,
        };
        let runtime = Runtime::Given {
            minutes: 1.0 / 60.0,
        };
        let b = quote(
            Product::Ecs,
            "RunInstances",
            &flat(r),
            &runtime,
            &mut prices,
        )
        .unwrap();
        let est = b.estimate.unwrap();
        assert!((est.amount - 1.0).abs() < 1e-9, "{}", est.amount);
        assert!(
            b.runtime.contains("billed as at least 1 minute"),
            "{}",
            b.runtime
        );
    }

    #[test]
    fn total_is_unit_price_times_runtime_times_amount() {
        let mut r = run_request();
        r["Amount"] = json!(3);
        let mut prices = PriceList {
            seen: vec![],
            hourly: 0.5,
        };
        let b = quote(
            Product::Ecs,
            "RunInstances",
            &flat(r),
            &Runtime::Given { minutes: 120.0 },
            &mut prices,
        )
        .unwrap();
        assert_eq!(b.unit_price, "CNY 0.50/hour (trade price)");
        assert_eq!(b.total, "CNY 3.00");
        assert_eq!(b.hourly.as_ref().map(|h| h.amount), Some(1.5));
        assert!(b.details[0].1.ends_with("x 3 instances"), "{:?}", b.details);
        let assumed = quote(
            Product::Ecs,
            "RunInstances",
            &flat(run_request()),
            &Runtime::Assumed,
            &mut prices,
        )
        .unwrap();
        assert!(assumed.render().contains("assumes 1 hour"));
    }

    #[test]
    fn subscriptions_cost_their_period() {
        let mut r = run_request();
        r["InstanceChargeType"] = json!("PrePaid");
        r["Period"] = json!(2);
        let mut prices = PriceList {
            seen: vec![],
            hourly: 0.1,
        };
        let b = quote(
            Product::Ecs,
            "CreateInstance",
            &flat(r),
            &Runtime::Assumed,
            &mut prices,
        )
        .unwrap();
        assert_eq!(b.total, "CNY 144.00");
        assert_eq!(b.unit_price, "CNY 72.00/month (trade price)");
        assert!(b.billing.contains("PrePaid"));
        assert_eq!(b.hourly, None);
        assert!(!b.render().contains("assumes 1 hour"));
    }

    #[test]
    fn a_failed_quote_is_an_error_not_a_zero() {
        let mut failing = |_: Product, _: &str, _: Map<String, Value>| -> Result<Value, String> {
            Err("InvalidInstanceType.NotSupported".into())
        };
        let e = quote(
            Product::Ecs,
            "RunInstances",
            &flat(run_request()),
            &Runtime::Assumed,
            &mut failing,
        )
        .unwrap_err();
        assert!(e.contains("InvalidInstanceType.NotSupported"), "{e}");
        let mut empty =
            |_: Product, _: &str, _: Map<String, Value>| -> Result<Value, String> { Ok(json!({})) };
        assert!(quote(
            Product::Ecs,
            "RunInstances",
            &flat(run_request()),
            &Runtime::Assumed,
            &mut empty
        )
        .is_err());
    }

    #[test]
    fn disks_and_eips_are_quoted_by_their_resource_type() {
        let mut prices = PriceList {
            seen: vec![],
            hourly: 0.05,
        };
        let disk = json!({"RegionId": "cn-hangzhou", "ZoneId": "cn-hangzhou-i", "DiskCategory": "cloud_essd", "Size": 100});
        let b = quote(
            Product::Ecs,
            "CreateDisk",
            &flat(disk),
            &Runtime::Assumed,
            &mut prices,
        )
        .unwrap();
        assert_eq!(b.details[0].1, "cloud_essd 100 GB data disk");
        let sent = &prices.seen[0].1;
        assert_eq!(
            (
                sent["ResourceType"].as_str(),
                sent["DataDisk.1.Size"].as_str()
            ),
            (Some("disk"), Some("100"))
        );
        let eip = json!({"RegionId": "cn-hangzhou", "Bandwidth": 10});
        quote(
            Product::Vpc,
            "AllocateEipAddress",
            &flat(eip),
            &Runtime::Assumed,
            &mut prices,
        )
        .unwrap();
        let sent = &prices.seen[1].1;
        assert_eq!(sent["ResourceType"], "bandwidth");
        assert_eq!(sent["InternetMaxBandwidthOut"], "10");
        assert_eq!(sent["InternetChargeType"], "PayByBandwidth");
    }

    #[test]
    fn unknown_chargeable_actions_carry_no_estimate() {
        let mut never = |_: Product, a: &str, _: Map<String, Value>| -> Result<Value, String> {
            Err(format!("no read expected, got {a}"))
        };
        let p = flat(json!({"RegionId": "cn-hangzhou", "Name": "nat\x1b[2J"}));
        let b = quote(
            Product::Vpc,
            "CreateNatGateway",
            &p,
            &Runtime::Assumed,
            &mut never,
        )
        .unwrap();
        assert_eq!(b.estimate, None);
        let text = b.render();
        assert!(text.contains("cannot quote CreateNatGateway"), "{text}");
        assert!(text.contains(r"Name=nat\x1b[2J"), "{text}");
    }
}
