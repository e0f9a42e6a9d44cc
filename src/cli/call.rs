//! `ecsh call PRODUCT ACTION Key=Value…`: one raw API call, the JSON answer on stdout.
//! `--dry-run` prints the signed request instead of sending it (the secret never appears: it
//! is not part of a request, and a security token is shown as `<redacted>`).

use super::{exit, GlobalArgs, UsageError};
use crate::ops::{self, Product};
use crate::rpc::Params;
use clap::Args;

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The product: ecs or vpc.
    pub product: String,
    /// The API action, e.g. DescribeRegions.
    pub action: String,
    /// Parameters as Key=Value, flattened as on the wire (InstanceId.1=i-abc, Tag.1.Key=env).
    pub params: Vec<String>,
    /// Print the signed request without sending it.
    #[arg(long)]
    pub dry_run: bool,
}

/// The product, action and parameters of a call, checked; errors are usage errors (exit 2).
pub fn parse(args: &CallArgs) -> Result<(Product, Params), UsageError> {
    let product = Product::from_code(&args.product).ok_or_else(|| {
        let valid: Vec<&str> = Product::ALL.iter().map(|p| p.code()).collect();
        UsageError(format!(
            "unknown product '{}'; valid products: {}",
            args.product,
            valid.join(", ")
        ))
    })?;
    check_action(product, &args.action)?;
    let mut params = Params::new();
    for raw in &args.params {
        let (key, value) = raw.split_once('=').ok_or_else(|| {
            UsageError(format!(
                "parameter '{raw}' is not Key=Value; write e.g. RegionId=cn-hangzhou or InstanceId.1=i-abc"
            ))
        })?;
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        {
            return Err(UsageError(format!(
                "parameter name '{key}' in '{raw}' is not an API parameter name (letters, digits, dots)"
            )));
        }
        params.push((key.to_string(), value.to_string()));
    }
    Ok((product, params))
}

/// Unknown actions may still exist on the service (the client is generic), but a near miss of
/// a known one is almost certainly a typo.
fn check_action(product: Product, action: &str) -> Result<(), UsageError> {
    if !action
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase())
        || !action.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(UsageError(format!(
            "'{action}' is not an API action name (CamelCase letters and digits, e.g. DescribeRegions)"
        )));
    }
    if ops::find(product, action).is_none() {
        if let Some(near) = ops::suggest(Some(product), action) {
            return Err(UsageError(format!(
                "unknown {product} action '{action}'; did you mean '{near}'?"
            )));
        }
    }
    Ok(())
}

pub fn run(global: &GlobalArgs, args: CallArgs) -> anyhow::Result<i32> {
    let (product, params) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("ecsh call: {e}");
            return Ok(exit::USAGE);
        }
    };
    if !args.dry_run && is_chargeable(product, &args.action) {
        eprintln!(
            "ecsh call: {} costs money, and `ecsh call` cannot ask for a cost confirmation yet; \
             create it from a script (`ecsh run`), where the host quotes it and asks first",
            args.action
        );
        return Ok(exit::USAGE);
    }
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let target = crate::connect::connect(&global.target_options()).await?;
        if args.dry_run {
            let prepared = target.client.prepare(product, &args.action, params)?;
            println!("{}", prepared.display_redacted());
            return Ok(exit::OK);
        }
        eprintln!("{}", target.banner);
        match target.client.call(product, &args.action, params).await {
            Ok(body) => {
                super::print_json(&body)?;
                Ok(exit::OK)
            }
            Err(e) => {
                eprintln!("ecsh call: {e}");
                Ok(exit::FAILURE)
            }
        }
    })
}

fn is_chargeable(product: Product, action: &str) -> bool {
    ops::find(product, action).map_or_else(|| ops::looks_chargeable(action), |a| a.chargeable)
}
