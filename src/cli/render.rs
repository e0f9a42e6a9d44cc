//! Printing a JSON result the way the flags ask: `--query EXPR` (JMESPath) first, then
//! `--output json` (pretty JSON), `table` (the REPL's readable tables), or aliyun-cli's
//! `cols=A,B rows=PATH` (exactly those columns of the rows at PATH).

use super::flags::{Columns, GlobalArgs, Output};
use serde_json::Value;

/// `value` with `--query` applied (unchanged without one). A bad expression is an error that
/// shows where it broke.
pub fn query(expr: Option<&str>, value: Value) -> anyhow::Result<Value> {
    let Some(expr) = expr else {
        return Ok(value);
    };
    let compiled = jmespath::compile(expr).map_err(|e| {
        anyhow::anyhow!(
            "--query '{expr}' is not a JMESPath expression: {e}; e.g. 'Regions.Region[].RegionId'"
        )
    })?;
    let found = compiled
        .search(value)
        .map_err(|e| anyhow::anyhow!("--query '{expr}' failed on this result: {e}"))?;
    serde_json::to_value(&*found)
        .map_err(|e| anyhow::anyhow!("--query '{expr}': the selection is not JSON: {e}"))
}

/// The text printed on stdout for `value` (after `--query`).
pub fn show(global: &GlobalArgs, value: Value) -> anyhow::Result<String> {
    use std::io::IsTerminal;
    let value = query(global.query.as_deref(), value)?;
    let output = match &global.output {
        Some(o) => o.clone(),
        None if std::io::stdout().is_terminal() => Output::Table,
        None => Output::Json,
    };
    let width = crate::repl::print::terminal_width();
    match output {
        Output::Json => Ok(serde_json::to_string_pretty(&value)?),
        Output::Table => Ok(table(&value, width)),
        Output::Columns(columns) => columns_table(&columns, &value, width),
    }
}

/// What a command with its own text report prints (`whoami`, `ledger`, `cleanup`): the text,
/// unless `--output json|cols=…` or `--query` asks for the JSON form (a query implies JSON).
pub fn report(global: &GlobalArgs, text: String, json: Value) -> anyhow::Result<String> {
    match (&global.output, &global.query) {
        (None | Some(Output::Table), None) => Ok(text.trim_end().to_string()),
        (None | Some(Output::Table), Some(_)) => {
            let json_out = GlobalArgs {
                output: Some(Output::Json),
                ..global.clone()
            };
            show(&json_out, json)
        }
        _ => show(global, json),
    }
}

/// The readable table (or indented map) of a JSON value, as the REPL shows results.
pub fn table(value: &Value, width: usize) -> String {
    let shown = rhai::serde::to_dynamic(value).unwrap_or_default();
    crate::repl::print::render(&shown, width).unwrap_or_default()
}

/// `cols=A,B rows=PATH`: the rows at PATH (else the first list of objects in the result), each
/// cut to the named columns in that order; a column no row has is an error naming those that
/// exist, since it is almost always a typo.
fn columns_table(columns: &Columns, value: &Value, width: usize) -> anyhow::Result<String> {
    let rows = match &columns.rows {
        Some(path) => query(Some(path), value.clone())?,
        None => first_list(value).cloned().ok_or_else(|| {
            anyhow::anyhow!(
                "the result has no list of rows for cols=…; name it with rows=PATH, e.g. \
                 rows=Instances.Instance[]"
            )
        })?,
    };
    let rows: Vec<&serde_json::Map<String, Value>> = match &rows {
        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
        Value::Object(one) => vec![one],
        _ => Vec::new(),
    };
    let mut known: Vec<&str> = rows
        .iter()
        .flat_map(|r| r.keys().map(String::as_str))
        .collect();
    known.sort_unstable();
    known.dedup();
    for col in &columns.cols {
        if !rows.is_empty() && !known.contains(&col.as_str()) {
            let near = crate::ops::closest(col, known.iter().copied());
            let hint = near.map_or(String::new(), |n| format!("did you mean '{n}'? "));
            anyhow::bail!(
                "no row has a column '{col}'; {hint}columns: {}",
                known.join(", ")
            );
        }
    }
    let picked: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut m = serde_json::Map::new();
            for col in &columns.cols {
                m.insert(col.clone(), r.get(col).cloned().unwrap_or(Value::Null));
            }
            Value::Object(m)
        })
        .collect();
    let shown = rhai::serde::to_dynamic(Value::Array(picked)).unwrap_or_default();
    Ok(crate::repl::print::render_columns(&shown, &columns.cols, width).unwrap_or_default())
}

/// The first array of objects, depth first (`Instances.Instance` in a DescribeInstances answer).
fn first_list(value: &Value) -> Option<&Value> {
    match value {
        Value::Array(items) if items.iter().any(Value::is_object) => Some(value),
        Value::Object(m) => m.values().find_map(first_list),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn queries_select_and_bad_ones_explain() {
        let v = json!({"Regions": {"Region": [{"RegionId": "a"}, {"RegionId": "b"}]}});
        assert_eq!(
            query(Some("Regions.Region[].RegionId"), v.clone()).unwrap(),
            json!(["a", "b"])
        );
        let e = query(Some("Regions.["), v).unwrap_err().to_string();
        assert!(e.contains("is not a JMESPath expression"), "{e}");
    }

    #[test]
    fn columns_pick_rows_and_name_the_near_miss() {
        let v = json!({"Instances": {"Instance": [
            {"InstanceId": "i-1", "Status": "Running", "Cpu": 2},
            {"InstanceId": "i-2", "Status": "Stopped", "Cpu": 4}]}});
        let cols = Columns {
            cols: vec!["Status".into(), "InstanceId".into()],
            rows: Some("Instances.Instance[]".into()),
        };
        let text = columns_table(&cols, &v, 80).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Status   InstanceId");
        assert_eq!(lines[2], "Running  i-1");
        let no_rows = Columns {
            rows: None,
            ..cols.clone()
        };
        assert_eq!(columns_table(&no_rows, &v, 80).unwrap(), text);
        let typo = Columns {
            cols: vec!["Statuss".into()],
            rows: None,
        };
        let e = columns_table(&typo, &v, 80).unwrap_err().to_string();
        assert!(e.contains("did you mean 'Status'?"), "{e}");
    }
}
