//! The simulator's HTTP server (axum) and its lifecycle: start on a socket, serve, shut down
//! cleanly, saving state.
//!
//! Every request goes `protocol::parse` → `auth` → `faults` → `World::handle` (under a
//! `std::sync::Mutex`, never held across an await) and comes back as JSON with a `RequestId`,
//! errors included (`{RequestId, HostId, Code, Message, Recommend}` with the real status), or
//! as XML (`xml`) when the request asks for it: `Format=XML`, or a v1 request without `Format`
//! in strict mode, as the real service does. The synchronous part runs under `catch_unwind`, so
//! even a bug becomes a 500 `InternalError` rather than a dropped connection.
//!
//! It must not print: the CLI prints the banner from what [`RunningSim`] returns. It knows
//! nothing of resources; the model does.

use super::auth::{Authenticator, Credential};
use super::catalog_ext::Extension;
use super::faults::{self, FaultSpec, Faults};
use super::metadata::{self, MetadataConfig};
use super::model::{Answer, Fidelity, JsonObject, World, WorldOptions};
use super::persist::{self, StateFile};
use super::protocol::{self, Format, RawRequest, SignatureStyle, MAX_BODY_BYTES};
use super::request_log::RequestLog;
use super::sts::Sts;
use super::upstream::Upstream;
use super::{SimError, SimRequest};
use crate::ops::{Effect, Product};
use crate::secret::Secret;
use anyhow::{Context, Result};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde_json::{Map, Value};
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Everything a simulator needs to start.
pub struct SimConfig {
    pub listen: SocketAddr,
    pub access_key_id: String,
    pub access_key_secret: Secret,
    /// Further accepted credentials, e.g. STS ones whose SecurityToken must match.
    pub extra_credentials: Vec<Credential>,
    pub state_file: Option<PathBuf>,
    pub world: WorldOptions,
    pub faults: Vec<FaultSpec>,
    /// `--request-log FILE`: one JSON line per request received (see `request_log`).
    pub request_log: Option<PathBuf>,
    /// The ECS instance metadata service (an instance RAM role), when asked for.
    pub metadata: Option<MetadataConfig>,
    /// Strict (the default) or `--lenient`.
    pub fidelity: Fidelity,
    /// Makes this simulator the shadow of a real target (`ecsh plan`; see `super::upstream`).
    pub upstream: Option<Arc<dyn Upstream>>,
    /// `--catalogue FILE`: zones, types, prices and images on top of the embedded catalogue.
    pub catalogue: Option<Extension>,
}

impl SimConfig {
    /// In-process use: an ephemeral loopback port, fresh random credentials, no state file,
    /// no faults, default world options.
    pub fn embedded() -> SimConfig {
        let (access_key_id, access_key_secret) = random_credentials();
        SimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            access_key_id,
            access_key_secret,
            extra_credentials: Vec::new(),
            state_file: None,
            world: WorldOptions::default(),
            faults: Vec::new(),
            request_log: None,
            metadata: None,
            fidelity: Fidelity::Strict,
            upstream: None,
            catalogue: None,
        }
    }
}

impl std::fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimConfig")
            .field("listen", &self.listen)
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &self.access_key_secret)
            .field("extra_credentials", &self.extra_credentials.len())
            .field("state_file", &self.state_file)
            .field("faults", &self.faults)
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

/// A fresh AccessKey pair shaped like a real one: `LTAI` + 20 characters, and a 30-character
/// secret.
pub fn random_credentials() -> (String, Secret) {
    let mut rng = rand::thread_rng();
    let mut random = |n| -> String {
        (&mut rng)
            .sample_iter(&Alphanumeric)
            .take(n)
            .map(char::from)
            .collect()
    };
    (format!("LTAI{}", random(20)), Secret::new(random(30)))
}

/// A running simulator. Dropping it stops the server (without a final save; every change was
/// already saved when it happened); [`RunningSim::shutdown`] stops it and saves.
pub struct RunningSim {
    addr: SocketAddr,
    access_key_id: String,
    access_key_secret: Secret,
    state_file: Option<PathBuf>,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    /// The metadata service's address and its stop signal, when it runs.
    metadata: Option<(SocketAddr, oneshot::Sender<()>)>,
}

impl RunningSim {
    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    pub fn access_key_secret(&self) -> &Secret {
        &self.access_key_secret
    }

    /// The simulator's STS (issued temporary keys; its clock can be moved ahead in tests).
    pub fn sts(&self) -> &Sts {
        &self.shared.sts
    }

    /// `http://ADDR` of the metadata service, when it runs.
    pub fn metadata_endpoint(&self) -> Option<String> {
        self.metadata
            .as_ref()
            .map(|(addr, _)| format!("http://{addr}"))
    }

    pub fn state_file(&self) -> Option<&std::path::Path> {
        self.state_file.as_deref()
    }

    /// Runs `f` on the world under its lock (for tests and tools in the same process).
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut self.shared.lock().world)
    }

    /// Stops accepting requests, lets in-flight ones finish, and saves the state file.
    pub async fn shutdown(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some((_, stop)) = self.metadata.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .context("the simulator's server task failed")?
                .context("the simulator's server stopped with an error")?;
        }
        self.shared.save_now().await
    }

    /// Serves until Ctrl-C or SIGTERM, then shuts down (saving state).
    pub async fn run_until_signal(self) -> Result<()> {
        wait_for_signal().await?;
        self.shutdown().await
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some((_, stop)) = self.metadata.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts a simulator: loads the state file if there is one, binds, and serves in the
/// background on the current tokio runtime.
pub async fn start(cfg: SimConfig) -> Result<RunningSim> {
    let mut world = match &cfg.state_file {
        Some(path) => match persist::load(path)? {
            Some(mut restored) => {
                restored.set_options(cfg.world.clone());
                restored
            }
            None => World::new(cfg.world.clone()),
        },
        None => World::new(cfg.world.clone()),
    };
    world.set_fidelity(cfg.fidelity);
    if let Some(ext) = &cfg.catalogue {
        world.extend_catalogue(ext);
    }
    for (instance_type, zone_id) in faults::no_stock_pairs(&cfg.faults) {
        world.add_no_stock(instance_type, zone_id);
    }
    for (instance_type, zone_id) in faults::spot_no_stock_pairs(&cfg.faults) {
        world.add_spot_no_stock(instance_type, zone_id);
    }
    let mut credentials = vec![Credential {
        access_key_id: cfg.access_key_id.clone(),
        access_key_secret: cfg.access_key_secret.clone(),
        security_token: None,
    }];
    credentials.extend(cfg.extra_credentials.iter().cloned());
    let sts = Arc::new(Sts::new(cfg.world.time));
    let shared = Arc::new(Shared {
        fidelity: cfg.fidelity,
        auth: Authenticator::new(credentials).with_sts(sts.clone()),
        sts: sts.clone(),
        faults: Faults::new(&cfg.faults),
        world: Mutex::new(WorldSlot {
            world,
            generation: 0,
        }),
        state: cfg.state_file.clone().map(StateFile::new),
        log: match &cfg.request_log {
            Some(path) => Some(
                RequestLog::open(path)
                    .with_context(|| format!("cannot open the request log {}", path.display()))?,
            ),
            None => None,
        },
        upstream: cfg.upstream.clone(),
        imported: Mutex::new(std::collections::BTreeSet::new()),
        asked_types: Mutex::new(std::collections::BTreeSet::new()),
    });
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {} (is the port in use?)", cfg.listen))?;
    let addr = listener
        .local_addr()
        .context("cannot read the listening address")?;
    let router = Router::new().fallback(serve).with_state(shared.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    let metadata = match &cfg.metadata {
        Some(m) => {
            let (stop, stopped) = oneshot::channel::<()>();
            let addr = metadata::start(m, sts, stopped).await.with_context(|| {
                format!(
                    "cannot listen on {} for the metadata service (is the port in use?)",
                    m.listen
                )
            })?;
            Some((addr, stop))
        }
        None => None,
    };
    Ok(RunningSim {
        metadata,
        addr,
        access_key_id: cfg.access_key_id,
        access_key_secret: cfg.access_key_secret,
        state_file: cfg.state_file,
        shared,
        stop: Some(stop),
        task: Some(task),
    })
}

/// `ecsh sim`: starts, hands the running simulator to `on_ready` (the CLI prints its banner
/// there), and serves until Ctrl-C or SIGTERM, then stops cleanly, saving state.
pub async fn serve_until_signal(cfg: SimConfig, on_ready: impl FnOnce(&RunningSim)) -> Result<()> {
    let running = start(cfg).await?;
    on_ready(&running);
    running.run_until_signal().await
}

async fn wait_for_signal() -> Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("cannot listen for Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("cannot listen for Ctrl-C")?;
    Ok(())
}

/// State shared by every request.
struct Shared {
    fidelity: Fidelity,
    auth: Authenticator,
    sts: Arc<Sts>,
    faults: Faults,
    world: Mutex<WorldSlot>,
    state: Option<StateFile>,
    log: Option<RequestLog>,
    upstream: Option<Arc<dyn Upstream>>,
    /// The regions whose account state the upstream has been asked for.
    imported: Mutex<std::collections::BTreeSet<String>>,
    /// The instance types whose details the upstream has been asked for (asked once each).
    asked_types: Mutex<std::collections::BTreeSet<String>>,
}

struct WorldSlot {
    world: World,
    /// Counts changes, so snapshots can be written in order.
    generation: u64,
}

/// What the synchronous stage produced.
struct Outcome {
    product: Option<Product>,
    host: String,
    result: Result<Answer, SimError>,
    retry_after_ms: Option<u64>,
    /// A snapshot to write before answering: (generation, bytes).
    snapshot: Option<(u64, Vec<u8>)>,
    /// The simulated wall clock, sent as the `Date` header (as the service sends its own), so
    /// clients can set wall-clock deadlines such as AutoReleaseTime in simulated time.
    server_time: Option<time::OffsetDateTime>,
    /// `Some(action)` when the answer is XML (`<ActionResponse>`); JSON otherwise.
    xml: Option<&'static str>,
}

impl Outcome {
    /// An answer to `raw` still to be filled in.
    fn of(raw: &RawRequest, product: Option<Product>) -> Outcome {
        Outcome {
            product,
            host: raw.header("host").unwrap_or_default(),
            result: Ok(Answer::Tree(Value::Null)),
            retry_after_ms: None,
            snapshot: None,
            server_time: None,
            xml: None,
        }
    }
}

impl Shared {
    fn imported(&self) -> MutexGuard<'_, std::collections::BTreeSet<String>> {
        self.imported
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lock(&self) -> MutexGuard<'_, WorldSlot> {
        // A panic in a handler poisons the lock; the world is still the best state there is.
        self.world
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn process(&self, raw: &RawRequest) -> Outcome {
        let mut outcome = Outcome::of(raw, None);
        outcome.result = self.dispatch(raw, &mut outcome);
        outcome.server_time = Some(self.lock().world.wall_now());
        outcome
    }

    fn dispatch(&self, raw: &RawRequest, outcome: &mut Outcome) -> Result<Answer, SimError> {
        let parsed = protocol::parse(raw).inspect_err(|_| {
            outcome.product = protocol::guess_product(raw);
        })?;
        outcome.product = Some(parsed.product);
        let xml = match parsed.format {
            Format::Xml => true,
            Format::Json => false,
            // The real service answers XML to a v1 request without Format.
            Format::Unspecified => {
                self.fidelity == Fidelity::Strict && parsed.style == SignatureStyle::V1
            }
        };
        outcome.xml = xml.then_some(parsed.action.name);
        // AssumeRoleWithOIDC is anonymous: the OIDC token in it is the proof of identity.
        let anonymous = parsed.action.is(&crate::ops::A::ASSUME_ROLE_WITH_OIDC);
        let access_key_id = if anonymous {
            String::new()
        } else {
            self.auth
                .verify(raw, &parsed, time::OffsetDateTime::now_utc())?
        };
        if let Some(injected) = self.faults.roll() {
            outcome.retry_after_ms = injected.retry_after_ms;
            return Err(injected.error);
        }
        let action = parsed.action;
        let request = model_request(parsed, access_key_id);
        if request.product == Product::Sts {
            return self.sts.handle(&request).map(Answer::Tree);
        }
        let mut slot = self.lock();
        let answer = slot.world.answer(&request);
        // The shadow's upstream sees what a non-read did (never a rendered page: that is a read).
        let answer = match (&self.upstream, action.effect != Effect::Read) {
            (Some(upstream), true) => {
                let tree = answer.and_then(Answer::into_value);
                upstream.observe(&request, &tree);
                tree.map(Answer::Tree)
            }
            _ => answer,
        };
        let body = answer?;
        if self.state.is_some() && action.effect != Effect::Read {
            slot.generation += 1;
            let bytes = persist::snapshot(&slot.world).map_err(|e| internal(&format!("{e:#}")))?;
            outcome.snapshot = Some((slot.generation, bytes));
        }
        if action.effect != Effect::Read {
            if let Some(lost) = self.faults.lose_answer() {
                return Err(lost);
            }
        }
        Ok(body)
    }

    /// A shadow's first stage (see `super::upstream`): imports the account's state of the
    /// region a request names, once, and answers catalogue reads from the upstream (after
    /// checking the signature, as every answer is). `None`: the model answers as usual.
    async fn through_upstream(&self, raw: &RawRequest) -> Option<Outcome> {
        let upstream = self.upstream.as_ref()?;
        let parsed = protocol::parse(raw).ok()?;
        if parsed.product == Product::Sts {
            return None;
        }
        let mut outcome = Outcome::of(raw, Some(parsed.product));
        if let Some(region) = parsed.params.get("RegionId") {
            let first = self.imported().insert(region.clone());
            if first {
                let imported = match upstream.account(region).await {
                    Ok(account) => {
                        let lacking = self.lock().world.import_account(region, &account);
                        self.learn_types(upstream.as_ref(), region, lacking).await
                    }
                    Err(e) => Err(e),
                };
                if let Err(e) = imported {
                    // Asked again by the next request naming the region.
                    self.imported().remove(region);
                    outcome.result = Err(e);
                    return Some(outcome);
                }
            }
        }
        if !parsed.action.is_catalogue() {
            return None;
        }
        let access_key_id = match self
            .auth
            .verify(raw, &parsed, time::OffsetDateTime::now_utc())
        {
            Ok(id) => id,
            Err(e) => {
                outcome.result = Err(e);
                return Some(outcome);
            }
        };
        let action = parsed.action;
        let request = model_request(parsed, access_key_id);
        let mut answer = upstream.catalogue(&request).await;
        if let Ok(body) = &answer {
            // What the target reported exists in the shadow from now on (model/learn.rs).
            let region = request.get("RegionId");
            let lacking = self.lock().world.learn_catalogue(action, region, body);
            if let Err(e) = self
                .learn_types(upstream.as_ref(), region.unwrap_or_default(), lacking)
                .await
            {
                answer = Err(e);
            }
        }
        outcome.result = answer.map(Answer::Tree);
        outcome.server_time = Some(self.lock().world.wall_now());
        Some(outcome)
    }

    /// Reads the details (vCPUs, memory) of types a shadow learned a zone sells, each once.
    async fn learn_types(
        &self,
        upstream: &dyn Upstream,
        region: &str,
        lacking: Vec<String>,
    ) -> Result<(), SimError> {
        let names: Vec<String> = {
            let mut asked = self
                .asked_types
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            lacking
                .into_iter()
                .filter(|t| asked.insert(t.clone()))
                .collect()
        };
        if names.is_empty() {
            return Ok(());
        }
        let answer = upstream.instance_types(region, &names).await?;
        self.lock().world.learn_catalogue(
            &crate::ops::A::DESCRIBE_INSTANCE_TYPES,
            Some(region),
            &answer,
        );
        Ok(())
    }

    /// Writes the current world to the state file, if there is one.
    async fn save_now(self: &Arc<Self>) -> Result<()> {
        if self.state.is_none() {
            return Ok(());
        }
        let (generation, bytes) = {
            let mut slot = self.lock();
            slot.generation += 1;
            (slot.generation, persist::snapshot(&slot.world)?)
        };
        self.write(generation, bytes).await
    }

    async fn write(self: &Arc<Self>, generation: u64, bytes: Vec<u8>) -> Result<()> {
        let shared = self.clone();
        tokio::task::spawn_blocking(move || match &shared.state {
            Some(file) => file.save(generation, &bytes),
            None => Ok(()),
        })
        .await
        .context("the state-saving task failed")?
    }
}

/// What the model sees of an authenticated request.
fn model_request(parsed: protocol::ParsedRequest, access_key_id: String) -> SimRequest {
    SimRequest {
        product: parsed.product,
        action: parsed.action.name.to_owned(),
        params: parsed.params,
        access_key_id,
        host: parsed.host,
    }
}

fn internal(detail: &str) -> SimError {
    SimError::new(
        500,
        "InternalError",
        format!("The request processing has failed due to some unknown error, exception or failure: {detail}"),
    )
}

async fn serve(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let request_id = new_request_id();
    let (parts, body) = request.into_parts();
    let mut raw = RawRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
            .collect(),
        body: Vec::new(),
    };
    let body: Bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            let too_big = SimError::new(
                400,
                "InvalidParameter",
                format!(
                    "the request body could not be read or is larger than {MAX_BODY_BYTES} bytes"
                ),
            );
            let outcome = Outcome {
                product: protocol::guess_product(&raw),
                host: raw.header("host").unwrap_or_default(),
                result: Err(too_big),
                retry_after_ms: None,
                snapshot: None,
                server_time: None,
                xml: None,
            };
            return render(outcome, &request_id);
        }
    };
    raw.body = body.to_vec();
    if let Some(delay) = shared.faults.latency() {
        tokio::time::sleep(delay).await;
    }
    let mut outcome = match shared.through_upstream(&raw).await {
        Some(outcome) => outcome,
        None => guarded(|| shared.process(&raw)),
    };
    if let Some((generation, bytes)) = outcome.snapshot.take() {
        if let Err(e) = shared.write(generation, bytes).await {
            outcome.result = Err(internal(&format!("the change was made but {e:#}")));
        }
    }
    if let Some(log) = &shared.log {
        let code = outcome
            .result
            .as_ref()
            .map_or_else(|e| e.code.as_str(), |_| "OK");
        log.record(&raw, outcome.product, code);
    }
    render(outcome, &request_id)
}

/// Runs the synchronous stage; a panic (a bug) becomes a 500 `InternalError` answer instead
/// of a dropped connection.
fn guarded(stage: impl FnOnce() -> Outcome) -> Outcome {
    std::panic::catch_unwind(AssertUnwindSafe(stage)).unwrap_or_else(|panic| Outcome {
        product: None,
        host: String::new(),
        result: Err(internal(&panic_text(&panic))),
        retry_after_ms: None,
        snapshot: None,
        server_time: None,
        xml: None,
    })
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("the simulator hit a bug ({what})")
}

/// A UUID-shaped request id, upper-case like the real service's.
pub fn new_request_id() -> String {
    let b: [u8; 16] = rand::thread_rng().gen();
    let h = hex::encode_upper(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn render(outcome: Outcome, request_id: &str) -> Response {
    let result = match outcome.result {
        // Written straight to JSON by the model: only RequestId to put in front.
        Ok(Answer::Json(object)) if outcome.xml.is_none() => {
            return respond(
                StatusCode::OK,
                with_request_id(object, request_id),
                "application/json;charset=utf-8",
                request_id,
                outcome.retry_after_ms,
                outcome.server_time,
            )
        }
        Ok(answer) => answer.into_value(),
        Err(e) => Err(e),
    };
    let (status, body) = match result {
        Ok(Value::Object(fields)) => {
            let mut out = Map::with_capacity(fields.len() + 1);
            out.insert("RequestId".into(), Value::String(request_id.to_owned()));
            out.extend(fields.into_iter().filter(|(k, _)| k != "RequestId"));
            (StatusCode::OK, Value::Object(out))
        }
        Ok(other) => error_body(
            &internal(&format!(
                "the model answered {} instead of an object",
                kind_of(&other)
            )),
            outcome.product,
            &outcome.host,
            request_id,
        ),
        Err(e) => error_body(&e, outcome.product, &outcome.host, request_id),
    };
    let (bytes, content_type) = match outcome.xml {
        Some(action) => {
            let root = if status.is_success() {
                format!("{action}Response")
            } else {
                "Error".to_string()
            };
            let doc = super::xml::document(&root, &body);
            (doc.into_bytes(), "text/xml;charset=utf-8")
        }
        None => (
            serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec()),
            "application/json;charset=utf-8",
        ),
    };
    respond(
        status,
        bytes,
        content_type,
        request_id,
        outcome.retry_after_ms,
        outcome.server_time,
    )
}

/// `{"RequestId":"…",` followed by the fields of a JSON object (the order [`render`] gives
/// tree answers too), written into the object's headroom: the body is not copied again.
fn with_request_id(object: JsonObject, request_id: &str) -> Bytes {
    let mut head = String::with_capacity(request_id.len() + 16);
    head.push_str("{\"RequestId\":\"");
    head.push_str(request_id);
    head.push('"');
    if object.as_bytes() != b"{}" {
        head.push(',');
    }
    let (buf, begin) = object.behind(head.as_bytes());
    Bytes::from_owner(Recycled { buf, begin })
}

/// A rendered answer's buffer while hyper sends it; given back for the next page when hyper
/// drops it (see `model::recycle`).
struct Recycled {
    buf: Vec<u8>,
    begin: usize,
}

impl AsRef<[u8]> for Recycled {
    fn as_ref(&self) -> &[u8] {
        &self.buf[self.begin..]
    }
}

impl Drop for Recycled {
    fn drop(&mut self) {
        super::model::recycle(std::mem::take(&mut self.buf));
    }
}

/// The HTTP response: body, content type and the headers every answer carries.
fn respond(
    status: StatusCode,
    bytes: impl Into<Bytes>,
    content_type: &'static str,
    request_id: &str,
    retry_after_ms: Option<u64>,
    server_time: Option<time::OffsetDateTime>,
) -> Response {
    let mut response = Response::new(Body::from(bytes.into()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-acs-request-id", v);
    }
    if let Some(ms) = retry_after_ms {
        headers.insert("x-acs-retry-after", HeaderValue::from(ms));
    }
    if let Some(v) = server_time
        .and_then(|t| t.format(crate::rpc::HTTP_DATE).ok())
        .and_then(|t| HeaderValue::from_str(&t).ok())
    {
        headers.insert(header::DATE, v);
    }
    response
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn error_body(
    e: &SimError,
    product: Option<Product>,
    host: &str,
    request_id: &str,
) -> (StatusCode, Value) {
    let status = StatusCode::from_u16(e.status)
        .ok()
        .filter(|s| s.is_client_error() || s.is_server_error())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let product = product.unwrap_or(Product::Ecs);
    let product_name = match product {
        Product::Ecs => "Ecs",
        Product::Vpc => "Vpc",
        Product::Sts => "Sts",
    };
    let host_id = if host.is_empty() {
        format!("{}.aliyuncs.com", product.code())
    } else {
        host.to_owned()
    };
    let body = serde_json::json!({
        "RequestId": request_id,
        "HostId": host_id,
        "Code": e.code,
        "Message": e.message,
        "Recommend": format!(
            "https://api.aliyun.com/troubleshoot?q={}&product={product_name}&requestId={request_id}",
            crate::rpc::sign::percent_encode(&e.code)
        ),
    });
    (status, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_look_like_the_real_ones() {
        let id = new_request_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
        assert!(id
            .chars()
            .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
        assert_ne!(id, new_request_id());
    }

    #[test]
    fn embedded_credentials_are_random_and_shaped_like_real_ones() {
        let a = SimConfig::embedded();
        let b = SimConfig::embedded();
        assert!(a.access_key_id.starts_with("LTAI") && a.access_key_id.len() == 24);
        assert_eq!(a.access_key_secret.expose().len(), 30);
        assert_ne!(a.access_key_id, b.access_key_id);
        assert!(a.listen.ip().is_loopback() && a.listen.port() == 0);
        assert!(!format!("{a:?}").contains(a.access_key_secret.expose()));
    }

    #[test]
    fn a_panicking_stage_becomes_an_internal_error_response() {
        let outcome = guarded(|| panic!("model bug"));
        let e = outcome.result.as_ref().unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (500, "InternalError"));
        assert!(e.message.contains("model bug"), "{}", e.message);
        let response = render(outcome, "RID");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()["x-acs-request-id"], "RID");
    }

    #[test]
    fn error_bodies_carry_every_field_and_a_sane_status() {
        let (status, body) =
            error_body(&SimError::new(7, "X.Y", "m"), Some(Product::Vpc), "", "RID");
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["HostId"], "vpc.aliyuncs.com");
        assert_eq!(
            body["Recommend"],
            "https://api.aliyun.com/troubleshoot?q=X.Y&product=Vpc&requestId=RID"
        );
        for k in ["RequestId", "HostId", "Code", "Message", "Recommend"] {
            assert!(body.get(k).is_some(), "{k}");
        }
    }
}
