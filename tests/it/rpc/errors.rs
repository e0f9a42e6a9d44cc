//! Error answers become `ApiError` (code, message, request id, status, recommendation) with
//! advice; answers that are not API responses become `InvalidResponse`.

use super::server::{Reply, TestServer};
use ecsh::ops::Product;
use ecsh::rpc::{advice_for, CallError, Method};

#[tokio::test]
async fn error_bodies_become_api_errors_with_advice() {
    let body = r#"{"RequestId":"6C1A-42","HostId":"ecs-cn-hangzhou.aliyuncs.com","Code":"OperationDenied.NoStock","Message":"The requested resource is sold out in the specified zone.","Recommend":"https://api.aliyun.com/troubleshoot?q=OperationDenied.NoStock"}"#;
    let server = TestServer::start(vec![Reply::raw(403, body)]).await;
    let client = server.client(Method::Post, 1, false);
    let e = client
        .call(Product::Ecs, "RunInstances", vec![])
        .await
        .unwrap_err();
    let api = e.api().expect("an API error");
    assert_eq!(api.code, "OperationDenied.NoStock");
    assert_eq!(
        api.message,
        "The requested resource is sold out in the specified zone."
    );
    assert_eq!(api.request_id.as_deref(), Some("6C1A-42"));
    assert_eq!(api.http_status, 403);
    assert_eq!(
        api.recommend.as_deref(),
        Some("https://api.aliyun.com/troubleshoot?q=OperationDenied.NoStock")
    );
    assert_eq!(api.host_id.as_deref(), Some("ecs-cn-hangzhou.aliyuncs.com"));
    let line = e.to_string();
    assert!(
        line.starts_with("OperationDenied.NoStock: The requested resource is sold out in the specified zone. (request id 6C1A-42) — "),
        "{line}"
    );
    assert!(line.contains("another zone"), "{line}");
    assert!(!line.contains('\n'));
}

#[tokio::test]
async fn lower_case_error_bodies_are_understood() {
    let server = TestServer::start(vec![Reply::raw(
        400,
        r#"{"requestId":"r-2","code":"InvalidParameter","message":"bad PageSize"}"#,
    )])
    .await;
    let e = server
        .client(Method::Post, 1, false)
        .call(Product::Ecs, "DescribeInstances", vec![])
        .await
        .unwrap_err();
    let api = e.api().unwrap();
    assert_eq!(
        (
            api.code.as_str(),
            api.message.as_str(),
            api.request_id.as_deref()
        ),
        ("InvalidParameter", "bad PageSize", Some("r-2"))
    );
}

#[tokio::test]
async fn non_json_error_bodies_are_invalid_responses() {
    let server = TestServer::start(vec![
        Reply::raw(502, "<html><body>502 Bad Gateway</body></html>"),
        Reply::raw(200, "not json"),
        Reply::raw(404, r#"{"Message":"json without a code"}"#),
    ])
    .await;
    let client = server.client(Method::Post, 1, false);
    for expected_status in [502, 200, 404] {
        let e = client
            .call(Product::Ecs, "DescribeRegions", vec![])
            .await
            .unwrap_err();
        match &e {
            CallError::InvalidResponse {
                status,
                body_snippet,
            } => {
                assert_eq!(*status, expected_status);
                assert!(!body_snippet.is_empty());
            }
            other => panic!("expected InvalidResponse, got {other:?}"),
        }
        assert!(e.to_string().contains("--endpoint"), "{e}");
    }
    assert!(server.requests().len() == 3);
}

#[test]
fn the_seeds_error_table_has_advice() {
    for (code, hint) in [
        ("OperationDenied.NoStock", "another zone"),
        (
            "InvalidInstanceType.NotSupported",
            "DescribeAvailableResource",
        ),
        ("QuotaExceed", "quota increase"),
        ("QuotaExceed.PostPaidInstance", "quota increase"),
        ("QuotaExceeded.Vpc", "quota increase"),
        ("InvalidSystemDiskCategory.NotSupported", "cloud_essd"),
        ("InvalidSystemDiskCategory.ValueNotSupported", "cloud_essd"),
    ] {
        let advice = advice_for(code).unwrap_or_else(|| panic!("no advice for {code}"));
        assert!(advice.contains(hint), "{code}: {advice}");
    }
}

#[test]
fn common_codes_have_advice() {
    for code in [
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "InvalidSecurityToken.Expired",
        "InvalidTimeStamp.Expired",
        "SignatureNonceUsed",
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "ServiceUnavailable",
        "InternalError",
        "UnknownError",
        "IncorrectInstanceStatus",
        "IncorrectInstanceStatus.Initializing",
        "DependencyViolation",
        "DependencyViolation.VSwitch",
        "IdempotentParameterMismatch",
        "IdempotentProcessing",
        "InvalidInstanceId.NotFound",
        "InvalidVpcId.NotFound",
        "InvalidSecurityGroupId.NotFound",
        "Forbidden.RAM",
        "Forbidden.SubUser",
        "MissingParameter",
        "InvalidParameter",
        "InvalidRegionId.NotFound",
        "DryRunOperation",
        "Account.Arrearage",
        "IncorrectVpcStatus",
        "OperationConflict",
    ] {
        assert!(advice_for(code).is_some(), "no advice for {code}");
    }
    assert!(advice_for("IncorrectInstanceStatus.Initializing")
        .unwrap()
        .contains("still being created"));
}

#[tokio::test]
async fn signature_mismatches_are_diagnosed_from_the_servers_string_to_sign() {
    let reply = |quoted: &str| {
        Reply::raw(
            400,
            &format!(
                r#"{{"Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched with our calculation. server string to sign is:{quoted}","RequestId":"r-s"}}"#
            ),
        )
    };
    let server = TestServer::start(vec![
        reply("{sts}"),
        reply("POST&%2F&Action%3DSomethingElse"),
        Reply::error(400, "SignatureDoesNotMatch"),
    ])
    .await;
    let client = server.client(Method::Post, 1, false);
    let next = || client.call(Product::Ecs, "DescribeRegions", vec![]);

    let same = next().await.unwrap_err();
    assert_eq!(same.code(), Some("InvalidAccessKeySecret"), "{same}");
    assert!(same.to_string().contains("AccessKeySecret"), "{same}");

    let different = next().await.unwrap_err();
    assert_eq!(different.code(), Some("SignatureDoesNotMatch"));
    assert!(
        different.to_string().contains("different string to sign"),
        "{different}"
    );

    let unquoted = next().await.unwrap_err();
    assert_eq!(unquoted.code(), Some("SignatureDoesNotMatch"));
    assert_eq!(
        unquoted.api().unwrap().message,
        "scripted SignatureDoesNotMatch"
    );
}
