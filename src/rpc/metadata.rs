//! The ECS instance metadata service as a credential source: the instance RAM role's keys.
//!
//! IMDSv2 first (`PUT /latest/api/token`, then every GET carries the session token); when the
//! token endpoint does not answer with a token, plain v1 GETs, unless
//! `ALIBABA_CLOUD_IMDSV1_DISABLED=true`. The role name comes from the configuration or from
//! `GET /latest/meta-data/ram/security-credentials/`. Timeouts are short (1 s to connect,
//! 5 s per request), because off ECS nothing answers. The address is `http://100.100.100.200`
//! unless `ECSH_METADATA_ENDPOINT` says otherwise (tests, proxies).

use super::error::CredentialError;
use super::provider::{parse_temporary, CredentialSource, EcsRamRole, Fetched};
use std::time::Duration;

/// The real service's address.
pub const DEFAULT_ENDPOINT: &str = "http://100.100.100.200";
const TOKEN_PATH: &str = "/latest/api/token";
const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";
const TTL_HEADER: &str = "X-aliyun-ecs-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "X-aliyun-ecs-metadata-token";
/// The session token's lifetime asked for (the service's maximum).
const TOKEN_TTL_SECS: u32 = 21_600;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Fetches the role's keys.
pub async fn fetch(src: &CredentialSource, cfg: &EcsRamRole) -> Result<Fetched, CredentialError> {
    let base = cfg.endpoint.trim_end_matches('/');
    let unreachable =
        |e: reqwest::Error| {
            src.error(
            format!("the ECS metadata service at {base} did not answer ({})", plain(&e)),
            "run ecsh on an ECS instance with a RAM role attached, or set ECSH_METADATA_ENDPOINT \
             to the metadata service's address, or use another credential source \
             (ALIBABA_CLOUD_ECS_METADATA_DISABLED=true skips this one)",
        )
        };
    let http = reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| {
            src.error(
                format!("cannot set up HTTP ({e})"),
                "check the system's TLS settings",
            )
        })?;
    let put = http
        .put(format!("{base}{TOKEN_PATH}"))
        .header(TTL_HEADER, TOKEN_TTL_SECS.to_string())
        .send()
        .await
        .map_err(unreachable)?;
    let token = if put.status().is_success() {
        Some(put.text().await.map_err(unreachable)?.trim().to_string())
    } else if cfg.imdsv1_disabled {
        return Err(src.error(
            format!(
                "the metadata service at {base} gives no IMDSv2 session token (HTTP {}) and \
                 ALIBABA_CLOUD_IMDSV1_DISABLED=true forbids the v1 fallback",
                put.status().as_u16()
            ),
            "enable IMDSv2 on the instance, or unset ALIBABA_CLOUD_IMDSV1_DISABLED",
        ));
    } else {
        None
    };
    let get = |path: String| {
        let mut req = http.get(format!("{base}{path}"));
        if let Some(t) = &token {
            req = req.header(TOKEN_HEADER, t);
        }
        req.send()
    };
    let role = match &cfg.role {
        Some(r) => r.clone(),
        None => {
            let resp = get(CREDENTIALS_PATH.to_string())
                .await
                .map_err(unreachable)?;
            let status = resp.status();
            let text = resp.text().await.map_err(unreachable)?;
            let role = text.lines().next().unwrap_or_default().trim().to_string();
            if !status.is_success() || role.is_empty() {
                return Err(src.error(
                    format!(
                        "the metadata service at {base} names no RAM role (HTTP {})",
                        status.as_u16()
                    ),
                    "attach a RAM role to the instance, or name it with ALIBABA_CLOUD_ECS_METADATA",
                ));
            }
            role
        }
    };
    let resp = get(format!("{CREDENTIALS_PATH}{role}"))
        .await
        .map_err(unreachable)?;
    let status = resp.status();
    let body = resp.text().await.map_err(unreachable)?;
    if !status.is_success() {
        return Err(src.error(
            format!(
                "the metadata service at {base} has no keys for role {role} (HTTP {})",
                status.as_u16()
            ),
            "check the role name (ALIBABA_CLOUD_ECS_METADATA or the profile's ram_role_name) \
             against the role attached to the instance",
        ));
    }
    let value: serde_json::Value = serde_json::from_str(&body).map_err(|_| {
        src.error(
            format!("the metadata service's answer for role {role} is not JSON"),
            "check that ECSH_METADATA_ENDPOINT points at a metadata service",
        )
    })?;
    if value.get("Code").and_then(|c| c.as_str()) != Some("Success") {
        return Err(src.error(
            format!("the metadata service's answer for role {role} is not Code=Success"),
            "try again shortly; if it persists, check the instance's RAM role",
        ));
    }
    parse_temporary(&value).map_err(|why| {
        src.error(
            format!("the metadata service's answer for role {role} is not usable ({why})"),
            "check that ECSH_METADATA_ENDPOINT points at a metadata service",
        )
    })
}

/// A reqwest error as one line, without the URL's query (none here) and with its cause.
pub(crate) fn plain(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
