//! Who ecsh is and where it talks to: credentials, region and endpoint override, each with the
//! source it came from (for `ecsh whoami`).
//!
//! The official CLI and the official SDKs disagree on whether environment variables or the
//! current profile win. ecsh uses ONE order, first match wins:
//!
//! **Credentials**
//! 1. A profile named explicitly — `--profile NAME`, else `ALIBABA_CLOUD_PROFILE` — read from
//!    `~/.aliyun/config.json` (the file `aliyun configure` writes). It must exist.
//! 2. Environment variables: `ALIBABA_CLOUD_ACCESS_KEY_ID` + `ALIBABA_CLOUD_ACCESS_KEY_SECRET`
//!    (+ `ALIBABA_CLOUD_SECURITY_TOKEN`), or the older names the official tools still read:
//!    `ALICLOUD_ACCESS_KEY` / `ALIBABACLOUD_ACCESS_KEY_ID`, `ALICLOUD_SECRET_KEY` /
//!    `ALIBABACLOUD_ACCESS_KEY_SECRET`, `ALICLOUD_SECURITY_TOKEN` / `SECURITY_TOKEN`. An id
//!    without a secret (or the reverse) is an error, never silently skipped.
//! 3. The current profile of `~/.aliyun/config.json` (its `current` field, else `default`).
//! 4. Otherwise none (the CLI then uses the embedded simulator).
//!
//! Profiles of mode `AK` and `StsToken` are supported; other modes give a "not supported yet"
//! error. Empty environment variables count as unset.
//!
//! **Region**: `--region`, then `ALIBABA_CLOUD_REGION_ID`, then `ALICLOUD_REGION`, then the
//! `region_id` of the profile in use (explicit, else current), then `cn-hangzhou`.
//!
//! **Endpoint override**: `--endpoint`, then `ALIBABA_CLOUD_ENDPOINT`; otherwise each product's
//! default endpoint for the region (see [`super::endpoint`]).
//!
//! The config file's format is read by `aliyun_config`; this module decides the order.
//! The environment and home directory are passed in ([`Env`], `home`), so tests never touch the
//! real ones. Secrets go straight into [`Secret`]; nothing here prints or logs.

use super::aliyun_config::{ConfigFile, Profile};
use super::endpoint::{self, normalize_override};
use super::error::ConfigError;
use crate::ops::Product;
use crate::secret::Secret;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

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

/// The outcome of resolution.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub credentials: Option<Credentials>,
    pub region: String,
    /// A normalised override URL for both products, when one was given.
    pub endpoint: Option<String>,
    /// The config file consulted (whether or not it exists).
    pub config_path: Option<PathBuf>,
    pub sources: Sources,
}

impl Resolved {
    /// The credentials, or an error that says where ecsh looked.
    pub fn require_credentials(&self) -> Result<&Credentials, ConfigError> {
        self.credentials.as_ref().ok_or(ConfigError::NoCredentials)
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

/// `~/.aliyun/config.json` under `home`.
pub fn config_path(home: &Path) -> PathBuf {
    home.join(".aliyun").join("config.json")
}

/// Resolves credentials, region and endpoint in the documented order (see the module doc).
pub fn resolve(
    flags: &Overrides,
    env: &dyn Env,
    home: Option<&Path>,
) -> Result<Resolved, ConfigError> {
    let path = home.map(config_path);
    let file = match &path {
        Some(p) => ConfigFile::load(p)?,
        None => None,
    };
    let mut sources = Sources::default();

    let explicit = first_of(&[("flag --profile", flags.profile.clone())])
        .or_else(|| env_first(env, &["ALIBABA_CLOUD_PROFILE"]));
    let (profile, credentials) = match explicit {
        Some((how, name)) => {
            let p = ConfigFile::require_profile(file.as_ref(), path.as_deref(), &name, &how)?;
            sources.profile = Some(format!("'{name}' (chosen by {how})"));
            let creds = p.credentials(true, &mut sources)?;
            (Some(p), creds)
        }
        None => match from_env(env, &mut sources)? {
            Some(creds) => {
                let current = file
                    .as_ref()
                    .and_then(|f| f.current_profile().ok().flatten());
                if let Some(p) = &current {
                    sources.profile = Some(format!(
                        "'{}' (current in {}; credentials come from the environment)",
                        p.name, p.path
                    ));
                }
                (current, Some(creds))
            }
            None => match &file {
                Some(f) => match f.current_profile()? {
                    Some(p) => {
                        sources.profile = Some(format!("'{}' (current in {})", p.name, p.path));
                        let creds = p.credentials(false, &mut sources)?;
                        (Some(p), creds)
                    }
                    None => (None, None),
                },
                None => (None, None),
            },
        },
    };

    let region = resolve_region(flags, env, profile.as_ref(), &mut sources)?;
    let endpoint = resolve_endpoint(flags, env, &mut sources)?;
    Ok(Resolved {
        credentials,
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
    match &r.credentials {
        Some(c) => {
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
        None => rows.push((
            "credentials".into(),
            "none found (ecsh will use the embedded simulator unless --cloud aliyun)".into(),
        )),
    }
    rows.push(("region".into(), format!("{} (from {})", r.region, s.region)));
    let endpoint = match &r.endpoint {
        Some(url) => from(format!("{url} for ecs and vpc"), &s.endpoint),
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
