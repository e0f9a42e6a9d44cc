//! The REPL's history file and the rule that keeps secrets out of it.
//!
//! Where: `$ECSH_HISTORY` if set (tests point it at a temp file), else
//! `<data dir>/ecsh/history` (`~/.local/share/ecsh/history` on Linux). rustyline writes it with
//! mode 0600.
//!
//! **The secret rule.** An entry is never written to the history file (it stays usable with ↑ in
//! the current session only) when any of these holds:
//! 1. it contains an Alibaba Cloud AccessKey id (`LTAI` followed by 12 or more letters/digits) or
//!    an STS security token (`STS.` followed by 20 or more token characters);
//! 2. it names a credential: after lower-casing and dropping `_` and `-`, it contains
//!    `accesskeysecret`, `accesskeyid`, `secretkey`, `securitytoken`, `password`, `passwd`,
//!    `privatekey` or `secret`;
//! 3. it holds a long opaque literal — a quoted string of 24 or more characters drawn only from
//!    letters, digits and `+/=_-`, with both letters and digits — next to a secret-ish word
//!    (`key`, `token`, `auth`, `credential`, `pass`).
//!
//! 4. it contains the *value* of one of the session's own credentials (its AccessKey secret,
//!    its STS token), however the line names it ([`holds_value`]): the name rules above miss
//!    `let s = "…"; connect(s)` or a pasted value.
//!
//! As in bash's `HISTCONTROL=ignorespace`, an entry typed with a leading space is not saved
//! either: a way to keep any line out of the file on purpose.
//!
//! The rule errs on the side of not saving: a harmless line that trips it only costs a history
//! entry. This module reads no credentials and prints nothing; the REPL tells the user.

use std::path::PathBuf;

/// The environment variable that overrides the history file's path.
pub const HISTORY_ENV: &str = "ECSH_HISTORY";

/// The history file, or `None` when neither `$ECSH_HISTORY` nor a data directory is known.
pub fn history_path() -> Option<PathBuf> {
    match std::env::var_os(HISTORY_ENV) {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => dirs::data_dir().map(|d| d.join("ecsh").join("history")),
    }
}

/// Why an entry was kept out of the history file, or `None` when it may be saved.
pub fn secret_reason(entry: &str) -> Option<&'static str> {
    if has_access_key_id(entry) {
        return Some("it contains an AccessKey id");
    }
    if has_sts_token(entry) {
        return Some("it contains a security token");
    }
    let folded: String = entry
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    const NAMES: [&str; 8] = [
        "accesskeysecret",
        "accesskeyid",
        "secretkey",
        "securitytoken",
        "password",
        "passwd",
        "privatekey",
        "secret",
    ];
    if NAMES.iter().any(|n| folded.contains(n)) {
        return Some("it names a credential");
    }
    const HINTS: [&str; 5] = ["key", "token", "auth", "credential", "pass"];
    if HINTS.iter().any(|h| folded.contains(h)) && quoted_strings(entry).any(is_opaque) {
        return Some("it holds a long opaque value next to a key or token name");
    }
    None
}

/// True when `entry` contains one of `secrets` (values shorter than 8 characters are ignored:
/// they would match ordinary text, and no real secret is that short).
pub fn holds_value(entry: &str, secrets: &[crate::secret::Secret]) -> bool {
    secrets
        .iter()
        .map(|s| s.expose())
        .any(|v| v.len() >= 8 && entry.contains(v))
}

fn has_access_key_id(s: &str) -> bool {
    s.match_indices("LTAI").any(|(i, _)| {
        s[i + 4..]
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .count()
            >= 12
    })
}

fn has_sts_token(s: &str) -> bool {
    s.match_indices("STS.").any(|(i, _)| {
        s[i + 4..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || "+/=_-".contains(*c))
            .count()
            >= 20
    })
}

/// The contents of `"…"`, `'…'` and `` `…` `` literals in `s` (escapes are not interpreted; the
/// rule only needs their characters).
fn quoted_strings(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let open = rest.find(['"', '\'', '`'])?;
        let quote = rest[open..].chars().next()?;
        let body = &rest[open + 1..];
        match body.find(quote) {
            Some(close) => {
                rest = &body[close + 1..];
                Some(&body[..close])
            }
            None => {
                rest = "";
                Some(body)
            }
        }
    })
}

fn is_opaque(s: &str) -> bool {
    s.len() >= 24
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=_-".contains(c))
        && s.chars().any(|c| c.is_ascii_digit())
        && s.chars().any(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sessions_own_secret_values_are_withheld_whatever_the_line_names() {
        let secrets = [
            crate::secret::Secret::new("wJalrXUtnFEMIK7MDENGbPxRfiCY"),
            crate::secret::Secret::new("CAIS1234tokenvalue5678"),
        ];
        assert!(holds_value(
            r#"let s = "wJalrXUtnFEMIK7MDENGbPxRfiCY";"#,
            &secrets
        ));
        assert!(holds_value("print(`CAIS1234tokenvalue5678`)", &secrets));
        assert!(!holds_value("describe_regions(#{})", &secrets));
        // This line passes every name rule: only the value rule catches it.
        assert_eq!(
            secret_reason(r#"let s = "wJalrXUtnFEMIK7MDENGbPxRfiCY";"#),
            None
        );
        assert!(!holds_value("short", &[crate::secret::Secret::new("abc")]));
    }

    #[test]
    fn secrets_are_withheld() {
        for line in [
            r#"let id = "LTAI5tAbCdEfGhIjKlMn";"#,
            r#"call("ecs", "X", #{ AccessKeySecret: "abc" })"#,
            r#"let access_key_secret = "x";"#,
            r#"let t = "STS.NUBq7mPHEkRJ9sbjV3iT2xB5f8s";"#,
            r#"let c = #{ SecurityToken: y };"#,
            r#"run_instances(#{ password: "Hunter2!" })"#,
            r#"let api_key = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==";"#,
            r#"let auth = `abcdefghij0123456789abcdef`;"#,
        ] {
            assert!(secret_reason(line).is_some(), "{line} must not be saved");
        }
    }

    #[test]
    fn ordinary_lines_are_saved() {
        for line in [
            r#"describe_price(#{ instance_type: "ecs.g7.large" })"#,
            r#"let sg = create_security_group(#{ vpc_id: "vpc-bp1abcdefghijklmnop123" })"#,
            "describe_security_groups()",
            r#"let id = "i-bp67acfmxazb4ph3abcd";"#,
            "let tokens = 3;",
            r#"let key = "region";"#,
            r#"print("LTAI")"#,
        ] {
            assert_eq!(secret_reason(line), None, "{line} should be saved");
        }
    }

    #[test]
    fn env_overrides_the_path() {
        // Read-only check of the default: the override itself is exercised by the pty tests,
        // which set ECSH_HISTORY on the child process (tests here share one environment).
        if std::env::var_os(HISTORY_ENV).is_none() {
            if let Some(p) = history_path() {
                assert!(p.ends_with("ecsh/history"), "{}", p.display());
            }
        }
    }
}
