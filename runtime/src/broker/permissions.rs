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
//!
//! Parsing them and the checks a host call passes are pure functions in
//! [`sluice_jcsim::permissions`], shared with the SDK's native test host so a plugin's
//! tests refuse what production refuses, with the same message.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

pub use sluice_jcsim::scopes::{Need, Needs, Role, SCOPES, jumpcloud_needs};

pub use sluice_jcsim::permissions::Permission;

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
        sluice_jcsim::permissions::allows_state(&self.0)
    }

    pub fn allows_connector(&self, connector: &str) -> bool {
        sluice_jcsim::permissions::allows_connector(&self.0, connector)
    }

    /// The granted permission strings, for the checks in [`sluice_jcsim::permissions`].
    pub fn strings(&self) -> &BTreeSet<String> {
        &self.0
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
        sluice_jcsim::permissions::holds_scope(&self.0, scope)
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
}
