//! The config file of the official Alibaba Cloud CLI, `~/.aliyun/config.json`, read-only:
//! `{"current": "default", "profiles": [{"name", "mode", "access_key_id",
//! "access_key_secret", "sts_token", "region_id", ...}]}`.
//!
//! It owns the file format and turning one profile into [`Credentials`] (modes `AK` and
//! `StsToken`; other modes are refused with a "not supported yet" error). Which profile is
//! used, and whether it wins over the environment, is decided in [`super::credentials`].
//! Secrets are wrapped in [`Secret`] as soon as they are parsed, and parse errors report only
//! a position, because serde's messages can quote values.

use super::credentials::{Credentials, Sources};
use super::error::ConfigError;
use crate::secret::Secret;
use std::path::Path;

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
}

pub(crate) struct ConfigFile {
    current: String,
    profiles: Vec<Profile>,
    path: String,
}

#[derive(Clone)]
pub(crate) struct Profile {
    pub(crate) name: String,
    mode: String,
    access_key_id: String,
    access_key_secret: Secret,
    sts_token: Secret,
    pub(crate) region_id: String,
    pub(crate) path: String,
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
            })
            .collect();
        Ok(Some(ConfigFile {
            current: raw.current,
            profiles,
            path: shown,
        }))
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

    /// The profile's credentials. An AK profile with neither id nor secret counts as "not
    /// configured" unless it was named explicitly.
    pub(crate) fn credentials(
        &self,
        explicit: bool,
        sources: &mut Sources,
    ) -> Result<Option<Credentials>, ConfigError> {
        let incomplete = |missing| ConfigError::IncompleteProfile {
            profile: self.name.clone(),
            path: self.path.clone(),
            missing,
        };
        let with_token = match self.mode.as_str() {
            "AK" | "" => false,
            "StsToken" => true,
            other => {
                return Err(ConfigError::UnsupportedMode {
                    profile: self.name.clone(),
                    path: self.path.clone(),
                    mode: other.to_string(),
                })
            }
        };
        let (has_id, has_secret) = (
            !self.access_key_id.is_empty(),
            !self.access_key_secret.is_empty(),
        );
        if !has_id && !has_secret && !explicit && !with_token {
            return Ok(None);
        }
        if !has_id {
            return Err(incomplete("access_key_id"));
        }
        if !has_secret {
            return Err(incomplete("access_key_secret"));
        }
        if with_token && self.sts_token.is_empty() {
            return Err(incomplete("sts_token"));
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
