//! The RPC wire protocol, server side: turns the parts of an HTTP request into a
//! [`ParsedRequest`] (parameters, product, action, signature style) or a [`SimError`] with the
//! real service's code.
//!
//! It owns: strict percent-decoding of the query string and of an
//! `application/x-www-form-urlencoded` body (broken `%` escapes or invalid UTF-8 are
//! `InvalidParameter`, never a panic or a lossy guess), the union of query and body (a key given
//! twice is `InvalidParameter`), size limits, `Format`, the product from `Version` (v1) or the
//! `x-acs-version` header (v3), and the action from `Action` or `x-acs-action`.
//!
//! It must not verify signatures (that is `auth`), touch state (that is `model`) or build HTTP
//! responses (that is `server`). It sees the request only through plain values, so it can be
//! fuzzed without a socket.
//!
//! **Format:** `Format=JSON` or `Format=XML` (any case) is served in that format (XML in the
//! real element layout, see `xml`). Without `Format` the real service answers XML to a
//! signature-v1 request and JSON to a v3 one; [`Format::Unspecified`] lets the server decide by
//! the signature style and the simulator's fidelity (strict: as the real service; lenient: JSON).

use super::SimError;
use crate::ops::{self, Action, Product};
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

// Limits. Beyond these the answer is 400 `InvalidParameter` with a RequestId. Two limits sit
// below this layer and answer without a JSON body: a URI over 64 KiB gets 414 and oversized
// header blocks get 431, both from hyper/http (the `http` crate cannot hold longer URIs).
// Clients with big parameters (UserData, CommandContent) should POST them in the form body.

/// Largest form body accepted (the server reads at most this many bytes).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Largest decoded parameter value. RunCommand's base64 `CommandContent` (≤ 24 KiB) and
/// `UserData` (≤ 32 KiB) fit with room to spare.
pub const MAX_VALUE_BYTES: usize = 256 * 1024;
/// Largest parameter name.
pub const MAX_KEY_BYTES: usize = 256;
/// Most parameters in one request (query and body together).
pub const MAX_PARAMS: usize = 2000;

/// The answer format the request asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
    /// No `Format` parameter.
    Unspecified,
}

/// How the request is signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureStyle {
    /// HMAC-SHA1 over the parameters, `Signature` among them.
    V1,
    /// `Authorization: ACS3-...` header (the header's full value).
    V3 { authorization: String },
}

/// One HTTP request, reduced to what the protocol needs. Header names are lower-case.
#[derive(Clone, Debug, Default)]
pub struct RawRequest {
    pub method: String,
    pub path: String,
    /// The query string as sent, without the `?`.
    pub query: Option<String>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl RawRequest {
    /// Every value of header `name` (lower-case), as text; non-UTF-8 bytes are replaced, which
    /// can only make a signature fail, never pass.
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }
}

/// A request whose shape is valid; not yet authenticated.
#[derive(Clone, Debug)]
pub struct ParsedRequest {
    pub method: String,
    pub path: String,
    /// The decoded URL query alone, in the order sent, for a v3 request (v3 signs the query, not
    /// the body); empty for v1, whose signature covers `params`, so that its pairs are moved
    /// there rather than copied.
    pub query: Vec<(String, String)>,
    /// Query and body together.
    pub params: BTreeMap<String, String>,
    pub product: Product,
    pub action: &'static Action,
    pub style: SignatureStyle,
    pub format: Format,
    /// The `Host` header, echoed as `HostId` in errors.
    pub host: String,
}

/// Reads the product a request is for, as far as it can be told, even from a request that
/// fails to parse (errors name the product in their `Recommend` link).
pub fn guess_product(raw: &RawRequest) -> Option<Product> {
    if let Some(v) = raw.header("x-acs-version") {
        return Product::from_version(&v);
    }
    let query = raw.query.as_deref().unwrap_or("");
    decode_pairs(query.as_bytes())
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "Version")
        .and_then(|(_, v)| Product::from_version(&v))
}

/// Parses and validates the request's shape.
pub fn parse(raw: &RawRequest) -> Result<ParsedRequest, SimError> {
    let method = check_method(&raw.method)?;
    if raw.path != "/" {
        return Err(SimError::new(
            404,
            "InvalidUri",
            format!("the RPC API is served at path `/`, not `{}`", raw.path),
        ));
    }
    let query = decode_pairs(raw.query.as_deref().unwrap_or("").as_bytes()).map_err(|why| {
        SimError::new(
            400,
            "InvalidParameter",
            format!("the URL query string is malformed: {why}"),
        )
    })?;
    let body = form_body(raw, &method)?;
    // Read now to know whether the query must be kept; its error still comes after the
    // parameters' errors, as it always did.
    let style = signature_style(raw);
    let signed_query = match style {
        Ok(SignatureStyle::V3 { .. }) => query.clone(),
        _ => Vec::new(),
    };
    let params = merge(query, body)?;
    let style = style?;
    let product = product_of(raw, &params, &style)?;
    let action = action_of(raw, &params, &style, product)?;
    let format = format_of(&params)?;
    Ok(ParsedRequest {
        method,
        path: raw.path.clone(),
        query: signed_query,
        params,
        product,
        action,
        style,
        format,
        host: raw.header("host").unwrap_or_default(),
    })
}

fn check_method(method: &str) -> Result<String, SimError> {
    match method {
        "GET" | "POST" => Ok(method.to_owned()),
        other => Err(SimError::new(
            400,
            "UnsupportedHTTPMethod",
            format!("HTTP method {other} is not supported; send the RPC request with GET or POST"),
        )),
    }
}

/// The form body's pairs; an empty body has none. Any other non-empty body is refused.
fn form_body(raw: &RawRequest, method: &str) -> Result<Vec<(String, String)>, SimError> {
    if raw.body.is_empty() {
        return Ok(Vec::new());
    }
    if raw.body.len() > MAX_BODY_BYTES {
        return Err(too_large(
            "the request body",
            raw.body.len(),
            MAX_BODY_BYTES,
        ));
    }
    let content_type = raw.header("content-type").unwrap_or_default();
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if method != "POST" || !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(SimError::new(
            400,
            "InvalidParameter",
            format!(
                "a {method} body with Content-Type `{content_type}` is not supported; send the \
                 parameters in the URL query or in a POST body of type application/x-www-form-urlencoded"
            ),
        ));
    }
    decode_pairs(&raw.body).map_err(|why| {
        SimError::new(
            400,
            "InvalidParameter",
            format!("the form body is malformed: {why}"),
        )
    })
}

fn too_large(what: &str, size: usize, max: usize) -> SimError {
    SimError::new(
        400,
        "InvalidParameter",
        format!("{what} is too large ({size} bytes; the limit is {max} bytes)"),
    )
}

/// Query ∪ body; a key present twice (in either or across both) is refused, because the two
/// values would be signed together but only one could be used.
fn merge(
    query: Vec<(String, String)>,
    body: Vec<(String, String)>,
) -> Result<BTreeMap<String, String>, SimError> {
    if query.len() + body.len() > MAX_PARAMS {
        return Err(SimError::new(
            400,
            "InvalidParameter",
            format!(
                "the request has {} parameters; the limit is {MAX_PARAMS}",
                query.len() + body.len()
            ),
        ));
    }
    let mut params = BTreeMap::new();
    for (k, v) in query.into_iter().chain(body) {
        if k.is_empty() {
            return Err(SimError::new(
                400,
                "InvalidParameter",
                "a parameter has an empty name",
            ));
        }
        if k.len() > MAX_KEY_BYTES {
            return Err(too_large("a parameter name", k.len(), MAX_KEY_BYTES));
        }
        if v.len() > MAX_VALUE_BYTES {
            return Err(too_large(
                &format!("the value of parameter \"{k}\""),
                v.len(),
                MAX_VALUE_BYTES,
            ));
        }
        match params.entry(k) {
            Entry::Vacant(slot) => {
                slot.insert(v);
            }
            Entry::Occupied(slot) => {
                return Err(SimError::new(
                    400,
                    "InvalidParameter",
                    format!(
                        "the parameter \"{}\" is given more than once; send each parameter once",
                        slot.key()
                    ),
                ))
            }
        }
    }
    Ok(params)
}

fn signature_style(raw: &RawRequest) -> Result<SignatureStyle, SimError> {
    let Some(authorization) = raw.header("authorization") else {
        return Ok(SignatureStyle::V1);
    };
    if authorization.trim_start().starts_with("ACS3-") {
        Ok(SignatureStyle::V3 { authorization })
    } else {
        Err(SimError::new(
            400,
            "IncompleteSignature",
            "the Authorization header is not an ACS3 signature; sign with ACS3-HMAC-SHA256 \
             (signature v3) or leave the header out and sign the parameters (signature v1)",
        ))
    }
}

/// Where the version and action are read from: parameters for v1, headers for v3.
fn common_value(
    raw: &RawRequest,
    params: &BTreeMap<String, String>,
    style: &SignatureStyle,
    param: &str,
    header: &str,
) -> Result<String, SimError> {
    let value = match style {
        SignatureStyle::V1 => params.get(param).cloned(),
        SignatureStyle::V3 { .. } => raw.header(header),
    };
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(SimError::missing(match style {
            SignatureStyle::V1 => param,
            SignatureStyle::V3 { .. } => header,
        })),
    }
}

fn product_of(
    raw: &RawRequest,
    params: &BTreeMap<String, String>,
    style: &SignatureStyle,
) -> Result<Product, SimError> {
    let version = common_value(raw, params, style, "Version", "x-acs-version")?;
    Product::from_version(&version).ok_or_else(|| {
        let known: Vec<String> = Product::ALL
            .iter()
            .map(|p| format!("{} ({})", p.version(), p.code().to_uppercase()))
            .collect();
        SimError::new(
            400,
            "InvalidVersion",
            format!(
                "Specified parameter Version is not valid: `{version}`; this endpoint serves {}",
                known.join(" and ")
            ),
        )
    })
}

fn action_of(
    raw: &RawRequest,
    params: &BTreeMap<String, String>,
    style: &SignatureStyle,
    product: Product,
) -> Result<&'static Action, SimError> {
    let name = common_value(raw, params, style, "Action", "x-acs-action")?;
    if let Some(action) = ops::find(product, &name) {
        return Ok(action);
    }
    let hint = match ops::find_any(&name) {
        Some(other) => format!(
            "; {name} belongs to {} (Version {}), not {} (Version {})",
            other.product.code().to_uppercase(),
            other.product.version(),
            product.code().to_uppercase(),
            product.version()
        ),
        None => match ops::suggest(Some(product), &name) {
            Some(near) => format!("; did you mean {near}?"),
            None => String::new(),
        },
    };
    Err(SimError::new(
        404,
        "InvalidAction.NotFound",
        format!("Specified api is not found, please check your url and method: `{name}`{hint}"),
    ))
}

fn format_of(params: &BTreeMap<String, String>) -> Result<Format, SimError> {
    match params
        .get("Format")
        .map(|f| f.to_ascii_uppercase())
        .as_deref()
    {
        None => Ok(Format::Unspecified),
        Some("JSON") => Ok(Format::Json),
        Some("XML") => Ok(Format::Xml),
        Some(_) => Err(SimError::invalid("Format", "expected JSON or XML")),
    }
}

/// Decodes `k=v&k2=v2` strictly: `+` is a space, `%XX` needs two hex digits, and the decoded
/// bytes must be UTF-8. Empty segments (`a=1&&b=2`) are skipped; a key without `=` has an
/// empty value, as in the form encoding every SDK uses.
pub fn decode_pairs(input: &[u8]) -> Result<Vec<(String, String)>, String> {
    let count = input.iter().filter(|&&b| b == b'&').count() + 1;
    let mut pairs = Vec::with_capacity(count.min(MAX_PARAMS));
    for segment in input.split(|&b| b == b'&').filter(|s| !s.is_empty()) {
        if pairs.len() >= MAX_PARAMS {
            return Err(format!("more than {MAX_PARAMS} parameters"));
        }
        let (key, value) = match segment.iter().position(|&b| b == b'=') {
            Some(i) => (&segment[..i], &segment[i + 1..]),
            None => (segment, &segment[segment.len()..]),
        };
        let key = percent_decode(key)?;
        let value = percent_decode(value).map_err(|why| format!("value of `{key}`: {why}"))?;
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// Decodes one form-encoded component; the error says what is wrong and where.
pub fn percent_decode(input: &[u8]) -> Result<String, String> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = input
                    .get(i + 1..i + 3)
                    .ok_or_else(|| format!("`%` at byte {i} is not followed by two hex digits"))?;
                let byte = std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .filter(|_| hex.iter().all(u8::is_ascii_hexdigit))
                    .ok_or_else(|| format!("`%` at byte {i} is not followed by two hex digits"))?;
                out.push(byte);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|e| {
        format!(
            "the decoded bytes are not valid UTF-8 (at byte {})",
            e.utf8_error().valid_up_to()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(query: &str) -> RawRequest {
        RawRequest {
            method: "GET".into(),
            path: "/".into(),
            query: Some(query.into()),
            headers: vec![("host".into(), b"127.0.0.1:1".to_vec())],
            body: Vec::new(),
        }
    }

    fn code(r: Result<ParsedRequest, SimError>) -> (u16, String) {
        let e = r.expect_err("should fail");
        (e.status, e.code)
    }

    #[test]
    fn decoding_is_strict_and_complete() {
        assert_eq!(percent_decode(b"a+b%20c%2A%E6%B5%8B").unwrap(), "a b c*测");
        assert!(percent_decode(b"%").is_err());
        assert!(percent_decode(b"%4").is_err());
        assert!(percent_decode(b"%zz").is_err());
        assert!(percent_decode(b"%+1").is_err());
        assert!(percent_decode(b"%FF").unwrap_err().contains("UTF-8"));
        assert_eq!(
            decode_pairs(b"a=1&&b&c=x=y").unwrap(),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "".into()),
                ("c".into(), "x=y".into())
            ]
        );
    }

    #[test]
    fn a_good_v1_request_parses_with_product_and_action() {
        let p = parse(&get(
            "Action=DescribeVpcs&Version=2016-04-28&Format=json&RegionId=cn-hangzhou",
        ))
        .unwrap();
        assert_eq!(p.product, Product::Vpc);
        assert_eq!(p.action.name, "DescribeVpcs");
        assert_eq!(p.style, SignatureStyle::V1);
        assert_eq!(p.host, "127.0.0.1:1");
        assert_eq!(p.params["RegionId"], "cn-hangzhou");
    }

    #[test]
    fn query_and_form_body_merge_and_duplicates_are_refused() {
        let mut r = get("Action=DescribeRegions&Version=2014-05-26");
        r.method = "POST".into();
        r.headers.push((
            "content-type".into(),
            b"application/x-www-form-urlencoded; charset=UTF-8".to_vec(),
        ));
        r.body = b"RegionId=cn-beijing&Name=a+b".to_vec();
        let p = parse(&r).unwrap();
        assert_eq!(p.params["Name"], "a b");
        assert!(p.query.is_empty(), "v1 signs the parameters: {:?}", p.query);
        assert_eq!(p.params.len(), 4);
        r.body = b"Action=DescribeRegions".to_vec();
        let e = parse(&r).unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (400, "InvalidParameter"));
        assert!(e.message.contains("Action"), "{}", e.message);
    }

    #[test]
    fn versions_actions_and_formats_get_the_real_codes() {
        assert_eq!(
            code(parse(&get("Version=2014-05-26"))),
            (400, "MissingParameter".into())
        );
        assert_eq!(
            code(parse(&get("Action=DescribeRegions"))),
            (400, "MissingParameter".into())
        );
        assert_eq!(
            code(parse(&get("Action=DescribeRegions&Version=2099-01-01"))),
            (400, "InvalidVersion".into())
        );
        let e = parse(&get("Action=DescribeInstance&Version=2014-05-26")).unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (404, "InvalidAction.NotFound"));
        assert!(
            e.message.contains("did you mean DescribeInstances?"),
            "{}",
            e.message
        );
        let e = parse(&get("Action=CreateVpcAttribute&Version=2014-05-26")).unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (404, "InvalidAction.NotFound"));
        let e = parse(&get("Action=DescribeVpcAttribute&Version=2014-05-26")).unwrap_err();
        assert!(e.message.contains("2016-04-28"), "{}", e.message);
        let legacy = parse(&get("Action=CreateVpc&Version=2014-05-26")).unwrap();
        assert_eq!(
            legacy.product,
            Product::Ecs,
            "old SDKs send CreateVpc to ECS"
        );
        let xml = parse(&get("Action=DescribeRegions&Version=2014-05-26&Format=xml")).unwrap();
        assert_eq!(xml.format, Format::Xml);
        let none = parse(&get("Action=DescribeRegions&Version=2014-05-26")).unwrap();
        assert_eq!(none.format, Format::Unspecified);
        assert_eq!(
            code(parse(&get(
                "Action=DescribeRegions&Version=2014-05-26&Format=yaml"
            ))),
            (400, "InvalidParameter".into())
        );
    }

    #[test]
    fn v3_reads_action_and_version_from_headers() {
        let mut r = get("RegionId=cn-hangzhou");
        r.method = "POST".into();
        r.headers.push((
            "authorization".into(),
            b"ACS3-HMAC-SHA256 Credential=a".to_vec(),
        ));
        assert_eq!(code(parse(&r)), (400, "MissingParameter".into()));
        r.headers
            .push(("x-acs-version".into(), b"2014-05-26".to_vec()));
        r.headers
            .push(("x-acs-action".into(), b"DescribeRegions".to_vec()));
        let p = parse(&r).unwrap();
        assert!(matches!(p.style, SignatureStyle::V3 { .. }));
        assert_eq!(p.action.name, "DescribeRegions");
        assert_eq!(
            p.query,
            [("RegionId".into(), "cn-hangzhou".into())],
            "v3 signs the query"
        );
        r.body = b"InstanceName=a".to_vec();
        r.headers.push((
            "content-type".into(),
            b"application/x-www-form-urlencoded".to_vec(),
        ));
        let p = parse(&r).unwrap();
        assert_eq!(p.query.len(), 1, "the query alone: {:?}", p.query);
        assert_eq!((p.params.len(), &*p.params["InstanceName"]), (2, "a"));
        r.headers[1].1 = b"Basic xyz".to_vec();
        assert_eq!(code(parse(&r)), (400, "IncompleteSignature".into()));
    }

    #[test]
    fn limits_and_methods_are_errors_not_crashes() {
        let big = "a".repeat(MAX_VALUE_BYTES + 1);
        assert_eq!(
            code(parse(&get(&format!(
                "Action=DescribeRegions&Version=2014-05-26&X={big}"
            )))),
            (400, "InvalidParameter".into())
        );
        let mut r = get("Action=DescribeRegions&Version=2014-05-26");
        r.method = "DELETE".into();
        assert_eq!(code(parse(&r)), (400, "UnsupportedHTTPMethod".into()));
        let mut r = get("Action=DescribeRegions&Version=2014-05-26");
        r.path = "/x".into();
        assert_eq!(code(parse(&r)).0, 404);
        let mut r = get("Action=DescribeRegions&Version=2014-05-26");
        r.body = b"{}".to_vec();
        r.headers
            .push(("content-type".into(), b"application/json".to_vec()));
        assert_eq!(code(parse(&r)), (400, "InvalidParameter".into()));
    }
}
