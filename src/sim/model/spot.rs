//! Spot capacity (issue 15): the spot price of each instance type in each zone, its history
//! (DescribeSpotPriceHistory), spot stock, and the launch rules RunInstances applies to a spot
//! request.
//!
//! The spot price is a deterministic discount off the catalogue's pay-as-you-go price: between
//! 70% and 90% off, fixed per (zone, type) by a hash, so tests and quotes are exact and two
//! zones of one region differ as they do on the service. It does not move with time; the
//! history repeats it once per hour of the window asked for.
//!
//! Launch rules: spot needs `InstanceChargeType=PostPaid`; `SpotWithPriceLimit` needs a
//! `SpotPriceLimit`, and one below the current spot price is refused
//! (`InvalidSpotPriceLimit.LowerThanPublicPrice` [belief: the code as remembered from the API's
//! error list]); a type/zone whose spot capacity is sold out (`--fault spotnostock=TYPE@ZONE`,
//! `*` for any) fails with `OperationDenied.NoStock`, while the same type pay-as-you-go still
//! launches.
//!
//! Must not: change pay-as-you-go prices or stock.

use super::super::catalog::Catalog;
use super::params::Params;
use super::{SimError, World};
use serde_json::{json, Map, Value};

/// The hourly spot price of one instance of `instance_type` in `zone`, or `None` when the
/// region does not sell the type.
pub fn price(catalog: &Catalog, region: &str, zone: &str, instance_type: &str) -> Option<f64> {
    let payg = catalog.price(region, instance_type)?.hour;
    // FNV-1a of "zone|type": a fixed share of 10%..30% of the pay-as-you-go price.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in zone.bytes().chain(*b"|").chain(instance_type.bytes()) {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let share = 0.10 + (hash % 21) as f64 / 100.0;
    Some((payg * share * 10_000.0).round() / 10_000.0)
}

/// The zone a spot quote is for: the request's, else the region's first zone offering the type.
fn zone_for(
    catalog: &Catalog,
    region: &str,
    zone: Option<&str>,
    instance_type: &str,
) -> Option<String> {
    if let Some(z) = zone {
        return Some(z.to_string());
    }
    catalog
        .region(region)?
        .zones
        .iter()
        .find(|z| z.instance_types.iter().any(|t| t == instance_type))
        .map(|z| z.zone_id.clone())
}

/// The hourly price DescribePrice quotes for the instance itself: the spot price for a spot
/// request, else `None` (the pay-as-you-go price applies).
pub fn quoted_hourly(p: &Params, region: &str, instance_type: &str) -> Option<f64> {
    match p.str("SpotStrategy") {
        Some("SpotAsPriceGo" | "SpotWithPriceLimit") => {
            let zone = zone_for(p.catalog, region, p.str("ZoneId"), instance_type)?;
            price(p.catalog, region, &zone, instance_type)
        }
        _ => None,
    }
}

impl World {
    /// Marks spot capacity of a type in a zone as sold out (`*` matches any).
    pub fn add_spot_no_stock(&mut self, instance_type: &str, zone_id: &str) {
        self.spot_no_stock
            .insert((instance_type.to_string(), zone_id.to_string()));
    }

    pub(super) fn spot_sold_out(&self, instance_type: &str, zone_id: &str) -> bool {
        self.spot_no_stock
            .iter()
            .any(|(t, z)| (t == "*" || t == instance_type) && (z == "*" || z == zone_id))
    }
}

/// The spot rules of a RunInstances / CreateInstance request (nothing for `NoSpot`).
pub fn check_launch(
    w: &World,
    p: &Params,
    region: &str,
    zone: &str,
    instance_type: &str,
    strategy: &str,
    charge_type: &str,
) -> Result<(), SimError> {
    if strategy == "NoSpot" {
        return Ok(());
    }
    if charge_type != "PostPaid" {
        return Err(SimError::invalid(
            "SpotStrategy",
            format!("{strategy} is for pay-as-you-go instances; use InstanceChargeType=PostPaid"),
        ));
    }
    let market = price(w.catalog, region, zone, instance_type).unwrap_or(0.0);
    if strategy == "SpotWithPriceLimit" {
        let limit = p.float("SpotPriceLimit", 0.0, 1e6)?.ok_or_else(|| {
            SimError::new(
                400,
                "MissingParameter",
                "SpotWithPriceLimit needs SpotPriceLimit, the most you pay per instance-hour.",
            )
        })?;
        if limit < market {
            return Err(SimError::new(
                400,
                "InvalidSpotPriceLimit.LowerThanPublicPrice",
                format!(
                    "The SpotPriceLimit {limit} is below the current spot price of \
                     {instance_type} in {zone} ({market}/hour); raise it, or use SpotAsPriceGo \
                     (DescribeSpotPriceHistory shows the price)."
                ),
            ));
        }
    }
    if w.spot_sold_out(instance_type, zone) {
        return Err(SimError::new(
            403,
            "OperationDenied.NoStock",
            format!(
                "Spot capacity of {instance_type} in {zone} is sold out; try another zone or \
                 type, or launch pay-as-you-go (SpotStrategy=NoSpot)."
            ),
        ));
    }
    Ok(())
}

pub fn describe_spot_price_history(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    p.choice("NetworkType", &["vpc", "classic"])?;
    let instance_type = p.need("InstanceType")?;
    let catalog = w.catalog;
    if catalog.price(&region, instance_type).is_none() {
        return Err(SimError::new(
            400,
            "InvalidInstanceType.ValueNotSupported",
            format!("The instance type {instance_type} is not sold in {region}."),
        ));
    }
    let os = p
        .choice("OSType", &["linux", "windows"])?
        .unwrap_or("linux");
    let io = p.str("IoOptimized").unwrap_or("optimized");
    let now = w.wall_now();
    let parse = |key: &str| -> Result<Option<time::OffsetDateTime>, SimError> {
        match p.str(key) {
            None => Ok(None),
            Some(raw) => {
                time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
                    .map(Some)
                    .map_err(|_| {
                        SimError::invalid(
                            key,
                            format!("\"{raw}\" is not a UTC time like 2026-12-01T10:00:00Z"),
                        )
                    })
            }
        }
    };
    let end = parse("EndTime")?.unwrap_or(now);
    let start = parse("StartTime")?.unwrap_or(end - time::Duration::hours(3));
    if start > end {
        return Err(SimError::invalid("StartTime", "it is after EndTime"));
    }
    if end - start > time::Duration::days(30) {
        return Err(SimError::invalid(
            "StartTime",
            "the history covers at most 30 days",
        ));
    }
    let zones: Vec<String> = match p.str("ZoneId") {
        Some(z) => vec![z.to_string()],
        None => catalog
            .region(&region)
            .map(|r| {
                r.zones
                    .iter()
                    .filter(|z| z.instance_types.iter().any(|t| t == instance_type))
                    .map(|z| z.zone_id.clone())
                    .collect()
            })
            .unwrap_or_default(),
    };
    let payg = catalog
        .price(&region, instance_type)
        .map_or(0.0, |t| t.hour);
    let mut points = Vec::new();
    for zone in &zones {
        let Some(spot) = price(catalog, &region, zone, instance_type) else {
            continue;
        };
        let mut t = start;
        while t <= end {
            points.push(json!({
                "ZoneId": zone,
                "InstanceType": instance_type,
                "IoOptimized": io,
                "NetworkType": "vpc",
                "Timestamp": crate::rpc::format_timestamp(t),
                "SpotPrice": spot,
                "OriginPrice": payg,
            }));
            t += time::Duration::hours(1);
        }
    }
    let _ = os;
    let mut body = Map::new();
    body.insert("RegionId".into(), region.into());
    body.insert("Currency".into(), "CNY".into());
    body.insert("NextOffset".into(), 0.into());
    body.insert("SpotPrices".into(), json!({ "SpotPriceType": points }));
    Ok(Value::Object(body))
}
