//! Signature v1 against vectors made by the official Python SDK core
//! (tests/data/gen_signature_vectors.py → tests/data/signature_vectors.json).

use ecsh::rpc::sign;
use serde_json::Value;

struct Vector {
    name: String,
    method: String,
    secret: String,
    params: Vec<(String, String)>,
    query: Vec<(String, String)>,
    string_to_sign: String,
    signature: String,
    signed_url: String,
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .expect("pairs are an array")
        .iter()
        .map(|p| {
            let p = p.as_array().expect("a pair is an array");
            (
                p[0].as_str().unwrap().to_string(),
                p[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn load() -> Vec<Vector> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/signature_vectors.json"
    );
    let text = std::fs::read_to_string(path).expect("read the signature vectors");
    let doc: Value = serde_json::from_str(&text).expect("vectors are JSON");
    assert!(doc["sdk"]
        .as_str()
        .unwrap()
        .starts_with("aliyun-python-sdk-core"));
    doc["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let query = pairs(&v["query"]);
            let body = pairs(&v["body"]);
            Vector {
                name: v["name"].as_str().unwrap().into(),
                method: v["method"].as_str().unwrap().into(),
                secret: v["secret"].as_str().unwrap().into(),
                params: query.iter().chain(body.iter()).cloned().collect(),
                query,
                string_to_sign: v["string_to_sign"].as_str().unwrap().into(),
                signature: v["signature"].as_str().unwrap().into(),
                signed_url: v["signed_url"].as_str().unwrap().into(),
            }
        })
        .collect()
}

#[test]
fn every_official_sdk_vector_signs_identically() {
    let vectors = load();
    assert!(vectors.len() >= 15, "only {} vectors", vectors.len());
    for v in &vectors {
        assert_eq!(
            sign::string_to_sign(&v.method, &v.params),
            v.string_to_sign,
            "string to sign of {}",
            v.name
        );
        assert_eq!(
            sign::sign_v1(&v.method, &v.params, &v.secret),
            v.signature,
            "signature of {}",
            v.name
        );
    }
}

#[test]
fn the_sdk_urls_carry_exactly_the_signed_query() {
    for v in load() {
        let query = v.signed_url.strip_prefix("/?").expect("URL starts with /?");
        let mut sent: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, val)| (k.into_owned(), val.into_owned()))
            .collect();
        let mut expected = v.query.clone();
        expected.push(("Signature".into(), v.signature.clone()));
        sent.sort();
        expected.sort();
        assert_eq!(sent, expected, "{}", v.name);
    }
}

/// The data set keeps covering what the brief asks for, so it cannot silently shrink.
#[test]
fn vectors_cover_the_tricky_cases() {
    let vectors = load();
    let any_value = |pred: &dyn Fn(&str) -> bool| {
        vectors.iter().any(|v| {
            v.params
                .iter()
                .any(|(k, val)| k != "SignatureType" && pred(val))
        })
    };
    let any_key = |pred: &dyn Fn(&str) -> bool| {
        vectors
            .iter()
            .any(|v| v.params.iter().any(|(k, _)| pred(k)))
    };
    for ch in [' ', '*', '~', '/', '+', '='] {
        assert!(any_value(&|s| s.contains(ch)), "no value with {ch:?}");
    }
    assert!(any_value(&|s| !s.is_ascii()), "no non-ASCII value");
    assert!(any_value(&|s| s.starts_with("[\"")), "no JSON-array value");
    assert!(any_value(&|s| s.is_empty()), "no empty value");
    assert!(
        any_key(&|k| k.starts_with("InstanceId.")),
        "no InstanceId.N"
    );
    assert!(
        any_key(&|k| k.starts_with("Tag.") && k.ends_with(".Key")),
        "no Tag.N.Key"
    );
    assert!(any_key(&|k| k == "SecurityToken"), "no SecurityToken");
    assert!(vectors.iter().any(|v| v.method == "GET"));
    assert!(vectors.iter().any(|v| v.method == "POST"));
    assert!(vectors
        .iter()
        .any(|v| !v.params.iter().any(|(k, _)| k == "SecurityToken")));
}
