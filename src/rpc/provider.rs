//! Credential sources that need work to give keys (assume a role, read the metadata service,
//! run a process, GET a URI), and the [`Refresher`] that caches their keys and fetches fresh
//! ones before the old ones expire.
//!
//! [`super::credentials`] decides WHICH source is used (one documented order) and builds a
//! [`CredentialSource`]; this module only knows HOW each kind gives keys. The fetchers live
//! beside it: [`super::sts`] (AssumeRole, AssumeRoleWithOIDC through the signed RPC client),
//! [`super::metadata`] (IMDSv2, v1 fallback), [`super::process`] (`process_command`) and
//! [`super::credentials_uri`]. A fetch that fails is a [`CredentialError`] naming the source
//! and the fix; it never falls through to another source. Secrets are [`Secret`]s from the
//! moment they are parsed; nothing here prints.

use super::credentials::Credentials;
use super::error::CredentialError;
use crate::secret::Secret;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
use time::OffsetDateTime;

/// Refresh this long before expiry at most (the official libraries use about 3 minutes).
pub const REFRESH_AHEAD: Duration = Duration::from_secs(180);
/// What `expired_seconds` / `DurationSeconds` default to.
pub const DEFAULT_DURATION_SECS: u64 = 3600;
/// The shortest STS duration; shorter configured values are an error, not silently raised.
pub const MIN_DURATION_SECS: u64 = 900;

/// A configured source of credentials and where it was configured (`origin`, as errors and
/// `ecsh whoami` name it).
#[derive(Clone, Debug)]
pub struct CredentialSource {
    pub kind: SourceKind,
    pub origin: String,
}

/// How a source gives keys.
#[derive(Clone, Debug)]
pub enum SourceKind {
    /// Keys given as they are (env, `AK`, `StsToken`, INI `access_key`).
    Static(Credentials),
    /// STS `AssumeRole` with the keys of another source (`RamRoleArn`, `ChainableRamRoleArn`).
    AssumeRole(Box<AssumeRole>),
    /// STS `AssumeRoleWithOIDC` with a token read from a file at every refresh.
    Oidc(Oidc),
    /// The instance RAM role, from the ECS metadata service.
    EcsRamRole(EcsRamRole),
    /// The JSON a command prints (`External`).
    Process(Process),
    /// The JSON a URI answers (`CredentialsURI`, `ALIBABA_CLOUD_CREDENTIALS_URI`).
    Uri(String),
}

/// Which STS endpoint the official libraries choose: `sts.aliyuncs.com`, or regional
/// `sts.<region>.aliyuncs.com`, or `sts-vpc.<region>.aliyuncs.com` with VPC endpoints on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StsEndpoint {
    pub region: Option<String>,
    pub vpc: bool,
}

impl StsEndpoint {
    pub fn url(&self) -> String {
        match (&self.region, self.vpc) {
            (Some(r), true) => format!("https://sts-vpc.{r}.aliyuncs.com"),
            (Some(r), false) => format!("https://sts.{r}.aliyuncs.com"),
            (None, _) => "https://sts.aliyuncs.com".to_string(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct AssumeRole {
    /// Whose keys sign the `AssumeRole` call (itself any source, so chains have any length).
    pub base: CredentialSource,
    pub role_arn: String,
    pub session_name: String,
    pub duration_secs: u64,
    pub policy: Option<String>,
    pub external_id: Option<String>,
    pub sts: StsEndpoint,
}

#[derive(Clone, Debug)]
pub struct Oidc {
    pub role_arn: String,
    pub provider_arn: String,
    pub token_file: PathBuf,
    pub session_name: String,
    pub duration_secs: u64,
    pub policy: Option<String>,
    pub sts: StsEndpoint,
}

#[derive(Clone, Debug)]
pub struct EcsRamRole {
    /// `None`: discovered from the metadata service.
    pub role: Option<String>,
    /// `http://100.100.100.200`, or `ECSH_METADATA_ENDPOINT`.
    pub endpoint: String,
    pub imdsv1_disabled: bool,
}

#[derive(Clone)]
pub struct Process {
    pub command: String,
    pub timeout: Duration,
}

impl Process {
    /// How output and errors name the command: its program only (`vault …`), because the
    /// arguments of a credential command may hold a secret.
    pub fn shown(&self) -> String {
        let program = self.command.split_whitespace().next().unwrap_or_default();
        if program.len() == self.command.trim().len() {
            format!("`{program}`")
        } else {
            format!("`{program} …`")
        }
    }
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process")
            .field("command", &self.shown())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Keys a source gave, and until when they are good.
#[derive(Clone, Debug)]
pub struct Fetched {
    pub credentials: Credentials,
    pub expiration: Option<OffsetDateTime>,
    pub obtained: OffsetDateTime,
}

impl Fetched {
    pub fn lasting(credentials: Credentials) -> Fetched {
        Fetched {
            credentials,
            expiration: None,
            obtained: OffsetDateTime::now_utc(),
        }
    }

    /// True when these keys should be replaced before the next call: within
    /// `min(REFRESH_AHEAD, a quarter of their lifetime)` of expiring, or past it.
    pub fn due(&self, now: OffsetDateTime) -> bool {
        let Some(expiration) = self.expiration else {
            return false;
        };
        let lifetime = (expiration - self.obtained).max(time::Duration::ZERO);
        let cap = time::Duration::try_from(REFRESH_AHEAD).unwrap_or(time::Duration::ZERO);
        let quarter: time::Duration = lifetime / 4_i32;
        let ahead = quarter.min(cap);
        now + ahead >= expiration
    }
}

/// What a fetch needs besides the source: the `--endpoint` override (STS calls go there too)
/// and the client's region.
#[derive(Clone, Debug, Default)]
pub struct FetchContext {
    pub endpoint_override: Option<String>,
    pub region: String,
}

impl CredentialSource {
    pub fn new(kind: SourceKind, origin: impl Into<String>) -> CredentialSource {
        CredentialSource {
            kind,
            origin: origin.into(),
        }
    }

    /// True when the keys are given as they are and never change.
    pub fn is_static(&self) -> bool {
        matches!(self.kind, SourceKind::Static(_))
    }

    /// An error of this source.
    pub fn error(&self, reason: impl Into<String>, fix: impl Into<String>) -> CredentialError {
        CredentialError {
            origin: self.origin.clone(),
            reason: reason.into(),
            fix: fix.into(),
        }
    }

    /// Fetches keys (boxed: `AssumeRole` fetches its base source first, so this recurses).
    pub fn fetch<'a>(
        &'a self,
        ctx: &'a FetchContext,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Fetched, CredentialError>> + Send + 'a>,
    > {
        Box::pin(async move {
            match &self.kind {
                SourceKind::Static(c) => Ok(Fetched::lasting(c.clone())),
                SourceKind::AssumeRole(a) => super::sts::assume_role(self, a, ctx).await,
                SourceKind::Oidc(o) => super::sts::assume_role_with_oidc(self, o, ctx).await,
                SourceKind::EcsRamRole(e) => super::metadata::fetch(self, e).await,
                SourceKind::Process(p) => super::process::fetch(self, p).await,
                SourceKind::Uri(uri) => super::credentials_uri::fetch(self, uri).await,
            }
        })
    }

    /// One line per hop, for `ecsh whoami`: `assume role X with the keys of …`.
    pub fn describe(&self) -> String {
        match &self.kind {
            SourceKind::Static(c) if c.security_token.is_some() => "an STS key and token".into(),
            SourceKind::Static(_) => "an AccessKey pair".into(),
            SourceKind::AssumeRole(a) => format!(
                "AssumeRole {} (session {}, {} s) with the keys of {}: {}",
                a.role_arn,
                a.session_name,
                a.duration_secs,
                a.base.origin,
                a.base.describe()
            ),
            SourceKind::Oidc(o) => format!(
                "AssumeRoleWithOIDC {} (provider {}, token file {}, session {}, {} s)",
                o.role_arn,
                o.provider_arn,
                o.token_file.display(),
                o.session_name,
                o.duration_secs
            ),
            SourceKind::EcsRamRole(e) => format!(
                "the instance RAM role {} from the metadata service at {}",
                e.role.as_deref().unwrap_or("(discovered)"),
                e.endpoint
            ),
            SourceKind::Process(p) => format!(
                "the output of process_command {} (timeout {} s)",
                p.shown(),
                p.timeout.as_secs_f64()
            ),
            SourceKind::Uri(uri) => format!("GET {uri}"),
        }
    }
}

/// Holds the keys of one source, fetches them on first use and again when they are due, and
/// on demand after the service said they expired. Shared by a client and its detached copies.
pub struct Refresher {
    source: CredentialSource,
    ctx: FetchContext,
    cache: tokio::sync::Mutex<Option<Fetched>>,
}

impl std::fmt::Debug for Refresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refresher")
            .field("origin", &self.source.origin)
            .finish_non_exhaustive()
    }
}

impl Refresher {
    pub fn new(source: CredentialSource, ctx: FetchContext) -> Refresher {
        Refresher {
            source,
            ctx,
            cache: tokio::sync::Mutex::new(None),
        }
    }

    pub fn source(&self) -> &CredentialSource {
        &self.source
    }

    /// Keys to sign the next request with: the cached ones unless they are due.
    pub async fn current(&self) -> Result<Credentials, CredentialError> {
        let mut cache = self.cache.lock().await;
        if let Some(f) = cache.as_ref().filter(|f| !f.due(OffsetDateTime::now_utc())) {
            return Ok(f.credentials.clone());
        }
        let fresh = self.source.fetch(&self.ctx).await?;
        let creds = fresh.credentials.clone();
        *cache = Some(fresh);
        Ok(creds)
    }

    /// Forgets the cached keys (the service said they expired) and fetches new ones. Keys
    /// that never change cannot be refreshed: `None`.
    pub async fn refresh(&self) -> Option<Result<Credentials, CredentialError>> {
        if self.source.is_static() {
            return None;
        }
        self.cache.lock().await.take();
        Some(self.current().await)
    }

    /// The cached keys, without fetching (for `--dry-run`, which sends nothing).
    pub fn cached(&self) -> Option<Credentials> {
        self.cache
            .try_lock()
            .ok()
            .and_then(|c| c.as_ref().map(|f| f.credentials.clone()))
    }
}

/// Reads `{AccessKeyId, AccessKeySecret, SecurityToken, Expiration}` (the shape STS, the
/// metadata service and credentials URIs share). Errors name the missing field only: the
/// value may hold secrets.
pub fn parse_temporary(v: &Value) -> Result<Fetched, String> {
    let field = |name: &str| -> Result<String, String> {
        v.get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("the answer has no {name}"))
    };
    let id = field("AccessKeyId")?;
    let secret = Secret::new(field("AccessKeySecret")?);
    let token = v
        .get("SecurityToken")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(Secret::new);
    let expiration = match v.get("Expiration").and_then(Value::as_str) {
        Some(text) => Some(parse_expiration(text)?),
        None => None,
    };
    Ok(Fetched {
        credentials: Credentials {
            access_key_id: id,
            secret,
            security_token: token,
        },
        expiration,
        obtained: OffsetDateTime::now_utc(),
    })
}

/// `2026-12-01T08:00:00Z` (RFC 3339).
pub fn parse_expiration(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|_| format!("its Expiration `{text}` is not a time like 2026-12-01T08:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetched(lifetime_secs: i64) -> Fetched {
        let obtained = OffsetDateTime::now_utc();
        Fetched {
            credentials: Credentials::new("id", "s"),
            expiration: Some(obtained + time::Duration::seconds(lifetime_secs)),
            obtained,
        }
    }

    #[test]
    fn refreshes_three_minutes_ahead_or_at_three_quarters_of_a_short_life() {
        let f = fetched(3600);
        let at = |secs| f.obtained + time::Duration::seconds(secs);
        assert!(!f.due(at(3600 - 181)));
        assert!(f.due(at(3600 - 180)));
        let short = fetched(100);
        let at = |secs| short.obtained + time::Duration::seconds(secs);
        assert!(!short.due(at(74)));
        assert!(short.due(at(75)));
        assert!(!Fetched::lasting(Credentials::new("a", "b")).due(at(1_000_000)));
    }

    #[test]
    fn temporary_answers_need_every_field_and_never_quote_values() {
        let v = serde_json::json!({"AccessKeyId": "STS.x", "AccessKeySecret": "s3cr3t",
            "SecurityToken": "t0k", "Expiration": "2026-12-01T08:00:00Z"});
        let f = parse_temporary(&v).unwrap();
        assert_eq!(f.credentials.secret.expose(), "s3cr3t");
        assert!(f.expiration.is_some());
        let e = parse_temporary(&serde_json::json!({"AccessKeyId": "s3cr3t"})).unwrap_err();
        assert!(
            e.contains("AccessKeySecret") && !e.contains("s3cr3t"),
            "{e}"
        );
        assert!(parse_expiration("tomorrow").is_err());
    }

    #[test]
    fn sts_endpoints_are_chosen_like_the_official_libraries() {
        let mut e = StsEndpoint::default();
        assert_eq!(e.url(), "https://sts.aliyuncs.com");
        e.region = Some("cn-shanghai".into());
        assert_eq!(e.url(), "https://sts.cn-shanghai.aliyuncs.com");
        e.vpc = true;
        assert_eq!(e.url(), "https://sts-vpc.cn-shanghai.aliyuncs.com");
    }
}
