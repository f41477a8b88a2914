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

impl PluginKind {
    /// The interface the component exports for this kind.
    pub fn export_name(self) -> &'static str {
        match self {
            PluginKind::Action => "sluice:plugin/action@0.1.0",
            PluginKind::Condition => "sluice:plugin/condition@0.1.0",
            PluginKind::Connector => "sluice:plugin/connector@0.1.0",
        }
    }
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

/// Validates what `describe()` returned for a component exporting `world`.
pub(crate) fn validate(m: wit::Manifest, world: PluginKind) -> Result<Manifest, Vec<String>> {
    let mut errors = Vec::new();
    if !valid_name(&m.name) {
        errors.push(format!(
            "name `{}`: use lower-case letters, digits and `-` (at most 64)",
            m.name
        ));
    }
    if let Err(e) = semver::Version::parse(&m.version) {
        errors.push(format!("version `{}`: not SemVer ({e})", m.version));
    }
    let kind = kind_of(m.kind);
    if kind != world {
        errors.push(format!(
            "kind `{kind}` does not match the exported world `{world}`"
        ));
    }
    if m.description.chars().any(|c| c.is_control() && c != '\n') {
        errors
            .push("description contains control characters (terminal escapes are refused)".into());
    }
    if m.description.trim().is_empty() {
        errors.push("description is empty".into());
    } else if m.description.len() > 2000 {
        errors.push("description is longer than 2000 bytes".into());
    }
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
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Manifest {
        name: m.name,
        version: m.version,
        kind,
        description: m.description,
        input_schema,
        output_schema,
        permissions: m.permissions,
    })
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
}
