//! The plugin manifest as the host sees it, and its validation: every problem is reported,
//! not only the first, so a plugin author fixes them in one go.

use serde::{Deserialize, Serialize};

use super::bindings::sluice::plugin::types as wit;
use crate::broker::permissions::Permission;

/// What kind of plugin a component is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    Action,
    Condition,
    Connector,
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PluginKind::Action => "action",
            PluginKind::Condition => "condition",
            PluginKind::Connector => "connector",
        })
    }
}

/// A validated manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub kind: PluginKind,
    pub description: String,
    pub input_schema: serde_json::Value,
    pub output_schema: serde_json::Value,
    pub permissions: Vec<String>,
}

impl Manifest {
    /// `name@version`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

fn kind_of(k: wit::PluginKind) -> PluginKind {
    match k {
        wit::PluginKind::Action => PluginKind::Action,
        wit::PluginKind::Condition => PluginKind::Condition,
        wit::PluginKind::Connector => PluginKind::Connector,
    }
}

/// Whether `name` is a valid plugin name: `[a-z0-9][a-z0-9-]*`, at most 64 bytes.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
}

/// A pack's own description: what is installed, inspected and removed as a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackInfo {
    pub name: String,
    pub version: String,
    pub description: String,
}

impl PackInfo {
    /// `name@version`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// The most plugins one pack may hold: a bound on what one install writes.
pub const MAX_PACK_PLUGINS: usize = 256;

/// Validates what `describe()` returned for a component exporting `world`.
pub(crate) fn validate(m: wit::Manifest, world: PluginKind) -> Result<Manifest, Vec<String>> {
    let mut errors = Vec::new();
    let manifest = check(m, &mut errors);
    if manifest.kind != world {
        let kind = manifest.kind;
        errors.push(format!(
            "kind `{kind}` does not match the exported world `{world}`"
        ));
    }
    if errors.is_empty() {
        Ok(manifest)
    } else {
        Err(errors)
    }
}

/// Validates what a pack's `describe()` returned: the pack's name, version and
/// description, and each of its plugins as [`validate`] does one (any kind); names must be
/// unique and differ from the pack's. Every problem is reported, each plugin's prefixed
/// with its name.
pub(crate) fn validate_pack(
    p: super::world::WitPackManifest,
) -> Result<(PackInfo, Vec<Manifest>), Vec<String>> {
    let mut errors = Vec::new();
    if !valid_name(&p.name) {
        errors.push(format!(
            "pack name `{}`: use lower-case letters, digits and `-` (at most 64)",
            p.name
        ));
    }
    if let Err(e) = semver::Version::parse(&p.version) {
        errors.push(format!("pack version `{}`: not SemVer ({e})", p.version));
    }
    description(&p.description, "pack description", &mut errors);
    if p.plugins.is_empty() {
        errors.push("the pack holds no plugin".into());
    } else if p.plugins.len() > MAX_PACK_PLUGINS {
        errors.push(format!(
            "the pack holds {} plugins; at most {MAX_PACK_PLUGINS}",
            p.plugins.len()
        ));
        return Err(errors);
    }
    let mut plugins = Vec::with_capacity(p.plugins.len());
    for m in p.plugins {
        let label = m.name.chars().take(64).collect::<String>();
        let mut own = Vec::new();
        let manifest = check(m, &mut own);
        if manifest.name == p.name {
            own.push("has the pack's own name; a plugin and its pack need different names".into());
        }
        if plugins.iter().any(|q: &Manifest| q.name == manifest.name) {
            own.push("appears more than once in the pack".into());
        }
        errors.extend(own.into_iter().map(|e| format!("plugin `{label}`: {e}")));
        plugins.push(manifest);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let pack = PackInfo {
        name: p.name,
        version: p.version,
        description: p.description,
    };
    Ok((pack, plugins))
}

fn description(text: &str, field: &str, errors: &mut Vec<String>) {
    if text.chars().any(|c| c.is_control() && c != '\n') {
        errors.push(format!(
            "{field} contains control characters (terminal escapes are refused)"
        ));
    }
    if text.trim().is_empty() {
        errors.push(format!("{field} is empty"));
    } else if text.len() > 2000 {
        errors.push(format!("{field} is longer than 2000 bytes"));
    }
}

/// Checks one plugin's manifest (everything but its kind against a world), adding each
/// problem to `errors`.
fn check(m: wit::Manifest, errors: &mut Vec<String>) -> Manifest {
    if !valid_name(&m.name) {
        errors.push(format!(
            "name `{}`: use lower-case letters, digits and `-` (at most 64)",
            m.name
        ));
    }
    if let Err(e) = semver::Version::parse(&m.version) {
        errors.push(format!("version `{}`: not SemVer ({e})", m.version));
    }
    description(&m.description, "description", errors);
    let mut schema = |field: &str, text: &str| -> serde_json::Value {
        match serde_json::from_str::<serde_json::Value>(text) {
            Err(e) => {
                errors.push(format!("{field}: not JSON ({e})"));
                serde_json::Value::Null
            }
            Ok(v) => {
                if let Err(e) = jsonschema::meta::validate(&v) {
                    errors.push(format!("{field}: not a valid JSON Schema ({e})"));
                }
                v
            }
        }
    };
    let input_schema = schema("input-schema", &m.input_schema);
    let output_schema = schema("output-schema", &m.output_schema);
    for p in &m.permissions {
        if let Err(e) = Permission::parse(p) {
            errors.push(format!("permission {e}"));
        }
    }
    Manifest {
        name: m.name,
        version: m.version,
        kind: kind_of(m.kind),
        description: m.description,
        input_schema,
        output_schema,
        permissions: m.permissions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wit_manifest() -> wit::Manifest {
        wit::Manifest {
            name: "user-create".into(),
            version: "1.0.0".into(),
            kind: wit::PluginKind::Action,
            description: "Creates a user.".into(),
            input_schema: r#"{"type":"object"}"#.into(),
            output_schema: "true".into(),
            permissions: vec!["jumpcloud:users".into()],
        }
    }

    #[test]
    fn a_good_manifest_passes() {
        let m = validate(wit_manifest(), PluginKind::Action).unwrap();
        assert_eq!(m.id(), "user-create@1.0.0");
    }

    #[test]
    fn every_problem_is_reported() {
        let mut m = wit_manifest();
        m.name = "Bad Name".into();
        m.version = "1".into();
        m.description = " ".into();
        m.input_schema = "{".into();
        m.output_schema = r#"{"type": 3}"#.into();
        m.permissions = vec!["fs:root".into()];
        let errors = validate(m, PluginKind::Condition).unwrap_err();
        assert_eq!(errors.len(), 7, "{errors:#?}");
        assert!(errors[0].starts_with("name `Bad Name`"));
        assert!(
            errors
                .iter()
                .any(|e| e.contains("does not match the exported world"))
        );
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("output-schema: not a valid JSON Schema"))
        );
    }

    fn pack(plugins: Vec<wit::Manifest>) -> crate::host::world::WitPackManifest {
        crate::host::world::WitPackManifest {
            name: "okta".into(),
            version: "2.0.0".into(),
            description: "Okta actions.".into(),
            plugins,
        }
    }

    #[test]
    fn a_pack_keeps_each_plugins_own_kind_and_permissions() {
        let mut check = wit_manifest();
        check.name = "user-exists".into();
        check.kind = wit::PluginKind::Condition;
        check.permissions = vec!["jumpcloud:users.readonly".into()];
        let (info, plugins) = validate_pack(pack(vec![wit_manifest(), check])).unwrap();
        assert_eq!(info.id(), "okta@2.0.0");
        assert_eq!(plugins[0].kind, PluginKind::Action);
        assert_eq!(plugins[1].kind, PluginKind::Condition);
        assert_eq!(plugins[1].permissions, ["jumpcloud:users.readonly"]);
    }

    #[test]
    fn every_problem_of_a_pack_is_reported_with_its_plugin() {
        let mut bad = wit_manifest();
        bad.permissions = vec!["fs:root".into()];
        let mut named_like_pack = wit_manifest();
        named_like_pack.name = "okta".into();
        let mut p = pack(vec![wit_manifest(), wit_manifest(), bad, named_like_pack]);
        p.version = "two".into();
        let errors = validate_pack(p).unwrap_err();
        assert!(errors[0].starts_with("pack version `two`"), "{errors:#?}");
        let twice = "plugin `user-create`: appears more than once in the pack";
        assert!(errors.iter().any(|e| e == twice), "{errors:#?}");
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("plugin `user-create`: permission")),
            "{errors:#?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("plugin `okta`: has the pack's own name")),
            "{errors:#?}"
        );
        assert!(
            validate_pack(pack(Vec::new()))
                .unwrap_err()
                .contains(&"the pack holds no plugin".to_owned())
        );
        let many = vec![wit_manifest(); MAX_PACK_PLUGINS + 1];
        assert!(validate_pack(pack(many)).unwrap_err()[0].contains("at most 256"));
    }
}
