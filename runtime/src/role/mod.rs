//! Custom roles: a named set of JumpCloud scopes an administrator defines (mirroring a
//! JumpCloud custom admin role), usable as a workflow's `run_as` like a predefined role and
//! enforced per brokered call the same way.
//!
//! # Layout
//! One file: [`RoleInput`] (what a file, the CLI or the API gives) and [`RoleDef`] (what is
//! stored), [`define`] (the one place a definition is checked), [`RoleStore`] (typed access
//! to the store's roles table), [`RoleError`] with stable codes, [`remove`] (refused while a
//! saved workflow runs as the role), and [`RoleBook`]: the roles validation and runs
//! resolve `run_as` against, with the JumpCloud identity's own role when it is known.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::broker::permissions::{Role, RunAs, RunRole, SCOPES, custom_scopes};

/// The environment variable naming the role of the JumpCloud identity Sluice calls with
/// (the service account's role, or the API key owner's): a predefined or custom role name.
pub const IDENTITY_ROLE_VAR: &str = "SLUICE_JUMPCLOUD_ROLE";

/// The longest description kept.
pub const MAX_DESCRIPTION: usize = 500;

/// A custom role as a file, `sluice role add` or `POST /api/v1/roles` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// JumpCloud scope names (`users`, `groups.readonly`); a write scope covers its reads.
    pub scopes: Vec<String>,
}

/// A custom role as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleDef {
    pub name: String,
    pub description: String,
    /// Sorted, each once.
    pub scopes: Vec<String>,
    pub created_at: String,
}

impl RoleDef {
    /// The role a run is checked against.
    pub fn run_role(&self) -> RunRole {
        RunRole::Custom {
            name: Arc::from(self.name.as_str()),
            scopes: Arc::new(custom_scopes(self.scopes.iter().map(String::as_str))),
        }
    }
}

/// What went wrong with a custom role definition, lookup or removal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error(
        "role name `{0}`: use 1-64 letters, digits, spaces, `.`, `-` and `_`, starting and \
         ending with a letter or digit"
    )]
    BadName(String),
    #[error(
        "role name `{0}` is a predefined JumpCloud role (or differs from one only in case); choose another name"
    )]
    Shadows(String),
    #[error("role `{name}`: {why}")]
    Invalid { name: String, why: String },
    #[error("role `{0}` is not defined (see `sluice role list`)")]
    NotFound(String),
    #[error("role `{0}` already exists; remove it first or pass --replace (`replace` in the API)")]
    Exists(String),
    #[error(
        "role `{name}` is the run-as role of saved workflows ({}); change their `run_as` first",
        workflows.join(", ")
    )]
    InUse {
        name: String,
        workflows: Vec<String>,
    },
    #[error("store: {0}")]
    Store(String),
}

impl RoleError {
    pub fn code(&self) -> crate::code::Code {
        use crate::code::Code;
        match self {
            RoleError::BadName(_) | RoleError::Shadows(_) | RoleError::Invalid { .. } => {
                Code::RoleInvalid
            }
            RoleError::NotFound(_) => Code::RoleNotFound,
            RoleError::Exists(_) => Code::RoleExists,
            RoleError::InUse { .. } => Code::RoleInUse,
            RoleError::Store(_) => Code::StoreError,
        }
    }
}

impl From<crate::store::StoreError> for RoleError {
    fn from(e: crate::store::StoreError) -> Self {
        RoleError::Store(e.to_string())
    }
}

/// Whether `name` has the form of a custom role name.
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    (1..=64).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b" ._-".contains(c))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// Checks `input` and makes the definition to store: the one place a role is checked.
pub fn define(input: RoleInput) -> Result<RoleDef, RoleError> {
    let name = input.name;
    if !valid_name(&name) {
        return Err(RoleError::BadName(name.chars().take(80).collect()));
    }
    if Role::ALL
        .iter()
        .any(|r| r.to_string().eq_ignore_ascii_case(&name))
    {
        return Err(RoleError::Shadows(name));
    }
    let bad = |why: String| RoleError::Invalid {
        name: name.clone(),
        why,
    };
    if input.description.chars().count() > MAX_DESCRIPTION {
        return Err(bad(format!(
            "the description is longer than {MAX_DESCRIPTION} characters"
        )));
    }
    if input.description.chars().any(char::is_control) {
        return Err(bad(
            "the description has control characters (line breaks, tabs)".into(),
        ));
    }
    if input.scopes.is_empty() {
        return Err(bad(
            "give at least one scope (`users`, `groups.readonly`, ...)".into(),
        ));
    }
    let mut scopes = BTreeSet::new();
    for s in &input.scopes {
        let s = s.strip_prefix("jumpcloud:").unwrap_or(s);
        if !SCOPES.contains(&s) {
            return Err(bad(format!(
                "`{}` is not a JumpCloud scope; known scopes: {}",
                s.chars().take(80).collect::<String>(),
                SCOPES.join(", ")
            )));
        }
        scopes.insert(s.to_owned());
    }
    Ok(RoleDef {
        name,
        description: input.description,
        scopes: scopes.into_iter().collect(),
        created_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
    })
}

/// Custom role definitions, typed, over the store's `roles` table (every
/// [`RoleRecords`](crate::store::RoleRecords) is one).
pub trait RoleStore: Send + Sync {
    fn role_put(&self, def: &RoleDef) -> Result<(), RoleError>;
    fn role_get(&self, name: &str) -> Result<Option<RoleDef>, RoleError>;
    fn role_list(&self) -> Result<Vec<RoleDef>, RoleError>;
    fn role_remove(&self, name: &str) -> Result<bool, RoleError>;
}

impl<T: crate::store::RoleRecords + ?Sized> RoleStore for T {
    fn role_put(&self, def: &RoleDef) -> Result<(), RoleError> {
        let bytes = serde_json::to_vec(def).map_err(|e| RoleError::Store(e.to_string()))?;
        Ok(self.role_record_put(&def.name, &bytes)?)
    }

    fn role_get(&self, name: &str) -> Result<Option<RoleDef>, RoleError> {
        let Some(bytes) = self.role_record_get(name)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| RoleError::Store(format!("role `{name}`: {e}")))
    }

    fn role_list(&self) -> Result<Vec<RoleDef>, RoleError> {
        self.role_record_list()?
            .iter()
            .map(|bytes| serde_json::from_slice(bytes).map_err(|e| RoleError::Store(e.to_string())))
            .collect()
    }

    fn role_remove(&self, name: &str) -> Result<bool, RoleError> {
        Ok(self.role_record_remove(name)?)
    }
}

/// Saves a checked definition; an existing role of that name is replaced only with
/// `replace`.
pub fn save(
    store: &(impl RoleStore + ?Sized),
    def: &RoleDef,
    replace: bool,
) -> Result<(), RoleError> {
    if !replace && store.role_get(&def.name)?.is_some() {
        return Err(RoleError::Exists(def.name.clone()));
    }
    store.role_put(def)
}

/// The saved workflows whose current version runs as `name`.
pub fn used_by(
    store: &(impl crate::store::ServiceStore + ?Sized),
    name: &str,
) -> Result<Vec<String>, RoleError> {
    let mut out = Vec::new();
    for record in store.workflow_list()? {
        let (Some(wf), Some(version)) = (
            record["name"].as_str(),
            record["version"]
                .as_u64()
                .and_then(|v| u32::try_from(v).ok()),
        ) else {
            continue;
        };
        if let Some(v) = store.version_get(wf, version)?
            && v["doc"]["run_as"].as_str() == Some(name)
        {
            out.push(wf.to_owned());
        }
    }
    Ok(out)
}

/// Deletes a custom role, unless a saved workflow runs as it (nothing is changed then).
pub fn remove<S>(store: &S, name: &str) -> Result<(), RoleError>
where
    S: RoleStore + crate::store::ServiceStore + ?Sized,
{
    if store.role_get(name)?.is_none() {
        return Err(RoleError::NotFound(name.chars().take(80).collect()));
    }
    let users = used_by(store, name)?;
    if !users.is_empty() {
        return Err(RoleError::InUse {
            name: name.to_owned(),
            workflows: users,
        });
    }
    if !store.role_remove(name)? {
        return Err(RoleError::NotFound(name.to_owned()));
    }
    Ok(())
}

/// The roles `run_as` resolves against: the custom roles defined, and the role of the
/// JumpCloud identity Sluice calls with when it is known ([`IDENTITY_ROLE_VAR`]).
#[derive(Debug, Clone, Default)]
pub struct RoleBook {
    custom: BTreeMap<String, RunRole>,
    /// The identity's role, as named.
    pub identity: Option<RunAs>,
}

impl RoleBook {
    /// The custom roles in `store`, and the identity's role from the environment.
    pub fn load(store: &(impl RoleStore + ?Sized)) -> Result<RoleBook, RoleError> {
        let mut book = RoleBook::from_defs(&store.role_list()?);
        book.identity = std::env::var(IDENTITY_ROLE_VAR)
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .map(|v| RunAs::from_name(&v));
        Ok(book)
    }

    /// A book of these custom roles (no identity role).
    pub fn from_defs(defs: &[RoleDef]) -> RoleBook {
        RoleBook {
            custom: defs
                .iter()
                .map(|d| (d.name.clone(), d.run_role()))
                .collect(),
            identity: None,
        }
    }

    /// The role `run_as` names (a custom name not defined grants nothing).
    pub fn resolve(&self, run_as: &RunAs) -> RunRole {
        match run_as {
            RunAs::Predefined(r) => RunRole::Predefined(*r),
            RunAs::Custom(name) => self
                .custom
                .get(name)
                .cloned()
                .unwrap_or_else(|| RunRole::Undefined(Arc::from(name.as_str()))),
        }
    }

    /// The custom roles, by name.
    pub fn custom(&self) -> impl Iterator<Item = &RunRole> {
        self.custom.values()
    }

    /// The custom role names, for messages.
    pub fn custom_names(&self) -> Vec<&str> {
        self.custom.keys().map(String::as_str).collect()
    }
}

/// The role of a run, resolved from the store when it starts.
pub fn run_role(store: &(impl RoleStore + ?Sized), run_as: &RunAs) -> Result<RunRole, RoleError> {
    Ok(match run_as {
        RunAs::Predefined(r) => RunRole::Predefined(*r),
        RunAs::Custom(name) => match store.role_get(name)? {
            Some(def) => def.run_role(),
            None => RunRole::Undefined(Arc::from(name.as_str())),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, scopes: &[&str]) -> RoleInput {
        RoleInput {
            name: name.into(),
            description: String::new(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn definitions_are_checked_in_one_place() {
        let def = define(input("Onboarding", &["users", "jumpcloud:groups", "users"])).unwrap();
        assert_eq!(def.scopes, ["groups", "users"]);
        for (bad, code, says) in [
            (input("", &["users"]), "ROLE_INVALID", "role name"),
            (input(" Tier 1", &["users"]), "ROLE_INVALID", "role name"),
            (input("a/b", &["users"]), "ROLE_INVALID", "role name"),
            (input("Read Only", &["users"]), "ROLE_INVALID", "predefined"),
            (input("help desk", &["users"]), "ROLE_INVALID", "predefined"),
            (input("Tier 1", &[]), "ROLE_INVALID", "at least one scope"),
            (
                input("Tier 1", &["everything"]),
                "ROLE_INVALID",
                "not a JumpCloud scope",
            ),
        ] {
            let e = define(bad.clone()).unwrap_err();
            assert_eq!(e.code(), code, "{bad:?}");
            assert!(e.to_string().contains(says), "{bad:?}: {e}");
        }
        let mut long = input("Tier 1", &["users"]);
        long.description = "x".repeat(MAX_DESCRIPTION + 1);
        assert_eq!(define(long).unwrap_err().code(), "ROLE_INVALID");
        let mut broken = input("Tier 1", &["users"]);
        broken.description = "a\nb".into();
        assert_eq!(define(broken).unwrap_err().code(), "ROLE_INVALID");
    }

    #[test]
    fn files_are_read_strictly() {
        assert!(
            serde_yaml_ng::from_str::<RoleInput>("name: a\nscopes: [users]\nscope: [groups]\n")
                .is_err()
        );
        let ok: RoleInput =
            serde_yaml_ng::from_str("name: Tier 1\ndescription: help desk\nscopes: [users]\n")
                .unwrap();
        assert_eq!(ok.name, "Tier 1");
    }

    #[test]
    fn the_book_resolves_custom_names_and_refuses_undefined_ones() {
        let def = define(input("Onboarding", &["users"])).unwrap();
        let book = RoleBook::from_defs(&[def]);
        let role = book.resolve(&RunAs::from_name("Onboarding"));
        assert!(role.scopes().contains("users") && role.scopes().contains("users.readonly"));
        assert!(!role.scopes().contains("groups"));
        assert_eq!(
            book.resolve(&RunAs::from_name("Manager")),
            RunRole::Predefined(Role::Manager)
        );
        assert!(matches!(
            book.resolve(&RunAs::from_name("Gone")),
            RunRole::Undefined(_)
        ));
        assert_eq!(book.custom_names(), ["Onboarding"]);
    }
}
