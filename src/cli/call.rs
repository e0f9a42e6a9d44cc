//! `ecsh call PRODUCT ACTION Key=Value…`: one raw API call, the JSON answer on stdout.
//!
//! It is not a second door: the call goes through the host's gateway exactly as a script's
//! `call_api` does (same action check, same canonical request, same guard), and it is a run of
//! its own — journalled, its creations tagged with the run's id and kept, so `ecsh ledger`
//! lists what it made and `ecsh cleanup RUN` releases it.
//!
//! `--dry-run` prints the request instead of sending it (the secret never appears: it is not
//! part of a request, and a security token is shown as `<redacted>`). For an action that
//! creates something or needs an approval the signature is withheld, since a signed URL stays
//! live for 15 minutes; `--dry-run=signed` signs it after the guard approved it, journalled
//! like a sent request, so what the URL creates can be found by its tag.

use super::{exit, GlobalArgs, UsageError};
use crate::guard::block::escape;
use crate::host::{gateway, Host};
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
    /// Print the request without sending it (as one GET URL unless --method post). The
    /// signature is withheld for an action that creates something or may cost money, unless
    /// `--dry-run=signed` (asks for the approval first; the URL is live for 15 minutes).
    #[arg(long, value_enum, num_args = 0..=1, require_equals = true,
          default_missing_value = "unsigned", value_name = "signed")]
    pub dry_run: Option<DryRun>,
    /// HTTP method: post (parameters in a form body; the default when sending) or get (all in
    /// the URL; the default for --dry-run, so the output is one URL to paste).
    #[arg(long, value_enum)]
    pub method: Option<HttpMethod>,
    #[command(flatten)]
    pub flags: CallFlags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DryRun {
    /// Signed only when the action is a read or a free change.
    Unsigned,
    /// Signed whatever the action, once the guard approved it.
    Signed,
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
    gateway::validate_action(product, &args.action).map_err(|e| UsageError(e.message()))?;
    if crate::host::keys::answers_a_private_key(product, &args.action) {
        return Err(UsageError(crate::host::keys::no_key_from_call(
            &args.action,
        )));
    }
    let params = super::call_params::parse(&args.params)?;
    Ok((product, params))
}

pub fn run(global: &GlobalArgs, args: CallArgs) -> anyhow::Result<i32> {
    let (product, params) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("ecsh call: {}", escape(&e.to_string()));
            return Ok(exit::USAGE);
        }
    };
    if args.dry_run == Some(DryRun::Unsigned) {
        return unsigned_dry_run(global, &args, product, params);
    }
    let label = format!("call {product} {}", args.action);
    let method = match args.method {
        Some(HttpMethod::Get) => crate::rpc::Method::Get,
        Some(HttpMethod::Post) | None => crate::rpc::Method::Post,
    };
    let prepared = match super::session::prepare_with(global, &label, |o| o.method = method)? {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let host = Host::new(&prepared.session);
    let mut request: serde_json::Map<String, serde_json::Value> =
        params.into_iter().map(|(k, v)| (k, v.into())).collect();
    // As call_api does: the session's region unless given (the quote prices that region).
    request
        .entry("RegionId")
        .or_insert_with(|| prepared.session.region.clone().into());
    let signed = args.dry_run == Some(DryRun::Signed);
    let result = if signed {
        host.gateway
            .prepare_signed(product, &args.action, request)
            .map(|r| serde_json::Value::String(r.display_redacted()))
    } else {
        host.gateway.call(product, &args.action, request)
    };
    let decisions = prepared.guard.decisions();
    if !decisions.is_empty() {
        eprint!("{}", crate::guard::decision::summary(&decisions));
    }
    let code = match &result {
        Ok(serde_json::Value::String(url)) if signed => {
            println!("{url}");
            exit::OK
        }
        Ok(body) => {
            super::print_value(global, body)?;
            exit::OK
        }
        Err(e) => {
            eprintln!("ecsh call: {}", escape(&e.to_string()));
            exit::FAILURE
        }
    };
    // A raw call's creations are what the user asked for: kept, so the run ends holding them
    // (listed by `ecsh ledger`, released by `ecsh cleanup RUN`). A signed dry run leaves its
    // run open: whatever the URL creates later is found by the run's tag.
    let run = prepared.ledger.run_id().as_str().to_string();
    if signed {
        if decisions.iter().any(|d| d.approved) || is_creating(product, &args.action) {
            eprintln!(
                "ecsh call: the URL is signed and live for 15 minutes; what it creates carries \
                 the tag ecsh:run={run}: `ecsh cleanup {run}` releases it"
            );
        }
    } else {
        let kept = prepared.ledger.keep_all().unwrap_or_default();
        match prepared.runtime.block_on(prepared.ledger.finish()) {
            Ok(_) if !kept.is_empty() => {
                eprintln!(
                    "ecsh call: kept {} as run {run} (`ecsh ledger` lists it, `ecsh cleanup {run}` \
                     releases it)",
                    kept.join(", ")
                );
                // The approval covered the estimated runtime; the bill does not stop there.
                for d in decisions.iter().filter(|d| d.approved) {
                    if let (Some(h), Some(c)) = (d.hourly, &d.currency) {
                        eprintln!(
                            "ecsh call: it costs {} {}/hour until released; the approval \
                             covered {}",
                            escape(c),
                            crate::guard::block::format_price(h),
                            escape(&d.detail)
                        );
                    }
                }
            }
            Ok(_) => {}
            Err(e) => eprintln!("ecsh call: the run's journal could not be finished: {e}"),
        }
    }
    prepared.close();
    Ok(code)
}

fn is_creating(product: Product, action: &str) -> bool {
    ops::find(product, action).is_some_and(|a| a.creates().is_some())
        || crate::guard::needs_approval(action)
}

/// `--dry-run`: the request as it would be sent; signed only for reads and free changes.
fn unsigned_dry_run(
    global: &GlobalArgs,
    args: &CallArgs,
    product: Product,
    params: Params,
) -> anyhow::Result<i32> {
    let runtime = super::runtime()?;
    let mut options = global.target_options()?;
    options.method = match args.method {
        Some(HttpMethod::Post) => crate::rpc::Method::Post,
        Some(HttpMethod::Get) | None => crate::rpc::Method::Get,
    };
    let target = runtime.block_on(crate::connect::connect(&options))?;
    let request: serde_json::Map<String, serde_json::Value> =
        params.into_iter().map(|(k, v)| (k, v.into())).collect();
    let json_params = ops::find(product, &args.action).map_or(&[][..], |a| a.json_params);
    let flat = match crate::rpc::flatten(&request, json_params) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("ecsh call: {}", escape(&e.to_string()));
            return Ok(exit::USAGE);
        }
    };
    let mut prepared = target.client.prepare(product, &args.action, flat)?;
    let withheld = is_creating(product, &args.action);
    if withheld {
        prepared = prepared.without_signature();
    }
    println!("{}", prepared.display_redacted());
    if withheld {
        eprintln!(
            "ecsh call: the signature is withheld: {} creates or may cost something, and a signed \
             request stays live for 15 minutes; --dry-run=signed signs it after approval",
            escape(&args.action)
        );
    }
    if let Some(sim) = target.sim {
        let _ = runtime.block_on(sim.shutdown());
    }
    Ok(exit::OK)
}
