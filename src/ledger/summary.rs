//! The seed's resource summary: what a run created and what became of each resource, printed
//! at the end of every run whatever happened.
//!
//! ```text
//! Created resources:
//! - ECS: i-xxx (ecs.t6-c1m2.large, PostPaid ~CNY 0.017/h) [released]
//! - SecurityGroup: sg-xxx [retained (kept)]
//! ```
//!
//! Built from a run's state; formatting only (the CLI and REPL print it).

use super::journal;
use super::state::{Holding, RunState};
use super::HourlyCost;
use crate::ops::ResourceKind;
use std::fmt;
use std::path::{Path, PathBuf};

/// What became of one resource.
#[derive(Clone, Debug, PartialEq)]
pub enum Fate {
    Released,
    /// Kept with `keep(id)`, or needed by a kept resource (named).
    Retained {
        needed_by: Option<String>,
    },
    /// Still held; `error` is why its release failed, if it was tried.
    Held {
        error: Option<(String, String)>,
    },
    /// Deleted by the script, not verified gone yet.
    Deleting,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub kind: ResourceKind,
    pub id: String,
    pub region: String,
    pub detail: Option<String>,
    pub cost: Option<HourlyCost>,
    pub fate: Fate,
}

/// The resource summary of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub run: String,
    pub lines: Vec<Line>,
    /// The journal directory, when it is not the default (so the retry command names it).
    pub journal_dir: Option<PathBuf>,
}

impl Summary {
    pub fn of(state: &RunState, journal_dir: &Path) -> Summary {
        let lines = state
            .resources
            .iter()
            .map(|t| Line {
                kind: t.kind,
                id: t.id.clone(),
                region: t.region.clone(),
                detail: t.detail.clone(),
                cost: t.cost.clone(),
                fate: match t.status {
                    Holding::Released => Fate::Released,
                    Holding::Kept => Fate::Retained {
                        needed_by: t.needed_by.clone(),
                    },
                    Holding::Deleting => Fate::Deleting,
                    Holding::Held => Fate::Held {
                        error: t.last_error.clone(),
                    },
                },
            })
            .collect::<Vec<Line>>();
        // The seed's order: instances first, then what they sat in (a stable sort keeps
        // creation order within a kind).
        let mut lines = lines;
        lines.sort_by_key(|l| l.kind.level());
        let default = journal::default_dir().ok();
        Summary {
            run: state.run.clone(),
            lines,
            journal_dir: (default.as_deref() != Some(journal_dir))
                .then(|| journal_dir.to_path_buf()),
        }
    }

    /// The summary for tools (`--output json`): the run id and one object per resource with
    /// its kind, id, region, quoted hourly cost and status (`released`, `retained`, `held`,
    /// `deleting`), plus why it was retained or why its release failed.
    pub fn to_json(&self) -> serde_json::Value {
        let resources: Vec<serde_json::Value> =
            self.lines
                .iter()
                .map(|l| {
                    let (status, note) = match &l.fate {
                        Fate::Released => ("released", None),
                        Fate::Retained { needed_by } => (
                            "retained",
                            Some(needed_by.as_ref().map_or_else(
                                || "kept".to_string(),
                                |by| format!("needed by {by}"),
                            )),
                        ),
                        Fate::Held { error } => (
                            "held",
                            error.as_ref().map(|(code, msg)| format!("{code}: {msg}")),
                        ),
                        Fate::Deleting => ("deleting", None),
                    };
                    serde_json::json!({
                        "kind": l.kind.label(),
                        "id": l.id,
                        "region": l.region,
                        "detail": l.detail,
                        "cost_per_hour": l.cost,
                        "status": status,
                        "note": note,
                    })
                })
                .collect();
        serde_json::json!({ "run": self.run, "resources": resources })
    }

    /// Resources still held (neither released nor kept).
    pub fn left(&self) -> impl Iterator<Item = &Line> {
        self.lines
            .iter()
            .filter(|l| matches!(l.fate, Fate::Held { .. } | Fate::Deleting))
    }

    pub fn retained(&self) -> impl Iterator<Item = &Line> {
        self.lines
            .iter()
            .filter(|l| matches!(l.fate, Fate::Retained { .. }))
    }

    /// The command that retries releasing what is left.
    pub fn retry_command(&self) -> String {
        cleanup_command(&self.run, self.journal_dir.as_deref())
    }
}

/// `ecsh cleanup RUN` (with `--journal-dir` when it is not the default).
pub fn cleanup_command(run: &str, journal_dir: Option<&Path>) -> String {
    match journal_dir {
        Some(d) => format!("ecsh cleanup {run} --journal-dir {}", d.display()),
        None => format!("ecsh cleanup {run}"),
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "- {}: {}", self.kind.label(), self.id)?;
        let cost = self
            .cost
            .as_ref()
            .map(|c| format!("~{} {}/h", c.currency, trim_amount(c.amount)));
        match (&self.detail, cost) {
            (Some(d), Some(c)) => write!(f, " ({d} {c})")?,
            (Some(d), None) => write!(f, " ({d})")?,
            (None, Some(c)) => write!(f, " ({c})")?,
            (None, None) => {}
        }
        match &self.fate {
            Fate::Released => f.write_str(" [released]"),
            Fate::Retained { needed_by: None } => f.write_str(" [retained (kept)]"),
            Fate::Retained {
                needed_by: Some(by),
            } => write!(f, " [retained (needed by {by})]"),
            Fate::Deleting => f.write_str(" [deleting, not yet verified]"),
            Fate::Held { error: None } => f.write_str(" [held]"),
            Fate::Held {
                error: Some((code, msg)),
            } => write!(f, " [NOT released: {code}: {msg}]"),
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lines.is_empty() {
            return writeln!(f, "Created resources: none");
        }
        writeln!(f, "Created resources:")?;
        for line in &self.lines {
            writeln!(f, "{line}")?;
        }
        let left = self.left().count();
        if left > 0 {
            writeln!(
                f,
                "{left} resource(s) of run {} are still held; release them with: {}",
                self.run,
                self.retry_command()
            )?;
        }
        Ok(())
    }
}

/// `0.017`, not `0.017000000000000001`.
fn trim_amount(a: f64) -> String {
    let s = format!("{a:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(fate: Fate, cost: Option<f64>) -> Line {
        Line {
            kind: ResourceKind::Instance,
            id: "i-1".into(),
            region: "cn-hangzhou".into(),
            detail: Some("ecs.t6-c1m2.large, PostPaid".into()),
            cost: cost.map(|amount| HourlyCost {
                amount,
                currency: "CNY".into(),
            }),
            fate,
        }
    }

    #[test]
    fn lines_read_like_the_seed() {
        assert_eq!(
            line(Fate::Released, Some(0.017)).to_string(),
            "- ECS: i-1 (ecs.t6-c1m2.large, PostPaid ~CNY 0.017/h) [released]"
        );
        let held = line(
            Fate::Held {
                error: Some(("DependencyViolation".into(), "still in use".into())),
            },
            None,
        );
        assert_eq!(
            held.to_string(),
            "- ECS: i-1 (ecs.t6-c1m2.large, PostPaid) [NOT released: DependencyViolation: still in use]"
        );
    }

    #[test]
    fn what_is_left_comes_with_the_retry_command() {
        let s = Summary {
            run: "r-20261129-223501-ab12".into(),
            lines: vec![
                line(Fate::Held { error: None }, None),
                line(Fate::Retained { needed_by: None }, None),
            ],
            journal_dir: Some(PathBuf::from("/tmp/j")),
        };
        let text = s.to_string();
        assert!(text.contains("[retained (kept)]"), "{text}");
        assert!(
            text.contains("ecsh cleanup r-20261129-223501-ab12 --journal-dir /tmp/j"),
            "{text}"
        );
    }
}
