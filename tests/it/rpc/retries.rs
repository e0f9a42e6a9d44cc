//! Which failures are retried, how often, with what: backoff, `x-acs-retry-after`, fresh
//! nonces, the same ClientToken, and no retries for actions that are unsafe to repeat.

use super::server::{closed_port_url, Reply, TestServer};
use ecsh::ops::Product;
use ecsh::rpc::{CallError, Client, Method};
use std::time::Duration;

fn nonces(server: &TestServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| r.param("SignatureNonce").unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn throttling_twice_then_success_is_retried() {
    let server = TestServer::start(vec![
        Reply::error(400, "Throttling"),
        Reply::error(400, "Throttling"),
    ])
    .await;
    let client = server.client(Method::Post, 4, false);
    client
        .call(Product::Ecs, "DescribeInstances", vec![])
        .await
        .expect("third attempt succeeds");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert!(reqs.iter().all(|r| r.signature_ok));
    assert_eq!(
        nonces(&server),
        ["n-1", "n-2", "n-3"],
        "fresh nonce per attempt"
    );
    let stats = client.stats();
    assert_eq!((stats.calls, stats.retries), (3, 2));
}

#[tokio::test]
async fn http_503_is_retried() {
    let server = TestServer::start(vec![Reply::raw(503, "Service Unavailable")]).await;
    let client = server.client(Method::Get, 4, false);
    client
        .call(Product::Vpc, "DescribeVpcs", vec![])
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn throttling_user_is_a_throttling_code_and_retried() {
    let server = TestServer::start(vec![Reply::error(400, "Throttling.User")]).await;
    let client = server.client(Method::Post, 4, false);
    client
        .call(Product::Ecs, "DescribeRegions", vec![])
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn retry_after_header_sets_the_wait() {
    // The policy's backoff is at most 5 ms; the server asks for 300 ms.
    let server = TestServer::start(vec![
        Reply::error(400, "Throttling").header("x-acs-retry-after", "300")
    ])
    .await;
    let client = server.client(Method::Post, 4, false);
    client
        .call(Product::Ecs, "DescribeZones", vec![])
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    let waited = reqs[1].at.duration_since(reqs[0].at);
    assert!(
        waited >= Duration::from_millis(300),
        "waited only {waited:?}"
    );
}

#[tokio::test]
async fn mutating_action_is_not_retried_on_500() {
    let server = TestServer::start(vec![Reply::error(500, "InternalError")]).await;
    let client = server.client(Method::Post, 4, false);
    let e = client
        .call(
            Product::Ecs,
            "StartInstance",
            vec![("InstanceId".into(), "i-1".into())],
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InternalError"));
    assert_eq!(
        server.requests().len(),
        1,
        "StartInstance must not be repeated"
    );
    assert_eq!(client.stats().retries, 0);
}

#[tokio::test]
async fn unknown_actions_are_never_retried() {
    let server = TestServer::start(vec![Reply::error(503, "ServiceUnavailable")]).await;
    let client = server.client(Method::Post, 4, false);
    let e = client
        .call(Product::Ecs, "DescribeSomethingNew", vec![])
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ServiceUnavailable"));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn run_instances_is_retried_with_the_same_client_token() {
    let server = TestServer::start(vec![
        Reply::error(503, "ServiceUnavailable"),
        Reply::raw(502, "<html>Bad Gateway</html>"),
    ])
    .await;
    let client = server.client(Method::Post, 4, false);
    client
        .call(
            Product::Ecs,
            "RunInstances",
            vec![("InstanceType".into(), "ecs.g7.large".into())],
        )
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    let tokens: Vec<_> = reqs
        .iter()
        .map(|r| r.param("ClientToken").unwrap())
        .collect();
    assert!(tokens.iter().all(|t| *t == tokens[0]), "{tokens:?}");
    assert_eq!(nonces(&server), ["n-1", "n-2", "n-3"]);
}

#[tokio::test]
async fn max_attempts_are_respected() {
    let server = TestServer::start(vec![Reply::error(400, "Throttling"); 10]).await;
    let client = server.client(Method::Post, 3, false);
    let e = client
        .call(Product::Ecs, "DescribeInstances", vec![])
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("Throttling"));
    assert_eq!(server.requests().len(), 3);
    assert_eq!(client.stats().retries, 2);

    let once = server.client(Method::Post, 1, false);
    once.call(Product::Ecs, "DescribeInstances", vec![])
        .await
        .unwrap_err();
    assert_eq!(server.requests().len(), 4, "max_attempts 1 means no retry");
}

#[tokio::test]
async fn a_timeout_is_retried_for_describe() {
    let server = TestServer::start(vec![Reply::ok("{}").delayed(Duration::from_secs(5))]).await;
    let mut config = server.config(Method::Post, 3, false);
    config.timeout = Duration::from_millis(300);
    let client = Client::new(config).unwrap();
    let out = client
        .call(Product::Ecs, "DescribeInstances", vec![])
        .await
        .unwrap();
    assert_eq!(out["RequestId"], "req-ok");
    assert_eq!(server.requests().len(), 2);

    // The same timeout on a mutating action is reported, not retried.
    let server = TestServer::start(vec![Reply::ok("{}").delayed(Duration::from_secs(5))]).await;
    let mut config = server.config(Method::Post, 3, false);
    config.timeout = Duration::from_millis(300);
    let e = Client::new(config)
        .unwrap()
        .call(Product::Ecs, "StopInstance", vec![])
        .await
        .unwrap_err();
    assert!(matches!(e, CallError::Timeout), "{e:?}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn transport_errors_are_retried_up_to_the_limit() {
    let mut config = TestServer::start(vec![])
        .await
        .config(Method::Post, 3, false);
    config.endpoint_override = Some(closed_port_url().await);
    let client = Client::new(config).unwrap();
    let e = client
        .call(Product::Ecs, "DescribeRegions", vec![])
        .await
        .unwrap_err();
    assert!(matches!(e, CallError::Transport { .. }), "{e:?}");
    assert_eq!(client.stats().calls, 3);
}

#[tokio::test]
async fn nonce_replay_is_resent_once_with_a_fresh_nonce_for_any_action() {
    let server = TestServer::start(vec![Reply::error(400, "SignatureNonceUsed")]).await;
    let client = server.client(Method::Post, 1, false);
    client
        .call(
            Product::Ecs,
            "StartInstance",
            vec![("InstanceId".into(), "i-1".into())],
        )
        .await
        .expect("resent with a new nonce");
    assert_eq!(nonces(&server), ["n-1", "n-2"]);

    let server = TestServer::start(vec![Reply::error(400, "SignatureNonceUsed"); 3]).await;
    let client = server.client(Method::Post, 4, false);
    let e = client
        .call(Product::Ecs, "StartInstance", vec![])
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("SignatureNonceUsed"));
    assert_eq!(server.requests().len(), 2, "only one resend");
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = TestServer::start(vec![Reply::error(400, "InvalidParameter")]).await;
    let client = server.client(Method::Post, 4, false);
    let e = client
        .call(Product::Ecs, "DescribeInstances", vec![])
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameter"));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn throttling_is_retried_for_deletes_mutations_and_unknown_actions() {
    // Flow control refuses a request before it runs, so repeating it cannot act twice.
    for action in ["DeleteInstances", "StartInstance", "DescribeSomethingNew"] {
        let server = TestServer::start(vec![
            Reply::error(400, "Throttling.User").header("x-acs-retry-after", "10")
        ])
        .await;
        let client = server.client(Method::Post, 4, false);
        client
            .call(
                Product::Ecs,
                action,
                vec![("InstanceId.1".into(), "i-1".into())],
            )
            .await
            .unwrap_or_else(|e| panic!("{action}: {e}"));
        assert_eq!(
            server.requests().len(),
            2,
            "{action}: one throttled, one sent again"
        );
        assert_eq!(client.stats().retries, 1, "{action}");
    }
}

#[tokio::test]
async fn a_lost_answer_followed_by_throttling_stays_unknown() {
    // The first attempt may have created the instance (503 after the service acted); the
    // throttled retries prove nothing, so the caller sees the error that leaves it unknown.
    let server = TestServer::start(vec![
        Reply::error(503, "ServiceUnavailable"),
        Reply::error(400, "Throttling"),
        Reply::error(400, "Throttling"),
    ])
    .await;
    let client = server.client(Method::Post, 3, false);
    let e = client
        .call(Product::Ecs, "RunInstances", vec![])
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ServiceUnavailable"), "{e}");
    assert_eq!(server.requests().len(), 3);
}
