//! Sluice's plugin permission strings and the checks a host call passes, as pure functions
//! over the granted strings: the runtime's broker and the SDK's native test host
//! (`sluice_plugin::testing`) both check calls with these, so a call a test lets through
//! is one production lets through, refused with the same message.
//!
//! Permission strings:
//! - `jumpcloud:<scope>`, with JumpCloud's own scope names ([`SCOPES`]). A write scope
//!   covers its `.readonly` reads.
//! - `http:<connector>` for one connector, `http:*` for any.
//! - `state` for the per-workflow key/value store.

use std::collections::BTreeSet;

use crate::scopes::{Needs, SCOPES, jumpcloud_needs};

/// One parsed permission.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Permission {
    JumpCloud(String),
    Http(String),
    State,
}

impl Permission {
    /// Parses a permission string, or says why it is not one.
    pub fn parse(s: &str) -> Result<Permission, String> {
        if s == "state" {
            return Ok(Permission::State);
        }
        if let Some(scope) = s.strip_prefix("jumpcloud:") {
            return if SCOPES.contains(&scope) {
                Ok(Permission::JumpCloud(scope.to_owned()))
            } else {
                Err(format!("`{s}`: unknown JumpCloud scope `{scope}`"))
            };
        }
        if let Some(name) = s.strip_prefix("http:") {
            let valid = name == "*"
                || (!name.is_empty()
                    && name.len() <= 64
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            return if valid {
                Ok(Permission::Http(name.to_owned()))
            } else {
                Err(format!(
                    "`{s}`: a connector name is letters, digits, `-` and `_`, or `*`"
                ))
            };
        }
        Err(format!(
            "`{s}`: not a permission (expected `jumpcloud:<scope>`, `http:<connector>` or `state`)"
        ))
    }
}

/// Whether `jumpcloud:<scope>` itself is granted.
pub fn holds_scope(grants: &BTreeSet<String>, scope: &str) -> bool {
    grants.contains(&format!("jumpcloud:{scope}"))
}

/// Whether `state` is granted.
pub fn allows_state(grants: &BTreeSet<String>) -> bool {
    grants.contains("state")
}

/// Whether the connector may be called (`http:<connector>` or `http:*`).
pub fn allows_connector(grants: &BTreeSet<String>, connector: &str) -> bool {
    grants.contains("http:*") || grants.contains(&format!("http:{connector}"))
}

/// The scopes a JumpCloud call needs when `plugin`'s grants meet them, or why the call is
/// refused: the call's needs cannot be told, or a scope is not granted.
pub fn check_jumpcloud(
    plugin: &str,
    grants: &BTreeSet<String>,
    method: &str,
    path: &str,
    query: &[(String, String)],
    body: Option<&str>,
) -> Result<Needs, String> {
    let needs = jumpcloud_needs(method, path, query, body)
        .map_err(|reason| format!("plugin `{plugin}`: JumpCloud call refused: {reason}"))?;
    let ungranted = needs.unmet(|s| holds_scope(grants, s));
    if !ungranted.is_empty() {
        return Err(format!(
            "plugin `{plugin}` called {method} {path} which needs {needs}; it was not granted \
             {ungranted} (declare it in the manifest and grant it at install)"
        ));
    }
    Ok(needs)
}

/// Why `plugin` may not call `connector`, if it may not.
pub fn check_connector(
    plugin: &str,
    grants: &BTreeSet<String>,
    connector: &str,
) -> Result<(), String> {
    if allows_connector(grants, connector) {
        return Ok(());
    }
    Err(format!(
        "plugin `{plugin}` called connector `{connector}`; it was not granted `http:{connector}`"
    ))
}

/// Why `plugin` may not use state, if it may not.
pub fn check_state(plugin: &str, grants: &BTreeSet<String>) -> Result<(), String> {
    if allows_state(grants) {
        return Ok(());
    }
    Err(format!(
        "plugin `{plugin}` used state; it was not granted `state`"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(perms: &[&str]) -> BTreeSet<String> {
        perms.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn checks_refuse_what_is_not_granted_and_say_what_is_missing() {
        let g = set(&["jumpcloud:users", "http:jira"]);
        let list = check_jumpcloud("p", &g, "GET", "/api/systemusers", &[], None).unwrap();
        assert_eq!(list.to_string(), "jumpcloud:users.readonly");
        let e = check_jumpcloud("p", &g, "GET", "/api/systems", &[], None).unwrap_err();
        assert!(e.contains("it was not granted jumpcloud:systems"), "{e}");
        let e = check_jumpcloud("p", &g, "GET", "/nowhere", &[], None).unwrap_err();
        assert!(e.starts_with("plugin `p`: JumpCloud call refused"), "{e}");
        assert!(check_connector("p", &g, "jira").is_ok());
        assert_eq!(
            check_connector("p", &g, "slack").unwrap_err(),
            "plugin `p` called connector `slack`; it was not granted `http:slack`"
        );
        assert!(check_connector("p", &set(&["http:*"]), "slack").is_ok());
        assert!(check_state("p", &g).is_err() && check_state("p", &set(&["state"])).is_ok());
    }
}
