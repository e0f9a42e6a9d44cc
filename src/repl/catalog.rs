//! What the REPL knows about the functions a user can call: their names, seed sections,
//! signatures, options and examples — for completion, hints and `help`.
//!
//! The documented functions come from the host's table; every other callable name (Rhai's
//! standard library, functions the user defined earlier in the session) comes from the engine's
//! metadata and the session's AST, so completion offers exactly what would run. This module
//! holds data and lookups only; it prints nothing.

use std::collections::BTreeSet;

/// One documented option of a function (a key of its `#{ … }` argument).
#[derive(Debug, Clone, PartialEq)]
pub struct OptionDoc {
    pub name: String,
    /// The Rhai type a value must have (`string`, `int`, `array`, …).
    pub ty: String,
    /// The default as Rhai source, or `None` when the option is required or has no default.
    pub default: Option<String>,
    pub required: bool,
    pub doc: String,
}

/// One documented function.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionDoc {
    pub name: String,
    /// The seed section it belongs to (used to group `help()`).
    pub section: String,
    /// One line saying what it does (for `help()`).
    pub summary: String,
    /// The full description (for `help("name")`).
    pub doc: String,
    /// Positional parameters before the options map (`call_api(product: string, …)`).
    pub params: Vec<String>,
    /// True when `options` document the positional `params` (there is no options map).
    pub positional: bool,
    pub options: Vec<OptionDoc>,
    /// The Rhai type of the result (`map`, `array`, `()`).
    pub returns: String,
    /// What the result looks like (`#{ Data: #{ RecommendInstanceType: [...] } }`).
    pub result: String,
    pub example: String,
}

impl FunctionDoc {
    /// `describe_price(#{instance_type, period = 1, …})`, the signature shown in hints.
    pub fn signature(&self) -> String {
        let mut args: Vec<String> = self.params.clone();
        if !self.options.is_empty() && !self.positional {
            let opts: Vec<String> = self
                .options
                .iter()
                .map(|o| match &o.default {
                    Some(d) => format!("{}: {} = {d}", o.name, o.ty),
                    None if o.required => format!("{}: {} (required)", o.name, o.ty),
                    None => format!("{}: {}", o.name, o.ty),
                })
                .collect();
            args.push(format!("#{{{}}}", opts.join(", ")));
        }
        format!("{}({}) -> {}", self.name, args.join(", "), self.returns)
    }

    pub fn option(&self, name: &str) -> Option<&OptionDoc> {
        self.options.iter().find(|o| o.name == name)
    }
}

/// Everything completion and help can offer.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Documented functions, in table order.
    pub documented: Vec<FunctionDoc>,
    /// Every callable name: documented, engine-registered (incl. Rhai's standard library),
    /// and defined in the session. Sorted, unique.
    pub names: Vec<String>,
    /// Signatures of the engine's functions and the session's own (`fn f(x)`), for
    /// `help("name")` on names the table does not document.
    pub signatures: Vec<String>,
}

impl Catalog {
    /// Builds the catalog from the documented table and the engine's own metadata.
    pub fn new(documented: Vec<FunctionDoc>, engine: &rhai::Engine) -> Catalog {
        let signatures = engine.gen_fn_signatures(true);
        let mut names: BTreeSet<String> = documented.iter().map(|f| f.name.clone()).collect();
        names.extend(signatures.iter().filter_map(|s| signature_name(s)));
        Catalog {
            documented,
            names: names.into_iter().collect(),
            signatures,
        }
    }

    /// Adds the functions a script defined (from its AST), by name and signature.
    pub fn add_script_functions(&mut self, ast: &rhai::AST) {
        let fns: Vec<(String, String)> = ast
            .iter_functions()
            .map(|f| {
                (
                    f.name.to_string(),
                    format!("fn {}({})", f.name, f.params.join(", ")),
                )
            })
            .collect();
        for (_, sig) in &fns {
            if !self.signatures.contains(sig) {
                self.signatures.push(sig.clone());
            }
        }
        self.add_names(fns.into_iter().map(|(name, _)| name));
    }

    /// Adds names (functions defined in the session, variables in scope).
    pub fn add_names<I: IntoIterator<Item = String>>(&mut self, more: I) {
        let mut all: BTreeSet<String> = std::mem::take(&mut self.names).into_iter().collect();
        all.extend(more);
        self.names = all.into_iter().collect();
    }

    pub fn find(&self, name: &str) -> Option<&FunctionDoc> {
        self.documented.iter().find(|f| f.name == name)
    }

    /// Names starting with `prefix`, sorted.
    pub fn names_starting_with<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> {
        self.names
            .iter()
            .map(String::as_str)
            .filter(move |n| n.starts_with(prefix))
    }

    /// The documented functions grouped by seed section; sections sort by name, which follows
    /// the seed's numbering ("1. Spec …" before "2. Inventory …").
    pub fn by_section(&self) -> Vec<(&str, Vec<&FunctionDoc>)> {
        let mut groups: Vec<(&str, Vec<&FunctionDoc>)> = Vec::new();
        for f in &self.documented {
            match groups.iter_mut().find(|(s, _)| *s == f.section) {
                Some((_, fs)) => fs.push(f),
                None => groups.push((f.section.as_str(), vec![f])),
            }
        }
        groups.sort_by_key(|(section, _)| *section);
        groups
    }

    /// The closest documented or callable name to `name`, for "did you mean".
    pub fn near_miss(&self, name: &str) -> Option<&str> {
        crate::ops::closest(name, self.names.iter().map(String::as_str))
    }
}

/// The function name in a signature from `gen_fn_signatures` (`len(string: &str) -> int`,
/// `get$field(...)`); operators and property accessors are skipped.
fn signature_name(sig: &str) -> Option<String> {
    let name = sig.split('(').next()?.trim();
    let name = name.rsplit("::").next()?;
    let is_ident = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    is_ident.then(|| name.to_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small documented table for the REPL's unit tests.
    pub fn sample() -> Vec<FunctionDoc> {
        vec![
            FunctionDoc {
                name: "describe_price".into(),
                section: "Price".into(),
                summary: "Quote the price of an instance configuration.".into(),
                doc: "Quote the price of an instance configuration. Prices are per hour.".into(),
                params: vec![],
                positional: false,
                returns: "map".into(),
                options: vec![
                    OptionDoc {
                        name: "instance_type".into(),
                        ty: "string".into(),
                        default: None,
                        required: true,
                        doc: "The instance type to quote.".into(),
                    },
                    OptionDoc {
                        name: "period".into(),
                        ty: "int".into(),
                        default: Some("1".into()),
                        required: false,
                        doc: "Billing periods.".into(),
                    },
                    OptionDoc {
                        name: "price_unit".into(),
                        ty: "string".into(),
                        default: Some("\"Hour\"".into()),
                        required: false,
                        doc: "Hour, Week, Month or Year.".into(),
                    },
                ],
                result: "#{ PriceInfo: #{ Price: #{ TradePrice, OriginalPrice } } }".into(),
                example: "describe_price(#{ instance_type: \"ecs.g7.large\" })".into(),
            },
            FunctionDoc {
                name: "describe_regions".into(),
                section: "Regions and zones".into(),
                summary: "List the regions.".into(),
                doc: "List the regions.".into(),
                params: vec![],
                positional: false,
                returns: "map".into(),
                options: vec![],
                result: "#{ Regions: #{ Region: [...] } }".into(),
                example: "describe_regions()".into(),
            },
        ]
    }

    #[test]
    fn catalog_merges_table_and_engine_names() {
        let engine = rhai::Engine::new();
        let cat = Catalog::new(sample(), &engine);
        assert!(cat.names.iter().any(|n| n == "describe_price"));
        assert!(
            cat.names.iter().any(|n| n == "len"),
            "stdlib names included"
        );
        assert!(!cat.names.iter().any(|n| n == "+"), "operators skipped");
        let described: Vec<_> = cat.names_starting_with("describe_").collect();
        assert_eq!(described, ["describe_price", "describe_regions"]);
    }

    #[test]
    fn signature_lists_options_with_defaults() {
        let f = &sample()[0];
        assert_eq!(
            f.signature(),
            "describe_price(#{instance_type: string (required), period: int = 1, price_unit: string = \"Hour\"}) -> map"
        );
    }

    #[test]
    fn near_miss_suggests() {
        let cat = Catalog::new(sample(), &rhai::Engine::new_raw());
        assert_eq!(cat.near_miss("describe_prise"), Some("describe_price"));
        assert_eq!(cat.near_miss("zzzzzzzzzzzz"), None);
    }
}
