//! The keys a data directory trusts to sign plugins, and its install policy (whether every
//! installed component must be signed by one of them), kept in the store.

use serde::{Deserialize, Serialize};

use super::PluginHostError;
use super::signing::{self, KeyError, PublicKey, SignatureError, Signer, Trusted};
use crate::code::Code;
use crate::store::{StoreError, TrustStore};

/// The setting that makes every install require a signature by a trusted key.
const REQUIRE_SIGNATURES: &str = "require_signatures";

/// A trusted key as stored and listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedKey {
    pub name: String,
    /// `ed25519:<base64>`, as `sluice trust add` took it.
    pub public_key: String,
    pub fingerprint: String,
    /// RFC 3339, UTC.
    pub added_at: String,
}

/// Why a trusted key could not be added or removed.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error(
        "trusted key name `{0}` is not valid: use 1-64 lowercase letters, digits, `.`, `_` \
         or `-`"
    )]
    BadName(String),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(
        "a trusted key named `{0}` exists; remove it first (`sluice trust remove {0}`) or \
         choose another name"
    )]
    Exists(String),
    #[error("that key is already trusted, as `{0}`")]
    KeyExists(String),
    #[error("no trusted key is named `{0}` (`sluice trust list` lists them)")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TrustError {
    pub fn code(&self) -> Code {
        match self {
            TrustError::BadName(_) => Code::TrustNameInvalid,
            TrustError::Key(e) => e.code(),
            TrustError::Exists(_) | TrustError::KeyExists(_) => Code::TrustKeyExists,
            TrustError::NotFound(_) => Code::TrustKeyNotFound,
            TrustError::Store(e) => e.code(),
        }
    }
}

fn check_name(name: &str) -> Result<(), TrustError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(TrustError::BadName(name.chars().take(80).collect()))
    }
}

/// Trusts `public_key` (as `sluice plugin keygen` prints it) under `name`. Refused, with
/// nothing changed, for a bad name or key, a name in use, or a key trusted already.
pub fn add(store: &dyn TrustStore, name: &str, public_key: &str) -> Result<TrustedKey, TrustError> {
    check_name(name)?;
    let key = PublicKey::parse(public_key)?;
    let fingerprint = key.fingerprint();
    if let Some(other) = list(store)?
        .into_iter()
        .find(|k| k.fingerprint == fingerprint)
    {
        return Err(TrustError::KeyExists(other.name));
    }
    let record = TrustedKey {
        name: name.to_owned(),
        public_key: key.to_text(),
        fingerprint,
        added_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
    };
    let json = serde_json::to_value(&record).map_err(|e| StoreError::Backend(e.to_string()))?;
    if !store.trusted_key_add(name, &json)? {
        return Err(TrustError::Exists(name.to_owned()));
    }
    Ok(record)
}

/// The trusted keys, by name.
pub fn list(store: &dyn TrustStore) -> Result<Vec<TrustedKey>, StoreError> {
    store
        .trusted_key_list()?
        .into_iter()
        .map(|v| {
            serde_json::from_value::<TrustedKey>(v).map_err(|e| StoreError::Corrupt {
                key: "trusted_keys".into(),
                reason: e.to_string(),
            })
        })
        .collect()
}

/// Stops trusting the key `name`. Plugins it signed stay installed; their records keep the
/// signer they were installed with.
pub fn remove(store: &dyn TrustStore, name: &str) -> Result<TrustedKey, TrustError> {
    let key = list(store)?
        .into_iter()
        .find(|k| k.name == name)
        .ok_or_else(|| TrustError::NotFound(name.chars().take(80).collect()))?;
    if !store.trusted_key_remove(name)? {
        return Err(TrustError::NotFound(name.to_owned()));
    }
    Ok(key)
}

/// Whether every install must be signed by a trusted key (off unless turned on).
pub fn requires_signatures(store: &dyn TrustStore) -> Result<bool, StoreError> {
    Ok(store
        .setting_get(REQUIRE_SIGNATURES)?
        .and_then(|v| v.as_bool())
        .unwrap_or(false))
}

pub fn set_requires_signatures(store: &dyn TrustStore, on: bool) -> Result<(), StoreError> {
    store.setting_put(REQUIRE_SIGNATURES, &serde_json::Value::Bool(on))
}

/// Who signed `bytes`, checked against the trusted keys of `store` (none without a store),
/// or the refusal: a signature that does not verify always; an unsigned component, or one
/// signed by a key not trusted, when `require` is set or the data dir requires signatures.
pub fn admit(
    store: Option<&dyn TrustStore>,
    label: &str,
    bytes: &[u8],
    require: bool,
) -> Result<Signer, PluginHostError> {
    let (keys, required) = match store {
        Some(s) => (list(s)?, require || requires_signatures(s)?),
        None => (Vec::new(), require),
    };
    let trusted: Vec<Trusted> = keys
        .into_iter()
        .filter_map(|k| {
            PublicKey::parse(&k.public_key)
                .ok()
                .map(|key| Trusted { name: k.name, key })
        })
        .collect();
    let signer = signing::check(label, bytes, &trusted)?;
    // What is not a component at all is the loader's to refuse, with its own reason.
    let component = bytes.starts_with(b"\0asm\x0d\x00\x01\x00");
    if required && component {
        match &signer {
            Signer::Unsigned => return Err(SignatureError::Required(label.to_owned()).into()),
            Signer::Untrusted { fingerprint } => {
                return Err(SignatureError::Untrusted {
                    label: label.to_owned(),
                    fingerprint: fingerprint.clone(),
                }
                .into());
            }
            Signer::Trusted { .. } | Signer::Bundled => {}
        }
    }
    Ok(signer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::signing::SecretKey;

    #[test]
    fn keys_are_added_listed_and_removed_and_bad_requests_change_nothing() {
        let s = crate::store::temporary().unwrap();
        let s: &dyn TrustStore = &*s;
        let (a, b) = (
            SecretKey::generate().unwrap(),
            SecretKey::generate().unwrap(),
        );
        let added = add(s, "acme", &a.public().to_text()).unwrap();
        assert_eq!(added.fingerprint, a.public().fingerprint());
        let code = |r: Result<TrustedKey, TrustError>| r.unwrap_err().code();
        assert_eq!(
            code(add(s, "acme", &b.public().to_text())),
            Code::TrustKeyExists
        );
        assert_eq!(
            code(add(s, "other", &a.public().to_text())),
            Code::TrustKeyExists
        );
        assert_eq!(
            code(add(s, "Bad Name", &b.public().to_text())),
            Code::TrustNameInvalid
        );
        assert_eq!(code(add(s, "beta", "ed25519:nope")), Code::TrustKeyInvalid);
        assert_eq!(list(s).unwrap(), vec![added.clone()]);
        add(s, "beta", &b.public().to_text()).unwrap();
        let names: Vec<String> = list(s).unwrap().into_iter().map(|k| k.name).collect();
        assert_eq!(names, ["acme", "beta"]);
        assert_eq!(remove(s, "acme").unwrap(), added);
        assert_eq!(code(remove(s, "acme")), Code::TrustKeyNotFound);
        assert_eq!(list(s).unwrap().len(), 1);
    }

    #[test]
    fn the_policy_refuses_unsigned_and_untrusted_components_and_a_bad_signature_always() {
        let s = crate::store::temporary().unwrap();
        let s: &dyn TrustStore = &*s;
        let (a, b) = (
            SecretKey::generate().unwrap(),
            SecretKey::generate().unwrap(),
        );
        let plain = b"\0asm\x0d\x00\x01\x00\x00\x05\x04note".to_vec();
        let by_a = a.sign("c", &plain).unwrap();
        let by_b = b.sign("c", &plain).unwrap();
        add(s, "acme", &a.public().to_text()).unwrap();
        let store: Option<&dyn TrustStore> = Some(s);
        let code = |r: Result<Signer, PluginHostError>| r.unwrap_err().code();

        assert!(!requires_signatures(s).unwrap());
        assert_eq!(admit(store, "c", &plain, false).unwrap(), Signer::Unsigned);
        assert!(matches!(
            admit(store, "c", &by_b, false).unwrap(),
            Signer::Untrusted { .. }
        ));
        assert_eq!(
            code(admit(store, "c", &plain, true)),
            Code::SignatureRequired
        );
        // Not a component: left to the loader, which says what it is instead.
        assert_eq!(
            admit(store, "c", b"\x89PNG", true).unwrap(),
            Signer::Unsigned
        );
        assert_eq!(
            code(admit(store, "c", &by_b, true)),
            Code::SignatureUntrusted
        );
        assert!(matches!(
            admit(store, "c", &by_a, true).unwrap(),
            Signer::Trusted { ref key, .. } if key == "acme"
        ));

        // The standing setting does what the flag does.
        set_requires_signatures(s, true).unwrap();
        assert!(requires_signatures(s).unwrap());
        assert_eq!(
            code(admit(store, "c", &plain, false)),
            Code::SignatureRequired
        );
        set_requires_signatures(s, false).unwrap();
        assert_eq!(admit(store, "c", &plain, false).unwrap(), Signer::Unsigned);

        let mut tampered = by_a.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 0x20;
        assert_eq!(
            code(admit(store, "c", &tampered, false)),
            Code::SignatureInvalid
        );
        assert_eq!(
            code(admit(None, "c", &tampered, false)),
            Code::SignatureInvalid
        );
    }
}
