//! `-v` / `--verbose` and `ECSH_LOG`: the `tracing` subscriber that writes the client's events
//! on stderr. `-v` shows one line per API call (`ecsh::api` events: product, action, region,
//! HTTP status, duration, request id, retries) and notes about the pace file (`ecsh::pace`: a
//! damaged or unwritable `pace.json`, ignored); `-vv` adds every debug event of ecsh.
//! `ECSH_LOG` takes an `EnvFilter` directive (`info`, `ecsh::api=info`, `debug`) and wins
//! over `-v`. Events carry names and ids only, never parameters, so no secret can show.

use tracing_subscriber::EnvFilter;

/// The environment variable with the log filter.
pub const ENV: &str = "ECSH_LOG";

/// Installs the subscriber when logging is asked for; nothing is logged otherwise.
pub fn init(verbose: u8) {
    let filter = match std::env::var(ENV) {
        Ok(directive) if !directive.trim().is_empty() => {
            match EnvFilter::try_new(directive.trim()) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!(
                        "ecsh: {ENV}='{directive}' is not a log filter ({e}); use e.g. {ENV}=info \
                         or {ENV}=ecsh::api=info; logging is off"
                    );
                    return;
                }
            }
        }
        _ => match verbose {
            0 => return,
            1 => EnvFilter::new("ecsh::api=info,ecsh::pace=info"),
            _ => EnvFilter::new("ecsh=debug"),
        },
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .without_time()
        .with_level(false)
        .try_init();
}
