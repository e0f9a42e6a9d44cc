//! `ecsh call PRODUCT ACTION Key=Value…`: one raw API call, the JSON answer on stdout.
//! `--dry-run` prints the signed request instead of sending it (the secret never appears: it
//! is not part of a request, and a security token is shown as `<redacted>`).

use super::{exit, GlobalArgs, UsageError};
use crate::ops::{self, Product};
use crate::rpc::Params;
use clap::Args;

super::flags::flag_set!(
    /// The shared flags `call` takes.
    CallFlags {
        target: super::flags::TargetFlags,
        guard: super::flags::GuardFlags,
        output: super::flags::OutputFlags,
        log: super::flags::LogFlags,
    }
);

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The product: ecs or vpc.
    pub product: String,
    /// The API action, e.g. DescribeRegions.
    pub action: String,
    /// Parameters as Key=Value, flattened as on the wire (InstanceId.1=i-abc, Tag.1.Key=env),
    /// or as aliyun-cli spells them: --RegionId cn-hangzhou --InstanceIds '["i-1"]'.
    #[arg(allow_hyphen_values = true, value_name = "PARAMS")]
    pub params: Vec<String>,
    /// Print the signed request without sending it (as one GET URL unless --method post).
    #[arg(long)]
    pub dry_run: bool,
    /// HTTP method: post (parameters in a form body; the default when sending) or get (all in
    /// the URL; the default for --dry-run, so the output is one URL to paste).
    #[arg(long, value_enum)]
    pub method: Option<HttpMethod>,
    #[command(flatten)]
    pub flags: CallFlags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HttpMethod {
    Get,
    Post,
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
    let params = super::call_params::parse(&args.params)?;
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
    let guard = match global.guard() {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("ecsh call: {e}");
            return Ok(exit::USAGE);
        }
    };
    let runtime = super::runtime()?;
    let mut options = global.target_options()?;
    options.method = match (args.method, args.dry_run) {
        (Some(HttpMethod::Get), _) | (None, true) => crate::rpc::Method::Get,
        (Some(HttpMethod::Post), _) | (None, false) => crate::rpc::Method::Post,
    };
    let target = runtime.block_on(crate::connect::connect(&options))?;
    let client = target.client.clone();
    if args.dry_run {
        let prepared = client.prepare(product, &args.action, params)?;
        println!("{}", prepared.display_redacted());
        return Ok(exit::OK);
    }
    eprintln!("{}", target.banner);

    // The same guard as scripts: policies, and a quote plus an approval for anything that
    // costs money. Its price lookups go straight to the client (they are reads).
    let mut request: serde_json::Map<String, serde_json::Value> =
        params.into_iter().map(|(k, v)| (k, v.into())).collect();
    // The client would add it anyway; the quote must price the same region.
    request
        .entry("RegionId")
        .or_insert_with(|| client.region().into());
    let mut reader =
        |p: Product, action: &str, query: serde_json::Map<String, serde_json::Value>| {
            let json_params = ops::find(p, action).map_or(&[][..], |a| a.json_params);
            let flat = crate::rpc::flatten(&query, json_params).map_err(|e| e.to_string())?;
            runtime
                .block_on(client.call(p, action, flat))
                .map_err(|e| e.to_string())
        };
    let admitted = guard.admit(product, &args.action, &mut request, &mut reader);
    let decisions = guard.decisions();
    if !decisions.is_empty() {
        eprint!("{}", crate::guard::decision::summary(&decisions));
    }
    if let Err(e) = admitted {
        eprintln!("ecsh call: {e}");
        return Ok(exit::FAILURE);
    }
    let flat: Params = request
        .into_iter()
        .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)))
        .collect();
    match runtime.block_on(client.call(product, &args.action, flat)) {
        Ok(body) => {
            super::print_value(global, &body)?;
            Ok(exit::OK)
        }
        Err(e) => {
            eprintln!("ecsh call: {e}");
            Ok(exit::FAILURE)
        }
    }
}
