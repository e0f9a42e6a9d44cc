//! Authentication of a parsed request: signature v1 (HMAC-SHA1 over the parameters) and v3
//! (`ACS3-HMAC-SHA256` in the Authorization header), timestamp window and nonce replay, with
//! the real service's error codes and statuses.
//!
//! It owns the accepted credentials (one AccessKey pair, plus optional STS credentials whose
//! SecurityToken must match, plus the temporary keys [`Sts`] issued, until they expire) and
//! the memory of recently used nonces. It must not parse HTTP (that is `protocol`) or touch state (`model`). Secrets are compared in constant time and
//! never appear in an error message; the server's string to sign does (it holds no secret), so
//! a client can see why its signature differs.
//!
//! Order of checks: signature parameters present and supported → timestamp format → timestamp
//! window → AccessKeyId known → SecurityToken → signature → nonce unused. The nonce is
//! remembered only once the signature is valid, so a forged request cannot burn a nonce.

use super::protocol::{ParsedRequest, RawRequest, SignatureStyle};
use super::sts::Sts;
use super::SimError;
use crate::rpc::{sign, sign_v3};
use crate::secret::Secret;
use std::borrow::Cow;
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

/// How far a request's timestamp may be from the server's clock, either way.
pub const TIMESTAMP_WINDOW_SECS: i64 = 15 * 60;
/// Most nonces remembered. At capacity the oldest is forgotten first, so replay protection
/// covers at least the most recent `MAX_NONCES` requests (and every request of the window
/// at up to ~200 requests per second).
pub const MAX_NONCES: usize = 200_000;

/// An AccessKey pair the simulator accepts; `security_token` set makes it an STS credential,
/// whose requests must carry that exact token.
#[derive(Clone, Debug)]
pub struct Credential {
    pub access_key_id: String,
    pub access_key_secret: Secret,
    pub security_token: Option<Secret>,
}

/// Verifies requests against the accepted credentials and remembers their nonces.
pub struct Authenticator {
    credentials: Vec<Credential>,
    /// The STS service, whose issued temporary keys are accepted until they expire.
    temporary: Option<Arc<Sts>>,
    nonces: Mutex<NonceStore>,
}

impl Authenticator {
    pub fn new(credentials: Vec<Credential>) -> Authenticator {
        Authenticator {
            credentials,
            temporary: None,
            nonces: Mutex::new(NonceStore::new(MAX_NONCES)),
        }
    }

    /// Also accepts the keys `sts` issues, until they expire.
    pub fn with_sts(mut self, sts: Arc<Sts>) -> Authenticator {
        self.temporary = Some(sts);
        self
    }

    /// Checks the request; on success returns the AccessKeyId that signed it.
    pub fn verify(
        &self,
        raw: &RawRequest,
        req: &ParsedRequest,
        now: OffsetDateTime,
    ) -> Result<String, SimError> {
        let signed = match &req.style {
            SignatureStyle::V1 => v1_fields(req)?,
            SignatureStyle::V3 { authorization } => v3_fields(raw, authorization)?,
        };
        check_timestamp(&signed.timestamp, signed.timestamp_name, now)?;
        let credential = self.credential(&signed.access_key_id)?;
        check_token(&credential, signed.security_token.as_deref())?;
        let expected = match &req.style {
            SignatureStyle::V1 => expected_v1(req, &credential),
            SignatureStyle::V3 { .. } => expected_v3(raw, req, &credential, &signed)?,
        };
        if !Secret::new(expected.signature).ct_eq(&signed.signature) {
            return Err(signature_mismatch(&expected.string_to_sign));
        }
        let key = format!("{}\u{0}{}", signed.access_key_id, signed.nonce);
        let expires = now
            .unix_timestamp()
            .max(parse_timestamp(&signed.timestamp).unwrap_or(0))
            + TIMESTAMP_WINDOW_SECS;
        let fresh = self
            .nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, expires, now.unix_timestamp());
        if !fresh {
            return Err(SimError::new(
                400,
                "SignatureNonceUsed",
                "Specified signature nonce was used already; send a new random nonce with each request",
            ));
        }
        Ok(signed.access_key_id.into_owned())
    }

    fn credential(&self, access_key_id: &str) -> Result<Credential, SimError> {
        if let Some(c) = self
            .credentials
            .iter()
            .find(|c| c.access_key_id == access_key_id)
        {
            return Ok(c.clone());
        }
        if let Some(issued) = self
            .temporary
            .as_ref()
            .and_then(|s| s.lookup(access_key_id))
        {
            return issued;
        }
        Err(SimError::new(
            404,
            "InvalidAccessKeyId.NotFound",
            format!(
                "Specified access key is not found: `{access_key_id}`; use the AccessKeyId \
                 the simulator printed when it started"
            ),
        ))
    }
}

/// The signature-related values of a request, whichever style carried them: borrowed from the
/// parameters (v1, no copies on every request's path), owned when read from headers (v3).
struct SignedFields<'a> {
    access_key_id: Cow<'a, str>,
    signature: Cow<'a, str>,
    nonce: Cow<'a, str>,
    timestamp: Cow<'a, str>,
    timestamp_name: &'static str,
    security_token: Option<Cow<'a, str>>,
    /// v3 only: the lower-case names of the signed headers.
    signed_headers: Vec<String>,
}

struct Expected {
    signature: String,
    string_to_sign: String,
}

fn required<'a>(req: &'a ParsedRequest, name: &str) -> Result<Cow<'a, str>, SimError> {
    match req.params.get(name) {
        Some(v) if !v.is_empty() => Ok(Cow::Borrowed(v)),
        _ => Err(SimError::missing(name)),
    }
}

fn v1_fields(req: &ParsedRequest) -> Result<SignedFields<'_>, SimError> {
    let signature = req
        .params
        .get("Signature")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            SimError::new(
            400,
            "IncompleteSignature",
            "The request signature does not conform to Aliyun standards: the Signature parameter \
             is missing; sign the request (signature v1, HMAC-SHA1) or use an official SDK",
        )
        })?;
    let access_key_id = required(req, "AccessKeyId")?;
    let method = required(req, "SignatureMethod")?;
    if method != "HMAC-SHA1" {
        return Err(SimError::new(
            400,
            "UnsupportedSignatureMethod",
            format!("SignatureMethod `{method}` is not supported; use HMAC-SHA1"),
        ));
    }
    let version = required(req, "SignatureVersion")?;
    if version != "1.0" {
        return Err(SimError::new(
            400,
            "UnsupportedSignatureVersion",
            format!("SignatureVersion `{version}` is not supported; use 1.0"),
        ));
    }
    if let Some(kind) = req.params.get("SignatureType").filter(|t| !t.is_empty()) {
        return Err(SimError::new(
            400,
            "UnsupportedSignatureType",
            format!(
                "SignatureType `{kind}` (bearer tokens) is not supported; sign with an AccessKey"
            ),
        ));
    }
    Ok(SignedFields {
        signature: Cow::Borrowed(signature),
        nonce: required(req, "SignatureNonce")?,
        timestamp: required(req, "Timestamp")?,
        timestamp_name: "Timestamp",
        security_token: req
            .params
            .get("SecurityToken")
            .map(|t| Cow::Borrowed(t.as_str())),
        signed_headers: Vec::new(),
        access_key_id,
    })
}

fn v3_fields(raw: &RawRequest, authorization: &str) -> Result<SignedFields<'static>, SimError> {
    let auth = sign_v3::Authorization::parse(authorization).map_err(|why| {
        SimError::new(
            400,
            "IncompleteSignature",
            format!("The Authorization header is malformed: {why}"),
        )
    })?;
    if auth.algorithm != sign_v3::ALGORITHM {
        return Err(SimError::new(
            400,
            "UnsupportedSignatureMethod",
            format!(
                "signature algorithm `{}` is not supported; use {}",
                auth.algorithm,
                sign_v3::ALGORITHM
            ),
        ));
    }
    let header = |name: &'static str| {
        raw.header(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| SimError::missing(name))
    };
    let must_sign = [
        "host",
        "x-acs-action",
        "x-acs-version",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
    ];
    let security_token = raw.header("x-acs-security-token");
    for name in must_sign
        .iter()
        .copied()
        .chain(security_token.as_ref().map(|_| "x-acs-security-token"))
    {
        header(name)?;
        if !auth.signed_headers.iter().any(|h| h == name) {
            return Err(SimError::new(
                400,
                "IncompleteSignature",
                format!("the header `{name}` must be listed in SignedHeaders and signed"),
            ));
        }
    }
    Ok(SignedFields {
        signed_headers: auth.signed_headers,
        access_key_id: Cow::Owned(auth.access_key_id),
        signature: Cow::Owned(auth.signature),
        nonce: Cow::Owned(header("x-acs-signature-nonce")?),
        timestamp: Cow::Owned(header("x-acs-date")?),
        timestamp_name: "x-acs-date",
        security_token: security_token.map(Cow::Owned),
    })
}

fn check_token(credential: &Credential, sent: Option<&str>) -> Result<(), SimError> {
    let Some(expected) = &credential.security_token else {
        // A plain AccessKey: a SecurityToken, if sent, was signed like any other parameter.
        return Ok(());
    };
    match sent {
        None | Some("") => Err(SimError::missing("SecurityToken")),
        Some(token) if expected.ct_eq(token) => Ok(()),
        Some(_) => Err(SimError::new(
            400,
            "InvalidSecurityToken.MismatchWithAccessKey",
            "the SecurityToken does not belong to this AccessKeyId",
        )),
    }
}

fn expected_v1(req: &ParsedRequest, credential: &Credential) -> Expected {
    let params: Vec<(&str, &str)> = req
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let string_to_sign = sign::string_to_sign(&req.method, &params);
    Expected {
        signature: sign::hmac_sha1_base64(credential.access_key_secret.expose(), &string_to_sign),
        string_to_sign,
    }
}

fn expected_v3(
    raw: &RawRequest,
    req: &ParsedRequest,
    credential: &Credential,
    signed: &SignedFields,
) -> Result<Expected, SimError> {
    let payload = sign_v3::hex_sha256(&raw.body);
    let declared = raw.header("x-acs-content-sha256").unwrap_or_default();
    if !declared.eq_ignore_ascii_case(&payload) {
        return Err(SimError::new(
            400,
            "InvalidParameter",
            format!(
                "the x-acs-content-sha256 header does not match the request body (its SHA-256 is {payload})"
            ),
        ));
    }
    let mut headers = Vec::new();
    for name in &signed.signed_headers {
        let values = raw.header_values(name);
        if values.is_empty() {
            return Err(SimError::new(
                400,
                "IncompleteSignature",
                format!("the signed header `{name}` is not in the request"),
            ));
        }
        headers.extend(values.into_iter().map(|v| (name.clone(), v)));
    }
    let secret = credential.access_key_secret.expose();
    let try_with = |query: String| {
        let request =
            sign_v3::canonical_request(&req.method, &req.path, &query, &headers, &declared);
        let string_to_sign = sign_v3::string_to_sign(&request);
        Expected {
            signature: sign_v3::signature(secret, &string_to_sign),
            string_to_sign,
        }
    };
    let documented = try_with(sign_v3::canonical_query(&req.query));
    let python = sign_v3::canonical_query_raw_keys(&req.query);
    // The Python SDK leaves keys unencoded; accept its variant when it differs.
    if documented.signature != signed.signature && python != sign_v3::canonical_query(&req.query) {
        let alt = try_with(python);
        if Secret::new(alt.signature.clone()).ct_eq(&signed.signature) {
            return Ok(alt);
        }
    }
    Ok(documented)
}

fn signature_mismatch(string_to_sign: &str) -> SimError {
    // The legacy SDK splits the message at the first `:` and compares the rest with its own
    // string to sign; equal strings mean a wrong secret, which it reports as
    // InvalidAccessKeySecret.
    SimError::new(
        400,
        "SignatureDoesNotMatch",
        format!("Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"),
    )
}

/// Seconds since the epoch of a `YYYY-MM-DDThh:mm:ssZ` timestamp (fractional seconds allowed).
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() >= 20
        && bytes.last() == Some(&b'Z')
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && bytes[16] == b':';
    if !shape_ok {
        return None;
    }
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

fn check_timestamp(text: &str, name: &str, now: OffsetDateTime) -> Result<(), SimError> {
    let at = parse_timestamp(text).ok_or_else(|| {
        SimError::new(
            400,
            "InvalidTimeStamp.Format",
            format!("Specified {name} `{text}` is not in the format YYYY-MM-DDThh:mm:ssZ (UTC)"),
        )
    })?;
    let skew = at - now.unix_timestamp();
    if skew.abs() > TIMESTAMP_WINDOW_SECS {
        return Err(SimError::new(
            400,
            "InvalidTimeStamp.Expired",
            format!(
                "Specified time stamp or date value is expired: {name} `{text}` is {} s {} the \
                 server's clock; the limit is {} minutes either way (check the client's clock)",
                skew.abs(),
                if skew < 0 { "behind" } else { "ahead of" },
                TIMESTAMP_WINDOW_SECS / 60
            ),
        ));
    }
    Ok(())
}

/// Nonces seen recently, each kept until its request's timestamp could no longer pass the
/// window check; bounded by `capacity`, forgetting the oldest first.
pub struct NonceStore {
    capacity: usize,
    seen: HashSet<String>,
    order: VecDeque<(i64, String)>,
}

impl NonceStore {
    pub fn new(capacity: usize) -> NonceStore {
        NonceStore {
            capacity: capacity.max(1),
            seen: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    /// Records `nonce` until `expires` (unix seconds); false when it is already remembered.
    pub fn insert(&mut self, nonce: String, expires: i64, now: i64) -> bool {
        while self.order.front().is_some_and(|(at, _)| *at < now) {
            self.forget_oldest();
        }
        if self.seen.contains(&nonce) {
            return false;
        }
        while self.order.len() >= self.capacity {
            self.forget_oldest();
        }
        self.seen.insert(nonce.clone());
        self.order.push_back((expires, nonce));
        true
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    fn forget_oldest(&mut self) {
        if let Some((_, n)) = self.order.pop_front() {
            self.seen.remove(&n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_refused_until_they_expire_and_memory_is_bounded() {
        let mut s = NonceStore::new(3);
        assert!(s.insert("a".into(), 100, 0));
        assert!(!s.insert("a".into(), 100, 50));
        assert!(
            s.insert("a".into(), 300, 101),
            "expired nonces are forgotten"
        );
        for n in ["b", "c", "d", "e"] {
            assert!(s.insert(n.into(), 1000, 102));
        }
        assert_eq!(s.len(), 3);
        assert!(
            s.insert("a".into(), 1000, 103),
            "the oldest went first at capacity"
        );
    }

    #[test]
    fn timestamps_must_be_utc_iso8601_with_z() {
        assert_eq!(parse_timestamp("2024-01-02T03:04:05Z"), Some(1_704_164_645));
        assert!(parse_timestamp("2024-01-02T03:04:05.123Z").is_some());
        for bad in [
            "2024-01-02 03:04:05Z",
            "2024-01-02T03:04:05+08:00",
            "",
            "x",
            "2024-13-02T03:04:05Z",
            "9999999",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }
}
