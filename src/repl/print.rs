//! How the REPL shows a result: arrays of maps as aligned tables trimmed to the terminal width,
//! maps as indented `key: value` lines, scalars plainly, or everything as JSON (`:json`).
//!
//! Formatting only: functions return strings and never write to the terminal, so they are tested
//! directly. Widths are display columns (CJK region names take two), via `unicode-width`.

use rhai::{Array, Dynamic, Map};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Width used when the terminal size is unknown (not a terminal, no `COLUMNS`).
const DEFAULT_WIDTH: usize = 120;
/// No table column is narrower than this after trimming (a header like `Sta…` still reads).
const MIN_COLUMN: usize = 6;
/// Cells of nested values are cut to this width before the table is fitted.
const MAX_CELL: usize = 48;
const GAP: &str = "  ";

/// The terminal's width in columns: the size of the terminal on stdout, else `$COLUMNS`, else a
/// default.
pub fn terminal_width() -> usize {
    tty_columns()
        .or_else(|| std::env::var("COLUMNS").ok()?.trim().parse().ok())
        .filter(|w| *w > 0)
        .unwrap_or(DEFAULT_WIDTH)
}

fn tty_columns() -> Option<usize> {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` into the pointer we pass, which lives on our stack.
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) };
    (rc == 0 && size.ws_col > 0).then_some(usize::from(size.ws_col))
}

/// The text shown for a result: `None` for `()` (nothing to show). Values come from the cloud
/// and the script, so control characters are escaped (an `ESC]0;…` in a name shows as text).
pub fn render(value: &Dynamic, width: usize) -> Option<String> {
    if value.is_unit() {
        return None;
    }
    Some(crate::guard::block::escape_terminal(&render_value(
        value, width, 0,
    )))
}

/// A value as pretty JSON (what `:json` shows). Values JSON cannot hold (function pointers,
/// custom types) appear as their Rhai text.
pub fn render_json(value: &Dynamic) -> String {
    let json = to_json(value);
    serde_json::to_string_pretty(&json).unwrap_or_else(|_| value.to_string())
}

fn to_json(value: &Dynamic) -> serde_json::Value {
    use serde_json::Value;
    if value.is_unit() {
        Value::Null
    } else if let Ok(b) = value.as_bool() {
        Value::Bool(b)
    } else if let Ok(i) = value.as_int() {
        Value::from(i)
    } else if let Ok(f) = value.as_float() {
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
    } else if let Some(a) = value.read_lock::<Array>() {
        Value::Array(a.iter().map(to_json).collect())
    } else if let Some(m) = value.read_lock::<Map>() {
        Value::Object(m.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect())
    } else {
        Value::String(value.to_string())
    }
}

fn render_value(value: &Dynamic, width: usize, indent: usize) -> String {
    if let Some(rows) = table_rows(value) {
        return render_table(&rows, width.saturating_sub(indent));
    }
    if let Some(map) = value.read_lock::<Map>() {
        return render_map(&map, width, indent);
    }
    inline(value)
}

/// The rows of a value that prints as a table: a non-empty array whose items are all maps.
fn table_rows(value: &Dynamic) -> Option<Vec<Map>> {
    let arr = value.read_lock::<Array>()?;
    if arr.is_empty() {
        return None;
    }
    arr.iter()
        .map(|item| item.read_lock::<Map>().map(|m| m.clone()))
        .collect()
}

fn render_map(map: &Map, width: usize, indent: usize) -> String {
    if map.is_empty() {
        return "#{}".into();
    }
    let pad = " ".repeat(indent);
    let key_width = map.keys().map(|k| k.width()).max().unwrap_or(0);
    let mut out = Vec::new();
    for (key, value) in map {
        let nested =
            table_rows(value).is_some() || value.read_lock::<Map>().is_some_and(|m| !m.is_empty());
        if nested {
            out.push(format!("{pad}{key}:"));
            let body = render_value(value, width, indent + 2);
            out.extend(body.lines().map(|l| {
                if table_rows(value).is_some() {
                    format!("{pad}  {l}")
                } else {
                    l.to_string()
                }
            }));
        } else {
            let fill = " ".repeat(key_width - key.width());
            out.push(format!("{pad}{key}:{fill} {}", inline(value)));
        }
    }
    out.join("\n")
}

/// A value on one line: strings unquoted at the top, nested values in Rhai-like notation.
fn inline(value: &Dynamic) -> String {
    if value.is_string() {
        return value.to_string();
    }
    nested_text(value)
}

fn nested_text(value: &Dynamic) -> String {
    if value.is_unit() {
        return "()".into();
    }
    if value.is_string() {
        return format!("{:?}", value.to_string());
    }
    if let Some(arr) = value.read_lock::<Array>() {
        let items: Vec<String> = arr.iter().map(nested_text).collect();
        return format!("[{}]", items.join(", "));
    }
    if let Some(map) = value.read_lock::<Map>() {
        let items: Vec<String> = map
            .iter()
            .map(|(k, v)| format!("{k}: {}", nested_text(v)))
            .collect();
        return format!("#{{{}}}", items.join(", "));
    }
    value.to_string()
}

/// An aligned table: the union of the rows' keys as columns, plain values first and nested
/// ones (maps, arrays) after them. When it is wider than `width`, nested columns are cut first,
/// then the widest (with `…`) down to a minimum; then trailing columns are dropped and named in
/// a footer.
fn render_table(rows: &[Map], width: usize) -> String {
    let mut columns: Vec<String> = Vec::new();
    for row in rows {
        for key in row.keys() {
            if !columns.iter().any(|c| c == key.as_str()) {
                columns.push(key.to_string());
            }
        }
    }
    let nested = |c: &String| {
        rows.iter()
            .filter_map(|r| r.get(c.as_str()))
            .any(|v| v.is_map() || v.is_array())
    };
    let (plain, deep): (Vec<String>, Vec<String>) = columns.into_iter().partition(|c| !nested(c));
    let first_nested = plain.len();
    let columns: Vec<String> = plain.into_iter().chain(deep).collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|c| {
                    row.get(c.as_str()).map_or(String::new(), |v| {
                        cut(&inline(v).replace('\n', " "), MAX_CELL)
                    })
                })
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].width())
                .chain([c.width()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let shown = fit(&mut widths, first_nested, width);
    let mut lines = Vec::with_capacity(rows.len() + 2);
    lines.push(table_line(&columns[..shown], &widths));
    lines.push(
        widths[..shown]
            .iter()
            .map(|w| "─".repeat(*w))
            .collect::<Vec<_>>()
            .join(GAP),
    );
    for row in &cells {
        lines.push(table_line(&row[..shown], &widths));
    }
    if shown < columns.len() {
        lines.push(format!(
            "({} more column{} not shown: {}; use :json to see everything)",
            columns.len() - shown,
            if columns.len() - shown == 1 { "" } else { "s" },
            columns[shown..].join(", ")
        ));
    }
    lines.join("\n")
}

/// Shrinks `widths` to fit `width` — the columns from `first_nested` on first — and returns how
/// many columns are shown.
fn fit(widths: &mut [usize], first_nested: usize, width: usize) -> usize {
    let total = |ws: &[usize]| ws.iter().sum::<usize>() + GAP.len() * ws.len().saturating_sub(1);
    for i in first_nested..widths.len() {
        if total(widths) <= width {
            break;
        }
        let excess = total(widths) - width;
        widths[i] = widths[i]
            .saturating_sub(excess)
            .max(MIN_COLUMN.min(widths[i]));
    }
    while total(widths) > width {
        let (widest, w) = widths
            .iter()
            .copied()
            .enumerate()
            .max_by_key(|(i, w)| (*w, usize::MAX - i))
            .unwrap_or((0, 0));
        if w <= MIN_COLUMN {
            break;
        }
        widths[widest] = w - 1;
    }
    let mut shown = widths.len();
    while shown > 1 && total(&widths[..shown]) > width {
        shown -= 1;
    }
    shown
}

fn table_line(cells: &[String], widths: &[usize]) -> String {
    let padded: Vec<String> = cells
        .iter()
        .zip(widths)
        .map(|(c, w)| {
            let c = cut(c, *w);
            let fill = " ".repeat(w.saturating_sub(c.width()));
            format!("{c}{fill}")
        })
        .collect();
    padded.join(GAP).trim_end().to_string()
}

/// `s` cut to at most `width` display columns, ending in `…` when cut.
pub fn cut(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    if width == 0 {
        return out;
    }
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_text_in_results_cannot_act_on_the_terminal() {
        let shown = render(&eval(r#"#{ InstanceName: "web\x1b]0;pwned\x07" }"#), 80).unwrap();
        assert!(shown.contains("web\\x1b]0;pwned\\x07"), "{shown}");
        assert!(!shown.contains('\x1b'), "{shown:?}");
    }

    fn eval(src: &str) -> Dynamic {
        rhai::Engine::new()
            .eval::<Dynamic>(src)
            .expect("test script")
    }

    #[test]
    fn arrays_of_maps_are_aligned_tables() {
        let v = eval(
            r#"[#{ RegionId: "cn-hangzhou", LocalName: "华东1（杭州）" },
                #{ RegionId: "ap-southeast-1", LocalName: "Singapore", Extra: 1 }]"#,
        );
        let out = render(&v, 100).expect("shown");
        let lines: Vec<&str> = out.lines().collect();
        // Rhai maps keep keys sorted; columns follow the first row, then new keys.
        assert_eq!(lines[0], "LocalName      RegionId        Extra");
        assert_eq!(lines[2], "华东1（杭州）  cn-hangzhou");
        assert_eq!(lines[3], "Singapore      ap-southeast-1  1");
        assert!(lines[1].starts_with("─────────────  ──────────────  ─────"));
    }

    #[test]
    fn wide_tables_are_trimmed_to_the_terminal() {
        let v = eval(
            r#"[#{ InstanceId: "i-bp67acfmxazb4ph3abcd", Description: "a very long description that goes on and on", Status: "Running", Zone: "cn-hangzhou-k" }]"#,
        );
        let out = render(&v, 50).expect("shown");
        for line in out.lines().take(3) {
            assert!(line.width() <= 50, "{line:?} is wider than 50");
        }
        assert!(out.contains('…'), "{out}");
        let narrow = render(&v, 20).expect("shown");
        assert!(narrow.contains("more columns not shown"), "{narrow}");
    }

    #[test]
    fn nested_columns_go_last_and_shrink_first() {
        let v = eval(
            r#"[#{ Available: #{ Types: ["ecs.g7.large", "ecs.g7.xlarge", "ecs.c7.large"] }, ZoneId: "cn-hangzhou-k", LocalName: "Hangzhou K" }]"#,
        );
        let out = render(&v, 40).expect("shown");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "LocalName   ZoneId         Available");
        assert_eq!(lines[2], "Hangzhou K  cn-hangzhou-k  #{Types: [\"e…");
    }

    #[test]
    fn maps_are_indented_key_values() {
        let v = eval(
            r#"#{ PriceInfo: #{ Price: #{ TradePrice: 0.5, Currency: "CNY" } }, RequestId: "r-1", Tags: ["a", "b"] }"#,
        );
        let out = render(&v, 100).expect("shown");
        assert_eq!(
            out,
            "PriceInfo:\n  Price:\n    Currency:   CNY\n    TradePrice: 0.5\nRequestId: r-1\nTags:      [\"a\", \"b\"]"
        );
    }

    #[test]
    fn scalars_plainly_and_unit_not_at_all() {
        assert_eq!(render(&eval("42"), 80).as_deref(), Some("42"));
        assert_eq!(render(&eval(r#""hello""#), 80).as_deref(), Some("hello"));
        assert_eq!(render(&eval("()"), 80), None);
        assert_eq!(
            render(&eval("[1, \"x\"]"), 80).as_deref(),
            Some("[1, \"x\"]")
        );
    }

    #[test]
    fn json_rendering() {
        let v = eval(r#"#{ a: [1, 2.5, ()], b: "x" }"#);
        let json: serde_json::Value = serde_json::from_str(&render_json(&v)).expect("valid json");
        assert_eq!(json, serde_json::json!({"a": [1, 2.5, null], "b": "x"}));
    }
}
