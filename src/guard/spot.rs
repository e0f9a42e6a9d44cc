//! Quoting spot instances (issue 15): which spot strategy a request asks for, and the price the
//! cost block shows for it.
//!
//! - `SpotAsPriceGo`: DescribePrice with the request's `SpotStrategy` answers the current spot
//!   price; the block says it follows the market (never above the pay-as-you-go price).
//! - `SpotWithPriceLimit`: the limit is the worst case, so the instance part of the quote (the
//!   `instanceType` detail of DescribePrice's answer) is replaced by `SpotPriceLimit` × amount;
//!   the block shows the market price beside it.
//!
//! Spot is pay-as-you-go only: a spot request with `InstanceChargeType=PrePaid` cannot be
//! quoted (the service refuses it too). This module only reads, through the quote's reader.

use super::block::{format_price, Money};
use super::params::Flat;
use super::quote::{trade_price, Reader};
use crate::ops::A;
use serde_json::{Map, Value};

/// The spot strategy of a request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Spot {
    No,
    AsPriceGo,
    /// The most paid per instance-hour.
    WithLimit(f64),
}

impl Spot {
    /// Reads `SpotStrategy` / `SpotPriceLimit`; an unknown strategy or a missing or unusable
    /// limit cannot be quoted.
    pub fn of(params: &Flat) -> Result<Spot, String> {
        let strategy = params.get("SpotStrategy").unwrap_or("NoSpot");
        let spot = match strategy {
            s if s.eq_ignore_ascii_case("NoSpot") => return Ok(Spot::No),
            s if s.eq_ignore_ascii_case("SpotAsPriceGo") => Spot::AsPriceGo,
            s if s.eq_ignore_ascii_case("SpotWithPriceLimit") => {
                let raw = params.get("SpotPriceLimit").ok_or(
                    "SpotWithPriceLimit needs SpotPriceLimit (the most paid per instance-hour) to \
                     be quoted",
                )?;
                let limit = raw
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|l| l.is_finite() && *l > 0.0)
                    .ok_or_else(|| {
                        format!(
                            "SpotPriceLimit `{}` is not a positive price per hour",
                            super::block::escape(raw)
                        )
                    })?;
                Spot::WithLimit(limit)
            }
            other => {
                return Err(format!(
                    "SpotStrategy `{}` is not NoSpot, SpotAsPriceGo or SpotWithPriceLimit, so it \
                     cannot be quoted",
                    super::block::escape(other)
                ))
            }
        };
        let charge = params.get("InstanceChargeType").unwrap_or("PostPaid");
        if !charge.eq_ignore_ascii_case("PostPaid") {
            return Err(format!(
                "spot instances are pay-as-you-go only; {strategy} with InstanceChargeType `{}` \
                 cannot be quoted (use PostPaid)",
                super::block::escape(charge)
            ));
        }
        Ok(spot)
    }

    pub fn is_spot(self) -> bool {
        self != Spot::No
    }
}

/// What a spot request costs per hour (for the whole amount), with the market price of one
/// instance now.
pub struct SpotQuote {
    pub hourly: Money,
    pub market_each: Option<f64>,
}

/// Sends the DescribePrice request (which carries the SpotStrategy) and prices it as `spot`.
pub fn quote(
    reader: &mut dyn Reader,
    request: Map<String, Value>,
    spot: Spot,
    amount: u64,
) -> Result<SpotQuote, String> {
    let response = reader
        .read(A::DESCRIBE_PRICE.product, A::DESCRIBE_PRICE.name, request)
        .map_err(|e| format!("the price quote (DescribePrice) failed: {e}"))?;
    let total = trade_price(&response)?;
    let instance_part = response
        .pointer("/PriceInfo/Price/DetailInfos/DetailInfo")
        .and_then(Value::as_array)
        .and_then(|d| {
            d.iter()
                .find(|i| i.get("Resource").and_then(Value::as_str) == Some("instanceType"))
        })
        .and_then(|i| i.get("TradePrice"))
        .and_then(|p| match p {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
    let market_each = instance_part.map(|p| p / amount as f64);
    let hourly = match spot {
        Spot::WithLimit(limit) => Money {
            // Without the breakdown, the limit is added on top: more than it can cost, never less.
            amount: total.amount - instance_part.unwrap_or(0.0) + limit * amount as f64,
            currency: total.currency,
        },
        _ => total,
    };
    Ok(SpotQuote {
        hourly,
        market_each,
    })
}

/// The block's billing line and note for a spot request.
pub fn describe(spot: Spot, q: &SpotQuote, released: &str) -> (String, String) {
    let cur = &q.hourly.currency;
    let market = q
        .market_each
        .map(|m| format!("{cur} {}/hour per instance now", format_price(m)))
        .unwrap_or_else(|| "the market price".into());
    match spot {
        Spot::WithLimit(limit) => (
            format!("spot (SpotWithPriceLimit), pay-as-you-go, {released}"),
            format!(
                "spot instance priced at its limit, {cur} {}/hour per instance: the most it can \
                 cost (market: {market}); it is reclaimed when the market rises above the limit",
                format_price(limit)
            ),
        ),
        _ => (
            format!("spot (SpotAsPriceGo), pay-as-you-go, {released}"),
            format!(
                "spot instance at the current spot price ({market}); it follows the market, never \
                 above the pay-as-you-go price, and can be reclaimed"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Product;
    use serde_json::json;

    fn flat(v: Value) -> Flat {
        Flat::of(v.as_object().expect("object")).expect("flat")
    }

    fn price(_: Product, _: &str, _: Map<String, Value>) -> Result<Value, String> {
        Ok(
            json!({ "PriceInfo": { "Price": { "TradePrice": 0.5, "Currency": "CNY",
            "DetailInfos": { "DetailInfo": [
                { "Resource": "instanceType", "TradePrice": 0.2 },
                { "Resource": "systemDisk", "TradePrice": 0.3 }
            ]}}}}),
        )
    }

    #[test]
    fn a_price_limit_replaces_the_market_price_of_the_instances() {
        let spot = Spot::of(&flat(
            json!({ "SpotStrategy": "SpotWithPriceLimit", "SpotPriceLimit": "0.4" }),
        ))
        .unwrap();
        assert_eq!(spot, Spot::WithLimit(0.4));
        let q = quote(&mut price, Map::new(), spot, 2).unwrap();
        // 0.5 in all, 0.2 of it the two instances at market; at the limit they cost 0.8.
        assert!((q.hourly.amount - 1.1).abs() < 1e-9, "{}", q.hourly.amount);
        assert_eq!(q.market_each, Some(0.1));
        let (billing, note) = describe(spot, &q, "released");
        assert!(
            billing.starts_with("spot (SpotWithPriceLimit)"),
            "{billing}"
        );
        assert!(
            note.contains("CNY 0.4") && note.contains("the most it can cost"),
            "{note}"
        );
    }

    #[test]
    fn the_market_price_is_quoted_as_is_and_bad_requests_cannot_be_quoted() {
        let go = Spot::of(&flat(json!({ "SpotStrategy": "SpotAsPriceGo" }))).unwrap();
        let q = quote(&mut price, Map::new(), go, 1).unwrap();
        assert_eq!(q.hourly.amount, 0.5);
        assert_eq!(Spot::of(&flat(json!({}))).unwrap(), Spot::No);
        for bad in [
            json!({ "SpotStrategy": "SpotWithPriceLimit" }),
            json!({ "SpotStrategy": "SpotWithPriceLimit", "SpotPriceLimit": "-1" }),
            json!({ "SpotStrategy": "Cheap" }),
            json!({ "SpotStrategy": "SpotAsPriceGo", "InstanceChargeType": "PrePaid" }),
        ] {
            assert!(Spot::of(&flat(bad.clone())).is_err(), "{bad}");
        }
    }
}
