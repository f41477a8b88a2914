//! Small key/value state kept between runs, namespaced per workflow and plugin. Requires the
//! `state` permission.

use crate::PluginError;
use crate::bindings::from_wit_error;
use crate::bindings::platform::sluice::plugin::state as wit;

pub fn get(key: &str) -> Result<Option<String>, PluginError> {
    wit::get(key).map_err(from_wit_error)
}

pub fn set(key: &str, value: &str) -> Result<(), PluginError> {
    wit::set(key, value).map_err(from_wit_error)
}

pub fn delete(key: &str) -> Result<(), PluginError> {
    wit::delete(key).map_err(from_wit_error)
}
