//! The simulator's ECS instance metadata service, the part the credential chain reads: an
//! instance RAM role's temporary keys, with IMDSv2 session tokens
//! (`ecsh sim --metadata-listen ADDR --metadata-role NAME`).
//!
//! - `PUT /latest/api/token` with `X-aliyun-ecs-metadata-token-ttl-seconds: 1..=21600` → a
//!   session token (plain text);
//! - `GET /latest/meta-data/ram/security-credentials/` → the role's name;
//! - `GET /latest/meta-data/ram/security-credentials/<role>` → `{Code: "Success", AccessKeyId,
//!   AccessKeySecret, SecurityToken, Expiration, LastUpdated}`, keys issued by [`Sts`], so the
//!   ECS and VPC endpoints accept them until they expire in simulated time.
//!
//! A GET carrying `X-aliyun-ecs-metadata-token` must carry a valid one ([`Tokens`] decides
//! whether a GET without one is served, and whether the token endpoint exists at all, so tests
//! can show both IMDSv2 and the v1 fallback). It must not print; it knows nothing of ECS
//! resources.

use super::sts::{lock, Sts, METADATA_DURATION};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const TOKEN_PATH: &str = "/latest/api/token";
pub const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";
pub const TTL_HEADER: &str = "x-aliyun-ecs-metadata-token-ttl-seconds";
pub const TOKEN_HEADER: &str = "x-aliyun-ecs-metadata-token";
const MAX_TTL: u64 = 21_600;

/// What the service does about IMDSv2 session tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Tokens {
    /// Tokens are issued and checked when sent; a GET without one is served (like ECS today).
    #[default]
    Optional,
    /// Every GET needs a valid token (an instance with IMDSv1 turned off).
    Required,
    /// No token endpoint (an old metadata service): clients must fall back to v1.
    Unsupported,
}

/// How the metadata service is set up.
#[derive(Clone, Debug)]
pub struct MetadataConfig {
    pub listen: SocketAddr,
    /// The instance's RAM role.
    pub role: String,
    pub tokens: Tokens,
}

struct Shared {
    role: String,
    tokens: Tokens,
    sts: Arc<Sts>,
    /// Issued session tokens and when each stops working.
    issued: Mutex<Vec<(String, Instant)>>,
}

/// Binds and serves in the background until `stop` fires; returns the bound address.
pub async fn start(
    cfg: &MetadataConfig,
    sts: Arc<Sts>,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> std::io::Result<SocketAddr> {
    let shared = Arc::new(Shared {
        role: cfg.role.clone(),
        tokens: cfg.tokens,
        sts,
        issued: Mutex::new(Vec::new()),
    });
    let listener = tokio::net::TcpListener::bind(cfg.listen).await?;
    let addr = listener.local_addr()?;
    let router = Router::new().fallback(serve).with_state(shared);
    tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stop.await;
            })
            .await
    });
    Ok(addr)
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    let mut r = Response::new(Body::from(body.into()));
    *r.status_mut() = status;
    r
}

async fn serve(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let path = request.uri().path().to_owned();
    if request.method() == "PUT" && path == TOKEN_PATH {
        if shared.tokens == Tokens::Unsupported {
            return text(StatusCode::NOT_FOUND, "Not Found");
        }
        let ttl = header(TTL_HEADER).and_then(|t| t.trim().parse::<u64>().ok());
        let Some(ttl) = ttl.filter(|t| (1..=MAX_TTL).contains(t)) else {
            return text(
                StatusCode::BAD_REQUEST,
                format!("{TTL_HEADER} must be a number of seconds from 1 to {MAX_TTL}"),
            );
        };
        let token = crate::rpc::clock::random_hex(24);
        let until = Instant::now() + Duration::from_secs(ttl);
        lock(&shared.issued).push((token.clone(), until));
        return text(StatusCode::OK, token);
    }
    if request.method() != "GET" {
        return text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    }
    match header(TOKEN_HEADER) {
        Some(sent) => {
            let now = Instant::now();
            let valid = lock(&shared.issued).iter().any(|(t, until)| {
                *until > now && crate::secret::Secret::new(t.as_str()).ct_eq(&sent)
            });
            if !valid {
                return text(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized: invalid or expired metadata token",
                );
            }
        }
        None if shared.tokens == Tokens::Required => {
            return text(
                StatusCode::UNAUTHORIZED,
                "Unauthorized: this instance requires IMDSv2 (PUT /latest/api/token first)",
            )
        }
        None => {}
    }
    match path.strip_prefix(CREDENTIALS_PATH) {
        Some("") => text(StatusCode::OK, shared.role.clone()),
        Some(role) if role == shared.role => {
            let g = shared.sts.issue(role, "ecs-instance", METADATA_DURATION);
            let body = serde_json::json!({
                "AccessKeyId": g.access_key_id,
                "AccessKeySecret": g.access_key_secret.expose(),
                "Expiration": g.expiration,
                "SecurityToken": g.security_token.expose(),
                "LastUpdated": crate::rpc::format_timestamp(time::OffsetDateTime::now_utc()),
                "Code": "Success",
            });
            text(StatusCode::OK, body.to_string())
        }
        _ => text(StatusCode::NOT_FOUND, "Not Found"),
    }
}
