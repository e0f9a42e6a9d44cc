//! A credentials URI as a source (`ALIBABA_CLOUD_CREDENTIALS_URI`, or a `CredentialsURI`
//! profile's `credentials_uri`): GET it; the answer must be `{Code: "Success", AccessKeyId,
//! AccessKeySecret, SecurityToken, Expiration}`. The answer holds secrets, so errors name the
//! problem, never the body.

use super::error::CredentialError;
use super::metadata::plain;
use super::provider::{parse_temporary, CredentialSource, Fetched};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(5);

pub async fn fetch(src: &CredentialSource, uri: &str) -> Result<Fetched, CredentialError> {
    let mut builder = reqwest::Client::builder().timeout(TIMEOUT);
    if super::endpoint::is_loopback(uri) {
        builder = builder.no_proxy();
    }
    let http = builder.build().map_err(|e| {
        src.error(
            format!("cannot set up HTTP ({e})"),
            "check the system's TLS settings",
        )
    })?;
    let fix = "check that the credentials URI is right and its server is running";
    let resp = http.get(uri).send().await.map_err(|e| {
        src.error(
            format!("GET {uri} failed ({})", plain(&e.without_url())),
            fix,
        )
    })?;
    let status = resp.status();
    let body = resp.text().await.map_err(|e| {
        src.error(
            format!("GET {uri} failed ({})", plain(&e.without_url())),
            fix,
        )
    })?;
    if !status.is_success() {
        return Err(src.error(format!("GET {uri} answered HTTP {}", status.as_u16()), fix));
    }
    let value: serde_json::Value = serde_json::from_str(&body)
        .map_err(|_| src.error(format!("the answer of {uri} is not JSON"), fix))?;
    if value.get("Code").and_then(|c| c.as_str()) != Some("Success") {
        return Err(src.error(format!("the answer of {uri} is not Code=Success"), fix));
    }
    parse_temporary(&value)
        .map_err(|why| src.error(format!("the answer of {uri} is not usable ({why})"), fix))
}
