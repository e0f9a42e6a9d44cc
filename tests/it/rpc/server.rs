//! A scripted loopback API server for the client tests: it records every request, checks its
//! v1 signature with `ecsh::rpc::sign`, and answers from a script (then with a success).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method as HttpMethod, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use ecsh::rpc::{
    sign, Client, ClientConfig, CountingNonce, Credentials, FixedClock, Method, RetryPolicy,
};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::macros::datetime;

pub const KEY_ID: &str = "LTAItestkeyid0001abcd";
pub const SECRET: &str = "SECRET-do-not-leak-7f3a+/=";
pub const TOKEN: &str = "TOKEN-do-not-leak-91bc/+= x";

/// One scripted answer. In `body`, `{sts}` becomes the server's string to sign and `{query}`
/// the raw query string of the request (to test that echoed text is scrubbed).
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(String, String)>,
    pub delay: Duration,
}

impl Reply {
    pub fn ok(body: &str) -> Reply {
        Reply::raw(200, body)
    }

    pub fn raw(status: u16, body: &str) -> Reply {
        Reply {
            status,
            body: body.to_string(),
            headers: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn error(status: u16, code: &str) -> Reply {
        Reply::raw(
            status,
            &format!(
                r#"{{"RequestId":"req-{code}","HostId":"127.0.0.1","Code":"{code}","Message":"scripted {code}","Recommend":"https://api.aliyun.com/troubleshoot?q={code}"}}"#
            ),
        )
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn delayed(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub query: Vec<(String, String)>,
    pub body: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub signature_ok: bool,
    pub at: Instant,
}

impl Recorded {
    /// A parameter from the query or the body.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .chain(self.body.iter())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn in_query(&self, key: &str) -> bool {
        self.query.iter().any(|(k, _)| k == key)
    }

    pub fn in_body(&self, key: &str) -> bool {
        self.body.iter().any(|(k, _)| k == key)
    }
}

struct ServerState {
    script: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
}

pub struct TestServer {
    pub url: String,
    state: Arc<ServerState>,
}

pub const SUCCESS: &str = r#"{"RequestId":"req-ok","Done":true}"#;

impl TestServer {
    /// Serves `script` in order, then [`SUCCESS`] for every further request.
    pub async fn start(script: Vec<Reply>) -> TestServer {
        let state = Arc::new(ServerState {
            script: Mutex::new(script.into()),
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(handle).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestServer {
            url: format!("http://{addr}"),
            state,
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// A client for this server with fast backoff and pinned clock and nonces.
    pub fn client(&self, method: Method, max_attempts: u32, token: bool) -> Client {
        Client::new(self.config(method, max_attempts, token)).expect("client")
    }

    pub fn config(&self, method: Method, max_attempts: u32, token: bool) -> ClientConfig {
        let mut creds = Credentials::new(KEY_ID, SECRET);
        if token {
            creds = creds.with_security_token(TOKEN);
        }
        let mut config = ClientConfig::new(creds, "cn-shanghai");
        config.endpoint_override = Some(self.url.clone());
        config.method = method;
        config.retry = fast_retry(max_attempts);
        config.clock = Arc::new(FixedClock(datetime!(2024-05-06 07:08:09 UTC)));
        config.nonce = Arc::new(CountingNonce::new("n"));
        config.timeout = Duration::from_secs(10);
        config
    }
}

pub fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(5),
    }
}

/// A loopback URL where nothing listens.
pub async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

fn parse(s: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(s)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

async fn handle(
    State(state): State<Arc<ServerState>>,
    method: HttpMethod,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let raw_query = uri.query().unwrap_or("").to_string();
    let query = parse(raw_query.as_bytes());
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let form = if content_type.as_deref() == Some("application/x-www-form-urlencoded") {
        parse(&body)
    } else {
        Vec::new()
    };
    let signed: Vec<(String, String)> = query
        .iter()
        .chain(form.iter())
        .filter(|(k, _)| k != "Signature")
        .cloned()
        .collect();
    let sts = sign::string_to_sign(method.as_str(), &signed);
    let given = query
        .iter()
        .chain(form.iter())
        .find(|(k, _)| k == "Signature")
        .map(|(_, v)| v.clone());
    let signature_ok = given.as_deref() == Some(&sign::hmac_sha1_base64(SECRET, &sts));
    state.requests.lock().unwrap().push(Recorded {
        method: method.to_string(),
        query,
        body: form,
        content_type,
        signature_ok,
        at: Instant::now(),
    });
    let reply = state
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| Reply::ok(SUCCESS));
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let text = reply
        .body
        .replace("{sts}", &sts)
        .replace("{query}", &raw_query);
    let mut out = HeaderMap::new();
    for (k, v) in &reply.headers {
        out.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    (StatusCode::from_u16(reply.status).unwrap(), out, text).into_response()
}
