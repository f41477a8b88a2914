//! The permission model. A plugin declares permission strings in its manifest; an
//! administrator grants some of them at install; a workflow runs as a JumpCloud role. A
//! brokered call passes only if the plugin holds a permission covering it AND (for JumpCloud)
//! the role grants the call's scopes.
//!
//! A JumpCloud call needs every scope [`jumpcloud_needs`] lists: one for a plain call, the
//! scope of each end for a link between two objects (an association or a group
//! membership, from whichever side it is made), and `systems` for anything that gives
//! sudo on devices.
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

/// The permissions a plugin holds for a call, and which state namespace and quota its
/// `state` grant is for (`None`: the plugin's name, with the default quota).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Grants(
    BTreeSet<String>,
    #[serde(skip)] Option<std::sync::Arc<crate::store::StateScope>>,
);

impl Grants {
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(perms: I) -> Self {
        Grants(perms.into_iter().map(Into::into).collect(), None)
    }

    /// These grants with `state` bound to `scope`.
    pub fn with_state_scope(mut self, scope: crate::store::StateScope) -> Self {
        self.1 = Some(std::sync::Arc::new(scope));
        self
    }

    pub fn state_scope(&self) -> Option<&crate::store::StateScope> {
        self.1.as_deref()
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

    /// These grants with connector access cut down to the one connector a step's
    /// `connector` input names (if it was allowed at all); other grants are kept. Anything
    /// but one connector name (missing, not a string, `*`, a pattern) is refused, so a
    /// step can never keep `http:*` by asking for it.
    pub fn narrowed_to_connector(
        &self,
        connector: Option<&serde_json::Value>,
    ) -> Result<Grants, ConnectorChoiceError> {
        let c = one_connector(connector)?;
        let mut out: BTreeSet<String> = self
            .0
            .iter()
            .filter(|g| !g.starts_with("http:"))
            .cloned()
            .collect();
        if self.allows_connector(c) {
            out.insert(format!("http:{c}"));
        }
        Ok(Grants(out, self.1.clone()))
    }

    /// Whether `jumpcloud:<scope>` itself is held.
    pub fn holds_scope(&self, scope: &str) -> bool {
        self.0.contains(&format!("jumpcloud:{scope}"))
    }

    /// Whether every scope `needs` lists is held.
    pub fn allows(&self, needs: &Needs) -> bool {
        needs.unmet(|s| self.holds_scope(s)).is_empty()
    }
}

/// Why a connector plugin step's `connector` input does not name exactly one connector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorChoiceError {
    #[error(
        "the step's input has no `connector`: a connector plugin step names the one connector it may reach"
    )]
    Missing,
    #[error("the step's `connector` is {0}, not a connector name")]
    NotAName(&'static str),
    #[error(
        "the step's `connector` is `{0}`: name exactly one defined connector (lower-case letters, digits, `-` and `_`), not a pattern"
    )]
    NotOne(String),
}

impl ConnectorChoiceError {
    pub fn code(&self) -> crate::code::Code {
        crate::code::Code::InvalidConnector
    }
}

/// The one connector a connector plugin step's input names.
pub fn one_connector(v: Option<&serde_json::Value>) -> Result<&str, ConnectorChoiceError> {
    use serde_json::Value;
    match v {
        None | Some(Value::Null) => Err(ConnectorChoiceError::Missing),
        Some(Value::String(s)) if crate::connector::valid_name(s) => Ok(s),
        Some(Value::String(s)) => Err(ConnectorChoiceError::NotOne(s.chars().take(80).collect())),
        Some(Value::Bool(_)) => Err(ConnectorChoiceError::NotAName("a boolean")),
        Some(Value::Number(_)) => Err(ConnectorChoiceError::NotAName("a number")),
        Some(Value::Array(_)) => Err(ConnectorChoiceError::NotAName("a list")),
        Some(Value::Object(_)) => Err(ConnectorChoiceError::NotAName("an object")),
    }
}

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

/// A workflow's `run_as`: one of JumpCloud's predefined roles, or the name of a custom
/// role (a named set of scopes an administrator defined, see [`crate::role`]). Written as
/// the role's name either way; whether a custom name is defined is for validation to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunAs {
    Predefined(Role),
    Custom(String),
}

impl RunAs {
    /// The predefined role of that name, or else a custom role's name.
    pub fn from_name(name: &str) -> RunAs {
        match Role::from_name(name) {
            Some(r) => RunAs::Predefined(r),
            None => RunAs::Custom(name.to_owned()),
        }
    }
}

impl From<Role> for RunAs {
    fn from(r: Role) -> RunAs {
        RunAs::Predefined(r)
    }
}

impl std::fmt::Display for RunAs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunAs::Predefined(r) => r.fmt(f),
            RunAs::Custom(name) => f.write_str(name),
        }
    }
}

impl Serialize for RunAs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RunAs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(RunAs::from_name(&String::deserialize(d)?))
    }
}

/// The scopes a custom role defined with `scopes` grants: those scopes, and the
/// `.readonly` form of each write scope (a write scope covers its reads, as in grants).
/// Names that are not JumpCloud scopes grant nothing (definitions refuse them).
pub fn custom_scopes<'a>(scopes: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for s in scopes {
        if let Some(known) = SCOPES.iter().find(|k| **k == s) {
            out.insert(*known);
            let read = format!("{s}.readonly");
            if let Some(r) = SCOPES.iter().find(|k| **k == read) {
                out.insert(*r);
            }
        }
    }
    out
}

/// The role a run's brokered calls are checked against: `run_as` resolved when the run
/// starts, a custom role with the scopes it had then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunRole {
    Predefined(Role),
    Custom {
        name: std::sync::Arc<str>,
        scopes: std::sync::Arc<BTreeSet<&'static str>>,
    },
    /// A custom role name that is not defined: it grants nothing.
    Undefined(std::sync::Arc<str>),
}

impl RunRole {
    /// The scopes the role grants.
    pub fn scopes(&self) -> &BTreeSet<&'static str> {
        static NONE: BTreeSet<&'static str> = BTreeSet::new();
        match self {
            RunRole::Predefined(r) => r.scopes(),
            RunRole::Custom { scopes, .. } => scopes,
            RunRole::Undefined(_) => &NONE,
        }
    }

    /// What of `needs` this role does not grant (empty: the call is allowed).
    pub fn withholds(&self, needs: &Needs) -> Needs {
        let granted = self.scopes();
        needs.unmet(|s| granted.contains(s))
    }

    /// The `run_as` this role was resolved from.
    pub fn run_as(&self) -> RunAs {
        match self {
            RunRole::Predefined(r) => RunAs::Predefined(*r),
            RunRole::Custom { name, .. } | RunRole::Undefined(name) => {
                RunAs::Custom(name.to_string())
            }
        }
    }
}

impl From<Role> for RunRole {
    fn from(r: Role) -> RunRole {
        RunRole::Predefined(r)
    }
}

impl std::fmt::Display for RunRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.run_as().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn run_as_names_a_predefined_or_a_custom_role() {
        let read: RunAs = serde_json::from_value(json!("Read Only")).unwrap();
        assert_eq!(read, RunAs::Predefined(Role::ReadOnly));
        let custom: RunAs = serde_json::from_value(json!("Onboarding")).unwrap();
        assert_eq!(custom, RunAs::Custom("Onboarding".into()));
        // Exact spelling: another case is not the predefined role.
        assert_eq!(
            RunAs::from_name("read only"),
            RunAs::Custom("read only".into())
        );
        assert_eq!(serde_json::to_value(&read).unwrap(), json!("Read Only"));
        assert_eq!(serde_json::to_value(&custom).unwrap(), json!("Onboarding"));
        assert!(serde_json::from_value::<RunAs>(json!(3)).is_err());
    }

    #[test]
    fn custom_roles_grant_their_scopes_and_the_reads_of_their_writes() {
        let scopes = custom_scopes(["users", "groups.readonly", "nonsense"]);
        assert_eq!(
            scopes.iter().copied().collect::<Vec<_>>(),
            ["groups.readonly", "users", "users.readonly"]
        );
        let role = RunRole::Custom {
            name: "Onboarding".into(),
            scopes: std::sync::Arc::new(scopes),
        };
        let create = jumpcloud_needs("POST", "/api/systemusers", &[], Some("{}")).unwrap();
        assert!(role.withholds(&create).is_empty());
        let group = jumpcloud_needs("POST", "/api/v2/usergroups", &[], Some("{}")).unwrap();
        assert_eq!(role.withholds(&group).to_string(), "jumpcloud:groups");
        assert_eq!(role.to_string(), "Onboarding");
        let undefined = RunRole::Undefined("Gone".into());
        assert_eq!(undefined.withholds(&create), create);
    }

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

    /// [`jumpcloud_needs`] as scope names joined by ` + `. `extra` is `targets=T[,T]`
    /// (the query of an associations listing), `type=T` or `type=T,sudo` (the body of an
    /// association or membership change), `sudo` (a v1 user body setting sudo) or empty.
    fn needs(method: &str, path: &str, extra: &str) -> Result<String, String> {
        let path = path.replace("{id}", "5f1b2c3d4e5f60718293a4b5");
        let mut query = Vec::new();
        let mut body = None;
        if let Some(t) = extra.strip_prefix("targets=") {
            query.push(("targets".to_owned(), t.to_owned()));
        } else if let Some(t) = extra.strip_prefix("type=") {
            let (t, sudo) = match t.strip_suffix(",sudo") {
                Some(t) => (t, true),
                None => (t, false),
            };
            let mut b = json!({"op": "add", "type": t, "id": "5f1b2c3d4e5f60718293a4b6"});
            if sudo {
                b["attributes"] = json!({"sudo": {"enabled": true, "withoutPassword": true}});
            }
            body = Some(b.to_string());
        } else if extra == "sudo" {
            body = Some(json!({"username": "eve", "sudo": true}).to_string());
        } else {
            assert!(extra.is_empty(), "unknown table extra `{extra}`");
        }
        jumpcloud_needs(method, &path, &query, body.as_deref()).map(|n| n.names().join(" + "))
    }

    fn with_body(method: &str, path: &str, body: &str) -> Result<String, String> {
        jumpcloud_needs(method, path, &[], Some(body)).map(|n| n.names().join(" + "))
    }

    /// Method, path, [`needs`]'s `extra`, and what the call needs. Every route the sandbox
    /// serves has a row (checked against its router below), and every association type it
    /// accepts from each side.
    #[rustfmt::skip]
    const TABLE: &[(&str, &str, &str, &str)] = &[
        // v1 users
        ("GET", "/api/systemusers", "", "users.readonly"),
        ("POST", "/api/systemusers", "", "users"),
        ("POST", "/api/systemusers", "sudo", "users + systems"),
        ("POST", "/api/search/systemusers", "", "users.readonly"),
        ("GET", "/api/systemusers/{id}", "", "users.readonly"),
        ("PUT", "/api/systemusers/{id}", "", "users"),
        ("PUT", "/api/systemusers/{id}", "sudo", "users + systems"),
        ("DELETE", "/api/systemusers/{id}", "", "users"),
        ("POST", "/api/systemusers/{id}/unlock", "", "users"),
        ("POST", "/api/systemusers/{id}/resetmfa", "", "users"),
        ("POST", "/api/systemusers/{id}/expire", "", "users"),
        ("POST", "/api/systemusers/{id}/state/activate", "", "users"),
        ("GET", "/api/systemusers/{id}/sshkeys", "", "users.readonly"),
        ("POST", "/api/systemusers/{id}/sshkeys", "", "users"),
        ("DELETE", "/api/systemusers/{id}/sshkeys/{id}", "", "users"),
        // v1 bindings of users to devices (not in the sandbox): both ends
        ("GET", "/api/systemusers/{id}/systems", "", "users.readonly + systems.readonly"),
        ("PUT", "/api/systemusers/{id}/systems", "", "users + systems"),
        ("PUT", "/api/systems/{id}/systemusers", "", "users + systems"),
        // v1 administrators, devices, applications, organisations
        ("GET", "/api/users", "", "administrators.readonly"),
        ("DELETE", "/api/users/{id}", "", "administrators"),
        ("GET", "/api/systems", "", "systems.readonly"),
        ("GET", "/api/systems/{id}", "", "systems.readonly"),
        ("DELETE", "/api/systems/{id}", "", "systems"),
        ("POST", "/api/search/systems", "", "systems.readonly"),
        ("GET", "/api/applications", "", "applications.readonly"),
        ("GET", "/api/applications/{id}", "", "applications.readonly"),
        ("PUT", "/api/organizations/{id}", "", "organizations"),
        // v2 groups and their members
        ("GET", "/api/v2/usergroups", "", "groups.readonly"),
        ("POST", "/api/v2/usergroups", "", "groups"),
        ("GET", "/api/v2/usergroups/{id}", "", "groups.readonly"),
        ("PUT", "/api/v2/usergroups/{id}", "", "groups"),
        ("PATCH", "/api/v2/usergroups/{id}", "", "groups"),
        ("DELETE", "/api/v2/usergroups/{id}", "", "groups"),
        ("GET", "/api/v2/usergroups/{id}/members", "", "groups.readonly + users.readonly"),
        ("POST", "/api/v2/usergroups/{id}/members", "type=user", "groups + users"),
        ("GET", "/api/v2/usergroups/{id}/membership", "", "groups.readonly + users.readonly"),
        ("GET", "/api/v2/systemgroups", "", "groups.readonly"),
        ("POST", "/api/v2/systemgroups", "", "groups"),
        ("GET", "/api/v2/systemgroups/{id}", "", "groups.readonly"),
        ("PUT", "/api/v2/systemgroups/{id}", "", "groups"),
        ("PATCH", "/api/v2/systemgroups/{id}", "", "groups"),
        ("DELETE", "/api/v2/systemgroups/{id}", "", "groups"),
        ("GET", "/api/v2/systemgroups/{id}/members", "", "groups.readonly + systems.readonly"),
        ("POST", "/api/v2/systemgroups/{id}/members", "type=system", "groups + systems"),
        ("GET", "/api/v2/systemgroups/{id}/membership", "", "groups.readonly + systems.readonly"),
        // associations, listed: both ends read
        ("GET", "/api/v2/users/{id}/associations", "targets=system", "users.readonly + systems.readonly"),
        ("GET", "/api/v2/users/{id}/associations", "targets=ldap_server,radius_server", "users.readonly + directories.readonly + radius.readonly"),
        ("GET", "/api/v2/usergroups/{id}/associations", "targets=system_group", "groups.readonly"),
        ("GET", "/api/v2/systemgroups/{id}/associations", "targets=user", "groups.readonly + users.readonly"),
        ("GET", "/api/v2/systems/{id}/associations", "targets=user,policy", "systems.readonly + users.readonly"),
        ("GET", "/api/v2/applications/{id}/associations", "targets=user_group", "applications.readonly + groups.readonly"),
        ("GET", "/api/v2/policies/{id}/associations", "targets=system_group", "systems.readonly + groups.readonly"),
        // associations, changed: both ends written, whichever side; sudo needs systems
        ("POST", "/api/v2/users/{id}/associations", "type=system", "users + systems"),
        ("POST", "/api/v2/users/{id}/associations", "type=system,sudo", "users + systems"),
        ("POST", "/api/v2/users/{id}/associations", "type=system_group", "users + groups"),
        ("POST", "/api/v2/users/{id}/associations", "type=system_group,sudo", "users + groups + systems"),
        ("POST", "/api/v2/users/{id}/associations", "type=application", "users + applications"),
        ("POST", "/api/v2/users/{id}/associations", "type=ldap_server", "users + directories"),
        ("POST", "/api/v2/users/{id}/associations", "type=radius_server", "users + radius"),
        ("POST", "/api/v2/usergroups/{id}/associations", "type=system", "groups + systems"),
        ("POST", "/api/v2/usergroups/{id}/associations", "type=system_group", "groups"),
        ("POST", "/api/v2/usergroups/{id}/associations", "type=system_group,sudo", "groups + systems"),
        ("POST", "/api/v2/usergroups/{id}/associations", "type=application", "groups + applications"),
        ("POST", "/api/v2/usergroups/{id}/associations", "type=ldap_server", "groups + directories"),
        ("POST", "/api/v2/usergroups/{id}/associations", "type=radius_server", "groups + radius"),
        ("POST", "/api/v2/systems/{id}/associations", "type=user", "systems + users"),
        ("POST", "/api/v2/systems/{id}/associations", "type=user,sudo", "systems + users"),
        ("POST", "/api/v2/systems/{id}/associations", "type=user_group", "systems + groups"),
        ("POST", "/api/v2/systems/{id}/associations", "type=policy", "systems"),
        ("POST", "/api/v2/systemgroups/{id}/associations", "type=user", "groups + users"),
        ("POST", "/api/v2/systemgroups/{id}/associations", "type=user,sudo", "groups + users + systems"),
        ("POST", "/api/v2/systemgroups/{id}/associations", "type=user_group", "groups"),
        ("POST", "/api/v2/systemgroups/{id}/associations", "type=user_group,sudo", "groups + systems"),
        ("POST", "/api/v2/systemgroups/{id}/associations", "type=policy", "groups + systems"),
        ("POST", "/api/v2/applications/{id}/associations", "type=user", "applications + users"),
        ("POST", "/api/v2/applications/{id}/associations", "type=user_group", "applications + groups"),
        ("POST", "/api/v2/policies/{id}/associations", "type=system", "systems"),
        ("POST", "/api/v2/policies/{id}/associations", "type=system_group", "systems + groups"),
        // the other sides (not in the sandbox)
        ("POST", "/api/v2/commands/{id}/associations", "type=system", "commands + systems"),
        ("POST", "/api/v2/ldapservers/{id}/associations", "type=user", "directories + users"),
        ("POST", "/api/v2/radiusservers/{id}/associations", "type=user_group", "radius + groups"),
        // traversals: both ends read
        ("GET", "/api/v2/users/{id}/memberof", "", "users.readonly + groups.readonly"),
        ("GET", "/api/v2/users/{id}/users", "", "users.readonly"),
        ("GET", "/api/v2/users/{id}/usergroups", "", "users.readonly + groups.readonly"),
        ("GET", "/api/v2/users/{id}/systems", "", "users.readonly + systems.readonly"),
        ("GET", "/api/v2/users/{id}/systemgroups", "", "users.readonly + groups.readonly"),
        ("GET", "/api/v2/users/{id}/applications", "", "users.readonly + applications.readonly"),
        ("GET", "/api/v2/users/{id}/policies", "", "users.readonly + systems.readonly"),
        ("GET", "/api/v2/users/{id}/ldapservers", "", "users.readonly + directories.readonly"),
        ("GET", "/api/v2/users/{id}/radiusservers", "", "users.readonly + radius.readonly"),
        ("GET", "/api/v2/users/{id}/directories", "", "users.readonly + directories.readonly"),
        ("GET", "/api/v2/usergroups/{id}/memberof", "", "groups.readonly"),
        ("GET", "/api/v2/usergroups/{id}/users", "", "groups.readonly + users.readonly"),
        ("GET", "/api/v2/usergroups/{id}/usergroups", "", "groups.readonly"),
        ("GET", "/api/v2/usergroups/{id}/systems", "", "groups.readonly + systems.readonly"),
        ("GET", "/api/v2/usergroups/{id}/systemgroups", "", "groups.readonly"),
        ("GET", "/api/v2/usergroups/{id}/applications", "", "groups.readonly + applications.readonly"),
        ("GET", "/api/v2/usergroups/{id}/policies", "", "groups.readonly + systems.readonly"),
        ("GET", "/api/v2/usergroups/{id}/ldapservers", "", "groups.readonly + directories.readonly"),
        ("GET", "/api/v2/usergroups/{id}/radiusservers", "", "groups.readonly + radius.readonly"),
        ("GET", "/api/v2/systemgroups/{id}/memberof", "", "groups.readonly"),
        ("GET", "/api/v2/systemgroups/{id}/users", "", "groups.readonly + users.readonly"),
        ("GET", "/api/v2/systemgroups/{id}/usergroups", "", "groups.readonly"),
        ("GET", "/api/v2/systemgroups/{id}/systems", "", "groups.readonly + systems.readonly"),
        ("GET", "/api/v2/systemgroups/{id}/systemgroups", "", "groups.readonly"),
        ("GET", "/api/v2/systemgroups/{id}/applications", "", "groups.readonly + applications.readonly"),
        ("GET", "/api/v2/systemgroups/{id}/policies", "", "groups.readonly + systems.readonly"),
        ("GET", "/api/v2/systemgroups/{id}/ldapservers", "", "groups.readonly + directories.readonly"),
        ("GET", "/api/v2/systemgroups/{id}/radiusservers", "", "groups.readonly + radius.readonly"),
        ("GET", "/api/v2/systems/{id}/memberof", "", "systems.readonly + groups.readonly"),
        ("GET", "/api/v2/systems/{id}/users", "", "systems.readonly + users.readonly"),
        ("GET", "/api/v2/systems/{id}/usergroups", "", "systems.readonly + groups.readonly"),
        ("GET", "/api/v2/systems/{id}/systems", "", "systems.readonly"),
        ("GET", "/api/v2/systems/{id}/systemgroups", "", "systems.readonly + groups.readonly"),
        ("GET", "/api/v2/systems/{id}/applications", "", "systems.readonly + applications.readonly"),
        ("GET", "/api/v2/systems/{id}/policies", "", "systems.readonly"),
        ("GET", "/api/v2/systems/{id}/ldapservers", "", "systems.readonly + directories.readonly"),
        ("GET", "/api/v2/systems/{id}/radiusservers", "", "systems.readonly + radius.readonly"),
        ("GET", "/api/v2/applications/{id}/memberof", "", "applications.readonly + groups.readonly"),
        ("GET", "/api/v2/applications/{id}/users", "", "applications.readonly + users.readonly"),
        ("GET", "/api/v2/applications/{id}/usergroups", "", "applications.readonly + groups.readonly"),
        ("GET", "/api/v2/applications/{id}/systems", "", "applications.readonly + systems.readonly"),
        ("GET", "/api/v2/applications/{id}/systemgroups", "", "applications.readonly + groups.readonly"),
        ("GET", "/api/v2/applications/{id}/applications", "", "applications.readonly"),
        ("GET", "/api/v2/applications/{id}/policies", "", "applications.readonly + systems.readonly"),
        ("GET", "/api/v2/applications/{id}/ldapservers", "", "applications.readonly + directories.readonly"),
        ("GET", "/api/v2/applications/{id}/radiusservers", "", "applications.readonly + radius.readonly"),
        ("GET", "/api/v2/policies/{id}/memberof", "", "systems.readonly + groups.readonly"),
        ("GET", "/api/v2/policies/{id}/users", "", "systems.readonly + users.readonly"),
        ("GET", "/api/v2/policies/{id}/usergroups", "", "systems.readonly + groups.readonly"),
        ("GET", "/api/v2/policies/{id}/systems", "", "systems.readonly"),
        ("GET", "/api/v2/policies/{id}/systemgroups", "", "systems.readonly + groups.readonly"),
        ("GET", "/api/v2/policies/{id}/applications", "", "systems.readonly + applications.readonly"),
        ("GET", "/api/v2/policies/{id}/policies", "", "systems.readonly"),
        ("GET", "/api/v2/policies/{id}/ldapservers", "", "systems.readonly + directories.readonly"),
        ("GET", "/api/v2/policies/{id}/radiusservers", "", "systems.readonly + radius.readonly"),
        // other v2 objects
        ("GET", "/api/v2/ldapservers", "", "directories.readonly"),
        ("GET", "/api/v2/policies", "", "systems.readonly"),
        ("GET", "/api/v2/policies/{id}", "", "systems.readonly"),
        ("POST", "/api/v2/users/{id}/emails", "", "users"),
        // Directory Insights: queries are POSTs
        ("POST", "/insights/directory/v1/events", "", "directoryinsights"),
        ("POST", "/insights/directory/v1/events/count", "", "directoryinsights"),
    ];

    #[test]
    fn every_call_in_the_table_needs_what_it_says() {
        for (method, path, extra, expected) in TABLE {
            assert_eq!(
                needs(method, path, extra).as_deref(),
                Ok(*expected),
                "{method} {path} {extra}"
            );
            for scope in expected.split(" + ") {
                assert!(SCOPES.contains(&scope), "{scope} is a JumpCloud scope");
            }
        }
    }

    #[test]
    fn unclassifiable_calls_are_refused() {
        for (method, path, extra) in [
            ("GET", "/api/../secret", ""),
            ("GET", "/api/systemusers/%2e%2e/users", ""),
            ("GET", "/api/systemusers/./x", ""),
            ("GET", "/api//systemusers", ""),
            ("GET", "/api/systemusers/a\\b", ""),
            ("GET", "/api/systemusers?x=1", ""),
            ("TRACE", "/api/systemusers", ""),
            ("GET", "/nowhere", ""),
            ("POST", "/sandbox/reset", ""),
            ("GET", "/sandbox/mail", ""),
            ("GET", "/api/v2/nothing", ""),
            ("GET", "/api/systemusers/{id}/whatever", ""),
            // an association listing names its target types, which must be known
            ("GET", "/api/v2/users/{id}/associations", ""),
            (
                "GET",
                "/api/v2/users/{id}/associations",
                "targets=everything",
            ),
            ("GET", "/api/v2/users/{id}/associations", "targets=system,"),
            // an association change names the other end's type, which must be known
            ("POST", "/api/v2/users/{id}/associations", ""),
            ("POST", "/api/v2/users/{id}/associations", "type=root"),
            ("PUT", "/api/v2/systems/{id}/associations", "type=anything"),
            // traversals and memberof only read; nothing lies below a link
            ("POST", "/api/v2/users/{id}/systems", ""),
            ("POST", "/api/v2/users/{id}/memberof", ""),
            (
                "POST",
                "/api/v2/users/{id}/associations/{id}",
                "type=system",
            ),
            ("GET", "/api/v2/users/{id}/systems/{id}", ""),
            ("GET", "/api/v2/users/{id}/members", ""),
        ] {
            assert!(
                needs(method, path, extra).is_err(),
                "{method} {path} {extra} must be refused"
            );
        }
    }

    #[test]
    fn bodies_are_read_as_jumpcloud_reads_them() {
        let assoc = "/api/v2/users/5f1b2c3d4e5f60718293a4b5/associations";
        // Any spelling JumpCloud's decoder accepts is the spelling checked.
        assert_eq!(
            with_body("POST", assoc, r#"{"op":"add","TYPE":"system","id":"x"}"#).as_deref(),
            Ok("users + systems")
        );
        assert_eq!(
            with_body(
                "POST",
                assoc,
                r#"{"op":"add","type":"system_group","id":"x","Attributes":{"ſudo":{"enabled":true}}}"#
            )
            .as_deref(),
            Ok("users + groups + systems")
        );
        for bad in [
            r#"{"op":"add","type":"user_group","Type":"system","id":"x"}"#,
            r#"{"op":"add","type":"system","id":"x"} trailing"#,
            r#"["type","system"]"#,
            r#"{"op":"add","type":7,"id":"x"}"#,
            r#"{"op":"add","type":"System","id":"x"}"#,
            "null",
        ] {
            assert!(with_body("POST", assoc, bad).is_err(), "{bad}");
        }
        // A v1 user's own sudo flags.
        let user = "/api/systemusers/5f1b2c3d4e5f60718293a4b5";
        for (body, expected) in [
            (r#"{"Sudo":true}"#, "users + systems"),
            (r#"{"passwordless_sudo":"yes"}"#, "users + systems"),
            (r#"{"sudo":false,"passwordless_sudo":null}"#, "users"),
            (r#"{"state":"SUSPENDED"}"#, "users"),
        ] {
            assert_eq!(
                with_body("PUT", user, body).as_deref(),
                Ok(expected),
                "{body}"
            );
        }
        assert!(with_body("PUT", user, "{\"sudo\":true").is_err());
        // Membership changes that set sudo.
        assert_eq!(
            with_body(
                "POST",
                "/api/v2/usergroups/5f1b2c3d4e5f60718293a4b5/members",
                r#"{"op":"add","type":"user","id":"x","attributes":{"sudo":{"enabled":true}}}"#
            )
            .as_deref(),
            Ok("groups + users + systems")
        );
    }

    #[test]
    fn grants_and_roles_must_cover_every_scope_a_call_needs() {
        let bind = jumpcloud_needs(
            "POST",
            "/api/v2/users/5f1b2c3d4e5f60718293a4b5/associations",
            &[],
            Some(r#"{"op":"add","type":"system","id":"x","attributes":{"sudo":{"enabled":true}}}"#),
        )
        .unwrap();
        assert_eq!(bind.to_string(), "jumpcloud:users and jumpcloud:systems");
        let users = Grants::new(["jumpcloud:users"]);
        assert!(!users.allows(&bind));
        assert_eq!(
            bind.unmet(|s| users.holds_scope(s)).to_string(),
            "jumpcloud:systems"
        );
        assert!(Grants::new(["jumpcloud:users", "jumpcloud:systems"]).allows(&bind));
        assert!(!Role::HelpDesk.allows(&bind));
        assert_eq!(
            Role::HelpDesk.withholds(&bind).to_string(),
            "jumpcloud:systems"
        );
        assert!(Role::Manager.allows(&bind));
        let list = jumpcloud_needs("GET", "/api/systemusers", &[], None).unwrap();
        assert!(Grants::new(["jumpcloud:users.readonly"]).allows(&list));
        assert!(users.allows(&list), "a write scope covers its reads");
        assert!(!Grants::new(["jumpcloud:systems.readonly"]).allows(&list));
        assert!(Role::ReadOnly.allows(&list));
        let create = jumpcloud_needs("POST", "/api/systemusers", &[], None).unwrap();
        assert!(!Role::ReadOnly.allows(&create) && Role::HelpDesk.allows(&create));
        assert!(
            !Role::Administrator
                .allows(&jumpcloud_needs("DELETE", "/api/users/x", &[], None).unwrap())
        );
        let g = Grants::new(["jumpcloud:users.readonly", "http:jira"]);
        assert!(g.allows_connector("jira") && !g.allows_connector("slack") && !g.allows_state());
        assert_eq!(Role::HelpDesk.to_string(), "Help Desk");
    }

    #[test]
    fn roles_are_listed_in_declaration_order() {
        for (i, r) in Role::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i, "{r}");
        }
    }

    #[test]
    fn only_the_roles_that_manage_devices_write_systems() {
        // JumpCloud's predefined roles: Administrators and Managers grant device access;
        // Help Desk, Read Only, billing and command runners do not.
        let writers: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.scopes().contains("systems"))
            .collect();
        assert_eq!(
            writers,
            [
                Role::AdministratorWithBilling,
                Role::Administrator,
                Role::Manager
            ]
        );
        for r in Role::ALL {
            for s in r.scopes() {
                assert!(SCOPES.contains(s), "{r} grants unknown scope {s}");
            }
        }
    }

    #[test]
    fn a_connector_step_narrows_to_exactly_one_named_connector() {
        let any = Grants::new(["http:*", "state"]);
        let jira = any.narrowed_to_connector(Some(&json!("jira"))).unwrap();
        assert_eq!(jira.iter().collect::<Vec<_>>(), ["http:jira", "state"]);
        assert!(!jira.allows_connector("slack"));
        for bad in [
            json!("*"),
            json!("jira*"),
            json!("ji?a"),
            json!("Jira"),
            json!(""),
            json!("a/b"),
            json!(7),
            json!(["jira"]),
            json!({"name": "jira"}),
            json!(null),
        ] {
            let e = any.narrowed_to_connector(Some(&bad)).unwrap_err();
            assert_eq!(e.code(), "INVALID_CONNECTOR", "{bad}");
        }
        assert_eq!(
            any.narrowed_to_connector(None),
            Err(ConnectorChoiceError::Missing)
        );
        // Not granted the connector at all: no connector grant survives.
        let only_jira = Grants::new(["http:jira"]);
        let slack = only_jira
            .narrowed_to_connector(Some(&json!("slack")))
            .unwrap();
        assert!(slack.is_empty());
    }

    /// The sandbox's router as written (`Directory::handle`): a route added there without a
    /// row in [`TABLE`] fails [`every_route_the_sandbox_serves_has_a_row`].
    const ROUTER_SOURCE: &str = include_str!("../jumpcloud/sandbox/directory.rs");

    /// One path segment of a router arm: literal alternatives, or a binding.
    #[derive(Debug)]
    enum Seg {
        Lit(Vec<String>),
        Var(String),
    }

    /// `"ab"rest` → (`ab`, `rest`).
    fn quoted(s: &str) -> Option<(&str, &str)> {
        let s = s.strip_prefix('"')?;
        let end = s.find('"')?;
        Some((&s[..end], &s[end + 1..]))
    }

    /// One arm's pattern, `"GET"|"PUT",[segments]`, with whitespace removed; and the text
    /// after it.
    #[allow(clippy::type_complexity)]
    fn parse_arm(mut s: &str) -> Option<((Vec<String>, Vec<Seg>), &str)> {
        let mut methods = Vec::new();
        loop {
            let (m, after) = quoted(s)?;
            if m.is_empty() || !m.bytes().all(|b| b.is_ascii_uppercase()) {
                return None;
            }
            methods.push(m.to_owned());
            match after.strip_prefix('|') {
                Some(next) => s = next,
                None => {
                    s = after;
                    break;
                }
            }
        }
        let s = s.strip_prefix(",[")?;
        let (mut depth, mut close) = (0i32, None);
        for (i, c) in s.char_indices() {
            match c {
                '(' | '[' => depth += 1,
                ')' => depth -= 1,
                ']' if depth == 0 => {
                    close = Some(i);
                    break;
                }
                ']' => depth -= 1,
                _ => {}
            }
        }
        let close = close?;
        let (mut segs, mut item, mut depth) = (Vec::new(), String::new(), 0);
        for c in s[..close].chars().chain([',']) {
            match c {
                ',' if depth == 0 => {
                    if !item.is_empty() {
                        segs.push(parse_seg(&item));
                    }
                    item.clear();
                }
                c => {
                    depth += i32::from(c == '(') - i32::from(c == ')');
                    item.push(c);
                }
            }
        }
        Some(((methods, segs), &s[close + 1..]))
    }

    fn parse_seg(item: &str) -> Seg {
        if let Some((lit, "")) = quoted(item) {
            return Seg::Lit(vec![lit.to_owned()]);
        }
        if let Some((_, alts)) = item.split_once('@') {
            let alts = alts.trim_start_matches('(').trim_end_matches(')');
            return Seg::Lit(
                alts.split('|')
                    .map(|a| a.trim_matches('"').to_owned())
                    .collect(),
            );
        }
        assert!(
            item.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "a router segment this test cannot read: `{item}`"
        );
        Seg::Var(item.to_owned())
    }

    /// An object of the collection a path names before an id, so a route that looks its
    /// object up answers for the route, not "no such object".
    fn sample_id(d: &crate::jumpcloud::sandbox::Directory, coll: &str) -> String {
        let objects = match coll {
            "systemusers" | "users" => &d.users,
            "systems" => &d.systems,
            "applications" => &d.applications,
            "usergroups" => &d.user_groups,
            "systemgroups" => &d.system_groups,
            "policies" => &d.policies,
            "ldapservers" => &d.ldap_servers,
            "radiusservers" => &d.radius_servers,
            _ => return "5f1b2c3d4e5f60718293a4b5".into(),
        };
        objects
            .keys()
            .next()
            .cloned()
            .expect("the default organisation has one of each")
    }

    /// Every concrete path of an arm: ids filled in, selectors (`coll`, `rel`) tried with
    /// every word the router knows. Each as (path sent, path as the table writes it).
    fn expand(
        d: &crate::jumpcloud::sandbox::Directory,
        segs: &[Seg],
        vocabulary: &BTreeSet<String>,
    ) -> Vec<(String, String)> {
        let mut out = vec![(String::new(), String::new(), String::new())];
        for seg in segs {
            let mut next = Vec::new();
            for (path, table, last) in &out {
                let options: Vec<(String, String)> = match seg {
                    Seg::Lit(alts) => alts.iter().map(|a| (a.clone(), a.clone())).collect(),
                    Seg::Var(v) if matches!(v.as_str(), "id" | "key") => {
                        vec![(sample_id(d, last), "{id}".into())]
                    }
                    Seg::Var(v) if matches!(v.as_str(), "coll" | "rel") => {
                        vocabulary.iter().map(|w| (w.clone(), w.clone())).collect()
                    }
                    Seg::Var(v) => {
                        panic!("the router binds `{v}`: say here whether it is an id or a selector")
                    }
                };
                for (sent, shown) in options {
                    next.push((format!("{path}/{sent}"), format!("{table}/{shown}"), sent));
                }
            }
            out = next;
        }
        out.into_iter().map(|(p, t, _)| (p, t)).collect()
    }

    #[test]
    fn every_route_the_sandbox_serves_has_a_row() {
        use crate::jumpcloud::sandbox::{Request, seed};
        let start = ROUTER_SOURCE
            .find("pub fn handle(&mut self, req: &Request)")
            .expect("the sandbox's router is `Directory::handle`");
        let body = &ROUTER_SOURCE[start..];
        let body = &body[..body.find("\n    }\n").expect("the end of `handle`")];
        let text: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let mut arms = Vec::new();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("(\"") {
            rest = &rest[at + 1..];
            if let Some((arm, after)) = parse_arm(rest) {
                arms.push(arm);
                rest = after;
            }
        }
        assert!(arms.len() >= 30, "read {} router arms", arms.len());
        let mut vocabulary = BTreeSet::new();
        let mut rest = text.as_str();
        while let Some((word, after)) = rest.find('"').and_then(|i| quoted(&rest[i..])) {
            if !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                vocabulary.insert(word.to_owned());
            }
            rest = after;
        }
        let directory = seed::default_directory();
        let call = |method: &str, path: &str, body: Option<serde_json::Value>| {
            directory.clone().handle(&Request {
                method: method.into(),
                path: path.into(),
                query: vec![],
                body,
            })
        };
        let routed = |r: &Result<_, crate::jumpcloud::sandbox::ApiError>| !matches!(r, Err(e) if e.status == 404 && e.message == "route not found");
        // What the sandbox serves: (method, path as the table writes it, association type).
        let mut served: BTreeSet<(String, String, Option<String>)> = BTreeSet::new();
        for (methods, segs) in &arms {
            for (path, table) in expand(&directory, segs, &vocabulary) {
                for method in methods {
                    if !routed(&call(method, &path, None)) {
                        continue;
                    }
                    served.insert((method.clone(), table.clone(), None));
                    if method == "POST" && table.ends_with("/associations") {
                        for ty in &vocabulary {
                            let body =
                                json!({"op": "add", "type": ty, "id": "5f1b2c3d4e5f60718293a4b5"});
                            let r = call(method, &path, Some(body));
                            let refused = matches!(&r, Err(e) if e.status == 400 && e.message.starts_with("type:"));
                            if !refused {
                                served.insert((method.clone(), table.clone(), Some(ty.clone())));
                            }
                        }
                    }
                }
            }
        }
        assert!(served.len() >= 100, "found {} routes", served.len());
        assert!(served.contains(&(
            "POST".into(),
            "/api/v2/users/{id}/associations".into(),
            Some("system".into())
        )));
        let missing: Vec<_> = served
            .iter()
            .filter(|(m, t, ty)| {
                !TABLE.iter().any(|(rm, rp, extra, _)| {
                    rm == m
                        && rp == t
                        && ty.as_ref().is_none_or(|ty| {
                            extra
                                .strip_prefix("type=")
                                .map(|e| e.trim_end_matches(",sudo"))
                                == Some(ty.as_str())
                        })
                })
            })
            .collect();
        assert!(
            missing.is_empty(),
            "routes the sandbox serves without a row in the permission table: {missing:#?}"
        );
    }
}
