//! The client: one call = registry lookup → request parameters (validation, ClientToken) →
//! signed request (fresh nonce and timestamp per attempt) → transport → retry decision.
//!
//! [`Client`] is cheap to clone (an `Arc` inside) and holds one `reqwest::Client`, so
//! connections are reused. [`Client::prepare`] builds the signed request without sending it
//! (`ecsh call --dry-run`); [`PreparedRequest`] only ever prints the SecurityToken as
//! `<redacted>` and never holds the AccessKeySecret. Nothing here prints.

use super::clock::{format_timestamp, random_hex, Clock, NonceSource, RandomNonce, SystemClock};
use super::credentials::{validate_region, Credentials};
use super::endpoint::{base_url, is_loopback, normalize_override};
use super::error::{CallError, ConfigError};
use super::params::{check_unique, ParamError, Params, RESERVED};
use super::provider::Refresher;
use super::retry::{Retries, RetryPolicy};
use super::{sign, transport};
use crate::ops::{self, Effect, Product};
use crate::secret::Secret;
use serde_json::Value;
use std::borrow::Cow;
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
    /// The keys to sign with, unless `refresher` is set (then they are only its first keys).
    pub credentials: Credentials,
    /// A source whose keys expire (assumed roles, OIDC, the instance role, a process, a URI):
    /// asked before every request, so keys are replaced before they expire, and once more
    /// after the service answers `InvalidSecurityToken.Expired`.
    pub refresher: Option<Arc<Refresher>>,
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
    /// POST, the default retry policy (6 attempts, 500 ms base, 20 s cap), a 60 s timeout, the
    /// system clock and random nonces.
    pub fn new(credentials: Credentials, region: impl Into<String>) -> ClientConfig {
        ClientConfig {
            credentials,
            refresher: None,
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
            .field("refresher", &self.refresher)
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
    http: reqwest::Client,
    /// The base URL of every product on the wire, parsed once (see [`Base`]).
    bases: Bases,
    /// The HMAC key of the secret signed with last, made ready once (see `sign::SigningKey`).
    signing: std::sync::Mutex<Option<(Secret, sign::SigningKey)>>,
    counters: Arc<Counters>,
}

/// A product's base URL, as text (what printed requests show) and parsed. reqwest parses a
/// URL handed to it as text on every request (BENCHMARKS.md, client overhead, stop 23); a
/// request's URL is a clone of the parsed base with the signed query set on it instead.
#[derive(Debug)]
struct Base {
    text: String,
    url: reqwest::Url,
}

/// The base of each product on the wire, one field per product, so every product has one.
#[derive(Clone, Debug)]
struct Bases {
    ecs: Arc<Base>,
    vpc: Arc<Base>,
    sts: Arc<Base>,
}

impl Bases {
    /// The bases for `config` (region and override already checked).
    fn new(config: &ClientConfig) -> Result<Bases, CallError> {
        let base = |product| -> Result<Arc<Base>, CallError> {
            let text = base_url(product, &config.region, config.endpoint_override.as_deref());
            let url = reqwest::Url::parse(&text).map_err(|e| ConfigError::InvalidEndpoint {
                value: text.clone(),
                source_name: "the client configuration".into(),
                reason: e.to_string(),
            })?;
            Ok(Arc::new(Base { text, url }))
        };
        Ok(Bases {
            ecs: base(Product::Ecs)?,
            vpc: base(Product::Vpc)?,
            sts: base(Product::Sts)?,
        })
    }

    fn of(&self, product: Product) -> &Arc<Base> {
        match product {
            Product::Ecs => &self.ecs,
            Product::Vpc => &self.vpc,
            Product::Sts => &self.sts,
        }
    }
}

/// Shared by a client and its [`Client::detached`] copies, so the stats count every call.
#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    retries: AtomicU64,
    /// The service's clock, from the `Date` of its answers.
    server_clock: super::clock::ServerClock,
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
        let http = http_client(&config)?;
        let bases = Bases::new(&config)?;
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                http,
                bases,
                signing: Default::default(),
                counters: Arc::default(),
            }),
        })
    }

    /// The same client — configuration and call counters — with its own HTTP connection pool,
    /// for use on another tokio runtime: pooled connections belong to the runtime that opened
    /// them, so one pool must not serve two runtimes.
    pub fn detached(&self) -> Result<Client, CallError> {
        let config = self.inner.config.clone();
        let http = http_client(&config)?;
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                http,
                bases: self.inner.bases.clone(),
                signing: Default::default(),
                counters: self.inner.counters.clone(),
            }),
        })
    }

    /// The region sent as `RegionId` when a call gives none.
    pub fn region(&self) -> &str {
        &self.inner.config.region
    }

    /// Now on the service's clock, as the `Date` of its latest answer showed it (the
    /// machine's clock before any answer): wall-clock deadlines the service enforces, such as
    /// AutoReleaseTime, are computed from this.
    pub fn server_now(&self) -> time::OffsetDateTime {
        self.inner.counters.server_clock.now()
    }

    /// The `--endpoint` override, when requests do not go to the regional endpoints.
    pub fn endpoint_override(&self) -> Option<&str> {
        self.inner.config.endpoint_override.as_deref()
    }

    /// The AccessKey id requests are signed with (an id, not a secret: the ledger records a
    /// fingerprint of it to know which account a run's resources belong to).
    pub fn access_key_id(&self) -> &str {
        &self.inner.config.credentials.access_key_id
    }

    /// The secret values requests are signed with (AccessKey secret, STS token), for the
    /// rules that keep them out of files such as the REPL history.
    pub fn secret_values(&self) -> Vec<crate::secret::Secret> {
        let creds = &self.inner.config.credentials;
        let mut out = vec![creds.secret.clone()];
        out.extend(creds.security_token.clone());
        out
    }

    /// The base URL requests for `product` go to.
    pub fn base_url(&self, product: Product) -> String {
        self.base(product).text.clone()
    }

    /// The parsed base of `product` (every product on the wire has one).
    fn base(&self, product: Product) -> &Arc<Base> {
        self.inner.bases.of(product)
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
        let config = &self.inner.config;
        let creds = config
            .refresher
            .as_ref()
            .and_then(|r| r.cached())
            .unwrap_or_else(|| config.credentials.clone());
        Ok(self.sign(product, action, &params, Some(&creds)))
    }

    /// The keys for the next request: the refresher's (fetched again when due) or the fixed
    /// ones (borrowed: copying them was three allocations per call).
    async fn credentials(&self) -> Result<Cow<'_, Credentials>, CallError> {
        match &self.inner.config.refresher {
            Some(r) => Ok(Cow::Owned(r.current().await?)),
            None => Ok(Cow::Borrowed(&self.inner.config.credentials)),
        }
    }

    /// Calls `action` without a signature, for STS `AssumeRoleWithOIDC`, whose OIDC token is
    /// the proof. `hidden` (the token) is scrubbed from any error text.
    pub async fn call_anonymous(
        &self,
        product: Product,
        action: &str,
        params: Params,
        hidden: &Secret,
    ) -> Result<Value, CallError> {
        let params = self.request_params(product, action, params)?;
        let scrubber = Credentials {
            access_key_id: String::new(),
            secret: Secret::new(""),
            security_token: Some(hidden.clone()),
        };
        self.send_with_retries(product, action, &params, None, &scrubber)
            .await
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
        let creds = self.credentials().await?;
        match self
            .send_with_retries(product, action, &params, Some(&creds), &creds)
            .await
        {
            // Keys can expire between the refresher's check and the service's (clock skew, a
            // source without an Expiration): fetch fresh ones once and send again. A failing
            // refresh is the source's error, never another source's keys.
            Err(e) if e.code() == Some("InvalidSecurityToken.Expired") => {
                let Some(refreshed) = self.inner.config.refresher.as_ref() else {
                    return Err(e);
                };
                let Some(fresh) = refreshed.refresh().await else {
                    return Err(e);
                };
                let fresh = fresh?;
                self.send_with_retries(product, action, &params, Some(&fresh), &fresh)
                    .await
            }
            other => other,
        }
    }

    /// Signs and sends, retrying what is safe to retry; `creds` None sends unsigned.
    async fn send_with_retries(
        &self,
        product: Product,
        action: &str,
        params: &Params,
        creds: Option<&Credentials>,
        scrubber: &Credentials,
    ) -> Result<Value, CallError> {
        let retry_safe = ops::find(product, action).is_some_and(|a| a.is_retry_safe());
        let mut retries = Retries::new(self.inner.config.retry, retry_safe);
        // An attempt that may have reached the service (no answer, a 5xx) makes the call's
        // outcome unknown even when a later attempt is refused outright (throttled): that
        // error, not the refusal, is what the caller must see, or a lost RunInstances answer
        // would be journalled as "refused" while its instance runs.
        let mut maybe_acted: Option<CallError> = None;
        let started = std::time::Instant::now();
        let mut retried = 0u32;
        loop {
            let request = self.sign(product, action, params, creds);
            self.inner.counters.calls.fetch_add(1, Ordering::Relaxed);
            let failure = match transport::send(
                &self.inner.http,
                &request,
                scrubber,
                &self.inner.counters.server_clock,
            )
            .await
            {
                Ok((status, value)) => {
                    // A scan of the few top-level names, not a hashed lookup: only for the log.
                    let request_id = value
                        .as_object()
                        .and_then(|o| o.iter().find(|(k, _)| *k == "RequestId"))
                        .and_then(|(_, v)| v.as_str());
                    log_call(
                        product,
                        action,
                        params,
                        Some(status),
                        started,
                        request_id,
                        retried,
                    );
                    return Ok(value);
                }
                Err(failure) => failure,
            };
            let wait =
                retries.next_wait(&failure.error, failure.retry_after, &mut rand::thread_rng());
            let Some(wait) = wait else {
                let error = match maybe_acted {
                    Some(earlier) if !super::retry::may_have_acted(&failure.error) => earlier,
                    _ => failure.error,
                };
                let api = error.api();
                log_call(
                    product,
                    action,
                    params,
                    api.map(|e| e.http_status),
                    started,
                    api.and_then(|e| e.request_id.as_deref()),
                    retried,
                );
                return Err(error);
            };
            if maybe_acted.is_none() && super::retry::may_have_acted(&failure.error) {
                maybe_acted = Some(failure.error);
            }
            retried += 1;
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
        let wants_token = ops::find(product, action).is_some_and(|a| {
            a.client_token && matches!(a.effect, Effect::Create { .. } | Effect::Mutate)
        });
        if wants_token && !has(&params, "ClientToken") {
            params.push(("ClientToken".into(), format!("ecsh-{}", random_hex(16))));
        }
        Ok(params)
    }

    /// The v1 signature of `string_to_sign` with `secret`, keyed once per secret (a refreshed
    /// secret is keyed again).
    fn signature(&self, secret: &Secret, string_to_sign: &str) -> String {
        let mut held = self
            .inner
            .signing
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match &*held {
            Some((for_secret, key)) if for_secret == secret => key.sign(string_to_sign),
            _ => {
                let key = sign::SigningKey::new(secret.expose());
                let signature = key.sign(string_to_sign);
                *held = Some((secret.clone(), key));
                signature
            }
        }
    }

    /// Adds the common parameters with a fresh nonce and timestamp, and signs with `creds`
    /// (`None`: no AccessKeyId, no signature).
    fn sign(
        &self,
        product: Product,
        action: &str,
        params: &Params,
        creds: Option<&Credentials>,
    ) -> PreparedRequest {
        let config = &self.inner.config;
        // Names and fixed values are static text: a call signs on every attempt, and each
        // `String` made here was an allocation on the hot path (BENCHMARKS.md, stop 23).
        let mut common: Pairs = Vec::with_capacity(11 + params.len());
        common.push(("Action".into(), action.to_string().into()));
        common.push(("Version".into(), product.version().into()));
        common.push(("Format".into(), "JSON".into()));
        if let Some(creds) = creds {
            common.push(("AccessKeyId".into(), creds.access_key_id.clone().into()));
            common.push(("SignatureMethod".into(), "HMAC-SHA1".into()));
            common.push(("SignatureVersion".into(), "1.0".into()));
        }
        common.push(("SignatureNonce".into(), config.nonce.nonce().into()));
        common.push((
            "Timestamp".into(),
            format_timestamp(config.clock.now()).into(),
        ));
        if let Some(token) = creds.and_then(|c| c.security_token.as_ref()) {
            common.push(("SecurityToken".into(), token.expose().to_string().into()));
        }
        let mut all: Vec<(&str, &str)> = Vec::with_capacity(common.len() + params.len());
        all.extend(common.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));
        all.extend(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let string_to_sign = sign::string_to_sign(config.method.as_str(), &all);
        let signature = creds.map(|c| self.signature(&c.secret, &string_to_sign));
        let (mut query, body) = match config.method {
            Method::Get => {
                common.extend(
                    params
                        .iter()
                        .map(|(k, v)| (k.clone().into(), v.clone().into())),
                );
                (common, Vec::new())
            }
            Method::Post => (common, params.clone()),
        };
        if let Some(signature) = signature {
            query.push(("Signature".into(), signature.into()));
        }
        PreparedRequest {
            product,
            action: action.to_string(),
            method: config.method,
            base: self.base(product).clone(),
            query,
            body,
            string_to_sign,
        }
    }
}

/// Query parameters: the common ones have static names and often static values.
type Pairs = Vec<(Cow<'static, str>, Cow<'static, str>)>;

/// The one `-v` / `ECSH_LOG` line of a finished call (all its attempts), as a `tracing` event
/// of target `ecsh::api`. Only names and ids: parameters, and so secrets, are never logged.
fn log_call(
    product: Product,
    action: &str,
    params: &Params,
    status: Option<u16>,
    started: std::time::Instant,
    request_id: Option<&str>,
    retries: u32,
) {
    let region = params
        .iter()
        .find(|(k, _)| k == "RegionId")
        .map_or("-", |(_, v)| v.as_str());
    tracing::info!(
        target: "ecsh::api",
        "{product} {action} region={region} status={} duration={}ms request_id={} retries={retries}",
        Dash(status),
        started.elapsed().as_millis(),
        request_id.unwrap_or("-"),
    );
}

/// A value, or `-` when there is none, written only when the line is (no `String` per call
/// when nobody listens).
struct Dash<T>(Option<T>);

impl<T: fmt::Display> fmt::Display for Dash<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(v) => v.fmt(f),
            None => f.write_str("-"),
        }
    }
}

/// The HTTP client for `config`: timeouts, user agent, and no proxy for loopback endpoints.
fn http_client(config: &ClientConfig) -> Result<reqwest::Client, CallError> {
    let mut builder = reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("ecsh/", env!("CARGO_PKG_VERSION")));
    if config.endpoint_override.as_deref().is_some_and(is_loopback) {
        builder = builder.no_proxy();
    }
    builder.build().map_err(|e| {
        ConfigError::HttpClient {
            reason: e.to_string(),
        }
        .into()
    })
}

/// A signed request, ready to send. Holds no AccessKeySecret; its printed forms show the
/// SecurityToken as `<redacted>`.
#[derive(Clone)]
pub struct PreparedRequest {
    product: Product,
    action: String,
    method: Method,
    base: Arc<Base>,
    query: Pairs,
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
        format!("{}/?{}", self.base.text, encode_redacted(&self.query))
    }

    /// The form body (POST only); the token shows as a literal `<redacted>`.
    pub fn body_redacted(&self) -> Option<String> {
        (self.method == Method::Post).then(|| encode_redacted(&self.body))
    }

    /// The same request with its signature replaced by a literal `<withheld>`: it shows what
    /// would be sent, and cannot be sent by anyone (`ecsh call --dry-run` of an action that
    /// creates or costs something; a signed URL would stay live for 15 minutes).
    pub fn without_signature(mut self) -> PreparedRequest {
        for (k, v) in &mut self.query {
            if k == "Signature" {
                *v = WITHHELD.into();
            }
        }
        for (k, v) in &mut self.body {
            if k == "Signature" {
                *v = WITHHELD.to_string();
            }
        }
        self
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

    /// The real URL, token included: for the transport only. The same URL as parsing
    /// `{base}/?{query}` gives (a test holds them equal), without parsing the base again.
    pub(crate) fn url(&self) -> reqwest::Url {
        let mut url = self.base.url.clone();
        url.set_query(Some(&encode_pairs(&self.query)));
        url
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

/// Parameters whose values are secrets: shown as `<redacted>` in every printed form.
const HIDDEN_PARAMS: &[&str] = &["SecurityToken", "OIDCToken"];

fn redacted<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> Params {
    params
        .iter()
        .map(|(k, v)| {
            let (k, v) = (k.as_ref(), v.as_ref());
            let v = if HIDDEN_PARAMS.contains(&k) {
                Secret::PLACEHOLDER
            } else {
                v
            };
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// What a withheld signature shows as (see [`PreparedRequest::without_signature`]).
pub const WITHHELD: &str = "<withheld>";

/// Like [`encode_pairs`], with the token replaced by a readable, unencoded `<redacted>` (and a
/// withheld signature shown as is).
fn encode_redacted<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let (k, v) = (k.as_ref(), v.as_ref());
            let value = if HIDDEN_PARAMS.contains(&k) {
                Secret::PLACEHOLDER.to_string()
            } else if k == "Signature" && v == WITHHELD {
                WITHHELD.to_string()
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
fn encode_pairs<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let len: usize = pairs
        .iter()
        .map(|(k, v)| k.as_ref().len() + v.as_ref().len() + 2)
        .sum();
    let mut out = String::with_capacity(len + len / 2);
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        sign::percent_encode_into(&mut out, k.as_ref());
        out.push('=');
        sign::percent_encode_into(&mut out, v.as_ref());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::{FixedClock, FixedNonce};

    fn client(method: Method, endpoint: Option<&str>, token: Option<&str>) -> Client {
        let mut creds = Credentials::new("id", "se cr/et");
        if let Some(t) = token {
            creds = creds.with_security_token(t);
        }
        let mut config = ClientConfig::new(creds, "cn-beijing");
        config.method = method;
        config.endpoint_override = endpoint.map(str::to_string);
        config.clock = Arc::new(FixedClock(time::macros::datetime!(2024-01-02 03:04:05 UTC)));
        config.nonce = Arc::new(FixedNonce("n~ 1*".into()));
        Client::new(config).unwrap()
    }

    /// The URL sent is built from the base parsed once; it must be exactly what parsing the
    /// request's text form gives, for every method, endpoint and awkward value.
    #[test]
    fn the_url_sent_is_the_parsed_text_of_the_request() {
        let params: Params = vec![
            ("Tag.1.Key".into(), "env name/é*~".into()),
            ("InstanceIds".into(), "[\"i-1\",\"i-2\"]".into()),
        ];
        for endpoint in [
            None,
            Some("http://127.0.0.1:8080"),
            Some("https://Example.com:443"),
        ] {
            for method in [Method::Get, Method::Post] {
                let c = client(method, endpoint, Some("to+ken="));
                let p = c
                    .prepare(Product::Vpc, "DescribeVpcs", params.clone())
                    .unwrap();
                let text = format!("{}/?{}", c.base_url(Product::Vpc), encode_pairs(&p.query));
                assert_eq!(p.url(), reqwest::Url::parse(&text).unwrap(), "{text}");
                assert!(p.url().as_str().contains("SecurityToken=to%2Bken%3D"));
                let shown = p.url_redacted();
                assert!(shown.starts_with(&format!("{}/?", c.base_url(Product::Vpc))));
                assert!(shown.contains("SecurityToken=<redacted>"), "{shown}");
            }
        }
    }

    /// The signing key is kept per secret: signatures stay those of `sign_v1`, also when the
    /// keys change between requests (a refreshed role) and back.
    #[test]
    fn a_changed_secret_is_keyed_again() {
        let c = client(Method::Post, None, None);
        let a = Credentials::new("id", "first");
        let b = Credentials::new("id", "second");
        for creds in [&a, &a, &b, &a, &b, &b] {
            let p = c.sign(Product::Ecs, "DescribeRegions", &Vec::new(), Some(creds));
            let signature = p.query.iter().find(|(k, _)| k == "Signature").unwrap();
            let unsigned: Vec<_> = p.query.iter().filter(|(k, _)| k != "Signature").collect();
            let pairs: Vec<(&str, &str)> = unsigned
                .iter()
                .map(|(k, v)| (k.as_ref(), v.as_ref()))
                .collect();
            assert_eq!(
                signature.1,
                sign::sign_v1("POST", &pairs, creds.secret.expose())
            );
        }
    }

    #[test]
    fn each_product_has_its_own_base() {
        let c = client(Method::Post, None, None);
        assert_eq!(
            c.base_url(Product::Ecs),
            "https://ecs.cn-beijing.aliyuncs.com"
        );
        assert_eq!(
            c.base_url(Product::Vpc),
            "https://vpc.cn-beijing.aliyuncs.com"
        );
        let p = c
            .prepare(Product::Ecs, "DescribeRegions", Vec::new())
            .unwrap();
        assert_eq!(p.url().host_str(), Some("ecs.cn-beijing.aliyuncs.com"));
    }
}
