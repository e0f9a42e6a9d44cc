//! The client against the embedded simulator's real protocol and auth layers: its signatures
//! (GET, POST, STS) are accepted, a wrong secret is refused without leaking anything, and
//! injected faults are retried exactly as the retry policy says.

use super::server::fast_retry;
use ecsh::ops::Product;
use ecsh::rpc::{CallError, Client, ClientConfig, Credentials, FixedNonce, Method};
use ecsh::secret::Secret;
use ecsh::sim::auth::Credential;
use ecsh::sim::faults::FaultSpec;
use ecsh::sim::{start, RunningSim, SimConfig};
use std::sync::Arc;

const STS_ID: &str = "STS.NTsimtestkey0001";
const STS_SECRET: &str = "sim-STS-SECRET-do-not-leak";
const STS_TOKEN: &str = "sim-STS-TOKEN-do-not-leak/+=";

/// Codes that mean the simulator did not accept who we are or how we signed.
const AUTH_CODES: &[&str] = &[
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidAccessKeyId.NotFound",
    "InvalidSecurityToken.Malformed",
    "InvalidSecurityToken.MismatchWithAccessKey",
    "InvalidTimeStamp.Expired",
    "InvalidTimeStamp.Format",
    "SignatureNonceUsed",
    "MissingParameter",
];

async fn sim(faults: Vec<FaultSpec>) -> RunningSim {
    let mut cfg = SimConfig::embedded();
    cfg.extra_credentials.push(Credential {
        access_key_id: STS_ID.into(),
        access_key_secret: Secret::new(STS_SECRET),
        security_token: Some(Secret::new(STS_TOKEN)),
    });
    cfg.faults = faults;
    start(cfg).await.expect("start the simulator")
}

fn client(sim: &RunningSim, creds: Credentials, method: Method, max_attempts: u32) -> Client {
    let mut cfg = ClientConfig::new(creds, "cn-hangzhou");
    cfg.endpoint_override = Some(sim.endpoint());
    cfg.method = method;
    cfg.retry = fast_retry(max_attempts);
    Client::new(cfg).unwrap()
}

fn own_creds(sim: &RunningSim) -> Credentials {
    Credentials::new(sim.access_key_id(), sim.access_key_secret().expose())
}

/// Passed authentication: either a result, or an error from past the auth layer.
fn assert_authenticated(result: &Result<serde_json::Value, CallError>, what: &str) {
    if let Err(e) = result {
        let code = e
            .code()
            .unwrap_or_else(|| panic!("{what}: not an API answer: {e}"));
        assert!(!AUTH_CODES.contains(&code), "{what}: rejected: {e}");
    }
}

#[tokio::test]
async fn simulator_accepts_our_signatures() {
    let sim = sim(vec![]).await;
    let sts = Credentials::new(STS_ID, STS_SECRET).with_security_token(STS_TOKEN);
    for method in [Method::Get, Method::Post] {
        for creds in [own_creds(&sim), sts.clone()] {
            let c = client(&sim, creds, method, 1);
            let params = vec![
                ("InstanceIds".to_string(), r#"["i-a","i-b"]"#.to_string()),
                ("InstanceName".to_string(), "测试 a*b~c/d+e=f".to_string()),
                ("Tag.1.Key".to_string(), "".to_string()),
            ];
            let result = c.call(Product::Ecs, "DescribeInstances", params).await;
            assert_authenticated(&result, &format!("{method} ecs"));
            let result = c.call(Product::Vpc, "DescribeVpcs", vec![]).await;
            assert_authenticated(&result, &format!("{method} vpc"));
        }
    }
}

#[tokio::test]
async fn a_wrong_secret_is_refused_with_advice_and_without_leaks() {
    let sim = sim(vec![]).await;
    let wrong = Credentials::new(STS_ID, "WRONG-SECRET-do-not-leak").with_security_token(STS_TOKEN);
    let c = client(&sim, wrong, Method::Get, 1);
    let e = c
        .call(Product::Ecs, "DescribeRegions", vec![])
        .await
        .unwrap_err();
    // The simulator quotes its string to sign; it matches ours, so the secret is wrong.
    assert_eq!(e.code(), Some("InvalidAccessKeySecret"), "{e}");
    let text = format!("{e} {e:?}");
    assert!(text.contains("AccessKeySecret"), "advice missing: {text}");
    assert!(!text.contains("do-not-leak"), "leaked: {text}");
}

#[tokio::test]
async fn a_replayed_nonce_is_resent_once_then_reported() {
    let sim = sim(vec![]).await;
    let mut cfg = ClientConfig::new(own_creds(&sim), "cn-hangzhou");
    cfg.endpoint_override = Some(sim.endpoint());
    cfg.nonce = Arc::new(FixedNonce("always-the-same".into()));
    let c = Client::new(cfg).unwrap();
    let first = c.call(Product::Ecs, "DescribeRegions", vec![]).await;
    assert_authenticated(&first, "first use of the nonce");
    let e = c
        .call(Product::Ecs, "DescribeRegions", vec![])
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("SignatureNonceUsed"));
    assert_eq!(c.stats().calls, 3, "one call, then one call resent once");
}

#[tokio::test]
async fn injected_throttling_is_retried_for_every_action_and_5xx_only_for_safe_ones() {
    let sim = sim(vec![FaultSpec::Throttle(1.0)]).await;
    let c = client(&sim, own_creds(&sim), Method::Post, 3);
    let e = c
        .call(Product::Ecs, "DescribeInstances", vec![])
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("Throttling.User"));
    assert_eq!((c.stats().calls, c.stats().retries), (3, 2));
    // A throttled request was not executed: a mutation is sent again too.
    let e = c
        .call(
            Product::Ecs,
            "StopInstance",
            vec![("InstanceId".into(), "i-1".into())],
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("Throttling.User"));
    assert_eq!(
        c.stats().calls,
        6,
        "StopInstance is retried after throttling"
    );

    // A server error may come after the service acted: the mutation is not repeated.
    let sim = sim_with_5xx().await;
    let c = client(&sim, own_creds(&sim), Method::Post, 3);
    let e = c
        .call(
            Product::Ecs,
            "StopInstance",
            vec![("InstanceId".into(), "i-1".into())],
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ServiceUnavailable"));
    assert_eq!(c.stats().calls, 1, "StopInstance is sent once after a 5xx");
}

async fn sim_with_5xx() -> ecsh::sim::RunningSim {
    sim(vec![FaultSpec::ServiceUnavailable(1.0)]).await
}
