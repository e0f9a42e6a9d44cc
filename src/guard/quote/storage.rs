//! Quotes for what grows or keeps storage (issue 15): ResizeDisk, CreateSnapshot, CreateImage.
//!
//! | request | how it is priced |
//! |---|---|
//! | ResizeDisk | the disk is read (DescribeDisks); DescribePrice (`ResourceType=disk`) of its category at the current and at `NewSize`; the hourly difference |
//! | CreateSnapshot | the disk is read; its size × the published snapshot storage price per GB-month ÷ 730 hours (DescribePrice has no snapshot type); the upper bound of a first, full snapshot |
//! | CreateImage | as CreateSnapshot, for the snapshot it is made from (DescribeSnapshots: SourceDiskSize) or the disks of the instance (DescribeDisks InstanceId) |
//!
//! Reads only, through the [`Reader`]; the block says how the number was made.

use super::{describe_price, need, price_lines, put, Billing, Reader, RELEASED};
use crate::guard::block::{format_price, CostBlock, Money};
use crate::guard::params::Flat;
use crate::guard::runtime::Runtime;
use crate::ops::{Action, A};
use serde_json::{Map, Value};

/// Standard snapshot storage, pay-as-you-go, per GB-month: Alibaba Cloud's published list
/// price on the China site (CNY 0.12/GB/month), the currency the account's DescribePrice uses.
pub const SNAPSHOT_GB_MONTH: f64 = 0.12;
pub const SNAPSHOT_CURRENCY: &str = "CNY";
/// Hours in the billing month the price list divides by.
const HOURS_PER_MONTH: f64 = 730.0;

fn read(
    reader: &mut dyn Reader,
    action: &Action,
    params: Map<String, Value>,
    why: &str,
) -> Result<Value, String> {
    reader
        .read(action.product, action.name, params)
        .map_err(|e| format!("could not {why} ({} failed): {e}", action.name))
}

fn ids_param(id: &str) -> String {
    serde_json::to_string(&[id]).unwrap_or_default()
}

/// The one disk `id`, read with DescribeDisks.
fn read_disk(reader: &mut dyn Reader, region: &str, id: &str, why: &str) -> Result<Value, String> {
    let mut m = Map::new();
    put(&mut m, "RegionId", region);
    put(&mut m, "DiskIds", ids_param(id));
    let answer = read(reader, &A::DESCRIBE_DISKS, m, why)?;
    answer
        .pointer("/Disks/Disk/0")
        .cloned()
        .ok_or_else(|| format!("disk {id} was not found in {region}, so it cannot be priced"))
}

fn size_of(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

pub(super) fn resize_disk(
    action: &str,
    params: &Flat,
    runtime: &Runtime,
    reader: &mut dyn Reader,
) -> Result<CostBlock, String> {
    let region = need(params, "RegionId", action)?;
    let id = need(params, "DiskId", action)?;
    let new_size: u64 = need(params, "NewSize", action)?
        .trim()
        .parse()
        .map_err(|_| {
            "NewSize is not a whole number of GiB, so the resize cannot be priced".to_string()
        })?;
    let disk = read_disk(reader, region, id, "read the disk to price its resize")?;
    let old_size = disk.get("Size").and_then(size_of).unwrap_or(0);
    let category = text(&disk, "Category");
    let level = text(&disk, "PerformanceLevel");
    let mut price_at = |size: u64| {
        let mut m = Map::new();
        put(&mut m, "RegionId", region);
        put(&mut m, "ResourceType", "disk");
        put(&mut m, "ZoneId", text(&disk, "ZoneId"));
        put(&mut m, "DataDisk.1.Category", category);
        put(&mut m, "DataDisk.1.Size", size.to_string());
        if !level.is_empty() {
            put(&mut m, "DataDisk.1.PerformanceLevel", level);
        }
        Billing::Hourly.apply(&mut m);
        put(&mut m, "Amount", "1");
        describe_price(reader, m)
    };
    let before = price_at(old_size.max(1))?;
    let after = price_at(new_size)?;
    let delta = Money {
        amount: (after.amount - before.amount).max(0.0),
        currency: after.currency.clone(),
    };
    let priced = price_lines(
        delta,
        1,
        &Billing::Hourly,
        runtime,
        "for as long as the disk lives",
    );
    let line = format!("{id}: {category} {old_size} GiB -> {new_size} GiB");
    let mut notes: Vec<String> = runtime.note().into_iter().collect();
    notes.push(format!(
        "the hourly difference of two DescribePrice quotes: {} {}/hour at {old_size} GiB, {} {}/hour at {new_size} GiB",
        before.currency,
        format_price(before.amount),
        after.currency,
        format_price(after.amount)
    ));
    Ok(block(
        action,
        "Disk Resize Cost Estimate:",
        ("Disk", &line),
        priced,
        notes,
    ))
}

/// The block of one priced line (`detail`: its label and text, also the summary's start).
fn block(
    action: &str,
    title: &str,
    detail: (&str, &str),
    priced: super::Priced,
    notes: Vec<String>,
) -> CostBlock {
    CostBlock {
        action: action.to_string(),
        title: title.into(),
        details: vec![(detail.0.into(), detail.1.to_string())],
        unit_price: priced.unit_price,
        runtime: priced.runtime.clone(),
        total: priced.total,
        billing: priced.billing,
        notes,
        estimate: Some(priced.estimate),
        hourly: priced.hourly,
        summary: format!("{}, {}", detail.1, priced.runtime),
        keep: None,
    }
}

pub(super) fn snapshot(
    action: &str,
    params: &Flat,
    runtime: &Runtime,
    reader: &mut dyn Reader,
) -> Result<CostBlock, String> {
    let region = need(params, "RegionId", action)?;
    let id = need(params, "DiskId", action)?;
    let disk = read_disk(reader, region, id, "read the disk to price its snapshot")?;
    let gb = disk.get("Size").and_then(size_of).unwrap_or(0);
    let what = format!("snapshot of {id} ({} {gb} GiB)", text(&disk, "Category"));
    Ok(storage_block(
        action,
        "Snapshot Cost Estimate:",
        &what,
        gb,
        runtime,
    ))
}

pub(super) fn image(
    action: &str,
    params: &Flat,
    runtime: &Runtime,
    reader: &mut dyn Reader,
) -> Result<CostBlock, String> {
    let region = need(params, "RegionId", action)?;
    let (what, gb) = if let Some(snap) = params.get("SnapshotId") {
        let mut m = Map::new();
        put(&mut m, "RegionId", region);
        put(&mut m, "SnapshotIds", ids_param(snap));
        let answer = read(
            reader,
            &A::DESCRIBE_SNAPSHOTS,
            m,
            "read the snapshot to price the image",
        )?;
        let s = answer.pointer("/Snapshots/Snapshot/0").ok_or_else(|| {
            format!("snapshot {snap} was not found, so the image cannot be priced")
        })?;
        let gb = s.get("SourceDiskSize").and_then(size_of).unwrap_or(0);
        (format!("image from snapshot {snap} ({gb} GiB)"), gb)
    } else if let Some(inst) = params.get("InstanceId") {
        let mut m = Map::new();
        put(&mut m, "RegionId", region);
        put(&mut m, "InstanceId", inst);
        let answer = read(
            reader,
            &A::DESCRIBE_DISKS,
            m,
            "read the instance's disks to price the image",
        )?;
        let disks = answer
            .pointer("/Disks/Disk")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if disks.is_empty() {
            return Err(format!(
                "instance {inst} shows no disks, so its image cannot be priced"
            ));
        }
        let gb: u64 = disks
            .iter()
            .filter_map(|d| d.get("Size").and_then(size_of))
            .sum();
        (
            format!("image of instance {inst} ({} disks, {gb} GiB)", disks.len()),
            gb,
        )
    } else {
        return Err(format!(
            "{action} names neither SnapshotId nor InstanceId, so its storage cannot be priced; give one"
        ));
    };
    Ok(storage_block(
        action,
        "Image Cost Estimate:",
        &what,
        gb,
        runtime,
    ))
}

/// The block of `gb` GiB of snapshot storage, pay-as-you-go, by the published price.
fn storage_block(action: &str, title: &str, what: &str, gb: u64, runtime: &Runtime) -> CostBlock {
    let hourly = Money {
        amount: gb as f64 * SNAPSHOT_GB_MONTH / HOURS_PER_MONTH,
        currency: SNAPSHOT_CURRENCY.to_string(),
    };
    let priced = price_lines(hourly, 1, &Billing::Hourly, runtime, RELEASED);
    let mut notes: Vec<String> = runtime.note().into_iter().collect();
    notes.push(format!(
        "snapshot storage is billed per GB-month: {gb} GiB x {SNAPSHOT_CURRENCY} {SNAPSHOT_GB_MONTH}/GB-month \
         (published pay-as-you-go price; DescribePrice has no snapshot type) / {HOURS_PER_MONTH} hours"
    ));
    notes.push(
        "an upper bound: a first snapshot stores the data written, at most the disk's size; later ones only what changed"
            .into(),
    );
    block(action, title, ("Storage", what), priced, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Product;
    use serde_json::json;

    fn flat(v: Value) -> Flat {
        match v {
            Value::Object(m) => Flat::of(&m).unwrap(),
            _ => unreachable!("test literal is an object"),
        }
    }

    /// Answers like the service: a 40 GiB cloud_essd disk, a 20 GiB snapshot, and disk prices
    /// of 0.001 per GiB-hour.
    fn reader(
        disk_found: bool,
    ) -> impl FnMut(Product, &str, Map<String, Value>) -> Result<Value, String> {
        move |_, action, params| match action {
            "DescribeDisks" if disk_found => Ok(json!({"Disks": {"Disk": [
                {"DiskId": "d-1", "Size": 40, "Category": "cloud_essd", "ZoneId": "cn-hangzhou-j"}]}})),
            "DescribeDisks" => Ok(json!({"Disks": {"Disk": []}})),
            "DescribeSnapshots" => {
                Ok(json!({"Snapshots": {"Snapshot": [{"SourceDiskSize": "20"}]}}))
            }
            "DescribePrice" => {
                let gb: f64 = params["DataDisk.1.Size"].as_str().unwrap().parse().unwrap();
                Ok(json!({"PriceInfo": {"Price": {"TradePrice": gb * 0.001, "Currency": "CNY"}}}))
            }
            other => Err(format!("unexpected {other}")),
        }
    }

    #[test]
    fn a_resize_costs_the_hourly_difference_of_the_two_sizes() {
        let p = flat(json!({"RegionId": "cn-hangzhou", "DiskId": "d-1", "NewSize": 80}));
        let b = resize_disk("ResizeDisk", &p, &Runtime::Assumed, &mut reader(true)).unwrap();
        let hourly = b.hourly.unwrap();
        assert!((hourly.amount - 0.04).abs() < 1e-9, "{hourly:?}");
        assert_eq!(b.details[0].1, "d-1: cloud_essd 40 GiB -> 80 GiB");
        assert!(
            b.notes.iter().any(|n| n.contains("hourly difference")),
            "{:?}",
            b.notes
        );
    }

    #[test]
    fn snapshot_storage_is_the_disk_size_at_the_published_gb_month_price() {
        let p = flat(json!({"RegionId": "cn-hangzhou", "DiskId": "d-1"}));
        let b = snapshot("CreateSnapshot", &p, &Runtime::Assumed, &mut reader(true)).unwrap();
        let hourly = b.hourly.unwrap();
        assert!((hourly.amount - 40.0 * SNAPSHOT_GB_MONTH / 730.0).abs() < 1e-12);
        assert_eq!(hourly.currency, "CNY");
        assert!(b
            .notes
            .iter()
            .any(|n| n.contains("per GB-month") && n.contains("no snapshot type")));
        let image = flat(json!({"RegionId": "cn-hangzhou", "SnapshotId": "s-1"}));
        let b = super::image("CreateImage", &image, &Runtime::Assumed, &mut reader(true)).unwrap();
        assert_eq!(b.details[0].1, "image from snapshot s-1 (20 GiB)");
    }

    #[test]
    fn what_cannot_be_read_is_an_error_never_a_zero() {
        let p = flat(json!({"RegionId": "cn-hangzhou", "DiskId": "d-9", "NewSize": 80}));
        let e = resize_disk("ResizeDisk", &p, &Runtime::Assumed, &mut reader(false)).unwrap_err();
        assert!(e.contains("d-9 was not found"), "{e}");
        let none = flat(json!({"RegionId": "cn-hangzhou"}));
        let e =
            super::image("CreateImage", &none, &Runtime::Assumed, &mut reader(true)).unwrap_err();
        assert!(e.contains("SnapshotId nor InstanceId"), "{e}");
    }
}
