//! Signature v3 (`ACS3-HMAC-SHA256`) of Alibaba Cloud's OpenAPI gateway: pure functions, no I/O.
//!
//! This is how the current official SDKs (`alibabacloud-tea-openapi` and the generated
//! `alibabacloud_ecs20140526` / `alibabacloud_vpc20160428` clients) sign by default. The client
//! (to sign) and the simulator (to verify) share these functions; the tests pin them to vectors
//! that the SDK's own helpers produced (`tests/data/gen_v3_vectors.py` →
//! `tests/data/v3_signature_vectors.json`).
//!
//! The scheme, as the SDK's `Utils.get_authorization` builds it:
//! ```text
//! CanonicalRequest = METHOD \n PATH \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n HexSha256(body)
//! StringToSign     = "ACS3-HMAC-SHA256" \n HexSha256(CanonicalRequest)
//! Signature        = Hex(HMAC-SHA256(secret, StringToSign))
//! Authorization    = "ACS3-HMAC-SHA256 Credential=<ak>,SignedHeaders=<a;b;c>,Signature=<hex>"
//! ```
//! CanonicalQuery holds only the URL query (the form body is covered by its hash), sorted by
//! key, values percent-encoded as in v1. CanonicalHeaders lists every signed header as
//! `lowercase-name:trimmed-value\n`, sorted by name, repeated values sorted and joined by `,`.
//!
//! One wrinkle: the Python SDK does not percent-encode query *keys* in the canonical query,
//! while Alibaba's documentation (and the other SDKs) do. The two agree for every key made of
//! `A-Z a-z 0-9 - _ . ~` (all real RPC parameter names); [`canonical_query`] encodes keys as the
//! documentation says and [`canonical_query_raw_keys`] is the Python variant, so a verifier can
//! accept either. Nothing here knows about HTTP types or secrets' storage.

use super::sign::percent_encode;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The only v3 algorithm this crate signs and verifies.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Lower-case hex SHA-256 of `bytes` (the `x-acs-content-sha256` header and the payload line).
pub fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The canonical query string: sorted by key (byte order), keys and values percent-encoded.
pub fn canonical_query<K: AsRef<str>, V: AsRef<str>>(query: &[(K, V)]) -> String {
    join_query(query, percent_encode)
}

/// The Python SDK's variant of [`canonical_query`]: keys left as they are, values encoded.
pub fn canonical_query_raw_keys<K: AsRef<str>, V: AsRef<str>>(query: &[(K, V)]) -> String {
    join_query(query, str::to_owned)
}

fn join_query<K: AsRef<str>, V: AsRef<str>>(
    query: &[(K, V)],
    encode_key: impl Fn(&str) -> String,
) -> String {
    let mut sorted: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(b.1)));
    sorted
        .iter()
        .map(|(k, v)| format!("{}={}", encode_key(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The canonical headers block and the `SignedHeaders` list for these headers (every header
/// given is signed). Names are lower-cased; values trimmed; repeated names merge their values,
/// sorted and joined by `,`. The block ends with `\n` after each header.
pub fn canonical_headers<K: AsRef<str>, V: AsRef<str>>(headers: &[(K, V)]) -> (String, String) {
    let mut merged: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
    for (k, v) in headers {
        merged
            .entry(k.as_ref().to_ascii_lowercase())
            .or_default()
            .push(v.as_ref().trim());
    }
    let mut block = String::new();
    for (name, values) in merged.iter_mut() {
        values.sort_unstable();
        block.push_str(name);
        block.push(':');
        block.push_str(&values.join(","));
        block.push('\n');
    }
    let signed = merged.keys().cloned().collect::<Vec<_>>().join(";");
    (block, signed)
}

/// The canonical request of the scheme above, from an already built query string.
pub fn canonical_request<K: AsRef<str>, V: AsRef<str>>(
    method: &str,
    path: &str,
    canonical_query: &str,
    headers: &[(K, V)],
    hashed_payload: &str,
) -> String {
    let (block, signed) = canonical_headers(headers);
    let path = if path.is_empty() { "/" } else { path };
    format!("{method}\n{path}\n{canonical_query}\n{block}\n{signed}\n{hashed_payload}")
}

/// `ACS3-HMAC-SHA256\n` + hex SHA-256 of the canonical request.
pub fn string_to_sign(canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{}", hex_sha256(canonical_request.as_bytes()))
}

/// Lower-case hex HMAC-SHA256 of the string to sign, keyed with the AccessKeySecret itself
/// (no `&` suffix, unlike v1).
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The `Authorization` header value.
pub fn authorization(access_key_id: &str, signed_headers: &str, signature: &str) -> String {
    format!("{ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}")
}

/// Signs a request whose headers already include `x-acs-content-sha256` and every other header
/// to be signed; returns the `Authorization` header value.
pub fn sign_v3<K: AsRef<str>, V: AsRef<str>, HK: AsRef<str>, HV: AsRef<str>>(
    method: &str,
    path: &str,
    query: &[(K, V)],
    headers: &[(HK, HV)],
    hashed_payload: &str,
    access_key_id: &str,
    secret: &str,
) -> String {
    let request = canonical_request(
        method,
        path,
        &canonical_query(query),
        headers,
        hashed_payload,
    );
    let (_, signed) = canonical_headers(headers);
    authorization(
        access_key_id,
        &signed,
        &signature(secret, &string_to_sign(&request)),
    )
}

/// A parsed `Authorization: ACS3-... Credential=..,SignedHeaders=..,Signature=..` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    pub algorithm: String,
    pub access_key_id: String,
    /// Lower-case header names, in the order given.
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl Authorization {
    /// Parses the header; the error says which part is missing or malformed.
    pub fn parse(header: &str) -> Result<Authorization, String> {
        let (algorithm, rest) = header
            .trim()
            .split_once(' ')
            .ok_or("expected `<algorithm> Credential=..,SignedHeaders=..,Signature=..`")?;
        let (mut credential, mut signed, mut sig) = (None, None, None);
        for part in rest.split(',') {
            let (name, value) = part
                .trim()
                .split_once('=')
                .ok_or_else(|| format!("`{}` is not `name=value`", part.trim()))?;
            let slot = match name {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed,
                "Signature" => &mut sig,
                other => {
                    return Err(format!(
                        "unknown part `{other}`; expected Credential, SignedHeaders, Signature"
                    ))
                }
            };
            *slot = Some(value.to_owned());
        }
        let need = |v: Option<String>, name: &str| {
            v.filter(|s| !s.is_empty())
                .ok_or_else(|| format!("`{name}` is missing or empty"))
        };
        let signed_headers: String = need(signed, "SignedHeaders")?;
        Ok(Authorization {
            algorithm: algorithm.to_owned(),
            access_key_id: need(credential, "Credential")?,
            signed_headers: signed_headers
                .split(';')
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
            signature: need(sig, "Signature")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Vec<Value> {
        serde_json::from_str(include_str!("../../tests/data/v3_signature_vectors.json"))
            .expect("vectors file is valid JSON")
    }

    fn pairs(v: &Value) -> Vec<(String, String)> {
        v.as_object()
            .expect("object")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("string").to_owned()))
            .collect()
    }

    #[test]
    fn official_sdk_vectors_reproduce_exactly() {
        let all = vectors();
        assert!(all.len() >= 3);
        for v in all {
            let name = v["name"].as_str().unwrap();
            let method = v["method"].as_str().unwrap();
            let path = v["pathname"].as_str().unwrap();
            let query = pairs(&v["query"]);
            let headers = pairs(&v["headers"]);
            let body = v["body"].as_str().unwrap();
            let payload = hex_sha256(body.as_bytes());
            let header_hash = headers
                .iter()
                .find(|(k, _)| k == "x-acs-content-sha256")
                .map(|(_, v)| v.as_str());
            assert_eq!(header_hash, Some(payload.as_str()), "{name}: payload hash");
            let cr = canonical_request(method, path, &canonical_query(&query), &headers, &payload);
            assert_eq!(cr, v["canonical_request"].as_str().unwrap(), "{name}");
            let sts = string_to_sign(&cr);
            assert_eq!(sts, v["string_to_sign"].as_str().unwrap(), "{name}");
            let auth = sign_v3(
                method,
                path,
                &query,
                &headers,
                &payload,
                "testid",
                v["secret"].as_str().unwrap(),
            );
            assert_eq!(auth, v["authorization"].as_str().unwrap(), "{name}");
        }
    }

    #[test]
    fn raw_and_encoded_keys_agree_for_safe_names_only() {
        let safe = [("Tag.1.Key", "a b"), ("RegionId", "x")];
        assert_eq!(canonical_query(&safe), canonical_query_raw_keys(&safe));
        let odd = [("a b", "1")];
        assert_eq!(canonical_query(&odd), "a%20b=1");
        assert_eq!(canonical_query_raw_keys(&odd), "a b=1");
    }

    #[test]
    fn headers_merge_repeats_and_trim() {
        let (block, signed) = canonical_headers(&[("X-B", " 2 "), ("host", "h"), ("x-b", "1")]);
        assert_eq!(block, "host:h\nx-b:1,2\n");
        assert_eq!(signed, "host;x-b");
    }

    #[test]
    fn authorization_round_trips_and_reports_what_is_wrong() {
        let a = Authorization::parse(&authorization("ak", "host;x-acs-date", "abc")).unwrap();
        assert_eq!(a.algorithm, ALGORITHM);
        assert_eq!(a.access_key_id, "ak");
        assert_eq!(a.signed_headers, vec!["host", "x-acs-date"]);
        assert_eq!(a.signature, "abc");
        assert!(Authorization::parse("ACS3-HMAC-SHA256").is_err());
        let e =
            Authorization::parse("ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host").unwrap_err();
        assert!(e.contains("Signature"), "{e}");
        let e = Authorization::parse("ACS3-HMAC-SHA256 Credential=ak,Foo=1").unwrap_err();
        assert!(e.contains("Foo"), "{e}");
    }
}
