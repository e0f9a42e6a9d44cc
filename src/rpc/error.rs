//! The errors of an API call, each with what the user should do about it.
//!
//! [`ApiError`] is the service's own error body (`Code`, `Message`, `RequestId`, `Recommend`,
//! `HostId`) plus the HTTP status, with [`ApiError::advice`] from one table covering the seed's
//! error table and the common codes of lifecycles-and-errors.md §4. [`CallError`] adds the
//! failures that never reach the service (transport, timeout, a body that is not an API
//! response, configuration). [`ConfigError`] covers credentials, region and endpoint.
//!
//! No message here may contain a secret: error types hold only what the server or the user
//! said, and the client scrubs the secret and token from server text before it gets here.

use serde_json::Value;
use std::fmt;

/// An error answer from the ECS or VPC API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    pub http_status: u16,
    /// The diagnosis URL the service suggests.
    pub recommend: Option<String>,
    /// The endpoint host that answered.
    pub host_id: Option<String>,
}

impl ApiError {
    /// Parses an error body; `None` when it is not a JSON object with a `Code` (or `code`).
    pub fn from_body(http_status: u16, body: &str) -> Option<ApiError> {
        let v: Value = serde_json::from_str(body).ok()?;
        let obj = v.as_object()?;
        let field = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| obj.get(*n).and_then(Value::as_str))
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        Some(ApiError {
            code: field(&["Code", "code"])?,
            message: field(&["Message", "message"]).unwrap_or_default(),
            request_id: field(&["RequestId", "requestId"]),
            http_status,
            recommend: field(&["Recommend", "recommend"]),
            host_id: field(&["HostId", "hostId"]),
        })
    }

    /// What the user should do about this code, when ecsh knows.
    pub fn advice(&self) -> Option<&'static str> {
        advice_for(&self.code)
    }

    /// True when the code says a dry run passed (`DryRunOperation`, `DRYRUN.SUCCESS`): the
    /// real request would have succeeded.
    pub fn is_dry_run_pass(&self) -> bool {
        matches!(self.code.as_str(), "DryRunOperation" | "DRYRUN.SUCCESS")
    }

    /// True for the `Throttling` family (`Throttling`, `Throttling.User`, `Throttling.Api`, …).
    pub fn is_throttling(&self) -> bool {
        self.code == "Throttling" || self.code.starts_with("Throttling.")
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.message.trim();
        if message.is_empty() {
            write!(f, "{} (HTTP {})", self.code, self.http_status)?;
        } else {
            write!(f, "{}: {}", self.code, one_line(message))?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        match (self.advice(), &self.recommend) {
            (Some(advice), _) => write!(f, " — {advice}")?,
            (None, Some(url)) => write!(f, " — the service's diagnosis: {url}")?,
            (None, None) => {}
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How a code is matched in the advice table.
enum Pattern {
    Exact(&'static str),
    Prefix(&'static str),
    Suffix(&'static str),
}

impl Pattern {
    fn matches(&self, code: &str) -> bool {
        match self {
            Pattern::Exact(c) => code == *c,
            Pattern::Prefix(p) => code.starts_with(p),
            Pattern::Suffix(s) => code.ends_with(s),
        }
    }
}

use Pattern::{Exact, Prefix, Suffix};

/// First match wins, so specific codes come before the families that contain them.
static ADVICE: &[(Pattern, &str)] = &[
    // The seed's error table.
    (Exact("OperationDenied.NoStock"), "this instance type or disk is sold out in this zone: try another zone or instance type (DescribeAvailableResource or DescribeRecommendInstanceType list what is in stock)"),
    (Prefix("InvalidInstanceType."), "this instance type is not offered here (or not to this account): check DescribeAvailableResource with DestinationResource=InstanceType for the zone and pick a listed type or zone"),
    (Prefix("QuotaExceed"), "a quota is used up: release resources you no longer need, or request a quota increase in the Alibaba Cloud Quota Center"),
    (Prefix("InvalidSystemDiskCategory."), "this system disk category is not available for this instance type or zone: use cloud_essd or cloud_ssd (DescribeAvailableResource with DestinationResource=SystemDisk lists what works)"),
    (Prefix("InvalidDataDiskCategory."), "this data disk category is not available for this instance type or zone: use cloud_essd or cloud_ssd (DescribeAvailableResource with DestinationResource=DataDisk lists what works)"),
    (Prefix("InvalidSystemDiskSize"), "the system disk size is out of range or smaller than the image: raise SystemDisk.Size to at least the image size (usually 20-40 GiB)"),
    (Prefix("InvalidResourceType."), "this resource is not offered in this zone: check DescribeAvailableResource and pick another zone"),
    (Exact("Zone.NotOnSale"), "this zone takes no new instances or disks: pick another zone (DescribeZones shows what each zone can create)"),
    (Exact("ChargeTypeViolation"), "a subscription (PrePaid) instance is released only once it has expired (DeleteInstances with TerminateSubscription=true); until then it keeps running and billing"),
    // Signature and authentication.
    (Exact("SignatureDoesNotMatch"), "the signature was rejected: check the AccessKeySecret (ALIBABA_CLOUD_ACCESS_KEY_SECRET or the profile's access_key_secret; `ecsh whoami` shows which source is used), and that no proxy rewrites requests"),
    (Exact("InvalidAccessKeySecret"), "the AccessKeySecret does not belong to the AccessKeyId: check ALIBABA_CLOUD_ACCESS_KEY_SECRET or the profile's access_key_secret; `ecsh whoami` shows which source is used"),
    (Exact("InvalidAccessKeyId.NotFound"), "this AccessKeyId is unknown (an expired STS token looks the same): check the key, or get fresh STS credentials; `ecsh whoami` shows which credentials are in use and where they came from"),
    (Exact("InvalidAccessKeyId.Inactive"), "this AccessKey is disabled: enable it in the RAM console or use another key"),
    (Exact("Forbidden.AccessKeyDisabled"), "this AccessKey is disabled: enable it in the RAM console or use another key"),
    (Prefix("InvalidSecurityToken"), "the STS security token is expired, malformed or belongs to another AccessKeyId: get fresh STS credentials (id, secret and token together)"),
    (Exact("InvalidTimeStamp.Expired"), "this machine's clock is more than 15 minutes off: synchronise it (enable NTP) and try again"),
    (Exact("SignatureNonceUsed"), "a request nonce was reused; ecsh already retried once with a fresh one, so if this persists something (a proxy?) is replaying requests"),
    (Exact("IncompleteSignature"), "the request's signature parameters were incomplete, which is an ecsh bug: please report it with the request id"),
    (Prefix("UnsupportedSignature"), "the endpoint does not accept signature v1 (HMAC-SHA1): check that `--endpoint` points at an ECS or VPC RPC endpoint"),
    (Prefix("InvalidTimeStamp"), "the request timestamp was rejected, which is an ecsh bug unless the clock is wrong: check the clock, then report it with the request id"),
    (Exact("UnsupportedHTTPMethod"), "the endpoint does not accept this HTTP method: switch between GET and POST, or check `--endpoint`"),
    // Permission and account.
    (Prefix("Forbidden.RAM"), "the RAM user or role lacks permission for this action or resource: ask the account administrator to grant it (for example AliyunECSFullAccess / AliyunVPCFullAccess), or use other credentials"),
    (Exact("Forbidden.SubUser"), "this RAM user is not allowed to do this: ask the account administrator for the permission, or use other credentials"),
    (Exact("Forbidden.NoPermission"), "these credentials lack permission for this action: ask the account administrator to grant it, or use other credentials"),
    (Exact("Account.Arrearage"), "the account has an overdue payment: top it up in the Billing console, then try again"),
    (Exact("InvalidAccountStatus.NotEnoughBalance"), "the account balance is too low for this purchase: top it up in the Billing console, or use pay-as-you-go"),
    // Throttling and availability.
    (Exact("Throttling"), "the API is rate-limiting these requests; ecsh retried with backoff: make fewer calls in parallel and try again in a minute"),
    (Prefix("Throttling."), "the API is rate-limiting these requests; ecsh retried with backoff: make fewer calls in parallel and try again in a minute"),
    (Exact("ServiceUnavailable"), "the service is temporarily unavailable: try again shortly; if it persists, give the request id to Alibaba Cloud support"),
    (Exact("InternalError"), "the service failed internally: try again shortly; if it persists, give the request id to Alibaba Cloud support"),
    (Exact("UnknownError"), "the service failed with an unknown error: try again shortly; if it persists, give the request id to Alibaba Cloud support"),
    // State, dependencies and idempotency.
    (Exact("IncorrectInstanceStatus.Initializing"), "the instance is still being created: wait until it is Running (or Stopped), then try again"),
    (Prefix("IncorrectInstanceStatus"), "the instance's current status does not allow this operation: check its Status with DescribeInstances and wait for the status the operation needs (Start needs Stopped, Stop and Reboot need Running, Delete without Force needs Stopped)"),
    (Prefix("DependencyViolation"), "something still depends on this resource: release what is inside it first (instances, then security groups, then vswitches, then the VPC) and try again"),
    (Exact("IdempotentParameterMismatch"), "this ClientToken was already used with different parameters: use a new ClientToken (leave it out and ecsh makes one)"),
    (Exact("IdempotentProcessing"), "an earlier request with this ClientToken is still in progress: wait a few seconds and retry with the same ClientToken"),
    (Prefix("IncorrectVpcStatus"), "another operation on this VPC is still in progress: wait until it is Available and try again"),
    (Prefix("IncorrectVSwitchStatus"), "another operation on this vswitch is still in progress: wait until it is Available and try again"),
    (Exact("OperationDenied.OtherSubnetProcessing"), "another vswitch or route operation in this VPC is in progress: wait a few seconds and try again"),
    (Exact("OperationConflict"), "a conflicting operation is in progress: wait a few seconds and try again"),
    (Exact("TaskConflict"), "a conflicting task is in progress: wait a few seconds and try again"),
    (Exact("LastTokenProcessing"), "the previous operation is still in progress: wait a few seconds and try again"),
    (Exact("InvalidVSwitchId.IpNotEnough"), "the vswitch has no free IP addresses: use another vswitch, or create one with a larger CIDR block"),
    (Exact("InvalidImageId.NotSupported"), "this image does not fit the instance type (architecture, boot mode or OS): choose an image family that matches the instance type"),
    (Exact("InvalidSecurityGroup.NotInSameVpc"), "the security group and the vswitch are in different VPCs: use a security group of the vswitch's VPC"),
    // Dry runs that passed.
    (Exact("DryRunOperation"), "the dry run passed: the request would succeed; send it without DryRun to perform it"),
    (Exact("DRYRUN.SUCCESS"), "the dry run passed: the request would succeed; send it without DryRun to perform it"),
    // Protocol and parameter families.
    (Prefix("InvalidRegionId"), "this region id is not valid: DescribeRegions lists the valid ones (e.g. cn-hangzhou, ap-southeast-1); set it with --region or ALIBABA_CLOUD_REGION_ID"),
    (Prefix("InvalidAction"), "the endpoint does not know this action: check the action's spelling, and that the product (ecs or vpc) and endpoint match"),
    (Exact("InvalidVersion"), "the endpoint does not know this API version: check that the product (ecs or vpc) and endpoint match"),
    (Suffix(".NotFound"), "the resource does not exist (or was just released), or is in another region: check the id and the region"),
    (Exact("Forbidden.InstanceNotFound"), "the instance does not exist (or was just released), or is in another region: check the id and the region"),
    (Prefix("Forbidden"), "these credentials are not allowed to do this: ask the account administrator for the permission, or use other credentials"),
    (Prefix("Missing"), "a required parameter is missing: add the parameter the message names"),
    (Prefix("InvalidParameter"), "a parameter value is not valid: fix the parameter the message names (see the action's API reference for the allowed values)"),
    (Suffix(".Malformed"), "a parameter value is malformed: fix the parameter the code names"),
    (Suffix(".ValueNotSupported"), "a parameter value is not supported here: choose one of the values the API reference lists for it"),
];

/// What to do about an API error code, or `None` when the table has no entry for it.
pub fn advice_for(code: &str) -> Option<&'static str> {
    ADVICE
        .iter()
        .find(|(pattern, _)| pattern.matches(code))
        .map(|(_, advice)| *advice)
}

/// Every entry of the advice table as (code pattern, advice), for the offline doc index:
/// `Code`, `Prefix*` or `*Suffix`.
pub fn advice_entries() -> impl Iterator<Item = (String, &'static str)> {
    ADVICE.iter().map(|(pattern, advice)| {
        let code = match pattern {
            Exact(c) => c.to_string(),
            Prefix(c) => format!("{}*", c.trim_end_matches('.')),
            Suffix(c) => format!("*{c}"),
        };
        (code, *advice)
    })
}

/// Anything that can go wrong with an API call.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The service answered with an error (boxed: it is the largest variant).
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The request did not get an answer: DNS, connection, TLS, reset.
    #[error("could not reach the API endpoint: {message}; check the network connection, proxy settings and the endpoint (--endpoint or ALIBABA_CLOUD_ENDPOINT)")]
    Transport { message: String },
    /// No answer within the client's timeout.
    #[error("the API did not answer within the timeout: check the network connection and the endpoint, or try again later")]
    Timeout,
    /// An answer that is not an API response (not JSON, or JSON without an error code).
    #[error("the endpoint answered HTTP {status} with something that is not an Alibaba Cloud API response ({body_snippet}): check that the endpoint (--endpoint or ALIBABA_CLOUD_ENDPOINT) is an ECS or VPC API endpoint")]
    InvalidResponse { status: u16, body_snippet: String },
    /// Credentials, region or endpoint are not usable.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The call's parameters cannot be sent.
    #[error("{0}")]
    Params(#[from] super::params::ParamError),
    /// The configured credential source could not give credentials (a role could not be
    /// assumed, the metadata service did not answer, a process failed). Never falls through to
    /// another source.
    #[error("{0}")]
    Credentials(#[from] CredentialError),
}

/// A credential source that is configured but could not deliver: which source, what went
/// wrong, what to do. Never holds a secret, a token or a process's output.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("credentials from {origin}: {reason}; {fix}")]
pub struct CredentialError {
    /// The source, as `ecsh whoami` names it (`profile 'ci' (mode OIDC) in …`).
    pub origin: String,
    pub reason: String,
    pub fix: String,
}

impl CallError {
    /// The API error, when the service answered with one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            CallError::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The API error code, when the service answered with one.
    pub fn code(&self) -> Option<&str> {
        self.api().map(|e| e.code.as_str())
    }
}

impl From<ApiError> for CallError {
    fn from(e: ApiError) -> CallError {
        CallError::Api(Box::new(e))
    }
}

/// Why credentials, region or endpoint could not be worked out. Never holds a secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("profile '{name}' (from {source_name}) is not in {path}; profiles there: {}; choose one with --profile or ALIBABA_CLOUD_PROFILE, or create it with `aliyun configure --profile {name}`", list_or_none(.available))]
    ProfileNotFound {
        name: String,
        source_name: String,
        path: String,
        available: Vec<String>,
    },
    #[error("profile '{profile}' in {path} uses mode {mode}, which neither ecsh nor the official credentials libraries support; use one of the modes {MODES}")]
    UnsupportedMode {
        profile: String,
        path: String,
        mode: String,
    },
    #[error("profile '{profile}' in {path} has mode '{mode}', which is not a mode{}; the modes are {MODES}", .suggestion.as_ref().map(|s| format!(" (did you mean {s}?)")).unwrap_or_default())]
    UnknownMode {
        profile: String,
        path: String,
        mode: String,
        suggestion: Option<String>,
    },
    #[error("profile '{profile}' in {path} uses mode {mode}, a browser sign-in that ecsh cannot perform; use instead a RamRoleArn or OIDC profile, or an External profile whose process_command prints the keys, or AK keys of a RAM user")]
    BrowserMode {
        profile: String,
        path: String,
        mode: String,
    },
    #[error("profile '{profile}' in {path}: source_profile makes a cycle ({chain}); point source_profile at a profile that does not lead back to '{profile}'")]
    ProfileCycle {
        profile: String,
        path: String,
        chain: String,
    },
    #[error("{setting} (in {origin}) is '{value}', not {expected}; fix or unset it")]
    InvalidSetting {
        setting: String,
        origin: String,
        value: String,
        expected: String,
    },
    #[error("{origin}: {problem}; {fix}")]
    Source {
        origin: String,
        problem: String,
        fix: String,
    },
    #[error("profile '{profile}' in {path} has no {missing}; fill it in with `aliyun configure --profile {profile}`")]
    IncompleteProfile {
        profile: String,
        path: String,
        missing: &'static str,
    },
    #[error("cannot use {path}: {reason}; fix the file or move it aside")]
    ConfigFile { path: String, reason: String },
    #[error("{set} is set without {missing}: set {missing_var} as well, or unset {set}")]
    HalfSetEnv {
        set: String,
        missing: &'static str,
        missing_var: &'static str,
    },
    #[error("no Alibaba Cloud credentials found (`ecsh whoami` shows where ecsh looked): set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or run `aliyun configure`, or use --cloud sim")]
    NoCredentials,
    #[error("region '{region}' is not a region id (lower-case letters, digits and dashes, e.g. cn-hangzhou); set it with --region or ALIBABA_CLOUD_REGION_ID")]
    InvalidRegion { region: String },
    #[error("endpoint '{value}' (from {source_name}) is not usable: {reason}; give a URL such as https://ecs.cn-hangzhou.aliyuncs.com or http://127.0.0.1:8080")]
    InvalidEndpoint {
        value: String,
        source_name: String,
        reason: String,
    },
    #[error("cannot set up the HTTP client: {reason}; check the system's TLS and proxy settings (HTTPS_PROXY, NO_PROXY)")]
    HttpClient { reason: String },
}

/// Every `mode` of `~/.aliyun/config.json` that ecsh reads.
pub const MODES: &str =
    "AK, StsToken, RamRoleArn, ChainableRamRoleArn, EcsRamRole, OIDC, External, CredentialsURI";

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_upper_and_lower_case_bodies() {
        let e = ApiError::from_body(403, r#"{"RequestId":"r-1","HostId":"ecs.aliyuncs.com","Code":"OperationDenied.NoStock","Message":"sold out","Recommend":"https://x"}"#).unwrap();
        assert_eq!(e.code, "OperationDenied.NoStock");
        assert_eq!(e.request_id.as_deref(), Some("r-1"));
        assert_eq!(e.host_id.as_deref(), Some("ecs.aliyuncs.com"));
        assert_eq!(e.recommend.as_deref(), Some("https://x"));
        let e = ApiError::from_body(400, r#"{"code":"Throttling.User","message":"slow"}"#).unwrap();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("Throttling.User", "slow")
        );
        assert!(e.is_throttling());
        assert!(!e.is_dry_run_pass());
        assert!(ApiError::from_body(400, r#"{"Code":"DryRunOperation"}"#)
            .unwrap()
            .is_dry_run_pass());
        assert!(ApiError::from_body(500, "<html>").is_none());
        assert!(ApiError::from_body(500, r#"{"Message":"no code"}"#).is_none());
    }

    #[test]
    fn specific_codes_win_over_families() {
        assert!(advice_for("IncorrectInstanceStatus.Initializing")
            .unwrap()
            .contains("still being created"));
        assert!(advice_for("InvalidSystemDiskCategory.ValueNotSupported")
            .unwrap()
            .contains("cloud_essd"));
        assert!(advice_for("InvalidRegionId.NotFound")
            .unwrap()
            .contains("DescribeRegions"));
        assert!(advice_for("InvalidVpcId.NotFound")
            .unwrap()
            .contains("does not exist"));
        assert_eq!(advice_for("SomethingNew"), None);
    }

    #[test]
    fn display_is_one_line_with_request_id_and_advice() {
        let e = ApiError::from_body(
            403,
            r#"{"RequestId":"r-9","Code":"DependencyViolation","Message":"There are\n instances"}"#,
        )
        .unwrap();
        let text = e.to_string();
        assert!(text.starts_with("DependencyViolation: There are instances (request id r-9) — "));
        assert!(!text.contains('\n'));
        let unknown = ApiError::from_body(
            400,
            r#"{"Code":"Brand.New","Message":"m","Recommend":"https://diag"}"#,
        )
        .unwrap();
        assert_eq!(
            unknown.to_string(),
            "Brand.New: m — the service's diagnosis: https://diag"
        );
    }
}
