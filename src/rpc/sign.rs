//! Signature v1 (HMAC-SHA1) of the Alibaba Cloud RPC protocol: pure functions, no I/O.
//!
//! Both the client (to sign) and the simulator (to verify) use these, so the two cannot drift;
//! the tests pin them to the worked vectors of the reference and to vectors produced by the
//! official Python SDK (`tests/data/signature_vectors.json`). Steps, per the protocol:
//! percent-encode keys and values (RFC 3986, upper-case hex, space as `%20`, `~` kept), sort by
//! raw key in byte order, join, then sign `METHOD&%2F&enc(query)` with key `secret + "&"`.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Percent-encodes per the RPC rules: unreserved `A-Z a-z 0-9 - _ . ~` stay, every other UTF-8
/// byte becomes `%XX` with upper-case hex (so space is `%20`, `*` is `%2A`, `/` is `%2F`).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 2);
    percent_encode_into(&mut out, s);
    out
}

/// [`percent_encode`] appended to `out`: signing encodes every key and value on every
/// attempt, so this runs on every call's hot path (BENCHMARKS.md, client overhead) and copies
/// runs of unreserved bytes at once instead of pushing char by char.
pub fn percent_encode_into(out: &mut String, s: &str) {
    encode_runs(out, s, "%");
}

/// Appends `s` with each reserved byte written as `escape` then its two upper-case hex digits:
/// `"%"` encodes once; `"%25"` encodes twice in one pass (what `enc(enc(x))` gives, as the
/// string to sign needs).
fn encode_runs(out: &mut String, s: &str, escape: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if UNRESERVED[b as usize] {
            continue;
        }
        // A run of unreserved ASCII ends here, so both ends are char boundaries (every byte
        // of a multi-byte char is escaped, so runs never start or end inside one).
        if start < i {
            out.push_str(&s[start..i]);
        }
        out.push_str(escape);
        let hex = [HEX[(b >> 4) as usize], HEX[(b & 15) as usize]];
        // Two ASCII bytes: always valid UTF-8.
        out.push_str(std::str::from_utf8(&hex).unwrap_or_default());
        start = i + 1;
    }
    if start < bytes.len() {
        out.push_str(&s[start..]);
    }
}

/// The bytes that stay as they are: `A-Z a-z 0-9 - _ . ~` (a table: one load per byte).
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~');
        b += 1;
    }
    table
};

/// The parameters in signing order: by raw key (byte order), then value; `Signature` left out.
fn sorted<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> Vec<(&str, &str)> {
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .filter(|(k, _)| *k != "Signature")
        .collect();
    sorted.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(b.1)));
    sorted
}

/// The canonicalized query string: parameters sorted by raw key (byte order), each key and
/// value percent-encoded, joined with `&`. `Signature` itself is left out.
pub fn canonical_query<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let sorted = sorted(params);
    let len: usize = sorted.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut out = String::with_capacity(len + len / 2);
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode_into(&mut out, k);
        out.push('=');
        percent_encode_into(&mut out, v);
    }
    out
}

/// `METHOD&%2F&enc(canonical query)`, written in one pass over the parameters: the canonical
/// query holds only unreserved bytes, `%`, `=` and `&`, so encoding it again turns each escape
/// `%XX` into `%25XX`, `=` into `%3D` and `&` into `%26` (the tests hold it to
/// `enc(canonical_query)`).
pub fn string_to_sign<K: AsRef<str>, V: AsRef<str>>(method: &str, params: &[(K, V)]) -> String {
    let sorted = sorted(params);
    let len: usize = sorted.iter().map(|(k, v)| k.len() + v.len() + 6).sum();
    let mut out = String::with_capacity(method.len() + 5 + len + len / 2);
    out.extend(method.chars().map(|c| c.to_ascii_uppercase()));
    out.push_str("&%2F&");
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            out.push_str("%26");
        }
        encode_runs(&mut out, k, "%25");
        out.push_str("%3D");
        encode_runs(&mut out, v, "%25");
    }
    out
}

/// Base64(HMAC-SHA1(secret + "&", string_to_sign)).
pub fn hmac_sha1_base64(secret: &str, string_to_sign: &str) -> String {
    SigningKey::new(secret).sign(string_to_sign)
}

/// The HMAC-SHA1 key `secret + "&"` made ready once: keying hashes two of the five SHA-1
/// blocks a request's signature costs, so a client keeps this for the secret it signs with
/// (BENCHMARKS.md, client overhead, stop 23). As secret as the secret itself: never printed.
#[derive(Clone)]
pub struct SigningKey(Hmac<Sha1>);

impl SigningKey {
    pub fn new(secret: &str) -> SigningKey {
        let mut key = secret.as_bytes().to_vec();
        key.push(b'&');
        SigningKey(Hmac::<Sha1>::new_from_slice(&key).expect("HMAC accepts keys of any length"))
    }

    /// Base64(HMAC-SHA1(key, string_to_sign)).
    pub fn sign(&self, string_to_sign: &str) -> String {
        let mut mac = self.0.clone();
        mac.update(string_to_sign.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

/// The v1 signature of a request with these parameters (query and form body together).
pub fn sign_v1<K: AsRef<str>, V: AsRef<str>>(
    method: &str,
    params: &[(K, V)],
    secret: &str,
) -> String {
    hmac_sha1_base64(secret, &string_to_sign(method, params))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The one-pass string to sign is the protocol's definition, `enc(canonical query)`.
        #[test]
        fn string_to_sign_is_the_canonical_query_encoded_again(
            params in prop::collection::vec((".{0,6}", ".{0,12}"), 0..8),
            method in "(GET|POST|get)",
        ) {
            let mut want = format!("{}&%2F&", method.to_ascii_uppercase());
            want.push_str(&percent_encode(&canonical_query(&params)));
            prop_assert_eq!(string_to_sign(&method, &params), want);
        }
    }

    /// The table keeps exactly the RFC 3986 unreserved bytes; every other byte, in any
    /// character, is escaped with upper-case hex.
    #[test]
    fn only_unreserved_bytes_stay() {
        for b in 0..128u8 {
            let s = char::from(b).to_string();
            let kept = b.is_ascii_alphanumeric() || b"-_.~".contains(&b);
            let want = if kept { s.clone() } else { format!("%{b:02X}") };
            assert_eq!(percent_encode(&s), want, "byte {b}");
        }
        assert_eq!(percent_encode("é€"), "%C3%A9%E2%82%AC");
    }

    fn vector_a() -> Vec<(&'static str, &'static str)> {
        vec![
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Version", "2014-05-26"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
        ]
    }

    #[test]
    fn vector_a_string_to_sign_and_signature() {
        let p = vector_a();
        assert_eq!(
            string_to_sign("GET", &p),
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
        );
        assert_eq!(
            sign_v1("GET", &p, "testsecret"),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    #[test]
    fn empty_signature_type_is_signed_vector_a_prime() {
        let mut p = vector_a();
        p.push(("SignatureType", ""));
        assert_eq!(
            sign_v1("GET", &p, "testsecret"),
            "l2RHWHoXOKbFEAkq17TTwV31vac="
        );
    }

    fn vector_b() -> Vec<(&'static str, &'static str)> {
        vec![
            ("AccessKeyId", "testid"),
            ("Action", "DescribeInstances"),
            ("Format", "JSON"),
            ("InstanceIds", "[\"i-bp1a\",\"i-bp1b\"]"),
            ("InstanceName", "测试"),
            ("PageSize", "50"),
            ("RegionId", "cn-hangzhou"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "15215528852396"),
            ("SignatureVersion", "1.0"),
            ("Tag.1.Key", "env name"),
            ("Tag.1.Value", "a*b~c/d+e"),
            ("Timestamp", "2024-01-02T03:04:05Z"),
            ("Version", "2014-05-26"),
        ]
    }

    #[test]
    fn vector_b_special_characters_get_and_post() {
        let p = vector_b();
        assert_eq!(
            canonical_query(&p),
            "AccessKeyId=testid&Action=DescribeInstances&Format=JSON&InstanceIds=%5B%22i-bp1a%22%2C%22i-bp1b%22%5D&InstanceName=%E6%B5%8B%E8%AF%95&PageSize=50&RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1&SignatureNonce=15215528852396&SignatureVersion=1.0&Tag.1.Key=env%20name&Tag.1.Value=a%2Ab~c%2Fd%2Be&Timestamp=2024-01-02T03%3A04%3A05Z&Version=2014-05-26"
        );
        assert_eq!(
            sign_v1("GET", &p, "testsecret"),
            "0GxBZoCgkWhk/EJLH81qFMVWrkY="
        );
        assert_eq!(
            sign_v1("POST", &p, "testsecret"),
            "QlcVKTYQ/tK+ihVcPTQiSR/LX9A="
        );
        let mut with_type = p.clone();
        with_type.push(("SignatureType", ""));
        assert_eq!(
            sign_v1("POST", &with_type, "testsecret"),
            "YuLM6Xr2Yb8c/yBRsG0eTafezac="
        );
    }

    #[test]
    fn sorting_is_by_raw_key_bytes() {
        let p = [
            ("Tag.2.Key", "b"),
            ("Tag.10.Key", "a"),
            ("Tag.1.Key", "c"),
            ("a", "x"),
            ("B", "y"),
        ];
        assert_eq!(
            canonical_query(&p),
            "B=y&Tag.1.Key=c&Tag.10.Key=a&Tag.2.Key=b&a=x"
        );
    }

    #[test]
    fn signature_parameter_is_never_signed() {
        let mut p = vector_a();
        let plain = sign_v1("GET", &p, "testsecret");
        p.push(("Signature", "whatever"));
        assert_eq!(sign_v1("GET", &p, "testsecret"), plain);
    }
}
