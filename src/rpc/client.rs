//! The client: one call = registry lookup → request parameters (validation, ClientToken) →
//! signed request (fresh nonce and timestamp per attempt) → transport → retry decision.
//!
//! [`Client`] is cheap to clone (an `Arc` inside) and holds one HTTP engine with its
//! connection pool (`transport::Http`), so connections are reused. [`Client::prepare`] builds the signed request without sending it
//! (`ecsh call --dry-run`); [`PreparedRequest`] only ever prints the SecurityToken as
//! `<redacted>` and never holds the AccessKeySecret. Nothing here prints.

use super::clock::{format_timestamp, random_hex, Clock, NonceSource, RandomNonce, SystemClock};
use super::credentials::{validate_region, Credentials};
use super::endpoint::{base_url, normalize_override};
use super::error::CallError;
use super::params::{check_unique, ParamError, Params, RESERVED};
use super::retry::{Retries, RetryPolicy};
use super::{sign, transport};
use crate::ops::{self, Effect, Product};
use crate::secret::Secret;
use serde_json::Value;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How the request travels: GET puts everything in the query string; POST puts the common
/// and signature parameters in the query and the action's parameters in a form body (as the
/// official Tea SDK does), which keeps long lists out of URLs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Method {
    Get,
    #[default]
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything a [`Client`] needs. `Debug` hides the secret and the token.
#[derive(Clone)]
pub struct ClientConfig {
    pub credentials: Credentials,
    pub region: String,
    /// One base URL for every product (the simulator serves ECS and VPC on one address).
    pub endpoint_override: Option<String>,
    pub method: Method,
    pub retry: RetryPolicy,
    /// Per attempt: connecting, sending and reading the whole answer.
    pub timeout: Duration,
    pub clock: Arc<dyn Clock>,
    pub nonce: Arc<dyn NonceSource>,
}

impl ClientConfig {
    /// POST, the default retry policy (4 attempts, 500 ms base, 20 s cap), a 60 s timeout, the
    /// system clock and random nonces.
    pub fn new(credentials: Credentials, region: impl Into<String>) -> ClientConfig {
        ClientConfig {
            credentials,
            region: region.into(),
            endpoint_override: None,
            method: Method::Post,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(60),
            clock: Arc::new(SystemClock),
            nonce: Arc::new(RandomNonce),
        }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("credentials", &self.credentials)
            .field("region", &self.region)
            .field("endpoint_override", &self.endpoint_override)
            .field("method", &self.method)
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Counters since the client was made: `calls` is HTTP requests sent (retries included),
/// `retries` is how many of those repeated an earlier attempt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallStats {
    pub calls: u64,
    pub retries: u64,
}

/// The RPC client for ECS and VPC.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClientConfig,
    http: transport::Http,
    counters: Arc<Counters>,
}

/// Shared by a client and its [`Client::detached`] copies, so the stats count every call.
#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    retries: AtomicU64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Client {
    /// Checks the region and endpoint and sets up the HTTP client.
    pub fn new(mut config: ClientConfig) -> Result<Client, CallError> {
        validate_region(&config.region)?;
        if let Some(url) = &config.endpoint_override {
            config.endpoint_override = Some(normalize_override(url, "the client configuration")?);
        }
        let http = transport::Http::new(&config)?;
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                http,
                counters: Arc::default(),
            }),
        })
    }

    /// The same client — configuration and call counters — with its own HTTP connection pool,
    /// for use on another tokio runtime: pooled connections belong to the runtime that opened
    /// them, so one pool must not serve two runtimes.
    pub fn detached(&self) -> Result<Client, CallError> {
        let config = self.inner.config.clone();
        let http = transport::Http::new(&config)?;
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                http,
                counters: self.inner.counters.clone(),
            }),
        })
    }

    /// The region sent as `RegionId` when a call gives none.
    pub fn region(&self) -> &str {
        &self.inner.config.region
    }

    /// The base URL requests for `product` go to.
    pub fn base_url(&self, product: Product) -> String {
        base_url(
            product,
            &self.inner.config.region,
            self.inner.config.endpoint_override.as_deref(),
        )
    }

    pub fn stats(&self) -> CallStats {
        CallStats {
            calls: self.inner.counters.calls.load(Ordering::Relaxed),
            retries: self.inner.counters.retries.load(Ordering::Relaxed),
        }
    }

    /// The signed request `call` would send first, without sending it.
    pub fn prepare(
        &self,
        product: Product,
        action: &str,
        params: Params,
    ) -> Result<PreparedRequest, CallError> {
        let params = self.request_params(product, action, params)?;
        Ok(self.sign(product, action, &params))
    }

    /// Calls `action` and returns its JSON answer, retrying what is safe to retry (see
    /// [`super::retry`]).
    pub async fn call(
        &self,
        product: Product,
        action: &str,
        params: Params,
    ) -> Result<Value, CallError> {
        let params = self.request_params(product, action, params)?;
        let retry_safe = ops::find(product, action).is_some_and(|a| a.is_retry_safe());
        let mut retries = Retries::new(self.inner.config.retry, retry_safe);
        loop {
            let request = self.sign(product, action, &params);
            self.inner.counters.calls.fetch_add(1, Ordering::Relaxed);
            let failure =
                match transport::send(&self.inner.http, &request, &self.inner.config.credentials)
                    .await
                {
                    Ok(value) => return Ok(value),
                    Err(failure) => failure,
                };
            let wait =
                retries.next_wait(&failure.error, failure.retry_after, &mut rand::thread_rng());
            let Some(wait) = wait else {
                return Err(failure.error);
            };
            self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
        }
    }

    /// The action's parameters as they will be sent: checked, with `RegionId` and (for a
    /// creating action that takes one) a `ClientToken` added when missing. Built once per
    /// call, so every retry carries the same ClientToken.
    fn request_params(
        &self,
        product: Product,
        action: &str,
        mut params: Params,
    ) -> Result<Params, CallError> {
        if action.trim().is_empty() {
            return Err(ParamError::EmptyAction.into());
        }
        if let Some((name, _)) = params.iter().find(|(k, _)| RESERVED.contains(&k.as_str())) {
            return Err(ParamError::Reserved { name: name.clone() }.into());
        }
        check_unique(&params)?;
        let has = |params: &Params, key: &str| params.iter().any(|(k, _)| k == key);
        if !has(&params, "RegionId") {
            params.push(("RegionId".into(), self.inner.config.region.clone()));
        }
        let wants_token = ops::find(product, action)
            .is_some_and(|a| a.client_token && matches!(a.effect, Effect::Create { .. }));
        if wants_token && !has(&params, "ClientToken") {
            params.push(("ClientToken".into(), format!("ecsh-{}", random_hex(16))));
        }
        Ok(params)
    }

    /// Adds the common parameters with a fresh nonce and timestamp, and signs.
    fn sign(&self, product: Product, action: &str, params: &Params) -> PreparedRequest {
        let config = &self.inner.config;
        let creds = &config.credentials;
        let mut common: Params = vec![
            ("Action".into(), action.to_string()),
            ("Version".into(), product.version().to_string()),
            ("Format".into(), "JSON".into()),
            ("AccessKeyId".into(), creds.access_key_id.clone()),
            ("SignatureMethod".into(), "HMAC-SHA1".into()),
            ("SignatureVersion".into(), "1.0".into()),
            ("SignatureNonce".into(), config.nonce.nonce()),
            ("Timestamp".into(), format_timestamp(config.clock.now())),
        ];
        if let Some(token) = &creds.security_token {
            common.push(("SecurityToken".into(), token.expose().to_string()));
        }
        let all: Vec<&(String, String)> = common.iter().chain(params.iter()).collect();
        let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let string_to_sign = sign::string_to_sign(config.method.as_str(), &pairs);
        let signature = sign::hmac_sha1_base64(creds.secret.expose(), &string_to_sign);
        let (mut query, body) = match config.method {
            Method::Get => (all.into_iter().cloned().collect(), Vec::new()),
            Method::Post => (common, params.clone()),
        };
        query.push(("Signature".into(), signature));
        PreparedRequest {
            product,
            action: action.to_string(),
            method: config.method,
            base_url: self.base_url(product),
            query,
            body,
            string_to_sign,
        }
    }
}

/// A signed request, ready to send. Holds no AccessKeySecret; its printed forms show the
/// SecurityToken as `<redacted>`.
#[derive(Clone)]
pub struct PreparedRequest {
    product: Product,
    action: String,
    method: Method,
    base_url: String,
    query: Params,
    body: Params,
    /// Holds the token (encoded): kept for diagnosing `SignatureDoesNotMatch`, never printed.
    string_to_sign: String,
}

impl PreparedRequest {
    pub fn product(&self) -> Product {
        self.product
    }

    pub fn action(&self) -> &str {
        &self.action
    }

    pub fn method(&self) -> Method {
        self.method
    }

    /// Every parameter (query and body), the token redacted.
    pub fn params_redacted(&self) -> Params {
        redacted(&self.query)
            .into_iter()
            .chain(redacted(&self.body))
            .collect()
    }

    /// The URL with its signed query string; the token shows as a literal `<redacted>`.
    pub fn url_redacted(&self) -> String {
        format!("{}/?{}", self.base_url, encode_redacted(&self.query))
    }

    /// The form body (POST only); the token shows as a literal `<redacted>`.
    pub fn body_redacted(&self) -> Option<String> {
        (self.method == Method::Post).then(|| encode_redacted(&self.body))
    }

    /// The request as a user reads it: method and URL, then the form body for POST.
    pub fn display_redacted(&self) -> String {
        let mut out = format!("{} {}", self.method, self.url_redacted());
        if let Some(body) = self.body_redacted() {
            out.push_str("\nContent-Type: application/x-www-form-urlencoded\n\n");
            out.push_str(&body);
        }
        out
    }

    /// The real URL, token included: for the transport only.
    pub(crate) fn url(&self) -> String {
        format!("{}/?{}", self.base_url, encode_pairs(&self.query))
    }

    /// The request target (`/?` and the signed query), token included: for the transport only.
    pub(crate) fn target(&self) -> String {
        format!("/?{}", encode_pairs(&self.query))
    }

    /// What was signed, token included: for the transport only.
    pub(crate) fn string_to_sign(&self) -> &str {
        &self.string_to_sign
    }

    /// The real form body: for the transport only.
    pub(crate) fn body(&self) -> String {
        encode_pairs(&self.body)
    }
}

impl fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedRequest")
            .field("product", &self.product)
            .field("action", &self.action)
            .field("method", &self.method)
            .field("url", &self.url_redacted())
            .field("body", &self.body_redacted())
            .finish()
    }
}

fn redacted(params: &[(String, String)]) -> Params {
    params
        .iter()
        .map(|(k, v)| {
            let v = if k == "SecurityToken" {
                Secret::PLACEHOLDER.to_string()
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect()
}

/// Like [`encode_pairs`], with the token replaced by a readable, unencoded `<redacted>`.
fn encode_redacted(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let value = if k == "SecurityToken" {
                Secret::PLACEHOLDER.to_string()
            } else {
                sign::percent_encode(v)
            };
            format!("{}={value}", sign::percent_encode(k))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `k=v&…` with the RPC percent-encoding (space as `%20`), which servers decode like any
/// form encoding.
fn encode_pairs(pairs: &[(String, String)]) -> String {
    let len: usize = pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut out = String::with_capacity(len + len / 2);
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        sign::percent_encode_into(&mut out, k);
        out.push('=');
        sign::percent_encode_into(&mut out, v);
    }
    out
}
