//! Small key/value state kept between runs, namespaced per workflow and plugin. Requires the
//! `state` permission. In a native build with the `testing` feature, [`crate::testing`]'s
//! host keeps it.

use crate::PluginError;
#[cfg(not(all(feature = "testing", not(target_arch = "wasm32"))))]
use crate::bindings::from_wit_error;
#[cfg(not(all(feature = "testing", not(target_arch = "wasm32"))))]
use crate::bindings::platform::sluice::plugin::state as wit;

#[cfg(not(all(feature = "testing", not(target_arch = "wasm32"))))]
pub fn get(key: &str) -> Result<Option<String>, PluginError> {
    wit::get(key).map_err(from_wit_error)
}

#[cfg(not(all(feature = "testing", not(target_arch = "wasm32"))))]
pub fn set(key: &str, value: &str) -> Result<(), PluginError> {
    wit::set(key, value).map_err(from_wit_error)
}

#[cfg(not(all(feature = "testing", not(target_arch = "wasm32"))))]
pub fn delete(key: &str) -> Result<(), PluginError> {
    wit::delete(key).map_err(from_wit_error)
}

#[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
pub fn get(key: &str) -> Result<Option<String>, PluginError> {
    crate::testing::serve::state_get(key)
}

#[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
pub fn set(key: &str, value: &str) -> Result<(), PluginError> {
    crate::testing::serve::state_set(key, value)
}

#[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
pub fn delete(key: &str) -> Result<(), PluginError> {
    crate::testing::serve::state_delete(key)
}
