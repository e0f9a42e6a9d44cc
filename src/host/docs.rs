//! `doc_search` / `search_and_format`: an offline documentation index built into the binary,
//! since there may be no internet. It indexes every host function (from the functions table),
//! every API action (`ops::ACTIONS` docs) and the error advice of the RPC client, and ranks hits
//! by keyword.
//!
//! Pure data and ranking: no I/O, no network.

use super::errors::HostError;
use super::functions::{describe_option, TABLE};
use crate::ops::{Product, ACTIONS};
use rhai::Map;
use std::sync::OnceLock;

pub const DEFAULT_LIMIT: usize = 5;

/// One indexed document.
#[derive(Clone, Debug)]
pub struct Doc {
    pub title: String,
    /// `function`, `action` or `error`.
    pub kind: &'static str,
    /// `ecs`, `vpc` or `ecsh`.
    pub product: &'static str,
    pub summary: String,
    /// Everything searchable beyond title and summary.
    pub body: String,
    pub link: String,
}

impl Doc {
    pub fn to_map(&self) -> Map {
        let mut m = Map::new();
        m.insert("title".into(), self.title.clone().into());
        m.insert("kind".into(), self.kind.into());
        m.insert("product".into(), self.product.into());
        m.insert("summary".into(), self.summary.clone().into());
        m.insert("link".into(), self.link.clone().into());
        m
    }
}

fn index() -> &'static [Doc] {
    static INDEX: OnceLock<Vec<Doc>> = OnceLock::new();
    INDEX.get_or_init(build_index)
}

fn build_index() -> Vec<Doc> {
    let mut docs = Vec::new();
    for f in TABLE {
        let mut body: Vec<String> = f.options.iter().map(describe_option).collect();
        body.push(f.section.to_string());
        body.push(f.result.to_string());
        body.push(f.example.to_string());
        if let Some(a) = f.action {
            body.push(a.name.to_string());
        }
        docs.push(Doc {
            title: f.name.to_string(),
            kind: "function",
            product: "ecsh",
            summary: f.doc.to_string(),
            body: body.join("\n"),
            link: format!("ecsh help {}", f.name),
        });
    }
    for a in ACTIONS {
        let required = a.required.join(", ");
        docs.push(Doc {
            title: a.name.to_string(),
            kind: "action",
            product: a.product.code(),
            summary: a.doc.to_string(),
            body: format!(
                "{} API {} version {}. Required parameters: {}. Parameter reference.",
                a.product.code().to_uppercase(),
                a.name,
                a.product.version(),
                if required.is_empty() {
                    "none"
                } else {
                    &required
                }
            ),
            link: action_link(a.product, a.name),
        });
    }
    for (code, advice) in crate::rpc::advice_entries() {
        docs.push(Doc {
            title: code.clone(),
            kind: "error",
            product: "ecs",
            summary: advice.to_string(),
            body: format!("error code {code}"),
            link: "https://api.alibabacloud.com/document/Ecs/2014-05-26/errorCode".into(),
        });
    }
    docs
}

fn action_link(product: Product, action: &str) -> String {
    // STS's reference pages live under RAM's documentation.
    let (section, p, v) = match product {
        Product::Ecs => ("ecs", "ecs", "2014-05-26"),
        Product::Vpc => ("vpc", "vpc", "2016-04-28"),
        Product::Sts => ("ram", "sts", "2015-04-01"),
    };
    format!(
        "https://www.alibabacloud.com/help/en/{section}/developer-reference/api-{p}-{v}-{}",
        action.to_lowercase()
    )
}

/// Lower-case words of a text; CamelCase and dotted codes also yield their whole form.
fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text.split(|c: char| c.is_whitespace() || ",;:()[]{}\"'`#".contains(c)) {
        let raw = raw.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if raw.is_empty() {
            continue;
        }
        out.push(raw.to_lowercase());
        for part in raw.split(|c: char| !c.is_ascii_alphanumeric()) {
            if !part.is_empty() && part.len() != raw.len() {
                out.push(part.to_lowercase());
            }
        }
    }
    out
}

fn score(doc: &Doc, query_terms: &[String], query: &str) -> u32 {
    let title = doc.title.to_lowercase();
    let summary = doc.summary.to_lowercase();
    let body = doc.body.to_lowercase();
    let title_terms = terms(&doc.title);
    let mut s = 0;
    if title == query.trim().to_lowercase() {
        s += 100;
    }
    for t in query_terms {
        if title_terms.iter().any(|x| x == t) {
            s += 20;
        } else if t.len() >= 3 && title.contains(t.as_str()) {
            s += 8;
        }
        if t.len() >= 3 && summary.contains(t.as_str()) {
            s += 3;
        }
        if t.len() >= 3 && body.contains(t.as_str()) {
            s += 1;
        }
    }
    s
}

/// The best `limit` documents for `query`, optionally only of `product` (`ecs`, `vpc`, `ecsh`;
/// `ecs` includes the ecsh functions and the error codes, which are about ECS).
pub fn search(query: &str, product: Option<&str>, limit: usize) -> Result<Vec<Doc>, HostError> {
    if query.trim().is_empty() {
        return Err(HostError::InvalidOption(
            "doc_search: the query is empty; give keywords, an action name or an error code".into(),
        ));
    }
    let product = product.map(str::to_lowercase);
    if let Some(p) = &product {
        if !["ecs", "vpc", "ecsh"].contains(&p.as_str()) {
            return Err(HostError::InvalidOption(format!(
                "doc_search: unknown product '{p}'; valid: ecs, vpc, ecsh"
            )));
        }
    }
    let qt = terms(query);
    let mut hits: Vec<(u32, &Doc)> = index()
        .iter()
        .filter(|d| match product.as_deref() {
            None => true,
            Some("ecs") => d.product != "vpc",
            Some(p) => d.product == p,
        })
        .map(|d| (score(d, &qt, query), d))
        .filter(|(s, _)| *s > 0)
        .collect();
    hits.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.title.cmp(&b.1.title)));
    Ok(hits
        .into_iter()
        .take(limit)
        .map(|(_, d)| d.clone())
        .collect())
}

/// The hits as text, as the seed's `search_and_format` prints them.
pub fn format_hits(query: &str, hits: &[Doc]) -> String {
    if hits.is_empty() {
        return format!("No documentation found for \"{query}\". Try other keywords, an API action name (RunInstances) or an error code.");
    }
    let mut out = format!("Documentation results for \"{query}\":\n");
    for (i, d) in hits.iter().enumerate() {
        out.push_str(&format!(
            "\n{}. {} ({} {})\n   {}\n   {}\n",
            i + 1,
            d.title,
            d.product,
            d.kind,
            d.summary,
            d.link
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_name_finds_its_action_first() {
        let hits = search("RunInstances parameter reference", Some("ecs"), 3).unwrap();
        assert_eq!(hits[0].title, "RunInstances");
        assert_eq!(hits[0].kind, "action");
    }

    #[test]
    fn a_function_name_finds_the_function() {
        let hits = search("describe_price", None, 3).unwrap();
        assert_eq!(hits[0].title, "describe_price");
    }

    #[test]
    fn product_filter_and_bad_input() {
        let hits = search("DescribeVpcs", Some("vpc"), 5).unwrap();
        assert!(hits.iter().all(|h| h.product == "vpc"));
        assert!(search("  ", None, 5).is_err());
        assert!(search("x", Some("rds"), 5)
            .unwrap_err()
            .to_string()
            .contains("valid: ecs, vpc, ecsh"));
    }

    #[test]
    fn formatting_lists_title_summary_and_link() {
        let hits = search("DescribeImages ImageFamily", Some("ecs"), 2).unwrap();
        let text = format_hits("DescribeImages ImageFamily", &hits);
        assert!(text.contains("1. DescribeImages"), "{text}");
        assert!(text.contains("api-ecs-2014-05-26-describeimages"), "{text}");
        assert!(format_hits("zzz", &[]).contains("No documentation found"));
    }
}
