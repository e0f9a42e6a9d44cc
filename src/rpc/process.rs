//! An `External` profile's `process_command` as a credential source: run it with `sh -c`,
//! read the JSON it prints (`{"mode": "AK" | "StsToken", "access_key_id",
//! "access_key_secret", "sts_token"}`, as the official CLI expects), within a timeout.
//!
//! The command's output is a secret: it is read into a [`Secret`], never shown, and errors say
//! what was wrong with it without quoting it. Its stderr is discarded for the same reason, and
//! the command is named by its program only (its arguments may hold a token).
//! A command that outlives the timeout is killed with its whole process group.

use super::credentials::Credentials;
use super::error::CredentialError;
use super::provider::{parse_expiration, CredentialSource, Fetched, Process};
use crate::secret::Secret;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The official libraries' timeout for a credential process.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest output read (credentials are a few hundred bytes).
const MAX_OUTPUT: u64 = 64 * 1024;

pub async fn fetch(src: &CredentialSource, p: &Process) -> Result<Fetched, CredentialError> {
    let (src2, p2) = (src.clone(), p.clone());
    tokio::task::spawn_blocking(move || run(&src2, &p2))
        .await
        .map_err(|e| src.error(format!("the process task failed ({e})"), "try again"))?
}

fn run(src: &CredentialSource, p: &Process) -> Result<Fetched, CredentialError> {
    use std::os::unix::process::CommandExt;
    let see = "run the command yourself to see what it prints (ecsh does not show its output, \
               which holds secrets)";
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&p.command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| {
            src.error(
                format!("cannot start {} ({e})", p.shown()),
                "fix process_command in the profile",
            )
        })?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = (&mut stdout).take(MAX_OUTPUT).read_to_string(&mut out);
        Secret::new(out)
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= p.timeout => {
                // SAFETY: kill(2) on the process group this child leads; no memory is touched.
                unsafe {
                    libc::kill(-(child.id() as i32), libc::SIGKILL);
                }
                let _ = child.wait();
                return Err(src.error(
                    format!(
                        "{} did not finish within {} s and was killed",
                        p.shown(),
                        p.timeout.as_secs_f64()
                    ),
                    "make the command finish quickly, or raise ECSH_CREDENTIAL_PROCESS_TIMEOUT \
                     (seconds)",
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                return Err(src.error(format!("cannot wait for {} ({e})", p.shown()), "try again"))
            }
        }
    };
    let output = reader.join().unwrap_or_else(|_| Secret::new(""));
    if !status.success() {
        let how = match status.code() {
            Some(c) => format!("exited with status {c}"),
            None => "was killed by a signal".to_string(),
        };
        return Err(src.error(format!("{} {how}", p.shown()), see));
    }
    parse(output.expose()).map_err(|why| {
        src.error(
            format!("the output of {} is not usable: {why}", p.shown()),
            see,
        )
    })
}

/// Reads the command's JSON. Reasons name fields, never values.
fn parse(text: &str) -> Result<Fetched, String> {
    let v: serde_json::Value = serde_json::from_str(text.trim())
        .map_err(|_| "it is not JSON (expected {\"mode\": \"AK\", \"access_key_id\": …, \"access_key_secret\": …})".to_string())?;
    let field = |name: &str| {
        v.get(name)
            .and_then(|f| f.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("it has no {name}"))
    };
    let mode = v.get("mode").and_then(|m| m.as_str()).unwrap_or("AK");
    let mut creds = Credentials {
        access_key_id: field("access_key_id")?,
        secret: Secret::new(field("access_key_secret")?),
        security_token: None,
    };
    match mode {
        "AK" => {}
        "StsToken" => creds.security_token = Some(Secret::new(field("sts_token")?)),
        other => {
            return Err(format!(
                "its mode is `{other}`; a credential process prints mode AK or StsToken"
            ))
        }
    }
    let expiration = match v.get("expiration").and_then(|e| e.as_str()) {
        Some(e) => Some(parse_expiration(e)?),
        None => None,
    };
    Ok(Fetched {
        credentials: creds,
        expiration,
        obtained: time::OffsetDateTime::now_utc(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_read_by_mode_and_never_quoted() {
        let f = parse(r#"{"mode":"StsToken","access_key_id":"STS.a","access_key_secret":"s3","sts_token":"t0"}"#).unwrap();
        assert_eq!(f.credentials.security_token.unwrap().expose(), "t0");
        let e = parse(r#"{"mode":"StsToken","access_key_id":"STS.a","access_key_secret":"s3"}"#)
            .unwrap_err();
        assert!(e.contains("sts_token"), "{e}");
        let e = parse("s3cr3t-not-json").unwrap_err();
        assert!(!e.contains("s3cr3t"), "{e}");
    }
}
