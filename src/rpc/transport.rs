//! One HTTP exchange: send a prepared request, classify the answer.
//!
//! A 2xx JSON body is the result. Any other answer becomes an [`ApiError`] when it is an API
//! error body, else `InvalidResponse`; failures without an answer become `Timeout` or
//! `Transport`. Server text is scrubbed of the secret and token before it is kept, and
//! transport errors are rendered without their URL (a GET URL carries the token). The
//! `x-acs-retry-after` header (milliseconds) is passed up for the retry loop. No retries here.

use super::client::{Method, PreparedRequest};
use super::credentials::Credentials;
use super::error::{ApiError, CallError};
use serde_json::Value;
use std::time::Duration;

/// A failed attempt, with the server's requested wait when it gave one.
pub(crate) struct Failure {
    pub error: CallError,
    pub retry_after: Option<Duration>,
}

impl From<CallError> for Failure {
    fn from(error: CallError) -> Failure {
        Failure {
            error,
            retry_after: None,
        }
    }
}

pub(crate) async fn send(
    http: &reqwest::Client,
    request: &PreparedRequest,
    creds: &Credentials,
    server_clock: &super::clock::ServerClock,
) -> Result<(u16, Value), Failure> {
    use reqwest::header::HeaderValue;
    // A parsed URL (reqwest would parse text again) and static header values (a value made
    // from text is copied into a new buffer on every request).
    let builder = match request.method() {
        Method::Get => http.get(request.url()),
        Method::Post => http
            .post(request.url())
            .header(
                reqwest::header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            )
            .body(request.body()),
    };
    let response = builder
        .header(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        )
        .send()
        .await
        .map_err(|e| transport_error(e, creds))?;
    let status = response.status().as_u16();
    if let Some(date) = response
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
    {
        server_clock.observe(date);
    }
    let retry_after = response
        .headers()
        .get("x-acs-retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis);
    let body = response
        .bytes()
        .await
        .map_err(|e| transport_error(e, creds))?;
    classify(status, &body, creds, request.string_to_sign())
        .map(|value| (status, value))
        .map_err(|error| Failure { error, retry_after })
}

fn classify(
    status: u16,
    body: &[u8],
    creds: &Credentials,
    string_to_sign: &str,
) -> Result<Value, CallError> {
    if (200..300).contains(&status) {
        // Parsed from the bytes (`answer` reads bytes that are not UTF-8 as U+FFFD, as this
        // did); the text of the answer is only made for the error.
        return super::answer::from_slice(body)
            .map_err(|_| invalid(status, &String::from_utf8_lossy(body), creds));
    }
    let text = String::from_utf8_lossy(body);
    match ApiError::from_body(status, &text) {
        Some(mut e) => {
            e.message = creds.scrub(&e.message);
            e.recommend = e.recommend.map(|r| creds.scrub(&r));
            if e.code == "SignatureDoesNotMatch" {
                diagnose_signature(&mut e, &creds.scrub(string_to_sign));
            }
            Err(e.into())
        }
        None => Err(invalid(status, &text, creds)),
    }
}

/// The service quotes its string to sign after the first `:` of the message. When it equals
/// ours, the request arrived intact and only the secret can be wrong, so the error becomes
/// `InvalidAccessKeySecret` (as the official Python SDK does); otherwise the request was
/// changed on the way and the message says so. Both sides are compared scrubbed.
fn diagnose_signature(e: &mut ApiError, ours: &str) {
    let Some((_, theirs)) = e.message.split_once(':') else {
        return;
    };
    let theirs = theirs.trim();
    if !(theirs.starts_with("GET&") || theirs.starts_with("POST&")) {
        return;
    }
    if theirs == ours {
        e.code = "InvalidAccessKeySecret".into();
        e.message = "the server computed the same string to sign, so the AccessKeySecret is \
                     wrong for this AccessKeyId"
            .into();
    } else {
        e.message = "the server computed a different string to sign than ecsh: something \
                     between them (a proxy?) changed the request, or the endpoint is not an \
                     ECS/VPC RPC endpoint"
            .into();
    }
}

fn invalid(status: u16, text: &str, creds: &Credentials) -> CallError {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut snippet: String = creds.scrub(&flat).chars().take(200).collect();
    if snippet.is_empty() {
        snippet = "empty body".into();
    } else if flat.chars().count() > 200 {
        snippet.push('…');
    }
    CallError::InvalidResponse {
        status,
        body_snippet: snippet,
    }
}

fn transport_error(e: reqwest::Error, creds: &Credentials) -> Failure {
    if e.is_timeout() {
        return CallError::Timeout.into();
    }
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    CallError::Transport {
        message: creds.scrub(&message),
    }
    .into()
}
