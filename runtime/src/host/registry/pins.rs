//! Pinned plugins: what each `uses:` of a saved workflow version (or of a run) resolved to
//! — the plugin's name, version and component digest — so its runs use exactly those
//! bytes until the workflow is saved again.
//!
//! A pin of an installed plugin is used while `name@version` is installed: with its current
//! component when that is the pinned one, else with the pinned component, whose file the
//! registry keeps while a saved workflow pins it (grants and limits are the installed
//! record's, narrowed to what the pinned component declares). A pin of a bundled plugin
//! names a component of the Sluice binary it was saved under: after an upgrade that no
//! longer bundles those bytes (they exist nowhere else), the run uses the bundled plugin of
//! that name and its record says so (`note`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{LoadedPlugin, PluginHostError, PluginRecord, Registry, version};

/// What one `uses:` resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    pub name: String,
    pub version: String,
    /// sha256 of the component, hex.
    pub digest: String,
    #[serde(default)]
    pub bundled: bool,
    /// In a run record: why the run did not use the pinned component as pinned, and what
    /// it used instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Pins by the `uses:` text they resolve (`transform`, `user-create@1.2.0`).
pub type Pins = BTreeMap<String, Pin>;

/// One pin held by a saved workflow's current version.
#[derive(Debug, Clone)]
pub struct SavedPin {
    pub workflow: String,
    pub enabled: bool,
    pub pin: Pin,
}

/// Where the registry learns which components saved workflows pin (the service keeps the
/// workflows; the registry keeps their components and refuses to remove a pinned one).
pub trait PinSource: Send + Sync {
    fn saved_pins(&self) -> Result<Vec<SavedPin>, PluginHostError>;
}

/// A pin as the API shows it: whether the registry now holds something newer.
#[derive(Debug, Clone, Serialize)]
pub struct PinState {
    pub uses: String,
    #[serde(flatten)]
    pub pin: Pin,
    /// A newer version of the plugin is installed (or bundled), or `name@version` is now
    /// a different component.
    pub update_available: bool,
    /// What `uses:` would resolve to if the workflow were saved now, when that differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest: Option<Latest>,
    /// Whether runs can use the pinned plugin (false when it was removed).
    pub available: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Latest {
    pub version: String,
    pub digest: String,
}

/// What a `uses:` text asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted<'a> {
    /// `name`: the highest version.
    Newest,
    /// `name@1.2.3`.
    Version(&'a str),
    /// `name@sha256:<64 hex>`.
    Digest(&'a str),
}

/// Splits a `uses:` text into the plugin's name and what it asks for; a malformed pin is
/// an error in words (workflow validation reports it).
pub fn parse_spec(spec: &str) -> Result<(&str, Wanted<'_>), String> {
    let Some((name, pin)) = spec.split_once('@') else {
        return Ok((spec, Wanted::Newest));
    };
    if name.is_empty() {
        return Err(format!("`{spec}` names no plugin before `@`"));
    }
    if let Some(hex) = pin.strip_prefix("sha256:") {
        if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(format!(
                "`{spec}`: a digest pin is `sha256:` and 64 lowercase hex digits"
            ));
        }
        return Ok((name, Wanted::Digest(hex)));
    }
    if semver::Version::parse(pin).is_err() {
        return Err(format!(
            "`{spec}`: `{pin}` is not a version (`NAME@1.2.3`) or a digest \
             (`NAME@sha256:<hex>`)"
        ));
    }
    Ok((name, Wanted::Version(pin)))
}

/// Whether `record` is what `wanted` (the part of a spec after `@`) asks for.
pub(super) fn matches(record: &PluginRecord, wanted: &str) -> bool {
    match wanted.strip_prefix("sha256:") {
        Some(hex) => record.digest == hex,
        None => record.version == wanted,
    }
}

impl Pin {
    pub fn of(record: &PluginRecord) -> Pin {
        Pin {
            name: record.name.clone(),
            version: record.version.clone(),
            digest: record.digest.clone(),
            bundled: record.bundled,
            note: None,
        }
    }

    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

impl Registry {
    /// Tells the registry where saved workflows' pins are read, so it keeps the components
    /// they pin and refuses to remove a plugin an enabled one pins.
    pub fn with_pin_source(mut self, source: std::sync::Arc<dyn PinSource>) -> Self {
        self.pins = Some(source);
        self
    }

    pub(super) fn saved_pins(&self) -> Result<Vec<SavedPin>, PluginHostError> {
        match &self.pins {
            Some(source) => source.saved_pins(),
            None => Ok(Vec::new()),
        }
    }

    /// What `spec` resolves to now.
    pub async fn pin(&self, spec: &str) -> Result<Pin, PluginHostError> {
        Ok(Pin::of(&self.find(spec).await?))
    }

    /// The plugin a pin names, as a record whose digest is the pinned one (see the
    /// module's notes), and a note when the run cannot use the pinned bytes as pinned.
    pub async fn pinned(
        &self,
        pin: &Pin,
    ) -> Result<(PluginRecord, Option<String>), PluginHostError> {
        if pin.bundled {
            let bundled = self.bundled().await?;
            // By name too: the plugins of a pack share one digest.
            if let Some(r) = bundled
                .iter()
                .find(|r| r.digest == pin.digest && r.name == pin.name)
            {
                return Ok((r.clone(), None));
            }
            let now = bundled
                .iter()
                .filter(|r| r.name == pin.name)
                .max_by_key(|r| version(&r.version))
                .ok_or_else(|| PluginHostError::PinUnavailable {
                    plugin: pin.id(),
                    digest: pin.digest.clone(),
                    why: "this Sluice binary no longer bundles a plugin of that name".into(),
                })?;
            let note = format!(
                "pinned bundled {} sha256:{} is not part of this Sluice binary (bundled \
                 plugins change only with Sluice itself); used the bundled {} sha256:{}",
                pin.id(),
                pin.digest,
                now.id(),
                now.digest
            );
            return Ok((now.clone(), Some(note)));
        }
        let mut record = self
            .installed()?
            .into_iter()
            .find(|r| r.name == pin.name && r.version == pin.version)
            .ok_or_else(|| PluginHostError::PinUnavailable {
                plugin: pin.id(),
                digest: pin.digest.clone(),
                why: "it is no longer installed".into(),
            })?;
        if record.digest == pin.digest {
            return Ok((record, None));
        }
        // Replaced since the save: the pinned component, under the record's grants (narrowed
        // when loaded) and in its own state namespace unless the record's was adopted.
        if record.state.namespace == format!("sha256:{}", record.digest) {
            record.state.namespace = format!("sha256:{}", pin.digest);
        }
        // A pack's plugin: its namespace names the plugin within the component.
        let in_pack = |digest: &str| format!("sha256:{digest}/{}", record.name);
        if record.state.namespace == in_pack(&record.digest) {
            record.state.namespace = in_pack(&pin.digest);
        }
        let note = format!(
            "{} is now the component sha256:{}; used the pinned sha256:{}",
            pin.id(),
            record.digest,
            pin.digest
        );
        record.digest = pin.digest.clone();
        Ok((record, Some(note)))
    }

    /// Loads what a pin names (see [`Registry::pinned`]).
    pub async fn resolve_pin(
        &self,
        pin: &Pin,
    ) -> Result<(PluginRecord, LoadedPlugin), PluginHostError> {
        let (mut record, _) = self.pinned(pin).await?;
        let loaded = self.load_record(&record).await?;
        if loaded.manifest.name != record.name || loaded.manifest.version != record.version {
            return Err(PluginHostError::PinUnavailable {
                plugin: pin.id(),
                digest: pin.digest.clone(),
                why: format!("the component is {}", loaded.manifest.id()),
            });
        }
        // Grants were given to the installed component; the pinned one gets no more than it
        // declares.
        record
            .grants
            .retain(|g| loaded.manifest.permissions.contains(g));
        Ok((record, loaded))
    }

    /// The pins of a run: `given` (a saved version's) checked against what is available
    /// now, with a note where a pinned component cannot be used as pinned, and every other
    /// spec of `specs` resolved now. A spec that does not resolve is left out: its step
    /// fails with the registry's error when it runs.
    pub async fn pins_for_run(&self, given: &Pins, specs: &BTreeSet<String>) -> Pins {
        let mut out = Pins::new();
        for spec in specs {
            let pin = match given.get(spec) {
                Some(pin) => match self.pinned(pin).await {
                    Ok((record, Some(note))) => Pin {
                        note: Some(note),
                        ..Pin::of(&record)
                    },
                    Ok((_, None)) | Err(_) => pin.clone(),
                },
                None => match self.pin(spec).await {
                    Ok(pin) => pin,
                    Err(_) => continue,
                },
            };
            out.insert(spec.clone(), pin);
        }
        out
    }

    /// Each pin with whether an update is available.
    pub async fn pin_states(&self, pins: &Pins) -> Result<Vec<PinState>, PluginHostError> {
        let all = self.list().await?;
        let mut out = Vec::new();
        for (uses, pin) in pins {
            let newest = all
                .iter()
                .filter(|r| r.name == pin.name)
                .max_by_key(|r| version(&r.version));
            let same = all
                .iter()
                .find(|r| r.name == pin.name && r.version == pin.version);
            // What a save would pin now: `uses:` resolved against what is there.
            let now = match parse_spec(uses) {
                Ok((_, Wanted::Newest)) => newest,
                Ok((_, Wanted::Version(_))) => same,
                Ok((_, Wanted::Digest(d))) => {
                    all.iter().find(|r| r.name == pin.name && r.digest == d)
                }
                Err(_) => None,
            };
            let latest = now.filter(|r| r.digest != pin.digest);
            let newer = newest.is_some_and(|r| version(&r.version) > version(&pin.version));
            let replaced = same.is_some_and(|r| r.digest != pin.digest);
            let available = if pin.bundled {
                newest.is_some()
            } else {
                same.is_some()
            };
            out.push(PinState {
                uses: uses.clone(),
                pin: pin.clone(),
                update_available: newer || replaced || latest.is_some(),
                latest: latest.map(|r| Latest {
                    version: r.version.clone(),
                    digest: r.digest.clone(),
                }),
                available,
            });
        }
        Ok(out)
    }

    /// Refuses to remove `record` while an enabled saved workflow pins it.
    pub(super) fn check_unpinned(&self, record: &PluginRecord) -> Result<(), PluginHostError> {
        let mut by: Vec<String> = self
            .saved_pins()?
            .into_iter()
            .filter(|p| p.enabled && p.pin.name == record.name && p.pin.version == record.version)
            .map(|p| p.workflow)
            .collect();
        by.sort();
        by.dedup();
        if by.is_empty() {
            return Ok(());
        }
        Err(PluginHostError::Pinned {
            plugin: record.id(),
            workflows: by,
        })
    }

    /// Whether a saved workflow pins the component `digest` (its file is then kept).
    pub(super) fn is_pinned(&self, digest: &str) -> Result<bool, PluginHostError> {
        Ok(self.saved_pins()?.iter().any(|p| p.pin.digest == digest))
    }

    /// Removes the component file `digest` unless a plugin record uses it or a saved
    /// workflow pins it (a workflow saved again, or deleted, releases its old pins).
    pub fn release(&self, digest: &str) -> Result<(), PluginHostError> {
        self.remove_blob_if_unused(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_pin_a_version_or_a_digest() {
        assert_eq!(parse_spec("transform"), Ok(("transform", Wanted::Newest)));
        assert_eq!(
            parse_spec("transform@1.2.3"),
            Ok(("transform", Wanted::Version("1.2.3")))
        );
        let hex = "ab".repeat(32);
        assert_eq!(
            parse_spec(&format!("transform@sha256:{hex}")),
            Ok(("transform", Wanted::Digest(hex.as_str())))
        );
        for bad in [
            "transform@",
            "transform@1.2",
            "transform@latest",
            "@1.0.0",
            "transform@sha256:abc",
            &format!("transform@sha256:{}", "AB".repeat(32)),
        ] {
            assert!(parse_spec(bad).is_err(), "{bad}");
        }
    }
}
