//! Who ecsh is and where it talks to: the credential source, region and endpoint override,
//! each with the source it came from, and the chain report of `ecsh whoami`.
//!
//! The official CLI and the official SDKs disagree on whether environment variables or the
//! current profile win. ecsh uses ONE order, first match wins ([`CHAIN`]):
//!
//! 1. A profile named explicitly — `--profile NAME`, else `ALIBABA_CLOUD_PROFILE` — from
//!    `~/.aliyun/config.json` (`ALIBABA_CLOUD_CONFIG_FILE`), else that section of the INI
//!    file. It must exist.
//! 2. The environment: an AccessKey pair (`ALIBABA_CLOUD_ACCESS_KEY_ID` +
//!    `ALIBABA_CLOUD_ACCESS_KEY_SECRET` + `ALIBABA_CLOUD_SECURITY_TOKEN`, or the older names
//!    `ALICLOUD_ACCESS_KEY` / `ALIBABACLOUD_ACCESS_KEY_ID`, `ALICLOUD_SECRET_KEY` /
//!    `ALIBABACLOUD_ACCESS_KEY_SECRET`, `ALICLOUD_SECURITY_TOKEN` / `SECURITY_TOKEN`), else OIDC
//!    (`ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`,
//!    `ALIBABA_CLOUD_OIDC_TOKEN_FILE`). A half-set pair or OIDC set is an error, never skipped.
//! 3. The config file's current profile (`current`, else `default`), unless
//!    `ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true`; every mode of `aliyun_config`.
//! 4. The INI file's `[default]` section (`ini`).
//! 5. The instance RAM role, when `ALIBABA_CLOUD_ECS_METADATA` names it or
//!    `ECSH_METADATA_ENDPOINT` is set, unless `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true`. The
//!    official libraries probe the metadata service unasked; ecsh does not, so that a machine
//!    without credentials gets the embedded simulator at once and tests never leave loopback.
//! 6. `ALIBABA_CLOUD_CREDENTIALS_URI`.
//! 7. Otherwise none (the CLI then uses the embedded simulator).
//!
//! The winner is a [`CredentialSource`]; [`super::provider`] turns it into keys. Empty
//! environment variables count as unset; switch variables must be true or false.
//!
//! **Region**: `--region`, then `ALIBABA_CLOUD_REGION_ID`, then `ALICLOUD_REGION`, then the
//! `region_id` of the profile in use (explicit, else current), then `cn-hangzhou`.
//!
//! **Endpoint override**: `--endpoint`, then `ALIBABA_CLOUD_ENDPOINT`; otherwise each product's
//! default endpoint for the region (see [`super::endpoint`]). STS calls go to the override too.
//!
//! The environment and home directory are passed in ([`Env`], `home`), so tests never touch the
//! real ones. Secrets go straight into [`Secret`]; nothing here prints or logs.

use super::aliyun_config::{ConfigFile, Profile};
use super::endpoint::{self, normalize_override};
use super::error::ConfigError;
use super::ini::{self, IniFile};
use super::provider::{
    CredentialSource, EcsRamRole, FetchContext, Oidc, SourceKind, StsEndpoint,
    DEFAULT_DURATION_SECS,
};
use crate::ops::Product;
use crate::secret::Secret;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// An AccessKey pair, optionally with an STS token. `Debug` masks the id and hides the rest.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret: Secret,
    pub security_token: Option<Secret>,
}

impl Credentials {
    pub fn new(access_key_id: impl Into<String>, secret: impl Into<String>) -> Credentials {
        Credentials {
            access_key_id: access_key_id.into(),
            secret: Secret::new(secret),
            security_token: None,
        }
    }

    pub fn with_security_token(mut self, token: impl Into<String>) -> Credentials {
        self.security_token = Some(Secret::new(token));
        self
    }

    /// Replaces the secret and the token, in every encoding the wire uses, by `<redacted>`:
    /// for text that came back from a server (a `SignatureDoesNotMatch` message quotes the
    /// string to sign, token included).
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        let hidden = std::iter::once(&self.secret).chain(self.security_token.as_ref());
        for s in hidden.map(Secret::expose).filter(|s| !s.is_empty()) {
            let once = super::sign::percent_encode(s);
            let twice = super::sign::percent_encode(&once);
            let form: String = form_urlencoded::byte_serialize(s.as_bytes()).collect();
            for form in [twice, once, form, s.to_string()] {
                out = out.replace(&form, Secret::PLACEHOLDER);
            }
        }
        out
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &mask_key_id(&self.access_key_id))
            .field("secret", &self.secret)
            .field("security_token", &self.security_token)
            .finish()
    }
}

/// `LTAI5tAbcdEfgh1234` → `LTAI****1234`; ids too short to mask safely become `****`.
pub fn mask_key_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() < 10 {
        return "****".to_string();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// Read access to environment variables.
pub trait Env {
    fn var(&self, key: &str) -> Option<String>;
}

/// The process environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok()
    }
}

impl Env for HashMap<String, String> {
    fn var(&self, key: &str) -> Option<String> {
        self.get(key).cloned()
    }
}

/// Values given on the command line; `None` when the flag was not given.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
}

/// Which source won each setting, in words (`env ALIBABA_CLOUD_ACCESS_KEY_ID`,
/// `profile 'dev' in /home/u/.aliyun/config.json`, `flag --region`, `default`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sources {
    /// The profile in use and how it was chosen, when one was.
    pub profile: Option<String>,
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<String>,
    pub security_token: Option<String>,
    pub region: String,
    pub endpoint: Option<String>,
}

/// What `ecsh whoami` says about one source of the chain.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SourceReport {
    /// The source, in the chain's words (`environment`, `INI file`, …).
    pub source: &'static str,
    /// `used`, `skipped` or `not consulted` (an earlier source won).
    pub status: &'static str,
    /// Why: what was found, or why it was skipped.
    pub detail: String,
}

/// The outcome of resolution.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The source that won, if any.
    pub source: Option<CredentialSource>,
    /// Every source of the chain in order: used, skipped (and why) or not consulted.
    pub chain: Vec<SourceReport>,
    pub region: String,
    /// A normalised override URL for both products, when one was given.
    pub endpoint: Option<String>,
    /// The config file consulted (whether or not it exists).
    pub config_path: Option<PathBuf>,
    pub sources: Sources,
}

impl Resolved {
    /// The source, or an error that says where ecsh looked.
    pub fn require_source(&self) -> Result<&CredentialSource, ConfigError> {
        self.source.as_ref().ok_or(ConfigError::NoCredentials)
    }

    /// The keys when the winning source gives them as they are (env, AK, StsToken).
    pub fn static_credentials(&self) -> Option<&Credentials> {
        match &self.source.as_ref()?.kind {
            SourceKind::Static(c) => Some(c),
            _ => None,
        }
    }

    /// What fetching keys needs besides the source: the endpoint override and the region.
    pub fn fetch_context(&self) -> FetchContext {
        FetchContext {
            endpoint_override: self.endpoint.clone(),
            region: self.region.clone(),
        }
    }
}

pub const DEFAULT_REGION: &str = "cn-hangzhou";

const ID_VARS: &[&str] = &[
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALICLOUD_ACCESS_KEY",
    "ALIBABACLOUD_ACCESS_KEY_ID",
];
const SECRET_VARS: &[&str] = &[
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALICLOUD_SECRET_KEY",
    "ALIBABACLOUD_ACCESS_KEY_SECRET",
];
/// Token variables; the generic `SECURITY_TOKEN` only counts together with a key pair.
const TOKEN_VARS: &[&str] = &[
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALICLOUD_SECURITY_TOKEN",
    "SECURITY_TOKEN",
];
const REGION_VARS: &[&str] = &["ALIBABA_CLOUD_REGION_ID", "ALICLOUD_REGION"];
/// The OIDC variables that must be set together.
const OIDC_VARS: [&str; 3] = [
    "ALIBABA_CLOUD_ROLE_ARN",
    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
    "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
];
/// Where ecsh reads the ECS metadata service when it is not at its real address.
pub const METADATA_ENDPOINT_VAR: &str = "ECSH_METADATA_ENDPOINT";
/// Seconds an `External` profile's command may take.
pub const PROCESS_TIMEOUT_VAR: &str = "ECSH_CREDENTIAL_PROCESS_TIMEOUT";

/// The settings every source reads from the environment, read once.
#[derive(Clone, Debug)]
pub struct SourceEnv {
    pub metadata_endpoint: String,
    pub imdsv1_disabled: bool,
    pub sts: StsEndpoint,
    pub process_timeout: Duration,
    session: Option<String>,
}

impl SourceEnv {
    fn read(env: &dyn Env) -> Result<SourceEnv, ConfigError> {
        let metadata_endpoint = match env_first(env, &[METADATA_ENDPOINT_VAR]) {
            Some((how, v)) => normalize_override(&v, &how)?,
            None => super::metadata::DEFAULT_ENDPOINT.to_string(),
        };
        let process_timeout = match env_first(env, &[PROCESS_TIMEOUT_VAR]) {
            None => super::process::DEFAULT_TIMEOUT,
            Some((_, v)) => match v.trim().parse::<f64>() {
                Ok(secs) if secs.is_finite() && secs > 0.0 => Duration::from_secs_f64(secs),
                _ => {
                    return Err(ConfigError::InvalidSetting {
                        setting: PROCESS_TIMEOUT_VAR.into(),
                        origin: "the environment".into(),
                        value: v,
                        expected: "a number of seconds above 0".into(),
                    })
                }
            },
        };
        Ok(SourceEnv {
            metadata_endpoint,
            imdsv1_disabled: flag(env, "ALIBABA_CLOUD_IMDSV1_DISABLED")?,
            sts: StsEndpoint {
                region: env_first(env, &["ALIBABA_CLOUD_STS_REGION"])
                    .map(|(_, v)| v.trim().to_string()),
                vpc: flag(env, "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED")?,
            },
            process_timeout,
            session: env_first(env, &["ALIBABA_CLOUD_ROLE_SESSION_NAME"])
                .map(|(_, v)| v.trim().to_string()),
        })
    }

    /// The session name when none is configured: `ALIBABA_CLOUD_ROLE_SESSION_NAME`, else
    /// `ecsh-<unix seconds>` (the official libraries use their name and a timestamp too).
    pub(crate) fn session_name(&self) -> impl FnOnce() -> String + '_ {
        move || {
            self.session.clone().unwrap_or_else(|| {
                format!("ecsh-{}", time::OffsetDateTime::now_utc().unix_timestamp())
            })
        }
    }

    pub(crate) fn duration(&self) -> u64 {
        DEFAULT_DURATION_SECS
    }
}

/// A boolean variable: `true`/`false` (any case; `1`/`0` too); anything else is an error.
fn flag(env: &dyn Env, name: &str) -> Result<bool, ConfigError> {
    match env.var(name).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if v.is_empty() || v == "false" || v == "0" => Ok(false),
        Some(v) if v == "true" || v == "1" => Ok(true),
        Some(v) => Err(ConfigError::InvalidSetting {
            setting: name.into(),
            origin: "the environment".into(),
            value: v,
            expected: "true or false".into(),
        }),
    }
}

/// `~/.aliyun/config.json` under `home`.
pub fn config_path(home: &Path) -> PathBuf {
    home.join(".aliyun").join("config.json")
}

/// The chain's sources, in order, as `ecsh whoami` names them.
pub const CHAIN: [&str; 6] = [
    "profile named explicitly",
    "environment",
    "config file's current profile",
    "INI file",
    "ECS instance RAM role",
    "credentials URI",
];

/// Builds the chain report while the sources are tried in order.
struct Chain(Vec<SourceReport>);

impl Chain {
    fn note(&mut self, source: &'static str, status: &'static str, detail: impl Into<String>) {
        self.0.push(SourceReport {
            source,
            status,
            detail: detail.into(),
        });
    }

    /// Marks every source after the winner as not consulted.
    fn finish(mut self) -> Vec<SourceReport> {
        for name in CHAIN.iter().skip(self.0.len()) {
            self.note(name, "not consulted", "an earlier source won");
        }
        self.0
    }
}

/// Resolves credentials, region and endpoint in the documented order (see the module doc).
pub fn resolve(
    flags: &Overrides,
    env: &dyn Env,
    home: Option<&Path>,
) -> Result<Resolved, ConfigError> {
    let senv = SourceEnv::read(env)?;
    let path = match env_first(env, &["ALIBABA_CLOUD_CONFIG_FILE"]) {
        Some((_, p)) => Some(PathBuf::from(p.trim())),
        None => home.map(config_path),
    };
    let file = match &path {
        Some(p) => ConfigFile::load(p)?,
        None => None,
    };
    // Every switch is read up front, so a malformed one is an error whichever source wins.
    let cli_disabled = flag(env, "ALIBABA_CLOUD_CLI_PROFILE_DISABLED")?;
    let metadata_disabled = flag(env, "ALIBABA_CLOUD_ECS_METADATA_DISABLED")?;
    let ini_path = ini::locate(env.var("ALIBABA_CLOUD_CREDENTIALS_FILE").as_deref(), home)?;
    let ini = match &ini_path {
        Some(p) => Some(IniFile::load(p)?),
        None => None,
    };
    let shown = |p: &Option<PathBuf>| {
        p.as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "~/.aliyun/config.json (no home directory)".into())
    };
    let mut sources = Sources::default();
    let mut chain = Chain(Vec::new());
    let mut region_profile: Option<Profile> = None;

    let explicit = first_of(&[("flag --profile", flags.profile.clone())])
        .or_else(|| env_first(env, &["ALIBABA_CLOUD_PROFILE"]));
    let mut winner: Option<CredentialSource> = None;

    // 1. A profile named explicitly: the config file's, else the INI file's section.
    match &explicit {
        Some((how, name)) => {
            let in_file = file.as_ref().filter(|_| !cli_disabled).and_then(|f| {
                ConfigFile::require_profile(Some(f), path.as_deref(), name, how).ok()
            });
            let in_ini = ini.as_ref().and_then(|i| i.section(name).map(|s| (i, s)));
            if let Some(p) = in_file {
                let f = file.as_ref().expect("the profile came from the file");
                sources.profile = Some(format!("'{name}' (chosen by {how})"));
                winner = p.source(f, true, &senv, &mut sources, &mut Vec::new())?;
                chain.note(
                    CHAIN[0],
                    "used",
                    format!("{} (chosen by {how})", p.origin()),
                );
                region_profile = Some(p);
            } else if let Some((i, section)) = in_ini {
                sources.profile = Some(format!("'{name}' (chosen by {how})"));
                winner = Some(i.source(section, &senv)?);
                chain.note(
                    CHAIN[0],
                    "used",
                    format!("{} (chosen by {how})", i.describe(name)),
                );
            } else {
                let mut available = file.as_ref().map(|f| f.names()).unwrap_or_default();
                available.extend(ini.as_ref().map(|i| i.names()).unwrap_or_default());
                return Err(ConfigError::ProfileNotFound {
                    name: name.clone(),
                    source_name: how.clone(),
                    path: match &ini_path {
                        Some(ip) => format!("{} nor in {}", shown(&path), ip.display()),
                        None => shown(&path),
                    },
                    available,
                });
            }
        }
        None => chain.note(
            CHAIN[0],
            "skipped",
            "neither --profile nor ALIBABA_CLOUD_PROFILE is set",
        ),
    }

    // 2. The environment: an AccessKey pair (and token), else the OIDC variables.
    if winner.is_none() {
        if let Some(creds) = from_env(env, &mut sources)? {
            let detail = format!(
                "an AccessKey {} from {}",
                mask_key_id(&creds.access_key_id),
                sources.access_key_id.clone().unwrap_or_default()
            );
            winner = Some(CredentialSource::new(
                SourceKind::Static(creds),
                format!(
                    "the environment ({})",
                    sources.access_key_id.clone().unwrap_or_default()
                ),
            ));
            chain.note(CHAIN[1], "used", detail);
        } else if let Some(oidc) = oidc_from_env(env, &senv)? {
            chain.note(CHAIN[1], "used", format!("OIDC: {}", oidc.describe()));
            winner = Some(oidc);
        } else {
            chain.note(
                CHAIN[1],
                "skipped",
                "no ALIBABA_CLOUD_ACCESS_KEY_ID (nor older names) and no ALIBABA_CLOUD_ROLE_ARN + \
                 ALIBABA_CLOUD_OIDC_PROVIDER_ARN + ALIBABA_CLOUD_OIDC_TOKEN_FILE",
            );
        }
        if winner.is_some() {
            // The region may still come from the current profile.
            let current = file
                .as_ref()
                .filter(|_| !cli_disabled)
                .and_then(|f| f.current_profile().ok().flatten());
            if let Some(p) = &current {
                sources.profile = Some(format!(
                    "'{}' (current in {}; credentials come from the environment)",
                    p.name, p.path
                ));
            }
            region_profile = current;
        }
    }

    // 3. The config file's current profile.
    if winner.is_none() {
        match &file {
            _ if cli_disabled => chain.note(
                CHAIN[2],
                "skipped",
                "ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true",
            ),
            None => chain.note(
                CHAIN[2],
                "skipped",
                format!("{} does not exist", shown(&path)),
            ),
            Some(f) => match f.current_profile()? {
                Some(p) => match p.source(f, false, &senv, &mut sources, &mut Vec::new())? {
                    Some(src) => {
                        sources.profile = Some(format!("'{}' (current in {})", p.name, p.path));
                        chain.note(CHAIN[2], "used", p.origin());
                        winner = Some(src);
                        region_profile = Some(p);
                    }
                    None => {
                        chain.note(CHAIN[2], "skipped", format!("{} has no keys", p.describe()));
                        region_profile = Some(p);
                    }
                },
                None => chain.note(
                    CHAIN[2],
                    "skipped",
                    format!("{} has no current profile and no 'default'", shown(&path)),
                ),
            },
        }
    }

    // 4. The INI file's `default` section.
    if winner.is_none() {
        match &ini {
            None => chain.note(
                CHAIN[3],
                "skipped",
                "no ~/.alibabacloud/credentials or credentials.ini (ALIBABA_CLOUD_CREDENTIALS_FILE is not set)",
            ),
            Some(i) => match i.section("default") {
                Some(section) => {
                    chain.note(CHAIN[3], "used", i.describe("default"));
                    winner = Some(i.source(section, &senv)?);
                }
                None => chain.note(
                    CHAIN[3],
                    "skipped",
                    format!("{} has no [default] section", i.path.display()),
                ),
            },
        }
    }

    // 5. The instance RAM role: only when asked for, so a machine without credentials gets
    //    the simulator at once instead of waiting for 100.100.100.200.
    if winner.is_none() {
        let role =
            env_first(env, &["ALIBABA_CLOUD_ECS_METADATA"]).map(|(_, r)| r.trim().to_string());
        let pointed = env_first(env, &[METADATA_ENDPOINT_VAR]).is_some();
        if metadata_disabled {
            chain.note(
                CHAIN[4],
                "skipped",
                "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true",
            );
        } else if role.is_some() || pointed {
            let src = CredentialSource::new(
                SourceKind::EcsRamRole(EcsRamRole {
                    role,
                    endpoint: senv.metadata_endpoint.clone(),
                    imdsv1_disabled: senv.imdsv1_disabled,
                }),
                match env_first(env, &["ALIBABA_CLOUD_ECS_METADATA"]) {
                    Some(_) => {
                        "the ECS instance RAM role (env ALIBABA_CLOUD_ECS_METADATA)".to_string()
                    }
                    None => format!("the ECS instance RAM role (env {METADATA_ENDPOINT_VAR})"),
                },
            );
            chain.note(CHAIN[4], "used", src.describe());
            winner = Some(src);
        } else {
            chain.note(
                CHAIN[4],
                "skipped",
                "ALIBABA_CLOUD_ECS_METADATA (the role name) is not set; ecsh does not probe the \
                 metadata service unasked",
            );
        }
    }

    // 6. A credentials URI.
    if winner.is_none() {
        match env_first(env, &["ALIBABA_CLOUD_CREDENTIALS_URI"]) {
            Some((how, uri)) => {
                let src = CredentialSource::new(SourceKind::Uri(uri.trim().to_string()), how);
                chain.note(CHAIN[5], "used", src.describe());
                winner = Some(src);
            }
            None => chain.note(
                CHAIN[5],
                "skipped",
                "ALIBABA_CLOUD_CREDENTIALS_URI is not set",
            ),
        }
    }

    let region = resolve_region(flags, env, region_profile.as_ref(), &mut sources)?;
    let endpoint = resolve_endpoint(flags, env, &mut sources)?;
    Ok(Resolved {
        source: winner,
        chain: chain.finish(),
        region,
        endpoint,
        config_path: path,
        sources,
    })
}

/// [`resolve`] with the process environment and the user's home directory.
pub fn resolve_default(flags: &Overrides) -> Result<Resolved, ConfigError> {
    resolve(flags, &ProcessEnv, dirs::home_dir().as_deref())
}

fn first_of(candidates: &[(&str, Option<String>)]) -> Option<(String, String)> {
    candidates.iter().find_map(|(how, v)| {
        v.as_ref()
            .filter(|v| !v.trim().is_empty())
            .map(|v| (how.to_string(), v.trim().to_string()))
    })
}

/// The first of `names` that is set and not empty, as (`env NAME`, value).
fn env_first(env: &dyn Env, names: &[&str]) -> Option<(String, String)> {
    names.iter().find_map(|n| {
        env.var(n)
            .filter(|v| !v.is_empty())
            .map(|v| (format!("env {n}"), v))
    })
}

/// OIDC from `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and
/// `ALIBABA_CLOUD_OIDC_TOKEN_FILE` (all three, or none: a partial set is an error).
fn oidc_from_env(env: &dyn Env, senv: &SourceEnv) -> Result<Option<CredentialSource>, ConfigError> {
    let values: Vec<Option<String>> = OIDC_VARS
        .iter()
        .map(|n| {
            env.var(n)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        })
        .collect();
    let set: Vec<&str> = OIDC_VARS
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_some())
        .map(|(n, _)| *n)
        .collect();
    if set.is_empty() {
        return Ok(None);
    }
    if set.len() < OIDC_VARS.len() {
        let missing: Vec<&str> = OIDC_VARS
            .iter()
            .filter(|n| !set.contains(n))
            .copied()
            .collect();
        return Err(ConfigError::Source {
            origin: "the environment's OIDC settings".into(),
            problem: format!(
                "{} is set without {}",
                set.join(" and "),
                missing.join(" and ")
            ),
            fix: format!(
                "set {} as well, or unset {}",
                missing.join(" and "),
                set.join(" and ")
            ),
        });
    }
    let [role_arn, provider_arn, token_file] =
        [0, 1, 2].map(|i| values[i].clone().unwrap_or_default());
    Ok(Some(CredentialSource::new(
        SourceKind::Oidc(Oidc {
            role_arn,
            provider_arn,
            token_file: PathBuf::from(token_file),
            session_name: (senv.session_name())(),
            duration_secs: senv.duration(),
            policy: None,
            sts: senv.sts.clone(),
        }),
        "the environment (env ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE)",
    )))
}

fn from_env(env: &dyn Env, sources: &mut Sources) -> Result<Option<Credentials>, ConfigError> {
    let id = env_first(env, ID_VARS);
    let secret = env_first(env, SECRET_VARS);
    let (id, secret) = match (id, secret) {
        (Some(id), Some(secret)) => (id, secret),
        (Some((how, _)), None) => {
            return Err(ConfigError::HalfSetEnv {
                set: var_name(&how),
                missing: "AccessKeySecret",
                missing_var: SECRET_VARS[0],
            })
        }
        (None, Some((how, _))) => {
            return Err(ConfigError::HalfSetEnv {
                set: var_name(&how),
                missing: "AccessKeyId",
                missing_var: ID_VARS[0],
            })
        }
        (None, None) => {
            // A token meant for Alibaba Cloud but no key pair is a half-set configuration.
            if let Some((how, _)) = env_first(env, &TOKEN_VARS[..2]) {
                return Err(ConfigError::HalfSetEnv {
                    set: var_name(&how),
                    missing: "AccessKeyId and AccessKeySecret",
                    missing_var: "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                });
            }
            return Ok(None);
        }
    };
    let mut creds = Credentials::new(id.1, secret.1);
    sources.access_key_id = Some(id.0);
    sources.access_key_secret = Some(secret.0);
    if let Some((how, token)) = env_first(env, TOKEN_VARS) {
        creds.security_token = Some(Secret::new(token));
        sources.security_token = Some(how);
    }
    Ok(Some(creds))
}

fn var_name(how: &str) -> String {
    how.trim_start_matches("env ").to_string()
}

fn resolve_region(
    flags: &Overrides,
    env: &dyn Env,
    profile: Option<&Profile>,
    sources: &mut Sources,
) -> Result<String, ConfigError> {
    let from_profile = profile
        .filter(|p| !p.region_id.trim().is_empty())
        .map(|p| (p.describe(), p.region_id.trim().to_string()));
    let (how, region) = first_of(&[("flag --region", flags.region.clone())])
        .or_else(|| env_first(env, REGION_VARS))
        .or(from_profile)
        .unwrap_or_else(|| ("default".to_string(), DEFAULT_REGION.to_string()));
    let region = region.trim().to_string();
    validate_region(&region)?;
    sources.region = how;
    Ok(region)
}

/// Region ids are lower-case letters, digits and dashes; anything else would end up in a host
/// name.
pub fn validate_region(region: &str) -> Result<(), ConfigError> {
    let ok = !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ConfigError::InvalidRegion {
            region: region.to_string(),
        })
    }
}

fn resolve_endpoint(
    flags: &Overrides,
    env: &dyn Env,
    sources: &mut Sources,
) -> Result<Option<String>, ConfigError> {
    let given = first_of(&[("flag --endpoint", flags.endpoint.clone())])
        .or_else(|| env_first(env, &["ALIBABA_CLOUD_ENDPOINT"]));
    match given {
        Some((how, value)) => {
            let url = normalize_override(&value, &how)?;
            sources.endpoint = Some(how);
            Ok(Some(url))
        }
        None => Ok(None),
    }
}

/// Rows of `ecsh whoami`: setting → value and source. Never the secret or the token.
pub fn whoami_report(r: &Resolved) -> Vec<(String, String)> {
    let s = &r.sources;
    let from = |value: String, source: &Option<String>| match source {
        Some(src) => format!("{value} (from {src})"),
        None => value,
    };
    let mut rows = vec![(
        "profile".to_string(),
        s.profile.clone().unwrap_or_else(|| "none".to_string()),
    )];
    match (&r.source, r.static_credentials()) {
        (Some(_), Some(c)) => {
            rows.push((
                "access key id".into(),
                from(mask_key_id(&c.access_key_id), &s.access_key_id),
            ));
            rows.push((
                "access key secret".into(),
                from("set".into(), &s.access_key_secret),
            ));
            let token = match &c.security_token {
                Some(_) => from("set".into(), &s.security_token),
                None => "not set".into(),
            };
            rows.push(("security token".into(), token));
        }
        (Some(src), None) => {
            rows.push(("credentials".into(), src.origin.clone()));
            rows.push(("obtained by".into(), src.describe()));
        }
        (None, _) => rows.push((
            "credentials".into(),
            "none found (ecsh will use the embedded simulator unless --cloud aliyun)".into(),
        )),
    }
    rows.push(("region".into(), format!("{} (from {})", r.region, s.region)));
    let endpoint = match &r.endpoint {
        Some(url) => from(format!("{url} for ecs, vpc and sts"), &s.endpoint),
        None => format!(
            "{} (default for the region)",
            Product::ALL
                .iter()
                .map(|p| format!("{p}: {}", endpoint::endpoint(*p, &r.region)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    rows.push(("endpoint".into(), endpoint));
    if let Some(path) = &r.config_path {
        let state = if path.exists() { "found" } else { "not found" };
        rows.push((
            "config file".into(),
            format!("{} ({state})", path.display()),
        ));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_only_the_ends() {
        assert_eq!(mask_key_id("LTAI5tAbcdEfgh1234"), "LTAI****1234");
        assert_eq!(mask_key_id("short"), "****");
    }

    #[test]
    fn scrub_hides_every_encoding() {
        let c = Credentials::new("id", "se cr/et").with_security_token("to+ken=");
        let text =
            "a se cr/et b se%20cr%2Fet c se%2520cr%252Fet d to%2Bken%3D e to+ken= f se+cr%2Fet";
        let out = c.scrub(text);
        for leak in ["cr/et", "cr%2Fet", "cr%252Fet", "ken"] {
            assert!(!out.contains(leak), "{out}");
        }
    }
}
