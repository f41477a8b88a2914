//! JumpCloud's authorisation model as Sluice reads it: the scopes each API call needs
//! ([`jumpcloud_needs`]) and the scopes each predefined administrator role grants
//! ([`Role`]). It describes JumpCloud, not Sluice, so it lives with the simulator: the
//! simulator refuses a service account's call its role does not allow, as JumpCloud does,
//! and the runtime's broker checks the same table before a call leaves the host.
//!
//! A JumpCloud call needs every scope [`jumpcloud_needs`] lists: one for a plain call, the
//! scope of each end for a link between two objects (an association or a group
//! membership, from whichever side it is made), and `systems` for anything that gives
//! sudo on devices.

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

/// One scope a JumpCloud call needs; a read is also met by the scope's `.readonly` form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    pub scope: &'static str,
    pub read: bool,
}

impl Need {
    fn met_by(&self, has: &impl Fn(&str) -> bool) -> bool {
        has(self.scope) || (self.read && has(&format!("{}.readonly", self.scope)))
    }
}

impl std::fmt::Display for Need {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.read {
            write!(f, "{}.readonly", self.scope)
        } else {
            f.write_str(self.scope)
        }
    }
}

/// What a JumpCloud call needs: every one of these scopes. A link between two objects (an
/// association, a group membership) needs the scope of each end, whichever end it is made
/// from, and anything that gives sudo on devices needs `systems` as well.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs(Vec<Need>);

impl Needs {
    /// Adds a scope; a write and a read of the same scope make a write.
    fn add(&mut self, scope: &'static str, read: bool) {
        match self.0.iter_mut().find(|n| n.scope == scope) {
            Some(n) => n.read &= read,
            None => self.0.push(Need { scope, read }),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Need> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scope names, in order (`users`, `systems.readonly`).
    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(Need::to_string).collect()
    }

    /// What is left once the scopes `has` holds are taken away.
    pub fn unmet(&self, has: impl Fn(&str) -> bool) -> Needs {
        Needs(self.0.iter().filter(|n| !n.met_by(&has)).copied().collect())
    }
}

impl std::fmt::Display for Needs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, n) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" and ")?;
            }
            write!(f, "jumpcloud:{n}")?;
        }
        Ok(())
    }
}

/// The object types of JumpCloud's graph (an association's `type`, a listing's
/// `targets`) and the scope that covers each. Policies are device configuration: JumpCloud
/// files them under `systems`.
const OBJECT_TYPES: &[(&str, &str)] = &[
    ("user", "users"),
    ("user_group", "groups"),
    ("system", "systems"),
    ("system_group", "groups"),
    ("application", "applications"),
    ("policy", "systems"),
    ("command", "commands"),
    ("ldap_server", "directories"),
    ("active_directory", "directories"),
    ("g_suite", "directories"),
    ("office_365", "directories"),
    ("radius_server", "radius"),
];

/// The v2 collections of graph objects, and the type of their objects.
const COLLECTIONS: &[(&str, &str)] = &[
    ("users", "user"),
    ("usergroups", "user_group"),
    ("systems", "system"),
    ("systemgroups", "system_group"),
    ("applications", "application"),
    ("policies", "policy"),
    ("commands", "command"),
    ("ldapservers", "ldap_server"),
    ("activedirectories", "active_directory"),
    ("gsuites", "g_suite"),
    ("office365s", "office_365"),
    ("radiusservers", "radius_server"),
];

fn type_scope(ty: &str) -> Option<&'static str> {
    OBJECT_TYPES.iter().find(|(t, _)| *t == ty).map(|(_, s)| *s)
}

fn collection_type(coll: &str) -> Option<&'static str> {
    COLLECTIONS
        .iter()
        .find(|(c, _)| *c == coll)
        .map(|(_, t)| *t)
}

/// The scope of what a v2 traversal (`/api/v2/users/{id}/systems`) reaches: a collection
/// name, `directories` (every kind of directory) or `memberof` (groups).
fn traversal_scope(rel: &str) -> Option<&'static str> {
    match rel {
        "memberof" => Some("groups"),
        "directories" => Some("directories"),
        other => collection_type(other).and_then(type_scope),
    }
}

/// A JSON key as JumpCloud's decoder matches it: case-insensitively, with `ſ` as `s` and
/// the Kelvin sign as `k` (Go's folding), so no spelling of a field slips past the check.
fn folded(key: &str) -> String {
    key.chars()
        .map(|c| match c {
            'ſ' => 's',
            '\u{212A}' => 'k',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The values of the fields of `m` that JumpCloud would read as `name`.
fn fields<'a>(
    m: &'a serde_json::Map<String, serde_json::Value>,
    name: &'a str,
) -> impl Iterator<Item = &'a serde_json::Value> {
    m.iter()
        .filter(move |(k, _)| folded(k) == name)
        .map(|(_, v)| v)
}

/// A request body as the object it must be; `None` when there is none.
fn body_object(
    body: Option<&str>,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, String> {
    match body.map(serde_json::from_str::<serde_json::Value>) {
        None => Ok(None),
        Some(Ok(serde_json::Value::Object(m))) => Ok(Some(m)),
        Some(_) => Err("its body is not a JSON object".into()),
    }
}

/// Whether a graph operation body sets sudo (`attributes.sudo`) on the link it makes.
fn sets_link_sudo(m: &serde_json::Map<String, serde_json::Value>) -> bool {
    fields(m, "attributes").any(|a| {
        a.as_object()
            .is_some_and(|a| fields(a, "sudo").any(|v| !v.is_null()))
    })
}

/// Whether a v1 user body sets the user's own sudo flags (sudo on every device the user
/// reaches).
fn sets_user_sudo(m: &serde_json::Map<String, serde_json::Value>) -> bool {
    fields(m, "sudo")
        .chain(fields(m, "passwordless_sudo"))
        .any(|v| !matches!(v, serde_json::Value::Null | serde_json::Value::Bool(false)))
}

/// The type of the other end an association body names (`{"op", "type", "id",
/// "attributes"}`), and whether it sets sudo.
fn association_body(body: Option<&str>) -> Result<(&'static str, bool), String> {
    let m = body_object(body)?
        .ok_or("an association change needs a body naming the `type` of the other end")?;
    let mut types = fields(&m, "type");
    let ty = match (types.next(), types.next()) {
        (Some(serde_json::Value::String(t)), None) => t,
        (None, _) => return Err("its body names no `type` for the other end".into()),
        (Some(_), None) => return Err("its body's `type` is not a string".into()),
        (Some(_), Some(_)) => return Err("its body spells `type` more than once".into()),
    };
    let (known, _) = OBJECT_TYPES
        .iter()
        .find(|(t, _)| *t == ty.as_str())
        .ok_or_else(|| {
            format!(
                "association type `{}` is not one Sluice knows",
                ty.chars().take(40).collect::<String>()
            )
        })?;
    Ok((*known, sets_link_sudo(&m)))
}

/// What a JumpCloud call needs (every scope listed), or why it is refused. Paths not in
/// this table are refused: a call the host cannot classify never leaves it. For
/// associations and memberships the body (the other end's `type`, `attributes.sudo`) or
/// the `targets` query decides; the body checked is the body sent.
pub fn jumpcloud_needs(
    method: &str,
    path: &str,
    query: &[(String, String)],
    body: Option<&str>,
) -> Result<Needs, String> {
    let read = match method {
        "GET" => true,
        "POST" | "PUT" | "PATCH" | "DELETE" => false,
        other => {
            return Err(format!(
                "unsupported method `{}`",
                other.chars().take(16).collect::<String>()
            ));
        }
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
    let shown = || path.chars().take(200).collect::<String>();
    if path.len() > 1024
        || !path.starts_with('/')
        || !path[1..].trim_end_matches('/').split('/').all(plain)
    {
        return Err(format!(
            "invalid path `{}`: use plain segments (letters, digits, `-_.~@:`), no encoding or dot segments",
            shown()
        ));
    }
    let unknown = || {
        format!(
            "{method} {} is not a JumpCloud API path Sluice knows",
            shown()
        )
    };
    let refused = |why: String| format!("{method} {}: {why}", shown());
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let mut n = Needs::default();
    match segs.as_slice() {
        ["api", "systemusers"] | ["api", "systemusers", _] => {
            n.add("users", read);
            // The user's own sudo flags give sudo on every device it reaches.
            if matches!(method, "POST" | "PUT" | "PATCH")
                && body_object(body)
                    .map_err(refused)?
                    .is_some_and(|m| sets_user_sudo(&m))
            {
                n.add("systems", false);
            }
        }
        ["api", "systemusers", _, "unlock" | "resetmfa" | "expire"]
        | ["api", "systemusers", _, "state", "activate"]
        | ["api", "systemusers", _, "sshkeys"]
        | ["api", "systemusers", _, "sshkeys", _] => n.add("users", read),
        // JumpCloud's older v1 bindings of users to devices: both ends.
        ["api", "systemusers", _, "systems"] | ["api", "systems", _, "systemusers"] => {
            n.add("users", read);
            n.add("systems", read);
        }
        // searches are POSTs that only read
        ["api", "search", "systemusers"] => n.add("users", true),
        ["api", "search", "systems"] => n.add("systems", true),
        ["api", "users", ..] => n.add("administrators", read),
        ["api", "systems", ..] => n.add("systems", read),
        ["api", "applications", ..] => n.add("applications", read),
        ["api", "commands", ..] => n.add("commands", read),
        ["api", "organizations", ..] => n.add("organizations", read),
        ["api", "v2", coll, rest @ ..] => {
            let ty = collection_type(coll).ok_or_else(unknown)?;
            let own = type_scope(ty).ok_or_else(unknown)?;
            n.add(own, read);
            match rest {
                [] | [_] => {}
                [_, "associations"] if read => {
                    let mut any = false;
                    for target in query
                        .iter()
                        .filter(|(k, _)| k == "targets")
                        .flat_map(|(_, v)| v.split(','))
                    {
                        let scope = type_scope(target).ok_or_else(|| {
                            refused(format!(
                                "`targets` names `{}`, not a type Sluice knows",
                                target.chars().take(40).collect::<String>()
                            ))
                        })?;
                        n.add(scope, true);
                        any = true;
                    }
                    if !any {
                        return Err(refused(
                            "list associations with `targets` (e.g. targets=system)".into(),
                        ));
                    }
                }
                [_, "associations"] => {
                    let (other, sudo) = association_body(body).map_err(refused)?;
                    n.add(type_scope(other).ok_or_else(unknown)?, false);
                    if sudo {
                        n.add("systems", false);
                    }
                }
                [_, "members" | "membership"] => {
                    let member = match ty {
                        "user_group" => "users",
                        "system_group" => "systems",
                        _ => return Err(unknown()),
                    };
                    n.add(member, read);
                    if !read
                        && body_object(body)
                            .map_err(refused)?
                            .is_some_and(|m| sets_link_sudo(&m))
                    {
                        n.add("systems", false);
                    }
                }
                [_, rel] if traversal_scope(rel).is_some() => {
                    if !read {
                        return Err(unknown());
                    }
                    n.add(traversal_scope(rel).ok_or_else(unknown)?, true);
                }
                // Nothing below a link or a traversal is a JumpCloud path.
                [_, rel, _, ..]
                    if traversal_scope(rel).is_some()
                        || matches!(*rel, "associations" | "members" | "membership") =>
                {
                    return Err(unknown());
                }
                // Anything else below one object concerns that object only.
                [_, _, ..] => {}
            }
        }
        ["insights", "directory", "v1", ..] => n.add("directoryinsights", false),
        _ => return Err(unknown()),
    }
    Ok(n)
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
    /// deliberately conservative (documented in docs/sandbox.md). Built once: every brokered
    /// call checks its role against it.
    pub fn scopes(self) -> &'static BTreeSet<&'static str> {
        static TABLE: std::sync::OnceLock<Vec<BTreeSet<&'static str>>> = std::sync::OnceLock::new();
        let table = TABLE.get_or_init(|| Role::ALL.iter().map(|r| r.granted()).collect());
        // `ALL` lists the roles in declaration order (tested below).
        &table[self as usize]
    }

    fn granted(self) -> BTreeSet<&'static str> {
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

    /// What of `needs` this role does not grant (empty: the call is allowed).
    pub fn withholds(self, needs: &Needs) -> Needs {
        let granted = self.scopes();
        needs.unmet(|s| granted.contains(s))
    }

    /// Whether the role grants every scope `needs` lists.
    pub fn allows(self, needs: &Needs) -> bool {
        self.withholds(needs).is_empty()
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = serde_json::to_value(self).map_err(|_| std::fmt::Error)?;
        f.write_str(v.as_str().unwrap_or_default())
    }
}

impl Role {
    /// The predefined role spelt exactly `name` (`Read Only`).
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.to_string() == name)
    }
}

#[cfg(test)]
mod tests;
