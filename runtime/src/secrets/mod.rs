//! Secrets at rest: values (the JumpCloud API key, later connector credentials) sealed
//! with ChaCha20-Poly1305 under a 256-bit key the administrator holds
//! (`SLUICE_SECRET_KEY`, 64 hex digits; `sluice secret keygen` makes one). The data dir
//! keeps only nonce + ciphertext, bound to the secret's name, so a copied data dir without
//! the key reveals nothing and a ciphertext moved to another name does not open.
//!
//! # Layout
//! One file: [`SecretKey`], [`seal`]/[`open`] and the [`SecretStore`] trait the store
//! implements.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

/// The environment variable holding the key.
pub const KEY_VAR: &str = "SLUICE_SECRET_KEY";

/// Why a secret could not be sealed, opened or named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error(
        "{KEY_VAR} is not set: secrets are encrypted under a key you hold; create one with \
         `sluice secret keygen` and export it as {KEY_VAR}"
    )]
    NoKey,
    #[error("{KEY_VAR} must be 64 hexadecimal digits (a 256-bit key from `sluice secret keygen`)")]
    BadKey,
    #[error(
        "secret `{0}` does not open with this {KEY_VAR}: the key is not the one it was stored \
         under, or the data was altered"
    )]
    Undecryptable(String),
    #[error("secret name `{0}`: use lower-case letters, digits, `.`, `-` and `_` (1-64)")]
    BadName(String),
    #[error("no randomness available: {0}")]
    Random(String),
    #[error("store: {0}")]
    Store(String),
}

impl SecretError {
    pub fn code(&self) -> crate::code::Code {
        use crate::code::Code;
        match self {
            SecretError::NoKey => Code::SecretKeyMissing,
            SecretError::BadKey => Code::SecretKeyInvalid,
            SecretError::Undecryptable(_) => Code::SecretUndecryptable,
            SecretError::BadName(_) => Code::SecretNameInvalid,
            SecretError::Random(_) | SecretError::Store(_) => Code::SecretStoreError,
        }
    }
}

/// The administrator's key.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(****)")
    }
}

impl SecretKey {
    /// Parses 64 hex digits.
    pub fn parse(text: &str) -> Result<SecretKey, SecretError> {
        let bytes = hex::decode(text.trim()).map_err(|_| SecretError::BadKey)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| SecretError::BadKey)?;
        Ok(SecretKey(arr))
    }

    /// The key from `env` (`SLUICE_SECRET_KEY`), if set.
    pub fn from_env(
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<SecretKey>, SecretError> {
        env(KEY_VAR)
            .filter(|k| !k.trim().is_empty())
            .map(|k| SecretKey::parse(&k))
            .transpose()
    }

    /// A fresh random key, as hex.
    pub fn generate_hex() -> Result<String, SecretError> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).map_err(|e| SecretError::Random(e.to_string()))?;
        Ok(hex::encode(k))
    }
}

/// Checks a secret's name.
pub fn check_name(name: &str) -> Result<(), SecretError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(SecretError::BadName(name.chars().take(80).collect()))
    }
}

/// Encrypts `value` for `name`: 12-byte random nonce followed by the ciphertext and tag.
pub fn seal(key: &SecretKey, name: &str, value: &[u8]) -> Result<Vec<u8>, SecretError> {
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce).map_err(|e| SecretError::Random(e.to_string()))?;
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&key.0));
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: value,
                aad: name.as_bytes(),
            },
        )
        .map_err(|_| SecretError::Undecryptable(name.to_owned()))?;
    let mut out = nonce.to_vec();
    out.extend(ct);
    Ok(out)
}

/// Decrypts what [`seal`] produced for `name`.
pub fn open(key: &SecretKey, name: &str, sealed: &[u8]) -> Result<Vec<u8>, SecretError> {
    if sealed.len() < 12 + 16 {
        return Err(SecretError::Undecryptable(name.to_owned()));
    }
    let (nonce, ct) = sealed.split_at(12);
    ChaCha20Poly1305::new(Key::from_slice(&key.0))
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ct,
                aad: name.as_bytes(),
            },
        )
        .map_err(|_| SecretError::Undecryptable(name.to_owned()))
}

/// Where sealed secrets live (the store's `secrets` tree).
pub trait SecretStore: Send + Sync {
    fn secret_put(&self, name: &str, sealed: &[u8]) -> Result<(), SecretError>;
    fn secret_get(&self, name: &str) -> Result<Option<Vec<u8>>, SecretError>;
    fn secret_names(&self) -> Result<Vec<String>, SecretError>;
    fn secret_remove(&self, name: &str) -> Result<bool, SecretError>;
}

/// Reads and decrypts a secret; `Ok(None)` when none is stored under `name`.
pub fn read(
    store: &dyn SecretStore,
    key: Option<&SecretKey>,
    name: &str,
) -> Result<Option<String>, SecretError> {
    let Some(sealed) = store.secret_get(name)? else {
        return Ok(None);
    };
    let key = key.ok_or(SecretError::NoKey)?;
    let plain = open(key, name, &sealed)?;
    String::from_utf8(plain)
        .map(Some)
        .map_err(|_| SecretError::Undecryptable(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_name() {
        let key = SecretKey::parse(&SecretKey::generate_hex().unwrap()).unwrap();
        let other = SecretKey::parse(&SecretKey::generate_hex().unwrap()).unwrap();
        let sealed = seal(&key, "jumpcloud.api_key", b"sk-123").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"sk-123"));
        assert_eq!(open(&key, "jumpcloud.api_key", &sealed).unwrap(), b"sk-123");
        assert!(open(&other, "jumpcloud.api_key", &sealed).is_err());
        assert!(open(&key, "jumpcloud.org_id", &sealed).is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(open(&key, "jumpcloud.api_key", &tampered).is_err());
        assert_ne!(
            seal(&key, "n", b"v").unwrap(),
            seal(&key, "n", b"v").unwrap()
        );
        assert!(format!("{key:?}").contains("****"));
    }

    #[test]
    fn keys_and_names_are_checked() {
        assert_eq!(SecretKey::parse("abc").unwrap_err(), SecretError::BadKey);
        assert!(SecretKey::parse(&"0".repeat(64)).is_ok());
        assert!(SecretKey::from_env(|_| None).unwrap().is_none());
        assert!(check_name("jumpcloud.api_key").is_ok());
        assert!(check_name("Bad Name").is_err());
        assert!(check_name("").is_err());
    }
}
