//! Where a run's resources live: the endpoint and the account (by a fingerprint of the
//! AccessKey id) it ran against, recorded in its journal's first line so that `ecsh cleanup`,
//! `ecsh release` and `ecsh cleanup --orphans` refuse to act on a run through another target.
//! Against another endpoint or with another key, every describe says "not there" or "not
//! allowed", and neither may ever be read as "released".
//!
//! Pure data: the fingerprint is a hash, never the key id itself.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The target of a run, as its journal records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunTarget {
    /// The endpoint override (`http://127.0.0.1:8080`), or `aliyun` for the regional endpoints.
    pub endpoint: String,
    /// The run's default region.
    pub region: String,
    /// `key:` and the first 12 hex digits of SHA-256 of the AccessKey id.
    pub account: String,
}

impl RunTarget {
    pub fn new(endpoint: Option<&str>, region: &str, access_key_id: &str) -> RunTarget {
        let digest = Sha256::digest(access_key_id.as_bytes());
        RunTarget {
            endpoint: endpoint.unwrap_or("aliyun").to_string(),
            region: region.to_string(),
            account: format!("key:{}", &hex::encode(digest)[..12]),
        }
    }

    /// The target `client` talks to.
    pub fn of(client: &crate::rpc::Client) -> RunTarget {
        RunTarget::new(
            client.endpoint_override(),
            client.region(),
            client.access_key_id(),
        )
    }

    /// Why acting on a run recorded with `self` through `current` would be wrong, or `None`
    /// when both are the same cloud and account. The region may differ: each resource's own
    /// region is in the journal and every call names it.
    pub fn mismatch(&self, current: &RunTarget) -> Option<String> {
        if self.endpoint != current.endpoint {
            return Some(format!(
                "it ran against {} and this is {}; point ecsh at the run's target (--endpoint, or no --endpoint for Alibaba Cloud)",
                self.endpoint, current.endpoint
            ));
        }
        if self.account != current.account {
            return Some(format!(
                "it ran with another AccessKey (fingerprint {}, now {}): with these credentials the \
                 cloud would show none of its resources, and nothing could be released or verified; \
                 use the credentials (--profile or environment) the run used",
                self.account, current.account
            ));
        }
        None
    }
}

impl std::fmt::Display for RunTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({})", self.endpoint, self.region, self.account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_key_or_endpoint_is_a_mismatch_and_the_region_is_not() {
        let home = RunTarget::new(Some("http://127.0.0.1:1"), "cn-hangzhou", "LTAIabc");
        assert!(!home.account.contains("LTAI"), "a fingerprint, not the id");
        let same = RunTarget::new(Some("http://127.0.0.1:1"), "cn-shanghai", "LTAIabc");
        assert_eq!(home.mismatch(&same), None);
        let key = RunTarget::new(Some("http://127.0.0.1:1"), "cn-hangzhou", "LTAIxyz");
        assert!(home.mismatch(&key).unwrap().contains("another AccessKey"));
        let cloud = RunTarget::new(None, "cn-hangzhou", "LTAIabc");
        assert!(home.mismatch(&cloud).unwrap().contains("aliyun"));
    }
}
