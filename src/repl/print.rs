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

/// An aligned table a person can read: the union of the rows' keys as columns, key columns
/// first (ids, names, status, zone, type, then the other plain values, nested ones last),
/// nested values summarised, and — when it is wider than `width` — the columns that do not fit
/// dropped from the end and named in a footer, rather than every column squeezed to `Basel…`.
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
    // A stable sort: within a rank, the rows' own key order.
    columns.sort_by_key(|c| column_rank(c, nested(c)));
    aligned(rows, &columns, width, true)
}

/// A table of exactly `columns`, in that order (`--output cols=A,B`).
pub fn render_columns(value: &Dynamic, columns: &[String], width: usize) -> Option<String> {
    let rows = table_rows(value)?;
    Some(aligned(&rows, columns, width, false))
}

/// Where a column goes: the keys a person looks for first, then plain values, nested last.
fn column_rank(name: &str, nested: bool) -> u8 {
    if nested {
        return 9;
    }
    let ends = |s: &str| name.ends_with(s);
    if ends("Id") && !name.starts_with("Resource") || name == "id" {
        0
    } else if ends("Name") || name == "name" {
        1
    } else if ends("Status") || ends("State") || name == "status" {
        2
    } else if name.contains("Zone") {
        3
    } else if ends("Type") || name == "kind" {
        4
    } else {
        5
    }
}

/// Lays out `columns` of `rows`. With `drop`, columns that do not fit are left out (the first
/// always shows) and named in a footer; without, the widest are cut until the table fits.
fn aligned(rows: &[Map], columns: &[String], width: usize, drop: bool) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|c| row.get(c.as_str()).map_or(String::new(), cell))
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
    let shown: Vec<usize> = if drop {
        choose(&mut widths, width)
    } else {
        squeeze(&mut widths, width);
        (0..columns.len()).collect()
    };
    let pick = |row: &[String]| -> Vec<String> { shown.iter().map(|&i| row[i].clone()).collect() };
    let shown_widths: Vec<usize> = shown.iter().map(|&i| widths[i]).collect();
    let mut lines = Vec::with_capacity(rows.len() + 3);
    lines.push(table_line(&pick(columns), &shown_widths));
    lines.push(
        shown_widths
            .iter()
            .map(|w| "─".repeat(*w))
            .collect::<Vec<_>>()
            .join(GAP),
    );
    for row in &cells {
        lines.push(table_line(&pick(row), &shown_widths));
    }
    let left_out: Vec<&str> = (0..columns.len())
        .filter(|i| !shown.contains(i))
        .map(|i| columns[i].as_str())
        .collect();
    if !left_out.is_empty() {
        let note = format!(
            "({} more column{} not shown: {}; :json in the REPL, --output json or \
             --output cols=… on the command line show them)",
            left_out.len(),
            if left_out.len() == 1 { "" } else { "s" },
            left_out.join(", ")
        );
        lines.push(note);
    }
    lines.join("\n")
}

/// One cell: plain values as they are (cut to `MAX_CELL`), nested ones summarised when their
/// text would not fit (`[3 items]`, `#{4 keys}`).
fn cell(value: &Dynamic) -> String {
    let text = inline(value).replace('\n', " ");
    if text.width() <= MAX_CELL {
        return text;
    }
    if let Some(arr) = value.read_lock::<Array>() {
        return format!("[{} items]", arr.len());
    }
    if let Some(map) = value.read_lock::<Map>() {
        let keys: Vec<&str> = map.keys().map(|k| k.as_str()).collect();
        return cut(&format!("#{{{}}}", keys.join(", ")), MAX_CELL);
    }
    cut(&text, MAX_CELL)
}

/// The columns that fit in `width`, in order; a column that does not fit is left out (a
/// narrower one after it may still fit), except that the first always shows, cut if need be.
fn choose(widths: &mut [usize], width: usize) -> Vec<usize> {
    let mut shown = Vec::new();
    let mut used = 0;
    for (i, w) in widths.iter_mut().enumerate() {
        let gap = if shown.is_empty() { 0 } else { GAP.len() };
        let left = width.saturating_sub(used + gap);
        if *w <= left {
            used += gap + *w;
            shown.push(i);
        } else if shown.is_empty() {
            *w = left.max(1);
            used += *w;
            shown.push(i);
        }
    }
    shown
}

/// Cuts the widest columns until the table fits (or every column is at `MIN_COLUMN`).
fn squeeze(widths: &mut [usize], width: usize) {
    let total = |ws: &[usize]| ws.iter().sum::<usize>() + GAP.len() * ws.len().saturating_sub(1);
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
        // Key columns first (ids, then names), then the rest in the rows' order.
        assert_eq!(lines[0], "RegionId        LocalName      Extra");
        assert_eq!(lines[2], "cn-hangzhou     华东1（杭州）");
        assert_eq!(lines[3], "ap-southeast-1  Singapore      1");
        assert!(lines[1].starts_with("──────────────  ─────────────  ─────"));
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
    fn nested_columns_go_last_and_are_dropped_before_key_columns() {
        let v = eval(
            r#"[#{ Available: #{ Types: ["ecs.g7.large", "ecs.g7.xlarge", "ecs.c7.large"] }, ZoneId: "cn-hangzhou-k", LocalName: "Hangzhou K" }]"#,
        );
        let wide = render(&v, 80).expect("shown");
        let lines: Vec<&str> = wide.lines().collect();
        assert_eq!(lines[0], "ZoneId         LocalName   Available");
        assert_eq!(
            lines[2], "cn-hangzhou-k  Hangzhou K  #{Types}",
            "a nested value too long for a cell is summarised by its keys"
        );
        let narrow = render(&v, 30).expect("shown");
        let lines: Vec<&str> = narrow.lines().collect();
        assert_eq!(lines[0], "ZoneId         LocalName");
        assert_eq!(lines[2], "cn-hangzhou-k  Hangzhou K");
        assert!(
            lines[3].starts_with("(1 more column not shown: Available;"),
            "{narrow}"
        );
    }

    #[test]
    fn ids_are_never_cut_and_long_nested_values_are_summarised() {
        // DescribeInstanceTypes used to show `Basel… CpuAr… Insta…` and cut the id.
        let v = eval(
            r#"[#{ BaselineCredit: 0, CpuArchitecture: "X86", CpuCoreCount: 2, EniQuantity: 2,
                  InstanceTypeFamily: "ecs.g7", InstanceTypeId: "ecs.g7.large", MemorySize: 8.0,
                  GPUSpec: "", Tags: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20] }]"#,
        );
        let out = render(&v, 60).expect("shown");
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("InstanceTypeId  "), "{out}");
        assert!(lines[2].starts_with("ecs.g7.large  "), "{out}");
        assert!(!out.contains("Basel…"), "{out}");
        assert!(out.contains("not shown: "), "{out}");
        for line in out.lines().take(3) {
            assert!(line.width() <= 60, "{line:?}");
        }
        let wide = render(&v, 300).expect("shown");
        assert!(wide.contains("[20 items]"), "{wide}");
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
