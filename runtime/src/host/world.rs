//! The worlds a component may target, in every contract version the host links, and
//! calling any of them the same way: [`World`] (which one a component exports), [`Pre`] (a
//! component linked for that world) and [`Instance`] (an instance of it: describe, call).
//!
//! A world of 0.1.0 shares the current `types` (see `host::bindings`), so the step, the
//! manifest and the plugin error are the same Rust types whatever the version; only which
//! export is looked up differs. A pack's call names the plugin of the pack it is for.

use wasmtime::AsContextMut;
use wasmtime::component::{Component, InstancePre};

use super::bindings::sluice::plugin::types as wit;
use super::bindings::{action, condition, connector, pack, v0_1};
use super::manifest::PluginKind;

/// A pack's own manifest, as its `describe` returns it.
pub(super) type WitPackManifest = pack::exports::sluice::plugin::pack::PackManifest;

/// The contract version a component was built against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Version {
    V0_1,
    Current,
}

/// The world a component targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum World {
    /// One plugin of that kind.
    Single(PluginKind, Version),
    /// A pack (several plugins, of any kinds).
    Pack,
}

/// Every export that makes a component a plugin, and the world it means.
const EXPORTS: [(&str, World); 7] = [
    (
        "sluice:plugin/action@0.2.0",
        World::Single(PluginKind::Action, Version::Current),
    ),
    (
        "sluice:plugin/condition@0.2.0",
        World::Single(PluginKind::Condition, Version::Current),
    ),
    (
        "sluice:plugin/connector@0.2.0",
        World::Single(PluginKind::Connector, Version::Current),
    ),
    ("sluice:plugin/pack@0.2.0", World::Pack),
    (
        "sluice:plugin/action@0.1.0",
        World::Single(PluginKind::Action, Version::V0_1),
    ),
    (
        "sluice:plugin/condition@0.1.0",
        World::Single(PluginKind::Condition, Version::V0_1),
    ),
    (
        "sluice:plugin/connector@0.1.0",
        World::Single(PluginKind::Connector, Version::V0_1),
    ),
];

/// The world of a component with these exports; `Err` says why it has none.
pub(super) fn world_of(exports: &[String]) -> Result<World, String> {
    let worlds: Vec<World> = EXPORTS
        .iter()
        .filter(|(name, _)| exports.iter().any(|e| e == name))
        .map(|(_, w)| *w)
        .collect();
    match worlds.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!(
            "it exports none of sluice:plugin/action, condition, connector or pack (0.2.0), \
             nor action, condition or connector (0.1.0) (its exports: {})",
            if exports.is_empty() {
                "none".to_owned()
            } else {
                exports.join(", ")
            }
        )),
        _ => Err(
            "it exports more than one plugin interface; a component is one plugin or one pack"
                .into(),
        ),
    }
}

/// A component linked for its world.
pub(super) enum Pre<T: 'static> {
    Action(action::ActionPluginPre<T>),
    Condition(condition::ConditionPluginPre<T>),
    Connector(connector::ConnectorPluginPre<T>),
    Pack(pack::PackPluginPre<T>),
    V01Action(v0_1::action::ActionPluginPre<T>),
    V01Condition(v0_1::condition::ConditionPluginPre<T>),
    V01Connector(v0_1::connector::ConnectorPluginPre<T>),
}

impl<T: 'static> Clone for Pre<T> {
    fn clone(&self) -> Self {
        match self {
            Pre::Action(p) => Pre::Action(p.clone()),
            Pre::Condition(p) => Pre::Condition(p.clone()),
            Pre::Connector(p) => Pre::Connector(p.clone()),
            Pre::Pack(p) => Pre::Pack(p.clone()),
            Pre::V01Action(p) => Pre::V01Action(p.clone()),
            Pre::V01Condition(p) => Pre::V01Condition(p.clone()),
            Pre::V01Connector(p) => Pre::V01Connector(p.clone()),
        }
    }
}

/// One arm per variant of [`Pre`], binding the inner value to `$p`.
macro_rules! each_pre {
    ($pre:expr, $p:ident => $body:expr) => {
        match $pre {
            Pre::Action($p) => $body,
            Pre::Condition($p) => $body,
            Pre::Connector($p) => $body,
            Pre::Pack($p) => $body,
            Pre::V01Action($p) => $body,
            Pre::V01Condition($p) => $body,
            Pre::V01Connector($p) => $body,
        }
    };
}

impl<T: Send + 'static> Pre<T> {
    /// Checks that `pre`'s component exports what `world` needs.
    pub(super) fn new(world: World, pre: InstancePre<T>) -> wasmtime::Result<Self> {
        use {PluginKind as K, Version as V};
        Ok(match world {
            World::Single(K::Action, V::Current) => Pre::Action(action::ActionPluginPre::new(pre)?),
            World::Single(K::Condition, V::Current) => {
                Pre::Condition(condition::ConditionPluginPre::new(pre)?)
            }
            World::Single(K::Connector, V::Current) => {
                Pre::Connector(connector::ConnectorPluginPre::new(pre)?)
            }
            World::Pack => Pre::Pack(pack::PackPluginPre::new(pre)?),
            World::Single(K::Action, V::V0_1) => {
                Pre::V01Action(v0_1::action::ActionPluginPre::new(pre)?)
            }
            World::Single(K::Condition, V::V0_1) => {
                Pre::V01Condition(v0_1::condition::ConditionPluginPre::new(pre)?)
            }
            World::Single(K::Connector, V::V0_1) => {
                Pre::V01Connector(v0_1::connector::ConnectorPluginPre::new(pre)?)
            }
        })
    }

    /// The world it was linked for.
    pub(super) fn world(&self) -> World {
        use {PluginKind as K, Version as V};
        match self {
            Pre::Action(_) => World::Single(K::Action, V::Current),
            Pre::Condition(_) => World::Single(K::Condition, V::Current),
            Pre::Connector(_) => World::Single(K::Connector, V::Current),
            Pre::Pack(_) => World::Pack,
            Pre::V01Action(_) => World::Single(K::Action, V::V0_1),
            Pre::V01Condition(_) => World::Single(K::Condition, V::V0_1),
            Pre::V01Connector(_) => World::Single(K::Connector, V::V0_1),
        }
    }

    pub(super) fn component(&self) -> &Component {
        each_pre!(self, p => p.instance_pre().component())
    }

    /// A new instance in `store`.
    pub(super) async fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
    ) -> wasmtime::Result<Instance> {
        let store = store.as_context_mut();
        Ok(match self {
            Pre::Action(p) => Instance::Action(p.instantiate_async(store).await?),
            Pre::Condition(p) => Instance::Condition(p.instantiate_async(store).await?),
            Pre::Connector(p) => Instance::Connector(p.instantiate_async(store).await?),
            Pre::Pack(p) => Instance::Pack(p.instantiate_async(store).await?),
            Pre::V01Action(p) => Instance::V01Action(p.instantiate_async(store).await?),
            Pre::V01Condition(p) => Instance::V01Condition(p.instantiate_async(store).await?),
            Pre::V01Connector(p) => Instance::V01Connector(p.instantiate_async(store).await?),
        })
    }
}

/// An instance of a component.
pub(super) enum Instance {
    Action(action::ActionPlugin),
    Condition(condition::ConditionPlugin),
    Connector(connector::ConnectorPlugin),
    Pack(pack::PackPlugin),
    V01Action(v0_1::action::ActionPlugin),
    V01Condition(v0_1::condition::ConditionPlugin),
    V01Connector(v0_1::connector::ConnectorPlugin),
}

/// What `describe` returned.
pub(super) enum Described {
    One(wit::Manifest),
    Pack(WitPackManifest),
}

/// What a call returned: an action's or connector's JSON, a condition's answer.
pub(super) enum Output {
    Json(String),
    Bool(bool),
}

type CallResult = wasmtime::Result<Result<Output, wit::PluginError>>;

impl Instance {
    pub(super) async fn describe<S>(&self, mut store: S) -> wasmtime::Result<Described>
    where
        S: AsContextMut,
        S::Data: Send,
    {
        let s = store.as_context_mut();
        Ok(match self {
            Instance::Action(i) => Described::One(i.sluice_plugin_action().call_describe(s).await?),
            Instance::Condition(i) => {
                Described::One(i.sluice_plugin_condition().call_describe(s).await?)
            }
            Instance::Connector(i) => {
                Described::One(i.sluice_plugin_connector().call_describe(s).await?)
            }
            Instance::Pack(i) => Described::Pack(i.sluice_plugin_pack().call_describe(s).await?),
            Instance::V01Action(i) => {
                Described::One(i.sluice_plugin_action().call_describe(s).await?)
            }
            Instance::V01Condition(i) => {
                Described::One(i.sluice_plugin_condition().call_describe(s).await?)
            }
            Instance::V01Connector(i) => {
                Described::One(i.sluice_plugin_connector().call_describe(s).await?)
            }
        })
    }

    /// Calls the plugin: for a pack, its plugin `member` of kind `kind` (both from the
    /// pack's validated manifest); a single plugin's world decides the export alone.
    pub(super) async fn call<S>(
        &self,
        mut store: S,
        kind: PluginKind,
        member: &str,
        step: &wit::StepInfo,
        input: &String,
    ) -> CallResult
    where
        S: AsContextMut,
        S::Data: Send,
    {
        let s = store.as_context_mut();
        let json = |r: Result<String, wit::PluginError>| r.map(Output::Json);
        let answer = |r: Result<bool, wit::PluginError>| r.map(Output::Bool);
        Ok(match self {
            Instance::Action(i) => json(i.sluice_plugin_action().call_run(s, step, input).await?),
            Instance::Condition(i) => answer(
                i.sluice_plugin_condition()
                    .call_evaluate(s, step, input)
                    .await?,
            ),
            Instance::Connector(i) => json(
                i.sluice_plugin_connector()
                    .call_invoke(s, step, input)
                    .await?,
            ),
            Instance::Pack(i) => {
                let pack = i.sluice_plugin_pack();
                match kind {
                    PluginKind::Action => json(pack.call_run(s, member, step, input).await?),
                    PluginKind::Condition => {
                        answer(pack.call_evaluate(s, member, step, input).await?)
                    }
                    PluginKind::Connector => json(pack.call_invoke(s, member, step, input).await?),
                }
            }
            Instance::V01Action(i) => {
                json(i.sluice_plugin_action().call_run(s, step, input).await?)
            }
            Instance::V01Condition(i) => answer(
                i.sluice_plugin_condition()
                    .call_evaluate(s, step, input)
                    .await?,
            ),
            Instance::V01Connector(i) => json(
                i.sluice_plugin_connector()
                    .call_invoke(s, step, input)
                    .await?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_export_names_its_world_and_two_are_refused() {
        for (name, world) in EXPORTS {
            assert_eq!(world_of(&[name.to_owned()]), Ok(world), "{name}");
        }
        let none = world_of(&["wasi:cli/run@0.2.0".to_owned()]).unwrap_err();
        assert!(none.contains("its exports: wasi:cli/run@0.2.0"), "{none}");
        assert!(world_of(&[]).unwrap_err().contains("its exports: none"));
        let two = world_of(&[
            "sluice:plugin/action@0.2.0".to_owned(),
            "sluice:plugin/pack@0.2.0".to_owned(),
        ])
        .unwrap_err();
        assert!(two.contains("more than one plugin interface"), "{two}");
    }
}
