//! The Runware API key, kept out of every printout. It comes from `RUNWARE_API_KEY`, or from
//! the OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows)
//! where the settings dialog stores it; never from a settings file.

use std::fmt;

/// The environment variable holding the key.
pub const KEY_ENV: &str = "RUNWARE_API_KEY";
/// The keyring entry holding the key: service and user names.
pub const KEYRING_SERVICE: &str = "touchup";
pub const KEYRING_USER: &str = "runware-api-key";

/// A Runware API key. Its `Debug` and `Display` never show it; only [`ApiKey::expose`] does,
/// for the `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

/// Where a key was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Environment,
    Keyring,
}

/// The OS keyring could not be used.
#[derive(Debug, thiserror::Error)]
#[error("the system keyring is not available ({0}); set RUNWARE_API_KEY instead")]
pub struct KeyringError(String);

fn entry() -> Result<keyring::Entry, KeyringError> {
    if std::env::var_os("TOUCHUP_NO_KEYRING").is_some() {
        return Err(KeyringError(
            "the OS keyring is turned off (TOUCHUP_NO_KEYRING)".into(),
        ));
    }
    keyring::Entry::new(KEYRING_SERVICE, KEYRING_USER).map_err(|e| KeyringError(e.to_string()))
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

    /// The key stored in the OS keyring, if any. Blocking: call it from a plain thread (the
    /// UI thread, or `spawn_blocking`), never from inside a tokio task.
    pub fn from_keyring() -> Result<Option<ApiKey>, KeyringError> {
        match entry()?.get_password() {
            Ok(text) => Ok(ApiKey::new(&text)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(KeyringError(e.to_string())),
        }
    }

    /// Stores this key in the OS keyring (same threading rule as [`ApiKey::from_keyring`]).
    pub fn store_in_keyring(&self) -> Result<(), KeyringError> {
        entry()?
            .set_password(&self.0)
            .map_err(|e| KeyringError(e.to_string()))
    }

    /// Removes the stored key; fine when there is none.
    pub fn delete_from_keyring() -> Result<(), KeyringError> {
        match entry()?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(KeyringError(e.to_string())),
        }
    }

    /// The configured key and where it came from: `RUNWARE_API_KEY` first, then the keyring
    /// (a keyring that cannot be reached counts as no key, logged at debug level). Setting
    /// `TOUCHUP_NO_KEYRING` skips the keyring (tests, CI).
    pub fn configured() -> Option<(ApiKey, KeySource)> {
        if let Some(key) = ApiKey::from_env() {
            return Some((key, KeySource::Environment));
        }
        if std::env::var_os("TOUCHUP_NO_KEYRING").is_some() {
            return None;
        }
        match ApiKey::from_keyring() {
            Ok(Some(key)) => Some((key, KeySource::Keyring)),
            Ok(None) => None,
            Err(e) => {
                tracing::debug!("{e}");
                None
            }
        }
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

    #[test]
    fn an_unreachable_keyring_is_an_error_not_a_panic() {
        // In a test environment without a Secret Service this fails cleanly (or, on a desktop,
        // answers); either way it must not panic, and it must not be mistaken for a key.
        match ApiKey::from_keyring() {
            Ok(_) => {}
            Err(e) => assert!(e.to_string().contains("RUNWARE_API_KEY"), "{e}"),
        }
    }
}
