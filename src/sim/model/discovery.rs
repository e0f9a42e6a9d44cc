//! Catalogue queries: regions, zones, instance types and families, stock
//! (DescribeAvailableResource), recommendations, prices and images. Reads the embedded
//! catalogue plus the stock that live instances consume; changes nothing.
//!
//! Must not: create, modify or observe resources (no lifecycle moves here).

use super::super::catalog::{Catalog, Image, InstanceType, Stock};
use super::creation::resolve_type;
use super::params::Params;
use super::render::{self, Answer};
use super::{paging, SimError, World};
use serde::Serialize;
use serde_json::{json, Map, Value};

fn english(p: &Params) -> bool {
    p.str("AcceptLanguage")
        .is_some_and(|l| l.to_ascii_lowercase().starts_with("en"))
}

pub fn describe_regions(_w: &mut World, p: &Params) -> Result<Value, SimError> {
    serde_json::to_value(RegionsAnswer::of(p)).map_err(render::cannot_render)
}

/// DescribeRegions written straight to bytes (the answer of every client's first call, and the
/// simulator's per-request floor in the benches): the same view as [`describe_regions`].
pub fn describe_regions_bytes(_w: &mut World, p: &Params) -> Result<Answer, SimError> {
    let answer = RegionsAnswer::of(p);
    let size = 32 + p.catalog.regions.len() * 160;
    render::object(&answer, size).map(Answer::Json)
}

/// `{"Regions": {"Region": [...]}}`, in the answer's field order, borrowing the catalogue.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RegionsAnswer {
    regions: RegionList,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RegionList {
    region: Regions,
}

/// The catalogue's regions, each written as a [`RegionView`] (no list built first).
struct Regions {
    catalog: &'static Catalog,
    english: bool,
}

impl Serialize for Regions {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.catalog.regions.iter().map(|r| RegionView {
            region_id: &r.region_id,
            local_name: if self.english {
                &r.local_name_en
            } else {
                &r.local_name
            },
            region_endpoint: &r.region_endpoint,
            status: "available",
        }))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RegionView<'a> {
    region_id: &'a str,
    local_name: &'a str,
    region_endpoint: &'a str,
    status: &'static str,
}

impl RegionsAnswer {
    fn of(p: &Params) -> RegionsAnswer {
        RegionsAnswer {
            regions: RegionList {
                region: Regions {
                    catalog: p.catalog,
                    english: english(p),
                },
            },
        }
    }
}

/// Instance types offered in a zone (in catalogue order).
fn zone_types(catalog: &'static Catalog, region: &str, zone: &str) -> Vec<&'static InstanceType> {
    catalog
        .zone(region, zone)
        .map(|z| {
            z.instance_types
                .iter()
                .filter_map(|t| catalog.instance_type(t))
                .collect()
        })
        .unwrap_or_default()
}

fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

pub fn describe_zones(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region_id = p.region()?;
    let verbose = p.bool("Verbose")?.unwrap_or(true);
    let en = english(p);
    let usage = w.usage();
    let Some(region) = p.catalog.region(region_id) else {
        return Ok(json!({ "Zones": { "Zone": [] } }));
    };
    let zones: Vec<Value> = region
        .zones
        .iter()
        .map(|z| {
            let mut m = Map::new();
            m.insert("ZoneId".into(), z.zone_id.clone().into());
            m.insert(
                "LocalName".into(),
                if en { &z.local_name_en } else { &z.local_name }
                    .clone()
                    .into(),
            );
            m.insert("ZoneType".into(), "AvailabilityZone".into());
            if verbose {
                let types: Vec<&InstanceType> = zone_types(p.catalog, region_id, &z.zone_id)
                    .into_iter()
                    .filter(|t| w.stock_left_with(&usage, region_id, &z.zone_id, &t.id) > 0)
                    .collect();
                let ids: Vec<&str> = types.iter().map(|t| t.id.as_str()).collect();
                let disks = unique(
                    types
                        .iter()
                        .flat_map(|t| t.disk_categories.iter().map(String::as_str)),
                );
                let families = unique(types.iter().map(|t| t.family.as_str()));
                let generations = unique(types.iter().map(|t| t.generation.as_str()));
                let creation: &[&str] = if w.closed(region_id, &z.zone_id) {
                    &[]
                } else {
                    &["VSwitch", "IoOptimized", "Instance", "Disk"]
                };
                m.insert(
                    "AvailableResourceCreation".into(),
                    json!({ "ResourceTypes": creation }),
                );
                m.insert(
                    "AvailableInstanceTypes".into(),
                    json!({ "InstanceTypes": ids }),
                );
                m.insert(
                    "AvailableDiskCategories".into(),
                    json!({ "DiskCategories": disks }),
                );
                m.insert(
                    "AvailableVolumeCategories".into(),
                    json!({ "VolumeCategories": [] }),
                );
                m.insert(
                    "AvailableDedicatedHostTypes".into(),
                    json!({ "DedicatedHostType": [] }),
                );
                m.insert(
                    "AvailableResources".into(),
                    json!({ "ResourcesInfo": [{
                        "IoOptimized": true,
                        "InstanceTypes": { "supportedInstanceType": ids },
                        "SystemDiskCategories": { "supportedSystemDiskCategory": disks },
                        "DataDiskCategories": { "supportedDataDiskCategory": disks },
                        "NetworkTypes": { "supportedNetworkCategory": ["vpc"] },
                        "InstanceTypeFamilies": { "supportedInstanceTypeFamily": families },
                        "InstanceGenerations": { "supportedInstanceGeneration": generations },
                    }]}),
                );
            }
            Value::Object(m)
        })
        .collect();
    Ok(json!({ "Zones": { "Zone": zones } }))
}

/// Cores, memory (GiB) and instance type named by a request (each optional).
type Shape = (Option<u32>, Option<f64>, Option<&'static InstanceType>);

/// Cores and memory (GiB) asked for, either directly or as "like this type".
fn requested_shape(p: &Params) -> Result<Shape, SimError> {
    let itype = match p.str("InstanceType") {
        Some(_) => Some(resolve_type(p)?),
        None => None,
    };
    let cores = p.int("Cores", 1, 1024)?.map(|c| c as u32);
    let memory = p.float("Memory", 0.0, 16384.0)?;
    Ok((cores, memory, itype))
}

fn same_memory(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.01
}

pub fn recommend_instance_type(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region_id = p.region()?;
    let network = p.need("NetworkType")?;
    if !network.eq_ignore_ascii_case("vpc") && !network.eq_ignore_ascii_case("classic") {
        return Err(SimError::invalid("NetworkType", "use vpc"));
    }
    let (cores, memory, like) = requested_shape(p)?;
    let (cores, memory) = match (like, cores, memory) {
        (Some(t), _, _) => (t.cores, t.memory),
        (None, Some(c), Some(m)) => (c, m),
        _ => {
            return Err(SimError::new(
                400,
                "MissingParameter",
                "Give Cores and Memory (GiB), or InstanceType to find types like it.",
            ))
        }
    };
    let strategy = p
        .choice(
            "PriorityStrategy",
            &["InventoryFirst", "PriceFirst", "NewProductFirst"],
        )?
        .unwrap_or("InventoryFirst");
    let charge = p
        .choice("InstanceChargeType", &["PostPaid", "PrePaid"])?
        .unwrap_or("PostPaid");
    let spot = p
        .choice(
            "SpotStrategy",
            &["NoSpot", "SpotWithPriceLimit", "SpotAsPriceGo"],
        )?
        .unwrap_or("NoSpot");
    let families = p.list("InstanceTypeFamily")?;
    if families.len() > 10 {
        return Err(SimError::invalid(
            "InstanceTypeFamily.N",
            "at most 10 families",
        ));
    }
    let level = p.str("InstanceFamilyLevel");
    let disk = p.str("SystemDiskCategory");
    let max_price = p.float("MaxPrice", 0.0, 1e9)?;
    let zone_filter = p.str("ZoneId");
    let catalog = p.catalog;
    let usage = w.usage();
    let Some(region) = catalog.region(region_id) else {
        return Ok(json!({ "Data": { "RecommendInstanceType": [] } }));
    };
    struct Candidate {
        itype: &'static InstanceType,
        zone: String,
        left: u32,
        price: f64,
    }
    let mut found: Vec<Candidate> = Vec::new();
    for z in region
        .zones
        .iter()
        .filter(|z| zone_filter.map_or(true, |f| f == z.zone_id))
    {
        for t in zone_types(p.catalog, region_id, &z.zone_id) {
            let fits = t.cores == cores
                && same_memory(t.memory, memory)
                && (families.is_empty() || families.contains(&t.family.as_str()))
                && level.map_or(true, |l| l == t.level)
                && disk.map_or(true, |d| t.takes_disk(d));
            if !fits {
                continue;
            }
            let left = w.stock_left_with(&usage, region_id, &z.zone_id, &t.id);
            let price = catalog
                .price(region_id, &t.id)
                .map_or(f64::MAX, |pr| pr.hour);
            if left == 0 || max_price.is_some_and(|m| price > m) {
                continue;
            }
            found.push(Candidate {
                itype: t,
                zone: z.zone_id.clone(),
                left,
                price,
            });
        }
    }
    let by_price = |a: &Candidate, b: &Candidate| a.price.total_cmp(&b.price);
    match strategy {
        "PriceFirst" => found.sort_by(|a, b| by_price(a, b).then(a.zone.cmp(&b.zone))),
        "NewProductFirst" => found.sort_by(|a, b| {
            b.itype
                .launched
                .cmp(&a.itype.launched)
                .then(by_price(a, b))
                .then(a.zone.cmp(&b.zone))
        }),
        _ => found.sort_by(|a, b| {
            b.left
                .cmp(&a.left)
                .then(by_price(a, b))
                .then(a.zone.cmp(&b.zone))
        }),
    }
    let list: Vec<Value> = found
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "RegionId": region_id,
                "ZoneId": c.zone,
                "CommodityCode": if charge == "PrePaid" { "ecs" } else { "ecs_postpay" },
                "Scene": p.str("Scene").unwrap_or("CREATE"),
                "InstanceChargeType": charge,
                "SpotStrategy": spot,
                "NetworkType": "vpc",
                "Priority": i + 1,
                "InstanceType": {
                    "InstanceType": c.itype.id,
                    "InstanceTypeFamily": c.itype.family,
                    "Cores": c.itype.cores,
                    "Memory": (c.itype.memory * 1024.0).round() as u64,
                    "Generation": c.itype.generation,
                    "SupportIoOptimized": "optimized",
                },
                "Zones": { "zone": [{ "ZoneNo": c.zone, "NetworkTypes": { "NetworkType": ["vpc"] } }] },
            })
        })
        .collect();
    Ok(json!({ "Data": { "RecommendInstanceType": list } }))
}

fn category_of(t: &InstanceType) -> &'static str {
    let fam = t.family.trim_start_matches("ecs.");
    if fam.starts_with("gn") {
        "GPU-accelerated"
    } else if fam.starts_with('t') {
        "Shared"
    } else if fam.starts_with('c') {
        "Compute-optimized"
    } else if fam.starts_with('r') {
        "Memory-optimized"
    } else {
        "General-purpose"
    }
}

fn instance_type_json(t: &InstanceType) -> Value {
    let bandwidth = 1_000_000 * u64::from(t.cores).min(16) / 2;
    json!({
        "InstanceTypeId": t.id,
        "InstanceTypeFamily": t.family,
        "InstanceCategory": category_of(t),
        "CpuCoreCount": t.cores,
        "MemorySize": t.memory,
        "GPUAmount": t.gpu_amount,
        "GPUSpec": t.gpu_spec,
        "GPUMemorySize": t.gpu_memory,
        "InstanceFamilyLevel": t.level,
        "CpuArchitecture": t.arch,
        "PhysicalProcessorModel": t.processor,
        "EniQuantity": (t.cores / 2 + 1).min(8),
        "EniPrivateIpAddressQuantity": 6,
        "LocalStorageCategory": "",
        "InstanceBandwidthRx": bandwidth,
        "InstanceBandwidthTx": bandwidth,
        "InstancePpsRx": 100_000 * u64::from(t.cores),
        "InstancePpsTx": 100_000 * u64::from(t.cores),
        "NvmeSupport": if t.generation == "ecs-6" { "required" } else { "unsupported" },
        "BaselineCredit": if t.is_burstable() { 10 * t.cores } else { 0 },
        "InitialCredit": if t.is_burstable() { 30 * t.cores } else { 0 },
    })
}

pub fn describe_instance_types(_w: &mut World, p: &Params) -> Result<Value, SimError> {
    let names = p.list("InstanceTypes")?;
    if names.len() > 10 {
        return Err(SimError::invalid(
            "InstanceTypes.N",
            "at most 10 instance types",
        ));
    }
    let family = p.str("InstanceTypeFamily");
    let families = p.list("InstanceTypeFamilies")?;
    let arch = p.choice("CpuArchitecture", &["X86", "ARM"])?;
    let min_cores = p.int("MinimumCpuCoreCount", 0, 1024)?;
    let max_cores = p.int("MaximumCpuCoreCount", 0, 1024)?;
    let min_mem = p.float("MinimumMemorySize", 0.0, 1e6)?;
    let max_mem = p.float("MaximumMemorySize", 0.0, 1e6)?;
    let gpu_spec = p.str("GPUSpec");
    let min_gpu = p.int("MinimumGPUAmount", 0, 64)?;
    let max_gpu = p.int("MaximumGPUAmount", 0, 64)?;
    let level = p.str("InstanceFamilyLevel");
    let category = p.str("InstanceCategory");
    let list: Vec<&InstanceType> = p
        .catalog
        .instance_types
        .iter()
        .filter(|t| {
            let cores = i64::from(t.cores);
            let gpus = i64::from(t.gpu_amount);
            (names.is_empty() || names.contains(&t.id.as_str()))
                && family.map_or(true, |f| f == t.family)
                && (families.is_empty() || families.contains(&t.family.as_str()))
                && arch.map_or(true, |a| a == t.arch)
                && min_cores.map_or(true, |m| cores >= m)
                && max_cores.map_or(true, |m| cores <= m)
                && min_mem.map_or(true, |m| t.memory >= m)
                && max_mem.map_or(true, |m| t.memory <= m)
                && gpu_spec.map_or(true, |g| g == t.gpu_spec)
                && min_gpu.map_or(true, |m| gpus >= m)
                && max_gpu.map_or(true, |m| gpus <= m)
                && level.map_or(true, |l| l == t.level)
                && category.map_or(true, |c| c == category_of(t))
        })
        .collect();
    paging::page(p, list, instance_type_json, Map::new())
}

pub fn describe_families(_w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region_id = p.region()?;
    let generation = p.str("Generation");
    let catalog = p.catalog;
    let mut seen: Vec<(&str, &str)> = Vec::new();
    if let Some(region) = catalog.region(region_id) {
        for z in &region.zones {
            for t in zone_types(p.catalog, region_id, &z.zone_id) {
                let pair = (t.family.as_str(), t.generation.as_str());
                if generation.map_or(true, |g| g == pair.1) && !seen.contains(&pair) {
                    seen.push(pair);
                }
            }
        }
    }
    seen.sort();
    let list: Vec<Value> = seen
        .into_iter()
        .map(|(f, g)| json!({ "InstanceTypeFamilyId": f, "Generation": g }))
        .collect();
    Ok(json!({ "InstanceTypeFamilies": { "InstanceTypeFamily": list } }))
}

fn stock_status(s: Stock, left: u32) -> (&'static str, &'static str) {
    match s {
        Stock::Plenty | Stock::Limited(_) if left > 0 => ("Available", "WithStock"),
        _ => ("SoldOut", "WithoutStock"),
    }
}

pub fn describe_available_resource(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region_id = p.region()?;
    let destination = p
        .choice(
            "DestinationResource",
            &[
                "Zone",
                "IoOptimized",
                "InstanceType",
                "Network",
                "ddh",
                "SystemDisk",
                "DataDisk",
            ],
        )?
        .unwrap_or("Zone");
    let zone_filter = p.str("ZoneId");
    p.choice("InstanceChargeType", &["PostPaid", "PrePaid"])?;
    let spot_query = p
        .choice(
            "SpotStrategy",
            &["NoSpot", "SpotWithPriceLimit", "SpotAsPriceGo"],
        )?
        .is_some_and(|s| s != "NoSpot");
    let (cores, memory, itype) = requested_shape(p)?;
    let sys_disk = p.str("SystemDiskCategory");
    let data_disk = p.str("DataDiskCategory");
    let catalog = p.catalog;
    let usage = w.usage();
    let Some(region) = catalog.region(region_id) else {
        return Ok(json!({ "AvailableZones": { "AvailableZone": [] } }));
    };
    let mut zones = Vec::new();
    for z in region
        .zones
        .iter()
        .filter(|z| zone_filter.map_or(true, |f| f == z.zone_id))
    {
        let types: Vec<(&InstanceType, Stock, u32)> = zone_types(p.catalog, region_id, &z.zone_id)
            .into_iter()
            .filter(|t| {
                itype.map_or(true, |i| i.id == t.id)
                    && cores.map_or(true, |c| c == t.cores)
                    && memory.map_or(true, |m| same_memory(m, t.memory))
                    && sys_disk.map_or(true, |d| t.takes_disk(d))
                    && data_disk.map_or(true, |d| t.takes_disk(d))
            })
            .map(|t| {
                (
                    t,
                    w.stock(region_id, &z.zone_id, &t.id),
                    // Spot capacity sold out shows as no stock to a spot query (issue 15).
                    if spot_query && w.spot_sold_out(&t.id, &z.zone_id) {
                        0
                    } else {
                        w.stock_left_with(&usage, region_id, &z.zone_id, &t.id)
                    },
                )
            })
            .collect();
        if types.is_empty() {
            continue;
        }
        let any_stock = types
            .iter()
            .any(|(_, s, left)| stock_status(*s, *left).0 == "Available");
        let (zone_status, zone_category) = if any_stock {
            ("Available", "WithStock")
        } else {
            ("SoldOut", "WithoutStock")
        };
        let simple = |value: &str| json!([{ "Value": value, "Status": zone_status, "StatusCategory": zone_category }]);
        let disks = |system: bool| -> Value {
            let cats = unique(
                types
                    .iter()
                    .flat_map(|(t, _, _)| t.disk_categories.iter().map(String::as_str)),
            );
            let list: Vec<Value> = cats
                .into_iter()
                .filter_map(|c| catalog.disk(c))
                .map(|d| {
                    let (min, max) = if system { (20, 2048) } else { (d.min, d.max) };
                    json!({
                        "Value": d.category, "Status": zone_status, "StatusCategory": zone_category,
                        "Min": min, "Max": max, "Unit": "GiB",
                    })
                })
                .collect();
            Value::Array(list)
        };
        let supported = match destination {
            "Zone" => simple(&z.zone_id),
            "IoOptimized" => simple("optimized"),
            "Network" => simple("vpc"),
            "ddh" => json!([]),
            "SystemDisk" => disks(true),
            "DataDisk" => disks(false),
            _ => Value::Array(
                types
                    .iter()
                    .map(|(t, s, left)| {
                        let (status, category) = stock_status(*s, *left);
                        json!({ "Value": t.id, "Status": status, "StatusCategory": category })
                    })
                    .collect(),
            ),
        };
        zones.push(json!({
            "ZoneId": z.zone_id,
            "RegionId": region_id,
            "Status": zone_status,
            "StatusCategory": zone_category,
            "AvailableResources": { "AvailableResource": [{
                "Type": destination,
                "SupportedResources": { "SupportedResource": supported },
            }]},
        }));
    }
    Ok(json!({ "AvailableZones": { "AvailableZone": zones } }))
}

// ---- prices --------------------------------------------------------------------------------

/// One priced part of a quote: (resource name, original price for one unit of PriceUnit).
type Part = (&'static str, f64);

fn unit_factor(unit: &str) -> (bool, f64, f64) {
    // (hourly?, multiplier applied to the monthly price, discount fraction)
    match unit {
        "Week" => (false, 0.25, 0.0),
        "Month" => (false, 1.0, 0.0),
        "Year" => (false, 12.0, 0.15),
        _ => (true, 1.0, 0.0),
    }
}

fn disk_part(
    p: &Params,
    name: &'static str,
    category: &str,
    size: u32,
    unit: &str,
    key: &str,
) -> Result<Part, SimError> {
    let d = p.catalog.disk(category).ok_or_else(|| {
        SimError::new(
            400,
            "InvalidDiskCategory.ValueNotSupported",
            format!("{key} \"{category}\" is not a disk category; use cloud_efficiency, cloud_ssd, cloud_essd, cloud_auto or cloud_essd_entry."),
        )
    })?;
    let (hourly, mult, _) = unit_factor(unit);
    let price = if hourly {
        d.hour_per_gb * f64::from(size)
    } else {
        d.month_per_gb * f64::from(size) * mult
    };
    Ok((name, price))
}

fn bandwidth_part(p: &Params, unit: &str) -> Result<Part, SimError> {
    let bw = p.int("InternetMaxBandwidthOut", 0, 100)?.unwrap_or(0) as f64;
    let charge = p
        .choice("InternetChargeType", &["PayByTraffic", "PayByBandwidth"])?
        .unwrap_or("PayByTraffic");
    let (hourly, mult, _) = unit_factor(unit);
    if charge == "PayByTraffic" {
        return Ok(("bandwidth", 0.0));
    }
    let b = &p.catalog.bandwidth.PayByBandwidth;
    let first = bw.min(5.0);
    let above = (bw - 5.0).max(0.0);
    let price = if hourly {
        first * b.hour_per_mbps_first5 + above * b.hour_per_mbps_above5
    } else {
        (first * b.month_per_mbps_first5 + above * b.month_per_mbps_above5) * mult
    };
    Ok(("bandwidth", price))
}

fn round(v: f64, hourly: bool) -> f64 {
    let scale = if hourly { 1000.0 } else { 100.0 };
    (v * scale).round() / scale
}

pub fn describe_price(_w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?;
    let resource = p
        .choice("ResourceType", &["instance", "disk", "bandwidth"])?
        .unwrap_or("instance");
    let unit = p
        .choice("PriceUnit", &["Hour", "Week", "Month", "Year"])?
        .unwrap_or("Hour");
    let period = p.int("Period", 1, 60)?.unwrap_or(1) as f64;
    let amount = p.int("Amount", 1, 1000)?.unwrap_or(1) as f64;
    let (hourly, mult, discount) = unit_factor(unit);
    let catalog = p.catalog;
    let mut parts: Vec<Part> = Vec::new();
    if resource == "instance" {
        let t = resolve_type(p)?;
        let price = catalog.price(region, &t.id).ok_or_else(|| {
            SimError::new(
                400,
                "InvalidInstanceType.ValueNotSupported",
                format!("The instance type {} is not sold in {region}.", t.id),
            )
        })?;
        parts.push((
            "instanceType",
            if hourly {
                // A spot request is quoted at the spot price (issue 15).
                super::spot::quoted_hourly(p, region, &t.id).unwrap_or(price.hour)
            } else {
                price.month * mult
            },
        ));
        let category = p
            .str("SystemDisk.Category")
            .map_or_else(|| default_disk(t), str::to_string);
        let size = p.int("SystemDisk.Size", 20, 2048)?.unwrap_or(40) as u32;
        parts.push(disk_part(
            p,
            "systemDisk",
            &category,
            size,
            unit,
            "SystemDisk.Category",
        )?);
    }
    if resource != "bandwidth" {
        for (i, d) in p.structs("DataDisk")?.iter().enumerate() {
            let key = format!("DataDisk.{}.Size", i + 1);
            let category = d.get("Category").copied().unwrap_or("cloud_efficiency");
            let size = d
                .get("Size")
                .and_then(|s| s.parse::<u32>().ok())
                .filter(|s| (1..=65536).contains(s))
                .ok_or_else(|| SimError::invalid(&key, "give a size in GiB from 1 to 65536"))?;
            parts.push(disk_part(p, "dataDisk", category, size, unit, &key)?);
        }
        if resource == "disk" && parts.is_empty() {
            return Err(SimError::missing("DataDisk.1.Size"));
        }
    }
    if resource != "disk" {
        parts.push(bandwidth_part(p, unit)?);
    }
    let mut details = Vec::new();
    let (mut original, mut off) = (0.0, 0.0);
    for (name, unit_price) in parts {
        let o = unit_price * period * amount;
        let d = o * discount;
        original += o;
        off += d;
        details.push(json!({
            "Resource": name,
            "OriginalPrice": round(o, hourly),
            "DiscountPrice": round(d, hourly),
            "TradePrice": round(o - d, hourly),
            "SubRules": { "Rule": [] },
        }));
    }
    let mut rules = Vec::new();
    if discount > 0.0 {
        rules
            .push(json!({ "RuleId": 1_000_001u64, "Description": "Yearly subscription: 15% off" }));
    }
    if p.str("InternetChargeType")
        .map_or(true, |c| c.eq_ignore_ascii_case("PayByTraffic"))
        && resource != "disk"
    {
        rules.push(json!({
            "RuleId": 1_000_002u64,
            "Description": format!(
                "PayByTraffic: outbound traffic is billed separately at {} {}/GB",
                catalog.bandwidth.PayByTraffic.per_gb, catalog.currency
            ),
        }));
    }
    Ok(json!({
        "PriceInfo": {
            "Price": {
                "OriginalPrice": round(original, hourly),
                "DiscountPrice": round(off, hourly),
                "TradePrice": round(original - off, hourly),
                "Currency": catalog.currency,
                "DetailInfos": { "DetailInfo": details },
            },
            "Rules": { "Rule": rules },
        }
    }))
}

fn default_disk(t: &InstanceType) -> String {
    ["cloud_efficiency", "cloud_essd", "cloud_auto"]
        .iter()
        .find(|d| t.disk_categories.iter().any(|c| c == *d))
        .map_or_else(|| "cloud_essd".to_string(), |d| d.to_string())
}

// ---- images --------------------------------------------------------------------------------

fn image_json(i: &Image) -> Value {
    json!({
        "ImageId": i.image_id,
        "ImageName": i.image_name,
        "ImageFamily": i.image_family,
        "ImageVersion": i.image_version,
        "ImageOwnerAlias": "system",
        "OSName": i.os_name,
        "OSNameEn": i.os_name_en,
        "OSType": i.os_type,
        "Platform": i.platform,
        "Architecture": i.architecture,
        "Size": i.size,
        "Status": "Available",
        "Usage": "instance",
        "Progress": "100%",
        "Description": "",
        "IsSupportIoOptimized": true,
        "IsSupportCloudinit": true,
        "IsSubscribed": false,
        "IsCopied": false,
        "IsSelfShared": "",
        "ProductCode": "",
        "CreationTime": i.creation_time,
        "BootMode": if i.architecture == "arm64" { "UEFI" } else { "BIOS" },
        "DiskDeviceMappings": { "DiskDeviceMapping": [{
            "Type": "system", "Device": "/dev/xvda", "Size": i.size.to_string(), "Format": "",
        }]},
        "Features": { "NvmeSupport": "supported" },
        "Tags": { "Tag": [] },
    })
}

pub fn describe_images(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?;
    let ids = p.comma_list("ImageId", 100)?;
    let name = p.str("ImageName");
    let family = p.str("ImageFamily");
    let owner = p.choice(
        "ImageOwnerAlias",
        &["system", "self", "others", "marketplace"],
    )?;
    let os_type = p.choice("OSType", &["linux", "windows"])?;
    let arch = p.choice("Architecture", &["i386", "x86_64", "arm64"])?;
    let itype = match p.str("InstanceType") {
        Some(_) => Some(resolve_type(p)?),
        None => None,
    };
    let statuses: Vec<&str> = p
        .str("Status")
        .unwrap_or("Available")
        .split(',')
        .map(str::trim)
        .collect();
    let status_ok = statuses
        .iter()
        .any(|s| *s == "Available" || s.eq_ignore_ascii_case("ALL"));
    let catalog = p.catalog;
    let mut list: Vec<&Image> = catalog
        .images
        .iter()
        .filter(|i| {
            status_ok
                && owner.map_or(true, |o| o == "system")
                && ids
                    .as_ref()
                    .map_or(true, |ids| ids.contains(&i.image_id.as_str()))
                && name.map_or(true, |n| n == i.image_name)
                && family.map_or(true, |f| f == i.image_family)
                && os_type.map_or(true, |o| o == i.os_type)
                && arch.map_or(true, |a| a == i.architecture)
                && itype.map_or(true, |t| {
                    t.image_arch() == i.architecture && (i.os_type != "windows" || t.memory >= 2.0)
                })
        })
        .collect();
    list.sort_by(|a, b| b.creation_time.cmp(&a.creation_time));
    // The account's own images (issue 15) come first: they are the newest.
    let mut all = super::snapshots::own_images(w, p, region, &statuses)?;
    all.extend(list.into_iter().map(image_json));
    if family.is_some() {
        all.truncate(1);
    }
    let mut body = Map::new();
    body.insert("RegionId".into(), region.into());
    paging::page(p, all, |v| v, body)
}
