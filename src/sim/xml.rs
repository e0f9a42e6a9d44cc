//! `Format=XML` answers in the real service's element layout: the JSON body the model built,
//! written as `<ActionResponse>` (errors as `<Error>`), an object's keys as child elements in
//! order, and a list under key `K` as repeated `<K>` elements inside its wrapper
//! (`Instances.Instance[]` → `<Instances><Instance>…</Instance><Instance>…</Instance></Instances>`),
//! which is how the old SDKs' XML path and raw-HTTP users read it.
//!
//! Must not: decide what a body holds (the model does) or touch HTTP (the server does).

use serde_json::Value;

/// The declaration every answer starts with.
const DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// The whole document for a body whose root element is `root` (`DescribeRegionsResponse`, `Error`).
pub fn document(root: &str, body: &Value) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(DECLARATION);
    element(&mut out, root, body);
    out
}

fn element(out: &mut String, name: &str, value: &Value) {
    match value {
        // A list has no element of its own: each item repeats the key.
        Value::Array(items) => {
            for item in items {
                element(out, name, item);
            }
        }
        Value::Object(fields) => {
            open(out, name);
            for (k, v) in fields {
                element(out, k, v);
            }
            close(out, name);
        }
        Value::Null => {
            open(out, name);
            close(out, name);
        }
        Value::String(s) => {
            open(out, name);
            escape(out, s);
            close(out, name);
        }
        Value::Bool(b) => {
            open(out, name);
            out.push_str(if *b { "true" } else { "false" });
            close(out, name);
        }
        Value::Number(n) => {
            open(out, name);
            out.push_str(&n.to_string());
            close(out, name);
        }
    }
}

fn open(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

fn close(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Escapes text content; control characters XML 1.0 cannot carry become U+FFFD.
fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_repeat_their_key_inside_the_wrapper() {
        let body = json!({
            "RequestId": "R",
            "Instances": { "Instance": [ { "InstanceId": "i-1", "Cpu": 2 }, { "InstanceId": "i-2", "Cpu": 4 } ] },
            "InstanceIdSets": { "InstanceIdSet": ["i-1", "i-2"] },
            "Empty": { "Item": [] },
            "Flag": true,
        });
        assert_eq!(
            document("DescribeInstancesResponse", &body),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DescribeInstancesResponse><RequestId>R</RequestId>\
             <Instances><Instance><InstanceId>i-1</InstanceId><Cpu>2</Cpu></Instance><Instance>\
             <InstanceId>i-2</InstanceId><Cpu>4</Cpu></Instance></Instances><InstanceIdSets>\
             <InstanceIdSet>i-1</InstanceIdSet><InstanceIdSet>i-2</InstanceIdSet></InstanceIdSets>\
             <Empty></Empty><Flag>true</Flag></DescribeInstancesResponse>"
        );
    }

    #[test]
    fn text_is_escaped() {
        let doc = document("Error", &json!({ "Message": "a<b & \"c\"\u{1}" }));
        assert!(
            doc.ends_with("<Error><Message>a&lt;b &amp; &quot;c&quot;\u{FFFD}</Message></Error>"),
            "{doc}"
        );
    }
}
