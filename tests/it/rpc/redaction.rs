//! The secret and the token never show: not in Debug output, not in any error, not even when a
//! server echoes them back.

use super::server::{closed_port_url, Reply, TestServer, SECRET, TOKEN};
use ecsh::ops::Product;
use ecsh::rpc::{sign, CallError, Client, ConfigError, Credentials, Method};
use std::time::Duration;

/// Every form the secret or token could take in text.
fn leaks(text: &str) -> Vec<String> {
    let mut forms = Vec::new();
    for s in [SECRET, TOKEN] {
        let once = sign::percent_encode(s);
        let plus: String = form_urlencoded::byte_serialize(s.as_bytes()).collect();
        forms.extend([s.to_string(), sign::percent_encode(&once), once, plus]);
    }
    // The distinctive cores survive any encoding.
    forms.extend(["do-not-leak".to_string()]);
    forms
        .into_iter()
        .filter(|f| text.contains(f.as_str()))
        .collect()
}

fn assert_clean(what: &str, text: &str) {
    let found = leaks(text);
    assert!(found.is_empty(), "{what} leaked {found:?}: {text}");
}

#[tokio::test]
async fn debug_output_hides_secret_and_token() {
    let server = TestServer::start(vec![]).await;
    let creds = Credentials::new("LTAIkey", SECRET).with_security_token(TOKEN);
    assert_clean("Credentials", &format!("{creds:?}"));
    for method in [Method::Get, Method::Post] {
        let config = server.config(method, 1, true);
        assert_clean("ClientConfig", &format!("{config:?}"));
        let client = Client::new(config).unwrap();
        assert_clean("Client", &format!("{client:?}"));
        let p = client
            .prepare(
                Product::Ecs,
                "RunInstances",
                vec![("InstanceName".into(), "x".into())],
            )
            .unwrap();
        assert_clean("PreparedRequest", &format!("{p:?}"));
        assert_clean("display_redacted", &p.display_redacted());
        assert_clean("params_redacted", &format!("{:?}", p.params_redacted()));
        assert!(p.display_redacted().contains("SecurityToken=<redacted>"));
    }
}

async fn error_from(reply: Reply, method: Method) -> CallError {
    let server = TestServer::start(vec![reply]).await;
    server
        .client(method, 1, true)
        .call(Product::Ecs, "StartInstance", vec![])
        .await
        .unwrap_err()
}

#[tokio::test]
async fn errors_never_carry_secret_or_token_even_when_echoed() {
    let mut errors = Vec::new();
    for method in [Method::Get, Method::Post] {
        // A SignatureDoesNotMatch message quotes the server's string to sign (token inside).
        errors.push(
            error_from(
                Reply::raw(
                    400,
                    r#"{"Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched with our calculation. server string to sign is:{sts}","RequestId":"r","Recommend":"https://x/?{query}"}"#,
                ),
                method,
            )
            .await,
        );
        // A proxy error page that echoes the request line.
        errors.push(error_from(Reply::raw(502, "bad gateway for /?{query}"), method).await);
    }
    // A transport error on a GET, whose URL carries the token.
    let server = TestServer::start(vec![]).await;
    let mut config = server.config(Method::Get, 1, true);
    config.endpoint_override = Some(closed_port_url().await);
    errors.push(
        Client::new(config)
            .unwrap()
            .call(Product::Ecs, "StartInstance", vec![])
            .await
            .unwrap_err(),
    );
    // A timeout.
    let mut config = server.config(Method::Get, 1, true);
    let slow = TestServer::start(vec![Reply::ok("{}").delayed(Duration::from_secs(5))]).await;
    config.endpoint_override = Some(slow.url.clone());
    config.timeout = Duration::from_millis(200);
    errors.push(
        Client::new(config)
            .unwrap()
            .call(Product::Ecs, "StartInstance", vec![])
            .await
            .unwrap_err(),
    );
    // Configuration errors.
    errors.push(CallError::Config(ConfigError::NoCredentials));
    let mut config = server.config(Method::Get, 1, true);
    config.endpoint_override = Some(format!("https://id:{SECRET}@example.com"));
    errors.push(Client::new(config).unwrap_err());

    assert!(matches!(errors[0], CallError::Api(_)));
    assert!(errors[0].api().unwrap().message.contains("string to sign"));
    assert!(matches!(errors[1], CallError::InvalidResponse { .. }));
    assert!(
        matches!(errors[4], CallError::Transport { .. }),
        "{:?}",
        errors[4]
    );
    assert!(matches!(errors[5], CallError::Timeout));
    for e in &errors {
        assert_clean("CallError Display", &e.to_string());
        assert_clean("CallError Debug", &format!("{e:?}"));
    }
}
