//! The Runware API key, kept out of every printout.

use std::fmt;

/// The environment variable holding the key.
pub const KEY_ENV: &str = "RUNWARE_API_KEY";

/// A Runware API key. Its `Debug` and `Display` never show it; only [`ApiKey::expose`] does,
/// for the `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

/// Where a key was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Environment,
}

impl ApiKey {
    /// A key from text; `None` when it is blank.
    pub fn new(text: &str) -> Option<ApiKey> {
        let t = text.trim();
        (!t.is_empty()).then(|| ApiKey(t.to_string()))
    }

    /// The key from `RUNWARE_API_KEY`, if set and not blank.
    pub fn from_env() -> Option<ApiKey> {
        std::env::var(KEY_ENV).ok().and_then(|v| ApiKey::new(&v))
    }

    /// The configured key and where it came from. Only the environment is consulted in this
    /// build (no OS keyring backend is compiled in).
    pub fn configured() -> Option<(ApiKey, KeySource)> {
        ApiKey::from_env().map(|k| (k, KeySource::Environment))
    }

    /// The secret itself, for the request header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_never_prints() {
        let key = ApiKey::new("  sk-secret-123 ").unwrap();
        assert_eq!(key.expose(), "sk-secret-123");
        assert!(!format!("{key:?} {key} {key:#?}").contains("secret"));
        assert!(ApiKey::new("   ").is_none());
    }
}
