//! The parameter list of `ecsh call`: `Key=Value` words, and aliyun-cli's spelling
//! (`--RegionId cn-hangzhou`, `--InstanceIds '["i-1"]'`, `--Key=Value`), into the flat
//! parameters sent on the wire. API parameter names start with a capital letter, which is how
//! they are told apart from ecsh's own flags (all lower case, parsed by clap; those given after
//! the parameters are moved before them first, [`flags_first`]).

use super::flags::{GlobalArgs, Output};
use super::UsageError;
use crate::rpc::Params;
use clap::CommandFactory;
use std::ffi::OsString;

/// Parses the parameter words in order; each parameter may be given once.
pub fn parse(words: &[String]) -> Result<Params, UsageError> {
    let mut params = Params::new();
    let mut rest = words.iter();
    while let Some(word) = rest.next() {
        let (key, value) = match word.strip_prefix("--") {
            Some(flag) => match flag.split_once('=') {
                Some((key, value)) => (key, value.to_string()),
                None => {
                    check_name(flag, word)?;
                    let value = rest.next().ok_or_else(|| {
                        UsageError(format!(
                            "parameter --{flag} has no value; write e.g. --{flag} VALUE (or {flag}=VALUE)"
                        ))
                    })?;
                    (flag, value.clone())
                }
            },
            None => word
                .split_once('=')
                .map(|(k, v)| (k, v.to_string()))
                .ok_or_else(|| {
                    UsageError(format!(
                        "parameter '{word}' is not Key=Value; write e.g. RegionId=cn-hangzhou, \
                     InstanceId.1=i-abc, or aliyun-cli's --RegionId cn-hangzhou"
                    ))
                })?,
        };
        check_name(key, word)?;
        if params.iter().any(|(k, _)| k == key) {
            return Err(UsageError(format!(
                "parameter '{key}' is given twice; give each parameter once"
            )));
        }
        params.push((key.to_string(), value));
    }
    Ok(params)
}

/// An API parameter name: a capital letter, then letters, digits, dots and underscores.
fn check_name(key: &str, word: &str) -> Result<(), UsageError> {
    let well_formed = key.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
    if well_formed {
        return Ok(());
    }
    if word.starts_with("--") && key.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(UsageError(format!(
            "'{word}' is neither a flag of `ecsh call` (see ecsh call --help) nor an API \
             parameter (those start with a capital letter, e.g. --RegionId)"
        )));
    }
    Err(UsageError(format!(
        "parameter name '{key}' in '{word}' is not an API parameter name (a capital letter, \
         then letters, digits, dots: RegionId, InstanceId.1, Tag.1.Key)"
    )))
}

/// aliyun-cli writes `--output cols=A,B rows=PATH` as two words; clap gives `--output` the
/// first, so the second lands among the parameters. `rows` is no API parameter (lower case),
/// so when a column format was asked for, it is taken back as the format's rows.
pub fn adopt_output_rows(words: &mut Vec<String>, global: &mut GlobalArgs) {
    let Some(Output::Columns(columns)) = global.output.as_mut() else {
        return;
    };
    if let Some(at) = words.iter().position(|w| w.starts_with("rows=")) {
        let word = words.remove(at);
        columns.rows = Some(word["rows=".len()..].to_string());
    }
}

/// `argv` with `ecsh call`'s own flags moved from among the parameters (the last
/// `params.len()` words) to just before them, so clap parses them as flags; `None` when there
/// are none. Which words are flags, and which take a value, comes from clap's definition.
pub fn flags_first(argv: &[OsString], params: &[String]) -> Option<Vec<OsString>> {
    let cli = super::Cli::command();
    let call = cli.find_subcommand("call")?;
    let start = argv.len().checked_sub(params.len())?;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let mut words = params.iter();
    while let Some(word) = words.next() {
        let name = word.split('=').next().unwrap_or(word);
        let flag = call.get_arguments().find(|a| {
            a.get_long().is_some_and(|l| name == format!("--{l}"))
                || a.get_short().is_some_and(|c| name == format!("-{c}"))
        });
        match flag {
            Some(flag) => {
                ours.push(OsString::from(word));
                if flag.get_action().takes_values() && !word.contains('=') {
                    if let Some(value) = words.next() {
                        ours.push(OsString::from(value));
                    }
                }
            }
            None => theirs.push(OsString::from(word)),
        }
    }
    if ours.is_empty() {
        return None;
    }
    let mut out = argv[..start].to_vec();
    out.extend(ours);
    out.extend(theirs);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn both_spellings_give_the_same_parameters() {
        let aliyun = parse(&words(&[
            "--RegionId",
            "cn-hangzhou",
            "--InstanceIds",
            "[\"i-1\"]",
        ]));
        let ours = parse(&words(&["RegionId=cn-hangzhou", "InstanceIds=[\"i-1\"]"]));
        assert_eq!(aliyun.unwrap(), ours.unwrap());
        let mixed = parse(&words(&["--PageSize=10", "RegionId=x"])).unwrap();
        assert_eq!(mixed[0], ("PageSize".to_string(), "10".to_string()));
    }

    #[test]
    fn mistakes_say_what_to_write() {
        let e = parse(&words(&["--RegionId"])).unwrap_err().0;
        assert!(e.contains("--RegionId has no value"), "{e}");
        let e = parse(&words(&["--regionid", "x"])).unwrap_err().0;
        assert!(e.contains("neither a flag of `ecsh call`"), "{e}");
        let e = parse(&words(&["RegionId"])).unwrap_err().0;
        assert!(e.contains("is not Key=Value"), "{e}");
        let e = parse(&words(&["RegionId=a", "--RegionId", "b"]))
            .unwrap_err()
            .0;
        assert!(e.contains("given twice"), "{e}");
    }
}
