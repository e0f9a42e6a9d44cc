//! The config file of the official Alibaba Cloud CLI, `~/.aliyun/config.json`, read-only:
//! `{"current": "default", "profiles": [{"name", "mode", "access_key_id",
//! "access_key_secret", "sts_token", "region_id", ...}]}`.
//!
//! It owns the file format and turning one profile into a [`CredentialSource`]: modes `AK`,
//! `StsToken`, `RamRoleArn`, `ChainableRamRoleArn` (`source_profile`, chains of any length,
//! cycles refused), `EcsRamRole`, `OIDC`, `External` and `CredentialsURI`; the browser flows
//! `CloudSSO` and `OAuth` are refused with what to use instead, an unknown mode with the near
//! miss. Which profile is used, and whether it wins over the environment, is decided in
//! [`super::credentials`].
//! Secrets are wrapped in [`Secret`] as soon as they are parsed, and parse errors report only
//! a position, because serde's messages can quote values.

use super::credentials::{Credentials, SourceEnv, Sources};
use super::error::{ConfigError, MODES};
use super::provider::{
    AssumeRole, CredentialSource, EcsRamRole, Oidc, Process, SourceKind, StsEndpoint,
    DEFAULT_DURATION_SECS, MIN_DURATION_SECS,
};
use crate::secret::Secret;
use std::path::{Path, PathBuf};

/// `~/.aliyun/config.json` as the official CLI writes it.
#[derive(serde::Deserialize)]
struct RawConfig {
    #[serde(default)]
    current: String,
    #[serde(default)]
    profiles: Vec<RawProfile>,
}

/// One profile as stored. Deliberately not `Debug`: it holds the secret as a plain string for
/// the moment between parsing and wrapping.
#[derive(serde::Deserialize)]
struct RawProfile {
    #[serde(default)]
    name: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    access_key_secret: String,
    #[serde(default)]
    sts_token: String,
    #[serde(default)]
    region_id: String,
    #[serde(default)]
    ram_role_arn: String,
    #[serde(default)]
    ram_session_name: String,
    /// A number as the CLI writes it; a string is accepted too.
    #[serde(default)]
    expired_seconds: serde_json::Value,
    #[serde(default)]
    policy: String,
    #[serde(default)]
    external_id: String,
    #[serde(default)]
    sts_region: String,
    #[serde(default)]
    source_profile: String,
    #[serde(default)]
    ram_role_name: String,
    #[serde(default)]
    oidc_provider_arn: String,
    #[serde(default)]
    oidc_token_file: String,
    #[serde(default)]
    process_command: String,
    #[serde(default)]
    credentials_uri: String,
}

pub(crate) struct ConfigFile {
    current: String,
    profiles: Vec<Profile>,
    path: String,
}

#[derive(Clone)]
pub(crate) struct Profile {
    pub(crate) name: String,
    pub(crate) mode: String,
    access_key_id: String,
    access_key_secret: Secret,
    sts_token: Secret,
    pub(crate) region_id: String,
    pub(crate) path: String,
    ram_role_arn: String,
    ram_session_name: String,
    expired_seconds: serde_json::Value,
    policy: String,
    external_id: String,
    sts_region: String,
    source_profile: String,
    ram_role_name: String,
    oidc_provider_arn: String,
    oidc_token_file: String,
    process_command: String,
    credentials_uri: String,
}

impl ConfigFile {
    /// `None` when the file does not exist; an error when it exists but cannot be used.
    pub(crate) fn load(path: &Path) -> Result<Option<ConfigFile>, ConfigError> {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(ConfigError::ConfigFile {
                    path: shown,
                    reason: format!("it cannot be read ({e})"),
                })
            }
        };
        // serde_json's messages can quote values, so only the position is reported.
        let raw: RawConfig = serde_json::from_str(&text).map_err(|e| ConfigError::ConfigFile {
            path: shown.clone(),
            reason: format!(
                "it is not valid config JSON ({:?} error at line {}, column {})",
                e.classify(),
                e.line(),
                e.column()
            ),
        })?;
        let profiles = raw
            .profiles
            .into_iter()
            .map(|p| Profile {
                name: p.name,
                mode: p.mode,
                access_key_id: p.access_key_id.trim().to_string(),
                access_key_secret: Secret::new(p.access_key_secret.trim()),
                sts_token: Secret::new(p.sts_token.trim()),
                region_id: p.region_id,
                path: shown.clone(),
                ram_role_arn: p.ram_role_arn.trim().to_string(),
                ram_session_name: p.ram_session_name.trim().to_string(),
                expired_seconds: p.expired_seconds,
                policy: p.policy,
                external_id: p.external_id.trim().to_string(),
                sts_region: p.sts_region.trim().to_string(),
                source_profile: p.source_profile.trim().to_string(),
                ram_role_name: p.ram_role_name.trim().to_string(),
                oidc_provider_arn: p.oidc_provider_arn.trim().to_string(),
                oidc_token_file: p.oidc_token_file.trim().to_string(),
                process_command: p.process_command.trim().to_string(),
                credentials_uri: p.credentials_uri.trim().to_string(),
            })
            .collect();
        Ok(Some(ConfigFile {
            current: raw.current,
            profiles,
            path: shown,
        }))
    }

    pub(crate) fn names(&self) -> Vec<String> {
        self.profiles.iter().map(|p| p.name.clone()).collect()
    }

    fn find(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name == name)
    }

    pub(crate) fn require_profile(
        file: Option<&ConfigFile>,
        path: Option<&Path>,
        name: &str,
        how: &str,
    ) -> Result<Profile, ConfigError> {
        file.and_then(|f| f.find(name))
            .cloned()
            .ok_or_else(|| ConfigError::ProfileNotFound {
                name: name.to_string(),
                source_name: how.to_string(),
                path: path
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "~/.aliyun/config.json (no home directory)".into()),
                available: file
                    .map(|f| f.profiles.iter().map(|p| p.name.clone()).collect())
                    .unwrap_or_default(),
            })
    }

    /// The profile `current` names, else `default`; `current` naming a missing profile is an
    /// error, a missing `default` is not.
    pub(crate) fn current_profile(&self) -> Result<Option<Profile>, ConfigError> {
        if self.current.trim().is_empty() {
            return Ok(self.find("default").cloned());
        }
        let name = self.current.trim();
        match self.find(name) {
            Some(p) => Ok(Some(p.clone())),
            None => Err(ConfigError::ProfileNotFound {
                name: name.to_string(),
                source_name: "the \"current\" field".into(),
                path: self.path.clone(),
                available: self.profiles.iter().map(|p| p.name.clone()).collect(),
            }),
        }
    }
}

impl Profile {
    pub(crate) fn describe(&self) -> String {
        format!("profile '{}' in {}", self.name, self.path)
    }

    /// `profile 'ci' (mode OIDC) in …`: how errors and `ecsh whoami` name this source.
    pub(crate) fn origin(&self) -> String {
        let mode = if self.mode.is_empty() {
            "AK"
        } else {
            &self.mode
        };
        format!("profile '{}' (mode {mode}) in {}", self.name, self.path)
    }

    fn incomplete(&self, missing: &'static str) -> ConfigError {
        ConfigError::IncompleteProfile {
            profile: self.name.clone(),
            path: self.path.clone(),
            missing,
        }
    }

    fn need(&self, value: &str, missing: &'static str) -> Result<String, ConfigError> {
        if value.is_empty() {
            Err(self.incomplete(missing))
        } else {
            Ok(value.to_string())
        }
    }

    /// The profile's credential source; `None` for an AK profile with neither id nor secret
    /// that was not named explicitly ("not configured"). `file` resolves `source_profile`;
    /// `chain` holds the profiles already on the way here, so a cycle is refused.
    pub(crate) fn source(
        &self,
        file: &ConfigFile,
        explicit: bool,
        env: &SourceEnv,
        sources: &mut Sources,
        chain: &mut Vec<String>,
    ) -> Result<Option<CredentialSource>, ConfigError> {
        chain.push(self.name.clone());
        let kind = match self.mode.as_str() {
            "AK" | "" | "StsToken" => match self.static_keys(explicit, sources)? {
                Some(c) => SourceKind::Static(c),
                None => return Ok(None),
            },
            "RamRoleArn" => {
                let keys = self
                    .static_keys(true, sources)?
                    .ok_or_else(|| self.incomplete("access_key_id"))?;
                let base = CredentialSource::new(
                    SourceKind::Static(keys),
                    format!("the AccessKey of {}", self.describe()),
                );
                SourceKind::AssumeRole(Box::new(self.assume_role(base, env)?))
            }
            "ChainableRamRoleArn" => {
                let name = self.need(&self.source_profile, "source_profile")?;
                if chain.contains(&name) {
                    chain.push(name);
                    return Err(ConfigError::ProfileCycle {
                        profile: self.name.clone(),
                        path: self.path.clone(),
                        chain: chain.join(" -> "),
                    });
                }
                let how = format!("source_profile of {}", self.describe());
                let source_profile = ConfigFile::require_profile(
                    Some(file),
                    Some(Path::new(&file.path)),
                    &name,
                    &how,
                )?;
                let base = source_profile
                    .source(file, true, env, sources, chain)?
                    .ok_or_else(|| self.incomplete("source_profile"))?;
                SourceKind::AssumeRole(Box::new(self.assume_role(base, env)?))
            }
            "EcsRamRole" => SourceKind::EcsRamRole(EcsRamRole {
                role: Some(self.ram_role_name.clone()).filter(|r| !r.is_empty()),
                endpoint: env.metadata_endpoint.clone(),
                imdsv1_disabled: env.imdsv1_disabled,
            }),
            "OIDC" => SourceKind::Oidc(Oidc {
                role_arn: self.need(&self.ram_role_arn, "ram_role_arn")?,
                provider_arn: self.need(&self.oidc_provider_arn, "oidc_provider_arn")?,
                token_file: PathBuf::from(self.need(&self.oidc_token_file, "oidc_token_file")?),
                session_name: self.session_name(env),
                duration_secs: self.duration()?,
                policy: Some(self.policy.clone()).filter(|p| !p.trim().is_empty()),
                sts: self.sts(env),
            }),
            "External" => SourceKind::Process(Process {
                command: self.need(&self.process_command, "process_command")?,
                timeout: env.process_timeout,
            }),
            "CredentialsURI" => {
                SourceKind::Uri(self.need(&self.credentials_uri, "credentials_uri")?)
            }
            "CloudSSO" | "OAuth" => {
                return Err(ConfigError::BrowserMode {
                    profile: self.name.clone(),
                    path: self.path.clone(),
                    mode: self.mode.clone(),
                })
            }
            "BearerToken" | "Anonymous" | "RsaKeyPair" => {
                return Err(ConfigError::UnsupportedMode {
                    profile: self.name.clone(),
                    path: self.path.clone(),
                    mode: self.mode.clone(),
                })
            }
            other => {
                return Err(ConfigError::UnknownMode {
                    profile: self.name.clone(),
                    path: self.path.clone(),
                    mode: other.to_string(),
                    suggestion: near_mode(other),
                })
            }
        };
        Ok(Some(CredentialSource::new(kind, self.origin())))
    }

    fn assume_role(
        &self,
        base: CredentialSource,
        env: &SourceEnv,
    ) -> Result<AssumeRole, ConfigError> {
        Ok(AssumeRole {
            base,
            role_arn: self.need(&self.ram_role_arn, "ram_role_arn")?,
            session_name: self.session_name(env),
            duration_secs: self.duration()?,
            policy: Some(self.policy.clone()).filter(|p| !p.trim().is_empty()),
            external_id: Some(self.external_id.clone()).filter(|p| !p.is_empty()),
            sts: self.sts(env),
        })
    }

    fn session_name(&self, env: &SourceEnv) -> String {
        if self.ram_session_name.is_empty() {
            (env.session_name())()
        } else {
            self.ram_session_name.clone()
        }
    }

    fn sts(&self, env: &SourceEnv) -> StsEndpoint {
        let mut sts = env.sts.clone();
        if !self.sts_region.is_empty() {
            sts.region = Some(self.sts_region.clone());
        }
        sts
    }

    /// `expired_seconds`: 900 or more; 0 or absent means the default (3600).
    fn duration(&self) -> Result<u64, ConfigError> {
        let value = match &self.expired_seconds {
            serde_json::Value::Null => return Ok(DEFAULT_DURATION_SECS),
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) if s.trim().is_empty() => {
                return Ok(DEFAULT_DURATION_SECS)
            }
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        match value {
            Some(0) => Ok(DEFAULT_DURATION_SECS),
            Some(d) if d >= MIN_DURATION_SECS => Ok(d),
            _ => Err(ConfigError::InvalidSetting {
                setting: "expired_seconds".into(),
                origin: self.describe(),
                value: self.expired_seconds.to_string(),
                expected: format!(
                    "a number of seconds of at least {MIN_DURATION_SECS} (STS's minimum)"
                ),
            }),
        }
    }

    /// The keys of an AK or StsToken profile (or the keys a RamRoleArn profile signs with).
    fn static_keys(
        &self,
        explicit: bool,
        sources: &mut Sources,
    ) -> Result<Option<Credentials>, ConfigError> {
        let with_token = self.mode == "StsToken";
        let (has_id, has_secret) = (
            !self.access_key_id.is_empty(),
            !self.access_key_secret.is_empty(),
        );
        if !has_id && !has_secret && !explicit && !with_token {
            return Ok(None);
        }
        if !has_id {
            return Err(self.incomplete("access_key_id"));
        }
        if !has_secret {
            return Err(self.incomplete("access_key_secret"));
        }
        if with_token && self.sts_token.is_empty() {
            return Err(self.incomplete("sts_token"));
        }
        let source = Some(self.describe());
        sources.access_key_id = source.clone();
        sources.access_key_secret = source.clone();
        Ok(Some(Credentials {
            access_key_id: self.access_key_id.clone(),
            secret: self.access_key_secret.clone(),
            security_token: with_token.then(|| {
                sources.security_token = source;
                self.sts_token.clone()
            }),
        }))
    }
}

/// The known mode closest to `mode` (case or one or two letters off), for "did you mean".
fn near_mode(mode: &str) -> Option<String> {
    MODES
        .split(", ")
        .map(|m| {
            (
                crate::ops::edit_distance(&m.to_ascii_lowercase(), &mode.to_ascii_lowercase()),
                m,
            )
        })
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, m)| m.to_string())
}
