//! `Secret`: a string that never shows itself.
//!
//! AccessKeySecrets and SecurityTokens live in this type from the moment they are read. Its
//! `Debug` and `Display` print a placeholder, so a secret cannot leak through a log line, an
//! error message or a `{:?}` of a struct that holds one; the only way to the bytes is the
//! explicit [`Secret::expose`]. Comparison is constant-time, for the simulator's checks.

use std::fmt;
use subtle::ConstantTimeEq;

#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    pub const PLACEHOLDER: &'static str = "<redacted>";

    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself. Call sites are few and greppable: the signer, the simulator's
    /// verifier, and the simulator printing the credentials it generated.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Constant-time equality, so a timing side channel cannot guess a secret byte by byte.
    pub fn ct_eq(&self, other: &str) -> bool {
        self.0.len() == other.len() && bool::from(self.0.as_bytes().ct_eq(other.as_bytes()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Secret::PLACEHOLDER)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Secret::PLACEHOLDER)
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.ct_eq(&other.0)
    }
}

impl Eq for Secret {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{s}"), "<redacted>");
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            secret: Secret,
        }
        assert!(!format!("{:?}", Holder { secret: s.clone() }).contains("hunter2"));
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn comparison_is_exact() {
        let s = Secret::new("abc");
        assert!(s.ct_eq("abc"));
        assert!(!s.ct_eq("abd"));
        assert!(!s.ct_eq("ab"));
    }
}
