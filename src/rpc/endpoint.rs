//! Where requests go: the default endpoint of a product in a region, or one override URL.
//!
//! Defaults follow rpc-protocol.md §2: ECS at `ecs.<region>.aliyuncs.com` except cn-hangzhou at
//! `ecs-cn-hangzhou.aliyuncs.com`; VPC at `vpc.<region>.aliyuncs.com` except cn-hangzhou at
//! `vpc.aliyuncs.com`; always https. An override (`--endpoint`, `ALIBABA_CLOUD_ENDPOINT`)
//! replaces the endpoint of both products, because the simulator serves both on one address.
//! This module only computes URLs; it sends nothing.

use super::error::ConfigError;
use crate::ops::Product;

/// The default base URL (scheme and host, no trailing slash) of `product` in `region`.
pub fn endpoint(product: Product, region: &str) -> String {
    let host = match (product, region) {
        (Product::Ecs, "cn-hangzhou") => "ecs-cn-hangzhou.aliyuncs.com".to_string(),
        (Product::Vpc, "cn-hangzhou") => "vpc.aliyuncs.com".to_string(),
        (p, r) => format!("{}.{r}.aliyuncs.com", p.code()),
    };
    format!("https://{host}")
}

/// The base URL to send `product` requests to: the override when there is one.
pub fn base_url(product: Product, region: &str, override_url: Option<&str>) -> String {
    match override_url {
        Some(url) => url.to_string(),
        None => endpoint(product, region),
    }
}

/// Checks and normalises an override: a bare host gets `https://`; the result has no trailing
/// slash. `source_name` says where it came from, for the error message.
pub fn normalize_override(value: &str, source_name: &str) -> Result<String, ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidEndpoint {
        value: value.to_string(),
        source_name: source_name.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(invalid("it is empty"));
    }
    // User info (`id:secret@host`) may hold credentials: refuse it without echoing the value.
    if trimmed.contains('@') {
        return Err(ConfigError::InvalidEndpoint {
            value: "<redacted: contains user info>".into(),
            source_name: source_name.to_string(),
            reason: "credentials do not belong in the endpoint URL".into(),
        });
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("https://{trimmed}")
    };
    let url = reqwest::Url::parse(&with_scheme).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.host_str().unwrap_or_default().is_empty() {
        return Err(invalid("it has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() || url.path() != "/" {
        return Err(invalid(
            "it must be only scheme, host and port (no path, query or fragment)",
        ));
    }
    Ok(with_scheme.trim_end_matches('/').to_string())
}

/// True when the URL's host is this machine, so proxies must be bypassed.
pub fn is_loopback(url: &str) -> bool {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .is_some_and(|h| h == "localhost" || h == "127.0.0.1" || h == "[::1]" || h == "::1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_per_product_and_region() {
        assert_eq!(
            endpoint(Product::Ecs, "cn-hangzhou"),
            "https://ecs-cn-hangzhou.aliyuncs.com"
        );
        assert_eq!(
            endpoint(Product::Ecs, "ap-southeast-1"),
            "https://ecs.ap-southeast-1.aliyuncs.com"
        );
        assert_eq!(
            endpoint(Product::Vpc, "cn-hangzhou"),
            "https://vpc.aliyuncs.com"
        );
        assert_eq!(
            endpoint(Product::Vpc, "cn-beijing"),
            "https://vpc.cn-beijing.aliyuncs.com"
        );
    }

    #[test]
    fn override_replaces_both_products() {
        let o = normalize_override("http://127.0.0.1:8080/", "flag --endpoint").unwrap();
        assert_eq!(o, "http://127.0.0.1:8080");
        for p in Product::ALL {
            assert_eq!(base_url(p, "cn-beijing", Some(&o)), "http://127.0.0.1:8080");
        }
        assert_eq!(
            normalize_override("ecs.cn-beijing.aliyuncs.com", "env").unwrap(),
            "https://ecs.cn-beijing.aliyuncs.com"
        );
        assert!(is_loopback(&o));
        assert!(!is_loopback("https://ecs.aliyuncs.com"));
    }

    #[test]
    fn bad_overrides_are_explained() {
        for bad in ["", "ftp://x", "http://h/path", "http://h/?a=b", "http://"] {
            assert!(
                matches!(
                    normalize_override(bad, "flag --endpoint"),
                    Err(ConfigError::InvalidEndpoint { .. })
                ),
                "{bad}"
            );
        }
        for with_user in ["https://id:s3cr3t@host", "https://id:s3/cr3t@host"] {
            let e = normalize_override(with_user, "flag").unwrap_err();
            assert!(!e.to_string().contains("s3"), "{e}");
        }
    }
}
