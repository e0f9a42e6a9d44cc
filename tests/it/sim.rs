//! The simulator over loopback HTTP: protocol, signatures, errors, faults, persistence.

use crate::support::{
    encode, get_v1, nonce, send_query, send_v3, sign_v1, start_sim, start_sim_with, timestamp,
    v1_params, Reply, V3Request,
};
use ecsh::ops::Product;
use ecsh::rpc::sign;
use ecsh::secret::Secret;
use ecsh::sim::auth::{Authenticator, Credential};
use ecsh::sim::faults::FaultSpec;
use ecsh::sim::protocol::{self, RawRequest};
use ecsh::sim::RunningSim;
use proptest::prelude::*;

/// The request passed protocol and auth and was answered by the model.
#[track_caller]
fn assert_reached_model(r: &Reply) {
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert!(
        r.body["RequestId"].as_str().is_some_and(|s| s.len() == 36),
        "{:#}",
        r.body
    );
}

fn params(sim: &RunningSim, action: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    v1_params(sim.access_key_id(), Product::Ecs, action, extra)
}

fn set(params: &mut Vec<(String, String)>, key: &str, value: Option<&str>) {
    params.retain(|(k, _)| k != key);
    if let Some(v) = value {
        params.push((key.into(), v.into()));
    }
}

async fn send_signed(sim: &RunningSim, p: Vec<(String, String)>) -> Reply {
    let signed = sign_v1("GET", p, sim.access_key_secret().expose());
    send_query(sim, "GET", &encode(&signed)).await
}

#[tokio::test]
async fn good_v1_get_reaches_the_model() {
    let sim = start_sim().await;
    let r = get_v1(&sim, Product::Ecs, "DescribeRegions", &[]).await;
    assert_reached_model(&r);
    let regions: Vec<&str> = r.body["Regions"]["Region"]
        .as_array()
        .expect("Regions.Region")
        .iter()
        .filter_map(|r| r["RegionId"].as_str())
        .collect();
    assert!(
        regions.contains(&"ap-southeast-1") && regions.len() >= 5,
        "{regions:?}"
    );
    let r = get_v1(
        &sim,
        Product::Vpc,
        "DescribeVpcs",
        &[("RegionId", "cn-hangzhou")],
    )
    .await;
    assert_reached_model(&r);
    assert_eq!(r.body["TotalCount"], 0, "{:#}", r.body);
}

async fn create_vpc(sim: &RunningSim, name: &str) -> String {
    let r = get_v1(
        sim,
        Product::Vpc,
        "CreateVpc",
        &[
            ("RegionId", "cn-hangzhou"),
            ("CidrBlock", "10.0.0.0/8"),
            ("VpcName", name),
        ],
    )
    .await;
    assert_reached_model(&r);
    r.body["VpcId"].as_str().expect("VpcId").to_owned()
}

async fn vpc_names(sim: &RunningSim) -> Vec<String> {
    let r = get_v1(
        sim,
        Product::Vpc,
        "DescribeVpcs",
        &[("RegionId", "cn-hangzhou")],
    )
    .await;
    assert_reached_model(&r);
    r.body["Vpcs"]["Vpc"]
        .as_array()
        .expect("Vpcs.Vpc")
        .iter()
        .map(|v| v["VpcName"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn state_survives_a_crash_and_a_clean_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let sim = start_sim_with(|cfg| cfg.state_file = Some(path.clone())).await;
    let first = create_vpc(&sim, "before-crash").await;
    // Dropping without shutdown is a crash: only the save after CreateVpc can have kept it.
    drop(sim);
    let again = start_sim_with(|cfg| cfg.state_file = Some(path.clone())).await;
    assert_eq!(vpc_names(&again).await, vec!["before-crash"]);
    create_vpc(&again, "after-restart").await;
    again.shutdown().await.unwrap();
    let third = start_sim_with(|cfg| cfg.state_file = Some(path.clone())).await;
    let mut names = vpc_names(&third).await;
    names.sort();
    assert_eq!(names, vec!["after-restart", "before-crash"]);
    let r = get_v1(
        &third,
        Product::Vpc,
        "DescribeVpcs",
        &[("RegionId", "cn-hangzhou"), ("VpcId", &first)],
    )
    .await;
    assert_eq!(r.body["Vpcs"]["Vpc"][0]["VpcId"], first.as_str());
}

#[tokio::test]
async fn no_stock_fault_marks_the_pair_sold_out() {
    let query = [
        ("RegionId", "cn-beijing"),
        ("DestinationResource", "InstanceType"),
        ("ZoneId", "cn-beijing-h"),
        ("InstanceType", "ecs.g8i.xlarge"),
    ];
    let status = |r: &Reply| r.body["AvailableZones"]["AvailableZone"][0]["Status"].clone();
    let plain = start_sim().await;
    let r = get_v1(&plain, Product::Ecs, "DescribeAvailableResource", &query).await;
    assert_reached_model(&r);
    assert_eq!(status(&r), "Available", "{:#}", r.body);
    let faulty = start_sim_with(|cfg| {
        cfg.faults = vec!["nostock=ecs.g8i.xlarge@cn-beijing-h".parse().unwrap()]
    })
    .await;
    let r = get_v1(&faulty, Product::Ecs, "DescribeAvailableResource", &query).await;
    assert_reached_model(&r);
    assert_eq!(status(&r), "SoldOut", "{:#}", r.body);
}

#[tokio::test]
async fn model_errors_come_back_in_the_real_error_shape() {
    let sim = start_sim().await;
    get_v1(
        &sim,
        Product::Vpc,
        "DeleteVpc",
        &[("RegionId", "cn-hangzhou"), ("VpcId", "vpc-nope")],
    )
    .await
    .assert_error(404, "InvalidVpcId.NotFound");
}

#[tokio::test]
async fn good_v1_post_with_params_split_between_query_and_form_body() {
    let sim = start_sim().await;
    let p = params(
        &sim,
        "DescribeZones",
        &[("RegionId", "cn-hangzhou"), ("AcceptLanguage", "en-US")],
    );
    let signed = sign_v1("POST", p, sim.access_key_secret().expose());
    let (query, body): (Vec<_>, Vec<_>) = signed.into_iter().partition(|(k, _)| {
        ["Action", "Version", "Signature", "AccessKeyId"].contains(&k.as_str())
    });
    let resp = reqwest::Client::new()
        .post(format!("{}/?{}", sim.endpoint(), encode(&query)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&body))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["content-type"],
        "application/json;charset=utf-8"
    );
    let id_header = resp.headers()["x-acs-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let status = resp.status().as_u16();
    let body: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(body["RequestId"], id_header.as_str());
    assert_reached_model(&Reply {
        status,
        body,
        retry_after: None,
    });
}

#[tokio::test]
async fn post_signed_as_get_is_a_signature_mismatch() {
    let sim = start_sim().await;
    let signed = sign_v1(
        "GET",
        params(&sim, "DescribeRegions", &[]),
        sim.access_key_secret().expose(),
    );
    send_query(&sim, "POST", &encode(&signed))
        .await
        .assert_error(400, "SignatureDoesNotMatch");
}

#[tokio::test]
async fn wrong_secret_shows_the_server_string_to_sign_after_the_first_colon() {
    let sim = start_sim().await;
    let p = params(&sim, "DescribeRegions", &[("RegionId", "cn-hangzhou")]);
    let expected_sts = sign::string_to_sign("GET", &p);
    let signed = sign_v1("GET", p, "not-the-secret");
    let r = send_query(&sim, "GET", &encode(&signed)).await;
    r.assert_error(400, "SignatureDoesNotMatch");
    let (_, after) = r.message().split_once(':').unwrap();
    assert_eq!(
        after, expected_sts,
        "the legacy SDK compares this with its own string to sign"
    );
    assert!(!r.message().contains(sim.access_key_secret().expose()));
}

#[tokio::test]
async fn unknown_access_key_is_not_found() {
    let sim = start_sim().await;
    let p = v1_params("LTAInobody", Product::Ecs, "DescribeRegions", &[]);
    let signed = sign_v1("GET", p, sim.access_key_secret().expose());
    send_query(&sim, "GET", &encode(&signed))
        .await
        .assert_error(404, "InvalidAccessKeyId.NotFound");
}

#[tokio::test]
async fn missing_and_unsupported_signature_parameters() {
    let sim = start_sim().await;
    let secret = sim.access_key_secret().expose().to_owned();
    let unsigned = params(&sim, "DescribeRegions", &[]);
    send_query(&sim, "GET", &encode(&unsigned))
        .await
        .assert_error(400, "IncompleteSignature");
    let mut garbled = sign_v1("GET", unsigned.clone(), &secret);
    set(&mut garbled, "Signature", Some("!!not base64!!"));
    send_query(&sim, "GET", &encode(&garbled))
        .await
        .assert_error(400, "SignatureDoesNotMatch");
    for (key, value, status, code) in [
        ("SignatureNonce", None, 400, "MissingParameter"),
        ("Timestamp", None, 400, "MissingParameter"),
        ("AccessKeyId", None, 400, "MissingParameter"),
        (
            "SignatureMethod",
            Some("HMAC-SHA256"),
            400,
            "UnsupportedSignatureMethod",
        ),
        (
            "SignatureVersion",
            Some("2.0"),
            400,
            "UnsupportedSignatureVersion",
        ),
        (
            "Timestamp",
            Some("2024-01-02 03:04:05"),
            400,
            "InvalidTimeStamp.Format",
        ),
        (
            "Timestamp",
            Some(&timestamp(-20 * 60)),
            400,
            "InvalidTimeStamp.Expired",
        ),
        (
            "Timestamp",
            Some(&timestamp(20 * 60)),
            400,
            "InvalidTimeStamp.Expired",
        ),
    ] {
        let mut p = unsigned.clone();
        set(&mut p, key, value);
        let r = send_signed(&sim, p).await;
        r.assert_error(status, code);
        assert!(
            r.message().contains(key)
                || code.starts_with("Unsupported")
                || code.ends_with("Expired"),
            "{key}: {}",
            r.message()
        );
    }
    let mut p = unsigned.clone();
    set(&mut p, "Timestamp", Some(&timestamp(-10 * 60)));
    assert_reached_model(&send_signed(&sim, p).await);
}

#[tokio::test]
async fn a_replayed_nonce_is_refused() {
    let sim = start_sim().await;
    let signed = sign_v1(
        "GET",
        params(&sim, "DescribeRegions", &[]),
        sim.access_key_secret().expose(),
    );
    assert_reached_model(&send_query(&sim, "GET", &encode(&signed)).await);
    send_query(&sim, "GET", &encode(&signed))
        .await
        .assert_error(400, "SignatureNonceUsed");
}

#[tokio::test]
async fn a_forged_request_does_not_burn_the_nonce() {
    let sim = start_sim().await;
    let p = params(&sim, "DescribeRegions", &[]);
    let forged = sign_v1("GET", p.clone(), "wrong");
    send_query(&sim, "GET", &encode(&forged))
        .await
        .assert_error(400, "SignatureDoesNotMatch");
    assert_reached_model(&send_signed(&sim, p).await);
}

#[tokio::test]
async fn security_tokens_plain_keys_accept_them_sts_keys_require_the_right_one() {
    let sim = start_sim_with(|cfg| {
        cfg.extra_credentials.push(Credential {
            access_key_id: "STS.test".into(),
            access_key_secret: Secret::new("sts-secret"),
            security_token: Some(Secret::new("the-token")),
        })
    })
    .await;
    let plain = params(&sim, "DescribeRegions", &[("SecurityToken", "anything")]);
    assert_reached_model(&send_signed(&sim, plain).await);
    let sts = |token: Option<&str>| {
        let mut p = v1_params("STS.test", Product::Ecs, "DescribeRegions", &[]);
        set(&mut p, "SecurityToken", token);
        sign_v1("GET", p, "sts-secret")
    };
    send_query(&sim, "GET", &encode(&sts(None)))
        .await
        .assert_error(400, "MissingParameter");
    send_query(&sim, "GET", &encode(&sts(Some("stolen"))))
        .await
        .assert_error(400, "InvalidSecurityToken.MismatchWithAccessKey");
    assert_reached_model(&send_query(&sim, "GET", &encode(&sts(Some("the-token")))).await);

    let host = sim.addr().to_string();
    let v3_sts = |token: &str| {
        let mut r = v3(&sim, "sts-secret");
        r.access_key_id = "STS.test";
        r.extra_headers
            .push(("x-acs-security-token".into(), token.into()));
        r.build(&host)
    };
    let (query, body, headers) = v3_sts("the-token");
    assert_reached_model(&send_v3(&sim, &query, body, &headers).await);
    let (query, body, headers) = v3_sts("stolen");
    send_v3(&sim, &query, body, &headers)
        .await
        .assert_error(400, "InvalidSecurityToken.MismatchWithAccessKey");
}

fn v3<'a>(sim: &'a RunningSim, secret: &'a str) -> V3Request<'a> {
    V3Request {
        product: Product::Ecs,
        action: "DescribeZones",
        query: vec![("RegionId".into(), "cn-hangzhou".into())],
        body: vec![
            ("AcceptLanguage".into(), "en-US".into()),
            ("Note".into(), "a b*c~".into()),
        ],
        access_key_id: sim.access_key_id(),
        secret,
        extra_headers: vec![("user-agent".into(), "AlibabaCloud (test) TeaDSL/2".into())],
    }
}

#[tokio::test]
async fn v3_signature_is_accepted_and_tampering_is_refused() {
    let sim = start_sim().await;
    let secret = sim.access_key_secret().expose().to_owned();
    let host = sim.addr().to_string();
    let (query, body, headers) = v3(&sim, &secret).build(&host);
    let r = send_v3(&sim, &query, body.clone(), &headers).await;
    assert_reached_model(&r);
    assert!(
        r.body["Zones"]["Zone"]
            .as_array()
            .is_some_and(|z| !z.is_empty()),
        "{:#}",
        r.body
    );
    send_v3(&sim, &query, body.clone(), &headers)
        .await
        .assert_error(400, "SignatureNonceUsed");

    let (query, body, headers) = v3(&sim, &secret).build(&host);
    let tampered_query = query.replace("cn-hangzhou", "cn-beijing");
    let r = send_v3(&sim, &tampered_query, body.clone(), &headers).await;
    r.assert_error(400, "SignatureDoesNotMatch");
    assert!(r.message().contains("ACS3-HMAC-SHA256"), "{}", r.message());
    let r = send_v3(&sim, &query, body.replace("en-US", "zh-CN"), &headers).await;
    r.assert_error(400, "InvalidParameter");
    assert!(
        r.message().contains("x-acs-content-sha256"),
        "{}",
        r.message()
    );

    let (query, body, headers) = v3(&sim, "wrong-secret").build(&host);
    send_v3(&sim, &query, body, &headers)
        .await
        .assert_error(400, "SignatureDoesNotMatch");
}

#[tokio::test]
async fn v3_requires_its_headers_signed_and_a_supported_algorithm() {
    let sim = start_sim().await;
    let secret = sim.access_key_secret().expose().to_owned();
    let host = sim.addr().to_string();
    let (query, body, mut headers) = v3(&sim, &secret).build(&host);
    headers.retain(|(k, _)| k != "x-acs-signature-nonce");
    send_v3(&sim, &query, body, &headers)
        .await
        .assert_error(400, "MissingParameter");

    // A well-signed request whose Authorization header is then rewritten by `edit`.
    let with_authorization = |edit: fn(&str) -> String| {
        let (query, body, mut headers) = v3(&sim, &secret).build(&host);
        let auth = headers
            .iter_mut()
            .find(|(k, _)| k == "authorization")
            .unwrap();
        auth.1 = edit(&auth.1);
        (query, body, headers)
    };
    for (edit, code) in [
        (
            (|a: &str| a.replace("x-acs-date;", "")) as fn(&str) -> String,
            "IncompleteSignature",
        ),
        (
            |a: &str| a.replace("ACS3-HMAC-SHA256", "ACS3-HMAC-SM3"),
            "UnsupportedSignatureMethod",
        ),
        (
            |_: &str| "ACS3-HMAC-SHA256 Credential=x".to_string(),
            "IncompleteSignature",
        ),
    ] {
        let (query, body, headers) = with_authorization(edit);
        send_v3(&sim, &query, body, &headers)
            .await
            .assert_error(400, code);
    }

    let mut old = v3(&sim, &secret);
    old.extra_headers
        .push(("x-acs-date".into(), timestamp(-3600)));
    let (query, body, mut headers) = old.build(&host);
    // Keep only the stale date (the helper set a fresh one first).
    let fresh = headers.iter().position(|(k, _)| k == "x-acs-date").unwrap();
    headers.remove(fresh);
    send_v3(&sim, &query, body, &headers)
        .await
        .assert_error(400, "InvalidTimeStamp.Expired");
}

#[tokio::test]
async fn malformed_requests_get_error_codes_with_request_ids() {
    let sim = start_sim().await;
    let secret = sim.access_key_secret().expose().to_owned();
    send_query(
        &sim,
        "GET",
        "Action=DescribeRegions&Version=2014-05-26&X=%zz",
    )
    .await
    .assert_error(400, "InvalidParameter");
    send_query(
        &sim,
        "GET",
        "Action=DescribeRegions&Version=2014-05-26&X=%FF%FE",
    )
    .await
    .assert_error(400, "InvalidParameter");
    send_query(&sim, "GET", "")
        .await
        .assert_error(400, "MissingParameter");
    send_query(&sim, "PUT", "Action=DescribeRegions&Version=2014-05-26")
        .await
        .assert_error(400, "UnsupportedHTTPMethod");
    send_query(&sim, "GET", "Action=DescribeRegions&Version=1999-01-01")
        .await
        .assert_error(400, "InvalidVersion");
    send_query(
        &sim,
        "GET",
        "Action=DescribeRegions&Action=DescribeZones&Version=2014-05-26",
    )
    .await
    .assert_error(400, "InvalidParameter");

    let r = send_signed(&sim, params(&sim, "DescribeInstance", &[])).await;
    r.assert_error(404, "InvalidAction.NotFound");
    assert!(
        r.message().contains("did you mean DescribeInstances?"),
        "{}",
        r.message()
    );

    let huge = "x".repeat(300 * 1024);
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/?Action=DescribeRegions&Version=2014-05-26",
            sim.endpoint()
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("Big={huge}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(body["Code"], "InvalidParameter");
    assert!(
        body["Message"].as_str().unwrap().contains("too large"),
        "{body}"
    );

    let resp = reqwest::Client::new()
        .post(format!(
            "{}/?Action=DescribeRegions&Version=2014-05-26",
            sim.endpoint()
        ))
        .body(vec![b'a'; 3 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert!(body["RequestId"].is_string(), "{body}");

    let resp = reqwest::get(format!("{}/other?Action=DescribeRegions", sim.endpoint()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    let xml = sign_v1(
        "GET",
        {
            let mut p = params(&sim, "DescribeRegions", &[]);
            set(&mut p, "Format", Some("XML"));
            p
        },
        &secret,
    );
    // Format=XML is answered in XML, the real element layout (the conformance table has more).
    let resp = reqwest::get(format!("{}/?{}", sim.endpoint(), encode(&xml)))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/xml"));
    let doc = resp.text().await.unwrap();
    assert!(
        doc.starts_with("<?xml") && doc.contains("<DescribeRegionsResponse><RequestId>"),
        "{doc}"
    );
    let lower = sign_v1(
        "GET",
        {
            let mut p = params(&sim, "DescribeRegions", &[]);
            set(&mut p, "Format", Some("json"));
            p
        },
        &secret,
    );
    assert_reached_model(&send_query(&sim, "GET", &encode(&lower)).await);
}

#[tokio::test]
async fn throttling_fault_looks_like_the_real_service() {
    let sim = start_sim_with(|cfg| {
        cfg.faults = vec![
            "throttle=1.0".parse().unwrap(),
            "retry-after=250ms".parse().unwrap(),
        ];
    })
    .await;
    let r = get_v1(&sim, Product::Ecs, "DescribeRegions", &[]).await;
    r.assert_error(400, "Throttling.User");
    assert_eq!(r.retry_after.as_deref(), Some("250"));
    // Faults come after authentication: a bad signature is still a signature error.
    let forged = sign_v1("GET", params(&sim, "DescribeRegions", &[]), "wrong");
    send_query(&sim, "GET", &encode(&forged))
        .await
        .assert_error(400, "SignatureDoesNotMatch");
}

#[tokio::test]
async fn server_error_fault_is_a_503_service_unavailable() {
    let sim = start_sim_with(|cfg| cfg.faults = vec![FaultSpec::ServiceUnavailable(1.0)]).await;
    let r = get_v1(
        &sim,
        Product::Vpc,
        "DescribeVpcs",
        &[("RegionId", "cn-hangzhou")],
    )
    .await;
    r.assert_error(503, "ServiceUnavailable");
    assert!(r.body["Recommend"]
        .as_str()
        .unwrap()
        .contains("product=Vpc"));
}

#[tokio::test]
async fn state_file_is_written_at_shutdown_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sim-state.json");
    let sim = start_sim_with(|cfg| cfg.state_file = Some(path.clone())).await;
    assert_reached_model(&get_v1(&sim, Product::Ecs, "DescribeRegions", &[]).await);
    sim.shutdown().await.unwrap();
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert!(saved.is_object());
    let again = start_sim_with(|cfg| cfg.state_file = Some(path.clone())).await;
    assert_reached_model(&get_v1(&again, Product::Ecs, "DescribeRegions", &[]).await);
    again.shutdown().await.unwrap();

    std::fs::write(&path, b"{ truncated").unwrap();
    let mut cfg = ecsh::sim::SimConfig::embedded();
    cfg.state_file = Some(path.clone());
    let Err(e) = ecsh::sim::start(cfg).await else {
        panic!("a corrupt state file must stop the start")
    };
    let e = format!("{e:#}");
    assert!(
        e.contains("sim-state.json") && e.contains("delete it"),
        "{e}"
    );
}

#[tokio::test]
async fn a_busy_port_is_a_clear_error() {
    let sim = start_sim().await;
    let mut cfg = ecsh::sim::SimConfig::embedded();
    cfg.listen = sim.addr();
    let Err(e) = ecsh::sim::start(cfg).await else {
        panic!("the port is taken")
    };
    assert!(format!("{e:#}").contains(&sim.addr().to_string()), "{e:#}");
}

fn arbitrary_request() -> impl Strategy<Value = RawRequest> {
    let bytes = proptest::collection::vec(any::<u8>(), 0..200);
    let token = prop_oneof![
        Just("Action=DescribeRegions".to_string()),
        Just("Version=2014-05-26".to_string()),
        Just("Version=2016-04-28".to_string()),
        Just("Signature=abc%3D".to_string()),
        Just("SignatureMethod=HMAC-SHA1".to_string()),
        Just("SignatureVersion=1.0".to_string()),
        Just("AccessKeyId=LTAItest".to_string()),
        Just(format!("Timestamp={}", timestamp(0))),
        Just(format!("SignatureNonce={}", nonce())),
        "[A-Za-z%=&+.]{0,12}",
        "\\PC{0,12}",
    ];
    let query = proptest::collection::vec(token, 0..12).prop_map(|t| t.join("&"));
    let header_names = prop_oneof![
        Just("authorization".to_string()),
        Just("x-acs-action".to_string()),
        Just("x-acs-version".to_string()),
        Just("x-acs-date".to_string()),
        Just("x-acs-signature-nonce".to_string()),
        Just("x-acs-content-sha256".to_string()),
        Just("content-type".to_string()),
        Just("host".to_string()),
    ];
    let header_values = prop_oneof![
        Just(
            b"ACS3-HMAC-SHA256 Credential=LTAItest,SignedHeaders=host;x-acs-date,Signature=00"
                .to_vec()
        ),
        Just(b"application/x-www-form-urlencoded".to_vec()),
        Just(b"DescribeRegions".to_vec()),
        Just(b"2014-05-26".to_vec()),
        bytes.clone(),
    ];
    (
        prop_oneof![Just("GET"), Just("POST"), Just("PUT"), Just("")],
        prop_oneof![Just("/".to_string()), "\\PC{0,8}"],
        proptest::option::of(prop_oneof![
            query,
            bytes
                .clone()
                .prop_map(|b| String::from_utf8_lossy(&b).into_owned())
        ]),
        proptest::collection::vec((header_names, header_values), 0..8),
        prop_oneof![
            bytes,
            Just(b"Action=DescribeRegions&Version=2014-05-26&X=%zz".to_vec())
        ],
    )
        .prop_map(|(method, path, query, headers, body)| RawRequest {
            method: method.into(),
            path,
            query,
            headers,
            body,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(800))]

    /// Arbitrary bytes in the query, body and headers never panic the parser or the verifier,
    /// and never pass authentication: the answer is always an error code with a 4xx status.
    #[test]
    fn parser_and_auth_never_panic_and_always_answer_with_an_error(raw in arbitrary_request()) {
        let auth = Authenticator::new(vec![Credential {
            access_key_id: "LTAItest".into(),
            access_key_secret: Secret::new("s3cr3t-value"),
            security_token: None,
        }]);
        let outcome = protocol::parse(&raw).and_then(|parsed| auth.verify(&raw, &parsed, time::OffsetDateTime::now_utc()));
        let err = outcome.expect_err("random input cannot carry a valid signature");
        prop_assert!((400..500).contains(&err.status), "{err}");
        prop_assert!(!err.code.is_empty() && !err.message.is_empty());
        prop_assert!(!err.message.contains("s3cr3t-value"));
    }
}

/// Random bytes over a real socket: whatever hyper lets through gets a JSON error with a
/// RequestId from the simulator, never a 500 and never a dropped connection.
#[tokio::test]
async fn random_bytes_on_the_wire_get_json_errors_never_500() {
    use rand::{Rng, SeedableRng};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sim = start_sim().await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut from_simulator = 0;
    for _ in 0..60 {
        let noise = |rng: &mut rand::rngs::StdRng,
                     n: usize,
                     bytes: std::ops::RangeInclusive<u8>|
         -> Vec<u8> {
            (0..rng.gen_range(0..n))
                .map(|_| rng.gen_range(bytes.clone()))
                .filter(|b| *b != b'#' && *b != 0x7f)
                .collect()
        };
        // Bytes a URI or a header value may carry, so hyper passes them on.
        const URI_SAFE: &[u8] = b"AaZz09%%%&&==+-._~*!$'(),;:@/?Ff";
        let query: Vec<u8> = noise(&mut rng, 80, 0..=255)
            .iter()
            .map(|b| URI_SAFE[*b as usize % URI_SAFE.len()])
            .collect();
        let body = noise(&mut rng, 200, 0x00..=0xff);
        let header = noise(&mut rng, 40, 0x21..=0xff);
        let mut req = b"POST /?".to_vec();
        req.extend(&query);
        req.extend(b" HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-type: application/x-www-form-urlencoded\r\nx-acs-action: ");
        req.extend(&header);
        req.extend(format!("\r\ncontent-length: {}\r\n\r\n", body.len()).as_bytes());
        req.extend(&body);
        let mut stream = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
        stream.write_all(&req).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        let text = String::from_utf8_lossy(&answer);
        let status: u16 = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        assert!((400..500).contains(&status), "{text}");
        if let Some((_, json)) = text
            .split_once("\r\n\r\n")
            .filter(|(_, b)| b.starts_with('{'))
        {
            let v: serde_json::Value = serde_json::from_str(json).unwrap();
            assert!(v["RequestId"].is_string() && v["Code"].is_string(), "{v}");
            from_simulator += 1;
        }
    }
    assert!(
        from_simulator >= 30,
        "only {from_simulator} of 60 reached the simulator"
    );
}
