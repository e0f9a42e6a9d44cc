//! What goes over the wire: common parameters, GET vs POST layout, signatures verified by the
//! server, ClientToken, dry-run preparation.

use super::server::{TestServer, KEY_ID, SECRET, SUCCESS, TOKEN};
use ecsh::ops::Product;
use ecsh::rpc::{sign, CallError, Client, ClientConfig, Credentials, Method, ParamError, Params};
use serde_json::{json, Value};

fn params(p: &[(&str, &str)]) -> Params {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn tricky() -> Params {
    params(&[
        ("InstanceIds", r#"["i-a","i-b"]"#),
        ("InstanceName", "测试 web*1~a/b+c=d"),
        ("Tag.1.Key", "env name"),
        ("Tag.1.Value", ""),
    ])
}

#[tokio::test]
async fn get_puts_everything_in_a_signed_query() {
    let server = TestServer::start(vec![]).await;
    let client = server.client(Method::Get, 1, false);
    let out = client
        .call(Product::Ecs, "DescribeInstances", tricky())
        .await
        .unwrap();
    assert_eq!(out, serde_json::from_str::<Value>(SUCCESS).unwrap());
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "GET");
    assert!(r.signature_ok, "server rejected the signature");
    assert!(r.body.is_empty());
    for (k, v) in [
        ("Action", "DescribeInstances"),
        ("Version", "2014-05-26"),
        ("Format", "JSON"),
        ("AccessKeyId", KEY_ID),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", "n-1"),
        ("Timestamp", "2024-05-06T07:08:09Z"),
        ("RegionId", "cn-shanghai"),
        ("InstanceIds", r#"["i-a","i-b"]"#),
        ("InstanceName", "测试 web*1~a/b+c=d"),
        ("Tag.1.Key", "env name"),
        ("Tag.1.Value", ""),
    ] {
        assert_eq!(r.param(k), Some(v), "{k}");
        assert!(r.in_query(k), "{k} not in the query");
    }
    assert_eq!(r.param("SecurityToken"), None);
    assert_eq!(r.param("ClientToken"), None, "reads carry no ClientToken");
}

#[tokio::test]
async fn post_sends_action_params_in_a_form_body() {
    let server = TestServer::start(vec![]).await;
    let client = server.client(Method::Post, 1, true);
    client
        .call(
            Product::Vpc,
            "DescribeVpcs",
            params(&[("VpcName", "a b/c"), ("RegionId", "eu-central-1")]),
        )
        .await
        .unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.method, "POST");
    assert!(r.signature_ok, "server rejected the signature");
    assert_eq!(
        r.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(r.param("Version"), Some("2016-04-28"));
    assert_eq!(r.param("SecurityToken"), Some(TOKEN));
    assert!(r.in_query("Signature") && r.in_query("Action") && r.in_query("SecurityToken"));
    assert!(r.in_body("VpcName") && r.in_body("RegionId"));
    assert_eq!(r.param("VpcName"), Some("a b/c"));
    assert_eq!(
        r.param("RegionId"),
        Some("eu-central-1"),
        "the caller's RegionId wins over the client's region"
    );
}

#[tokio::test]
async fn every_request_gets_a_fresh_nonce_and_stats_count_calls() {
    let server = TestServer::start(vec![]).await;
    let client = server.client(Method::Post, 1, false);
    for _ in 0..3 {
        client
            .call(Product::Ecs, "DescribeRegions", vec![])
            .await
            .unwrap();
    }
    let nonces: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.param("SignatureNonce").unwrap().to_string())
        .collect();
    assert_eq!(nonces, ["n-1", "n-2", "n-3"]);
    let stats = client.clone().stats();
    assert_eq!((stats.calls, stats.retries), (3, 0));
}

#[tokio::test]
async fn creating_calls_carry_a_client_token() {
    let server = TestServer::start(vec![]).await;
    let client = server.client(Method::Post, 1, false);
    let run = client
        .prepare(
            Product::Ecs,
            "RunInstances",
            params(&[("InstanceType", "ecs.g7.large")]),
        )
        .unwrap();
    let token =
        param(&run.params_redacted(), "ClientToken").expect("RunInstances gets a ClientToken");
    assert!(
        token.len() <= 64 && token.is_ascii() && !token.is_empty(),
        "{token}"
    );
    let other = client
        .prepare(Product::Ecs, "RunInstances", vec![])
        .unwrap();
    assert_ne!(
        param(&other.params_redacted(), "ClientToken").unwrap(),
        token
    );

    let given = client
        .prepare(
            Product::Vpc,
            "CreateVpc",
            params(&[("ClientToken", "mine-1")]),
        )
        .unwrap();
    assert_eq!(
        param(&given.params_redacted(), "ClientToken").as_deref(),
        Some("mine-1")
    );
    for (product, action) in [
        (Product::Ecs, "DescribeInstances"),
        (Product::Ecs, "StartInstance"),
        (Product::Ecs, "AllocatePublicIpAddress"),
        (Product::Ecs, "SomeUnknownAction"),
    ] {
        let p = client.prepare(product, action, vec![]).unwrap();
        assert_eq!(param(&p.params_redacted(), "ClientToken"), None, "{action}");
    }
    assert!(server.requests().is_empty(), "prepare must not send");
}

fn param(p: &Params, key: &str) -> Option<String> {
    p.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

#[tokio::test]
async fn dry_run_shows_a_correctly_signed_request_without_secrets() {
    // Default endpoints: no override.
    let creds = Credentials::new(KEY_ID, SECRET);
    let client = Client::new(ClientConfig::new(creds.clone(), "cn-hangzhou")).unwrap();
    let get = {
        let mut c = ClientConfig::new(creds, "cn-beijing");
        c.method = Method::Get;
        Client::new(c).unwrap()
    };
    let p = client
        .prepare(Product::Ecs, "DescribeRegions", vec![])
        .unwrap();
    assert!(p
        .url_redacted()
        .starts_with("https://ecs-cn-hangzhou.aliyuncs.com/?"));
    assert!(p
        .display_redacted()
        .starts_with("POST https://ecs-cn-hangzhou.aliyuncs.com/?"));
    let all = p.params_redacted();
    let signature = param(&all, "Signature").unwrap();
    assert_eq!(sign::sign_v1("POST", &all, SECRET), signature);

    let p = get.prepare(Product::Vpc, "DescribeVpcs", vec![]).unwrap();
    assert!(p
        .url_redacted()
        .starts_with("https://vpc.cn-beijing.aliyuncs.com/?"));
    assert_eq!(p.body_redacted(), None);
    let query = p.url_redacted().split_once("/?").unwrap().1.to_string();
    let sent: Params = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(
        sign::sign_v1("GET", &sent, SECRET),
        param(&sent, "Signature").unwrap()
    );
    assert!(!p.display_redacted().contains(SECRET));
}

#[tokio::test]
async fn reserved_and_duplicate_parameters_are_refused() {
    let server = TestServer::start(vec![]).await;
    let client = server.client(Method::Post, 1, false);
    let e = client
        .call(
            Product::Ecs,
            "DescribeRegions",
            params(&[("Signature", "x")]),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, CallError::Params(ParamError::Reserved { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("`Signature`"));
    let e = client
        .call(
            Product::Ecs,
            "DescribeRegions",
            params(&[("InstanceId.1", "a"), ("InstanceId.1", "b")]),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, CallError::Params(ParamError::Duplicate { .. })),
        "{e}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn flattened_arguments_reach_the_server_intact() {
    let server = TestServer::start(vec![]).await;
    let client = server.client(Method::Post, 1, false);
    let action = ecsh::ops::find(Product::Ecs, "DescribeInstances").unwrap();
    let args = json!({
        "InstanceIds": ["i-1", "i-2"],
        "Tag": [{"Key": "env", "Value": "prod"}],
        "PageSize": 50,
        "DryRun": false,
    });
    let p = ecsh::rpc::flatten(args.as_object().unwrap(), action.json_params).unwrap();
    client.call(Product::Ecs, action.name, p).await.unwrap();
    let r = &server.requests()[0];
    assert!(r.signature_ok);
    assert_eq!(r.param("InstanceIds"), Some(r#"["i-1","i-2"]"#));
    assert_eq!(r.param("Tag.1.Key"), Some("env"));
    assert_eq!(r.param("PageSize"), Some("50"));
    assert_eq!(r.param("DryRun"), Some("false"));
}

#[tokio::test]
async fn calls_can_run_on_spawned_tasks_in_parallel() {
    let server = TestServer::start(vec![]).await;
    let client = server.client(Method::Post, 1, false);
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.call(Product::Ecs, "DescribeRegions", vec![]).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(client.stats().calls, 4, "clones share one set of counters");
    assert_eq!(server.requests().len(), 4);
}
