//! The permission model. A plugin declares permission strings in its manifest; an
//! administrator grants some of them at install; a workflow runs as a JumpCloud role. A
//! brokered call passes only if the plugin holds a permission covering it AND (for JumpCloud)
//! the role grants the call's scope.
//!
//! Permission strings:
//! - `jumpcloud:<scope>`, with JumpCloud's own scope names (`users`, `users.readonly`,
//!   `groups`, `systems.readonly`, ...). A write scope covers its `.readonly` reads.
//! - `http:<connector>` for one connector, `http:*` for any.
//! - `state` for the per-workflow key/value store.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// JumpCloud's scope vocabulary (from the `x-scopes` of its API description), plus
/// `directoryinsights` for the Directory Insights API.
pub const SCOPES: &[&str] = &[
    "administrators",
    "administrators.readonly",
    "applications",
    "applications.readonly",
    "authn",
    "authn.readonly",
    "commandrunner.legacy",
    "commands",
    "commands.readonly",
    "commands.schedule",
    "directories",
    "directories.readonly",
    "directoryinsights",
    "groups",
    "groups.readonly",
    "mdm",
    "mdm.readonly",
    "mfa",
    "mfa.readonly",
    "organizations",
    "organizations.readonly",
    "organizations.billing",
    "radius",
    "radius.readonly",
    "settings.readonly",
    "subscriptions.readonly",
    "systems",
    "systems.readonly",
    "users",
    "users.readonly",
];

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

/// The permissions a plugin holds for a call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants(BTreeSet<String>);

impl Grants {
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(perms: I) -> Self {
        Grants(perms.into_iter().map(Into::into).collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// No permission at all: the plugin can reach nothing outside its own call, so
    /// running it again changes nothing anywhere.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn allows_state(&self) -> bool {
        self.0.contains("state")
    }

    pub fn allows_connector(&self, connector: &str) -> bool {
        self.0.contains("http:*") || self.0.contains(&format!("http:{connector}"))
    }

    /// These grants with connector access cut down to `connector` (if it was allowed at
    /// all); other grants are kept.
    pub fn narrowed_to_connector(&self, connector: Option<&str>) -> Grants {
        let mut out: BTreeSet<String> = self
            .0
            .iter()
            .filter(|g| !g.starts_with("http:"))
            .cloned()
            .collect();
        if let Some(c) = connector.filter(|c| self.allows_connector(c)) {
            out.insert(format!("http:{c}"));
        }
        Grants(out)
    }

    /// Whether one of `scopes` (any of them suffices) is held.
    pub fn allows_scope(&self, scopes: &[&str]) -> bool {
        scopes
            .iter()
            .any(|s| self.0.contains(&format!("jumpcloud:{s}")))
    }
}

/// The JumpCloud scopes that allow a call (any one suffices), or why the call is refused.
/// Paths not in this table are refused: a call the host cannot classify never leaves it.
pub fn scopes_for(method: &str, path: &str) -> Result<&'static [&'static str], String> {
    let read = match method {
        "GET" => true,
        "POST" | "PUT" | "PATCH" | "DELETE" => false,
        other => return Err(format!("unsupported method `{other}`")),
    };
    // Only plain segments: no percent-encoding, dot segments, empty segments, query or
    // fragment, so the path the scope was checked for is the path that is sent.
    let plain = |seg: &str| {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.~@:".contains(&b))
    };
    if path.len() > 1024
        || !path.starts_with('/')
        || !path[1..].trim_end_matches('/').split('/').all(plain)
    {
        return Err(format!(
            "invalid path `{}`: use plain segments (letters, digits, `-_.~@:`), no encoding or dot segments",
            path.chars().take(200).collect::<String>()
        ));
    }
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let rw = |w: &'static [&'static str], r: &'static [&'static str]| if read { r } else { w };
    const USERS_R: &[&str] = &["users", "users.readonly"];
    const GROUPS_R: &[&str] = &["groups", "groups.readonly"];
    const SYSTEMS_R: &[&str] = &["systems", "systems.readonly"];
    const APPS_R: &[&str] = &["applications", "applications.readonly"];
    let scopes: &'static [&'static str] = match segs.as_slice() {
        ["api", "systemusers", ..] => rw(&["users"], USERS_R),
        // searches are POSTs that only read
        ["api", "search", "systemusers"] => USERS_R,
        ["api", "search", "systems"] => SYSTEMS_R,
        ["api", "users", ..] => rw(
            &["administrators"],
            &["administrators", "administrators.readonly"],
        ),
        ["api", "systems", ..] => rw(&["systems"], SYSTEMS_R),
        ["api", "applications", ..] => rw(&["applications"], APPS_R),
        ["api", "commands", ..] => rw(&["commands"], &["commands", "commands.readonly"]),
        ["api", "organizations", ..] => rw(
            &["organizations"],
            &["organizations", "organizations.readonly"],
        ),
        ["api", "v2", "usergroups", _, "members"] => rw(&["groups"], USERS_R),
        ["api", "v2", "usergroups", ..] | ["api", "v2", "systemgroups", ..] => {
            rw(&["groups"], GROUPS_R)
        }
        ["api", "v2", "users", _, "memberof"] => rw(&["groups"], GROUPS_R),
        ["api", "v2", "users", _, "systems"] => rw(&["systems"], SYSTEMS_R),
        ["api", "v2", "users", _, "applications"] => rw(&["applications"], APPS_R),
        ["api", "v2", "users", ..] => rw(&["users"], USERS_R),
        ["api", "v2", "systems", ..] => rw(&["systems"], SYSTEMS_R),
        ["api", "v2", "applications", ..] => rw(&["applications"], APPS_R),
        // policies are device configuration: JumpCloud files them under systems
        ["api", "v2", "policies", ..] => rw(&["systems"], SYSTEMS_R),
        ["api", "v2", "ldapservers", ..] => {
            rw(&["directories"], &["directories", "directories.readonly"])
        }
        ["api", "v2", "radiusservers", ..] => rw(&["radius"], &["radius", "radius.readonly"]),
        ["insights", "directory", "v1", ..] => &["directoryinsights"],
        _ => {
            return Err(format!(
                "{method} {path} is not a JumpCloud API path Sluice knows"
            ));
        }
    };
    Ok(scopes)
}

/// JumpCloud's administrator roles; a workflow runs as one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    #[serde(rename = "Administrator With Billing")]
    AdministratorWithBilling,
    #[serde(rename = "Administrator")]
    Administrator,
    #[serde(rename = "Manager")]
    Manager,
    #[serde(rename = "Help Desk")]
    HelpDesk,
    #[serde(rename = "Read Only")]
    ReadOnly,
    #[serde(rename = "Billing Only")]
    BillingOnly,
    #[serde(rename = "Command Runner")]
    CommandRunner,
    #[serde(rename = "Command Runner With Billing")]
    CommandRunnerWithBilling,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::AdministratorWithBilling,
        Role::Administrator,
        Role::Manager,
        Role::HelpDesk,
        Role::ReadOnly,
        Role::BillingOnly,
        Role::CommandRunner,
        Role::CommandRunnerWithBilling,
    ];

    /// The scopes this role grants. JumpCloud publishes no role→scope table; this one is
    /// deliberately conservative (documented in the README).
    pub fn scopes(self) -> BTreeSet<&'static str> {
        let readonly = SCOPES.iter().copied().filter(|s| s.ends_with(".readonly"));
        match self {
            Role::AdministratorWithBilling => SCOPES.iter().copied().collect(),
            Role::Administrator => SCOPES
                .iter()
                .copied()
                .filter(|s| !matches!(*s, "administrators" | "organizations.billing"))
                .collect(),
            Role::Manager => readonly
                .chain([
                    "users",
                    "groups",
                    "systems",
                    "applications",
                    "commands",
                    "mfa",
                    "directoryinsights",
                ])
                .collect(),
            Role::HelpDesk => readonly
                .chain(["users", "mfa", "directoryinsights"])
                .collect(),
            Role::ReadOnly => readonly.chain(["directoryinsights"]).collect(),
            Role::BillingOnly => ["organizations.billing", "subscriptions.readonly"].into(),
            Role::CommandRunner => [
                "commandrunner.legacy",
                "commands.readonly",
                "systems.readonly",
            ]
            .into(),
            Role::CommandRunnerWithBilling => [
                "commandrunner.legacy",
                "commands.readonly",
                "systems.readonly",
                "organizations.billing",
                "subscriptions.readonly",
            ]
            .into(),
        }
    }

    /// Whether the role allows a call that needs any one of `scopes`.
    pub fn allows(self, scopes: &[&str]) -> bool {
        let granted = self.scopes();
        scopes.iter().any(|s| granted.contains(s))
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = serde_json::to_value(self).map_err(|_| std::fmt::Error)?;
        f.write_str(v.as_str().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_strings_parse_or_explain() {
        assert_eq!(Permission::parse("state"), Ok(Permission::State));
        assert_eq!(
            Permission::parse("jumpcloud:users"),
            Ok(Permission::JumpCloud("users".into()))
        );
        assert_eq!(
            Permission::parse("http:*"),
            Ok(Permission::Http("*".into()))
        );
        assert!(
            Permission::parse("jumpcloud:everything")
                .unwrap_err()
                .contains("unknown JumpCloud scope")
        );
        assert!(Permission::parse("http:a/b").is_err());
        assert!(
            Permission::parse("root")
                .unwrap_err()
                .contains("not a permission")
        );
    }

    #[test]
    fn calls_map_to_scopes_and_unknown_paths_are_refused() {
        assert_eq!(
            scopes_for("GET", "/api/systemusers").unwrap(),
            ["users", "users.readonly"]
        );
        assert_eq!(scopes_for("POST", "/api/systemusers").unwrap(), ["users"]);
        assert_eq!(
            scopes_for("POST", "/api/v2/usergroups/abc/members").unwrap(),
            ["groups"]
        );
        assert_eq!(
            scopes_for("GET", "/api/v2/usergroups/abc/members").unwrap(),
            ["users", "users.readonly"]
        );
        assert_eq!(
            scopes_for("POST", "/insights/directory/v1/events").unwrap(),
            ["directoryinsights"]
        );
        assert!(scopes_for("GET", "/api/../secret").is_err());
        assert!(scopes_for("GET", "/api/systemusers/%2e%2e/users").is_err());
        assert!(scopes_for("GET", "/api/systemusers/./x").is_err());
        assert!(scopes_for("GET", "/api//systemusers").is_err());
        assert!(scopes_for("GET", "/api/systemusers/a\\b").is_err());
        assert!(scopes_for("GET", "/api/systemusers?x=1").is_err());
        assert_eq!(
            scopes_for("POST", "/api/v2/users/x/memberof").unwrap(),
            ["groups"]
        );
        assert!(scopes_for("GET", "/nowhere").is_err());
        assert!(scopes_for("POST", "/sandbox/reset").is_err());
        assert_eq!(
            scopes_for("POST", "/api/search/systemusers").unwrap(),
            ["users", "users.readonly"]
        );
        assert!(scopes_for("TRACE", "/api/systemusers").is_err());
    }

    #[test]
    fn grants_and_roles_check_scopes() {
        let g = Grants::new(["jumpcloud:users.readonly", "http:jira"]);
        assert!(g.allows_scope(scopes_for("GET", "/api/systemusers").unwrap()));
        assert!(!g.allows_scope(scopes_for("POST", "/api/systemusers").unwrap()));
        assert!(g.allows_connector("jira") && !g.allows_connector("slack") && !g.allows_state());
        let any = Grants::new(["http:*", "state"]);
        let narrowed = any.narrowed_to_connector(Some("jira"));
        assert!(narrowed.allows_connector("jira") && !narrowed.allows_connector("slack"));
        assert!(narrowed.allows_state());
        assert!(
            !g.narrowed_to_connector(Some("slack"))
                .allows_connector("slack")
        );
        assert!(!any.narrowed_to_connector(None).allows_connector("jira"));
        assert!(Role::ReadOnly.allows(&["users", "users.readonly"]));
        assert!(!Role::ReadOnly.allows(&["users"]));
        assert!(Role::Administrator.allows(&["users"]));
        assert!(!Role::Administrator.allows(&["administrators"]));
        assert_eq!(Role::HelpDesk.to_string(), "Help Desk");
    }
}
