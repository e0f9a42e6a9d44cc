//! The simulator's Security Token Service: `AssumeRole`, `AssumeRoleWithOIDC` and
//! `GetCallerIdentity`, and the temporary credentials they issue, which expire in simulated
//! time and are then refused with the real error code (`InvalidSecurityToken.Expired`).
//!
//! It owns the one simulated account (its id, the roles and OIDC providers in it: any name
//! under the account's ARNs) and the table of issued keys; `auth` asks it about an
//! AccessKeyId it does not know, and the metadata service (`metadata`) asks it for an
//! instance role's keys. It must not parse HTTP or touch the resource model. Issued secrets
//! and tokens are [`Secret`]s; no error message quotes one, nor the OIDC token.

use super::auth::Credential;
use super::clock::{Clock, TimeMode};
use super::{SimError, SimRequest};
use crate::ops::A;
use crate::secret::Secret;
use base64::Engine;
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde_json::{json, Value};
use std::sync::Mutex;

/// The simulated account's id (16 digits, like a real one).
pub const ACCOUNT_ID: &str = "1688000000000001";
/// Shortest and longest `DurationSeconds` the service accepts; the default.
pub const MIN_DURATION: u64 = 900;
pub const MAX_DURATION: u64 = 43_200;
pub const DEFAULT_DURATION: u64 = 3600;
/// How long an instance role's keys from the metadata service live (the real service rotates
/// them hours before they expire).
pub const METADATA_DURATION: u64 = 21_600;

/// Who a key belongs to, as `GetCallerIdentity` tells it.
#[derive(Clone, Debug)]
pub struct Identity {
    pub kind: &'static str,
    pub arn: String,
    pub principal_id: String,
    pub role_id: Option<String>,
}

impl Identity {
    /// The account's own (root) AccessKey.
    pub fn account() -> Identity {
        Identity {
            kind: "Account",
            arn: format!("acs:ram::{ACCOUNT_ID}:root"),
            principal_id: ACCOUNT_ID.to_string(),
            role_id: None,
        }
    }
}

/// One issued temporary key.
struct Issued {
    credential: Credential,
    /// Virtual seconds (the STS clock) at which it stops working.
    expires_at: f64,
    identity: Identity,
}

/// Temporary keys as handed out: the JSON `Credentials` object and when it expires.
pub struct Grant {
    pub access_key_id: String,
    pub access_key_secret: Secret,
    pub security_token: Secret,
    /// `yyyy-MM-ddTHH:mm:ssZ`, wall clock: simulated lifetime mapped by the time scale.
    pub expiration: String,
    pub identity: Identity,
}

/// The service: its clock and what it issued.
pub struct Sts {
    clock: Clock,
    /// Virtual seconds added by [`Sts::advance`] (in-process tests jump ahead without sleeping).
    skew: Mutex<f64>,
    issued: Mutex<Vec<Issued>>,
}

impl Sts {
    /// A service whose keys age with `time` (the world's time mode: at scale 0.001 an hour's
    /// key lasts 3.6 wall seconds; in steps mode and at scale 0 time stands still).
    pub fn new(time: TimeMode) -> Sts {
        Sts {
            clock: Clock::new(time),
            skew: Mutex::new(0.0),
            issued: Mutex::new(Vec::new()),
        }
    }

    fn now(&self) -> f64 {
        self.clock.now() + *lock(&self.skew)
    }

    /// Moves the service's clock `secs` virtual seconds ahead.
    pub fn advance(&self, secs: f64) {
        *lock(&self.skew) += secs;
    }

    /// How many temporary keys were issued so far.
    pub fn issued_count(&self) -> usize {
        lock(&self.issued).len()
    }

    /// The issued key with this id: `None` when it was never issued, an error when it expired.
    pub fn lookup(&self, access_key_id: &str) -> Option<Result<Credential, SimError>> {
        let now = self.now();
        let issued = lock(&self.issued);
        let found = issued
            .iter()
            .find(|i| i.credential.access_key_id == access_key_id)?;
        if now >= found.expires_at {
            return Some(Err(SimError::new(
                400,
                "InvalidSecurityToken.Expired",
                "Specified SecurityToken is expired.",
            )));
        }
        Some(Ok(found.credential.clone()))
    }

    /// Who `access_key_id` is: an issued key's role session, else the account.
    fn identity_of(&self, access_key_id: &str) -> Identity {
        lock(&self.issued)
            .iter()
            .find(|i| i.credential.access_key_id == access_key_id)
            .map(|i| i.identity.clone())
            .unwrap_or_else(Identity::account)
    }

    /// Issues keys of role `role` for session `session`, valid `duration` virtual seconds.
    pub fn issue(&self, role: &str, session: &str, duration: u64) -> Grant {
        let access_key_id = format!("STS.NT{}", random(26));
        let secret = Secret::new(random(44));
        let token = Secret::new(format!("CAIS{}", random(300)));
        let role_id = format!("3{}", digits(role));
        let identity = Identity {
            kind: "AssumedRoleUser",
            arn: format!("acs:ram::{ACCOUNT_ID}:assumed-role/{role}/{session}"),
            principal_id: format!("{role_id}:{session}"),
            role_id: Some(role_id),
        };
        lock(&self.issued).push(Issued {
            credential: Credential {
                access_key_id: access_key_id.clone(),
                access_key_secret: secret.clone(),
                security_token: Some(token.clone()),
            },
            expires_at: self.now() + duration as f64,
            identity: identity.clone(),
        });
        Grant {
            access_key_id,
            access_key_secret: secret,
            security_token: token,
            expiration: crate::rpc::format_timestamp(self.wall_expiry(duration)),
            identity,
        }
    }

    /// The wall-clock moment `duration` virtual seconds from now.
    fn wall_expiry(&self, duration: u64) -> time::OffsetDateTime {
        let wall = match self.clock.mode {
            TimeMode::Scaled(f) if f > 0.0 => duration as f64 * f,
            _ => duration as f64,
        };
        time::OffsetDateTime::now_utc() + time::Duration::seconds_f64(wall)
    }

    /// Serves an STS action. `AssumeRoleWithOIDC` arrives unsigned (the token is the proof);
    /// the others were authenticated by `auth` as `req.access_key_id`.
    pub fn handle(&self, req: &SimRequest) -> Result<Value, SimError> {
        let is = |a: &crate::ops::Action| req.action == a.name;
        match req.action.as_str() {
            _ if is(&A::ASSUME_ROLE) => self.assume_role(req),
            _ if is(&A::ASSUME_ROLE_WITH_OIDC) => self.assume_role_with_oidc(req),
            _ if is(&A::GET_CALLER_IDENTITY) => Ok(self.caller_identity(req)),
            other => Err(SimError::new(
                404,
                "InvalidAction.NotFound",
                format!("Specified api is not found: `{other}`"),
            )),
        }
    }

    fn assume_role(&self, req: &SimRequest) -> Result<Value, SimError> {
        let role = role_name(required(req, "RoleArn")?)?;
        let session = session_name(required(req, "RoleSessionName")?)?;
        let duration = duration(req)?;
        policy(req)?;
        if let Some(id) = req.get("ExternalId") {
            if id.len() < 2 || id.len() > 1224 {
                return Err(SimError::invalid(
                    "ExternalId",
                    "it must be 2 to 1224 characters",
                ));
            }
        }
        let grant = self.issue(&role, &session, duration);
        Ok(grant_body(&grant, None))
    }

    fn assume_role_with_oidc(&self, req: &SimRequest) -> Result<Value, SimError> {
        let role = role_name(required(req, "RoleArn")?)?;
        provider_name(required(req, "OIDCProviderArn")?)?;
        let claims = jwt_claims(required(req, "OIDCToken")?)?;
        let session = session_name(required(req, "RoleSessionName")?)?;
        let duration = duration(req)?;
        policy(req)?;
        let grant = self.issue(&role, &session, duration);
        let info = json!({
            "Subject": claims["sub"],
            "Issuer": claims["iss"],
            "ClientIds": match &claims["aud"] {
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","),
                other => other.as_str().unwrap_or_default().to_string(),
            },
        });
        Ok(grant_body(&grant, Some(info)))
    }

    fn caller_identity(&self, req: &SimRequest) -> Value {
        let who = self.identity_of(&req.access_key_id);
        json!({
            "AccountId": ACCOUNT_ID,
            "UserId": who.principal_id,
            "PrincipalId": who.principal_id,
            "Arn": who.arn,
            "IdentityType": who.kind,
            "RoleId": who.role_id.unwrap_or_default(),
        })
    }
}

fn grant_body(g: &Grant, oidc: Option<Value>) -> Value {
    let mut body = json!({
        "Credentials": {
            "AccessKeyId": g.access_key_id,
            "AccessKeySecret": g.access_key_secret.expose(),
            "SecurityToken": g.security_token.expose(),
            "Expiration": g.expiration,
        },
        "AssumedRoleUser": {
            "Arn": g.identity.arn,
            "AssumedRoleId": g.identity.principal_id,
        },
    });
    if let Some(info) = oidc {
        body["OIDCTokenInfo"] = info;
    }
    body
}

/// A poisoned lock still holds the best state there is (a panic became a 500 already).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn random(n: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// A stable 18-digit id derived from a name (FNV-1a), so a role keeps its id across calls.
fn digits(name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:018}", h % 1_000_000_000_000_000_000)
}

fn required<'a>(req: &'a SimRequest, name: &str) -> Result<&'a str, SimError> {
    req.get(name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| SimError::missing(name))
}

/// `acs:ram::<account>:role/<name>` → the name; another account's role does not exist here.
fn role_name(arn: &str) -> Result<String, SimError> {
    arn_name(arn, "role", "RoleArn", "EntityNotExist.Role", "role")
}

fn provider_name(arn: &str) -> Result<String, SimError> {
    arn_name(
        arn,
        "oidc-provider",
        "OIDCProviderArn",
        "EntityNotExist.OIDCProvider",
        "OIDC provider",
    )
}

fn arn_name(
    arn: &str,
    kind: &str,
    param: &str,
    missing_code: &str,
    what: &str,
) -> Result<String, SimError> {
    let shape = format!("acs:ram::<account id>:{kind}/<name>");
    let rest = arn.strip_prefix("acs:ram::").ok_or_else(|| {
        SimError::new(
            400,
            format!("InvalidParameter.{param}"),
            format!("The parameter {param} is not valid: it must look like {shape}"),
        )
    })?;
    let (account, tail) = rest.split_once(':').unwrap_or((rest, ""));
    let name = tail.strip_prefix(&format!("{kind}/")).unwrap_or_default();
    if name.is_empty() {
        return Err(SimError::new(
            400,
            format!("InvalidParameter.{param}"),
            format!("The parameter {param} is not valid: it must look like {shape}"),
        ));
    }
    if account != ACCOUNT_ID {
        return Err(SimError::new(
            404,
            missing_code,
            format!(
                "The {what} {name} does not exist in account {account}; the simulator's account \
                 is {ACCOUNT_ID}"
            ),
        ));
    }
    Ok(name.to_string())
}

fn session_name(name: &str) -> Result<String, SimError> {
    let ok = (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
    if ok {
        Ok(name.to_string())
    } else {
        Err(SimError::invalid(
            "RoleSessionName",
            "it must be 2 to 64 characters of letters, digits and . _ @ -",
        ))
    }
}

fn duration(req: &SimRequest) -> Result<u64, SimError> {
    let Some(text) = req.get("DurationSeconds").filter(|v| !v.is_empty()) else {
        return Ok(DEFAULT_DURATION);
    };
    match text.parse::<u64>() {
        Ok(d) if (MIN_DURATION..=MAX_DURATION).contains(&d) => Ok(d),
        _ => Err(SimError::new(
            400,
            "InvalidParameter.DurationSeconds",
            format!(
                "The parameter DurationSeconds is not valid: `{text}`; it must be from \
                 {MIN_DURATION} to {MAX_DURATION} seconds"
            ),
        )),
    }
}

fn policy(req: &SimRequest) -> Result<(), SimError> {
    match req.get("Policy").filter(|p| !p.is_empty()) {
        Some(p) if serde_json::from_str::<Value>(p).map_or(true, |v| !v.is_object()) => {
            Err(SimError::new(
                400,
                "InvalidParameter.PolicyGrammar",
                "The parameter Policy is not a valid policy document (a JSON object)",
            ))
        }
        _ => Ok(()),
    }
}

/// Checks that `token` is shaped like a JWT (three base64url parts; a JSON header with `alg`;
/// JSON claims with string `iss` and `sub`, an `aud`, and an `exp` in the future) and returns
/// the claims. The signature is not verified: the simulator has no provider keys.
fn jwt_claims(token: &str) -> Result<Value, SimError> {
    let bad = |why: &str| {
        SimError::new(
            400,
            "InvalidParameter.OIDCToken",
            format!("The OIDCToken is not a valid JWT: {why}"),
        )
    };
    let parts: Vec<&str> = token.trim().split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(bad(
            "it must be three base64url parts separated by dots (header.claims.signature)",
        ));
    }
    let decode = |part: &str, what: &str| -> Result<Value, SimError> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .map_err(|_| bad(&format!("its {what} is not base64url")))?;
        serde_json::from_slice::<Value>(&bytes)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| bad(&format!("its {what} is not a JSON object")))
    };
    let header = decode(parts[0], "header")?;
    if !header["alg"].is_string() {
        return Err(bad("its header has no \"alg\""));
    }
    let claims = decode(parts[1], "claims")?;
    for claim in ["iss", "sub"] {
        if !claims[claim].is_string() {
            return Err(bad(&format!("it has no \"{claim}\" claim")));
        }
    }
    if !(claims["aud"].is_string() || claims["aud"].is_array()) {
        return Err(bad("it has no \"aud\" claim"));
    }
    let exp = claims["exp"]
        .as_i64()
        .ok_or_else(|| bad("it has no numeric \"exp\" claim"))?;
    if exp <= time::OffsetDateTime::now_utc().unix_timestamp() {
        return Err(SimError::new(
            400,
            "AuthenticationFail.OIDCToken.Expired",
            "The OIDCToken has expired (its \"exp\" claim is in the past); get a fresh token from \
             the identity provider",
        ));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(v: &Value) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    }

    fn jwt(claims: Value) -> String {
        format!("{}.{}.c2ln", b64(&json!({"alg": "RS256"})), b64(&claims))
    }

    #[test]
    fn issued_keys_expire_in_simulated_time_with_the_real_code() {
        let sts = Sts::new(TimeMode::Steps(1));
        let g = sts.issue("ops", "s1", 900);
        assert!(sts.lookup(&g.access_key_id).unwrap().is_ok());
        sts.advance(899.0);
        assert!(sts.lookup(&g.access_key_id).unwrap().is_ok());
        sts.advance(1.0);
        let e = sts.lookup(&g.access_key_id).unwrap().unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str()),
            (400, "InvalidSecurityToken.Expired")
        );
        assert!(sts.lookup("LTAIother").is_none());
    }

    #[test]
    fn oidc_tokens_must_be_shaped_like_jwts() {
        let future = time::OffsetDateTime::now_utc().unix_timestamp() + 600;
        let good = jwt(json!({"iss": "https://ci", "sub": "repo", "aud": "sts", "exp": future}));
        assert_eq!(jwt_claims(&good).unwrap()["sub"], "repo");
        for bad in [
            "not-a-jwt".to_string(),
            jwt(json!({"sub": "repo", "aud": "sts", "exp": future})),
            jwt(json!({"iss": "x", "sub": "repo", "exp": future})),
        ] {
            assert_eq!(
                jwt_claims(&bad).unwrap_err().code,
                "InvalidParameter.OIDCToken"
            );
        }
        let old = jwt(json!({"iss": "x", "sub": "r", "aud": "a", "exp": 1}));
        assert_eq!(
            jwt_claims(&old).unwrap_err().code,
            "AuthenticationFail.OIDCToken.Expired"
        );
    }

    #[test]
    fn every_registered_sts_action_is_served() {
        let sts = Sts::new(TimeMode::Steps(1));
        for a in crate::ops::ACTIONS
            .iter()
            .filter(|a| a.product == crate::ops::Product::Sts)
        {
            let req = SimRequest {
                product: a.product,
                action: a.name.to_string(),
                params: Default::default(),
                access_key_id: "LTAIx".into(),
                host: String::new(),
            };
            if let Err(e) = sts.handle(&req) {
                assert_ne!(e.code, "InvalidAction.NotFound", "{}", a.name);
            }
        }
    }

    #[test]
    fn role_arns_must_name_a_role_of_the_account() {
        assert_eq!(
            role_name(&format!("acs:ram::{ACCOUNT_ID}:role/ops")).unwrap(),
            "ops"
        );
        assert_eq!(
            role_name("acs:ram::999:role/ops").unwrap_err().code,
            "EntityNotExist.Role"
        );
        assert_eq!(
            role_name("ops").unwrap_err().code,
            "InvalidParameter.RoleArn"
        );
    }
}
