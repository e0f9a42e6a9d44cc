//! Spot options of `run_instances` (and the flows built on it; issue 15): `spot_strategy`,
//! `spot_price_limit`, and `spot_fallback`, which sends the same request pay-as-you-go when
//! spot capacity is sold out (`OperationDenied.NoStock`). The fallback is a new request at a
//! new price, so the guard quotes and asks for it again; the result says which one ran
//! (`SpotFallback: true`), and a warning on the diagnostics says why.

use super::errors::HostError;
use super::options::Checked;
use super::Host;
use crate::ops::A;
use serde_json::{Map, Value};

/// `spot_price_limit` only with `SpotWithPriceLimit`, which needs it; `spot_fallback` only
/// with a spot strategy.
pub fn options_agree(c: &Checked) -> Result<(), HostError> {
    let strategy = c.str("spot_strategy").unwrap_or("NoSpot");
    let bad = |m: String| Err(HostError::InvalidOption(format!("{}: {m}", c.func)));
    match (strategy, c.get("spot_price_limit").is_some()) {
        ("NoSpot" | "SpotAsPriceGo" | "SpotWithPriceLimit", _) => {}
        (other, _) => {
            return bad(format!(
                "spot_strategy must be NoSpot, SpotAsPriceGo or SpotWithPriceLimit, not '{other}'"
            ))
        }
    }
    match (strategy, c.get("spot_price_limit").is_some()) {
        ("SpotWithPriceLimit", false) => {
            return bad("SpotWithPriceLimit needs spot_price_limit, the most you pay per instance-hour (describe_spot_price_history shows the market)".into())
        }
        ("NoSpot" | "SpotAsPriceGo", true) => {
            return bad(format!(
                "spot_price_limit applies to spot_strategy: \"SpotWithPriceLimit\" only (it is {strategy})"
            ))
        }
        _ => {}
    }
    if c.bool("spot_fallback") == Some(true) && strategy == "NoSpot" {
        return bad(
            "spot_fallback: true needs a spot_strategy (SpotAsPriceGo or SpotWithPriceLimit)"
                .into(),
        );
    }
    if strategy != "NoSpot"
        && c.str("instance_charge_type")
            .is_some_and(|t| t != "PostPaid")
    {
        return bad(
            "spot instances are pay-as-you-go: instance_charge_type must be PostPaid".into(),
        );
    }
    Ok(())
}

/// Sends RunInstances; a spot request sold out is sent again pay-as-you-go when the script
/// asked for `spot_fallback`.
pub fn run_instances(
    host: &Host,
    c: &Checked,
    params: Map<String, Value>,
) -> Result<Value, HostError> {
    let spot = c.str("spot_strategy").is_some_and(|s| s != "NoSpot");
    match host.gateway.send(&A::RUN_INSTANCES, params.clone()) {
        Err(HostError::Api(e))
            if spot
                && c.bool("spot_fallback") == Some(true)
                && e.code == "OperationDenied.NoStock" =>
        {
            (host.output.warn)(&format!(
                "{}: no spot capacity ({}); falling back to pay-as-you-go as spot_fallback asks",
                c.func, e.message
            ));
            let mut payg = params;
            payg.insert("SpotStrategy".into(), "NoSpot".into());
            payg.remove("SpotPriceLimit");
            let mut resp = host.gateway.send(&A::RUN_INSTANCES, payg)?;
            if let Some(obj) = resp.as_object_mut() {
                obj.insert("SpotFallback".into(), Value::Bool(true));
            }
            Ok(resp)
        }
        other => other,
    }
}
