//! Getting temporary keys from STS: `AssumeRole` (signed with another source's keys) and
//! `AssumeRoleWithOIDC` (unsigned: the OIDC token is the proof), both through the same
//! [`Client`] as every other call, at the endpoint the official libraries choose (or at
//! `--endpoint`, so the simulator answers them too).
//!
//! The OIDC token is read from its file at every fetch (CI systems and RRSA rotate it) and
//! held as a [`Secret`]; it is scrubbed from any error the service returns.

use super::client::{Client, ClientConfig};
use super::credentials::Credentials;
use super::error::{CallError, CredentialError};
use super::provider::{
    parse_temporary, AssumeRole, CredentialSource, FetchContext, Fetched, Oidc, StsEndpoint,
};
use crate::ops::A;
use crate::secret::Secret;
use std::time::Duration;

/// STS answers quickly; a hung endpoint should not hold a run for a minute.
const STS_TIMEOUT: Duration = Duration::from_secs(15);

fn client(creds: Credentials, sts: &StsEndpoint, ctx: &FetchContext) -> Result<Client, CallError> {
    let region = sts
        .region
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| ctx.region.clone());
    let mut config = ClientConfig::new(creds, region);
    config.endpoint_override = Some(ctx.endpoint_override.clone().unwrap_or_else(|| sts.url()));
    config.timeout = STS_TIMEOUT;
    Client::new(config)
}

fn common(
    role_arn: &str,
    session: &str,
    duration: u64,
    policy: &Option<String>,
) -> Vec<(String, String)> {
    let mut p = vec![
        ("RoleArn".to_string(), role_arn.to_string()),
        ("RoleSessionName".to_string(), session.to_string()),
        ("DurationSeconds".to_string(), duration.to_string()),
    ];
    if let Some(policy) = policy.as_ref().filter(|p| !p.trim().is_empty()) {
        p.push(("Policy".into(), policy.clone()));
    }
    p
}

fn answer(
    src: &CredentialSource,
    action: &str,
    v: serde_json::Value,
) -> Result<Fetched, CredentialError> {
    parse_temporary(&v["Credentials"]).map_err(|why| {
        src.error(
            format!("the {action} answer is not usable ({why})"),
            "check that the endpoint is an STS endpoint (--endpoint or ALIBABA_CLOUD_ENDPOINT)",
        )
    })
}

/// `AssumeRole` with the keys of `a.base` (fetched first; its own errors name it).
pub async fn assume_role(
    src: &CredentialSource,
    a: &AssumeRole,
    ctx: &FetchContext,
) -> Result<Fetched, CredentialError> {
    let base = a.base.fetch(ctx).await?;
    let client = client(base.credentials, &a.sts, ctx)
        .map_err(|e| src.error(e.to_string(), "fix the STS region or the endpoint"))?;
    let mut params = common(&a.role_arn, &a.session_name, a.duration_secs, &a.policy);
    if let Some(id) = a.external_id.as_ref().filter(|i| !i.is_empty()) {
        params.push(("ExternalId".into(), id.clone()));
    }
    let v = client
        .call(A::ASSUME_ROLE.product, A::ASSUME_ROLE.name, params)
        .await
        .map_err(|e| {
            src.error(
                format!("AssumeRole {} failed: {e}", a.role_arn),
                format!(
                    "check the role ARN and session name, and that the keys of {} may assume the \
                     role (`ecsh whoami` shows the chain)",
                    a.base.origin
                ),
            )
        })?;
    answer(src, A::ASSUME_ROLE.name, v)
}

/// `AssumeRoleWithOIDC` with the token in `o.token_file`.
pub async fn assume_role_with_oidc(
    src: &CredentialSource,
    o: &Oidc,
    ctx: &FetchContext,
) -> Result<Fetched, CredentialError> {
    let token =
        match std::fs::read_to_string(&o.token_file) {
            Ok(t) if !t.trim().is_empty() => Secret::new(t.trim()),
            Ok(_) => {
                return Err(src.error(
                    format!("the OIDC token file {} is empty", o.token_file.display()),
                    "point the token file setting at the file your CI or RRSA writes the token to",
                ))
            }
            Err(e) => return Err(src.error(
                format!(
                    "the OIDC token file {} cannot be read ({e})",
                    o.token_file.display()
                ),
                "point the token file setting at the file your CI or RRSA writes the token to, \
                 and check that this user may read it",
            )),
        };
    let client = client(Credentials::new("", ""), &o.sts, ctx)
        .map_err(|e| src.error(e.to_string(), "fix the STS region or the endpoint"))?;
    let mut params = common(&o.role_arn, &o.session_name, o.duration_secs, &o.policy);
    params.push(("OIDCProviderArn".into(), o.provider_arn.clone()));
    params.push(("OIDCToken".into(), token.expose().to_string()));
    let v = client
        .call_anonymous(
            A::ASSUME_ROLE_WITH_OIDC.product,
            A::ASSUME_ROLE_WITH_OIDC.name,
            params,
            &token,
        )
        .await
        .map_err(|e| {
            src.error(
                format!("AssumeRoleWithOIDC {} failed: {e}", o.role_arn),
                "check the role ARN, the OIDC provider ARN and that the token is fresh and meant \
                 for this provider",
            )
        })?;
    answer(src, A::ASSUME_ROLE_WITH_OIDC.name, v)
}
