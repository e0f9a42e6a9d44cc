//! The credentials INI file of the official libraries, read-only: `~/.alibabacloud/credentials`
//! (credentials-go), else `~/.alibabacloud/credentials.ini` (credentials-python and -java), or
//! `ALIBABA_CLOUD_CREDENTIALS_FILE`. Sections name profiles; `type` says how each gives keys:
//! `access_key` (`access_key_id`, `access_key_secret`), `ecs_ram_role` (`role_name`),
//! `ram_role_arn` (+ `role_arn`, `role_session_name`, `policy`) and `oidc_role_arn`
//! (`role_arn`, `oidc_provider_arn`, `oidc_token_file_path`, `role_session_name`).
//!
//! It owns the format and turning one section into a [`CredentialSource`]; which section is
//! used, and when, is [`super::credentials`]' decision. Values are wrapped in [`Secret`] as
//! they are parsed, and errors quote line numbers and key names, never values.

use super::credentials::{Credentials, SourceEnv};
use super::error::ConfigError;
use super::provider::{AssumeRole, CredentialSource, EcsRamRole, Oidc, SourceKind};
use crate::secret::Secret;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One section: key → value (values of secret keys are still plain here, for a moment).
pub(crate) struct Section {
    pub(crate) name: String,
    keys: BTreeMap<String, Secret>,
}

pub(crate) struct IniFile {
    pub(crate) path: PathBuf,
    sections: Vec<Section>,
}

/// The file to read: the variable's path (it must exist), else the first that exists of
/// `credentials` and `credentials.ini` under `~/.alibabacloud`; `None` when there is none.
pub(crate) fn locate(
    env_path: Option<&str>,
    home: Option<&Path>,
) -> Result<Option<PathBuf>, ConfigError> {
    if let Some(p) = env_path.filter(|p| !p.trim().is_empty()) {
        let path = PathBuf::from(p.trim());
        if !path.is_file() {
            return Err(ConfigError::Source {
                origin: "env ALIBABA_CLOUD_CREDENTIALS_FILE".into(),
                problem: format!("{} does not exist or is not a file", path.display()),
                fix:
                    "point ALIBABA_CLOUD_CREDENTIALS_FILE at the credentials INI file, or unset it"
                        .into(),
            });
        }
        return Ok(Some(path));
    }
    let Some(home) = home else { return Ok(None) };
    let dir = home.join(".alibabacloud");
    Ok(["credentials", "credentials.ini"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file()))
}

impl IniFile {
    pub(crate) fn load(path: &Path) -> Result<IniFile, ConfigError> {
        let bad = |reason: String| ConfigError::ConfigFile {
            path: path.display().to_string(),
            reason,
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(format!("it cannot be read ({e})")))?;
        let mut sections: Vec<Section> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                sections.push(Section {
                    name: name.trim().to_string(),
                    keys: BTreeMap::new(),
                });
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(bad(format!(
                    "line {} is neither [section] nor key = value",
                    n + 1
                )));
            };
            let Some(section) = sections.last_mut() else {
                return Err(bad(format!("line {} comes before any [section]", n + 1)));
            };
            let value = value.trim().trim_matches('"');
            section
                .keys
                .insert(key.trim().to_string(), Secret::new(value));
        }
        Ok(IniFile {
            path: path.to_path_buf(),
            sections,
        })
    }

    pub(crate) fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    pub(crate) fn names(&self) -> Vec<String> {
        self.sections.iter().map(|s| s.name.clone()).collect()
    }

    pub(crate) fn describe(&self, section: &str) -> String {
        format!("section [{section}] of {}", self.path.display())
    }

    /// The section's source.
    pub(crate) fn source(
        &self,
        s: &Section,
        env: &SourceEnv,
    ) -> Result<CredentialSource, ConfigError> {
        let origin = self.describe(&s.name);
        let get = |k: &str| s.keys.get(k).filter(|v| !v.is_empty());
        let need = |k: &'static str| {
            get(k)
                .map(|v| v.expose().to_string())
                .ok_or_else(|| ConfigError::Source {
                    origin: origin.clone(),
                    problem: format!("it has no {k}"),
                    fix: format!("add `{k} = …` to the section"),
                })
        };
        let plain = |k: &str| get(k).map(|v| v.expose().to_string());
        let keys = || -> Result<Credentials, ConfigError> {
            Ok(Credentials {
                access_key_id: need("access_key_id")?,
                secret: get("access_key_secret")
                    .cloned()
                    .ok_or_else(|| ConfigError::Source {
                        origin: origin.clone(),
                        problem: "it has no access_key_secret".into(),
                        fix: "add `access_key_secret = …` to the section".into(),
                    })?,
                security_token: None,
            })
        };
        let kind = plain("type").unwrap_or_default();
        let kind = match kind.as_str() {
            "access_key" => SourceKind::Static(keys()?),
            "ecs_ram_role" => SourceKind::EcsRamRole(EcsRamRole {
                role: plain("role_name"),
                endpoint: env.metadata_endpoint.clone(),
                imdsv1_disabled: env.imdsv1_disabled,
            }),
            "ram_role_arn" => SourceKind::AssumeRole(Box::new(AssumeRole {
                base: CredentialSource::new(
                    SourceKind::Static(keys()?),
                    format!("the keys of {origin}"),
                ),
                role_arn: need("role_arn")?,
                session_name: plain("role_session_name").unwrap_or_else(env.session_name()),
                duration_secs: env.duration(),
                policy: plain("policy"),
                external_id: plain("external_id"),
                sts: env.sts.clone(),
            })),
            "oidc_role_arn" => SourceKind::Oidc(Oidc {
                role_arn: need("role_arn")?,
                provider_arn: need("oidc_provider_arn")?,
                token_file: PathBuf::from(need("oidc_token_file_path")?),
                session_name: plain("role_session_name").unwrap_or_else(env.session_name()),
                duration_secs: env.duration(),
                policy: plain("policy"),
                sts: env.sts.clone(),
            }),
            other => {
                return Err(ConfigError::Source {
                    origin,
                    problem: if other.is_empty() {
                        "it has no type".into()
                    } else {
                        format!("its type '{other}' is not one ecsh reads")
                    },
                    fix: "set `type` to access_key, ecs_ram_role, ram_role_arn or oidc_role_arn"
                        .into(),
                })
            }
        };
        Ok(CredentialSource::new(kind, origin))
    }
}
