//! Admin API tokens and the audit log.
//!
//! A token is shown once when created; the store keeps only its SHA-256 (a stolen store
//! does not give API access), under which it is looked up on every request.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::store::{ServiceStore, StoreError};

/// What a token string starts with, so one is recognisable in a secret scanner.
pub const PREFIX: &str = "slk_";

/// Why a token could not be created or revoked.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token name `{0}` is not valid: use 1-64 lowercase letters, digits, `.`, `_` or `-`")]
    BadName(String),
    #[error("a token named `{0}` exists; revoke it first or choose another name")]
    Exists(String),
    #[error("no token is named `{0}`")]
    NotFound(String),
    #[error("cannot draw random bytes: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TokenError {
    pub fn code(&self) -> crate::code::Code {
        use crate::code::Code;
        match self {
            TokenError::BadName(_) => Code::TokenBadName,
            TokenError::Exists(_) => Code::TokenExists,
            TokenError::NotFound(_) => Code::TokenNotFound,
            TokenError::Random(_) => Code::RandomUnavailable,
            TokenError::Store(e) => e.code(),
        }
    }
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// Creates a token named `name`; returns the token (shown once) and its record.
pub fn create(store: &dyn ServiceStore, name: &str) -> Result<(String, Value), TokenError> {
    if crate::secrets::check_name(name).is_err() {
        return Err(TokenError::BadName(name.chars().take(80).collect()));
    }
    if list(store)?.iter().any(|t| t["name"] == name) {
        return Err(TokenError::Exists(name.to_owned()));
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
    let token = format!("{PREFIX}{}", hex::encode(bytes));
    let record = json!({
        "name": name,
        "created_at": now(),
        "hint": format!("{}…", &token[..PREFIX.len() + 4]),
    });
    store.token_put(&hash(&token), &record)?;
    Ok((token, record))
}

/// The name of the token, if it is a valid one.
pub fn authenticate(store: &dyn ServiceStore, token: &str) -> Result<Option<String>, StoreError> {
    if !token.starts_with(PREFIX) {
        return Ok(None);
    }
    Ok(store
        .token_get(&hash(token))?
        .and_then(|r| r["name"].as_str().map(str::to_owned)))
}

/// Every token's record (never the token), by name.
pub fn list(store: &dyn ServiceStore) -> Result<Vec<Value>, StoreError> {
    let mut out: Vec<Value> = store.token_list()?.into_iter().map(|(_, v)| v).collect();
    out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Ok(out)
}

/// Revokes the token named `name`.
pub fn revoke(store: &dyn ServiceStore, name: &str) -> Result<(), TokenError> {
    for (h, v) in store.token_list()? {
        if v["name"] == name {
            store.token_remove(&h)?;
            return Ok(());
        }
    }
    Err(TokenError::NotFound(name.to_owned()))
}

/// Appends to the audit log: who (a token's name), what (`workflow.create`, …), on what.
pub fn audit(
    store: &dyn ServiceStore,
    who: &str,
    action: &str,
    target: &str,
    detail: Value,
) -> Result<(), StoreError> {
    store.audit_append(&json!({
        "at": now(),
        "who": who,
        "action": action,
        "target": target,
        "detail": detail,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_kept_hashed_and_revocable() {
        let store = crate::store::temporary().unwrap();
        let store: &dyn ServiceStore = &*store;
        let (token, record) = create(store, "ci").unwrap();
        assert!(token.starts_with(PREFIX) && token.len() == PREFIX.len() + 64);
        assert_eq!(authenticate(store, &token).unwrap().as_deref(), Some("ci"));
        assert_eq!(authenticate(store, "slk_nope").unwrap(), None);
        assert_eq!(authenticate(store, &token[1..]).unwrap(), None);
        let stored = store.token_list().unwrap();
        assert!(
            !serde_json::to_string(&stored)
                .unwrap()
                .contains(&token[8..])
        );
        assert!(record["hint"].as_str().unwrap().len() < 12);
        assert!(matches!(create(store, "ci"), Err(TokenError::Exists(_))));
        assert!(matches!(
            create(store, "Bad Name"),
            Err(TokenError::BadName(_))
        ));
        revoke(store, "ci").unwrap();
        assert_eq!(authenticate(store, &token).unwrap(), None);
        assert!(matches!(revoke(store, "ci"), Err(TokenError::NotFound(_))));
    }
}
